package oval

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeProber answers objects from a table by object id: what Collect
// returns (an object not in the table does not exist), or an error. It
// applies Object.Filter like a real probe, records every call, and is a
// Preparer.
type fakeProber struct {
	collected map[string]Collected
	errs      map[string]error
	// ignoreFilter makes it ignore Object.Filter, as a careless probe.
	ignoreFilter bool
	// block, when set, is called first by Collect (to test cancellation).
	block func(ctx context.Context, obj *Object) error

	mu       sync.Mutex
	calls    map[string]int
	seen     map[string]*Object
	prepared []*Object
}

func (f *fakeProber) Collect(ctx context.Context, obj *Object) (Collected, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls, f.seen = map[string]int{}, map[string]*Object{}
	}
	f.calls[obj.ID]++
	f.seen[obj.ID] = obj
	f.mu.Unlock()
	if f.block != nil {
		if err := f.block(ctx, obj); err != nil {
			return Collected{}, err
		}
	}
	if err := f.errs[obj.ID]; err != nil {
		return Collected{}, err
	}
	c, ok := f.collected[obj.ID]
	if !ok {
		return Collected{Flag: FlagDoesNotExist}, nil
	}
	if obj.Filter != nil && !f.ignoreFilter {
		var kept []Item
		for _, it := range c.Items {
			// With FilterEntities, ask about those entities alone, as
			// the file probes do.
			ask := it
			if obj.FilterEntities != nil {
				ask = Item{Status: it.Status}
				for _, e := range it.Entities {
					if slices.Contains(obj.FilterEntities, e.Name) {
						ask.Entities = append(ask.Entities, e)
					}
				}
			}
			ok, err := obj.Filter(ask)
			if err != nil {
				return Collected{}, err
			}
			if ok {
				kept = append(kept, it)
			}
		}
		c.Items = kept
		if c.Flag == "" && len(kept) == 0 {
			c.Flag = FlagDoesNotExist
		}
	}
	return c, nil
}

func (f *fakeProber) Prepare(ctx context.Context, objs []*Object) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prepared = append(f.prepared, objs...)
	return nil
}

func (f *fakeProber) callCount(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

// item makes an item from name, value pairs.
func item(kv ...string) Item {
	var it Item
	for i := 0; i+1 < len(kv); i += 2 {
		it.Entities = append(it.Entities, ItemEntity{Name: kv[i], Value: kv[i+1]})
	}
	return it
}

func items(its ...Item) Collected { return Collected{Flag: FlagComplete, Items: its} }

// tst writes a test of object obj with optional states.
func tst(id, check, existence, obj string, states ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<ind:textfilecontent54_test id=%q check=%q`, id, check)
	if existence != "" {
		fmt.Fprintf(&b, ` check_existence=%q`, existence)
	}
	fmt.Fprintf(&b, `><ind:object object_ref=%q/>`, obj)
	for _, s := range states {
		fmt.Fprintf(&b, `<ind:state state_ref=%q/>`, s)
	}
	b.WriteString(`</ind:textfilecontent54_test>`)
	return b.String()
}

// obj writes a textfilecontent54_object with a fixed filepath.
func obj(id string, extra ...string) string {
	return fmt.Sprintf(`<ind:textfilecontent54_object id=%q><ind:filepath>/f</ind:filepath>%s</ind:textfilecontent54_object>`, id, strings.Join(extra, ""))
}

// def writes a definition with the given criteria.
func def(id, criteria string) string {
	return fmt.Sprintf(`<definition id=%q class="compliance"><metadata><title>%s</title></metadata>%s</definition>`, id, id, criteria)
}

func crit(op string, neg bool, children ...string) string {
	return fmt.Sprintf(`<criteria operator=%q negate="%v">%s</criteria>`, op, neg, strings.Join(children, ""))
}

func cr(test string, neg bool) string {
	return fmt.Sprintf(`<criterion test_ref=%q negate="%v"/>`, test, neg)
}

func ext(d string, neg bool) string {
	return fmt.Sprintf(`<extend_definition definition_ref=%q negate="%v"/>`, d, neg)
}

// fixedTests are tests whose results are T, F, E, U and NA, for criteria.
const fixedTests = `<ind:textfilecontent54_test id="T" check="all"><ind:object object_ref="oT"/></ind:textfilecontent54_test>
<ind:textfilecontent54_test id="F" check="all"><ind:object object_ref="oF"/></ind:textfilecontent54_test>
<ind:textfilecontent54_test id="E" check="all"><ind:object object_ref="oE"/></ind:textfilecontent54_test>
<ind:textfilecontent54_test id="U" check="all"><ind:object object_ref="oU"/></ind:textfilecontent54_test>
<ind:textfilecontent54_test id="NA" check="all"><ind:object object_ref="oNA"/></ind:textfilecontent54_test>`

var fixedObjects = obj("oT") + obj("oF") + obj("oE") + obj("oU") + obj("oNA")

func fixedProber() *fakeProber {
	return &fakeProber{collected: map[string]Collected{
		"oT":  items(item("text", "x")),
		"oE":  {Flag: FlagError, Message: "boom"},
		"oU":  {Flag: FlagNotCollected},
		"oNA": {Flag: FlagNotApplicable},
	}}
}

func evalDef(t *testing.T, e *Evaluator, id string) *DefResult {
	t.Helper()
	r, err := e.Definition(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCriteria(t *testing.T) {
	T, F, E, U, NA := cr("T", false), cr("F", false), cr("E", false), cr("U", false), cr("NA", false)
	nT, nF, nE := cr("T", true), cr("F", true), cr("E", true)
	cases := []struct {
		criteria string
		want     Result
	}{
		{crit("AND", false, T, T), True},
		{crit("AND", false, T, F), False},
		{crit("AND", false, T, E), Error},
		{crit("AND", false, F, E), False},
		{crit("AND", false, T, U), Unknown},
		{crit("AND", false, E, U), Error},
		{crit("AND", false, T, NA), True},
		{crit("AND", false, NA, NA), NotApplicable},
		{crit("AND", false, T, nF), True},
		{crit("AND", false, nE), Error},
		{crit("AND", true, T, F), True},
		{crit("AND", true, E), Error},
		{crit("OR", false, F, F), False},
		{crit("OR", false, F, T), True},
		{crit("OR", false, F, E), Error},
		{crit("OR", false, T, E), True},
		{crit("OR", false, F, U), Unknown},
		{crit("OR", false, nT, nT), False},
		{crit("ONE", false, T, F), True},
		{crit("ONE", false, T, T), False},
		{crit("ONE", false, F, F), False},
		{crit("ONE", false, T, E), Error},
		{crit("ONE", false, T, T, E), False},
		{crit("XOR", false, T, T), False},
		{crit("XOR", false, T, T, T), True},
		{crit("XOR", false, T, F), True},
		{crit("XOR", false, T, E), Error},
		{crit("AND", false, crit("OR", false, F, T), crit("AND", true, F)), True},
		{crit("AND", false), Unknown},
		{crit("AND", false, ext("base", false)), True},
		{crit("AND", false, ext("base", true)), False},
		{crit("OR", false, ext("baseF", false), F), False},
		{crit("AND", false, ext("missing", false)), Error},
		{crit("AND", false, cr("missingTest", false)), Error},
	}
	var defs strings.Builder
	for i, c := range cases {
		defs.WriteString(def(fmt.Sprintf("d%d", i), c.criteria))
	}
	defs.WriteString(def("base", crit("AND", false, T)))
	defs.WriteString(def("baseF", crit("AND", false, F)))
	defs.WriteString(`<definition id="nocrit"/>`)
	defs.WriteString(def("orExt", crit("OR", false, ext("baseF", false), F, cr("F", true))))
	e := NewEvaluator(mustParse(t, mkdoc(defs.String(), fixedTests, fixedObjects, "", "")), fixedProber(), nil)
	for i, c := range cases {
		if r := evalDef(t, e, fmt.Sprintf("d%d", i)); r.Result != c.want {
			t.Errorf("%s = %s, want %s", c.criteria, r.Result, c.want)
		}
	}
	if r := evalDef(t, e, "nocrit"); r.Result != NotEvaluated {
		t.Errorf("definition without criteria: %s", r.Result)
	}
	if _, err := e.Definition(t.Context(), "nope"); err == nil {
		t.Error("unknown definition: no error")
	}
	// Tests lists every test once, in criteria order, through extends.
	d := evalDef(t, e, "orExt") // OR(extend baseF, F, not F)
	var ids []string
	for _, tr := range d.Tests {
		ids = append(ids, tr.ID)
	}
	if !slices.Equal(ids, []string{"F"}) {
		t.Errorf("tests %v", ids)
	}
}

// TestTestResults covers check_existence and check over collected flags
// and item statuses, end to end through the evaluator.
func TestTestResults(t *testing.T) {
	ok := item("subexpression", "good")
	bad := item("subexpression", "bad")
	errItem := Item{Status: StatusError, Message: "cannot read"}
	dneItem := Item{Status: StatusNotExist}
	state := `<ind:textfilecontent54_state id="good"><ind:subexpression>good</ind:subexpression></ind:textfilecontent54_state>`
	cases := []struct {
		name      string
		got       Collected
		check     string
		existence string
		withState bool
		want      Result
	}{
		{"all_exist with items", items(ok, ok), "all", "all_exist", false, True},
		{"all_exist none", Collected{Flag: FlagDoesNotExist}, "all", "all_exist", false, False},
		{"all_exist error item", items(ok, errItem), "all", "all_exist", false, Error},
		{"any_exist none", Collected{Flag: FlagDoesNotExist}, "all", "any_exist", true, True},
		{"any_exist error flag no state", Collected{Flag: FlagError}, "all", "any_exist", false, True},
		{"any_exist error flag with state", Collected{Flag: FlagError}, "all", "any_exist", true, Error},
		{"any_exist only error items", items(errItem), "all", "any_exist", false, Error},
		{"at_least_one with items", items(ok), "all", "", false, True},
		{"at_least_one none", Collected{Flag: FlagDoesNotExist}, "all", "at_least_one_exists", true, False},
		{"at_least_one items and error", items(ok, errItem), "all", "at_least_one_exists", false, True},
		{"at_least_one error only", items(errItem), "all", "at_least_one_exists", false, Error},
		{"none_exist none", Collected{Flag: FlagDoesNotExist}, "all", "none_exist", false, True},
		{"none_exist some", items(ok), "all", "none_exist", false, False},
		{"none_exist error", items(errItem), "all", "none_exist", false, Error},
		{"only_one one", items(ok), "all", "only_one_exists", false, True},
		{"only_one two", items(ok, bad), "all", "only_one_exists", false, False},
		{"only_one zero", Collected{Flag: FlagDoesNotExist}, "all", "only_one_exists", false, False},
		{"not collected", Collected{Flag: FlagNotCollected}, "all", "", true, Unknown},
		{"not applicable", Collected{Flag: FlagNotApplicable}, "all", "", true, NotApplicable},
		{"complete without items is dne", Collected{Flag: FlagComplete}, "all", "", false, False},
		{"flag left empty", Collected{Items: []Item{ok}}, "all", "", true, True},
		{"check all true", items(ok, ok), "all", "", true, True},
		{"check all false", items(ok, bad), "all", "", true, False},
		{"check all with error item", items(ok, errItem), "all", "", true, Error},
		{"check all with error and false", items(bad, errItem), "all", "", true, False},
		{"check all dne item", items(ok, dneItem), "all", "", true, False},
		{"check at least one", items(bad, ok), "at least one", "", true, True},
		{"check at least one none", items(bad, bad), "at least one", "", true, False},
		{"check none satisfy", items(bad, bad), "none satisfy", "", true, True},
		{"check none satisfy fails", items(bad, ok), "none satisfy", "", true, False},
		{"check none exist (deprecated)", items(bad), "none exist", "", true, True},
		{"check only one", items(bad, ok), "only one", "", true, True},
		{"check only one two", items(ok, ok), "only one", "", true, False},
		{"check unknown", items(ok), "most", "", true, Error},
		{"incomplete any_exist", Collected{Flag: FlagIncomplete, Items: []Item{ok}}, "all", "any_exist", false, True},
		{"incomplete at least one state", Collected{Flag: FlagIncomplete, Items: []Item{ok}}, "at least one", "", true, True},
		{"incomplete all state", Collected{Flag: FlagIncomplete, Items: []Item{ok}}, "all", "", true, Unknown},
		{"incomplete all state false", Collected{Flag: FlagIncomplete, Items: []Item{bad}}, "all", "", true, False},
		{"incomplete none_exist some", Collected{Flag: FlagIncomplete, Items: []Item{ok}}, "all", "none_exist", false, False},
		{"incomplete none_exist none", Collected{Flag: FlagIncomplete}, "all", "none_exist", false, Unknown},
	}
	var tests, objects strings.Builder
	collected := map[string]Collected{}
	for i, c := range cases {
		var states []string
		if c.withState {
			states = []string{"good"}
		}
		tests.WriteString(tst(fmt.Sprintf("t%d", i), c.check, c.existence, fmt.Sprintf("o%d", i), states...))
		objects.WriteString(obj(fmt.Sprintf("o%d", i)))
		collected[fmt.Sprintf("o%d", i)] = c.got
	}
	e := NewEvaluator(mustParse(t, mkdoc("", tests.String(), objects.String(), state, "")), &fakeProber{collected: collected}, nil)
	for i, c := range cases {
		r, err := e.test(t.Context(), fmt.Sprintf("t%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if r.Result != c.want {
			t.Errorf("%s: %s, want %s (%s)", c.name, r.Result, c.want, r.Message)
		}
	}
}

func TestExistenceTable(t *testing.T) {
	cases := []struct {
		check       string
		exists, err int
		want        Result
	}{
		{"all_exist", 1, 0, True}, {"all_exist", 0, 0, False}, {"all_exist", 1, 1, Error},
		{"any_exist", 0, 0, True}, {"any_exist", 1, 1, True}, {"any_exist", 0, 1, Error},
		{"at_least_one_exists", 2, 1, True}, {"at_least_one_exists", 0, 0, False}, {"at_least_one_exists", 0, 1, Error},
		{"none_exist", 0, 0, True}, {"none_exist", 1, 0, False}, {"none_exist", 0, 1, Error}, {"none_exist", 1, 1, Error},
		{"only_one_exists", 1, 0, True}, {"only_one_exists", 2, 0, False}, {"only_one_exists", 2, 1, False},
		{"only_one_exists", 0, 0, False}, {"only_one_exists", 0, 1, Error}, {"only_one_exists", 1, 1, Error},
		{"bogus", 1, 0, Error},
	}
	for _, c := range cases {
		if got := existence(c.check, c.exists, c.err); got != c.want {
			t.Errorf("existence(%s, %d, %d) = %s, want %s", c.check, c.exists, c.err, got, c.want)
		}
	}
}

// TestStates covers state entities: operations, datatypes, entity_check
// over repeated item entities, var_ref with var_check, state operators,
// missing entities, does-not-exist entities and check_existence.
func TestStates(t *testing.T) {
	states := `
<ind:textfilecontent54_state id="eq"><ind:subexpression>a</ind:subexpression></ind:textfilecontent54_state>
<ind:textfilecontent54_state id="ci"><ind:subexpression operation="case insensitive equals">A</ind:subexpression></ind:textfilecontent54_state>
<ind:textfilecontent54_state id="re"><ind:subexpression operation="pattern match">^a+$</ind:subexpression></ind:textfilecontent54_state>
<ind:textfilecontent54_state id="ge"><ind:instance datatype="int" operation="greater than or equal">2</ind:instance></ind:textfilecontent54_state>
<ind:textfilecontent54_state id="badint"><ind:instance datatype="int">x</ind:instance></ind:textfilecontent54_state>
<ind:textfilecontent54_state id="ec_all"><ind:subexpression entity_check="all">a</ind:subexpression></ind:textfilecontent54_state>
<ind:textfilecontent54_state id="ec_one"><ind:subexpression entity_check="at least one">a</ind:subexpression></ind:textfilecontent54_state>
<ind:textfilecontent54_state id="ec_none"><ind:subexpression entity_check="none satisfy">a</ind:subexpression></ind:textfilecontent54_state>
<ind:textfilecontent54_state id="ec_only"><ind:subexpression entity_check="only one">a</ind:subexpression></ind:textfilecontent54_state>
<ind:textfilecontent54_state id="vc_all"><ind:subexpression var_ref="ab">x</ind:subexpression></ind:textfilecontent54_state>
<ind:textfilecontent54_state id="vc_one"><ind:subexpression var_ref="ab" var_check="at least one"/></ind:textfilecontent54_state>
<ind:textfilecontent54_state id="vc_none"><ind:subexpression var_ref="ab" var_check="none satisfy"/></ind:textfilecontent54_state>
<ind:textfilecontent54_state id="vc_only"><ind:subexpression var_ref="ab" var_check="only one"/></ind:textfilecontent54_state>
<ind:textfilecontent54_state id="vc_int"><ind:instance var_ref="two" operation="less than"/></ind:textfilecontent54_state>
<ind:textfilecontent54_state id="vc_noval"><ind:subexpression var_ref="ext"/></ind:textfilecontent54_state>
<ind:textfilecontent54_state id="and"><ind:subexpression>a</ind:subexpression><ind:instance datatype="int">1</ind:instance></ind:textfilecontent54_state>
<ind:textfilecontent54_state id="or" operator="OR"><ind:subexpression>z</ind:subexpression><ind:instance datatype="int">1</ind:instance></ind:textfilecontent54_state>
<ind:textfilecontent54_state id="orfalse" operator="OR"><ind:subexpression>z</ind:subexpression><ind:instance datatype="int">7</ind:instance></ind:textfilecontent54_state>
<ind:textfilecontent54_state id="missing"><ind:text>a</ind:text></ind:textfilecontent54_state>
<ind:textfilecontent54_state id="empty"/>
<ind:textfilecontent54_state id="none_exist"><ind:text check_existence="none_exist">a</ind:text></ind:textfilecontent54_state>
<ind:yamlfilecontent_state id="record"><ind:value datatype="record"><field name="#">a</field></ind:value></ind:yamlfilecontent_state>`
	vars := `<constant_variable id="ab" datatype="string"><value>a</value><value>b</value></constant_variable>
<constant_variable id="two" datatype="int"><value>2</value></constant_variable>
<external_variable id="ext" datatype="string"/>`
	one := item("subexpression", "a", "instance", "1")
	two := item("subexpression", "a", "subexpression", "b", "instance", "1")
	aa := item("subexpression", "a", "subexpression", "a", "instance", "3")
	dne := Item{Entities: []ItemEntity{{Name: "subexpression", Status: StatusNotExist}}}
	cases := []struct {
		state string
		it    Item
		want  Result
	}{
		{"eq", one, True}, {"eq", item("subexpression", "b"), False},
		{"ci", one, True}, {"re", item("subexpression", "aaa"), True}, {"re", item("subexpression", "ab"), False},
		{"ge", aa, True}, {"ge", one, False}, {"badint", one, Error}, {"ge", item("instance", "x"), Error},
		{"ec_all", two, False}, {"ec_all", aa, True},
		{"ec_one", two, True}, {"ec_none", two, False}, {"ec_none", item("subexpression", "b"), True},
		{"ec_only", two, True}, {"ec_only", aa, False},
		{"vc_all", one, False}, {"vc_one", one, True}, {"vc_none", one, False}, {"vc_none", item("subexpression", "c"), True},
		{"vc_only", one, True},
		{"vc_int", one, True}, {"vc_int", aa, False},
		{"vc_noval", one, Error},
		{"and", one, True}, {"and", two, False},
		{"or", one, True}, {"orfalse", one, False},
		{"missing", one, Unknown},
		{"empty", one, Unknown},
		{"eq", dne, False},
		{"none_exist", one, Unknown},
		{"record", one, Error},
	}
	e := NewEvaluator(mustParse(t, mkdoc("", "", "", states, vars)), &fakeProber{}, nil)
	for _, c := range cases {
		got, err := e.evalState(t.Context(), e.defs.States[c.state], c.it)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("state %s on %v: %s, want %s", c.state, c.it.Entities, got, c.want)
		}
	}
}

func TestEntityExistenceTable(t *testing.T) {
	cases := []struct {
		check             string
		ex, dne, errs, nc int
		want              Result
	}{
		{"", 1, 0, 0, 0, True}, {"", 0, 0, 0, 0, Unknown}, {"", 0, 0, 1, 0, Error}, {"", 0, 1, 0, 0, Unknown},
		{"all_exist", 2, 0, 0, 0, True}, {"all_exist", 0, 0, 0, 0, False}, {"all_exist", 1, 1, 0, 0, False},
		{"all_exist", 1, 0, 1, 0, Error}, {"all_exist", 1, 0, 0, 1, Unknown},
		{"any_exist", 0, 0, 0, 0, True}, {"any_exist", 1, 0, 1, 0, True}, {"any_exist", 0, 0, 1, 0, Error},
		{"none_exist", 0, 3, 0, 0, True}, {"none_exist", 1, 0, 0, 0, False}, {"none_exist", 0, 0, 1, 0, Error}, {"none_exist", 0, 0, 0, 1, Unknown},
		{"only_one_exists", 1, 0, 0, 0, True}, {"only_one_exists", 2, 0, 0, 0, False}, {"only_one_exists", 0, 0, 0, 1, False},
		{"only_one_exists", 1, 0, 1, 0, Error}, {"only_one_exists", 0, 0, 0, 0, Unknown},
		{"bogus", 1, 0, 0, 0, Error},
	}
	for _, c := range cases {
		if got := entityExistence(c.check, c.ex, c.dne, c.errs, c.nc); got != c.want {
			t.Errorf("entityExistence(%q, %d, %d, %d, %d) = %s, want %s", c.check, c.ex, c.dne, c.errs, c.nc, got, c.want)
		}
	}
}

func TestStateOperatorOfTest(t *testing.T) {
	doc := mkdoc("",
		tst("and", "all", "", "o", "sa", "sb")+
			strings.Replace(tst("or", "all", "", "o", "sa", "sb"), `check="all"`, `check="all" state_operator="OR"`, 1),
		obj("o"),
		`<ind:textfilecontent54_state id="sa"><ind:subexpression>a</ind:subexpression></ind:textfilecontent54_state>
<ind:textfilecontent54_state id="sb"><ind:subexpression>b</ind:subexpression></ind:textfilecontent54_state>`, "")
	e := NewEvaluator(mustParse(t, doc), &fakeProber{collected: map[string]Collected{"o": items(item("subexpression", "a"))}}, nil)
	for id, want := range map[string]Result{"and": False, "or": True} {
		r, err := e.test(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Result != want {
			t.Errorf("state_operator %s: %s", id, r.Result)
		}
	}
}

// TestObjectEntities checks what the Prober is given: defaults, literal
// values, var_ref values with var_check, xsi:nil and behaviors.
func TestObjectEntities(t *testing.T) {
	doc := mkdoc("", tst("t", "all", "", "o")+tst("t2", "all", "none_exist", "o2")+tst("t3", "all", "", "o2"),
		`<ind:textfilecontent54_object id="o"><ind:behaviors singleline="true"/>
  <ind:filepath operation="pattern match" var_ref="paths" var_check="at least one"/>
  <ind:pattern operation="pattern match">^x</ind:pattern>
  <ind:instance datatype="int" operation="greater than or equal">1</ind:instance>
  <ind:filename xsi:nil="true"/>
</ind:textfilecontent54_object>
<ind:textfilecontent54_object id="o2"><ind:filepath var_ref="nothing"/></ind:textfilecontent54_object>`, "",
		`<constant_variable id="paths" datatype="string"><value>/a</value><value>/b</value></constant_variable>
<external_variable id="nothing" datatype="string"/>`)
	p := &fakeProber{collected: map[string]Collected{"o": items(item("text", "x"))}}
	e := NewEvaluator(mustParse(t, doc), p, nil)
	if r, _ := e.test(t.Context(), "t"); r.Result != True {
		t.Fatalf("t: %s %s", r.Result, r.Message)
	}
	got := p.seen["o"]
	want := &Object{ID: "o", Type: "textfilecontent54_object", Family: "independent",
		Behaviors: map[string]string{"singleline": "true"},
		Entities: []ObjectEntity{
			{Name: "filepath", Operation: "pattern match", Datatype: "string", Values: []string{"/a", "/b"}, VarCheck: "at least one"},
			{Name: "pattern", Operation: "pattern match", Datatype: "string", Values: []string{"^x"}, VarCheck: "all"},
			{Name: "instance", Operation: "greater than or equal", Datatype: "int", Values: []string{"1"}, VarCheck: "all"},
			{Name: "filename", Operation: "equals", Datatype: "string", VarCheck: "all", Nil: true},
		}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("object\n got %+v\nwant %+v", got, want)
	}
	if ok, _ := got.Entities[0].Match(e.Patterns, "/b"); !ok {
		t.Error("var_ref values do not match")
	}
	// A var_ref without values: the object does not exist, the Prober is
	// not asked, and the tests follow their check_existence.
	r2, _ := e.test(t.Context(), "t2")
	r3, _ := e.test(t.Context(), "t3")
	if r2.Result != True || r3.Result != False || r3.Flag != FlagDoesNotExist || !strings.Contains(r3.Message, "nothing") {
		t.Errorf("var without values: %s, %s %s %q", r2.Result, r3.Result, r3.Flag, r3.Message)
	}
	if p.callCount("o2") != 0 {
		t.Error("prober asked for an object whose variable has no values")
	}
}

func TestFilters(t *testing.T) {
	states := `<ind:textfilecontent54_state id="isbad"><ind:subexpression>bad</ind:subexpression></ind:textfilecontent54_state>`
	doc := mkdoc("",
		tst("ex", "all", "", "oex")+tst("in", "all", "", "oin")+tst("all", "all", "", "oall")+tst("set", "all", "", "oset"),
		obj("oex", `<filter action="exclude">isbad</filter>`)+
			obj("oin", `<filter action="include">isbad</filter>`)+
			obj("oall", `<filter action="include">isbad</filter>`)+
			`<ind:textfilecontent54_object id="oset"><set><object_reference>oraw</object_reference><filter action="exclude">isbad</filter></set></ind:textfilecontent54_object>`+
			obj("oraw"),
		states, "")
	mixed := items(item("subexpression", "good"), item("subexpression", "bad"), item("subexpression", "good2"))
	for _, ignore := range []bool{false, true} {
		p := &fakeProber{ignoreFilter: ignore, collected: map[string]Collected{
			"oex": mixed, "oin": mixed, "oraw": mixed,
			"oall": items(item("subexpression", "good")),
		}}
		e := NewEvaluator(mustParse(t, doc), p, nil)
		want := map[string][]string{"ex": {"good", "good2"}, "in": {"bad"}, "set": {"good", "good2"}}
		for id, vals := range want {
			r, err := e.test(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, it := range r.Items {
				got = append(got, it.Entities[0].Value)
			}
			if !slices.Equal(got, vals) {
				t.Errorf("ignoreFilter=%v %s: items %v, want %v", ignore, id, got, vals)
			}
		}
		if r, _ := e.test(t.Context(), "all"); r.Result != False || r.Flag != FlagDoesNotExist {
			t.Errorf("everything filtered out: %s %s", r.Result, r.Flag)
		}
		if got := p.seen["oex"].FilterEntities; !slices.Equal(got, []string{"subexpression"}) {
			t.Errorf("FilterEntities %q, want the state's entity", got)
		}
	}
}

func TestSets(t *testing.T) {
	one, two, three := item("v", "1"), item("v", "2"), item("v", "3")
	set := func(id, op string, refs ...string) string {
		var b strings.Builder
		fmt.Fprintf(&b, `<ind:textfilecontent54_object id=%q><set set_operator=%q>`, id, op)
		for _, r := range refs {
			fmt.Fprintf(&b, `<object_reference>%s</object_reference>`, r)
		}
		b.WriteString(`</set></ind:textfilecontent54_object>`)
		return b.String()
	}
	objects := obj("a") + obj("b") + obj("none") + obj("err") + obj("nc") +
		set("union", "UNION", "a", "b") + set("inter", "INTERSECTION", "a", "b") + set("compl", "COMPLEMENT", "a", "b") +
		set("single", "UNION", "a") + set("unionNone", "UNION", "none", "b") + set("interNone", "INTERSECTION", "a", "none") +
		set("unionErr", "UNION", "a", "err") + set("complNone", "COMPLEMENT", "a", "none") + set("unionNC", "UNION", "a", "nc") +
		set("complEmpty", "COMPLEMENT", "a", "a") + set("self", "UNION", "self") +
		`<ind:textfilecontent54_object id="nested"><set set_operator="UNION">
   <set><object_reference>a</object_reference></set>
   <set set_operator="COMPLEMENT"><object_reference>b</object_reference><object_reference>a</object_reference></set>
 </set></ind:textfilecontent54_object>`
	p := &fakeProber{collected: map[string]Collected{
		"a": items(one, two), "b": items(two, three), "err": {Flag: FlagError}, "nc": {Flag: FlagNotCollected},
	}}
	e := NewEvaluator(mustParse(t, mkdoc("", "", objects, "", "")), p, nil)
	cases := []struct {
		id   string
		flag Flag
		vals []string
	}{
		{"union", FlagComplete, []string{"1", "2", "3"}},
		{"inter", FlagComplete, []string{"2"}},
		{"compl", FlagComplete, []string{"1"}},
		{"single", FlagComplete, []string{"1", "2"}},
		{"unionNone", FlagComplete, []string{"2", "3"}},
		{"interNone", FlagDoesNotExist, nil},
		{"unionErr", FlagError, []string{"1", "2"}},
		{"complNone", FlagComplete, []string{"1", "2"}},
		{"unionNC", FlagIncomplete, []string{"1", "2"}},
		{"complEmpty", FlagDoesNotExist, nil},
		{"nested", FlagComplete, []string{"1", "2", "3"}},
		{"self", FlagError, nil},
	}
	for _, c := range cases {
		col, err := e.collect(t.Context(), c.id)
		if err != nil {
			t.Fatal(err)
		}
		var vals []string
		for _, it := range col.items {
			vals = append(vals, it.Entities[0].Value)
		}
		if col.flag != c.flag || !slices.Equal(vals, c.vals) {
			t.Errorf("%s: %s %v, want %s %v (%s)", c.id, col.flag, vals, c.flag, c.vals, col.msg)
		}
	}
	// Members are collected once however many sets use them.
	if n := p.callCount("a"); n != 1 {
		t.Errorf("a collected %d times", n)
	}
}

func TestSetFlagTable(t *testing.T) {
	const (
		co, in, dn, er, nc, na = FlagComplete, FlagIncomplete, FlagDoesNotExist, FlagError, FlagNotCollected, FlagNotApplicable
	)
	cases := []struct {
		op         string
		f1, f2, to Flag
	}{
		{"UNION", co, dn, co}, {"UNION", dn, dn, dn}, {"UNION", co, nc, in}, {"UNION", dn, na, dn}, {"UNION", na, na, na},
		{"UNION", er, co, er}, {"UNION", co, er, er}, {"UNION", nc, nc, nc}, {"UNION", in, co, in},
		{"INTERSECTION", co, co, co}, {"INTERSECTION", co, dn, dn}, {"INTERSECTION", dn, er, dn}, {"INTERSECTION", co, er, er},
		{"INTERSECTION", co, na, co}, {"INTERSECTION", in, na, na}, {"INTERSECTION", nc, co, nc}, {"INTERSECTION", na, in, in},
		{"COMPLEMENT", co, dn, co}, {"COMPLEMENT", co, in, er}, {"COMPLEMENT", in, co, in}, {"COMPLEMENT", dn, co, dn},
		{"COMPLEMENT", dn, na, er}, {"COMPLEMENT", nc, co, nc}, {"COMPLEMENT", nc, er, er}, {"COMPLEMENT", na, co, er},
		{"BOGUS", co, co, er},
	}
	for _, c := range cases {
		if got := combineSetFlags(c.op, c.f1, c.f2); got != c.to {
			t.Errorf("%s(%s, %s) = %s, want %s", c.op, c.f1, c.f2, got, c.to)
		}
	}
}

// TestVariableFunctions evaluates each function of local_variable.
func TestVariableFunctions(t *testing.T) {
	lv := func(id, dt, body string) string {
		return fmt.Sprintf(`<local_variable id=%q datatype=%q>%s</local_variable>`, id, dt, body)
	}
	lit := func(s string) string { return `<literal_component>` + s + `</literal_component>` }
	vc := func(id string) string { return `<variable_component var_ref="` + id + `"/>` }
	oc := func(o, f string) string { return `<object_component object_ref="` + o + `" item_field="` + f + `"/>` }
	fn := func(name, attrs string, args ...string) string {
		return "<" + name + " " + attrs + ">" + strings.Join(args, "") + "</" + name + ">"
	}
	vars := `<constant_variable id="xy" datatype="string"><value>x</value><value>y</value></constant_variable>
<constant_variable id="umask" datatype="string"><value>027</value></constant_variable>
<external_variable id="ext" datatype="int"/>
<external_variable id="noext" datatype="int"/>` +
		lv("literal", "string", lit("a")) +
		lv("concat", "string", fn("concat", "", lit("a"), vc("xy"), lit("b"))) +
		lv("concat2", "string", fn("concat", "", vc("xy"), vc("xy"))) +
		lv("concatNone", "string", fn("concat", "", lit("a"), oc("none", "v"))) +
		lv("count", "int", fn("count", "", oc("three", "v"))) +
		lv("countNone", "int", fn("count", "", oc("none", "v"))) +
		lv("unique", "string", fn("unique", "", oc("three", "v"), vc("xy"))) +
		lv("add", "int", fn("arithmetic", `arithmetic_operation="add"`, lit("10"), vc("ext"))) +
		lv("mul", "int", fn("arithmetic", `arithmetic_operation="multiply"`, `<literal_component datatype="int">64</literal_component>`, lit("3"))) +
		lv("float", "float", fn("arithmetic", `arithmetic_operation="add"`, lit("1.5"), lit("2"))) +
		lv("lenient", "int", fn("arithmetic", `arithmetic_operation="add"`, lit("7abc"), lit(""))) +
		lv("d1", "int", fn("substring", `substring_start="1" substring_length="1"`, vc("umask"))) +
		lv("d2", "int", fn("substring", `substring_start="2" substring_length="1"`, vc("umask"))) +
		lv("d3", "int", fn("substring", `substring_start="3" substring_length="1"`, vc("umask"))) +
		lv("umaskNum", "int", fn("arithmetic", `arithmetic_operation="add"`,
			fn("arithmetic", `arithmetic_operation="multiply"`, lit("64"), vc("d1")),
			fn("arithmetic", `arithmetic_operation="multiply"`, lit("8"), vc("d2")), vc("d3"))) +
		lv("sub", "string", fn("substring", `substring_start="2" substring_length="2"`, lit("abcdef"))) +
		lv("subRest", "string", fn("substring", `substring_start="0" substring_length="-1"`, lit("abc"))) +
		lv("subLong", "string", fn("substring", `substring_start="2" substring_length="10"`, lit("abc"))) +
		lv("subPast", "string", fn("substring", `substring_start="4" substring_length="1"`, lit("abc"))) +
		lv("capture", "int", fn("regex_capture", `pattern="PASS_MAX_DAYS\s+(\d+)"`, oc("logindefs", "text"))) +
		lv("captureBad", "string", fn("regex_capture", `pattern="(unclosed"`, lit("x"))) +
		lv("glob", "string", fn("glob_to_regex", "", lit("/etc/rsyslog.d/*.conf"))) +
		lv("globQ", "string", fn("glob_to_regex", "", lit("a?b/?c"))) +
		lv("globClass", "string", fn("glob_to_regex", "", lit("/x/[!ab]y[c]"))) +
		lv("globEsc", "string", fn("glob_to_regex", "", lit(`a\*b\.c\`))) +
		lv("globNoEsc", "string", fn("glob_to_regex", `glob_noescape="true"`, lit(`a\b`))) +
		lv("globBad", "string", fn("glob_to_regex", "", lit("a[bc"))) +
		lv("globSpecial", "string", fn("glob_to_regex", "", lit("a.b+c(d)|$^{}"))) +
		lv("split", "string", fn("split", `delimiter=":"`, lit("a:b::c"))) +
		lv("splitChars", "string", fn("split", `delimiter=""`, lit("ab"))) +
		lv("escape", "string", fn("escape_regex", "", lit("a.b*c[d]^$"))) +
		lv("begin", "string", fn("begin", `character="/"`, lit("etc"), lit("ignored"))) +
		lv("begin2", "string", fn("begin", `character="/"`, lit("/etc"))) +
		lv("end", "string", fn("end", `character="/"`, lit("etc"))) +
		lv("end2", "string", fn("end", `character="/"`, lit("etc/"))) +
		lv("tdiff1", "int", fn("time_difference", `format_1="seconds_since_epoch"`, lit("400"))) +
		lv("tdiff2", "int", fn("time_difference", ``, lit("20240101"), lit("2024-01-02"))) +
		lv("tdiffBad", "int", fn("time_difference", ``, lit("yesterday"), lit("20240102"))) +
		lv("chain", "string", vc("concat")) +
		lv("missingField", "string", oc("three", "nope")) +
		lv("recordField", "string", `<object_component object_ref="three" item_field="v" record_field="x"/>`) +
		lv("unsupported", "string", fn("frobnicate", "", lit("a"))) +
		lv("noVar", "string", vc("nosuch")) +
		lv("errChain", "string", fn("concat", "", lit("a"), vc("noext"))) +
		lv("empty", "string", fn("concat", ""))
	objects := obj("three") + obj("none") + obj("logindefs")
	p := &fakeProber{collected: map[string]Collected{
		"three":     items(item("v", "1"), item("v", "2"), item("v", "1")),
		"logindefs": items(item("text", "PASS_MAX_DAYS 90"), item("text", "nothing here")),
	}}
	e := NewEvaluator(mustParse(t, mkdoc("", "", objects, "", vars)), p, map[string][]string{"ext": {"1", "2"}})
	e.Now = func() time.Time { return time.Unix(1000, 0) }
	cases := []struct {
		id   string
		flag Flag
		vals []string
	}{
		{"literal", FlagComplete, []string{"a"}},
		{"concat", FlagComplete, []string{"axb", "ayb"}},
		{"concat2", FlagComplete, []string{"xx", "xy", "yx", "yy"}},
		{"concatNone", FlagDoesNotExist, nil},
		{"count", FlagComplete, []string{"3"}},
		{"countNone", FlagDoesNotExist, []string{"0"}},
		{"unique", FlagComplete, []string{"1", "2", "x", "y"}},
		{"add", FlagComplete, []string{"11", "12"}},
		{"mul", FlagComplete, []string{"192"}},
		{"float", FlagComplete, []string{"3.5"}},
		{"lenient", FlagComplete, []string{"7"}},
		{"umaskNum", FlagComplete, []string{"23"}},
		{"sub", FlagComplete, []string{"bc"}},
		{"subRest", FlagComplete, []string{"abc"}},
		{"subLong", FlagComplete, []string{"bc"}},
		{"subPast", FlagError, nil},
		{"capture", FlagComplete, []string{"90", ""}},
		{"captureBad", FlagError, nil},
		{"glob", FlagComplete, []string{`^/etc/rsyslog\.d/(?=[^.])[^/]*\.conf$`}},
		{"globQ", FlagComplete, []string{`^a[^/]b/[^./]c$`}},
		{"globClass", FlagComplete, []string{`^/x/[^ab]y[c]$`}},
		{"globEsc", FlagComplete, []string{`^a\*b\\.c\\$`}},
		{"globNoEsc", FlagComplete, []string{`^a\\b$`}},
		{"globBad", FlagError, nil},
		{"globSpecial", FlagComplete, []string{`^a\.b\+c\(d\)\|\$\^\{\}$`}},
		{"split", FlagComplete, []string{"a", "b", "", "c"}},
		{"splitChars", FlagComplete, []string{"a", "b"}},
		{"escape", FlagComplete, []string{`a\.b\*c\[d\]\^\$`}},
		{"begin", FlagComplete, []string{"/etc"}},
		{"begin2", FlagComplete, []string{"/etc"}},
		{"end", FlagComplete, []string{"etc/"}},
		{"end2", FlagComplete, []string{"etc/"}},
		{"tdiff1", FlagComplete, []string{"600"}},
		{"tdiff2", FlagComplete, []string{"86400"}},
		{"tdiffBad", FlagError, nil},
		{"chain", FlagComplete, []string{"axb", "ayb"}},
		{"missingField", FlagError, nil},
		{"recordField", FlagError, nil},
		{"unsupported", FlagError, nil},
		{"noVar", FlagError, nil},
		{"noext", FlagError, nil},
		{"errChain", FlagError, nil},
		{"empty", FlagError, nil},
		{"ext", FlagComplete, []string{"1", "2"}},
		{"xy", FlagComplete, []string{"x", "y"}},
	}
	for _, c := range cases {
		vals, flag, err := e.VariableValues(t.Context(), c.id)
		if err != nil {
			t.Fatal(err)
		}
		if flag != c.flag || !slices.Equal(vals, c.vals) {
			t.Errorf("%s: %s %q, want %s %q", c.id, flag, vals, c.flag, c.vals)
		}
	}
	// The generated regular expressions compile (look-arounds go to the
	// backtracking engine) and mean what the glob means.
	re, err := e.Patterns.Compile(`^/etc/rsyslog\.d/(?=[^.])[^/]*\.conf$`)
	if err != nil {
		t.Fatal(err)
	}
	for s, want := range map[string]bool{"/etc/rsyslog.d/a.conf": true, "/etc/rsyslog.d/.a.conf": false, "/etc/rsyslog.d/x/a.conf": false} {
		if got, _ := re.MatchString(s); got != want {
			t.Errorf("glob regex on %s: %v", s, got)
		}
	}
}

func TestVariableObject(t *testing.T) {
	doc := mkdoc("",
		`<ind:variable_test id="t" check="all" check_existence="all_exist"><ind:object object_ref="vo"/><ind:state state_ref="s"/></ind:variable_test>`+
			`<ind:variable_test id="tn" check="all"><ind:object object_ref="vnone"/><ind:state state_ref="s"/></ind:variable_test>`+
			`<ind:variable_test id="te" check="all"><ind:object object_ref="verr"/><ind:state state_ref="s"/></ind:variable_test>`,
		`<ind:variable_object id="vo"><ind:var_ref>count</ind:var_ref></ind:variable_object>
<ind:variable_object id="vnone"><ind:var_ref>none</ind:var_ref></ind:variable_object>
<ind:variable_object id="verr"><ind:var_ref>err</ind:var_ref></ind:variable_object>
<ind:variable_object id="vset"><set><object_reference>vo</object_reference><object_reference>vnone</object_reference></set></ind:variable_object>`+obj("lines")+obj("nolines"),
		`<ind:variable_state id="s"><ind:value datatype="int" var_ref="count2"/></ind:variable_state>`,
		`<local_variable id="count" datatype="int"><count><object_component object_ref="lines" item_field="text"/></count></local_variable>
<local_variable id="count2" datatype="int"><count><object_component object_ref="lines" item_field="text"/></count></local_variable>
<local_variable id="none" datatype="string"><object_component object_ref="nolines" item_field="text"/></local_variable>
<local_variable id="err" datatype="string"><object_component object_ref="lines" item_field="missing"/></local_variable>`)
	p := &fakeProber{collected: map[string]Collected{"lines": items(item("text", "a"), item("text", "b"))}}
	e := NewEvaluator(mustParse(t, doc), p, nil)
	r, err := e.test(t.Context(), "t")
	if err != nil {
		t.Fatal(err)
	}
	want := Item{Entities: []ItemEntity{{Name: "var_ref", Value: "count"}, {Name: "value", Value: "2", Datatype: "int"}}}
	if r.Result != True || len(r.Items) != 1 || !reflect.DeepEqual(r.Items[0], want) {
		t.Errorf("variable_test: %s %+v", r.Result, r.Items)
	}
	if r, _ := e.test(t.Context(), "tn"); r.Result != False || r.Flag != FlagDoesNotExist {
		t.Errorf("variable without values: %s %s", r.Result, r.Flag)
	}
	// oscap: a variable in error gives an item without values, so the
	// state's entity has nothing to compare: unknown.
	if r, _ := e.test(t.Context(), "te"); r.Result != Unknown {
		t.Errorf("variable in error: %s %+v", r.Result, r.Items)
	}
	col, _ := e.collect(t.Context(), "vset")
	if col.flag != FlagComplete || len(col.items) != 1 {
		t.Errorf("set of variable_objects: %s %d", col.flag, len(col.items))
	}
	if p.callCount("vo") != 0 {
		t.Error("variable_object handed to the prober")
	}
}

func TestProberErrors(t *testing.T) {
	doc := mkdoc(def("d", crit("AND", false, cr("unsup", false), cr("ok", false)))+def("d2", crit("AND", false, cr("ok", false))),
		strings.Replace(tst("unsup", "all", "", "ou"), "textfilecontent54_test", "xinetd_test", 2)+
			tst("ok", "all", "", "ook")+tst("nc", "all", "", "onc")+tst("fail", "all", "", "ofail")+tst("unsupAny", "all", "any_exist", "ou")+
			tst("viaVar", "all", "none_exist", "ovar")+tst("viaState", "all", "", "ook", "sunsup")+
			`<ind:variable_test id="viaVarObj" check="all"><ind:object object_ref="ovo"/></ind:variable_test>`+
			tst("viaNC", "all", "any_exist", "oncvar"),
		obj("ou")+obj("ook")+obj("onc")+obj("ofail")+obj("ovar", `<ind:filepath var_ref="fromUnsup"/>`)+
			`<ind:variable_object id="ovo"><ind:var_ref>fromUnsup</ind:var_ref></ind:variable_object>`+
			obj("oncvar", `<ind:filepath var_ref="fromNC"/>`),
		`<ind:textfilecontent54_state id="sunsup"><ind:text var_ref="fromUnsup"/></ind:textfilecontent54_state>`,
		`<local_variable id="fromNC" datatype="string"><object_component object_ref="onc" item_field="x"/></local_variable>
<local_variable id="fromUnsup" datatype="string"><concat><literal_component>/</literal_component><object_component object_ref="ou" item_field="x"/></concat></local_variable>`)
	p := &fakeProber{
		collected: map[string]Collected{"ook": items(item("text", "x"))},
		errs: map[string]error{
			"ou":    fmt.Errorf("xinetd_object: %w", ErrUnsupported),
			"onc":   fmt.Errorf("sysctl: %w", ErrNotCollectable),
			"ofail": errors.New("permission denied"),
		},
	}
	e := NewEvaluator(mustParse(t, doc), p, nil)
	d := evalDef(t, e, "d")
	if d.Result != Error || d.Tests[0].Message != "unsupported OVAL test xinetd_test" || d.Tests[1].Result != True {
		t.Errorf("unsupported: %s %+v", d.Result, d.Tests[0])
	}
	if r := evalDef(t, e, "d2"); r.Result != True {
		t.Errorf("a definition without the unsupported test: %s", r.Result)
	}
	for id, want := range map[string]string{"nc": "not collectable", "fail": "permission denied", "unsupAny": "unsupported OVAL test",
		"viaVar": "unsupported OVAL test textfilecontent54_test", "viaState": "unsupported OVAL test textfilecontent54_test",
		"viaVarObj": "unsupported OVAL test variable_test", "viaNC": "not collectable"} {
		r, _ := e.test(t.Context(), id)
		if r.Result != Error || !strings.Contains(r.Message, want) {
			t.Errorf("%s: %s %q", id, r.Result, r.Message)
		}
	}
}

// TestConcurrentOnce evaluates every definition from many goroutines: the
// results agree and each object is collected once.
func TestConcurrentOnce(t *testing.T) {
	var defs, tests, objects strings.Builder
	collected := map[string]Collected{}
	for i := 0; i < 20; i++ {
		objects.WriteString(obj(fmt.Sprintf("o%d", i)))
		if i%3 != 0 {
			collected[fmt.Sprintf("o%d", i)] = items(item("text", "x"))
		}
		tests.WriteString(tst(fmt.Sprintf("t%d", i), "all", "", fmt.Sprintf("o%d", i)))
	}
	for i := 0; i < 40; i++ {
		defs.WriteString(def(fmt.Sprintf("d%d", i), crit("OR", false,
			cr(fmt.Sprintf("t%d", i%20), false), cr(fmt.Sprintf("t%d", (i*7)%20), false),
			ext("leaf", false))))
	}
	defs.WriteString(def("leaf", crit("AND", false, cr("t1", false))))
	p := &fakeProber{collected: collected, block: func(ctx context.Context, obj *Object) error {
		time.Sleep(time.Millisecond) // widen the window for duplicate collection
		return nil
	}}
	e := NewEvaluator(mustParse(t, mkdoc(defs.String(), tests.String(), objects.String(), "", "")), p, nil)
	var wg sync.WaitGroup
	results := make([]map[string]Result, 8)
	for g := range results {
		results[g] = map[string]Result{}
		wg.Go(func() {
			for i := 39; i >= 0; i-- {
				id := fmt.Sprintf("d%d", (i+g*5)%40)
				r, err := e.Definition(context.Background(), id)
				if err != nil {
					t.Error(err)
					return
				}
				results[g][id] = r.Result
			}
		})
	}
	wg.Wait()
	for g := 1; g < len(results); g++ {
		if !reflect.DeepEqual(results[g], results[0]) {
			t.Fatalf("goroutine %d saw different results", g)
		}
	}
	for i := 0; i < 20; i++ {
		if n := p.callCount(fmt.Sprintf("o%d", i)); n != 1 {
			t.Errorf("o%d collected %d times", i, n)
		}
	}
}

func TestCycles(t *testing.T) {
	doc := mkdoc(
		def("a", crit("AND", false, ext("b", false)))+def("b", crit("AND", false, ext("a", false)))+
			def("self", crit("AND", false, ext("self", false)))+def("c", crit("OR", false, ext("a", false), cr("tv", false))),
		tst("tv", "all", "", "ov")+tst("tf", "all", "", "of", "sf"),
		obj("ov", `<ind:filepath var_ref="v1"/>`)+obj("of", `<filter>sf</filter>`)+
			`<ind:textfilecontent54_object id="oself"><set><object_reference>oself</object_reference></set></ind:textfilecontent54_object>`,
		`<ind:textfilecontent54_state id="sf"><ind:text var_ref="vf"/></ind:textfilecontent54_state>`,
		`<local_variable id="v1" datatype="string"><variable_component var_ref="v2"/></local_variable>
<local_variable id="v2" datatype="string"><concat><variable_component var_ref="v1"/></concat></local_variable>
<local_variable id="vf" datatype="string"><object_component object_ref="of" item_field="text"/></local_variable>`)
	p := &fakeProber{collected: map[string]Collected{"of": items(item("text", "x"))}}
	e := NewEvaluator(mustParse(t, doc), p, nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, id := range []string{"a", "b", "self"} {
			if r := evalDef(t, e, id); r.Result != Error || !strings.Contains(r.Message, "cycle") {
				t.Errorf("%s: %s %q", id, r.Result, r.Message)
			}
		}
		if r := evalDef(t, e, "c"); r.Result != Error {
			t.Errorf("c: %s", r.Result)
		}
		if _, flag, _ := e.VariableValues(t.Context(), "v1"); flag != FlagError {
			t.Errorf("v1: %s", flag)
		}
		if r, _ := e.test(t.Context(), "tf"); r.Flag != FlagError {
			t.Errorf("object filtered through its own items: %s", r.Flag)
		}
		if col, _ := e.collect(t.Context(), "oself"); col.flag != FlagError {
			t.Errorf("self set: %s", col.flag)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("cycle evaluation hangs")
	}
}

func TestPrepare(t *testing.T) {
	doc := mkdoc(def("d", crit("AND", false, cr("t1", false))),
		tst("t1", "all", "", "indep")+tst("t2", "all", "", "dep"),
		obj("indep", `<ind:filepath var_ref="ext"/>`)+
			obj("dep", `<ind:filepath var_ref="fromItems"/>`)+
			obj("depFilter", `<filter>sdep</filter>`)+
			obj("indepFilter", `<filter>sconst</filter>`)+
			obj("noValues", `<ind:filepath var_ref="missingExt"/>`)+
			obj("source")+
			`<ind:textfilecontent54_object id="aset"><set><object_reference>indep</object_reference></set></ind:textfilecontent54_object>
<ind:variable_object id="vo"><ind:var_ref>ext</ind:var_ref></ind:variable_object>`,
		`<ind:textfilecontent54_state id="sdep"><ind:text var_ref="fromItems"/></ind:textfilecontent54_state>
<ind:textfilecontent54_state id="sconst"><ind:text var_ref="ext"/></ind:textfilecontent54_state>`,
		`<external_variable id="ext" datatype="string"/><external_variable id="missingExt" datatype="string"/>
<local_variable id="fromItems" datatype="string"><concat><literal_component>/</literal_component><object_component object_ref="source" item_field="text"/></concat></local_variable>`)
	p := &fakeProber{collected: map[string]Collected{"indep": items(item("text", "x"))}}
	e := NewEvaluator(mustParse(t, doc), p, map[string][]string{"ext": {"/etc/x"}})
	if err := e.Prepare(t.Context()); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range p.prepared {
		ids = append(ids, o.ID)
	}
	if want := []string{"indep", "indepFilter", "source"}; !slices.Equal(ids, want) {
		t.Errorf("prepared %v, want %v", ids, want)
	}
	if len(p.calls) != 0 {
		t.Errorf("Prepare collected: %v", p.calls)
	}
	prepared := p.prepared[0]
	evalDef(t, e, "d")
	if p.seen["indep"] != prepared {
		t.Error("Collect got another *Object than Prepare")
	}
	if prepared.Entities[1].Values[0] != "/etc/x" {
		t.Errorf("external value not resolved: %+v", prepared.Entities[1])
	}

	p2 := &fakeProber{}
	e2 := NewEvaluator(mustParse(t, doc), p2, map[string][]string{"ext": {"/etc/x"}})
	if err := e2.PrepareDefinitions(t.Context(), []string{"d"}); err != nil {
		t.Fatal(err)
	}
	if len(p2.prepared) != 1 || p2.prepared[0].ID != "indep" {
		t.Errorf("PrepareDefinitions prepared %v", p2.prepared)
	}
}

// TestFilterOutlivesPrepare: an Object built by Prepare keeps a working
// Filter after Prepare's context is gone.
func TestFilterOutlivesPrepare(t *testing.T) {
	doc := mkdoc(def("d", crit("AND", false, cr("t", false))), tst("t", "all", "", "o"),
		obj("o", `<filter>bad</filter>`),
		`<ind:textfilecontent54_state id="bad"><ind:text var_ref="v"/></ind:textfilecontent54_state>`,
		`<constant_variable id="v" datatype="string"><value>no</value></constant_variable>`)
	p := &fakeProber{collected: map[string]Collected{"o": items(item("text", "no"), item("text", "yes"))}}
	e := NewEvaluator(mustParse(t, doc), p, nil)
	ctx, cancel := context.WithCancel(t.Context())
	if err := e.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	r := evalDef(t, e, "d")
	if r.Result != True || len(r.Tests[0].Items) != 1 || r.Tests[0].Items[0].Entities[0].Value != "yes" {
		t.Errorf("%s %s %+v", r.Result, r.Tests[0].Message, r.Tests[0].Items)
	}
}

func TestDecisive(t *testing.T) {
	doc := mkdoc(
		def("and", crit("AND", false, cr("T", false), cr("F", false), cr("E", false), cr("F2", false)))+
			def("or", crit("OR", false, cr("F", false), cr("T", false)))+
			def("allTrue", crit("AND", false, cr("T", false), cr("T2", false)))+
			def("notOr", crit("OR", true, cr("F", false), cr("F2", false)))+
			def("negCrit", crit("AND", false, cr("T", true), cr("T2", false)))+
			def("inner", crit("OR", false, cr("F", false), cr("T2", false)))+
			def("ext", crit("AND", false, ext("inner", false), cr("T", false)))+
			def("err", crit("AND", false, cr("T", false), cr("E", false))),
		fixedTests+tst("T2", "all", "", "oT")+tst("F2", "all", "", "oF"), fixedObjects, "", "")
	e := NewEvaluator(mustParse(t, doc), fixedProber(), nil)
	cases := map[string][]string{
		"and":     {"F", "F2"},
		"or":      {"T"},
		"allTrue": {"T", "T2"},
		"notOr":   {"F", "F2"},
		"negCrit": {"T"},
		"ext":     {"T2", "T"},
		"err":     {"E"},
	}
	for id, want := range cases {
		var got []string
		for _, tr := range evalDef(t, e, id).Decisive() {
			got = append(got, tr.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: decisive %v, want %v", id, got, want)
		}
	}
	if (&DefResult{}).Decisive() != nil {
		t.Error("no criteria: decisive tests")
	}
}

func TestEvidence(t *testing.T) {
	var its []Item
	for i := 0; i < 10; i++ {
		v := "good"
		if i == 7 || i == 9 {
			v = "bad"
		}
		its = append(its, item("subexpression", v, "n", fmt.Sprint(i)))
	}
	doc := mkdoc("", tst("t", "all", "", "o", "s")+tst("plain", "all", "", "o"), obj("o"),
		`<ind:textfilecontent54_state id="s"><ind:subexpression>good</ind:subexpression></ind:textfilecontent54_state>`, "")
	e := NewEvaluator(mustParse(t, doc), &fakeProber{collected: map[string]Collected{"o": items(its...)}}, nil)
	e.MaxItems = 3
	r, _ := e.test(t.Context(), "t")
	var ns []string
	for _, it := range r.Items {
		ns = append(ns, it.Entities[1].Value)
	}
	if r.Result != False || !slices.Equal(ns, []string{"0", "7", "9"}) || r.Truncated != 7 ||
		!slices.Equal(r.ItemResults, []Result{True, False, False}) {
		t.Errorf("evidence %s %v %v truncated %d", r.Result, ns, r.ItemResults, r.Truncated)
	}
	p, _ := e.test(t.Context(), "plain")
	if len(p.Items) != 3 || p.ItemResults != nil || p.Truncated != 7 {
		t.Errorf("without states: %d items, results %v", len(p.Items), p.ItemResults)
	}
}

func TestCancel(t *testing.T) {
	doc := mkdoc(def("d", crit("AND", false, cr("t", false))), tst("t", "all", "", "o"), obj("o"), "", "")
	var mu sync.Mutex
	blocking := true
	p := &fakeProber{collected: map[string]Collected{"o": items(item("text", "x"))},
		block: func(ctx context.Context, obj *Object) error {
			mu.Lock()
			b := blocking
			mu.Unlock()
			if b {
				<-ctx.Done()
				return fmt.Errorf("reading: %w", ctx.Err())
			}
			return nil
		}}
	e := NewEvaluator(mustParse(t, doc), p, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := e.Definition(ctx, "d"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	mu.Lock()
	blocking = false
	mu.Unlock()
	// The cancelled collection was not remembered.
	if r := evalDef(t, e, "d"); r.Result != True {
		t.Errorf("after cancel: %s", r.Result)
	}
	done, cancel2 := context.WithCancel(t.Context())
	cancel2()
	if _, err := e.Definition(done, "d"); !errors.Is(err, context.Canceled) {
		t.Errorf("done context: %v", err)
	}
}

// TestSSGDebian11 evaluates the whole Debian 11 content with a Prober that
// finds nothing: every definition evaluates, concurrently, without errors
// from Definition, and each object is collected once.
func TestSSGDebian11(t *testing.T) {
	ssgFiles(t)
	data := readSSG(t, "ssg-debian11-oval.xml")
	defs, err := Parse(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	external := map[string][]string{}
	for id, v := range defs.Variables {
		if v.Kind == "external_variable" {
			external[id] = []string{"1"}
		}
	}
	p := &fakeProber{}
	e := NewEvaluator(defs, p, external)
	if err := e.Prepare(t.Context()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	ids := make(chan string)
	for range 8 {
		wg.Go(func() {
			for id := range ids {
				r, err := e.Definition(t.Context(), id)
				if err != nil {
					t.Error(err)
					continue
				}
				switch r.Result {
				case True, False, Error, Unknown, NotApplicable, NotEvaluated:
				default:
					t.Errorf("%s: result %q", id, r.Result)
				}
				if len(r.Tests) == 0 && r.Criteria != nil {
					t.Errorf("%s: no tests", id)
				}
			}
		})
	}
	for _, id := range defs.DefinitionIDs {
		ids <- id
	}
	close(ids)
	wg.Wait()
	for id, n := range p.calls {
		if n != 1 {
			t.Errorf("%s collected %d times", id, n)
		}
	}
	if len(p.prepared) == 0 {
		t.Error("nothing prepared")
	}
}

func readSSG(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(ssgDir, name))
	if err != nil {
		t.Skip(err)
	}
	return string(data)
}
