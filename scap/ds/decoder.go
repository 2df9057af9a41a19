package ds

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Limits that keep hostile or broken input from costing unbounded memory.
// SCAP content is machine-generated and shallow: in the SSG 0.1.65 data
// streams no element nests more than 14 deep, no token is larger
// than 41 KB (a remediation script) and no tag has more than 17
// attributes. The limits leave ample room for real content and stop a
// crafted file early.
const (
	// MaxDepth is the deepest element nesting accepted.
	MaxDepth = 256
	// MaxTokenSize is the largest single token (a tag with its
	// attributes, a text node, a comment) accepted, in bytes. encoding/xml
	// buffers a whole token before returning it, and Skip's scanner keeps
	// the token it is in, so this bounds the memory a token can take (a
	// tag's attribute list costs up to about 16 times its size).
	MaxTokenSize = 4 << 20
)

// Namespace URIs of the languages a SCAP source data stream carries.
const (
	NSDataStream = "http://scap.nist.gov/schema/scap/source/1.2"
	NSCatalog    = "urn:oasis:names:tc:entity:xmlns:xml:catalog"
	NSXLink      = "http://www.w3.org/1999/xlink"
	NSXCCDF12    = "http://checklists.nist.gov/xccdf/1.2"
	NSXCCDF11    = "http://checklists.nist.gov/xccdf/1.1"
	NSOVALDefs   = "http://oval.mitre.org/XMLSchema/oval-definitions-5"
	NSCPEDict    = "http://cpe.mitre.org/dictionary/2.0"
	NSCPELang    = "http://cpe.mitre.org/language/2.0"
	NSOCIL       = "http://scap.nist.gov/schema/ocil/2.0"
	NSXHTML      = "http://www.w3.org/1999/xhtml"

	nsXML         = "http://www.w3.org/XML/1998/namespace"
	nsXMLNSPrefix = "xmlns"
	nsXMLPrefix   = "xml"
)

// ErrDTD is returned (wrapped in an *Error) for any DOCTYPE or markup
// declaration. SCAP content never needs one, and refusing them outright is
// the simplest complete defence against external entities (XXE) and
// entity-expansion bombs.
var ErrDTD = errors.New("DOCTYPE and entity declarations are not allowed in SCAP content")

// ErrTooDeep is returned (wrapped) when elements nest deeper than MaxDepth.
var ErrTooDeep = fmt.Errorf("elements nested deeper than %d levels", MaxDepth)

// ErrTokenTooLarge is returned (wrapped) when a single token is larger
// than MaxTokenSize.
var ErrTokenTooLarge = fmt.Errorf("a single tag or text node is larger than %d MiB", MaxTokenSize>>20)

// Error locates a problem in an XML file: the file's name, the byte offset
// and the line and column where the offending token starts.
type Error struct {
	File   string
	Offset int64
	Line   int
	Column int
	Err    error
}

func (e *Error) Error() string {
	name := e.File
	if name == "" {
		name = "<input>"
	}
	return fmt.Sprintf("%s:%d:%d (byte %d): %v", name, e.Line, e.Column, e.Offset, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Decoder reads XML tokens like encoding/xml's Decoder.Token, with the
// protections every SCAP parser needs: no DOCTYPE, bounded depth and token
// size, start and end tags checked to match, undeclared prefixes refused,
// nothing but white space and comments after the root element, and errors
// that name the file, byte offset, line and column.
//
// Element and attribute names are returned with their namespace URI in
// Space, as xml.Decoder.Token does. Namespace declarations stay in the
// attribute list (Space "xmlns", or Local "xmlns" for the default
// namespace). As with xml.Decoder, CharData, Comment and ProcInst tokens
// are only valid until the next call.
//
// Tokens come from encoding/xml, except what the byte scanner of Skip
// reads faster and vouches for (see scan.go): most start tags, and the
// text PlainText, SkipText and AppendText take. Either way the same input
// gives the same tokens, positions and errors.
type Decoder struct {
	name  string
	br    *byteReader
	x     *xml.Decoder
	stack []frame
	ns    []binding

	rootSeen bool
	rootDone bool

	// Position of the start of the last token, in decoder coordinates.
	tokOffset int64
	tokLine   int
	tokCol    int

	origin origin

	// lastStart is set when the last token read was a StartElement.
	lastStart bool
	// failed is set once a token could not be read.
	failed bool
	// limitBonus widens the token size limit of the next token by the
	// byte encoding/xml would already hold (see scan.go).
	limitBonus int64

	// Bytes consumed by the scanner (scan.go) behind x's back, which
	// x's InputOffset and InputPos do not count (see inputOffset and
	// inputPos), and the newlines among them. fastXOff is x's offset,
	// and fastCol the true column, when the scanner last handed the
	// input back to x.
	fastSet   bool
	fast      int64
	fastLines int
	fastXOff  int64
	fastCol   int

	// The scanner's element stack: the raw qualified names of the
	// elements it has opened, end to end in scanNames.
	scanNames  []byte
	scanFrames []scanFrame

	// owedEnd is the EndElement of a self-closing start tag the scanner
	// read (see startTag), due next.
	owedEnd    xml.Name
	hasOwedEnd bool

	// names are the raw names startTag has split (see internName).
	names map[string]xml.Name
}

// origin maps positions in the decoded stream back to the file it came
// from, for a component read out of a data stream: the stream starts at
// Offset/Line/Column of the file, and Len bytes were inserted at At (the
// namespace declarations added to the component's root tag).
type origin struct {
	offset int64
	line   int
	column int
	insAt  int64
	insLen int64
}

type frame struct {
	raw    xml.Name // as written: the prefix in Space
	name   xml.Name // resolved
	nsMark int      // len(ns) before this element's declarations
	line   int
}

type binding struct{ prefix, uri string }

// NewDecoder returns a Decoder reading r; name is used in error messages.
func NewDecoder(r io.Reader, name string) *Decoder {
	br := &byteReader{r: r, buf: make([]byte, 64<<10), limit: MaxTokenSize}
	x := xml.NewDecoder(br)
	x.Strict = true
	return &Decoder{name: name, br: br, x: x, origin: origin{line: 1, column: 1}}
}

// Name returns the name used in error messages.
func (d *Decoder) Name() string { return d.name }

// Depth returns the number of open elements.
func (d *Decoder) Depth() int { return len(d.stack) }

// Offset returns the byte offset in the file where the last token returned
// started.
func (d *Decoder) Offset() int64 { return d.fileOffset(d.tokOffset) }

// InputOffset returns the byte offset in the file just after the last
// token returned.
func (d *Decoder) InputOffset() int64 { return d.fileOffset(d.inputOffset()) }

// InputPos returns the line and column in the file just after the last
// token returned, as xml.Decoder.InputPos does.
func (d *Decoder) InputPos() (line, column int) { return d.filePos(d.inputPos()) }

// inputOffset is x.InputOffset in decoder coordinates: counting the bytes
// the scanner consumed.
func (d *Decoder) inputOffset() int64 { return d.x.InputOffset() + d.fast }

// inputPos is x.InputPos in decoder coordinates. Until x reads a newline
// after the scanner handed the input back, x's column counts from a line
// start before the bytes the scanner consumed. Whether it has read one
// shows in the column itself: x's column is at most the number of bytes
// it has read since if and only if it has (this keeps x's own column
// where it has just unread a newline, as tokenizing would report it).
func (d *Decoder) inputPos() (line, col int) {
	line, col = d.x.InputPos()
	if d.fastSet {
		if n := int(d.x.InputOffset() - d.fastXOff); col > n {
			col = d.fastCol + n
		}
	}
	return line + d.fastLines, col
}

// setFast records that the scanner stopped at offset off (decoder
// coordinates), on line line, which starts at offset lineStart.
func (d *Decoder) setFast(off int64, line int, lineStart int64) {
	xo := d.x.InputOffset()
	xl, _ := d.x.InputPos()
	d.fastSet = true
	d.fast = off - xo
	d.fastLines = line - xl
	d.fastXOff = xo
	d.fastCol = int(off-lineStart) + 1
}

func (d *Decoder) fileOffset(off int64) int64 {
	o := d.origin
	switch {
	case o.insLen == 0 || off <= o.insAt:
	case off >= o.insAt+o.insLen:
		off -= o.insLen
	default:
		off = o.insAt
	}
	return o.offset + d.br.skipped + off
}

func (d *Decoder) filePos(line, col int) (int, int) {
	if line == 1 {
		col += d.origin.column - 1
	}
	return line + d.origin.line - 1, col
}

// Errorf returns an *Error located at the start of the last token returned.
func (d *Decoder) Errorf(format string, args ...any) error {
	return d.errorAt(d.tokOffset, d.tokLine, d.tokCol, fmt.Errorf(format, args...))
}

// Wrap returns err located at the start of the last token returned, unless
// it is already an *Error or io.EOF.
func (d *Decoder) Wrap(err error) error {
	var e *Error
	if err == nil || err == io.EOF || errors.As(err, &e) {
		return err
	}
	return d.errorAt(d.tokOffset, d.tokLine, d.tokCol, err)
}

func (d *Decoder) errorAt(off int64, line, col int, err error) error {
	l, c := d.filePos(line, col)
	return &Error{File: d.name, Offset: d.fileOffset(off), Line: l, Column: c, Err: err}
}

// Token returns the next token with namespaces resolved. At the end of a
// well-formed document it returns io.EOF; every other error is an *Error.
func (d *Decoder) Token() (xml.Token, error) { return d.token(true) }

// Skip consumes the rest of the element whose StartElement was returned
// last (or the rest of the current element), checking it as thoroughly as
// Token but without resolving namespaces, which makes it the fast way past
// content the caller does not need.
//
// Skip does not tokenize: a byte scanner (see scan.go) finds the end of
// the element, checking what encoding/xml checks (names, attribute syntax,
// entity and character references, UTF-8 and the XML character range,
// comments, CDATA sections, matching end tags, MaxDepth and MaxTokenSize)
// without building tokens, and hands anything unusual (processing
// instructions, declarations such as DOCTYPE, non-ASCII names, anything
// malformed) to the tokenizer, so that it accepts and rejects exactly what
// tokenizing would, with the same errors at the same positions.
func (d *Decoder) Skip() error {
	depth := len(d.stack)
	for len(d.stack) >= depth {
		var err error
		if depth > 0 && scanSkip && d.scannable() {
			err = d.scan(depth)
		} else {
			_, err = d.token(false)
		}
		if err != nil {
			if err == io.EOF {
				return d.errorAt(d.inputOffset(), d.tokLine, d.tokCol, io.ErrUnexpectedEOF)
			}
			return err
		}
	}
	return nil
}

// InheritedNamespaces returns the namespace declarations in scope for the
// innermost open element that it does not declare itself: the
// declarations needed to make that element stand alone as a document.
// They are sorted by prefix; the default namespace comes first, as
// Name{Local: "xmlns"}.
func (d *Decoder) InheritedNamespaces() []xml.Attr {
	if len(d.stack) == 0 {
		return nil
	}
	top := d.stack[len(d.stack)-1]
	own := map[string]bool{}
	for _, b := range d.ns[top.nsMark:] {
		own[b.prefix] = true
	}
	eff := map[string]string{}
	for _, b := range d.ns[:top.nsMark] {
		eff[b.prefix] = b.uri
	}
	var attrs []xml.Attr
	for p, uri := range eff {
		if own[p] {
			continue
		}
		if p == "" {
			attrs = append(attrs, xml.Attr{Name: xml.Name{Local: nsXMLNSPrefix}, Value: uri})
		} else {
			attrs = append(attrs, xml.Attr{Name: xml.Name{Space: nsXMLNSPrefix, Local: p}, Value: uri})
		}
	}
	sort.Slice(attrs, func(i, j int) bool {
		if (attrs[i].Name.Space == "") != (attrs[j].Name.Space == "") {
			return attrs[i].Name.Space == ""
		}
		return attrs[i].Name.Local < attrs[j].Name.Local
	})
	return attrs
}

func (d *Decoder) token(resolve bool) (xml.Token, error) {
	d.tokOffset = d.inputOffset()
	d.tokLine, d.tokCol = d.inputPos()
	d.br.limit = d.br.off + MaxTokenSize + d.limitBonus
	d.limitBonus = 0
	var tok xml.Token
	var err error
	switch {
	case d.hasOwedEnd:
		tok, d.hasOwedEnd = xml.EndElement{Name: d.owedEnd}, false
	case scanSkip && d.br.started && len(d.scanFrames) == 0 && d.scannable():
		// (Once started: the byteReader skips a byte order mark.)
		if se, ok := d.startTag(); ok {
			tok = se
			break
		}
		fallthrough
	default:
		tok, err = d.x.RawToken()
	}
	d.lastStart = false
	if err != nil {
		err = d.readError(err)
		if err != io.EOF {
			d.failed = true
		}
		return nil, err
	}
	switch t := tok.(type) {
	case xml.StartElement:
		if d.rootDone {
			return nil, d.Errorf("element <%s> after the end of the root element", qname(t.Name))
		}
		if len(d.stack) >= MaxDepth {
			return nil, d.Wrap(ErrTooDeep)
		}
		d.rootSeen = true
		f := frame{raw: t.Name, nsMark: len(d.ns), line: d.tokLine}
		if resolve {
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == nsXMLNSPrefix:
					if a.Name.Local == nsXMLPrefix || a.Name.Local == nsXMLNSPrefix {
						continue
					}
					if a.Value == "" {
						return nil, d.Errorf("namespace prefix %q bound to an empty URI", a.Name.Local)
					}
					d.ns = append(d.ns, binding{a.Name.Local, a.Value})
				case a.Name.Space == "" && a.Name.Local == nsXMLNSPrefix:
					d.ns = append(d.ns, binding{"", a.Value})
				}
			}
			name, err := d.resolve(t.Name, true)
			if err != nil {
				return nil, err
			}
			t.Name = name
			for i := range t.Attr {
				a := &t.Attr[i]
				if a.Name.Space == "" || a.Name.Space == nsXMLNSPrefix {
					continue
				}
				if a.Name.Space, err = d.resolvePrefix(a.Name.Space); err != nil {
					return nil, err
				}
			}
			f.name = name
		}
		d.stack = append(d.stack, f)
		d.lastStart = true
		return t, nil
	case xml.EndElement:
		if len(d.stack) == 0 {
			return nil, d.Errorf("unexpected end tag </%s>", qname(t.Name))
		}
		top := d.stack[len(d.stack)-1]
		if top.raw != t.Name {
			return nil, d.Errorf("element <%s> (line %d) closed by </%s>", qname(top.raw), top.line, qname(t.Name))
		}
		d.pop()
		return xml.EndElement{Name: top.name}, nil
	case xml.CharData:
		if len(d.stack) == 0 && len(bytes.TrimSpace(t)) > 0 {
			return nil, d.Errorf("text outside the root element")
		}
		return t, nil
	case xml.Directive:
		return nil, d.Wrap(ErrDTD)
	}
	return tok, nil
}

// pop closes the innermost element.
func (d *Decoder) pop() {
	top := d.stack[len(d.stack)-1]
	d.stack = d.stack[:len(d.stack)-1]
	d.ns = d.ns[:top.nsMark]
	if len(d.stack) == 0 {
		d.rootDone = true
	}
}

func (d *Decoder) readError(err error) error {
	if err == io.EOF {
		if len(d.stack) > 0 {
			top := d.stack[len(d.stack)-1]
			return d.errorAt(d.inputOffset(), d.tokLine, d.tokCol,
				fmt.Errorf("unexpected end of file: <%s> (line %d) is not closed (truncated file?)", qname(top.raw), top.line))
		}
		if !d.rootSeen {
			return d.errorAt(d.inputOffset(), d.tokLine, d.tokCol, errors.New("no root element (empty file?)"))
		}
		return io.EOF
	}
	line, col := d.inputPos()
	off := d.inputOffset()
	var se *xml.SyntaxError
	switch {
	case errors.As(err, &se):
		msg := strings.TrimPrefix(se.Msg, "xml: ")
		if msg == "unexpected EOF" {
			msg = "unexpected end of file inside markup (truncated file?)"
		}
		err = errors.New(msg)
	case errors.Is(err, errLimit):
		err = ErrTokenTooLarge
		off, line, col = d.tokOffset, d.tokLine, d.tokCol
	}
	return d.errorAt(off, line, col, err)
}

func (d *Decoder) resolve(n xml.Name, elem bool) (xml.Name, error) {
	if n.Space == "" {
		if !elem {
			return n, nil
		}
		n.Space = d.lookup("")
		return n, nil
	}
	uri, err := d.resolvePrefix(n.Space)
	n.Space = uri
	return n, err
}

func (d *Decoder) resolvePrefix(prefix string) (string, error) {
	if prefix == nsXMLPrefix {
		return nsXML, nil
	}
	for i := len(d.ns) - 1; i >= 0; i-- {
		if d.ns[i].prefix == prefix {
			return d.ns[i].uri, nil
		}
	}
	return "", d.Errorf("undeclared namespace prefix %q", prefix)
}

func (d *Decoder) lookup(prefix string) string {
	for i := len(d.ns) - 1; i >= 0; i-- {
		if d.ns[i].prefix == prefix {
			return d.ns[i].uri
		}
	}
	return ""
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

var errLimit = errors.New("token size limit")

// byteReader is a buffered io.ByteReader (so that xml.Decoder uses it
// directly) that refuses to hand out more than limit bytes in total; the
// Decoder moves the limit before each token, which bounds the size of a
// single token.
type byteReader struct {
	r       io.Reader
	buf     []byte
	pos     int
	end     int
	off     int64
	limit   int64
	err     error
	started bool
	skipped int64 // a UTF-8 byte order mark skipped at the start
	// hitLimit is set once ReadByte has refused a byte: the xml.Decoder
	// keeps that error, even if it ended a text token with it.
	hitLimit bool
}

func (b *byteReader) fill() error {
	if b.err != nil {
		return b.err
	}
	n, err := b.r.Read(b.buf)
	for n == 0 && err == nil {
		n, err = b.r.Read(b.buf)
	}
	b.pos = 0
	if !b.started {
		// encoding/xml would take a byte order mark for text before the
		// root element. It may come in pieces.
		b.started = true
		for n < 3 && err == nil {
			var m int
			m, err = b.r.Read(b.buf[n:])
			n += m
		}
		if bytes.HasPrefix(b.buf[:n], []byte("\xef\xbb\xbf")) {
			b.pos, b.skipped = 3, 3
		}
	}
	b.end = n
	if n > 0 {
		if err != nil {
			b.err = err
		}
		return nil
	}
	b.err = err
	return err
}

func (b *byteReader) ReadByte() (byte, error) {
	for b.pos >= b.end { // a byte order mark may be all there was
		if err := b.fill(); err != nil {
			return 0, err
		}
	}
	if b.off >= b.limit {
		b.hitLimit = true
		return 0, errLimit
	}
	c := b.buf[b.pos]
	b.pos++
	b.off++
	return c, nil
}

func (b *byteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for b.pos >= b.end {
		if err := b.fill(); err != nil {
			return 0, err
		}
	}
	if b.off >= b.limit {
		return 0, errLimit
	}
	n := copy(p, b.buf[b.pos:b.end])
	if rem := b.limit - b.off; int64(n) > rem {
		n = int(rem)
	}
	b.pos += n
	b.off += int64(n)
	return n, nil
}

// Root returns the document's root element, skipping the prolog.
func (d *Decoder) Root() (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				err = errors.New("no root element")
			}
			return xml.StartElement{}, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se, nil
		}
	}
}

// Drain reads to the end of the document, so that trailing garbage is an
// error.
func (d *Decoder) Drain() error {
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
