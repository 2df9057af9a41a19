package report

import (
	"bytes"
	"errors"
	"fmt"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
)

var generated = time.Date(2026, 11, 30, 14, 5, 9, 0, time.UTC)

func testCover() Cover {
	return Cover{
		Title:         "Policy report",
		Scope:         "group web (3 assets)",
		Policy:        "cis-debian12-l1",
		PolicyTitle:   "CIS Debian 12 Level 1",
		PolicyVersion: 7,
		Generated:     generated,
		GeneratedBy:   "audit-token",
		Server:        "plumb.example.com",
	}
}

// testRows are a few assets with every status, an excepted Fail and an
// Error, sorted by asset then CID.
func testRows() []Row {
	exp := &Exception{ID: 42, Type: "risk acceptance", Owner: "alice@example.com",
		Justification: "Legacy clients need TLS 1.1 until the migration ends.",
		Expires:       time.Date(2027, 3, 31, 0, 0, 0, 0, time.UTC)}
	r := func(asset string, cid int, crit policy.Criticality, st result.Status, exp string, act ...string) Row {
		return Row{Asset: asset, Result: result.Result{
			CID: cid, Title: fmt.Sprintf("Control %d title", cid), Category: "SSH server",
			Criticality: crit, Status: st, Expected: exp, Actual: act, Method: "scanner", Time: generated,
		}}
	}
	rows := []Row{
		r("db1.example.com", 1101, 5, result.Pass, "PermitRootLogin no", "PermitRootLogin no"),
		r("db1.example.com", 1102, 4, result.Fail, "Protocol TLSv1.2 or later", "TLSv1.1"),
		r("db1.example.com", 1103, 3, result.Error, "MaxAuthTries <= 4"),
		r("web1.example.com", 1101, 5, result.NA, "technology openssh"),
		r("web1.example.com", 1104, 2, result.NotChecked, "A documented review of the firewall"),
		r("web2.example.com", 1101, 1, result.Pass, "x", "x"),
	}
	rows[1].Excepted = exp
	rows[2].Reason = result.ReasonPermissionDenied
	rows[2].Message = "open /etc/ssh/sshd_config: permission denied"
	rows[3].Message = "not applicable: technology debian12 is not the case"
	rows[5].Rule = "xccdf_org.ssgproject.content_rule_sshd_disable_root_login"
	return rows
}

func summarize(rows []Row) result.Summary {
	counts := map[policy.Criticality]map[result.Status]int{}
	excepted := map[policy.Criticality]int{}
	for _, r := range rows {
		if counts[r.Criticality] == nil {
			counts[r.Criticality] = map[result.Status]int{}
		}
		counts[r.Criticality][r.Status]++
		if r.Status == result.Fail && r.Excepted != nil {
			excepted[r.Criticality]++
		}
	}
	return result.SummaryExcepting(counts, excepted)
}

func seq(rows []Row) iter.Seq2[Row, error] {
	return func(yield func(Row, error) bool) {
		for _, r := range rows {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func policyPDF(t testing.TB, c Cover, rows []Row) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Policy(&b, c, summarize(rows), seq(rows)); err != nil {
		t.Fatalf("Policy: %v", err)
	}
	checkPDF(t, b.Bytes())
	return b.Bytes()
}

// poppler finds a poppler tool, skipping (or failing on CI) without it.
func poppler(t *testing.T, tool string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not found (install poppler-utils): %v", tool, err)
		}
		t.Skipf("%s not found (install poppler-utils to run this test)", tool)
	}
	return p
}

// save writes pdf to a file in a temporary directory (kept with
// REPORT_KEEP=dir, to look at) and returns its path.
func save(t *testing.T, name string, pdf []byte) string {
	t.Helper()
	dir := os.Getenv("REPORT_KEEP")
	if dir == "" {
		dir = t.TempDir()
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func run(t *testing.T, tool string, args ...string) string {
	t.Helper()
	out, err := exec.Command(poppler(t, tool), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// text is the text of pdf's pages from..to (0: all), laid out.
func text(t *testing.T, path string, from, to int) string {
	t.Helper()
	args := []string{"-layout"}
	if from > 0 {
		args = append(args, "-f", strconv.Itoa(from), "-l", strconv.Itoa(to))
	}
	return run(t, "pdftotext", append(args, path, "-")...)
}

func pages(t *testing.T, path string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindStringSubmatch(run(t, "pdfinfo", path))
	if m == nil {
		t.Fatal("pdfinfo: no page count")
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// render renders every page at 50 dpi and checks there is one image each.
func render(t *testing.T, path string, n int) {
	t.Helper()
	dir := t.TempDir()
	run(t, "pdftoppm", "-r", "50", "-png", path, filepath.Join(dir, "p"))
	got, _ := filepath.Glob(filepath.Join(dir, "p*.png"))
	if len(got) != n {
		t.Fatalf("pdftoppm rendered %d pages, want %d", len(got), n)
	}
}

// squash collapses runs of white space, as a layout can put any amount.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestPolicy(t *testing.T) {
	rows := testRows()
	path := save(t, "policy.pdf", policyPDF(t, testCover(), rows))
	n := pages(t, path)
	if n != 3 {
		t.Errorf("pages = %d, want 3 (cover, summary, controls)", n)
	}
	all := text(t, path, 0, 0)
	flat := squash(all)
	sum := summarize(rows)
	for _, want := range []string{
		// Cover.
		"Policy report", "group web (3 assets)", "cis-debian12-l1 — CIS Debian 12 Level 1",
		"Policy version 7", "Generated 2026-11-30 14:05:09 UTC", "Generated by audit-token",
		"Server plumb.example.com", pct(sum.Score), pct(sum.Weighted), pct(sum.Coverage),
		"Score = Pass / (Pass + Fail + Error) × 100", "Coverage = (Pass + Fail) / (Pass + Fail + Error) × 100",
		"minimal 1, medium 2, serious 3, critical 4, urgent 5",
		// Summary.
		"Fail (excepted) 1", "Not checked 1", "Total 6", "urgent 5",
		// Controls.
		"Asset: db1.example.com", "Asset: web1.example.com", "Asset: web2.example.com",
		"Fail (excepted)", "Exception #42: risk acceptance", "Owner: alice@example.com",
		"Expires: 2027-03-31", "Legacy clients need TLS 1.1", "Reason: permission_denied",
		"open /etc/ssh/sshd_config: permission denied", "xccdf_org.ssgproject.content_rule_sshd",
		"Page 1 of 3", "Page 3 of 3",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	for _, r := range rows {
		if !strings.Contains(all, strconv.Itoa(r.CID)) || !strings.Contains(all, r.Asset) {
			t.Errorf("text lacks CID %d or asset %s", r.CID, r.Asset)
		}
	}
	// The score figures, as the summary has them: 2 of 3 scored pass (the
	// Fail is excepted).
	if sum.Score != 66.7 || !strings.Contains(flat, "66.7 %") {
		t.Errorf("score %v not shown as 66.7 %%", sum.Score)
	}
	info := run(t, "pdfinfo", path)
	for _, want := range []string{"Title:", "Policy report", "Author:", "Plumb", "Subject:", "cis-debian12-l1",
		"Creator:", "CreationDate:", "Mon Nov 30 14:05:09 2026"} {
		if !strings.Contains(info, want) {
			t.Errorf("pdfinfo lacks %q:\n%s", want, info)
		}
	}
	render(t, path, n)
}

func TestPolicyManyRows(t *testing.T) {
	var rows []Row
	for a := range 3 {
		for i := range 300 {
			st := result.Statuses[i%len(result.Statuses)]
			rows = append(rows, Row{Asset: fmt.Sprintf("host%d.example.com", a), Result: result.Result{
				CID: 1000 + i, Title: "Ensure a setting that takes a few words to describe is set", Criticality: policy.Criticality(1 + i%5),
				Status: st, Expected: "value >= 4", Actual: []string{strconv.Itoa(i % 7)},
			}})
		}
	}
	path := save(t, "many.pdf", policyPDF(t, testCover(), rows))
	n := pages(t, path)
	if n < 10 {
		t.Fatalf("pages = %d, want the 900 rows to take many", n)
	}
	seen := map[string]bool{}
	for p := 3; p <= n; p++ {
		s := text(t, path, p, p)
		for _, h := range []string{"CID", "Title", "Criticality", "Result", "Expected", "Actual evidence", "Exception"} {
			if !strings.Contains(s, h) {
				t.Errorf("page %d lacks column title %q", p, h)
			}
		}
		if !strings.Contains(s, fmt.Sprintf("Page %d of %d", p, n)) {
			t.Errorf("page %d lacks its number", p)
		}
		if !strings.Contains(s, "Policy report — group web") {
			t.Errorf("page %d lacks the header line", p)
		}
		for _, m := range regexp.MustCompile(`\b1\d\d\d\b`).FindAllString(s, -1) {
			seen[m] = true
		}
	}
	for i := range 300 {
		if !seen[strconv.Itoa(1000+i)] {
			t.Errorf("CID %d not found", 1000+i)
		}
	}
	if s := squash(text(t, path, 0, 0)); strings.Count(s, "(continued)") < n-3-3 {
		t.Errorf("fewer (continued) headings than continued pages")
	}
	render(t, path, n)
}

func TestPolicyHostile(t *testing.T) {
	huge := strings.Repeat("A very long value ", 100_000) // 1.8 MB
	hostile := "nul\x00bell\x07esc\x1b[31m del\x7f c1\u0085 bad\xff\xfe utf8 \U0001F600 emoji 漢字 " +
		"bidi\u202Eevil\u202C % ) ( \\ \\) \\( %%EOF endstream endobj \r\n crlf\ttab {nb} \x01nb\x01"
	rows := []Row{
		{Asset: hostile, Result: result.Result{CID: 1, Title: hostile, Status: result.Fail, Criticality: 5,
			Expected: hostile, Actual: []string{hostile, huge, hostile}, Message: hostile, Rule: hostile}},
		{Asset: hostile, Result: result.Result{CID: 2, Title: huge, Status: result.Error, Criticality: 9,
			Expected: strings.Repeat("x\n", 100_000), Actual: []string{huge}, Reason: hostile, Message: huge},
			Excepted: &Exception{ID: -1, Type: hostile, Owner: huge, Justification: huge}},
		{Asset: huge, Result: result.Result{CID: 3, Title: strings.Repeat("W", 50_000), Status: result.Status(hostile),
			Expected: strings.Repeat("\xff", 10_000), Actual: make([]string, 100_000)}},
	}
	c := Cover{Title: hostile, Scope: huge, Policy: hostile, PolicyTitle: huge, GeneratedBy: hostile, Server: "\xff\x00)"}
	pdf := policyPDF(t, c, rows)
	if len(pdf) > 2<<20 {
		t.Errorf("PDF is %d bytes: cells not capped", len(pdf))
	}
	path := save(t, "hostile.pdf", pdf)
	n := pages(t, path)
	if n > 6 {
		t.Errorf("pages = %d: cells not capped", n)
	}
	s := text(t, path, 0, 0)
	for _, want := range []string{"more characters)", "nul¿bell¿esc¿[31m del¿ c1¿ bad¿¿ utf8 ¿ emoji ¿¿", "% ) ( \\ \\) \\(", "{nb} ¿nb¿"} {
		if !strings.Contains(s, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	if strings.Contains(s, "Page 1 of 1 ") || !strings.Contains(s, fmt.Sprintf("Page 1 of %d", n)) {
		t.Error("page count placeholder not as expected")
	}
	render(t, path, n)
}

func TestPolicyRowsError(t *testing.T) {
	boom := errors.New("database went away")
	rows := func(yield func(Row, error) bool) {
		for _, r := range testRows() {
			if !yield(r, nil) {
				return
			}
		}
		if yield(Row{}, boom) {
			t.Error("rows went on after an error")
		}
	}
	var b bytes.Buffer
	err := Policy(&b, testCover(), summarize(testRows()), rows)
	if !errors.Is(err, boom) {
		t.Fatalf("Policy = %v, want %v", err, boom)
	}
	if b.Len() != 0 {
		t.Errorf("Policy wrote %d bytes before failing", b.Len())
	}
}

func TestPolicyEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := Policy(&b, Cover{}, result.Summary{}, nil); err != nil {
		t.Fatal(err)
	}
	path := save(t, "empty.pdf", b.Bytes())
	s := squash(text(t, path, 0, 0))
	for _, want := range []string{"Policy report", "No results.", "Nothing was scored", "Page 3 of 3"} {
		if !strings.Contains(s, want) {
			t.Errorf("text lacks %q", want)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestPolicyWriteError(t *testing.T) {
	err := Policy(failWriter{}, testCover(), summarize(testRows()), seq(testRows()))
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Policy = %v, want the write error", err)
	}
}

func testSeries() []Series {
	var web, db []Point
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) // a Monday
	for i := range 26 {
		web = append(web, Point{Period: start.AddDate(0, 0, 7*i), Score: 60 + float64(i), Weighted: 55 + float64(i)*1.2, Coverage: 97, Excepted: i % 3})
	}
	for i := range 3 {
		db = append(db, Point{Period: start.AddDate(0, 0, 14*i), Score: 80, Weighted: 70, Coverage: 100})
	}
	return []Series{{Name: "group web", Points: web}, {Name: "group db", Points: db}, {Name: "group empty"}}
}

func TestTrend(t *testing.T) {
	tests := []struct {
		granularity string
		period      time.Time
		want        string
	}{
		{"day", time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), "2026-11-30"},
		{"", time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), "2026-11-30"},
		{"week", time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), "2026-W48"},
		{"week", time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC), "2026-W53"},
		{"month", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), "2026-11"},
		{"quarter", time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), "2026-Q4"},
		{"quarter", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), "2026-Q1"},
	}
	for _, tt := range tests {
		t.Run(tt.granularity+"/"+tt.want, func(t *testing.T) {
			label, err := periodLabel(tt.granularity)
			if err != nil {
				t.Fatal(err)
			}
			if got := label(tt.period); got != tt.want {
				t.Errorf("label = %q, want %q", got, tt.want)
			}
		})
	}
	if err := Trend(&bytes.Buffer{}, testCover(), "fortnight", nil); err == nil {
		t.Error("Trend with granularity fortnight: no error")
	}

	c := testCover()
	c.Title = "Trend report"
	var b bytes.Buffer
	if err := Trend(&b, c, Week, testSeries()); err != nil {
		t.Fatal(err)
	}
	path := save(t, "trend.pdf", b.Bytes())
	n := pages(t, path)
	if n != 4 {
		t.Errorf("pages = %d, want 4 (cover, 3 series)", n)
	}
	s := squash(text(t, path, 0, 0))
	for _, want := range []string{"Trend report", "group web", "group db", "group empty", "2026-W23", "2026-W48",
		"Score", "Weighted score", "No data.", "85.0", "Page 4 of 4", "3 series by week, from 2026-W23 to 2026-W48"} {
		if !strings.Contains(s, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	render(t, path, n)
}

func TestDeterministic(t *testing.T) {
	a := policyPDF(t, testCover(), testRows())
	b := policyPDF(t, testCover(), testRows())
	if !bytes.Equal(a, b) {
		t.Error("two policy reports of the same input differ")
	}
	if bytes.Contains(a, []byte("/Type /XRef")) || !bytes.Contains(a, []byte("\nxref\n")) {
		t.Error("want a classic xref table")
	}
	if !bytes.Contains(a, []byte("/CreationDate (D:20261130140509)")) {
		t.Error("creation date is not Cover.Generated")
	}
	var x, y bytes.Buffer
	for _, w := range []*bytes.Buffer{&x, &y} {
		if err := Trend(w, testCover(), Month, testSeries()); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(x.Bytes(), y.Bytes()) {
		t.Error("two trend reports of the same input differ")
	}
}

// TestConcurrent checks that reports made at the same time (as a server
// makes them) do not share state: each is the same as one made alone.
func TestConcurrent(t *testing.T) {
	want := policyPDF(t, testCover(), testRows())
	errs := make(chan error, 8)
	for range cap(errs) {
		go func() {
			var b bytes.Buffer
			err := Policy(&b, testCover(), summarize(testRows()), seq(testRows()))
			if err == nil && !bytes.Equal(b.Bytes(), want) {
				err = errors.New("differs from the report made alone")
			}
			errs <- err
		}()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
