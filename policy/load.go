package policy

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v3"
)

// Schema is the JSON Schema (draft 2020-12) of policy files, for editors and
// CI linting. Parse validates every file against it, then applies the checks
// a schema cannot express.
//
//go:embed schema.json
var Schema []byte

// APIVersion is the only format version Parse accepts in apiVersion.
const APIVersion = "plumb/v1"

// MaxFileSize is the largest policy file Parse accepts.
const MaxFileSize = 8 << 20

// maxErrors caps how many problems one file reports.
const maxErrors = 50

// maxDepth caps YAML nesting: real files need about ten levels, and deep
// nesting only makes validation slow.
const maxDepth = 64

// File is the content of one policy file.
type File struct {
	Controls []*Control
	Policies []*Policy
}

// Error is one problem found in a policy file. Line and Column are 1-based
// and zero when the problem concerns the whole file; Field is the path of the
// offending value, such as controls[3].check.sshd.op.
type Error struct {
	File    string
	Line    int
	Column  int
	Field   string
	Message string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// document is the decoding target of a whole file.
type document struct {
	APIVersion string     `yaml:"apiVersion"`
	Controls   []*Control `yaml:"controls"`
	Policies   []*Policy  `yaml:"policies"`
}

// compiledSchema is Schema, compiled on first use. It is immutable once
// built, so sharing it between goroutines is safe.
var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
	if err != nil {
		return nil, fmt.Errorf("policy schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("schema.json", doc); err != nil {
		return nil, fmt.Errorf("policy schema: %w", err)
	}
	sch, err := c.Compile("schema.json")
	if err != nil {
		return nil, fmt.Errorf("policy schema: %w", err)
	}
	return sch, nil
})

// rawSchema is Schema as plain values, to look up descriptions and allowed
// property names for error messages.
var rawSchema = sync.OnceValue(func() any {
	doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
	return doc
})

// Parse reads one policy file: a single YAML document with optional
// apiVersion, controls and policies. name is used in messages and in the
// Source of what it defines. The file is validated against Schema and then
// semantically (patterns compile, integer operators have integer values,
// paths are absolute, CIDs are unique...). Every problem is reported, up to
// a cap, as an *Error naming the file, line, column and field, joined with
// errors.Join; on any error Parse returns a nil *File.
//
// YAML anchors, aliases, merge keys and tags other than !!str are refused:
// policy files are data meant to be read by people.
func Parse(name string, data []byte) (*File, error) {
	p := &parser{name: name}
	if len(data) > MaxFileSize {
		p.add(0, 0, "", "file is %d bytes; policy files are limited to %d bytes (8 MiB)", len(data), MaxFileSize)
		return nil, p.err()
	}
	if !utf8.Valid(data) {
		line, col := offsetPos(data, invalidUTF8(data))
		p.add(line, col, "", "not UTF-8 text")
		return nil, p.err()
	}
	root := p.parseYAML(data)
	if p.failed() {
		return nil, p.err()
	}
	if root == nil || (root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null") {
		return &File{}, nil // empty file, or only comments
	}
	p.root = root
	p.checkNodes(root, nil, 1)
	if p.failed() {
		return nil, p.err()
	}
	p.validateSchema(toValue(root))
	if p.failed() {
		return nil, p.err()
	}
	var doc document
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		p.yamlError(err)
		return nil, p.err()
	}
	p.checkDocument(&doc)
	if p.failed() {
		return nil, p.err()
	}
	return &File{Controls: doc.Controls, Policies: doc.Policies}, nil
}

// AddFile adds the controls and policies of f to the library. Duplicate
// CIDs or policy IDs are errors; on error nothing is added. Call Check once
// every file is added.
func (l *Library) AddFile(f *File) error {
	return l.Add(f.Controls, f.Policies)
}

// LoadFS parses every file of fsys matching glob (fs.Glob syntax), in
// lexical order, into one library and checks its cross references. All
// problems of all files are reported together.
func LoadFS(fsys fs.FS, glob string) (*Library, error) {
	names, err := fs.Glob(fsys, glob)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no policy files match %q", glob)
	}
	sort.Strings(names)
	return load(names, func(name string) ([]byte, error) {
		f, err := fsys.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readLimited(f)
	})
}

// LoadFiles is LoadFS for files on disk, in the order given.
func LoadFiles(paths ...string) (*Library, error) {
	return load(paths, func(name string) ([]byte, error) {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readLimited(f)
	})
}

// ReadFile reads a policy file from disk, refusing files over MaxFileSize
// without reading them whole.
func ReadFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := readLimited(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return data, nil
}

func readLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("file is larger than %d bytes (8 MiB), the limit for policy files", MaxFileSize)
	}
	return data, nil
}

func load(names []string, read func(string) ([]byte, error)) (*Library, error) {
	lib := NewLibrary()
	var errs []error
	for _, name := range names {
		data, err := read(name)
		if err != nil {
			if !strings.Contains(err.Error(), name) {
				err = fmt.Errorf("%s: %w", name, err)
			}
			errs = append(errs, err)
			continue
		}
		f, err := Parse(name, data)
		if err == nil {
			err = lib.AddFile(f)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := lib.Check(); err != nil {
		return nil, err
	}
	return lib, nil
}

// parser collects the problems of one file.
type parser struct {
	name    string
	root    *yaml.Node
	errs    []*Error
	dropped int
}

func (p *parser) failed() bool { return len(p.errs) > 0 }

func (p *parser) add(line, col int, field, format string, args ...any) {
	if len(p.errs) >= maxErrors {
		p.dropped++
		return
	}
	p.errs = append(p.errs, &Error{File: p.name, Line: line, Column: col, Field: field, Message: fmt.Sprintf(format, args...)})
}

// addAt reports a problem at the node found at the path (JSON pointer
// tokens) or, if the path does not exist, at its deepest existing parent.
func (p *parser) addAt(tokens []string, format string, args ...any) {
	n, field := p.locate(tokens)
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	p.add(line, col, field, format, args...)
}

// addAtKey reports a problem at the key of property prop of the mapping
// at tokens.
func (p *parser) addAtKey(tokens []string, prop, format string, args ...any) {
	n, field := p.locate(tokens)
	field = joinField(field, prop)
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
		if k, _ := mappingEntry(n, prop); k != nil {
			line, col = k.Line, k.Column
		}
	}
	p.add(line, col, field, format, args...)
}

func (p *parser) err() error {
	sort.SliceStable(p.errs, func(i, j int) bool {
		a, b := p.errs[i], p.errs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	errs := make([]error, 0, len(p.errs)+1)
	for _, e := range p.errs {
		errs = append(errs, e)
	}
	if p.dropped > 0 {
		errs = append(errs, fmt.Errorf("%s: %d more problems not shown", p.name, p.dropped))
	}
	return errors.Join(errs...)
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns a go-yaml error into positioned errors.
func (p *parser) yamlError(err error) {
	var msgs []string
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	} else {
		msgs = []string{err.Error()}
	}
	for _, m := range msgs {
		if sub := yamlLineRE.FindStringSubmatch(m); sub != nil {
			line, _ := strconv.Atoi(sub[1])
			p.add(line, 0, "", "%s", sub[2])
			continue
		}
		p.add(0, 0, "", "%s", strings.TrimPrefix(m, "yaml: "))
	}
}

// parseYAML returns the root node of the only document, or nil when the
// file holds no document.
func (p *parser) parseYAML(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err != io.EOF {
			p.yamlError(err)
		}
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == io.EOF:
	case err != nil:
		p.yamlError(err)
		return nil
	default:
		p.add(next.Line, next.Column, "", "more than one YAML document: a policy file holds exactly one (remove the second ---)")
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
}

// checkNodes refuses what the format does not allow whatever the schema:
// anchors, aliases, non-string tags, complex or duplicate keys.
func (p *parser) checkNodes(n *yaml.Node, tokens []string, depth int) {
	if depth > maxDepth {
		p.addNode(n, tokens[:maxDepth-1], "nested more than %d levels deep", maxDepth)
		return
	}
	if n.Anchor != "" {
		p.addNode(n, tokens, "YAML anchors (&%s) are not allowed in policy files; repeat the content instead", n.Anchor)
	}
	if n.Kind == yaml.AliasNode {
		p.addNode(n, tokens, "YAML aliases (*%s) are not allowed in policy files; repeat the content instead", n.Value)
		return
	}
	if n.Style&yaml.TaggedStyle != 0 && n.Tag != "!!str" && n.Tag != "tag:yaml.org,2002:str" && n.Tag != "!" {
		p.addNode(n, tokens, "YAML tag %s is not allowed in policy files (quote a value to make it a string)", n.Tag)
	}
	switch n.Kind {
	case yaml.MappingNode:
		seen := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				p.addNode(k, tokens, "mapping keys must be plain words")
				continue
			}
			if k.Anchor != "" || k.Style&yaml.TaggedStyle != 0 {
				p.checkNodes(k, tokens, depth)
			}
			if first := seen[k.Value]; first != nil {
				p.add(k.Line, k.Column, p.fieldOf(append(slices.Clip(tokens), k.Value)), "duplicate key %q (first at line %d)", k.Value, first.Line)
				continue
			}
			seen[k.Value] = k
			p.checkNodes(v, append(slices.Clip(tokens), k.Value), depth+1)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p.checkNodes(c, append(slices.Clip(tokens), strconv.Itoa(i)), depth+1)
		}
	}
}

func (p *parser) addNode(n *yaml.Node, tokens []string, format string, args ...any) {
	p.add(n.Line, n.Column, p.fieldOf(tokens), format, args...)
}

// fieldOf renders JSON pointer tokens as a field path.
func (p *parser) fieldOf(tokens []string) string {
	_, field := p.locateFrom(p.root, tokens)
	return field
}

// locate finds the node at tokens and renders the path as a field, such as
// controls[3].check.sshd.op. Missing trailing tokens are still rendered.
func (p *parser) locate(tokens []string) (*yaml.Node, string) {
	return p.locateFrom(p.root, tokens)
}

func (p *parser) locateFrom(n *yaml.Node, tokens []string) (*yaml.Node, string) {
	field := ""
	found := n
	for _, tok := range tokens {
		if n != nil && n.Kind == yaml.SequenceNode {
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 {
				field += "[" + tok + "]"
				if i < len(n.Content) {
					n = n.Content[i]
					found = n
				} else {
					n = nil
				}
				continue
			}
		}
		field = joinField(field, tok)
		if n != nil && n.Kind == yaml.MappingNode {
			_, v := mappingEntry(n, tok)
			n = v
			if v != nil {
				found = v
			}
		} else {
			n = nil
		}
	}
	return found, field
}

var plainField = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func joinField(field, tok string) string {
	if !plainField.MatchString(tok) {
		return field + "[" + strconv.Quote(tok) + "]"
	}
	if field == "" {
		return tok
	}
	return field + "." + tok
}

func mappingEntry(n *yaml.Node, key string) (k, v *yaml.Node) {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}

// toValue converts a checked node tree into the plain values JSON Schema
// validation works on. Scalars keep their YAML 1.2 type.
func toValue(n *yaml.Node) any {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return toValue(n.Content[0])
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = toValue(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, len(n.Content))
		for i, c := range n.Content {
			s[i] = toValue(c)
		}
		return s
	case yaml.ScalarNode:
		var v any
		switch n.ShortTag() {
		case "!!null":
			return nil
		case "!!bool", "!!int", "!!float":
			if err := n.Decode(&v); err != nil {
				return n.Value
			}
		default:
			return n.Value
		}
		switch x := v.(type) {
		case bool, int64, uint64:
			return x
		case int:
			return int64(x)
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return n.Value
			}
			return x
		}
		return n.Value
	}
	return nil
}

// validateSchema validates v against Schema and reports each leaf error at
// the node it concerns.
func (p *parser) validateSchema(v any) {
	sch, err := compiledSchema()
	if err != nil {
		p.add(0, 0, "", "%v", err)
		return
	}
	err = sch.Validate(v)
	if err == nil {
		return
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		p.add(0, 0, "", "%v", err)
		return
	}
	for _, leaf := range leaves(ve, nil) {
		p.schemaError(leaf)
	}
}

func leaves(e *jsonschema.ValidationError, out []*jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(e.Causes) == 0 {
		return append(out, e)
	}
	for _, c := range e.Causes {
		out = leaves(c, out)
	}
	return out
}

// schemaAt returns the raw schema object a validation error points into.
func schemaAt(url string) map[string]any {
	_, frag, _ := strings.Cut(url, "#")
	var cur any = rawSchema()
	for _, tok := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		if tok == "" {
			continue
		}
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[tok]
	}
	m, _ := cur.(map[string]any)
	return m
}

func describeSchema(url string) string {
	d, _ := schemaAt(url)["description"].(string)
	return d
}

func allowedProperties(url string) []string {
	props, _ := schemaAt(url)["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// checkKinds lists the check kinds in documentation order.
var checkKinds = []string{"file", "line", "sshd", "setting", "sysctl", "package", "service", "mount",
	"module", "accounts", "pam", "search", "command", "manual", "all", "any"}

func isCheckSchema(url string) bool { return strings.HasSuffix(url, "#/$defs/check") }

func (p *parser) schemaError(e *jsonschema.ValidationError) {
	tokens := e.InstanceLocation
	switch k := e.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		for _, prop := range k.Properties {
			if isCheckSchema(e.SchemaURL) {
				p.addAtKey(tokens, prop, "unknown check kind %q (want one of %s)", prop, strings.Join(checkKinds, ", "))
				continue
			}
			allowed := allowedProperties(e.SchemaURL)
			if len(allowed) == 0 {
				p.addAtKey(tokens, prop, "invalid key %q: keys are lowercase letters, digits, '.' and '-'", prop)
				continue
			}
			p.addAtKey(tokens, prop, "unknown field %q (allowed: %s)", prop, strings.Join(allowed, ", "))
		}
	case *kind.Required:
		for _, m := range k.Missing {
			p.addAt(tokens, "missing required field %q", m)
		}
	case *kind.MinProperties:
		if isCheckSchema(e.SchemaURL) {
			p.addAt(tokens, "empty check: give exactly one check kind (%s)", strings.Join(checkKinds, ", "))
			return
		}
		p.addAt(tokens, "must have at least %d fields", k.Want)
	case *kind.MaxProperties:
		n, _ := p.locate(tokens)
		if isCheckSchema(e.SchemaURL) && n != nil && n.Kind == yaml.MappingNode {
			var names []string
			for i := 0; i+1 < len(n.Content); i += 2 {
				names = append(names, n.Content[i].Value)
			}
			p.addAt(tokens, "a check has exactly one kind, found %d: %s (combine them with all: or any:)", len(names), strings.Join(names, ", "))
			return
		}
		p.addAt(tokens, "must have at most %d fields", k.Want)
	case *kind.Type:
		got := k.Got
		if n, _ := p.locate(tokens); n != nil && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
			got = "integer"
		}
		msg := fmt.Sprintf("must be %s, not %s", article(k.Want), article([]string{got}))
		if slices.Contains(k.Want, "string") && k.Got != "object" && k.Got != "array" && k.Got != "null" {
			msg += " (quote the value)"
		}
		p.addAt(tokens, "%s", msg)
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = fmt.Sprint(w)
		}
		p.addAt(tokens, "%s is not allowed; must be one of %s", show(k.Got), strings.Join(want, ", "))
	case *kind.Const:
		p.addAt(tokens, "%s is not allowed; must be %v", show(k.Got), k.Want)
	case *kind.MinItems:
		if k.Want == 1 {
			p.addAt(tokens, "must not be empty")
			return
		}
		p.addAt(tokens, "must have at least %d items", k.Want)
	case *kind.MinLength:
		p.addAt(tokens, "must not be empty")
	case *kind.Pattern:
		if d := describeSchema(e.SchemaURL); d != "" {
			p.addAt(tokens, "%q is not allowed; must be %s", k.Got, d)
			return
		}
		p.addAt(tokens, "%q does not match %s", k.Got, k.Want)
	case *kind.Minimum:
		p.addAt(tokens, "%s is too small; must be at least %s", k.Got.RatString(), k.Want.RatString())
	case *kind.Maximum:
		p.addAt(tokens, "%s is too large; must be at most %s", k.Got.RatString(), k.Want.RatString())
	default:
		msg := e.Error()
		if _, after, ok := strings.Cut(msg, "': "); ok && strings.HasPrefix(msg, "at '") {
			msg = after
		}
		p.addAt(tokens, "%s", msg)
	}
}

func article(types []string) string {
	out := make([]string, len(types))
	for i, t := range types {
		switch t {
		case "object":
			out[i] = "a mapping"
		case "array":
			out[i] = "a list"
		case "null":
			out[i] = "null (empty)"
		case "integer":
			out[i] = "an integer"
		default:
			out[i] = "a " + t
		}
	}
	return strings.Join(out, " or ")
}

func show(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

// Semantic checks: what the schema cannot express.

var policyIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*$`)

func tok(base []string, more ...any) []string {
	out := slices.Clip(base)
	for _, m := range more {
		switch x := m.(type) {
		case string:
			out = append(out, x)
		case int:
			out = append(out, strconv.Itoa(x))
		}
	}
	return out
}

func (p *parser) line(tokens []string) int {
	n, _ := p.locate(tokens)
	if n == nil {
		return 0
	}
	return n.Line
}

func (p *parser) checkDocument(doc *document) {
	if doc.APIVersion != "" && doc.APIVersion != APIVersion {
		p.addAt([]string{"apiVersion"}, "unsupported apiVersion %q; want %s", doc.APIVersion, APIVersion)
	}
	cids := map[int]int{}
	for i, c := range doc.Controls {
		base := tok(nil, "controls", i)
		if c == nil {
			p.addAt(base, "empty control")
			continue
		}
		c.Source = fmt.Sprintf("%s:%d", p.name, p.line(base))
		if first, ok := cids[c.CID]; ok {
			p.addAt(tok(base, "cid"), "duplicate cid %d (first defined at line %d)", c.CID, p.line(tok(nil, "controls", first)))
		} else {
			cids[c.CID] = i
		}
		if c.Criticality < Minimal || c.Criticality > Urgent {
			p.addAt(tok(base, "criticality"), "criticality must be minimal, medium, serious, critical or urgent (1-5)")
		}
		for j, t := range c.Technologies {
			if !KnownTechnology(t) {
				p.addAt(tok(base, "technologies", j), "unknown technology %q", t)
			}
		}
		switch c.Method {
		case "", MethodScanner, MethodAgent, MethodBoth:
		default:
			p.addAt(tok(base, "method"), "unknown method %q", c.Method)
		}
		p.checkCheck(&c.Check, tok(base, "check"), true)
		if c.Applicable != nil {
			if c.Applicable.Manual != "" {
				p.addAt(tok(base, "applicable", "manual"), "an applicability condition must be an automated check, not manual")
			} else {
				p.checkCheck(c.Applicable, tok(base, "applicable"), false)
			}
		}
	}
	ids := map[string]int{}
	for i, pol := range doc.Policies {
		base := tok(nil, "policies", i)
		if pol == nil {
			p.addAt(base, "empty policy")
			continue
		}
		pol.Source = fmt.Sprintf("%s:%d", p.name, p.line(base))
		if !policyIDRE.MatchString(pol.ID) {
			p.addAt(tok(base, "id"), "policy id %q must be lowercase letters, digits, '.' and '-', starting with a letter or digit", pol.ID)
		}
		if first, ok := ids[pol.ID]; ok {
			p.addAt(tok(base, "id"), "duplicate policy id %q (first defined at line %d)", pol.ID, p.line(tok(nil, "policies", first)))
		} else {
			ids[pol.ID] = i
		}
		if len(pol.Controls) == 0 && len(pol.Extends) == 0 {
			p.addAt(base, "policy %s selects no controls: add controls or extends", pol.ID)
		}
		ext := map[string]bool{}
		for j, e := range pol.Extends {
			switch {
			case e == pol.ID:
				p.addAt(tok(base, "extends", j), "policy %s extends itself", pol.ID)
			case ext[e]:
				p.addAt(tok(base, "extends", j), "policy %s is extended twice", e)
			case !policyIDRE.MatchString(e):
				p.addAt(tok(base, "extends", j), "%q is not a valid policy id", e)
			}
			ext[e] = true
		}
		if err := pol.CheckWeights(); err != nil {
			p.addAt(tok(base, "weights"), "%v", err)
		}
		sel := map[int]int{}
		for j, s := range pol.Controls {
			if first, ok := sel[s.CID]; ok {
				p.addAt(tok(base, "controls", j, "cid"), "cid %d is selected twice in this policy (first at line %d)", s.CID, p.line(tok(base, "controls", first)))
			} else {
				sel[s.CID] = j
			}
			if s.CID <= 0 {
				p.addAt(tok(base, "controls", j, "cid"), "cid must be a positive integer")
			}
			if s.Criticality != nil && (*s.Criticality < Minimal || *s.Criticality > Urgent) {
				p.addAt(tok(base, "controls", j, "criticality"), "criticality must be minimal, medium, serious, critical or urgent (1-5)")
			}
		}
	}
}

// kinds lists the check kinds set in c.
func kinds(c *Check) []string {
	var out []string
	set := []bool{c.File != nil, c.Line != nil, c.SSHD != nil, c.Setting != nil, c.Sysctl != nil,
		c.Package != nil, c.Service != nil, c.Mount != nil, c.Module != nil, c.Accounts != nil,
		c.PAM != nil, c.Search != nil, c.Command != nil, c.Manual != "", c.All != nil, c.Any != nil}
	for i, ok := range set {
		if ok {
			out = append(out, checkKinds[i])
		}
	}
	return out
}

var ageingRules = []string{"max_days", "min_days", "warn_days", "inactive_days"}

// checkCheck validates one check; top is false inside all/any and for
// applicability conditions, where manual is not allowed.
func (p *parser) checkCheck(c *Check, base []string, top bool) {
	ks := kinds(c)
	if len(ks) != 1 {
		if len(ks) == 0 {
			p.addAt(base, "empty check: give exactly one check kind (%s)", strings.Join(checkKinds, ", "))
		} else {
			p.addAt(base, "a check has exactly one kind, found %d: %s", len(ks), strings.Join(ks, ", "))
		}
		return
	}
	k := ks[0]
	at := tok(base, k)
	switch {
	case c.File != nil:
		f := c.File
		p.absPath(tok(at, "path"), f.Path, false)
		if f.Mode != "" {
			if m, err := strconv.ParseUint(f.Mode, 8, 32); err != nil || m > 0o7777 {
				p.addAt(tok(at, "mode"), "mode %q is not an octal mode between 0000 and 7777", f.Mode)
			}
		}
		if f.Exists != nil && !*f.Exists && (f.Mode != "" || f.Owner != "" || f.Group != "") {
			p.addAt(at, "mode, owner and group cannot be checked on a file expected to be absent (exists: false)")
		}
	case c.Line != nil:
		p.absPath(tok(at, "path"), c.Line.Path, true)
		if _, err := regexp.Compile(c.Line.Pattern); err != nil {
			p.addAt(tok(at, "pattern"), "invalid regular expression: %s", reError(err))
		}
		switch c.Line.Expect {
		case "", "present", "absent":
		default:
			p.addAt(tok(at, "expect"), "expect must be present or absent")
		}
	case c.SSHD != nil:
		p.compare(c.SSHD.Compare, at, true)
	case c.Setting != nil:
		p.absPath(tok(at, "path"), c.Setting.Path, true)
		p.compare(c.Setting.Compare, at, true)
	case c.Sysctl != nil:
		p.compare(c.Sysctl.Compare, at, true)
	case c.Package != nil:
		if c.Package.Installed != nil && !*c.Package.Installed && c.Package.MinVersion != "" {
			p.addAt(tok(at, "min_version"), "min_version cannot be combined with installed: false")
		}
	case c.Service != nil:
	case c.Mount != nil:
		p.absPath(tok(at, "path"), c.Mount.Path, false)
	case c.Module != nil:
	case c.Accounts != nil:
		if slices.Contains(ageingRules, c.Accounts.Rule) {
			p.compare(c.Accounts.Compare, at, true)
		} else if hasCompare(c.Accounts.Compare) {
			p.addAt(at, "rule %s takes no op, value, values or default (only %s do)", c.Accounts.Rule, strings.Join(ageingRules, ", "))
		}
	case c.PAM != nil:
		pc := c.PAM
		p.absPath(tok(at, "file"), pc.File, false)
		switch {
		case pc.Present != nil && !*pc.Present && (pc.Arg != "" || hasCompare(pc.Compare)):
			p.addAt(at, "arg, op and value cannot be checked on a line expected to be absent (present: false)")
		case pc.Arg == "" && hasCompare(pc.Compare):
			p.addAt(at, "op, value, values and default compare a module argument: set arg")
		default:
			p.compare(pc.Compare, at, false)
		}
	case c.Search != nil:
		for i, g := range c.Search.Allow {
			p.absPath(tok(at, "allow", i), g, true)
		}
	case c.Command != nil:
		if len(c.Command.Argv) == 0 {
			p.addAt(tok(at, "argv"), "argv must name the program to run")
		} else if !path.IsAbs(c.Command.Argv[0]) {
			p.addAt(tok(at, "argv", 0), "the program %q must be an absolute path (commands never go through a shell or PATH)", c.Command.Argv[0])
		}
		if c.Command.Default != nil {
			p.addAt(tok(at, "default"), "default has no meaning for command output")
		}
		p.compare(c.Command.Compare, at, false)
	case c.Manual != "":
		if !top {
			p.addAt(at, "manual must be a control's whole check, not part of all, any or applicable")
		}
	case c.All != nil || c.Any != nil:
		parts := c.All
		if c.Any != nil {
			parts = c.Any
		}
		if len(parts) == 0 {
			p.addAt(at, "%s needs at least one check", k)
		}
		for i := range parts {
			p.checkCheck(&parts[i], tok(at, i), false)
		}
	}
}

func hasCompare(c Compare) bool {
	return c.Op != "" || c.Value != "" || len(c.Values) > 0 || c.Default != nil
}

// absPath checks that a path (or glob, when glob is set) is absolute and
// well formed.
func (p *parser) absPath(tokens []string, s string, glob bool) {
	switch {
	case !path.IsAbs(s):
		p.addAt(tokens, "%q is not an absolute path", s)
	case strings.ContainsRune(s, 0):
		p.addAt(tokens, "path contains a NUL byte")
	case glob:
		if _, err := path.Match(s, ""); err != nil {
			p.addAt(tokens, "%q is not a valid glob: %v", s, err)
		}
	}
}

// compare checks a comparison; required says the check is meaningless
// without an expected value.
func (p *parser) compare(c Compare, at []string, required bool) {
	op := c.Op
	if op == "" {
		op = OpEquals
	}
	if !slices.Contains(Ops, op) {
		p.addAt(tok(at, "op"), "unknown operator %q (want one of %s)", c.Op, strings.Join(Ops, ", "))
		return
	}
	switch op {
	case OpIn, OpNotIn:
		if len(c.Values) == 0 {
			p.addAt(at, "op %s needs values: a list of accepted values", op)
		}
		if c.Value != "" {
			p.addAt(tok(at, "value"), "op %s compares with values (a list), not value", op)
		}
		return
	}
	if len(c.Values) > 0 {
		p.addAt(tok(at, "values"), "values is only used by op in and not_in; use value with op %s", op)
	}
	if c.Value == "" {
		if required || c.Op != "" {
			p.addAt(at, "missing value: the expected value to compare with")
		}
		return
	}
	switch op {
	case OpMatches, OpNotMatches:
		if _, err := regexp.Compile(c.Value); err != nil {
			p.addAt(tok(at, "value"), "invalid regular expression: %s", reError(err))
		}
	case OpLT, OpLE, OpGT, OpGE:
		if _, err := strconv.ParseInt(strings.TrimSpace(c.Value), 10, 64); err != nil {
			p.addAt(tok(at, "value"), "op %s compares integers; %q is not an integer", op, c.Value)
		}
		if c.Default != nil {
			if _, err := strconv.ParseInt(strings.TrimSpace(*c.Default), 10, 64); err != nil {
				p.addAt(tok(at, "default"), "op %s compares integers; default %q is not an integer", op, *c.Default)
			}
		}
	}
}

func reError(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

// offsetPos converts a byte offset into a 1-based line and column.
func offsetPos(data []byte, off int) (line, col int) {
	if off < 0 || off > len(data) {
		return 0, 0
	}
	line = 1 + bytes.Count(data[:off], []byte{'\n'})
	col = 1 + utf8.RuneCount(data[bytes.LastIndexByte(data[:off], '\n')+1:off])
	return line, col
}

// invalidUTF8 returns the offset of the first byte that is not UTF-8.
func invalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}
