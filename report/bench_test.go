package report

import (
	"bytes"
	"io"
	"iter"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
)

// countingWriter counts the bytes and pages written and keeps the start
// and the end, without keeping the PDF.
type countingWriter struct {
	n          int64
	pages      int
	head, tail []byte
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if len(w.head) < 16 {
		w.head = append(w.head, p[:min(len(p), 16-len(w.head))]...)
	}
	// Page objects are not compressed: count them across writes.
	page := []byte("<</Type /Page\n")
	// Matches across the boundary: neither side alone is long enough.
	k := len(page) - 1
	across := append(slices.Clone(w.tail[max(len(w.tail)-k, 0):]), p[:min(len(p), k)]...)
	w.pages += bytes.Count(across, page) + bytes.Count(p, page)
	w.tail = append(w.tail, p[max(len(p)-16, 0):]...)
	w.tail = w.tail[max(len(w.tail)-16, 0):]
	w.n += int64(len(p))
	return len(p), nil
}

// fleet yields assets x controls rows of realistic size, generated as
// they are asked for: most pass, some fail, a few are excepted or errors.
func fleet(assets, controls int) (iter.Seq2[Row, error], result.Summary) {
	titles := []string{
		"Ensure permissions on /etc/ssh/sshd_config are configured",
		"Ensure SSH root login is disabled",
		"Ensure password expiration is 365 days or less",
		"Ensure audit logs are not automatically deleted",
		"Ensure the firewall default deny policy is set",
	}
	exc := &Exception{ID: 7, Type: "risk acceptance", Owner: "ops@example.com",
		Justification: "Vendor appliance; the setting is managed by the vendor.", Expires: time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)}
	row := func(a, c int) Row {
		r := Row{Asset: "host" + strconv.Itoa(a) + ".prod.example.com", Result: result.Result{
			CID: 1000 + c, Title: titles[c%len(titles)], Category: "SSH server",
			Criticality: policy.Criticality(1 + c%5), Status: result.Pass,
			Expected: "mode <= 0600, owner root", Actual: []string{"mode 0600, owner root"}, Method: "scanner",
		}}
		switch k := (a*7 + c) % 20; {
		case k == 0:
			r.Status, r.Actual = result.Fail, []string{"mode 0644, owner root", "group wheel"}
		case k == 1:
			r.Status, r.Excepted = result.Fail, exc
		case k == 2:
			r.Status, r.Actual, r.Reason, r.Message = result.Error, nil, result.ReasonPermissionDenied, "open /etc/ssh/sshd_config: permission denied"
		case k == 3:
			r.Status, r.Message = result.NA, "not applicable: technology openssh is not the case"
		}
		return r
	}
	counts := map[policy.Criticality]map[result.Status]int{}
	excepted := map[policy.Criticality]int{}
	for a := range assets {
		for c := range controls {
			r := row(a, c)
			if counts[r.Criticality] == nil {
				counts[r.Criticality] = map[result.Status]int{}
			}
			counts[r.Criticality][r.Status]++
			if r.Excepted != nil {
				excepted[r.Criticality]++
			}
		}
	}
	return func(yield func(Row, error) bool) {
		for a := range assets {
			for c := range controls {
				if !yield(row(a, c), nil) {
					return
				}
			}
		}
	}, result.SummaryExcepting(counts, excepted)
}

// BenchmarkPolicy1000x200 writes the report of 1,000 assets with 200
// controls each. It reports the pages and MB written, the heap the Go
// runtime took from the system (HeapSys), the largest heap in use that a
// sampler saw (spans in use, some never touched: it can exceed the RSS)
// and the process's peak resident set size.
func BenchmarkPolicy1000x200(b *testing.B) {
	rows, sum := fleet(1000, 200)
	var w countingWriter
	var peak uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
			}
		}
	}()
	b.ReportAllocs()
	for b.Loop() {
		w = countingWriter{}
		if err := Policy(&w, testCover(), sum, rows); err != nil {
			b.Fatal(err)
		}
	}
	close(done)
	<-sampled
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if !bytes.HasPrefix(w.head, []byte("%PDF-")) || !bytes.HasSuffix(bytes.TrimSpace(w.tail), []byte("%%EOF")) {
		b.Fatalf("not a PDF: %q ... %q", w.head, w.tail)
	}
	b.ReportMetric(float64(w.n)/1e6, "MB")
	b.ReportMetric(float64(m.HeapSys)/1e6, "heapsys-MB")
	b.ReportMetric(float64(peak)/1e6, "peak-inuse-MB")
	// The whole test process's peak: run the benchmark alone (-run '^$')
	// for it to be the report's.
	b.ReportMetric(peakRSS()/1e6, "peak-rss-MB")
	b.ReportMetric(float64(w.pages), "pages")
}

var _ io.Writer = (*countingWriter)(nil)
