package probe

import (
	"context"
	"fmt"
	"math"
	"strconv"

	"github.com/plumbhq/plumb/scap/oval"
)

// collectFileContent runs the file search of a content object
// (xmlfilecontent, yamlfilecontent) with the machinery of the file
// probes, then hands each selected regular file's content to fn. The
// search runs on its own, not in Prepare's shared walk: these objects
// name their files literally in practice. As oscap does, the behaviors
// of a filepath search are ignored. A file that cannot be read flags the
// object error; a hit that is not (or does not lead to) a regular file is
// skipped.
func (p *Prober) collectFileContent(ctx context.Context, obj *oval.Object, fn func(r *result, label string, data []byte)) (oval.Collected, error) {
	res := newResult(obj)
	s, err := p.newFileSpec(obj, res)
	if err != nil {
		res.fail(err)
		return res.collected(), nil
	}
	if s.kind == kindFilepath {
		s.beh = behaviors{maxDepth: -1, direction: "none", recurseDirs: true, recurseLinks: true, fsMode: "all"}
	}
	s.sink = func(n *node, dir bool) {
		if !dir {
			s.keepHit(n)
		}
	}
	p.startSpec(ctx, s, nil)
	seen := map[string]bool{}
	for _, n := range s.hits {
		if seen[n.label] || ctx.Err() != nil {
			continue
		}
		seen[n.label] = true
		fi, err := p.stat(ctx, n.label)
		if err != nil || !fi.Mode.IsRegular() {
			continue
		}
		data, err := p.readFile(ctx, n.label)
		if err != nil {
			if !absent(err) {
				res.itemError(fmt.Sprintf("%s: %v", n.label, errText(err)))
			}
			continue
		}
		fn(res, n.label, data)
	}
	if err := ctx.Err(); err != nil {
		return oval.Collected{}, err
	}
	return res.collected(), nil
}

// contentValues returns the values of an object's query entity (xpath,
// yamlpath): these select nothing, they are evaluated, so only "equals"
// makes sense.
func contentValues(obj *oval.Object, name string) ([]string, error) {
	e, err := requireEntity(obj, name)
	if err != nil {
		return nil, err
	}
	if e.Nil || (e.Operation != "" && e.Operation != "equals") {
		return nil, fmt.Errorf("%s %s: the %s entity must use operation equals", obj.Type, obj.ID, name)
	}
	return e.Values, nil
}

// collectXMLContent reports xmlfilecontent_object: for each selected
// file and each xpath value, one item with the xpath's result in
// value_of entities, as oscap builds them from libxml2's answer:
//
//   - a node-set gives one value_of per attribute or text node, in
//     document order; element nodes give none (select their text() or an
//     attribute); an empty node-set makes the item "does not exist", with
//     a value_of entity of that status;
//   - a string is one value_of; a boolean is one value_of of datatype
//     boolean; a number is truncated to an integer (oscap's int cast),
//     datatype int.
//
// A file that is not well-formed XML (or declares entities, see
// parseXML) flags the object error; an XPath outside the supported
// subset (see xpath.go) or failing to evaluate gives an item with status
// error that says why.
func (p *Prober) collectXMLContent(ctx context.Context, obj *oval.Object) (oval.Collected, error) {
	xpaths, err := contentValues(obj, "xpath")
	if err != nil {
		return oval.Collected{Flag: oval.FlagError, Message: err.Error()}, nil
	}
	type compiled struct {
		src string
		e   xexpr
		err error
	}
	exprs := make([]compiled, len(xpaths))
	for i, x := range xpaths {
		e, err := parseXPath(x)
		exprs[i] = compiled{x, e, err}
	}
	return p.collectFileContent(ctx, obj, func(r *result, label string, data []byte) {
		doc, err := parseXML(data)
		if err != nil {
			r.itemError(fmt.Sprintf("%s: not well-formed XML: %v", label, err))
			return
		}
		dir, name := splitPath(label)
		for _, c := range exprs {
			ents := []oval.ItemEntity{strEnt("filepath", label), strEnt("path", dir), strEnt("filename", name), strEnt("xpath", c.src)}
			fail := func(err error) {
				r.add(oval.Item{Status: oval.StatusError, Entities: append(ents, missingEnt("value_of", "", oval.StatusError)),
					Message: fmt.Sprintf("xpath %q: %v", c.src, err)}, "")
			}
			if c.err != nil {
				fail(c.err)
				continue
			}
			v, err := evalXPath(c.e, doc)
			if err != nil {
				fail(err)
				continue
			}
			it := oval.Item{}
			switch v.kind {
			case vNodes:
				if len(v.nodes) == 0 {
					it.Status = oval.StatusNotExist
					ents = append(ents, missingEnt("value_of", "", oval.StatusNotExist))
				}
				for _, n := range v.nodes {
					if n.kind == xAttr || n.kind == xText {
						ents = append(ents, strEnt("value_of", n.value))
					}
				}
			case vString:
				ents = append(ents, strEnt("value_of", v.s))
			case vBool:
				ents = append(ents, boolEnt("value_of", v.b))
			case vNumber:
				if math.IsNaN(v.n) || v.n >= math.MaxInt64 || v.n <= math.MinInt64 {
					fail(fmt.Errorf("the result %s is not an integer", formatXPathNumber(v.n)))
					continue
				}
				ents = append(ents, oval.ItemEntity{Name: "value_of", Value: strconv.FormatInt(int64(v.n), 10), Datatype: "int"})
			}
			it.Entities = ents
			r.add(it, "")
		}
	})
}
