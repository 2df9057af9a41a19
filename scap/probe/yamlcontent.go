package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/plumbhq/plumb/scap/oval"
)

// collectYAMLContent reports yamlfilecontent_object (OVAL 5.11.2): for
// each selected file and each yamlpath value, one item holding what the
// path selects in the file's documents, or no item when it selects
// nothing (as oscap).
//
// OVAL's value entity is a record, and oscap fills it as its event
// filter sees the selection: scalars (a scalar, or a sequence of them)
// become one record whose field "#" holds every scalar; each selected
// map becomes a record with a field per key. oval.Item holds flat
// entities only, so here:
//
//   - every selected scalar is one "value" entity, in document order,
//     typed as oscap types it: an untagged plain scalar is a boolean
//     (true/True/TRUE, false/...), an int (decimal, 0o octal, 0x hex), a
//     float (including .inf and .nan) or else a string; a quoted scalar is
//     a string; an explicit !!bool, !!int, !!float or !!str tag is obeyed.
//     These are the values of oscap's field "#".
//   - a selected map (a record with named fields) cannot be represented:
//     it gives one "value" entity of datatype record with status "not
//     collected". A test that only checks existence still works.
//
// The YAML path subset is that of OpenSCAP's yaml-path library (v1),
// which SCAP Security Guide content is written for; see parseYAMLPath.
// Files are bounded by Options.MaxFileSize, and aliases are followed
// (oscap's event filter does not) within a bounded amount of work, so an
// alias bomb is refused instead of expanded. Merge keys ("<<") are not
// applied. A file that is not valid YAML flags the object error; a path
// that does not parse or selects a nested structure oscap refuses (a map
// inside a map, a sequence of sequences of maps) gives an item with
// status error.
func (p *Prober) collectYAMLContent(ctx context.Context, obj *oval.Object) (oval.Collected, error) {
	paths, err := contentValues(obj, "yamlpath")
	if err != nil {
		return oval.Collected{Flag: oval.FlagError, Message: err.Error()}, nil
	}
	type compiled struct {
		src  string
		segs []yseg
		err  error
	}
	exprs := make([]compiled, len(paths))
	for i, x := range paths {
		segs, err := parseYAMLPath(x)
		exprs[i] = compiled{x, segs, err}
	}
	return p.collectFileContent(ctx, obj, func(r *result, label string, data []byte) {
		docs, err := parseYAMLDocs(data)
		if err != nil {
			r.itemError(fmt.Sprintf("%s: not valid YAML: %v", label, err))
			return
		}
		dir, name := splitPath(label)
		for _, c := range exprs {
			ents := []oval.ItemEntity{strEnt("filepath", label), strEnt("path", dir), strEnt("filename", name), strEnt("yamlpath", c.src)}
			fail := func(err error) {
				r.add(oval.Item{Status: oval.StatusError, Entities: append(ents, missingEnt("value", "", oval.StatusError)),
					Message: fmt.Sprintf("yamlpath %q: %v", c.src, err)}, "")
			}
			if c.err != nil {
				fail(c.err)
				continue
			}
			vals, err := queryYAML(docs, c.segs)
			if err != nil {
				fail(err)
				continue
			}
			if len(vals) == 0 {
				continue
			}
			r.add(oval.Item{Entities: append(ents, vals...)}, "")
		}
	})
}

// parseYAMLDocs parses every document of a stream. Aliases stay
// unexpanded in the tree.
func parseYAMLDocs(data []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &n)
	}
}

// ---- YAML path ----

type ysegKind uint8

const (
	ySegKey     ysegKind = iota // .key, ['key']: the value, unwrapped
	ySegKeys                    // ['a','b'], .*, [*]: a map of those keys
	ySegIndex                   // [N]: the element, unwrapped
	ySegIndexes                 // [N,M], [a:b:c], [:]: a sequence of those elements
	ySegAnchor                  // &name: the node with that anchor
)

type yseg struct {
	kind    ysegKind
	keys    []string // ySegKey (one), ySegKeys (nil: all keys)
	index   int      // ySegIndex
	indexes []int    // ySegIndexes as a set (nil with a slice)
	slice   [3]int   // start, end (-1: to the end), step
	name    string   // ySegAnchor
}

const (
	maxYAMLPathLen  = 4096
	maxYAMLPathSegs = 256
	// maxYAMLWork bounds the nodes one query visits, counting every
	// alias followed: the expansion an alias bomb asks for is refused.
	maxYAMLWork = 1_000_000
)

var yamlIndexRE = regexp.MustCompile(`^\s*[0-9]+\s*$`)

// parseYAMLPath parses the path syntax of OpenSCAP's yaml-path (v1):
//
//   - an optional "$" (the document root), then segments;
//   - ".key", or "key" as the first segment: a map key (up to the next
//     "." or "["); ".*" selects every key;
//   - "['key']" or `["key"]`: a key with any characters but its quote;
//     "['a','b']" a selection of keys, "[*]" every key;
//   - "[N]": a sequence element (N >= 0); "[N,M,...]" a set of them;
//     "[start:end:step]" a slice, each part optional ("[:]" is every
//     element);
//   - "&anchor" as the first segment: start from the node with that
//     anchor instead of the document root.
//
// A single key or index selects the value itself; a selection (several
// keys, all keys, a set, a slice) keeps the map or sequence around what
// it selects, which then becomes records and scalars as oscap's filter
// would. As a convenience, "[*]" or ".*" on a sequence selects every
// element, like "[:]".
func parseYAMLPath(s string) ([]yseg, error) {
	if len(s) > maxYAMLPathLen {
		return nil, fmt.Errorf("YAML path longer than %d bytes", maxYAMLPathLen)
	}
	if s == "" {
		return nil, errors.New("empty YAML path")
	}
	i := 0
	if strings.HasPrefix(s, "$") {
		i = 1
	}
	var segs []yseg
	add := func(g yseg) error {
		if len(segs) == maxYAMLPathSegs {
			return fmt.Errorf("more than %d segments", maxYAMLPathSegs)
		}
		segs = append(segs, g)
		return nil
	}
	if i == 0 && s[0] == '&' {
		j := 1
		for j < len(s) && s[j] != '.' && s[j] != '[' {
			j++
		}
		if j == 1 {
			return nil, errors.New("empty anchor name")
		}
		segs = append(segs, yseg{kind: ySegAnchor, name: s[1:j]})
		i = j
	} else if i == 0 && s[0] != '.' && s[0] != '[' {
		s = "." + s // a leading key needs no dot
	}
	for i < len(s) {
		switch s[i] {
		case '.':
			j := i + 1
			for j < len(s) && s[j] != '.' && s[j] != '[' {
				j++
			}
			key := s[i+1 : j]
			switch {
			case key == "" && j == len(s) && len(segs) == 0:
				// "." or "$.": the whole document
			case key == "":
				return nil, fmt.Errorf("at offset %d: empty key", i)
			case key == "*":
				if err := add(yseg{kind: ySegKeys}); err != nil {
					return nil, err
				}
			default:
				if strings.ContainsAny(key, "]'\"") {
					return nil, fmt.Errorf("at offset %d: %q: quote a key with special characters as ['key']", i, key)
				}
				if err := add(yseg{kind: ySegKey, keys: []string{key}}); err != nil {
					return nil, err
				}
			}
			i = j
		case '[':
			g, n, err := parseYAMLBracket(s[i:])
			if err != nil {
				return nil, fmt.Errorf("at offset %d: %v", i, err)
			}
			if err := add(g); err != nil {
				return nil, err
			}
			i += n
		default:
			return nil, fmt.Errorf("at offset %d: unexpected %q", i, s[i:i+1])
		}
	}
	return segs, nil
}

// parseYAMLBracket parses one "[...]" segment at the start of s and
// returns it with its length.
func parseYAMLBracket(s string) (yseg, int, error) {
	if q := strings.TrimLeft(s[1:], " "); q != "" && (q[0] == '\'' || q[0] == '"') {
		// Quoted keys: ['a', "b"]
		i := len(s) - len(q)
		var keys []string
		for {
			for i < len(s) && s[i] == ' ' {
				i++
			}
			if i >= len(s) || (s[i] != '\'' && s[i] != '"') {
				return yseg{}, 0, errors.New("expected a quoted key")
			}
			end := strings.IndexByte(s[i+1:], s[i])
			if end < 0 {
				return yseg{}, 0, errors.New("unterminated quoted key")
			}
			keys = append(keys, s[i+1:i+1+end])
			i += end + 2
			for i < len(s) && s[i] == ' ' {
				i++
			}
			if i >= len(s) {
				return yseg{}, 0, errors.New("missing ]")
			}
			if s[i] == ']' {
				i++
				break
			}
			if s[i] != ',' {
				return yseg{}, 0, fmt.Errorf("unexpected %q in a key selection", s[i:i+1])
			}
			i++
		}
		if len(keys) == 1 {
			return yseg{kind: ySegKey, keys: keys}, i, nil
		}
		return yseg{kind: ySegKeys, keys: keys}, i, nil
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return yseg{}, 0, errors.New("missing ]")
	}
	body := strings.TrimSpace(s[1:end])
	n := end + 1
	switch {
	case body == "*":
		return yseg{kind: ySegKeys}, n, nil
	case strings.Contains(body, ":"):
		parts := strings.Split(body, ":")
		if len(parts) > 3 {
			return yseg{}, 0, fmt.Errorf("bad slice %q", body)
		}
		sl := [3]int{0, -1, 1}
		for k, part := range parts {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			if !yamlIndexRE.MatchString(part) {
				return yseg{}, 0, fmt.Errorf("bad slice %q (indexes are numbers >= 0)", body)
			}
			v, err := strconv.Atoi(part)
			if err != nil {
				return yseg{}, 0, fmt.Errorf("bad slice %q", body)
			}
			sl[k] = v
		}
		if sl[2] == 0 {
			return yseg{}, 0, fmt.Errorf("bad slice %q: step 0", body)
		}
		return yseg{kind: ySegIndexes, slice: sl}, n, nil
	}
	var idx []int
	for _, part := range strings.Split(body, ",") {
		if !yamlIndexRE.MatchString(part) {
			return yseg{}, 0, fmt.Errorf("bad index %q (indexes are numbers >= 0; quote keys as ['key'])", body)
		}
		v, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil {
			return yseg{}, 0, fmt.Errorf("bad index %q", part)
		}
		idx = append(idx, v)
	}
	if len(idx) == 1 {
		return yseg{kind: ySegIndex, index: idx[0]}, n, nil
	}
	return yseg{kind: ySegIndexes, indexes: idx}, n, nil
}

// yquery evaluates a path over one document, building the selection as a
// new tree (selections wrap what they keep; nil: nothing selected).
type yquery struct {
	work int
}

var errYAMLWork = fmt.Errorf("the YAML path visits more than %d nodes (alias expansion?)", maxYAMLWork)

func (q *yquery) tick() error {
	if q.work++; q.work > maxYAMLWork {
		return errYAMLWork
	}
	return nil
}

// deref follows aliases and unwraps a document node.
func (q *yquery) deref(n *yaml.Node) (*yaml.Node, error) {
	for n != nil && (n.Kind == yaml.AliasNode || n.Kind == yaml.DocumentNode) {
		if err := q.tick(); err != nil {
			return nil, err
		}
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) > 0 {
			n = n.Content[0]
		} else {
			n = nil
		}
	}
	return n, nil
}

func (q *yquery) eval(n *yaml.Node, segs []yseg) (*yaml.Node, error) {
	n, err := q.deref(n)
	if err != nil || n == nil {
		return nil, err
	}
	if err := q.tick(); err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		return n, nil
	}
	g, rest := segs[0], segs[1:]
	switch g.kind {
	case ySegKey:
		if n.Kind != yaml.MappingNode {
			return nil, nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, err := q.deref(n.Content[i])
			if err != nil {
				return nil, err
			}
			if k != nil && k.Kind == yaml.ScalarNode && k.Value == g.keys[0] {
				return q.eval(n.Content[i+1], rest)
			}
		}
		return nil, nil
	case ySegKeys:
		if n.Kind == yaml.SequenceNode && g.keys == nil {
			return q.elements(n, rest, func(int) bool { return true })
		}
		if n.Kind != yaml.MappingNode {
			return nil, nil
		}
		out := &yaml.Node{Kind: yaml.MappingNode}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, err := q.deref(n.Content[i])
			if err != nil {
				return nil, err
			}
			if k == nil || k.Kind != yaml.ScalarNode || (g.keys != nil && !slices.Contains(g.keys, k.Value)) {
				continue
			}
			v, err := q.eval(n.Content[i+1], rest)
			if err != nil {
				return nil, err
			}
			if v != nil {
				out.Content = append(out.Content, k, v)
			}
		}
		if len(out.Content) == 0 {
			return nil, nil
		}
		return out, nil
	case ySegIndex:
		if n.Kind != yaml.SequenceNode || g.index >= len(n.Content) {
			return nil, nil
		}
		return q.eval(n.Content[g.index], rest)
	case ySegIndexes:
		if n.Kind != yaml.SequenceNode {
			return nil, nil
		}
		if g.indexes != nil {
			return q.elements(n, rest, func(i int) bool { return slices.Contains(g.indexes, i) })
		}
		start, end, step := g.slice[0], g.slice[1], g.slice[2]
		return q.elements(n, rest, func(i int) bool {
			return i >= start && (end < 0 || i < end) && (i-start)%step == 0
		})
	case ySegAnchor:
		a, err := q.findAnchor(n, g.name)
		if err != nil || a == nil {
			return nil, err
		}
		return q.eval(a, rest)
	}
	return nil, nil
}

// elements is a sequence of the selected elements' selections.
func (q *yquery) elements(n *yaml.Node, rest []yseg, keep func(int) bool) (*yaml.Node, error) {
	out := &yaml.Node{Kind: yaml.SequenceNode}
	for i, c := range n.Content {
		if !keep(i) {
			continue
		}
		v, err := q.eval(c, rest)
		if err != nil {
			return nil, err
		}
		if v != nil {
			out.Content = append(out.Content, v)
		}
	}
	if len(out.Content) == 0 {
		return nil, nil
	}
	return out, nil
}

// findAnchor returns the first node (in document order) defining anchor
// name, not following aliases.
func (q *yquery) findAnchor(n *yaml.Node, name string) (*yaml.Node, error) {
	if err := q.tick(); err != nil {
		return nil, err
	}
	if n.Anchor == name && n.Kind != yaml.AliasNode {
		return n, nil
	}
	if n.Kind == yaml.AliasNode {
		return nil, nil
	}
	for _, c := range n.Content {
		if a, err := q.findAnchor(c, name); err != nil || a != nil {
			return a, err
		}
	}
	return nil, nil
}

// queryYAML evaluates segs on every document and flattens what they
// select into value entities.
func queryYAML(docs []*yaml.Node, segs []yseg) ([]oval.ItemEntity, error) {
	q := &yquery{}
	var out []oval.ItemEntity
	for _, d := range docs {
		v, err := q.eval(d, segs)
		if err != nil {
			return nil, err
		}
		if out, err = q.flatten(v, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

var errYAMLNested = errors.New("points to a multi-dimensional structure (a map inside a map, or a sequence nested too deep)")

// flatten turns a selection into value entities: scalars, or records for
// maps and for sequences inside a sequence (oscap's records).
func (q *yquery) flatten(n *yaml.Node, out []oval.ItemEntity) ([]oval.ItemEntity, error) {
	n, err := q.deref(n)
	if err != nil || n == nil {
		return out, err
	}
	switch n.Kind {
	case yaml.ScalarNode:
		e, err := yamlScalar(n)
		if err != nil {
			return nil, err
		}
		return append(out, e), nil
	case yaml.MappingNode:
		return q.record(n, out)
	case yaml.SequenceNode:
		for _, c := range n.Content {
			c, err := q.deref(c)
			if err != nil {
				return nil, err
			}
			if c == nil {
				continue
			}
			switch c.Kind {
			case yaml.ScalarNode:
				e, err := yamlScalar(c)
				if err != nil {
					return nil, err
				}
				out = append(out, e)
			case yaml.MappingNode, yaml.SequenceNode:
				if out, err = q.record(c, out); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// record checks that a map (or a sequence inside a sequence) is what
// oscap makes a record of: fields holding scalars or sequences of
// scalars. It gives one value entity of datatype record, not collected.
func (q *yquery) record(n *yaml.Node, out []oval.ItemEntity) ([]oval.ItemEntity, error) {
	var fields []*yaml.Node
	if n.Kind == yaml.MappingNode {
		for i := 1; i < len(n.Content); i += 2 {
			fields = append(fields, n.Content[i])
		}
	} else {
		fields = n.Content
	}
	if len(fields) == 0 {
		return out, nil // oscap drops empty records
	}
	for _, f := range fields {
		f, err := q.deref(f)
		if err != nil {
			return nil, err
		}
		if f == nil || f.Kind == yaml.ScalarNode {
			continue
		}
		if f.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
			return nil, errYAMLNested
		}
		for _, c := range f.Content {
			c, err := q.deref(c)
			if err != nil {
				return nil, err
			}
			if c != nil && c.Kind != yaml.ScalarNode {
				return nil, errYAMLNested
			}
		}
	}
	return append(out, oval.ItemEntity{Name: "value", Datatype: "record", Status: oval.StatusNotCollected}), nil
}

var (
	yamlTrueRE  = regexp.MustCompile(`^(true|True|TRUE)$`)
	yamlFalseRE = regexp.MustCompile(`^(false|False|FALSE)$`)
	yamlIntRE   = regexp.MustCompile(`^[+-]?[0-9]+$`)
	yamlOctRE   = regexp.MustCompile(`^0o[0-7]+$`)
	yamlHexRE   = regexp.MustCompile(`^0x[0-9a-fA-F]+$`)
	yamlFloatRE = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)
	yamlInfRE   = regexp.MustCompile(`^[-+]?(\.inf|\.Inf|\.INF)$`)
	yamlNaNRE   = regexp.MustCompile(`^(\.nan|\.NaN|\.NAN)$`)
)

// yamlScalar types a scalar as oscap's yamlfilecontent probe does (YAML
// 1.2 core schema regular expressions applied to untagged plain
// scalars).
func yamlScalar(n *yaml.Node) (oval.ItemEntity, error) {
	v := n.Value
	tag := "?" // untagged plain: resolve by content
	if n.Style&yaml.TaggedStyle != 0 {
		tag = n.ShortTag()
	} else if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		tag = "!!str"
	}
	untagged := tag == "?"
	if untagged || tag == "!!bool" {
		switch {
		case yamlTrueRE.MatchString(v):
			return boolEnt("value", true), nil
		case yamlFalseRE.MatchString(v):
			return boolEnt("value", false), nil
		case !untagged:
			return oval.ItemEntity{}, fmt.Errorf("%q is not a !!bool", v)
		}
	}
	if untagged || tag == "!!int" {
		var i int64
		var err error = errors.New("no")
		switch {
		case yamlIntRE.MatchString(v):
			i, err = strconv.ParseInt(v, 10, 64)
		case yamlOctRE.MatchString(v):
			i, err = strconv.ParseInt(v[2:], 8, 64)
		case yamlHexRE.MatchString(v):
			i, err = strconv.ParseInt(v[2:], 16, 64)
		}
		if err == nil {
			return intEnt("value", i), nil
		}
		if !untagged {
			return oval.ItemEntity{}, fmt.Errorf("%q is not an !!int", v)
		}
	}
	if untagged || tag == "!!float" {
		f, ok := 0.0, true
		switch {
		case yamlFloatRE.MatchString(v):
			var err error
			f, err = strconv.ParseFloat(v, 64)
			ok = err == nil || errors.Is(err, strconv.ErrRange)
		case yamlInfRE.MatchString(v):
			f = math.Inf(1)
			if v[0] == '-' {
				f = math.Inf(-1)
			}
		case yamlNaNRE.MatchString(v):
			f = math.NaN()
		default:
			ok = false
		}
		if ok {
			return oval.ItemEntity{Name: "value", Value: formatOVALFloat(f), Datatype: "float"}, nil
		}
		if !untagged {
			return oval.ItemEntity{}, fmt.Errorf("%q is not a !!float", v)
		}
	}
	return strEnt("value", v), nil
}

// formatOVALFloat writes a float as XML Schema's float lexical form.
func formatOVALFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "INF"
	case math.IsInf(f, -1):
		return "-INF"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
