package pdfsign

import (
	"bytes"
	"fmt"
)

const (
	maxSections = 256   // cross-reference sections followed through /Prev
	maxResolves = 10000 // indirect objects read for one Sign or Verify
	maxFields   = 1000  // form fields looked at
)

// xrefEntry is where the newest version of an object is.
type xrefEntry struct {
	off  int
	gen  int
	free bool
}

// A document is a PDF file as its cross-reference tables describe it.
type document struct {
	b         []byte
	xref      map[int]xrefEntry
	trailer   dict // of the newest section
	startxref int  // offset of the newest section
	size      int  // one more than the highest object number
	resolves  int
	hybrid    bool // a trailer names a cross-reference stream too (/XRefStm)
}

// open reads the cross-reference sections of b, newest first.
func open(b []byte) (*document, error) {
	i := bytes.LastIndex(b, []byte("startxref"))
	if i < 0 {
		return nil, fmt.Errorf("no startxref: not a PDF file, or truncated")
	}
	p := &parser{b: b, pos: i + len("startxref")}
	off, err := p.uint(maxOffset)
	if err != nil {
		return nil, fmt.Errorf("startxref at offset %d: %w", i, err)
	}
	d := &document{b: b, xref: make(map[int]xrefEntry), startxref: off}
	seen := make(map[int]bool)
	for n := 0; ; n++ {
		if n == maxSections {
			return nil, fmt.Errorf("more than %d cross-reference sections", maxSections)
		}
		if seen[off] {
			return nil, fmt.Errorf("cross-reference section at offset %d: /Prev loops", off)
		}
		seen[off] = true
		trailer, err := d.section(off)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			d.trailer = trailer
		}
		if trailer.get("XRefStm") != nil {
			d.hybrid = true
		}
		prev, ok := trailer.get("Prev").(int64)
		if !ok {
			break
		}
		if prev < 0 || prev >= int64(len(b)) {
			return nil, fmt.Errorf("trailer /Prev %d is outside the file", prev)
		}
		off = int(prev)
	}
	if d.trailer.get("Encrypt") != nil {
		return nil, fmt.Errorf("%w: encrypted PDF", ErrUnsupported)
	}
	if s, ok := d.trailer.get("Size").(int64); ok && s > 0 && s <= maxObjNum+1 {
		d.size = int(s)
	}
	for num := range d.xref {
		d.size = max(d.size, num+1)
	}
	return d, nil
}

// section reads the cross-reference table at off into d.xref (entries
// already known from a newer section win) and returns its trailer.
func (d *document) section(off int) (dict, error) {
	if off >= len(d.b) {
		return nil, fmt.Errorf("cross-reference table offset %d is outside the file", off)
	}
	p := &parser{b: d.b, pos: off}
	if !p.keyword("xref") {
		p.pos = off
		if _, o, err := p.indirect(); err == nil {
			if dict, ok := o.(dict); ok && dict.get("Type") == name("XRef") {
				return nil, fmt.Errorf("%w: cross-reference stream at offset %d (PDF 1.5 compressed cross-reference)", ErrUnsupported, off)
			}
		}
		return nil, fmt.Errorf("no cross-reference table at offset %d", off)
	}
	for {
		if p.keyword("trailer") {
			o, err := p.object()
			if err != nil {
				return nil, fmt.Errorf("trailer of cross-reference table at offset %d: %w", off, err)
			}
			t, ok := o.(dict)
			if !ok {
				return nil, fmt.Errorf("trailer of cross-reference table at offset %d is not a dictionary", off)
			}
			return t, nil
		}
		first, err := p.uint(maxObjNum)
		if err != nil {
			return nil, fmt.Errorf("cross-reference table at offset %d: %w", off, err)
		}
		count, err := p.uint(maxObjNum + 1 - first)
		if err != nil {
			return nil, fmt.Errorf("cross-reference table at offset %d: %w", off, err)
		}
		// Every entry takes some bytes, so count cannot make this loop
		// run longer than the input is.
		for num := first; num < first+count; num++ {
			o, err := p.uint(maxOffset)
			if err != nil {
				return nil, fmt.Errorf("cross-reference entry for object %d: %w", num, err)
			}
			gen, err := p.uint(maxGen)
			if err != nil {
				return nil, fmt.Errorf("cross-reference entry for object %d: %w", num, err)
			}
			p.skipSpace()
			var free bool
			switch kw := p.word(); string(kw) {
			case "n":
			case "f":
				free = true
			default:
				return nil, fmt.Errorf("cross-reference entry for object %d: type %q is not n or f", num, clip(kw))
			}
			if _, ok := d.xref[num]; !ok {
				d.xref[num] = xrefEntry{off: o, gen: gen, free: free}
			}
		}
	}
}

// resolve returns o, or the object it refers to.
func (d *document) resolve(o object) (object, error) {
	r, ok := o.(ref)
	if !ok {
		return o, nil
	}
	e, ok := d.xref[r.num]
	if !ok || e.free || e.gen != r.gen {
		if d.hybrid {
			return nil, fmt.Errorf("%w: object %d %d R is not in the cross-reference table, and the cross-reference stream of this hybrid file is not read", ErrUnsupported, r.num, r.gen)
		}
		return nil, fmt.Errorf("object %d %d R is not in the cross-reference table", r.num, r.gen)
	}
	if d.resolves++; d.resolves > maxResolves {
		return nil, fmt.Errorf("more than %d indirect objects read", maxResolves)
	}
	if e.off >= len(d.b) {
		return nil, fmt.Errorf("object %d %d R: offset %d is outside the file", r.num, r.gen, e.off)
	}
	p := &parser{b: d.b, pos: e.off}
	got, v, err := p.indirect()
	if err != nil {
		return nil, err
	}
	if got != r {
		return nil, fmt.Errorf("object %d %d R: offset %d holds object %d %d", r.num, r.gen, e.off, got.num, got.gen)
	}
	return v, nil
}

// dict resolves o, which must be a dictionary (or null).
func (d *document) dict(o object, what string) (dict, error) {
	v, err := d.resolve(o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	switch v := v.(type) {
	case dict:
		return v, nil
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf("%s is not a dictionary", what)
}

// array resolves o, which must be an array (or null).
func (d *document) array(o object, what string) (array, error) {
	v, err := d.resolve(o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	switch v := v.(type) {
	case array:
		return v, nil
	case nil:
		return nil, nil
	}
	return nil, fmt.Errorf("%s is not an array", what)
}

// catalog returns the document catalog and its reference.
func (d *document) catalog() (ref, dict, error) {
	r, ok := d.trailer.get("Root").(ref)
	if !ok {
		return ref{}, nil, fmt.Errorf("trailer has no /Root reference")
	}
	c, err := d.dict(r, "catalog /Root")
	if err != nil {
		return ref{}, nil, err
	}
	if c == nil {
		return ref{}, nil, fmt.Errorf("catalog /Root is null")
	}
	return r, c, nil
}

// firstPage returns the first page of the page tree rooted at pages.
func (d *document) firstPage(pages object) (ref, dict, error) {
	seen := make(map[ref]bool)
	stack := []object{pages}
	for len(stack) > 0 {
		o := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		r, ok := o.(ref)
		if !ok {
			return ref{}, nil, fmt.Errorf("page tree node is not an indirect reference")
		}
		if seen[r] {
			return ref{}, nil, fmt.Errorf("page tree: object %d %d R appears twice", r.num, r.gen)
		}
		seen[r] = true
		what := fmt.Sprintf("page tree node %d %d R", r.num, r.gen)
		n, err := d.dict(r, what)
		if err != nil {
			return ref{}, nil, err
		}
		typ := n.get("Type")
		if typ == name("Page") || typ != name("Pages") && n.get("Kids") == nil {
			return r, n, nil
		}
		kids, err := d.array(n.get("Kids"), what+" /Kids")
		if err != nil {
			return ref{}, nil, err
		}
		if len(stack)+len(kids) > maxResolves {
			return ref{}, nil, fmt.Errorf("page tree is too large")
		}
		for i := len(kids) - 1; i >= 0; i-- {
			stack = append(stack, kids[i])
		}
	}
	return ref{}, nil, fmt.Errorf("document has no pages")
}
