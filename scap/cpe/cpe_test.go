package cpe

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/plumbhq/plumb/scap/ds"
)

func TestParseDictionary(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "dictionary.xml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := ParseDictionary(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Items) != 2 {
		t.Fatalf("%d items", len(d.Items))
	}
	it, ok := d.Item("cpe:/a:machine")
	if !ok || !it.Deprecated || it.Title != "Not a container" {
		t.Fatalf("item %+v", it)
	}
	want := []Check{
		{System: "http://oval.mitre.org/XMLSchema/oval-definitions-5", Href: "example-cpe-oval.xml", ID: "oval:org.example:def:2"},
		{System: "http://scap.nist.gov/schema/ocil/2", Href: "example-ocil.xml", ID: "ocil:org.example:questionnaire:2"},
	}
	if !reflect.DeepEqual(it.Checks, want) {
		t.Errorf("checks %+v", it.Checks)
	}
	if it, _ := d.Item("cpe:/o:example:os:1"); it.Title != "Example OS 1" || it.Deprecated {
		t.Errorf("first title wins: %+v", it)
	}
}

func TestParseDictionaryErrors(t *testing.T) {
	for _, tt := range []struct{ doc, want string }{
		{`<cpe-list xmlns="http://cpe.mitre.org/dictionary/2.0"><cpe-item/></cpe-list>`, "without a name"},
		{`<cpe-list xmlns="http://cpe.mitre.org/dictionary/2.0"><cpe-item name="a"/><cpe-item name="a"/></cpe-list>`, "duplicate"},
		{`<cpe-list xmlns="http://cpe.mitre.org/dictionary/2.0"><cpe-item name="a"><check/></cpe-item></cpe-list>`, "empty check"},
		{`<list/>`, "not a CPE dictionary"},
		{`<!DOCTYPE x><cpe-list xmlns="http://cpe.mitre.org/dictionary/2.0"/>`, "DOCTYPE"},
		{`<cpe-list xmlns="http://cpe.mitre.org/dictionary/2.0"><cpe-item name="a">`, "truncated"},
	} {
		_, err := ParseDictionary(strings.NewReader(tt.doc))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.doc, err, tt.want)
		}
	}
}

// facts answers fact-refs from a map; a name absent from it is an error.
type facts map[string]bool

func (f facts) Name(n string) (bool, error) {
	v, ok := f[n]
	if !ok {
		return false, errors.New("unknown " + n)
	}
	return v, nil
}

func (f facts) Check(c CheckFactRef) (bool, error) { return f.Name(c.IDRef) }

func decodeSpec(t *testing.T, doc string) []*Platform {
	t.Helper()
	d := ds.NewDecoder(strings.NewReader(doc), "")
	if _, err := d.Token(); err != nil {
		t.Fatal(err)
	}
	plats, err := DecodePlatformSpecification(d)
	if err != nil {
		t.Fatal(err)
	}
	return plats
}

func TestPlatformEval(t *testing.T) {
	plats := decodeSpec(t, `<s xmlns="http://cpe.mitre.org/language/2.0">
  <platform id="p">
    <title>Machine with sshd, not in a container</title>
    <logical-test operator="AND" negate="false">
      <logical-test operator="OR" negate="true">
        <fact-ref name="container"/>
        <check-fact-ref system="http://oval.mitre.org/XMLSchema/oval-definitions-5" href="x.xml" id-ref="chroot"/>
      </logical-test>
      <fact-ref name="sshd"/>
    </logical-test>
  </platform>
</s>`)
	if len(plats) != 1 || plats[0].ID != "p" || plats[0].Title == "" {
		t.Fatalf("%+v", plats)
	}
	test := plats[0].Test
	if got := test.Names(); !reflect.DeepEqual(got, []string{"sshd", "container"}) {
		t.Errorf("Names %v", got)
	}
	for _, tt := range []struct {
		f       facts
		want    bool
		wantErr bool
	}{
		{facts{"sshd": true, "container": false, "chroot": false}, true, false},
		{facts{"sshd": true, "container": true, "chroot": false}, false, false},
		{facts{"sshd": false, "container": false, "chroot": false}, false, false},
		{facts{"sshd": true, "container": false, "chroot": true}, false, false},
		// An error is decisive only when nothing else decides: a false
		// sshd makes the AND false whatever the container is.
		{facts{"sshd": false}, false, false},
		{facts{"sshd": true}, false, true},
		// A true container makes the OR true (so its negation false)
		// despite the unknown chroot.
		{facts{"sshd": true, "container": true}, false, false},
	} {
		got, err := test.Eval(tt.f)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("%v: %v, %v; want %v (error %v)", tt.f, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestPlatformErrors(t *testing.T) {
	for _, tt := range []struct{ doc, want string }{
		{`<platform/>`, "without an id"},
		{`<platform id="p"/>`, "no logical-test"},
		{`<platform id="p"><logical-test operator="XOR" negate="false"><fact-ref name="a"/></logical-test></platform>`, "operator"},
		{`<platform id="p"><logical-test operator="AND" negate="maybe"><fact-ref name="a"/></logical-test></platform>`, "negate"},
		{`<platform id="p"><logical-test operator="AND" negate="false"/></platform>`, "empty"},
		{`<platform id="p"><logical-test operator="AND" negate="false"><fact-ref/></logical-test></platform>`, "without a name"},
	} {
		doc := `<s xmlns="http://cpe.mitre.org/language/2.0">` + tt.doc + `</s>`
		d := ds.NewDecoder(strings.NewReader(doc), "")
		d.Token()
		_, err := DecodePlatformSpecification(d)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.doc, err, tt.want)
		}
	}
}

// TestSSGDictionaries parses the CPE dictionary of every installed SSG
// data stream and checks that each item's OVAL check resolves to a
// component of the stream.
func TestSSGDictionaries(t *testing.T) {
	files, _ := filepath.Glob("/usr/share/xml/scap/ssg/content/ssg-*-ds.xml")
	if len(files) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("no SSG data streams installed")
		}
		t.Skip("no SSG data streams installed")
	}
	for _, f := range files {
		c, err := ds.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		s := c.DataStreams[0]
		ref := s.Dictionaries[0]
		d, err := c.ComponentDecoder(ref.ComponentID())
		if err != nil {
			t.Fatal(err)
		}
		dict, err := DecodeDictionary(d)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(dict.Items) == 0 {
			t.Errorf("%s: empty dictionary", f)
		}
		for _, it := range dict.Items {
			for _, chk := range it.Checks {
				id, err := c.Resolve(s.ID, ref.ID, chk.Href)
				if comp, ok := c.Get(id); err != nil || !ok || comp.Kind != ds.KindOVAL {
					t.Errorf("%s: %s: check href %q: %q, %v", filepath.Base(f), it.Name, chk.Href, id, err)
				}
			}
		}
		c.Close()
	}
}
