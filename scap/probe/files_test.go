package probe

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/plumbhq/plumb/internal/fixture"
	"github.com/plumbhq/plumb/scap/oval"
	"github.com/plumbhq/plumb/target"
)

// fsTree is a small system: configuration with drop-in directories, a
// merged /usr (/bin -> usr/bin), nested directories, symlinks to files
// and directories, and files with interesting modes.
func fsTree() fixture.Tree {
	return fixture.Tree{}.
		Text("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n").
		Add(fixture.File{Path: "/etc/sudoers", Data: "Defaults use_pty\nDefaults env_reset\n%sudo ALL=(ALL) ALL\n", Mode: 0o440}).
		Text("/etc/sudoers.d/README", "# nothing\n").
		Text("/etc/sudoers.d/ops", "Defaults logfile=/var/log/sudo.log\n").
		Text("/etc/sudoers.bak", "old\n").
		Text("/etc/cron.d/job", "x\n").
		Text("/etc/cron.daily/run", "x\n").
		Add(fixture.File{Path: "/etc/cron.weekly", Dir: true}).
		Text("/etc/ssh/sshd_config", "PermitRootLogin no\n").
		Add(fixture.File{Path: "/etc/passwd-link", Link: "passwd"}).
		Add(fixture.File{Path: "/usr/bin/ls", Data: "x", Mode: 0o755}).
		Add(fixture.File{Path: "/usr/bin/su", Data: "x", Mode: os.ModeSetuid | 0o755}).
		Text("/usr/bin/sub/dir/deep", "x").
		Add(fixture.File{Path: "/bin", Link: "usr/bin"}).
		Text("/srv/a/b/c/file", "x").
		Text("/srv/a/file1", "x").
		Add(fixture.File{Path: "/srv/a/link", Link: "/srv/a/b"}).
		Add(fixture.File{Path: "/srv/open", Data: "x", Mode: 0o666}).
		Add(fixture.File{Path: "/srv/drop", Dir: true, Mode: 0o777}).
		Text("/home/alice/.rhosts", "x").
		Text("/home/alice/sub/.rhosts", "x")
}

// modes runs a test against a fresh Prober twice: collecting the object
// alone (its search done on demand) and after Prepare saw it with every
// other object of the table (its search shared).
func modes(t *testing.T, all []*oval.Object, fn func(t *testing.T, collect func(*oval.Object) oval.Collected)) {
	root := newRoot(t, fsTree())
	t.Run("alone", func(t *testing.T) {
		p := New(root, Options{})
		fn(t, func(o *oval.Object) oval.Collected { return collect(t, p, o) })
	})
	t.Run("prepared", func(t *testing.T) {
		p := New(root, Options{})
		if err := p.Prepare(context.Background(), all); err != nil {
			t.Fatal(err)
		}
		fn(t, func(o *oval.Object) oval.Collected { return collect(t, p, o) })
	})
}

func TestFileObject(t *testing.T) {
	type tc struct {
		name string
		obj  *oval.Object
		// want is the sorted filepath values of the items, or their path
		// values for a nil filename.
		want []string
	}
	file := func(beh map[string]string, ents ...oval.ObjectEntity) *oval.Object {
		return object("file_object", beh, ents...)
	}
	// World-writable, and not a symlink (whose lstat mode is 0777), as
	// SSG's filters say.
	owrite := func(it oval.Item) (bool, error) {
		e, _ := entity(it, "owrite")
		typ, _ := entity(it, "type")
		return e.Value == "true" && typ.Value != "symbolic link", nil
	}
	filtered := func(o *oval.Object, f func(oval.Item) (bool, error)) *oval.Object {
		o.Filter = f
		o.ID += ":filtered"
		return o
	}
	cases := []tc{
		{"filepath", file(nil, ent("filepath", "", "/etc/passwd")), []string{"/etc/passwd"}},
		{"filepath missing", file(nil, ent("filepath", "", "/etc/missing")), nil},
		{"filepath is a directory", file(nil, ent("filepath", "", "/etc")), nil},
		{"filepath symlink to directory", file(nil, ent("filepath", "", "/bin")), nil},
		{"filepath symlink to file", file(nil, ent("filepath", "", "/etc/passwd-link")), []string{"/etc/passwd-link"}},
		{"path and filename", file(nil, ent("path", "", "/etc"), ent("filename", "", "passwd")), []string{"/etc/passwd"}},
		{"filename pattern lists one level", file(nil, ent("path", "", "/etc"), ent("filename", "pattern match", "^sudoers")),
			[]string{"/etc/sudoers", "/etc/sudoers.bak"}},
		{"nil filename is the directory", file(nil, ent("path", "", "/etc"), nilEnt("filename")), []string{"/etc"}},
		{"max_depth 1: files one level below the deepest directory", file(down("1", "directories", "all"), ent("path", "", "/home"), ent("filename", "pattern match", `^\.rhosts$`)),
			[]string{"/home/alice/.rhosts"}},
		{"max_depth -1", file(down("-1", "directories", "all"), ent("path", "", "/home"), ent("filename", "pattern match", `^\.rhosts$`)),
			[]string{"/home/alice/.rhosts", "/home/alice/sub/.rhosts"}},
		{"max_depth 0", file(down("0", "directories", "all"), ent("path", "", "/home"), ent("filename", "pattern match", `^\.rhosts$`)), nil},
		{"directories down", file(down("-1", "directories", "local"), ent("path", "", "/srv"), nilEnt("filename")),
			[]string{"/srv", "/srv/a", "/srv/a/b", "/srv/a/b/c", "/srv/drop"}},
		{"directories down to max_depth", file(down("1", "directories", "local"), ent("path", "", "/srv"), nilEnt("filename")),
			[]string{"/srv", "/srv/a", "/srv/drop"}},
		{"symlinks and directories follows links", file(down("-1", "symlinks and directories", "all"), ent("path", "", "/srv"), nilEnt("filename")),
			[]string{"/srv", "/srv/a", "/srv/a/b", "/srv/a/b/c", "/srv/a/link", "/srv/a/link/c", "/srv/drop"}},
		{"files through a followed link", file(down("-1", "symlinks and directories", "all"), ent("path", "", "/srv/a"), ent("filename", "", "file")),
			[]string{"/srv/a/b/c/file", "/srv/a/link/c/file"}},
		{"filepath pattern from its literal prefix", file(nil, ent("filepath", "pattern match", `^/etc/sudoers(\.d/.*)?$`)),
			[]string{"/etc/sudoers", "/etc/sudoers.d/README", "/etc/sudoers.d/ops"}},
		{"path pattern", file(nil, ent("path", "pattern match", `^/etc/cron\.(d|daily|weekly)$`), nilEnt("filename")),
			[]string{"/etc/cron.d", "/etc/cron.daily", "/etc/cron.weekly"}},
		{"path pattern with filename", file(nil, ent("path", "pattern match", `^/etc/cron\.(d|daily|weekly)$`), ent("filename", "pattern match", ".")),
			[]string{"/etc/cron.d/job", "/etc/cron.daily/run"}},
		{"start at a symlink keeps its name", file(down("-1", "directories", "local"), ent("path", "", "/bin"), nilEnt("filename")),
			[]string{"/bin", "/bin/sub", "/bin/sub/dir"}},
		{"files below a symlinked start", file(down("-1", "directories", "local"), ent("path", "", "/bin"), ent("filename", "pattern match", "^s")),
			[]string{"/bin/su"}},
		{"var_ref values: any", file(nil, oval.ObjectEntity{Name: "path", Values: []string{"/etc", "/srv"}}, ent("filename", "pattern match", "^(open|passwd)$")),
			[]string{"/etc/passwd", "/srv/open"}},
		{"filter during a whole-tree search", filtered(file(down("-1", "directories", "local"), ent("path", "", "/"), ent("filename", "pattern match", "^.*$")), owrite),
			[]string{"/srv/open"}},
		{"filtered directories", filtered(file(down("-1", "directories", "local"), ent("path", "", "/"), nilEnt("filename")), owrite),
			[]string{"/srv/drop"}},
	}
	var all []*oval.Object
	for i, c := range cases {
		c.obj.ID = c.obj.ID + ":" + string(rune('a'+i))
		all = append(all, c.obj)
	}
	modes(t, all, func(t *testing.T, get func(*oval.Object) oval.Collected) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got := get(c.obj)
				key := "filepath"
				if f, ok := c.obj.Entity("filename"); ok && f.Nil {
					key = "path"
				}
				if v := vals(got, key); !slices.Equal(v, c.want) {
					t.Errorf("%s = %q, want %q (flag %s %s)", key, v, c.want, got.Flag, got.Message)
				}
				wantFlag := oval.FlagComplete
				if len(c.want) == 0 {
					wantFlag = oval.FlagDoesNotExist
				}
				if got.Flag != wantFlag {
					t.Errorf("flag %s, want %s (%s)", got.Flag, wantFlag, got.Message)
				}
			})
		}
	})
}

func TestFileItemEntities(t *testing.T) {
	root := newRoot(t, fsTree())
	p := New(root, Options{})
	c := collect(t, p, object("file_object", nil, ent("filepath", "", "/usr/bin/su")))
	want := map[string]string{
		"filepath": "/usr/bin/su", "path": "/usr/bin", "filename": "su", "type": "regular",
		"user_id": "0", "group_id": "0", "size": "1", "suid": "true", "sgid": "false", "sticky": "false",
		"uread": "true", "uwrite": "true", "uexec": "true", "gread": "true", "gwrite": "false", "gexec": "true",
		"oread": "true", "owrite": "false", "oexec": "true",
	}
	for k, v := range want {
		if got := one(t, c, k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"user_id", "size", "m_time"} {
		if e, _ := entity(c.Items[0], k); e.Datatype != "int" {
			t.Errorf("%s datatype %q, want int", k, e.Datatype)
		}
	}
	if e, _ := entity(c.Items[0], "suid"); e.Datatype != "boolean" {
		t.Errorf("suid datatype %q", e.Datatype)
	}
	// A symlink is reported as itself (lstat), a directory item has an
	// empty filename and no filepath.
	c = collect(t, p, object("file_object", nil, ent("path", "", "/bin"), nilEnt("filename")))
	if got := one(t, c, "type"); got != "symbolic link" {
		t.Errorf("type of /bin = %q", got)
	}
	if _, ok := entity(c.Items[0], "filepath"); ok {
		t.Error("directory item has a filepath")
	}
	if got := one(t, c, "filename"); got != "" {
		t.Errorf("filename = %q", got)
	}
}

func TestSharedWalkOnce(t *testing.T) {
	root := newRoot(t, fsTree())
	objs := []*oval.Object{
		object("file_object", down("-1", "directories", "local"), ent("path", "", "/"), ent("filename", "pattern match", "^.*$")),
		object("file_object", down("-1", "directories", "local"), ent("path", "", "/"), nilEnt("filename")),
		object("file_object", down("-1", "directories", "local"), ent("path", "", "/bin"), nilEnt("filename")),
		object("file_object", down("-1", "directories", "all"), ent("path", "", "/srv"), ent("filename", "pattern match", "^file")),
		object("file_object", down("-1", "symlinks and directories", "all"), ent("path", "", "/srv/a"), nilEnt("filename")),
		object("textfilecontent54_object", down("-1", "directories", "all"), ent("path", "", "/etc"), ent("filename", "pattern match", "^sudoers$"),
			ent("pattern", "pattern match", "^Defaults"), oval.ObjectEntity{Name: "instance", Operation: "greater than or equal", Datatype: "int", Values: []string{"1"}}),
		object("file_object", down("1", "directories", "all"), ent("path", "", "/home"), ent("filename", "pattern match", `^\.rhosts$`)),
	}
	for i, o := range objs {
		o.ID += string(rune('a' + i))
	}
	tt := &testTarget{Target: root}
	p := New(tt, Options{})
	if err := p.Prepare(context.Background(), objs); err != nil {
		t.Fatal(err)
	}
	prepared := make([]oval.Collected, len(objs))
	for i, o := range objs {
		prepared[i] = collect(t, p, o)
	}
	if n := tt.walks.Load(); n != 1 {
		t.Errorf("Prepare and Collect walked %d times, want 1", n)
	}
	if s := p.Stats(); s.Walks != 1 || s.EntriesWalked == 0 {
		t.Errorf("stats %+v", s)
	}
	// The same objects collected one by one give the same items.
	for i, o := range objs {
		alone := collect(t, New(root, Options{}), o)
		for _, k := range []string{"filepath", "path", "text"} {
			if a, b := vals(alone, k), vals(prepared[i], k); !slices.Equal(a, b) {
				t.Errorf("object %d %s: alone %q, prepared %q", i, k, a, b)
			}
		}
		if len(prepared[i].Items) == 0 {
			t.Errorf("object %d found nothing", i)
		}
	}
}

func TestFilterCalledDuringWalk(t *testing.T) {
	root := newRoot(t, fsTree())
	calls := 0
	o := object("file_object", down("-1", "directories", "local"), ent("path", "", "/"), ent("filename", "pattern match", "^.*$"))
	tt := &testTarget{Target: root}
	walking := false
	inner := tt.Target
	tt.Target = walkFlag{inner, &walking}
	o.Filter = func(it oval.Item) (bool, error) {
		calls++
		if !walking {
			t.Error("filter called outside the walk")
		}
		e, _ := entity(it, "suid")
		return e.Value == "true", nil
	}
	p := New(tt, Options{})
	if err := p.Prepare(context.Background(), []*oval.Object{o}); err != nil {
		t.Fatal(err)
	}
	c := collect(t, p, o)
	if got := vals(c, "filepath"); !slices.Equal(got, []string{"/usr/bin/su"}) {
		t.Errorf("kept %q", got)
	}
	if calls < 10 {
		t.Errorf("filter called %d times", calls)
	}
}

// TestFilterEntities checks that an object naming the entities its
// filter reads keeps the same items, each whole, while the filter sees
// only those entities.
func TestFilterEntities(t *testing.T) {
	root := newRoot(t, fsTree())
	filter := func(it oval.Item) (bool, error) {
		e, _ := entity(it, "suid")
		o, _ := entity(it, "oexec")
		return e.Value == "true" || o.Value == "false", nil
	}
	mk := func(only []string, seen *[]int) *oval.Object {
		o := object("file_object", down("-1", "directories", "local"), ent("path", "", "/"), ent("filename", "pattern match", "^.*$"))
		o.Filter = func(it oval.Item) (bool, error) {
			*seen = append(*seen, len(it.Entities))
			return filter(it)
		}
		o.FilterEntities = only
		return o
	}
	var wholeSeen, lazySeen []int
	whole := collect(t, New(root, Options{}), mk(nil, &wholeSeen))
	lazy := collect(t, New(root, Options{}), mk([]string{"suid", "oexec", "no_such_entity"}, &lazySeen))
	if !slices.Equal(vals(whole, "filepath"), vals(lazy, "filepath")) || len(whole.Items) == 0 {
		t.Fatalf("kept %q with FilterEntities, %q without", vals(lazy, "filepath"), vals(whole, "filepath"))
	}
	for i := range whole.Items {
		if !slices.Equal(whole.Items[i].Entities, lazy.Items[i].Entities) {
			t.Errorf("item %d: %v with FilterEntities, %v without", i, lazy.Items[i].Entities, whole.Items[i].Entities)
		}
	}
	if len(lazySeen) != len(wholeSeen) || slices.Max(lazySeen) != 2 {
		t.Errorf("the filter saw items of %v entities with FilterEntities (%d calls, %d without)", slices.Max(lazySeen), len(lazySeen), len(wholeSeen))
	}
	// Every entity built alone is the one of the whole item.
	for _, dir := range []bool{false, true} {
		fi, err := root.Lstat(context.Background(), "/usr/bin/su")
		if err != nil {
			t.Fatal(err)
		}
		all := appendFileItem(nil, "/usr/bin/su", fi, dir, nil)
		var each []oval.ItemEntity
		for _, name := range fileItemEntities {
			each = appendFileItem(each, "/usr/bin/su", fi, dir, []string{name})
		}
		if !slices.Equal(all, each) {
			t.Errorf("dir %v: entities built one by one %v, whole %v", dir, each, all)
		}
	}
}

// walkFlag marks when a walk is running.
type walkFlag struct {
	target.Target
	on *bool
}

func (w walkFlag) Walk(ctx context.Context, opts target.WalkOptions, fn target.WalkFunc) error {
	*w.on = true
	defer func() { *w.on = false }()
	return w.Target.Walk(ctx, opts, fn)
}

func TestSymlinkLoops(t *testing.T) {
	tree := fsTree().
		Add(fixture.File{Path: "/srv/loop/up", Link: ".."}).
		Add(fixture.File{Path: "/srv/loop/self", Link: "/srv/loop"}).
		Add(fixture.File{Path: "/srv/loop/a", Link: "b"}).
		Add(fixture.File{Path: "/srv/loop/b", Link: "a"}).
		Text("/srv/loop/f", "x")
	root := newRoot(t, tree)
	for _, prep := range []bool{false, true} {
		p := New(root, Options{})
		dirs := object("file_object", down("-1", "symlinks and directories", "all"), ent("path", "", "/srv/loop"), nilEnt("filename"))
		files := object("file_object", down("-1", "symlinks and directories", "all"), ent("path", "", "/srv/loop"), ent("filename", "pattern match", "."))
		files.ID += "f"
		if prep {
			if err := p.Prepare(context.Background(), []*oval.Object{dirs, files}); err != nil {
				t.Fatal(err)
			}
		}
		c := collect(t, p, dirs)
		// up leads to /srv, whose subtree is walked once through it; self
		// and /srv/loop/up/loop are cycles.
		for _, d := range vals(c, "path") {
			if strings.Count(d, "loop") > 2 {
				t.Errorf("prepared=%v: cycle not cut: %s", prep, d)
			}
		}
		if !slices.Contains(vals(c, "path"), "/srv/loop/up") {
			t.Errorf("prepared=%v: /srv/loop/up missing: %q", prep, vals(c, "path"))
		}
		c = collect(t, p, files)
		got := vals(c, "filepath")
		for _, want := range []string{"/srv/loop/f", "/srv/loop/a", "/srv/loop/b"} {
			if !slices.Contains(got, want) {
				t.Errorf("prepared=%v: %s missing from %q", prep, want, got)
			}
		}
	}
}

func TestPermissionDenied(t *testing.T) {
	root := newRoot(t, fsTree())
	for _, prep := range []bool{false, true} {
		tt := &testTarget{Target: root}
		tt.deny("/srv/a", "/etc/sudoers")
		p := New(tt, Options{})
		dirs := object("file_object", down("-1", "directories", "local"), ent("path", "", "/srv"), nilEnt("filename"))
		text := object("textfilecontent54_object", nil, ent("filepath", "pattern match", `^/etc/sudoers(\.d/.*)?$`),
			ent("pattern", "pattern match", `^Defaults\s+(\S+)`), oval.ObjectEntity{Name: "instance", Operation: "greater than or equal", Datatype: "int", Values: []string{"1"}})
		if prep {
			if err := p.Prepare(context.Background(), []*oval.Object{dirs, text}); err != nil {
				t.Fatal(err)
			}
		}
		c := collect(t, p, dirs)
		if c.Flag != oval.FlagIncomplete || !strings.Contains(c.Message, "/srv/a") {
			t.Errorf("prepared=%v: flag %s %q, want incomplete naming /srv/a", prep, c.Flag, c.Message)
		}
		if got := vals(c, "path"); !slices.Equal(got, []string{"/srv", "/srv/a", "/srv/drop"}) {
			t.Errorf("prepared=%v: paths %q", prep, got)
		}
		c = collect(t, p, text)
		if c.Flag != oval.FlagError || !strings.Contains(c.Message, "permission denied") {
			t.Errorf("prepared=%v: flag %s %q, want error", prep, c.Flag, c.Message)
		}
		if got := vals(c, "subexpression"); !slices.Equal(got, []string{"logfile=/var/log/sudo.log"}) {
			t.Errorf("prepared=%v: the readable file's items: %q", prep, got)
		}
	}
}

func TestBehaviorErrors(t *testing.T) {
	p := New(newRoot(t, fsTree()), Options{})
	for _, beh := range []map[string]string{
		{"recurse_direction": "sideways"}, {"max_depth": "x"}, {"recurse": "files"}, {"recurse_file_system": "remote"},
	} {
		c := collect(t, p, object("file_object", beh, ent("path", "", "/etc"), nilEnt("filename")))
		if c.Flag != oval.FlagError {
			t.Errorf("%v: flag %s", beh, c.Flag)
		}
	}
	c := collect(t, p, object("file_object", nil, ent("filepath", "pattern match", "^/etc/(")))
	if c.Flag != oval.FlagError {
		t.Errorf("bad pattern: flag %s", c.Flag)
	}
}

func TestBigFileBoundedMemory(t *testing.T) {
	big := strings.Repeat("PermitRootLogin yes\n", 2<<20) // 40 MiB
	root := newRoot(t, fixture.Tree{}.Text("/etc/big.conf", big).Text("/etc/bin.dat", "a=1\x00b=2\n"))
	big = ""
	p := New(root, Options{MaxFileSize: 1 << 20})
	inst := oval.ObjectEntity{Name: "instance", Operation: "greater than or equal", Datatype: "int", Values: []string{"1"}}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := collect(t, p, object("textfilecontent54_object", nil, ent("filepath", "", "/etc/big.conf"), ent("pattern", "pattern match", "^Permit"), inst))
	runtime.ReadMemStats(&after)
	if c.Flag != oval.FlagError || !strings.Contains(c.Message, "exceeds read limit") {
		t.Errorf("flag %s %q, want error for a file over the limit", c.Flag, c.Message)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
		t.Errorf("reading a 40 MiB file over a 1 MiB limit allocated %d bytes", grew)
	}
	// The text of a binary file ends at its first NUL byte, as oscap's C
	// string does.
	c = collect(t, p, object("textfilecontent54_object", nil, ent("filepath", "", "/etc/bin.dat"), ent("pattern", "pattern match", "^[ab]="), inst))
	if got := vals(c, "text"); !slices.Equal(got, []string{"a="}) {
		t.Errorf("matches in a binary file: %q", got)
	}
}

func TestTextfilecontent54(t *testing.T) {
	inst := func(op, v string) oval.ObjectEntity {
		return oval.ObjectEntity{Name: "instance", Operation: op, Datatype: "int", Values: []string{v}}
	}
	ge1 := inst("greater than or equal", "1")
	tfc := func(beh map[string]string, ents ...oval.ObjectEntity) *oval.Object {
		return object("textfilecontent54_object", beh, ents...)
	}
	sudoers := ent("filepath", "", "/etc/sudoers")
	cases := []struct {
		name string
		obj  *oval.Object
		key  string
		want []string
	}{
		{"subexpression", tfc(nil, sudoers, ent("pattern", "pattern match", `^Defaults\s+(\S+)$`), ge1), "subexpression", []string{"env_reset", "use_pty"}},
		{"text", tfc(nil, sudoers, ent("pattern", "pattern match", `^Defaults\s+(\S+)$`), ge1), "text", []string{"Defaults env_reset", "Defaults use_pty"}},
		{"instance numbers", tfc(nil, sudoers, ent("pattern", "pattern match", `^Defaults`), ge1), "instance", []string{"1", "2"}},
		{"instance equals", tfc(nil, sudoers, ent("pattern", "pattern match", `^Defaults\s+(\S+)$`), inst("equals", "2")), "subexpression", []string{"env_reset"}},
		{"multiline off", tfc(map[string]string{"multiline": "false"}, sudoers, ent("pattern", "pattern match", `^%sudo`), ge1), "text", nil},
		{"multiline default", tfc(nil, sudoers, ent("pattern", "pattern match", `^%sudo`), ge1), "text", []string{"%sudo"}},
		{"ignore_case", tfc(map[string]string{"ignore_case": "true"}, sudoers, ent("pattern", "pattern match", `^defaults use`), ge1), "text", []string{"Defaults use"}},
		{"singleline", tfc(map[string]string{"singleline": "true"}, sudoers, ent("pattern", "pattern match", `use_pty.Defaults`), ge1), "text", []string{"use_pty\nDefaults"}},
		{"filepath pattern", tfc(nil, ent("filepath", "pattern match", `^/etc/sudoers(\.d/.*)?$`), ent("pattern", "pattern match", `^Defaults\s+(\S+)`), ge1),
			"filepath", []string{"/etc/sudoers", "/etc/sudoers", "/etc/sudoers.d/ops"}},
		{"path and filename", tfc(nil, ent("path", "", "/etc/sudoers.d"), ent("filename", "pattern match", "."), ent("pattern", "pattern match", `^Defaults`), ge1),
			"filepath", []string{"/etc/sudoers.d/ops"}},
		{"through a symlink", tfc(nil, ent("path", "", "/etc"), ent("filename", "", "passwd-link"), ent("pattern", "pattern match", `^root:`), ge1),
			"filepath", []string{"/etc/passwd-link"}},
		{"missing file", tfc(nil, ent("filepath", "", "/etc/nope"), ent("pattern", "pattern match", "."), ge1), "text", nil},
		{"look-around pattern", tfc(nil, sudoers, ent("pattern", "pattern match", `^Defaults\s+(?!env)(\S+)$`), ge1), "subexpression", []string{"use_pty"}},
	}
	var all []*oval.Object
	for i, c := range cases {
		c.obj.ID += string(rune('a' + i))
		all = append(all, c.obj)
	}
	modes(t, all, func(t *testing.T, get func(*oval.Object) oval.Collected) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got := get(c.obj)
				if v := vals(got, c.key); !slices.Equal(v, c.want) {
					t.Errorf("%s = %q, want %q (flag %s %s)", c.key, v, c.want, got.Flag, got.Message)
				}
			})
		}
	})
	p := New(newRoot(t, fsTree()), Options{})
	c := collect(t, p, tfc(nil, sudoers, ent("pattern", "pattern match", `^Defaults\s+(\S+)$`), inst("equals", "1")))
	for k, v := range map[string]string{"filepath": "/etc/sudoers", "path": "/etc", "filename": "sudoers", "pattern": `^Defaults\s+(\S+)$`, "instance": "1"} {
		if got := one(t, c, k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestTextfilecontentLines(t *testing.T) {
	p := New(newRoot(t, fsTree()), Options{})
	c := collect(t, p, object("textfilecontent_object", nil, ent("path", "", "/etc"), ent("filename", "", "sudoers"), ent("line", "pattern match", `^Defaults\s+(\S+)`)))
	if got := vals(c, "line"); !slices.Equal(got, []string{"Defaults env_reset", "Defaults use_pty"}) {
		t.Errorf("lines %q", got)
	}
	if got := vals(c, "subexpression"); !slices.Equal(got, []string{"env_reset", "use_pty"}) {
		t.Errorf("subexpressions %q", got)
	}
}

func TestSymlinkObject(t *testing.T) {
	tree := fsTree().Add(fixture.File{Path: "/etc/dangling", Link: "/nowhere"})
	p := New(newRoot(t, tree), Options{})
	c := collect(t, p, object("symlink_object", nil, ent("filepath", "", "/etc/passwd-link")))
	if got := one(t, c, "canonical_path"); got != "/etc/passwd" {
		t.Errorf("canonical_path %q", got)
	}
	c = collect(t, p, object("symlink_object", nil, ent("filepath", "", "/etc/passwd")))
	if c.Flag != oval.FlagDoesNotExist {
		t.Errorf("a regular file: flag %s", c.Flag)
	}
	c = collect(t, p, object("symlink_object", nil, ent("filepath", "", "/bin")))
	if got := one(t, c, "canonical_path"); got != "/usr/bin" {
		t.Errorf("canonical_path of /bin %q", got)
	}
	c = collect(t, p, object("symlink_object", nil, ent("filepath", "", "/etc/dangling")))
	if len(c.Items) != 1 || c.Items[0].Status != oval.StatusError {
		t.Errorf("dangling link: %+v", c)
	}
}
