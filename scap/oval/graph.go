package oval

import "sort"

// Node kinds of the reference graph, used as key prefixes.
const (
	kDef = "d:"
	kTst = "t:"
	kObj = "o:"
	kSte = "s:"
	kVar = "v:"
)

// graph is the reference graph of a document: which definition, test,
// object, state or variable needs which other. NewEvaluator builds it once
// to find reference cycles (evaluated as errors, never followed, so that
// evaluation always terminates and the memo never waits on itself), the
// objects whose entities depend on collected data (not handed to
// Preparer.Prepare), and the objects a set of definitions reaches.
type graph struct {
	edges  map[string][]string
	cyclic map[string]bool
	// dependent memoizes whether a node depends on collected data.
	dependent map[string]bool
}

func newGraph(defs *Definitions) *graph {
	g := &graph{edges: map[string][]string{}, cyclic: map[string]bool{}, dependent: map[string]bool{}}
	add := func(from, to string) { g.edges[from] = append(g.edges[from], to) }
	var criteria func(from string, c *Criteria)
	criteria = func(from string, c *Criteria) {
		for _, ch := range c.Children {
			switch {
			case ch.Criteria != nil:
				criteria(from, ch.Criteria)
			case ch.TestRef != "":
				add(from, kTst+ch.TestRef)
			case ch.DefinitionRef != "":
				add(from, kDef+ch.DefinitionRef)
			}
		}
	}
	for id, d := range defs.Definitions {
		if d.Criteria != nil {
			criteria(kDef+id, d.Criteria)
		}
	}
	for id, t := range defs.Tests {
		if t.ObjectRef != "" {
			add(kTst+id, kObj+t.ObjectRef)
		}
		for _, s := range t.StateRefs {
			add(kTst+id, kSte+s)
		}
	}
	entities := func(from string, es []Entity) {
		for _, e := range es {
			if e.VarRef != "" {
				add(from, kVar+e.VarRef)
			}
			for _, f := range e.Fields {
				if f.VarRef != "" {
					add(from, kVar+f.VarRef)
				}
			}
		}
	}
	filters := func(from string, fs []Filter) {
		for _, f := range fs {
			add(from, kSte+f.StateRef)
		}
	}
	var set func(from string, s *Set)
	set = func(from string, s *Set) {
		for _, r := range s.ObjectRefs {
			add(from, kObj+r)
		}
		for _, sub := range s.Sets {
			set(from, sub)
		}
		filters(from, s.Filters)
	}
	for id, o := range defs.Objects {
		from := kObj + id
		entities(from, o.Entities)
		filters(from, o.Filters)
		if o.Set != nil {
			set(from, o.Set)
		}
		if isVariableObject(o) {
			for _, e := range o.Entities {
				if e.Name == "var_ref" {
					add(from, kVar+trimID(e.Value))
				}
			}
		}
	}
	for id, s := range defs.States {
		entities(kSte+id, s.Entities)
	}
	var component func(from string, c *Component)
	component = func(from string, c *Component) {
		switch {
		case c.ObjectRef != "":
			add(from, kObj+c.ObjectRef)
		case c.VarRef != "":
			add(from, kVar+c.VarRef)
		}
		for _, a := range c.Args {
			component(from, a)
		}
	}
	for id, v := range defs.Variables {
		if v.Component != nil {
			component(kVar+id, v.Component)
		}
	}
	g.findCycles()
	// Answer every object now, so that the memo is read-only afterwards
	// and the graph safe for concurrent use.
	for id := range defs.Objects {
		g.dependsOnCollected(kObj + id)
	}
	return g
}

// findCycles marks every node on a reference cycle (Tarjan's strongly
// connected components; a component of several nodes, or a node that
// refers to itself, is a cycle).
func (g *graph) findCycles() {
	index := map[string]int{}
	low := map[string]int{}
	onStack := map[string]bool{}
	var stack []string
	next := 0
	var visit func(v string)
	visit = func(v string) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range g.edges[v] {
			if _, seen := index[w]; !seen {
				visit(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
			if w == v {
				g.cyclic[v] = true
			}
		}
		if low[v] == index[v] {
			var scc []string
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				scc = append(scc, w)
				if w == v {
					break
				}
			}
			if len(scc) > 1 {
				for _, w := range scc {
					g.cyclic[w] = true
				}
			}
		}
	}
	nodes := make([]string, 0, len(g.edges))
	for v := range g.edges {
		nodes = append(nodes, v)
	}
	sort.Strings(nodes) // deterministic, though the result does not depend on it
	for _, v := range nodes {
		if _, seen := index[v]; !seen {
			visit(v)
		}
	}
}

// dependsOnCollected reports whether evaluating node needs the items of
// some object: a variable with an object_component in its chain, or
// anything referring to one. An object's own collection does not count,
// only what is needed to build it (its variables and filter states), so
// the question asked of an object is "can it be built before collecting
// anything?". Nodes on cycles count as dependent.
func (g *graph) dependsOnCollected(node string) bool {
	if d, ok := g.dependent[node]; ok {
		return d
	}
	g.dependent[node] = true // provisional: cycles are dependent
	dep := g.cyclic[node]
	for _, w := range g.edges[node] {
		if dep {
			break
		}
		switch {
		case node[:2] == kVar && w[:2] == kObj:
			dep = true // object_component
		case node[:2] == kObj && w[:2] == kObj:
			// a set's member objects are collected, not built; the set
			// object itself is never handed to a Prober
		default:
			dep = g.dependsOnCollected(w)
		}
	}
	g.dependent[node] = dep
	return dep
}

// reachable returns the nodes reachable from the given ones.
func (g *graph) reachable(from []string) map[string]bool {
	seen := map[string]bool{}
	stack := append([]string(nil), from...)
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[v] {
			continue
		}
		seen[v] = true
		stack = append(stack, g.edges[v]...)
	}
	return seen
}
