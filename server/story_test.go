package server

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/engine"
	"github.com/plumbhq/plumb/internal/fixture"
	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/store"
	"github.com/plumbhq/plumb/target"
)

// clock is the injectable time of the story.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) add(d time.Duration) { c.set(c.now().Add(d)) }

// scanGroup launches a scan of group and runs its jobs as a scanner
// worker would, scanning each asset's fixture tree as an unpacked root.
func (e *env) scanGroup(group int64, trees map[int64]string, lib *policy.Library, now func() time.Time) store.Scan {
	e.t.Helper()
	var sc store.Scan
	e.must("operator", "POST", "/v1/scans", api.ScanInput{Groups: []int64{group}}, 201, &sc)
	for range sc.Jobs {
		var c api.Claim
		e.must("scanner", "POST", "/v1/jobs/claim", api.ClaimRequest{Worker: "story"}, 200, &c)
		var runs []engine.Run
		for _, d := range c.Policies {
			p, err := decodePolicy(d.Document)
			if err != nil {
				e.t.Fatal(err)
			}
			rules, err := p.Rules(lib)
			if err != nil {
				e.t.Fatal(err)
			}
			runs = append(runs, engine.Run{Policy: p, Rules: rules})
		}
		tg, err := target.NewRoot(trees[c.Asset.ID])
		if err != nil {
			e.t.Fatal(err)
		}
		host, err := (&engine.Engine{Now: now}).Scan(context.Background(), tg, runs)
		tg.Close()
		if err != nil || host.Error != "" {
			e.t.Fatalf("scan of %s: %v %s", c.Asset.Name, err, host.Error)
		}
		comp := api.Completion{Attempt: c.Job.Attempt, Technology: host.Facts.Technology}
		for _, run := range host.Policies {
			for _, r := range run.Results {
				comp.Results = append(comp.Results, store.Result{Policy: run.ID, PolicyVersion: c.Policies[0].Version, Result: r})
			}
		}
		e.must("scanner", "POST", fmt.Sprintf("/v1/jobs/%d/complete", c.Job.ID), comp, 204, nil)
	}
	return sc
}

func (e *env) summary(query string) result.Summary {
	e.t.Helper()
	var s result.Summary
	e.must("auditor", "GET", "/v1/posture/summary?"+query, nil, 200, &s)
	return s
}

func writeFixture(t *testing.T, tree fixture.Tree) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("the fixture roots need root to set file owners")
		}
		t.Skip("the fixture roots need root to set file owners")
	}
	dir := t.TempDir()
	if err := tree.Write(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestExceptionStory is the compliance engineer's story on real scans of
// fixture hosts: a group near 61%; remediation and three approved
// risk-acceptance exceptions lift it above 90%; the exceptions are listed
// with their justification and expiry, show up as expiring a week before,
// and once the clock passes their expiry the fails count again with no
// job run. Along the way every documented refusal is checked, and an edit
// of the exception history is detected.
func TestExceptionStory(t *testing.T) {
	e := newEnv(t)
	clk := &clock{t: time.Date(2027, 3, 1, 9, 0, 0, 0, time.UTC)}
	e.st.Now = clk.now
	lib := e.srv.lib

	hardened := writeFixture(t, fixture.Debian12Hardened())
	misconfigured := writeFixture(t, fixture.Debian12Misconfigured())
	// Remediated: hardened, but for three SSH settings the owners keep.
	partly := fixture.Debian12Hardened()
	f := partly["/etc/ssh/sshd_config.d/50-hardening.conf"]
	f.Data = strings.NewReplacer("MaxAuthTries 3", "MaxAuthTries 6", "LoginGraceTime 60", "LoginGraceTime 120", "ClientAliveCountMax 1", "ClientAliveCountMax 5").Replace(f.Data)
	partly.Add(f)
	remediated := writeFixture(t, partly)

	e.must("admin", "POST", "/v1/policies/import", api.PolicyImport{IDs: []string{"plumb-linux-l1"}}, 200, nil)
	var g store.Group
	e.must("operator", "POST", "/v1/groups", api.GroupInput{Name: "web", MatchTags: []string{"web"}, Policies: []string{"plumb-linux-l1"}}, 201, &g)
	trees := map[int64]string{}
	var assets []int64
	for i := range 5 {
		var a store.Asset
		e.must("operator", "POST", "/v1/assets", api.AssetInput{Name: fmt.Sprintf("web%d", i+1), Addresses: []string{fmt.Sprintf("10.9.0.%d", i+1)}, Tags: []string{"web"}}, 201, &a)
		assets = append(assets, a.ID)
		trees[a.ID] = hardened
		if i >= 3 {
			trees[a.ID] = misconfigured
		}
	}
	groupQ := fmt.Sprintf("group=%d", g.ID)

	e.scanGroup(g.ID, trees, lib, clk.now)
	start := e.summary(groupQ)
	t.Logf("start: score %.1f%% (%v)", start.Score, start.Counts)
	if start.Score < 55 || start.Score > 67 {
		t.Fatalf("the group starts at %.1f%%, want near 61%%", start.Score)
	}
	e.must("operator", "POST", "/v1/snapshots", "{}", 200, nil)
	day1 := clk.now()

	// Remediation, then a rescan a day later.
	clk.add(24 * time.Hour)
	trees[assets[3]], trees[assets[4]] = remediated, remediated
	e.scanGroup(g.ID, trees, lib, clk.now)
	var fails api.List[store.Result]
	e.must("auditor", "GET", "/v1/posture?status=fail&"+groupQ, nil, 200, &fails)
	var cids []int
	for _, r := range fails.Items {
		if !slices.Contains(cids, r.CID) {
			cids = append(cids, r.CID)
		}
	}
	slices.Sort(cids)
	if len(cids) != 3 || len(fails.Items) != 6 {
		t.Fatalf("after remediation %d failing results of controls %v, want 3 controls on 2 hosts", len(fails.Items), cids)
	}
	before := e.summary(groupQ)

	// The refusals, each with its documented answer.
	expiry := clk.now().Add(30 * 24 * time.Hour)
	req := func(cid int) api.ExceptionInput {
		return api.ExceptionInput{Type: store.RiskAcceptance, Policy: "plumb-linux-l1", CID: cid, Group: g.ID,
			Owner: "web team", Justification: "Legacy load balancer health checks need this until the Q2 migration.", Expires: expiry}
	}
	var pass api.List[store.Result]
	e.must("auditor", "GET", fmt.Sprintf("/v1/posture?status=pass&limit=1&asset=%d", assets[0]), nil, 200, &pass)
	passing := pass.Items[0].CID
	refusals := []struct {
		name   string
		in     api.ExceptionInput
		status int
		field  string
	}{
		{"missing justification", func() api.ExceptionInput { r := req(cids[0]); r.Justification = " "; return r }(), 400, "justification"},
		{"expiry in the past", func() api.ExceptionInput { r := req(cids[0]); r.Expires = clk.now().Add(-time.Hour); return r }(), 400, "expires"},
		{"expiry too far", func() api.ExceptionInput {
			r := req(cids[0])
			r.Expires = clk.now().Add(400 * 24 * time.Hour)
			return r
		}(), 400, "expires"},
		{"unknown CID", req(99999999), 400, "cid"},
		{"control that passes", req(passing), 409, "cid"},
		{"unknown type", func() api.ExceptionInput { r := req(cids[0]); r.Type = "because"; return r }(), 400, "type"},
		{"no scope", func() api.ExceptionInput { r := req(cids[0]); r.Group = 0; return r }(), 400, "assets"},
	}
	for _, c := range refusals {
		status, data := e.do("operator", "POST", "/v1/exceptions", c.in)
		if p := problemOf(t, data); status != c.status || p.Field != c.field {
			t.Errorf("%s: %d %s, want %d naming %s", c.name, status, data, c.status, c.field)
		}
	}

	// Three requests by the operator, approved by the approver.
	var exs []store.Exception
	for _, cid := range cids {
		var x store.Exception
		e.must("operator", "POST", "/v1/exceptions", req(cid), 201, &x)
		if x.Status != store.Pending || x.RequestedBy != "token:operator-token" {
			t.Errorf("requested %+v", x)
		}
		exs = append(exs, x)
	}
	if s := e.summary(groupQ); s.Score != before.Score {
		t.Errorf("pending exceptions changed the score: %.1f -> %.1f", before.Score, s.Score)
	}
	if status, _ := e.do("operator", "POST", fmt.Sprintf("/v1/exceptions/%d/approve", exs[0].ID), "{}"); status != 403 {
		t.Errorf("operator approving: %d, want 403 (not an approver)", status)
	}
	// Four eyes: an approver may not approve what they requested.
	var own store.Exception
	e.must("approver", "POST", "/v1/exceptions", func() api.ExceptionInput { r := req(cids[0]); r.Assets, r.Group = []int64{assets[3]}, 0; return r }(), 201, &own)
	status, data := e.do("approver", "POST", fmt.Sprintf("/v1/exceptions/%d/approve", own.ID), "{}")
	if status != 403 || problemOf(t, data).Type != "urn:plumb:problem:four-eyes" {
		t.Errorf("self-approval: %d %s, want 403 four-eyes", status, data)
	}
	e.must("approver", "POST", fmt.Sprintf("/v1/exceptions/%d/revoke", own.ID), "{}", 200, nil)
	for _, x := range exs {
		e.must("approver", "POST", fmt.Sprintf("/v1/exceptions/%d/approve", x.ID), "{}", 200, nil)
	}

	after := e.summary(groupQ)
	e.must("operator", "POST", "/v1/snapshots", "{}", 200, nil)
	day2 := clk.now()
	t.Logf("remediated and excepted: score %.1f%% (%v), was %.1f%% without the exceptions", after.Score, after.Counts, before.Score)
	if after.Score <= 90 || after.Score <= before.Score || after.Counts[result.Fail] != 0 {
		t.Errorf("with the exceptions: %+v, want above 90%% and no plain fail", after)
	}
	e.must("auditor", "GET", "/v1/posture?status=fail&"+groupQ, nil, 200, &fails)
	for _, r := range fails.Items {
		if r.Excepted == nil || r.Excepted.Justification == "" || !r.Excepted.Expires.Equal(expiry) || r.Excepted.Type != store.RiskAcceptance {
			t.Errorf("posture item cid %d on asset %d: excepted %+v", r.CID, r.AssetID, r.Excepted)
		}
	}
	var listed api.List[store.Exception]
	e.must("auditor", "GET", "/v1/exceptions?status=approved", nil, 200, &listed)
	if len(listed.Items) != 3 || listed.Items[0].Justification == "" || listed.Items[0].ApprovedBy != "token:approver-token" {
		t.Errorf("approved exceptions: %+v", listed.Items)
	}
	// The auditor's artefact: the signed policy report shows the same.
	e.checkPolicyReport(g.ID, "plumb-linux-l1", after, req(cids[0]).Justification)

	// Expiring soon: not yet 14 days ahead; shown a week before expiry.
	e.must("auditor", "GET", "/v1/exceptions/expiring", nil, 200, &listed)
	if len(listed.Items) != 0 {
		t.Errorf("expiring 30 days ahead: %d listed in the 14-day window", len(listed.Items))
	}
	clk.set(expiry.Add(-7 * 24 * time.Hour))
	e.must("auditor", "GET", "/v1/exceptions/expiring", nil, 200, &listed)
	if len(listed.Items) != 3 {
		t.Errorf("a week before expiry: %d expiring, want 3", len(listed.Items))
	}

	// Past expiry: plain fails again, computed when read, no job run.
	clk.set(expiry.Add(time.Minute))
	expired := e.summary(groupQ)
	t.Logf("after expiry: score %.1f%% (%v)", expired.Score, expired.Counts)
	if expired.Counts[result.Fail] != 6 || expired.Score >= after.Score {
		t.Errorf("after expiry: %+v, want the 6 fails back", expired)
	}
	e.must("auditor", "GET", "/v1/exceptions?status=expired", nil, 200, &listed)
	if len(listed.Items) != 3 {
		t.Errorf("%d expired exceptions, want 3", len(listed.Items))
	}

	// The trend shows the story day by day, and the changes between the
	// first and the second scan are the remediation.
	e.must("operator", "POST", "/v1/snapshots", "{}", 200, nil)
	var trend api.List[store.TrendPoint]
	e.must("auditor", "GET", fmt.Sprintf("/v1/trend?scope=group&key=%d&granularity=day&from=%s", g.ID, day1.Format(time.DateOnly)), nil, 200, &trend)
	var scores []float64
	for _, p := range trend.Items {
		scores = append(scores, p.Score)
	}
	if len(scores) != 3 || scores[0] != start.Score || scores[1] != after.Score || scores[2] != expired.Score {
		t.Errorf("daily trend %v, want [%.1f %.1f %.1f]", scores, start.Score, after.Score, expired.Score)
	}
	trendPDF, _ := e.getPDF("auditor", fmt.Sprintf("/v1/reports/trend?scope=group&key=%d&granularity=day&from=%s", g.ID, day1.Format(time.DateOnly)))
	if text := pdfText(t, trendPDF); !strings.Contains(text, "group web") || !strings.Contains(text, fmt.Sprintf("%.1f", after.Score)) {
		t.Errorf("the trend report lacks the group or its score %.1f:\n%s", after.Score, text)
	}
	e.must("auditor", "GET", fmt.Sprintf("/v1/trend?scope=group&key=%d&granularity=month&from=%s", g.ID, day1.Format(time.DateOnly)), nil, 200, &trend)
	if len(trend.Items) != 2 || trend.Items[1].Score != expired.Score { // March, then April
		t.Errorf("monthly trend: %+v", trend.Items)
	}
	var changes api.List[store.Change]
	e.must("auditor", "GET", fmt.Sprintf("/v1/changes?%s&limit=1000&from=%s&to=%s", groupQ, day1.Format(time.RFC3339), day2.Format(time.RFC3339)), nil, 200, &changes)
	fixed := 0
	for _, c := range changes.Items {
		if c.From == result.Fail && c.To == result.Pass {
			fixed++
		}
		if c.AssetID != assets[3] && c.AssetID != assets[4] {
			t.Errorf("change on an asset that did not change: %+v", c)
			break
		}
	}
	if fixed < 300 || fixed != len(changes.Items) {
		t.Errorf("changes between the scans: %d Fail -> Pass of %d", fixed, len(changes.Items))
	}
	var byAsset api.List[store.ScoreRow]
	e.must("auditor", "GET", "/v1/scores?by=asset&"+groupQ, nil, 200, &byAsset)
	if len(byAsset.Items) != 5 || byAsset.Items[0].Score > byAsset.Items[4].Score {
		t.Errorf("scores by asset: %+v", byAsset.Items)
	}
	var byMandate api.List[store.ScoreRow]
	e.must("auditor", "GET", "/v1/scores?by=mandate&"+groupQ, nil, 200, &byMandate)
	mandates := map[string]bool{}
	for _, r := range byMandate.Items {
		mandates[r.Key] = true
	}
	if !mandates["cis"] || !mandates["stig"] {
		t.Errorf("scores by mandate: %+v", byMandate.Items)
	}

	// Renewal needs a new approval by someone else than its requester.
	e.must("operator", "POST", fmt.Sprintf("/v1/exceptions/%d/renew", exs[0].ID), api.Renewal{Expires: clk.now().Add(60 * 24 * time.Hour)}, 200, nil)
	e.must("approver", "POST", fmt.Sprintf("/v1/exceptions/%d/approve", exs[0].ID), "{}", 200, nil)
	if s := e.summary(groupQ); s.Counts[result.Fail] != 4 {
		t.Errorf("after one renewal: %v, want 4 plain fails", s.Counts)
	}

	// The history is hash-chained: intact, then one edited row is found.
	var check api.LogCheck
	e.must("auditor", "GET", "/v1/exceptions/verify", nil, 200, &check)
	if !check.OK || check.Checked < 9 {
		t.Fatalf("intact log: %+v", check)
	}
	var hist api.List[store.ExceptionEvent]
	e.must("auditor", "GET", fmt.Sprintf("/v1/exceptions/%d/history", exs[0].ID), nil, 200, &hist)
	if len(hist.Items) != 4 { // request, approve, renew, approve
		t.Fatalf("history of exception %d: %+v", exs[0].ID, hist.Items)
	}
	db, err := sql.Open("sqlite", filepath.Join(e.dir, "plumb.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE exception_events SET detail = replace(detail, 'Legacy', 'Modern') WHERE id = ?`, hist.Items[0].ID); err != nil {
		t.Fatal(err)
	}
	e.must("auditor", "GET", "/v1/exceptions/verify", nil, 200, &check)
	if check.OK || check.Bad == nil || check.Bad.ID != hist.Items[0].ID {
		got, _ := json.Marshal(check)
		t.Errorf("tampered log: %s, want entry %d reported", got, hist.Items[0].ID)
	}
}
