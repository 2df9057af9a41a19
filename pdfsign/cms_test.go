package pdfsign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cmsParts are the pieces of a test SignedData; buildCMS assembles
// them the way signCMS does, or differently where a test asks.
type cmsParts struct {
	certs    [][]byte
	eContent []byte   // encapsulated content, if any
	signers  [][]byte // SignerInfos
}

func buildCMS(p cmsParts) []byte {
	encap := [][]byte{mustMarshal(oidData)}
	if p.eContent != nil {
		encap = append(encap, der(tagContext0, der(tagOctetString, p.eContent)))
	}
	sd := der(tagSequence,
		mustMarshal(1),
		der(tagSet, der(tagSequence, mustMarshal(oidSHA256))),
		der(tagSequence, encap...),
		der(tagContext0, p.certs...),
		der(tagSet, p.signers...))
	return der(tagSequence, mustMarshal(oidSignedData), der(tagContext0, sd))
}

// signerParts are the pieces of a test SignerInfo.
type signerParts struct {
	sid     []byte
	digest  asn1.ObjectIdentifier
	attrs   [][]byte // signed attributes
	noAttrs bool     // no signed attributes at all
	sigAlg  []byte
	key     crypto.Signer // signs the attributes
}

func buildSigner(t *testing.T, p signerParts) []byte {
	t.Helper()
	var set []byte
	parts := [][]byte{mustMarshal(1), p.sid, der(tagSequence, mustMarshal(p.digest))}
	if !p.noAttrs {
		set = der(tagSet, p.attrs...)
		parts = append(parts, append([]byte{tagContext0}, set[1:]...))
	}
	h := sha256.Sum256(set)
	sig, err := p.key.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	parts = append(parts, p.sigAlg, der(tagOctetString, sig))
	return der(tagSequence, parts...)
}

func attr(oid asn1.ObjectIdentifier, values ...[]byte) []byte {
	return der(tagSequence, mustMarshal(oid), der(tagSet, values...))
}

func TestVerifyCMS(t *testing.T) {
	s := newSigner(t, "Plumb Test")
	other := newSigner(t, "Other")
	content := []byte("the signed bytes")
	sum := sha256.Sum256(content)
	digest := func(h crypto.Hash) []byte {
		d := h.New()
		d.Write(content)
		return d.Sum(nil)
	}
	ias := der(tagSequence, s.Cert.RawIssuer, mustMarshal(s.Cert.SerialNumber))
	ecdsaAlg := der(tagSequence, mustMarshal(oidECDSAWithSHA256))
	when := time.Date(2025, 3, 14, 14, 9, 26, 0, time.UTC)
	// The signed attributes signedAttributes writes, in its order.
	good := func() [][]byte {
		var set asn1.RawValue
		if _, err := asn1.Unmarshal(signedAttributes(s.Cert, sum[:], when), &set); err != nil {
			t.Fatal(err)
		}
		var attrs [][]byte
		for rest := set.Bytes; len(rest) > 0; {
			var raw asn1.RawValue
			rest, _ = asn1.Unmarshal(rest, &raw)
			attrs = append(attrs, raw.FullBytes)
		}
		if len(attrs) != 4 {
			t.Fatalf("%d signed attributes", len(attrs))
		}
		return attrs
	}
	without := func(oid asn1.ObjectIdentifier) [][]byte {
		var out [][]byte
		for _, a := range good() {
			var at attribute
			if _, err := asn1.Unmarshal(a, &at); err != nil {
				t.Fatal(err)
			}
			if !at.Type.Equal(oid) {
				out = append(out, a)
			}
		}
		return out
	}
	signer := func(p signerParts) []byte {
		if p.sid == nil {
			p.sid = ias
		}
		if p.digest == nil {
			p.digest = oidSHA256
		}
		if p.attrs == nil {
			p.attrs = good()
		}
		if p.sigAlg == nil {
			p.sigAlg = ecdsaAlg
		}
		if p.key == nil {
			p.key = s.Key
		}
		return buildSigner(t, p)
	}
	one := func(p signerParts) cmsParts {
		return cmsParts{certs: [][]byte{s.Cert.Raw}, signers: [][]byte{signer(p)}}
	}
	otherHash := sha256.Sum256(other.Cert.Raw)
	for _, tt := range []struct {
		name string
		cms  cmsParts
		err  string
		is   error
	}{
		{name: "valid", cms: one(signerParts{})},
		{name: "subject key identifier", cms: one(signerParts{sid: der(0x80, s.Cert.SubjectKeyId)})},
		{name: "id-ecPublicKey names only the key type", cms: one(signerParts{sigAlg: der(tagSequence, mustMarshal(oidECPublicKey))})},
		{name: "chain order", cms: cmsParts{certs: [][]byte{other.Cert.Raw, s.Cert.Raw}, signers: [][]byte{signer(signerParts{})}}},
		{name: "other signature", cms: one(signerParts{key: other.Key}), err: `CMS signature by "Plumb Test": x509: ECDSA verification failure`},
		{name: "no certificate", cms: cmsParts{signers: [][]byte{signer(signerParts{})}}, err: "CMS signer certificate (serial"},
		{name: "unknown key id", cms: one(signerParts{sid: der(0x80, []byte{1, 2, 3})}), err: "subject key id 010203) is not in the signature"},
		{name: "bad signer id", cms: one(signerParts{sid: mustMarshal(5)}), err: "CMS signer identifier is neither"},
		{name: "two signers", cms: cmsParts{certs: [][]byte{s.Cert.Raw}, signers: [][]byte{signer(signerParts{}), signer(signerParts{})}}, err: "2 signers, want 1"},
		{name: "encapsulated", cms: cmsParts{certs: [][]byte{s.Cert.Raw}, eContent: content, signers: [][]byte{signer(signerParts{})}}, err: "not detached"},
		{name: "no signed attributes", cms: one(signerParts{noAttrs: true}), err: "unsupported: CMS signer has no signed attributes", is: ErrUnsupported},
		{name: "SHA-1", cms: one(signerParts{digest: asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}}), err: "unsupported: CMS digest algorithm 1.3.14.3.2.26", is: ErrUnsupported},
		{name: "algorithm mismatch", cms: one(signerParts{sigAlg: der(tagSequence, mustMarshal(oidECDSAWithSHA384))}), err: "unsupported: signature algorithm 1.2.840.10045.4.3.3 with digest SHA-256", is: ErrUnsupported},
		{name: "RSA-PSS", cms: one(signerParts{sigAlg: der(tagSequence, mustMarshal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}))}), err: "unsupported: signature algorithm", is: ErrUnsupported},
		{name: "no message digest", cms: one(signerParts{attrs: without(oidMessageDigest)}), err: "no message digest"},
		{name: "no content type", cms: one(signerParts{attrs: without(oidContentType)}), err: "CMS signed attributes have no content type"},
		{name: "no signing time", cms: one(signerParts{attrs: without(oidSigningTime)})},
		{name: "no signing certificate", cms: one(signerParts{attrs: without(oidSigningCertificateV2)})},
		{
			name: "wrong digest",
			cms:  one(signerParts{attrs: append(without(oidMessageDigest), attr(oidMessageDigest, der(tagOctetString, make([]byte, 32))))}),
			err:  "document modified after signing: the document's SHA-256 digest does not match",
			is:   ErrModified,
		},
		{
			name: "two digests",
			cms:  one(signerParts{attrs: append(without(oidMessageDigest), attr(oidMessageDigest, der(tagOctetString, sum[:]), der(tagOctetString, sum[:])))}),
			err:  "has 2 values, want 1",
		},
		{
			name: "digest twice",
			cms:  one(signerParts{attrs: append(good(), attr(oidMessageDigest, der(tagOctetString, sum[:])))}),
			err:  "message digest twice",
		},
		{
			name: "content type data",
			cms:  one(signerParts{attrs: append(without(oidContentType), attr(oidContentType, mustMarshal(oidSignedData)))}),
			err:  "content-type attribute 1.2.840.113549.1.7.2 is not id-data",
		},
		{
			name: "bad signing time",
			cms:  one(signerParts{attrs: append(without(oidSigningTime), attr(oidSigningTime, mustMarshal(7)))}),
			err:  "CMS signing-time attribute",
		},
		{
			name: "other signing certificate",
			cms: one(signerParts{attrs: append(without(oidSigningCertificateV2), attr(oidSigningCertificateV2,
				der(tagSequence, der(tagSequence, der(tagSequence, der(tagOctetString, otherHash[:]))))))}),
			err: "names another certificate than the signer's",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := verifyCMS(buildCMS(tt.cms), digest)
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !res.cert.Equal(s.Cert) {
					t.Errorf("signer %v", res.cert.Subject)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not wrap %v", err, tt.is)
			}
		})
	}

	for _, tt := range []struct {
		name string
		b    []byte
		err  string
	}{
		{"empty", nil, "CMS ContentInfo"},
		{"not SignedData", der(tagSequence, mustMarshal(oidData), der(tagContext0, der(tagSequence))), "is not SignedData"},
		{"bad SignedData", der(tagSequence, mustMarshal(oidSignedData), der(tagContext0, mustMarshal(1))), "CMS SignedData"},
		{"bad certificate", buildCMS(cmsParts{certs: [][]byte{der(tagSequence, mustMarshal(1))}, signers: [][]byte{signer(signerParts{})}}), "CMS certificate 1"},
	} {
		if _, err := verifyCMS(tt.b, digest); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.err)
		}
	}
}

// TestOpenSSL checks the CMS against another implementation: OpenSSL
// verifies what Sign writes, and Verify's CMS check accepts what
// OpenSSL signs (RSA and ECDSA, issuer and serial or key identifier).
func TestOpenSSL(t *testing.T) {
	openssl := needTool(t, "openssl", "openssl")
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(args ...string) string {
		out, err := exec.Command(openssl, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	s := newSigner(t, "Plumb Test")
	pdf, err := s.Sign(makePDF(t, doc{pages: 1}), signTime, Info{})
	if err != nil {
		t.Fatal(err)
	}
	sig, err := findSignature(pdf)
	if err != nil {
		t.Fatal(err)
	}
	c := sig.entry("Contents")
	var raw asn1.RawValue
	if _, err := asn1.Unmarshal(c.val.(str), &raw); err != nil {
		t.Fatal(err)
	}
	signed := append(append([]byte{}, pdf[:c.off]...), pdf[c.end:]...)
	out := run("cms", "-verify", "-binary", "-noverify", "-inform", "DER",
		"-in", write("ours.der", raw.FullBytes), "-content", write("signed.bin", signed), "-out", os.DevNull)
	if !strings.Contains(out, "Verification successful") {
		t.Errorf("openssl cms -verify:\n%s", out)
	}

	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	content := write("content.bin", []byte("bytes signed by OpenSSL"))
	digest := func(h crypto.Hash) []byte {
		d := h.New()
		d.Write([]byte("bytes signed by OpenSSL"))
		return d.Sum(nil)
	}
	for _, tt := range []struct {
		name string
		key  crypto.Signer
		args []string
	}{
		{"RSA", rsaKey, nil},
		{"ECDSA key id", ecKey, []string{"-keyid"}},
		{"RSA SHA-512", rsaKey, []string{"-md", "sha512"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			certPEM, cert := makeCert(t, "OpenSSL signer", tt.key, nil, nil)
			pkcs8, err := x509.MarshalPKCS8PrivateKey(tt.key)
			if err != nil {
				t.Fatal(err)
			}
			der := filepath.Join(dir, "openssl.der")
			run(append([]string{"cms", "-sign", "-binary", "-in", content, "-outform", "DER", "-out", der,
				"-signer", write("cert.pem", certPEM),
				"-inkey", write("key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))}, tt.args...)...)
			b, err := os.ReadFile(der)
			if err != nil {
				t.Fatal(err)
			}
			res, err := verifyCMS(b, digest)
			if err != nil {
				t.Fatal(err)
			}
			if !res.cert.Equal(cert) || res.signingTime.IsZero() {
				t.Errorf("verifyCMS = %v, %v", res.cert.Subject, res.signingTime)
			}
		})
	}
}
