// Package ds reads SCAP 1.2 and 1.3 source data stream collections (and,
// uniformly, the stand-alone XCCDF, OVAL, CPE dictionary and OCIL files
// they are built from).
//
// A data stream bundles an XCCDF benchmark with the OVAL definitions, CPE
// dictionary and OCIL questionnaires it refers to; the largest SCAP
// Security Guide streams are 25 MB, and other content can reach 100 MB.
// Open therefore does not build a document tree: it streams the file once,
// checks that it is well-formed, and records for each component only where
// its root element lies in the file. Callers then decode just the
// component they need (Component, ComponentDecoder), and hrefs between
// components resolve through the data stream's catalogs (Resolve), as
// SCAP 1.2 (NIST SP 800-126) prescribes.
//
// The same reader rejects what SCAP content never needs and attackers use:
// DOCTYPE and entity declarations (no XXE, no entity expansion), deep
// nesting and oversized tokens. See Decoder.
package ds

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Kind says what language a component is in.
type Kind string

const (
	KindXCCDF         Kind = "xccdf"          // XCCDF 1.2 Benchmark
	KindTailoring     Kind = "tailoring"      // XCCDF 1.2 Tailoring (stand-alone files only)
	KindOVAL          Kind = "oval"           // OVAL 5 oval_definitions
	KindCPEDictionary Kind = "cpe-dictionary" // CPE 2 dictionary (cpe-list)
	KindOCIL          Kind = "ocil"           // OCIL 2 questionnaires
	KindOther         Kind = "other"          // anything else (XCCDF 1.1, extended components, ...)
)

// kindOf names the kind of a component by its root element.
func kindOf(n xml.Name) Kind {
	switch n {
	case xml.Name{Space: NSXCCDF12, Local: "Benchmark"}:
		return KindXCCDF
	case xml.Name{Space: NSXCCDF12, Local: "Tailoring"}:
		return KindTailoring
	case xml.Name{Space: NSOVALDefs, Local: "oval_definitions"}:
		return KindOVAL
	case xml.Name{Space: NSCPEDict, Local: "cpe-list"}:
		return KindCPEDictionary
	case xml.Name{Space: NSOCIL, Local: "ocil"}:
		return KindOCIL
	}
	return KindOther
}

// ErrNotFound is returned (wrapped) when an id or href does not resolve.
var ErrNotFound = errors.New("not found")

// ExternalRefError is returned by Resolve when an href leads outside the
// collection: to a remote resource named by a data stream (SSG's RHEL
// streams point at Red Hat's OVAL patch feed), or, for a stand-alone file,
// to a file next to it. Plumb never fetches remote content; the caller
// decides what to do with Target.
type ExternalRefError struct {
	Href   string // the href as written in the referring content
	Target string // the URL, or for a stand-alone file the path it names
	Remote bool   // Target is a URL rather than a local path
}

func (e *ExternalRefError) Error() string {
	if e.Remote {
		return fmt.Sprintf("%q refers to remote content %s (not fetched)", e.Href, e.Target)
	}
	return fmt.Sprintf("%q refers to the separate file %s", e.Href, e.Target)
}

// Collection is an opened source data stream collection, or a stand-alone
// SCAP file presented as a collection of one component.
type Collection struct {
	// Name is the file name given to Open or Read, used in messages.
	Name string
	// ID is the collection's id attribute ("" for a stand-alone file).
	ID string
	// Standalone is set when the file is a single XCCDF, OVAL, CPE, OCIL
	// or tailoring document rather than a data stream collection.
	Standalone  bool
	DataStreams []*DataStream
	Components  []*Component

	r      io.ReaderAt
	closer io.Closer
	byID   map[string]*Component
}

// Component is one ds:component (or ds:extended-component) of a
// collection: where its root element lies in the file and what it is.
type Component struct {
	ID        string
	Kind      Kind
	Root      xml.Name // resolved name of the root element
	RootID    string   // the root element's id attribute (the Benchmark id, ...)
	Timestamp string
	// Offset and Size locate the root element (from its '<' to the end of
	// its end tag) in the file; Line and Column are where it starts.
	Offset int64
	Size   int64
	Line   int
	Column int

	// insAt is the file offset in the root's start tag where inherited
	// namespace declarations (nsDecl) are inserted to make the component
	// a document of its own.
	insAt  int64
	nsDecl string
}

// DataStream is one ds:data-stream: the component-refs that make it up.
type DataStream struct {
	ID           string
	ScapVersion  string
	UseCase      string
	Dictionaries []*ComponentRef
	Checklists   []*ComponentRef
	Checks       []*ComponentRef
	Extended     []*ComponentRef

	refs map[string]*ComponentRef
}

// ComponentRef is a ds:component-ref: a component's use in a data stream,
// with the catalog that maps the hrefs found in that component to other
// component-refs.
type ComponentRef struct {
	ID string
	// Href is the xlink:href: "#component-id" for a local component, or a
	// URL for remote content.
	Href string
	// Catalog maps a cat:uri name (the href as written in the referring
	// content, "ssg-debian11-oval.xml") to its uri ("#component-ref-id").
	Catalog map[string]string
}

// ComponentID returns the id of the local component the ref points to, or
// "" when it points to remote content.
func (r *ComponentRef) ComponentID() string {
	if id, ok := strings.CutPrefix(r.Href, "#"); ok {
		return id
	}
	return ""
}

// Ref returns the component-ref called id.
func (s *DataStream) Ref(id string) (*ComponentRef, bool) {
	r, ok := s.refs[id]
	return r, ok
}

// Open opens and indexes the SCAP file at path. The file stays open, for
// Component, until Close.
func Open(path string) (*Collection, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	c, err := Read(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	c.closer = f
	return c, nil
}

// Close closes the file opened by Open. It is a no-op for a collection
// made by Read.
func (c *Collection) Close() error {
	if c.closer == nil {
		return nil
	}
	err := c.closer.Close()
	c.closer = nil
	return err
}

// Read indexes the SCAP content in r (size bytes); name is used in error
// messages and, for a stand-alone file, to locate the files its hrefs name.
// r must stay readable for as long as components are read from the result.
func Read(r io.ReaderAt, size int64, name string) (*Collection, error) {
	c := &Collection{Name: name, r: r, byID: map[string]*Component{}}
	d := NewDecoder(io.NewSectionReader(r, 0, size), name)
	root, err := firstElement(d)
	if err != nil {
		return nil, err
	}
	if root.Name == (xml.Name{Space: NSDataStream, Local: "data-stream-collection"}) {
		c.ID = attr(root, "", "id")
		if err := c.readCollection(d); err != nil {
			return nil, err
		}
	} else {
		id := filepath.Base(name)
		if name == "" {
			id = "document"
		}
		comp, err := c.readRoot(d, root, id)
		if err != nil {
			return nil, err
		}
		if comp.Kind == KindOther {
			return nil, d.Errorf("not SCAP content: root element <%s> in namespace %q "+
				"(want a data stream collection, an XCCDF 1.2 Benchmark or Tailoring, OVAL definitions, a CPE dictionary or OCIL)",
				root.Name.Local, root.Name.Space)
		}
		c.Standalone = true
		c.addComponent(comp)
		ref := &ComponentRef{ID: comp.ID, Href: "#" + comp.ID}
		s := &DataStream{refs: map[string]*ComponentRef{ref.ID: ref}}
		switch comp.Kind {
		case KindCPEDictionary:
			s.Dictionaries = append(s.Dictionaries, ref)
		case KindXCCDF, KindTailoring:
			s.Checklists = append(s.Checklists, ref)
		default:
			s.Checks = append(s.Checks, ref)
		}
		c.DataStreams = append(c.DataStreams, s)
	}
	if err := expectEOF(d); err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// firstElement reads up to and including the root start tag.
func firstElement(d *Decoder) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.StartElement{}, err
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se, nil
		}
	}
}

func expectEOF(d *Decoder) error {
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (c *Collection) addComponent(comp *Component) {
	c.Components = append(c.Components, comp)
	c.byID[comp.ID] = comp
}

// readCollection reads the children of ds:data-stream-collection.
func (c *Collection) readCollection(d *Decoder) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			switch t.Name {
			case xml.Name{Space: NSDataStream, Local: "data-stream"}:
				s, err := readDataStream(d, t)
				if err != nil {
					return err
				}
				c.DataStreams = append(c.DataStreams, s)
			case xml.Name{Space: NSDataStream, Local: "component"},
				xml.Name{Space: NSDataStream, Local: "extended-component"}:
				comp, err := c.readComponent(d, t)
				if err != nil {
					return err
				}
				if _, dup := c.byID[comp.ID]; dup {
					return d.Errorf("duplicate component id %q", comp.ID)
				}
				c.addComponent(comp)
			default: // signatures and anything newer
				if err := d.Skip(); err != nil {
					return err
				}
			}
		}
	}
}

func readDataStream(d *Decoder, start xml.StartElement) (*DataStream, error) {
	s := &DataStream{
		ID:          attr(start, "", "id"),
		ScapVersion: attr(start, "", "scap-version"),
		UseCase:     attr(start, "", "use-case"),
		refs:        map[string]*ComponentRef{},
	}
	if s.ID == "" {
		return nil, d.Errorf("ds:data-stream without an id")
	}
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return s, nil
		case xml.StartElement:
			var list *[]*ComponentRef
			switch t.Name {
			case xml.Name{Space: NSDataStream, Local: "dictionaries"}:
				list = &s.Dictionaries
			case xml.Name{Space: NSDataStream, Local: "checklists"}:
				list = &s.Checklists
			case xml.Name{Space: NSDataStream, Local: "checks"}:
				list = &s.Checks
			case xml.Name{Space: NSDataStream, Local: "extended-components"}:
				list = &s.Extended
			default:
				if err := d.Skip(); err != nil {
					return nil, err
				}
				continue
			}
			if err := readRefs(d, s, list); err != nil {
				return nil, err
			}
		}
	}
}

func readRefs(d *Decoder, s *DataStream, list *[]*ComponentRef) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			if t.Name != (xml.Name{Space: NSDataStream, Local: "component-ref"}) {
				if err := d.Skip(); err != nil {
					return err
				}
				continue
			}
			ref := &ComponentRef{ID: attr(t, "", "id"), Href: attr(t, NSXLink, "href"), Catalog: map[string]string{}}
			if ref.ID == "" || ref.Href == "" {
				return d.Errorf("ds:component-ref needs an id and an xlink:href")
			}
			if _, dup := s.refs[ref.ID]; dup {
				return d.Errorf("duplicate component-ref id %q in data stream %q", ref.ID, s.ID)
			}
			if err := readCatalog(d, ref); err != nil {
				return err
			}
			s.refs[ref.ID] = ref
			*list = append(*list, ref)
		}
	}
}

// readCatalog reads the children of a component-ref: its cat:catalog.
func readCatalog(d *Decoder, ref *ComponentRef) error {
	for {
		tok, err := d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if t.Name == (xml.Name{Space: NSDataStream, Local: "component-ref"}) {
				return nil
			}
		case xml.StartElement:
			switch t.Name {
			case xml.Name{Space: NSCatalog, Local: "catalog"}:
				// Descend: the entries are its children.
			case xml.Name{Space: NSCatalog, Local: "uri"}:
				name, uri := attr(t, "", "name"), attr(t, "", "uri")
				if name == "" || uri == "" {
					return d.Errorf("cat:uri needs a name and a uri")
				}
				ref.Catalog[name] = uri
				if err := d.Skip(); err != nil {
					return err
				}
			default:
				if err := d.Skip(); err != nil {
					return err
				}
			}
		}
	}
}

// readComponent reads a ds:component: its single root element is indexed,
// not decoded.
func (c *Collection) readComponent(d *Decoder, start xml.StartElement) (*Component, error) {
	id := attr(start, "", "id")
	if id == "" {
		return nil, d.Errorf("ds:%s without an id", start.Name.Local)
	}
	var comp *Component
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if comp == nil {
				return nil, d.Errorf("component %q is empty", id)
			}
			return comp, nil
		case xml.StartElement:
			if comp != nil {
				return nil, d.Errorf("component %q has more than one root element", id)
			}
			comp, err = c.readRoot(d, t, id)
			if err != nil {
				return nil, err
			}
			comp.Timestamp = attr(start, "", "timestamp")
			if start.Name.Local == "extended-component" {
				comp.Kind = KindOther
			}
		}
	}
}

// readRoot indexes the element whose start tag was just read and skips
// its content.
func (c *Collection) readRoot(d *Decoder, start xml.StartElement, id string) (*Component, error) {
	comp := &Component{
		ID:     id,
		Kind:   kindOf(start.Name),
		Root:   start.Name,
		RootID: attr(start, "", "id"),
		Offset: d.Offset(),
	}
	comp.Line, comp.Column = d.filePos(d.tokLine, d.tokCol)
	tagEnd := d.InputOffset()
	var decl strings.Builder
	for _, a := range d.InheritedNamespaces() {
		decl.WriteByte(' ')
		if a.Name.Space == "" {
			decl.WriteString("xmlns")
		} else {
			decl.WriteString("xmlns:" + a.Name.Local)
		}
		decl.WriteString(`="`)
		xml.EscapeText(&decl, []byte(a.Value))
		decl.WriteByte('"')
	}
	comp.nsDecl = decl.String()
	// Insert before the '>' or '/>' that ends the start tag.
	comp.insAt = tagEnd - 1
	var two [2]byte
	if tagEnd >= 2 {
		if _, err := c.r.ReadAt(two[:], tagEnd-2); err != nil {
			return nil, d.Wrap(fmt.Errorf("reading back the root tag: %w", err))
		}
		if two[0] == '/' {
			comp.insAt = tagEnd - 2
		}
	}
	if err := d.Skip(); err != nil {
		return nil, err
	}
	comp.Size = d.InputOffset() - comp.Offset
	return comp, nil
}

// check verifies what the indexing could not check on the way: that the
// component-refs point to components that exist.
func (c *Collection) check() error {
	for _, s := range c.DataStreams {
		for _, ref := range s.refs {
			if id := ref.ComponentID(); id != "" && c.byID[id] == nil {
				return fmt.Errorf("%s: data stream %q: component-ref %q points to missing component %q", c.Name, s.ID, ref.ID, id)
			}
		}
	}
	return nil
}

// attr returns the value of the attribute space:local, or "".
func attr(se xml.StartElement, space, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local && a.Name.Space == space {
			return a.Value
		}
	}
	return ""
}

// Get returns the component called id.
func (c *Collection) Get(id string) (*Component, bool) {
	comp, ok := c.byID[id]
	return comp, ok
}

// DataStream returns the data stream called id; "" means the first (SSG
// collections hold exactly one).
func (c *Collection) DataStream(id string) (*DataStream, error) {
	if id == "" && len(c.DataStreams) > 0 {
		return c.DataStreams[0], nil
	}
	for _, s := range c.DataStreams {
		if s.ID == id {
			return s, nil
		}
	}
	if id == "" {
		return nil, fmt.Errorf("%s: %w: the collection has no data stream", c.Name, ErrNotFound)
	}
	return nil, fmt.Errorf("%s: %w: no data stream %q", c.Name, ErrNotFound, id)
}

// Section returns the raw bytes of component id's root element. Its
// namespace prefixes may be declared outside it, on the collection; use
// Component or ComponentDecoder to read it as a document.
func (c *Collection) Section(id string) (*io.SectionReader, error) {
	comp, ok := c.byID[id]
	if !ok {
		return nil, fmt.Errorf("%s: %w: no component %q", c.Name, ErrNotFound, id)
	}
	return io.NewSectionReader(c.r, comp.Offset, comp.Size), nil
}

// Component returns component id as a document of its own: the bytes of
// its root element, with the namespace declarations it inherits from the
// collection added to its root tag (nothing is added for a stand-alone
// file). Only that part of the file is read, as the caller consumes it.
func (c *Collection) Component(id string) (io.Reader, error) {
	comp, ok := c.byID[id]
	if !ok {
		return nil, fmt.Errorf("%s: %w: no component %q", c.Name, ErrNotFound, id)
	}
	if comp.nsDecl == "" {
		return io.NewSectionReader(c.r, comp.Offset, comp.Size), nil
	}
	head := comp.insAt - comp.Offset
	return io.MultiReader(
		io.NewSectionReader(c.r, comp.Offset, head),
		strings.NewReader(comp.nsDecl),
		io.NewSectionReader(c.r, comp.insAt, comp.Size-head),
	), nil
}

// ComponentDecoder returns a Decoder over Component(id) whose errors name
// the collection's file and give offsets and lines in that file.
func (c *Collection) ComponentDecoder(id string) (*Decoder, error) {
	r, err := c.Component(id)
	if err != nil {
		return nil, err
	}
	comp := c.byID[id]
	d := NewDecoder(r, c.Name)
	d.origin = origin{
		offset: comp.Offset,
		line:   comp.Line,
		column: comp.Column,
		insAt:  comp.insAt - comp.Offset,
		insLen: int64(len(comp.nsDecl)),
	}
	return d, nil
}

// Checklist is an XCCDF benchmark as a data stream uses it: the
// component-ref whose catalog resolves the benchmark's check hrefs, and
// the component itself.
type Checklist struct {
	DataStream *DataStream
	Ref        *ComponentRef
	Component  *Component
}

// Checklists returns every XCCDF benchmark reachable from a data stream's
// checklists, in document order.
func (c *Collection) Checklists() []Checklist {
	var out []Checklist
	for _, s := range c.DataStreams {
		for _, ref := range s.Checklists {
			comp := c.byID[ref.ComponentID()]
			if comp != nil && comp.Kind == KindXCCDF {
				out = append(out, Checklist{DataStream: s, Ref: ref, Component: comp})
			}
		}
	}
	return out
}

// Resolve finds the component an href designates, as seen from the
// component-ref from of data stream dataStreamID ("" for the first): the
// href of an XCCDF check-content-ref ("ssg-debian11-oval.xml") resolves
// through the catalog of the benchmark's component-ref, the href of a CPE
// dictionary check through that of the dictionary's. An href of the form
// "#id" names a component-ref (or a component) directly.
//
// The result is a component id for Component. A remote component, or any
// href of a stand-alone file, yields an *ExternalRefError; an href that
// resolves to nothing yields an error wrapping ErrNotFound.
func (c *Collection) Resolve(dataStreamID, from, href string) (string, error) {
	if c.Standalone {
		if isURL(href) {
			return "", &ExternalRefError{Href: href, Target: href, Remote: true}
		}
		if href == "" || href == c.Components[0].ID {
			return c.Components[0].ID, nil
		}
		target := href
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(c.Name), filepath.FromSlash(href))
		}
		return "", &ExternalRefError{Href: href, Target: target}
	}
	s, err := c.DataStream(dataStreamID)
	if err != nil {
		return "", err
	}
	fromRef, ok := s.refs[from]
	if !ok {
		return "", fmt.Errorf("%s: %w: data stream %q has no component-ref %q", c.Name, ErrNotFound, s.ID, from)
	}
	uri, ok := fromRef.Catalog[href]
	if !ok {
		if !strings.HasPrefix(href, "#") {
			if isURL(href) {
				return "", &ExternalRefError{Href: href, Target: href, Remote: true}
			}
			return "", fmt.Errorf("%s: %w: %q is not in the catalog of component-ref %q", c.Name, ErrNotFound, href, from)
		}
		uri = href
	}
	id, ok := strings.CutPrefix(uri, "#")
	if !ok {
		// A catalog may map a name straight to a URL.
		return "", &ExternalRefError{Href: href, Target: uri, Remote: isURL(uri)}
	}
	if ref, ok := s.refs[id]; ok {
		if comp := ref.ComponentID(); comp != "" {
			return comp, nil
		}
		return "", &ExternalRefError{Href: href, Target: ref.Href, Remote: true}
	}
	if _, ok := c.byID[id]; ok {
		return id, nil
	}
	return "", fmt.Errorf("%s: %w: %q resolves to %q, which is neither a component-ref of data stream %q nor a component", c.Name, ErrNotFound, href, uri, s.ID)
}

func isURL(s string) bool {
	i := strings.Index(s, "://")
	return i > 0 && !strings.ContainsAny(s[:i], "/#")
}
