package server

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbhq/plumb/pdfsign"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/secret"
)

// needTool finds a poppler tool: missing fails in CI, else skips.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (Debian package poppler-utils; test.sh installs it)", name)
		}
		t.Skipf("%s is missing (Debian package poppler-utils)", name)
	}
	return p
}

// pdfText is pdftotext -layout of a PDF.
func pdfText(t testing.TB, pdf []byte) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(file, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(needTool(t, "pdftotext"), "-layout", file, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	return string(out)
}

// getPDF fetches a report as role and checks it is a signed PDF whose
// signature is the server's and verifies.
func (e *env) getPDF(role, path string) ([]byte, pdfsign.Signature) {
	e.t.Helper()
	status, data := e.do(role, "GET", path, nil)
	if status != 200 || !bytes.HasPrefix(data, []byte("%PDF-")) {
		e.t.Fatalf("GET %s: %d %.300s", path, status, data)
	}
	sig, err := pdfsign.Verify(data)
	if err != nil {
		e.t.Fatalf("GET %s: the report does not verify: %v", path, err)
	}
	status, certPEM := e.do(role, "GET", "/v1/reports/certificate", nil)
	b, _ := pem.Decode(certPEM)
	if status != 200 || b == nil {
		e.t.Fatalf("certificate: %d %s", status, certPEM)
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil || !cert.Equal(sig.Cert) {
		e.t.Fatalf("the report is signed by %q, not the server's certificate (%v)", sig.Signer, err)
	}
	now := time.Now()
	if e.st.Now != nil {
		now = e.st.Now()
	}
	if d := now.Sub(sig.SigningTime); d < -time.Minute || d > time.Minute {
		e.t.Errorf("signing time %v, want the server's clock %v", sig.SigningTime, now)
	}
	return data, sig
}

// checkPolicyReport is the policy report of a group under exceptions: the
// cover, the score the API gives, every excepted Fail with its
// justification and owner.
func (e *env) checkPolicyReport(group int64, policy string, sum result.Summary, justification string) {
	e.t.Helper()
	pdf, _ := e.getPDF("auditor", fmt.Sprintf("/v1/reports/policy?policy=%s&group=%d", policy, group))
	text := pdfText(e.t, pdf)
	for _, want := range []string{policy, "group web (5 assets)", "auditor-token",
		fmt.Sprintf("%.1f", sum.Score), "Fail (excepted)", "web team", "web1", "web5", "Page 1 of"} {
		if !strings.Contains(text, want) {
			e.t.Errorf("the policy report lacks %q", want)
		}
	}
	if !strings.Contains(strings.Join(strings.Fields(text), " "), strings.Join(strings.Fields(justification)[:4], " ")) {
		e.t.Errorf("the policy report lacks the justification %q", justification)
	}
}

func TestReportRefusals(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		path, field string
	}{
		{"/v1/reports/policy", "policy"},
		{"/v1/reports/policy?policy=no-such", "policy"},
		{"/v1/reports/policy?policy=plumb-linux-l1&group=x", "group"},
		{"/v1/reports/trend?scope=planet", "scope"},
		{"/v1/reports/trend?scope=group&key=999", "key"},
		{"/v1/reports/trend?granularity=hour", "granularity"},
	} {
		if c.path == "/v1/reports/policy?policy=plumb-linux-l1&group=x" {
			e.must("admin", "POST", "/v1/policies/import", map[string][]string{"ids": {"plumb-linux-l1"}}, 200, nil)
		}
		status, data := e.do("auditor", "GET", c.path, nil)
		if p := problemOf(t, data); status != 400 || p.Field != c.field {
			t.Errorf("GET %s: %d %s, want 400 naming %s", c.path, status, data, c.field)
		}
	}
	status, data := e.do("auditor", "GET", "/v1/reports/policy?policy=plumb-linux-l1&group=999", nil)
	if p := problemOf(t, data); status != 400 || p.Field != "group" {
		t.Errorf("unknown group: %d %s", status, data)
	}
	// An empty fleet still makes a valid report.
	pdf, _ := e.getPDF("operator", "/v1/reports/policy?policy=plumb-linux-l1")
	if text := pdfText(t, pdf); !strings.Contains(text, "all assets (0 assets)") {
		t.Errorf("empty report:\n%s", text)
	}
	e.getPDF("approver", "/v1/reports/trend?granularity=week")
}

// Replicas share the signing key through the store; a replica with
// another secret key cannot open it and says so.
func TestReportSigningKeyShared(t *testing.T) {
	e := newEnv(t)
	_, first := e.getPDF("auditor", "/v1/reports/trend")
	other, err := New(Config{Store: e.st, Library: e.srv.lib, Box: e.srv.box})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := other.policyReport(context.Background(), &buf, "no-such", 0, "x"); err == nil {
		t.Fatal("a report of an unknown policy was made")
	}
	sg, err := other.signer(context.Background())
	if err != nil || !sg.Cert.Equal(first.Cert) {
		t.Fatalf("a second replica signs with another certificate (%v)", err)
	}
	key, _ := secret.ParseKey(secret.NewKey())
	box, _ := secret.New(key)
	wrong, err := New(Config{Store: e.st, Library: e.srv.lib, Box: box})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.signer(context.Background()); err == nil || !strings.Contains(err.Error(), "secret key") {
		t.Fatalf("a replica with another secret key: %v", err)
	}
}
