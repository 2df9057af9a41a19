// Package xccdf reads XCCDF 1.2 benchmarks and tailoring files and
// resolves a profile into the list of rules to check, with the values
// each rule's checks import, following the processing model of XCCDF 1.2
// (NIST IR 7275r4) section 7: profile selectors applied in document order
// over the extends chain, group deselection hiding descendants,
// requires/conflicts, refine-rule and refine-value selectors, and check
// selection by selector. For every profile of the SSG 0.1.65 data streams
// the selected rules and resolved values are those of oscap 1.3.7 (the
// tests check them).
//
// Text properties (titles, descriptions, rationales, fix texts) are
// returned as plain text: XHTML markup is reduced to readable text with
// line breaks and list bullets, and xccdf:sub substitutions are replaced
// by the referenced Value's default value (or plain-text).
//
// Rules map to Plumb controls through CID (a stable integer derived from
// the rule id), Criticality (from the XCCDF severity) and Mandate (short
// mandate names for the hrefs of SSG's references).
//
// A parsed Benchmark is never modified afterwards: Resolve may be called
// concurrently, for any number of profiles.
package xccdf

import "github.com/plumbhq/plumb/scap/cpe"

// Item is a Group, Rule or Value: a member of a benchmark's item tree.
type Item interface {
	ItemID() string
	// ItemParent returns the enclosing group, or nil at the top level.
	ItemParent() *Group
}

// Benchmark is an XCCDF 1.2 Benchmark.
type Benchmark struct {
	ID          string
	Title       string
	Description string
	Version     string
	Status      string
	// Resolved is the benchmark's resolved attribute: SSG benchmarks are
	// resolved (no item extension left to apply).
	Resolved bool
	Lang     string
	// Platforms are the idrefs of the benchmark's platform elements: CPE
	// names, or "#id" of a Platform of PlatformSpecification.
	Platforms []string
	// PlatformSpecification holds the cpe-lang platforms by id.
	PlatformSpecification map[string]*cpe.Platform
	References            []Reference
	Profiles              []*Profile
	// Items is the top level of the item tree in document order.
	Items []Item
	// Groups, Rules and Values list every item of the tree in document
	// order.
	Groups []*Group
	Rules  []*Rule
	Values []*Value
	// PlainTexts holds the plain-text elements by id (targets of sub).
	PlainTexts map[string]string

	groups   map[string]*Group
	rules    map[string]*Rule
	values   map[string]*Value
	profiles map[string]*Profile
	clusters map[string][]Item
	cids     map[string]int
}

// Rule returns the rule called id.
func (b *Benchmark) Rule(id string) (*Rule, bool) { r, ok := b.rules[id]; return r, ok }

// Group returns the group called id.
func (b *Benchmark) Group(id string) (*Group, bool) { g, ok := b.groups[id]; return g, ok }

// Value returns the value called id.
func (b *Benchmark) Value(id string) (*Value, bool) { v, ok := b.values[id]; return v, ok }

// Profile returns the profile called id.
func (b *Benchmark) Profile(id string) (*Profile, bool) { p, ok := b.profiles[id]; return p, ok }

// Group is an XCCDF Group.
type Group struct {
	ID          string
	Parent      *Group
	Title       string
	Description string
	Rationale   string
	Selected    bool
	Hidden      bool
	Abstract    bool
	ClusterID   string
	Weight      float64
	Platforms   []string
	References  []Reference
	Warnings    []Warning
	// Requires lists the requires elements: each is a list of item ids of
	// which at least one must be selected.
	Requires [][]string
	// Conflicts lists item ids that must not be selected.
	Conflicts []string
	Items     []Item
}

func (g *Group) ItemID() string     { return g.ID }
func (g *Group) ItemParent() *Group { return g.Parent }

// Rule is an XCCDF Rule.
type Rule struct {
	ID          string
	Parent      *Group
	Selected    bool
	Severity    string // unknown (the default), info, low, medium, high
	Role        string // full (the default), unscored, unchecked
	Weight      float64
	Hidden      bool
	Abstract    bool
	Multiple    bool
	ClusterID   string
	Title       string
	Description string
	Rationale   string
	Warnings    []Warning
	Idents      []Ident
	References  []Reference
	Platforms   []string
	Requires    [][]string
	Conflicts   []string
	FixTexts    []FixText
	Fixes       []Fix
	// Checks are all the rule's check elements, whatever their selector;
	// Selection narrows them to the ones a profile uses.
	Checks []*Check
	// ComplexCheck, when set, replaces Checks (XCCDF 1.2 section 7.2.3.5).
	ComplexCheck *ComplexCheck
}

func (r *Rule) ItemID() string     { return r.ID }
func (r *Rule) ItemParent() *Group { return r.Parent }

// Value is an XCCDF Value: a named, tailorable value that checks import.
type Value struct {
	ID          string
	Parent      *Group
	Title       string
	Description string
	Type        string // string (the default), number, boolean
	Operator    string // equals (the default), not equal, greater than, ..., pattern match
	Interactive bool
	Hidden      bool
	ClusterID   string
	// Values are the value elements in document order; the one with an
	// empty Selector is the default.
	Values []SelString
	// ComplexValues are the complex-value elements (lists of items).
	ComplexValues []SelList
	Defaults      []SelString
	LowerBounds   []SelString
	UpperBounds   []SelString
	Matches       []SelString
	Choices       []Choices
}

func (v *Value) ItemID() string     { return v.ID }
func (v *Value) ItemParent() *Group { return v.Parent }

// Lookup returns the value for selector, falling back to the default
// when no value has that selector, as XCCDF 1.2 section 7.2.3.4
// prescribes. The default is the value without a selector or, when every
// value has one, the first (section 6.4.5.5). found is false only for a
// Value without any value element.
func (v *Value) Lookup(selector string) (value string, usedSelector string, found bool) {
	if selector != "" {
		for _, s := range v.Values {
			if s.Selector == selector {
				return s.Value, selector, true
			}
		}
	}
	for _, s := range v.Values {
		if s.Selector == "" {
			return s.Value, "", true
		}
	}
	if len(v.Values) > 0 {
		return v.Values[0].Value, v.Values[0].Selector, true
	}
	return "", "", false
}

// SelString is a string with the selector it is chosen by.
type SelString struct {
	Selector string
	Value    string
}

// SelList is a list of strings with the selector it is chosen by.
type SelList struct {
	Selector string
	Items    []string
}

// Choices is a choices element: suggested (or, with MustMatch, the only
// legal) values.
type Choices struct {
	Selector  string
	MustMatch bool
	Items     []string
}

// Reference is a reference element: SSG gives each mandate's section or
// requirement id as Text with an Href that identifies the mandate (see
// Mandate).
type Reference struct {
	Href string
	Text string
}

// Ident is an ident element: a CCE, CVE, ... identifier of the rule.
type Ident struct {
	System string
	Value  string
}

// Warning is a warning element.
type Warning struct {
	Category string
	Text     string
}

// FixText is a fixtext element: remediation instructions for people.
type FixText struct {
	FixRef     string
	Reboot     bool
	Strategy   string
	Disruption string
	Complexity string
	Text       string
}

// Fix is a fix element: a remediation script. Subs in the script are
// replaced by the default value of the Value they name; SubIDs lists those
// Values so that a caller can substitute a profile's values instead.
type Fix struct {
	ID         string
	System     string // urn:xccdf:fix:script:sh, ...:ansible, ...
	Platform   string
	Reboot     bool
	Strategy   string
	Disruption string
	Complexity string
	Text       string
	SubIDs     []string
}

// Check is a check element.
type Check struct {
	System   string
	ID       string
	Selector string
	// MultiCheck asks for one result per matching object rather than one
	// for the whole check.
	MultiCheck bool
	Negate     bool
	Imports    []CheckImport
	Exports    []CheckExport
	// ContentRefs are alternatives, to be tried in order.
	ContentRefs []ContentRef
	// HasContent is set when the check carries inline check-content
	// (which this package does not interpret).
	HasContent bool
}

// CheckExport passes the Value ValueID to the checking engine under
// ExportName (an OVAL external variable id, for OVAL).
type CheckExport struct {
	ValueID    string
	ExportName string
}

// CheckImport asks the checking engine for a value to record in results.
type CheckImport struct {
	ImportName  string
	ImportXPath string
}

// ContentRef is a check-content-ref: Name (an OVAL definition id, ...) in
// the document Href designates; an empty Name means the whole document.
type ContentRef struct {
	Href string
	Name string
}

// ComplexCheck combines checks with AND or OR, optionally negated.
type ComplexCheck struct {
	Operator      string // AND or OR
	Negate        bool
	Checks        []*Check
	ComplexChecks []*ComplexCheck
}

// Profile is an XCCDF Profile (of a benchmark or of a tailoring).
type Profile struct {
	ID          string
	Title       string
	Description string
	Extends     string
	Abstract    bool
	Platforms   []string
	// Selectors are the profile's own select, set-value,
	// set-complex-value, refine-value and refine-rule elements in
	// document order; the order matters, later ones win.
	Selectors []Selector
}

// SelectorKind names a profile selector element.
type SelectorKind string

const (
	Select          SelectorKind = "select"
	SetValue        SelectorKind = "set-value"
	SetComplexValue SelectorKind = "set-complex-value"
	RefineValue     SelectorKind = "refine-value"
	RefineRule      SelectorKind = "refine-rule"
)

// Selector is one profile selector. IDRef names an item or a cluster.
type Selector struct {
	Kind  SelectorKind
	IDRef string
	// Selected is select's selected attribute.
	Selected bool
	// Value is set-value's content; Items set-complex-value's.
	Value string
	Items []string
	// Selector is refine-value's or refine-rule's selector.
	Selector string
	// Operator is refine-value's operator ("" keeps the Value's).
	Operator string
	// Severity, Role and Weight are refine-rule's ("" / nil keep the
	// rule's).
	Severity string
	Role     string
	Weight   *float64
}

// Tailoring is an XCCDF 1.2 Tailoring document: profiles that adjust a
// benchmark's, as SCAP Workbench and autotailor write them.
type Tailoring struct {
	ID string
	// BenchmarkHref is the benchmark element's href (the data stream or
	// benchmark file the tailoring was made for); BenchmarkID its id.
	BenchmarkHref string
	BenchmarkID   string
	Version       string
	VersionTime   string
	Profiles      []*Profile
}

// Profile returns the tailoring profile called id.
func (t *Tailoring) Profile(id string) (*Profile, bool) {
	for _, p := range t.Profiles {
		if p.ID == id {
			return p, true
		}
	}
	return nil, false
}
