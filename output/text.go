package output

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// dangerous reports whether r must never reach a terminal or a viewer
// verbatim: C0 and C1 controls and DEL (ESC starts terminal escape
// sequences, U+009B is a one-byte CSI), format characters (bidirectional
// overrides and isolates, zero-width characters, tag characters) and the
// Unicode line and paragraph separators, and the noncharacters U+FFFE and
// U+FFFF (not allowed in XML).
func dangerous(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) ||
		r == '\u2028' || r == '\u2029' || r == '\ufffe' || r == '\uffff'
}

// escapeLine returns s with every dangerous character, including newlines
// and tabs, and every invalid UTF-8 byte replaced by a visible escape:
// \n \r \t, \xNN for the other C0 controls, DEL and invalid bytes, \uNNNN
// or \UNNNNNNNN for the rest. The result is one line of printable text.
func escapeLine(s string) string { return escape(s, false) }

// escapeText is escapeLine keeping newlines and tabs.
func escapeText(s string) string { return escape(s, true) }

func escape(s string, keepLayout bool) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || dangerous(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i-1])
		case (r == '\n' || r == '\t') && keepLayout:
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case dangerous(r) && r > 0xffff:
			fmt.Fprintf(&b, `\U%08x`, r)
		case dangerous(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// jsonSafe rewrites JSON produced by encoding/json so that no character a
// terminal could act on appears raw: encoding/json already escapes C0
// controls, U+2028 and U+2029, but writes C1 controls and format
// characters as UTF-8. Outside strings encoding/json writes only ASCII, so
// every non-ASCII rune is inside a string, where \uXXXX is equivalent.
func jsonSafe(b []byte) []byte {
	clean := true
	for _, r := range string(b) {
		if r >= utf8.RuneSelf && dangerous(r) {
			clean = false
			break
		}
	}
	if clean {
		return b
	}
	out := make([]byte, 0, len(b)+64)
	for _, r := range string(b) {
		if r < utf8.RuneSelf || !dangerous(r) {
			out = utf8.AppendRune(out, r)
			continue
		}
		if r > 0xffff {
			r1, r2 := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
			continue
		}
		out = fmt.Appendf(out, `\u%04x`, r)
	}
	return out
}

// runeWidth is the number of terminal cells r occupies: 0 for combining
// marks and format characters, 2 for East Asian wide and fullwidth
// characters and emoji, 1 otherwise. It is an approximation of wcwidth
// good enough to align columns.
func runeWidth(r rune) int {
	switch {
	case r == 0 || unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	case r >= 0x1100 && r <= 0x115f, // Hangul Jamo
		r >= 0x2e80 && r <= 0x303e, // CJK radicals .. CJK symbols
		r >= 0x3041 && r <= 0x33ff, // Hiragana .. CJK compatibility
		r >= 0x3400 && r <= 0x4dbf, // CJK extension A
		r >= 0x4e00 && r <= 0x9fff, // CJK unified ideographs
		r >= 0xa000 && r <= 0xa4cf, // Yi
		r >= 0xa960 && r <= 0xa97f, // Hangul Jamo extended A
		r >= 0xac00 && r <= 0xd7a3, // Hangul syllables
		r >= 0xf900 && r <= 0xfaff, // CJK compatibility ideographs
		r >= 0xfe10 && r <= 0xfe19, // vertical forms
		r >= 0xfe30 && r <= 0xfe6f, // CJK compatibility forms
		r >= 0xff00 && r <= 0xff60, // fullwidth forms
		r >= 0xffe0 && r <= 0xffe6,
		r >= 0x1f300 && r <= 0x1f64f, // pictographs, emoticons
		r >= 0x1f900 && r <= 0x1f9ff, // supplemental symbols and pictographs
		r >= 0x20000 && r <= 0x2fffd, // CJK extensions
		r >= 0x30000 && r <= 0x3fffd:
		return 2
	}
	return 1
}

// textWidth is the display width of s (already escaped: no controls).
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// truncate shortens s to at most w cells, ending it with "…" when
// anything was cut.
func truncate(s string, w int) string {
	if textWidth(s) <= w {
		return s
	}
	if w <= 0 {
		return ""
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		rw := runeWidth(r)
		if n+rw > w-1 {
			break
		}
		b.WriteRune(r)
		n += rw
	}
	b.WriteString("…")
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
