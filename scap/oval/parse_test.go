package oval

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbhq/plumb/scap/ds"
)

// ssgDir holds the SCAP Security Guide content of the ssg-debian package.
const ssgDir = "/usr/share/xml/scap/ssg/content"

// ssgFiles returns the stand-alone OVAL files of the SCAP Security Guide.
// Absent content skips the test locally and fails it in CI, where test.sh
// has installed it.
func ssgFiles(tb testing.TB) []string {
	tb.Helper()
	files, _ := filepath.Glob(filepath.Join(ssgDir, "ssg-*-oval.xml"))
	if len(files) == 0 {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("no %s/ssg-*-oval.xml: install ssg-debian", ssgDir)
		}
		tb.Skipf("no %s/ssg-*-oval.xml (install ssg-debian)", ssgDir)
	}
	return files
}

// sectionCounts counts the children of each section of an oval_definitions
// document with a plain token walk, independently of the parser.
func sectionCounts(t *testing.T, data []byte) map[string]int {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(data))
	counts := map[string]int{}
	depth := 0
	section := ""
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			return counts
		}
		if err != nil {
			t.Fatal(err)
		}
		switch tt := tok.(type) {
		case xml.StartElement:
			depth++
			switch depth {
			case 2:
				section = tt.Name.Local
			case 3:
				counts[section]++
			}
		case xml.EndElement:
			depth--
		}
	}
}

func TestParseSSG(t *testing.T) {
	for _, file := range ssgFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			if testing.Short() && !strings.Contains(file, "debian") {
				t.Skip("short")
			}
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			defs, err := Parse(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			// Decode, which data stream components go through, agrees.
			decoded, err := Decode(ds.NewDecoder(bytes.NewReader(data), file))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(decoded, defs) {
				t.Error("Decode and Parse differ")
			}
			want := sectionCounts(t, data)
			got := map[string]int{
				"definitions": len(defs.Definitions),
				"tests":       len(defs.Tests),
				"objects":     len(defs.Objects),
				"states":      len(defs.States),
				"variables":   len(defs.Variables),
			}
			for k, n := range got {
				if n != want[k] {
					t.Errorf("%s: parsed %d, document has %d", k, n, want[k])
				}
			}
			if len(defs.DefinitionIDs) != len(defs.Definitions) {
				t.Errorf("DefinitionIDs has %d ids for %d definitions", len(defs.DefinitionIDs), len(defs.Definitions))
			}
			if defs.SchemaVersion == "" {
				t.Error("no schema version")
			}
			// Every reference resolves: SSG content is self-contained.
			for id, tst := range defs.Tests {
				if defs.Objects[tst.ObjectRef] == nil {
					t.Errorf("test %s: object %s not parsed", id, tst.ObjectRef)
				}
				for _, s := range tst.StateRefs {
					if defs.States[s] == nil {
						t.Errorf("test %s: state %s not parsed", id, s)
					}
				}
				if tst.Family == "" || !strings.HasSuffix(tst.Type, "_test") {
					t.Errorf("test %s: type %q family %q", id, tst.Type, tst.Family)
				}
			}
			for id, v := range defs.Variables {
				if v.Kind == "local_variable" && v.Component == nil {
					t.Errorf("variable %s has no component", id)
				}
			}
		})
	}
}

// TestParseSSGDebian11 pins the counts of the content the brief names, for
// the SSG release Debian 12 ships (0.1.65).
func TestParseSSGDebian11(t *testing.T) {
	ssgFiles(t)
	data, err := os.ReadFile(filepath.Join(ssgDir, "ssg-debian11-oval.xml"))
	if err != nil {
		t.Skip(err)
	}
	if !bytes.Contains(data, []byte("ssg: [0, 1, 65]")) {
		t.Skip("not SSG 0.1.65")
	}
	defs, err := Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for _, tst := range defs.Tests {
		types[tst.Type]++
	}
	wantTypes := map[string]int{
		"textfilecontent54_test": 560, "file_test": 106, "dpkginfo_test": 66, "rpminfo_test": 43,
		"variable_test": 57, "systemdunitdependency_test": 22, "systemdunitproperty_test": 19,
		"partition_test": 12, "sysctl_test": 14, "family_test": 6, "uname_test": 6,
		"environmentvariable58_test": 6, "password_test": 1,
	}
	for typ, n := range wantTypes {
		if types[typ] != n {
			t.Errorf("%s: %d, want %d", typ, types[typ], n)
		}
	}
	kinds := map[string]int{}
	for _, v := range defs.Variables {
		kinds[v.Kind]++
	}
	if kinds["local_variable"] != 173 || kinds["external_variable"] != 42 || kinds["constant_variable"] != 26 {
		t.Errorf("variables: %v", kinds)
	}
	def := defs.Definitions["oval:ssg-apt_conf_disallow_unauthenticated:def:1"]
	if def == nil || def.Class != "compliance" || def.Criteria == nil || def.Criteria.Operator != "OR" || len(def.Criteria.Children) != 2 {
		t.Fatalf("definition: %+v", def)
	}
	if def.Title != "Disable unauthenticated repositories in APT configuration" {
		t.Errorf("title %q", def.Title)
	}
	if c := def.Criteria.Children[0]; c.TestRef != "oval:ssg-test_unauthenticated_apt_conf:tst:1" {
		t.Errorf("criterion %+v", c)
	}
	v := defs.Variables["oval:ssg-var_etc_login_defs_umask_as_number:var:1"]
	if v == nil || v.Datatype != "int" || v.Component.Kind != "arithmetic" || v.Component.ArithmeticOp != "add" || len(v.Component.Args) != 3 {
		t.Fatalf("umask variable: %+v", v)
	}
	o := defs.Objects["oval:ssg-object_var_rfg_all_log_files:obj:1"]
	if o == nil || o.Type != "variable_object" || o.Set == nil || len(o.Set.ObjectRefs) != 2 {
		t.Fatalf("set object: %+v", o)
	}
}

const testNS = `xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5" ` +
	`xmlns:oval-def="http://oval.mitre.org/XMLSchema/oval-definitions-5" ` +
	`xmlns:ind="http://oval.mitre.org/XMLSchema/oval-definitions-5#independent" ` +
	`xmlns:unix="http://oval.mitre.org/XMLSchema/oval-definitions-5#unix" ` +
	`xmlns:linux="http://oval.mitre.org/XMLSchema/oval-definitions-5#linux" ` +
	`xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"`

// mkdoc wraps sections into an oval_definitions document.
func mkdoc(defs, tests, objects, states, variables string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0"?><oval_definitions ` + testNS + `>`)
	b.WriteString(`<generator><schema_version xmlns="http://oval.mitre.org/XMLSchema/oval-common-5">5.11</schema_version></generator>`)
	for _, s := range []struct{ name, body string }{
		{"definitions", defs}, {"tests", tests}, {"objects", objects}, {"states", states}, {"variables", variables},
	} {
		if s.body != "" {
			b.WriteString("<" + s.name + ">" + s.body + "</" + s.name + ">")
		}
	}
	b.WriteString(`</oval_definitions>`)
	return b.String()
}

func mustParse(t testing.TB, doc string) *Definitions {
	t.Helper()
	defs, err := Parse(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	// Decode, which reads text with ds.Decoder's scanner, must agree.
	decoded, err := Decode(ds.NewDecoder(strings.NewReader(doc), "doc.xml"))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !reflect.DeepEqual(decoded, defs) {
		t.Fatalf("Decode and Parse differ on %s", doc)
	}
	return defs
}

func TestParseStructure(t *testing.T) {
	doc := mkdoc(`
<definition id="d1" class="compliance"><metadata><title> T1 </title><description>x</description></metadata>
  <criteria operator="OR" negate="true" comment="c">
    <criterion test_ref="t1" negate="1" comment="cc"/>
    <criteria><extend_definition definition_ref="d2" negate="true" applicability_check="true"/></criteria>
    <unknown_thing/>
  </criteria>
</definition>
<definition id="d2" class="inventory"><metadata><title>T2</title></metadata></definition>`,
		`<ind:textfilecontent54_test id="t1" check="at least one" check_existence="none_exist" state_operator="OR" comment="tc">
   <ind:object object_ref="o1"/><ind:state state_ref="s1"/><ind:state state_ref="s2"/>
 </ind:textfilecontent54_test>
 <unix:file_test id="t2" check="all"><unix:object object_ref="o2"/></unix:file_test>`,
		`<ind:textfilecontent54_object id="o1" comment="oc">
   <ind:behaviors multiline="false" singleline="true"/>
   <ind:filepath operation="pattern match" var_ref="v1" var_check="at least one"/>
   <ind:pattern operation="pattern match"> ^a b$ </ind:pattern>
   <ind:instance datatype="int" operation="greater than or equal">1</ind:instance>
   <filter action="include">s1</filter>
   <filter>s2</filter>
 </ind:textfilecontent54_object>
 <unix:file_object id="o2"><unix:path>/etc</unix:path><unix:filename xsi:nil="true"/></unix:file_object>
 <unix:file_object id="o3"><set set_operator="INTERSECTION">
   <set><object_reference> o1 </object_reference><filter action="exclude">s1</filter></set>
   <set><object_reference>o2</object_reference><object_reference>o1</object_reference></set>
 </set></unix:file_object>`,
		`<ind:textfilecontent54_state id="s1" operator="XOR">
   <ind:subexpression datatype="int" operation="less than" var_ref="v2" var_check="only one" entity_check="at least one" check_existence="all_exist">x</ind:subexpression>
 </ind:textfilecontent54_state>
 <ind:yamlfilecontent_state id="s2"><ind:value datatype="record"><field name="#" operation="pattern match">^a$</field></ind:value></ind:yamlfilecontent_state>`,
		`<constant_variable id="v1" datatype="string"><value>a</value><value> b </value></constant_variable>
 <external_variable id="v2" datatype="int"/>
 <local_variable id="v3" datatype="int"><arithmetic arithmetic_operation="add">
   <literal_component datatype="int">64</literal_component>
   <substring substring_start="2" substring_length="-1"><object_component object_ref="o1" item_field="subexpression"/></substring>
   <regex_capture pattern="(\d+)"><variable_component var_ref="v1"/></regex_capture>
 </arithmetic></local_variable>
 <local_variable id="v4" datatype="string"><glob_to_regex glob_noescape="true"><split delimiter=":"><begin character="/"><end character="x"><escape_regex><time_difference format_1="seconds_since_epoch"><concat><count><unique><literal_component>a</literal_component></unique></count></concat></time_difference></escape_regex></end></begin></split></glob_to_regex></local_variable>`)
	defs := mustParse(t, doc)
	if defs.SchemaVersion != "5.11" {
		t.Errorf("schema version %q", defs.SchemaVersion)
	}
	if !reflect.DeepEqual(defs.DefinitionIDs, []string{"d1", "d2"}) {
		t.Errorf("order %v", defs.DefinitionIDs)
	}
	wantCrit := &Criteria{Operator: "OR", Negate: true, Comment: "c", Children: []Criterion{
		{TestRef: "t1", Negate: true, Comment: "cc"},
		{Criteria: &Criteria{Operator: "AND", Children: []Criterion{{DefinitionRef: "d2", Negate: true}}}},
	}}
	d1 := defs.Definitions["d1"]
	if d1.Title != "T1" || d1.Class != "compliance" || !reflect.DeepEqual(d1.Criteria, wantCrit) {
		t.Errorf("d1 = %+v, criteria %+v", d1, d1.Criteria)
	}
	if defs.Definitions["d2"].Criteria != nil {
		t.Error("d2 has criteria")
	}
	wantT1 := &Test{ID: "t1", Type: "textfilecontent54_test", Family: "independent", Comment: "tc", Check: "at least one",
		CheckExistence: "none_exist", StateOperator: "OR", ObjectRef: "o1", StateRefs: []string{"s1", "s2"}}
	if !reflect.DeepEqual(defs.Tests["t1"], wantT1) {
		t.Errorf("t1 = %+v", defs.Tests["t1"])
	}
	if t2 := defs.Tests["t2"]; t2.CheckExistence != "at_least_one_exists" || t2.StateOperator != "AND" || t2.Family != "unix" {
		t.Errorf("t2 defaults: %+v", t2)
	}
	wantO1 := &ObjectDef{ID: "o1", Type: "textfilecontent54_object", Family: "independent", Comment: "oc",
		Behaviors: map[string]string{"multiline": "false", "singleline": "true"},
		Entities: []Entity{
			{Name: "filepath", Operation: "pattern match", VarRef: "v1", VarCheck: "at least one"},
			{Name: "pattern", Operation: "pattern match", Value: " ^a b$ "},
			{Name: "instance", Datatype: "int", Operation: "greater than or equal", Value: "1"},
		},
		Filters: []Filter{{Action: "include", StateRef: "s1"}, {Action: "exclude", StateRef: "s2"}},
	}
	if !reflect.DeepEqual(defs.Objects["o1"], wantO1) {
		t.Errorf("o1 = %+v", defs.Objects["o1"])
	}
	if o2 := defs.Objects["o2"]; len(o2.Entities) != 2 || !o2.Entities[1].Nil || o2.Entities[0].Nil {
		t.Errorf("o2 = %+v", o2)
	}
	wantSet := &Set{Operator: "INTERSECTION", Sets: []*Set{
		{Operator: "UNION", ObjectRefs: []string{"o1"}, Filters: []Filter{{Action: "exclude", StateRef: "s1"}}},
		{Operator: "UNION", ObjectRefs: []string{"o2", "o1"}},
	}}
	if !reflect.DeepEqual(defs.Objects["o3"].Set, wantSet) {
		t.Errorf("o3 set = %+v", defs.Objects["o3"].Set)
	}
	wantS1 := &State{ID: "s1", Type: "textfilecontent54_state", Family: "independent", Operator: "XOR", Entities: []Entity{
		{Name: "subexpression", Datatype: "int", Operation: "less than", VarRef: "v2", VarCheck: "only one",
			EntityCheck: "at least one", CheckExistence: "all_exist", Value: "x"},
	}}
	if !reflect.DeepEqual(defs.States["s1"], wantS1) {
		t.Errorf("s1 = %+v", defs.States["s1"])
	}
	if f := defs.States["s2"].Entities[0].Fields; len(f) != 1 || f[0].Name != "#" || f[0].Value != "^a$" {
		t.Errorf("record fields %+v", f)
	}
	if v1 := defs.Variables["v1"]; !reflect.DeepEqual(v1.Values, []string{"a", " b "}) || v1.Kind != "constant_variable" {
		t.Errorf("v1 = %+v", v1)
	}
	if v2 := defs.Variables["v2"]; v2.Kind != "external_variable" || v2.Datatype != "int" {
		t.Errorf("v2 = %+v", v2)
	}
	wantV3 := &Component{Kind: "arithmetic", ArithmeticOp: "add", Args: []*Component{
		{Kind: "literal_component", Value: "64", Datatype: "int"},
		{Kind: "substring", Start: 2, Length: -1, Args: []*Component{{Kind: "object_component", ObjectRef: "o1", ItemField: "subexpression"}}},
		{Kind: "regex_capture", Pattern: `(\d+)`, Args: []*Component{{Kind: "variable_component", VarRef: "v1"}}},
	}}
	if !reflect.DeepEqual(defs.Variables["v3"].Component, wantV3) {
		t.Errorf("v3 = %+v", defs.Variables["v3"].Component)
	}
	var kinds []string
	for c := defs.Variables["v4"].Component; c != nil; {
		kinds = append(kinds, c.Kind)
		if len(c.Args) == 0 {
			break
		}
		c = c.Args[0]
	}
	wantKinds := []string{"glob_to_regex", "split", "begin", "end", "escape_regex", "time_difference", "concat", "count", "unique", "literal_component"}
	if !reflect.DeepEqual(kinds, wantKinds) {
		t.Errorf("v4 kinds %v", kinds)
	}
	g := defs.Variables["v4"].Component
	if !g.GlobNoEscape || g.Args[0].Delimiter != ":" || g.Args[0].Args[0].Character != "/" {
		t.Errorf("v4 attributes %+v", g)
	}
	if td := g.Args[0].Args[0].Args[0].Args[0].Args[0]; td.Format1 != "seconds_since_epoch" || td.Format2 != "year_month_day" {
		t.Errorf("time_difference formats %+v", td)
	}
}

func TestParseErrors(t *testing.T) {
	deep := strings.Repeat("<criteria>", maxDepth+2) + strings.Repeat("</criteria>", maxDepth+2)
	tests := []struct {
		name, doc string
		want      []string // substrings of the error
	}{
		{"not oval", `<foo/>`, []string{"root element is <foo>"}},
		{"empty", ``, []string{"no oval_definitions"}},
		{"missing id", mkdoc(`<definition class="compliance"/>`, "", "", "", ""), []string{"definition", "missing id"}},
		{"duplicate id", mkdoc("", `<ind:family_test id="t" check="all"/><ind:family_test id="t" check="all"/>`, "", "", ""), []string{`family_test "t"`, "duplicate id"}},
		{"bad operator", mkdoc(`<definition id="d"><criteria operator="NAND"/></definition>`, "", "", "", ""), []string{`"d"`, `unknown operator "NAND"`}},
		{"missing test_ref", mkdoc(`<definition id="d"><criteria><criterion/></criteria></definition>`, "", "", "", ""), []string{`criterion "d"`, "missing test_ref"}},
		{"missing object_ref", mkdoc("", `<ind:family_test id="t" check="all"><ind:object/></ind:family_test>`, "", "", ""), []string{`family_test "t"`, "without object_ref"}},
		{"bad filter", mkdoc("", "", `<ind:family_object id="o"><filter action="maybe">s</filter></ind:family_object>`, "", ""), []string{`"o"`, `unknown filter action "maybe"`}},
		{"empty set", mkdoc("", "", `<ind:family_object id="o"><set/></ind:family_object>`, "", ""), []string{`set "o"`, "empty set"}},
		{"bad set operator", mkdoc("", "", `<ind:family_object id="o"><set set_operator="XOR"><object_reference>a</object_reference></set></ind:family_object>`, "", ""), []string{`unknown set_operator "XOR"`}},
		{"no component", mkdoc("", "", "", "", `<local_variable id="v" datatype="int"/>`), []string{`local_variable "v"`, "without component"}},
		{"no constant value", mkdoc("", "", "", "", `<constant_variable id="v" datatype="int"/>`), []string{`constant_variable "v"`, "without value"}},
		{"bad substring", mkdoc("", "", "", "", `<local_variable id="v" datatype="int"><substring substring_start="x" substring_length="1"><literal_component>a</literal_component></substring></local_variable>`), []string{`"v"`, "bad substring_start"}},
		{"object_component without field", mkdoc("", "", "", "", `<local_variable id="v" datatype="int"><object_component object_ref="o"/></local_variable>`), []string{`"v"`, "item_field"}},
		{"truncated", mkdoc(`<definition id="d">`, "", "", "", "")[:200], []string{"unexpected EOF"}},
		{"malformed", `<oval_definitions><definitions><definition id="d"></criteria></definitions></oval_definitions>`, []string{"line 1"}},
		{"undefined entity", `<oval_definitions><definitions><definition id="&x;"/></definitions></oval_definitions>`, []string{"entity"}},
		{"too deep", mkdoc(`<definition id="d">`+deep+`</definition>`, "", "", "", ""), []string{"nested deeper"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.doc))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			// Decode fails too; ds.Decoder words XML syntax errors its
			// own way, content errors are the same.
			_, err = Decode(ds.NewDecoder(strings.NewReader(tt.doc), "doc.xml"))
			if err == nil {
				t.Fatal("Decode: no error")
			}
			switch tt.name {
			case "empty", "truncated", "malformed", "undefined entity":
				return
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Decode: error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestParseSkipsUnknown: unknown elements inside known structure, and
// unknown sections, are skipped.
func TestParseSkipsUnknown(t *testing.T) {
	doc := `<oval_definitions ` + testNS + `><generator/><foo><bar/></foo>
<definitions><weird/><definition id="d"><criteria><criterion test_ref="t"/><x/></criteria><y/></definition></definitions>
<tests><ind:family_test id="t" check="all"><notes><note>n</note></notes><ind:object object_ref="o"/><z/></ind:family_test></tests>
<objects><ind:family_object id="o"><notes/></ind:family_object></objects>
<variables><mystery_variable id="m"/><local_variable id="v" datatype="string"><frobnicate><literal_component>a</literal_component></frobnicate></local_variable></variables>
</oval_definitions>`
	defs := mustParse(t, doc)
	if len(defs.Definitions["d"].Criteria.Children) != 1 {
		t.Error("criteria children")
	}
	if len(defs.Objects["o"].Entities) != 0 {
		t.Errorf("notes parsed as entity: %+v", defs.Objects["o"].Entities)
	}
	if defs.Variables["m"] != nil {
		t.Error("unknown variable kind kept")
	}
	if c := defs.Variables["v"].Component; c.Kind != "frobnicate" || len(c.Args) != 1 {
		t.Errorf("unknown function: %+v", c)
	}
}

func TestParseRefusesEntities(t *testing.T) {
	lol := `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<oval_definitions><definitions><definition id="&lol9;"/></definitions></oval_definitions>`
	external := `<?xml version="1.0"?>
<!DOCTYPE oval_definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<oval_definitions><definitions><definition id="d"><metadata><title>&xxe;</title></metadata></definition></definitions></oval_definitions>`
	for name, doc := range map[string]string{"billion laughs": lol, "external entity": external} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, err := Parse(strings.NewReader(doc))
			if !errors.Is(err, ErrEntities) {
				t.Fatalf("err = %v, want ErrEntities", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	// A DOCTYPE without entities is harmless and accepted.
	if _, err := Parse(strings.NewReader(`<!DOCTYPE oval_definitions><oval_definitions/>`)); err != nil {
		t.Errorf("plain DOCTYPE: %v", err)
	}
}

// TestParseStreams parses a 24 MB document produced on the fly, most of it
// definition descriptions the parser does not keep, and checks the heap
// never holds a sizeable part of it: the parser streams.
func TestParseStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const n = 10000
	desc := strings.Repeat("A long description that is read and dropped. ", 50)
	i := 0
	gen := &genReader{next: func() string {
		if i == n {
			return ""
		}
		i++
		return `<definition id="d` + strconv.Itoa(i) + `" class="compliance"><metadata><title>t</title><description>` +
			desc + `</description><reference source="x" ref_id="y"/></metadata></definition>`
	}}
	head, tail, _ := strings.Cut(mkdoc("@", "", "", "", ""), "@")
	r := &heapWatcher{r: io.MultiReader(strings.NewReader(head), gen, strings.NewReader(tail))}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	defs, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(defs.Definitions) != n {
		t.Fatalf("%d definitions", len(defs.Definitions))
	}
	if r.total < 20<<20 {
		t.Fatalf("only %d bytes generated", r.total)
	}
	t.Logf("heap grew by %d KB while parsing %d MB", (r.peak-min(r.peak, base))>>10, r.total>>20)
	if grew := r.peak - min(r.peak, base); grew > r.total/3 {
		t.Errorf("heap grew by %d MB while parsing %d MB", grew>>20, r.total>>20)
	}
}

// genReader reads the strings next returns until it returns "".
type genReader struct {
	next func() string
	buf  string
}

func (g *genReader) Read(p []byte) (int, error) {
	for g.buf == "" {
		if g.buf = g.next(); g.buf == "" {
			return 0, io.EOF
		}
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

// heapWatcher samples the heap every 2 MB read.
type heapWatcher struct {
	r           io.Reader
	total, peak uint64
	sampled     uint64
}

func (h *heapWatcher) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.total += uint64(n)
	if h.total-h.sampled >= 2<<20 {
		h.sampled = h.total
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		h.peak = max(h.peak, ms.HeapAlloc)
	}
	return n, err
}

// TestParseElement hands over an oval_definitions element found inside a
// data stream and checks the decoder is left right after it.
func TestParseElement(t *testing.T) {
	ds := `<data-stream-collection><component id="c1"><x/></component><component id="c2">` +
		strings.TrimPrefix(mkdoc(`<definition id="d"/>`, "", "", "", ""), `<?xml version="1.0"?>`) +
		`<after/></component></data-stream-collection>`
	d := xml.NewDecoder(strings.NewReader(ds))
	var defs *Definitions
	for defs == nil {
		tok, err := d.Token()
		if err != nil {
			t.Fatal(err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "oval_definitions" {
			if defs, err = ParseElement(d, se); err != nil {
				t.Fatal(err)
			}
		}
	}
	if defs.Definitions["d"] == nil {
		t.Error("definition missing")
	}
	tok, err := d.Token()
	if err != nil {
		t.Fatal(err)
	}
	if se, ok := tok.(xml.StartElement); !ok || se.Name.Local != "after" {
		t.Errorf("next token %#v, want <after>", tok)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(mkdoc(`<definition id="d"><criteria><criterion test_ref="t"/></criteria></definition>`,
		`<ind:family_test id="t" check="all"><ind:object object_ref="o"/><ind:state state_ref="s"/></ind:family_test>`,
		`<ind:family_object id="o"/><ind:variable_object id="o2"><set><object_reference>o</object_reference></set></ind:variable_object>`,
		`<ind:family_state id="s"><ind:family operation="pattern match">^u</ind:family></ind:family_state>`,
		`<local_variable id="v" datatype="int"><count><object_component object_ref="o" item_field="family"/></count></local_variable>`)))
	f.Add([]byte(`<oval_definitions><definitions><definition id="x"><criteria operator="XOR" negate="true"><criteria/></criteria></definition></definitions></oval_definitions>`))
	f.Add([]byte(`<!DOCTYPE a [<!ENTITY b "c">]><oval_definitions/>`))
	f.Add([]byte(`<oval_definitions><variables><local_variable id="v"><substring substring_start="1" substring_length="2"><split delimiter=","><literal_component>a,b</literal_component></split></substring></local_variable></variables></oval_definitions>`))
	if data, err := os.ReadFile(filepath.Join(ssgDir, "ssg-macos1015-oval.xml")); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		defs, err := Parse(bytes.NewReader(data))
		if err != nil {
			if defs != nil {
				t.Fatal("definitions with an error")
			}
			return
		}
		for id, d := range defs.Definitions {
			if id == "" || d.ID != id {
				t.Fatalf("definition %q keyed %q", d.ID, id)
			}
		}
		// Whatever parses must evaluate without panicking or hanging.
		e := NewEvaluator(defs, &fakeProber{}, nil)
		for _, id := range defs.DefinitionIDs {
			r, err := e.Definition(t.Context(), id)
			if err != nil || r == nil {
				t.Fatalf("definition %s: %v", id, err)
			}
		}
	})
}

func BenchmarkParseSSG(b *testing.B) {
	ssgFiles(b)
	data, err := os.ReadFile(filepath.Join(ssgDir, "ssg-debian11-oval.xml"))
	if err != nil {
		b.Skip(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
