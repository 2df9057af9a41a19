package store

import (
	"errors"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
)

// trendFixture: assets deb (tagged prod, debian-12), rh (rhel-9) and bare
// (never scanned); the tag group prod, a static group of rh, an empty
// group; cis controls 1..10 (1 error, 2 n/a, 3..5 fail on deb, the rest
// pass) and stig 1..5 failing on every scanned asset; cis control 3 of deb
// and stig control 2 of the prod group excepted.
type trendFixture struct {
	clock                *clock
	deb, rh, bare        Asset
	prod, static, empty  Group
	cisExc, stigGroupExc Exception
}

// scanTech runs one scan of assets, each job posting rs(asset) with the
// technology tech(asset).
func scanTech(t *testing.T, s *Store, assets []int64, tech func(int64) string, rs func(int64) []Result) {
	t.Helper()
	sc := must[Scan](t)(s.CreateScan(ctx, Scan{}, assets, "x"))
	for range sc.Jobs {
		j, ok, err := s.ClaimJob(ctx, "w", time.Minute)
		if err != nil || !ok {
			t.Fatalf("claim: %v %v", ok, err)
		}
		check(t, s.CompleteJob(ctx, j.ID, j.Attempt, JobOutcome{Technology: tech(j.AssetID), Results: rs(j.AssetID)}))
	}
}

func newTrendFixture(t *testing.T, s *Store) trendFixture {
	t.Helper()
	f := trendFixture{clock: newClock()}
	s.Now = f.clock.Now
	for _, p := range []string{"cis", "stig"} {
		must[Policy](t)(s.PutPolicy(ctx, Policy{ID: p, Body: []byte("{}")}, "x"))
	}
	f.deb = must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "deb", Tags: []string{"prod"}}, "x"))
	f.rh = must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "rh"}, "x"))
	f.bare = must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "bare"}, "x"))
	f.prod = must[Group](t)(s.CreateGroup(ctx, Group{Name: "prod", MatchTags: []string{"prod"}}, "x"))
	f.static = must[Group](t)(s.CreateGroup(ctx, Group{Name: "static", Members: []int64{f.rh.ID}}, "x"))
	f.empty = must[Group](t)(s.CreateGroup(ctx, Group{Name: "empty"}, "x"))
	tech := func(a int64) string {
		if a == f.rh.ID {
			return "rhel-9"
		}
		return "debian-12"
	}
	scanTech(t, s, []int64{f.deb.ID, f.rh.ID}, tech, func(a int64) []Result {
		rs := append(results("cis", 10, result.Pass, f.clock.Now()), results("stig", 5, result.Fail, f.clock.Now())...)
		rs[0].Status, rs[1].Status = result.Error, result.NA
		if a == f.deb.ID {
			rs[2].Status, rs[3].Status, rs[4].Status = result.Fail, result.Fail, result.Fail
		}
		return rs
	})
	exp := f.clock.Now().Add(30 * 24 * time.Hour)
	f.cisExc = approved(t, s, Exception{Type: RiskAcceptance, Policy: "cis", CID: 3, Assets: []int64{f.deb.ID},
		Owner: "o", Justification: "j", Expires: exp})
	f.stigGroupExc = approved(t, s, Exception{Type: RiskAcceptance, Policy: "stig", CID: 2, Group: f.prod.ID,
		Owner: "o", Justification: "j", Expires: exp})
	return f
}

// scopeFilters maps every scope and key the fixture's snapshots hold to
// the filter PostureSummary takes for it.
func (f trendFixture) scopeFilters() map[[2]string]ResultFilter {
	g := func(x Group) [2]string { return [2]string{ScopeGroup, strconv.FormatInt(x.ID, 10)} }
	return map[[2]string]ResultFilter{
		{ScopeAll, ""}:                 {},
		g(f.prod):                      {Group: f.prod.ID},
		g(f.static):                    {Group: f.static.ID},
		g(f.empty):                     {Group: f.empty.ID},
		{ScopePolicy, "cis"}:           {Policy: "cis"},
		{ScopePolicy, "stig"}:          {Policy: "stig"},
		{ScopeTechnology, "debian-12"}: {Technology: "debian-12"},
		{ScopeTechnology, "rhel-9"}:    {Technology: "rhel-9"},
	}
}

// wantSnapshots checks the snapshot of today of every scope and key is
// the posture summary now, taken now.
func wantSnapshots(t *testing.T, s *Store, f trendFixture) {
	t.Helper()
	for sk, rf := range f.scopeFilters() {
		pts := must[[]TrendPoint](t)(s.Trend(ctx, TrendFilter{Scope: sk[0], Key: sk[1]}))
		if len(pts) != 1 {
			t.Fatalf("trend of %v: %d points, want 1: %+v", sk, len(pts), pts)
		}
		want := wantSummary(t, s, rf)
		if !reflect.DeepEqual(pts[0].Summary, want) || !pts[0].Taken.Equal(f.clock.Now()) ||
			!pts[0].Period.Equal(dayOf(f.clock.Now())) {
			t.Fatalf("snapshot of %v = %+v\nwant %+v taken %v", sk, pts[0], want, f.clock.Now())
		}
	}
}

func testSnapshots(t *testing.T, s *Store) {
	f := newTrendFixture(t, s)
	if stale := must[bool](t)(s.SnapshotsStale(ctx)); !stale {
		t.Fatal("no snapshot yet, and not stale")
	}
	n := must[int](t)(s.TakeSnapshots(ctx))
	if n != len(f.scopeFilters()) {
		t.Fatalf("TakeSnapshots = %d, want %d", n, len(f.scopeFilters()))
	}
	if stale := must[bool](t)(s.SnapshotsStale(ctx)); stale {
		t.Fatal("stale right after TakeSnapshots")
	}
	wantSnapshots(t, s, f)
	if sum := wantSummary(t, s, ResultFilter{}); sum.Excepted != 2 {
		t.Fatalf("fixture: %d excepted, want 2", sum.Excepted)
	}

	// A scan finishes later the same day: stale; a second snapshot
	// replaces the first.
	f.clock.Add(time.Hour)
	scanTech(t, s, []int64{f.deb.ID}, func(int64) string { return "debian-12" }, func(int64) []Result {
		return results("cis", 10, result.Pass, f.clock.Now())
	})
	if stale := must[bool](t)(s.SnapshotsStale(ctx)); !stale {
		t.Fatal("a scan finished after the snapshot, and not stale")
	}
	f.clock.Add(time.Minute)
	// The exception on the prod group expires at read time: revoke the
	// control-3 one, so the second snapshot differs in excepted counts.
	must[Exception](t)(s.DecideException(ctx, f.cisExc.ID, "revoke", nil, "bob"))
	must[int](t)(s.TakeSnapshots(ctx))
	if stale := must[bool](t)(s.SnapshotsStale(ctx)); stale {
		t.Fatal("stale right after the second TakeSnapshots")
	}
	wantSnapshots(t, s, f)
	var rows int
	check(t, s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM snapshots`).Scan(&rows))
	if rows != len(f.scopeFilters()) {
		t.Fatalf("%d snapshot rows after two the same day, want %d", rows, len(f.scopeFilters()))
	}
	// The next day nothing was taken yet: stale.
	f.clock.Add(24 * time.Hour)
	if stale := must[bool](t)(s.SnapshotsStale(ctx)); !stale {
		t.Fatal("no snapshot today, and not stale")
	}
	_, err := s.Trend(ctx, TrendFilter{Scope: "asset"})
	wantInvalid(t, err, "scope")
	_, err = s.Trend(ctx, TrendFilter{Scope: ScopeAll, Granularity: "year"})
	wantInvalid(t, err, "granularity")
}

func testTrendBuckets(t *testing.T, s *Store) {
	c := newClock()
	s.Now = c.Now
	a := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "a"}, "x"))
	scanTech(t, s, []int64{a.ID}, func(int64) string { return "debian-12" }, func(int64) []Result {
		return results("cis", 3, result.Pass, c.Now())
	})
	// Snapshots on every third day from Saturday 2026-01-17 to
	// 2026-05-02, at 08:00 and (replacing it) 20:00 + the day's index
	// in minutes.
	start := time.Date(2026, 1, 17, 0, 0, 0, 0, time.UTC)
	var taken []time.Time
	for d := start; !d.After(time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 3) {
		c.t = d.Add(8 * time.Hour)
		must[int](t)(s.TakeSnapshots(ctx))
		c.t = d.Add(20*time.Hour + time.Duration(len(taken))*time.Minute)
		must[int](t)(s.TakeSnapshots(ctx))
		taken = append(taken, c.t)
	}
	c.t = time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)

	// want is the expected trend: the last snapshot of each period, the
	// periods keyed independently of the code under test.
	want := func(g string, from, to time.Time) []time.Time {
		var keys []string
		var out []time.Time
		for _, tk := range taken {
			day := dayOf(tk)
			if day.Before(from) || day.After(to) {
				continue
			}
			var k string
			switch g {
			case Day:
				k = day.Format(time.DateOnly)
			case Week:
				y, w := day.ISOWeek()
				k = strconv.Itoa(y*100 + w)
			case Month:
				k = day.Format("2006-01")
			case Quarter:
				k = strconv.Itoa(day.Year()*10 + (int(day.Month())-1)/3)
			}
			if n := len(keys); n > 0 && keys[n-1] == k {
				out[n-1] = tk
				continue
			}
			keys = append(keys, k)
			out = append(out, tk)
		}
		return out
	}
	for _, tc := range []struct {
		g        string
		from, to time.Time
	}{
		{Day, time.Time{}, time.Time{}},
		{Week, time.Time{}, time.Time{}},
		{Month, time.Time{}, time.Time{}},
		{Quarter, time.Time{}, time.Time{}},
		{Week, time.Date(2026, 2, 4, 15, 0, 0, 0, time.UTC), time.Date(2026, 3, 11, 1, 0, 0, 0, time.UTC)},
		{Month, time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 15, 0, 0, 0, 0, time.UTC)},
	} {
		from, to := dayOf(tc.from), dayOf(tc.to)
		if tc.to.IsZero() {
			to = dayOf(c.t)
		}
		if tc.from.IsZero() {
			from = to.AddDate(-1, 0, 0)
		}
		g := tc.g
		pts := must[[]TrendPoint](t)(s.Trend(ctx, TrendFilter{Scope: ScopeTechnology, Key: "debian-12", From: tc.from, To: tc.to, Granularity: g}))
		var got []time.Time
		for i, p := range pts {
			got = append(got, p.Taken)
			day := dayOf(p.Taken)
			if p.Period.After(day) || p.Period.Location() != time.UTC || p.Period != dayOf(p.Period) ||
				(i > 0 && !p.Period.After(pts[i-1].Period)) || p.Total != 3 || p.Score != 100 {
				t.Fatalf("%s point %d = %+v", g, i, p)
			}
			switch g {
			case Week:
				if p.Period.Weekday() != time.Monday || day.Sub(p.Period) >= 7*24*time.Hour {
					t.Fatalf("week point %+v does not start on the Monday of its week", p)
				}
			case Month:
				if p.Period.Day() != 1 || p.Period.Month() != day.Month() {
					t.Fatalf("month point %+v", p)
				}
			case Quarter:
				if p.Period.Day() != 1 || (p.Period.Month()-1)%3 != 0 || (day.Month()-1)/3 != (p.Period.Month()-1)/3 {
					t.Fatalf("quarter point %+v", p)
				}
			}
		}
		if w := want(g, from, to); !slices.Equal(got, w) {
			t.Fatalf("%s trend %v..%v taken %v\nwant %v", g, tc.from, tc.to, got, w)
		}
	}
	if pts := must[[]TrendPoint](t)(s.Trend(ctx, TrendFilter{Scope: ScopeGroup, Key: "999"})); len(pts) != 0 {
		t.Fatalf("trend of an unknown group: %+v", pts)
	}
}

func testChanges(t *testing.T, s *Store) {
	c := newClock()
	s.Now = c.Now
	a := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "b-host", Tags: []string{"prod"}}, "x"))
	b := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "a-host"}, "x"))
	g := must[Group](t)(s.CreateGroup(ctx, Group{Name: "prod", MatchTags: []string{"prod"}}, "x"))
	P, F, E, N := result.Pass, result.Fail, result.Error, result.NA
	scan := func(st map[int64][]result.Status) time.Time {
		at := c.Now()
		var ids []int64
		for id := range st {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		scanTech(t, s, ids, func(int64) string { return "debian-12" }, func(id int64) []Result {
			rs := results("cis", len(st[id]), P, at)
			for i := range rs {
				rs[i].Status = st[id][i]
			}
			return rs
		})
		c.Add(24 * time.Hour)
		return at
	}
	t1 := scan(map[int64][]result.Status{a.ID: {P, F, P, F, E, P}, b.ID: {F, F}})
	t2 := scan(map[int64][]result.Status{a.ID: {F, P, P, F, P, N}, b.ID: {F, P}})
	t3 := scan(map[int64][]result.Status{a.ID: {P, P, P, F, P, N}})
	ch := func(asset Asset, cid int, from, to result.Status, at time.Time) Change {
		return Change{AssetID: asset.ID, Asset: asset.Name, Policy: "cis", CID: cid,
			Title: "control " + strconv.Itoa(cid), From: from, To: to, At: at}
	}
	for _, tc := range []struct {
		name     string
		from, to time.Time
		f        ResultFilter
		want     []Change
	}{
		{"t1-t2", t1, t2, ResultFilter{}, []Change{ch(b, 2, F, P, t2), ch(a, 1, P, F, t2), ch(a, 2, F, P, t2)}},
		{"between scans", t1.Add(time.Hour), t2.Add(time.Hour), ResultFilter{}, []Change{ch(b, 2, F, P, t2), ch(a, 1, P, F, t2), ch(a, 2, F, P, t2)}},
		{"t2-t3", t2, t3, ResultFilter{}, []Change{ch(a, 1, F, P, t3)}},
		{"t1-t3: back to pass is no change; At is the last change", t1, t3, ResultFilter{}, []Change{ch(b, 2, F, P, t2), ch(a, 2, F, P, t2)}},
		{"nothing before the first", t1.Add(-time.Hour), t3, ResultFilter{}, []Change{}},
		{"same time", t2, t2, ResultFilter{}, []Change{}},
		{"asset", t1, t2, ResultFilter{Asset: b.ID}, []Change{ch(b, 2, F, P, t2)}},
		{"group", t1, t2, ResultFilter{Group: g.ID}, []Change{ch(a, 1, P, F, t2), ch(a, 2, F, P, t2)}},
		{"cid", t1, t2, ResultFilter{CID: 1}, []Change{ch(a, 1, P, F, t2)}},
		{"policy", t1, t2, ResultFilter{Policy: "stig"}, []Change{}},
		{"technology", t1, t2, ResultFilter{Technology: "rhel-9"}, []Change{}},
		// results() gives control i criticality 1 + i%5.
		{"criticality", t1, t2, ResultFilter{Criticality: 3}, []Change{ch(b, 2, F, P, t2), ch(a, 2, F, P, t2)}},
		{"limit", t1, t2, ResultFilter{Page: Page{Limit: 2}}, []Change{ch(b, 2, F, P, t2), ch(a, 1, P, F, t2)}},
		{"status and scan ignored", t1, t2, ResultFilter{Status: "na", Scan: 999}, []Change{ch(b, 2, F, P, t2), ch(a, 1, P, F, t2), ch(a, 2, F, P, t2)}},
	} {
		got := must[[]Change](t)(s.Changes(ctx, tc.from, tc.to, tc.f))
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Changes = %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
	_, err := s.Changes(ctx, t2, t1, ResultFilter{})
	wantInvalid(t, err, "from")
	_, err = s.Changes(ctx, t1, t2, ResultFilter{Group: 999})
	wantNotFound(t, err, "group 999")
}

func testScores(t *testing.T, s *Store) {
	f := newTrendFixture(t, s)
	filter := func(by, key string, base ResultFilter) ResultFilter {
		id, _ := strconv.ParseInt(key, 10, 64)
		switch by {
		case "asset":
			base.Asset = id
		case ScopeGroup:
			base.Group = id
		case ScopePolicy:
			base.Policy = key
		case ScopeTechnology:
			base.Technology = key
		}
		return base
	}
	wantKeys := map[string][]string{
		"asset":         {strconv.FormatInt(f.deb.ID, 10), strconv.FormatInt(f.rh.ID, 10)},
		ScopeGroup:      {strconv.FormatInt(f.prod.ID, 10), strconv.FormatInt(f.static.ID, 10)},
		ScopePolicy:     {"cis", "stig"},
		ScopeTechnology: {"debian-12", "rhel-9"},
		"criticality":   {"1", "2", "3", "4", "5"},
	}
	for _, base := range []ResultFilter{{}, {Policy: "cis"}, {Group: f.prod.ID, Status: "fail"}} {
		for by, keys := range wantKeys {
			rows := must[[]ScoreRow](t)(s.Scores(ctx, by, base))
			var got []string
			for i, r := range rows {
				got = append(got, r.Key)
				if i > 0 && r.Score < rows[i-1].Score {
					t.Fatalf("Scores(%s, %+v) not by score: %+v", by, base, rows)
				}
				if by == "criticality" {
					n, _ := strconv.Atoi(r.Key)
					if want := critSummary(t, s, base, n); !reflect.DeepEqual(r.Summary, want) ||
						r.Name != policy.Criticality(n).String() {
						t.Fatalf("Scores(criticality, %+v) row %s %s = %+v\nwant %+v", base, r.Key, r.Name, r.Summary, want)
					}
					continue
				}
				want := wantSummary(t, s, filter(by, r.Key, base))
				if !reflect.DeepEqual(r.Summary, want) {
					t.Fatalf("Scores(%s, %+v) row %s = %+v\nwant %+v", by, base, r.Key, r.Summary, want)
				}
				switch by {
				case "asset":
					if r.Name != map[int64]string{f.deb.ID: "deb", f.rh.ID: "rh"}[must[int64](t)(strconv.ParseInt(r.Key, 10, 64))] {
						t.Fatalf("asset row name %q", r.Name)
					}
				case ScopeGroup:
					if r.Name != map[int64]string{f.prod.ID: "prod", f.static.ID: "static"}[must[int64](t)(strconv.ParseInt(r.Key, 10, 64))] {
						t.Fatalf("group row name %q", r.Name)
					}
				}
			}
			slices.Sort(got)
			if reflect.DeepEqual(base, ResultFilter{}) && !slices.Equal(got, keys) {
				t.Fatalf("Scores(%s, %+v) keys %v, want %v", by, base, got, keys)
			}
		}
	}
	_, err := s.Scores(ctx, "color", ResultFilter{})
	wantInvalid(t, err, "by")
	_, err = s.Scores(ctx, "asset", ResultFilter{Group: 999})
	wantNotFound(t, err, "group 999")
}

// critSummary is the summary of the posture f selects of criticality n
// exactly, from the items Posture lists.
func critSummary(t *testing.T, s *Store, f ResultFilter, n int) result.Summary {
	t.Helper()
	counts := map[policy.Criticality]map[result.Status]int{}
	excepted := map[policy.Criticality]int{}
	f.Page = Page{Limit: 1000}
	for _, r := range must[[]Result](t)(s.Posture(ctx, f)) {
		if int(r.Criticality) != n {
			continue
		}
		if r.Excepted != nil {
			excepted[r.Criticality]++
		}
		if counts[r.Criticality] == nil {
			counts[r.Criticality] = map[result.Status]int{}
		}
		counts[r.Criticality][r.Status]++
	}
	return result.SummaryExcepting(counts, excepted)
}

// testScoresByMandate: one asset, cis controls 1..5 referencing cis and
// stig (1, fail), cis (2, pass), nothing (3, fail), stig (4, pass) and
// stig (5, fail, excepted); the rows match the items Posture lists per
// mandate.
func testScoresByMandate(t *testing.T, s *Store) {
	c := newClock()
	s.Now = c.Now
	must[Policy](t)(s.PutPolicy(ctx, Policy{ID: "cis", Body: []byte("{}")}, "x"))
	a := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "a"}, "x"))
	refs := []map[string][]string{
		{"cis": {"5.2.7"}, "stig": {"V-238218"}}, {"cis": {"5.2.8"}}, nil, {"stig": {"V-1"}}, {"stig": {"V-2"}},
	}
	scanTech(t, s, []int64{a.ID}, func(int64) string { return "debian-12" }, func(int64) []Result {
		rs := results("cis", 5, result.Pass, c.Now())
		for i := range rs {
			rs[i].References = refs[i]
		}
		rs[0].Status, rs[2].Status, rs[4].Status = result.Fail, result.Fail, result.Fail
		return rs
	})
	approved(t, s, Exception{Type: RiskAcceptance, Policy: "cis", CID: 5, Assets: []int64{a.ID},
		Owner: "o", Justification: "j", Expires: c.Now().Add(24 * time.Hour)})
	for _, tc := range []struct {
		f      ResultFilter
		totals map[string]int // per mandate
	}{
		{ResultFilter{}, map[string]int{"cis": 2, "stig": 3}},
		{ResultFilter{Status: "fail"}, map[string]int{"cis": 1, "stig": 2}},
		{ResultFilter{CID: 3}, map[string]int{}},
	} {
		rows := must[[]ScoreRow](t)(s.Scores(ctx, ScopeMandate, tc.f))
		got := map[string]int{}
		for i, r := range rows {
			got[r.Key] = r.Total
			if r.Name != r.Key || (i > 0 && r.Score < rows[i-1].Score) {
				t.Fatalf("Scores(mandate, %+v) = %+v", tc.f, rows)
			}
			// The items Posture lists that reference the mandate.
			counts := map[policy.Criticality]map[result.Status]int{}
			excepted := map[policy.Criticality]int{}
			f := tc.f
			f.Page = Page{Limit: 1000}
			for _, x := range must[[]Result](t)(s.Posture(ctx, f)) {
				if _, ok := x.References[r.Key]; !ok {
					continue
				}
				if x.Excepted != nil {
					excepted[x.Criticality]++
				}
				if counts[x.Criticality] == nil {
					counts[x.Criticality] = map[result.Status]int{}
				}
				counts[x.Criticality][x.Status]++
			}
			if want := result.SummaryExcepting(counts, excepted); !reflect.DeepEqual(r.Summary, want) {
				t.Fatalf("Scores(mandate, %+v) row %s = %+v\nwant %+v", tc.f, r.Key, r.Summary, want)
			}
		}
		if !reflect.DeepEqual(got, tc.totals) {
			t.Fatalf("Scores(mandate, %+v) totals %v, want %v", tc.f, got, tc.totals)
		}
		if tc.f == (ResultFilter{}) {
			// Both score 50: the tie goes by key.
			if cis, stig := rows[0], rows[1]; cis.Key != "cis" || stig.Key != "stig" || stig.Excepted != 1 ||
				stig.Score != 50 || cis.Score != 50 || cis.Excepted != 0 {
				t.Fatalf("rows %+v, want cis (1 pass, 1 fail) then stig (1 pass, 1 fail, 1 excepted)", rows)
			}
		}
	}
}

// testWeights: results weighted by their policy's own weights give the
// weighted score result.Summarize gives them, in the posture summary, in
// every score breakdown, in a snapshot's trend point and in the posture
// items; an excepted Fail leaves its weight out too; a weight out of
// range is refused.
func testWeights(t *testing.T, s *Store) {
	c := newClock()
	s.Now = c.Now
	for _, p := range []string{"w", "d"} {
		must[Policy](t)(s.PutPolicy(ctx, Policy{ID: p, Body: []byte("{}")}, "x"))
	}
	a := must[Asset](t)(s.CreateAsset(ctx, Asset{Name: "a", Tags: []string{"prod"}}, "x"))
	g := must[Group](t)(s.CreateGroup(ctx, Group{Name: "prod", MatchTags: []string{"prod"}}, "x"))
	at := c.Now()
	// Policy w weighs criticality n as 10^(n-1)-ish; policy d keeps the
	// default weights.
	weights := map[policy.Criticality]int{1: 1, 2: 3, 3: 10, 4: 30, 5: 100}
	var all []Result
	for i, r := range results("w", 10, result.Pass, at) {
		if i%3 == 0 {
			r.Status = result.Fail
		}
		if i == 7 {
			r.Status = result.Error
		}
		r.Weight = weights[r.Criticality]
		all = append(all, r)
	}
	all = append(all, results("d", 5, result.Fail, at)...)
	scanTech(t, s, []int64{a.ID}, func(int64) string { return "debian-12" }, func(int64) []Result { return all })
	plain := make([]result.Result, len(all))
	for i, r := range all {
		plain[i] = r.Result
	}
	want := result.Summarize(plain)
	if want.Weighted == result.SummaryOf(nil).Weighted || want.Weighted == want.Score {
		t.Fatalf("the fixture does not exercise weights: %+v", want)
	}
	got := must[result.Summary](t)(s.PostureSummary(ctx, ResultFilter{}))
	if got.Weighted != want.Weighted || got.Score != want.Score {
		t.Fatalf("PostureSummary weighted %v score %v, want %v %v", got.Weighted, got.Score, want.Weighted, want.Score)
	}
	for _, by := range []string{"asset", ScopeGroup, ScopeTechnology, "criticality", ScopePolicy, ScopeMandate} {
		rows := must[[]ScoreRow](t)(s.Scores(ctx, by, ResultFilter{}))
		for _, row := range rows {
			var sub []result.Result
			for _, r := range all {
				switch {
				case by == "criticality" && strconv.Itoa(int(r.Criticality)) != row.Key,
					by == ScopePolicy && r.Policy != row.Key,
					by == ScopeMandate && r.References[row.Key] == nil:
					continue
				}
				sub = append(sub, r.Result)
			}
			if w := result.Summarize(sub); row.Weighted != w.Weighted {
				t.Errorf("Scores by %s, %s: weighted %v, want %v", by, row.Key, row.Weighted, w.Weighted)
			}
		}
	}
	if items := must[[]Result](t)(s.Posture(ctx, ResultFilter{Policy: "w", CID: 3})); len(items) != 1 || items[0].Weight != weights[items[0].Criticality] {
		t.Fatalf("posture item of policy w: %+v", items)
	}
	if items := must[[]Result](t)(s.Posture(ctx, ResultFilter{Policy: "d", CID: 3})); len(items) != 1 || items[0].Weight != 0 {
		t.Fatalf("posture item of policy d: %+v", items)
	}
	must[int](t)(s.TakeSnapshots(ctx))
	pts := must[[]TrendPoint](t)(s.Trend(ctx, TrendFilter{Scope: ScopeGroup, Key: strconv.FormatInt(g.ID, 10)}))
	if len(pts) != 1 || pts[0].Weighted != want.Weighted {
		t.Fatalf("trend of the group: %+v, want weighted %v", pts, want.Weighted)
	}

	// An approved exception of a heavy Fail: its weight leaves the score.
	heavy := all[3] // CID 4: criticality 5, a Fail
	e := must[Exception](t)(s.RequestException(ctx, Exception{Type: "risk_acceptance", Policy: "w", CID: heavy.CID, Assets: []int64{a.ID},
		Owner: "o", Justification: "j", Expires: c.Now().Add(24 * time.Hour)}, "alice"))
	must[Exception](t)(s.DecideException(ctx, e.ID, "approve", nil, "bob"))
	var rest []result.Result
	for i, r := range plain {
		if i != 3 {
			rest = append(rest, r)
		}
	}
	want = result.Summarize(rest)
	if got := must[result.Summary](t)(s.PostureSummary(ctx, ResultFilter{})); got.Weighted != want.Weighted || got.Excepted != 1 {
		t.Fatalf("with the exception: weighted %v excepted %d, want %v 1", got.Weighted, got.Excepted, want.Weighted)
	}
	rows := must[[]ScoreRow](t)(s.Scores(ctx, ScopeGroup, ResultFilter{}))
	if len(rows) != 1 || rows[0].Weighted != want.Weighted {
		t.Fatalf("group score with the exception: %+v, want weighted %v", rows, want.Weighted)
	}
	// PostureOf, the reports' read, gives the same rows as Posture, in
	// CID order, the exception applied.
	of := must[[]Result](t)(s.PostureOf(ctx, "w", []int64{a.ID, 999}))
	page := must[[]Result](t)(s.Posture(ctx, ResultFilter{Policy: "w"}))
	slices.SortFunc(page, func(x, y Result) int { return x.CID - y.CID })
	if !reflect.DeepEqual(of, page) || of[3].Excepted == nil || of[3].Excepted.ID != e.ID {
		t.Fatalf("PostureOf = %+v\nwant %+v", of, page)
	}
	if _, err := s.PostureOf(ctx, "w", make([]int64, MaxPostureOf+1)); err == nil {
		t.Fatal("PostureOf took too many assets")
	}

	bad := results("w", 1, result.Pass, at)
	bad[0].Weight = policy.MaxWeight + 1
	sc := must[Scan](t)(s.CreateScan(ctx, Scan{}, []int64{a.ID}, "x"))
	j, _, err := s.ClaimJob(ctx, "w", time.Minute)
	check(t, err)
	var inv *InvalidError
	if err := s.CompleteJob(ctx, j.ID, j.Attempt, JobOutcome{Results: bad}); !errors.As(err, &inv) || inv.Field != "results.weight" {
		t.Fatalf("weight %d: %v (scan %d)", bad[0].Weight, err, sc.ID)
	}
}
