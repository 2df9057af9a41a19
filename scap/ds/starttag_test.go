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

// tokenTranscript decodes data with Token alone and records every token
// in full (resolved names, every attribute) with the positions the
// decoder reports: start tags are read by the scanner where it can
// (Decoder.startTag), and must come out as the tokenizer gives them.
func tokenTranscript(r io.Reader, resolve bool) string {
	d := NewDecoder(r, "doc.xml")
	var b strings.Builder
	for {
		tok, err := d.token(resolve)
		line, col := d.InputPos()
		pos := fmt.Sprintf(" @%d-%d %d:%d in %d:%d\n", d.Offset(), d.InputOffset(), d.tokLine, d.tokCol, line, col)
		if err != nil {
			if err == io.EOF {
				b.WriteString("EOF" + pos)
			} else {
				b.WriteString("error: " + err.Error() + pos)
			}
			return b.String()
		}
		switch t := tok.(type) {
		case xml.StartElement:
			fmt.Fprintf(&b, "<%q %q", t.Name.Space, t.Name.Local)
			for _, a := range t.Attr {
				fmt.Fprintf(&b, " %q:%q=%q", a.Name.Space, a.Name.Local, a.Value)
			}
			b.WriteString(">")
		case xml.EndElement:
			fmt.Fprintf(&b, "</%q %q>", t.Name.Space, t.Name.Local)
		case xml.CharData:
			fmt.Fprintf(&b, "text %q", t)
		case xml.Comment:
			fmt.Fprintf(&b, "comment %q", t)
		default:
			fmt.Fprintf(&b, "%T", t)
		}
		b.WriteString(pos)
	}
}

// compareTokens checks that the scanner's tokens are the tokenizer's,
// also with input arriving a byte at a time unless the data is large.
func compareTokens(t *testing.T, data []byte) string {
	t.Helper()
	for _, resolve := range []bool{true, false} {
		var slow, fast, bytewise string
		withScan(false, func() { slow = tokenTranscript(bytes.NewReader(data), resolve) })
		withScan(true, func() {
			fast = tokenTranscript(bytes.NewReader(data), resolve)
			bytewise = fast
			if len(data) < 1<<20 {
				bytewise = tokenTranscript(iotest.OneByteReader(bytes.NewReader(data)), resolve)
			}
		})
		if slow != fast || slow != bytewise {
			t.Fatalf("tokens (resolve %v) of %s:\ntokenizer:\n%s\nscanner:\n%s\nscanner, a byte at a time:\n%s", resolve, short(data), slow, fast, bytewise)
		}
	}
	var out string
	withScan(true, func() { out = tokenTranscript(bytes.NewReader(data), true) })
	return out
}

func TestStartTag(t *testing.T) {
	docs := []string{
		`<r a="1" b='two' c = "3"><x:e xmlns:x="urn:x" x:k="v"/><e/><e ></e><e
  a="multi
line" /></r>`,
		`<r xmlns="urn:d" xmlns:p="urn:p"><p:a p:b="c" d="e"/><a:b:c/></r>`,
		`<r a="x &amp; y"/>`,
		"<r a=\"cr\r\nlf\"/>",
		`<r a="1" a="2"/>`,
		`<r a/>`,
		`<r a="<"/>`,
		`<r a="1"b="2"/>`,
		`<r><é a="1"/></r>`,
		`<r a="é"/>`,
		`<r><u:x/></r>`,
		`<r><:x/><x: a="1"/></r>`,
		`<r a="1"`,
		`<r></s>`,
		"\ufeff<r a=\"bom\"/>",
		`<?xml version="1.0"?><!-- c --><r/>`,
		`<r/><s/>`,
		`<r><a b="` + strings.Repeat("v", 100000) + `"/></r>`,
	}
	for _, doc := range docs {
		compareTokens(t, []byte(doc))
	}
	if out := compareTokens(t, []byte(docs[0])); !strings.Contains(out, `"":"a"="1" "":"b"="two" "":"c"="3">`) {
		t.Errorf("transcript:\n%s", out)
	}
	for seed := range 500 {
		compareTokens(t, genDoc(rand.New(rand.NewPCG(uint64(seed), 5))))
	}
}

// TestStartTagLimit checks the token size limit on start tags the
// scanner reads, after a tag and after text.
func TestStartTagLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 4 MB tokens")
	}
	for _, tt := range []struct {
		before, after string
		fail          int
	}{
		{"<r><b c='", "'/></r>", MaxTokenSize - 8},
		{"<r>t<b c='", "'/></r>", MaxTokenSize - 7},
		{"<r><b c='", "'></b></r>", MaxTokenSize - 7},
	} {
		for _, n := range []int{tt.fail - 1, tt.fail} {
			got := compareTokens(t, []byte(tt.before+strings.Repeat("x", n)+tt.after))
			if tooLarge := strings.Contains(got, ErrTokenTooLarge.Error()); tooLarge != (n == tt.fail) {
				t.Errorf("%s...%s with %d bytes: %.300s", tt.before, tt.after, n, got)
			}
		}
	}
}

// TestStartTagSSG compares the scanner's start tags with the tokenizer's
// on a whole data stream.
func TestStartTagSSG(t *testing.T) {
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
		withScan(false, func() { slow = tokenTranscript(bytes.NewReader(data), true) })
		withScan(true, func() { fast = tokenTranscript(bytes.NewReader(data), true) })
		if slow != fast {
			t.Errorf("%s: the scanner's tokens differ from the tokenizer's", filepath.Base(f))
		}
	}
}
