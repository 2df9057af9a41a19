package probe

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/plumbhq/plumb/internal/fixture"
	"github.com/plumbhq/plumb/scap/oval"
)

const yamlFixture = `# kubelet-like configuration
authentication:
  anonymous:
    enabled: false
  webhook:
    cacheTTL: 2m
tlsCipherSuites: [TLS_A, TLS_B]
port: 10250
octal: 0o17
hex: 0x1F
leadingZero: 010
ratio: 0.5
inf: -.inf
quoted: "true"
single: '42'
tagged: !!str 12
empty:
nothing: null
containers:
  - name: a
    image: x
  - name: b
    image: y
matrix:
  - [1, 2]
  - [3]
anchors:
  base: &base [1, 2]
  copy: *base
Upper: up
"dotted.key": dot
"it's": quote
`

func yamlObject(file string, paths ...string) *oval.Object {
	o := object("yamlfilecontent_object", nil, ent("filepath", "", file), ent("yamlpath", "", paths...))
	o.ID += file + strings.Join(paths, "|")
	return o
}

func TestYAMLFileContent(t *testing.T) {
	var bomb strings.Builder
	bomb.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&bomb, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	tree := fixture.Tree{}.
		Text("/etc/kube/config.yaml", yamlFixture).
		Text("/etc/kube/multi.yaml", "a: 1\n---\na: 2\n---\nb: 3\n").
		Text("/etc/kube/bomb.yaml", bomb.String()).
		Text("/etc/kube/broken.yaml", "a: [1, 2\nb: }\n").
		Text("/etc/kube/badtag.yaml", "a: !!int nope\n")
	p := New(newRoot(t, tree), Options{})
	const cfg = "/etc/kube/config.yaml"
	type value struct{ v, dtype string }
	for _, tc := range []struct {
		name   string
		file   string
		path   string
		flag   oval.Flag
		values []value // nil with flag complete: an error item
		msg    string
	}{
		{name: "nested key", path: ".authentication.anonymous.enabled", values: []value{{"false", "boolean"}}},
		{name: "root prefix", path: "$.authentication.webhook.cacheTTL", values: []value{{"2m", ""}}},
		{name: "no leading dot", path: "port", values: []value{{"10250", "int"}}},
		{name: "sequence", path: ".tlsCipherSuites", values: []value{{"TLS_A", ""}, {"TLS_B", ""}}},
		{name: "all elements", path: ".tlsCipherSuites[:]", values: []value{{"TLS_A", ""}, {"TLS_B", ""}}},
		{name: "index", path: ".tlsCipherSuites[1]", values: []value{{"TLS_B", ""}}},
		{name: "index out of range", path: ".tlsCipherSuites[5]", flag: oval.FlagDoesNotExist},
		{name: "index set", path: ".anchors.base[1,0]", values: []value{{"1", "int"}, {"2", "int"}}},
		{name: "slice", path: ".containers[1:].name", values: []value{{"b", ""}}},
		{name: "field of each element", path: ".containers[:].name", values: []value{{"a", ""}, {"b", ""}}},
		{name: "star on a sequence", path: ".containers[*].image", values: []value{{"x", ""}, {"y", ""}}},
		{name: "octal", path: ".octal", values: []value{{"15", "int"}}},
		{name: "hex", path: ".hex", values: []value{{"31", "int"}}},
		{name: "leading zero is decimal", path: ".leadingZero", values: []value{{"10", "int"}}},
		{name: "float", path: ".ratio", values: []value{{"0.5", "float"}}},
		{name: "infinity", path: ".inf", values: []value{{"-INF", "float"}}},
		{name: "quoted stays a string", path: ".quoted", values: []value{{"true", ""}}},
		{name: "single quoted", path: ".single", values: []value{{"42", ""}}},
		{name: "explicit tag", path: ".tagged", values: []value{{"12", ""}}},
		{name: "empty value", path: ".empty", values: []value{{"", ""}}},
		{name: "null", path: ".nothing", values: []value{{"null", ""}}},
		{name: "alias", path: ".anchors.copy[:]", values: []value{{"1", "int"}, {"2", "int"}}},
		{name: "anchor", path: "&base[0]", values: []value{{"1", "int"}}},
		{name: "capitals", path: ".Upper", values: []value{{"up", ""}}},
		{name: "quoted key", path: "['dotted.key']", values: []value{{"dot", ""}}},
		{name: "double quoted key", path: `["it's"]`, values: []value{{"quote", ""}}},
		{name: "map is a record", path: ".containers[0]", values: []value{{"", "record"}}},
		{name: "maps are records", path: ".containers", values: []value{{"", "record"}, {"", "record"}}},
		{name: "key selection is a record", path: ".authentication.webhook['cacheTTL','x']", values: []value{{"", "record"}}},
		{name: "sequences in a sequence are records", path: ".matrix", values: []value{{"", "record"}, {"", "record"}}},
		{name: "map in a map", path: ".authentication", msg: "multi-dimensional"},
		{name: "absent key", path: ".nope.nope", flag: oval.FlagDoesNotExist},
		{name: "key of a scalar", path: ".port.x", flag: oval.FlagDoesNotExist},
		{name: "bad path", path: ".a[", msg: "missing ]"},
		{name: "negative index", path: ".a[-1]", msg: "bad index"},
		{name: "empty key", path: ".a..b", msg: "empty key"},
		{name: "documents", file: "/etc/kube/multi.yaml", path: ".a", values: []value{{"1", "int"}, {"2", "int"}}},
		{name: "alias bomb", file: "/etc/kube/bomb.yaml", path: ".a8[:][:][:][:][:][:][:][:][:]", msg: "alias expansion"},
		{name: "alias bomb whole", file: "/etc/kube/bomb.yaml", path: ".a8", msg: "multi-dimensional"},
		{name: "bad tag", file: "/etc/kube/badtag.yaml", path: ".a", msg: "not an !!int"},
		{name: "not yaml", file: "/etc/kube/broken.yaml", path: ".a", flag: oval.FlagError},
		{name: "no file", file: "/etc/kube/none.yaml", path: ".a", flag: oval.FlagDoesNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.file == "" {
				tc.file = cfg
			}
			if tc.flag == "" {
				tc.flag = oval.FlagComplete
			}
			c := collect(t, p, yamlObject(tc.file, tc.path))
			if c.Flag != tc.flag {
				t.Fatalf("flag %s (%s), want %s", c.Flag, c.Message, tc.flag)
			}
			if tc.flag != oval.FlagComplete {
				return
			}
			if len(c.Items) != 1 {
				t.Fatalf("%d items", len(c.Items))
			}
			it := c.Items[0]
			if e, _ := entity(it, "yamlpath"); e.Value != tc.path {
				t.Errorf("yamlpath %q", e.Value)
			}
			if tc.values == nil {
				if it.Status != oval.StatusError || !strings.Contains(it.Message, tc.msg) {
					t.Fatalf("item %s %q, want an error mentioning %q", it.Status, it.Message, tc.msg)
				}
				return
			}
			if it.Status != "" {
				t.Fatalf("item status %s: %s", it.Status, it.Message)
			}
			var got []value
			for _, e := range it.Values("value") {
				got = append(got, value{e.Value, e.Datatype})
				if (e.Datatype == "record") != (e.Status == oval.StatusNotCollected) {
					t.Errorf("entity %+v", e)
				}
			}
			if !slices.Equal(got, tc.values) {
				t.Errorf("values %v, want %v", got, tc.values)
			}
		})
	}
}

func TestParseYAMLPath(t *testing.T) {
	for _, tc := range []struct {
		path string
		want []yseg
	}{
		{".a.b", []yseg{{kind: ySegKey, keys: []string{"a"}}, {kind: ySegKey, keys: []string{"b"}}}},
		{"$.a[0]", []yseg{{kind: ySegKey, keys: []string{"a"}}, {kind: ySegIndex}}},
		{"a['x','y'][*]", []yseg{{kind: ySegKey, keys: []string{"a"}}, {kind: ySegKeys, keys: []string{"x", "y"}}, {kind: ySegKeys}}},
		{".a[1::2]", []yseg{{kind: ySegKey, keys: []string{"a"}}, {kind: ySegIndexes, slice: [3]int{1, -1, 2}}}},
		{".a[:3]", []yseg{{kind: ySegKey, keys: []string{"a"}}, {kind: ySegIndexes, slice: [3]int{0, 3, 1}}}},
		{".a[2, 4]", []yseg{{kind: ySegKey, keys: []string{"a"}}, {kind: ySegIndexes, indexes: []int{2, 4}}}},
		{"&x.y", []yseg{{kind: ySegAnchor, name: "x"}, {kind: ySegKey, keys: []string{"y"}}}},
		{".*", []yseg{{kind: ySegKeys}}},
		{"$", nil},
		{".", nil},
	} {
		got, err := parseYAMLPath(tc.path)
		if err != nil {
			t.Errorf("%q: %v", tc.path, err)
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q: %+v, want %+v", tc.path, got, tc.want)
		}
	}
	for _, bad := range []string{"", ".a[", ".a[x]", ".a['x]", ".a[::0]", ".a[1:2:3:4]", "&", ".a]", ".a b'", "[1]x", strings.Repeat(".a", 300)} {
		if _, err := parseYAMLPath(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzYAMLPath(f *testing.F) {
	f.Add(".containers[:].name", yamlFixture)
	f.Add("&base[0]", "a: &base [1, 2]\nb: *base\n")
	f.Add("$['a','b'][1::2]", "a: [1, 2, 3]\nb: {c: d}\n")
	f.Add(".a[*].b.*", "a:\n  - b: {c: 1}\n---\na: x\n")
	f.Add(".x", "x: &x [*x]\n")
	f.Fuzz(func(t *testing.T, path, doc string) {
		if len(doc) > 1<<14 {
			return
		}
		segs, err := parseYAMLPath(path)
		if err != nil {
			return
		}
		for _, g := range segs {
			if g.kind == ySegIndexes && g.indexes == nil && g.slice[2] <= 0 {
				t.Fatalf("%q: slice step %d", path, g.slice[2])
			}
			if g.kind == ySegKey && len(g.keys) != 1 {
				t.Fatalf("%q: key segment %+v", path, g)
			}
		}
		docs, err := parseYAMLDocs([]byte(doc))
		if err != nil {
			return
		}
		vals, err := queryYAML(docs, segs)
		if err != nil {
			if !errors.Is(err, errYAMLWork) && !errors.Is(err, errYAMLNested) && !strings.Contains(err.Error(), "is not a") {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		for _, v := range vals {
			if v.Name != "value" {
				t.Fatalf("entity %+v", v)
			}
		}
	})
}
