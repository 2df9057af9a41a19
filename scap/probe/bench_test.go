package probe

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/plumbhq/plumb/parse"
	"github.com/plumbhq/plumb/scap/oval"
	"github.com/plumbhq/plumb/target"
)

// ssgObjects are the whole-file-system searches of the SCAP Security
// Guide (world-writable files and directories, unowned files, SUID/SGID
// files, ownership and permissions of the binary and library
// directories), with filters in the spirit of SSG's states.
func ssgObjects(uids map[string]bool) []*oval.Object {
	local := down("-1", "directories", "local")
	get := func(it oval.Item, name string) string {
		e, _ := entity(it, name)
		return e.Value
	}
	notLink := func(it oval.Item) bool { return get(it, "type") != "symbolic link" }
	objs := []*oval.Object{
		{Type: "file_object", Behaviors: local, Entities: []oval.ObjectEntity{ent("path", "", "/"), ent("filename", "pattern match", "^.*$")},
			Filter: func(it oval.Item) (bool, error) {
				return get(it, "type") == "regular" && get(it, "owrite") == "true", nil
			}},
		{Type: "file_object", Behaviors: local, Entities: []oval.ObjectEntity{ent("path", "", "/"), nilEnt("filename")},
			Filter: func(it oval.Item) (bool, error) {
				return get(it, "owrite") == "true" && get(it, "sticky") == "false", nil
			}},
		{Type: "file_object", Behaviors: local, Entities: []oval.ObjectEntity{ent("path", "", "/"), ent("filename", "pattern match", "[a-z]+")},
			Filter: func(it oval.Item) (bool, error) {
				return get(it, "suid") == "true" || get(it, "sgid") == "true", nil
			}},
		{Type: "file_object", Behaviors: local, Entities: []oval.ObjectEntity{ent("path", "", "/"), ent("filename", "pattern match", ".*")},
			Filter: func(it oval.Item) (bool, error) { return !uids[get(it, "user_id")], nil }},
	}
	for _, dir := range []string{"/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", "/lib", "/lib64", "/usr/lib", "/usr/lib64"} {
		objs = append(objs,
			&oval.Object{Type: "file_object", Behaviors: local, Entities: []oval.ObjectEntity{ent("path", "", dir), ent("filename", "pattern match", "^.*$")},
				Filter: func(it oval.Item) (bool, error) { return notLink(it) && get(it, "user_id") != "0", nil }},
			&oval.Object{Type: "file_object", Behaviors: local, Entities: []oval.ObjectEntity{ent("path", "", dir), nilEnt("filename")},
				Filter: func(it oval.Item) (bool, error) { return notLink(it) && get(it, "owrite") == "true", nil }},
		)
	}
	for i, o := range objs {
		o.ID = "oval:bench:obj:" + strconv.Itoa(i)
	}
	return objs
}

// BenchmarkPrepareHost prepares SSG's recursive objects over this
// machine's / and reports how many entries the one shared walk visited.
// On a typical host it takes the time of a single walk of the local file
// systems, where oscap walks the tree once per object.
func BenchmarkPrepareHost(b *testing.B) {
	if testing.Short() {
		b.Skip("walks the host's /")
	}
	uids := map[string]bool{}
	if data, err := os.ReadFile("/etc/passwd"); err == nil {
		users, _ := parse.Passwd(data)
		for _, u := range users {
			uids[strconv.Itoa(u.UID)] = true
		}
	}
	var last Stats
	var items int
	for b.Loop() {
		p := New(target.NewLocal(), Options{})
		objs := ssgObjects(uids)
		if err := p.Prepare(context.Background(), objs); err != nil {
			b.Fatal(err)
		}
		items = 0
		for _, o := range objs {
			c, err := p.Collect(context.Background(), o)
			if err != nil {
				b.Fatal(err)
			}
			items += len(c.Items)
		}
		last = p.Stats()
	}
	b.ReportMetric(float64(last.EntriesWalked), "entries/op")
	b.ReportMetric(float64(last.Walks), "walks/op")
	b.Logf("%d objects: %d walk(s), %d entries walked, %d directories listed, %d items kept",
		len(ssgObjects(uids)), last.Walks, last.EntriesWalked, last.DirsListed, items)
}
