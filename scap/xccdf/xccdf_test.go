package xccdf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/scap/ds"
)

const (
	rulePrefix    = "xccdf_org.example_rule_"
	valuePrefix   = "xccdf_org.example_value_"
	profilePrefix = "xccdf_org.example_profile_"
)

func parseFile(t testing.TB, name string) *Benchmark {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseTailoringFile(t *testing.T, name string) *Tailoring {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tl, err := ParseTailoring(f)
	if err != nil {
		t.Fatal(err)
	}
	return tl
}

func TestParseBenchmark(t *testing.T) {
	b := parseFile(t, "benchmark.xml")
	if b.ID != "xccdf_org.example_benchmark_test" || b.Title != "Example benchmark" || b.Version != "2.5" ||
		b.Status != "draft" || !b.Resolved || b.Lang != "en-US" {
		t.Errorf("benchmark %q %q %q %q %v %q", b.ID, b.Title, b.Version, b.Status, b.Resolved, b.Lang)
	}
	if b.Description != "Hardening guide for the example OS.\nSecond line." {
		t.Errorf("description %q", b.Description)
	}
	if !reflect.DeepEqual(b.Platforms, []string{"cpe:/o:example:os:1", "cpe:/o:example:os:2"}) {
		t.Errorf("platforms %v", b.Platforms)
	}
	if len(b.Profiles) != 11 || len(b.Rules) != 10 || len(b.Groups) != 3 || len(b.Values) != 4 || len(b.Items) != 12 {
		t.Errorf("%d profiles, %d rules, %d groups, %d values, %d top items", len(b.Profiles), len(b.Rules), len(b.Groups), len(b.Values), len(b.Items))
	}

	// Platform specification: nested logical tests.
	p := b.PlatformSpecification["sshd_not_container"]
	if p == nil || p.Test.Operator != "AND" || p.Test.Negate || len(p.Test.Tests) != 1 ||
		!reflect.DeepEqual(p.Test.FactRefs, []string{"cpe:/a:openssh-server"}) {
		t.Fatalf("platform %+v", p)
	}
	if sub := p.Test.Tests[0]; sub.Operator != "OR" || !sub.Negate || !reflect.DeepEqual(sub.FactRefs, []string{"cpe:/a:container", "cpe:/a:chroot"}) {
		t.Errorf("nested test %+v", sub)
	}

	r, ok := b.Rule(rulePrefix + "ssh_timeout")
	if !ok {
		t.Fatal("no ssh_timeout rule")
	}
	if r.Selected || r.Severity != "medium" || r.Role != "full" || r.Weight != 1 || r.ClusterID != "net" ||
		r.Parent == nil || r.Parent.ID != "xccdf_org.example_group_ssh" || r.Parent.Parent.ID != "xccdf_org.example_group_services" {
		t.Errorf("rule attributes %+v", r)
	}
	if r.Title != "Set the SSH idle timeout" ||
		r.Description != "Set ClientAliveInterval to 300 seconds." ||
		r.Rationale != "Idle sessions can be hijacked." {
		t.Errorf("texts %q / %q / %q", r.Title, r.Description, r.Rationale)
	}
	if len(r.References) != 4 || r.References[0] != (Reference{Href: "http://nvlpubs.nist.gov/nistpubs/SpecialPublications/NIST.SP.800-53r4.pdf", Text: "AC-12"}) {
		t.Errorf("references %+v", r.References)
	}
	if !reflect.DeepEqual(r.Idents, []Ident{{System: "https://nvd.nist.gov/cce/index.cfm", Value: "CCE-00001-1"}}) {
		t.Errorf("idents %+v", r.Idents)
	}
	if len(r.FixTexts) != 1 || r.FixTexts[0].Text != "Edit /etc/ssh/sshd_config." || r.FixTexts[0].FixRef != "f_timeout" {
		t.Errorf("fixtexts %+v", r.FixTexts)
	}
	wantFix := "timeout='300'\nsed -i \"s/^ClientAliveInterval.*/ClientAliveInterval $timeout/\" /etc/ssh/sshd_config"
	if len(r.Fixes) != 1 || r.Fixes[0].Text != wantFix || r.Fixes[0].System != "urn:xccdf:fix:script:sh" ||
		r.Fixes[0].Strategy != "restrict" || !reflect.DeepEqual(r.Fixes[0].SubIDs, []string{valuePrefix + "timeout"}) {
		t.Errorf("fixes %+v", r.Fixes)
	}
	if len(r.Checks) != 2 {
		t.Fatalf("%d checks", len(r.Checks))
	}
	c := r.Checks[0]
	if c.System != "http://oval.mitre.org/XMLSchema/oval-definitions-5" ||
		!reflect.DeepEqual(c.Exports, []CheckExport{{valuePrefix + "timeout", "oval:org.example:var:1"}, {valuePrefix + "banner", "oval:org.example:var:2"}}) ||
		!reflect.DeepEqual(c.ContentRefs, []ContentRef{{"example-oval.xml", "oval:org.example:def:1"}}) {
		t.Errorf("check %+v", c)
	}

	v, _ := b.Value(valuePrefix + "timeout")
	if v.Type != "number" || v.Operator != "less than or equal" || !v.Interactive || len(v.Values) != 4 ||
		v.Values[2] != (SelString{"10_minutes", "600"}) || len(v.LowerBounds) != 1 || len(v.Choices) != 1 || len(v.Choices[0].Items) != 2 {
		t.Errorf("value %+v", v)
	}
	if s, sel, ok := v.Lookup("nope"); s != "300" || sel != "" || !ok {
		t.Errorf("Lookup(nope) = %q %q %v", s, sel, ok)
	}
	// All values have selectors: the first is the default.
	proto, _ := b.Value(valuePrefix + "proto")
	if s, sel, ok := proto.Lookup(""); s != "2" || sel != "a" || !ok {
		t.Errorf("proto default = %q %q %v", s, sel, ok)
	}

	cr, _ := b.Rule(rulePrefix + "complex")
	cc := cr.ComplexCheck
	if cc == nil || cc.Operator != "OR" || !cc.Negate || len(cc.Checks) != 1 || len(cc.ComplexChecks) != 1 ||
		cc.ComplexChecks[0].Operator != "AND" || !cc.ComplexChecks[0].Checks[0].Negate {
		t.Errorf("complex check %+v", cc)
	}
	chk, _ := b.Rule(rulePrefix + "checks")
	if !chk.Checks[1].MultiCheck || len(chk.Checks[1].ContentRefs) != 2 || chk.Checks[0].Selector != "strict" {
		t.Errorf("checks %+v %+v", chk.Checks[0], chk.Checks[1])
	}
	needs, _ := b.Rule(rulePrefix + "needs_root")
	if !reflect.DeepEqual(needs.Requires, [][]string{{rulePrefix + "ssh_root", rulePrefix + "telnet"}}) {
		t.Errorf("requires %v", needs.Requires)
	}
	child, _ := b.Profile(profilePrefix + "child")
	if child.Extends != profilePrefix+"base" || len(child.Selectors) != 3 || child.Selectors[2].Kind != RefineRule ||
		*child.Selectors[2].Weight != 2.5 || child.Selectors[2].Role != "unscored" {
		t.Errorf("child profile %+v", child)
	}
	base, _ := b.Profile(profilePrefix + "base")
	if base.Selectors[2].Kind != SetValue || base.Selectors[2].Value != "Hello, operator" {
		t.Errorf("set-value %+v", base.Selectors[2])
	}
}

// TestHTMLText checks the XHTML to plain text rendering.
func TestHTMLText(t *testing.T) {
	b := parseFile(t, "benchmark.xml")
	r, _ := b.Rule(rulePrefix + "checks")
	want := "First paragraph continues.\n\n" +
		"- one\n- two docs <https://example.org/doc>\n\n" +
		"$ sudo  run --this\n$ exit\n\n" +
		"By Example Org, title SSH idle timeout."
	if r.Description != want {
		t.Errorf("got\n%q\nwant\n%q", r.Description, want)
	}
	for _, tt := range []struct{ in, want string }{
		{`a<h:br/><h:br/>b`, "a\n\nb"},
		{`<h:ol><h:li>x</h:li><h:li>y<h:ul><h:li>z</h:li></h:ul></h:li></h:ol>`, "1. x\n2. y\n\n  - z"},
		{`  lots   of
		  space  `, "lots of space"},
		{`<h:a href="https://x.example/">https://x.example/</h:a>`, "https://x.example/"},
		{`x <h:code>y</h:code>, z`, "x y, z"},
	} {
		doc := `<Rule xmlns="http://checklists.nist.gov/xccdf/1.2" xmlns:h="http://www.w3.org/1999/xhtml"><description>` + tt.in + `</description></Rule>`
		d := ds.NewDecoder(strings.NewReader(doc), "")
		d.Token()
		d.Token()
		got, _, err := readText(d, modeHTML)
		if err != nil || got != tt.want {
			t.Errorf("%q: got %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func ruleIDs(s *Selection) []string {
	var out []string
	for _, r := range s.Rules {
		out = append(out, strings.TrimPrefix(r.Rule.ID, rulePrefix))
	}
	return out
}

func TestResolveProfiles(t *testing.T) {
	b := parseFile(t, "benchmark.xml")
	tests := []struct {
		profile    string
		rules      string // selected rules, document order
		deselected string
		timeout    string // effective values
		banner     string
		proto      string
		ciphers    string
		warnings   int
	}{
		// The selections below are the ones "oscap xccdf generate fix" makes
		// of this file, less the rules requires/conflicts deselect (which
		// oscap applies when evaluating only).
		{"", "ssh_root checks complex", "", "300", "Authorized use only", "2", "aes256-ctr", 0},
		{"base", "ssh_timeout ssh_root checks complex", "", "600", "Hello, operator", "2", "aes256-ctr", 0},
		{"child", "ssh_timeout checks complex", "", "900", "Hello, operator", "2", "aes256-ctr", 0},
		// set-value, then a refine-value with an unknown selector replaces
		// the banner's set-value: its default applies.
		{"grandchild", "ssh_timeout checks complex", "", "42", "Authorized use only", "2", "aes256-ctr", 1},
		// Selecting a group lets its rules be processed; the deselected rsh
		// stays deselected.
		{"legacy_on", "ssh_root telnet checks complex", "", "300", "Authorized use only", "2", "aes256-ctr", 0},
		// A deselected group hides its rules, even selected ones.
		{"services_off", "checks complex", "", "300", "Authorized use only", "2", "aes256-ctr", 0},
		// Cluster "net": select affects its rule, refine-value its values
		// (ciphers has no selector "a"), and an unknown idref warns.
		{"cluster", "ssh_root checks complex", "", "300", "Authorized use only", "2", "aes256-ctr", 2},
		{"conflict", "ssh_root checks complex needs_root needs_later", "hates_root later", "300", "Authorized use only", "2", "aes256-ctr", 0},
		{AllProfile, "ssh_timeout ssh_root telnet rsh checks complex needs_root needs_later later", "hates_root", "300", "Authorized use only", "2", "aes256-ctr", 0},
	}
	for _, tt := range tests {
		id := tt.profile
		if id != "" && id != AllProfile {
			id = profilePrefix + id
		}
		s, err := b.Resolve(id, nil)
		if err != nil {
			t.Errorf("%s: %v", tt.profile, err)
			continue
		}
		if got := strings.Join(ruleIDs(s), " "); got != tt.rules {
			t.Errorf("%s: rules %q, want %q", tt.profile, got, tt.rules)
		}
		var des []string
		for _, d := range s.Deselected {
			des = append(des, strings.TrimPrefix(d.ID, rulePrefix))
		}
		if got := strings.Join(des, " "); got != tt.deselected {
			t.Errorf("%s: deselected %q, want %q", tt.profile, got, tt.deselected)
		}
		for name, want := range map[string]string{"timeout": tt.timeout, "banner": tt.banner, "proto": tt.proto, "ciphers": tt.ciphers} {
			if rv := s.Values[valuePrefix+name]; rv == nil || !rv.Found || rv.Selected != want {
				t.Errorf("%s: value %s = %+v, want %q", tt.profile, name, rv, want)
			}
		}
		if len(s.Warnings) != tt.warnings {
			t.Errorf("%s: warnings %q, want %d", tt.profile, s.Warnings, tt.warnings)
		}
	}
}

func TestResolveSources(t *testing.T) {
	b := parseFile(t, "benchmark.xml")
	s, _ := b.Resolve(profilePrefix+"grandchild", nil)
	if rv := s.Values[valuePrefix+"timeout"]; rv.Source != "set-value" || rv.Operator != "less than or equal" {
		t.Errorf("timeout %+v", rv)
	}
	s, _ = b.Resolve(profilePrefix+"child", nil)
	if rv := s.Values[valuePrefix+"timeout"]; rv.Source != "refine-value" || rv.Selector != "15_minutes" {
		t.Errorf("timeout %+v", rv)
	}
	s, _ = b.Resolve(profilePrefix+"cluster", nil)
	if rv := s.Values[valuePrefix+"proto"]; rv.Source != "refine-value" || rv.Selector != "a" {
		t.Errorf("proto %+v", rv)
	}
}

func TestResolveErrors(t *testing.T) {
	b := parseFile(t, "benchmark.xml")
	for _, tt := range []struct{ profile, want string }{
		{"abstract", "abstract"},
		{"cycle_a", "cycle"},
		{"orphan", "extends \"xccdf_org.example_profile_missing\""},
		{"nope", "no profile"},
	} {
		_, err := b.Resolve(profilePrefix+tt.profile, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error about %q", tt.profile, err, tt.want)
		}
	}
}

// TestRefineRule checks refine-rule's severity, role, weight and check
// selector, and the exports of the checks it selects.
func TestRefineRule(t *testing.T) {
	b := parseFile(t, "benchmark.xml")
	get := func(s *Selection, id string) *SelectedRule {
		for _, r := range s.Rules {
			if r.Rule.ID == rulePrefix+id {
				return r
			}
		}
		t.Fatalf("%s not selected", id)
		return nil
	}
	def, _ := b.Resolve("", nil)
	r := get(def, "checks")
	if r.Severity != "info" || r.Criticality != policy.Minimal || len(r.Checks) != 1 || r.Checks[0].Selector != "" || len(r.Exports) != 0 {
		t.Errorf("default: %+v", r)
	}
	child, _ := b.Resolve(profilePrefix+"child", nil)
	r = get(child, "checks")
	if r.Severity != "low" || r.Criticality != policy.Medium || r.Role != "unscored" || r.Weight != 2.5 ||
		len(r.Checks) != 1 || r.Checks[0].Selector != "strict" {
		t.Errorf("child: %+v", r)
	}
	if !reflect.DeepEqual(r.Exports, []Export{{ValueID: valuePrefix + "proto", ExportName: "oval:org.example:var:3",
		Value: "2", Type: "string", Operator: "equals", Found: true}}) {
		t.Errorf("exports %+v", r.Exports)
	}
	// A complex check replaces the checks; its exports count.
	r = get(child, "complex")
	if r.ComplexCheck == nil || r.Checks != nil || len(r.Exports) != 1 || r.Exports[0].Value != "aes256-ctr" || r.Exports[0].Operator != "pattern match" {
		t.Errorf("complex: %+v", r)
	}
	if r.CID != CID(rulePrefix+"complex") {
		t.Errorf("CID %d", r.CID)
	}
}

func TestCheckExport(t *testing.T) {
	b := parseFile(t, "benchmark.xml")
	s, _ := b.Resolve(profilePrefix+"base", nil)
	r := s.Rules[0]
	if r.Rule.ID != rulePrefix+"ssh_timeout" || len(r.Checks) != 2 {
		t.Fatalf("%+v", r)
	}
	want := []Export{
		{ValueID: valuePrefix + "timeout", ExportName: "oval:org.example:var:1", Value: "600", Type: "number", Operator: "less than or equal", Found: true},
		{ValueID: valuePrefix + "banner", ExportName: "oval:org.example:var:2", Value: "Hello, operator", Type: "string", Operator: "equals", Found: true},
	}
	if !reflect.DeepEqual(r.Exports, want) {
		t.Errorf("exports\n%+v\nwant\n%+v", r.Exports, want)
	}
}

func TestPlatformInheritance(t *testing.T) {
	b := parseFile(t, "benchmark.xml")
	s, _ := b.Resolve(profilePrefix+"base", nil)
	want := map[string][]PlatformSet{
		"ssh_timeout": {
			{From: "xccdf_org.example_benchmark_test", IDRefs: []string{"cpe:/o:example:os:1", "cpe:/o:example:os:2"}},
			{From: "xccdf_org.example_group_services", IDRefs: []string{"#machine"}},
			{From: "xccdf_org.example_group_ssh", IDRefs: []string{"#sshd_not_container", "cpe:/a:dropbear"}},
		},
		"ssh_root": {
			{From: "xccdf_org.example_benchmark_test", IDRefs: []string{"cpe:/o:example:os:1", "cpe:/o:example:os:2"}},
			{From: "xccdf_org.example_group_services", IDRefs: []string{"#machine"}},
			{From: "xccdf_org.example_group_ssh", IDRefs: []string{"#sshd_not_container", "cpe:/a:dropbear"}},
			{From: rulePrefix + "ssh_root", IDRefs: []string{"#machine"}},
		},
		"checks": {
			{From: "xccdf_org.example_benchmark_test", IDRefs: []string{"cpe:/o:example:os:1", "cpe:/o:example:os:2"}},
		},
	}
	for _, r := range s.Rules {
		id := strings.TrimPrefix(r.Rule.ID, rulePrefix)
		if w, ok := want[id]; ok && !reflect.DeepEqual(r.Platforms, w) {
			t.Errorf("%s: platforms\n%+v\nwant\n%+v", id, r.Platforms, w)
		}
	}
}

func TestTailoring(t *testing.T) {
	b := parseFile(t, "benchmark.xml")
	tl := parseTailoringFile(t, "tailoring.xml")
	if tl.ID != "xccdf_scap-workbench_tailoring_default" || tl.BenchmarkHref != "/usr/share/example/example-ds.xml" ||
		tl.BenchmarkID != "xccdf_org.example_benchmark_test" || tl.Version != "1" || tl.VersionTime != "2024-02-03T04:05:06" ||
		len(tl.Profiles) != 2 || tl.Profiles[0].Title != "Child [CUSTOMIZED]" {
		t.Fatalf("tailoring %+v", tl)
	}
	s, err := b.Resolve(profilePrefix+"child_customized", tl)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ruleIDs(s), " "); got != "ssh_timeout ssh_root complex" || !s.Tailored || s.Profile != tl.Profiles[0] {
		t.Errorf("rules %q tailored %v", got, s.Tailored)
	}
	if s.Values[valuePrefix+"timeout"].Selected != "300" || s.Values[valuePrefix+"banner"].Selected != "Tailored banner" {
		t.Errorf("values %+v %+v", s.Values[valuePrefix+"timeout"], s.Values[valuePrefix+"banner"])
	}
	if r := s.Rules[1]; r.Severity != "medium" || r.Weight != 3 || r.Criticality != policy.Serious {
		t.Errorf("refined rule %+v", r)
	}
	// A tailoring profile with the id of the benchmark profile it extends
	// shadows it.
	s, err = b.Resolve(profilePrefix+"base", tl)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ruleIDs(s), " "); got != "ssh_root checks complex" || s.Values[valuePrefix+"timeout"].Selected != "600" {
		t.Errorf("shadowed base: %q", got)
	}
	// Benchmark profiles stay reachable through a tailoring.
	if s, err = b.Resolve(profilePrefix+"child", tl); err != nil || s.Tailored {
		t.Errorf("child through the tailoring: %v", err)
	}
	// A tailoring profile must extend a benchmark profile.
	bad := &Tailoring{Profiles: []*Profile{{ID: "t", Extends: "xccdf_org.example_profile_child_customized"}}}
	if _, err := b.Resolve("t", bad); err == nil || !strings.Contains(err.Error(), "not a profile") {
		t.Errorf("tailoring extending a tailoring profile: %v", err)
	}
	// One tailoring profile: "" means it.
	one := &Tailoring{Profiles: tl.Profiles[:1]}
	if s, err = b.Resolve("", one); err != nil || s.ProfileID != tl.Profiles[0].ID {
		t.Errorf("single-profile tailoring: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "benchmark.xml"))
	if err != nil {
		t.Fatal(err)
	}
	// Truncated anywhere: an error, never a panic or a partial result.
	for n := 0; n < len(data)-12; n += 97 {
		if _, err := Parse(bytes.NewReader(data[:n])); err == nil {
			t.Fatalf("cut at %d parsed", n)
		}
	}
	for _, tt := range []struct{ doc, want string }{
		{`<!DOCTYPE x [<!ENTITY a "b">]><Benchmark xmlns="http://checklists.nist.gov/xccdf/1.2" id="b"/>`, "DOCTYPE"},
		{`<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.1" id="b"/>`, "XCCDF 1.1 is not supported"},
		{`<Tailoring xmlns="http://checklists.nist.gov/xccdf/1.2" id="b"/>`, "not a Benchmark"},
		{`<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.2"/>`, "without an id"},
		{`<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.2" id="b"><Rule id="r" severity="dire"/></Benchmark>`, "severity"},
		{`<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.2" id="b"><Rule id="r"/><Group id="r"/></Benchmark>`, "duplicate item id"},
		{`<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.2" id="b"><Rule id="r" selected="maybe"/></Benchmark>`, "not a boolean"},
		{`<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.2" id="b"><Rule id="r" extends="q"/></Benchmark>`, "item extension"},
		{`<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.2" id="b"><Rule id="r"><complex-check operator="XOR"/></Rule></Benchmark>`, "complex-check operator"},
		{`<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.2" id="b"><Profile id="p"><select idref="r"/></Profile></Benchmark>`, "without a selected attribute"},
		{`<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.2" id="b"><Value id="v"><value><b/></value></Value></Benchmark>`, "unexpected element"},
	} {
		_, err := Parse(strings.NewReader(tt.doc))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.doc, err, tt.want)
		}
	}
	// Entity bombs are refused before anything is expanded.
	bomb, err := os.ReadFile(filepath.Join("..", "ds", "testdata", "entity-bomb.xml"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := Parse(bytes.NewReader(bomb)); !errors.Is(err, ds.ErrDTD) || time.Since(start) > time.Second {
		t.Errorf("entity bomb: %v after %v", err, time.Since(start))
	}
}

func TestCID(t *testing.T) {
	// Pinned: a CID must never change, or scan histories break.
	if got := CID("xccdf_org.ssgproject.content_rule_sshd_disable_root_login"); got != 532015849 {
		t.Errorf("CID = %d", got)
	}
	for _, id := range []string{"", "x", "xccdf_org.example_rule_ssh_timeout", strings.Repeat("z", 500)} {
		c := CID(id)
		if c != CID(id) || c < CIDBase || c >= CIDBase+CIDSpan || c > 2147483647 {
			t.Errorf("CID(%q) = %d", id, c)
		}
	}
	// Collisions inside a benchmark get distinct CIDs, deterministically.
	b := &Benchmark{rules: map[string]*Rule{"a": {}, "b": {}, "c": {}}}
	b.assignCIDs()
	if b.cids["a"] != CID("a") || len(map[int]bool{b.cids["a"]: true, b.cids["b"]: true, b.cids["c"]: true}) != 3 {
		t.Errorf("cids %v", b.cids)
	}
}

func TestCriticality(t *testing.T) {
	for sev, want := range map[string]policy.Criticality{
		"unknown": policy.Minimal, "info": policy.Minimal, "": policy.Minimal,
		"low": policy.Medium, "medium": policy.Serious, "high": policy.Critical,
	} {
		if got := Criticality(sev); got != want {
			t.Errorf("Criticality(%q) = %v, want %v", sev, got, want)
		}
	}
}

func TestMandate(t *testing.T) {
	for href, want := range map[string]string{
		"http://nvlpubs.nist.gov/nistpubs/SpecialPublications/NIST.SP.800-53r4.pdf":                        "nist-800-53",
		"http://nvlpubs.nist.gov/nistpubs/SpecialPublications/NIST.SP.800-171.pdf":                         "nist-800-171",
		"https://nvlpubs.nist.gov/nistpubs/CSWP/NIST.CSWP.04162018.pdf":                                    "nist-csf",
		"https://www.cisecurity.org/benchmark/red_hat_linux/":                                              "cis",
		"https://www.cisecurity.org/controls/":                                                             "cis-csc",
		"https://www.pcisecuritystandards.org/documents/PCI_DSS_v3-2-1.pdf":                                "pci-dss",
		"https://docs-prv.pcisecuritystandards.org/PCI%20DSS/Standard/PCI-DSS-v4_0.pdf":                    "pci-dss-4",
		"https://public.cyber.mil/stigs/downloads/?_dl_facet_stigs=operating-systems%2Cunix-linux":         "stig",
		"https://public.cyber.mil/stigs/srg-stig-tools/":                                                   "stigref",
		"https://public.cyber.mil/stigs/cci/":                                                              "cci",
		"https://public.cyber.mil/stigs/downloads/?_dl_facet_stigs=operating-systems%2Cgeneral-purpose-os": "srg",
		"https://www.iso.org/standard/54534.html":                                                          "iso27001-2013",
		"https://www.gpo.gov/fdsys/pkg/CFR-2007-title45-vol1/pdf/CFR-2007-title45-vol1-chapA-subchapC.pdf": "hipaa",
		"http://www.ssi.gouv.fr/administration/bonnes-pratiques/":                                          "anssi",
		"https://www.fbi.gov/file-repository/cjis-security-policy-v5_5_20160601-2-1.pdf":                   "cjis",
		"https://www.isaca.org/resources/cobit":                                                            "cobit5",
		"":                                                                                                 "", "https://unknown.example/": "",
	} {
		for range 2 { // computed, then remembered
			if got := Mandate(href); got != want {
				t.Errorf("Mandate(%q) = %q, want %q", href, got, want)
			}
		}
	}
	b := parseFile(t, "benchmark.xml")
	r, _ := b.Rule(rulePrefix + "ssh_timeout")
	want := map[string][]string{"nist-800-53": {"AC-12"}, "cis": {"5.2.16"}}
	if got := ReferencesByMandate(r.References); !reflect.DeepEqual(got, want) {
		t.Errorf("ReferencesByMandate = %v", got)
	}
	// Duplicates are dropped in document order, for a few references
	// and for many.
	const nist, cis = "https://nvlpubs.nist.gov/nistpubs/NIST.SP.800-53r4.pdf", "https://www.cisecurity.org/benchmark/x/"
	for _, n := range []int{3, 100} {
		var refs []Reference
		var wantNIST []string
		for i := range n {
			id := "AC-" + strconv.Itoa(i%7)
			refs = append(refs, Reference{Href: nist, Text: id}, Reference{Href: cis, Text: "1.1"}, Reference{Href: "", Text: "x"})
			if !slices.Contains(wantNIST, id) {
				wantNIST = append(wantNIST, id)
			}
		}
		want := map[string][]string{"nist-800-53": wantNIST, "cis": {"1.1"}}
		if got := ReferencesByMandate(refs); !reflect.DeepEqual(got, want) {
			t.Errorf("%d references: ReferencesByMandate = %v, want %v", 3*n, got, want)
		}
	}
}

func TestProfilesSummary(t *testing.T) {
	b := parseFile(t, "benchmark.xml")
	// Drop the broken profiles, which Resolve refuses.
	var keep []*Profile
	for _, p := range b.Profiles {
		if !strings.Contains(p.ID, "cycle") && !strings.Contains(p.ID, "orphan") {
			keep = append(keep, p)
		}
	}
	b.Profiles = keep
	sum, err := b.ProfilesSummary()
	if err != nil {
		t.Fatal(err)
	}
	if len(sum) != 7 || sum[0] != (ProfileSummary{ID: profilePrefix + "base", Title: "Base", Rules: 4}) {
		t.Errorf("summary %+v", sum)
	}
}

func TestFindAndDescribe(t *testing.T) {
	dir := t.TempDir()
	src, _ := os.ReadFile(filepath.Join("testdata", "benchmark.xml"))
	for _, name := range []string{"ssg-example-ds.xml", "other.xml", "ssg-example-ds-1.2.xml"} {
		if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Symlink(dir, filepath.Join(t.TempDir(), "link"))
	files, err := FindIn(dir, filepath.Join(dir, "missing"), dir)
	if err != nil || len(files) != 1 || filepath.Base(files[0]) != "ssg-example-ds.xml" {
		t.Fatalf("FindIn: %v, %v", files, err)
	}
	info, err := Describe(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if info.Product != "example" || info.Profiles != 11 || info.Rules != 10 || info.Title != "Example benchmark" ||
		info.Version != "2.5" || info.BenchmarkID != "xccdf_org.example_benchmark_test" {
		t.Errorf("Describe: %+v", info)
	}
	if _, err := Find(); err != nil {
		t.Errorf("Find: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"benchmark.xml", "tailoring.xml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.2" id="b"><Profile id="p" extends="p"/><Group id="g"><Rule id="r"><requires idref="g"/></Rule></Group></Benchmark>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if tl, err := ParseTailoring(bytes.NewReader(data)); err == nil && len(tl.Profiles) == 0 && tl.ID == "x" {
			t.Log("tailoring")
		}
		b, err := Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Whatever parses must resolve without panicking, every profile
		// and the pseudo-profiles.
		ids := []string{"", AllProfile}
		for _, p := range b.Profiles {
			ids = append(ids, p.ID)
		}
		for _, id := range ids {
			s, err := b.Resolve(id, nil)
			if err != nil {
				continue
			}
			for _, r := range s.Rules {
				if r.CID < CIDBase || r.CID >= CIDBase+CIDSpan {
					t.Fatalf("CID %d", r.CID)
				}
			}
		}
	})
}

func TestOpen(t *testing.T) {
	b, c, err := Open(filepath.Join("testdata", "benchmark.xml"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if b.ID != "xccdf_org.example_benchmark_test" || !c.Standalone {
		t.Errorf("%s %v", b.ID, c.Standalone)
	}
	if _, _, err := Open(filepath.Join("testdata", "tailoring.xml")); err == nil || !strings.Contains(err.Error(), "no XCCDF 1.2 benchmark") {
		t.Errorf("tailoring: %v", err)
	}
	if _, err := Parse(strings.NewReader(`<ds:data-stream-collection xmlns:ds="http://scap.nist.gov/schema/scap/source/1.2"/>`)); err == nil || !strings.Contains(err.Error(), "ParseComponent") {
		t.Errorf("data stream: %v", err)
	}
}
