package server

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbhq/plumb/pdfsign"
	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/store"
)

// benchEnv reads a size from the environment.
func benchEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// peakRSS is the process's peak resident set (VmHWM) in bytes;
// resetPeakRSS starts it over (Linux: clear_refs 5).
func peakRSS(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}

func resetPeakRSS(b *testing.B) {
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Fatalf("reset the peak RSS: %v", err)
	}
}

// BenchmarkPolicyReport is the policy report of the size: 1,000
// hosts x 200 controls (PLUMB_BENCH_REPORT_HOSTS, _CONTROLS), one in
// seven failing, one failing control excepted on every host, stored
// through the job API on SQLite. It reports the wall time of one signed
// report, its pages and size, and the peak RSS of the process while it
// is made (reset after seeding; the process holds the store and the test
// binary too).
func BenchmarkPolicyReport(b *testing.B) {
	hosts := benchEnv("PLUMB_BENCH_REPORT_HOSTS", 1000)
	controls := benchEnv("PLUMB_BENCH_REPORT_CONTROLS", 200)
	e := newEnv(b)
	ctx := context.Background()
	start := time.Now()
	if _, err := e.st.PutPolicy(ctx, store.Policy{ID: "bench", Title: "Bench baseline", Source: "custom", Body: []byte("{}")}, "bench"); err != nil {
		b.Fatal(err)
	}
	var ids []int64
	for i := range hosts {
		a, err := e.st.CreateAsset(ctx, store.Asset{Name: fmt.Sprintf("host%04d.example.com", i), Addresses: []string{fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)}}, "bench")
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	if _, err := e.st.CreateScan(ctx, store.Scan{Policies: []string{"bench"}}, ids, "bench"); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	for range hosts {
		j, ok, err := e.st.ClaimJob(ctx, "bench", time.Hour)
		if err != nil || !ok {
			b.Fatalf("claim: %v %v", ok, err)
		}
		rs := make([]store.Result, controls)
		for c := range controls {
			st := result.Pass
			actual := []string{fmt.Sprintf("/etc/ssh/sshd_config:%d: MaxAuthTries 3", 10+c)}
			if c%7 == 1 {
				st = result.Fail
				actual = []string{fmt.Sprintf("/etc/ssh/sshd_config:%d: MaxAuthTries 6", 10+c), "/etc/ssh/sshd_config.d/50-site.conf:3: MaxAuthTries 6"}
			}
			rs[c] = store.Result{Policy: "bench", Result: result.Result{CID: 1000 + c, Title: fmt.Sprintf("SSH setting %d is hardened (MaxAuthTries at most 4)", c),
				Category: "SSH server", Criticality: policy.Criticality(1 + c%5), Status: st, Expected: "MaxAuthTries <= 4",
				Actual: actual, Method: "ssh", Time: now}}
		}
		if err := e.st.CompleteJob(ctx, j.ID, j.Attempt, store.JobOutcome{Technology: "debian-12", Results: rs}); err != nil {
			b.Fatal(err)
		}
	}
	ex, err := e.st.RequestException(ctx, store.Exception{Type: store.RiskAcceptance, Policy: "bench", CID: 1001, Assets: ids,
		Owner: "web team", Justification: "Legacy load balancer health checks need this until the Q2 migration.", Expires: now.Add(30 * 24 * time.Hour)}, "alice")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.st.DecideException(ctx, ex.ID, "approve", nil, "bob"); err != nil {
		b.Fatal(err)
	}
	if _, err := e.srv.signer(ctx); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d hosts x %d controls in %v", hosts, controls, time.Since(start).Round(time.Millisecond))
	var buf bytes.Buffer
	var peak int64
	b.ResetTimer()
	for range b.N {
		buf.Reset()
		b.StopTimer()
		resetPeakRSS(b)
		b.StartTimer()
		if err := e.srv.policyReport(ctx, &buf, "bench", 0, "bench"); err != nil {
			b.Fatal(err)
		}
		peak = max(peak, peakRSS(b))
	}
	b.StopTimer()
	if _, err := pdfsign.Verify(buf.Bytes()); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(buf.Len())/1e6, "MB-pdf")
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(bytes.Count(buf.Bytes(), []byte("/Type /Page\n"))+bytes.Count(buf.Bytes(), []byte("/Type /Page "))), "pages")
}
