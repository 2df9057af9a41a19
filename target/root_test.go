package target_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/plumbhq/plumb/target"
	"github.com/plumbhq/plumb/target/targettest"
)

func TestRootConformance(t *testing.T) {
	targettest.Run(t, func(t *testing.T) targettest.Env {
		root := t.TempDir()
		dir := filepath.Join(root, "srv", "suite")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		r, err := target.NewRoot(root)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return targettest.Env{Target: r, Dir: dir, Prefix: "/srv/suite", Privileged: os.Geteuid() == 0}
	})
}

func TestRootConformanceAtTop(t *testing.T) {
	// The tree is the root itself: the suite's paths are "/a.conf".
	targettest.Run(t, func(t *testing.T) targettest.Env {
		root := t.TempDir()
		if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		r, err := target.NewRoot(root)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		if err := os.Remove(filepath.Join(root, "etc")); err != nil { // the suite wants an empty Dir
			t.Fatal(err)
		}
		return targettest.Env{Target: r, Dir: root, Prefix: "/", Privileged: os.Geteuid() == 0}
	})
}
