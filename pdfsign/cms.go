package pdfsign

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// CMS SignedData (RFC 5652) with a detached content, as PDF signatures
// with /SubFilter /adbe.pkcs7.detached carry it.

var (
	oidData                 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidSignedData           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidContentType          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidSigningCertificateV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	oidSHA256               = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384               = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512               = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidECPublicKey          = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSAWithSHA256      = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384      = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512      = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidRSAEncryption        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA256WithRSA        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
)

// DER identifier octets used below.
const (
	tagInteger     = 0x02
	tagOctetString = 0x04
	tagSequence    = 0x30
	tagSet         = 0x31
	tagContext0    = 0xa0 // [0] constructed
	tagContext4    = 0xa4 // [4] constructed
)

// der returns the DER encoding of a value with identifier tag whose
// contents are the concatenation of parts.
func der(tag byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n+6)
	b = append(b, tag)
	switch {
	case n < 0x80:
		b = append(b, byte(n))
	case n < 0x100:
		b = append(b, 0x81, byte(n))
	case n < 0x10000:
		b = append(b, 0x82, byte(n>>8), byte(n))
	case n < 0x1000000:
		b = append(b, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		b = append(b, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// mustMarshal encodes values that cannot fail to encode (OIDs, integers,
// times within the range Sign accepts).
func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic("pdfsign: " + err.Error()) // a bug in this package
	}
	return b
}

// derSetLess orders the elements of a DER SET OF (X.690 §11.6): as octet
// strings, the shorter one padded with zeros at the end.
func derSetLess(a, b []byte) bool {
	n := min(len(a), len(b))
	if c := bytes.Compare(a[:n], b[:n]); c != 0 {
		return c < 0
	}
	rest, pad := a[n:], false
	if len(b) > len(a) {
		rest, pad = b[n:], true
	}
	for _, c := range rest {
		if c != 0 {
			return pad // the longer one is greater
		}
	}
	return false
}

// algorithm describes the digest and signature algorithm of a key.
type algorithm struct {
	digestOID asn1.ObjectIdentifier
	sigAlg    []byte // DER AlgorithmIdentifier
	hash      crypto.Hash
}

func algorithmFor(pub crypto.PublicKey) (algorithm, error) {
	a := algorithm{digestOID: oidSHA256, hash: crypto.SHA256}
	switch pub.(type) {
	case *ecdsa.PublicKey:
		a.sigAlg = der(tagSequence, mustMarshal(oidECDSAWithSHA256))
	case *rsa.PublicKey:
		a.sigAlg = der(tagSequence, mustMarshal(oidSHA256WithRSA), asn1.NullBytes)
	default:
		return a, fmt.Errorf("%w: %T key (only ECDSA and RSA)", ErrUnsupported, pub)
	}
	return a, nil
}

// signedAttributes returns the DER SET OF signed attributes, sorted.
func signedAttributes(cert *x509.Certificate, digest []byte, when time.Time) []byte {
	attr := func(oid asn1.ObjectIdentifier, value []byte) []byte {
		return der(tagSequence, mustMarshal(oid), der(tagSet, value))
	}
	certHash := crypto.SHA256.New()
	certHash.Write(cert.Raw)
	// ESSCertIDv2 (RFC 5035) with the default hash algorithm (SHA-256,
	// so omitted in DER) and the issuer and serial number.
	essCertID := der(tagSequence,
		der(tagOctetString, certHash.Sum(nil)),
		der(tagSequence,
			der(tagSequence, der(tagContext4, cert.RawIssuer)),
			mustMarshal(cert.SerialNumber)))
	attrs := [][]byte{
		attr(oidContentType, mustMarshal(oidData)),
		attr(oidSigningTime, mustMarshal(when.UTC().Truncate(time.Second))),
		attr(oidMessageDigest, der(tagOctetString, digest)),
		attr(oidSigningCertificateV2, der(tagSequence, der(tagSequence, essCertID))),
	}
	for i := 1; i < len(attrs); i++ { // insertion sort: four elements
		for j := i; j > 0 && derSetLess(attrs[j], attrs[j-1]); j-- {
			attrs[j], attrs[j-1] = attrs[j-1], attrs[j]
		}
	}
	return der(tagSet, attrs...)
}

// signCMS returns a detached CMS SignedData over content whose digest is
// digest (SHA-256), signed by s at when.
func (s *Signer) signCMS(digest []byte, when time.Time) ([]byte, error) {
	alg, err := algorithmFor(s.Cert.PublicKey)
	if err != nil {
		return nil, err
	}
	attrs := signedAttributes(s.Cert, digest, when)
	h := alg.hash.New()
	h.Write(attrs)
	sig, err := s.Key.Sign(rand.Reader, h.Sum(nil), alg.hash)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	// The signature is over the SET; the SignerInfo carries the same
	// bytes with the [0] IMPLICIT tag.
	implicit := append([]byte{tagContext0}, attrs[1:]...)
	digestAlg := der(tagSequence, mustMarshal(alg.digestOID))
	signerInfo := der(tagSequence,
		mustMarshal(1), // version 1: issuerAndSerialNumber
		der(tagSequence, s.Cert.RawIssuer, mustMarshal(s.Cert.SerialNumber)),
		digestAlg,
		implicit,
		alg.sigAlg,
		der(tagOctetString, sig))
	certs := [][]byte{s.Cert.Raw}
	for _, c := range s.Chain {
		certs = append(certs, c.Raw)
	}
	signedData := der(tagSequence,
		mustMarshal(1),
		der(tagSet, digestAlg),
		der(tagSequence, mustMarshal(oidData)), // no eContent: detached
		der(tagContext0, certs...),
		der(tagSet, signerInfo))
	return der(tagSequence, mustMarshal(oidSignedData), der(tagContext0, signedData)), nil
}

// The structures Verify decodes.

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0"` // [0] EXPLICIT: Bytes is the content
}

type signedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      []signerInfo  `asn1:"set"`
}

type encapContentInfo struct {
	EContentType asn1.ObjectIdentifier
	EContent     asn1.RawValue `asn1:"optional,tag:0"`
}

type signerInfo struct {
	Version            int
	SID                asn1.RawValue
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      asn1.RawValue `asn1:"optional,tag:1"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values []asn1.RawValue `asn1:"set"`
}

type essCertIDv2 struct {
	HashAlgorithm pkix.AlgorithmIdentifier `asn1:"optional"`
	CertHash      []byte
	IssuerSerial  asn1.RawValue `asn1:"optional"`
}

type signingCertificateV2 struct {
	Certs    []essCertIDv2
	Policies asn1.RawValue `asn1:"optional"`
}

const maxCerts = 32

// cmsResult is what verifyCMS found.
type cmsResult struct {
	cert        *x509.Certificate
	signingTime time.Time // zero if the attribute is absent
}

// unmarshal decodes DER b into v and requires that nothing follows.
func unmarshal(b []byte, v any, what string) error {
	rest, err := asn1.Unmarshal(b, v)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if len(rest) > 0 {
		return fmt.Errorf("%s: %d bytes of trailing data", what, len(rest))
	}
	return nil
}

// hashFor maps a digest algorithm to its hash.
func hashFor(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	switch {
	case oid.Equal(oidSHA256):
		return crypto.SHA256, true
	case oid.Equal(oidSHA384):
		return crypto.SHA384, true
	case oid.Equal(oidSHA512):
		return crypto.SHA512, true
	}
	return 0, false
}

// x509Algorithm maps a CMS signature algorithm and digest to the x509
// algorithm that checks it. A signature algorithm naming only the key
// type (rsaEncryption, id-ecPublicKey) takes the digest algorithm; one
// naming a hash must agree with it.
func x509Algorithm(sig asn1.ObjectIdentifier, h crypto.Hash) (x509.SignatureAlgorithm, error) {
	for _, a := range []struct {
		oid asn1.ObjectIdentifier
		h   crypto.Hash
		alg x509.SignatureAlgorithm
	}{
		{oidECDSAWithSHA256, crypto.SHA256, x509.ECDSAWithSHA256},
		{oidECDSAWithSHA384, crypto.SHA384, x509.ECDSAWithSHA384},
		{oidECDSAWithSHA512, crypto.SHA512, x509.ECDSAWithSHA512},
		{oidSHA256WithRSA, crypto.SHA256, x509.SHA256WithRSA},
		{oidSHA384WithRSA, crypto.SHA384, x509.SHA384WithRSA},
		{oidSHA512WithRSA, crypto.SHA512, x509.SHA512WithRSA},
		{oidECPublicKey, crypto.SHA256, x509.ECDSAWithSHA256},
		{oidECPublicKey, crypto.SHA384, x509.ECDSAWithSHA384},
		{oidECPublicKey, crypto.SHA512, x509.ECDSAWithSHA512},
		{oidRSAEncryption, crypto.SHA256, x509.SHA256WithRSA},
		{oidRSAEncryption, crypto.SHA384, x509.SHA384WithRSA},
		{oidRSAEncryption, crypto.SHA512, x509.SHA512WithRSA},
	} {
		if sig.Equal(a.oid) && h == a.h {
			return a.alg, nil
		}
	}
	return 0, fmt.Errorf("%w: signature algorithm %v with digest %v", ErrUnsupported, sig, h)
}

// verifyCMS checks the detached CMS SignedData b (followed by zeros: the
// unused part of the space reserved for it) over the content that
// digest returns the hash of: one signer, signed attributes whose
// message digest matches, and a signature by the embedded certificate
// that the signer identifier names.
func verifyCMS(b []byte, digest func(crypto.Hash) []byte) (cmsResult, error) {
	var res cmsResult
	var ci contentInfo
	rest, err := asn1.Unmarshal(b, &ci)
	if err != nil {
		return res, fmt.Errorf("CMS ContentInfo: %w", err)
	}
	if len(bytes.Trim(rest, "\x00")) > 0 {
		return res, fmt.Errorf("CMS ContentInfo: %d bytes of trailing data", len(rest))
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return res, fmt.Errorf("CMS content type %v is not SignedData", ci.ContentType)
	}
	var sd signedData
	if err := unmarshal(ci.Content.Bytes, &sd, "CMS SignedData"); err != nil {
		return res, err
	}
	if !sd.EncapContentInfo.EContentType.Equal(oidData) {
		return res, fmt.Errorf("CMS encapsulated content type %v is not id-data", sd.EncapContentInfo.EContentType)
	}
	if len(sd.EncapContentInfo.EContent.FullBytes) > 0 {
		return res, fmt.Errorf("CMS SignedData is not detached: it encapsulates content")
	}
	if len(sd.SignerInfos) != 1 {
		return res, fmt.Errorf("CMS SignedData has %d signers, want 1", len(sd.SignerInfos))
	}
	si := sd.SignerInfos[0]

	var certs []*x509.Certificate
	for rest := sd.Certificates.Bytes; len(rest) > 0; {
		var raw asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &raw); err != nil {
			return res, fmt.Errorf("CMS certificates: %w", err)
		}
		if raw.Class != asn1.ClassUniversal || raw.Tag != asn1.TagSequence {
			continue // another CertificateChoices alternative
		}
		if len(certs) == maxCerts {
			return res, fmt.Errorf("CMS SignedData has more than %d certificates", maxCerts)
		}
		c, err := x509.ParseCertificate(raw.FullBytes)
		if err != nil {
			return res, fmt.Errorf("CMS certificate %d: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	cert, err := findSigner(si.SID, certs)
	if err != nil {
		return res, err
	}
	res.cert = cert

	h, ok := hashFor(si.DigestAlgorithm.Algorithm)
	if !ok {
		return res, fmt.Errorf("%w: CMS digest algorithm %v", ErrUnsupported, si.DigestAlgorithm.Algorithm)
	}
	alg, err := x509Algorithm(si.SignatureAlgorithm.Algorithm, h)
	if err != nil {
		return res, err
	}
	if len(si.SignedAttrs.FullBytes) == 0 {
		return res, fmt.Errorf("%w: CMS signer has no signed attributes", ErrUnsupported)
	}
	var md []byte
	var contentType asn1.ObjectIdentifier
	for rest := si.SignedAttrs.Bytes; len(rest) > 0; {
		var a attribute
		if rest, err = asn1.Unmarshal(rest, &a); err != nil {
			return res, fmt.Errorf("CMS signed attribute: %w", err)
		}
		if len(a.Values) != 1 {
			return res, fmt.Errorf("CMS signed attribute %v has %d values, want 1", a.Type, len(a.Values))
		}
		v := a.Values[0].FullBytes
		switch {
		case a.Type.Equal(oidContentType):
			if contentType != nil {
				return res, fmt.Errorf("CMS signed attributes: content type twice")
			}
			if err := unmarshal(v, &contentType, "CMS content-type attribute"); err != nil {
				return res, err
			}
		case a.Type.Equal(oidMessageDigest):
			if md != nil {
				return res, fmt.Errorf("CMS signed attributes: message digest twice")
			}
			if err := unmarshal(v, &md, "CMS message-digest attribute"); err != nil {
				return res, err
			}
			if md == nil {
				md = []byte{}
			}
		case a.Type.Equal(oidSigningTime):
			if err := unmarshal(v, &res.signingTime, "CMS signing-time attribute"); err != nil {
				return res, err
			}
		case a.Type.Equal(oidSigningCertificateV2):
			if err := checkSigningCertificate(v, cert); err != nil {
				return res, err
			}
		}
	}
	if contentType == nil {
		return res, fmt.Errorf("CMS signed attributes have no content type")
	}
	if !contentType.Equal(oidData) {
		return res, fmt.Errorf("CMS content-type attribute %v is not id-data", contentType)
	}
	if md == nil {
		return res, fmt.Errorf("CMS signed attributes have no message digest")
	}
	if !bytes.Equal(md, digest(h)) {
		return res, fmt.Errorf("%w: the document's %v digest does not match the signed message digest", ErrModified, h)
	}
	// The signature is over the attributes as a DER SET: the same bytes
	// with the universal SET tag instead of [0] IMPLICIT.
	signed := append([]byte{tagSet}, si.SignedAttrs.FullBytes[1:]...)
	if err := cert.CheckSignature(alg, signed, si.Signature); err != nil {
		return res, fmt.Errorf("CMS signature by %q: %w", cert.Subject.CommonName, err)
	}
	return res, nil
}

// findSigner returns the certificate the signer identifier names.
func findSigner(sid asn1.RawValue, certs []*x509.Certificate) (*x509.Certificate, error) {
	switch {
	case sid.Class == asn1.ClassUniversal && sid.Tag == asn1.TagSequence:
		var ias issuerAndSerial
		if err := unmarshal(sid.FullBytes, &ias, "CMS signer identifier"); err != nil {
			return nil, err
		}
		for _, c := range certs {
			if bytes.Equal(c.RawIssuer, ias.Issuer.FullBytes) && c.SerialNumber.Cmp(ias.Serial) == 0 {
				return c, nil
			}
		}
		return nil, fmt.Errorf("CMS signer certificate (serial %v) is not in the signature", ias.Serial)
	case sid.Class == asn1.ClassContextSpecific && sid.Tag == 0 && !sid.IsCompound:
		for _, c := range certs {
			if len(c.SubjectKeyId) > 0 && bytes.Equal(c.SubjectKeyId, sid.Bytes) {
				return c, nil
			}
		}
		return nil, fmt.Errorf("CMS signer certificate (subject key id %x) is not in the signature", sid.Bytes)
	}
	return nil, errors.New("CMS signer identifier is neither issuer and serial number nor subject key identifier")
}

// checkSigningCertificate checks a signingCertificateV2 attribute
// value: its first certificate hash must be that of cert, so that the
// signer certificate cannot be swapped for another with the same key.
func checkSigningCertificate(v []byte, cert *x509.Certificate) error {
	var sc signingCertificateV2
	if err := unmarshal(v, &sc, "CMS signing-certificate-v2 attribute"); err != nil {
		return err
	}
	if len(sc.Certs) == 0 {
		return fmt.Errorf("CMS signing-certificate-v2 attribute names no certificate")
	}
	id := sc.Certs[0]
	h := crypto.SHA256
	if len(id.HashAlgorithm.Algorithm) > 0 {
		var ok bool
		if h, ok = hashFor(id.HashAlgorithm.Algorithm); !ok {
			return fmt.Errorf("%w: signing-certificate-v2 hash %v", ErrUnsupported, id.HashAlgorithm.Algorithm)
		}
	}
	hh := h.New()
	hh.Write(cert.Raw)
	if !bytes.Equal(hh.Sum(nil), id.CertHash) {
		return fmt.Errorf("CMS signing-certificate-v2 attribute names another certificate than the signer's")
	}
	return nil
}
