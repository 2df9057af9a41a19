// Package cpe reads the two CPE documents SCAP content relies on for
// applicability: CPE 2 dictionaries (cpe-list: a CPE name and the check,
// usually an OVAL definition, that decides whether a host is that
// platform) and CPE 2.3 applicability-language platforms (logical tests
// over CPE names, as embedded in an XCCDF benchmark's
// platform-specification).
//
// SSG uses CPE names for far more than products: "cpe:/a:machine" (not a
// container), "cpe:/a:pam" (package pam installed), ... Its XCCDF rules
// carry platform idrefs "#name" that name a platform of the benchmark,
// whose logical test refers to dictionary items, whose checks name OVAL
// definitions in the "-cpe-oval.xml" component.
package cpe

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/plumbhq/plumb/scap/ds"
)

// Dictionary is a CPE dictionary: items by name.
type Dictionary struct {
	Items  []*Item
	byName map[string]*Item
}

// Item is one cpe-item.
type Item struct {
	Name       string
	Title      string // the first title (SSG gives one, in en-us)
	Deprecated bool
	Checks     []Check
}

// Check is a cpe-item's check: ID is the name of a definition (an OVAL
// definition id, for SSG) in the document Href designates (resolved
// through the catalog of the dictionary's data stream component-ref), in
// the checking language System.
type Check struct {
	System string
	Href   string
	ID     string
}

// Item returns the item called name.
func (d *Dictionary) Item(name string) (*Item, bool) {
	it, ok := d.byName[name]
	return it, ok
}

// ParseDictionary parses a cpe-list document.
func ParseDictionary(r io.Reader) (*Dictionary, error) {
	return DecodeDictionary(ds.NewDecoder(r, ""))
}

// DecodeDictionary parses the cpe-list document d reads (use
// ds.Collection.ComponentDecoder for a data stream's dictionary, so that
// errors name the data stream file).
func DecodeDictionary(d *ds.Decoder) (*Dictionary, error) {
	root, err := d.Root()
	if err != nil {
		return nil, err
	}
	if root.Name != (xml.Name{Space: ds.NSCPEDict, Local: "cpe-list"}) {
		return nil, d.Errorf("not a CPE dictionary: root element <%s> in namespace %q", root.Name.Local, root.Name.Space)
	}
	dict := &Dictionary{byName: map[string]*Item{}}
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return dict, d.Drain()
		case xml.StartElement:
			if t.Name != (xml.Name{Space: ds.NSCPEDict, Local: "cpe-item"}) {
				if err := d.Skip(); err != nil {
					return nil, err
				}
				continue
			}
			it, err := decodeItem(d, t)
			if err != nil {
				return nil, err
			}
			if _, dup := dict.byName[it.Name]; dup {
				return nil, d.Errorf("duplicate cpe-item %q", it.Name)
			}
			dict.byName[it.Name] = it
			dict.Items = append(dict.Items, it)
		}
	}
}

func decodeItem(d *ds.Decoder, start xml.StartElement) (*Item, error) {
	it := &Item{Name: attr(start, "name"), Deprecated: attr(start, "deprecated") == "true"}
	if it.Name == "" {
		return nil, d.Errorf("cpe-item without a name")
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return it, nil
		case xml.StartElement:
			switch t.Name {
			case xml.Name{Space: ds.NSCPEDict, Local: "title"}:
				s, err := text(d)
				if err != nil {
					return nil, err
				}
				if it.Title == "" {
					it.Title = s
				}
			case xml.Name{Space: ds.NSCPEDict, Local: "check"}:
				c := Check{System: attr(t, "system"), Href: attr(t, "href")}
				if c.ID, err = text(d); err != nil {
					return nil, err
				}
				if c.ID == "" {
					return nil, d.Errorf("cpe-item %q: empty check", it.Name)
				}
				it.Checks = append(it.Checks, c)
			default:
				if err := d.Skip(); err != nil {
					return nil, err
				}
			}
		}
	}
}

// Platform is a cpe-lang platform: an identified logical test.
type Platform struct {
	ID    string
	Title string
	Test  *LogicalTest
}

// LogicalTest combines its facts and sub-tests with Operator (AND or OR),
// then negates the result when Negate is set.
type LogicalTest struct {
	Operator      string // "AND" or "OR"
	Negate        bool
	Tests         []*LogicalTest
	FactRefs      []string // CPE names
	CheckFactRefs []CheckFactRef
}

// CheckFactRef is a CPE 2.3 check-fact-ref: a check used directly as a
// fact.
type CheckFactRef struct {
	System string
	Href   string
	IDRef  string
}

// Facts answers the leaves of a logical test.
type Facts interface {
	// Name reports whether the host is the platform the CPE name names.
	Name(cpeName string) (bool, error)
	// Check runs a check-fact-ref.
	Check(c CheckFactRef) (bool, error)
}

// Eval evaluates the test. An error in a fact makes the whole test an
// error unless the operator is decided without it (a true fact of an OR,
// a false fact of an AND), as in CPE 2.3's three-valued logic where ERROR
// does not outweigh a deciding value.
func (t *LogicalTest) Eval(f Facts) (bool, error) {
	isAnd := t.Operator != "OR"
	result := isAnd
	var firstErr error
	decide := func(v bool, err error) bool {
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return false
		}
		if v != isAnd { // false in AND, true in OR: decided
			result = v
			return true
		}
		return false
	}
	done := false
	for _, n := range t.FactRefs {
		if done = decide(f.Name(n)); done {
			break
		}
	}
	for i := 0; !done && i < len(t.CheckFactRefs); i++ {
		done = decide(f.Check(t.CheckFactRefs[i]))
	}
	for i := 0; !done && i < len(t.Tests); i++ {
		done = decide(t.Tests[i].Eval(f))
	}
	if !done && firstErr != nil {
		return false, firstErr
	}
	if t.Negate {
		result = !result
	}
	return result, nil
}

// Names returns every CPE name the test refers to, depth first.
func (t *LogicalTest) Names() []string {
	out := append([]string(nil), t.FactRefs...)
	for _, s := range t.Tests {
		out = append(out, s.Names()...)
	}
	return out
}

// DecodePlatformSpecification decodes the platforms of the
// platform-specification element whose start tag d returned last.
func DecodePlatformSpecification(d *ds.Decoder) ([]*Platform, error) {
	var out []*Platform
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return out, nil
		case xml.StartElement:
			if t.Name != (xml.Name{Space: ds.NSCPELang, Local: "platform"}) {
				if err := d.Skip(); err != nil {
					return nil, err
				}
				continue
			}
			p, err := decodePlatform(d, t)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
	}
}

func decodePlatform(d *ds.Decoder, start xml.StartElement) (*Platform, error) {
	p := &Platform{ID: attr(start, "id")}
	if p.ID == "" {
		return nil, d.Errorf("cpe-lang:platform without an id")
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if p.Test == nil {
				return nil, d.Errorf("cpe-lang:platform %q has no logical-test", p.ID)
			}
			return p, nil
		case xml.StartElement:
			switch t.Name {
			case xml.Name{Space: ds.NSCPELang, Local: "title"}:
				s, err := text(d)
				if err != nil {
					return nil, err
				}
				if p.Title == "" {
					p.Title = s
				}
			case xml.Name{Space: ds.NSCPELang, Local: "logical-test"}:
				if p.Test != nil {
					return nil, d.Errorf("cpe-lang:platform %q has more than one logical-test", p.ID)
				}
				if p.Test, err = decodeTest(d, t); err != nil {
					return nil, err
				}
			default:
				if err := d.Skip(); err != nil {
					return nil, err
				}
			}
		}
	}
}

func decodeTest(d *ds.Decoder, start xml.StartElement) (*LogicalTest, error) {
	t := &LogicalTest{Operator: strings.ToUpper(attr(start, "operator"))}
	if t.Operator != "AND" && t.Operator != "OR" {
		return nil, d.Errorf("cpe-lang:logical-test operator %q (want AND or OR)", attr(start, "operator"))
	}
	var err error
	if t.Negate, err = parseBool(attr(start, "negate")); err != nil {
		return nil, d.Errorf("cpe-lang:logical-test negate: %v", err)
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch e := tok.(type) {
		case xml.EndElement:
			if len(t.Tests)+len(t.FactRefs)+len(t.CheckFactRefs) == 0 {
				return nil, d.Errorf("empty cpe-lang:logical-test")
			}
			return t, nil
		case xml.StartElement:
			if e.Name.Space != ds.NSCPELang {
				if err := d.Skip(); err != nil {
					return nil, err
				}
				continue
			}
			switch e.Name.Local {
			case "logical-test":
				sub, err := decodeTest(d, e)
				if err != nil {
					return nil, err
				}
				t.Tests = append(t.Tests, sub)
				continue
			case "fact-ref":
				n := attr(e, "name")
				if n == "" {
					return nil, d.Errorf("cpe-lang:fact-ref without a name")
				}
				t.FactRefs = append(t.FactRefs, n)
			case "check-fact-ref":
				c := CheckFactRef{System: attr(e, "system"), Href: attr(e, "href"), IDRef: attr(e, "id-ref")}
				if c.IDRef == "" {
					return nil, d.Errorf("cpe-lang:check-fact-ref without an id-ref")
				}
				t.CheckFactRefs = append(t.CheckFactRefs, c)
			}
			if err := d.Skip(); err != nil {
				return nil, err
			}
		}
	}
}

// parseBool reads an xs:boolean; "" is false.
func parseBool(s string) (bool, error) {
	switch strings.TrimSpace(s) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, fmt.Errorf("%q is not a boolean", s)
}

func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// text reads the character content of the element whose start tag was
// read last, up to its end tag; child elements are refused.
func text(d *ds.Decoder) (string, error) {
	var b strings.Builder
	for {
		tok, err := d.Token()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.StartElement:
			return "", d.Errorf("unexpected element <%s> in text", t.Name.Local)
		case xml.EndElement:
			return strings.TrimSpace(b.String()), nil
		}
	}
}
