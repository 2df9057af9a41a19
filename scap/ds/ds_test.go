package ds

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func openTestdata(t *testing.T, name string) *Collection {
	t.Helper()
	c, err := Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestReadCollection(t *testing.T) {
	c := openTestdata(t, "collection.xml")
	if c.Standalone || c.ID != "scap_org.example_collection_test" {
		t.Fatalf("standalone %v id %q", c.Standalone, c.ID)
	}
	want := []struct {
		id     string
		kind   Kind
		rootID string
		prefix string // how the root tag starts in the file
	}{
		{"scap_org.example_comp_dict", KindCPEDictionary, "", "<cpe-dict:cpe-list>"},
		{"scap_org.example_comp_xccdf", KindXCCDF, "xccdf_org.example_benchmark_test", `<x:Benchmark id="xccdf_org.example_benchmark_test"`},
		{"scap_org.example_comp_oval", KindOVAL, "", `<oval_definitions xmlns=`},
		{"scap_org.example_comp_cpe-oval", KindOVAL, "", `<oval_definitions xmlns=`},
	}
	if len(c.Components) != len(want) {
		t.Fatalf("%d components, want %d", len(c.Components), len(want))
	}
	for i, w := range want {
		comp := c.Components[i]
		if comp.ID != w.id || comp.Kind != w.kind || comp.RootID != w.rootID || comp.Timestamp != "2024-01-02T03:04:05" {
			t.Errorf("component %d: %+v", i, comp)
		}
		sr, err := c.Section(w.id)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(sr)
		if !bytes.HasPrefix(raw, []byte(w.prefix)) || raw[len(raw)-1] != '>' {
			t.Errorf("%s: section %q", w.id, raw)
		}
		// The component read on its own is a complete document whose
		// prefixes are all declared.
		r, err := c.Component(w.id)
		if err != nil {
			t.Fatal(err)
		}
		d := NewDecoder(r, w.id)
		var root xml.Name
		for {
			tok, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", w.id, err)
			}
			if se, ok := tok.(xml.StartElement); ok && root.Local == "" {
				root = se.Name
			}
		}
		if root != comp.Root {
			t.Errorf("%s: root %v, want %v", w.id, root, comp.Root)
		}
	}
	// Line of the benchmark's root tag in the file.
	if comp, _ := c.Get("scap_org.example_comp_xccdf"); comp.Line != 42 || comp.Column != 5 {
		t.Errorf("benchmark at %d:%d, want 42:5", comp.Line, comp.Column)
	}

	if len(c.DataStreams) != 1 {
		t.Fatalf("%d data streams", len(c.DataStreams))
	}
	s := c.DataStreams[0]
	if s.ID != "scap_org.example_datastream_test" || s.ScapVersion != "1.3" || s.UseCase != "CONFIGURATION" ||
		len(s.Dictionaries) != 1 || len(s.Checklists) != 1 || len(s.Checks) != 3 {
		t.Fatalf("data stream %+v", s)
	}
	if got := s.Checklists[0].Catalog["example-oval.xml"]; got != "#scap_org.example_cref_oval" {
		t.Errorf("catalog entry %q", got)
	}
	if s.Checks[2].ComponentID() != "" || s.Checks[0].ComponentID() != "scap_org.example_comp_oval" {
		t.Errorf("component ids %q %q", s.Checks[2].ComponentID(), s.Checks[0].ComponentID())
	}
	lists := c.Checklists()
	if len(lists) != 1 || lists[0].Component.ID != "scap_org.example_comp_xccdf" || lists[0].Ref.ID != "scap_org.example_cref_xccdf" {
		t.Errorf("checklists %+v", lists)
	}
}

func TestResolve(t *testing.T) {
	c := openTestdata(t, "collection.xml")
	const (
		xccdfRef = "scap_org.example_cref_xccdf"
		dictRef  = "scap_org.example_cref_dict"
	)
	tests := []struct {
		stream, from, href string
		want               string
		remote             string // want an ExternalRefError with this target
		notFound           bool
	}{
		{"", xccdfRef, "example-oval.xml", "scap_org.example_comp_oval", "", false},
		{"scap_org.example_datastream_test", xccdfRef, "example-oval.xml", "scap_org.example_comp_oval", "", false},
		{"", dictRef, "example-cpe-oval.xml", "scap_org.example_comp_cpe-oval", "", false},
		{"", xccdfRef, "#scap_org.example_cref_cpe-oval", "scap_org.example_comp_cpe-oval", "", false},
		{"", xccdfRef, "#scap_org.example_comp_oval", "scap_org.example_comp_oval", "", false},
		{"", xccdfRef, "vendor-patches.xml", "", "https://vendor.example/oval/patches.xml", false},
		{"", xccdfRef, "https://elsewhere.example/x.xml", "", "https://elsewhere.example/x.xml", false},
		{"", xccdfRef, "example-cpe-oval.xml", "", "", true}, // only in the dictionary's catalog
		{"", xccdfRef, "#nothing", "", "", true},
		{"", "no-such-ref", "example-oval.xml", "", "", true},
		{"no-such-stream", xccdfRef, "example-oval.xml", "", "", true},
	}
	for _, tt := range tests {
		got, err := c.Resolve(tt.stream, tt.from, tt.href)
		var ext *ExternalRefError
		switch {
		case tt.remote != "":
			if !errors.As(err, &ext) || !ext.Remote || ext.Target != tt.remote {
				t.Errorf("Resolve(%q, %q): %q, %v; want remote %s", tt.from, tt.href, got, err, tt.remote)
			}
		case tt.notFound:
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("Resolve(%q, %q, %q): %q, %v; want ErrNotFound", tt.stream, tt.from, tt.href, got, err)
			}
		case err != nil || got != tt.want:
			t.Errorf("Resolve(%q, %q): %q, %v; want %q", tt.from, tt.href, got, err, tt.want)
		}
	}
}

func TestStandalone(t *testing.T) {
	c := openTestdata(t, "standalone-oval.xml")
	if !c.Standalone || len(c.Components) != 1 || len(c.DataStreams) != 1 {
		t.Fatalf("%+v", c)
	}
	comp := c.Components[0]
	if comp.ID != "standalone-oval.xml" || comp.Kind != KindOVAL || comp.Line != 2 {
		t.Errorf("component %+v", comp)
	}
	if got := c.DataStreams[0].Checks; len(got) != 1 || got[0].ComponentID() != comp.ID {
		t.Errorf("checks %+v", got)
	}
	r, _ := c.Component(comp.ID)
	data, _ := io.ReadAll(r)
	if !bytes.HasPrefix(data, []byte("<oval_definitions")) || !bytes.HasSuffix(data, []byte("</oval_definitions>")) {
		t.Errorf("component %q", data)
	}
	_, err := c.Resolve("", comp.ID, "other-oval.xml")
	var ext *ExternalRefError
	if !errors.As(err, &ext) || ext.Remote || ext.Target != filepath.Join("testdata", "other-oval.xml") {
		t.Errorf("Resolve: %v", err)
	}
	if id, err := c.Resolve("", comp.ID, ""); err != nil || id != comp.ID {
		t.Errorf("Resolve of the file itself: %q, %v", id, err)
	}
}

// TestRefuseDTD checks that entity declarations are refused outright, and
// fast: the billion-laughs document must not be expanded, the external
// entity never opened.
func TestRefuseDTD(t *testing.T) {
	for _, name := range []string{"entity-bomb.xml", "external-entity.xml"} {
		start := time.Now()
		_, err := Open(filepath.Join("testdata", name))
		if !errors.Is(err, ErrDTD) {
			t.Fatalf("%s: %v, want ErrDTD", name, err)
		}
		var e *Error
		if !errors.As(err, &e) || e.Line != 2 || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %q does not locate the DOCTYPE", name, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: refused in %v", name, d)
		}
	}
	// A DOCTYPE anywhere, not only in the prolog.
	_, err := Read(strings.NewReader(`<a><!DOCTYPE a></a>`), 20, "x")
	if !errors.Is(err, ErrDTD) {
		t.Errorf("inner DOCTYPE: %v", err)
	}
}

func TestTruncated(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "collection.xml"))
	if err != nil {
		t.Fatal(err)
	}
	end := bytes.LastIndex(data, []byte("</ds:data-stream-collection>"))
	for n := 0; n < end; n += 7 {
		_, err := Read(bytes.NewReader(data[:n]), int64(n), "cut.xml")
		var e *Error
		if !errors.As(err, &e) || e.File != "cut.xml" {
			t.Fatalf("cut at %d: %v", n, err)
		}
	}
	_, err = Read(bytes.NewReader(data[:end]), int64(end), "cut.xml")
	if err == nil || !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), "data-stream-collection") {
		t.Errorf("cut before the last tag: %v", err)
	}
}

func TestMalformed(t *testing.T) {
	deep := strings.Repeat("<a>", MaxDepth+1) + strings.Repeat("</a>", MaxDepth+1)
	tests := []struct {
		name, doc, want string
	}{
		{"empty", "", "no root element"},
		{"spaces", "  \n ", "no root element"},
		{"mismatch", `<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.2"><title></Benchmark>`, "closed by"},
		{"after root", `<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5"/><x/>`, "after the end of the root"},
		{"text after root", `<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5"/>junk`, "outside the root"},
		{"undeclared prefix", `<x:Benchmark/>`, "undeclared namespace prefix"},
		{"not scap", `<html/>`, "not SCAP content"},
		{"deep", deep, "nested deeper"},
		{"bad entity", `<a>&nope;</a>`, "entity"},
		{"nul", "<a>\x00</a>", "illegal character"},
		{"latin1", `<?xml version="1.0" encoding="ISO-8859-1"?><a/>`, "encoding"},
		{"missing component", `<ds:data-stream-collection xmlns:ds="http://scap.nist.gov/schema/scap/source/1.2" xmlns:xlink="http://www.w3.org/1999/xlink">
<ds:data-stream id="s"><ds:checks><ds:component-ref id="r" xlink:href="#gone"/></ds:checks></ds:data-stream>
</ds:data-stream-collection>`, "missing component"},
		{"two roots", `<ds:data-stream-collection xmlns:ds="http://scap.nist.gov/schema/scap/source/1.2">
<ds:component id="c"><a/><b/></ds:component></ds:data-stream-collection>`, "more than one root"},
		{"duplicate component", `<ds:data-stream-collection xmlns:ds="http://scap.nist.gov/schema/scap/source/1.2">
<ds:component id="c"><a/></ds:component><ds:component id="c"><a/></ds:component></ds:data-stream-collection>`, "duplicate component"},
	}
	for _, tt := range tests {
		_, err := Read(strings.NewReader(tt.doc), int64(len(tt.doc)), tt.name+".xml")
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), tt.name+".xml") {
			t.Errorf("%s: %v, want an error about %q naming the file", tt.name, err, tt.want)
		}
	}
}

func TestTokenTooLarge(t *testing.T) {
	doc := `<a b="` + strings.Repeat("x", MaxTokenSize+10) + `"/>`
	_, err := Read(strings.NewReader(doc), int64(len(doc)), "big.xml")
	if !errors.Is(err, ErrTokenTooLarge) {
		t.Fatalf("%v", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Offset != 0 || e.Line != 1 {
		t.Errorf("not located at the token: %v", err)
	}
}

// TestComponentDecoderPositions checks that errors found while decoding a
// component name the collection file and the line in it, not the line in
// the component.
func TestComponentDecoderPositions(t *testing.T) {
	c := openTestdata(t, "collection.xml")
	d, err := c.ComponentDecoder("scap_org.example_comp_xccdf")
	if err != nil {
		t.Fatal(err)
	}
	for {
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "Rule" {
			break
		}
	}
	err = d.Errorf("bad rule")
	var e *Error
	if !errors.As(err, &e) || e.File != filepath.Join("testdata", "collection.xml") || e.Line != 46 || e.Column != 7 {
		t.Fatalf("%v", err)
	}
	data, _ := os.ReadFile(filepath.Join("testdata", "collection.xml"))
	if !bytes.HasPrefix(data[e.Offset:], []byte(`<x:Rule id="xccdf_org.example_rule_one"`)) {
		t.Errorf("offset %d points at %q", e.Offset, data[e.Offset:e.Offset+20])
	}
}

func TestInheritedNamespaces(t *testing.T) {
	doc := `<a xmlns="urn:d" xmlns:p="urn:p" xmlns:q="urn:q"><b xmlns:q="urn:q2"><p:c xmlns:r="urn:r"/></b></a>`
	d := NewDecoder(strings.NewReader(doc), "")
	for {
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "c" {
			if se.Name.Space != "urn:p" {
				t.Errorf("c in %q", se.Name.Space)
			}
			break
		}
	}
	var got []string
	for _, a := range d.InheritedNamespaces() {
		got = append(got, a.Name.Space+":"+a.Name.Local+"="+a.Value)
	}
	want := []string{":xmlns=urn:d", "xmlns:p=urn:p", "xmlns:q=urn:q2"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %v, want %v", got, want)
	}
}

// ssgDataStreams returns the installed SSG data streams. Their absence is
// a failure in CI (CI=true) and a skip elsewhere.
func ssgDataStreams(t testing.TB) []string {
	t.Helper()
	files, _ := filepath.Glob("/usr/share/xml/scap/ssg/content/ssg-*-ds.xml")
	if len(files) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("no SSG data streams in /usr/share/xml/scap/ssg/content: install ssg-debian, ssg-debderived, ssg-nondebian (apt) or scap-security-guide")
		}
		t.Skip("no SSG data streams installed (apt-get install ssg-debian ssg-debderived ssg-nondebian)")
	}
	sort.Strings(files)
	return files
}

func TestSSGDataStreams(t *testing.T) {
	for _, f := range ssgDataStreams(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if len(c.DataStreams) != 1 || len(c.Checklists()) != 1 {
				t.Fatalf("%d data streams, %d checklists", len(c.DataStreams), len(c.Checklists()))
			}
			kinds := map[Kind]int{}
			for _, comp := range c.Components {
				kinds[comp.Kind]++
				// Every component stands alone: its root start tag
				// decodes with all its prefixes declared.
				r, err := c.Component(comp.ID)
				if err != nil {
					t.Fatal(err)
				}
				d := NewDecoder(r, comp.ID)
				tok, err := d.Token()
				for err == nil {
					if se, ok := tok.(xml.StartElement); ok {
						if se.Name != comp.Root {
							t.Errorf("%s: root %v, want %v", comp.ID, se.Name, comp.Root)
						}
						break
					}
					tok, err = d.Token()
				}
				if err != nil {
					t.Errorf("%s: %v", comp.ID, err)
				}
			}
			if kinds[KindXCCDF] != 1 || kinds[KindCPEDictionary] != 1 || kinds[KindOVAL] < 1 {
				t.Errorf("component kinds %v", kinds)
			}
			// The benchmark's OVAL href resolves through its catalog.
			cl := c.Checklists()[0]
			oval := strings.TrimSuffix(filepath.Base(f), "-ds.xml") + "-oval.xml"
			if _, ok := cl.Ref.Catalog[oval]; ok {
				id, err := c.Resolve(cl.DataStream.ID, cl.Ref.ID, oval)
				if comp, _ := c.Get(id); err != nil || comp.Kind != KindOVAL {
					t.Errorf("Resolve %s: %q, %v", oval, id, err)
				}
			}
		})
	}
}

func FuzzRead(f *testing.F) {
	for _, name := range []string{"collection.xml", "standalone-oval.xml", "entity-bomb.xml", "external-entity.xml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`<ds:data-stream-collection xmlns:ds="http://scap.nist.gov/schema/scap/source/1.2"><ds:component id="c"><a/></ds:component></ds:data-stream-collection>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Read(bytes.NewReader(data), int64(len(data)), "fuzz.xml")
		if err != nil {
			var e *Error
			if !errors.As(err, &e) && !strings.HasPrefix(err.Error(), "fuzz.xml: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, comp := range c.Components {
			if comp.Offset < 0 || comp.Size <= 0 || comp.Offset+comp.Size > int64(len(data)) {
				t.Fatalf("component %q out of bounds: %d+%d of %d", comp.ID, comp.Offset, comp.Size, len(data))
			}
			r, err := c.Component(comp.ID)
			if err != nil {
				t.Fatal(err)
			}
			d := NewDecoder(r, comp.ID)
			for {
				if _, err := d.Token(); err != nil {
					if err != io.EOF {
						t.Fatalf("component %q of a valid collection does not decode: %v", comp.ID, err)
					}
					break
				}
			}
		}
	})
}

// BenchmarkOpen opens the largest installed data stream; the MB/s column
// is the indexing throughput.
func BenchmarkOpen(b *testing.B) {
	files := ssgDataStreams(b)
	var largest string
	var size int64
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && st.Size() > size {
			largest, size = f, st.Size()
		}
	}
	b.Logf("%s, %.1f MB", filepath.Base(largest), float64(size)/1e6)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		c, err := Open(largest)
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

func TestByteOrderMark(t *testing.T) {
	doc := "\xef\xbb\xbf<?xml version=\"1.0\"?>\n<oval_definitions xmlns=\"http://oval.mitre.org/XMLSchema/oval-definitions-5\"/>"
	c, err := Read(strings.NewReader(doc), int64(len(doc)), "bom.xml")
	if err != nil {
		t.Fatal(err)
	}
	sr, _ := c.Section(c.Components[0].ID)
	data, _ := io.ReadAll(sr)
	if !strings.HasPrefix(string(data), "<oval_definitions") || !strings.HasSuffix(string(data), "/>") {
		t.Errorf("section %q", data)
	}
}

// BenchmarkOpenEach opens every installed data stream.
func BenchmarkOpenEach(b *testing.B) {
	for _, f := range ssgDataStreams(b) {
		st, err := os.Stat(f)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(strings.TrimSuffix(filepath.Base(f), "-ds.xml"), func(b *testing.B) {
			b.SetBytes(st.Size())
			b.ReportAllocs()
			for b.Loop() {
				c, err := Open(f)
				if err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}

// TestByteOrderMarkAlone checks a byte order mark that arrives alone: a
// file holding nothing else, and a reader that returns a byte at a time.
func TestByteOrderMarkAlone(t *testing.T) {
	bom := "\xef\xbb\xbf"
	if _, err := Read(strings.NewReader(bom), 3, "bom.xml"); err == nil || !strings.Contains(err.Error(), "no root element") {
		t.Errorf("a file holding only a byte order mark: %v", err)
	}
	d := NewDecoder(iotest.OneByteReader(strings.NewReader(bom+"<a>x</a>")), "bom.xml")
	var got []string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%v@%d", tok, d.Offset()))
	}
	if want := "{{ a} []}@3 [120]@6 {{ a}}@7"; strings.Join(got, " ") != want {
		t.Errorf("got %s, want %s", strings.Join(got, " "), want)
	}
}
