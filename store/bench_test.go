package store

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/plumbhq/plumb/result"
)

// The benchmarks run on both databases:
//
//	go test ./store/ -run '^$' -bench Store -benchtime 50x
//
// PLUMB_BENCH_ASSETS sets the fleet BenchmarkStorePosture seeds (default
// 200 assets x 300 controls; 10000 for the full-size figures, which
// scripts/bench-store.sh runs).

var benchBackends = []struct {
	name string
	open func(testing.TB) *Store
}{{"sqlite", openSQLite}, {"postgres", openPostgres}}

const benchControls = 300

// benchResults is a realistic job: 300 controls, one in seven failing.
func benchResults(at time.Time) []Result {
	rs := results("cis-debian", benchControls, result.Pass, at)
	for i := range rs {
		if i%7 == 0 {
			rs[i].Status = result.Fail
		}
	}
	return rs
}

func makeAssets(tb testing.TB, s *Store, n int, tag func(i int) []string) []int64 {
	var ids []int64
	for i := range n {
		a := must[Asset](tb)(s.CreateAsset(ctx, Asset{Name: fmt.Sprintf("host%04d", i),
			Addresses: []string{fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}, Tags: tag(i)}, "bench"))
		ids = append(ids, a.ID)
	}
	return ids
}

// BenchmarkStoreIngest measures result ingest: a job of 300 results
// stored, posture updated, job, asset and scan brought up to date, by one
// poster and by four posting different jobs at once (many scanners). The
// jobs are claimed before the clock starts.
func BenchmarkStoreIngest(b *testing.B) {
	for _, be := range benchBackends {
		for _, posters := range []int{1, 4} {
			b.Run(fmt.Sprintf("%s/posters=%d", be.name, posters), func(b *testing.B) {
				s := be.open(b)
				must[Policy](b)(s.PutPolicy(ctx, Policy{ID: "cis-debian", Body: []byte("{}")}, "bench"))
				assets := makeAssets(b, s, 50, func(int) []string { return nil })
				for queued := 0; queued < b.N; queued += len(assets) {
					must[Scan](b)(s.CreateScan(ctx, Scan{}, assets[:min(len(assets), b.N-queued)], "bench"))
				}
				jobs := make(chan Job, b.N)
				for range b.N {
					j, ok, err := s.ClaimJob(ctx, "bench", time.Hour)
					if err != nil || !ok {
						b.Fatal(ok, err)
					}
					jobs <- j
				}
				close(jobs)
				rs := benchResults(time.Now())
				b.ResetTimer()
				var wg sync.WaitGroup
				for range posters {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for j := range jobs {
							if err := s.CompleteJob(ctx, j.ID, j.Attempt, JobOutcome{Technology: "debian-12", Results: rs}); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.ReportMetric(float64(b.N*benchControls)/b.Elapsed().Seconds(), "results/s")
			})
		}
	}
}

// benchAssets is the fleet size: PLUMB_BENCH_ASSETS, default 200.
func benchAssets() int {
	if v, err := strconv.Atoi(os.Getenv("PLUMB_BENCH_ASSETS")); err == nil && v > 0 {
		return v
	}
	return 200
}

// postureCountsRebuild counts the whole posture into posture_counts, as
// CompleteJob would have, after a seed writes the posture in bulk.
const postureCountsRebuild = `INSERT INTO posture_counts (asset_id, policy, criticality, status, n, w)
	SELECT asset_id, policy, criticality, status, COUNT(*), SUM(` + rowWeight + `) FROM posture r GROUP BY asset_id, policy, criticality, status`

// seedFleet stores n assets (every tenth tagged pci, the rest web), a
// static group of n/10 other assets, and one finished scan with a result
// of each of 300 controls per asset, results and posture alike. It writes
// in bulk with INSERT ... SELECT: the same rows CompleteJob writes, in
// seconds rather than n transactions.
func seedFleet(b *testing.B, s *Store, n int) (tagGroup, staticGroup Group, assets []int64) {
	exec := func(q string, args ...any) {
		b.Helper()
		if _, err := s.db.ExecContext(ctx, s.d.rebind(q), args...); err != nil {
			b.Fatalf("seed: %v\n%s", err, q)
		}
	}
	must[Policy](b)(s.PutPolicy(ctx, Policy{ID: "cis-debian", Body: []byte("{}")}, "bench"))
	now := micros(time.Now())
	exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO assets (name, hostnames, addresses, net_partition, port, technology, tags, source, first_seen, last_seen, created)
		SELECT 'host' || CAST(i AS TEXT), '[]', '[]', '', 22, 'debian-12',
			CASE WHEN i % 10 = 0 THEN '["pci"]' ELSE '["web"]' END, 'scanner', ?, ?, ? FROM n`, n, now, now, now)
	assets = must[[]int64](b)(queryAll(ctx, s.read(), `SELECT id FROM assets ORDER BY id`, nil, scanID))
	var static []int64
	for i, id := range assets {
		if i%10 == 5 {
			static = append(static, id)
		}
	}
	tagGroup = must[Group](b)(s.CreateGroup(ctx, Group{Name: "pci", MatchTags: []string{"pci"}}, "bench"))
	must[Group](b)(s.CreateGroup(ctx, Group{Name: "web", MatchTags: []string{"web"}}, "bench"))
	staticGroup = must[Group](b)(s.CreateGroup(ctx, Group{Name: "static", Members: static}, "bench"))
	exec(`INSERT INTO asset_tags (asset_id, tag_id) SELECT a.id, t.id FROM assets a JOIN tags t
		ON t.lkey = CASE WHEN a.tags = '["pci"]' THEN 'pci' ELSE 'web' END`)
	sc := must[Scan](b)(s.CreateScan(ctx, Scan{Policies: []string{"cis-debian"}}, assets, "bench"))
	exec(`UPDATE jobs SET state = 'finished', attempt = 1, started = ?, finished = ? WHERE scan_id = ?`, now, now, sc.ID)
	exec(`UPDATE scans SET state = 'finished', started = ?, finished = ? WHERE id = ?`, now, now, sc.ID)
	exec(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?)
		INSERT INTO results (scan_id, job_id, asset_id, `+resultCols+`)
		SELECT j.scan_id, j.id, j.asset_id, 'cis-debian', 1, c.i, '', 'control ' || CAST(c.i AS TEXT), 'ssh', 1 + c.i % 5,
			CASE WHEN c.i % 7 = 1 THEN 'fail' ELSE 'pass' END, 'no', '["yes","/etc/ssh/sshd_config:12"]', '', '', 'scanner', '',
			?, '{"cis":["5.2.' || CAST(c.i AS TEXT) || '"]}', 'fix it', NULL
		FROM jobs j CROSS JOIN c WHERE j.scan_id = ? ORDER BY j.id, c.i`, benchControls, now, sc.ID)
	exec(`INSERT INTO posture (asset_id, result_id, scan_id, job_id, ` + resultCols + `)
		SELECT r.asset_id, r.id, r.scan_id, r.job_id, ` + prefixed("r.", resultCols) + ` FROM results r ORDER BY r.id`)
	exec(postureCountsRebuild)
	if s.d.name() == "postgres" {
		// What autovacuum does after a large write: statistics, and the
		// visibility map that lets a count read an index alone.
		exec(`VACUUM ANALYZE`)
	}
	return tagGroup, staticGroup, assets
}

// BenchmarkStorePosture measures posture reads over a seeded fleet of
// assets with 300 controls each (the dashboard's queries), the summary of
// asset groups (p50 and p95 latency), and the database size per million
// results.
func BenchmarkStorePosture(b *testing.B) {
	n := benchAssets()
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			start := time.Now()
			tagGroup, staticGroup, assets := seedFleet(b, s, n)
			b.Logf("%s: seeded %d assets x %d controls in %v", be.name, n, benchControls, time.Since(start).Round(time.Millisecond))
			queries := []struct {
				name string
				f    ResultFilter
			}{
				{"first-page-1000", ResultFilter{Page: Page{Limit: 1000}}},
				{"one-asset", ResultFilter{Asset: assets[len(assets)/2], Page: Page{Limit: 1000}}},
				{"failing-critical", ResultFilter{Status: "fail", Criticality: 4, Page: Page{Limit: 1000}}},
				{"tag-group", ResultFilter{Group: tagGroup.ID, Page: Page{Limit: 1000}}},
				{"one-control", ResultFilter{CID: 42, Page: Page{Limit: 1000}}},
			}
			for _, q := range queries {
				b.Run(q.name, func(b *testing.B) {
					var rows int
					for range b.N {
						rs, err := s.Posture(ctx, q.f)
						check(b, err)
						rows = len(rs)
					}
					b.ReportMetric(float64(rows), "rows")
				})
			}
			summaries := []struct {
				name string
				f    ResultFilter
			}{
				{"summary-tag-group", ResultFilter{Group: tagGroup.ID}},
				{"summary-static-group", ResultFilter{Group: staticGroup.ID}},
				{"summary-tag-group-critical", ResultFilter{Group: tagGroup.ID, Criticality: 4}},
				{"summary-one-asset", ResultFilter{Asset: assets[len(assets)/2]}},
				{"summary-fleet", ResultFilter{}},
			}
			for _, q := range summaries {
				b.Run(q.name, func(b *testing.B) {
					var sum result.Summary
					latencies(b, func() (err error) {
						sum, err = s.PostureSummary(ctx, q.f)
						return err
					})
					b.ReportMetric(float64(sum.Total), "rows")
				})
			}
			b.Run("size", func(b *testing.B) {
				var nres int64
				check(b, s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM results`).Scan(&nres))
				db, res, pos := dbSize(b, s)
				per := func(bytes int64) float64 { return float64(bytes) / 1e6 / (float64(nres) / 1e6) }
				for range b.N {
				}
				b.ReportMetric(per(db), "db-MB/Mresults")
				b.ReportMetric(per(res), "results-MB/Mresults")
				b.ReportMetric(per(pos), "posture-MB/Mrows")
			})
		})
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// latencies runs query b.N times and reports the p50 and p95 in ms.
func latencies(b *testing.B, query func() error) {
	took := make([]time.Duration, 0, b.N)
	for range b.N {
		t0 := time.Now()
		check(b, query())
		took = append(took, time.Since(t0))
	}
	slices.Sort(took)
	b.ReportMetric(ms(took[len(took)/2]), "p50-ms")
	b.ReportMetric(ms(took[(len(took)*95+99)/100-1]), "p95-ms")
}

// dbSize is the size of the whole database, and of the results and
// posture tables with their indexes, in bytes. On SQLite the whole is the
// file and its WAL after a checkpoint.
func dbSize(b *testing.B, s *Store) (db, results, posture int64) {
	if s.d.name() == "postgres" {
		check(b, s.db.QueryRowContext(ctx, `SELECT pg_database_size(current_database()),
			pg_total_relation_size('results'), pg_total_relation_size('posture')`).Scan(&db, &results, &posture))
		return db, results, posture
	}
	if _, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	path := s.dsn[len("sqlite:"):]
	for _, f := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(f); err == nil {
			db += fi.Size()
		}
	}
	table := func(name string) int64 {
		var n int64
		err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(pgsize), 0) FROM dbstat
			WHERE name IN (SELECT name FROM sqlite_master WHERE tbl_name = ?)`, name).Scan(&n)
		if err != nil {
			b.Logf("dbstat: %v", err)
		}
		return n
	}
	return db, table("results"), table("posture")
}

// benchExceptions is how many active exceptions BenchmarkStoreExceptions
// stores on the tag group's assets.
const benchExceptions = 5000

// BenchmarkStoreExceptions measures the posture reads with exceptions
// applied: the fleet of BenchmarkStorePosture, and 5,000 approved,
// unexpired exceptions on failing controls of the tag group's assets (one
// asset each, every other one reopening on a change of evidence), plus
// one exception of a whole group. The summary of the tag group (p50 and
// p95) is the dashboard's query.
func BenchmarkStoreExceptions(b *testing.B) {
	n := benchAssets()
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			start := time.Now()
			tagGroup, staticGroup, assets := seedFleet(b, s, n)
			seedExceptions(b, s, tagGroup, staticGroup, assets)
			b.Logf("%s: seeded %d assets x %d controls and %d exceptions in %v", be.name, n, benchControls,
				benchExceptions+1, time.Since(start).Round(time.Millisecond))
			summaries := []struct {
				name string
				f    ResultFilter
			}{
				{"summary-tag-group", ResultFilter{Group: tagGroup.ID}},
				{"summary-static-group", ResultFilter{Group: staticGroup.ID}},
				{"summary-fleet", ResultFilter{}},
			}
			for _, q := range summaries {
				b.Run(q.name, func(b *testing.B) {
					var sum result.Summary
					latencies(b, func() (err error) {
						sum, err = s.PostureSummary(ctx, q.f)
						return err
					})
					b.ReportMetric(float64(sum.Excepted), "excepted")
				})
			}
			pages := []struct {
				name string
				f    ResultFilter
			}{
				{"tag-group-fails", ResultFilter{Group: tagGroup.ID, Status: "fail", Page: Page{Limit: 1000}}},
				{"first-page-1000", ResultFilter{Page: Page{Limit: 1000}}},
			}
			for _, q := range pages {
				b.Run(q.name, func(b *testing.B) {
					var excepted int
					for range b.N {
						rs, err := s.Posture(ctx, q.f)
						check(b, err)
						excepted = 0
						for _, r := range rs {
							if r.Excepted != nil {
								excepted++
							}
						}
					}
					b.ReportMetric(float64(excepted), "excepted")
				})
			}
		})
	}
}

// seedExceptions stores benchExceptions approved exceptions of failing
// controls (those with cid % 7 = 1) of the tag group's assets, one asset
// each, the odd ones reopening on a change of evidence (with their
// evidence), and one of the static group.
func seedExceptions(b *testing.B, s *Store, tagGroup, staticGroup Group, assets []int64) {
	var pci []int64
	for i, id := range assets {
		if (i+1)%10 == 0 { // seedFleet tags host i+1 pci when (i+1) % 10 = 0
			pci = append(pci, id)
		}
	}
	if len(pci) == 0 {
		b.Fatal("no assets in the tag group")
	}
	now := s.now()
	expires := micros(now.Add(180 * 24 * time.Hour))
	fails := benchControls / 7
	err := s.write(ctx, func(t tx) error {
		insert := func(cid int, group int64, reopen int) (int64, error) {
			var id int64
			err := t.QueryRowContext(ctx, `INSERT INTO exceptions (type, policy, cid, group_id, owner, justification, requested_by,
				decided_by, status, expires, reopen_on_evidence_change, created, decided)
				VALUES ('risk_acceptance', 'cis-debian', ?, ?, 'bench', 'accepted for the benchmark', 'alice', 'bob', 'approved', ?, ?, ?, ?)
				RETURNING id`, cid, nullID(group), expires, reopen, micros(now), micros(now)).Scan(&id)
			return id, err
		}
		for i := range benchExceptions {
			asset := pci[i%len(pci)]
			cid := 1 + 7*((i/len(pci))%fails)
			id, err := insert(cid, 0, i%2)
			if err != nil {
				return err
			}
			if _, err := t.ExecContext(ctx, `INSERT INTO exception_assets (exception_id, asset_id, policy, cid)
				VALUES (?, ?, 'cis-debian', ?)`, id, asset, cid); err != nil {
				return err
			}
			if i%2 == 1 {
				if _, err := t.ExecContext(ctx, `INSERT INTO exception_evidence (exception_id, asset_id, actual)
					SELECT ?, asset_id, actual FROM posture WHERE asset_id = ? AND policy = 'cis-debian' AND cid = ?`, id, asset, cid); err != nil {
					return err
				}
			}
		}
		_, err := insert(8, staticGroup.ID, 0)
		return err
	})
	check(b, err)
	if s.d.name() == "postgres" {
		if _, err := s.db.ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
			b.Fatal(err)
		}
	}
}

// Sizes of the score history BenchmarkStoreTrend seeds.
const (
	benchGroups       = 50 // groups in all, the fleet's three included
	benchPolicyKeys   = 20
	benchTechnologies = 5
	benchDays         = 365
)

// BenchmarkStoreTrend measures the score history: on the fleet of
// BenchmarkStorePosture with 50 groups, a second scan a day later that
// flips one control in eleven (for Changes), and a year of daily
// snapshots of the fleet, 50 groups, 20 policies and 5 technologies
// stored in bulk. It reports the p95 of a year's trend by day and by
// week, of the score breakdown by group, of the changes of the tag group
// between the two scans, and the bytes a year of snapshots takes.
func BenchmarkStoreTrend(b *testing.B) {
	n := benchAssets()
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			start := time.Now()
			tagGroup, _, assets := seedFleet(b, s, n)
			for i := 3; i < benchGroups; i++ {
				lo, hi := (i-3)*len(assets)/benchGroups, (i-2)*len(assets)/benchGroups
				must[Group](b)(s.CreateGroup(ctx, Group{Name: fmt.Sprintf("team%02d", i), Members: assets[lo:hi]}, "bench"))
			}
			t1 := seedSecondScan(b, s)
			keys := seedSnapshots(b, s)
			b.Logf("%s: seeded %d assets x %d controls, 2 scans, %d groups and %d days x %d snapshot keys in %v", be.name, n,
				benchControls, benchGroups, benchDays, keys, time.Since(start).Round(time.Millisecond))
			gkey := strconv.FormatInt(tagGroup.ID, 10)
			t0 := t1.Add(-12 * time.Hour)
			cases := []struct {
				name string
				fn   func() (int, error)
			}{
				{"trend-group-year-day", func() (int, error) {
					pts, err := s.Trend(ctx, TrendFilter{Scope: ScopeGroup, Key: gkey})
					return len(pts), err
				}},
				{"trend-group-year-week", func() (int, error) {
					pts, err := s.Trend(ctx, TrendFilter{Scope: ScopeGroup, Key: gkey, Granularity: Week})
					return len(pts), err
				}},
				{"scores-by-group", func() (int, error) {
					rows, err := s.Scores(ctx, ScopeGroup, ResultFilter{})
					return len(rows), err
				}},
				{"changes-tag-group", func() (int, error) {
					cs, err := s.Changes(ctx, t0, t1, ResultFilter{Group: tagGroup.ID})
					return len(cs), err
				}},
			}
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					var rows int
					latencies(b, func() (err error) {
						rows, err = c.fn()
						return err
					})
					b.ReportMetric(float64(rows), "rows")
				})
			}
			b.Run("take-snapshots", func(b *testing.B) {
				var rows int
				for range b.N {
					var err error
					rows, err = s.TakeSnapshots(ctx)
					check(b, err)
				}
				b.ReportMetric(float64(rows), "rows")
			})
			b.Run("size", func(b *testing.B) {
				size := tableSize(b, s, "snapshots")
				for range b.N {
				}
				b.ReportMetric(float64(size)/1e6, "MB/year")
				b.ReportMetric(float64(size)/float64(keys), "bytes/key-year")
			})
		})
	}
}

// seedSecondScan copies the fleet's scan as a scan a day later in which
// every eleventh control flips between pass and fail, into results and
// posture; it returns the time of the second scan's results.
func seedSecondScan(b *testing.B, s *Store) time.Time {
	var t0 int64
	check(b, s.db.QueryRowContext(ctx, `SELECT MAX(rtime) FROM results`).Scan(&t0))
	t1 := t0 + micros(time.Unix(0, 0).Add(24*time.Hour))
	exec := func(q string, args ...any) {
		b.Helper()
		if _, err := s.db.ExecContext(ctx, s.d.rebind(q), args...); err != nil {
			b.Fatalf("seed: %v\n%s", err, q)
		}
	}
	exec(`INSERT INTO results (scan_id, job_id, asset_id, `+resultCols+`)
		SELECT scan_id + 1000000, job_id + 1000000000, asset_id, policy, policy_version, cid, rule, title, category, criticality,
			CASE WHEN cid % 11 = 0 AND status = 'pass' THEN 'fail' WHEN cid % 11 = 0 AND status = 'fail' THEN 'pass' ELSE status END,
			expected, actual, reason, message, method, scap_result, ?, refs, remediation, weight
		FROM results ORDER BY id`, t1)
	exec(`INSERT INTO status_changes (asset_id, policy, cid, criticality, from_status, to_status, rtime, result_id)
		SELECT r.asset_id, r.policy, r.cid, r.criticality, p.status, r.status, r.rtime, r.id
		FROM results r JOIN posture p ON p.asset_id = r.asset_id AND p.policy = r.policy AND p.cid = r.cid
		WHERE r.scan_id >= 1000000 AND p.status <> r.status ORDER BY r.id`)
	exec(`DELETE FROM posture`)
	exec(`INSERT INTO posture (asset_id, result_id, scan_id, job_id, ` + resultCols + `)
		SELECT r.asset_id, r.id, r.scan_id, r.job_id, ` + prefixed("r.", resultCols) + ` FROM results r
		WHERE r.scan_id >= 1000000 ORDER BY r.id`)
	exec(`DELETE FROM posture_counts`)
	exec(postureCountsRebuild)
	if s.d.name() == "postgres" {
		exec(`VACUUM ANALYZE`)
	}
	return fromMicros(t1)
}

// seedSnapshots stores benchDays daily snapshots of the fleet, every
// group, benchPolicyKeys policies and benchTechnologies technologies,
// each the fleet's current counts varied by day; it returns the number
// of keys.
func seedSnapshots(b *testing.B, s *Store) int {
	all, err := s.tallies(ctx, s.read(), s.now(), []string{ScopeAll}, where{}, true, false)
	check(b, err)
	base := all[ScopeAll][""]
	groups := must[[]int64](b)(queryAll(ctx, s.read(), `SELECT id FROM asset_groups ORDER BY id`, nil, scanID))
	var keys [][2]string
	keys = append(keys, [2]string{ScopeAll, ""})
	for _, g := range groups {
		keys = append(keys, [2]string{ScopeGroup, strconv.FormatInt(g, 10)})
	}
	for i := range benchPolicyKeys {
		keys = append(keys, [2]string{ScopePolicy, fmt.Sprintf("policy-%02d", i)})
	}
	for i := range benchTechnologies {
		keys = append(keys, [2]string{ScopeTechnology, fmt.Sprintf("tech-%d", i)})
	}
	today := dayOf(s.now())
	var rows [][]any
	for d := range benchDays {
		day := today.AddDate(0, 0, d-benchDays)
		for k, key := range keys {
			t := tally{}
			for c, byStatus := range base {
				t[c] = map[string]int{}
				for st, n := range byStatus {
					if st == string(result.Fail) {
						n += (d + k) % 17
					}
					t[c][st] = n
				}
				t[c][exceptedKey] = d % 3
			}
			js := must[[]byte](b)(json.Marshal(t))
			rows = append(rows, []any{key[0], key[1], micros(day), micros(day.Add(23 * time.Hour)), string(js)})
		}
	}
	check(b, s.write(ctx, func(t tx) error {
		return s.d.insertRows(ctx, t, "snapshots", []string{"scope", "skey", "day", "taken", "counts"}, rows)
	}))
	if s.d.name() == "postgres" {
		if _, err := s.db.ExecContext(ctx, `VACUUM ANALYZE snapshots`); err != nil {
			b.Fatal(err)
		}
	}
	return len(keys)
}

// tableSize is the bytes a table and its indexes take.
func tableSize(b *testing.B, s *Store, table string) int64 {
	var n int64
	if s.d.name() == "postgres" {
		check(b, s.db.QueryRowContext(ctx, `SELECT pg_total_relation_size($1)`, table).Scan(&n))
		return n
	}
	check(b, s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(pgsize), 0) FROM dbstat
		WHERE name IN (SELECT name FROM sqlite_master WHERE tbl_name = ?)`, table).Scan(&n))
	return n
}
