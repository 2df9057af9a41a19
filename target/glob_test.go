package target

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// countingTarget records the directories Glob lists.
type countingTarget struct {
	Target
	mu   sync.Mutex
	dirs []string
	fail string // ReadDir of this path fails with a permission error
}

func (c *countingTarget) ReadDir(ctx context.Context, p string) ([]FileInfo, error) {
	c.mu.Lock()
	c.dirs = append(c.dirs, p)
	c.mu.Unlock()
	if p == c.fail {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrPermission}
	}
	return c.Target.ReadDir(ctx, p)
}

func TestGlobListsOnlyMetaComponents(t *testing.T) {
	dir := t.TempDir()
	for _, rel := range []string{"a/one/sub/x.conf", "a/one/sub/y.txt", "a/two/sub/z.conf", "a/three/other/w.conf"} {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ct := &countingTarget{Target: NewLocal()}
	got, err := Glob(context.Background(), ct, dir+"/a/*/sub/*.conf")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{dir + "/a/one/sub/x.conf", dir + "/a/two/sub/z.conf"}
	if !slices.Equal(got, want) {
		t.Errorf("Glob = %q, want %q", got, want)
	}
	// dir/a is listed for "*"; each dir/a/X/sub for "*.conf" (three/sub is
	// missing: listed, absent, no error). Nothing above dir/a is listed.
	wantDirs := []string{dir + "/a", dir + "/a/one/sub", dir + "/a/three/sub", dir + "/a/two/sub"}
	if !slices.Equal(ct.dirs, wantDirs) {
		t.Errorf("listed %q, want %q", ct.dirs, wantDirs)
	}

	ct = &countingTarget{Target: NewLocal()}
	got, err = Glob(context.Background(), ct, dir+"/a/one/sub/x.conf")
	if err != nil || !slices.Equal(got, []string{dir + "/a/one/sub/x.conf"}) || len(ct.dirs) != 0 {
		t.Errorf("literal Glob = %q, %v, listed %q", got, err, ct.dirs)
	}

	// A directory that cannot be listed is an error, not "no match".
	ct = &countingTarget{Target: NewLocal(), fail: dir + "/a/two/sub"}
	if _, err := Glob(context.Background(), ct, dir+"/a/*/sub/*.conf"); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Glob with an unreadable directory: %v, want fs.ErrPermission", err)
	}

	if got, err := Glob(context.Background(), NewLocal(), "/"); err != nil || !slices.Equal(got, []string{"/"}) {
		t.Errorf("Glob(/) = %q, %v", got, err)
	}
}
