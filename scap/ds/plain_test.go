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
		bytewise = plainTranscript(iotest.OneByteReader(bytes.NewReader(data)))
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
