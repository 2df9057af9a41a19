package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbhq/plumb/gate"
	"github.com/plumbhq/plumb/internal/fixture"
	"github.com/plumbhq/plumb/result"
)

// run executes plumb with args and returns stdout, stderr and the exit code.
func run(t testing.TB, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := newRootCommand(&stdout, &stderr)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	code := exitCode(err, &stderr)
	return stdout.String(), stderr.String(), code
}

func writeTree(t *testing.T, tree fixture.Tree) string {
	t.Helper()
	dir := t.TempDir()
	if err := tree.Write(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func decode(t testing.TB, s string) *result.Report {
	t.Helper()
	var rep result.Report
	if err := json.Unmarshal([]byte(s), &rep); err != nil {
		t.Fatalf("output is not a JSON report: %v\n%s", err, s)
	}
	return &rep
}

func statusOf(rep *result.Report, cid int) result.Result {
	for _, h := range rep.Hosts {
		for _, p := range h.Policies {
			for _, r := range p.Results {
				if r.CID == cid {
					return r
				}
			}
		}
	}
	return result.Result{}
}

const customPolicy = `controls:
  - cid: 100001
    title: The message of the day names the owner
    technologies: [linux]
    category: Custom
    criticality: urgent
    check:
      line: { path: /etc/motd, pattern: "(?m)^Owner: " }
    rationale: Operators must know whom to call.
    remediation: Add an Owner line to /etc/motd.
    references: { internal: ["OPS-1"] }
  - cid: 100002
    title: Hosts file exists
    technologies: [linux]
    category: Custom
    criticality: minimal
    check:
      file: { path: /etc/hosts, mode: "0644" }
    rationale: Name resolution needs it.
    remediation: Create /etc/hosts.
    references: { internal: ["OPS-2"] }
policies:
  - id: custom-ops
    version: "2.1"
    title: Operations baseline
    controls:
      - cid: 100001
      - { cid: 100002, criticality: serious }
`

func TestScanCustomPolicyAndExitCodes(t *testing.T) {
	root := writeTree(t, fixture.Tree{}.
		Text("/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n").
		Text("/etc/passwd", "root:x:0:0::/root:/bin/sh\n").
		Text("/etc/group", "root:x:0:\n").
		Text("/etc/motd", "Welcome\n").
		Text("/etc/hosts", "127.0.0.1 localhost\n"))
	pol := filepath.Join(t.TempDir(), "ops.yaml")
	if err := os.WriteFile(pol, []byte(customPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	junit := filepath.Join(t.TempDir(), "plumb.xml")
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"no criteria", nil, gate.ExitOK},
		{"fail meets", []string{"--fail-on", "fail"}, gate.ExitCriteriaMet},
		{"urgent fail meets", []string{"--fail-on", "fail,urgent"}, gate.ExitCriteriaMet},
		{"only minimal: not met", []string{"--fail-on", "fail,minimal"}, gate.ExitOK},
		{"excluded", []string{"--fail-on", "fail", "--exclude-cid", "100001"}, gate.ExitOK},
		{"error only: not met", []string{"--fail-on", "error"}, gate.ExitOK},
		{"bad criteria", []string{"--fail-on", "pass"}, gate.ExitInternal},
		{"bad format", []string{"--format", "pdf"}, gate.ExitInternal},
		{"extra report", []string{"--report", "junit=" + junit}, gate.ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"scan", "--root", root, "--policy", pol, "--format", "json"}, tt.args...)
			out, stderr, code := run(t, args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			if code == gate.ExitInternal {
				return
			}
			rep := decode(t, out)
			if r := statusOf(rep, 100001); r.Status != result.Fail || r.Criticality.String() != "urgent" {
				t.Errorf("100001: %+v", r)
			}
			if r := statusOf(rep, 100002); r.Status != result.Pass || r.Criticality.String() != "serious" {
				t.Errorf("100002 (criticality overridden to serious): %+v", r)
			}
			if got := rep.Hosts[0].Policies[0]; got.ID != "custom-ops" || got.Version != "2.1" || got.Summary.Score != 50 {
				t.Errorf("policy run %s %s score %v", got.ID, got.Version, got.Summary.Score)
			}
		})
	}
	if data, err := os.ReadFile(junit); err != nil || !bytes.Contains(data, []byte("<testsuites")) {
		t.Errorf("--report junit=FILE: %v %.100s", err, data)
	}
}

func TestScanUnreachableRoot(t *testing.T) {
	notRoot := t.TempDir()
	for _, dir := range []string{notRoot, filepath.Join(notRoot, "missing")} {
		_, stderr, code := run(t, "scan", "--root", dir)
		if code != gate.ExitUnreachable || !strings.Contains(stderr, dir) {
			t.Errorf("--root %s: exit %d, stderr %q; want exit 3 naming the directory", dir, code, stderr)
		}
	}
}

// A root whose /etc/passwd is an absolute symlink must be read inside the
// root, never from the scanning machine.
func TestScanRootConfinement(t *testing.T) {
	root := writeTree(t, fixture.Tree{}.
		Text("/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n").
		Add(fixture.File{Path: "/etc/passwd", Link: "/etc/passwd"}).
		Add(fixture.File{Path: "/etc/group", Link: "../../../../../../etc/group"}))
	pol := filepath.Join(t.TempDir(), "p.yaml")
	os.WriteFile(pol, []byte(`policies: [{id: p, version: "1", title: p, controls: [{cid: 1210}, {cid: 1215}]}]`), 0o644)
	out, stderr, code := run(t, "scan", "--root", root, "--policy", pol, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rep := decode(t, out)
	for _, cid := range []int{1210, 1215} {
		r := statusOf(rep, cid)
		if r.Status != result.Error || !strings.Contains(r.Message, "/etc/") {
			t.Errorf("cid %d: got %s %q; want Error: the link resolves inside the root, where nothing exists", cid, r.Status, r.Message)
		}
	}
}

func TestPolicyCommands(t *testing.T) {
	out, _, code := run(t, "policy", "list")
	for _, id := range []string{"plumb-linux-l1", "plumb-linux-l2", "plumb-linux-stig", "plumb-pci-dss-4"} {
		if code != 0 || !strings.Contains(out, id) {
			t.Errorf("policy list: exit %d, missing %s", code, id)
		}
	}
	out, _, code = run(t, "policy", "show", "plumb-linux-l2")
	if code != 0 || !strings.Contains(out, "Extends: plumb-linux-l1") {
		t.Errorf("policy show: exit %d\n%s", code, out)
	}
	out, _, code = run(t, "control", "show", "1101")
	if code != 0 || !strings.Contains(out, "Rationale:") || !strings.Contains(out, "References:") {
		t.Errorf("control show: exit %d\n%s", code, out)
	}
	if _, stderr, code := run(t, "control", "show", "999999"); code != 1 || !strings.Contains(stderr, "999999") {
		t.Errorf("control show unknown: exit %d %s", code, stderr)
	}
	out, _, code = run(t, "policy", "schema")
	if code != 0 || !json.Valid([]byte(out)) {
		t.Errorf("policy schema: exit %d, not JSON", code)
	}

	good := filepath.Join(t.TempDir(), "good.yaml")
	os.WriteFile(good, []byte(customPolicy), 0o644)
	out, stderr, code := run(t, "policy", "validate", good)
	if code != 0 || !strings.Contains(out, "ok (2 controls, 1 policies)") {
		t.Errorf("validate good: exit %d %s %s", code, out, stderr)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte(strings.Replace(customPolicy, "criticality: minimal", "criticality: minimal\n    severity: high", 1)), 0o644)
	_, stderr, code = run(t, "policy", "validate", bad)
	if code != 1 || !strings.Contains(stderr, "bad.yaml:") || !strings.Contains(stderr, "severity") {
		t.Errorf("validate bad: exit %d, stderr %q: want the file, line and the unknown field", code, stderr)
	}
}
