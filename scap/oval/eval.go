package oval

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
)

// DefaultMaxItems is the number of items a TestResult keeps as evidence
// when Evaluator.MaxItems is zero.
const DefaultMaxItems = 50

// Evaluator evaluates the definitions of one document on one host. It
// computes every definition, test, object and variable at most once and
// shares the result, so that evaluating the definitions of a whole
// benchmark collects each object once; it is safe for concurrent use.
//
// Semantics follow OVAL 5.11 and, where the specification leaves room or
// the reference scanner differs from it, OpenSCAP's oscap, because results
// are compared with oscap's rule by rule. The notable choices are listed
// on the methods that make them.
type Evaluator struct {
	// Patterns compiles the regular expressions of states, filters and
	// functions. NewEvaluator sets a fresh one; set it before the first
	// evaluation to share a cache (or a timeout) with the Prober.
	Patterns *Patterns
	// MaxItems bounds the items a TestResult keeps as evidence (0 means
	// DefaultMaxItems, negative means all). The items that decided the
	// test are kept first.
	MaxItems int
	// Now is the clock of time_difference (nil: time.Now).
	Now func() time.Time

	defs     *Definitions
	prober   Prober
	external map[string][]string
	graph    *graph

	defMemo   memo[*DefResult]
	testMemo  memo[*TestResult]
	objMemo   memo[*collection]
	buildMemo memo[*built]
	varMemo   memo[*varValue]
}

// NewEvaluator returns an Evaluator of defs that collects items with p (nil
// p: every object the evaluator cannot answer itself is not collected).
// external holds the values of external_variables by id (from XCCDF, for
// example); an external variable without values is an error for what
// uses it.
func NewEvaluator(defs *Definitions, p Prober, external map[string][]string) *Evaluator {
	return &Evaluator{
		Patterns: &Patterns{},
		defs:     defs,
		prober:   p,
		external: external,
		graph:    defs.refGraph(),
	}
}

// patterns returns the pattern cache (a throwaway one if the field was
// cleared).
func (e *Evaluator) patterns() *Patterns {
	if e.Patterns != nil {
		return e.Patterns
	}
	return &Patterns{}
}

// DefResult is the result of a definition with its evidence.
type DefResult struct {
	ID     string
	Title  string
	Class  string
	Result Result
	// Message says why a definition could not be evaluated normally
	// (missing, in a reference cycle, without criteria).
	Message string
	// Criteria is the evaluated criteria tree (nil without criteria).
	Criteria *CriteriaResult
	// Tests lists every test evaluated under the definition, through
	// extend_definition too, in criteria order, each once.
	Tests []*TestResult
}

// CriteriaResult is one evaluated node of a criteria tree: a <criteria>
// (Children set), a <criterion> (Test set) or an <extend_definition>
// (Definition set). Result is after Negate.
type CriteriaResult struct {
	Operator   string // criteria only
	Negate     bool
	Comment    string
	Result     Result
	Children   []*CriteriaResult
	Test       *TestResult
	Definition *DefResult
}

// TestResult is the result of a test with the items it looked at.
type TestResult struct {
	ID             string
	Type           string // "textfilecontent54_test"
	Family         string // "independent"
	Comment        string
	Check          string
	CheckExistence string
	StateOperator  string
	ObjectID       string
	StateIDs       []string
	Result         Result
	// Flag is the collected object's flag (empty when the object could
	// not be looked at).
	Flag Flag
	// Message explains an error, unknown or unsupported result.
	Message string
	// Items are the collected items (at most MaxItems of them, those that
	// decided the result first) and ItemResults, when the test has
	// states, each item's result against them. Truncated counts the
	// items left out.
	Items       []Item
	ItemResults []Result
	Truncated   int
}

// Definition evaluates the definition id. It fails only for an unknown id
// or when ctx ends; everything that goes wrong inside a definition is an
// error or unknown result with a message, as in OVAL results.
func (e *Evaluator) Definition(ctx context.Context, id string) (*DefResult, error) {
	if e.defs.Definitions[id] == nil {
		return nil, fmt.Errorf("oval: no definition %q", id)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return e.definition(ctx, id)
}

func (e *Evaluator) definition(ctx context.Context, id string) (*DefResult, error) {
	return e.defMemo.do(ctx, id, func() (*DefResult, error) {
		d := e.defs.Definitions[id]
		if d == nil {
			return &DefResult{ID: id, Result: Error, Message: "no such definition"}, nil
		}
		r := &DefResult{ID: id, Title: d.Title, Class: d.Class}
		switch {
		case e.graph.cyclic[kDef+id]:
			r.Result, r.Message = Error, "definition is part of a reference cycle"
		case d.Criteria == nil:
			r.Result, r.Message = NotEvaluated, "definition has no criteria"
		default:
			cr, err := e.criteria(ctx, d.Criteria)
			if err != nil {
				return nil, err
			}
			r.Criteria, r.Result = cr, cr.Result
			r.Tests = testsOf(cr)
		}
		return r, nil
	})
}

// criteria evaluates every child, without short-circuit, as oscap does:
// the evidence then covers the whole tree, and collection is shared anyway.
func (e *Evaluator) criteria(ctx context.Context, c *Criteria) (*CriteriaResult, error) {
	n := &CriteriaResult{Operator: c.Operator, Negate: c.Negate, Comment: c.Comment}
	rs := make([]Result, 0, len(c.Children))
	for _, ch := range c.Children {
		var sub *CriteriaResult
		switch {
		case ch.Criteria != nil:
			s, err := e.criteria(ctx, ch.Criteria)
			if err != nil {
				return nil, err
			}
			sub = s
		case ch.TestRef != "":
			t, err := e.test(ctx, ch.TestRef)
			if err != nil {
				return nil, err
			}
			sub = &CriteriaResult{Negate: ch.Negate, Comment: ch.Comment, Test: t, Result: negate(ch.Negate, t.Result)}
		default:
			d, err := e.definition(ctx, ch.DefinitionRef)
			if err != nil {
				return nil, err
			}
			sub = &CriteriaResult{Negate: ch.Negate, Comment: ch.Comment, Definition: d, Result: negate(ch.Negate, d.Result)}
		}
		n.Children = append(n.Children, sub)
		rs = append(rs, sub.Result)
	}
	n.Result = negate(c.Negate, combine(c.Operator, rs))
	return n, nil
}

func negate(neg bool, r Result) Result {
	if neg {
		return r.Negate()
	}
	return r
}

// combine is Combine, except that nothing to combine is unknown, as in
// oscap (an empty criteria, a state without entities).
func combine(op string, rs []Result) Result {
	if len(rs) == 0 {
		return Unknown
	}
	return Combine(op, rs)
}

// testsOf lists the tests of a criteria tree in order, each once.
func testsOf(n *CriteriaResult) []*TestResult {
	var out []*TestResult
	seen := map[*TestResult]bool{}
	var walk func(*CriteriaResult)
	walk = func(n *CriteriaResult) {
		switch {
		case n.Test != nil:
			if !seen[n.Test] {
				seen[n.Test] = true
				out = append(out, n.Test)
			}
		case n.Definition != nil:
			for _, t := range n.Definition.Tests {
				if !seen[t] {
					seen[t] = true
					out = append(out, t)
				}
			}
		default:
			for _, c := range n.Children {
				walk(c)
			}
		}
	}
	walk(n)
	return out
}

// Decisive returns the tests that decided the definition's result, in
// criteria order. The rule, applied from the root down: in a criteria
// node, the children that decided it are those whose result (after their
// own negation) equals the node's result before its negation: the false
// children of a false AND, the true children of a true OR, the error
// children of an error; all children when none matches (a true AND, a
// false OR, ONE and XOR). A decided criterion contributes its test, a
// decided extend_definition the decisive tests of that definition.
func (r *DefResult) Decisive() []*TestResult {
	if r.Criteria == nil {
		return nil
	}
	var out []*TestResult
	seen := map[*TestResult]bool{}
	var walk func(*CriteriaResult)
	walk = func(n *CriteriaResult) {
		switch {
		case n.Test != nil:
			if !seen[n.Test] {
				seen[n.Test] = true
				out = append(out, n.Test)
			}
		case n.Definition != nil:
			if n.Definition.Criteria != nil {
				walk(n.Definition.Criteria)
			}
		default:
			want := negate(n.Negate, n.Result)
			var picked []*CriteriaResult
			for _, c := range n.Children {
				if c.Result == want {
					picked = append(picked, c)
				}
			}
			if len(picked) == 0 {
				picked = n.Children
			}
			for _, c := range picked {
				walk(c)
			}
		}
	}
	walk(r.Criteria)
	return out
}

// test evaluates a test as oscap does (OVAL 5.11 section 5.3.3 with
// oscap's reading of the collected-object flags):
//
//   - flag error, not collected, not applicable: true for check_existence
//     any_exist without states, else error, unknown, not applicable;
//   - flag does not exist: true for none_exist and any_exist, else false;
//   - flag complete: check_existence over the items with status exists
//     and error, then, if true and the test has states, check over every
//     item (error and not collected items are error, does-not-exist ones
//     false, existing ones their states combined by state_operator);
//   - flag incomplete: only what the missing items cannot change.
//
// An object a Prober does not support (ErrUnsupported) makes the test
// error "unsupported OVAL test <type>"; one the target cannot answer
// (ErrNotCollectable) an error with that message. The same holds when the
// object is needed indirectly, by a set or a variable of the test's object
// or states: oscap would have answered it, so any other result could
// disagree silently.
func (e *Evaluator) test(ctx context.Context, id string) (*TestResult, error) {
	return e.testMemo.do(ctx, id, func() (*TestResult, error) {
		t := e.defs.Tests[id]
		if t == nil {
			return &TestResult{ID: id, Result: Error, Message: "no such test"}, nil
		}
		r := &TestResult{
			ID: id, Type: t.Type, Family: t.Family, Comment: t.Comment,
			Check: t.Check, CheckExistence: t.CheckExistence, StateOperator: t.StateOperator,
			ObjectID: t.ObjectRef, StateIDs: t.StateRefs,
		}
		if t.ObjectRef == "" {
			if t.Type == "unknown_test" {
				r.Result, r.Message = Unknown, "unknown_test"
			} else {
				r.Result, r.Message = Error, "test has no object"
			}
			return r, nil
		}
		states := make([]*State, len(t.StateRefs))
		for i, ref := range t.StateRefs {
			if states[i] = e.defs.States[ref]; states[i] == nil {
				r.Result, r.Message = Error, fmt.Sprintf("no such state %q", ref)
				return r, nil
			}
		}
		col, err := e.collect(ctx, t.ObjectRef)
		if err != nil {
			return nil, err
		}
		r.Flag, r.Message = col.flag, col.msg
		if col.blocked != nil {
			r.Result, r.Message = Error, blockedMessage(t, col.blocked)
			return r, nil
		}
		res, itemResults, err := e.judge(ctx, t, states, col)
		if err != nil {
			return nil, err
		}
		r.Result = res
		if res == Error {
			blocked, err := e.statesBlocked(ctx, states)
			if err != nil {
				return nil, err
			}
			if blocked != nil {
				r.Message = blockedMessage(t, blocked)
			}
		}
		e.keepEvidence(r, col.items, itemResults)
		return r, nil
	})
}

// blockedMessage is the message of a test whose object (or a variable it
// needs) the Prober could not answer.
func blockedMessage(t *Test, blocked error) string {
	if errors.Is(blocked, ErrUnsupported) {
		return "unsupported OVAL test " + t.Type
	}
	return blocked.Error()
}

// statesBlocked returns why a state's variable could not be computed, if
// the Prober could not answer an object it needs.
func (e *Evaluator) statesBlocked(ctx context.Context, states []*State) (blocked, err error) {
	for _, s := range states {
		for _, en := range s.Entities {
			if en.VarRef == "" {
				continue
			}
			v, verr := e.varValues(ctx, en.VarRef)
			if verr != nil {
				return nil, verr
			}
			if v.blocked != nil {
				return v.blocked, nil
			}
		}
	}
	return nil, nil
}

func (e *Evaluator) judge(ctx context.Context, t *Test, states []*State, col *collection) (Result, []Result, error) {
	hasState := len(states) > 0
	anyNoState := t.CheckExistence == "any_exist" && !hasState
	var exists, errs int
	for _, it := range col.items {
		switch itemStatus(it.Status) {
		case StatusExists:
			exists++
		case StatusError:
			errs++
		}
	}
	switch col.flag {
	case FlagError:
		if anyNoState {
			return True, nil, nil
		}
		return Error, nil, nil
	case FlagNotCollected:
		if anyNoState {
			return True, nil, nil
		}
		return Unknown, nil, nil
	case FlagNotApplicable:
		if anyNoState {
			return True, nil, nil
		}
		return NotApplicable, nil, nil
	case FlagDoesNotExist:
		if t.CheckExistence == "none_exist" || t.CheckExistence == "any_exist" {
			return True, nil, nil
		}
		return False, nil, nil
	case FlagComplete:
		r := existence(t.CheckExistence, exists, errs)
		if r != True || !hasState {
			return r, nil, nil
		}
		return e.checkStates(ctx, t, states, col.items)
	case FlagIncomplete:
		var r Result
		switch {
		case t.CheckExistence == "any_exist":
			r = True
		case t.CheckExistence == "at_least_one_exists" && exists > 0:
			r = True
		case t.CheckExistence == "none_exist" && exists > 0:
			r = False
		case t.CheckExistence == "only_one_exists" && exists > 1:
			r = False
		default:
			r = Unknown
		}
		if r != True || !hasState {
			return r, nil, nil
		}
		r, irs, err := e.checkStates(ctx, t, states, col.items)
		switch {
		case err != nil:
			return Error, nil, err
		case r == True && t.Check != "at least one":
			r = Unknown // a missing item could still fail
		case r != True && r != False:
			r = Unknown
		}
		return r, irs, nil
	}
	return Error, nil, nil
}

// existence is the check_existence table of a test (oscap's: only the
// items with status exists and error count).
func existence(check string, exists, errs int) Result {
	switch check {
	case "all_exist":
		switch {
		case errs > 0:
			return Error
		case exists > 0:
			return True
		}
		return False
	case "any_exist":
		if errs > 0 && exists == 0 {
			return Error
		}
		return True
	case "at_least_one_exists":
		switch {
		case exists > 0:
			return True
		case errs > 0:
			return Error
		}
		return False
	case "none_exist":
		switch {
		case exists == 0 && errs == 0:
			return True
		case exists > 0 && errs == 0:
			return False
		}
		return Error
	case "only_one_exists":
		switch {
		case exists == 1 && errs == 0:
			return True
		case exists >= 2:
			return False
		case exists == 0 && errs == 0:
			return False
		}
		return Error
	}
	return Error
}

// checkStates compares every item with the states and combines the item
// results by the test's check.
func (e *Evaluator) checkStates(ctx context.Context, t *Test, states []*State, items []Item) (Result, []Result, error) {
	irs := make([]Result, len(items))
	rs := make([]Result, 0, len(states))
	for i, it := range items {
		switch itemStatus(it.Status) {
		case StatusError, StatusNotCollected:
			irs[i] = Error
			continue
		case StatusNotExist:
			irs[i] = False
			continue
		}
		rs = rs[:0]
		for _, s := range states {
			r, err := e.evalState(ctx, s, it)
			if err != nil {
				return Error, nil, err
			}
			rs = append(rs, r)
		}
		irs[i] = combine(t.StateOperator, rs)
	}
	return combine(t.Check, irs), irs, nil
}

func itemStatus(s ItemStatus) ItemStatus {
	if s == "" {
		return StatusExists
	}
	return s
}

// keepEvidence stores at most MaxItems items in r, the decisive ones
// first: those whose result is what the check looks for (a false item for
// "all", a true one for the others).
func (e *Evaluator) keepEvidence(r *TestResult, items []Item, results []Result) {
	limit := e.MaxItems
	if limit == 0 {
		limit = DefaultMaxItems
	}
	if limit < 0 || len(items) <= limit {
		r.Items, r.ItemResults = items, results
		return
	}
	keep := make([]int, 0, limit)
	if results != nil {
		want := True
		if r.Check == "all" {
			want = False
		}
		for i := range items {
			if len(keep) < limit && results[i] == want {
				keep = append(keep, i)
			}
		}
	}
	picked := make(map[int]bool, len(keep))
	for _, i := range keep {
		picked[i] = true
	}
	for i := range items {
		if len(keep) >= limit {
			break
		}
		if !picked[i] {
			keep = append(keep, i)
		}
	}
	sort.Ints(keep)
	r.Items = make([]Item, len(keep))
	if results != nil {
		r.ItemResults = make([]Result, len(keep))
	}
	for j, i := range keep {
		r.Items[j] = items[i]
		if results != nil {
			r.ItemResults[j] = results[i]
		}
	}
	r.Truncated = len(items) - len(keep)
}

// Prepare builds every object of the document that needs no collected
// data to be built (no object_component in the chains of its variables
// and filter states; constant, external and literal values are fine) and,
// if the Prober is a Preparer, hands them all to it in one call, so that
// one walk of the file system serves every recursive file object. Sets and
// variable_objects are the evaluator's own and are not handed over. Later
// Collect calls receive the same *Object values.
func (e *Evaluator) Prepare(ctx context.Context) error {
	ids := make([]string, 0, len(e.defs.Objects))
	for id := range e.defs.Objects {
		ids = append(ids, id)
	}
	return e.prepare(ctx, ids)
}

// PrepareDefinitions is Prepare restricted to the objects the given
// definitions reach, for a scan that evaluates only some of a document's
// definitions (the rules of one XCCDF profile).
func (e *Evaluator) PrepareDefinitions(ctx context.Context, ids []string) error {
	from := make([]string, len(ids))
	for i, id := range ids {
		from[i] = kDef + id
	}
	var objs []string
	for n := range e.graph.reachable(from) {
		if n[:2] == kObj {
			objs = append(objs, n[2:])
		}
	}
	return e.prepare(ctx, objs)
}

func (e *Evaluator) prepare(ctx context.Context, ids []string) error {
	sort.Strings(ids)
	var objs []*Object
	for _, id := range ids {
		o := e.defs.Objects[id]
		if o == nil || o.Set != nil || isVariableObject(o) || e.graph.dependsOnCollected(kObj+id) {
			continue
		}
		b, err := e.build(ctx, id)
		if err != nil {
			return err
		}
		if b.obj != nil {
			objs = append(objs, b.obj)
		}
	}
	if p, ok := e.prober.(Preparer); ok && len(objs) > 0 {
		if err := p.Prepare(ctx, objs); err != nil {
			return fmt.Errorf("oval: prepare: %w", err)
		}
	}
	return nil
}

// VariableValues returns the values of a variable and its flag, computing
// it (and collecting what it needs) if not done yet: evidence for a
// variable a state or an object refers to.
func (e *Evaluator) VariableValues(ctx context.Context, id string) ([]string, Flag, error) {
	v, err := e.varValues(ctx, id)
	if err != nil {
		return nil, "", err
	}
	return v.values, v.flag, nil
}
