package pdfsign

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// The PDF object model (ISO 32000-1 §7.3), as much of it as signing needs.
// An object is one of:
//
//	nil      null
//	bool     boolean
//	int64    integer
//	realNum  any other number, kept as written
//	name     name, #xx escapes decoded
//	str      string (literal or hexadecimal), escapes decoded
//	array    array
//	dict     dictionary, in file order
//	ref      indirect reference
//
// Streams are never needed as values: only their dictionaries are read.
type object = any

type (
	realNum string
	name    string
	str     []byte
	array   []object
	dict    []entry
	ref     struct{ num, gen int }
)

// entry is one key of a dictionary. off and end are the byte span of the
// value in the parsed input: Verify needs to know exactly where the
// /Contents string of a signature is.
type entry struct {
	key      name
	val      object
	off, end int
}

// get returns the value of the first entry named key, or nil (PDF's null:
// a missing key and a null value mean the same).
func (d dict) get(key name) object {
	if e := d.entry(key); e != nil {
		return e.val
	}
	return nil
}

func (d dict) entry(key name) *entry {
	for i := range d {
		if d[i].key == key {
			return &d[i]
		}
	}
	return nil
}

// with returns a copy of d with key set to val (replacing every entry
// named key, or appended at the end).
func (d dict) with(key name, val object) dict {
	out := make(dict, 0, len(d)+1)
	set := false
	for _, e := range d {
		if e.key == key {
			if set {
				continue
			}
			e = entry{key: key, val: val}
			set = true
		}
		out = append(out, e)
	}
	if !set {
		out = append(out, entry{key: key, val: val})
	}
	return out
}

const (
	maxDepth  = 64        // nesting of arrays and dictionaries
	maxObjNum = 1 << 23   // PDF's own limit on indirect objects is 8,388,607
	maxGen    = 65535     // largest generation number
	maxOffset = 1<<31 - 1 // files up to 2 GiB, and int is large enough everywhere
)

var errEOF = errors.New("unexpected end of data")

// A parser reads objects from b, starting at pos. Offsets in errors and
// in dict entries are offsets into b.
type parser struct {
	b     []byte
	pos   int
	depth int
}

func isSpace(c byte) bool {
	switch c {
	case 0, '\t', '\n', '\f', '\r', ' ':
		return true
	}
	return false
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func isRegular(c byte) bool { return !isSpace(c) && !isDelim(c) }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// skipSpace skips white space and comments.
func (p *parser) skipSpace() {
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		if c == '%' {
			for p.pos < len(p.b) && p.b[p.pos] != '\n' && p.b[p.pos] != '\r' {
				p.pos++
			}
			continue
		}
		if !isSpace(c) {
			return
		}
		p.pos++
	}
}

// word returns the run of regular characters at pos (a keyword or a
// number) and moves past it.
func (p *parser) word() []byte {
	start := p.pos
	for p.pos < len(p.b) && isRegular(p.b[p.pos]) {
		p.pos++
	}
	return p.b[start:p.pos]
}

// keyword skips space and reports whether the next token is the keyword
// kw, consuming it if so.
func (p *parser) keyword(kw string) bool {
	p.skipSpace()
	save := p.pos
	if string(p.word()) == kw {
		return true
	}
	p.pos = save
	return false
}

// uint reads an unsigned decimal integer of at most limit, as used by
// cross-reference tables and object headers.
func (p *parser) uint(limit int) (int, error) {
	p.skipSpace()
	start := p.pos
	w := p.word()
	if len(w) == 0 {
		if p.pos >= len(p.b) {
			return 0, errEOF
		}
		return 0, fmt.Errorf("expected a number at offset %d", start)
	}
	n := 0
	for _, c := range w {
		if !isDigit(c) {
			return 0, fmt.Errorf("expected a number at offset %d, found %q", start, clip(w))
		}
		n = n*10 + int(c-'0')
		if n > limit {
			return 0, fmt.Errorf("number at offset %d is too large", start)
		}
	}
	return n, nil
}

// clip shortens b for error messages.
func clip(b []byte) []byte {
	if len(b) > 20 {
		return b[:20]
	}
	return b
}

// object parses one object at pos.
func (p *parser) object() (object, error) {
	p.skipSpace()
	if p.pos >= len(p.b) {
		return nil, errEOF
	}
	switch c := p.b[p.pos]; {
	case c == '/':
		return p.name(), nil
	case c == '(':
		return p.literal()
	case c == '<':
		if p.pos+1 < len(p.b) && p.b[p.pos+1] == '<' {
			return p.dict()
		}
		return p.hex()
	case c == '[':
		return p.array()
	case c == '+' || c == '-' || c == '.' || isDigit(c):
		return p.number()
	case isRegular(c):
		start := p.pos
		switch w := p.word(); string(w) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		default:
			return nil, fmt.Errorf("unexpected %q at offset %d", clip(w), start)
		}
	default:
		return nil, fmt.Errorf("unexpected %q at offset %d", c, p.pos)
	}
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return fmt.Errorf("objects nested more than %d deep at offset %d", maxDepth, p.pos)
	}
	return nil
}

func (p *parser) dict() (object, error) {
	start := p.pos
	p.pos += 2 // <<
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	var d dict
	for {
		p.skipSpace()
		if p.pos >= len(p.b) {
			return nil, fmt.Errorf("dictionary at offset %d: %w", start, errEOF)
		}
		if p.b[p.pos] == '>' {
			if p.pos+1 < len(p.b) && p.b[p.pos+1] == '>' {
				p.pos += 2
				return d, nil
			}
			return nil, fmt.Errorf("dictionary at offset %d: stray '>' at offset %d", start, p.pos)
		}
		if p.b[p.pos] != '/' {
			return nil, fmt.Errorf("dictionary at offset %d: key at offset %d is not a name", start, p.pos)
		}
		k := p.name()
		p.skipSpace()
		off := p.pos
		v, err := p.object()
		if err != nil {
			return nil, fmt.Errorf("dictionary at offset %d, key /%s: %w", start, k, err)
		}
		d = append(d, entry{key: k, val: v, off: off, end: p.pos})
	}
}

func (p *parser) array() (object, error) {
	start := p.pos
	p.pos++ // [
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	a := array{}
	for {
		p.skipSpace()
		if p.pos >= len(p.b) {
			return nil, fmt.Errorf("array at offset %d: %w", start, errEOF)
		}
		if p.b[p.pos] == ']' {
			p.pos++
			return a, nil
		}
		v, err := p.object()
		if err != nil {
			return nil, fmt.Errorf("array at offset %d: %w", start, err)
		}
		a = append(a, v)
	}
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (p *parser) name() name {
	p.pos++ // /
	var n []byte
	for p.pos < len(p.b) && isRegular(p.b[p.pos]) {
		c := p.b[p.pos]
		p.pos++
		if c == '#' && p.pos+1 < len(p.b) {
			hi, ok1 := unhex(p.b[p.pos])
			lo, ok2 := unhex(p.b[p.pos+1])
			if ok1 && ok2 {
				c = hi<<4 | lo
				p.pos += 2
			}
		}
		n = append(n, c)
	}
	return name(n)
}

func (p *parser) hex() (object, error) {
	start := p.pos
	p.pos++ // <
	s := str{}
	var hi byte
	odd := false
	for ; p.pos < len(p.b); p.pos++ {
		c := p.b[p.pos]
		if c == '>' {
			p.pos++
			if odd {
				s = append(s, hi<<4)
			}
			return s, nil
		}
		if isSpace(c) {
			continue
		}
		v, ok := unhex(c)
		if !ok {
			return nil, fmt.Errorf("hexadecimal string at offset %d: bad character %q at offset %d", start, c, p.pos)
		}
		if odd {
			s = append(s, hi<<4|v)
		} else {
			hi = v
		}
		odd = !odd
	}
	return nil, fmt.Errorf("hexadecimal string at offset %d: %w", start, errEOF)
}

func (p *parser) literal() (object, error) {
	start := p.pos
	p.pos++ // (
	s := str{}
	depth := 1
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		p.pos++
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return s, nil
			}
		case '\r': // an end of line in a string is read as \n
			if p.pos < len(p.b) && p.b[p.pos] == '\n' {
				p.pos++
			}
			c = '\n'
		case '\\':
			if p.pos >= len(p.b) {
				continue
			}
			c = p.b[p.pos]
			p.pos++
			switch c {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r': // line continuation
				if p.pos < len(p.b) && p.b[p.pos] == '\n' {
					p.pos++
				}
				continue
			case '\n':
				continue
			case '0', '1', '2', '3', '4', '5', '6', '7':
				v := c - '0'
				for i := 0; i < 2 && p.pos < len(p.b) && '0' <= p.b[p.pos] && p.b[p.pos] <= '7'; i++ {
					v = v<<3 | (p.b[p.pos] - '0')
					p.pos++
				}
				c = v
			}
			// Any other escaped character stands for itself.
		}
		s = append(s, c)
	}
	return nil, fmt.Errorf("string at offset %d: %w", start, errEOF)
}

// number parses an integer or a real; a non-negative integer followed by
// another and R is an indirect reference.
func (p *parser) number() (object, error) {
	start := p.pos
	w := p.word()
	digits, dots := 0, 0
	for i, c := range w {
		switch {
		case isDigit(c):
			digits++
		case c == '.':
			dots++
		case (c == '+' || c == '-') && i == 0:
		default:
			return nil, fmt.Errorf("bad number %q at offset %d", clip(w), start)
		}
	}
	if digits == 0 || dots > 1 {
		return nil, fmt.Errorf("bad number %q at offset %d", clip(w), start)
	}
	if dots == 1 {
		return realNum(w), nil
	}
	n, err := strconv.ParseInt(string(w), 10, 64)
	if err != nil {
		return realNum(w), nil // out of int64 range: keep it as written
	}
	if isDigit(w[0]) && n <= maxObjNum {
		if r, ok := p.refTail(int(n)); ok {
			return r, nil
		}
	}
	return n, nil
}

// refTail completes "num gen R" after num, or leaves pos alone.
func (p *parser) refTail(num int) (ref, bool) {
	save := p.pos
	p.skipSpace()
	gen, err := p.uint(maxGen)
	if err == nil && p.keyword("R") {
		return ref{num, gen}, true
	}
	p.pos = save
	return ref{}, false
}

// indirect parses "num gen obj object" at pos.
func (p *parser) indirect() (ref, object, error) {
	start := p.pos
	num, err := p.uint(maxObjNum)
	if err != nil {
		return ref{}, nil, fmt.Errorf("object header at offset %d: %w", start, err)
	}
	gen, err := p.uint(maxGen)
	if err != nil {
		return ref{}, nil, fmt.Errorf("object header at offset %d: %w", start, err)
	}
	if !p.keyword("obj") {
		return ref{}, nil, fmt.Errorf("object header at offset %d: no \"obj\" keyword", start)
	}
	o, err := p.object()
	if err != nil {
		return ref{}, nil, fmt.Errorf("object %d %d at offset %d: %w", num, gen, start, err)
	}
	return ref{num, gen}, o, nil
}

// appendObject appends o in PDF syntax. Strings are written in
// hexadecimal, which needs no escaping and keeps their bytes exactly.
func appendObject(b []byte, o object) []byte {
	switch o := o.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, o)
	case int64:
		return strconv.AppendInt(b, o, 10)
	case int:
		return strconv.AppendInt(b, int64(o), 10)
	case realNum:
		return append(b, o...)
	case name:
		return appendName(b, o)
	case str:
		return appendHex(b, o)
	case ref:
		return fmt.Appendf(b, "%d %d R", o.num, o.gen)
	case array:
		b = append(b, '[')
		for i, v := range o {
			if i > 0 {
				b = append(b, ' ')
			}
			b = appendObject(b, v)
		}
		return append(b, ']')
	case dict:
		b = append(b, "<<"...)
		for _, e := range o {
			b = append(b, ' ')
			b = appendName(b, e.key)
			b = append(b, ' ')
			b = appendObject(b, e.val)
		}
		return append(b, " >>"...)
	}
	panic(fmt.Sprintf("pdfsign: appendObject of %T", o)) // a bug in this package
}

const hexDigits = "0123456789ABCDEF"

func appendName(b []byte, n name) []byte {
	b = append(b, '/')
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c < 0x21 || c > 0x7e || c == '#' || isDelim(c) {
			b = append(b, '#', hexDigits[c>>4], hexDigits[c&15])
			continue
		}
		b = append(b, c)
	}
	return b
}

func appendHex(b []byte, s []byte) []byte {
	b = append(b, '<')
	for _, c := range s {
		b = append(b, hexDigits[c>>4], hexDigits[c&15])
	}
	return append(b, '>')
}

// appendText appends s as a PDF text string (§7.9.2.2): a literal string
// if s is printable ASCII, otherwise UTF-16BE with a byte order mark.
func appendText(b []byte, s string) []byte {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			ascii = false
			break
		}
	}
	if !ascii {
		u := []byte{0xfe, 0xff}
		for _, r := range s {
			if r >= 0x10000 {
				r -= 0x10000
				hi, lo := 0xd800+(r>>10), 0xdc00+(r&0x3ff)
				u = append(u, byte(hi>>8), byte(hi), byte(lo>>8), byte(lo))
				continue
			}
			u = append(u, byte(r>>8), byte(r))
		}
		return appendHex(b, u)
	}
	b = append(b, '(')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '(' || c == ')' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return append(b, ')')
}

// pdfDocHigh is PDFDocEncoding 0x80 to 0xa0 (§D.2), where it differs
// from Latin-1; 0x9f is undefined.
const pdfDocHigh = "•†‡…—–ƒ⁄‹›−‰„“”‘’‚™ﬁﬂŁŒŠŸŽıłœšž\ufffd€"

// pdfDocLow is PDFDocEncoding 0x18 to 0x1f.
const pdfDocLow = "˘ˇˆ˙˝˛˚˜"

// text decodes a PDF text string: UTF-16BE or UTF-8 with a byte order
// mark, otherwise PDFDocEncoding.
func text(s []byte) string {
	switch {
	case len(s) >= 2 && s[0] == 0xfe && s[1] == 0xff:
		u := make([]rune, 0, len(s)/2)
		for i := 2; i+1 < len(s); i += 2 {
			r := rune(s[i])<<8 | rune(s[i+1])
			if 0xd800 <= r && r < 0xdc00 && i+3 < len(s) {
				lo := rune(s[i+2])<<8 | rune(s[i+3])
				if 0xdc00 <= lo && lo < 0xe000 {
					r = 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00)
					i += 2
				}
			}
			u = append(u, r)
		}
		return string(u)
	case bytes.HasPrefix(s, []byte{0xef, 0xbb, 0xbf}):
		return string(s[3:])
	}
	low, high := []rune(pdfDocLow), []rune(pdfDocHigh)
	u := make([]rune, 0, len(s))
	for _, c := range s {
		switch {
		case 0x18 <= c && c <= 0x1f:
			u = append(u, low[c-0x18])
		case 0x80 <= c && c <= 0xa0:
			u = append(u, high[c-0x80])
		default:
			u = append(u, rune(c))
		}
	}
	return string(u)
}
