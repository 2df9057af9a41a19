package ds

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

// withScan runs f with the scanner on or off.
func withScan(on bool, f func()) {
	defer func(old bool) { scanSkip = old }(scanSkip)
	scanSkip = on
	f()
}

// readSummary reads data as Read does and describes the outcome: the
// error, or every component's position.
func readSummary(data []byte) string {
	c, err := Read(bytes.NewReader(data), int64(len(data)), "doc.xml")
	if err != nil {
		return "error: " + err.Error()
	}
	var b strings.Builder
	for _, comp := range c.Components {
		fmt.Fprintf(&b, "%s %v %d+%d %d:%d ins %d %q\n", comp.ID, comp.Root, comp.Offset, comp.Size, comp.Line, comp.Column, comp.insAt, comp.nsDecl)
	}
	return b.String()
}

// A skipPicker says whether to call Skip after the nth token, tok, read at
// depth: after a StartElement Skip skips that element, after another
// token the rest of the current element.
type skipPicker func(n int, tok xml.Token, depth int) bool

// skipTranscript decodes data, skipping where pick says, and records
// every token, every skip and every error with the positions the decoder
// reports.
func skipTranscript(data []byte, pick skipPicker) string {
	return transcript(NewDecoder(bytes.NewReader(data), "doc.xml"), pick)
}

func transcript(d *Decoder, pick skipPicker) string {
	var b strings.Builder
	pos := func() {
		line, col := d.inputPos()
		fmt.Fprintf(&b, " @%d-%d %d:%d in %d:%d\n", d.Offset(), d.InputOffset(), d.tokLine, d.tokCol, line, col)
	}
	for n := 0; ; n++ {
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
			fmt.Fprintf(&b, "text %q", t)
			pos()
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
	}
}

// compareSkip checks that the scanner and the tokenizer agree on data,
// both through Read and through Decoder.Skip at several depths, and
// returns the outcome of Read.
func compareSkip(t testing.TB, data []byte) string { return compareSkipN(t, data, 4) }

// compareSkipN is compareSkip with only the first npicks skip patterns.
func compareSkipN(t testing.TB, data []byte, npicks int) string {
	t.Helper()
	var slow, fast string
	withScan(false, func() { slow = readSummary(data) })
	withScan(true, func() { fast = readSummary(data) })
	if slow != fast {
		t.Fatalf("Read of %s:\ntokenizer: %.2000s\nscanner:   %.2000s", short(data), slow, fast)
	}
	isStart := func(tok xml.Token) bool { _, ok := tok.(xml.StartElement); return ok }
	picks := []skipPicker{
		func(n int, tok xml.Token, depth int) bool { return depth == 1 && isStart(tok) },
		func(n int, tok xml.Token, depth int) bool { return depth == 2 && isStart(tok) },
		func(n int, tok xml.Token, depth int) bool { return n%3 == 1 && isStart(tok) },
		// The rest of an element, after text (encoding/xml holds the
		// '<' that ended it), a comment, an end tag...
		func(n int, tok xml.Token, depth int) bool { return depth >= 3 && n%4 == 2 },
	}
	for k, pick := range picks[:npicks] {
		var slow, fast string
		withScan(false, func() { slow = skipTranscript(data, pick) })
		withScan(true, func() {
			if k == 2 {
				// Input arriving a byte at a time moves the buffer under
				// every construct.
				fast = transcript(NewDecoder(iotest.OneByteReader(bytes.NewReader(data)), "doc.xml"), pick)
			} else {
				fast = skipTranscript(data, pick)
			}
		})
		if slow != fast {
			t.Fatalf("skip pattern %d on %s:\ntokenizer:\n%s\nscanner:\n%s", k, short(data), slow, fast)
		}
	}
	return fast
}

// short describes data for a failure message.
func short(data []byte) string {
	if len(data) <= 2000 {
		return fmt.Sprintf("%q", data)
	}
	return fmt.Sprintf("%q ... %q (%d bytes)", data[:1000], data[len(data)-1000:], len(data))
}

// collection wraps component bodies into a data stream collection.
func collection(bodies ...string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?>` + "\n" + `<ds:data-stream-collection xmlns:ds="http://scap.nist.gov/schema/scap/source/1.2" id="c">` + "\n")
	for i, body := range bodies {
		fmt.Fprintf(&b, "  <ds:component id=\"c%d\">%s</ds:component>\n", i, body)
	}
	b.WriteString("</ds:data-stream-collection>\n")
	return b.String()
}

func TestScanEdgeCases(t *testing.T) {
	const ovalNS = `xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5"`
	deep := func(n int) string { return strings.Repeat("<d>", n) + strings.Repeat("</d>", n) }
	tests := []struct {
		name string
		body string // the first component's root element
		want string // "" for success, or part of the error
		cut  bool   // the file ends after body
	}{
		{"empty root", `<x/>`, "", false},
		{"empty root with space", `<x />`, "", false},
		{"empty root with attribute", `<x a="1"/>`, "", false},
		{"root closed at once", `<x></x>`, "", false},
		{"text only", `<x>text</x>`, "", false},
		{"self-closing children", `<x><a/><b c='d'/><e f="g" /></x>`, "", false},
		{"lt in comment", `<x><!-- <a> </x> <b/> --></x>`, "", false},
		{"gt in comment", `<x><!-- > -> - > --></x>`, "", false},
		{"empty comment", `<x><!----></x>`, "", false},
		{"double hyphen in comment", `<x><!-- a -- b --></x>`, `"--" not allowed in comments`, false},
		{"comment ending in three hyphens", `<x><!-- a ---></x>`, `"--" not allowed`, false},
		{"short comment", `<x><!---></x>`, "unexpected end of file", false},
		{"bad comment", `<x><!-x--></x>`, "invalid sequence", false},
		{"cdata with markup", `<x><![CDATA[</x> <a> & ]] ]> > ]]></x>`, "", false},
		{"cdata brackets", `<x><![CDATA[]]]]]></x>`, "", false},
		{"cdata crlf", "<x><![CDATA[a\r\nb]]></x>", "", false},
		{"bad cdata", `<x><![CDATX[a]]></x>`, "invalid <![ sequence", false},
		{"cdata control", "<x><![CDATA[\x01]]></x>", "illegal character", false},
		{"cdata bad utf-8", "<x><![CDATA[\xff]]></x>", "invalid UTF-8", false},
		{"unterminated cdata", `<x><![CDATA[ </x>`, "unexpected EOF in CDATA", false},
		{"pi with markup", `<x><?pi a > b < c </x> ?></x>`, "", false},
		{"xml declaration inside", `<x><?xml version="1.0"?></x>`, "", false},
		{"bad xml version inside", `<x><?xml version="2.0"?></x>`, "unsupported version", false},
		{"bad encoding inside", `<x><?xml version="1.0" encoding="latin1"?></x>`, "encoding", false},
		{"pi without target", `<x><? a?></x>`, "expected target name", false},
		{"quoted gt", `<x><a b=">" c='/>'>t</a></x>`, "", false},
		{"quoted quotes", `<x a='"' b="'"/>`, "", false},
		{"quoted lt", `<x><a b="<"/></x>`, "unescaped < inside quoted string", false},
		{"quoted brackets", `<x a="]]>"/>`, "", false},
		{"newlines in tags", "<x\n a\n =\n '1'\n\n/>", "", false},
		{"attributes without space", `<x a="1"b="2"/>`, "", false},
		{"unquoted attribute", `<x a=1/>`, "unquoted or missing attribute value", false},
		{"attribute without value", `<x a/>`, "attribute name without =", false},
		{"slash space", `<x><a/ ></x>`, "expected /> in element", false},
		{"end tag with space", "<x><a></a \n\t></x>", "", false},
		{"end tag garbage", `<x><a></a b></x>`, "invalid characters between </a and >", false},
		{"mismatch", `<x><a><b></a></b></x>`, "element <b> (line 3) closed by </a>", false},
		{"mismatch at root", `<x><a></a></y>`, "element <x> (line 3) closed by </y>", false},
		{"prefixed mismatch", `<x><p:a></q:a></x>`, "element <p:a> (line 3) closed by </q:a>", false},
		{"prefixed", `<x><p:a></p:a><a:></a:><:a></:a></x>`, "", false},
		{"two colons", `<x><a:b:c/></x>`, "expected element name after <", false},
		{"name starting with digit", `<x><1a/></x>`, "invalid XML name: 1a", false},
		{"name starting with dot", `<x><.a/></x>`, "invalid XML name: .a", false},
		{"attribute name starting with hyphen", `<x -a="1"/>`, "invalid XML name", false},
		{"non-ascii names", `<x><café été="1">t</café></x>`, "", false},
		{"non-ascii name mismatch", `<x><café></cafe></x>`, "closed by", false},
		{"non-ascii text", "<x>caf\u00e9 \u2014 \U0001F600</x>", "", false},
		{"doctype inside", `<x><!DOCTYPE x></x>`, ErrDTD.Error(), false},
		{"entity declaration inside", `<x><!ENTITY a "b"></x>`, ErrDTD.Error(), false},
		{"truncated doctype inside", `<x><!DOCTYPE x`, "unexpected end of file inside markup", true},
		{"entities", `<x a="&lt;&gt;&amp;&apos;&quot;&#60;&#x3c;&#X3C;">&lt;&gt;&amp;&apos;&quot;&#60;&#x3C;</x>`, "invalid character entity &# (no semicolon)", false},
		{"good entities", `<x a="&lt;&gt;&amp;&apos;&quot;&#60;&#x3c;&#0000000000000000000000060;">&lt;&gt;&amp;&apos;&quot;&#60;&#x3C;&#x10FFFF;&#xD800;</x>`, "", false},
		{"unknown entity", `<x>&nbsp;</x>`, "invalid character entity &nbsp;", false},
		{"entity without semicolon", `<x>&lt</x>`, "(no semicolon)", false},
		{"empty entity", `<x>&;</x>`, "invalid character entity &;", false},
		{"empty char ref", `<x>&#;</x>`, "invalid character entity", false},
		{"empty hex char ref", `<x a="&#x;"/>`, "invalid character entity", false},
		{"nul char ref", `<x>&#0;</x>`, "illegal character code U+0000", false},
		{"fffe char ref", `<x>&#xFFFE;</x>`, "illegal character code U+FFFE", false},
		{"big char ref", `<x>&#x110000;</x>`, "invalid character entity", false},
		{"huge char ref", `<x>&#99999999999999999999999;</x>`, "invalid character entity", false},
		{"brackets in text", `<x>]] ]>]</x>`, "", false},
		{"cdata end in text", `<x>a]]>b</x>`, "unescaped ]]> not in CDATA section", false},
		{"cdata end split by entity", `<x>]&amp;]></x>`, "", false},
		{"control in text", "<x>a\x01b</x>", "illegal character code U+0001", false},
		{"control in attribute", "<x a=\"\x1f\"/>", "illegal character code U+001F", false},
		{"bad utf-8 in text", "<x>a\xc3(</x>", "invalid UTF-8", false},
		{"surrogate in text", "<x>\xed\xa0\x80</x>", "invalid UTF-8", false},
		{"fffe in attribute", "<x a=\"\xef\xbf\xbe\"/>", "illegal character code U+FFFE", false},
		{"bad utf-8 in comment", "<x><!-- \xff --></x>", "", false},
		{"crlf", "<x>\r\n<a\r\nb='1'/>\r\n</x>", "", false},
		{"lt space", `<x>< a/></x>`, "expected element name after <", false},
		{"max depth", deep(MaxDepth - 2), "", false},
		{"too deep", deep(MaxDepth - 1), "nested deeper", false},
		{"truncated in tag", `<x><a b="1`, "unexpected end of file inside markup", true},
		{"truncated in text", `<x><a>text`, "unexpected end of file: <a> (line 3) is not closed", true},
		{"truncated after tag", `<x><a>`, "unexpected end of file: <a> (line 3) is not closed", true},
		{"truncated in entity", `<x>&am`, "unexpected end of file", true},
		{"truncated in comment", `<x><!-- a -`, "unexpected end of file", true},
		{"truncated in cdata", `<x><![CDATA[ ]]`, "unexpected EOF in CDATA", true},
		{"truncated in char", "<x>\xc3", "invalid UTF-8", true},
		{"truncated in end tag", `<x></x`, "unexpected end of file", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := collection(tt.body, `<oval_definitions `+ovalNS+"/>")
			if tt.cut {
				doc = doc[:strings.Index(doc, tt.body)+len(tt.body)]
			}
			got := compareSkip(t, []byte(doc))
			if tt.want == "" && strings.HasPrefix(got, "error: ") || !strings.Contains(got, tt.want) {
				t.Errorf("got %s, want %q", got, tt.want)
			}
			// Errors are located in the component.
			if tt.want != "" {
				c := strings.Index(doc, tt.body)
				var e *Error
				_, err := Read(strings.NewReader(doc), int64(len(doc)), "doc.xml")
				if !errors.As(err, &e) || e.Offset < int64(c) || e.Line < 3 {
					t.Errorf("error not located in the component: %v", err)
				}
			}
		})
	}
}

// TestScanPositions checks that components after a skipped one are
// located exactly, on the same line as its end and on later lines.
func TestScanPositions(t *testing.T) {
	const oval = `<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5"/>`
	head := `<ds:data-stream-collection xmlns:ds="http://scap.nist.gov/schema/scap/source/1.2" id="c">`
	bodies := []string{
		"<a>\n<b>\n\n</b>\n</a>",
		"<a>no newline</a>",
		"<a>\r\n<!-- \n --><![CDATA[\n]]><?pi \n?>\n<b c='\n'/></a>",
		"<a/>",
		"<café>\n<été/>\n</café>",
		"<a>\n<b>\u00e9\n</b><!-- x --></a>",
	}
	for _, body := range bodies {
		for _, sep := range []string{"", "\n", "  ", "\n  \n"} {
			doc := head + `<ds:component id="c1">` + body + `</ds:component>` + sep +
				`<ds:component id="c2">` + oval + `</ds:component>` + sep + `<ds:component id="c3">` + body + `</ds:component>` + sep + "</ds:data-stream-collection>"
			compareSkip(t, []byte(doc))
			compareSkip(t, []byte("\xef\xbb\xbf"+doc)) // with a byte order mark
			c, err := Read(strings.NewReader(doc), int64(len(doc)), "doc.xml")
			if err != nil {
				t.Fatal(err)
			}
			for _, comp := range c.Components {
				off := int(comp.Offset)
				line := strings.Count(doc[:off], "\n") + 1
				col := off - (strings.LastIndex(doc[:off], "\n") + 1) + 1
				if comp.Line != line || comp.Column != col || !strings.HasPrefix(doc[off:], "<") ||
					!strings.HasPrefix(doc[off+int(comp.Size):], "</ds:component>") {
					t.Errorf("%q: component %s at %d+%d %d:%d, want %d:%d", doc, comp.ID, comp.Offset, comp.Size, comp.Line, comp.Column, line, col)
				}
			}
		}
	}
}

// TestScanTokenLimit checks MaxTokenSize at its boundary in each kind of
// token, after a tag and after text (whose ending '<' encoding/xml has
// already read when the next token starts).
func TestScanTokenLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 4 MB tokens")
	}
	tests := []struct {
		before, after string
		fail          int // the shortest fill that makes the token too large
	}{
		{"<a>", "</a>", MaxTokenSize},
		{"<a><b c='", "'/></a>", MaxTokenSize - 8},
		{"<a>t<b c='", "'/></a>", MaxTokenSize - 7},
		{"<a><!--", "--></a>", MaxTokenSize - 6},
		{"<a>t<!--", "--></a>", MaxTokenSize - 5},
		{"<a><![CDATA[", "]]></a>", MaxTokenSize - 11},
		{"<a>t<?pi ", "?></a>", MaxTokenSize - 5},
		{"<a>t</", "></a>", MaxTokenSize - 1},
	}
	for _, tt := range tests {
		for _, n := range []int{tt.fail - 1, tt.fail} {
			doc := collection(tt.before + strings.Repeat("x", n) + tt.after)
			got := compareSkipN(t, []byte(doc), 1)
			tooLarge := strings.Contains(got, ErrTokenTooLarge.Error())
			if tooLarge != (n == tt.fail) || !tooLarge && strings.HasPrefix(got, "error: ") && !strings.Contains(got, "closed by") {
				t.Errorf("%s...%s with %d bytes: %.200s", tt.before, tt.after, n, got)
			}
		}
	}
}

// TestScanTruncated cuts a collection at every byte.
func TestScanTruncated(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "collection.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(data) {
		compareSkip(t, data[:n])
	}
}

// TestScanBufferBoundaries puts every construct across the byteReader's
// buffer boundary.
func TestScanBufferBoundaries(t *testing.T) {
	unit := "<a b=\"&lt;\u00e9\">\u00e9&amp;&#x3C;]]\n<!-- - -->\n<![CDATA[]]]>\u00e9\n<?p ?>\n</a>\n"
	const bufSize = 64 << 10
	for pad := 0; pad < len(unit)+2; pad++ {
		doc := collection("<r>" + strings.Repeat(" ", pad) + strings.Repeat(unit, bufSize/len(unit)+2) + "</r>")
		got := compareSkipN(t, []byte(doc), 2)
		if strings.HasPrefix(got, "error: ") {
			t.Fatalf("pad %d: %s", pad, got)
		}
	}
}

// genDoc generates a well-formed document from r, then perhaps breaks it.
func genDoc(r *rand.Rand) []byte {
	var b bytes.Buffer
	names := []string{"a", "b", "p:c", "xccdf-1.2:Rule", "é", "x.y-z_1", "a:"}
	texts := []string{"", "t", " ", "\n", "\r\n", "\n    ", "&lt;", "&amp;&gt;", "&#60;", "&#x1F600;", "]]", "]", ">", "é", "\u2014", "'", `"`, "a b c"}
	attrText := []string{"", "v", ">", "/>", "]]>", "&lt;", "&quot;", "\n", "é", "\t"}
	var gen func(depth int)
	gen = func(depth int) {
		for range r.IntN(5) {
			switch k := r.IntN(12); {
			case k < 4 && depth < 8:
				name := names[r.IntN(len(names))]
				b.WriteString("<" + name)
				for j := range r.IntN(3) {
					q := `"'`[r.IntN(2)]
					fmt.Fprintf(&b, "%s%c%d%s=%s%c", []string{" ", "\n ", "\t"}[r.IntN(3)], 'k', j, []string{"", " "}[r.IntN(2)], "", q)
					for range r.IntN(3) {
						s := attrText[r.IntN(len(attrText))]
						if s == string(q) {
							continue
						}
						b.WriteString(s)
					}
					b.WriteByte(q)
				}
				if r.IntN(3) == 0 {
					b.WriteString([]string{"/>", " />"}[r.IntN(2)])
					continue
				}
				b.WriteString(">")
				gen(depth + 1)
				b.WriteString("</" + name + []string{">", " >", "\n>"}[r.IntN(3)])
			case k < 8:
				for range r.IntN(4) {
					s := texts[r.IntN(len(texts))]
					if s == ">" && bytes.HasSuffix(b.Bytes(), []byte("]]")) {
						continue
					}
					b.WriteString(s)
				}
			case k == 8:
				b.WriteString("<!--" + []string{"", " < > ", "-", " - > ", "\n", "é"}[r.IntN(6)] + "-->")
			case k == 9:
				b.WriteString("<![CDATA[" + []string{"", "<a>", "]]", "]", "&lt;", "\n", "]>"}[r.IntN(7)] + "]]>")
			case k == 10:
				b.WriteString("<?pi" + []string{"", " a > b", " <", "\n"}[r.IntN(4)] + "?>")
			default:
				if r.IntN(20) == 0 {
					b.WriteString(strings.Repeat("long text ", 7000)) // across the 64 KB buffer
				}
			}
		}
	}
	b.WriteString(`<ds:data-stream-collection xmlns:ds="http://scap.nist.gov/schema/scap/source/1.2" xmlns:p="urn:p" xmlns:xccdf-1.2="urn:x">` + "\n")
	for i := range 1 + r.IntN(3) {
		fmt.Fprintf(&b, "<ds:component id=\"c%d\">", i)
		if r.IntN(2) == 0 {
			b.WriteString("\n")
		}
		b.WriteString("<root>")
		gen(1)
		b.WriteString("</root></ds:component>")
		b.WriteString([]string{"", "\n", " "}[r.IntN(3)])
	}
	b.WriteString("</ds:data-stream-collection>")
	data := b.Bytes()
	// Break it, half of the time.
	switch r.IntN(8) {
	case 0:
		data = data[:r.IntN(len(data)+1)]
	case 1:
		data[r.IntN(len(data))] = byte(r.IntN(256))
	case 2:
		bad := []string{"<!DOCTYPE x>", "</wrong>", "]]>", "&bad;", "\x00", "\xff", "<a", "--", "<", "&", "<?xml version='2'?>", "<!--", "<![CDATA[", `"`, "/>", strings.Repeat("<d>", MaxDepth)}
		at := r.IntN(len(data) + 1)
		data = append(data[:at:at], append([]byte(bad[r.IntN(len(bad))]), data[at:]...)...)
	case 3:
		at := r.IntN(len(data))
		data = append(data[:at:at], data[at+1:]...)
	}
	return data
}

// TestScanGenerated compares the scanner with the tokenizer on generated
// documents, well-formed and broken.
func TestScanGenerated(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 300
	}
	ok := 0
	for seed := range n {
		data := genDoc(rand.New(rand.NewPCG(uint64(seed), 1)))
		if !strings.HasPrefix(compareSkip(t, data), "error: ") {
			ok++
		}
	}
	t.Logf("%d of %d documents well-formed", ok, n)
	if ok < n/3 {
		t.Errorf("only %d of %d generated documents are well-formed", ok, n)
	}
}

// FuzzScanGenerated compares the scanner with the tokenizer on documents
// generated from the fuzzer's seed.
func FuzzScanGenerated(f *testing.F) {
	for seed := range uint64(20) {
		f.Add(seed, seed*7919)
	}
	f.Fuzz(func(t *testing.T, s1, s2 uint64) {
		compareSkip(t, genDoc(rand.New(rand.NewPCG(s1, s2))))
	})
}

// FuzzScan compares the scanner with the tokenizer on arbitrary input.
func FuzzScan(f *testing.F) {
	for _, name := range []string{"collection.xml", "standalone-oval.xml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for seed := range uint64(10) {
		f.Add(genDoc(rand.New(rand.NewPCG(seed, 0))))
	}
	f.Add([]byte(collection(`<x a="&lt;" b='>'><!-- < --><![CDATA[</x>]]><?p <?>é&#x3C;<y/></x>`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		compareSkip(t, data)
	})
}

// TestScanSSG compares the scanner with the tokenizer on the smallest and
// on the Debian installed data streams.
func TestScanSSG(t *testing.T) {
	if testing.Short() {
		t.Skip("tokenizes whole data streams")
	}
	for _, f := range ssgDataStreams(t) {
		base := filepath.Base(f)
		if base != "ssg-debian11-ds.xml" && base != "ssg-macos1015-ds.xml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var slow, fast string
		withScan(false, func() { slow = readSummary(data) })
		withScan(true, func() { fast = readSummary(data) })
		if slow != fast || strings.HasPrefix(fast, "error") {
			t.Errorf("%s:\ntokenizer: %s\nscanner:   %s", base, slow, fast)
		}
	}
}
