package pdfsign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// oidDocumentSigning is Microsoft's document signing extended key usage,
// which PDF readers recognise for signing certificates.
var oidDocumentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 10, 3, 12}

// NewSelfSigned makes a self-signed signing certificate and key (PEM),
// valid from an hour before now (to allow for clock skew between the
// signer and the reader) for years. The key is ECDSA P-256, in PKCS #8
// ("PRIVATE KEY"). The certificate's subject is CN=name, O=Plumb; its
// key usages are digital signature and non-repudiation (content
// commitment), its extended key usages e-mail protection and Microsoft
// document signing, as document signing certificates usually have.
//
// A self-signed certificate proves that a document was not changed since
// it was signed by whoever holds the key; readers report it as
// untrusted until the certificate is added to their trust store.
func NewSelfSigned(name string, now time.Time, years int) (certPEM, keyPEM []byte, err error) {
	if name == "" {
		return nil, nil, errors.New("pdfsign: empty certificate name")
	}
	if years < 1 || years > 100 {
		return nil, nil, fmt.Errorf("pdfsign: certificate validity of %d years is not between 1 and 100", years)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("pdfsign: generating key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("pdfsign: generating serial number: %w", err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, nil, fmt.Errorf("pdfsign: %w", err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(pub, &spki); err != nil {
		return nil, nil, fmt.Errorf("pdfsign: %w", err)
	}
	ski := sha1.Sum(spki.PublicKey.Bytes) // RFC 5280 §4.2.1.2, method 1
	tmpl := &x509.Certificate{
		SerialNumber:          serial.Add(serial, big.NewInt(1)), // positive, non-zero
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Plumb"}},
		NotBefore:             now.Add(-time.Hour).UTC(),
		NotAfter:              now.AddDate(years, 0, 0).UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		UnknownExtKeyUsage:    []asn1.ObjectIdentifier{oidDocumentSigning},
		BasicConstraintsValid: true,
		SubjectKeyId:          ski[:],
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("pdfsign: creating certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("pdfsign: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	return certPEM, keyPEM, nil
}

// Load parses a PEM certificate chain (the signing certificate first,
// then any intermediates to embed in signatures) and the PEM private key
// of the signing certificate: PKCS #8 ("PRIVATE KEY"), SEC 1 ("EC
// PRIVATE KEY") or PKCS #1 ("RSA PRIVATE KEY"), ECDSA or RSA. Blocks of
// other types are skipped, so one file may hold both.
func Load(certPEM, keyPEM []byte) (*Signer, error) {
	var certs []*x509.Certificate
	for rest := certPEM; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("pdfsign: certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("pdfsign: no PEM CERTIFICATE block")
	}
	var key crypto.Signer
	for rest := keyPEM; key == nil; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return nil, errors.New("pdfsign: no PEM PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY block")
		}
		var k any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("pdfsign: %s: %w", b.Type, err)
		}
		switch k := k.(type) {
		case *ecdsa.PrivateKey:
			key = k
		case *rsa.PrivateKey:
			key = k
		default:
			return nil, fmt.Errorf("pdfsign: %w: %T private key (only ECDSA and RSA)", ErrUnsupported, k)
		}
	}
	s := &Signer{Cert: certs[0], Key: key, Chain: certs[1:]}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

// check reports whether s can sign.
func (s *Signer) check() error {
	if s == nil || s.Cert == nil || s.Key == nil {
		return errors.New("pdfsign: signer without a certificate or a key")
	}
	if _, err := algorithmFor(s.Cert.PublicKey); err != nil {
		return fmt.Errorf("pdfsign: certificate: %w", err)
	}
	pub, ok := s.Key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(s.Cert.PublicKey) {
		return errors.New("pdfsign: the private key does not belong to the certificate")
	}
	return nil
}
