package scap

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/scap/cpe"
	"github.com/plumbhq/plumb/scap/oval"
	"github.com/plumbhq/plumb/scap/xccdf"
)

// SCAP's rule result values (XCCDF 1.2 section 6.6.4.2). Results keep
// them beside Plumb's status, which they map onto: pass and fixed are
// Pass; fail is Fail; error and unknown are Error (unknown: the check ran
// but could not decide); notapplicable is N/A; notchecked and
// informational are Not checked. notselected rules are not reported.
const (
	XPass          = "pass"
	XFail          = "fail"
	XError         = "error"
	XUnknown       = "unknown"
	XNotApplicable = "notapplicable"
	XNotChecked    = "notchecked"
	XNotSelected   = "notselected"
	XInformational = "informational"
	XFixed         = "fixed"
)

// Options tune Evaluate.
type Options struct {
	// Concurrency bounds rules evaluated at once (default 8).
	Concurrency int
	// MaxEvidence bounds the evidence lines of one result (default 12).
	MaxEvidence int
	// Now stamps results (default time.Now).
	Now func() time.Time
	// Patterns compiles OVAL patterns; share the prober's so each is
	// compiled once (nil: a cache of the evaluation's own).
	Patterns *oval.Patterns
	// Method is recorded on each result: the kind of target ("local",
	// "root", "ssh"), as for built-in policies.
	Method string
}

// RuleResult is one rule's outcome with its SCAP detail.
type RuleResult struct {
	Rule   *xccdf.SelectedRule
	Result string // SCAP result value (XPass, ...)
	// Definition is the OVAL result that decided (nil when none ran).
	Definition *oval.DefResult
	// Message explains error, unknown, notapplicable and notchecked.
	Message string
	// Reason, when set, is the Plumb Error reason (otherwise derived from
	// the message).
	Reason string
}

// Unscanned returns the results of a host that could not be scanned at
// all: every selected rule is error, with the host's reason.
func Unscanned(sel *xccdf.Selection, reason, msg string) []RuleResult {
	out := make([]RuleResult, len(sel.Rules))
	for i, sr := range sel.Rules {
		out[i] = RuleResult{Rule: sr, Result: XError, Message: msg, Reason: reason}
	}
	return out
}

// Evaluate evaluates the selected rules with prober and returns one
// RuleResult per rule, in selection order. All the rules' OVAL objects
// are handed to the prober before any is collected, so that file system
// searches share one walk. It fails only when ctx ends or content is
// broken beyond one rule (an OVAL component that does not parse).
func (s *Source) Evaluate(ctx context.Context, sel *xccdf.Selection, prober oval.Prober, opts Options) ([]RuleResult, error) {
	ev := &evaluation{src: s, sel: sel, prober: prober, pats: opts.Patterns, evals: map[string]*oval.Evaluator{}, platforms: map[string]*platformResult{}}
	if err := ev.prepare(ctx); err != nil {
		return nil, err
	}
	out := make([]RuleResult, len(sel.Rules))
	n := opts.Concurrency
	if n <= 0 {
		n = 8
	}
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, sr := range sel.Rules {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i] = ev.rule(ctx, sr)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// evaluation is one Evaluate call.
type evaluation struct {
	src    *Source
	sel    *xccdf.Selection
	prober oval.Prober
	pats   *oval.Patterns

	mu        sync.Mutex
	evals     map[string]*oval.Evaluator // by component id + export fingerprint
	external  map[string]map[string][]string
	conflicts map[string]bool // export names with different values in different rules
	platforms map[string]*platformResult
}

type platformResult struct {
	once sync.Once
	ok   bool
	err  error
}

// ovalCheck is the OVAL check a rule uses: the first OVAL check among its
// alternatives whose href resolves.
func (ev *evaluation) ovalCheck(checks []*xccdf.Check) (*xccdf.Check, string, string, error) {
	var firstErr error
	for _, c := range checks {
		if c.System != OVALSystem {
			continue
		}
		for _, ref := range c.ContentRefs {
			comp, err := ev.src.resolve(ev.src.benchRef(), ref.Href)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			return c, comp, ref.Name, nil
		}
	}
	if firstErr != nil {
		return nil, "", "", firstErr
	}
	return nil, "", "", errNoOVAL
}

// exportValues returns the values a rule exports to OVAL by export name.
func exportValues(sr *xccdf.SelectedRule) map[string][]string {
	m := map[string][]string{}
	for _, x := range sr.Exports {
		if !x.Found {
			continue
		}
		if x.Items != nil {
			m[x.ExportName] = x.Items
		} else {
			m[x.ExportName] = []string{x.Value}
		}
	}
	return m
}

// prepare builds the external variables of each OVAL component from the
// exports of every selected rule and hands all statically known objects
// to the prober at once.
func (ev *evaluation) prepare(ctx context.Context) error {
	ev.external = map[string]map[string][]string{}
	ev.conflicts = map[string]bool{}
	defsByComp := map[string][]string{}
	for _, sr := range ev.sel.Rules {
		for _, c := range allChecks(sr) {
			_, comp, name, err := ev.ovalCheck([]*xccdf.Check{c})
			if err != nil {
				continue
			}
			ext := ev.external[comp]
			if ext == nil {
				ext = map[string][]string{}
				ev.external[comp] = ext
			}
			for k, v := range exportValues(sr) {
				if old, ok := ext[k]; ok && !equal(old, v) {
					ev.conflicts[k] = true
					continue
				}
				ext[k] = v
			}
			if name != "" {
				defsByComp[comp] = append(defsByComp[comp], name)
			}
		}
	}
	comps := make([]string, 0, len(defsByComp))
	for c := range defsByComp {
		comps = append(comps, c)
	}
	sort.Strings(comps)
	for _, comp := range comps {
		e, err := ev.evaluator(comp, nil)
		if err != nil {
			return err
		}
		if err := e.PrepareDefinitions(ctx, defsByComp[comp]); err != nil {
			return err
		}
	}
	return nil
}

func allChecks(sr *xccdf.SelectedRule) []*xccdf.Check {
	var out []*xccdf.Check
	out = append(out, sr.Checks...)
	var walk func(cc *xccdf.ComplexCheck)
	walk = func(cc *xccdf.ComplexCheck) {
		if cc == nil {
			return
		}
		out = append(out, cc.Checks...)
		for _, sub := range cc.ComplexChecks {
			walk(sub)
		}
	}
	walk(sr.ComplexCheck)
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// evaluator returns the OVAL evaluator of a component. own, when it holds
// an export name whose value differs between rules, gets an evaluator of
// its own; otherwise all rules share one, and so share collected objects.
func (ev *evaluation) evaluator(comp string, own map[string][]string) (*oval.Evaluator, error) {
	defs, err := ev.src.ovalDefs(comp)
	if err != nil {
		return nil, err
	}
	key := comp
	ext := ev.external[comp]
	var keys []string
	for k := range own {
		if ev.conflicts[k] {
			keys = append(keys, k)
		}
	}
	if len(keys) > 0 {
		sort.Strings(keys)
		merged := map[string][]string{}
		for k, v := range ext {
			merged[k] = v
		}
		for _, k := range keys {
			merged[k] = own[k]
			key += "\x00" + k + "=" + strings.Join(own[k], "\x01")
		}
		ext = merged
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	if e := ev.evals[key]; e != nil {
		return e, nil
	}
	e := oval.NewEvaluator(defs, ev.prober, ext)
	if ev.pats != nil {
		e.Patterns = ev.pats
	}
	ev.evals[key] = e
	return e, nil
}

// rule evaluates one rule: platforms, then its check.
func (ev *evaluation) rule(ctx context.Context, sr *xccdf.SelectedRule) RuleResult {
	rr := RuleResult{Rule: sr}
	if sr.Role == "unchecked" {
		rr.Result, rr.Message = XNotChecked, "the rule's role is unchecked"
		return rr
	}
	ok, err := ev.applicable(ctx, sr)
	switch {
	case err != nil:
		rr.Result, rr.Message = XError, "platform applicability: "+err.Error()
		return rr
	case !ok:
		rr.Result, rr.Message = XNotApplicable, "the rule's platform does not apply to this target"
		return rr
	}
	if sr.ComplexCheck != nil {
		rr.Result, rr.Definition, rr.Message = ev.complex(ctx, sr, sr.ComplexCheck)
		return rr
	}
	rr.Result, rr.Definition, rr.Message = ev.check(ctx, sr, sr.Checks)
	return rr
}

// check evaluates the first usable OVAL check among alternatives.
func (ev *evaluation) check(ctx context.Context, sr *xccdf.SelectedRule, checks []*xccdf.Check) (string, *oval.DefResult, string) {
	if len(checks) == 0 {
		return XNotChecked, nil, "the rule has no automated check"
	}
	c, comp, name, err := ev.ovalCheck(checks)
	if errors.Is(err, errNoOVAL) {
		systems := make([]string, 0, len(checks))
		for _, c := range checks {
			systems = append(systems, c.System)
		}
		return XNotChecked, nil, "no OVAL check (check systems: " + strings.Join(systems, ", ") + ")"
	}
	if err != nil {
		return XError, nil, err.Error()
	}
	if name == "" {
		return XNotChecked, nil, "an OVAL check without a definition name (multi-check of a whole document) is not supported"
	}
	e, err := ev.evaluator(comp, exportValues(sr))
	if err != nil {
		return XError, nil, err.Error()
	}
	d, err := e.Definition(ctx, name)
	if err != nil {
		return XError, nil, err.Error()
	}
	res := fromOVAL(d.Result)
	if c.Negate {
		res = negate(res)
	}
	return res, d, d.Message
}

// complex evaluates a complex-check (XCCDF 1.2 section 7.2.3.5.2).
func (ev *evaluation) complex(ctx context.Context, sr *xccdf.SelectedRule, cc *xccdf.ComplexCheck) (string, *oval.DefResult, string) {
	var rs []oval.Result
	var last *oval.DefResult
	var msgs []string
	for _, c := range cc.Checks {
		r, d, msg := ev.check(ctx, sr, []*xccdf.Check{c})
		rs = append(rs, toOVAL(r))
		if d != nil {
			last = d
		}
		if msg != "" {
			msgs = append(msgs, msg)
		}
	}
	for _, sub := range cc.ComplexChecks {
		r, d, msg := ev.complex(ctx, sr, sub)
		rs = append(rs, toOVAL(r))
		if d != nil {
			last = d
		}
		if msg != "" {
			msgs = append(msgs, msg)
		}
	}
	op := cc.Operator
	if op == "" {
		op = "AND"
	}
	res := fromOVAL(oval.Combine(op, rs))
	if cc.Negate {
		res = negate(res)
	}
	return res, last, strings.Join(msgs, "; ")
}

func fromOVAL(r oval.Result) string {
	switch r {
	case oval.True:
		return XPass
	case oval.False:
		return XFail
	case oval.Error:
		return XError
	case oval.Unknown:
		return XUnknown
	case oval.NotApplicable:
		return XNotApplicable
	}
	return XNotChecked
}

func toOVAL(x string) oval.Result {
	switch x {
	case XPass, XFixed:
		return oval.True
	case XFail:
		return oval.False
	case XError:
		return oval.Error
	case XUnknown:
		return oval.Unknown
	case XNotApplicable:
		return oval.NotApplicable
	}
	return oval.NotEvaluated
}

func negate(x string) string {
	switch x {
	case XPass:
		return XFail
	case XFail:
		return XPass
	}
	return x
}

// applicable reports whether every platform set of the rule applies:
// within a set one applicable idref suffices.
func (ev *evaluation) applicable(ctx context.Context, sr *xccdf.SelectedRule) (bool, error) {
	for _, set := range sr.Platforms {
		any := false
		var firstErr error
		for _, id := range set.IDRefs {
			ok, err := ev.platform(ctx, id)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			if ok {
				any = true
				break
			}
		}
		if !any {
			if firstErr != nil {
				return false, firstErr
			}
			return false, nil
		}
	}
	return true, nil
}

// platform answers one platform idref: "#id" of a cpe-lang platform of
// the benchmark, or a CPE name. Answers are memoized for the scan.
func (ev *evaluation) platform(ctx context.Context, idref string) (bool, error) {
	ev.mu.Lock()
	p := ev.platforms[idref]
	if p == nil {
		p = &platformResult{}
		ev.platforms[idref] = p
	}
	ev.mu.Unlock()
	p.once.Do(func() {
		if id, ok := strings.CutPrefix(idref, "#"); ok {
			pl := ev.src.Benchmark.PlatformSpecification[id]
			if pl == nil || pl.Test == nil {
				p.err = fmt.Errorf("platform %q is not defined in the benchmark", idref)
				return
			}
			p.ok, p.err = pl.Test.Eval(&cpeFacts{ctx: ctx, ev: ev})
			return
		}
		p.ok, p.err = (&cpeFacts{ctx: ctx, ev: ev}).Name(idref)
	})
	return p.ok, p.err
}

// cpeFacts answers CPE names through the data stream's CPE dictionaries,
// whose checks are OVAL definitions (SSG's cpe-oval component).
type cpeFacts struct {
	ctx context.Context
	ev  *evaluation
}

func (f *cpeFacts) Name(name string) (bool, error) {
	if strings.HasPrefix(name, "#") {
		return f.ev.platform(f.ctx, name)
	}
	dicts, err := f.ev.src.dictionaries()
	if err != nil {
		return false, err
	}
	for _, d := range dicts {
		it, ok := d.dict.Item(name)
		if !ok {
			continue
		}
		for _, c := range it.Checks {
			if c.System != OVALSystem {
				continue
			}
			return f.ovalFact(d.ref.ID, c.Href, c.ID)
		}
		return false, fmt.Errorf("CPE %s has no OVAL check", name)
	}
	return false, fmt.Errorf("CPE %s is not in the content's CPE dictionary", name)
}

func (f *cpeFacts) Check(c cpe.CheckFactRef) (bool, error) {
	if c.System != OVALSystem {
		return false, fmt.Errorf("check-fact-ref in %s is not supported", c.System)
	}
	return f.ovalFact(f.ev.src.benchRef(), c.Href, c.IDRef)
}

func (f *cpeFacts) ovalFact(from, href, def string) (bool, error) {
	comp, err := f.ev.src.resolve(from, href)
	if err != nil {
		return false, err
	}
	e, err := f.ev.evaluator(comp, nil)
	if err != nil {
		return false, err
	}
	d, err := e.Definition(f.ctx, def)
	if err != nil {
		return false, err
	}
	switch d.Result {
	case oval.True:
		return true, nil
	case oval.False:
		return false, nil
	}
	msg := d.Message
	if msg == "" {
		for _, t := range d.Tests {
			if t.Message != "" {
				msg = t.Message
				break
			}
		}
	}
	return false, fmt.Errorf("CPE check %s: %s %s", def, d.Result, msg)
}

// Status maps a SCAP result onto Plumb's status.
func Status(x string) result.Status {
	switch x {
	case XPass, XFixed:
		return result.Pass
	case XFail:
		return result.Fail
	case XNotApplicable:
		return result.NA
	case XNotChecked, XInformational, XNotSelected:
		return result.NotChecked
	}
	return result.Error
}
