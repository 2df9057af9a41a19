package pdfsign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"
)

// signTime is in a zone other than UTC, to check that times survive.
var signTime = time.Date(2025, 3, 14, 15, 9, 26, 0, time.FixedZone("CET", 3600))

type doc struct {
	pages    int
	link     bool // an existing /Annots on every page
	compress bool // compressed content streams (fpdf's default)
}

// makePDF returns a PDF made by fpdf. Its pages say "Plumb report page N".
func makePDF(t testing.TB, d doc) []byte {
	t.Helper()
	f := fpdf.New("P", "mm", "A4", "")
	f.SetCompression(d.compress)
	f.SetCreationDate(signTime)
	f.SetModificationDate(signTime)
	f.SetTitle("Plumb report", false)
	for i := 1; i <= d.pages; i++ {
		f.AddPage()
		f.SetFont("Helvetica", "", 14)
		f.Cell(60, 10, fmt.Sprintf("Plumb report page %d", i))
		if d.link {
			f.LinkString(10, 10, 60, 10, "https://example.com/")
		}
	}
	var b bytes.Buffer
	if err := f.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// newSigner returns a signer with a fresh self-signed certificate.
func newSigner(t testing.TB, cn string) *Signer {
	t.Helper()
	c, k, err := NewSelfSigned(cn, signTime, 2)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(c, k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// needTool returns the path of a command from Debian package pkg, or
// skips the test (fails it on CI, where the tools must be installed).
func needTool(t *testing.T, tool, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		msg := tool + " is not installed (Debian package " + pkg + ")"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// run writes pdf to a file and returns the output of the poppler tool
// with args, where "FILE" stands for the file name.
func run(t *testing.T, tool string, pdf []byte, args ...string) string {
	t.Helper()
	path := needTool(t, tool, "poppler-utils")
	file := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	args = slices.Clone(args)
	for i, a := range args {
		if a == "FILE" {
			args[i] = file
		}
	}
	out, err := exec.Command(path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", tool, err, out)
	}
	return string(out)
}

// pdfsig returns the output of pdfsig for pdf, one block of lines per
// signature. -nocert skips certificate validation: the test certificates
// are self-signed and the result must not depend on an NSS database.
func pdfsig(t *testing.T, pdf []byte) []string {
	t.Helper()
	out := run(t, "pdfsig", pdf, "-nocert", "FILE")
	sigs := strings.Split(out, "\nSignature #")
	return sigs[1:]
}

// wantLines checks that each of want is a line of out (leading spaces
// and "- " removed).
func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	lines := make(map[string]bool)
	for _, l := range strings.Split(out, "\n") {
		lines[strings.TrimPrefix(strings.TrimSpace(l), "- ")] = true
	}
	for _, w := range want {
		if !lines[w] {
			t.Errorf("no line %q in:\n%s", w, out)
		}
	}
}

var docs = []struct {
	name string
	doc  doc
}{
	{"one page", doc{pages: 1}},
	{"compressed", doc{pages: 1, compress: true}},
	{"three pages", doc{pages: 3, compress: true}},
	{"annotations", doc{pages: 2, link: true}},
}

func TestSignVerify(t *testing.T) {
	s := newSigner(t, "Plumb Test")
	for _, tt := range docs {
		t.Run(tt.name, func(t *testing.T) {
			in := makePDF(t, tt.doc)
			orig := bytes.Clone(in)
			out, err := s.Sign(in, signTime, Info{Reason: "Compliance report", Location: "Zürich"})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(in, orig) {
				t.Fatal("Sign modified its input")
			}
			if !bytes.HasPrefix(out, in) {
				t.Fatal("not an incremental update: the original bytes changed")
			}
			sig, err := Verify(out)
			if err != nil {
				t.Fatal(err)
			}
			if sig.Signer != "Plumb Test" || !sig.SigningTime.Equal(signTime) || sig.Reason != "Compliance report" || !sig.Cert.Equal(s.Cert) {
				t.Errorf("Verify = %+v", sig)
			}

			d, err := open(out)
			if err != nil {
				t.Fatal(err)
			}
			if d.startxref <= len(in) || d.trailer.get("Prev") != int64(bytes.LastIndex(in, []byte("\nxref"))+1) {
				t.Errorf("trailer %v does not chain to the original cross-reference table", d.trailer)
			}
			_, cat, err := d.catalog()
			if err != nil {
				t.Fatal(err)
			}
			_, page, err := d.firstPage(cat.get("Pages"))
			if err != nil {
				t.Fatal(err)
			}
			annots, _ := page.get("Annots").(array)
			if want := 1 + btoi(tt.doc.link); len(annots) != want {
				t.Errorf("first page /Annots = %v, want %d annotations", annots, want)
			}
			if _, ok := annots[len(annots)-1].(ref); !ok {
				t.Errorf("first page /Annots = %v: the widget is not last", annots)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestPoppler(t *testing.T) {
	s := newSigner(t, "Plumb Test")
	for _, tt := range docs {
		t.Run(tt.name, func(t *testing.T) {
			in := makePDF(t, tt.doc)
			out, err := s.Sign(in, signTime, Info{Reason: "Compliance report"})
			if err != nil {
				t.Fatal(err)
			}
			sigs := pdfsig(t, out)
			if len(sigs) != 1 {
				t.Fatalf("pdfsig found %d signatures, want 1", len(sigs))
			}
			wantLines(t, sigs[0],
				"Signature Field Name: Signature1",
				"Signer Certificate Common Name: Plumb Test",
				"Signer full Distinguished Name: CN=Plumb Test,O=Plumb",
				"Signing Hash Algorithm: SHA-256",
				"Signature Type: adbe.pkcs7.detached",
				"Total document signed",
				"Signature Validation: Signature is Valid.")

			text := run(t, "pdftotext", out, "-layout", "FILE", "-")
			for i := 1; i <= tt.doc.pages; i++ {
				if w := fmt.Sprintf("Plumb report page %d", i); !strings.Contains(text, w) {
					t.Errorf("pdftotext: no %q in:\n%s", w, text)
				}
			}
			if info := run(t, "pdfinfo", out, "FILE"); !strings.Contains(info, fmt.Sprintf("\nPages: %d\n", tt.doc.pages)) &&
				!regexp.MustCompile(fmt.Sprintf(`\nPages: +%d\n`, tt.doc.pages)).MatchString(info) {
				t.Errorf("pdfinfo:\n%s", info)
			}
		})
	}
}

// contents returns the decoded /Contents of the last signature of pdf
// and the offset of its first hexadecimal digit.
func contents(t *testing.T, pdf []byte) ([]byte, int) {
	t.Helper()
	sig, err := findSignature(pdf)
	if err != nil {
		t.Fatal(err)
	}
	e := sig.entry("Contents")
	return e.val.(str), e.off + 1
}

func TestTamper(t *testing.T) {
	s := newSigner(t, "Plumb Test")
	signed, err := s.Sign(makePDF(t, doc{pages: 2}), signTime, Info{Reason: "Compliance report"})
	if err != nil {
		t.Fatal(err)
	}
	cms, hexOff := contents(t, signed)
	var raw asn1.RawValue
	if _, err := asn1.Unmarshal(cms, &raw); err != nil {
		t.Fatal(err)
	}
	cmsLen := len(raw.FullBytes)
	d, err := open(signed)
	if err != nil {
		t.Fatal(err)
	}
	root := d.trailer.get("Root").(ref)

	replace := func(old, new string) func(*testing.T, []byte) []byte {
		return func(t *testing.T, b []byte) []byte {
			i := bytes.Index(b, []byte(old))
			if i < 0 {
				t.Fatalf("no %q in the signed PDF", old)
			}
			return append(append(b[:i:i], new...), b[i+len(old):]...)
		}
	}
	setHex := func(i int, digits string) func(*testing.T, []byte) []byte {
		return func(_ *testing.T, b []byte) []byte {
			copy(b[hexOff+2*i:], digits)
			return b
		}
	}
	setByteRange := func(f func([]int)) func(*testing.T, []byte) []byte {
		return func(t *testing.T, b []byte) []byte {
			i := bytes.LastIndex(b, []byte("/ByteRange ["))
			if i < 0 {
				t.Fatal("no /ByteRange")
			}
			i += len("/ByteRange ")
			br := make([]int, 4)
			if _, err := fmt.Sscanf(string(b[i:i+byteRangeWidth]), "[%d %d %d %d]", &br[0], &br[1], &br[2], &br[3]); err != nil {
				t.Fatal(err)
			}
			f(br)
			copy(b[i:], fmt.Sprintf("%-*s", byteRangeWidth, fmt.Sprintf("[%d %d %d %d]", br[0], br[1], br[2], br[3])))
			return b
		}
	}
	tests := []struct {
		name    string
		mutate  func(*testing.T, []byte) []byte
		err     string // in Verify's error
		is      error  // what Verify's error wraps
		poppler string // pdfsig line, if pdfsig reports it
	}{
		{
			name:    "page text",
			mutate:  replace("(Plumb report page 2)", "(Plumb report page 3)"),
			err:     "the document's SHA-256 digest does not match the signed message digest",
			is:      ErrModified,
			poppler: "Signature Validation: Digest Mismatch.",
		},
		{
			name:    "document info",
			mutate:  replace("/Title (Plumb report)", "/Title (Plumb rEport)"),
			err:     "digest does not match",
			is:      ErrModified,
			poppler: "Signature Validation: Digest Mismatch.",
		},
		{
			name:    "signature reason",
			mutate:  replace("/Reason (Compliance report)", "/Reason (Compliance rEport)"),
			err:     "digest does not match",
			is:      ErrModified,
			poppler: "Signature Validation: Digest Mismatch.",
		},
		{
			name:    "appended bytes",
			mutate:  func(_ *testing.T, b []byte) []byte { return append(b, "% more\n"...) },
			err:     fmt.Sprintf("signature covers bytes 0-%d of %d: 7 bytes were added after signing", len(signed), len(signed)+7),
			is:      ErrModified,
			poppler: "Not total document signed",
		},
		{
			name: "appended update",
			mutate: func(_ *testing.T, b []byte) []byte {
				// A new version of the document information, as an editor
				// saving incrementally would write it.
				obj := fmt.Sprintf("%d 0 obj\n<< /Title (Edited) >>\nendobj\n", d.size)
				return fmt.Appendf(b, "%sxref\n%d 1\n%010d 00000 n\r\ntrailer\n<< /Size %d /Root %d 0 R /Info %[2]d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n",
					obj, d.size, len(b), d.size+1, root.num, d.startxref, len(b)+len(obj))
			},
			err:     "bytes were added after signing",
			is:      ErrModified,
			poppler: "Not total document signed",
		},
		{
			name:   "truncated",
			mutate: func(_ *testing.T, b []byte) []byte { return b[:len(b)-1] },
			err:    "truncated",
		},
		{
			name:   "byte range",
			mutate: setByteRange(func(br []int) { br[1]-- }),
			err:    "signature /ByteRange leaves out bytes",
		},
		{
			name:   "byte range start",
			mutate: replace("/ByteRange [0 ", "/ByteRange [2 "),
			err:    "/ByteRange starts at 2",
			is:     ErrModified,
		},
		{
			name:   "CMS tag",
			mutate: setHex(0, "31"),
			err:    "CMS ContentInfo",
		},
		{
			name:    "CMS signature",
			mutate:  setHex(cmsLen-1, fmt.Sprintf("%02x", cms[cmsLen-1]^1)),
			err:     `CMS signature by "Plumb Test"`,
			poppler: "Signature Validation: Signature is Invalid.",
		},
		{
			name:   "CMS garbage after",
			mutate: setHex(cmsLen+1, "01"),
			err:    "trailing data",
		},
		{
			name:   "CMS removed",
			mutate: func(_ *testing.T, b []byte) []byte { copy(b[hexOff:], strings.Repeat("0", 2*len(cms))); return b },
			err:    "CMS ContentInfo",
		},
		{
			name:   "not signed",
			mutate: func(t *testing.T, _ []byte) []byte { return makePDF(t, doc{pages: 1}) },
			err:    "not signed: no signature dictionary",
			is:     ErrNotSigned,
		},
		{
			name:   "not a PDF",
			mutate: func(*testing.T, []byte) []byte { return []byte("hello") },
			err:    "not signed: no signature dictionary",
			is:     ErrNotSigned,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pdf := tt.mutate(t, bytes.Clone(signed))
			_, err := Verify(pdf)
			if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.HasPrefix(err.Error(), "pdfsign: ") {
				t.Fatalf("Verify error = %v, want %q", err, tt.err)
			}
			for _, e := range []error{ErrModified, ErrNotSigned, ErrUnsupported} {
				if errors.Is(err, e) != (e == tt.is) {
					t.Errorf("errors.Is(%v, %v) = %v", err, e, e != tt.is)
				}
			}
			if tt.poppler == "" {
				return
			}
			sigs := pdfsig(t, pdf)
			if len(sigs) != 1 {
				t.Fatalf("pdfsig found %d signatures, want 1", len(sigs))
			}
			wantLines(t, sigs[0], tt.poppler)
			if strings.Contains(sigs[0], "Signature is Valid") && strings.Contains(sigs[0], "Total document signed") {
				t.Errorf("pdfsig accepts the changed document:\n%s", sigs[0])
			}
		})
	}
}

// TestSignAgain signs a signed document with another key: the first
// signature still covers its revision, the second the whole file.
func TestSignAgain(t *testing.T) {
	alice, bob := newSigner(t, "Alice"), newSigner(t, "Bob")
	first, err := alice.Sign(makePDF(t, doc{pages: 1, link: true}), signTime, Info{Reason: "Author"})
	if err != nil {
		t.Fatal(err)
	}
	later := signTime.Add(time.Hour)
	second, err := bob.Sign(first, later, Info{Reason: "Approval", Name: "Bob B."})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := Verify(second)
	if err != nil {
		t.Fatal(err)
	}
	if sig.Signer != "Bob" || !sig.SigningTime.Equal(later) || sig.Reason != "Approval" {
		t.Errorf("Verify = %+v, want Bob's signature", sig)
	}
	if sig, err := Verify(second[:len(first)]); err != nil || sig.Signer != "Alice" {
		t.Errorf("Verify(first revision) = %+v, %v", sig, err)
	}

	sigs := pdfsig(t, second)
	if len(sigs) != 2 {
		t.Fatalf("pdfsig found %d signatures, want 2", len(sigs))
	}
	wantLines(t, sigs[0], "Signature Field Name: Signature1", "Signer Certificate Common Name: Alice",
		"Not total document signed", "Signature Validation: Signature is Valid.")
	wantLines(t, sigs[1], "Signature Field Name: Signature2", "Signer Certificate Common Name: Bob",
		"Total document signed", "Signature Validation: Signature is Valid.")
}

// makeCert returns a certificate for key, in PEM and parsed, issued by
// parent (or self-signed if parent is nil).
func makeCert(t *testing.T, cn string, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer) ([]byte, *x509.Certificate) {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             signTime.Add(-time.Hour),
		NotAfter:              signTime.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  parent == nil,
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), c
}

func TestLoad(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := func(k any) []byte {
		b, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b})
	}
	sec1, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	rsaCert, _ := makeCert(t, "RSA signer", rsaKey, nil, nil)
	ecCert, _ := makeCert(t, "EC signer", ecKey, nil, nil)
	caCert, ca := makeCert(t, "Plumb CA", ecKey, nil, nil)
	leafCert, _ := makeCert(t, "Leaf signer", rsaKey, ca, ecKey)
	rsaPKCS1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})

	pdf := makePDF(t, doc{pages: 1})
	for _, tt := range []struct {
		name       string
		cert, key  []byte
		cn         string
		chain      int
		pdfsigOnly bool
	}{
		{name: "RSA PKCS #1", cert: rsaCert, key: rsaPKCS1, cn: "RSA signer"},
		{name: "RSA PKCS #8", cert: rsaCert, key: pkcs8(rsaKey), cn: "RSA signer"},
		{name: "EC P-384 SEC 1", cert: ecCert, key: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), cn: "EC signer"},
		{name: "chain", cert: append(leafCert, caCert...), key: rsaPKCS1, cn: "Leaf signer", chain: 1},
		{name: "one file", cert: append(rsaPKCS1, rsaCert...), key: append(rsaCert, rsaPKCS1...), cn: "RSA signer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(tt.cert, tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if s.Cert.Subject.CommonName != tt.cn || len(s.Chain) != tt.chain {
				t.Fatalf("Load = %v with %d intermediates", s.Cert.Subject, len(s.Chain))
			}
			out, err := s.Sign(pdf, signTime, Info{})
			if err != nil {
				t.Fatal(err)
			}
			sig, err := Verify(out)
			if err != nil {
				t.Fatal(err)
			}
			if sig.Signer != tt.cn || !sig.Cert.Equal(s.Cert) || sig.Reason != "" {
				t.Errorf("Verify = %+v", sig)
			}
			sigs := pdfsig(t, out)
			if len(sigs) != 1 {
				t.Fatalf("pdfsig found %d signatures", len(sigs))
			}
			wantLines(t, sigs[0], "Signer Certificate Common Name: "+tt.cn, "Total document signed", "Signature Validation: Signature is Valid.")
		})
	}

	otherCert, _ := makeCert(t, "Other", ecKey, nil, nil)
	ed := []byte("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIDmGUbTEoUYKYVEhxjhzRg2gWXZsjNY3w1hNJn2vHdwu\n-----END PRIVATE KEY-----\n")
	for _, tt := range []struct {
		name      string
		cert, key []byte
		err       string
	}{
		{"no certificate", nil, rsaPKCS1, "no PEM CERTIFICATE block"},
		{"bad certificate", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), rsaPKCS1, "certificate 1:"},
		{"no key", rsaCert, rsaCert, "no PEM PRIVATE KEY"},
		{"bad key", rsaCert, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "PRIVATE KEY:"},
		{"other key", otherCert, rsaPKCS1, "the private key does not belong to the certificate"},
		{"Ed25519", rsaCert, ed, "unsupported: ed25519.PrivateKey"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.cert, tt.key)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Load error = %v, want %q", err, tt.err)
			}
		})
	}
}

func TestNewSelfSigned(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	certPEM, keyPEM, err := NewSelfSigned("Plumb Reports", now, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(certPEM, []byte("-----BEGIN CERTIFICATE-----\n")) || !bytes.HasPrefix(keyPEM, []byte("-----BEGIN PRIVATE KEY-----\n")) {
		t.Errorf("PEM blocks:\n%s%s", certPEM, keyPEM)
	}
	s, err := Load(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	c := s.Cert
	if _, ok := s.Key.(*ecdsa.PrivateKey); !ok || c.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("key %T, %v", s.Key, c.PublicKeyAlgorithm)
	}
	if c.Subject.String() != "CN=Plumb Reports,O=Plumb" || c.Issuer.String() != c.Subject.String() {
		t.Errorf("subject %v, issuer %v", c.Subject, c.Issuer)
	}
	if !c.NotBefore.Equal(now.Add(-time.Hour)) || !c.NotAfter.Equal(now.AddDate(3, 0, 0)) {
		t.Errorf("valid %v to %v", c.NotBefore, c.NotAfter)
	}
	if c.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment || c.IsCA {
		t.Errorf("key usage %b, CA %v", c.KeyUsage, c.IsCA)
	}
	if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageEmailProtection ||
		len(c.UnknownExtKeyUsage) != 1 || !c.UnknownExtKeyUsage[0].Equal(oidDocumentSigning) {
		t.Errorf("extended key usage %v %v", c.ExtKeyUsage, c.UnknownExtKeyUsage)
	}
	if err := c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature); err != nil {
		t.Error(err)
	}
	if len(c.SubjectKeyId) == 0 || c.SerialNumber.Sign() <= 0 {
		t.Errorf("subject key id %x, serial %v", c.SubjectKeyId, c.SerialNumber)
	}

	for _, tt := range []struct {
		name  string
		years int
	}{{"", 1}, {"x", 0}, {"x", 101}} {
		if _, _, err := NewSelfSigned(tt.name, now, tt.years); err == nil {
			t.Errorf("NewSelfSigned(%q, %d) succeeded", tt.name, tt.years)
		}
	}
}

// xrefStreamPDF returns a minimal PDF 1.5 file whose cross-reference
// section is a stream, and the offset of that stream.
func xrefStreamPDF() ([]byte, int) {
	b := []byte("%PDF-1.5\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
		"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n" +
		"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >> endobj\n")
	x := len(b)
	b = fmt.Appendf(b, "4 0 obj << /Type /XRef /Size 5 /Root 1 0 R /W [1 2 1] /Length 0 >> stream\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", x)
	return b, x
}

func TestSignErrors(t *testing.T) {
	s := newSigner(t, "Plumb Test")
	pdf := makePDF(t, doc{pages: 1})
	trailer := bytes.LastIndex(pdf, []byte("trailer"))
	encrypted := bytes.Clone(pdf)
	encrypted = append(encrypted[:trailer+len("trailer\n<<")], append([]byte("/Encrypt 99 0 R "), pdf[trailer+len("trailer\n<<"):]...)...)
	xrefStream, xrefOff := xrefStreamPDF()
	for _, tt := range []struct {
		name        string
		pdf         []byte
		err         string
		unsupported bool
	}{
		{"empty", nil, "no startxref", false},
		{"truncated", pdf[:len(pdf)/2], "no startxref", false},
		{"bad startxref", bytes.Replace(pdf, []byte("startxref\n"), []byte("startxref\n9"), 1), "outside the file", false},
		{"bad xref", bytes.Replace(pdf, []byte("\nxref\n"), []byte("\nxreg\n"), 1), "no cross-reference table at offset", false},
		{"no root", bytes.Replace(pdf, []byte("/Root"), []byte("/Rooo"), 1), "trailer has no /Root reference", false},
		{"xref stream", xrefStream, fmt.Sprintf("unsupported: cross-reference stream at offset %d", xrefOff), true},
		{"encrypted", encrypted, "unsupported: encrypted PDF", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Sign(tt.pdf, signTime, Info{})
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Sign error = %v, want %q", err, tt.err)
			}
			if errors.Is(err, ErrUnsupported) != tt.unsupported {
				t.Errorf("errors.Is(%v, ErrUnsupported) = %v", err, !tt.unsupported)
			}
		})
	}

	other := newSigner(t, "Other")
	for _, tt := range []struct {
		name string
		s    *Signer
	}{
		{"nil", nil},
		{"no key", &Signer{Cert: s.Cert}},
		{"mismatched key", &Signer{Cert: s.Cert, Key: other.Key}},
	} {
		if _, err := tt.s.Sign(pdf, signTime, Info{}); err == nil {
			t.Errorf("%s: Sign succeeded", tt.name)
		}
	}
	if _, err := s.Sign(pdf, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Info{}); err == nil {
		t.Error("Sign in the year 10000 succeeded")
	}
	d, err := open(pdf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.sign(s, Info{}, signTime, 500); err == nil || !strings.Contains(err.Error(), "does not fit the 500 reserved") {
		t.Errorf("signing into 500 bytes: %v", err)
	}
}

// TestSigningTime checks the CMS time encodings: UTCTime up to 2049,
// GeneralizedTime after.
func TestSigningTime(t *testing.T) {
	s := newSigner(t, "Plumb Test")
	pdf := makePDF(t, doc{pages: 1})
	for _, when := range []time.Time{
		time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(2049, 12, 31, 23, 59, 59, 0, time.FixedZone("", -5*3600)),
		time.Date(2050, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 1, 1, 0, 0, 0, 999, time.UTC), // fraction dropped
	} {
		out, err := s.Sign(pdf, when, Info{})
		if err != nil {
			t.Fatal(err)
		}
		sig, err := Verify(out)
		if err != nil {
			t.Fatal(err)
		}
		if !sig.SigningTime.Equal(when.Truncate(time.Second)) {
			t.Errorf("signing time %v, want %v", sig.SigningTime, when)
		}
		cms, _ := contents(t, out)
		tag := byte(0x17) // UTCTime
		if when.UTC().Year() >= 2050 {
			tag = 0x18 // GeneralizedTime
		}
		if want := append(append([]byte{}, mustMarshal(oidSigningTime)...), 0x31); !bytes.Contains(cms, append(want, byte(len(mustMarshal(when.UTC().Truncate(time.Second)))), tag)) {
			t.Errorf("%v: no signing time attribute with tag %#x in %s", when, tag, hex.EncodeToString(cms))
		}
	}
}
