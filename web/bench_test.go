package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/plumbhq/plumb/internal/pgtest"
	"github.com/plumbhq/plumb/library"
	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/secret"
	"github.com/plumbhq/plumb/server"
	"github.com/plumbhq/plumb/store"
)

// BenchmarkDashboard measures page loads of the dashboard over a fleet of
// 10,000 assets seeded through the store API (assets, groups, one scan
// whose jobs are claimed and completed with generated results, approved
// exceptions, 30 daily snapshots and a scan in progress):
//
//	go test ./web/ -run '^$' -bench Dashboard -benchtime 20x
//
// Each page reports its server-side p50 and p95 (a GET with a session
// cookie: authentication, the store calls and the render), and, when
// Chromium is installed, the browser's navigation timing of the
// dashboard. 30 controls per asset by default; PLUMB_BENCH_FULL=1 seeds
// 300 (the store benchmark's size; the seed then takes minutes).
// SQLite always; PostgreSQL too when PLUMB_BENCH_POSTGRES is set (a DSN
// there names the server, else $PLUMB_TEST_POSTGRES or the local one).
func BenchmarkDashboard(b *testing.B) {
	assets, controls := 10000, 30
	if v, err := strconv.Atoi(os.Getenv("PLUMB_BENCH_ASSETS")); err == nil && v > 0 {
		assets = v
	}
	if os.Getenv("PLUMB_BENCH_FULL") != "" {
		controls = 300
	}
	backends := []string{"sqlite"}
	if v := os.Getenv("PLUMB_BENCH_POSTGRES"); v != "" {
		if strings.HasPrefix(v, "postgres://") || strings.HasPrefix(v, "postgresql://") {
			b.Setenv("PLUMB_TEST_POSTGRES", v)
		}
		backends = append(backends, "postgres")
	}
	for _, backend := range backends {
		b.Run(fmt.Sprintf("%s/%dx%d", backend, assets, controls), func(b *testing.B) {
			dsn := filepath.Join(b.TempDir(), "plumb.db")
			if backend == "postgres" {
				dsn = pgtest.NewDatabase(b)
			}
			st, err := store.Open(context.Background(), dsn)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			start := time.Now()
			fl := seedFleet(b, st, assets, controls)
			b.Logf("%s: seeded %d assets x %d controls through the store API in %v", backend, assets, controls, time.Since(start).Round(time.Millisecond))
			base, cookie, secret := benchServer(b, st)
			for _, p := range []struct{ name, path string }{
				{"dashboard", "/ui/"},
				{"failing", "/ui/failing"},
				{"failing-critical-group", fmt.Sprintf("/ui/failing?criticality=4&group=%d", fl.group)},
				{"assets", "/ui/assets"},
				{"asset", fmt.Sprintf("/ui/assets/%d", fl.asset)},
				{"exceptions", "/ui/exceptions"},
				{"scans", "/ui/scans"},
			} {
				b.Run(p.name, func(b *testing.B) {
					lat := make([]time.Duration, 0, b.N)
					for range b.N {
						t0 := time.Now()
						status, n := fetch(b, base+p.path, cookie)
						lat = append(lat, time.Since(t0))
						if status != 200 || n == 0 {
							b.Fatalf("GET %s = %d (%d bytes)", p.path, status, n)
						}
					}
					report(b, "", lat)
				})
			}
			b.Run("browser-dashboard", func(b *testing.B) { browserTiming(b, base, secret) })
		})
	}
}

// fleet is what seedFleet made that the pages name.
type fleet struct {
	group int64 // the tag group of 90% of the assets
	asset int64
}

// seedFleet stores n assets (nine in ten tagged web, one in ten pci, and
// each of ten sites), groups by those tags, one scan of every asset whose
// jobs are claimed and completed with controls results each (one in seven
// failing, criticality 1-5, Debian and RHEL alternating), three approved
// group exceptions expiring within 14 days, 30 daily score snapshots and
// a scan of 100 assets in progress.
func seedFleet(b *testing.B, st *store.Store, n, controls int) fleet {
	ctx := context.Background()
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	real := time.Now()
	var clockMu sync.Mutex
	now := real.AddDate(0, 0, -30)
	st.Now = func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
	setNow := func(t time.Time) { clockMu.Lock(); now = t; clockMu.Unlock() }
	_, err := st.PutPolicy(ctx, store.Policy{ID: "bench-policy", Title: "Bench policy", Body: []byte(`{"id":"bench-policy"}`)}, "bench")
	must(err)
	phase := time.Now()
	ids := make([]int64, 0, n)
	for i := range n {
		tags := []string{"web", fmt.Sprintf("site-%d", i%10)}
		if i%10 == 0 {
			tags[0] = "pci"
		}
		a, err := st.CreateAsset(ctx, store.Asset{Name: fmt.Sprintf("host%05d", i), Addresses: []string{fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)},
			Tags: tags}, "bench")
		must(err)
		ids = append(ids, a.ID)
	}
	lap := func(what string) {
		b.Logf("seed: %s in %v", what, time.Since(phase).Round(time.Millisecond))
		phase = time.Now()
	}
	lap("assets")
	web, err := st.CreateGroup(ctx, store.Group{Name: "web", MatchTags: []string{"web"}, Policies: []string{"bench-policy"}}, "bench")
	must(err)
	_, err = st.CreateGroup(ctx, store.Group{Name: "pci", MatchTags: []string{"pci"}, Policies: []string{"bench-policy"}}, "bench")
	must(err)
	for s := range 10 {
		_, err = st.CreateGroup(ctx, store.Group{Name: fmt.Sprintf("site-%d", s), MatchTags: []string{fmt.Sprintf("site-%d", s)}}, "bench")
		must(err)
	}
	rs := func(asset int) []store.Result {
		out := make([]store.Result, controls)
		for i := range controls {
			st := result.Pass
			if (i+asset)%7 == 0 {
				st = result.Fail
			}
			out[i] = store.Result{Policy: "bench-policy", PolicyVersion: 1, Result: result.Result{CID: 1000 + i,
				Title: fmt.Sprintf("Control %d of the bench policy", i), Category: "ssh", Criticality: policy.Criticality(1 + i%5),
				Status: st, Expected: "no", Actual: []string{"yes", "/etc/ssh/sshd_config:12"}, Method: "scanner",
				References: map[string][]string{"cis": {fmt.Sprintf("5.2.%d", i)}}, Remediation: "fix it"}}
		}
		return out
	}
	var emptyClaims atomic.Int64
	run := func(jobs int) {
		var wg sync.WaitGroup
		work := make(chan int)
		for range 4 {
			wg.Go(func() {
				for range work {
					j, ok, err := st.ClaimJob(ctx, "bench", time.Hour)
					// PostgreSQL: a claim racing others can find no job
					// although many are queued (reported to the store's
					// owners); it is retried here.
					for try := 0; err == nil && !ok && try < 50; try++ {
						emptyClaims.Add(1)
						time.Sleep(time.Millisecond)
						j, ok, err = st.ClaimJob(ctx, "bench", time.Hour)
					}
					if err != nil || !ok {
						b.Error("claim", ok, err)
						return
					}
					tech := "debian-12"
					if j.AssetID%2 == 0 {
						tech = "rhel-9"
					}
					if err := st.CompleteJob(ctx, j.ID, j.Attempt, store.JobOutcome{Technology: tech, Results: rs(int(j.AssetID))}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		for i := range jobs {
			work <- i
		}
		close(work)
		wg.Wait()
		if b.Failed() {
			b.FailNow()
		}
	}
	_, err = st.CreateScan(ctx, store.Scan{Policies: []string{"bench-policy"}, Groups: []int64{web.ID}}, ids, "bench")
	must(err)
	lap("groups and scan")
	run(n)
	lap("jobs claimed and completed")
	if n := emptyClaims.Load(); n > 0 {
		b.Logf("seed: %d claims found no job while jobs were queued (retried)", n)
	}
	for _, cid := range []int{1000, 1007, 1014} {
		e, err := st.RequestException(ctx, store.Exception{Type: store.RiskAcceptance, Policy: "bench-policy", CID: cid, Group: web.ID,
			Owner: "web team", Justification: "Accepted until the migration.", Expires: real.Add(10 * 24 * time.Hour)}, "token:operator")
		must(err)
		_, err = st.DecideException(ctx, e.ID, "approve", nil, "token:approver")
		must(err)
	}
	for d := 29; d >= 0; d-- {
		setNow(real.AddDate(0, 0, -d))
		_, err := st.TakeSnapshots(ctx)
		must(err)
	}
	lap("exceptions and snapshots")
	st.Now = nil
	_, err = st.CreateScan(ctx, store.Scan{Name: "in progress", Policies: []string{"bench-policy"}}, ids[:100], "bench")
	must(err)
	run(5)
	for range 5 {
		_, _, err := st.ClaimJob(ctx, "bench", time.Hour)
		must(err)
	}
	return fleet{group: web.ID, asset: ids[n/2]}
}

// benchServer serves the store and returns its URL, the session cookie of
// an auditor signed in through the login form, and the auditor's token.
func benchServer(b *testing.B, st *store.Store) (string, *http.Cookie, string) {
	lib, err := library.Load()
	if err != nil {
		b.Fatal(err)
	}
	key, _ := secret.ParseKey(secret.NewKey())
	box, _ := secret.New(key)
	srv, err := server.New(server.Config{Store: st, Library: lib, Box: box})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := srv.CreateToken(context.Background(), "bench-auditor", "auditor", "bench")
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	b.Cleanup(hs.Close)
	e := &env{t: b, http: hs, tokens: map[string]string{"auditor": tok}}
	c := e.loggedIn("auditor")
	return hs.URL, c.sessionCookie(), tok
}

// fetch GETs a page with the session cookie and reads it whole.
func fetch(b *testing.B, u string, cookie *http.Cookie) (int, int64) {
	req, _ := http.NewRequest("GET", u, nil)
	req.AddCookie(cookie)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var n int64
	buf := make([]byte, 32<<10)
	for {
		k, err := resp.Body.Read(buf)
		n += int64(k)
		if err != nil {
			break
		}
	}
	return resp.StatusCode, n
}

// report adds the p50 and p95 of lat, in milliseconds, to the benchmark's
// figures.
func report(b *testing.B, prefix string, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), prefix+"p50-ms")
	b.ReportMetric(q(0.95), prefix+"p95-ms")
}

// browserTiming loads the dashboard in headless Chromium b.N times and
// reports the navigation timing: until the document arrived, and until the
// load event (the stylesheet applied and the page laid out).
func browserTiming(b *testing.B, base, secret string) {
	if _, err := os.Stat(chromiumPath); err != nil {
		b.Skipf("no Chromium at %s", chromiumPath)
	}
	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(b.TempDir()),
	)
	defer cancel()
	ctx, cancel2 := chromedp.NewContext(alloc)
	defer cancel2()
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			b.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		cancel()
		b.Fatal("Chromium did not start within 30 s")
	}
	step := func(a chromedp.Action[chromedp.Void]) {
		sctx, c := context.WithTimeout(ctx, 30*time.Second)
		defer c()
		if err := chromedp.Do(sctx, a); err != nil {
			b.Fatal(err)
		}
	}
	step(chromedp.EmulateViewport(1366, 768))
	step(chromedp.Navigate(base + "/ui/login"))
	step(chromedp.SendKeys(chromedp.ID("token"), secret))
	step(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(`form[action="/ui/login"] button`)))(ctx, t)
		return err
	}))
	var doc, load []time.Duration
	b.ResetTimer()
	for range b.N {
		step(chromedp.Navigate(base + "/ui/"))
		sctx, c := context.WithTimeout(ctx, 30*time.Second)
		timing, err := chromedp.Run(sctx, chromedp.Evaluate[[]float64](`(() => { const n = performance.getEntriesByType('navigation')[0];
			return [n.responseEnd - n.startTime, n.loadEventEnd > 0 ? n.loadEventEnd - n.startTime : performance.now()]; })()`))
		c()
		if err != nil {
			b.Fatal(err)
		}
		doc = append(doc, time.Duration(timing[0]*float64(time.Millisecond)))
		load = append(load, time.Duration(timing[1]*float64(time.Millisecond)))
	}
	b.StopTimer()
	sctx, c := context.WithTimeout(ctx, 10*time.Second)
	loc, err := chromedp.Run(sctx, chromedp.Location())
	c()
	if err != nil || !strings.HasSuffix(loc, "/ui/") {
		b.Fatalf("the browser shows %s (%v), not the dashboard", loc, err)
	}
	report(b, "document-", doc)
	report(b, "load-", load)
}
