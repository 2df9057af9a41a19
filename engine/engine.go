// Package engine evaluates policies against a target in three steps: plan
// the objects every selected control needs, collect each object once (many
// controls read the same sshd_config; all file system searches share one
// walk), then evaluate every control against the collected facts.
package engine

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/target"
)

// Engine runs scans. The zero value is usable.
type Engine struct {
	// Concurrency bounds objects collected at once (default 8).
	Concurrency int
	// Progress, when set, is told how collection advances, a few times a
	// second, from another goroutine.
	Progress func(Progress)
	Logger   *slog.Logger
	// Now returns the time stamped on results (default time.Now).
	Now func() time.Time
}

// Progress is a snapshot of a running collection.
type Progress struct {
	Target  string
	Done    int // objects collected
	Total   int // objects planned
	Walked  int // file system entries visited so far by the shared walk
	Elapsed time.Duration
}

// HostReason classifies why a whole target could not be scanned:
// auth_failed, host_key_mismatch, timeout, privilege, and otherwise
// unreachable. Every control of such a host is Error with that reason.
func HostReason(err error) string {
	r := errOutcome("", err).reason
	if r == result.ReasonCollectionFailed {
		return result.ReasonUnreachable
	}
	return r
}

// Run is one policy's resolved rules to evaluate.
type Run struct {
	Policy *policy.Policy
	Rules  []policy.Rule
}

// Scan evaluates runs on t. A target whose facts cannot be read is
// returned as a Host with Error set and every control Error; Scan's error
// is reserved for a cancelled context.
func (e *Engine) Scan(ctx context.Context, t target.Target, runs []Run) (result.Host, error) {
	start := time.Now()
	now := e.Now
	if now == nil {
		now = time.Now
	}
	log := e.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	host := result.Host{Target: t.Name()}
	facts, err := t.Facts(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return host, ctx.Err()
		}
		host.Error = err.Error()
		host.Reason = HostReason(err)
		for _, r := range runs {
			pr := result.PolicyRun{ID: r.Policy.ID, Version: r.Policy.Version, Title: r.Policy.Title}
			for _, rule := range r.Rules {
				pr.Results = append(pr.Results, newResult(rule, outcome{status: result.Error, reason: host.Reason, message: err.Error()}, "", now()))
			}
			weigh(pr.Results, r.Policy)
			pr.Summary = result.Summarize(pr.Results)
			host.Policies = append(host.Policies, pr)
		}
		return host, nil
	}
	host.Facts = facts
	method, _, _ := strings.Cut(t.Name(), ":")

	c := newCollector(t, facts)
	ev := &evaluator{c: c}

	// Plan.
	objs := map[object]bool{}
	for _, r := range runs {
		for _, rule := range r.Rules {
			if !rule.Supports(facts.Technology) {
				continue
			}
			if rule.Applicable != nil {
				plan(rule.Applicable, objs)
			}
			plan(&rule.Check, objs)
		}
	}
	planned := make([]object, 0, len(objs))
	for o := range objs {
		planned = append(planned, o)
	}
	// The walk is the longest object: start it first.
	sort.Slice(planned, func(i, j int) bool {
		if (planned[i].kind == kWalk) != (planned[j].kind == kWalk) {
			return planned[i].kind == kWalk
		}
		return planned[i].String() < planned[j].String()
	})
	log.Debug("plan", "target", t.Name(), "objects", len(planned))

	// Collect.
	n := e.Concurrency
	if n <= 0 {
		n = 8
	}
	stop := e.report(c, t.Name(), len(planned), start)
	c.collectAll(ctx, planned, n)
	stop()
	if err := ctx.Err(); err != nil {
		return host, err
	}

	// Evaluate.
	for _, r := range runs {
		pr := result.PolicyRun{ID: r.Policy.ID, Version: r.Policy.Version, Title: r.Policy.Title, Results: []result.Result{}}
		covered := slices.ContainsFunc(r.Rules, func(rule policy.Rule) bool { return rule.Supports(facts.Technology) })
		for _, rule := range r.Rules {
			o := ev.evalRule(ctx, rule, facts, covered)
			pr.Results = append(pr.Results, newResult(rule, o, method, now()))
		}
		sort.SliceStable(pr.Results, func(i, j int) bool { return pr.Results[i].CID < pr.Results[j].CID })
		weigh(pr.Results, r.Policy)
		pr.Summary = result.Summarize(pr.Results)
		host.Policies = append(host.Policies, pr)
	}
	host.Stats = result.Stats{
		Objects:       c.count(),
		FilesRead:     int(c.filesRead.Load()),
		EntriesWalked: int(c.entriesWalked.Load()),
		Commands:      int(c.commands.Load()),
		Seconds:       time.Since(start).Seconds(),
	}
	return host, nil
}

// evalRule evaluates one rule. A rule for another technology is N/A when
// the policy covers the host's technology through other rules (a policy
// carries a Debian and a RHEL variant of many controls), and
// Error(unsupported_technology) when nothing in the policy fits the host:
// such a host is not checked at all, and must not look compliant.
// report calls e.Progress every 200ms until the returned stop is called.
func (e *Engine) report(c *collector, name string, total int, start time.Time) (stop func()) {
	if e.Progress == nil {
		return func() {}
	}
	snap := func() Progress {
		return Progress{Target: name, Done: int(c.done.Load()), Total: total, Walked: int(c.entriesWalked.Load()), Elapsed: time.Since(start)}
	}
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				e.Progress(snap())
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
		e.Progress(snap())
	}
}

func (e *evaluator) evalRule(ctx context.Context, rule policy.Rule, facts target.Facts, covered bool) outcome {
	if !rule.Supports(facts.Technology) {
		tech := facts.Technology
		if tech == "" {
			tech = "not recognised"
		}
		msg := fmt.Sprintf("control applies to %s; host technology is %s (%s)", strings.Join(rule.Technologies, ", "), tech, facts.Name)
		if covered {
			return outcome{status: result.NA, expected: "technology " + strings.Join(rule.Technologies, ", "), actual: []string{"technology " + tech}, message: "not applicable: " + msg}
		}
		return outcome{status: result.Error, reason: result.ReasonUnsupportedTechnology, message: msg}
	}
	if rule.Check.Manual != "" {
		return outcome{status: result.NotChecked, expected: rule.Check.Manual, message: "manual control: no automated check"}
	}
	if rule.Applicable != nil {
		a := e.eval(ctx, rule.Applicable)
		switch a.status {
		case result.Fail:
			return outcome{status: result.NA, expected: "applies when " + a.expected, actual: a.actual, message: "not applicable: " + a.expected + " is not the case"}
		case result.Error:
			a.expected = "applicability: " + a.expected
			return a
		}
	}
	return e.eval(ctx, &rule.Check)
}

// weigh gives rs the weights of p, when p sets its own.
func weigh(rs []result.Result, p *policy.Policy) {
	if p == nil || len(p.Weights) == 0 {
		return
	}
	for i := range rs {
		rs[i].Weight = p.Weight(rs[i].Criticality)
	}
}

func newResult(rule policy.Rule, o outcome, method string, at time.Time) result.Result {
	actual := o.actual
	if actual == nil {
		actual = []string{}
	}
	return result.Result{
		CID:         rule.CID,
		Title:       rule.Title,
		Category:    rule.Category,
		Criticality: rule.Criticality,
		Status:      o.status,
		Expected:    o.expected,
		Actual:      actual,
		Reason:      o.reason,
		Message:     o.message,
		Method:      method,
		Time:        at.UTC(),
		References:  rule.References,
		Remediation: rule.Remediation,
	}
}

// plan adds the objects check ch needs to objs.
func plan(ch *policy.Check, objs map[object]bool) {
	add := func(os ...object) {
		for _, o := range os {
			objs[o] = true
		}
	}
	switch {
	case ch.File != nil:
		add(object{kStat, ch.File.Path}, object{kPasswd, ""}, object{kGroup, ""})
	case ch.Line != nil:
		add(pathObject(ch.Line.Path))
	case ch.SSHD != nil:
		add(object{kSSHD, ""})
	case ch.Setting != nil:
		add(pathObject(ch.Setting.Path))
	case ch.Sysctl != nil:
		if ch.Sysctl.Source != "config" {
			add(object{kSysctlRuntime, ch.Sysctl.Key})
		}
		if ch.Sysctl.Source != "runtime" {
			add(object{kSysctlConfig, ""})
		}
	case ch.Package != nil:
		add(object{kPackages, ""})
	case ch.Service != nil:
		add(object{kUnits, ""})
	case ch.Mount != nil:
		add(object{kMounts, ""})
	case ch.Module != nil:
		add(object{kModprobe, ""}, object{kModules, ""})
	case ch.Accounts != nil:
		add(accountObjects(ch.Accounts.Rule)...)
	case ch.PAM != nil:
		add(object{kPAM, ch.PAM.File})
	case ch.Search != nil:
		add(object{kWalk, ""})
	case ch.Command != nil:
		add(object{kCommand, strings.Join(ch.Command.Argv, "\x00")})
	}
	for i := range ch.All {
		plan(&ch.All[i], objs)
	}
	for i := range ch.Any {
		plan(&ch.Any[i], objs)
	}
}

func pathObject(p string) object {
	if hasMeta(p) {
		return object{kGlob, p}
	}
	return object{kRead, p}
}
