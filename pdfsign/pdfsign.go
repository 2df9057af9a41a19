// Package pdfsign signs PDF documents with an embedded CMS (PKCS #7)
// detached signature over the whole file, as an incremental update, and
// verifies such signatures; standard PDF tools (poppler's pdfsig, Adobe
// Reader) check the same signature.
//
// Sign leaves the original bytes untouched and appends new versions of
// the catalog and the first page, an invisible signature field and the
// signature dictionary (ISO 32000-1 §12.8, /SubFilter
// /adbe.pkcs7.detached). The signature covers every byte of the result
// except its own /Contents string, so any later change, including
// another incremental update, is detected.
//
// Only PDF files with classic cross-reference tables (as most generators,
// including fpdf, write) can be signed; cross-reference streams and
// encrypted files are reported as ErrUnsupported. Verify reads the
// signature dictionary through the form fields of the newest catalog,
// or, if the file's structure cannot be read, finds the last signature
// dictionary in the file. Every input is treated as hostile: work and
// memory are bounded by the size of the input.
package pdfsign

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrUnsupported is returned (wrapped) for PDF files and signatures this
// package cannot handle, as opposed to broken or invalid ones.
var ErrUnsupported = errors.New("unsupported")

// ErrNotSigned is returned (wrapped) by Verify for a file without a
// signature.
var ErrNotSigned = errors.New("not signed")

// ErrModified is returned (wrapped) by Verify when the signature does
// not cover the file as it is: bytes were changed or added after
// signing. A caller can tell a tampered document from a broken
// signature with errors.Is.
var ErrModified = errors.New("document modified after signing")

// Signer is a signing certificate and its private key.
type Signer struct {
	Cert  *x509.Certificate
	Key   crypto.Signer
	Chain []*x509.Certificate // intermediates to embed, if any
}

// Info is what the signature dictionary says besides the signature.
type Info struct {
	Name     string // who signed (defaults to the certificate's subject CN)
	Reason   string
	Location string
}

// Signature is what Verify found.
type Signature struct {
	Signer      string    // the certificate's subject common name
	SigningTime time.Time // the CMS signing-time attribute (else the dictionary's /M)
	Cert        *x509.Certificate
	Reason      string
}

// reserve is the least number of bytes Sign reserves for the CMS
// signature (twice as many hexadecimal digits in the file). An ECDSA
// P-256 signature with its certificate takes about 900; Sign reserves
// more for large certificates and chains.
const reserve = 8192

// byteRangeWidth is the width of the /ByteRange array Sign writes: a
// placeholder first, then the real values padded with spaces.
const byteRangeWidth = len("[0 0123456789 0123456789 0123456789]")

// Sign returns pdf with a signature appended as an incremental update,
// signed at when. The signature covers the whole returned file (except
// the signature itself); pdf is not modified.
//
// The update adds an invisible signature field on the first page. An
// already signed pdf can be signed again: the earlier signatures stay
// valid for the revisions they cover.
func (s *Signer) Sign(pdf []byte, when time.Time, info Info) ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if y := when.UTC().Year(); y < 1 || y > 9999 {
		return nil, fmt.Errorf("pdfsign: signing time %v is out of range", when)
	}
	d, err := open(pdf)
	if err != nil {
		return nil, fmt.Errorf("pdfsign: %w", err)
	}
	size := reserve
	if n := len(s.Cert.Raw) + 4096; n > size {
		size = n
	}
	for _, c := range s.Chain {
		size += len(c.Raw)
	}
	u, err := d.sign(s, info, when, size)
	if err != nil {
		return nil, fmt.Errorf("pdfsign: %w", err)
	}
	return u, nil
}

// sign returns d with a signed incremental update appended, with size
// bytes reserved for the CMS signature.
func (d *document) sign(s *Signer, info Info, when time.Time, size int) ([]byte, error) {
	rootRef, catalog, err := d.catalog()
	if err != nil {
		return nil, err
	}
	pageRef, page, err := d.firstPage(catalog.get("Pages"))
	if err != nil {
		return nil, err
	}
	if pageRef == rootRef {
		return nil, errors.New("the first page is the catalog")
	}
	annots, err := d.array(page.get("Annots"), "first page /Annots")
	if err != nil {
		return nil, err
	}
	form, err := d.dict(catalog.get("AcroForm"), "catalog /AcroForm")
	if err != nil {
		return nil, err
	}
	fields, err := d.array(form.get("Fields"), "/AcroForm /Fields")
	if err != nil {
		return nil, err
	}
	flags, _ := form.get("SigFlags").(int64)

	sigRef := ref{d.size, 0}
	widgetRef := ref{d.size + 1, 0}
	if widgetRef.num > maxObjNum {
		return nil, errors.New("too many objects")
	}
	// An invisible widget annotation that is also the signature field
	// (/F 132: print and locked).
	widget := dict{
		{key: "Type", val: name("Annot")},
		{key: "Subtype", val: name("Widget")},
		{key: "FT", val: name("Sig")},
		{key: "Rect", val: array{int64(0), int64(0), int64(0), int64(0)}},
		{key: "F", val: int64(132)},
		{key: "T", val: str(d.fieldName(fields))},
		{key: "V", val: sigRef},
		{key: "P", val: pageRef},
	}
	// New versions of the page and the catalog: existing annotations and
	// fields are kept, /SigFlags 3 says the document has signatures and
	// must only be appended to.
	page = page.with("Annots", append(annots[:len(annots):len(annots)], widgetRef))
	form = form.with("Fields", append(fields[:len(fields):len(fields)], widgetRef)).with("SigFlags", flags|3)
	catalog = catalog.with("AcroForm", form)

	b := make([]byte, 0, len(d.b)+2*size+4096)
	b = append(b, d.b...)
	if c := b[len(b)-1]; c != '\n' && c != '\r' {
		b = append(b, '\n')
	}
	offsets := make(map[ref]int)
	for _, o := range []struct {
		r   ref
		obj dict
	}{{widgetRef, widget}, {pageRef, page}, {rootRef, catalog}} {
		offsets[o.r] = len(b)
		b = fmt.Appendf(b, "%d %d obj\n", o.r.num, o.r.gen)
		b = appendObject(b, o.obj)
		b = append(b, "\nendobj\n"...)
	}
	// The signature dictionary comes last, so that its /Contents is the
	// last in the file and its /ByteRange the last outside of streams
	// (which is how Verify finds it).
	offsets[sigRef] = len(b)
	b, brOff, cOff, cEnd := appendSigDict(b, sigRef.num, size, s.Cert, info, when)

	xref := len(b)
	b = appendXref(b, offsets)
	trailer := dict{
		{key: "Size", val: int64(widgetRef.num + 1)},
		{key: "Root", val: rootRef},
	}
	if v, ok := d.trailer.get("Info").(ref); ok {
		trailer = append(trailer, entry{key: "Info", val: v})
	}
	trailer = append(trailer, entry{key: "Prev", val: int64(d.startxref)})
	if v, ok := d.trailer.get("ID").(array); ok && len(v) == 2 && isStrings(v) {
		trailer = append(trailer, entry{key: "ID", val: v})
	}
	b = append(b, "trailer\n"...)
	b = appendObject(b, trailer)
	b = fmt.Appendf(b, "\nstartxref\n%d\n%%%%EOF\n", xref)

	// Fill in the byte range, hash it, and put the signature in the gap.
	br := fmt.Sprintf("[0 %d %d %d]", cOff, cEnd, len(b)-cEnd)
	if len(br) > byteRangeWidth {
		return nil, fmt.Errorf("file too large to sign (%d bytes)", len(b))
	}
	copy(b[brOff:], fmt.Sprintf("%-*s", byteRangeWidth, br))
	h := crypto.SHA256.New()
	h.Write(b[:cOff])
	h.Write(b[cEnd:])
	cms, err := s.signCMS(h.Sum(nil), when)
	if err != nil {
		return nil, err
	}
	if len(cms) > size {
		return nil, fmt.Errorf("signature of %d bytes does not fit the %d reserved", len(cms), size)
	}
	hex.Encode(b[cOff+1:], cms)
	return b, nil
}

// appendSigDict appends signature dictionary num with a placeholder
// /ByteRange at brOff and a /Contents string of zeros, room for size
// bytes, from cOff to cEnd.
func appendSigDict(b []byte, num, size int, cert *x509.Certificate, info Info, when time.Time) (_ []byte, brOff, cOff, cEnd int) {
	b = fmt.Appendf(b, "%d 0 obj\n<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached /ByteRange ", num)
	brOff = len(b)
	b = append(b, "[0 0000000000 0000000000 0000000000]"...)
	b = append(b, " /Contents "...)
	cOff = len(b)
	b = append(b, '<')
	b = append(b, bytes.Repeat([]byte{'0'}, 2*size)...)
	b = append(b, '>')
	cEnd = len(b)
	b = append(b, " /M "...)
	b = appendText(b, pdfDate(when))
	b = append(b, " /Name "...)
	if info.Name != "" {
		b = appendText(b, info.Name)
	} else {
		b = appendText(b, cert.Subject.CommonName)
	}
	if info.Reason != "" {
		b = append(b, " /Reason "...)
		b = appendText(b, info.Reason)
	}
	if info.Location != "" {
		b = append(b, " /Location "...)
		b = appendText(b, info.Location)
	}
	b = append(b, " >>\nendobj\n"...)
	return b, brOff, cOff, cEnd
}

// appendXref appends a cross-reference section for the objects at
// offsets, one subsection per run of consecutive object numbers.
func appendXref(b []byte, offsets map[ref]int) []byte {
	refs := make([]ref, 0, len(offsets))
	for r := range offsets {
		refs = append(refs, r)
	}
	slices.SortFunc(refs, func(a, b ref) int { return a.num - b.num })
	b = append(b, "xref\n"...)
	for i := 0; i < len(refs); {
		j := i + 1
		for j < len(refs) && refs[j].num == refs[j-1].num+1 {
			j++
		}
		b = fmt.Appendf(b, "%d %d\n", refs[i].num, j-i)
		for _, r := range refs[i:j] {
			b = fmt.Appendf(b, "%010d %05d n\r\n", offsets[r], r.gen)
		}
		i = j
	}
	return b
}

// isStrings reports whether every element of a is a string.
func isStrings(a array) bool {
	for _, v := range a {
		if _, ok := v.(str); !ok {
			return false
		}
	}
	return true
}

// fieldName returns a name for the new signature field that no top-level
// field has: Signature1, Signature2, ...
func (d *document) fieldName(fields array) string {
	used := make(map[string]bool)
	for i, f := range fields {
		if i == maxFields {
			break
		}
		if f, err := d.dict(f, "field"); err == nil {
			if t, ok := f.get("T").(str); ok {
				used[string(t)] = true
			}
		}
	}
	for n := 1; ; n++ {
		if s := "Signature" + strconv.Itoa(n); !used[s] {
			return s
		}
	}
}

// pdfDate formats t as a PDF date (§7.9.4).
func pdfDate(t time.Time) string {
	s := t.Format("D:20060102150405")
	_, off := t.Zone()
	switch {
	case off == 0:
		return s + "Z"
	case off < 0:
		s += "-"
		off = -off
	default:
		s += "+"
	}
	return s + fmt.Sprintf("%02d'%02d'", off/3600, off/60%60)
}

// parsePDFDate parses a PDF date as pdfDate writes it, and the shorter
// forms the standard allows.
func parsePDFDate(s string) (time.Time, bool) {
	s, _ = strings.CutPrefix(s, "D:")
	digits := 0
	for digits < len(s) && digits < 14 && isDigit(s[digits]) {
		digits++
	}
	if digits < 4 || digits%2 != 0 {
		return time.Time{}, false
	}
	full := s[:digits] + "0101000000"[digits-4:]
	t, err := time.Parse("20060102150405", full)
	if err != nil {
		return time.Time{}, false
	}
	rest := s[digits:]
	if rest == "" || rest[0] == 'Z' {
		return t, true
	}
	if len(rest) < 3 || rest[0] != '+' && rest[0] != '-' {
		return time.Time{}, false
	}
	hh, err := strconv.Atoi(rest[1:3])
	if err != nil || hh > 23 {
		return time.Time{}, false
	}
	mm := 0
	if len(rest) >= 6 && rest[3] == '\'' {
		if mm, err = strconv.Atoi(rest[4:6]); err != nil || mm > 59 {
			return time.Time{}, false
		}
	}
	off := hh*3600 + mm*60
	if rest[0] == '-' {
		off = -off
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.FixedZone("", off)), true
}

// Verify checks the last signature of pdf: that it covers the whole file
// and that the CMS signature over the signed byte ranges is valid. It
// does not decide whether the certificate is trusted, nor whether the
// signing time is within the certificate's validity: that is the
// caller's policy.
//
// The error wraps ErrNotSigned if pdf has no signature, ErrModified if
// pdf was changed or extended after signing, and ErrUnsupported for
// signatures this package cannot check (only detached CMS with signed
// attributes, SHA-2 digests, ECDSA and RSA PKCS #1 v1.5, in DER).
func Verify(pdf []byte) (Signature, error) {
	sig, err := findSignature(pdf)
	if err != nil {
		return Signature{}, fmt.Errorf("pdfsign: %w", err)
	}
	res, err := verifySignature(pdf, sig)
	if err != nil {
		return Signature{}, fmt.Errorf("pdfsign: %w", err)
	}
	return res, nil
}

// findSignature returns the newest signature dictionary of pdf: through
// the form fields of the document, or if its structure cannot be read
// (typically because something was appended to a signed file), the last
// dictionary in the file with a /ByteRange.
func findSignature(pdf []byte) (dict, error) {
	sig, err := signatureField(pdf)
	if err == nil {
		return sig, nil
	}
	if s := scanSignature(pdf); s != nil {
		return s, nil
	}
	if !bytes.Contains(pdf, []byte("/ByteRange")) {
		return nil, fmt.Errorf("%w: no signature dictionary", ErrNotSigned)
	}
	return nil, err
}

// signatureField returns the signature dictionary, among the values of
// the signature fields of the newest catalog, that is the last in the
// file.
func signatureField(pdf []byte) (dict, error) {
	d, err := open(pdf)
	if err != nil {
		return nil, err
	}
	_, catalog, err := d.catalog()
	if err != nil {
		return nil, err
	}
	form, err := d.dict(catalog.get("AcroForm"), "catalog /AcroForm")
	if err != nil {
		return nil, err
	}
	fields, err := d.array(form.get("Fields"), "/AcroForm /Fields")
	if err != nil {
		return nil, err
	}
	// Walk the field tree: signature fields may be nested, and inherit
	// /FT from their parent.
	type node struct {
		o   object
		sig bool // /FT /Sig inherited
	}
	var stack []node
	for i := len(fields) - 1; i >= 0; i-- {
		stack = append(stack, node{o: fields[i]})
	}
	var newest dict
	newestOff := -1
	seen := make(map[ref]bool)
	for n := 0; len(stack) > 0; n++ {
		if n == maxFields {
			return nil, fmt.Errorf("more than %d form fields", maxFields)
		}
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if r, ok := f.o.(ref); ok {
			if seen[r] {
				continue
			}
			seen[r] = true
		}
		// A broken field is skipped, not an error: it may be another
		// field than the signature.
		field, err := d.dict(f.o, "form field")
		if err != nil {
			continue
		}
		isSig := f.sig
		if ft, ok := field.get("FT").(name); ok {
			isSig = ft == "Sig"
		}
		if v := field.get("V"); isSig && v != nil {
			sig, _ := d.dict(v, "signature field /V")
			if e := sig.entry("Contents"); e != nil && e.off > newestOff {
				newest, newestOff = sig, e.off
			}
		}
		kids, _ := d.resolve(field.get("Kids"))
		if kids, ok := kids.(array); ok {
			if len(stack)+len(kids) > maxFields {
				return nil, fmt.Errorf("more than %d form fields", maxFields)
			}
			for i := len(kids) - 1; i >= 0; i-- {
				stack = append(stack, node{o: kids[i], sig: isSig})
			}
		}
	}
	if newest == nil {
		return nil, fmt.Errorf("%w: no signature field", ErrNotSigned)
	}
	return newest, nil
}

// scanSignature returns the dictionary around the last /ByteRange in
// pdf, or nil. It tries the nearest few "<<" before it, since a
// signature dictionary may hold nested dictionaries before /ByteRange.
func scanSignature(pdf []byte) dict {
	k := bytes.LastIndex(pdf, []byte("/ByteRange"))
	if k < 0 {
		return nil
	}
	end := k
	for try := 0; try < 8; try++ {
		i := bytes.LastIndex(pdf[max(0, k-65536):end], []byte("<<"))
		if i < 0 {
			return nil
		}
		i += max(0, k-65536)
		end = i
		p := &parser{b: pdf, pos: i}
		o, err := p.object()
		if err != nil {
			continue
		}
		if d, ok := o.(dict); ok {
			for _, e := range d {
				if e.key == "ByteRange" && e.off > k {
					return d
				}
			}
		}
	}
	return nil
}

// verifySignature checks the signature dictionary sig of pdf.
func verifySignature(pdf []byte, sig dict) (Signature, error) {
	switch sf := sig.get("SubFilter"); sf {
	case name("adbe.pkcs7.detached"), name("ETSI.CAdES.detached"):
	default:
		return Signature{}, fmt.Errorf("%w: signature /SubFilter %v", ErrUnsupported, sf)
	}
	for _, k := range []name{"ByteRange", "Contents"} {
		n := 0
		for _, e := range sig {
			if e.key == k {
				n++
			}
		}
		if n != 1 {
			return Signature{}, fmt.Errorf("signature dictionary has %d /%s entries, want 1", n, k)
		}
	}
	c := sig.entry("Contents")
	contents, ok := c.val.(str)
	if !ok || pdf[c.off] != '<' {
		return Signature{}, errors.New("signature /Contents is not a hexadecimal string")
	}
	brArray, ok := sig.get("ByteRange").(array)
	if !ok || len(brArray) != 4 {
		return Signature{}, errors.New("signature /ByteRange is not an array of four integers")
	}
	var br [4]int64
	for i, v := range brArray {
		n, ok := v.(int64)
		if !ok || n < 0 {
			return Signature{}, errors.New("signature /ByteRange is not an array of four non-negative integers")
		}
		br[i] = n
	}
	size := int64(len(pdf))
	if br[0] != 0 {
		return Signature{}, fmt.Errorf("%w: signature does not cover the start of the file (/ByteRange starts at %d)", ErrModified, br[0])
	}
	if br[1] != int64(c.off) || br[2] != int64(c.end) {
		return Signature{}, fmt.Errorf("signature /ByteRange leaves out bytes %d-%d, not the /Contents string at %d-%d", br[1], br[2], c.off, c.end)
	}
	if br[3] > size || br[2]+br[3] > size {
		return Signature{}, fmt.Errorf("signature covers bytes 0-%d but the file has only %d: truncated", br[2]+br[3], size)
	}
	if end := br[2] + br[3]; end < size {
		return Signature{}, fmt.Errorf("%w: signature covers bytes 0-%d of %d: %d bytes were added after signing", ErrModified, end, size, size-end)
	}
	digest := func(h crypto.Hash) []byte {
		d := h.New()
		d.Write(pdf[:br[1]])
		d.Write(pdf[br[2]:])
		return d.Sum(nil)
	}
	res, err := verifyCMS(contents, digest)
	if err != nil {
		return Signature{}, err
	}
	out := Signature{Signer: res.cert.Subject.CommonName, SigningTime: res.signingTime, Cert: res.cert}
	if out.SigningTime.IsZero() {
		if m, ok := sig.get("M").(str); ok {
			out.SigningTime, _ = parsePDFDate(text(m))
		}
	}
	if r, ok := sig.get("Reason").(str); ok {
		out.Reason = text(r)
	}
	return out, nil
}
