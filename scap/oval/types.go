// Package oval evaluates OVAL 5.11 definitions: it parses definitions,
// tests, objects, states and variables, asks a Prober for the items of
// each object, and combines test results through criteria into a
// definition result with the items that decided it as evidence.
//
// The split follows OVAL's own: this package knows the language (what a
// test, a state, a variable means); a Prober knows a host (how to find the
// lines of a file, the packages installed). Probes live in scap/probe and
// are built on target.Target, so they work locally, in a root directory
// and over SSH alike.
package oval

import (
	"context"
	"errors"
)

// ErrUnsupported is returned (wrapped) by a Prober for an object type it
// does not implement; the tests that need such an object are Error with
// "unsupported OVAL test X", and nothing else is affected.
var ErrUnsupported = errors.New("unsupported OVAL object")

// ErrNotCollectable is returned (wrapped) when a target cannot answer an
// object at all, such as runtime kernel state in an unpacked root.
var ErrNotCollectable = errors.New("not collectable on this target")

// Object is an OVAL object as a Prober sees it: variables resolved, filters
// and sets already handled by the evaluator.
type Object struct {
	ID string
	// Type is the element's local name ("textfilecontent54_object") and
	// Family its schema (the last element of the namespace URI:
	// "independent", "linux", "unix").
	Type   string
	Family string
	// Entities in document order. An entity with a var_ref carries every
	// value of the variable.
	Entities []ObjectEntity
	// Behaviors holds the attributes of the <behaviors> element.
	Behaviors map[string]string
	// Filter, when set, reports whether an item is kept (the object's
	// <filter> elements). Probes call it as they find items, so that a
	// whole-file-system object holds only the items that match.
	Filter func(Item) (bool, error)
	// FilterEntities names the item entities Filter reads (those its
	// states compare), or is nil when that is not known. Filter's answer
	// about an item depends on these entities alone, so a probe may ask
	// it about an item built with only them and build the rest for the
	// items kept.
	FilterEntities []string
}

// Entity returns the first entity called name.
func (o *Object) Entity(name string) (ObjectEntity, bool) {
	for _, e := range o.Entities {
		if e.Name == name {
			return e, true
		}
	}
	return ObjectEntity{}, false
}

// ObjectEntity is one entity of an object.
type ObjectEntity struct {
	Name      string
	Operation string // "equals" when not given
	Datatype  string // "string" when not given
	// Values are the values to compare with: one for a literal, every
	// value of the variable for a var_ref (combined by VarCheck).
	Values   []string
	VarCheck string // "all" when not given
	// Nil is xsi:nil="true": the entity is not used to select items (for
	// example a file object's filename to mean the directory itself).
	Nil bool
}

// Match reports whether an item's value satisfies the entity: Values
// combined by VarCheck, each compared with Operation and Datatype.
func (e ObjectEntity) Match(p *Patterns, value string) (bool, error) {
	if e.Nil {
		return true, nil
	}
	res := make([]Result, 0, len(e.Values))
	for _, want := range e.Values {
		ok, err := Compare(p, e.Operation, e.Datatype, value, want)
		switch {
		case err != nil:
			return false, err
		case ok:
			res = append(res, True)
		default:
			res = append(res, False)
		}
	}
	if len(res) == 0 {
		return false, nil // a variable without values selects nothing
	}
	r := Combine(e.VarCheck, res)
	if r == Error {
		return false, errors.New("bad var_check " + e.VarCheck)
	}
	return r == True, nil
}

// ItemStatus is an item's or an item entity's status.
type ItemStatus string

const (
	StatusExists       ItemStatus = "exists"
	StatusNotExist     ItemStatus = "does not exist"
	StatusError        ItemStatus = "error"
	StatusNotCollected ItemStatus = "not collected"
)

// Item is one thing a probe found: a matching line, a file, a package.
type Item struct {
	Status   ItemStatus // StatusExists when empty
	Entities []ItemEntity
	// Message explains a StatusError item.
	Message string
}

// ItemEntity is one entity of an item. An entity name may repeat (a
// textfilecontent54 item has one subexpression per capture group).
type ItemEntity struct {
	Name     string
	Value    string
	Datatype string     // "string" when empty
	Status   ItemStatus // StatusExists when empty
}

// Values returns the entities of the item called name.
func (it Item) Values(name string) []ItemEntity {
	var out []ItemEntity
	for _, e := range it.Entities {
		if e.Name == name {
			out = append(out, e)
		}
	}
	return out
}

// Flag is the flag of a collected object.
type Flag string

const (
	FlagComplete      Flag = "complete"
	FlagIncomplete    Flag = "incomplete"
	FlagDoesNotExist  Flag = "does not exist"
	FlagError         Flag = "error"
	FlagNotCollected  Flag = "not collected"
	FlagNotApplicable Flag = "not applicable"
)

// Collected is what a Prober found for one object.
type Collected struct {
	Flag    Flag
	Items   []Item
	Message string // why the flag is error, incomplete or not collected
}

// A Prober collects the items of objects from one host. It must be safe
// for concurrent use. An object type it does not know is ErrUnsupported.
type Prober interface {
	Collect(ctx context.Context, obj *Object) (Collected, error)
}

// A Preparer is a Prober that wants to see, before any Collect, every
// object whose entities are known up front, so that all file system
// recursion of a scan shares one walk of the tree.
type Preparer interface {
	Prepare(ctx context.Context, objs []*Object) error
}
