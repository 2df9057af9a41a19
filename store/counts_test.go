package store

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
)

// postureCountRow is one row of posture_counts.
type postureCountRow struct {
	asset, n, w int64
	policy      string
	crit        int
	status      string
}

// wantPostureCounts fails t unless posture_counts (its nonzero rows)
// equals the posture counted per asset, policy, criticality and status,
// with the weights summed.
func wantPostureCounts(t *testing.T, s *Store, when string) {
	t.Helper()
	read := func(q string) []postureCountRow {
		return must[[]postureCountRow](t)(queryAll(ctx, s.read(), q, nil, func(r scanner) (postureCountRow, error) {
			var x postureCountRow
			err := r.Scan(&x.asset, &x.policy, &x.crit, &x.status, &x.n, &x.w)
			return x, err
		}))
	}
	got := read(`SELECT asset_id, policy, criticality, status, n, w FROM posture_counts WHERE n > 0
		ORDER BY asset_id, policy, criticality, status`)
	want := read(`SELECT asset_id, policy, criticality, status, COUNT(*), SUM(COALESCE(weight, criticality)) FROM posture
		GROUP BY asset_id, policy, criticality, status ORDER BY asset_id, policy, criticality, status`)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: posture_counts = %v, want %v", when, got, want)
	}
	if len(want) == 0 {
		t.Fatalf("%s: no posture to count", when)
	}
}

// mixed is n results of policy p at time at whose status and criticality
// turn with shift: a change of shift changes both for most controls.
func mixed(p string, n, shift int, at time.Time) []Result {
	rs := results(p, n, result.Pass, at)
	statuses := []result.Status{result.Pass, result.Fail, result.Error, result.NA}
	for i := range rs {
		rs[i].Status = statuses[(i+shift)%len(statuses)]
		rs[i].Criticality = policy.Criticality(1 + (i+shift)%5)
	}
	return rs
}

// testPostureCounts: posture_counts equals a GROUP BY over the posture
// after completions that change statuses and criticalities, an older
// result that must not replace the posture, a deleted asset, and jobs of
// the same assets completed at once from two Stores (some failed, with
// and without a technology).
func testPostureCounts(t *testing.T, s *Store) {
	clk := newClock()
	s.Now = clk.Now
	for _, p := range []string{"p", "q"} {
		must[Policy](t)(s.PutPolicy(ctx, Policy{ID: p, Body: []byte("{}")}, "x"))
	}
	var as []int64
	for _, n := range []string{"a", "b", "c"} {
		as = append(as, must[Asset](t)(s.CreateAsset(ctx, Asset{Name: n}, "x")).ID)
	}
	complete := func(s *Store, j Job, out JobOutcome) {
		t.Helper()
		if err := s.CompleteJob(ctx, j.ID, j.Attempt, out); err != nil {
			t.Error(err)
		}
	}
	claimAll := func(assets []int64) []Job {
		t.Helper()
		must[Scan](t)(s.CreateScan(ctx, Scan{}, assets, "x"))
		var jobs []Job
		for range assets {
			j, ok, err := s.ClaimJob(ctx, "w", time.Minute)
			if err != nil || !ok {
				t.Fatalf("claim: %v %v", ok, err)
			}
			jobs = append(jobs, j)
		}
		return jobs
	}

	t0 := clk.Now()
	for i, j := range claimAll(as) {
		complete(s, j, JobOutcome{Technology: "debian-12", Results: append(mixed("p", 20, i, t0), mixed("q", 7, i, t0)...)})
	}
	wantPostureCounts(t, s, "first scan")

	t1 := t0.Add(time.Hour)
	for i, j := range claimAll(as) {
		rs := mixed("p", 20, i+1, t1) // every status and criticality moves
		if i == 1 {
			rs = mixed("p", 20, i+2, t0.Add(-time.Hour)) // older: the posture keeps the first scan
		}
		complete(s, j, JobOutcome{Technology: "debian-12", Results: rs})
	}
	wantPostureCounts(t, s, "second scan")

	check(t, s.DeleteAsset(ctx, as[2], "x"))
	wantPostureCounts(t, s, "asset deleted")
	as = as[:2]

	// Jobs of the same two assets, four scans at once, completed together
	// from two Stores: each asset's jobs race on its posture.
	stores := []*Store{s, reopen(t, s)}
	for round := range 4 {
		var jobs []Job
		for range 4 {
			jobs = append(jobs, claimAll(as)...)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, j := range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				at := t1.Add(time.Duration(round*10+i) * time.Minute)
				out := JobOutcome{Technology: "debian-12", Results: mixed("p", 20, round+i, at)}
				switch i % 4 {
				case 1:
					out.Results = mixed("q", 7, round+i, at)
				case 2:
					out = JobOutcome{Error: "unreachable", Results: mixed("p", 10, round+i+1, at)}
				}
				<-start
				complete(stores[i%2], j, out)
			}()
		}
		close(start)
		wg.Wait()
		wantPostureCounts(t, s, "concurrent completions")
	}

	// The scores read from posture_counts still equal PostureSummary.
	for _, a := range as {
		sum := must[result.Summary](t)(s.PostureSummary(ctx, ResultFilter{Asset: a}))
		rows := must[[]ScoreRow](t)(s.Scores(ctx, "asset", ResultFilter{Asset: a}))
		if len(rows) != 1 || !reflect.DeepEqual(rows[0].Summary, sum) {
			t.Fatalf("scores of asset %d = %+v, want %+v", a, rows, sum)
		}
	}
	// Summaries narrowed by policy, criticality or status (read from
	// posture_counts) equal the posture rows they select, summarized.
	for _, f := range []ResultFilter{{Policy: "q"}, {Criticality: 3}, {Status: "fail"}, {Policy: "p", Criticality: 2, Asset: as[1]}} {
		var rs []result.Result
		for _, r := range must[[]Result](t)(s.Posture(ctx, ResultFilter{Policy: f.Policy, Criticality: f.Criticality, Status: f.Status,
			Asset: f.Asset, Page: Page{Limit: 1000}})) {
			rs = append(rs, r.Result)
		}
		if got, want := must[result.Summary](t)(s.PostureSummary(ctx, f)), result.Summarize(rs); !reflect.DeepEqual(got, want) {
			t.Errorf("PostureSummary(%+v) = %+v\nwant %+v", f, got, want)
		}
		rows := must[[]ScoreRow](t)(s.Scores(ctx, ScopePolicy, f))
		for _, row := range rows {
			var sub []result.Result
			for _, r := range must[[]Result](t)(s.Posture(ctx, ResultFilter{Policy: row.Key, Criticality: f.Criticality, Status: f.Status,
				Asset: f.Asset, Page: Page{Limit: 1000}})) {
				sub = append(sub, r.Result)
			}
			if want := result.Summarize(sub); !reflect.DeepEqual(row.Summary, want) {
				t.Errorf("Scores by policy %s (%+v) = %+v\nwant %+v", row.Key, f, row.Summary, want)
			}
		}
	}
}
