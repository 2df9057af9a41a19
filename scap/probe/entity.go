package probe

import (
	"fmt"
	"strconv"

	"github.com/plumbhq/plumb/scap/oval"
)

// matcher compares item values with one object entity. It is built once
// per object: a file search calls it for every entry of the tree, so the
// common cases (one literal, one pattern) skip the generic comparison.
type matcher struct {
	e   oval.ObjectEntity
	p   *oval.Patterns
	eq  *string       // single "equals" string value
	pat *oval.Pattern // single "pattern match" string value
	err error         // the pattern does not compile
}

func newMatcher(p *oval.Patterns, e oval.ObjectEntity) *matcher {
	m := &matcher{e: e, p: p}
	if e.Nil || len(e.Values) != 1 || (e.Datatype != "" && e.Datatype != "string") {
		return m
	}
	switch e.Operation {
	case "", "equals":
		m.eq = &e.Values[0]
	case "pattern match":
		m.pat, m.err = p.Compile(e.Values[0])
	}
	return m
}

// match reports whether value satisfies the entity. An entity with several
// values (a var_ref) and the default var_check selects an item that equals
// any one of them: oscap runs the probe once per value and merges the
// items, and agreeing with it matters more here than var_check="all"
// read literally (which no item of a multi-valued path could satisfy).
func (m *matcher) match(value string) (bool, error) {
	switch {
	case m.err != nil:
		return false, m.err
	case m.eq != nil:
		return value == *m.eq, nil
	case m.pat != nil:
		return m.pat.MatchString(value)
	}
	e := m.e
	if !e.Nil && len(e.Values) > 1 && (e.VarCheck == "" || e.VarCheck == "all") {
		for _, v := range e.Values {
			one := e
			one.Values = []string{v}
			ok, err := one.Match(m.p, value)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	return e.Match(m.p, value)
}

// requireEntity returns the entity called name or an error naming it.
func requireEntity(obj *oval.Object, name string) (oval.ObjectEntity, error) {
	e, ok := obj.Entity(name)
	if !ok {
		return e, fmt.Errorf("%s %s: missing %s entity", obj.Type, obj.ID, name)
	}
	return e, nil
}

// isEquals reports an entity selecting by literal values.
func isEquals(e oval.ObjectEntity) bool {
	return !e.Nil && (e.Operation == "" || e.Operation == "equals")
}

func strEnt(name, v string) oval.ItemEntity { return oval.ItemEntity{Name: name, Value: v} }

func intEnt(name string, v int64) oval.ItemEntity {
	return oval.ItemEntity{Name: name, Value: strconv.FormatInt(v, 10), Datatype: "int"}
}

func uintEnt(name string, v uint64) oval.ItemEntity {
	return oval.ItemEntity{Name: name, Value: strconv.FormatUint(v, 10), Datatype: "int"}
}

func boolEnt(name string, v bool) oval.ItemEntity {
	s := "false"
	if v {
		s = "true"
	}
	return oval.ItemEntity{Name: name, Value: s, Datatype: "boolean"}
}

// missingEnt is an entity the probe knows exists in the schema but could
// not collect (status "not collected") or found absent ("does not exist").
func missingEnt(name, datatype string, status oval.ItemStatus) oval.ItemEntity {
	return oval.ItemEntity{Name: name, Datatype: datatype, Status: status}
}
