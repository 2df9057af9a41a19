package library

import (
	"slices"
	"strings"
	"testing"

	"github.com/plumbhq/plumb/policy"
)

func load(t *testing.T) *policy.Library {
	t.Helper()
	lib, err := Load()
	if err != nil {
		t.Fatalf("built-in library: %v", err)
	}
	return lib
}

func TestLoad(t *testing.T) {
	a, b := load(t), load(t)
	if a == b {
		t.Error("Load returned the same library twice")
	}
}

func TestControls(t *testing.T) {
	lib := load(t)
	controls := lib.Controls()
	if len(controls) < 120 {
		t.Errorf("%d built-in controls, want at least 120", len(controls))
	}
	for _, c := range controls {
		var missing []string
		for field, v := range map[string]string{"title": c.Title, "category": c.Category, "rationale": c.Rationale, "remediation": c.Remediation} {
			if strings.TrimSpace(v) == "" {
				missing = append(missing, field)
			}
		}
		if len(c.Technologies) == 0 {
			missing = append(missing, "technologies")
		}
		refs := 0
		for _, r := range c.References {
			refs += len(r)
		}
		if refs == 0 {
			missing = append(missing, "references")
		}
		if len(missing) > 0 {
			slices.Sort(missing)
			t.Errorf("%s: control %d has no %s", c.Source, c.CID, strings.Join(missing, ", "))
		}
		if c.Criticality < policy.Minimal || c.Criticality > policy.Urgent {
			t.Errorf("%s: control %d: criticality %d out of 1..5", c.Source, c.CID, c.Criticality)
		}
		if c.CID < 1000 || c.CID > 99999 {
			t.Errorf("%s: control %d: built-in CIDs are 1000-99999", c.Source, c.CID)
		}
		if !strings.HasPrefix(c.Source, "library/") {
			t.Errorf("control %d: source %q", c.CID, c.Source)
		}
	}
}

func TestTechnologyCoverage(t *testing.T) {
	lib := load(t)
	for _, tech := range append(slices.Clone(policy.DebianFamily), policy.RHELFamily...) {
		n := 0
		for _, c := range lib.Controls() {
			if c.Supports(tech) {
				n++
			}
		}
		if n < 100 {
			t.Errorf("%s: %d controls support it, want at least 100", tech, n)
		}
	}
}

func TestPolicies(t *testing.T) {
	lib := load(t)
	if lib.Policy(DefaultPolicy) == nil {
		t.Errorf("default policy %s does not exist", DefaultPolicy)
	}
	for _, id := range []string{"plumb-linux-l1", "plumb-linux-l2", "plumb-linux-stig", "plumb-pci-dss-4"} {
		if lib.Policy(id) == nil {
			t.Errorf("policy %s does not exist", id)
		}
	}
	for _, p := range lib.Policies() {
		rules, err := p.Rules(lib)
		if err != nil {
			t.Errorf("%s: %v", p.Source, err)
			continue
		}
		if len(rules) == 0 {
			t.Errorf("%s: policy %s has no rules", p.Source, p.ID)
		}
		if p.Version == "" || p.Title == "" {
			t.Errorf("%s: policy %s needs a version and a title", p.Source, p.ID)
		}
	}
}
