package report

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
)

func TestAppendText(t *testing.T) {
	tests := []struct {
		in    string
		nl    bool
		limit int
		want  string
		more  int
	}{
		{"plain ascii", false, 100, "plain ascii", 0},
		{"café €5 “quoted” — naïve", false, 100, "caf\xe9 \x805 \x93quoted\x94 \x97 na\xefve", 0},
		{"a\nb\r\nc\rd", true, 100, "a\nb\nc\nd", 0},
		{"a\nb\r\nc\rd", false, 100, "a b c d", 0},
		{"tab\there", false, 100, "tab here", 0},
		{"nul\x00 bel\x07 del\x7f c1\u0085", false, 100, "nul\xbf bel\xbf del\xbf c1\xbf", 0},
		{"bad\xff\xfe utf8", false, 100, "bad\xbf\xbf utf8", 0},
		{"emoji \U0001F600 cjk 漢 bidi \u202e rfc \ufffd", false, 100, "emoji \xbf cjk \xbf bidi \xbf rfc \xbf", 0},
		{"0123456789", false, 4, "0123", 6},
		{"ab\r\ncd\r\nef", true, 3, "ab\n", 5}, // a CR LF is one character
		{"ééééé", false, 2, "\xe9\xe9", 3},
		{"", false, 10, "", 0},
	}
	for _, tt := range tests {
		got, more := appendText(nil, tt.in, tt.nl, tt.limit)
		if string(got) != tt.want || more != tt.more {
			t.Errorf("appendText(%q, %v, %d) = %q, %d; want %q, %d", tt.in, tt.nl, tt.limit, got, more, tt.want, tt.more)
		}
	}
}

func TestWindows1252(t *testing.T) {
	n := 0
	for b := 0x20; b < 0x100; b++ {
		r := decode(byte(b))
		if r == utf8.RuneError || b == 0x7F {
			continue
		}
		n++
		if got, ok := encode(r); !ok || got != byte(b) {
			t.Errorf("encode(decode(%#x) = %U) = %#x, %v", b, r, got, ok)
		}
	}
	if n != 95+96+27 { // ASCII, Latin-1, and 27 of the 32 in 0x80..0x9F
		t.Errorf("%d printable Windows-1252 characters, want %d", n, 95+96+27)
	}
	for _, r := range []rune{0, '\n', 0x7F, 0x80, 0x9F, 0x100, 0x2028, 0xFFFD, 0x1F600} {
		if b, ok := encode(r); ok {
			t.Errorf("encode(%U) = %#x, want none", r, b)
		}
	}
}

// widths are the widths of a fixed-pitch font, 500 units a character.
func widths() *[256]int {
	var cw [256]int
	for i := range cw {
		cw[i] = 500
	}
	return &cw
}

func TestWrap(t *testing.T) {
	tests := []struct {
		in    string
		chars int // characters that fit a line
		want  []string
	}{
		{"", 10, nil},
		{"short", 10, []string{"short"}},
		{"exactly10c", 10, []string{"exactly10c"}},
		{"two words here", 10, []string{"two words", "here"}},
		{"averyveryverylongword", 10, []string{"averyveryv", "erylongwor", "d"}},
		{"a\nb\n\nc\n", 10, []string{"a", "b", "", "c"}},
		{"spaces    at the end   ", 10, []string{"spaces   ", "at the end", "  "}},
		{"xyz", 0, []string{"x", "y", "z"}}, // every line takes a character
	}
	for _, tt := range tests {
		ls, next := wrap(nil, nil, []byte(tt.in), tt.chars*500, widths(), face{})
		var got []string
		for _, l := range ls {
			got = append(got, string(l.b))
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.in, tt.chars, got, tt.want)
		}
		if len(next) != len(ls) || (len(next) > 0 && next[len(next)-1] != len(tt.in)) {
			t.Errorf("wrap(%q): next = %v", tt.in, next)
		}
	}
}

// TestCap checks that a capped cell has at most its lines, and that what
// it shows plus what it says it left out is all of the text.
func TestCap(t *testing.T) {
	d := newDoc(Cover{}, "Test", "", "", a4H)
	body := face{regular, bodyPt, black}
	// The note, in Windows-1252: \x85 is the ellipsis.
	more := regexp.MustCompile(`^\x{FFFD} \(([\d,]+) more characters\)$`)
	tests := []struct {
		name  string
		parts []string
		nl    bool
		lines int
		limit int
	}{
		{"fits", []string{"a short value"}, true, 12, 1500},
		{"many lines", []string{strings.Repeat("line\n", 100)}, true, 12, 1500},
		{"many characters", []string{strings.Repeat("word ", 1000)}, true, 12, 1500},
		{"one long word", []string{strings.Repeat("x", 5000)}, true, 12, 1500},
		{"many values", []string{"one", "two", strings.Repeat("v", 3000), "four"}, true, 12, 1500},
		{"many empty values", make([]string, 10000), true, 12, 1500},
		{"CR LF", []string{strings.Repeat("ab\r\n", 1000)}, true, 12, 1500},
		{"one line", []string{strings.Repeat("owner ", 100)}, false, 2, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d.scratch = d.scratch[:0]
			ls := d.linesOf(nil, body, tt.parts, tt.nl, 50, tt.lines, tt.limit)
			if len(ls) > tt.lines {
				t.Errorf("%d lines, want at most %d", len(ls), tt.lines)
			}
			total := 0
			for i, p := range tt.parts {
				total += chars(p)
				if i > 0 {
					total++
				}
			}
			shown, cut := 0, 0
			for i, l := range ls {
				if m := more.FindSubmatch(l.b); m != nil {
					if i != len(ls)-1 && !bytes.HasSuffix(ls[len(ls)-1].b, []byte("characters)")) {
						t.Errorf("note %q is not last", l.b)
					}
					cut, _ = strconv.Atoi(strings.ReplaceAll(string(m[1]), ",", ""))
					continue
				}
				if bytes.Contains(l.b, []byte("more characters)")) {
					continue // a note wrapped over two lines
				}
				shown += len(l.b)
				if len(l.b) > tt.limit {
					t.Errorf("line of %d characters", len(l.b))
				}
			}
			// Line breaks and the spaces lines break at are not in the
			// lines: count them as shown.
			if shown > total || shown+cut > total || total-cut-shown > len(ls)+1 {
				t.Errorf("shown %d + cut %d, of %d characters", shown, cut, total)
			}
			if total > tt.limit && cut == 0 {
				t.Errorf("%d characters, none said cut", total)
			}
		})
	}
}

func TestGroup(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 1234567: "1,234,567", -45678: "-45,678"} {
		if got := group(n); got != want {
			t.Errorf("group(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestMeta(t *testing.T) {
	d := newDoc(Cover{}, "Test", "", "", a4H)
	got := d.meta("Café \x00 漢")
	want := "\xfe\xff\x00C\x00a\x00f\x00\xe9\x00 \x00\xbf\x00 \x00\xbf"
	if got != want {
		t.Errorf("meta = %q, want %q", got, want)
	}
}

// checkPDF checks what a PDF reader needs first: the header, the end,
// and a classic cross-reference table whose every offset points at its
// object.
func checkPDF(t testing.TB, pdf []byte) {
	t.Helper()
	if !bytes.HasPrefix(pdf, []byte("%PDF-1.")) || !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
		t.Fatalf("no PDF header or %%%%EOF: %q ... %q", pdf[:min(len(pdf), 10)], pdf[max(len(pdf)-10, 0):])
	}
	m := regexp.MustCompile(`startxref\n(\d+)\n%%EOF\n$`).FindSubmatch(pdf)
	if m == nil {
		t.Fatal("no startxref")
	}
	off, _ := strconv.Atoi(string(m[1]))
	if off >= len(pdf) {
		t.Fatalf("startxref %d beyond the end", off)
	}
	x := regexp.MustCompile(`^xref\n0 (\d+)\n`).FindSubmatch(pdf[off:])
	if x == nil {
		t.Fatalf("no xref table at %d", off)
	}
	n, _ := strconv.Atoi(string(x[1]))
	entries := pdf[off+len(x[0]):]
	for i := 1; i < n; i++ {
		e := entries[20*i : 20*i+20]
		o, err := strconv.Atoi(string(e[:10]))
		if err != nil || e[17] != 'n' {
			t.Fatalf("xref entry %d: %q", i, e)
		}
		if !bytes.HasPrefix(pdf[o:], fmt.Appendf(nil, "%d 0 obj", i)) {
			t.Fatalf("object %d is not at %d", i, o)
		}
	}
}

func FuzzPolicyRow(f *testing.F) {
	f.Add("web1", "Ensure SSH root login is disabled", "PermitRootLogin no", "PermitRootLogin yes", "",
		"fail", "", "", "risk acceptance", "alice", "legacy", 1101, 5, true)
	f.Add("\x00\xff", "%)(\\", "\r\n\r", "\U0001F600", "\u202e", "error", "timeout", "xccdf_rule",
		"", "", "", -1, 0, false)
	f.Add(strings.Repeat("h", 5000), strings.Repeat("t ", 3000), strings.Repeat("\n", 3000), "a\x01nb\x01b", "{nb}",
		"na", "", "", "x", "y", "z", 1<<40, 99, true)
	f.Fuzz(func(t *testing.T, asset, title, expected, actual, message, status, reason, rule,
		typ, owner, justification string, cid int, crit int, excepted bool) {
		r := Row{Asset: asset, Result: result.Result{CID: cid, Rule: rule, Title: title,
			Criticality: policy.Criticality(crit), Status: result.Status(status), Expected: expected,
			Actual: []string{actual, title}, Reason: reason, Message: message}}
		if excepted {
			r.Excepted = &Exception{ID: int64(cid), Type: typ, Owner: owner, Justification: justification,
				Expires: time.Unix(int64(cid)%(1<<33), 0)}
		}
		c := Cover{Title: title, Scope: asset, Policy: rule, PolicyTitle: message, Generated: time.Unix(1e9, 0),
			GeneratedBy: owner, Server: typ}
		rows := []Row{r, r}
		rows[1].Asset += "2"
		var b bytes.Buffer
		if err := Policy(&b, c, summarize(rows), seq(rows)); err != nil {
			t.Fatal(err)
		}
		checkPDF(t, b.Bytes())
	})
}
