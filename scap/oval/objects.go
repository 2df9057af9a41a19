package oval

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// collection is what the evaluator knows about one object's items.
type collection struct {
	flag  Flag
	items []Item
	msg   string
	// blocked is ErrUnsupported or ErrNotCollectable (wrapped, with the
	// Prober's message) when the Prober could not answer this object or
	// one it needs (a set member, an object of a variable). A test of a
	// blocked object is an error with that reason: its result would
	// otherwise be silently wrong.
	blocked error
}

// blockedBy returns the first non-nil reason.
func blockedBy(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// built is an object ready for a Prober, or the reason there is none: a
// var_ref without values makes the object "does not exist" (oscap: the
// object is skipped with flag does not exist, whatever the reason the
// variable has no values).
type built struct {
	obj     *Object
	flag    Flag
	msg     string
	blocked error
}

func isVariableObject(o *ObjectDef) bool {
	return o.Type == "variable_object" && (o.Family == "independent" || o.Family == "")
}

func trimID(s string) string { return strings.TrimSpace(s) }

func hasValues(f Flag) bool { return f == FlagComplete || f == FlagIncomplete }

// build resolves an object's variables into an Object for the Prober. The
// result is shared by Prepare and collect, so a Prober sees one *Object
// per object id.
func (e *Evaluator) build(ctx context.Context, id string) (*built, error) {
	return e.buildMemo.do(ctx, id, func() (*built, error) {
		o := e.defs.Objects[id]
		obj := &Object{ID: id, Type: o.Type, Family: o.Family}
		if o.Behaviors != nil {
			obj.Behaviors = make(map[string]string, len(o.Behaviors))
			for k, v := range o.Behaviors {
				obj.Behaviors[k] = v
			}
		}
		for _, en := range o.Entities {
			oe := ObjectEntity{
				Name:      en.Name,
				Operation: en.Operation,
				Datatype:  en.Datatype,
				VarCheck:  en.VarCheck,
				Nil:       en.Nil,
			}
			if oe.Operation == "" {
				oe.Operation = "equals"
			}
			if oe.Datatype == "" {
				oe.Datatype = "string"
			}
			if oe.VarCheck == "" {
				oe.VarCheck = "all"
			}
			if en.VarRef != "" {
				v, err := e.varValues(ctx, en.VarRef)
				if err != nil {
					return nil, err
				}
				if !hasValues(v.flag) || len(v.values) == 0 {
					msg := fmt.Sprintf("referenced variable %s has no values", en.VarRef)
					if v.msg != "" {
						msg += ": " + v.msg
					}
					if v.blocked != nil {
						return &built{flag: FlagError, msg: msg, blocked: v.blocked}, nil
					}
					return &built{flag: FlagDoesNotExist, msg: msg}, nil
				}
				oe.Values = v.values
			} else if !en.Nil {
				oe.Values = []string{en.Value}
			}
			obj.Entities = append(obj.Entities, oe)
		}
		if len(o.Filters) > 0 {
			// Resolve the filter states' variables now, so that Filter,
			// which a Prober may call long after this ctx is gone (the
			// Object is built once, possibly by Prepare), only ever reads
			// memoized values.
			for _, f := range o.Filters {
				if s := e.defs.States[f.StateRef]; s != nil {
					for _, en := range s.Entities {
						if en.VarRef == "" {
							continue
						}
						if _, err := e.varValues(ctx, en.VarRef); err != nil {
							return nil, err
						}
					}
				}
			}
			filters, bg := o.Filters, context.WithoutCancel(ctx)
			obj.Filter = func(it Item) (bool, error) { return e.keep(bg, filters, it) }
			obj.FilterEntities = []string{}
			for _, f := range o.Filters {
				if s := e.defs.States[f.StateRef]; s != nil {
					for _, en := range s.Entities {
						if !slices.Contains(obj.FilterEntities, en.Name) {
							obj.FilterEntities = append(obj.FilterEntities, en.Name)
						}
					}
				}
			}
		}
		return &built{obj: obj}, nil
	})
}

// keep applies filters to one item: an exclude filter drops an item that
// matches its state, an include filter one that does not. An item whose
// comparison is neither true nor false is kept, as oscap does.
func (e *Evaluator) keep(ctx context.Context, filters []Filter, it Item) (bool, error) {
	for _, f := range filters {
		s := e.defs.States[f.StateRef]
		if s == nil {
			continue // reported by nothing: keep the item, like an error result
		}
		r, err := e.evalState(ctx, s, it)
		if err != nil {
			return false, err
		}
		if (f.Action == "exclude" && r == True) || (f.Action == "include" && r == False) {
			return false, nil
		}
	}
	return true, nil
}

func (e *Evaluator) applyFilters(ctx context.Context, filters []Filter, c *collection) error {
	if len(filters) == 0 {
		return nil
	}
	kept := c.items[:0:0]
	for _, it := range c.items {
		ok, err := e.keep(ctx, filters, it)
		if err != nil {
			return err
		}
		if ok {
			kept = append(kept, it)
		}
	}
	c.items = kept
	normalize(c)
	return nil
}

// normalize gives a collection the flag its items imply when the Prober
// left it empty, and turns a complete collection without items into does
// not exist (oscap does the same after filtering).
func normalize(c *collection) {
	if c.flag == "" {
		c.flag = FlagComplete
	}
	if c.flag == FlagComplete && len(c.items) == 0 {
		c.flag = FlagDoesNotExist
	}
}

// collect returns an object's items: a set combined from its members, a
// variable_object from its variable, anything else from the Prober. Each
// object is collected at most once.
func (e *Evaluator) collect(ctx context.Context, id string) (*collection, error) {
	return e.objMemo.do(ctx, id, func() (*collection, error) {
		o := e.defs.Objects[id]
		switch {
		case o == nil:
			return &collection{flag: FlagError, msg: fmt.Sprintf("no such object %q", id)}, nil
		case e.graph.cyclic[kObj+id]:
			return &collection{flag: FlagError, msg: fmt.Sprintf("object %s is part of a reference cycle", id)}, nil
		case o.Set != nil:
			c, err := e.collectSet(ctx, o.Set)
			if err != nil {
				return nil, err
			}
			return c, e.applyFilters(ctx, o.Filters, c) // not in the schema, harmless
		case isVariableObject(o):
			c, err := e.variableObject(ctx, o)
			if err != nil {
				return nil, err
			}
			return c, e.applyFilters(ctx, o.Filters, c)
		}
		b, err := e.build(ctx, id)
		if err != nil {
			return nil, err
		}
		if b.obj == nil {
			return &collection{flag: b.flag, msg: b.msg, blocked: b.blocked}, nil
		}
		if e.prober == nil {
			return &collection{flag: FlagNotCollected, msg: "no prober"}, nil
		}
		got, err := e.prober.Collect(ctx, b.obj)
		switch {
		case err == nil:
		case isContextErr(err) && ctx.Err() != nil:
			return nil, err
		case errors.Is(err, ErrUnsupported):
			return &collection{flag: FlagError, msg: err.Error(), blocked: err}, nil
		case errors.Is(err, ErrNotCollectable):
			return &collection{flag: FlagNotCollected, msg: err.Error(), blocked: err}, nil
		default:
			return &collection{flag: FlagError, msg: err.Error()}, nil
		}
		c := &collection{flag: got.Flag, items: got.Items, msg: got.Message}
		normalize(c)
		// Filter again: cheap next to collection, and it keeps the
		// results right with a Prober that ignores Object.Filter.
		return c, e.applyFilters(ctx, o.Filters, c)
	})
}

// variableObject makes the item of a variable_object without a Prober, as
// oscap's variable probe does: one item with the var_ref and one value
// entity per value. A variable that does not exist makes the object not
// exist; one in error gives an item without values.
func (e *Evaluator) variableObject(ctx context.Context, o *ObjectDef) (*collection, error) {
	var ref string
	for _, en := range o.Entities {
		if en.Name == "var_ref" {
			ref = trimID(en.Value)
		}
	}
	if ref == "" {
		return &collection{flag: FlagError, msg: "variable_object without var_ref"}, nil
	}
	v, err := e.varValues(ctx, ref)
	if err != nil {
		return nil, err
	}
	if v.blocked != nil {
		return &collection{flag: FlagError, msg: v.msg, blocked: v.blocked}, nil
	}
	if v.flag == FlagDoesNotExist {
		return &collection{flag: FlagDoesNotExist, msg: fmt.Sprintf("referenced variable %s has no values", ref)}, nil
	}
	it := Item{Entities: []ItemEntity{{Name: "var_ref", Value: ref}}}
	dt := "string"
	if vd := e.defs.Variables[ref]; vd != nil {
		dt = vd.Datatype
	}
	if hasValues(v.flag) {
		for _, val := range v.values {
			it.Entities = append(it.Entities, ItemEntity{Name: "value", Value: val, Datatype: dt})
		}
	}
	return &collection{flag: FlagComplete, items: []Item{it}, msg: v.msg}, nil
}

// collectSet combines the members of a set: union by item identity (same
// entities, values and statuses), intersection, complement, with the
// flags combined as oscap does; then applies the set's filters.
func (e *Evaluator) collectSet(ctx context.Context, s *Set) (*collection, error) {
	var parts []*collection
	if len(s.Sets) > 0 {
		for _, sub := range s.Sets {
			c, err := e.collectSet(ctx, sub)
			if err != nil {
				return nil, err
			}
			parts = append(parts, c)
		}
	} else {
		for _, ref := range s.ObjectRefs {
			c, err := e.collect(ctx, ref)
			if err != nil {
				return nil, err
			}
			parts = append(parts, c)
		}
	}
	if s.Operator == "COMPLEMENT" && len(parts) != 2 {
		return &collection{flag: FlagError, msg: "COMPLEMENT set needs exactly two members"}, nil
	}
	res := &collection{flag: parts[0].flag, items: parts[0].items}
	var msgs []string
	for _, p := range parts {
		res.blocked = blockedBy(res.blocked, p.blocked)
		if p.msg != "" {
			msgs = append(msgs, p.msg)
		}
	}
	res.msg = strings.Join(msgs, "; ")
	for _, p := range parts[1:] {
		res.flag = combineSetFlags(s.Operator, res.flag, p.flag)
		res.items = combineSetItems(s.Operator, res.items, p.items)
	}
	if res.flag == FlagComplete && len(res.items) == 0 {
		res.flag = FlagDoesNotExist
	}
	// copy before filtering: the members' items are shared
	res.items = append([]Item(nil), res.items...)
	return res, e.applyFilters(ctx, s.Filters, res)
}

// itemKey identifies an item by content, which is how oscap identifies
// items (it gives equal items one id).
func itemKey(it Item) string {
	var b strings.Builder
	b.WriteString(string(itemStatus(it.Status)))
	for _, en := range it.Entities {
		b.WriteByte(0)
		b.WriteString(en.Name)
		b.WriteByte(1)
		b.WriteString(en.Value)
		b.WriteByte(1)
		b.WriteString(en.Datatype)
		b.WriteByte(1)
		b.WriteString(string(itemStatus(en.Status)))
	}
	return b.String()
}

func combineSetItems(op string, a, b []Item) []Item {
	inB := make(map[string]bool, len(b))
	for _, it := range b {
		inB[itemKey(it)] = true
	}
	var out []Item
	switch op {
	case "UNION":
		seen := make(map[string]bool, len(a)+len(b))
		for _, list := range [][]Item{a, b} {
			for _, it := range list {
				if k := itemKey(it); !seen[k] {
					seen[k] = true
					out = append(out, it)
				}
			}
		}
	case "INTERSECTION":
		for _, it := range a {
			if inB[itemKey(it)] {
				out = append(out, it)
			}
		}
	case "COMPLEMENT":
		for _, it := range a {
			if !inB[itemKey(it)] {
				out = append(out, it)
			}
		}
	}
	return out
}

// combineSetFlags is oscap's table for the flag of a set from the flags
// of its two members.
func combineSetFlags(op string, f1, f2 Flag) Flag {
	const (
		co = FlagComplete
		in = FlagIncomplete
		dn = FlagDoesNotExist
		er = FlagError
		nc = FlagNotCollected
		na = FlagNotApplicable
	)
	switch op {
	case "COMPLEMENT":
		switch f1 {
		case co:
			switch f2 {
			case co, dn:
				return co
			}
			return er
		case in:
			switch f2 {
			case dn, co:
				return in
			}
			return er
		case dn:
			if f2 == na {
				return er
			}
			return dn
		case nc:
			if f2 == na || f2 == er {
				return er
			}
			return nc
		}
		return er
	case "INTERSECTION":
		switch {
		case f1 == er:
			return er
		case f1 == dn:
			return dn
		case f2 == er:
			return er
		}
		switch f1 {
		case co:
			switch f2 {
			case dn:
				return dn
			case co, na:
				return co
			case in:
				return in
			case nc:
				return nc
			}
		case in:
			switch f2 {
			case dn:
				return dn
			case na:
				return na
			}
			return in
		case nc:
			if f2 == dn {
				return dn
			}
			return nc
		case na:
			return f2
		}
		return er
	case "UNION":
		if f1 == er || f2 == er {
			return er
		}
		switch f1 {
		case co:
			switch f2 {
			case co, dn, na:
				return co
			}
			return in
		case in:
			return in
		case dn:
			switch f2 {
			case co:
				return co
			case in, nc:
				return in
			}
			return dn
		case nc:
			switch f2 {
			case co, in, dn:
				return in
			}
			return nc
		case na:
			return f2
		}
		return er
	}
	return er
}
