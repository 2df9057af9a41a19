package xccdf

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/plumbhq/plumb/scap/cpe"
	"github.com/plumbhq/plumb/scap/ds"
)

// Parse parses an XCCDF 1.2 Benchmark document. It applies the same
// protections as ds.Open: no DOCTYPE, bounded depth and token size.
func Parse(r io.Reader) (*Benchmark, error) {
	return Decode(ds.NewDecoder(r, ""))
}

// ParseComponent parses the benchmark component id of a data stream
// collection (or a stand-alone benchmark file opened with ds.Open); errors
// name the collection's file and the position in it.
func ParseComponent(c *ds.Collection, id string) (*Benchmark, error) {
	return ParseComponentWith(c, id, Options{})
}

// Options choose what a benchmark parse keeps.
type Options struct {
	// Brief leaves out the prose a scan never reports: the descriptions,
	// rationales and warnings of the benchmark, its profiles and items,
	// and the fix scripts of rules (those fields stay empty). What a scan
	// needs is kept: ids, titles, references, fixtexts, idents, checks,
	// values, platforms and profiles. The parts left out are still
	// checked for well-formedness (ds.Decoder.Skip), only not decoded;
	// they are about a quarter of SSG's benchmarks and much of the
	// parse's cost.
	Brief bool
}

// ParseComponentWith is ParseComponent with options.
func ParseComponentWith(c *ds.Collection, id string, o Options) (*Benchmark, error) {
	d, err := c.ComponentDecoder(id)
	if err != nil {
		return nil, err
	}
	return DecodeWith(d, o)
}

// Open opens a data stream collection (or a stand-alone benchmark file)
// and parses its first benchmark. The collection stays open so that the
// benchmark's check hrefs can be resolved and their components read; the
// caller closes it. To pick another benchmark of a collection, use
// ds.Open, Collection.Checklists and ParseComponent.
func Open(path string) (*Benchmark, *ds.Collection, error) {
	c, err := ds.Open(path)
	if err != nil {
		return nil, nil, err
	}
	lists := c.Checklists()
	if len(lists) == 0 {
		c.Close()
		return nil, nil, fmt.Errorf("%s: no XCCDF 1.2 benchmark in the file", path)
	}
	b, err := ParseComponent(c, lists[0].Component.ID)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return b, c, nil
}

// Decode parses the Benchmark document d reads.
func Decode(d *ds.Decoder) (*Benchmark, error) { return DecodeWith(d, Options{}) }

// DecodeWith is Decode with options.
func DecodeWith(d *ds.Decoder, o Options) (*Benchmark, error) {
	root, err := d.Root()
	if err != nil {
		return nil, err
	}
	if err := checkRoot(d, root, "Benchmark"); err != nil {
		return nil, err
	}
	p := &parser{d: d, brief: o.Brief, b: &Benchmark{
		PlatformSpecification: map[string]*cpe.Platform{},
		PlainTexts:            map[string]string{},
		groups:                map[string]*Group{},
		rules:                 map[string]*Rule{},
		values:                map[string]*Value{},
		profiles:              map[string]*Profile{},
		clusters:              map[string][]Item{},
	}}
	if err := p.benchmark(root); err != nil {
		return nil, err
	}
	if err := d.Drain(); err != nil {
		return nil, err
	}
	p.finish()
	p.b.assignCIDs()
	return p.b, nil
}

// checkRoot explains what a wrong root element is.
func checkRoot(d *ds.Decoder, root xml.StartElement, want string) error {
	switch {
	case root.Name == xml.Name{Space: ds.NSXCCDF12, Local: want}:
		return nil
	case root.Name.Space == ds.NSXCCDF11:
		return d.Errorf("XCCDF 1.1 is not supported: use the XCCDF 1.2 content (SSG's -ds.xml data streams carry it)")
	case root.Name.Space == ds.NSXCCDF12:
		return d.Errorf("root element is an XCCDF %s, not a %s", root.Name.Local, want)
	case root.Name.Space == ds.NSDataStream:
		return d.Errorf("this is a SCAP data stream, not an XCCDF document: open it with ds.Open and parse its benchmark with ParseComponent")
	}
	return d.Errorf("not an XCCDF 1.2 %s: root element <%s> in namespace %q", want, root.Name.Local, root.Name.Space)
}

type parser struct {
	d     *ds.Decoder
	b     *Benchmark
	brief bool // Options.Brief
}

// prose reads a text element only a full parse keeps (see Options.Brief)
// into *dst, the first of several winning; a brief parse skips it.
func (p *parser) prose(dst *string) error {
	if p.brief {
		return p.d.Skip()
	}
	return p.firstText(dst, modeHTML)
}

func (p *parser) benchmark(start xml.StartElement) error {
	b := p.b
	b.ID = attr(start, "id")
	if b.ID == "" {
		return p.d.Errorf("Benchmark without an id")
	}
	b.Lang = xmlLang(start)
	var err error
	if b.Resolved, err = boolAttr(start, "resolved", false); err != nil {
		return p.d.Errorf("Benchmark resolved: %v", err)
	}
	return p.children(func(t xml.StartElement) error {
		switch t.Name.Local {
		case "title":
			return p.firstText(&b.Title, modePlain)
		case "description":
			return p.prose(&b.Description)
		case "status": // the last status is the current one
			s, _, err := readText(p.d, modePlain)
			b.Status = s
			return err
		case "version":
			return p.firstText(&b.Version, modePlain)
		case "platform":
			return p.platform(t, &b.Platforms)
		case "reference":
			return p.reference(t, &b.References)
		case "plain-text":
			id := attr(t, "id")
			s, _, err := readText(p.d, modePlain)
			if err != nil {
				return err
			}
			b.PlainTexts[id] = s
			return nil
		case "Profile":
			pr, err := p.profile(t)
			if err != nil {
				return err
			}
			if _, dup := b.profiles[pr.ID]; dup {
				return p.d.Errorf("duplicate Profile id %q", pr.ID)
			}
			b.profiles[pr.ID] = pr
			b.Profiles = append(b.Profiles, pr)
			return nil
		case "Group", "Rule", "Value":
			it, err := p.item(t, nil)
			if err != nil {
				return err
			}
			b.Items = append(b.Items, it)
			return nil
		}
		return p.d.Skip()
	}, func(t xml.StartElement) error {
		if t.Name == (xml.Name{Space: ds.NSCPELang, Local: "platform-specification"}) {
			plats, err := cpe.DecodePlatformSpecification(p.d)
			if err != nil {
				return err
			}
			for _, pl := range plats {
				if _, dup := b.PlatformSpecification[pl.ID]; dup {
					return p.d.Errorf("duplicate cpe-lang platform id %q", pl.ID)
				}
				b.PlatformSpecification[pl.ID] = pl
			}
			return nil
		}
		return p.d.Skip()
	})
}

// children calls xccdf for each XCCDF child element of the current
// element and other for the rest, until the current element ends.
func (p *parser) children(xccdf, other func(xml.StartElement) error) error {
	for {
		p.d.SkipText()
		tok, err := p.d.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			f := other
			if t.Name.Space == ds.NSXCCDF12 {
				f = xccdf
			}
			if f == nil {
				f = func(xml.StartElement) error { return p.d.Skip() }
			}
			if err := f(t); err != nil {
				return err
			}
		}
	}
}

// firstText reads a text element into *dst unless *dst is already set:
// the first of several (xml:lang variants, say) wins.
func (p *parser) firstText(dst *string, mode textMode) error {
	var s string
	var err error
	if mode == modePlain {
		s, err = readPlain(p.d)
	} else {
		s, _, err = readText(p.d, mode)
	}
	if err != nil {
		return err
	}
	if *dst == "" {
		*dst = s
	}
	return nil
}

func (p *parser) platform(t xml.StartElement, dst *[]string) error {
	id := attr(t, "idref")
	if id == "" {
		return p.d.Errorf("platform without an idref")
	}
	*dst = append(*dst, id)
	return p.d.Skip()
}

func (p *parser) reference(t xml.StartElement, dst *[]Reference) error {
	ref := Reference{Href: attr(t, "href")}
	var err error
	if ref.Text, err = readPlain(p.d); err != nil {
		return err
	}
	*dst = append(*dst, ref)
	return nil
}

// item parses a Group, Rule or Value whose start tag was just read.
func (p *parser) item(t xml.StartElement, parent *Group) (Item, error) {
	id := attr(t, "id")
	if id == "" {
		return nil, p.d.Errorf("%s without an id", t.Name.Local)
	}
	if _, dup := p.b.groups[id]; dup {
		return nil, p.d.Errorf("duplicate item id %q", id)
	}
	if _, dup := p.b.rules[id]; dup {
		return nil, p.d.Errorf("duplicate item id %q", id)
	}
	if _, dup := p.b.values[id]; dup {
		return nil, p.d.Errorf("duplicate item id %q", id)
	}
	if ext := attr(t, "extends"); ext != "" {
		return nil, p.d.Errorf("%s %q extends %q: item extension (deprecated in XCCDF 1.2) is not supported; use a resolved benchmark", t.Name.Local, id, ext)
	}
	var (
		it  Item
		err error
	)
	switch t.Name.Local {
	case "Group":
		it, err = p.group(t, id, parent)
	case "Rule":
		it, err = p.rule(t, id, parent)
	default:
		it, err = p.value(t, id, parent)
	}
	if err != nil {
		return nil, err
	}
	if c := attr(t, "cluster-id"); c != "" {
		p.b.clusters[c] = append(p.b.clusters[c], it)
	}
	return it, nil
}

func (p *parser) group(t xml.StartElement, id string, parent *Group) (*Group, error) {
	g := &Group{ID: id, Parent: parent, ClusterID: attr(t, "cluster-id")}
	var err error
	if g.Selected, err = boolAttr(t, "selected", true); err == nil {
		if g.Hidden, err = boolAttr(t, "hidden", false); err == nil {
			if g.Abstract, err = boolAttr(t, "abstract", false); err == nil {
				g.Weight, err = weightAttr(t)
			}
		}
	}
	if err != nil {
		return nil, p.d.Errorf("Group %q: %v", id, err)
	}
	p.b.groups[id] = g
	p.b.Groups = append(p.b.Groups, g)
	err = p.children(func(c xml.StartElement) error {
		switch c.Name.Local {
		case "title":
			return p.firstText(&g.Title, modePlain)
		case "description":
			return p.prose(&g.Description)
		case "rationale":
			return p.prose(&g.Rationale)
		case "warning":
			return p.warning(c, &g.Warnings)
		case "reference":
			return p.reference(c, &g.References)
		case "platform":
			return p.platform(c, &g.Platforms)
		case "requires":
			return p.requires(c, &g.Requires)
		case "conflicts":
			return p.conflicts(c, &g.Conflicts)
		case "Group", "Rule", "Value":
			it, err := p.item(c, g)
			if err != nil {
				return err
			}
			g.Items = append(g.Items, it)
			return nil
		}
		return p.d.Skip()
	}, nil)
	return g, err
}

func (p *parser) rule(t xml.StartElement, id string, parent *Group) (*Rule, error) {
	r := &Rule{ID: id, Parent: parent, ClusterID: attr(t, "cluster-id"), Severity: "unknown", Role: "full"}
	if s := attr(t, "severity"); s != "" {
		r.Severity = s
	}
	if s := attr(t, "role"); s != "" {
		r.Role = s
	}
	switch r.Severity {
	case "unknown", "info", "low", "medium", "high":
	default:
		return nil, p.d.Errorf("Rule %q: severity %q (want unknown, info, low, medium or high)", id, r.Severity)
	}
	switch r.Role {
	case "full", "unscored", "unchecked":
	default:
		return nil, p.d.Errorf("Rule %q: role %q (want full, unscored or unchecked)", id, r.Role)
	}
	var err error
	if r.Selected, err = boolAttr(t, "selected", true); err == nil {
		if r.Hidden, err = boolAttr(t, "hidden", false); err == nil {
			if r.Abstract, err = boolAttr(t, "abstract", false); err == nil {
				if r.Multiple, err = boolAttr(t, "multiple", false); err == nil {
					r.Weight, err = weightAttr(t)
				}
			}
		}
	}
	if err != nil {
		return nil, p.d.Errorf("Rule %q: %v", id, err)
	}
	p.b.rules[id] = r
	p.b.Rules = append(p.b.Rules, r)
	err = p.children(func(c xml.StartElement) error {
		switch c.Name.Local {
		case "title":
			return p.firstText(&r.Title, modePlain)
		case "description":
			return p.prose(&r.Description)
		case "rationale":
			return p.prose(&r.Rationale)
		case "warning":
			return p.warning(c, &r.Warnings)
		case "reference":
			return p.reference(c, &r.References)
		case "platform":
			return p.platform(c, &r.Platforms)
		case "requires":
			return p.requires(c, &r.Requires)
		case "conflicts":
			return p.conflicts(c, &r.Conflicts)
		case "ident":
			id := Ident{System: attr(c, "system")}
			var err error
			id.Value, err = readPlain(p.d)
			r.Idents = append(r.Idents, id)
			return err
		case "fixtext":
			ft := FixText{FixRef: attr(c, "fixref"), Strategy: attr(c, "strategy"),
				Disruption: attr(c, "disruption"), Complexity: attr(c, "complexity")}
			var err error
			if ft.Reboot, err = boolAttr(c, "reboot", false); err != nil {
				return p.d.Errorf("fixtext: %v", err)
			}
			if ft.Text, _, err = readText(p.d, modeHTML); err != nil {
				return err
			}
			r.FixTexts = append(r.FixTexts, ft)
			return nil
		case "fix":
			if p.brief {
				return p.d.Skip()
			}
			f := Fix{ID: attr(c, "id"), System: attr(c, "system"), Platform: attr(c, "platform"),
				Strategy: attr(c, "strategy"), Disruption: attr(c, "disruption"), Complexity: attr(c, "complexity")}
			var err error
			if f.Reboot, err = boolAttr(c, "reboot", false); err != nil {
				return p.d.Errorf("fix: %v", err)
			}
			if f.Text, f.SubIDs, err = readText(p.d, modeRaw); err != nil {
				return err
			}
			f.SubIDs = dedupe(f.SubIDs)
			r.Fixes = append(r.Fixes, f)
			return nil
		case "check":
			ch, err := p.check(c)
			if err != nil {
				return err
			}
			r.Checks = append(r.Checks, ch)
			return nil
		case "complex-check":
			if r.ComplexCheck != nil {
				return p.d.Errorf("Rule %q has more than one complex-check", id)
			}
			cc, err := p.complexCheck(c)
			r.ComplexCheck = cc
			return err
		}
		return p.d.Skip()
	}, nil)
	return r, err
}

func (p *parser) value(t xml.StartElement, id string, parent *Group) (*Value, error) {
	v := &Value{ID: id, Parent: parent, ClusterID: attr(t, "cluster-id"), Type: "string", Operator: "equals"}
	if s := attr(t, "type"); s != "" {
		v.Type = s
	}
	if s := attr(t, "operator"); s != "" {
		v.Operator = s
	}
	var err error
	if v.Interactive, err = boolAttr(t, "interactive", false); err == nil {
		v.Hidden, err = boolAttr(t, "hidden", false)
	}
	if err != nil {
		return nil, p.d.Errorf("Value %q: %v", id, err)
	}
	p.b.values[id] = v
	p.b.Values = append(p.b.Values, v)
	sel := func(c xml.StartElement, dst *[]SelString) error {
		s := SelString{Selector: attr(c, "selector")}
		var err error
		if s.Value, err = rawText(p.d); err != nil {
			return err
		}
		*dst = append(*dst, s)
		return nil
	}
	err = p.children(func(c xml.StartElement) error {
		switch c.Name.Local {
		case "title":
			return p.firstText(&v.Title, modePlain)
		case "description":
			return p.prose(&v.Description)
		case "value":
			return sel(c, &v.Values)
		case "default":
			return sel(c, &v.Defaults)
		case "lower-bound":
			return sel(c, &v.LowerBounds)
		case "upper-bound":
			return sel(c, &v.UpperBounds)
		case "match":
			return sel(c, &v.Matches)
		case "complex-value":
			items, err := p.items()
			v.ComplexValues = append(v.ComplexValues, SelList{Selector: attr(c, "selector"), Items: items})
			return err
		case "choices":
			ch := Choices{Selector: attr(c, "selector")}
			var err error
			if ch.MustMatch, err = boolAttr(c, "mustMatch", false); err != nil {
				return p.d.Errorf("choices: %v", err)
			}
			err = p.children(func(e xml.StartElement) error {
				if e.Name.Local == "choice" {
					s, err := rawText(p.d)
					ch.Items = append(ch.Items, s)
					return err
				}
				return p.d.Skip()
			}, nil)
			v.Choices = append(v.Choices, ch)
			return err
		}
		return p.d.Skip()
	}, nil)
	return v, err
}

// items reads the item children of a complex-value or set-complex-value.
func (p *parser) items() ([]string, error) {
	var out []string
	err := p.children(func(e xml.StartElement) error {
		if e.Name.Local == "item" {
			s, err := rawText(p.d)
			out = append(out, s)
			return err
		}
		return p.d.Skip()
	}, nil)
	return out, err
}

func (p *parser) warning(t xml.StartElement, dst *[]Warning) error {
	if p.brief {
		return p.d.Skip()
	}
	w := Warning{Category: attr(t, "category")}
	if w.Category == "" {
		w.Category = "general"
	}
	var err error
	if w.Text, _, err = readText(p.d, modeHTML); err != nil {
		return err
	}
	*dst = append(*dst, w)
	return nil
}

func (p *parser) requires(t xml.StartElement, dst *[][]string) error {
	ids := strings.Fields(attr(t, "idref"))
	if len(ids) == 0 {
		return p.d.Errorf("requires without an idref")
	}
	*dst = append(*dst, ids)
	return p.d.Skip()
}

func (p *parser) conflicts(t xml.StartElement, dst *[]string) error {
	ids := strings.Fields(attr(t, "idref"))
	if len(ids) == 0 {
		return p.d.Errorf("conflicts without an idref")
	}
	*dst = append(*dst, ids...)
	return p.d.Skip()
}

func (p *parser) check(t xml.StartElement) (*Check, error) {
	c := &Check{System: attr(t, "system"), ID: attr(t, "id"), Selector: attr(t, "selector")}
	if c.System == "" {
		return nil, p.d.Errorf("check without a system")
	}
	var err error
	if c.MultiCheck, err = boolAttr(t, "multi-check", false); err == nil {
		c.Negate, err = boolAttr(t, "negate", false)
	}
	if err != nil {
		return nil, p.d.Errorf("check: %v", err)
	}
	err = p.children(func(e xml.StartElement) error {
		switch e.Name.Local {
		case "check-export":
			x := CheckExport{ValueID: attr(e, "value-id"), ExportName: attr(e, "export-name")}
			if x.ValueID == "" || x.ExportName == "" {
				return p.d.Errorf("check-export needs a value-id and an export-name")
			}
			c.Exports = append(c.Exports, x)
		case "check-import":
			c.Imports = append(c.Imports, CheckImport{ImportName: attr(e, "import-name"), ImportXPath: attr(e, "import-xpath")})
		case "check-content-ref":
			ref := ContentRef{Href: attr(e, "href"), Name: attr(e, "name")}
			if ref.Href == "" {
				return p.d.Errorf("check-content-ref without an href")
			}
			c.ContentRefs = append(c.ContentRefs, ref)
		case "check-content":
			c.HasContent = true
		}
		return p.d.Skip()
	}, nil)
	return c, err
}

func (p *parser) complexCheck(t xml.StartElement) (*ComplexCheck, error) {
	cc := &ComplexCheck{Operator: strings.ToUpper(attr(t, "operator"))}
	if cc.Operator != "AND" && cc.Operator != "OR" {
		return nil, p.d.Errorf("complex-check operator %q (want AND or OR)", attr(t, "operator"))
	}
	var err error
	if cc.Negate, err = boolAttr(t, "negate", false); err != nil {
		return nil, p.d.Errorf("complex-check: %v", err)
	}
	err = p.children(func(e xml.StartElement) error {
		switch e.Name.Local {
		case "check":
			c, err := p.check(e)
			cc.Checks = append(cc.Checks, c)
			return err
		case "complex-check":
			sub, err := p.complexCheck(e)
			cc.ComplexChecks = append(cc.ComplexChecks, sub)
			return err
		}
		return p.d.Skip()
	}, nil)
	return cc, err
}

// profile parses a Profile (of a benchmark or a tailoring).
func (p *parser) profile(t xml.StartElement) (*Profile, error) {
	pr := &Profile{ID: attr(t, "id"), Extends: attr(t, "extends")}
	if pr.ID == "" {
		return nil, p.d.Errorf("Profile without an id")
	}
	var err error
	if pr.Abstract, err = boolAttr(t, "abstract", false); err != nil {
		return nil, p.d.Errorf("Profile %q: %v", pr.ID, err)
	}
	err = p.children(func(c xml.StartElement) error {
		kind := SelectorKind(c.Name.Local)
		switch kind {
		case "title":
			return p.firstText(&pr.Title, modePlain)
		case "description":
			return p.prose(&pr.Description)
		case "platform":
			return p.platform(c, &pr.Platforms)
		case Select, SetValue, SetComplexValue, RefineValue, RefineRule:
		default:
			return p.d.Skip()
		}
		s := Selector{Kind: kind, IDRef: attr(c, "idref")}
		if s.IDRef == "" {
			return p.d.Errorf("Profile %q: %s without an idref", pr.ID, kind)
		}
		var err error
		switch kind {
		case Select:
			sel := attr(c, "selected")
			if sel == "" {
				return p.d.Errorf("Profile %q: select %q without a selected attribute", pr.ID, s.IDRef)
			}
			if s.Selected, err = parseBool(sel); err != nil {
				return p.d.Errorf("Profile %q: select %q: %v", pr.ID, s.IDRef, err)
			}
		case SetValue:
			if s.Value, err = rawText(p.d); err != nil {
				return err
			}
			pr.Selectors = append(pr.Selectors, s)
			return nil
		case SetComplexValue:
			if s.Items, err = p.items(); err != nil {
				return err
			}
			pr.Selectors = append(pr.Selectors, s)
			return nil
		case RefineValue:
			s.Selector, s.Operator = attr(c, "selector"), attr(c, "operator")
		case RefineRule:
			s.Selector, s.Severity, s.Role = attr(c, "selector"), attr(c, "severity"), attr(c, "role")
			if w := attr(c, "weight"); w != "" {
				f, err := parseWeight(w)
				if err != nil {
					return p.d.Errorf("Profile %q: refine-rule %q: %v", pr.ID, s.IDRef, err)
				}
				s.Weight = &f
			}
		}
		pr.Selectors = append(pr.Selectors, s)
		return p.d.Skip()
	}, nil)
	return pr, err
}

// finish replaces sub markers now that every Value is known.
func (p *parser) finish() {
	b := p.b
	b.Title, b.Description = b.expandSubs(b.Title), b.expandSubs(b.Description)
	for _, pr := range b.Profiles {
		pr.Title, pr.Description = b.expandSubs(pr.Title), b.expandSubs(pr.Description)
	}
	for _, g := range b.Groups {
		g.Title, g.Description, g.Rationale = b.expandSubs(g.Title), b.expandSubs(g.Description), b.expandSubs(g.Rationale)
		for i := range g.Warnings {
			g.Warnings[i].Text = b.expandSubs(g.Warnings[i].Text)
		}
	}
	for _, v := range b.Values {
		v.Title, v.Description = b.expandSubs(v.Title), b.expandSubs(v.Description)
	}
	for _, r := range b.Rules {
		r.Title, r.Description, r.Rationale = b.expandSubs(r.Title), b.expandSubs(r.Description), b.expandSubs(r.Rationale)
		for i := range r.Warnings {
			r.Warnings[i].Text = b.expandSubs(r.Warnings[i].Text)
		}
		for i := range r.FixTexts {
			r.FixTexts[i].Text = b.expandSubs(r.FixTexts[i].Text)
		}
		for i := range r.Fixes {
			r.Fixes[i].Text = b.expandSubs(r.Fixes[i].Text)
		}
	}
}

func dedupe(ids []string) []string {
	seen := map[string]bool{}
	out := ids[:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// rawText reads the character content of the current element, refusing
// child elements, and trims surrounding white space.
func rawText(d *ds.Decoder) (string, error) {
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
			return "", d.Errorf("unexpected element <%s> in a text value", t.Name.Local)
		case xml.EndElement:
			return strings.TrimSpace(b.String()), nil
		}
	}
}

func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

func xmlLang(se xml.StartElement) string {
	for _, a := range se.Attr {
		if a.Name.Local == "lang" && a.Name.Space == "http://www.w3.org/XML/1998/namespace" {
			return a.Value
		}
	}
	return ""
}

func boolAttr(se xml.StartElement, local string, def bool) (bool, error) {
	s := attr(se, local)
	if s == "" {
		return def, nil
	}
	v, err := parseBool(s)
	if err != nil {
		return false, fmt.Errorf("%s: %w", local, err)
	}
	return v, nil
}

// parseBool reads an xs:boolean.
func parseBool(s string) (bool, error) {
	switch strings.TrimSpace(s) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", s)
}

func weightAttr(se xml.StartElement) (float64, error) {
	s := attr(se, "weight")
	if s == "" {
		return 1, nil
	}
	return parseWeight(s)
}

func parseWeight(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("weight %q is not a non-negative number", s)
	}
	return f, nil
}
