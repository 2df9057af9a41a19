package target

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// bigTree makes about n entries under dir, with uneven fan-out and depth so
// prefetch windows fill and drain.
func bigTree(t testing.TB, dir string, n int) {
	t.Helper()
	made := 0
	var mk func(d string, depth int)
	mk = func(d string, depth int) {
		for i := 0; made < n && i < 3+depth*4; i++ {
			name := fmt.Sprintf("%s-%02d", []string{"f", "D", "g", "a.b", "z"}[i%5], i)
			p := filepath.Join(d, name)
			made++
			if i%3 == 1 && depth < 5 {
				if err := os.Mkdir(p, 0o755); err != nil {
					t.Fatal(err)
				}
				mk(p, depth+1)
				continue
			}
			if i%7 == 6 {
				if err := os.Symlink("..", p); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for made < n {
		d := filepath.Join(dir, fmt.Sprintf("top%03d", made))
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		made++
		mk(d, 0)
	}
}

// reference walks dir with filepath.WalkDir: the same depth-first lexical
// order, symlinks not followed.
func reference(t testing.TB, dir string, skip func(string) bool) []string {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		out = append(out, p)
		if d.IsDir() && skip != nil && skip(p) {
			return fs.SkipDir
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWalkManyEntries(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "tree")
	if err := os.MkdirAll(filepath.Join(base, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bigTree(t, dir, 4000)
	skipSome := func(p string) bool { return strings.HasSuffix(p, "/z-04") || strings.HasSuffix(p, "/g-07") }
	root, err := NewRoot(base)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	targets := []struct {
		name   string
		t      Target
		prefix string // target path of dir
	}{
		{"local", NewLocal(), dir},
		{"root", root, "/tree"},
	}
	for _, tg := range targets {
		for _, pf := range []bool{false, true} {
			for _, skip := range []func(string) bool{nil, skipSome} {
				name := fmt.Sprintf("%s/prefetch=%v/skip=%v", tg.name, pf, skip != nil)
				t.Run(name, func(t *testing.T) {
					defer func(old bool) { walkPrefetch = old }(walkPrefetch)
					walkPrefetch = pf
					want := reference(t, dir, skip)
					if skip == nil && len(want) < 4000 {
						t.Fatalf("tree has %d entries", len(want))
					}
					var got []string
					seen := map[string]bool{}
					err := tg.t.Walk(context.Background(), WalkOptions{Roots: []string{tg.prefix}}, func(fi FileInfo) error {
						host := dir + strings.TrimPrefix(fi.Path, tg.prefix)
						if seen[host] {
							t.Errorf("visited twice: %s", fi.Path)
						}
						seen[host] = true
						got = append(got, host)
						if fi.Mode.IsDir() && skip != nil && skip(host) {
							return fs.SkipDir
						}
						return nil
					})
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got, want) {
						t.Errorf("walk differs from filepath.WalkDir: %d vs %d entries", len(got), len(want))
						for i := range min(len(got), len(want)) {
							if got[i] != want[i] {
								t.Fatalf("first difference at %d: %s vs %s", i, got[i], want[i])
							}
						}
					}
				})
			}
		}
	}
}

func TestWalkStopsEarlyWithPrefetch(t *testing.T) {
	dir := t.TempDir()
	bigTree(t, dir, 3000)
	l := NewLocal()
	stop := errors.New("stop")
	for _, at := range []int{1, 10, 100, 1000, 2500} {
		n := 0
		err := l.Walk(context.Background(), WalkOptions{Roots: []string{dir}}, func(FileInfo) error {
			n++
			if n == at {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != at {
			t.Errorf("stop at %d: got %d entries, %v", at, n, err)
		}
	}
}

func TestWalkCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	start := time.Now()
	err := NewLocal().Walk(ctx, WalkOptions{LocalOnly: true}, func(FileInfo) error {
		n++
		if n == 1000 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Walk after cancel: %v (%d entries)", err, n)
	}
	if n > 1000+256 {
		t.Errorf("Walk went on for %d entries after cancel", n-1000)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Walk took %v", d)
	}
}

func TestWalkUnreadableDirectory(t *testing.T) {
	dir := t.TempDir()
	locked := filepath.Join(dir, "locked")
	if err := os.MkdirAll(filepath.Join(locked, "inner"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(locked, 0o755)
	var errs []string
	var got []string
	err := NewLocal().Walk(context.Background(), WalkOptions{Roots: []string{dir}, OnError: func(p string, err error) {
		errs = append(errs, p)
		if !errors.Is(err, fs.ErrPermission) {
			t.Errorf("OnError(%s, %v): want a permission error", p, err)
		}
	}}, func(fi FileInfo) error {
		got = append(got, fi.Path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// root reads it anyway: nothing skipped.
		if len(errs) != 0 || !slices.Contains(got, filepath.Join(locked, "inner")) {
			t.Errorf("as root: visited %q, errors %q", got, errs)
		}
	} else if !slices.Equal(errs, []string{locked}) || slices.Contains(got, filepath.Join(locked, "inner")) {
		t.Errorf("visited %q, errors %q; want locked skipped and reported", got, errs)
	}
}

func TestWalkLocalOnlySkipsPseudoFS(t *testing.T) {
	l := NewLocal()
	for _, root := range []string{"/proc", "/sys", "/dev/pts"} {
		var got []string
		err := l.Walk(context.Background(), WalkOptions{Roots: []string{root}, LocalOnly: true}, func(fi FileInfo) error {
			got = append(got, fi.Path)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, []string{root}) {
			t.Errorf("LocalOnly walk of %s visited %d entries, want only the mount point", root, len(got))
		}
	}
	// /dev (devtmpfs) is walked, /dev/pts inside it is not entered, and
	// without LocalOnly it is.
	count := func(localOnly bool) (all, pts int) {
		err := l.Walk(context.Background(), WalkOptions{Roots: []string{"/dev"}, LocalOnly: localOnly}, func(fi FileInfo) error {
			all++
			if strings.HasPrefix(fi.Path, "/dev/pts/") {
				pts++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return all, pts
	}
	if all, pts := count(true); all < 3 || pts != 0 {
		t.Errorf("LocalOnly /dev: %d entries, %d under /dev/pts", all, pts)
	}
	if _, pts := count(false); pts == 0 {
		t.Errorf("/dev without LocalOnly: nothing under /dev/pts (ptmx at least expected)")
	}
}

func TestParseMountinfo(t *testing.T) {
	mi := `21 26 0:20 / /proc rw,relatime shared:5 - proc proc rw
22 26 0:21 / /sys rw,relatime - sysfs sysfs rw
26 1 254:0 / / rw,relatime - ext4 /dev/vda rw
29 26 0:26 / /mnt/with\040space rw - nfs4 srv:/x rw
30 26 0:27 / /tmp rw - tmpfs tmpfs rw
31 26 0:28 / /over rw - nfs srv:/y rw
32 26 0:29 / /over rw - ext4 /dev/vdb rw
33 26 259:1048575 / /big rw - cifs //x rw
garbage line
34 26 0:30 / /short rw -
35 26 0:31 / /m rw master:1 propagate_from:2 - fuse.sshfs u@h: rw
`
	s := parseMountinfo([]byte(mi))
	wantPaths := []string{"/big", "/m", "/mnt/with space", "/proc", "/sys"}
	var gotPaths []string
	for p := range s.paths {
		gotPaths = append(gotPaths, p)
	}
	slices.Sort(gotPaths)
	if !slices.Equal(gotPaths, wantPaths) {
		t.Errorf("skipped paths %q, want %q", gotPaths, wantPaths)
	}
	dev := func(maj, min uint64) uint64 { d, _ := parseMajMin(fmt.Sprintf("%d:%d", maj, min)); return d }
	if !s.devs[dev(0, 20)] || !s.devs[dev(259, 1048575)] || s.devs[dev(0, 27)] || s.devs[dev(0, 29)] {
		t.Errorf("skipped devices %v", s.devs)
	}
	// makedev as glibc: major 259 minor 1048575 = 0xfffff.
	if d := dev(259, 0xfffff); d != 0xfff00<<12|0x103<<8|0xff {
		t.Errorf("parseMajMin(259:1048575) = %#x", d)
	}
	if d := dev(8, 1); d != 0x801 {
		t.Errorf("parseMajMin(8:1) = %#x", d)
	}
}

func TestNormRoots(t *testing.T) {
	got, err := normRoots([]string{"/b", "/a/", "/a/x", "/a-b", "/b/../a/y", "/c/d"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/a", "/a-b", "/b", "/c/d"}; !slices.Equal(got, want) {
		t.Errorf("normRoots = %q, want %q", got, want)
	}
	if got, _ := normRoots(nil); !slices.Equal(got, []string{"/"}) {
		t.Errorf("normRoots(nil) = %q", got)
	}
	if got, _ := normRoots([]string{"/x", "/"}); !slices.Equal(got, []string{"/"}) {
		t.Errorf("normRoots(/x, /) = %q", got)
	}
	if _, err := normRoots([]string{"rel"}); err == nil {
		t.Error("normRoots(rel): no error")
	}
}

// BenchmarkWalk walks a generated tree of 20000 entries, with and without
// prefetching:
//
//	go test -run XXX -bench Walk ./target/
func BenchmarkWalk(b *testing.B) {
	dir := b.TempDir()
	bigTree(b, dir, 20000)
	for _, pf := range []bool{false, true} {
		b.Run(fmt.Sprintf("prefetch=%v", pf), func(b *testing.B) {
			defer func(old bool) { walkPrefetch = old }(walkPrefetch)
			walkPrefetch = pf
			l := NewLocal()
			n := 0
			for b.Loop() {
				err := l.Walk(context.Background(), WalkOptions{Roots: []string{dir}}, func(FileInfo) error { n++; return nil })
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/entry")
		})
	}
}
