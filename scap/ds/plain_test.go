package ds

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// plainTranscript decodes data calling PlainText after every start tag,
// and records every token and error with the positions the decoder
// reports. An element whose content is character data alone is recorded
// as one "content" line, however it was read, so that a decoder without
// the scanner (where PlainText always declines) gives the same transcript.
func plainTranscript(r io.Reader) string {
	d := NewDecoder(r, "doc.xml")
	var b strings.Builder
	pos := func() {
		line, col := d.inputPos()
		fmt.Fprintf(&b, " @%d-%d %d:%d in %d:%d\n", d.Offset(), d.InputOffset(), d.tokLine, d.tokCol, line, col)
	}
	fail := func(err error) string {
		if err == io.EOF {
			b.WriteString("EOF")
		} else {
			b.WriteString("error: " + err.Error())
		}
		pos()
		return b.String()
	}
	var pending xml.Token // a token read ahead
	for {
		tok := pending
		pending = nil
		if tok == nil {
			var err error
			if tok, err = d.Token(); err != nil {
				return fail(err)
			}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			fmt.Fprintf(&b, "<%s %d>", t.Name.Local, len(t.Attr))
			pos()
			text, ok, err := d.PlainText()
			if ok {
				if err != nil {
					if text != "" {
						fmt.Fprintf(&b, "text %q\n", text)
					}
					return fail(err)
				}
				fmt.Fprintf(&b, "content %q</%s>", text, t.Name.Local)
				pos()
				continue
			}
			var texts []string
			for {
				next, err := d.Token()
				if err != nil {
					for _, s := range texts {
						fmt.Fprintf(&b, "text %q\n", s)
					}
					return fail(err)
				}
				if cd, ok := next.(xml.CharData); ok {
					texts = append(texts, string(cd))
					continue
				}
				if _, ok := next.(xml.EndElement); ok {
					fmt.Fprintf(&b, "content %q</%s>", strings.Join(texts, ""), t.Name.Local)
					pos()
				} else {
					for _, s := range texts {
						fmt.Fprintf(&b, "text %q\n", s)
					}
					pending = next
				}
				break
			}
		case xml.EndElement:
			fmt.Fprintf(&b, "</%s>", t.Name.Local)
			pos()
		case xml.CharData:
			fmt.Fprintf(&b, "text %q", t)
			pos()
		default:
			fmt.Fprintf(&b, "%T", t)
			pos()
		}
	}
}

// comparePlain checks that PlainText gives what tokenizing gives.
func comparePlain(t *testing.T, data []byte) string {
	t.Helper()
	var slow, fast, bytewise string
	withScan(false, func() { slow = plainTranscript(bytes.NewReader(data)) })
	withScan(true, func() {
		fast = plainTranscript(bytes.NewReader(data))
		bytewise = fast
		if len(data) < 1<<20 { // a byte at a time is slow
			bytewise = plainTranscript(iotest.OneByteReader(bytes.NewReader(data)))
		}
	})
	if slow != fast || slow != bytewise {
		t.Fatalf("PlainText on %s:\ntokenizer:\n%s\nscanner:\n%s\nscanner, a byte at a time:\n%s", short(data), slow, fast, bytewise)
	}
	return fast
}

func TestPlainText(t *testing.T) {
	docs := []string{
		`<r><a>plain</a><b></b><c/><d>two
lines</d></r>`,
		`<r xmlns:x="urn:x"><x:t id="1"> spaced  text </x:t><x:t>é ü</x:t></r>`,
		`<r><a>a &amp; b</a><a>&#65;</a><a>cr` + "\r\n" + `lf</a></r>`,
		`<r><a>mixed <b>bold</b> tail</a><a><!-- c -->x</a><a><![CDATA[<x>]]></a></r>`,
		`<r><a>text<?pi x?></a></r>`,
		`<r><a>bad ]]> text</a></r>`,
		`<r><a>mismatch</b></r>`,
		`<r><a>unclosed`,
		`<r><a>text</a  ></r>`,
		`<r><a>text</a`,
		"<r><a>ctl \x01 char</a></r>",
		"<r><a>bad utf8 \xff</a></r>",
		`<r><a>` + strings.Repeat("long text ", 20000) + `</a></r>`,
	}
	for _, doc := range docs {
		comparePlain(t, []byte(doc))
	}
	out := comparePlain(t, []byte(docs[0]))
	if !strings.Contains(out, `content "plain"</a>`) {
		t.Errorf("transcript:\n%s", out)
	}
}

// TestPlainTextGenerated compares PlainText with tokenizing on generated
// documents, well-formed and broken.
func TestPlainTextGenerated(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 300
	}
	for seed := range n {
		comparePlain(t, genDoc(rand.New(rand.NewPCG(uint64(seed), 2))))
	}
}

// TestPlainTextSSG compares PlainText with tokenizing on a whole data
// stream.
func TestPlainTextSSG(t *testing.T) {
	if testing.Short() {
		t.Skip("tokenizes a whole data stream")
	}
	for _, f := range ssgDataStreams(t) {
		if filepath.Base(f) != "ssg-debian11-ds.xml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var slow, fast string
		withScan(false, func() { slow = plainTranscript(bytes.NewReader(data)) })
		withScan(true, func() { fast = plainTranscript(bytes.NewReader(data)) })
		if slow != fast {
			t.Errorf("%s: PlainText and tokenizing differ", filepath.Base(f))
		}
	}
}

// skipTextTranscript decodes data calling SkipText before every token
// (and Skip where pick says), and records every token but character data
// with the positions the decoder reports, so that a decoder without the
// scanner (where SkipText does nothing) gives the same transcript.
func skipTextTranscript(r io.Reader, pick skipPicker) string {
	d := NewDecoder(r, "doc.xml")
	var b strings.Builder
	pos := func() {
		line, col := d.inputPos()
		fmt.Fprintf(&b, " @%d-%d %d:%d in %d:%d\n", d.Offset(), d.InputOffset(), d.tokLine, d.tokCol, line, col)
	}
	for n := 0; ; {
		d.SkipText()
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				b.WriteString("EOF")
			} else {
				b.WriteString("error: " + err.Error())
			}
			pos()
			return b.String()
		}
		switch t := tok.(type) {
		case xml.StartElement:
			fmt.Fprintf(&b, "<%s %d>", t.Name.Local, len(t.Attr))
			pos()
		case xml.EndElement:
			fmt.Fprintf(&b, "</%s>", t.Name.Local)
			pos()
		case xml.CharData:
			continue // not counted: the scanner may have consumed it
		default:
			fmt.Fprintf(&b, "%T", t)
			pos()
		}
		if d.Depth() > 0 && pick(n, tok, d.Depth()) {
			if err := d.Skip(); err != nil {
				b.WriteString("skip error: " + err.Error())
				pos()
				return b.String()
			}
			b.WriteString("skipped")
			pos()
		}
		n++
	}
}

// compareSkipText checks that SkipText gives what tokenizing gives.
func compareSkipText(t *testing.T, data []byte) {
	t.Helper()
	isStart := func(tok xml.Token) bool { _, ok := tok.(xml.StartElement); return ok }
	for k, pick := range []skipPicker{
		func(int, xml.Token, int) bool { return false },
		func(n int, tok xml.Token, depth int) bool { return n%3 == 1 && isStart(tok) },
	} {
		var slow, fast, bytewise string
		withScan(false, func() { slow = skipTextTranscript(bytes.NewReader(data), pick) })
		withScan(true, func() {
			fast = skipTextTranscript(bytes.NewReader(data), pick)
			bytewise = fast
			if len(data) < 1<<20 { // a byte at a time is slow
				bytewise = skipTextTranscript(iotest.OneByteReader(bytes.NewReader(data)), pick)
			}
		})
		if slow != fast || slow != bytewise {
			t.Fatalf("SkipText (skip pattern %d) on %s:\ntokenizer:\n%s\nscanner:\n%s\nscanner, a byte at a time:\n%s", k, short(data), slow, fast, bytewise)
		}
	}
}

func TestSkipText(t *testing.T) {
	for _, doc := range []string{
		"<r>\n  <a>x</a>\n  <b/>\n\t<c>y &amp; z</c> tail </r>",
		"<r>text<!-- c -->more<![CDATA[cd]]><?pi?>end</r>",
		"<r>a ]]> b</r>",
		"<r>ctl \x01</r>",
		"<r>\n  <a>unclosed",
		"<r> " + strings.Repeat(" ", 1<<17) + "<a/></r>",
		"<r>é\xff</r>",
		"<r>x</r> trailing",
	} {
		compareSkipText(t, []byte(doc))
	}
	for seed := range 300 {
		compareSkipText(t, genDoc(rand.New(rand.NewPCG(uint64(seed), 3))))
	}
}

// TestSkipTextTokenLimit checks the size limit of a tag after skipped
// text, read by the tokenizer or skipped by the scanner, and of text read
// by PlainText, at the limit.
func TestSkipTextTokenLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 4 MB tokens")
	}
	for _, tt := range []struct {
		before, after string
		fail          int
	}{
		{"<r>t<b c='", "'/></r>", MaxTokenSize - 7},
		{"<r>t<b c='", "'><x/></b></r>", MaxTokenSize - 6},
		{"<r><a>", "</a></r>", MaxTokenSize},
	} {
		for _, n := range []int{tt.fail - 1, tt.fail} {
			doc := []byte(tt.before + strings.Repeat("x", n) + tt.after)
			compareSkipText(t, doc)
			got := comparePlain(t, doc)
			if tooLarge := strings.Contains(got, ErrTokenTooLarge.Error()); tooLarge != (n == tt.fail) {
				t.Errorf("%s...%s with %d bytes: %.200s", tt.before, tt.after, n, got)
			}
		}
	}
}

// appendTextTranscript decodes data calling AppendText before every
// token, and records every token with the positions the decoder reports;
// the text before a token, however it was read, is one "text" line.
func appendTextTranscript(r io.Reader) string {
	d := NewDecoder(r, "doc.xml")
	var b strings.Builder
	pos := func() {
		line, col := d.InputPos()
		fmt.Fprintf(&b, " @%d-%d %d:%d in %d:%d\n", d.Offset(), d.InputOffset(), d.tokLine, d.tokCol, line, col)
	}
	var text []byte
	for {
		text, _ = d.AppendText(text)
		tok, err := d.Token()
		if cd, ok := tok.(xml.CharData); ok {
			text = append(text, cd...)
			continue
		}
		if len(text) > 0 {
			fmt.Fprintf(&b, "text %q\n", text)
			text = text[:0]
		}
		if err != nil {
			if err == io.EOF {
				b.WriteString("EOF")
			} else {
				b.WriteString("error: " + err.Error())
			}
			pos()
			return b.String()
		}
		switch t := tok.(type) {
		case xml.StartElement:
			fmt.Fprintf(&b, "<%s %d>", t.Name.Local, len(t.Attr))
		case xml.EndElement:
			fmt.Fprintf(&b, "</%s>", t.Name.Local)
		default:
			fmt.Fprintf(&b, "%T", t)
		}
		pos()
	}
}

func TestAppendText(t *testing.T) {
	compare := func(data []byte) {
		t.Helper()
		var slow, fast, bytewise string
		withScan(false, func() { slow = appendTextTranscript(bytes.NewReader(data)) })
		withScan(true, func() {
			fast = appendTextTranscript(bytes.NewReader(data))
			bytewise = fast
			if len(data) < 1<<20 { // a byte at a time is slow
				bytewise = appendTextTranscript(iotest.OneByteReader(bytes.NewReader(data)))
			}
		})
		if slow != fast || slow != bytewise {
			t.Fatalf("AppendText on %s:\ntokenizer:\n%s\nscanner:\n%s\nscanner, a byte at a time:\n%s", short(data), slow, fast, bytewise)
		}
	}
	for _, doc := range []string{
		"<r>\n  <a>x</a>\n  <b/>\n\t<c>y &amp; z</c> tail </r>",
		"<r>text<!-- c -->more<![CDATA[cd]]><?pi?>end</r>",
		"<r>cr\r\nlf</r>",
		"<r>a ]]> b</r>",
		"<r>\n  <a>unclosed",
		"<r>é\xff</r>",
		"<r> " + strings.Repeat("y", MaxTokenSize) + "<a/></r>",
	} {
		compare([]byte(doc))
	}
	for seed := range 300 {
		compare(genDoc(rand.New(rand.NewPCG(uint64(seed), 4))))
	}
}
