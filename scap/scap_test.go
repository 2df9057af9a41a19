package scap

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/plumbhq/plumb/internal/fixture"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/scap/oval"
	"github.com/plumbhq/plumb/scap/probe"
	"github.com/plumbhq/plumb/target"
)

// TestStandaloneBenchmark runs testdata/benchmark.xml, whose checks are in
// a separate OVAL file, on a fixture root: one rule for each way a rule
// can end, with the Plumb status, SCAP result, reason and evidence.
func TestStandaloneBenchmark(t *testing.T) {
	src, err := Open("testdata/benchmark.xml", OpenOptions{Prefetch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sel, err := src.Benchmark.Resolve("xccdf_org.plumb_profile_default", nil)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	tree := fixture.Tree{}.
		Text("/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n").
		Text("/etc/ssh/sshd_config", "# hardened\nPermitRootLogin no\nMaxAuthTries 5\n").
		Add(fixture.File{Path: "/etc/issue.net", Data: "Authorised use only\n", Mode: 0o666}).
		Text("/etc/motd", strings.Repeat("a", 64)+"\n")
	if err := tree.Write(dir); err != nil {
		t.Fatal(err)
	}
	tg, err := target.NewRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	pats := &oval.Patterns{Timeout: 100 * time.Millisecond}
	pr := probe.New(tg, probe.Options{Patterns: pats})
	rrs, err := src.Evaluate(context.Background(), sel, pr, Options{Patterns: pats})
	if err != nil {
		t.Fatal(err)
	}
	run := src.PolicyRun(sel, rrs, Options{Method: "root"})

	want := map[string]struct {
		status   result.Status
		scap     string
		reason   string
		evidence string // substring of the evidence, or of the message for Error and Not checked
	}{
		"root_login":     {result.Pass, XPass, "", `text="PermitRootLogin no"`},
		"max_auth_tries": {result.Fail, XFail, "", `subexpression="5" [false]`}, // the profile's selector exports 4
		"banner":         {result.Fail, XFail, "", `owrite="true"`},
		"backtrack":      {result.Error, XError, result.ReasonTimeout, "timed out"},
		"unsupported":    {result.Error, XError, result.ReasonUnsupportedCheck, "unsupported OVAL test selinuxboolean"},
		"manual":         {result.NotChecked, XNotChecked, "", "no OVAL check"},
	}
	if len(run.Results) != len(want) {
		t.Errorf("%d results, want %d", len(run.Results), len(want))
	}
	for _, r := range run.Results {
		name := strings.TrimPrefix(r.Rule, "xccdf_org.plumb_rule_")
		w, ok := want[name]
		if !ok {
			t.Errorf("unexpected rule %s", r.Rule)
			continue
		}
		text := strings.Join(r.Actual, "\n")
		if r.Status == result.Error || r.Status == result.NotChecked {
			text = r.Message
		}
		if r.Status != w.status || r.SCAPResult != w.scap || r.Reason != w.reason || !strings.Contains(text, w.evidence) {
			t.Errorf("%s: got %s/%s/%s %q\nwant %s/%s/%s containing %q", name, r.Status, r.SCAPResult, r.Reason, text, w.status, w.scap, w.reason, w.evidence)
		}
		if r.CID < 100000 || r.Method != "root" || r.Category != "SSH Server" {
			t.Errorf("%s: cid %d method %q category %q", name, r.CID, r.Method, r.Category)
		}
	}
	for _, r := range run.Results {
		if r.Rule == "xccdf_org.plumb_rule_root_login" {
			if r.Criticality != 4 || r.Remediation == "" || len(r.References["cis"]) != 1 {
				t.Errorf("root_login: criticality %d remediation %q references %v", r.Criticality, r.Remediation, r.References)
			}
		}
	}
	if s := run.Summary; s.Counts[result.Pass] != 1 || s.Counts[result.Fail] != 2 || s.Counts[result.Error] != 2 {
		t.Errorf("summary %+v", s.Counts)
	}
}
