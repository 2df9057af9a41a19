package ds

import (
	"bytes"
	"encoding/xml"
	"strings"
	"unicode/utf8"
)

// The scanner behind Skip, also used by Token for start tags and by
// PlainText, SkipText and AppendText for character data.
//
// Tokenizing with encoding/xml costs an allocation or more per token;
// Open, which skips every component, spent nearly all its time there. The
// scanner instead walks the bytes in the byteReader's buffer, tracking only
// the raw names of the open elements, and consumes them behind the back of
// the xml.Decoder. That is safe because the xml.Decoder reads through the
// byteReader one byte at a time (no buffering of its own), RawToken keeps
// no element stack, and, between tokens, it holds no byte read ahead, with
// two exceptions that scannable rules out: after text it holds the '<'
// that ended it, and after a self-closing start tag it owes the
// EndElement.
//
// The scanner accepts only what encoding/xml's RawToken accepts (it is
// written after RawToken's code). Whatever it does not handle itself -
// processing instructions, declarations (DOCTYPE), names that are not
// ASCII, a reference or character it doubts, a token that reaches the
// size limit, the end of the input, a mismatched end tag, too deep a
// nesting - it leaves to Decoder.token: it rewinds to the start of the
// token (the buffer keeps the whole current token) and tokenizes that one
// token, so errors are exactly those of the token-based Skip, at the same
// positions. Then it carries on scanning.
//
// x's InputOffset and InputPos do not count the bytes the scanner
// consumed; Decoder.inputOffset and inputPos correct them.

// scanSkip enables the scanner (tests turn it off to compare).
var scanSkip = true

type scanFrame struct {
	end  int // end of the element's raw name in Decoder.scanNames
	line int // line of its start tag
}

// Byte classes.
const (
	cNL    = 1 << iota // '\n'
	cLT                // '<'
	cAmp               // '&'
	cGT                // '>'
	cQuote             // '"' or '\''
	cRSB               // ']'
	cBad               // a control character XML does not allow
	cHigh              // part of a multi-byte UTF-8 sequence

	textMask  = cNL | cLT | cAmp | cGT | cBad | cHigh
	attrMask  = cNL | cLT | cAmp | cQuote | cBad | cHigh
	cdataMask = cNL | cRSB | cBad | cHigh
)

var (
	byteClass [256]uint8
	nameByte  [256]bool // encoding/xml's isNameByte
	nameStart [256]bool // the ASCII characters a name may start with
)

func init() {
	for c := range 256 {
		switch {
		case c == '\n':
			byteClass[c] = cNL
		case c == '<':
			byteClass[c] = cLT
		case c == '&':
			byteClass[c] = cAmp
		case c == '>':
			byteClass[c] = cGT
		case c == '"' || c == '\'':
			byteClass[c] = cQuote
		case c == ']':
			byteClass[c] = cRSB
		case c < 0x20 && c != '\t' && c != '\r':
			byteClass[c] = cBad
		case c >= utf8.RuneSelf:
			byteClass[c] = cHigh
		}
		nameStart[c] = 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_' || c == ':'
		nameByte[c] = nameStart[c] || '0' <= c && c <= '9' || c == '.' || c == '-'
	}
}

// scannable reports whether the xml.Decoder is between tokens with no
// input read ahead and no EndElement owed, so that the scanner may take
// over.
func (d *Decoder) scannable() bool {
	b := d.br
	if d.failed || b.hitLimit || b.off != d.x.InputOffset()+d.fast {
		// An error (x returns it again; x ends text at the size limit
		// as at the end of input, and fails only on the next token), or
		// text ended by a '<' x holds.
		return false
	}
	if d.lastStart {
		// A start tag ends with "/>" when self-closing: x then owes the
		// EndElement. Its last bytes are still in the buffer, unless
		// the buffer was just refilled.
		return b.pos >= 2 && b.buf[b.pos-1] == '>' && b.buf[b.pos-2] != '/'
	}
	return true
}

type scanner struct {
	d    *Decoder
	b    *byteReader
	buf  []byte // b.buf[:b.end]
	base int64  // offset of buf[0] in decoder coordinates
	// The current token starts at buf[ts] (== b.pos: b.off is its
	// offset) and may not read buf[lim] or beyond (MaxTokenSize).
	ts, lim int
	end     int // min(len(buf), lim)

	line      int   // line of the scan position
	lineStart int64 // offset where that line starts
}

// fill reads more input, compacting the buffer to the current token
// first (or growing it). It returns by how much it moved the buffer's
// contents down, and whether it read anything.
func (s *scanner) fill() (shift int, ok bool) {
	b := s.b
	if b.err != nil {
		return 0, false
	}
	if shift = s.ts; shift > 0 {
		b.end = copy(b.buf, b.buf[shift:b.end])
		b.pos = 0
		s.ts = 0
		s.lim -= shift
		s.base += int64(shift)
	} else if b.end == len(b.buf) {
		// A token longer than the buffer: the limit bounds it.
		n := min(2*len(b.buf), MaxTokenSize+2)
		if n <= len(b.buf) {
			n = 2 * len(b.buf)
		}
		nb := make([]byte, n)
		copy(nb, b.buf[:b.end])
		b.buf = nb
	}
	n, err := b.r.Read(b.buf[b.end:])
	for n == 0 && err == nil {
		n, err = b.r.Read(b.buf[b.end:])
	}
	b.end += n
	if err != nil {
		b.err = err
	}
	s.buf = b.buf[:b.end]
	s.end = min(len(s.buf), s.lim)
	return shift, n > 0
}

// ensure makes buf[i:i+n] available, within the token's size limit. It
// returns i adjusted for any move of the buffer, or -1 if it cannot (at
// the end of the input, on a read error, or at the token size limit).
//
// Every function below returns -1 when the token is to be left to the
// tokenizer, which needs only s.ts.
func (s *scanner) ensure(i, n int) int {
	if i+n > s.end {
		return s.ensureMore(i, n)
	}
	return i
}

func (s *scanner) ensureMore(i, n int) int {
	if i < 0 || i+n > s.lim {
		return -1
	}
	for i+n > len(s.buf) {
		shift, ok := s.fill()
		i -= shift
		if !ok {
			return -1
		}
	}
	return i
}

func (s *scanner) newline(i int) {
	s.line++
	s.lineStart = s.base + int64(i) + 1
}

func (s *scanner) commit(i int) {
	s.b.off += int64(i - s.b.pos)
	s.b.pos = i
	s.ts = i
}

// scan skips content until the element at depth depth is closed, or until
// it has handed one token to Decoder.token.
func (d *Decoder) scan(depth int) error {
	b := d.br
	s := scanner{d: d, b: b, buf: b.buf[:b.end], base: b.off - int64(b.pos), ts: b.pos}
	line, col := d.inputPos()
	s.line, s.lineStart = line, d.inputOffset()-int64(col-1)
	// After text, x would hold the '<' that ended it, which would not
	// count towards the next token's size (SkipText may have left that
	// bonus for the first token).
	bonus := int(d.limitBonus)
	d.limitBonus = 0
	for {
		tokBonus := bonus
		s.lim = s.ts + bonus + MaxTokenSize
		s.end = min(len(s.buf), s.lim)
		tsLine, tsLineStart := s.line, s.lineStart
		i := s.ensure(s.ts, 2)
		if i < 0 {
			goto tokenize
		}
		if s.buf[i] != '<' {
			if i = s.text(i); i < 0 {
				goto tokenize
			}
			s.commit(i)
			bonus = 1
			continue
		}
		bonus = 0
		switch s.buf[i+1] {
		case '/':
			var n int
			if i, n = s.endTag(i + 2); i < 0 {
				goto tokenize
			}
			name := s.buf[s.ts+2 : s.ts+2+n]
			if k := len(d.scanFrames); k > 0 {
				start := 0
				if k > 1 {
					start = d.scanFrames[k-2].end
				}
				if string(d.scanNames[start:d.scanFrames[k-1].end]) != string(name) {
					goto tokenize
				}
				d.scanNames = d.scanNames[:start]
				d.scanFrames = d.scanFrames[:k-1]
				s.commit(i)
				continue
			}
			if !rawNameIs(d.stack[len(d.stack)-1].raw, name) {
				goto tokenize
			}
			d.pop()
			if len(d.stack) >= depth {
				s.commit(i)
				continue
			}
			// Done. Leave things as the token-based Skip would.
			d.tokOffset = s.base + int64(s.ts)
			d.tokLine, d.tokCol = tsLine, int(d.tokOffset-tsLineStart)+1
			s.commit(i)
			d.setFast(s.base+int64(i), s.line, s.lineStart)
			d.lastStart = false
			return nil
		case '!':
			if i = s.bang(i); i < 0 {
				goto tokenize
			}
			s.commit(i)
			continue
		case '?':
			goto tokenize
		default:
			var n int
			var empty bool
			if i, n, empty = s.startTag(i + 1); i < 0 {
				goto tokenize
			}
			if len(d.stack)+len(d.scanFrames) >= MaxDepth {
				goto tokenize
			}
			if !empty {
				d.scanNames = append(d.scanNames, s.buf[s.ts+1:s.ts+1+n]...)
				d.scanFrames = append(d.scanFrames, scanFrame{end: len(d.scanNames), line: tsLine})
			}
			s.commit(i)
			continue
		}
	tokenize:
		// Hand the token at ts to the tokenizer, with the elements the
		// scanner opened.
		d.setFast(s.base+int64(s.ts), tsLine, tsLineStart)
		start := 0
		for _, f := range d.scanFrames {
			d.stack = append(d.stack, frame{raw: splitName(string(d.scanNames[start:f.end])), nsMark: len(d.ns), line: f.line})
			start = f.end
		}
		d.scanNames, d.scanFrames = d.scanNames[:0], d.scanFrames[:0]
		d.limitBonus = int64(tokBonus)
		_, err := d.token(false)
		return err
	}
}

// splitName splits a raw qualified name as encoding/xml does.
func splitName(s string) xml.Name {
	if space, local, ok := strings.Cut(s, ":"); ok && space != "" && local != "" {
		return xml.Name{Space: space, Local: local}
	}
	return xml.Name{Local: s}
}

// rawNameIs reports whether n is the raw name written as name.
func rawNameIs(n xml.Name, name []byte) bool {
	if n.Space == "" {
		return string(name) == n.Local
	}
	return len(name) == len(n.Space)+1+len(n.Local) &&
		string(name[:len(n.Space)]) == n.Space && name[len(n.Space)] == ':' &&
		string(name[len(n.Space)+1:]) == n.Local
}

// name scans a name at buf[i], which must be ASCII, and returns the index
// after it.
func (s *scanner) name(i int) int {
	if i = s.ensure(i, 1); i < 0 || !nameStart[s.buf[i]] {
		return -1
	}
	start := i - s.ts
	for {
		buf := s.buf[:s.end]
		for i < len(buf) && nameByte[buf[i]] {
			i++
		}
		if i < len(buf) {
			break
		}
		if i = s.ensure(i, 1); i < 0 {
			return -1
		}
	}
	// A multi-byte character in the name needs encoding/xml's tables;
	// more than one colon is an error.
	if s.buf[i] >= utf8.RuneSelf || bytes.Count(s.buf[s.ts+start:i], colon) > 1 {
		return -1
	}
	return i
}

var colon = []byte{':'}

// space skips white space at buf[i] and returns the index of the first
// other byte, which is available.
func (s *scanner) space(i int) int {
	for {
		buf := s.buf[:s.end]
	loop:
		for ; i < len(buf); i++ {
			switch buf[i] {
			case '\n':
				s.newline(i)
			case ' ', '\t', '\r':
			default:
				break loop
			}
		}
		if i < len(buf) {
			return i
		}
		if i = s.ensure(i, 1); i < 0 {
			return -1
		}
	}
}

// endTag scans an end tag from its name at buf[i] (== buf[ts+2]); it
// returns the index after it and the length of the name.
func (s *scanner) endTag(i int) (int, int) {
	if i = s.name(i); i < 0 {
		return -1, 0
	}
	n := i - s.ts - 2
	if i = s.space(i); i < 0 || s.buf[i] != '>' {
		return -1, 0
	}
	return i + 1, n
}

// startTag scans a start tag from its name at buf[i] (== buf[ts+1]); it
// returns the index after it, the length of the name, and whether the
// tag is self-closing.
func (s *scanner) startTag(i int) (int, int, bool) {
	if i = s.name(i); i < 0 {
		return -1, 0, false
	}
	n := i - s.ts - 1
	for {
		if i = s.space(i); i < 0 {
			return -1, 0, false
		}
		switch s.buf[i] {
		case '>':
			return i + 1, n, false
		case '/':
			if i = s.ensure(i, 2); i < 0 || s.buf[i+1] != '>' {
				return -1, 0, false
			}
			return i + 2, n, true
		}
		// An attribute.
		if i = s.name(i); i < 0 {
			return -1, 0, false
		}
		if i = s.space(i); i < 0 || s.buf[i] != '=' {
			return -1, 0, false
		}
		if i = s.space(i + 1); i < 0 {
			return -1, 0, false
		}
		q := s.buf[i]
		if q != '"' && q != '\'' {
			return -1, 0, false
		}
		if i = s.attrValue(i+1, q); i < 0 {
			return -1, 0, false
		}
	}
}

// attrValue scans a quoted attribute value from buf[i] and returns the
// index after the closing quote q.
func (s *scanner) attrValue(i int, q byte) int {
	for {
		buf := s.buf[:s.end]
		for i < len(buf) && byteClass[buf[i]]&attrMask == 0 {
			i++
		}
		if i == len(buf) {
			if i = s.ensure(i, 1); i < 0 {
				return -1
			}
			continue
		}
		switch c := buf[i]; byteClass[c] {
		case cQuote:
			i++
			if c == q {
				return i
			}
		case cNL:
			s.newline(i)
			i++
		case cAmp:
			if i = s.reference(i); i < 0 {
				return -1
			}
		case cHigh:
			if i = s.char(i); i < 0 {
				return -1
			}
		default: // '<', or a control character
			return -1
		}
	}
}

// text scans character data from buf[i] and returns the index of the '<'
// that ends it. At the end of the input, it lets the tokenizer end the
// text.
func (s *scanner) text(i int) int {
	for {
		buf := s.buf[:s.end]
		for i < len(buf) && byteClass[buf[i]]&textMask == 0 {
			i++
		}
		if i == len(buf) {
			if i = s.ensure(i, 1); i < 0 {
				return -1
			}
			continue
		}
		switch byteClass[buf[i]] {
		case cLT:
			return i
		case cNL:
			s.newline(i)
			i++
		case cGT:
			if i-2 >= s.ts && buf[i-1] == ']' && buf[i-2] == ']' {
				return -1 // "]]>" outside CDATA
			}
			i++
		case cAmp:
			if i = s.reference(i); i < 0 {
				return -1
			}
		case cHigh:
			if i = s.char(i); i < 0 {
				return -1
			}
		default:
			return -1
		}
	}
}

// char checks the multi-byte UTF-8 character at buf[i] and returns the
// index after it.
func (s *scanner) char(i int) int {
	if !utf8.FullRune(s.buf[i:s.end]) {
		// Near the end of the input or the token, leave it to the
		// tokenizer.
		if i = s.ensure(i, utf8.UTFMax); i < 0 {
			return -1
		}
	}
	r, n := utf8.DecodeRune(s.buf[i:s.end])
	if r == utf8.RuneError && n == 1 || r == 0xFFFE || r == 0xFFFF {
		return -1
	}
	return i + n
}

// reference checks the entity or character reference at buf[i] ('&')
// as encoding/xml does in strict mode, and returns the index after it.
func (s *scanner) reference(i int) int {
	if i = s.ensure(i, 4); i < 0 {
		return -1
	}
	switch s.buf[i+1] {
	case 'l', 'g':
		if s.buf[i+2] == 't' && s.buf[i+3] == ';' {
			return i + 4
		}
		return -1
	case 'a', 'q':
		if i = s.ensure(i, 5); i < 0 {
			return -1
		}
		if string(s.buf[i+1:i+5]) == "amp;" {
			return i + 5
		}
		if i = s.ensure(i, 6); i < 0 {
			return -1
		}
		if e := string(s.buf[i+1 : i+6]); e == "apos;" || e == "quot;" {
			return i + 6
		}
		return -1
	case '#':
	default:
		return -1
	}
	// A character reference: as many digits as come, a ';', and a value
	// that makes a character XML allows. encoding/xml turns a surrogate
	// into U+FFFD, which it allows.
	i += 2
	base := rune(10)
	if s.buf[i] == 'x' {
		base = 16
		i++
	}
	var r rune
	digits := 0
	for {
		if i = s.ensure(i, 1); i < 0 {
			return -1
		}
		c := s.buf[i]
		var v rune
		switch {
		case '0' <= c && c <= '9':
			v = rune(c - '0')
		case base == 16 && 'a' <= c && c <= 'f':
			v = rune(c-'a') + 10
		case base == 16 && 'A' <= c && c <= 'F':
			v = rune(c-'A') + 10
		default:
			if c != ';' || digits == 0 || r > utf8.MaxRune ||
				!isInCharacterRange(r) && !(0xD800 <= r && r <= 0xDFFF) {
				return -1
			}
			return i + 1
		}
		if r <= utf8.MaxRune {
			r = r*base + v
		}
		digits++
		i++
	}
}

// isInCharacterRange is encoding/xml's.
func isInCharacterRange(r rune) bool {
	return r == 0x09 ||
		r == 0x0A ||
		r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// bang scans a comment or a CDATA section at buf[i] ("<!") and returns
// the index after it. Declarations (DOCTYPE and the like) are left to the
// tokenizer, which refuses them.
func (s *scanner) bang(i int) int {
	if i = s.ensure(i, 4); i < 0 {
		return -1
	}
	if s.buf[i+2] == '-' && s.buf[i+3] == '-' {
		return s.comment(i + 4)
	}
	if i = s.ensure(i, 9); i < 0 || string(s.buf[i+2:i+9]) != "[CDATA[" {
		return -1
	}
	return s.cdata(i + 9)
}

// comment scans the rest of a comment from buf[i]: up to the first "--",
// which must be followed by '>'. encoding/xml does not check the
// characters of comments.
func (s *scanner) comment(i int) int {
	for {
		buf := s.buf[:s.end]
		for i < len(buf) && buf[i] != '-' && buf[i] != '\n' {
			i++
		}
		if i == len(buf) {
			if i = s.ensure(i, 1); i < 0 {
				return -1
			}
			continue
		}
		if buf[i] == '\n' {
			s.newline(i)
			i++
			continue
		}
		if i = s.ensure(i, 2); i < 0 {
			return -1
		}
		if s.buf[i+1] != '-' {
			i++
			continue
		}
		if i = s.ensure(i, 3); i < 0 || s.buf[i+2] != '>' {
			return -1
		}
		return i + 3
	}
}

// cdata scans the rest of a CDATA section from buf[i], up to the first
// "]]>".
func (s *scanner) cdata(i int) int {
	for {
		buf := s.buf[:s.end]
		for i < len(buf) && byteClass[buf[i]]&cdataMask == 0 {
			i++
		}
		if i == len(buf) {
			if i = s.ensure(i, 1); i < 0 {
				return -1
			}
			continue
		}
		switch byteClass[buf[i]] {
		case cNL:
			s.newline(i)
			i++
		case cRSB:
			if i = s.ensure(i, 3); i < 0 {
				return -1
			}
			if s.buf[i+1] == ']' && s.buf[i+2] == '>' {
				return i + 3
			}
			i++
		case cHigh:
			if i = s.char(i); i < 0 {
				return -1
			}
		default:
			return -1
		}
	}
}

// PlainText reads the rest of the element whose start tag Token just
// returned when its content is character data alone, without references
// or carriage returns (a title, a reference, an ident): it returns that
// text as Token would have, consumes the end tag, and reports ok. For any
// other content (child elements, comments, CDATA sections, references)
// it consumes nothing and reports !ok; the caller then reads the content
// with Token. It uses the scanner behind Skip, so it accepts and rejects
// exactly what tokenizing would; an error is reported as Token reports it.
func (d *Decoder) PlainText() (text string, ok bool, err error) {
	if !scanSkip || !d.lastStart || len(d.stack) == 0 || len(d.scanFrames) > 0 || !d.scannable() {
		return "", false, nil
	}
	b := d.br
	s := scanner{d: d, b: b, buf: b.buf[:b.end], base: b.off - int64(b.pos), ts: b.pos}
	line, col := d.inputPos()
	s.line, s.lineStart = line, d.inputOffset()-int64(col-1)
	s.lim = s.ts + MaxTokenSize
	s.end = min(len(s.buf), s.lim)
	i := s.ensure(s.ts, 2)
	if i < 0 {
		return "", false, nil
	}
	if s.buf[i] != '<' {
		if i = s.text(i); i < 0 {
			return "", false, nil
		}
	}
	// i is the '<' after the text: it must start the end tag.
	if i = s.ensure(i, 2); i < 0 || s.buf[i+1] != '/' {
		return "", false, nil
	}
	raw := s.buf[s.ts:i]
	if bytes.IndexByte(raw, '&') >= 0 || bytes.IndexByte(raw, '\r') >= 0 {
		return "", false, nil
	}
	text = string(raw)
	// The text is taken; the end tag is a token of its own, whose size
	// counts the '<' as after any text (see scan).
	s.commit(i)
	s.lim = s.ts + 1 + MaxTokenSize
	s.end = min(len(s.buf), s.lim)
	tsLine, tsLineStart := s.line, s.lineStart
	j, n := s.endTag(s.ts + 2)
	if j < 0 || !rawNameIs(d.stack[len(d.stack)-1].raw, s.buf[s.ts+2:s.ts+2+n]) {
		d.setFast(s.base+int64(s.ts), tsLine, tsLineStart)
		d.limitBonus = 1
		_, err := d.token(true)
		return text, true, err
	}
	d.pop()
	d.tokOffset = s.base + int64(s.ts)
	d.tokLine, d.tokCol = tsLine, int(d.tokOffset-tsLineStart)+1
	s.commit(j)
	d.setFast(s.base+int64(j), s.line, s.lineStart)
	d.lastStart = false
	return text, true, nil
}

// AppendText consumes the character data up to the next markup and
// appends it to dst, when the scanner can read it (see Skip) and it holds
// no reference or carriage return (so that its bytes are the text Token
// would return). Otherwise, or when markup comes next, it consumes
// nothing and returns dst and false; the next Token reads what follows.
func (d *Decoder) AppendText(dst []byte) ([]byte, bool) {
	if !scanSkip || len(d.stack) == 0 || len(d.scanFrames) > 0 || !d.scannable() {
		return dst, false
	}
	b := d.br
	s := scanner{d: d, b: b, buf: b.buf[:b.end], base: b.off - int64(b.pos), ts: b.pos}
	line, col := d.inputPos()
	s.line, s.lineStart = line, d.inputOffset()-int64(col-1)
	s.lim = s.ts + MaxTokenSize
	s.end = min(len(s.buf), s.lim)
	i := s.ensure(s.ts, 1)
	if i < 0 || s.buf[i] == '<' {
		return dst, false
	}
	if i = s.text(i); i < 0 {
		return dst, false
	}
	raw := s.buf[s.ts:i]
	if bytes.IndexByte(raw, '&') >= 0 || bytes.IndexByte(raw, '\r') >= 0 {
		return dst, false
	}
	dst = append(dst, raw...)
	s.commit(i)
	d.setFast(s.base+int64(i), s.line, s.lineStart)
	d.limitBonus = 1 // as after SkipText
	d.lastStart = false
	return dst, true
}

// SkipText consumes the character data up to the next markup, when the
// scanner can read it (see Skip), for a caller that ignores the text
// between elements (the white space that indents them). It checks the
// text as Token would, and leaves anything it cannot vouch for to the
// next Token, which then returns that text as usual.
func (d *Decoder) SkipText() {
	if !scanSkip || len(d.stack) == 0 || len(d.scanFrames) > 0 || !d.scannable() {
		return
	}
	b := d.br
	s := scanner{d: d, b: b, buf: b.buf[:b.end], base: b.off - int64(b.pos), ts: b.pos}
	line, col := d.inputPos()
	s.line, s.lineStart = line, d.inputOffset()-int64(col-1)
	s.lim = s.ts + MaxTokenSize
	s.end = min(len(s.buf), s.lim)
	i := s.ensure(s.ts, 1)
	if i < 0 || s.buf[i] == '<' {
		return
	}
	if i = s.text(i); i < 0 {
		return
	}
	s.commit(i)
	d.setFast(s.base+int64(i), s.line, s.lineStart)
	// Tokenized, the text would have taken the '<' that ends it, which
	// then does not count towards the tag's size (see scan).
	d.limitBonus = 1
	d.lastStart = false
}

// startTag reads the start tag at the input with the scanner, when it can
// and its attribute values hold no reference or carriage return (so that
// their bytes are their values): it returns the tag as RawToken would and
// true, or false having consumed nothing. A self-closing tag leaves its
// EndElement owed (Decoder.owedEnd), as RawToken does. Tokenizing a start
// tag is most of the cost of decoding SCAP content: its name and each
// attribute are read a rune at a time.
func (d *Decoder) startTag() (xml.StartElement, bool) {
	b := d.br
	s := scanner{d: d, b: b, buf: b.buf[:b.end], base: b.off - int64(b.pos), ts: b.pos}
	line, col := d.inputPos()
	s.line, s.lineStart = line, d.inputOffset()-int64(col-1)
	s.lim = s.ts + int(b.limit-b.off) // the limit token set
	s.end = min(len(s.buf), s.lim)
	i := s.ensure(s.ts, 2)
	if i < 0 || s.buf[i] != '<' || !nameStart[s.buf[i+1]] {
		return xml.StartElement{}, false
	}
	j, n, empty := s.startTag(i + 1)
	if j < 0 {
		return xml.StartElement{}, false
	}
	tag := s.buf[s.ts:j]
	if bytes.IndexByte(tag, '&') >= 0 || bytes.IndexByte(tag, '\r') >= 0 {
		return xml.StartElement{}, false
	}
	se := xml.StartElement{Name: d.internName(tag[1 : 1+n])}
	// The syntax is checked: name, then (space, name, '=', quoted value)*.
	k := 1 + n
	for {
		for k < len(tag) && isSpaceByte(tag[k]) {
			k++
		}
		if tag[k] == '/' || tag[k] == '>' {
			break
		}
		start := k
		for nameByte[tag[k]] {
			k++
		}
		name := d.internName(tag[start:k])
		for tag[k] != '=' {
			k++
		}
		k++
		for isSpaceByte(tag[k]) {
			k++
		}
		q := tag[k]
		k++
		end := k + bytes.IndexByte(tag[k:], q)
		se.Attr = append(se.Attr, xml.Attr{Name: name, Value: string(tag[k:end])})
		k = end + 1
	}
	if empty {
		d.owedEnd, d.hasOwedEnd = se.Name, true
	}
	s.commit(j)
	d.setFast(s.base+int64(j), s.line, s.lineStart)
	return se, true
}

// internName splits a raw qualified name as RawToken does. A document's
// vocabulary is small: the names are kept (up to maxNames of them) and
// handed out again instead of being allocated for every tag.
func (d *Decoder) internName(raw []byte) xml.Name {
	if n, ok := d.names[string(raw)]; ok {
		return n
	}
	n := splitName(string(raw))
	if len(d.names) < maxNames {
		if d.names == nil {
			d.names = map[string]xml.Name{}
		}
		d.names[string(raw)] = n
	}
	return n
}

// maxNames bounds Decoder.names.
const maxNames = 1024

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
