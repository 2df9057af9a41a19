package report

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// sub is what a report prints for a character it cannot print: a control
// character, a byte that is not UTF-8, or a character that Windows-1252
// (the encoding of the PDF core fonts) lacks. It is an inverted question
// mark rather than "?" so that a reader can tell it from a question mark
// that is really in the data; the summary page says so.
const sub = 0xBF

// c1 is Windows-1252 from 0x80 to 0x9F, U+FFFD where it has no character.
// It is returned by a function, not kept in a variable, so that nothing
// can change it.
func c1() [32]rune {
	return [32]rune{
		'€', 0xFFFD, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0xFFFD, 'Ž', 0xFFFD,
		0xFFFD, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0xFFFD, 'ž', 'Ÿ',
	}
}

// encode returns the Windows-1252 byte of r, if it has one that prints.
func encode(r rune) (byte, bool) {
	switch {
	case r >= 0x20 && r < 0x7F, r >= 0xA0 && r <= 0xFF:
		return byte(r), true
	case r < 0x152 || r > 0x2122:
		return 0, false
	}
	for i, x := range c1() {
		if x == r {
			return byte(0x80 + i), true
		}
	}
	return 0, false
}

// decode returns the character of the Windows-1252 byte b.
func decode(b byte) rune {
	if b >= 0x80 && b < 0xA0 {
		return c1()[b-0x80]
	}
	return rune(b)
}

// chars counts the characters of s as appendText does: a CR LF pair is
// one line break, a byte that is not UTF-8 one character.
func chars(s string) int {
	return utf8.RuneCountInString(s) - strings.Count(s, "\r\n")
}

// appendText appends at most limit characters of s to dst in Windows-1252,
// every character it cannot print replaced by sub. Line breaks (LF, CR
// LF, CR) become '\n' if nl is set, spaces otherwise; a tab is a space.
// Each character of s becomes one byte, so that what is cut can be
// counted. It returns the bytes and how many characters of s it left out.
func appendText(dst []byte, s string, nl bool, limit int) ([]byte, int) {
	n := 0
	for i := 0; i < len(s); n++ {
		if n >= limit {
			return dst, chars(s[i:])
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch r {
		case '\r', '\n':
			if r == '\r' && i < len(s) && s[i] == '\n' {
				i++
			}
			if nl {
				dst = append(dst, '\n')
			} else {
				dst = append(dst, ' ')
			}
		case '\t':
			dst = append(dst, ' ')
		default:
			b, ok := encode(r)
			if !ok || (r == utf8.RuneError && size == 1) {
				b = sub
			}
			dst = append(dst, b)
		}
	}
	return dst, 0
}

// line is one line of text to print, in Windows-1252.
type line struct {
	b []byte
	f face
}

// face is how text is printed: style, size (points) and colour.
type face struct {
	st style
	pt float64
	c  rgb
}

// wrap appends to lines the lines of b (Windows-1252), each in face f,
// broken to fit width (in font units: thousandths of the font size) with
// the character widths cw. Lines break at '\n', else at the last space
// that fits, else (one long word) after the last character that fits;
// every line has at least one character. It returns the lines and, for
// each, where in b the next one starts, so that a caller cutting lines
// can count what it cut. The lines are slices of b.
func wrap(lines []line, next []int, b []byte, width int, cw *[256]int, f face) ([]line, []int) {
	start, sep, w := 0, -1, 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == '\n' {
			lines, next = append(lines, line{b[start:i], f}), append(next, i+1)
			start, sep, w = i+1, -1, 0
			continue
		}
		if c == ' ' {
			sep = i
		}
		w += cw[c]
		if w <= width {
			continue
		}
		switch {
		case sep > start:
			lines, next = append(lines, line{b[start:sep], f}), append(next, sep+1)
			start = sep + 1
		case i > start:
			lines, next = append(lines, line{b[start:i], f}), append(next, i)
			start = i
		default: // one character wider than the line
			lines, next = append(lines, line{b[start : i+1], f}), append(next, i+1)
			start = i + 1
		}
		sep, w = -1, 0
		for _, c := range b[start : i+1] {
			w += cw[c]
		}
	}
	if start < len(b) {
		lines, next = append(lines, line{b[start:], f}), append(next, len(b))
	}
	return lines, next
}

// units is how many font units of a font of pt points fit in w mm.
func units(w, pt float64) int { return int(w * 1000 / (pt * ptMM)) }

// lines appends the lines of s (untrusted UTF-8) in face f, wrapped to w
// millimetres, to ls: at most n lines and limit characters, the last
// lines saying how many characters were left out, if any. Line breaks
// in s are kept if nl is set. The text goes to d.scratch, which the
// caller resets once the lines are printed.
func (d *doc) lines(ls []line, f face, s string, nl bool, w float64, n, limit int) []line {
	return d.linesOf(ls, f, []string{s}, nl, w, n, limit)
}

// linesOf is lines for the parts of a text joined by line breaks (spaces
// if not nl), so that a list of values need not be joined (and copied)
// to be capped.
func (d *doc) linesOf(ls []line, f face, parts []string, nl bool, w float64, n, limit int) []line {
	start, more := len(d.scratch), 0
	b := d.scratch
	for i, p := range parts {
		if i > 0 {
			switch {
			case len(b)-start >= limit:
				more++
			case nl:
				b = append(b, '\n')
			default:
				b = append(b, ' ')
			}
		}
		if len(b)-start >= limit {
			more += chars(p)
			continue
		}
		var m int
		b, m = appendText(b, p, nl, limit-(len(b)-start))
		more += m
	}
	d.scratch = b
	b = b[start:]
	first := len(ls)
	ls, next := wrap(ls, nil, b, units(w, f.pt), &d.cw[f.st], f)
	if more == 0 && len(ls)-first <= n {
		return ls
	}
	// Cut: keep the lines that fit above a note of how much was cut. The
	// note's length depends on the count: fewer lines kept, more cut, a
	// note as long or longer; so keep goes down until it settles.
	total := len(ls) - first
	keep := total
	nf := face{italic, f.pt, grey}
	var notes []line
	for {
		cut := more + len(b)
		if keep > 0 {
			cut -= next[keep-1]
		}
		note := []byte("\x85 (" + group(cut) + " more characters)")
		notes, _ = wrap(notes[:0], nil, note, units(w, f.pt), &d.cw[italic], nf)
		k := min(total, max(n-len(notes), 0))
		if k == keep {
			break
		}
		keep = k
	}
	return append(ls[:first+keep], notes...)
}

// height is the height of lines ls.
func height(ls []line) float64 {
	h := 0.0
	for _, l := range ls {
		h += lineH(l.f.pt)
	}
	return h
}

// lineH is the height of a line of text of pt points.
func lineH(pt float64) float64 { return pt * ptMM * 1.22 }

// group formats n with thousands separators: 1,234,567.
func group(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
