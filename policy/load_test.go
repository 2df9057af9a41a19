package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// control is a valid control with a placeholder for its check.
const control = `controls:
  - cid: 100001
    title: A title
    technologies: [linux]
    category: Tests
    criticality: serious
    check: CHECK
    rationale: Because.
    remediation: Fix it.
`

func withCheck(check string) string { return strings.Replace(control, "CHECK", check, 1) }

// parseErrorCases are invalid files and what their error must say; they
// also seed FuzzParse.
var parseErrorCases = []struct {
	name string
	in   string
	want []string // every substring must appear in the error
}{
	{
		name: "unknown top-level key",
		in:   "apiVersion: plumb/v1\ncontrol: []\n",
		want: []string{"bad.yaml:2:1: control: unknown field \"control\"", "allowed: apiVersion, controls, policies"},
	},
	{
		name: "wrong apiVersion",
		in:   "apiVersion: plumb/v2\n",
		want: []string{"bad.yaml:1:13: apiVersion: \"plumb/v2\" is not allowed; must be plumb/v1"},
	},
	{
		name: "unknown key deep in a check",
		in:   withCheck("{ all: [ { sshd: { key: PermitRootLogin, value: \"no\", opp: equals } } ] }"),
		want: []string{"bad.yaml:7:66: controls[0].check.all[0].sshd.opp: unknown field \"opp\"", "allowed: default, key, op, value, values"},
	},
	{
		name: "unknown check kind",
		in:   withCheck("{ registry: { key: x } }"),
		want: []string{"bad.yaml:7:14: controls[0].check.registry: unknown check kind \"registry\""},
	},
	{
		name: "two check kinds",
		in:   withCheck("{ sshd: { key: X, value: \"1\" }, package: { name: openssh-server } }"),
		want: []string{"bad.yaml:7:12: controls[0].check: a check has exactly one kind, found 2: sshd, package"},
	},
	{
		name: "empty check",
		in:   withCheck("{}"),
		want: []string{"bad.yaml:7:12: controls[0].check: empty check"},
	},
	{
		name: "bad op",
		in:   withCheck("{ sshd: { key: X, op: eq, value: \"1\" } }"),
		want: []string{"bad.yaml:7:34: controls[0].check.sshd.op: \"eq\" is not allowed; must be one of equals, iequals"},
	},
	{
		name: "bad criticality",
		in:   strings.Replace(withCheck("{ manual: Look. }"), "serious", "severe", 1),
		want: []string{"bad.yaml:6:18: controls[0].criticality: \"severe\" is not allowed; must be one of minimal, medium, serious, critical, urgent, 1, 2, 3, 4, 5"},
	},
	{
		name: "criticality out of range",
		in:   strings.Replace(withCheck("{ manual: Look. }"), "serious", "6", 1),
		want: []string{"bad.yaml:6:18: controls[0].criticality: 6 is not allowed"},
	},
	{
		name: "cid out of range",
		in:   strings.Replace(withCheck("{ manual: Look. }"), "100001", "2147483648", 1),
		want: []string{"bad.yaml:2:10: controls[0].cid: 2147483648 is too large; must be at most 2147483647"},
	},
	{
		name: "missing field",
		in:   strings.Replace(withCheck("{ manual: Look. }"), "    rationale: Because.\n", "", 1),
		want: []string{"bad.yaml:2:5: controls[0]: missing required field \"rationale\""},
	},
	{
		name: "weights",
		in:   "policies:\n  - { id: p, version: \"1\", title: T, controls: [{ cid: 1 }], weights: { urgent: 0, severe: 2, medium: 101 } }\n",
		want: []string{"bad.yaml:2:81: policies[0].weights.urgent: 0 is too small; must be at least 1",
			`bad.yaml:2:84: policies[0].weights.severe: unknown field "severe" (allowed: critical, medium, minimal, serious, urgent)`,
			"bad.yaml:2:103: policies[0].weights.medium: 101 is too large; must be at most 100"},
	},
	{
		name: "unquoted version",
		in:   "policies:\n  - { id: p, version: 1.0, title: T, controls: [{ cid: 1 }] }\n",
		want: []string{"bad.yaml:2:23: policies[0].version: must be a string, not a number (quote the value)"},
	},
	{
		name: "non-integer value with op ge",
		in:   withCheck("{ sysctl: { key: kernel.x, op: ge, value: high } }"),
		want: []string{"bad.yaml:7:54: controls[0].check.sysctl.value: op ge compares integers; \"high\" is not an integer"},
	},
	{
		name: "in without values",
		in:   withCheck("{ sshd: { key: X, op: in, value: a } }"),
		want: []string{"bad.yaml:7:20: controls[0].check.sshd: op in needs values", "bad.yaml:7:45: controls[0].check.sshd.value: op in compares with values"},
	},
	{
		name: "missing expected value",
		in:   withCheck("{ sshd: { key: X } }"),
		want: []string{"bad.yaml:7:20: controls[0].check.sshd: missing value"},
	},
	{
		name: "invalid regex in line",
		in:   withCheck("{ line: { path: /etc/x, pattern: \"a(b\" } }"),
		want: []string{"bad.yaml:7:45: controls[0].check.line.pattern: invalid regular expression: missing closing )"},
	},
	{
		name: "invalid regex in matches",
		in:   withCheck("{ any: [ { manual: x }, { setting: { path: /etc/x, format: keyvalue, key: k, op: matches, value: \"[z\" } } ] }"),
		want: []string{
			"bad.yaml:7:31: controls[0].check.any[0].manual: manual must be a control's whole check",
			"bad.yaml:7:109: controls[0].check.any[1].setting.value: invalid regular expression: missing closing ]",
		},
	},
	{
		name: "relative path",
		in:   withCheck("{ file: { path: etc/shadow, mode: \"0640\" } }"),
		want: []string{"bad.yaml:7:28: controls[0].check.file.path: \"etc/shadow\" is not allowed; must be an absolute path"},
	},
	{
		name: "bad mode",
		in:   withCheck("{ file: { path: /etc/shadow, mode: \"17777\" } }"),
		want: []string{"bad.yaml:7:47: controls[0].check.file.mode: mode \"17777\" is not an octal mode"},
	},
	{
		name: "unquoted mode",
		in:   withCheck("{ file: { path: /etc/shadow, mode: 0640 } }"),
		want: []string{"bad.yaml:7:47: controls[0].check.file.mode: must be a string, not an integer (quote the value)"},
	},
	{
		name: "relative command",
		in:   withCheck("{ command: { argv: [systemctl, is-enabled, x] } }"),
		want: []string{"bad.yaml:7:32: controls[0].check.command.argv[0]: the program \"systemctl\" must be an absolute path"},
	},
	{
		name: "unknown technology",
		in:   strings.Replace(withCheck("{ manual: Look. }"), "[linux]", "[linux, windows-11]", 1),
		want: []string{"bad.yaml:4:27: controls[0].technologies[1]: \"windows-11\" is not allowed; must be one of debian-11"},
	},
	{
		name: "duplicate cid",
		in:   withCheck("{ manual: Look. }") + strings.TrimPrefix(withCheck("{ manual: Again. }"), "controls:\n"),
		want: []string{"bad.yaml:10:10: controls[1].cid: duplicate cid 100001 (first defined at line 2)"},
	},
	{
		name: "duplicate key",
		in:   "controls: []\ncontrols: []\n",
		want: []string{"bad.yaml:2:1: controls: duplicate key \"controls\" (first at line 1)"},
	},
	{
		name: "anchor and alias",
		in:   withCheck("&c { manual: Look. }") + "  - cid: 100002\n    check: *c\n",
		want: []string{
			"bad.yaml:7:12: controls[0].check: YAML anchors (&c) are not allowed",
			"bad.yaml:11:12: controls[1].check: YAML aliases (*c) are not allowed",
		},
	},
	{
		name: "merge key",
		in:   "x: &x { a: 1 }\ncontrols: [ { <<: *x } ]\n",
		want: []string{"bad.yaml:1:4: x: YAML anchors (&x) are not allowed", "bad.yaml:2:19: controls[0][\"<<\"]: YAML aliases (*x) are not allowed"},
	},
	{
		name: "tag",
		in:   "controls: !!seq []\npolicies: !custom []\n",
		want: []string{"bad.yaml:1:11: controls: YAML tag !!seq is not allowed", "bad.yaml:2:11: policies: YAML tag !custom is not allowed"},
	},
	{
		name: "nested too deep",
		in:   withCheck(strings.Repeat("{ any: [", 40) + "{ manual: x }" + strings.Repeat("] }", 40)),
		want: []string{"bad.yaml:7:", "controls[0].check.any[0].any[0]", ": nested more than 64 levels deep"},
	},
	{
		name: "multiple documents",
		in:   "controls: []\n---\npolicies: []\n",
		want: []string{"bad.yaml:2:1: more than one YAML document"},
	},
	{
		name: "syntax error",
		in:   "controls:\n  - cid: 1\n   title: x\n",
		want: []string{"bad.yaml:1: did not find expected '-' indicator"},
	},
	{
		name: "not a mapping",
		in:   "- cid: 1\n",
		want: []string{"bad.yaml:1:1: must be a mapping, not a list"},
	},
	{
		name: "9 MiB",
		in:   "controls: []\n" + strings.Repeat("# padding\n", 9<<20/10),
		want: []string{"bad.yaml: file is 9437193 bytes; policy files are limited to 8388608 bytes (8 MiB)"},
	},
	{
		name: "binary garbage",
		in:   "controls:\x00\xff\xfe\x01\x02",
		want: []string{"bad.yaml:1:11: not UTF-8 text"},
	},
	{
		name: "control characters",
		in:   "controls: [\x01]\n",
		want: []string{"bad.yaml: control characters are not allowed"},
	},
	{
		name: "policy id format",
		in:   "policies:\n  - { id: My_Policy, version: \"1\", title: T, controls: [{ cid: 1 }] }\n",
		want: []string{"bad.yaml:2:11: policies[0].id: \"My_Policy\" is not allowed; must be lowercase letters, digits, '.' and '-'"},
	},
	{
		name: "policy problems",
		in: "policies:\n" +
			"  - { id: a, version: \"1\", title: T }\n" +
			"  - { id: b, version: \"1\", title: T, extends: [b], controls: [{ cid: 1 }, { cid: 1, criticality: loud }] }\n" +
			"  - { id: a, version: \"1\", title: T, controls: [{ cid: 1 }] }\n",
		want: []string{
			"bad.yaml:3:98: policies[1].controls[1].criticality: \"loud\" is not allowed",
		},
	},
	{
		name: "policy semantic problems",
		in: "policies:\n" +
			"  - { id: a, version: \"1\", title: T }\n" +
			"  - { id: b, version: \"1\", title: T, extends: [b], controls: [{ cid: 1 }, { cid: 1, criticality: 5 }] }\n" +
			"  - { id: a, version: \"1\", title: T, controls: [{ cid: 1 }] }\n",
		want: []string{
			"bad.yaml:2:5: policies[0]: policy a selects no controls",
			"bad.yaml:3:48: policies[1].extends[0]: policy b extends itself",
			"bad.yaml:3:82: policies[1].controls[1].cid: cid 1 is selected twice in this policy (first at line 3)",
			"bad.yaml:4:11: policies[2].id: duplicate policy id \"a\" (first defined at line 2)",
		},
	},
	{
		name: "manual applicability",
		in:   strings.Replace(withCheck("{ manual: Look. }"), "    rationale:", "    applicable: { manual: When. }\n    rationale:", 1),
		want: []string{"bad.yaml:8:27: controls[0].applicable.manual: an applicability condition must be an automated check"},
	},
	{
		name: "accounts rule without comparison",
		in:   withCheck("{ accounts: { rule: unique_uids, op: le, value: \"1\" } }"),
		want: []string{"bad.yaml:7:24: controls[0].check.accounts: rule unique_uids takes no op"},
	},
	{
		name: "pam compare without arg",
		in:   withCheck("{ pam: { file: /etc/pam.d/su, type: auth, module: pam_wheel.so, value: x } }"),
		want: []string{"bad.yaml:7:19: controls[0].check.pam: op, value, values and default compare a module argument: set arg"},
	},
	{
		name: "bad enums",
		in: withCheck("{ all: [ { sysctl: { key: a.b, source: live, value: \"1\" } }, { service: { unit: x.service, state: running } }," +
			" { line: { path: /x, pattern: x, expect: missing } }, { setting: { path: /x, format: ini, key: k, value: v } }," +
			" { search: { kind: executables } }, { accounts: { rule: all_good } } ] }"),
		want: []string{
			"controls[0].check.all[0].sysctl.source: \"live\" is not allowed; must be one of runtime, config, both",
			"controls[0].check.all[1].service.state: \"running\" is not allowed; must be one of enabled, disabled, masked",
			"controls[0].check.all[2].line.expect: \"missing\" is not allowed; must be one of present, absent",
			"controls[0].check.all[3].setting.format: \"ini\" is not allowed; must be one of login.defs, keyvalue",
			"controls[0].check.all[4].search.kind: \"executables\" is not allowed; must be one of world_writable_files",
			"controls[0].check.all[5].accounts.rule: \"all_good\" is not allowed; must be one of unique_uids",
		},
	},
}

func TestParseErrors(t *testing.T) {
	for _, tc := range parseErrorCases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse("bad.yaml", []byte(tc.in))
			if err == nil {
				t.Fatalf("no error")
			}
			if f != nil {
				t.Errorf("got a half-loaded file with an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			var pe *Error
			if !errors.As(err, &pe) && !strings.Contains(err.Error(), "bad.yaml") {
				t.Errorf("error is not an *Error and does not name the file: %v", err)
			}
		})
	}
}

func TestParseErrorCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("controls:\n")
	for range 80 {
		b.WriteString("  - { cid: 0 }\n")
	}
	_, err := Parse("many.yaml", []byte(b.String()))
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxErrors+1 {
		t.Errorf("got %d lines, want %d", len(lines), maxErrors+1)
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "many.yaml: ") || !strings.HasSuffix(last, "more problems not shown") {
		t.Errorf("last line = %q", last)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "\n", "# only a comment\n", "---\n", "~\n", "apiVersion: plumb/v1\n", "controls: []\npolicies: []\n"} {
		f, err := Parse("empty.yaml", []byte(in))
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if f == nil || len(f.Controls) != 0 || len(f.Policies) != 0 {
			t.Errorf("%q: got %+v, want an empty file", in, f)
		}
	}
}

func TestParseGood(t *testing.T) {
	f, err := Parse("testdata/good.yaml", readTestdata(t, "good.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Controls) != 9 || len(f.Policies) != 2 {
		t.Fatalf("got %d controls and %d policies", len(f.Controls), len(f.Policies))
	}
	c := f.Controls[0]
	if c.CID != 100001 || c.Title != "SSH root login is disabled" || c.Category != "SSH server" ||
		c.Criticality != Serious || c.Method != MethodScanner || c.Source != "testdata/good.yaml:5" {
		t.Errorf("control 0 = %+v", c)
	}
	if !slices.Equal(c.Technologies, []string{"debian-family", "rhel-9"}) || !c.Supports("ubuntu-24.04") || c.Supports("debian-13") {
		t.Errorf("technologies = %v", c.Technologies)
	}
	if c.Applicable == nil || c.Applicable.Package == nil || c.Applicable.Package.Name != "openssh-server" {
		t.Errorf("applicable = %+v", c.Applicable)
	}
	if s := c.Check.SSHD; s == nil || s.Key != "PermitRootLogin" || s.Op != OpEquals || s.Value != "no" {
		t.Errorf("check = %+v", s)
	}
	if !slices.Equal(c.References["pci-dss-4"], []string{"2.2.6"}) || len(c.References) != 3 {
		t.Errorf("references = %v", c.References)
	}
	// An integer value is read as its text; criticality may be a number.
	c = f.Controls[1]
	if s := c.Check.SSHD; c.Criticality != Medium || s.Value != "4" || s.Default == nil || *s.Default != "6" {
		t.Errorf("control 1 = %+v %+v", c, s)
	}
	if m := f.Controls[2].Check.All[0].File; m.Mode != "0640" || m.Owner != "root" || m.Group != "shadow" {
		t.Errorf("file check = %+v", m)
	}
	if e := f.Controls[2].Check.All[2].File.Exists; e == nil || *e {
		t.Errorf("exists = %v", e)
	}
	if l := f.Controls[3].Check.Any[0].Line; l.Pattern != `(?m)^\+` || l.Expect != "absent" {
		t.Errorf("line check = %+v", l)
	}
	all := f.Controls[7].Check.All
	if cmd := all[5].Command; cmd == nil || cmd.Exit == nil || *cmd.Exit != 0 || !slices.Equal(cmd.Values, []string{"enabled", "static"}) {
		t.Errorf("command check = %+v", cmd)
	}
	if f.Controls[8].Check.Kind() != "manual" {
		t.Errorf("kind = %q", f.Controls[8].Check.Kind())
	}
	kindsSeen := map[string]bool{}
	var walk func(Check)
	walk = func(c Check) {
		kindsSeen[c.Kind()] = true
		for _, s := range append(slices.Clone(c.All), c.Any...) {
			walk(s)
		}
	}
	for _, c := range f.Controls {
		walk(c.Check)
	}
	for _, k := range checkKinds {
		if !kindsSeen[k] {
			t.Errorf("good.yaml does not exercise check kind %s", k)
		}
	}

	p := f.Policies[1]
	if p.ID != "site-strict" || p.Version != "1.1" || p.Source != "testdata/good.yaml:134" || !slices.Equal(p.Extends, []string{"site-base"}) {
		t.Errorf("policy = %+v", p)
	}
	if p.Weight(Urgent) != 20 || p.Weight(Minimal) != 1 || p.Weight(Serious) != 3 || f.Policies[0].Weight(Urgent) != 5 {
		t.Errorf("weights = %v", p.Weights)
	}

	// Round trip through a library: extends and overrides.
	lib := NewLibrary()
	if err := lib.AddFile(f); err != nil {
		t.Fatal(err)
	}
	if err := lib.Check(); err != nil {
		t.Fatal(err)
	}
	rules, err := lib.Policy("site-strict").Rules(lib)
	if err != nil {
		t.Fatal(err)
	}
	var cids []int
	for _, r := range rules {
		cids = append(cids, r.CID)
	}
	if !slices.Equal(cids, []int{100001, 100002, 100003, 100009, 100006}) {
		t.Errorf("rules = %v", cids)
	}
	r := rules[1]
	if r.Criticality != Urgent || r.Control.Criticality != Medium {
		t.Errorf("criticality override: rule %v, control %v", r.Criticality, r.Control.Criticality)
	}
	if r.Check.SSHD.Value != "3" || r.Control.Check.SSHD.Value != "4" {
		t.Errorf("value override: rule %q, control %q", r.Check.SSHD.Value, r.Control.Check.SSHD.Value)
	}
	base, err := lib.Policy("site-base").Rules(lib)
	if err != nil {
		t.Fatal(err)
	}
	if base[1].Criticality != Medium || base[1].Check.SSHD.Value != "4" {
		t.Errorf("base policy sees the override: %+v", base[1])
	}
}

// TestParseRoundTrip re-encodes a parsed file and parses it again.
func TestParseRoundTrip(t *testing.T) {
	f, err := Parse("good.yaml", readTestdata(t, "good.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(map[string]any{"apiVersion": APIVersion, "controls": f.Controls, "policies": f.Policies})
	if err != nil {
		t.Fatal(err)
	}
	// JSON is YAML.
	g, err := Parse("good.json", data)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range g.Controls {
		c.Source = ""
	}
	for _, p := range g.Policies {
		p.Source = ""
	}
	for _, c := range f.Controls {
		c.Source = ""
	}
	for _, p := range f.Policies {
		p.Source = ""
	}
	a, _ := json.Marshal(f)
	b, _ := json.Marshal(g)
	if !bytes.Equal(a, b) {
		t.Errorf("round trip differs:\n%s\n%s", a, b)
	}
}

func TestLibraryCheck(t *testing.T) {
	ctl := strings.Replace(withCheck("{ manual: Look. }"), "100001", "100", 1)
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{
			name:  "unknown extends",
			files: map[string]string{"a.yaml": ctl + "policies:\n  - { id: p, version: \"1\", title: T, extends: [nope], controls: [{ cid: 100 }] }\n"},
			want:  "a.yaml:11: policy p: extends unknown policy \"nope\"",
		},
		{
			name: "extends cycle across files",
			files: map[string]string{
				"a.yaml": ctl + "policies:\n  - { id: p, version: \"1\", title: T, extends: [q], controls: [{ cid: 100 }] }\n",
				"b.yaml": "policies:\n  - { id: q, version: \"1\", title: T, extends: [p] }\n",
			},
			want: "extends cycle",
		},
		{
			name:  "unknown control",
			files: map[string]string{"a.yaml": "policies:\n  - { id: p, version: \"1\", title: T, controls: [{ cid: 7 }] }\n"},
			want:  "a.yaml:2: policy p: control 7 is not in the library",
		},
		{
			name:  "duplicate cid across files",
			files: map[string]string{"a.yaml": ctl, "b.yaml": ctl},
			want:  "b.yaml:2: duplicate cid 100 (first defined at a.yaml:2)",
		},
		{
			name:  "parse errors of every file",
			files: map[string]string{"a.yaml": "bogus: 1\n", "b.yaml": "policies: 3\n"},
			want:  "a.yaml:1:1: bogus: unknown field \"bogus\" (allowed: apiVersion, controls, policies)\nb.yaml:1:11: policies: must be a list, not an integer",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, data := range tc.files {
				fsys[name] = &fstest.MapFile{Data: []byte(data)}
			}
			lib, err := LoadFS(fsys, "*.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %v, want %q", err, tc.want)
			}
			if lib != nil {
				t.Errorf("got a library with an error")
			}
		})
	}
}

func TestLoadFS(t *testing.T) {
	fsys := fstest.MapFS{
		"b.yaml": {Data: []byte("policies:\n  - { id: b, version: \"1\", title: B, extends: [site-base], controls: [{ cid: 100006, value: \"1\" }] }\n")},
		"a.yaml": {Data: readTestdata(t, "good.yaml")},
		"c.txt":  {Data: []byte("not yaml: [")},
	}
	lib, err := LoadFS(fsys, "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(lib.Controls()) != 9 || len(lib.Policies()) != 3 {
		t.Fatalf("got %d controls, %d policies", len(lib.Controls()), len(lib.Policies()))
	}
	rules, err := lib.Policy("b").Rules(lib)
	if err != nil {
		t.Fatal(err)
	}
	if last := rules[len(rules)-1]; last.CID != 100006 || last.Check.Sysctl.Value != "1" || last.Source != "a.yaml:70" {
		t.Errorf("last rule = %+v (%s)", last.Check.Sysctl, last.Source)
	}
	if _, err := LoadFS(fsys, "*.yml"); err == nil {
		t.Error("no error for a glob matching nothing")
	}

	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, readTestdata(t, "good.yaml"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFiles(good); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("#\n"), MaxFileSize/2+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFiles(good, big); err == nil || !strings.Contains(err.Error(), "big.yaml: file is larger than") {
		t.Errorf("big file: %v", err)
	}
	if _, err := ReadFile(big); err == nil {
		t.Error("ReadFile read a big file")
	}
}

// TestSchemaMatchesCode keeps the enums of schema.json in step with the Go
// definitions they mirror.
func TestSchemaMatchesCode(t *testing.T) {
	var s struct {
		Defs map[string]struct {
			Enum       []any `json:"enum"`
			Properties map[string]struct {
				Enum []any `json:"enum"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(Schema, &s); err != nil {
		t.Fatal(err)
	}
	strs := func(v []any) []string {
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	if got := strs(s.Defs["op"].Enum); !slices.Equal(got, Ops) {
		t.Errorf("schema ops %v, want %v", got, Ops)
	}
	var techs []string
	techs = append(techs, DebianFamily...)
	techs = append(techs, RHELFamily...)
	for a := range aliases {
		techs = append(techs, a)
	}
	got := strs(s.Defs["technology"].Enum)
	slices.Sort(techs)
	slices.Sort(got)
	if !slices.Equal(got, techs) {
		t.Errorf("schema technologies %v, want %v", got, techs)
	}
	for _, tt := range got {
		if !KnownTechnology(tt) {
			t.Errorf("schema technology %q is unknown", tt)
		}
	}
	var crit []string
	for c := Minimal; c <= Urgent; c++ {
		crit = append(crit, c.String())
	}
	if got := strs(s.Defs["criticality"].Enum); !slices.Equal(got, crit) {
		t.Errorf("schema criticality %v, want %v", got, crit)
	}
	var kinds []string
	for k := range s.Defs["check"].Properties {
		kinds = append(kinds, k)
	}
	want := slices.Clone(checkKinds)
	slices.Sort(kinds)
	slices.Sort(want)
	if !slices.Equal(kinds, want) {
		t.Errorf("schema check kinds %v, want %v", kinds, want)
	}
	if got := strs(s.Defs["accountsCheck"].Properties["rule"].Enum); len(got) != 13 || !slices.Contains(got, "inactive_days") {
		t.Errorf("accounts rules %v", got)
	}
	if _, err := compiledSchema(); err != nil {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, name := range seeds {
		f.Add(readTestdata(f, filepath.Base(name)))
	}
	for _, tc := range parseErrorCases {
		if len(tc.in) <= 64<<10 {
			f.Add([]byte(tc.in))
		}
	}
	f.Add([]byte(withCheck("{ all: [ { sshd: { key: X, op: ge, value: \"1\" } }, { manual: m } ] }")))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Add([]byte("controls: [ { cid: 1e99, criticality: .inf } ]\n"))
	f.Add([]byte("---\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("fuzz.yaml", data)
		if (file == nil) == (err == nil) {
			t.Fatalf("file %v with error %v", file, err)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, c := range file.Controls {
			if len(kinds(&c.Check)) != 1 || c.Source == "" || c.Criticality < Minimal || c.Criticality > Urgent {
				t.Fatalf("invalid control accepted: %+v", c)
			}
		}
		lib := NewLibrary()
		if lib.AddFile(file) == nil && lib.Check() == nil {
			for _, p := range lib.Policies() {
				if _, err := p.Rules(lib); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// TestDocExamples parses every YAML example of docs/policy-format.md: whole
// files as they are, check snippets wrapped in a control.
func TestDocExamples(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "policy-format.md"))
	if err != nil {
		t.Skip(err)
	}
	blocks := strings.Split(string(doc), "```yaml\n")[1:]
	if len(blocks) < 10 {
		t.Fatalf("found %d YAML examples", len(blocks))
	}
	wrap := "controls:\n  - { cid: 100001, title: T, technologies: [linux], category: C, criticality: 1, rationale: R, remediation: R,\n" +
		"      CHECK }\n"
	checks := 0
	for i, b := range blocks {
		b, _, _ = strings.Cut(b, "```")
		if !strings.HasPrefix(b, "check:") {
			if _, err := Parse(fmt.Sprintf("example%d.yaml", i), []byte(b)); err != nil {
				t.Errorf("example %d:\n%s\n%v", i, b, err)
			}
			continue
		}
		// One or more checks, each starting with "check:" at column 1.
		var snippets []string
		for _, line := range strings.SplitAfter(b, "\n") {
			if strings.HasPrefix(line, "check:") || len(snippets) == 0 {
				snippets = append(snippets, "")
			}
			snippets[len(snippets)-1] += line
		}
		for _, sn := range snippets {
			if strings.TrimSpace(sn) == "" {
				continue
			}
			in := strings.Replace(wrap, "CHECK", strings.TrimSpace(sn), 1)
			if strings.Contains(strings.TrimSpace(sn), "\n") {
				// A block-style check: make it the last field of a block-style control.
				in = "controls:\n  - cid: 100001\n    title: T\n    technologies: [linux]\n    category: C\n    criticality: 1\n" +
					"    rationale: R\n    remediation: R\n" + indent(sn, "    ")
			}
			checks++
			if _, err := Parse(fmt.Sprintf("example%d.yaml", i), []byte(in)); err != nil {
				t.Errorf("example %d:\n%s\n%v", i, in, err)
			}
		}
	}
	if checks < 25 {
		t.Errorf("parsed %d check examples, want every one of them", checks)
	}
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "")
}

func BenchmarkParseGood(b *testing.B) {
	data := readTestdata(b, "good.yaml")
	for b.Loop() {
		if _, err := Parse("good.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
