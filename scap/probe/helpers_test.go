package probe

import (
	"context"
	"io/fs"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/plumbhq/plumb/internal/fixture"
	"github.com/plumbhq/plumb/scap/oval"
	"github.com/plumbhq/plumb/target"
)

// newRoot writes tree under a temporary directory and opens it as a root
// file system.
func newRoot(t testing.TB, tree fixture.Tree) *target.Root {
	t.Helper()
	dir := t.TempDir()
	tree = tree.Clone().Add(fixture.File{Path: "/etc", Dir: true})
	if err := tree.Write(dir); err != nil {
		t.Fatal(err)
	}
	r, err := target.NewRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// testTarget wraps a real target to count walks and to deny paths with
// fs.ErrPermission (the tests run as root, which reads everything).
type testTarget struct {
	target.Target
	walks  atomic.Int64
	mu     sync.Mutex
	denied map[string]bool
}

func (w *testTarget) deny(paths ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.denied == nil {
		w.denied = map[string]bool{}
	}
	for _, p := range paths {
		w.denied[p] = true
	}
}

func (w *testTarget) isDenied(p string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.denied[p]
}

func denied(op, p string) error { return &fs.PathError{Op: op, Path: p, Err: fs.ErrPermission} }

func (w *testTarget) Walk(ctx context.Context, opts target.WalkOptions, fn target.WalkFunc) error {
	w.walks.Add(1)
	return w.Target.Walk(ctx, opts, func(fi target.FileInfo) error {
		if err := fn(fi); err != nil {
			return err
		}
		if fi.Mode.IsDir() && w.isDenied(fi.Path) {
			// As the real walker does with a directory it may not list.
			if opts.OnError != nil {
				opts.OnError(fi.Path, denied("open", fi.Path))
			}
			return fs.SkipDir
		}
		return nil
	})
}

func (w *testTarget) ReadDir(ctx context.Context, p string) ([]target.FileInfo, error) {
	if w.isDenied(p) {
		return nil, denied("open", p)
	}
	return w.Target.ReadDir(ctx, p)
}

func (w *testTarget) ReadFile(ctx context.Context, p string, limit int64) ([]byte, error) {
	if w.isDenied(p) {
		return nil, denied("open", p)
	}
	return w.Target.ReadFile(ctx, p, limit)
}

// ent is an object entity; op "" is equals.
func ent(name, op string, values ...string) oval.ObjectEntity {
	return oval.ObjectEntity{Name: name, Operation: op, Values: values}
}

func nilEnt(name string) oval.ObjectEntity { return oval.ObjectEntity{Name: name, Nil: true} }

func object(typ string, beh map[string]string, ents ...oval.ObjectEntity) *oval.Object {
	return &oval.Object{ID: "oval:test:obj:" + typ, Type: typ, Entities: ents, Behaviors: beh}
}

// down is the behaviors of a downward recursion.
func down(maxDepth, recurse, fsys string) map[string]string {
	return map[string]string{"recurse_direction": "down", "max_depth": maxDepth, "recurse": recurse, "recurse_file_system": fsys}
}

// vals returns the values of the entities called name across the items,
// sorted.
func vals(c oval.Collected, name string) []string {
	var out []string
	for _, it := range c.Items {
		for _, e := range it.Values(name) {
			out = append(out, e.Value)
		}
	}
	sort.Strings(out)
	return out
}

// one returns the value of entity name in the single item of c.
func one(t *testing.T, c oval.Collected, name string) string {
	t.Helper()
	if len(c.Items) != 1 {
		t.Fatalf("want one item, got %d (flag %s, %s)", len(c.Items), c.Flag, c.Message)
	}
	v := c.Items[0].Values(name)
	if len(v) != 1 {
		t.Fatalf("want one %s entity, got %v", name, v)
	}
	return v[0].Value
}

func collect(t *testing.T, p *Prober, o *oval.Object) oval.Collected {
	t.Helper()
	c, err := p.Collect(context.Background(), o)
	if err != nil {
		t.Fatalf("Collect %s: %v", o.Type, err)
	}
	return c
}

func sorted(s ...string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

// entity returns the named entity of an item.
func entity(it oval.Item, name string) (oval.ItemEntity, bool) {
	v := it.Values(name)
	if len(v) == 0 {
		return oval.ItemEntity{}, false
	}
	return v[0], true
}
