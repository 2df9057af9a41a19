package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
)

// The exception tests of the contract suite (testStore runs them on both
// databases).

// exceptionFixture is a policy, assets web1 and web2 (tagged web), db1
// (untagged), the tag group "web" and a static group holding db1.
type exceptionFixture struct {
	clock            *clock
	web1, web2, db1  Asset
	webGroup, static Group
}

func newExceptionFixture(t *testing.T, s *Store) exceptionFixture {
	t.Helper()
	f := exceptionFixture{clock: newClock()}
	s.Now = f.clock.Now
	must[Policy](t)(s.PutPolicy(ctx, Policy{ID: "cis", Body: []byte("{}")}, "x"))
	f.web1 = must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "web1", Tags: []string{"web"}}, "x"))
	f.web2 = must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "web2", Tags: []string{"Web"}}, "x"))
	f.db1 = must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "db1"}, "x"))
	f.webGroup = must[Group](t)(s.CreateGroup(ctx, Group{Name: "web", MatchTags: []string{"web"}}, "x"))
	f.static = must[Group](t)(s.CreateGroup(ctx, Group{Name: "static", Members: []int64{f.db1.ID}}, "x"))
	return f
}

// request is a valid request of an exception of cis control cid on
// assets (or, with none, the web group), expiring in 30 days.
func (f exceptionFixture) request(cid int, assets ...int64) Exception {
	e := Exception{Type: RiskAcceptance, Policy: "cis", CID: cid, Assets: assets, Owner: "web team",
		Justification: "the load balancer needs it until Q2", Expires: f.clock.Now().Add(30 * 24 * time.Hour)}
	if len(assets) == 0 {
		e.Group = f.webGroup.ID
	}
	return e
}

// approved requests e as alice and has bob approve it.
func approved(t *testing.T, s *Store, e Exception) Exception {
	t.Helper()
	e = must[Exception](t)(s.RequestException(ctx, e, "alice"))
	return must[Exception](t)(s.DecideException(ctx, e.ID, "approve", nil, "bob"))
}

// scanAssets runs one scan of assets, each job posting rs(asset).
func scanAssets(t *testing.T, s *Store, assets []int64, rs func(asset int64) []Result) {
	t.Helper()
	sc := must[Scan](t)(s.CreateScan(ctx, Scan{}, assets, "x"))
	for range sc.Jobs {
		j, ok, err := s.ClaimJob(ctx, "w", time.Minute)
		if err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		check(t, s.CompleteJob(ctx, j.ID, j.Attempt, JobOutcome{Results: rs(j.AssetID)}))
	}
}

// failing is cis controls 1..5 at at, 1 and 2 failing with actual.
func failing(at time.Time, actual ...string) []Result {
	rs := results("cis", 5, result.Pass, at)
	for i := range 2 {
		rs[i].Status = result.Fail
		if actual != nil {
			rs[i].Actual = actual
		}
	}
	return rs
}

func wantInvalid(t testing.TB, err error, field string) {
	t.Helper()
	var inv *InvalidError
	if !errors.As(err, &inv) || inv.Field != field {
		t.Fatalf("err = %v, want an InvalidError on %s", err, field)
	}
}

func testExceptionRequest(t *testing.T, s *Store) {
	f := newExceptionFixture(t, s)
	tests := []struct {
		name     string
		edit     func(e *Exception)
		field    string // an InvalidError on field
		notFound string // else an ErrNotFound mentioning this
	}{
		{"unknown type", func(e *Exception) { e.Type = "because" }, "type", ""},
		{"no justification", func(e *Exception) { e.Justification = " \n" }, "justification", ""},
		{"no owner", func(e *Exception) { e.Owner = "" }, "owner", ""},
		{"no expiry", func(e *Exception) { e.Expires = time.Time{} }, "expires", ""},
		{"expiry now", func(e *Exception) { e.Expires = f.clock.Now() }, "expires", ""},
		{"expiry past", func(e *Exception) { e.Expires = f.clock.Now().Add(-time.Hour) }, "expires", ""},
		{"no cid", func(e *Exception) { e.CID = 0 }, "cid", ""},
		{"negative cid", func(e *Exception) { e.CID = -3 }, "cid", ""},
		{"no policy", func(e *Exception) { e.Policy = "" }, "policy", ""},
		{"no scope", func(e *Exception) { e.Assets, e.Group = nil, 0 }, "assets", ""},
		{"assets and group", func(e *Exception) { e.Assets = []int64{f.web1.ID} }, "assets", ""},
		{"unknown policy", func(e *Exception) { e.Policy = "nope" }, "", "policy"},
		{"unknown asset", func(e *Exception) { e.Assets, e.Group = []int64{f.web1.ID, 999}, 0 }, "", "assets[1]"},
		{"unknown group", func(e *Exception) { e.Group = 999 }, "", "group 999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := f.request(1)
			tt.edit(&e)
			_, err := s.RequestException(ctx, e, "alice")
			if tt.field != "" {
				wantInvalid(t, err, tt.field)
			} else {
				wantNotFound(t, err, tt.notFound)
			}
		})
	}
	if es := must[[]Exception](t)(s.ListExceptions(ctx, ExceptionFilter{})); len(es) != 0 {
		t.Fatalf("refused requests were stored: %+v", es)
	}

	in := f.request(3, f.web2.ID, f.web1.ID, f.web2.ID)
	in.Status, in.ApprovedBy, in.RequestedBy = Approved, "mallory", "mallory" // ignored
	e := must[Exception](t)(s.RequestException(ctx, in, "alice"))
	if e.ID == 0 || e.Status != Pending || e.RequestedBy != "alice" || e.ApprovedBy != "" || e.Decided != nil ||
		!slices.Equal(e.Assets, []int64{f.web1.ID, f.web2.ID}) || !e.Created.Equal(f.clock.Now()) || !e.Expires.Equal(in.Expires) {
		t.Fatalf("RequestException = %+v", e)
	}
	if got := must[Exception](t)(s.GetException(ctx, e.ID)); !reflect.DeepEqual(got, e) {
		t.Fatalf("GetException = %+v\nwant %+v", got, e)
	}
	g := must[Exception](t)(s.RequestException(ctx, f.request(3), "alice"))
	if got := must[Exception](t)(s.GetException(ctx, g.ID)); got.Group != f.webGroup.ID || got.Assets == nil || len(got.Assets) != 0 {
		t.Fatalf("group exception = %+v", got)
	}
	_, err := s.GetException(ctx, 999)
	wantNotFound(t, err, "exception 999")

	hist := must[[]ExceptionEvent](t)(s.ExceptionHistory(ctx, e.ID))
	if len(hist) != 1 || hist[0].Action != "request" || hist[0].Actor != "alice" || !hist[0].Time.Equal(f.clock.Now()) ||
		hist[0].ExceptionID != e.ID || hist[0].PrevHash != "" || len(hist[0].Hash) != 64 {
		t.Fatalf("history = %+v", hist)
	}
	var detail map[string]any
	check(t, json.Unmarshal([]byte(hist[0].Detail), &detail))
	if detail["justification"] != in.Justification || detail["type"] != RiskAcceptance || detail["cid"] != 3.0 {
		t.Fatalf("request detail = %s", hist[0].Detail)
	}
	_, err = s.ExceptionHistory(ctx, 999)
	wantNotFound(t, err, "exception 999")
	acts := auditActions(t, s)
	if want := "exception.request exception/" + fmt.Sprint(e.ID); !slices.Contains(acts, want) {
		t.Fatalf("audit %q, want %q", acts, want)
	}
}

func wantStatusConflict(t testing.TB, err error, status string) {
	t.Helper()
	wantConflict(t, err, "status", status)
}

// testExceptionDecisions walks the states: every transition, and every
// refusal with the effective status it reports.
func testExceptionDecisions(t *testing.T, s *Store) {
	f := newExceptionFixture(t, s)
	type step struct {
		actor, action string
		renewFor      time.Duration // renew: the new expiry, from now
		advance       time.Duration // the clock moves first
		status        string        // the status after, or the status a refusal reports
		err           error         // ErrSelfApproval
		conflict      bool
		invalid       string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"approve", []step{
			{actor: "alice", action: "approve", err: ErrSelfApproval, status: Pending},
			{actor: "bob", action: "approve", status: Approved},
			{actor: "carol", action: "approve", conflict: true, status: Approved},
			{actor: "carol", action: "reject", conflict: true, status: Approved},
			{actor: "carol", action: "revoke", status: Revoked},
			{actor: "carol", action: "revoke", conflict: true, status: Revoked},
			{actor: "carol", action: "renew", renewFor: time.Hour, conflict: true, status: Revoked},
			{actor: "carol", action: "approve", conflict: true, status: Revoked},
		}},
		{"reject", []step{
			{actor: "alice", action: "reject", err: ErrSelfApproval, status: Pending},
			{actor: "alice", action: "renew", renewFor: time.Hour, conflict: true, status: Pending},
			{actor: "bob", action: "reject", status: Rejected},
			{actor: "carol", action: "approve", conflict: true, status: Rejected},
			{actor: "carol", action: "revoke", conflict: true, status: Rejected},
			{actor: "carol", action: "renew", renewFor: time.Hour, conflict: true, status: Rejected},
		}},
		{"revoke pending, by its requester", []step{
			{actor: "alice", action: "revoke", status: Revoked},
		}},
		{"renew needs a new approval by someone else", []step{
			{actor: "bob", action: "approve", status: Approved},
			{actor: "carol", action: "renew", invalid: "expires"},
			{actor: "carol", action: "renew", renewFor: -time.Minute, invalid: "expires"},
			{actor: "carol", action: "renew", renewFor: 60 * 24 * time.Hour, status: Pending},
			{actor: "carol", action: "approve", err: ErrSelfApproval, status: Pending},
			{actor: "alice", action: "approve", status: Approved},
		}},
		{"expiry", []step{
			{actor: "bob", action: "approve", status: Approved},
			{advance: 30*24*time.Hour - time.Second, actor: "bob", action: "approve", conflict: true, status: Approved},
			{advance: time.Second, actor: "bob", action: "approve", conflict: true, status: Expired},
			{actor: "bob", action: "reject", conflict: true, status: Expired},
			{actor: "carol", action: "renew", renewFor: 40 * 24 * time.Hour, status: Pending},
			{actor: "bob", action: "approve", status: Approved},
			{advance: 11 * 24 * time.Hour, actor: "bob", action: "revoke", status: Revoked},
		}},
		{"an expired request cannot be approved", []step{
			{advance: 31 * 24 * time.Hour, actor: "bob", action: "approve", invalid: "expires"},
			{actor: "bob", action: "revoke", status: Revoked},
		}},
		{"unknown action", []step{
			{actor: "bob", action: "bless", invalid: "action"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := must[Exception](t)(s.RequestException(ctx, f.request(1, f.web1.ID), "alice"))
			actions := []string{"request"}
			for i, st := range tt.steps {
				f.clock.Add(st.advance)
				var expires *time.Time
				if st.renewFor != 0 {
					x := f.clock.Now().Add(st.renewFor)
					expires = &x
				}
				got, err := s.DecideException(ctx, e.ID, st.action, expires, st.actor)
				switch {
				case st.err != nil:
					if !errors.Is(err, st.err) {
						t.Fatalf("step %d (%s by %s): err = %v, want %v", i, st.action, st.actor, err, st.err)
					}
				case st.conflict:
					wantStatusConflict(t, err, st.status)
				case st.invalid != "":
					wantInvalid(t, err, st.invalid)
				default:
					if err != nil {
						t.Fatalf("step %d (%s by %s): %v", i, st.action, st.actor, err)
					}
					actions = append(actions, st.action)
					if got.Status != st.status {
						t.Fatalf("step %d (%s by %s): status %s, want %s", i, st.action, st.actor, got.Status, st.status)
					}
					switch st.action {
					case "approve", "reject", "revoke":
						if got.ApprovedBy != st.actor || got.Decided == nil || !got.Decided.Equal(f.clock.Now()) {
							t.Fatalf("step %d: decided %+v", i, got)
						}
					case "renew":
						if got.RequestedBy != st.actor || got.ApprovedBy != "" || got.Decided != nil || !got.Expires.Equal(*expires) {
							t.Fatalf("step %d: renewed %+v", i, got)
						}
					}
					if stored := must[Exception](t)(s.GetException(ctx, e.ID)); !reflect.DeepEqual(stored, got) {
						t.Fatalf("step %d: stored %+v\nreturned %+v", i, stored, got)
					}
				}
				if st.status != "" {
					if got := must[Exception](t)(s.GetException(ctx, e.ID)); got.Status != st.status {
						t.Fatalf("step %d: GetException status %s, want %s", i, got.Status, st.status)
					}
				}
			}
			hist := must[[]ExceptionEvent](t)(s.ExceptionHistory(ctx, e.ID))
			if len(hist) != len(actions) {
				t.Fatalf("history %+v, want %q", hist, actions)
			}
			for i, ev := range hist {
				if ev.Action != actions[i] {
					t.Fatalf("history %d is %s, want %s", i, ev.Action, actions[i])
				}
			}
		})
	}
	_, err := s.DecideException(ctx, 999, "approve", nil, "bob")
	wantNotFound(t, err, "exception 999")
	var audited int
	for _, a := range auditActions(t, s) {
		if strings.HasPrefix(a, "exception.") {
			audited++
		}
	}
	if _, n, err := s.VerifyExceptionLog(ctx); err != nil || n != audited {
		t.Fatalf("%d history entries (%v), %d exception audit entries: every change has both", n, err, audited)
	}
}

func testListExceptions(t *testing.T, s *Store) {
	f := newExceptionFixture(t, s)
	day := 24 * time.Hour
	mk := func(e Exception, expires time.Duration, decide string) Exception {
		t.Helper()
		e.Expires = f.clock.Now().Add(expires)
		e = must[Exception](t)(s.RequestException(ctx, e, "alice"))
		if decide != "" {
			e = must[Exception](t)(s.DecideException(ctx, e.ID, decide, nil, "bob"))
		}
		return e
	}
	soon := mk(f.request(1, f.web1.ID), day, "approve")   // web1
	mid := mk(f.request(2), 10*day, "approve")            // web group: web1, web2
	far := mk(f.request(3, f.db1.ID), 30*day, "approve")  // db1
	pending := mk(f.request(1, f.web2.ID), day, "")       // web2
	rejected := mk(f.request(4, f.db1.ID), day, "reject") // db1
	revoked := mk(f.request(5), day, "revoke")            // web group
	other := mk(f.request(1, f.db1.ID), day, "approve")
	must[Policy](t)(s.PutPolicy(ctx, Policy{ID: "stig", Body: []byte("{}")}, "x"))
	stig := mk(func() Exception { e := f.request(1, f.db1.ID); e.Policy = "stig"; return e }(), 20*day, "approve")
	// a static-group exception covers db1 through the group.
	grouped := mk(func() Exception { e := f.request(6); e.Group = f.static.ID; return e }(), 20*day, "")

	id := func(es ...Exception) []int64 { return ids(es, func(e Exception) int64 { return e.ID }) }
	tests := []struct {
		name string
		f    ExceptionFilter
		want []int64
	}{
		{"all", ExceptionFilter{}, id(soon, mid, far, pending, rejected, revoked, other, stig, grouped)},
		{"approved", ExceptionFilter{Status: Approved}, id(soon, mid, far, other, stig)},
		{"pending", ExceptionFilter{Status: Pending}, id(pending, grouped)},
		{"rejected", ExceptionFilter{Status: Rejected}, id(rejected)},
		{"revoked", ExceptionFilter{Status: Revoked}, id(revoked)},
		{"expired", ExceptionFilter{Status: Expired}, []int64{}},
		{"policy", ExceptionFilter{Policy: "stig"}, id(stig)},
		{"cid", ExceptionFilter{CID: 1}, id(soon, pending, other, stig)},
		{"policy and cid", ExceptionFilter{Policy: "cis", CID: 1}, id(soon, pending, other)},
		{"asset listed or in the tag group", ExceptionFilter{Asset: f.web2.ID}, id(mid, pending, revoked)},
		{"asset listed or in the static group", ExceptionFilter{Asset: f.db1.ID}, id(far, rejected, other, stig, grouped)},
		{"expiring within 2 days", ExceptionFilter{ExpiringWithin: 2 * day}, id(soon, other)},
		{"expiring within 14 days", ExceptionFilter{ExpiringWithin: 14 * day}, id(soon, mid, other)},
		{"expiring and asset", ExceptionFilter{ExpiringWithin: 14 * day, Asset: f.web1.ID}, id(soon, mid)},
		{"page", ExceptionFilter{Page: Page{Limit: 2, After: soon.ID}}, id(mid, far)},
	}
	run := func(when string) {
		for _, tt := range tests {
			got := must[[]Exception](t)(s.ListExceptions(ctx, tt.f))
			if g := id(got...); !slices.Equal(g, tt.want) {
				t.Errorf("%s: %s: %v, want %v", when, tt.name, g, tt.want)
			}
		}
	}
	run("now")
	// Two days on: soon and other have expired, when read; nothing ran.
	f.clock.Add(2 * day)
	tests[1].want = id(mid, far, stig)
	tests[5].want = id(soon, other)
	tests[11].want = []int64{}
	tests[12].want = id(mid)
	tests[13].want = id(mid)
	run("two days on")
	for _, e := range must[[]Exception](t)(s.ListExceptions(ctx, ExceptionFilter{})) {
		want := map[int64]string{soon.ID: Expired, other.ID: Expired, pending.ID: Pending, grouped.ID: Pending,
			rejected.ID: Rejected, revoked.ID: Revoked}[e.ID]
		if want == "" {
			want = Approved
		}
		if e.Status != want {
			t.Errorf("exception %d listed as %s, want %s", e.ID, e.Status, want)
		}
		if e.ID == soon.ID && !slices.Equal(e.Assets, []int64{f.web1.ID}) {
			t.Errorf("listed scope %v", e.Assets)
		}
	}
}

// wantSummary checks PostureSummary(f) against what Posture lists for f,
// summarized with its excepted Fails taken out, and returns it.
func wantSummary(t *testing.T, s *Store, f ResultFilter) result.Summary {
	t.Helper()
	counts := map[policy.Criticality]map[result.Status]int{}
	excepted := map[policy.Criticality]int{}
	f.Page = Page{Limit: 1000}
	for _, r := range must[[]Result](t)(s.Posture(ctx, f)) {
		if r.Excepted != nil {
			if r.Status != result.Fail {
				t.Fatalf("a %s is excepted: %+v", r.Status, r)
			}
			excepted[r.Criticality]++
		}
		if counts[r.Criticality] == nil {
			counts[r.Criticality] = map[result.Status]int{}
		}
		counts[r.Criticality][r.Status]++
	}
	got := must[result.Summary](t)(s.PostureSummary(ctx, f))
	if want := result.SummaryExcepting(counts, excepted); !reflect.DeepEqual(got, want) {
		t.Fatalf("PostureSummary(%+v) = %+v\nwant %+v", f, got, want)
	}
	return got
}

// exceptedBy maps "asset/cid" of every Fail of the cis posture to the id
// of the exception that covers it (0: a plain Fail).
func exceptedBy(t *testing.T, s *Store) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, r := range must[[]Result](t)(s.Posture(ctx, ResultFilter{Status: "fail", Policy: "cis"})) {
		var id int64
		if r.Excepted != nil {
			id = r.Excepted.ID
		}
		out[fmt.Sprintf("%d/%d", r.AssetID, r.CID)] = id
	}
	return out
}

// testExceptionPosture: exceptions scoped by assets and by a tag group
// turn Fails into Fail (excepted) when read, leave them out of the
// summary, and stop applying on expiry, revocation, or (when asked) a
// change of evidence.
func testExceptionPosture(t *testing.T, s *Store) {
	f := newExceptionFixture(t, s)
	all := []int64{f.web1.ID, f.web2.ID, f.db1.ID}
	scanAssets(t, s, all, func(int64) []Result { return failing(f.clock.Now()) })
	key := func(a Asset, cid int) string { return fmt.Sprintf("%d/%d", a.ID, cid) }
	want := map[string]int64{key(f.web1, 1): 0, key(f.web1, 2): 0, key(f.web2, 1): 0, key(f.web2, 2): 0, key(f.db1, 1): 0, key(f.db1, 2): 0}
	checkAll := func(when string) {
		t.Helper()
		if got := exceptedBy(t, s); !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: excepted fails %v, want %v", when, got, want)
		}
		for _, rf := range []ResultFilter{{}, {Group: f.webGroup.ID}, {Group: f.static.ID}, {Asset: f.web1.ID},
			{Status: "fail"}, {Status: "pass"}, {CID: 1}, {Policy: "cis", Criticality: 3}, {Group: f.webGroup.ID, CID: 2}} {
			wantSummary(t, s, rf)
		}
	}
	checkAll("no exceptions")
	base := must[result.Summary](t)(s.PostureSummary(ctx, ResultFilter{}))

	// A pending exception changes nothing.
	pending := must[Exception](t)(s.RequestException(ctx, f.request(1), "alice"))
	checkAll("pending")
	// By group (tags): control 1 on web1 and web2.
	byGroup := must[Exception](t)(s.DecideException(ctx, pending.ID, "approve", nil, "bob"))
	want[key(f.web1, 1)], want[key(f.web2, 1)] = byGroup.ID, byGroup.ID
	checkAll("group exception")
	// By asset, reopening on a change of evidence: control 2 on db1.
	e := f.request(2, f.db1.ID)
	e.ReopenOnEvidenceChange = true
	e.Expires = f.clock.Now().Add(60 * 24 * time.Hour)
	reopen := approved(t, s, e)
	want[key(f.db1, 2)] = reopen.ID
	// A second exception of web1's control 1: the lowest id still shows.
	e = f.request(1, f.web1.ID)
	e.Type, e.Expires = MitigatingControl, f.clock.Now().Add(90*24*time.Hour)
	overlap := approved(t, s, e)
	checkAll("three exceptions")
	sum := must[result.Summary](t)(s.PostureSummary(ctx, ResultFilter{}))
	if sum.Excepted != 3 || sum.Counts[result.Fail] != 3 || sum.Total != base.Total || sum.Score <= base.Score {
		t.Fatalf("summary with exceptions %+v, was %+v", sum, base)
	}
	p := must[[]Result](t)(s.Posture(ctx, ResultFilter{Asset: f.web1.ID, CID: 1}))
	if x := p[0].Excepted; x == nil || x.ID != byGroup.ID || x.Type != RiskAcceptance || x.Owner != "web team" ||
		x.Justification != byGroup.Justification || !x.Expires.Equal(byGroup.Expires) {
		t.Fatalf("excepted %+v, want exception %+v", x, byGroup)
	}
	// A new member of the group is covered; the group is read when the
	// posture is.
	web3 := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "web3", Tags: []string{"WEB"}}, "x"))
	f.clock.Add(time.Hour)
	scanAssets(t, s, []int64{web3.ID}, func(int64) []Result { return failing(f.clock.Now()) })
	want[key(web3, 1)], want[key(web3, 2)] = byGroup.ID, 0
	checkAll("a new member")

	// Evidence: the same actual keeps db1's control 2 excepted, another
	// reopens it (the exception without the flag ignores the change).
	f.clock.Add(time.Hour)
	scanAssets(t, s, all, func(int64) []Result { return failing(f.clock.Now()) })
	checkAll("same evidence")
	f.clock.Add(time.Hour)
	scanAssets(t, s, all, func(int64) []Result { return failing(f.clock.Now(), "no", "changed") })
	want[key(f.db1, 2)] = 0
	checkAll("changed evidence")
	f.clock.Add(time.Hour)
	scanAssets(t, s, []int64{f.db1.ID}, func(int64) []Result { return failing(f.clock.Now()) })
	want[key(f.db1, 2)] = reopen.ID
	checkAll("evidence back as approved")
	// A fixed control is no Fail to except.
	f.clock.Add(time.Hour)
	scanAssets(t, s, []int64{f.web2.ID}, func(int64) []Result { return results("cis", 5, result.Pass, f.clock.Now()) })
	delete(want, key(f.web2, 1))
	delete(want, key(f.web2, 2))
	checkAll("fixed")

	// Expiry, when read: the group exception ends, the overlap remains.
	f.clock.Add(30 * 24 * time.Hour)
	want[key(f.web1, 1)], want[key(web3, 1)] = overlap.ID, 0
	checkAll("group exception expired")
	// Revocation.
	must[Exception](t)(s.DecideException(ctx, overlap.ID, "revoke", nil, "carol"))
	want[key(f.web1, 1)] = 0
	checkAll("revoked")
	// Renewal: pending until approved again.
	f.clock.Add(time.Hour)
	renewTo := f.clock.Now().Add(10 * 24 * time.Hour)
	must[Exception](t)(s.DecideException(ctx, byGroup.ID, "renew", &renewTo, "carol"))
	checkAll("renewed, pending")
	must[Exception](t)(s.DecideException(ctx, byGroup.ID, "approve", nil, "bob"))
	want[key(f.web1, 1)], want[key(web3, 1)] = byGroup.ID, byGroup.ID
	checkAll("renewed and approved")
	f.clock.Add(30 * 24 * time.Hour)
	for k := range want {
		want[k] = 0
	}
	checkAll("everything expired")
	if got := must[result.Summary](t)(s.PostureSummary(ctx, ResultFilter{})); got.Excepted != 0 {
		t.Fatalf("after expiry %+v", got)
	}
}

// testExceptionLog: the history's hash chain verifies, an edited entry is
// found, and so is a removed one.
func testExceptionLog(t *testing.T, s *Store) {
	f := newExceptionFixture(t, s)
	if bad, n, err := s.VerifyExceptionLog(ctx); err != nil || bad != nil || n != 0 {
		t.Fatalf("empty log: %v %d %v", bad, n, err)
	}
	for cid := 1; cid <= 3; cid++ {
		e := approved(t, s, f.request(cid, f.web1.ID))
		must[Exception](t)(s.DecideException(ctx, e.ID, "revoke", nil, "carol"))
	}
	bad, n, err := s.VerifyExceptionLog(ctx)
	if err != nil || bad != nil || n != 9 {
		t.Fatalf("intact log: bad %+v, %d checked, %v", bad, n, err)
	}
	var evs []ExceptionEvent
	for _, e := range must[[]Exception](t)(s.ListExceptions(ctx, ExceptionFilter{})) {
		evs = append(evs, must[[]ExceptionEvent](t)(s.ExceptionHistory(ctx, e.ID))...)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].PrevHash != evs[i-1].Hash || evs[i].ID <= evs[i-1].ID {
			t.Fatalf("entry %d does not follow entry %d: %+v", evs[i].ID, evs[i-1].ID, evs)
		}
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := s.db.ExecContext(ctx, s.d.rebind(q), args...); err != nil {
			t.Fatal(err)
		}
	}
	victim := evs[4]
	exec(`UPDATE exception_events SET detail = replace(detail, 'bob', 'eve') WHERE id = ?`, victim.ID)
	bad, n, err = s.VerifyExceptionLog(ctx)
	if err != nil || bad == nil || bad.ID != victim.ID || n != 5 || !strings.Contains(bad.Detail, "eve") {
		t.Fatalf("edited entry %d: bad %+v, %d checked, %v", victim.ID, bad, n, err)
	}
	exec(`UPDATE exception_events SET detail = ? WHERE id = ?`, victim.Detail, victim.ID)
	exec(`DELETE FROM exception_events WHERE id = ?`, evs[6].ID)
	if bad, _, err := s.VerifyExceptionLog(ctx); err != nil || bad == nil || bad.ID != evs[7].ID {
		t.Fatalf("removed entry %d: bad %+v, %v; want the entry after it", evs[6].ID, bad, err)
	}
}

// testExceptionConcurrentLog: two Stores on one database (two server
// replicas) append at once; the chain stays one valid chain.
func testExceptionConcurrentLog(t *testing.T, s *Store) {
	f := newExceptionFixture(t, s)
	s2 := reopen(t, s)
	s2.Now = f.clock.Now
	const each = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*each)
	for i, st := range []*Store{s, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range each {
				e := f.request(1+k, f.web1.ID)
				x, err := st.RequestException(ctx, e, fmt.Sprintf("requester%d", i))
				if err == nil {
					_, err = st.DecideException(ctx, x.ID, "approve", nil, "approver")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	bad, n, err := s.VerifyExceptionLog(ctx)
	if err != nil || bad != nil || n != 2*2*each {
		t.Fatalf("after concurrent appends: bad %+v, %d checked (want %d), %v", bad, n, 4*each, err)
	}
}
