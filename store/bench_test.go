package store

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/plumbhq/plumb/result"
)

// The benchmarks run on both databases:
//
//	go test ./store/ -run '^$' -bench Store -benchtime 50x
//
// PLUMB_BENCH_ASSETS sets the fleet BenchmarkStorePosture seeds (default
// 100 assets x 300 controls; 1000 for the full-size figure).

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

// runJobs queues one job per asset and completes them all, as workers do.
func runJobs(tb testing.TB, s *Store, assets []int64) {
	must[Scan](tb)(s.CreateScan(ctx, Scan{Policies: []string{"cis-debian"}}, assets, "bench"))
	for {
		j, ok, err := s.ClaimJob(ctx, "bench", time.Minute)
		check(tb, err)
		if !ok {
			return
		}
		check(tb, s.CompleteJob(ctx, j.ID, j.Attempt, JobOutcome{Technology: "debian-12", Results: benchResults(time.Now())}))
	}
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

// BenchmarkStoreCompleteJob measures the write path of a scan: one job
// of 300 results stored, posture updated, job and scan ended.
func BenchmarkStoreCompleteJob(b *testing.B) {
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			must[Policy](b)(s.PutPolicy(ctx, Policy{ID: "cis-debian", Body: []byte("{}")}, "bench"))
			assets := makeAssets(b, s, 50, func(int) []string { return nil })
			for queued := 0; queued < b.N; queued += len(assets) {
				must[Scan](b)(s.CreateScan(ctx, Scan{}, assets[:min(len(assets), b.N-queued)], "bench"))
			}
			rs := benchResults(time.Now())
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				j, ok, err := s.ClaimJob(ctx, "bench", time.Minute)
				if err != nil || !ok {
					b.Fatal(ok, err)
				}
				b.StartTimer()
				check(b, s.CompleteJob(ctx, j.ID, j.Attempt, JobOutcome{Technology: "debian-12", Results: rs}))
			}
			b.ReportMetric(float64(b.N*benchControls)/b.Elapsed().Seconds(), "results/s")
		})
	}
}

// BenchmarkStorePosture measures posture reads over a fleet of assets
// with 300 controls each: the dashboard's queries.
func BenchmarkStorePosture(b *testing.B) {
	n := 100
	if v, err := strconv.Atoi(os.Getenv("PLUMB_BENCH_ASSETS")); err == nil && v > 0 {
		n = v
	}
	for _, be := range benchBackends {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			must[Policy](b)(s.PutPolicy(ctx, Policy{ID: "cis-debian", Body: []byte("{}")}, "bench"))
			assets := makeAssets(b, s, n, func(i int) []string {
				if i%10 == 0 {
					return []string{"pci"}
				}
				return []string{"web"}
			})
			start := time.Now()
			runJobs(b, s, assets)
			b.Logf("%s: seeded %d assets x %d controls in %v", be.name, n, benchControls, time.Since(start).Round(time.Millisecond))
			g := must[Group](b)(s.CreateGroup(ctx, Group{Name: "pci", MatchTags: []string{"pci"}}, "bench"))
			queries := []struct {
				name string
				f    ResultFilter
			}{
				{"first-page-1000", ResultFilter{Page: Page{Limit: 1000}}},
				{"one-asset", ResultFilter{Asset: assets[len(assets)/2], Page: Page{Limit: 1000}}},
				{"failing-critical", ResultFilter{Status: "fail", Criticality: 4, Page: Page{Limit: 1000}}},
				{"tag-group", ResultFilter{Group: g.ID, Page: Page{Limit: 1000}}},
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
		})
	}
}
