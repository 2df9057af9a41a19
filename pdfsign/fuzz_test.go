package pdfsign

import (
	"bytes"
	"strings"
	"testing"
)

// The fuzzers here take inputs of a few KiB. The fuzzing engine
// minimizes every input that reaches new code, for up to a minute each,
// which stalls progress; run them with a short -fuzzminimizetime:
//
//	go test -run '^$' -fuzz=FuzzVerify -fuzztime=2m -fuzzminimizetime=5s ./pdfsign/

// signSmall signs pdf reserving only 1 KiB for the signature, to keep
// fuzzing inputs small: the fuzzer minimizes every input that finds new
// code, which takes long for the 16 KiB of a normal /Contents.
func signSmall(f *testing.F, s *Signer, pdf []byte, info Info) []byte {
	d, err := open(pdf)
	if err != nil {
		f.Fatal(err)
	}
	out, err := d.sign(s, info, signTime, 1024)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := Verify(out); err != nil {
		f.Fatal(err)
	}
	return out
}

// fuzzSeeds returns signed and unsigned PDFs to start fuzzing from.
func fuzzSeeds(f *testing.F, s *Signer) [][]byte {
	plain := makePDF(f, doc{pages: 1})
	links := makePDF(f, doc{pages: 2, link: true, compress: true})
	signed := signSmall(f, s, plain, Info{Reason: "Seed"})
	twice := signSmall(f, s, signed, Info{})
	xref, _ := xrefStreamPDF()
	i := bytes.LastIndex(signed, []byte("/Contents <"))
	return [][]byte{
		plain, links, signed, twice, xref,
		append(bytes.Clone(signed), "\n%%EOF\n"...),
		signed[:len(signed)-10],
		signed[i:], // just the end of the signature dictionary
		bytes.Replace(signed, []byte("/ByteRange [0 "), []byte("/ByteRange [9 "), 1),
		[]byte("%PDF-1.4\ntrailer << /Root 1 0 R >>\nstartxref\n0\n%%EOF"),
		[]byte("xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Root 1 0 R /Prev 0 >>\nstartxref\n0\n"),
		[]byte("<< /ByteRange [0 1 2 3] /Contents <> >>"),
	}
}

func FuzzVerify(f *testing.F) {
	s := newSigner(f, "Fuzz")
	for _, b := range fuzzSeeds(f, s) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, pdf []byte) {
		sig, err := Verify(pdf)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "pdfsign: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		if sig.Cert == nil || sig.Signer != sig.Cert.Subject.CommonName {
			t.Fatalf("Verify = %+v", sig)
		}
	})
}

// FuzzSign checks that whatever Sign accepts, Verify accepts after
// signing, and that signing only appends.
func FuzzSign(f *testing.F) {
	s := newSigner(f, "Fuzz")
	for _, b := range fuzzSeeds(f, s) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, pdf []byte) {
		out, err := s.Sign(pdf, signTime, Info{Reason: "Fuzz"})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "pdfsign: ") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		if !bytes.HasPrefix(out, pdf) {
			t.Fatal("Sign changed the original bytes")
		}
		sig, err := Verify(out)
		if err != nil {
			t.Fatalf("Verify after Sign: %v", err)
		}
		if sig.Signer != "Fuzz" || sig.Reason != "Fuzz" || !sig.SigningTime.Equal(signTime) {
			t.Fatalf("Verify after Sign = %+v", sig)
		}
	})
}

// FuzzObject checks that the object parser does not fail on anything it
// writes, and that writing is stable: parse(write(o)) writes the same.
func FuzzObject(f *testing.F) {
	for _, s := range []string{
		"<< /Type /Sig /ByteRange [0 10 20 30] /Contents <0A0b> /M (D:2025\\)) >>",
		"[1 0 R 2 0 obj (a\\(b\\)c) /N#20x -3.5 +4 .5 true false null <<>>]",
		"(\\101\\1\\\r\n\r)",
		"<< /A << /B << /C [[[]]] >> >> >> % comment\n",
		"123456789012345678901234567890 0 R",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p := &parser{b: b}
		o, err := p.object()
		if p.pos > len(b) {
			t.Fatalf("read past the end: %d of %d", p.pos, len(b))
		}
		if err != nil {
			return
		}
		checkSpans(t, o, len(b))
		w := appendObject(nil, o)
		o2, err := (&parser{b: w}).object()
		if err != nil {
			t.Fatalf("cannot parse %q, written for %q: %v", w, b, err)
		}
		if w2 := appendObject(nil, o2); !bytes.Equal(w, w2) {
			t.Fatalf("%q written as %q, then as %q", b, w, w2)
		}
	})
}

// checkSpans checks that dictionary value spans are inside the input.
func checkSpans(t *testing.T, o object, n int) {
	switch o := o.(type) {
	case dict:
		for _, e := range o {
			if e.off < 0 || e.off >= e.end || e.end > n {
				t.Fatalf("/%s spans %d-%d of %d", e.key, e.off, e.end, n)
			}
			checkSpans(t, e.val, n)
		}
	case array:
		for _, v := range o {
			checkSpans(t, v, n)
		}
	}
}

// FuzzDocument fuzzes the cross-reference and page tree reader.
func FuzzDocument(f *testing.F) {
	s := newSigner(f, "Fuzz")
	for _, b := range fuzzSeeds(f, s) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := open(b)
		if err != nil {
			return
		}
		if d.size < 0 || d.size > maxObjNum+1 {
			t.Fatalf("size %d", d.size)
		}
		_, cat, err := d.catalog()
		if err != nil {
			return
		}
		d.firstPage(cat.get("Pages"))
		if d.resolves > maxResolves+1 {
			t.Fatalf("%d objects read", d.resolves)
		}
		signatureField(b)
	})
}
