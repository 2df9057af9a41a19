package probe

import (
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/plumbhq/plumb/internal/fixture"
	"github.com/plumbhq/plumb/scap/oval"
	"github.com/plumbhq/plumb/target"
)

// TestAgreesWithOscap runs the same file searches with oscap (offline, on
// a fixture root through OSCAP_PROBE_ROOT; never on this machine's /) and
// with this package, and compares the items found. It is skipped where
// oscap is not installed.
//
// The fixture has no absolute symlinks: oscap's offline mode resolves
// them on the host, not in the root, which is a limitation of oscap.
// oscap may report a symlink twice in a "symlinks and directories"
// recursion; items are compared as sets.
func TestAgreesWithOscap(t *testing.T) {
	if testing.Short() {
		t.Skip("runs oscap")
	}
	if _, err := exec.LookPath("oscap"); err != nil {
		t.Skip("oscap is not installed")
	}
	tree := fsTree().
		Remove("/srv/a/link").
		Add(fixture.File{Path: "/srv/a/link", Link: "b"}).
		Add(fixture.File{Path: "/srv/loop/up", Link: ".."}).
		Add(fixture.File{Path: "/srv/loop/x", Link: "y"}).
		Add(fixture.File{Path: "/srv/loop/y", Link: "x"}).
		Text("/etc/empty.conf", "")
	dir := t.TempDir()
	if err := tree.Write(dir); err != nil {
		t.Fatal(err)
	}
	ge1 := oval.ObjectEntity{Name: "instance", Operation: "greater than or equal", Datatype: "int", Values: []string{"1"}}
	file := func(beh map[string]string, ents ...oval.ObjectEntity) *oval.Object {
		return object("file_object", beh, ents...)
	}
	tfc := func(beh map[string]string, ents ...oval.ObjectEntity) *oval.Object {
		return object("textfilecontent54_object", beh, ents...)
	}
	objs := []*oval.Object{
		file(nil, ent("filepath", "", "/etc/passwd-link")),
		file(nil, ent("filepath", "", "/bin")),
		file(nil, ent("path", "", "/etc"), ent("filename", "pattern match", "^sudoers")),
		file(nil, ent("path", "", "/etc"), nilEnt("filename")),
		file(down("1", "directories", "all"), ent("path", "", "/home"), ent("filename", "pattern match", `^\.rhosts$`)),
		file(down("0", "directories", "all"), ent("path", "", "/home"), ent("filename", "pattern match", `^\.rhosts$`)),
		file(down("1", "directories", "all"), ent("path", "", "/srv"), nilEnt("filename")),
		file(down("-1", "symlinks and directories", "all"), ent("path", "", "/srv"), nilEnt("filename")),
		file(down("-1", "symlinks and directories", "all"), ent("path", "", "/srv"), ent("filename", "pattern match", ".")),
		file(nil, ent("filepath", "pattern match", `^/etc/sudoers(\.d/.*)?$`)),
		file(nil, ent("path", "pattern match", `^/etc/cron\.(d|daily|weekly)$`), nilEnt("filename")),
		file(nil, ent("path", "pattern match", `^/etc/cron\.(d|daily|weekly)$`), ent("filename", "pattern match", ".")),
		file(down("-1", "directories", "local"), ent("path", "", "/bin"), nilEnt("filename")),
		file(down("-1", "directories", "local"), ent("path", "", "/bin"), ent("filename", "pattern match", "^.*$")),
		file(map[string]string{"recurse_direction": "up", "max_depth": "-1"}, ent("path", "", "/usr/bin/sub"), ent("filename", "pattern match", "^(ls|passwd)$")),
		file(down("-1", "directories", "all"), ent("path", "", "/"), ent("filename", "pattern match", "^s")),
		tfc(nil, ent("filepath", "pattern match", `^/etc/sudoers(\.d/.*)?$`), ent("pattern", "pattern match", `^Defaults\s+(\S+)`), ge1),
		tfc(nil, ent("path", "", "/etc"), ent("filename", "", "passwd-link"), ent("pattern", "pattern match", `^(\w+):`), ge1),
		tfc(nil, ent("filepath", "", "/etc/sudoers"), ent("pattern", "pattern match", `^Defaults\s+(\S+)$|^(%)sudo`),
			oval.ObjectEntity{Name: "instance", Operation: "equals", Datatype: "int", Values: []string{"3"}}),
		tfc(map[string]string{"multiline": "false"}, ent("filepath", "", "/etc/sudoers"), ent("pattern", "pattern match", `^Defaults`), ge1),
		tfc(map[string]string{"singleline": "true"}, ent("filepath", "", "/etc/sudoers"), ent("pattern", "pattern match", `use_pty.Defaults\s(\w+)`), ge1),
		tfc(nil, ent("filepath", "", "/etc/empty.conf"), ent("pattern", "pattern match", `.*`), ge1),
		tfc(nil, ent("path", "", "/etc/sudoers.d"), ent("filename", "pattern match", ".*"), ent("pattern", "pattern match", `(?i)^defaults\s+(\S+)`), ge1),
	}
	for i, o := range objs {
		o.ID = fmt.Sprintf("oval:x:obj:%d", i+1)
	}
	defs := filepath.Join(t.TempDir(), "defs.xml")
	if err := os.WriteFile(defs, []byte(ovalDocument(objs)), 0o644); err != nil {
		t.Fatal(err)
	}
	res := filepath.Join(t.TempDir(), "results.xml")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "oscap", "oval", "eval", "--results", res, defs)
	cmd.Env = append(os.Environ(), "OSCAP_PROBE_ROOT="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("oscap: %v\n%s", err, out)
	}
	want, err := oscapItems(res)
	if err != nil {
		t.Fatal(err)
	}
	root, err := target.NewRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	p := New(root, Options{})
	if err := p.Prepare(context.Background(), objs); err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, o := range objs {
		c := collect(t, p, o)
		compared += len(want[o.ID].keys)
		var got []string
		for _, it := range c.Items {
			got = append(got, itemKey(it))
		}
		got = setOf(got)
		w := want[o.ID]
		if !slices.Equal(got, w.keys) {
			t.Errorf("%s %v %v:\n  oscap: %q\n  probe: %q", o.ID, o.Entities, o.Behaviors, w.keys, got)
		}
		if (len(got) == 0) != (w.flag == "does not exist") {
			t.Errorf("%s: oscap flag %q, probe flag %q", o.ID, w.flag, c.Flag)
		}
	}
	if compared < 40 {
		t.Errorf("only %d oscap items compared", compared)
	}
	t.Logf("%d objects, %d items agree with oscap", len(objs), compared)
}

// itemKey identifies an item by the entities oscap and this package must
// agree on.
func itemKey(it oval.Item) string {
	get := func(n string) string {
		if v := it.Values(n); len(v) > 0 {
			return v[0].Value
		}
		return ""
	}
	if typ := get("type"); typ != "" {
		return fmt.Sprintf("file %s|%s|%s|%s", get("filepath"), get("path"), get("filename"), typ)
	}
	var subs []string
	for _, e := range it.Values("subexpression") {
		subs = append(subs, e.Value)
	}
	return fmt.Sprintf("text %s|%s|%s|%q", get("filepath"), get("instance"), get("text"), subs)
}

func setOf(s []string) []string {
	sort.Strings(s)
	return slices.Compact(s)
}

// ovalDocument writes one definition per object, each with a test that
// only needs the object to be collected.
func ovalDocument(objs []*oval.Object) string {
	var defs, tests, objects strings.Builder
	esc := func(s string) string {
		var b strings.Builder
		xml.EscapeText(&b, []byte(s))
		return b.String()
	}
	for i, o := range objs {
		ns, typ := "unix", strings.TrimSuffix(o.Type, "_object")
		if strings.HasPrefix(o.Type, "textfile") {
			ns = "ind"
		}
		fmt.Fprintf(&defs, `<definition class="compliance" id="oval:x:def:%d" version="1"><metadata><title>t</title><description>d</description></metadata><criteria><criterion test_ref="oval:x:tst:%d"/></criteria></definition>`, i+1, i+1)
		fmt.Fprintf(&tests, `<%s:%s_test check="all" check_existence="any_exist" comment="c" id="oval:x:tst:%d" version="1"><%s:object object_ref="%s"/></%s:%s_test>`, ns, typ, i+1, ns, o.ID, ns, typ)
		fmt.Fprintf(&objects, `<%s:%s id="%s" version="1">`, ns, o.Type, o.ID)
		if len(o.Behaviors) > 0 {
			fmt.Fprintf(&objects, "<%s:behaviors", ns)
			for _, k := range sortedKeys(o.Behaviors) {
				fmt.Fprintf(&objects, ` %s="%s"`, k, esc(o.Behaviors[k]))
			}
			objects.WriteString("/>")
		}
		for _, e := range o.Entities {
			if e.Nil {
				fmt.Fprintf(&objects, `<%s:%s xsi:nil="true"/>`, ns, e.Name)
				continue
			}
			attrs := ""
			if e.Operation != "" {
				attrs += fmt.Sprintf(` operation="%s"`, e.Operation)
			}
			if e.Datatype != "" {
				attrs += fmt.Sprintf(` datatype="%s"`, e.Datatype)
			}
			fmt.Fprintf(&objects, `<%s:%s%s>%s</%s:%s>`, ns, e.Name, attrs, esc(e.Values[0]), ns, e.Name)
		}
		fmt.Fprintf(&objects, `</%s:%s>`, ns, o.Type)
	}
	return `<?xml version="1.0" encoding="UTF-8"?>
<oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5" xmlns:oval="http://oval.mitre.org/XMLSchema/oval-common-5" xmlns:ind="http://oval.mitre.org/XMLSchema/oval-definitions-5#independent" xmlns:unix="http://oval.mitre.org/XMLSchema/oval-definitions-5#unix" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<generator><oval:schema_version>5.11.2</oval:schema_version><oval:timestamp>2024-01-01T00:00:00</oval:timestamp></generator>
<definitions>` + defs.String() + `</definitions><tests>` + tests.String() + `</tests><objects>` + objects.String() + `</objects></oval_definitions>`
}

type oscapObject struct {
	flag string
	keys []string
}

// oscapItems reads the collected objects and their items from oscap's
// results.
func oscapItems(file string) (map[string]oscapObject, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	type elem struct {
		XMLName  xml.Name
		Attrs    []xml.Attr `xml:",any,attr"`
		Text     string     `xml:",chardata"`
		Children []elem     `xml:",any"`
	}
	var doc elem
	if err := xml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	attr := func(e elem, name string) string {
		for _, a := range e.Attrs {
			if a.Name.Local == name {
				return a.Value
			}
		}
		return ""
	}
	items := map[string]oval.Item{}
	type ref struct {
		flag  string
		items []string
	}
	refs := map[string]ref{}
	var walk func(e elem, inSC bool)
	walk = func(e elem, inSC bool) {
		local := e.XMLName.Local
		inSC = inSC || local == "oval_system_characteristics"
		switch {
		case inSC && strings.HasSuffix(local, "_item") && attr(e, "id") != "":
			var it oval.Item
			for _, c := range e.Children {
				it.Entities = append(it.Entities, oval.ItemEntity{Name: c.XMLName.Local, Value: c.Text})
			}
			items[attr(e, "id")] = it
		case inSC && local == "object" && attr(e, "flag") != "":
			r := ref{flag: attr(e, "flag")}
			for _, c := range e.Children {
				if c.XMLName.Local == "reference" {
					r.items = append(r.items, attr(c, "item_ref"))
				}
			}
			refs[attr(e, "id")] = r
		}
		for _, c := range e.Children {
			walk(c, inSC)
		}
	}
	walk(doc, false)
	out := map[string]oscapObject{}
	for id, r := range refs {
		var keys []string
		for _, iid := range r.items {
			keys = append(keys, itemKey(items[iid]))
		}
		out[id] = oscapObject{flag: r.flag, keys: setOf(keys)}
	}
	return out, nil
}
