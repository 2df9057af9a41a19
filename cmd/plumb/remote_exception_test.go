package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/library"
	"github.com/plumbhq/plumb/store"
)

// TestRemoteExceptions drives plumb exception against a real server:
// request as an operator, the requester refused as approver of their own
// request, approval by an approver, listings, history and the log check.
func TestRemoteExceptions(t *testing.T) {
	e := newRemoteEnv(t)
	e.ok("policy", "import", "plumb-linux-l1")
	e.ok("asset", "add", "web1", "--address", "10.0.0.5")
	lib, err := library.Load()
	if err != nil {
		t.Fatal(err)
	}
	rules, err := lib.Policy("plumb-linux-l1").Rules(lib)
	if err != nil {
		t.Fatal(err)
	}
	cid := rules[0].CID
	op := strings.TrimSpace(e.ok("token", "add", "ops", "--role", "operator"))
	appr := strings.TrimSpace(e.ok("token", "add", "alice", "--role", "approver"))
	as := func(tok string, args ...string) (string, string, int) {
		return run(t, append(args, "--server", e.url, "--token", tok)...)
	}
	expires := time.Now().AddDate(0, 0, 10).Format(time.DateOnly)
	req := []string{"exception", "request", "--policy", "plumb-linux-l1", "--cid", strconv.Itoa(cid), "--asset", "web1",
		"--type", "risk_acceptance", "--owner", "web team", "--expires", expires}

	out, stderr, code := as(op, append(req, "--justification", "Needed by the legacy monitoring agent until June.", "--json")...)
	var x store.Exception
	if code != 0 || json.Unmarshal([]byte(out), &x) != nil || x.Status != store.Pending {
		t.Fatalf("request: exit %d %s %s", code, out, stderr)
	}
	if _, stderr, code := as(op, req...); code != 1 || !strings.Contains(stderr, "justification") {
		t.Errorf("request without justification: exit %d %q", code, stderr)
	}
	if _, stderr, code := as(op, "exception", "approve", strconv.FormatInt(x.ID, 10)); code != 1 || !strings.Contains(stderr, "403") {
		t.Errorf("operator approving: exit %d %q", code, stderr)
	}
	// The approver's own request cannot be approved by them.
	out, _, _ = as(appr, append(req, "--justification", "Same reason, asked by the approver.", "--json")...)
	var own store.Exception
	if json.Unmarshal([]byte(out), &own) != nil {
		t.Fatalf("approver request: %s", out)
	}
	if _, stderr, code := as(appr, "exception", "approve", strconv.FormatInt(own.ID, 10)); code != 1 || !strings.Contains(stderr, "another approver") {
		t.Errorf("self-approval: exit %d %q", code, stderr)
	}
	if out, stderr, code := as(appr, "exception", "approve", strconv.FormatInt(x.ID, 10)); code != 0 || !strings.Contains(out, "approved") {
		t.Fatalf("approve: exit %d %s %s", code, out, stderr)
	}
	if out := e.ok("exception", "list", "--status", "approved"); !strings.Contains(out, "Needed by the legacy") || !strings.Contains(out, expires) {
		t.Errorf("exception list:\n%s", out)
	}
	var expiring []store.Exception
	e.json(&expiring, "exception", "expiring", "--within", "14d")
	if len(expiring) != 1 || expiring[0].ID != x.ID {
		t.Errorf("expiring within 14d: %+v", expiring)
	}
	e.json(&expiring, "exception", "expiring", "--within", "3d")
	if len(expiring) != 0 {
		t.Errorf("expiring within 3d: %+v", expiring)
	}
	if out := e.ok("exception", "show", strconv.FormatInt(x.ID, 10)); !strings.Contains(out, "request") || !strings.Contains(out, "approve") || !strings.Contains(out, "token:alice") {
		t.Errorf("exception show:\n%s", out)
	}
	var chk api.LogCheck
	e.json(&chk, "exception", "verify-log")
	if !chk.OK || chk.Checked != 3 {
		t.Errorf("verify-log: %+v", chk)
	}
	if out := e.ok("exception", "verify-log"); !strings.Contains(out, "intact") {
		t.Errorf("verify-log: %s", out)
	}

	// Scores, trends and changes answer (empty: nothing scanned here).
	if out := e.ok("score", "--by", "asset"); !strings.HasPrefix(out, "NAME") {
		t.Errorf("score:\n%s", out)
	}
	e.ok("posture", "summary")
	var pts []store.TrendPoint
	e.json(&pts, "trend", "--granularity", "week")
	var chs []store.Change
	e.json(&chs, "changes", "--from", "2026-01-01")
	if _, stderr, code := e.run("trend", "--granularity", "fortnight"); code != 1 || !strings.Contains(stderr, "granularity") {
		t.Errorf("trend --granularity fortnight: exit %d %q", code, stderr)
	}
	if _, stderr, code := e.run("changes"); code != 1 || !strings.Contains(stderr, "--from") {
		t.Errorf("changes without --from: exit %d %q", code, stderr)
	}
}
