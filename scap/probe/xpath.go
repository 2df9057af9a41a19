package probe

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds the XML reader and the XPath 1.0 subset of the
// xmlfilecontent probe.
//
// The reader is encoding/xml in strict mode, building a small tree of
// elements, attributes and text. It never expands an entity beyond XML's
// five predefined ones and character references: a DOCTYPE that declares
// entities (the "billion laughs" and external-entity attacks) is refused
// outright, and any other entity reference is a parse error. Namespace
// declarations are not attributes; CDATA sections are text; comments and
// processing instructions are dropped. Depth and node count are bounded,
// and the file itself by Options.MaxFileSize.
//
// The XPath subset (what SCAP content uses):
//
//   - location paths, absolute (/a/b, //b) and relative (a/b, ./a, ../a),
//     with "//" (descendant-or-self) between any steps;
//   - the axes child (default), attribute (@), self (.), parent (..),
//     descendant and descendant-or-self, also spelled out (child::a,
//     attribute::id, descendant-or-self::node());
//   - name tests: a name, "*", or prefix:name / prefix:* with the prefix
//     ignored (names are matched by local name, whatever their namespace);
//     node tests text() and node();
//   - predicates, any number per step: a position [2], [last()], or a
//     boolean expression: [@id], [@id='x'], [text()!='x'],
//     [@a='1' and not(@b)], [contains(@name,'ssh')], [position()<3];
//   - expressions: string literals, numbers, paths, "or", "and", "=",
//     "!=", "<", "<=", ">", ">=" with XPath 1.0 comparison rules
//     (a node-set compares by any of its nodes' string-values),
//     parentheses, and the functions count, not, true, false, boolean,
//     number, string, concat, contains, starts-with, normalize-space,
//     string-length, position, last, name and local-name (both give the
//     local name).
//
// Not supported, and reported as such: the union operator "|",
// arithmetic (+ - * div mod, unary minus), variables, the ancestor,
// sibling, following, preceding and namespace axes, comment() and
// processing-instruction() tests, filter expressions on parenthesized
// expressions, and any other function. The result of an expression is a
// node-set, a string, a number or a boolean; the probe turns it into
// value_of entities (see collectXMLContent).

// Bounds of the XML reader and the XPath evaluator.
const (
	maxXMLDepth   = 1000
	maxXMLNodes   = 2 << 20
	maxXPathLen   = 4096
	maxXPathDepth = 64
	// maxXPathWork bounds the nodes one evaluation may visit: a
	// predicate with a "//" path is evaluated once per candidate node.
	maxXPathWork = 20_000_000
)

type xkind uint8

const (
	xRoot xkind = iota
	xElem
	xAttr
	xText
)

// xnode is a node of a parsed document. order is its position in
// document order (attributes after their element, before its children).
type xnode struct {
	kind     xkind
	name     string // local name of an element or attribute
	value    string // attribute value or text
	parent   *xnode
	attrs    []*xnode
	children []*xnode // elements and text nodes
	order    int
}

// stringValue is the XPath string-value: the text of a text node or
// attribute, the concatenated descendant text of an element or the root.
func (n *xnode) stringValue() string {
	switch n.kind {
	case xAttr, xText:
		return n.value
	}
	var b strings.Builder
	var walk func(*xnode)
	walk = func(n *xnode) {
		for _, c := range n.children {
			if c.kind == xText {
				b.WriteString(c.value)
			} else {
				walk(c)
			}
		}
	}
	walk(n)
	return b.String()
}

var errXMLEntities = errors.New("DOCTYPE declares entities: refused (entity expansion is not supported)")

// parseXML reads a document into an xnode tree.
func parseXML(data []byte) (*xnode, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = xmlCharsetReader
	root := &xnode{kind: xRoot}
	cur := root
	count, depth := 1, 0
	sawRoot := false
	next := func() int { count++; return count - 1 }
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if cur == root {
				if sawRoot {
					return nil, errors.New("more than one root element")
				}
				sawRoot = true
			}
			if depth++; depth > maxXMLDepth {
				return nil, fmt.Errorf("elements nested deeper than %d", maxXMLDepth)
			}
			e := &xnode{kind: xElem, name: t.Name.Local, parent: cur, order: next()}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue // a namespace declaration, not an attribute
				}
				e.attrs = append(e.attrs, &xnode{kind: xAttr, name: a.Name.Local, value: a.Value, parent: e, order: next()})
			}
			cur.children = append(cur.children, e)
			cur = e
		case xml.EndElement:
			if cur.parent == nil {
				return nil, errors.New("unexpected end element")
			}
			cur = cur.parent
			depth--
		case xml.CharData:
			if cur == root {
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, errors.New("text outside the root element")
				}
				continue
			}
			if k := len(cur.children); k > 0 && cur.children[k-1].kind == xText {
				cur.children[k-1].value += string(t) // text next to CDATA
				continue
			}
			cur.children = append(cur.children, &xnode{kind: xText, value: string(t), parent: cur, order: next()})
		case xml.Directive:
			if bytes.Contains(t, []byte("<!ENTITY")) || bytes.HasPrefix(bytes.TrimSpace(t), []byte("ENTITY")) {
				return nil, errXMLEntities
			}
		}
		if count > maxXMLNodes {
			return nil, fmt.Errorf("more than %d nodes", maxXMLNodes)
		}
	}
	if !sawRoot {
		return nil, errors.New("no root element")
	}
	return root, nil
}

// xmlCharsetReader decodes the encodings besides UTF-8 that are common in
// configuration files: ASCII and Latin-1 (and accepts "utf8" for UTF-8).
// UTF-16 and others are refused.
func xmlCharsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "us-ascii", "ascii", "utf8":
		return in, nil
	case "iso-8859-1", "iso_8859-1", "latin1", "latin-1", "l1":
		b, err := io.ReadAll(in)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(b)+len(b)/4)
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", label)
}

// ---- XPath syntax ----

type xaxis uint8

const (
	axChild xaxis = iota
	axAttr
	axSelf
	axParent
	axDesc
	axDescSelf
)

var axisNames = map[string]xaxis{
	"child": axChild, "attribute": axAttr, "self": axSelf, "parent": axParent,
	"descendant": axDesc, "descendant-or-self": axDescSelf,
}

type xtestKind uint8

const (
	testName xtestKind = iota // name or * (name "")
	testText
	testNode
)

type xstep struct {
	axis  xaxis
	test  xtestKind
	name  string // local name; "" matches any
	preds []xexpr
}

// xexpr is a parsed expression: *xpathExpr, xliteral, xnumber, *xbinary
// or *xcall.
type xexpr interface{}

type xpathExpr struct {
	abs   bool
	steps []xstep
}

type (
	xliteral string
	xnumber  float64
)

type xbinary struct {
	op   string // or, and, =, !=, <, <=, >, >=
	l, r xexpr
}

type xcall struct {
	name string
	args []xexpr
}

// xfuncs gives the arity range of each supported function.
var xfuncs = map[string][2]int{
	"count": {1, 1}, "not": {1, 1}, "true": {0, 0}, "false": {0, 0},
	"boolean": {1, 1}, "number": {0, 1}, "string": {0, 1}, "concat": {2, 64},
	"contains": {2, 2}, "starts-with": {2, 2}, "normalize-space": {0, 1},
	"string-length": {0, 1}, "position": {0, 0}, "last": {0, 0},
	"name": {0, 1}, "local-name": {0, 1},
}

type xtok struct {
	kind byte // 'n' name, 's' literal, '9' number, 'o' operator, 0 end
	s    string
	num  float64
	pos  int
}

// errXPathUnsupported marks valid XPath outside the subset.
var errXPathUnsupported = errors.New("unsupported XPath")

func xpathErr(pos int, format string, args ...any) error {
	return fmt.Errorf("at offset %d: %s", pos, fmt.Sprintf(format, args...))
}

func xpathUnsupported(pos int, what string) error {
	return fmt.Errorf("%w at offset %d: %s", errXPathUnsupported, pos, what)
}

func isNameStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }
func isNameChar(r rune) bool {
	return isNameStart(r) || r == '-' || r == '.' || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// xpathOps are the operator tokens, longest first.
var xpathOps = []string{"//", "::", "..", "!=", "<=", ">=", "/", "[", "]", "(", ")", "@", ",", "|", ".", "*", "=", "<", ">", "+", "-", "$"}

// lexXPath splits an expression into tokens. A QName keeps its prefix
// ("ns:name", "ns:*"); "::" is an operator.
func lexXPath(s string) ([]xtok, error) {
	var toks []xtok
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case c == '\'' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, xpathErr(i, "unterminated string literal")
			}
			toks = append(toks, xtok{kind: 's', s: s[i+1 : i+1+j], pos: i})
			i += j + 2
			continue
		case c >= '0' && c <= '9' || (c == '.' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9'):
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j < len(s) && s[j] == '.' {
				j++
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					j++
				}
			}
			f, err := strconv.ParseFloat(s[i:j], 64)
			if err != nil {
				return nil, xpathErr(i, "bad number %q", s[i:j])
			}
			toks = append(toks, xtok{kind: '9', num: f, s: s[i:j], pos: i})
			i = j
			continue
		}
		for _, op := range xpathOps {
			if strings.HasPrefix(s[i:], op) {
				toks = append(toks, xtok{kind: 'o', s: op, pos: i})
				i += len(op)
				goto next
			}
		}
		if r, _ := utf8.DecodeRuneInString(s[i:]); isNameStart(r) {
			j := i
			name := func() {
				for j < len(s) {
					r, size := utf8.DecodeRuneInString(s[j:])
					if !isNameChar(r) {
						break
					}
					j += size
				}
			}
			name()
			// A prefix: "p:name" or "p:*", never "p::".
			if j+1 < len(s) && s[j] == ':' && s[j+1] != ':' {
				if s[j+1] == '*' {
					j += 2
				} else if r, _ := utf8.DecodeRuneInString(s[j+1:]); isNameStart(r) {
					j++
					name()
				}
			}
			toks = append(toks, xtok{kind: 'n', s: s[i:j], pos: i})
			i = j
			continue
		}
		return nil, xpathErr(i, "unexpected character %q", s[i:min(i+1, len(s))])
	next:
	}
	toks = append(toks, xtok{pos: len(s)})
	return toks, nil
}

type xparser struct {
	toks  []xtok
	i     int
	depth int
}

func (p *xparser) peek() xtok { return p.toks[p.i] }
func (p *xparser) peekN(n int) xtok {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}
func (p *xparser) isOp(s string) bool { t := p.peek(); return t.kind == 'o' && t.s == s }
func (p *xparser) take() xtok {
	t := p.toks[p.i]
	if t.kind != 0 {
		p.i++
	}
	return t
}

// parseXPath compiles an expression of the supported subset.
func parseXPath(s string) (xexpr, error) {
	if len(s) > maxXPathLen {
		return nil, fmt.Errorf("XPath longer than %d bytes", maxXPathLen)
	}
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("empty XPath")
	}
	toks, err := lexXPath(s)
	if err != nil {
		return nil, err
	}
	p := &xparser{toks: toks}
	e, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != 0 {
		return nil, xpathErr(t.pos, "unexpected %q", tokText(t))
	}
	return e, nil
}

func tokText(t xtok) string {
	switch t.kind {
	case 0:
		return "end of expression"
	case 's':
		return "'" + t.s + "'"
	}
	return t.s
}

func (p *xparser) enter() error {
	if p.depth++; p.depth > maxXPathDepth {
		return xpathErr(p.peek().pos, "expression nested deeper than %d", maxXPathDepth)
	}
	return nil
}

func (p *xparser) expr() (xexpr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	return p.binary(0)
}

// binaryLevels are the operator precedence levels, loosest first.
var binaryLevels = [][]string{{"or"}, {"and"}, {"=", "!="}, {"<", "<=", ">", ">="}}

func (p *xparser) binary(level int) (xexpr, error) {
	if level == len(binaryLevels) {
		return p.unary()
	}
	l, err := p.binary(level + 1)
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if (t.kind != 'o' && t.kind != 'n') || !slices.Contains(binaryLevels[level], t.s) {
			return l, nil
		}
		p.take()
		r, err := p.binary(level + 1)
		if err != nil {
			return nil, err
		}
		l = &xbinary{op: t.s, l: l, r: r}
	}
}

func (p *xparser) unary() (xexpr, error) {
	t := p.peek()
	var e xexpr
	var err error
	switch {
	case t.kind == 's':
		p.take()
		e = xliteral(t.s)
	case t.kind == '9':
		p.take()
		e = xnumber(t.num)
	case t.kind == 'o' && t.s == "(":
		p.take()
		if e, err = p.expr(); err != nil {
			return nil, err
		}
		if !p.isOp(")") {
			return nil, xpathErr(p.peek().pos, "missing )")
		}
		p.take()
		if p.isOp("[") || p.isOp("/") || p.isOp("//") {
			return nil, xpathUnsupported(p.peek().pos, "a filter or path on a parenthesized expression")
		}
	case t.kind == 'o' && t.s == "-":
		return nil, xpathUnsupported(t.pos, "arithmetic")
	case t.kind == 'o' && t.s == "$":
		return nil, xpathUnsupported(t.pos, "variables")
	case t.kind == 'n' && p.peekN(1).kind == 'o' && p.peekN(1).s == "(" && !isNodeType(t.s):
		if e, err = p.call(); err != nil {
			return nil, err
		}
		if p.isOp("[") || p.isOp("/") || p.isOp("//") {
			return nil, xpathUnsupported(p.peek().pos, "a filter or path on a function result")
		}
	default:
		if e, err = p.path(); err != nil {
			return nil, err
		}
	}
	if t := p.peek(); t.kind == 'o' && (t.s == "+" || t.s == "-" || t.s == "*") || t.kind == 'n' && (t.s == "div" || t.s == "mod") {
		return nil, xpathUnsupported(t.pos, "arithmetic")
	}
	if t := p.peek(); t.kind == 'o' && t.s == "|" {
		return nil, xpathUnsupported(t.pos, `the union operator "|"`)
	}
	return e, nil
}

func isNodeType(name string) bool {
	switch name {
	case "text", "node", "comment", "processing-instruction":
		return true
	}
	return false
}

func (p *xparser) call() (xexpr, error) {
	t := p.take()
	p.take() // (
	arity, ok := xfuncs[t.s]
	if !ok {
		return nil, xpathUnsupported(t.pos, fmt.Sprintf("the function %s()", t.s))
	}
	c := &xcall{name: t.s}
	if !p.isOp(")") {
		for {
			a, err := p.expr()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, a)
			if !p.isOp(",") {
				break
			}
			p.take()
		}
	}
	if !p.isOp(")") {
		return nil, xpathErr(p.peek().pos, "missing ) after the arguments of %s()", t.s)
	}
	p.take()
	if len(c.args) < arity[0] || len(c.args) > arity[1] {
		return nil, xpathErr(t.pos, "%s() takes %d to %d arguments, not %d", t.s, arity[0], arity[1], len(c.args))
	}
	return c, nil
}

// path parses a location path.
func (p *xparser) path() (xexpr, error) {
	px := &xpathExpr{}
	t := p.peek()
	switch {
	case t.kind == 'o' && t.s == "/":
		p.take()
		px.abs = true
		if !p.stepStarts() {
			return px, nil // the root itself
		}
	case t.kind == 'o' && t.s == "//":
		p.take()
		px.abs = true
		px.steps = append(px.steps, xstep{axis: axDescSelf, test: testNode})
	}
	for {
		st, err := p.step()
		if err != nil {
			return nil, err
		}
		px.steps = append(px.steps, st)
		switch {
		case p.isOp("/"):
			p.take()
		case p.isOp("//"):
			p.take()
			px.steps = append(px.steps, xstep{axis: axDescSelf, test: testNode})
		default:
			return px, nil
		}
	}
}

func (p *xparser) stepStarts() bool {
	t := p.peek()
	switch t.kind {
	case 'n':
		return true
	case 'o':
		return t.s == "." || t.s == ".." || t.s == "@" || t.s == "*"
	}
	return false
}

func (p *xparser) step() (xstep, error) {
	t := p.peek()
	if t.kind == 'o' && t.s == "." {
		p.take()
		return xstep{axis: axSelf, test: testNode}, p.noPredicate(".")
	}
	if t.kind == 'o' && t.s == ".." {
		p.take()
		return xstep{axis: axParent, test: testNode}, p.noPredicate("..")
	}
	st := xstep{axis: axChild}
	if t.kind == 'o' && t.s == "@" {
		p.take()
		st.axis = axAttr
	} else if t.kind == 'n' && p.peekN(1).kind == 'o' && p.peekN(1).s == "::" {
		ax, ok := axisNames[t.s]
		if !ok {
			switch t.s {
			case "ancestor", "ancestor-or-self", "following", "following-sibling", "preceding", "preceding-sibling", "namespace":
				return st, xpathUnsupported(t.pos, "the "+t.s+" axis")
			}
			return st, xpathErr(t.pos, "unknown axis %q", t.s)
		}
		p.take()
		p.take()
		st.axis = ax
	}
	t = p.take()
	switch {
	case t.kind == 'o' && t.s == "*":
		st.test = testName
	case t.kind == 'n' && p.isOp("(") && isNodeType(t.s):
		p.take()
		if !p.isOp(")") {
			return st, xpathErr(p.peek().pos, "missing ) after %s(", t.s)
		}
		p.take()
		switch t.s {
		case "text":
			st.test = testText
		case "node":
			st.test = testNode
		default:
			return st, xpathUnsupported(t.pos, "the "+t.s+"() node test")
		}
	case t.kind == 'n':
		if p.isOp("(") {
			return st, xpathErr(t.pos, "function %s() where a step is expected", t.s)
		}
		st.test = testName
		st.name = t.s
		if i := strings.IndexByte(st.name, ':'); i >= 0 {
			st.name = st.name[i+1:] // prefixes are ignored
		}
		if st.name == "*" {
			st.name = ""
		}
	default:
		return st, xpathErr(t.pos, "expected a step, found %s", tokText(t))
	}
	for p.isOp("[") {
		p.take()
		e, err := p.expr()
		if err != nil {
			return st, err
		}
		if !p.isOp("]") {
			return st, xpathErr(p.peek().pos, "missing ]")
		}
		p.take()
		st.preds = append(st.preds, e)
	}
	return st, nil
}

func (p *xparser) noPredicate(abbrev string) error {
	if p.isOp("[") {
		return xpathErr(p.peek().pos, "a predicate cannot follow %q", abbrev)
	}
	return nil
}

// ---- XPath evaluation ----

type xvkind uint8

const (
	vNodes xvkind = iota
	vString
	vNumber
	vBool
)

type xvalue struct {
	kind  xvkind
	nodes []*xnode
	s     string
	n     float64
	b     bool
}

type xeval struct {
	root *xnode
	work int
}

var errXPathWork = fmt.Errorf("XPath evaluation visits more than %d nodes", maxXPathWork)

func (ev *xeval) tick(n int) error {
	ev.work += n
	if ev.work > maxXPathWork {
		return errXPathWork
	}
	return nil
}

// evalXPath evaluates e with the document root as the context node.
func evalXPath(e xexpr, root *xnode) (xvalue, error) {
	ev := &xeval{root: root}
	return ev.eval(e, root, 1, 1)
}

func (ev *xeval) eval(e xexpr, ctx *xnode, pos, size int) (xvalue, error) {
	switch e := e.(type) {
	case xliteral:
		return xvalue{kind: vString, s: string(e)}, nil
	case xnumber:
		return xvalue{kind: vNumber, n: float64(e)}, nil
	case *xpathExpr:
		nodes, err := ev.path(e, ctx)
		return xvalue{kind: vNodes, nodes: nodes}, err
	case *xbinary:
		return ev.binary(e, ctx, pos, size)
	case *xcall:
		return ev.call(e, ctx, pos, size)
	}
	return xvalue{}, fmt.Errorf("internal error: expression %T", e)
}

func (ev *xeval) path(px *xpathExpr, ctx *xnode) ([]*xnode, error) {
	cur := []*xnode{ctx}
	if px.abs {
		cur = []*xnode{ev.root}
	}
	for _, st := range px.steps {
		var next []*xnode
		var covered *xnode // descendant-or-self without predicates: skip what an earlier node covered
		for _, c := range cur {
			if st.axis == axDescSelf && len(st.preds) == 0 && covered != nil && isAncestorOrSelf(covered, c) {
				continue
			}
			cand, err := ev.axis(st, c)
			if err != nil {
				return nil, err
			}
			if st.axis == axDescSelf {
				covered = c
			}
			for _, pr := range st.preds {
				if cand, err = ev.filter(cand, pr); err != nil {
					return nil, err
				}
			}
			next = append(next, cand...)
		}
		cur = sortNodes(next)
	}
	return cur, nil
}

func isAncestorOrSelf(a, n *xnode) bool {
	for ; n != nil; n = n.parent {
		if n == a {
			return true
		}
	}
	return false
}

// sortNodes puts nodes in document order without duplicates.
func sortNodes(ns []*xnode) []*xnode {
	if len(ns) < 2 {
		return ns
	}
	sorted := true
	for i := 1; i < len(ns); i++ {
		if ns[i].order <= ns[i-1].order {
			sorted = false
			break
		}
	}
	if sorted {
		return ns
	}
	slices.SortFunc(ns, func(a, b *xnode) int { return a.order - b.order })
	return slices.CompactFunc(ns, func(a, b *xnode) bool { return a == b })
}

func (st *xstep) matches(n *xnode) bool {
	switch st.test {
	case testNode:
		return true
	case testText:
		return n.kind == xText
	}
	if st.axis == axAttr {
		return n.kind == xAttr && (st.name == "" || n.name == st.name)
	}
	return n.kind == xElem && (st.name == "" || n.name == st.name)
}

// axis returns the nodes of st's axis from c that pass its node test, in
// axis order.
func (ev *xeval) axis(st xstep, c *xnode) ([]*xnode, error) {
	var out []*xnode
	add := func(n *xnode) {
		if st.matches(n) {
			out = append(out, n)
		}
	}
	switch st.axis {
	case axChild:
		if err := ev.tick(len(c.children)); err != nil {
			return nil, err
		}
		for _, n := range c.children {
			add(n)
		}
	case axAttr:
		if err := ev.tick(len(c.attrs)); err != nil {
			return nil, err
		}
		for _, n := range c.attrs {
			add(n)
		}
	case axSelf:
		add(c)
	case axParent:
		if c.parent != nil {
			add(c.parent)
		}
	case axDesc, axDescSelf:
		if st.axis == axDescSelf {
			add(c)
		}
		var err error
		var walk func(*xnode)
		walk = func(n *xnode) {
			for _, k := range n.children {
				if err != nil {
					return
				}
				if err = ev.tick(1); err != nil {
					return
				}
				add(k)
				walk(k)
			}
		}
		walk(c)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (ev *xeval) filter(nodes []*xnode, pred xexpr) ([]*xnode, error) {
	var out []*xnode
	for i, n := range nodes {
		v, err := ev.eval(pred, n, i+1, len(nodes))
		if err != nil {
			return nil, err
		}
		keep := false
		if v.kind == vNumber {
			keep = v.n == float64(i+1)
		} else {
			keep = v.boolean()
		}
		if keep {
			out = append(out, n)
		}
	}
	return out, nil
}

func (v xvalue) boolean() bool {
	switch v.kind {
	case vNodes:
		return len(v.nodes) > 0
	case vString:
		return v.s != ""
	case vNumber:
		return v.n != 0 && !math.IsNaN(v.n)
	}
	return v.b
}

func (v xvalue) str() string {
	switch v.kind {
	case vNodes:
		if len(v.nodes) == 0 {
			return ""
		}
		return v.nodes[0].stringValue()
	case vNumber:
		return formatXPathNumber(v.n)
	case vBool:
		if v.b {
			return "true"
		}
		return "false"
	}
	return v.s
}

func (v xvalue) number() float64 {
	switch v.kind {
	case vNumber:
		return v.n
	case vBool:
		if v.b {
			return 1
		}
		return 0
	}
	return xpathNumber(v.str())
}

var xpathNumberRE = regexp.MustCompile(`^-?([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)

// xpathNumber is XPath's number(string): a decimal, else NaN.
func xpathNumber(s string) float64 {
	s = strings.Trim(s, " \t\r\n")
	if !xpathNumberRE.MatchString(s) {
		return math.NaN()
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

func formatXPathNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == math.Trunc(f) && math.Abs(f) < 1e15:
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

func (ev *xeval) binary(e *xbinary, ctx *xnode, pos, size int) (xvalue, error) {
	l, err := ev.eval(e.l, ctx, pos, size)
	if err != nil {
		return xvalue{}, err
	}
	switch e.op {
	case "or", "and":
		lb := l.boolean()
		if (e.op == "or") == lb {
			return xvalue{kind: vBool, b: lb}, nil // short circuit
		}
		r, err := ev.eval(e.r, ctx, pos, size)
		if err != nil {
			return xvalue{}, err
		}
		return xvalue{kind: vBool, b: r.boolean()}, nil
	}
	r, err := ev.eval(e.r, ctx, pos, size)
	if err != nil {
		return xvalue{}, err
	}
	return xvalue{kind: vBool, b: compareXPath(e.op, l, r)}, nil
}

// compareXPath applies XPath 1.0's comparison rules.
func compareXPath(op string, l, r xvalue) bool {
	if l.kind == vNodes && r.kind == vNodes {
		for _, a := range l.nodes {
			as := a.stringValue()
			for _, b := range r.nodes {
				if compareAtoms(op, xvalue{kind: vString, s: as}, xvalue{kind: vString, s: b.stringValue()}) {
					return true
				}
			}
		}
		return false
	}
	if l.kind == vNodes || r.kind == vNodes {
		nodes, other, swapped := l, r, false
		if r.kind == vNodes {
			nodes, other, swapped = r, l, true
		}
		if other.kind == vBool {
			a, b := xvalue{kind: vBool, b: nodes.boolean()}, other
			if swapped {
				a, b = b, a
			}
			return compareAtoms(op, a, b)
		}
		for _, n := range nodes.nodes {
			a, b := xvalue{kind: vString, s: n.stringValue()}, other
			if other.kind == vNumber {
				a = xvalue{kind: vNumber, n: xpathNumber(a.s)}
			}
			if swapped {
				a, b = b, a
			}
			if compareAtoms(op, a, b) {
				return true
			}
		}
		return false
	}
	return compareAtoms(op, l, r)
}

func compareAtoms(op string, l, r xvalue) bool {
	switch op {
	case "=", "!=":
		var eq bool
		switch {
		case l.kind == vBool || r.kind == vBool:
			eq = l.boolean() == r.boolean()
		case l.kind == vNumber || r.kind == vNumber:
			eq = l.number() == r.number()
		default:
			eq = l.str() == r.str()
		}
		return eq == (op == "=")
	}
	a, b := l.number(), r.number()
	switch op {
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	}
	return false
}

func (ev *xeval) call(c *xcall, ctx *xnode, pos, size int) (xvalue, error) {
	args := make([]xvalue, len(c.args))
	for i, a := range c.args {
		v, err := ev.eval(a, ctx, pos, size)
		if err != nil {
			return xvalue{}, err
		}
		args[i] = v
	}
	// The argument defaulting to the context node.
	arg0 := func() xvalue {
		if len(args) > 0 {
			return args[0]
		}
		return xvalue{kind: vNodes, nodes: []*xnode{ctx}}
	}
	str := func(s string) (xvalue, error) { return xvalue{kind: vString, s: s}, nil }
	num := func(f float64) (xvalue, error) { return xvalue{kind: vNumber, n: f}, nil }
	boolean := func(b bool) (xvalue, error) { return xvalue{kind: vBool, b: b}, nil }
	switch c.name {
	case "count":
		if args[0].kind != vNodes {
			return xvalue{}, errors.New("count() needs a node-set")
		}
		return num(float64(len(args[0].nodes)))
	case "not":
		return boolean(!args[0].boolean())
	case "true":
		return boolean(true)
	case "false":
		return boolean(false)
	case "boolean":
		return boolean(args[0].boolean())
	case "number":
		return num(arg0().number())
	case "string":
		return str(arg0().str())
	case "concat":
		var b strings.Builder
		for _, a := range args {
			b.WriteString(a.str())
		}
		return str(b.String())
	case "contains":
		return boolean(strings.Contains(args[0].str(), args[1].str()))
	case "starts-with":
		return boolean(strings.HasPrefix(args[0].str(), args[1].str()))
	case "normalize-space":
		return str(strings.Join(strings.Fields(arg0().str()), " "))
	case "string-length":
		return num(float64(utf8.RuneCountInString(arg0().str())))
	case "position":
		return num(float64(pos))
	case "last":
		return num(float64(size))
	case "name", "local-name":
		v := arg0()
		if v.kind != vNodes {
			return xvalue{}, fmt.Errorf("%s() needs a node-set", c.name)
		}
		if len(v.nodes) == 0 {
			return str("")
		}
		return str(v.nodes[0].name)
	}
	return xvalue{}, xpathUnsupported(0, "the function "+c.name+"()")
}
