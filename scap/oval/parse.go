package oval

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/plumbhq/plumb/scap/ds"
)

// The namespaces the parser tells apart. Everything else is recognized by
// local name, so that a document using unusual prefixes still parses.
const (
	nsDefinitions = "http://oval.mitre.org/XMLSchema/oval-definitions-5"
	nsXSI         = "http://www.w3.org/2001/XMLSchema-instance"
)

// maxDepth bounds element nesting inside one definition, test, object,
// state or variable. Real content nests a dozen levels; the bound keeps a
// hostile document from growing the parser's stack without limit.
const maxDepth = 256

// ErrEntities is returned (wrapped) for a document whose DOCTYPE declares
// entities. encoding/xml never expands them, but refusing them outright
// gives a clear error instead of a confusing one at the first reference,
// and makes the refusal of billion-laughs and external-entity documents
// explicit.
var ErrEntities = errors.New("DOCTYPE with entity declarations refused")

// Definitions is a parsed oval_definitions document. Everything is kept by
// id; references between the parts are resolved when evaluating, so a
// dangling reference costs only the definitions that use it.
type Definitions struct {
	// SchemaVersion is the generator's schema_version ("5.11"), if given.
	SchemaVersion string
	// DefinitionIDs lists the definitions in document order.
	DefinitionIDs []string

	Definitions map[string]*Definition
	Tests       map[string]*Test
	Objects     map[string]*ObjectDef
	States      map[string]*State
	Variables   map[string]*Variable

	graphOnce sync.Once
	graph     *graph // see refGraph
}

// Index computes what evaluating the document needs besides its parse
// (its reference graph), once; NewEvaluator does it otherwise. Call it
// to have that done ahead, on another goroutine, or to have every
// evaluator of a document share the work. The document must not change
// afterwards.
func (d *Definitions) Index() { d.refGraph() }

// refGraph returns the document's reference graph, built once; it is
// read-only, so every evaluator of the document shares it.
func (d *Definitions) refGraph() *graph {
	d.graphOnce.Do(func() { d.graph = newGraph(d) })
	return d.graph
}

// Definition is one <definition>.
type Definition struct {
	ID         string
	Class      string // "compliance", "inventory", "patch", "vulnerability", "miscellaneous"
	Title      string
	Deprecated bool
	// Criteria is nil for a definition without criteria (allowed only for
	// deprecated definitions); it evaluates to not evaluated.
	Criteria *Criteria
}

// Criteria is a <criteria> element: its children combined by Operator.
type Criteria struct {
	Operator string // AND (default), OR, ONE, XOR
	Negate   bool
	Comment  string
	Children []Criterion
}

// Criterion is one child of a <criteria>: exactly one of Criteria (a nested
// <criteria>), TestRef (a <criterion>) and DefinitionRef (an
// <extend_definition>) is set. Negate and Comment belong to the criterion
// and extend_definition forms; a nested criteria carries its own.
type Criterion struct {
	Criteria      *Criteria
	TestRef       string
	DefinitionRef string
	Negate        bool
	Comment       string
}

// Test is any OVAL test, kept generically: the evaluator needs only its
// object, states and the two checks, whatever the test type.
type Test struct {
	ID      string
	Type    string // element local name: "textfilecontent54_test"
	Family  string // namespace suffix after '#': "independent", "linux", "unix"
	Comment string
	// Check is how many items must satisfy the states: "all",
	// "at least one", "none satisfy", "only one" (and the deprecated
	// "none exist", read as "none satisfy"). Defaults to "all".
	Check string
	// CheckExistence is how many items must exist: "all_exist",
	// "any_exist", "at_least_one_exists" (default), "none_exist",
	// "only_one_exists".
	CheckExistence string
	// StateOperator combines several states per item (default AND).
	StateOperator string
	ObjectRef     string
	StateRefs     []string
	Deprecated    bool
}

// ObjectDef is any OVAL object as written in the document. The evaluator
// turns it into an Object (variables resolved) for a Prober, or handles it
// itself for sets and variable_objects.
type ObjectDef struct {
	ID      string
	Type    string // "textfilecontent54_object"
	Family  string // "independent"
	Comment string
	// Entities are the object's entities in document order. A
	// variable_object's <var_ref> is an entity whose Value is the id.
	Entities []Entity
	// Behaviors holds the attributes of <behaviors>, nil when absent.
	Behaviors map[string]string
	// Filters are the object's <filter> elements, applied in order.
	Filters []Filter
	// Set is the object's <set>; an object with a set has no entities.
	Set *Set
}

// Entity is an entity of an object or a state.
type Entity struct {
	Name  string
	Value string // element text, untrimmed: patterns may mean their spaces
	// The attributes as written, empty when absent; defaults are applied
	// where the entity is used.
	Operation      string
	Datatype       string
	VarRef         string
	VarCheck       string
	EntityCheck    string
	CheckExistence string
	// Nil is xsi:nil="true".
	Nil bool
	// Fields are the <field> children of a record entity (datatype
	// "record"); kept so that such a state fails clearly rather than
	// silently.
	Fields []Entity
}

// Filter is an object's or a set's <filter>: items matching the state are
// kept ("include") or dropped ("exclude", the default).
type Filter struct {
	Action   string
	StateRef string
}

// Set is an object's <set>: either ObjectRefs (one or two objects) or Sets
// (one or two nested sets), combined by Operator.
type Set struct {
	Operator   string // UNION (default), INTERSECTION, COMPLEMENT
	ObjectRefs []string
	Sets       []*Set
	Filters    []Filter
}

// State is any OVAL state, kept generically.
type State struct {
	ID       string
	Type     string
	Family   string
	Comment  string
	Operator string // combines the entity results; AND by default
	Entities []Entity
}

// Variable is a constant_variable, external_variable or local_variable.
type Variable struct {
	ID       string
	Kind     string // "constant_variable", "external_variable", "local_variable"
	Datatype string
	Comment  string
	// Values are a constant_variable's values.
	Values []string
	// Component is a local_variable's value expression.
	Component *Component
}

// Component is one node of a local_variable's expression: a component
// (literal_component, object_component, variable_component) or a function
// (concat, count, unique, arithmetic, substring, regex_capture,
// glob_to_regex, split, escape_regex, begin, end, time_difference). Kind is
// the element's local name; an unknown Kind is kept and evaluates to an
// error, so that one unsupported function costs only what depends on it.
type Component struct {
	Kind string

	Value    string // literal_component text
	Datatype string // literal_component datatype

	ObjectRef   string // object_component
	ItemField   string
	RecordField string

	VarRef string // variable_component

	Args []*Component // a function's components, in order

	ArithmeticOp string // arithmetic: "add", "multiply"
	Start        int    // substring: substring_start (1-based)
	Length       int    // substring: substring_length (-1: to the end)
	Pattern      string // regex_capture
	Delimiter    string // split
	Character    string // begin, end
	GlobNoEscape bool   // glob_to_regex
	Format1      string // time_difference
	Format2      string
}

// Parse reads an oval_definitions document. It streams: memory grows with
// the content kept, not with the document. A DOCTYPE declaring entities is
// refused (ErrEntities).
func Parse(r io.Reader) (*Definitions, error) {
	d := xml.NewDecoder(r)
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil, errors.New("oval: no oval_definitions element")
		}
		if err != nil {
			return nil, fmt.Errorf("oval: %w", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			if err := checkDirective(t); err != nil {
				return nil, err
			}
		case xml.StartElement:
			if t.Name.Local != "oval_definitions" {
				return nil, fmt.Errorf("oval: root element is <%s>, want <oval_definitions>", t.Name.Local)
			}
			return ParseElement(d, t)
		}
	}
}

// checkDirective refuses a DOCTYPE that declares entities.
func checkDirective(dir xml.Directive) error {
	if bytes.HasPrefix(dir, []byte("DOCTYPE")) && bytes.Contains(dir, []byte("<!ENTITY")) {
		return fmt.Errorf("oval: %w", ErrEntities)
	}
	if bytes.HasPrefix(dir, []byte("ENTITY")) {
		return fmt.Errorf("oval: %w", ErrEntities)
	}
	return nil
}

// Decode reads the oval_definitions document d reads, such as an OVAL
// component of a SCAP source data stream (ds.Collection.ComponentDecoder),
// with the protections of ds.Decoder (no DOCTYPE, bounded depth and token
// size, declared namespace prefixes). It is faster than Parse: text is
// read by the decoder's scanner where it can.
func Decode(d *ds.Decoder) (*Definitions, error) {
	root, err := d.Root()
	if err != nil {
		return nil, fmt.Errorf("oval: %w", err)
	}
	if root.Name.Local != "oval_definitions" {
		return nil, fmt.Errorf("oval: root element is <%s>, want <oval_definitions>", root.Name.Local)
	}
	defs, err := parseElement(d, root)
	if err != nil {
		return nil, err
	}
	if err := d.Drain(); err != nil {
		return nil, fmt.Errorf("oval: %w", err)
	}
	return defs, nil
}

// ParseElement reads an oval_definitions element whose start tag the caller
// has already consumed, such as one found inside a SCAP source data
// stream, leaving d after its end tag.
func ParseElement(d *xml.Decoder, start xml.StartElement) (*Definitions, error) {
	return parseElement(d, start)
}

// tokenReader is what the parser reads: an *xml.Decoder, or a
// *ds.Decoder, whose scanner reads text faster (see fastText).
type tokenReader interface {
	Token() (xml.Token, error)
	Skip() error
	InputPos() (line, column int)
}

// fastText is the text reading of ds.Decoder.
type fastText interface {
	PlainText() (string, bool, error)
	AppendText([]byte) ([]byte, bool)
}

var (
	_ tokenReader = (*xml.Decoder)(nil)
	_ tokenReader = (*ds.Decoder)(nil)
	_ fastText    = (*ds.Decoder)(nil)
)

func parseElement(d tokenReader, start xml.StartElement) (*Definitions, error) {
	p := &parser{d: d, defs: &Definitions{
		Definitions: map[string]*Definition{},
		Tests:       map[string]*Test{},
		Objects:     map[string]*ObjectDef{},
		States:      map[string]*State{},
		Variables:   map[string]*Variable{},
	}}
	p.fast, _ = d.(fastText)
	for {
		tok, err := p.token()
		if err != nil {
			return nil, p.wrap(err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			if err := checkDirective(t); err != nil {
				return nil, err
			}
		case xml.EndElement:
			return p.defs, nil
		case xml.StartElement:
			var each func(*node) error
			switch t.Name.Local {
			case "generator":
				n, err := p.read(t, 0)
				if err != nil {
					return nil, err
				}
				if v := n.child("schema_version"); v != nil {
					p.defs.SchemaVersion = strings.TrimSpace(v.text)
				}
				continue
			case "definitions":
				each = p.definition
			case "tests":
				each = p.test
			case "objects":
				each = p.object
			case "states":
				each = p.state
			case "variables":
				each = p.variable
			default: // ds:Signature and the like
				if err := d.Skip(); err != nil {
					return nil, p.wrap(err)
				}
				continue
			}
			if err := p.section(each); err != nil {
				return nil, err
			}
		}
	}
}

type parser struct {
	d    tokenReader
	fast fastText // d's fast text reading, if it has one
	defs *Definitions
	text []byte // scratch
}

// token returns the next token but for the text before it, when the
// scanner can pass it: text between the sections, definitions, tests,
// ... is indentation.
func (p *parser) token() (xml.Token, error) {
	if p.fast != nil {
		p.text, _ = p.fast.AppendText(p.text[:0])
	}
	return p.d.Token()
}

// node is one element read whole: the unit handed from the streaming
// reader to the converters. Only one definition, test, object, state or
// variable is held as nodes at a time.
type node struct {
	name     xml.Name
	attrs    []xml.Attr
	text     string // character data directly inside the element
	children []*node
	line     int
}

func (n *node) attr(local string) string {
	for _, a := range n.attrs {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// isNil reports xsi:nil="true" (also with an undeclared xsi prefix).
func (n *node) isNil() bool {
	for _, a := range n.attrs {
		if a.Name.Local == "nil" && (a.Name.Space == nsXSI || a.Name.Space == "xsi") {
			return parseBoolAttr(a.Value)
		}
	}
	return false
}

func (n *node) child(local string) *node {
	for _, c := range n.children {
		if c.name.Local == local {
			return c
		}
	}
	return nil
}

// core reports whether n is in the OVAL definitions (core) namespace.
func (n *node) core() bool { return n.name.Space == nsDefinitions }

// family is the part of the namespace after '#': "independent", "linux".
func family(name xml.Name) string {
	if i := strings.LastIndexByte(name.Space, '#'); i >= 0 {
		return name.Space[i+1:]
	}
	return ""
}

func parseBoolAttr(s string) bool {
	s = strings.TrimSpace(s)
	return s == "true" || s == "1"
}

// wrap adds the input position to a decoder error.
func (p *parser) wrap(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	line, _ := p.d.InputPos()
	return fmt.Errorf("oval: line %d: %w", line, err)
}

// read reads the element that start opened, whole.
func (p *parser) read(start xml.StartElement, depth int) (*node, error) {
	line, _ := p.d.InputPos()
	if depth > maxDepth {
		return nil, fmt.Errorf("oval: line %d: elements nested deeper than %d", line, maxDepth)
	}
	n := &node{name: start.Name, attrs: start.Attr, line: line}
	if p.fast != nil {
		// Most elements hold plain text alone (an entity's value), or
		// elements and the white space between them.
		text, ok, err := p.fast.PlainText()
		if err != nil {
			return nil, p.wrap(err)
		}
		if ok {
			n.text = text
			return n, nil
		}
	}
	var text []byte
	for {
		if p.fast != nil {
			text, _ = p.fast.AppendText(text)
		}
		tok, err := p.d.Token()
		if err != nil {
			return nil, p.wrap(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			c, err := p.read(t, depth+1)
			if err != nil {
				return nil, err
			}
			n.children = append(n.children, c)
		case xml.CharData:
			text = append(text, t...)
		case xml.EndElement:
			n.text = string(text)
			return n, nil
		case xml.Directive:
			if err := checkDirective(t); err != nil {
				return nil, err
			}
		}
	}
}

// section reads the children of a section element (<tests>, ...) one at
// a time and hands each to each.
func (p *parser) section(each func(*node) error) error {
	for {
		tok, err := p.token()
		if err != nil {
			return p.wrap(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n, err := p.read(t, 0)
			if err != nil {
				return err
			}
			if err := each(n); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		case xml.Directive:
			if err := checkDirective(t); err != nil {
				return err
			}
		}
	}
}

// errorf names the element and its id in a parse error.
func errorf(n *node, id, format string, args ...any) error {
	what := n.name.Local
	if id != "" {
		what += " " + strconv.Quote(id)
	}
	return fmt.Errorf("oval: %s (line %d): %s", what, n.line, fmt.Sprintf(format, args...))
}

// id returns the element's id, which every top-level OVAL element has.
func (p *parser) id(n *node, seen func(string) bool) (string, error) {
	id := strings.TrimSpace(n.attr("id"))
	if id == "" {
		return "", errorf(n, "", "missing id")
	}
	if seen(id) {
		return "", errorf(n, id, "duplicate id")
	}
	return id, nil
}

func (p *parser) definition(n *node) error {
	if n.name.Local != "definition" {
		return nil
	}
	id, err := p.id(n, func(id string) bool { return p.defs.Definitions[id] != nil })
	if err != nil {
		return err
	}
	def := &Definition{ID: id, Class: n.attr("class"), Deprecated: parseBoolAttr(n.attr("deprecated"))}
	for _, c := range n.children {
		switch c.name.Local {
		case "metadata":
			if t := c.child("title"); t != nil {
				def.Title = strings.TrimSpace(t.text)
			}
		case "criteria":
			if def.Criteria, err = parseCriteria(c, id); err != nil {
				return err
			}
		}
	}
	p.defs.Definitions[id] = def
	p.defs.DefinitionIDs = append(p.defs.DefinitionIDs, id)
	return nil
}

func parseCriteria(n *node, defID string) (*Criteria, error) {
	op := strings.TrimSpace(n.attr("operator"))
	switch op {
	case "":
		op = "AND"
	case "AND", "OR", "ONE", "XOR":
	default:
		return nil, errorf(n, defID, "unknown operator %q", op)
	}
	cr := &Criteria{Operator: op, Negate: parseBoolAttr(n.attr("negate")), Comment: n.attr("comment")}
	for _, c := range n.children {
		switch c.name.Local {
		case "criteria":
			sub, err := parseCriteria(c, defID)
			if err != nil {
				return nil, err
			}
			cr.Children = append(cr.Children, Criterion{Criteria: sub})
		case "criterion":
			ref := strings.TrimSpace(c.attr("test_ref"))
			if ref == "" {
				return nil, errorf(c, defID, "missing test_ref")
			}
			cr.Children = append(cr.Children, Criterion{TestRef: ref, Negate: parseBoolAttr(c.attr("negate")), Comment: c.attr("comment")})
		case "extend_definition":
			ref := strings.TrimSpace(c.attr("definition_ref"))
			if ref == "" {
				return nil, errorf(c, defID, "missing definition_ref")
			}
			cr.Children = append(cr.Children, Criterion{DefinitionRef: ref, Negate: parseBoolAttr(c.attr("negate")), Comment: c.attr("comment")})
		}
	}
	return cr, nil
}

func (p *parser) test(n *node) error {
	id, err := p.id(n, func(id string) bool { return p.defs.Tests[id] != nil })
	if err != nil {
		return err
	}
	t := &Test{
		ID:             id,
		Type:           n.name.Local,
		Family:         family(n.name),
		Comment:        n.attr("comment"),
		Check:          strings.TrimSpace(n.attr("check")),
		CheckExistence: strings.TrimSpace(n.attr("check_existence")),
		StateOperator:  strings.TrimSpace(n.attr("state_operator")),
		Deprecated:     parseBoolAttr(n.attr("deprecated")),
	}
	if t.Check == "" {
		t.Check = "all"
	}
	if t.CheckExistence == "" {
		t.CheckExistence = "at_least_one_exists"
	}
	if t.StateOperator == "" {
		t.StateOperator = "AND"
	}
	for _, c := range n.children {
		switch c.name.Local {
		case "object":
			t.ObjectRef = strings.TrimSpace(c.attr("object_ref"))
			if t.ObjectRef == "" {
				return errorf(n, id, "<object> without object_ref")
			}
		case "state":
			ref := strings.TrimSpace(c.attr("state_ref"))
			if ref == "" {
				return errorf(n, id, "<state> without state_ref")
			}
			t.StateRefs = append(t.StateRefs, ref)
		}
	}
	p.defs.Tests[id] = t
	return nil
}

func (p *parser) object(n *node) error {
	id, err := p.id(n, func(id string) bool { return p.defs.Objects[id] != nil })
	if err != nil {
		return err
	}
	o := &ObjectDef{ID: id, Type: n.name.Local, Family: family(n.name), Comment: n.attr("comment")}
	for _, c := range n.children {
		switch {
		case c.core() && c.name.Local == "set":
			if o.Set, err = parseSet(c, id); err != nil {
				return err
			}
		case c.core() && c.name.Local == "filter":
			f, err := parseFilter(c, id)
			if err != nil {
				return err
			}
			o.Filters = append(o.Filters, f)
		case c.core() && c.name.Local == "notes", c.name.Local == "Signature":
		case c.name.Local == "behaviors":
			o.Behaviors = map[string]string{}
			for _, a := range c.attrs {
				if a.Name.Space == "" {
					o.Behaviors[a.Name.Local] = a.Value
				}
			}
		default:
			o.Entities = append(o.Entities, parseEntity(c))
		}
	}
	p.defs.Objects[id] = o
	return nil
}

func parseFilter(n *node, id string) (Filter, error) {
	f := Filter{Action: strings.TrimSpace(n.attr("action")), StateRef: strings.TrimSpace(n.text)}
	switch f.Action {
	case "":
		f.Action = "exclude"
	case "include", "exclude":
	default:
		return f, errorf(n, id, "unknown filter action %q", f.Action)
	}
	if f.StateRef == "" {
		return f, errorf(n, id, "empty filter")
	}
	return f, nil
}

func parseSet(n *node, id string) (*Set, error) {
	s := &Set{Operator: strings.TrimSpace(n.attr("set_operator"))}
	switch s.Operator {
	case "":
		s.Operator = "UNION"
	case "UNION", "INTERSECTION", "COMPLEMENT":
	default:
		return nil, errorf(n, id, "unknown set_operator %q", s.Operator)
	}
	for _, c := range n.children {
		switch c.name.Local {
		case "set":
			sub, err := parseSet(c, id)
			if err != nil {
				return nil, err
			}
			s.Sets = append(s.Sets, sub)
		case "object_reference":
			ref := strings.TrimSpace(c.text)
			if ref == "" {
				return nil, errorf(c, id, "empty object_reference")
			}
			s.ObjectRefs = append(s.ObjectRefs, ref)
		case "filter":
			f, err := parseFilter(c, id)
			if err != nil {
				return nil, err
			}
			s.Filters = append(s.Filters, f)
		}
	}
	if len(s.Sets) > 0 && len(s.ObjectRefs) > 0 {
		return nil, errorf(n, id, "set mixes object_reference and set")
	}
	if len(s.Sets) == 0 && len(s.ObjectRefs) == 0 {
		return nil, errorf(n, id, "empty set")
	}
	return s, nil
}

func parseEntity(n *node) Entity {
	e := Entity{
		Name:           n.name.Local,
		Value:          n.text,
		Operation:      strings.TrimSpace(n.attr("operation")),
		Datatype:       strings.TrimSpace(n.attr("datatype")),
		VarRef:         strings.TrimSpace(n.attr("var_ref")),
		VarCheck:       strings.TrimSpace(n.attr("var_check")),
		EntityCheck:    strings.TrimSpace(n.attr("entity_check")),
		CheckExistence: strings.TrimSpace(n.attr("check_existence")),
		Nil:            n.isNil(),
	}
	for _, c := range n.children {
		if c.name.Local == "field" {
			f := parseEntity(c)
			f.Name = c.attr("name")
			e.Fields = append(e.Fields, f)
		}
	}
	return e
}

func (p *parser) state(n *node) error {
	id, err := p.id(n, func(id string) bool { return p.defs.States[id] != nil })
	if err != nil {
		return err
	}
	s := &State{ID: id, Type: n.name.Local, Family: family(n.name), Comment: n.attr("comment"),
		Operator: strings.TrimSpace(n.attr("operator"))}
	switch s.Operator {
	case "":
		s.Operator = "AND"
	case "AND", "OR", "ONE", "XOR":
	default:
		return errorf(n, id, "unknown operator %q", s.Operator)
	}
	for _, c := range n.children {
		if (c.core() && c.name.Local == "notes") || c.name.Local == "Signature" {
			continue
		}
		s.Entities = append(s.Entities, parseEntity(c))
	}
	p.defs.States[id] = s
	return nil
}

func (p *parser) variable(n *node) error {
	switch n.name.Local {
	case "constant_variable", "external_variable", "local_variable":
	default:
		return nil
	}
	id, err := p.id(n, func(id string) bool { return p.defs.Variables[id] != nil })
	if err != nil {
		return err
	}
	v := &Variable{ID: id, Kind: n.name.Local, Datatype: strings.TrimSpace(n.attr("datatype")), Comment: n.attr("comment")}
	if v.Datatype == "" {
		v.Datatype = "string"
	}
	switch v.Kind {
	case "constant_variable":
		for _, c := range n.children {
			if c.name.Local == "value" {
				v.Values = append(v.Values, c.text)
			}
		}
		if len(v.Values) == 0 {
			return errorf(n, id, "constant_variable without value")
		}
	case "local_variable":
		for _, c := range n.children {
			if (c.core() && c.name.Local == "notes") || c.name.Local == "Signature" {
				continue
			}
			if v.Component, err = parseComponent(c, id); err != nil {
				return err
			}
			break
		}
		if v.Component == nil {
			return errorf(n, id, "local_variable without component")
		}
	}
	p.defs.Variables[id] = v
	return nil
}

func parseComponent(n *node, varID string) (*Component, error) {
	c := &Component{Kind: n.name.Local}
	switch c.Kind {
	case "literal_component":
		c.Value = n.text
		c.Datatype = strings.TrimSpace(n.attr("datatype"))
		if c.Datatype == "" {
			c.Datatype = "string"
		}
		return c, nil
	case "object_component":
		c.ObjectRef = strings.TrimSpace(n.attr("object_ref"))
		c.ItemField = strings.TrimSpace(n.attr("item_field"))
		c.RecordField = strings.TrimSpace(n.attr("record_field"))
		if c.ObjectRef == "" || c.ItemField == "" {
			return nil, errorf(n, varID, "object_component needs object_ref and item_field")
		}
		return c, nil
	case "variable_component":
		c.VarRef = strings.TrimSpace(n.attr("var_ref"))
		if c.VarRef == "" {
			return nil, errorf(n, varID, "variable_component without var_ref")
		}
		return c, nil
	case "arithmetic":
		c.ArithmeticOp = strings.TrimSpace(n.attr("arithmetic_operation"))
	case "substring":
		var err error
		if c.Start, err = strconv.Atoi(strings.TrimSpace(n.attr("substring_start"))); err != nil {
			return nil, errorf(n, varID, "bad substring_start %q", n.attr("substring_start"))
		}
		if c.Length, err = strconv.Atoi(strings.TrimSpace(n.attr("substring_length"))); err != nil {
			return nil, errorf(n, varID, "bad substring_length %q", n.attr("substring_length"))
		}
	case "regex_capture":
		c.Pattern = n.attr("pattern")
	case "glob_to_regex":
		c.GlobNoEscape = parseBoolAttr(n.attr("glob_noescape"))
	case "split":
		c.Delimiter = n.attr("delimiter")
	case "begin", "end":
		c.Character = n.attr("character")
	case "time_difference":
		c.Format1 = strings.TrimSpace(n.attr("format_1"))
		c.Format2 = strings.TrimSpace(n.attr("format_2"))
		if c.Format1 == "" {
			c.Format1 = "year_month_day"
		}
		if c.Format2 == "" {
			c.Format2 = "year_month_day"
		}
	}
	for _, ch := range n.children {
		arg, err := parseComponent(ch, varID)
		if err != nil {
			return nil, err
		}
		c.Args = append(c.Args, arg)
	}
	return c, nil
}
