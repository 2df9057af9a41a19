package main

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbhq/plumb/internal/sshtest"
)

// runPlumb runs the plumb binary and returns its combined output and exit
// code.
func runPlumb(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("plumb %v: %v", args, err)
		}
	}
	return string(out), cmd.ProcessState.ExitCode()
}

// lookTool finds a command a test needs: missing fails in CI, else
// skips.
func lookTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (Debian package %s; test.sh installs it)", name, pkg)
		}
		t.Skipf("%s is missing (Debian package %s)", name, pkg)
	}
	return p
}

// TestServerReports: a real server and scanner scan two sshd hosts; the
// CLI fetches the signed policy and trend reports; pdfsig, pdftotext,
// pdftoppm and plumb report verify accept them; one flipped byte fails
// both verifiers. CSV listings parse; the dashboard is served.
func TestServerReports(t *testing.T) {
	sshtest.Require(t)
	pdfsig := lookTool(t, "pdfsig", "poppler-utils")
	pdftotext := lookTool(t, "pdftotext", "poppler-utils")
	pdftoppm := lookTool(t, "pdftoppm", "poppler-utils")
	data := t.TempDir()
	srv := start(t, "server", serverArgs(data, "127.0.0.1:0")...)
	url := srv.waitURL(t)
	tokFile := filepath.Join(data, "admin.token")
	f := setupFleet(t, url, readToken(t, tokFile), 2)
	f.scanner(t, "scanner", url, 2)
	sc := f.wait(t, f.admin, f.launch(t).ID, 5*time.Minute)
	f.checkComplete(t, f.admin, sc)
	conn := []string{"--server", url, "--token-file", tokFile}

	dir := t.TempDir()
	report := filepath.Join(dir, "report.pdf")
	out, code := runPlumb(t, append([]string{"report", "policy", "--policy", e2ePolicy, "--out", report}, conn...)...)
	if code != 0 || !strings.Contains(out, "signed by") {
		t.Fatalf("plumb report policy: exit %d\n%s", code, out)
	}
	out, code = runPlumb(t, "report", "verify", report)
	if code != 0 || !strings.Contains(out, "valid signature covering the whole document") {
		t.Fatalf("plumb report verify: exit %d\n%s", code, out)
	}
	cert := filepath.Join(dir, "cert.pem")
	if out, code = runPlumb(t, append([]string{"report", "certificate", "--out", cert}, conn...)...); code != 0 {
		t.Fatalf("plumb report certificate: exit %d\n%s", code, out)
	}
	if out, code = runPlumb(t, "report", "verify", report, "--cert", cert); code != 0 {
		t.Fatalf("plumb report verify --cert: exit %d\n%s", code, out)
	}
	sig, err := exec.Command(pdfsig, report).CombinedOutput()
	if err != nil || !strings.Contains(string(sig), "Signature is Valid") || !strings.Contains(string(sig), "Total document signed") {
		t.Fatalf("pdfsig: %v\n%s", err, sig)
	}
	t.Logf("pdfsig:\n%s", sig)
	text, err := exec.Command(pdftotext, "-layout", report, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, text)
	}
	for _, want := range []string{e2ePolicy, "host0", "host1", "all assets (2 assets)"} {
		if !bytes.Contains(text, []byte(want)) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if out, err := exec.Command(pdftoppm, "-r", "30", "-png", report, filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "page*.png"))
	if len(pages) < 2 {
		t.Errorf("pdftoppm rendered %d pages", len(pages))
	}

	// One flipped byte inside the signed range: both verifiers object.
	pdf, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(pdf, []byte("stream")) + 20
	pdf[i] ^= 0x01
	tampered := filepath.Join(dir, "tampered.pdf")
	if err := os.WriteFile(tampered, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, code := runPlumb(t, "report", "verify", tampered); code != 1 {
		t.Errorf("plumb report verify of a tampered report: exit %d\n%s", code, out)
	}
	if sig, _ := exec.Command(pdfsig, tampered).CombinedOutput(); strings.Contains(string(sig), "Signature is Valid") {
		t.Errorf("pdfsig calls a tampered report valid:\n%s", sig)
	}

	trend := filepath.Join(dir, "trend.pdf")
	if out, code = runPlumb(t, append([]string{"report", "trend", "--granularity", "day", "--out", trend}, conn...)...); code != 0 {
		t.Fatalf("plumb report trend: exit %d\n%s", code, out)
	}
	if out, code = runPlumb(t, "report", "verify", trend); code != 0 {
		t.Fatalf("plumb report verify trend: exit %d\n%s", code, out)
	}

	// CSV listings parse, header first.
	out, code = runPlumb(t, append([]string{"asset", "list", "--csv"}, conn...)...)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if code != 0 || err != nil || len(recs) != 3 || recs[0][0] != "ID" {
		t.Errorf("asset list --csv: exit %d, %v\n%s", code, err, out)
	}
	out, code = runPlumb(t, append([]string{"result", "list", "--csv"}, conn...)...)
	if recs, err := csv.NewReader(strings.NewReader(out)).ReadAll(); code != 0 || err != nil || len(recs) < 2 {
		t.Errorf("result list --csv: exit %d, %v\n%.500s", code, err, out)
	}

	// The dashboard is in the binary.
	resp, err := http.Get(url + "/ui/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /ui/login: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
