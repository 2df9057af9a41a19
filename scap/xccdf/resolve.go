package xccdf

import (
	"fmt"
	"strings"

	"github.com/plumbhq/plumb/policy"
)

// AllProfile is the pseudo-profile that selects every Group and Rule of
// the benchmark, as oscap's "(all)": parity tests use it to check every
// rule, as a tailoring that selects all rules would. requires and
// conflicts still apply, as in oscap's evaluation: in SSG 0.1.65 two
// rules conflict with selinux_state and end up in Selection.Deselected.
const AllProfile = "(all)"

// Selection is a benchmark resolved for one profile: the rules to check,
// in document order, with everything a profile can change applied.
type Selection struct {
	Benchmark *Benchmark
	// ProfileID is the profile applied: "" for the benchmark's default
	// selection, AllProfile, or a profile of the benchmark or tailoring.
	ProfileID string
	// Profile is that profile (nil for "" and AllProfile); Tailored is set
	// when it came from the tailoring.
	Profile  *Profile
	Tailored bool
	Rules    []*SelectedRule
	// Values holds the effective value of every Value of the benchmark.
	Values map[string]*ResolvedValue
	// Deselected lists the selected rules and groups that requires or
	// conflicts elements turned off (XCCDF 1.2 section 7.2.3.3.2).
	Deselected []Deselection
	// Warnings are problems that do not stop the resolution: selectors
	// that name no item, exports of unknown values, refine-value selectors
	// a Value does not define. oscap reports the same as warnings.
	Warnings []string
}

// SelectedRule is a rule as a profile makes it.
type SelectedRule struct {
	Rule *Rule
	// CID is the rule's Plumb control id (see CID).
	CID int
	// Severity, Role and Weight after refine-rule.
	Severity    string
	Role        string
	Weight      float64
	Criticality policy.Criticality
	// Checks are the candidate checks after the rule's check selector
	// (refine-rule selector), in document order: alternatives of which
	// the first whose system the engine supports is used. They are nil
	// when ComplexCheck is set, which then replaces them.
	Checks       []*Check
	ComplexCheck *ComplexCheck
	// Exports are the values the checks import, deduplicated, in order.
	Exports []Export
	// Platforms are the platform sets that must all be applicable for
	// the rule to apply: the benchmark's, each enclosing group's
	// (outermost first) and the rule's own. Within a set any one idref
	// suffices. Sets without platforms are left out. (XCCDF 1.2 section
	// 6.2.5 reads as if an item's own platforms replaced its ancestors';
	// oscap requires every level to apply, and so does SSG content, whose
	// rules say "#machine" on a benchmark that names the OS.)
	Platforms []PlatformSet
}

// Export is a check-export with its effective value.
type Export struct {
	ValueID    string
	ExportName string
	Value      string
	// Items holds the value of a complex (list) Value.
	Items    []string
	Type     string
	Operator string
	// Found is false when the Value does not exist or has no value for
	// the selected selector nor a default; Value is then empty.
	Found bool
}

// ResolvedValue is the effective value of a Value under a profile.
type ResolvedValue struct {
	Value    *Value
	Selected string   // the value string
	Items    []string // for a complex value
	Operator string
	// Selector is the selector whose value was chosen ("" for the
	// default); Source says what chose it: "default", "refine-value",
	// "set-value" or "set-complex-value".
	Selector string
	Source   string
	Found    bool
}

// PlatformSet is the platform idrefs of one item: CPE names, or "#id" of a
// cpe-lang platform of the benchmark's PlatformSpecification.
type PlatformSet struct {
	From   string // the benchmark, group or rule id
	IDRefs []string
}

// Deselection records an item that requires or conflicts turned off.
type Deselection struct {
	ID     string
	Reason string
}

// valueState is what the profile's value selectors did to a Value.
type valueState struct {
	selector string
	set      *string
	items    []string
	complex  bool
	operator string
	source   string
}

// ruleRefine is what refine-rule did to a Rule.
type ruleRefine struct {
	severity, role, selector string
	weight                   *float64
}

// Resolve applies a profile (and an optional tailoring) to the benchmark.
// profileID "" is the default selection (the selected attributes); with a
// tailoring of exactly one profile, "" means that profile. AllProfile
// selects everything. A tailoring profile shadows a benchmark profile of
// the same id. Profile extends chains are followed (a cycle or a missing
// profile is an error); selectors are applied in document order, the
// extended profile's first.
//
// Group selection follows XCCDF: a deselected group hides all its
// descendants; selecting a group does not select rules that are
// themselves deselected (oscap does the same).
func (b *Benchmark) Resolve(profileID string, t *Tailoring) (*Selection, error) {
	if profileID == "" && t != nil && len(t.Profiles) == 1 {
		profileID = t.Profiles[0].ID
	}
	s := &Selection{Benchmark: b, ProfileID: profileID, Values: map[string]*ResolvedValue{}}
	selected := make(map[Item]bool, len(b.Rules)+len(b.Groups))
	for _, g := range b.Groups {
		selected[g] = g.Selected
	}
	for _, r := range b.Rules {
		selected[r] = r.Selected
	}
	values := map[*Value]*valueState{}
	refines := map[*Rule]*ruleRefine{}

	switch profileID {
	case "":
	case AllProfile:
		for it := range selected {
			selected[it] = true
		}
	default:
		chain, tailored, err := b.profileChain(profileID, t)
		if err != nil {
			return nil, err
		}
		s.Profile, s.Tailored = chain[len(chain)-1], tailored
		for _, p := range chain {
			for _, sel := range p.Selectors {
				targets := b.targets(sel.IDRef)
				if len(targets) == 0 {
					s.warnf("profile %q: %s %q matches no item of the benchmark", p.ID, sel.Kind, sel.IDRef)
					continue
				}
				for _, it := range targets {
					applySelector(sel, it, selected, values, refines)
				}
			}
		}
	}

	// Item processing, in document order (XCCDF 1.2 section 7.2.3.3).
	var walk func(items []Item)
	walk = func(items []Item) {
		for _, it := range items {
			switch x := it.(type) {
			case *Group:
				if x.Abstract || !selected[x] {
					continue
				}
				if reason := b.unmet(x.Requires, x.Conflicts, selected, s); reason != "" {
					selected[x] = false
					s.Deselected = append(s.Deselected, Deselection{ID: x.ID, Reason: reason})
					continue
				}
				walk(x.Items)
			case *Rule:
				if x.Abstract || !selected[x] {
					continue
				}
				if reason := b.unmet(x.Requires, x.Conflicts, selected, s); reason != "" {
					selected[x] = false
					s.Deselected = append(s.Deselected, Deselection{ID: x.ID, Reason: reason})
					continue
				}
				s.Rules = append(s.Rules, &SelectedRule{Rule: x})
			}
		}
	}
	walk(b.Items)

	for _, v := range b.Values {
		s.Values[v.ID] = s.resolveValue(v, values[v])
	}
	for _, sr := range s.Rules {
		s.fillRule(sr, refines[sr.Rule])
	}
	return s, nil
}

func (s *Selection) warnf(format string, args ...any) {
	s.Warnings = append(s.Warnings, fmt.Sprintf(format, args...))
}

// profileChain returns the profile and the profiles it extends, the most
// extended first.
func (b *Benchmark) profileChain(id string, t *Tailoring) ([]*Profile, bool, error) {
	var (
		p        *Profile
		tailored bool
	)
	if t != nil {
		p, tailored = t.Profile(id)
	}
	if p == nil {
		var ok bool
		if p, ok = b.profiles[id]; !ok {
			return nil, false, fmt.Errorf("benchmark %s has no profile %q%s", b.ID, id, b.profileHint(t))
		}
		if p.Abstract {
			return nil, false, fmt.Errorf("profile %q is abstract: it exists only to be extended", id)
		}
	}
	var chain []*Profile
	seen := map[*Profile]bool{}
	inTailoring := tailored
	for {
		if seen[p] {
			var ids []string
			for i := len(chain) - 1; i >= 0; i-- {
				ids = append(ids, chain[i].ID)
			}
			return nil, false, fmt.Errorf("profile %q: extends cycle: %s -> %s", id, strings.Join(ids, " <- "), p.ID)
		}
		seen[p] = true
		chain = append(chain, p)
		if p.Extends == "" {
			break
		}
		// A tailoring profile extends a benchmark profile; tailoring
		// profiles are never extended (XCCDF 1.2 section 6.7).
		parent, ok := b.profiles[p.Extends]
		if !ok {
			where := "benchmark " + b.ID
			if inTailoring {
				where = "the benchmark the tailoring applies to (" + b.ID + ")"
			}
			return nil, false, fmt.Errorf("profile %q extends %q, which is not a profile of %s", p.ID, p.Extends, where)
		}
		p, inTailoring = parent, false
	}
	for i, j := 0, len(chain)-1; i < j; i, j = i+1, j-1 {
		chain[i], chain[j] = chain[j], chain[i]
	}
	return chain, tailored, nil
}

func (b *Benchmark) profileHint(t *Tailoring) string {
	var ids []string
	for _, p := range b.Profiles {
		if !p.Abstract {
			ids = append(ids, p.ID)
		}
	}
	if t != nil {
		for _, p := range t.Profiles {
			ids = append(ids, p.ID)
		}
	}
	if len(ids) == 0 {
		return " (it has none)"
	}
	if len(ids) > 12 {
		ids = append(ids[:12], "...")
	}
	return " (have: " + strings.Join(ids, ", ") + ")"
}

// targets returns the items an idref designates: the item with that id,
// or the members of the cluster with that id.
func (b *Benchmark) targets(idref string) []Item {
	if r, ok := b.rules[idref]; ok {
		return []Item{r}
	}
	if g, ok := b.groups[idref]; ok {
		return []Item{g}
	}
	if v, ok := b.values[idref]; ok {
		return []Item{v}
	}
	return b.clusters[idref]
}

// applySelector applies one profile selector to one item. Selectors of a
// kind that does not apply to the item's type leave it alone (a
// refine-value naming a cluster only affects its Values).
func applySelector(sel Selector, it Item, selected map[Item]bool, values map[*Value]*valueState, refines map[*Rule]*ruleRefine) {
	switch sel.Kind {
	case Select:
		switch it.(type) {
		case *Group, *Rule:
			selected[it] = sel.Selected
		}
	case SetValue, SetComplexValue, RefineValue:
		v, ok := it.(*Value)
		if !ok {
			return
		}
		st := values[v]
		if st == nil {
			st = &valueState{}
			values[v] = st
		}
		// Any of the three replaces earlier tailoring of the value
		// (XCCDF 1.2 section 7.2.3.4); refine-value's operator is a
		// separate property and persists.
		st.selector, st.set, st.items, st.complex = "", nil, nil, false
		st.source = string(sel.Kind)
		switch sel.Kind {
		case SetValue:
			val := sel.Value
			st.set = &val
		case SetComplexValue:
			st.items, st.complex = sel.Items, true
		case RefineValue:
			st.selector = sel.Selector
			if sel.Operator != "" {
				st.operator = sel.Operator
			}
		}
	case RefineRule:
		r, ok := it.(*Rule)
		if !ok {
			return // a group's weight only matters for scoring, which Plumb does its own way
		}
		rr := refines[r]
		if rr == nil {
			rr = &ruleRefine{}
			refines[r] = rr
		}
		if sel.Severity != "" {
			rr.severity = sel.Severity
		}
		if sel.Role != "" {
			rr.role = sel.Role
		}
		if sel.Weight != nil {
			rr.weight = sel.Weight
		}
		if sel.Selector != "" {
			rr.selector = sel.Selector
		}
	}
}

// unmet evaluates an item's requires and conflicts against the current
// selection state: "" when they are met, otherwise why not. An unknown id
// counts as not selected.
func (b *Benchmark) unmet(requires [][]string, conflicts []string, selected map[Item]bool, s *Selection) string {
	isSelected := func(id string) bool {
		if r, ok := b.rules[id]; ok {
			return selected[r]
		}
		if g, ok := b.groups[id]; ok {
			return selected[g]
		}
		s.warnf("requires/conflicts names unknown item %q", id)
		return false
	}
	for _, alts := range requires {
		ok := false
		for _, id := range alts {
			if isSelected(id) {
				ok = true
				break
			}
		}
		if !ok {
			return "requires " + strings.Join(alts, " or ") + ", which is not selected"
		}
	}
	for _, id := range conflicts {
		if isSelected(id) {
			return "conflicts with " + id + ", which is selected"
		}
	}
	return ""
}

func (s *Selection) resolveValue(v *Value, st *valueState) *ResolvedValue {
	rv := &ResolvedValue{Value: v, Operator: v.Operator, Source: "default"}
	if st != nil {
		if st.operator != "" {
			rv.Operator = st.operator
		}
		switch {
		case st.set != nil:
			rv.Selected, rv.Source, rv.Found = *st.set, st.source, true
			return rv
		case st.complex:
			rv.Items, rv.Source, rv.Found = st.items, st.source, true
			return rv
		}
	}
	want := ""
	if st != nil {
		want = st.selector
	}
	val, used, found := v.Lookup(want)
	if !found {
		for _, c := range v.ComplexValues {
			if c.Selector == want {
				rv.Items, used, found = c.Items, want, true
				break
			}
		}
		if !found {
			for _, c := range v.ComplexValues {
				if c.Selector == "" {
					rv.Items, used, found = c.Items, "", true
					break
				}
			}
		}
		if !found && len(v.ComplexValues) > 0 {
			rv.Items, used, found = v.ComplexValues[0].Items, v.ComplexValues[0].Selector, true
		}
	}
	rv.Selected, rv.Selector, rv.Found = val, used, found
	if want != "" && used != want {
		s.warnf("Value %q has no selector %q; its default applies", v.ID, want)
	}
	if want != "" && used == want {
		rv.Source = string(RefineValue)
	}
	return rv
}

func (s *Selection) fillRule(sr *SelectedRule, rr *ruleRefine) {
	r := sr.Rule
	b := s.Benchmark
	sr.CID = b.cids[r.ID]
	sr.Severity, sr.Role, sr.Weight = r.Severity, r.Role, r.Weight
	selector := ""
	if rr != nil {
		if rr.severity != "" {
			sr.Severity = rr.severity
		}
		if rr.role != "" {
			sr.Role = rr.role
		}
		if rr.weight != nil {
			sr.Weight = *rr.weight
		}
		selector = rr.selector
	}
	sr.Criticality = Criticality(sr.Severity)
	var checks []*Check
	if r.ComplexCheck != nil {
		sr.ComplexCheck = r.ComplexCheck
		checks = r.ComplexCheck.all()
	} else {
		sr.Checks = selectChecks(r.Checks, selector)
		checks = sr.Checks
	}
	seen := map[CheckExport]bool{}
	for _, c := range checks {
		for _, x := range c.Exports {
			if seen[x] {
				continue
			}
			seen[x] = true
			e := Export{ValueID: x.ValueID, ExportName: x.ExportName}
			if rv, ok := s.Values[x.ValueID]; ok {
				e.Value, e.Items, e.Found = rv.Selected, rv.Items, rv.Found
				e.Type, e.Operator = rv.Value.Type, rv.Operator
			} else {
				s.warnf("rule %q exports unknown Value %q", r.ID, x.ValueID)
			}
			sr.Exports = append(sr.Exports, e)
		}
	}
	if len(b.Platforms) > 0 {
		sr.Platforms = append(sr.Platforms, PlatformSet{From: b.ID, IDRefs: b.Platforms})
	}
	var groups []*Group
	for g := r.Parent; g != nil; g = g.Parent {
		groups = append(groups, g)
	}
	for i := len(groups) - 1; i >= 0; i-- {
		if len(groups[i].Platforms) > 0 {
			sr.Platforms = append(sr.Platforms, PlatformSet{From: groups[i].ID, IDRefs: groups[i].Platforms})
		}
	}
	if len(r.Platforms) > 0 {
		sr.Platforms = append(sr.Platforms, PlatformSet{From: r.ID, IDRefs: r.Platforms})
	}
}

// selectChecks picks the candidate checks (XCCDF 1.2 section 7.2.3.5,
// Check.Selector): those with the rule's selector if any has it,
// otherwise those without a selector.
func selectChecks(checks []*Check, selector string) []*Check {
	var out []*Check
	if selector != "" {
		for _, c := range checks {
			if c.Selector == selector {
				out = append(out, c)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	for _, c := range checks {
		if c.Selector == "" {
			out = append(out, c)
		}
	}
	return out
}

// all returns every check of a complex check, depth first.
func (cc *ComplexCheck) all() []*Check {
	out := append([]*Check(nil), cc.Checks...)
	for _, sub := range cc.ComplexChecks {
		out = append(out, sub.all()...)
	}
	return out
}

// ProfileSummary describes a profile for listings.
type ProfileSummary struct {
	ID    string
	Title string
	// Rules is the number of rules the profile selects.
	Rules int
}

// ProfilesSummary resolves every (non-abstract) profile of the benchmark
// and counts its rules, for "plumb content profiles".
func (b *Benchmark) ProfilesSummary() ([]ProfileSummary, error) {
	var out []ProfileSummary
	for _, p := range b.Profiles {
		if p.Abstract {
			continue
		}
		s, err := b.Resolve(p.ID, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, ProfileSummary{ID: p.ID, Title: p.Title, Rules: len(s.Rules)})
	}
	return out, nil
}
