// Package policy holds Plumb's content model: controls (the atomic checks,
// identified by a stable integer CID), the checks they run, and policies
// (versioned selections of controls with per-policy overrides). Parsed values
// are immutable by convention: the engine reads them and never writes back.
package policy

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Criticality ranks how much a failing control matters, as auditors and the
// Qualys-style scale users already know: minimal (1) .. urgent (5).
type Criticality int

const (
	Minimal  Criticality = 1
	Medium   Criticality = 2
	Serious  Criticality = 3
	Critical Criticality = 4
	Urgent   Criticality = 5
)

var criticalityNames = [...]string{"", "minimal", "medium", "serious", "critical", "urgent"}

func (c Criticality) String() string {
	if c < Minimal || c > Urgent {
		return fmt.Sprintf("criticality(%d)", int(c))
	}
	return criticalityNames[c]
}

// ParseCriticality accepts a name (case-insensitive) or a number 1..5.
func ParseCriticality(s string) (Criticality, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i := Minimal; i <= Urgent; i++ {
		if s == criticalityNames[i] || s == fmt.Sprint(int(i)) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown criticality %q (want minimal, medium, serious, critical or urgent)", s)
}

// MarshalText lets criticality appear by name in JSON and YAML.
func (c Criticality) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText is the inverse of MarshalText.
func (c *Criticality) UnmarshalText(b []byte) error {
	v, err := ParseCriticality(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// UnmarshalJSON takes a name or a number 1..5, as ParseCriticality does,
// whether the number is written as a JSON number or a string.
func (c *Criticality) UnmarshalJSON(b []byte) error {
	s := string(b)
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	return c.UnmarshalText([]byte(s))
}

// Method says how a control's data can be collected.
type Method string

const (
	MethodScanner Method = "scanner" // remotely, by a scanner (or locally by the CLI)
	MethodAgent   Method = "agent"   // only by an agent running on the host
	MethodBoth    Method = "both"
)

// Control is one expected configuration value for one technology.
type Control struct {
	CID          int                 `yaml:"cid" json:"cid"`
	Title        string              `yaml:"title" json:"title"`
	Technologies []string            `yaml:"technologies" json:"technologies"`
	Category     string              `yaml:"category" json:"category"`
	Criticality  Criticality         `yaml:"criticality" json:"criticality"`
	Method       Method              `yaml:"method,omitempty" json:"method,omitempty"`
	Applicable   *Check              `yaml:"applicable,omitempty" json:"applicable,omitempty"`
	Check        Check               `yaml:"check" json:"check"`
	Rationale    string              `yaml:"rationale" json:"rationale"`
	Remediation  string              `yaml:"remediation" json:"remediation"`
	References   map[string][]string `yaml:"references,omitempty" json:"references,omitempty"`

	// Source names the file and line the control was loaded from.
	Source string `yaml:"-" json:"-"`
}

// Policy is a versioned selection of controls for one mandate.
type Policy struct {
	ID          string      `yaml:"id" json:"id"`
	Version     string      `yaml:"version" json:"version"`
	Title       string      `yaml:"title" json:"title"`
	Mandate     string      `yaml:"mandate,omitempty" json:"mandate,omitempty"`
	Description string      `yaml:"description,omitempty" json:"description,omitempty"`
	Extends     []string    `yaml:"extends,omitempty" json:"extends,omitempty"`
	Controls    []Selection `yaml:"controls" json:"controls"`
	// Weights replace the criticality as the weight of this policy's
	// results in the weighted score (1..100 per criticality; a
	// criticality not named keeps its own value). A policy that extends
	// another uses its own weights only.
	Weights map[Criticality]int `yaml:"weights,omitempty" json:"weights,omitempty"`

	Source string `yaml:"-" json:"-"`
}

// MaxWeight bounds a policy's criticality weights.
const MaxWeight = 100

// Weight is the weight of a result of criticality c under p.
func (p *Policy) Weight(c Criticality) int {
	if w, ok := p.Weights[c]; ok {
		return w
	}
	return int(c)
}

// CheckWeights reports the first weight of p outside 1..MaxWeight, naming
// the criticality.
func (p *Policy) CheckWeights() error {
	for c := Minimal; c <= Urgent; c++ {
		if w, ok := p.Weights[c]; ok && (w < 1 || w > MaxWeight) {
			return fmt.Errorf("weights.%s: %d is not a weight from 1 to %d", c, w, MaxWeight)
		}
	}
	for c := range p.Weights {
		if c < Minimal || c > Urgent {
			return fmt.Errorf("weights: %d is not a criticality (1-5)", int(c))
		}
	}
	return nil
}

// Selection picks one control into a policy, optionally overriding its
// criticality and expected value.
type Selection struct {
	CID         int          `yaml:"cid" json:"cid"`
	Criticality *Criticality `yaml:"criticality,omitempty" json:"criticality,omitempty"`
	// Value replaces the expected value of every leaf check of the control
	// that compares against a value.
	Value *string `yaml:"value,omitempty" json:"value,omitempty"`
}

// Rule is a control as a policy sees it: overrides applied.
type Rule struct {
	*Control
	Criticality Criticality
	Check       Check
}

// Rules resolves p (and the policies it extends) against lib into the
// ordered, de-duplicated list of rules with overrides applied. A later
// selection of the same CID overrides an earlier one.
func (p *Policy) Rules(lib *Library) ([]Rule, error) {
	sel, err := lib.selections(p, map[string]bool{})
	if err != nil {
		return nil, err
	}
	rules := make([]Rule, 0, len(sel))
	for _, s := range sel {
		c := lib.Control(s.CID)
		if c == nil {
			return nil, fmt.Errorf("policy %s: control %d is not in the library", p.ID, s.CID)
		}
		r := Rule{Control: c, Criticality: c.Criticality, Check: c.Check}
		if s.Criticality != nil {
			r.Criticality = *s.Criticality
		}
		if s.Value != nil {
			if !c.Check.HasValue() {
				return nil, fmt.Errorf("policy %s: control %d has no expected value to override (its check is %s)", p.ID, s.CID, c.Check.Kind())
			}
			r.Check = c.Check.WithValue(*s.Value)
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// Library is a set of controls and policies, indexed for lookup.
type Library struct {
	controls map[int]*Control
	policies map[string]*Policy
}

// NewLibrary returns an empty library.
func NewLibrary() *Library {
	return &Library{controls: map[int]*Control{}, policies: map[string]*Policy{}}
}

// Control returns the control with the given CID, or nil.
func (l *Library) Control(cid int) *Control { return l.controls[cid] }

// Policy returns the policy with the given ID, or nil.
func (l *Library) Policy(id string) *Policy { return l.policies[id] }

// Controls returns all controls ordered by CID.
func (l *Library) Controls() []*Control {
	out := make([]*Control, 0, len(l.controls))
	for _, c := range l.controls {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CID < out[j].CID })
	return out
}

// Policies returns all policies ordered by ID.
func (l *Library) Policies() []*Policy {
	out := make([]*Policy, 0, len(l.policies))
	for _, p := range l.policies {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Add merges controls and policies into the library. Duplicate CIDs or
// policy IDs are errors naming both sources; on error nothing is added.
func (l *Library) Add(controls []*Control, policies []*Policy) error {
	for i, c := range controls {
		if old := l.controls[c.CID]; old != nil {
			return fmt.Errorf("%s: duplicate cid %d (first defined at %s)", c.Source, c.CID, old.Source)
		}
		for _, d := range controls[:i] {
			if d.CID == c.CID {
				return fmt.Errorf("%s: duplicate cid %d (first defined at %s)", c.Source, c.CID, d.Source)
			}
		}
	}
	for i, p := range policies {
		if old := l.policies[p.ID]; old != nil {
			return fmt.Errorf("%s: duplicate policy id %q (first defined at %s)", p.Source, p.ID, old.Source)
		}
		for _, d := range policies[:i] {
			if d.ID == p.ID {
				return fmt.Errorf("%s: duplicate policy id %q (first defined at %s)", p.Source, p.ID, d.Source)
			}
		}
	}
	for _, c := range controls {
		l.controls[c.CID] = c
	}
	for _, p := range policies {
		l.policies[p.ID] = p
	}
	return nil
}

// Check validates cross references: every policy's controls and extended
// policies exist and extends has no cycle.
func (l *Library) Check() error {
	var errs []string
	for _, p := range l.Policies() {
		if _, err := p.Rules(l); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", p.Source, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

func (l *Library) selections(p *Policy, seen map[string]bool) ([]Selection, error) {
	if seen[p.ID] {
		return nil, fmt.Errorf("policy %s: extends cycle", p.ID)
	}
	seen[p.ID] = true
	defer delete(seen, p.ID)
	var out []Selection
	index := map[int]int{}
	add := func(s Selection) {
		if i, ok := index[s.CID]; ok {
			out[i] = s
			return
		}
		index[s.CID] = len(out)
		out = append(out, s)
	}
	for _, id := range p.Extends {
		base := l.policies[id]
		if base == nil {
			return nil, fmt.Errorf("policy %s: extends unknown policy %q", p.ID, id)
		}
		sel, err := l.selections(base, seen)
		if err != nil {
			return nil, err
		}
		for _, s := range sel {
			add(s)
		}
	}
	for _, s := range p.Controls {
		add(s)
	}
	return out, nil
}
