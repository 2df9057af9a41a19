package probe

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/plumbhq/plumb/internal/fixture"
	"github.com/plumbhq/plumb/scap/oval"
	"github.com/plumbhq/plumb/target"
)

const xmlFixture = `<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment -->
<cfg:config xmlns:cfg="urn:example:config" xmlns="urn:example:default" version="2">
  <server port="22" listen="0.0.0.0">
    <option name="PermitRootLogin">no</option>
    <option name="UsePAM" enabled="true">yes</option>
    <option name="Banner"><![CDATA[/etc/issue]]> &amp; more</option>
  </server>
  <cfg:server port="2222">
    <option name="PermitRootLogin">prohibit-password</option>
  </cfg:server>
  <empty/>
</cfg:config>
`

// xmlObject is an xmlfilecontent_object on one file.
func xmlObject(file string, xpaths ...string) *oval.Object {
	o := object("xmlfilecontent_object", nil, ent("filepath", "", file), ent("xpath", "", xpaths...))
	o.ID += file + strings.Join(xpaths, "|")
	return o
}

func TestXMLFileContent(t *testing.T) {
	tree := fixture.Tree{}.
		Text("/etc/app/config.xml", xmlFixture).
		Text("/etc/app/other.xml", `<config><server port="80"/></config>`).
		Text("/etc/app/bom.xml", "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf8\"?><a b='c'/>").
		Text("/etc/app/latin1.xml", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>caf\xe9</a>").
		Text("/etc/app/bomb.xml", `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
]>
<lolz>&lol2;</lolz>`).
		Text("/etc/app/xxe.xml", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>`).
		Text("/etc/app/doctype.xml", `<?xml version="1.0"?><!DOCTYPE html><html><body>ok</body></html>`).
		Text("/etc/app/broken.xml", `<config><server></config>`).
		Text("/etc/app/undeclared.xml", `<config>&nbsp;</config>`).
		Text("/etc/app/big.xml", "<a>"+strings.Repeat("x", 5000)+"</a>")
	p := New(newRoot(t, tree), Options{MaxFileSize: 4096})

	for _, tc := range []struct {
		name   string
		file   string
		xpath  string
		flag   oval.Flag
		status oval.ItemStatus // of the single item
		values []string        // value_of, in order
		dtype  string          // datatype of value_of
		msg    string          // in the item's or the object's message
	}{
		{name: "attribute", file: "/etc/app/config.xml", xpath: "/config/server/@port", values: []string{"22", "2222"}},
		{name: "prefixes ignored", file: "/etc/app/config.xml", xpath: "/cfg:config/cfg:server/@port", values: []string{"22", "2222"}},
		{name: "predicate on attribute", file: "/etc/app/config.xml", xpath: "//option[@name='PermitRootLogin']/text()", values: []string{"no", "prohibit-password"}},
		{name: "position", file: "/etc/app/config.xml", xpath: "/config/server[1]/option[2]/@name", values: []string{"UsePAM"}},
		{name: "position per parent", file: "/etc/app/config.xml", xpath: "//option[1]/text()", values: []string{"no", "prohibit-password"}},
		{name: "last", file: "/etc/app/config.xml", xpath: "//server[last()]/@port", values: []string{"2222"}},
		{name: "and, not", file: "/etc/app/config.xml", xpath: "//option[@name='UsePAM' and not(@disabled)]/@enabled", values: []string{"true"}},
		{name: "text predicate", file: "/etc/app/config.xml", xpath: "//option[text()='yes']/@name", values: []string{"UsePAM"}},
		{name: "cdata and entity", file: "/etc/app/config.xml", xpath: "//option[@name='Banner']/text()", values: []string{"/etc/issue & more"}},
		{name: "contains", file: "/etc/app/config.xml", xpath: "//option[contains(@name,'Root')]/../@port", values: []string{"22", "2222"}},
		{name: "descendant attribute", file: "/etc/app/config.xml", xpath: "//@listen", values: []string{"0.0.0.0"}},
		{name: "wildcard", file: "/etc/app/config.xml", xpath: "/*/*/@port", values: []string{"22", "2222"}},
		{name: "explicit axes", file: "/etc/app/config.xml", xpath: "/child::config/descendant::option[attribute::name='UsePAM']/child::text()", values: []string{"yes"}},
		{name: "numeric comparison", file: "/etc/app/config.xml", xpath: "//server[@port > 100]/@port", values: []string{"2222"}},
		{name: "root attribute", file: "/etc/app/config.xml", xpath: "/config/@version", values: []string{"2"}},
		{name: "namespace declarations are not attributes", file: "/etc/app/config.xml", xpath: "count(/config/@*)", values: []string{"1"}, dtype: "int"},
		{name: "count", file: "/etc/app/config.xml", xpath: "count(//option)", values: []string{"4"}, dtype: "int"},
		{name: "boolean", file: "/etc/app/config.xml", xpath: "//option/@name = 'UsePAM'", values: []string{"true"}, dtype: "boolean"},
		{name: "string", file: "/etc/app/config.xml", xpath: "string(//server/@port)", values: []string{"22"}},
		{name: "normalize-space", file: "/etc/app/config.xml", xpath: "normalize-space(' a  b ')", values: []string{"a b"}},
		{name: "element gives no value", file: "/etc/app/config.xml", xpath: "/config/server", values: nil},
		{name: "nothing selected", file: "/etc/app/config.xml", xpath: "//option[@name='Nope']/text()", status: oval.StatusNotExist},
		{name: "union unsupported", file: "/etc/app/config.xml", xpath: "//a | //b", status: oval.StatusError, msg: "unsupported XPath"},
		{name: "union in a predicate", file: "/etc/app/config.xml", xpath: "//option[@a|@b]", status: oval.StatusError, msg: "union operator"},
		{name: "infinite number", file: "/etc/app/config.xml", xpath: "number('x')", status: oval.StatusError, msg: "not an integer"},
		{name: "axis unsupported", file: "/etc/app/config.xml", xpath: "//option/following-sibling::option", status: oval.StatusError, msg: "following-sibling axis"},
		{name: "function unsupported", file: "/etc/app/config.xml", xpath: "substring(//option, 1)", status: oval.StatusError, msg: "substring()"},
		{name: "arithmetic unsupported", file: "/etc/app/config.xml", xpath: "count(//option) + 1", status: oval.StatusError, msg: "arithmetic"},
		{name: "syntax error", file: "/etc/app/config.xml", xpath: "//option[", status: oval.StatusError, msg: "offset"},
		{name: "latin-1", file: "/etc/app/latin1.xml", xpath: "/a/text()", values: []string{"café"}},
		{name: "byte order mark", file: "/etc/app/bom.xml", xpath: "/a/@b", values: []string{"c"}},
		{name: "doctype without entities", file: "/etc/app/doctype.xml", xpath: "//body/text()", values: []string{"ok"}},
		{name: "entity bomb refused", file: "/etc/app/bomb.xml", xpath: "/lolz/text()", flag: oval.FlagError, msg: "refused"},
		{name: "external entity refused", file: "/etc/app/xxe.xml", xpath: "/x/text()", flag: oval.FlagError, msg: "refused"},
		{name: "undeclared entity", file: "/etc/app/undeclared.xml", xpath: "/config/text()", flag: oval.FlagError, msg: "not well-formed"},
		{name: "not well-formed", file: "/etc/app/broken.xml", xpath: "/config", flag: oval.FlagError, msg: "not well-formed"},
		{name: "too large", file: "/etc/app/big.xml", xpath: "/a/text()", flag: oval.FlagError, msg: "exceeds"},
		{name: "no such file", file: "/etc/app/none.xml", xpath: "/a", flag: oval.FlagDoesNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := collect(t, p, xmlObject(tc.file, tc.xpath))
			if tc.flag == "" {
				tc.flag = oval.FlagComplete
			}
			if c.Flag != tc.flag {
				t.Fatalf("flag %s (%s), want %s", c.Flag, c.Message, tc.flag)
			}
			if tc.flag != oval.FlagComplete {
				if !strings.Contains(c.Message, tc.msg) {
					t.Errorf("message %q, want it to mention %q", c.Message, tc.msg)
				}
				return
			}
			if len(c.Items) != 1 {
				t.Fatalf("%d items, want 1", len(c.Items))
			}
			it := c.Items[0]
			if got, want := statusOr(it.Status), statusOr(tc.status); got != want {
				t.Fatalf("item status %q (%s), want %q", got, it.Message, want)
			}
			if tc.msg != "" && !strings.Contains(it.Message, tc.msg) {
				t.Errorf("item message %q, want it to mention %q", it.Message, tc.msg)
			}
			for k, v := range map[string]string{"filepath": tc.file, "xpath": tc.xpath} {
				if e, _ := entity(it, k); e.Value != v {
					t.Errorf("%s = %q, want %q", k, e.Value, v)
				}
			}
			if tc.status != "" {
				if e, ok := entity(it, "value_of"); !ok || e.Status != tc.status {
					t.Errorf("value_of %+v, want status %s", e, tc.status)
				}
				return
			}
			var got []string
			for _, e := range it.Values("value_of") {
				got = append(got, e.Value)
				if e.Datatype != tc.dtype {
					t.Errorf("value_of datatype %q, want %q", e.Datatype, tc.dtype)
				}
			}
			if !slices.Equal(got, tc.values) {
				t.Errorf("value_of %q, want %q", got, tc.values)
			}
		})
	}
}

// statusOr is a status with the empty one read as "exists".
func statusOr(s oval.ItemStatus) oval.ItemStatus {
	if s == "" {
		return oval.StatusExists
	}
	return s
}

// TestXMLFileContentSearch: path and filename select files as the file
// probes do; each file and xpath value is an item.
func TestXMLFileContentSearch(t *testing.T) {
	tree := fixture.Tree{}.
		Text("/etc/app/a.xml", `<c><port>1</port></c>`).
		Text("/etc/app/conf.d/b.xml", `<c><port>2</port></c>`).
		Text("/etc/app/conf.d/c.txt", `<c><port>3</port></c>`)
	p := New(newRoot(t, tree), Options{})
	o := object("xmlfilecontent_object", down("-1", "directories", "all"),
		ent("path", "", "/etc/app"), ent("filename", "pattern match", `\.xml$`), ent("xpath", "", "/c/port/text()", "count(/c/port)"))
	c := collect(t, p, o)
	if c.Flag != oval.FlagComplete || len(c.Items) != 4 {
		t.Fatalf("%s %s: %d items", c.Flag, c.Message, len(c.Items))
	}
	if got := vals(c, "value_of"); !slices.Equal(got, []string{"1", "1", "1", "2"}) {
		t.Errorf("value_of %q", got)
	}
	if got := vals(c, "filepath"); !slices.Equal(got, []string{"/etc/app/a.xml", "/etc/app/a.xml", "/etc/app/conf.d/b.xml", "/etc/app/conf.d/b.xml"}) {
		t.Errorf("filepath %q", got)
	}
	if got := vals(c, "path"); !slices.Contains(got, "/etc/app/conf.d") {
		t.Errorf("path %q", got)
	}
	// The xpath entity is evaluated, not matched: only equals.
	o = object("xmlfilecontent_object", nil, ent("filepath", "", "/etc/app/a.xml"), ent("xpath", "pattern match", "."))
	if c := collect(t, p, o); c.Flag != oval.FlagError {
		t.Errorf("pattern match xpath: %s", c.Flag)
	}
	// The object's filter sees the items.
	o = xmlObject("/etc/app/a.xml", "/c/port/text()")
	o.Filter = func(it oval.Item) (bool, error) { return false, nil }
	if c := collect(t, p, o); c.Flag != oval.FlagDoesNotExist {
		t.Errorf("filtered: %s", c.Flag)
	}
}

// TestContentProbesOnLive: the file content probes read the live file
// system too.
func TestContentProbesOnLive(t *testing.T) {
	dir := t.TempDir()
	if err := (fixture.Tree{}.Text("/a.xml", "<a b='c'/>").Text("/a.yaml", "a: {b: c}\n")).Write(dir); err != nil {
		t.Fatal(err)
	}
	p := New(target.NewLocal(), Options{})
	if got := one(t, collect(t, p, xmlObject(dir+"/a.xml", "/a/@b")), "value_of"); got != "c" {
		t.Errorf("xml: %q", got)
	}
	o := object("yamlfilecontent_object", nil, ent("filepath", "", dir+"/a.yaml"), ent("yamlpath", "", ".a.b"))
	if got := one(t, collect(t, p, o), "value"); got != "c" {
		t.Errorf("yaml: %q", got)
	}
}

func TestXMLMissingXPath(t *testing.T) {
	p := New(newRoot(t, fixture.Tree{}), Options{})
	c, err := p.Collect(context.Background(), object("xmlfilecontent_object", nil, ent("filepath", "", "/etc/x.xml")))
	if err != nil || c.Flag != oval.FlagError || !strings.Contains(c.Message, "xpath") {
		t.Errorf("%v %+v", err, c)
	}
}

func TestParseXMLLimits(t *testing.T) {
	deep := strings.Repeat("<a>", maxXMLDepth+1) + strings.Repeat("</a>", maxXMLDepth+1)
	for _, tc := range []struct{ doc, want string }{
		{deep, "deeper"},
		{"<a/><b/>", "more than one root"},
		{"", "no root"},
		{"text<a/>", "outside"},
		{`<?xml version="1.0" encoding="EBCDIC"?><a/>`, "unsupported encoding"},
		{`<!DOCTYPE a [<!ENTITY % p "x">]><a/>`, "refused"},
	} {
		_, err := parseXML([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.40q: %v, want %q", tc.doc, err, tc.want)
		}
	}
}

// TestXPathWorkBound: an expression whose predicates rescan the whole
// document for every node stops at the work limit.
func TestXPathWorkBound(t *testing.T) {
	doc := "<r>" + strings.Repeat("<a><b/></a>", 20000) + "</r>"
	root, err := parseXML([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	e, err := parseXPath("//a[count(//b) > 1]")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := evalXPath(e, root); !errors.Is(err, errXPathWork) {
		t.Errorf("got %v, want the work limit", err)
	}
	// "//" alone stays linear however many steps use it.
	e, _ = parseXPath("count(//a//b//..//b)")
	v, err := evalXPath(e, root)
	if err != nil || v.n != 20000 {
		t.Errorf("count: %v %v", v.n, err)
	}
}

func FuzzXPath(f *testing.F) {
	f.Add("//option[@name='x']/text()", xmlFixture)
	f.Add("count(/a/b[2]/@c) >= 1 and not(//d)", "<a><b c='1'/><b c='2'><d/></b></a>")
	f.Add("/child::a/descendant-or-self::node()[position() < last()]", "<a>t<b/>u</a>")
	f.Add("concat(local-name(/*), string-length('x'), number('1.5'))", "<p:a xmlns:p='u'/>")
	f.Add("(//a)[1]", "<!DOCTYPE a [<!ENTITY x 'y'>]><a>&x;</a>")
	f.Add("//@*[.='1'] != 1", "<?xml version='1.0' encoding='latin1'?><a b='1'/>")
	f.Fuzz(func(t *testing.T, expr, doc string) {
		if len(doc) > 1<<16 {
			return
		}
		e, err := parseXPath(expr)
		if err != nil {
			return
		}
		root, err := parseXML([]byte(doc))
		if declaresEntity(doc) && err == nil {
			t.Fatalf("a document declaring entities was accepted")
		}
		if err != nil {
			return
		}
		v, err := evalXPath(e, root)
		if err != nil {
			return
		}
		if v.kind == vNodes && !slices.IsSortedFunc(v.nodes, func(a, b *xnode) int { return a.order - b.order }) {
			t.Fatalf("nodes out of document order")
		}
	})
}

// declaresEntity reports a directive declaring an entity, as far as the
// raw token stream reaches.
func declaresEntity(doc string) bool {
	d := xml.NewDecoder(strings.NewReader(doc))
	d.Strict = false
	for {
		tok, err := d.RawToken()
		if err != nil {
			return false
		}
		if dir, ok := tok.(xml.Directive); ok && bytes.Contains(dir, []byte("<!ENTITY")) {
			return true
		}
	}
}
