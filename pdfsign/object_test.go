package pdfsign

import (
	"bytes"
	"encoding/asn1"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseObject(t *testing.T) {
	for _, tt := range []struct {
		in, out string
		rest    int // bytes left unparsed
	}{
		{in: "null", out: "null"},
		{in: " true ", out: "true", rest: 1},
		{in: "false", out: "false"},
		{in: "-12", out: "-12"},
		{in: "+7", out: "7"},
		{in: "3.14", out: "3.14"},
		{in: "-.5", out: "-.5"},
		{in: "4.", out: "4."},
		{in: "123456789012345678901234567890", out: "123456789012345678901234567890"},
		{in: "/Name#20with#2Fslash#", out: "/Name#20with#2Fslash#23"},
		{in: "/A#zz", out: "/A#23zz"},
		{in: "/ ", out: "/", rest: 1},
		{in: "/a/b", out: "/a", rest: 2},
		{in: `(a (nested) \(string\)\n\101\0013\q)`, out: "<6120286E6573746564292028737472696E67290A41013371>"},
		{in: "(line\\\ncontinued\\\r\n)", out: "<6C696E65636F6E74696E756564>"},
		{in: "(cr\r\nlf\rcr)", out: "<63720A6C660A6372>"},
		{in: "(\\", out: ""},
		{in: "<48 65 6c6c\n6F7>", out: "<48656C6C6F70>"},
		{in: "<>", out: "<>"},
		{in: "[1 0 R 2 (x) /y [] true]", out: "[1 0 R 2 <78> /y [] true]"},
		{in: "[1 0 2 0 R]", out: "[1 0 2 0 R]"},
		{in: "[-1 0 R]", out: ""},
		{in: "12 0 R", out: "12 0 R"},
		{in: "12  3\n R", out: "12 3 R"},
		{in: "12 0", out: "12", rest: 2},
		{in: "12 0 Rx", out: "12", rest: 5},
		{in: "8388609 0 R", out: "8388609", rest: 4}, // beyond PDF's object numbers
		{in: "<< /A 1 /B [2 3 R] % comment\n /C << /D null >> >>", out: "<< /A 1 /B [2 3 R] /C << /D null >> >>"},
		{in: "<<>>", out: "<< >>"},
		{in: "% only a comment", out: ""},
		{in: "(unterminated", out: ""},
		{in: "<<", out: ""},
		{in: "[", out: ""},
		{in: "<4G>", out: ""},
		{in: "<< 1 2 >>", out: ""},
		{in: "<< /A >>", out: ""},
		{in: "<< /A 1 > >>", out: ""},
		{in: "]", out: ""},
		{in: "foo", out: ""},
		{in: "1.2.3", out: ""},
		{in: "--1", out: ""},
		{in: "1-", out: ""},
		{in: ".", out: ""},
		{in: strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth), out: strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)},
		{in: strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1), out: ""},
	} {
		p := &parser{b: []byte(tt.in)}
		o, err := p.object()
		if tt.out == "" {
			if err == nil {
				t.Errorf("%q: parsed as %s", tt.in, appendObject(nil, o))
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if got := string(appendObject(nil, o)); got != tt.out || len(tt.in)-p.pos != tt.rest {
			t.Errorf("%q: %s, %d bytes left; want %s, %d left", tt.in, got, len(tt.in)-p.pos, tt.out, tt.rest)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ in, err string }{
		{"(abc", "string at offset 0: unexpected end of data"},
		{"<< /A (x) /B <4", "dictionary at offset 0, key /B: hexadecimal string at offset 13: unexpected end of data"},
		{"[1 2 foo]", `array at offset 0: unexpected "foo" at offset 5`},
		{"<< 1 >>", "dictionary at offset 0: key at offset 3 is not a name"},
		{"  )", `unexpected ')' at offset 2`},
	} {
		_, err := (&parser{b: []byte(tt.in)}).object()
		if err == nil || err.Error() != tt.err {
			t.Errorf("%q: error %v, want %s", tt.in, err, tt.err)
		}
	}
}

// TestEntrySpans checks the offsets Verify relies on for /Contents.
func TestEntrySpans(t *testing.T) {
	in := "<< /ByteRange [0 1 2 3] /Contents <0A0B> /R (x) >>"
	o, err := (&parser{b: []byte(in)}).object()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range o.(dict) {
		want := map[name]string{"ByteRange": "[0 1 2 3]", "Contents": "<0A0B>", "R": "(x)"}[e.key]
		if got := in[e.off:e.end]; got != want {
			t.Errorf("/%s spans %q, want %q", e.key, got, want)
		}
	}
}

func TestDict(t *testing.T) {
	d := dict{{key: "A", val: int64(1)}, {key: "B", val: int64(2)}, {key: "A", val: int64(3)}}
	if d.get("A") != int64(1) || d.get("C") != nil {
		t.Errorf("get: %v %v", d.get("A"), d.get("C"))
	}
	if got := string(appendObject(nil, d.with("A", name("x")))); got != "<< /A /x /B 2 >>" {
		t.Errorf("with A: %s", got)
	}
	if got := string(appendObject(nil, d.with("C", true))); got != "<< /A 1 /B 2 /A 3 /C true >>" {
		t.Errorf("with C: %s", got)
	}
	if got := string(appendObject(nil, d)); got != "<< /A 1 /B 2 /A 3 >>" {
		t.Errorf("with changed d: %s", got)
	}
}

func TestText(t *testing.T) {
	for _, tt := range []struct {
		in   []byte
		want string
	}{
		{[]byte("plain"), "plain"},
		{[]byte{0xfe, 0xff, 0, 'Z', 0, 0xfc, 0xd8, 0x3d, 0xde, 0x00}, "Zü😀"},
		{[]byte{0xfe, 0xff, 0xd8, 0x3d}, "\ufffd"}, // lone surrogate
		{[]byte{0xfe, 0xff, 0, 'a', 0}, "a"},       // odd length
		{[]byte{0xef, 0xbb, 0xbf, 'u', 0xc3, 0xa9}, "ué"},
		{[]byte{0x80, 0x9f, 0xa0, 0xe9, 0x18}, "•\ufffd€é˘"},
	} {
		if got := text(tt.in); got != tt.want {
			t.Errorf("text(% x) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, s := range []string{"", "Compliance (report) \\ 1", "Zürich", "😀 emoji", "tab\there"} {
		b := appendText(nil, s)
		o, err := (&parser{b: b}).object()
		if err != nil {
			t.Fatalf("%q as %s: %v", s, b, err)
		}
		if got := text(o.(str)); got != s {
			t.Errorf("%q as %s reads back as %q", s, b, got)
		}
	}
}

func TestPDFDate(t *testing.T) {
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC), "D:20250314150926Z"},
		{time.Date(2025, 3, 14, 15, 9, 26, 0, time.FixedZone("", 5*3600+30*60)), "D:20250314150926+05'30'"},
		{time.Date(1999, 12, 31, 23, 0, 0, 0, time.FixedZone("", -8*3600)), "D:19991231230000-08'00'"},
	} {
		s := pdfDate(tt.t)
		if s != tt.want {
			t.Errorf("pdfDate(%v) = %s, want %s", tt.t, s, tt.want)
		}
		if got, ok := parsePDFDate(s); !ok || !got.Equal(tt.t) {
			t.Errorf("parsePDFDate(%s) = %v, %v", s, got, ok)
		}
	}
	for in, want := range map[string]string{
		"D:2025":                 "2025-01-01T00:00:00Z",
		"D:202503141509":         "2025-03-14T15:09:00Z",
		"20250314150926+01":      "2025-03-14T15:09:26+01:00",
		"D:20250314150926-01'30": "2025-03-14T15:09:26-01:30",
		"D:20251314":             "",
		"D:202":                  "",
		"D:20250314150926+1":     "",
		"D:20250314150926x":      "",
	} {
		got, ok := parsePDFDate(in)
		if s := got.Format(time.RFC3339); ok != (want != "") || ok && s != want {
			t.Errorf("parsePDFDate(%s) = %s, %v; want %q", in, s, ok, want)
		}
	}
}

func TestDERSetLess(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		less bool
	}{
		{"\x30\x01\x01", "\x30\x01\x02", true},
		{"\x30\x01\x02", "\x30\x01\x01", false},
		{"\x30\x01", "\x30\x01\x00", false}, // equal once padded
		{"\x30\x01", "\x30\x01\x01", true},
		{"\x30\x01\x01", "\x30\x01", false},
	} {
		if got := derSetLess([]byte(tt.a), []byte(tt.b)); got != tt.less {
			t.Errorf("derSetLess(% x, % x) = %v", tt.a, tt.b, got)
		}
	}
	// The lengths below 128, 256, 65536 and above.
	for _, n := range []int{0, 127, 128, 255, 256, 65535, 65536} {
		b := der(tagOctetString, bytes.Repeat([]byte{1}, n))
		var raw []byte
		if _, err := asn1.Unmarshal(b, &raw); err != nil || len(raw) != n {
			t.Errorf("der of %d bytes: %v, %d", n, err, len(raw))
		}
	}
}

func TestOpenErrors(t *testing.T) {
	pdf := makePDF(t, doc{pages: 1})
	d, err := open(pdf)
	if err != nil {
		t.Fatal(err)
	}
	loop := bytes.Replace(pdf, []byte("trailer\n<<"), fmt.Appendf(nil, "trailer\n<< /Prev %d", d.startxref), 1)
	// The replacement moved nothing before the table: offsets still hold.
	for _, tt := range []struct {
		name string
		pdf  []byte
		err  string
	}{
		{"prev loop", loop, "/Prev loops"},
		{"bad entry", bytes.Replace(pdf, []byte(" 00000 n "), []byte(" 00000 x "), 1), `type "x" is not n or f`},
		{"no trailer", bytes.Replace(pdf, []byte("trailer"), []byte("trailor"), 1), `found "trailor"`},
		{"wrong object", bytes.Replace(pdf, []byte("\n1 0 obj"), []byte("\n7 0 obj"), 1), "holds object 7 0"},
		{"missing", bytes.Replace(pdf, []byte("/Pages 1 0 R"), []byte("/Pages 1 9 R"), 1), "object 1 9 R is not in the cross-reference table"},
		{"hybrid", bytes.Replace(bytes.Replace(pdf, []byte("/Pages 1 0 R"), []byte("/Pages 1 9 R"), 1), []byte("trailer\n<<"), []byte("trailer\n<< /XRefStm 0"), 1),
			"unsupported: object 1 9 R is not in the cross-reference table, and the cross-reference stream of this hybrid file is not read"},
		{"no pages", bytes.Replace(pdf, []byte("/Kids ["), []byte("/Kidz ["), 1), "document has no pages"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := open(tt.pdf)
			if err == nil {
				_, cat, err1 := d.catalog()
				err = err1
				if err == nil {
					_, _, err = d.firstPage(cat.get("Pages"))
				}
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("error %v, want %q", err, tt.err)
			}
		})
	}
}
