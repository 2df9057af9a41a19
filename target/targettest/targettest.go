// Package targettest is the conformance suite every target.Target
// implementation runs, so the engine can rely on the same answers from
// the local machine, an unpacked root file system and a remote host.
//
// The suite builds a small tree on this machine (files with known modes
// and owners, symlinks of every kind, a named pipe, an unreadable file and
// directory) and checks each Target method against it. The implementation
// under test says where that tree appears on its target:
//
//	targettest.Run(t, func(t *testing.T) targettest.Env {
//		dir := t.TempDir()
//		return targettest.Env{Target: target.NewLocal(), Dir: dir, Prefix: dir,
//			Privileged: os.Geteuid() == 0}
//	})
package targettest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plumbhq/plumb/target"
)

// Env is a target under test and where the suite's tree lives in it.
type Env struct {
	Target target.Target
	// Dir is the directory on this machine the suite fills with its tree.
	// It must exist and be empty.
	Dir string
	// Prefix is the target path at which Dir appears: Dir itself for the
	// local machine, "/srv/suite" when Dir is ROOT/srv/suite of a Root.
	Prefix string
	// Privileged says the target reads as a superuser: permission bits do
	// not stop it (the scanner runs as root, or logs in as root). The suite
	// then expects unreadable files to be read, not skipped.
	Privileged bool
}

// Run runs the conformance suite. setup is called once; the tree is built
// after it returns and is not modified by the checks.
func Run(t *testing.T, setup func(t *testing.T) Env) {
	t.Helper()
	env := setup(t)
	if env.Target == nil || env.Dir == "" || !strings.HasPrefix(env.Prefix, "/") {
		t.Fatalf("targettest: setup returned an incomplete Env: %+v", env)
	}
	s := &suite{Env: env}
	s.build(t)
	t.Run("Name", s.testName)
	t.Run("Facts", s.testFacts)
	t.Run("Stat", s.testStat)
	t.Run("Lstat", s.testLstat)
	t.Run("Readlink", s.testReadlink)
	t.Run("ReadFile", s.testReadFile)
	t.Run("ReadDir", s.testReadDir)
	t.Run("Walk", s.testWalk)
	t.Run("WalkControl", s.testWalkControl)
	t.Run("Glob", s.testGlob)
	t.Run("Run", s.testRun)
	t.Run("Concurrent", s.testConcurrent)
	t.Run("InvalidPaths", s.testInvalidPaths)
}

type suite struct {
	Env
}

// p is the target path of a tree-relative name.
func (s *suite) p(rel string) string {
	if rel == "" {
		return s.Prefix
	}
	if s.Prefix == "/" {
		return "/" + rel
	}
	return s.Prefix + "/" + rel
}

// host is the path on this machine of a tree-relative name.
func (s *suite) host(rel string) string { return filepath.Join(s.Dir, rel) }

// Sizes in the tree.
const (
	bigSize = 1000
	aConf   = "alpha\n"
	secret  = "top secret\n"
)

// build creates the tree. Modes are set with chmod after creation so the
// umask does not matter.
func (s *suite) build(t *testing.T) {
	t.Helper()
	files := []struct {
		rel  string
		mode fs.FileMode
		data string
	}{
		{"Zeta", 0o644, "upper case sorts first\n"},
		{"a.conf", 0o644, aConf},
		{"b.conf", 0o600, "bravo\n"},
		{"big", 0o644, strings.Repeat("x", bigSize)},
		{"dir/sub/deep.conf", 0o644, "deep\n"},
		{"dir/x.conf", 0o644, "x\n"},
		{"dir/y.txt", 0o644, "y\n"},
		{"dir-x", 0o644, "not a directory\n"},
		{"empty", 0o644, ""},
		{"exec", 0o755, "#!/bin/sh\n"},
		{"locked/inner", 0o644, "inner\n"},
		{"owned", 0o640, "owned\n"},
		{"secret", 0, secret},
		{"setuid", 0o755 | fs.ModeSetuid, ""},
		{"with space", 0o644, "space\n"},
	}
	for _, f := range files {
		h := s.host(f.rel)
		if err := os.MkdirAll(filepath.Dir(h), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(h, []byte(f.data), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(h, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Chmod(s.host("dir/sub"), 0o750))
	must(os.Mkdir(s.host("sticky"), 0o755))
	must(os.Chmod(s.host("sticky"), 0o777|fs.ModeSticky))
	must(os.Symlink("a.conf", s.host("link-rel")))
	must(os.Symlink(s.p("dir"), s.host("link-abs")))
	must(os.Symlink("nowhere", s.host("link-dangling")))
	must(os.Symlink("link-loop2", s.host("link-loop1")))
	must(os.Symlink("link-loop1", s.host("link-loop2")))
	must(syscall.Mkfifo(s.host("fifo"), 0o644))
	if os.Geteuid() == 0 {
		must(os.Chown(s.host("owned"), 1234, 5678))
	}
	must(os.Chmod(s.host("locked"), 0))
	t.Cleanup(func() { _ = os.Chmod(s.host("locked"), 0o755) }) // so TempDir can remove it
}

// walkOrder is the tree in depth-first lexical (bytewise) order. "dir-x"
// comes after everything under "dir": sorting full paths would put it
// first ('-' < '/'), a walk must not.
func (s *suite) walkOrder() []string {
	order := []string{
		"", "Zeta", "a.conf", "b.conf", "big",
		"dir", "dir/sub", "dir/sub/deep.conf", "dir/x.conf", "dir/y.txt",
		"dir-x", "empty", "exec", "fifo",
		"link-abs", "link-dangling", "link-loop1", "link-loop2", "link-rel",
		"locked", "locked/inner",
		"owned", "secret", "setuid", "sticky", "with space",
	}
	if !s.Privileged {
		order = slices.DeleteFunc(order, func(r string) bool { return r == "locked/inner" })
	}
	return order
}

func (s *suite) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// sameAsHost checks fi against what this machine's lstat says of the file.
func (s *suite) sameAsHost(t *testing.T, rel string, fi target.FileInfo, follow bool) {
	t.Helper()
	stat := os.Lstat
	if follow {
		stat = os.Stat
	}
	h, err := stat(s.host(rel))
	if err != nil {
		t.Fatalf("host stat %s: %v", rel, err)
	}
	st := h.Sys().(*syscall.Stat_t)
	if fi.Path != s.p(rel) {
		t.Errorf("%s: Path = %q, want %q", rel, fi.Path, s.p(rel))
	}
	if fi.Mode != h.Mode() {
		t.Errorf("%s: Mode = %v, want %v", rel, fi.Mode, h.Mode())
	}
	if fi.UID != st.Uid || fi.GID != st.Gid {
		t.Errorf("%s: owner = %d:%d, want %d:%d", rel, fi.UID, fi.GID, st.Uid, st.Gid)
	}
	if !fi.Mode.IsDir() && fi.Size != h.Size() {
		t.Errorf("%s: Size = %d, want %d", rel, fi.Size, h.Size())
	}
	if !fi.ModTime.Equal(h.ModTime()) {
		t.Errorf("%s: ModTime = %v, want %v", rel, fi.ModTime, h.ModTime())
	}
	if h.Mode()&fs.ModeSymlink != 0 && !follow {
		want, _ := os.Readlink(s.host(rel))
		if fi.Link != want {
			t.Errorf("%s: Link = %q, want %q", rel, fi.Link, want)
		}
	}
}

func (s *suite) testName(t *testing.T) {
	if s.Target.Name() == "" {
		t.Error("Name() is empty")
	}
}

func (s *suite) testFacts(t *testing.T) {
	f, err := s.Target.Facts(s.ctx(t))
	if err != nil {
		t.Fatalf("Facts: %v", err)
	}
	if f.Family == "" {
		t.Error("Facts.Family is empty")
	}
	if f.Technology != "" && f.Technology != target.Technology(f.Distro, f.Version, nil) &&
		!strings.HasPrefix(f.Technology, "rhel-") {
		t.Errorf("Facts.Technology %q does not follow from %q %q", f.Technology, f.Distro, f.Version)
	}
}

func (s *suite) testStat(t *testing.T) {
	ctx := s.ctx(t)
	for _, rel := range []string{"", "a.conf", "b.conf", "dir", "dir/sub", "owned", "secret", "setuid", "sticky", "with space", "fifo"} {
		fi, err := s.Target.Stat(ctx, s.p(rel))
		if err != nil {
			t.Errorf("Stat(%s): %v", rel, err)
			continue
		}
		s.sameAsHost(t, rel, fi, true)
	}
	// Through symlinks: the file pointed to, labelled with the path asked.
	for rel, to := range map[string]string{"link-rel": "a.conf", "link-abs": "dir", "link-abs/sub/deep.conf": "dir/sub/deep.conf"} {
		fi, err := s.Target.Stat(ctx, s.p(rel))
		if err != nil {
			t.Errorf("Stat(%s): %v", rel, err)
			continue
		}
		if fi.Path != s.p(rel) {
			t.Errorf("Stat(%s).Path = %q", rel, fi.Path)
		}
		fi.Path = s.p(to)
		s.sameAsHost(t, to, fi, false)
	}
	checks := []struct {
		name, path string
		mode       fs.FileMode
		wantErr    error // nil: success; errAny: any error
	}{
		{"regular", "a.conf", 0o644, nil},
		{"setuid", "setuid", 0o755 | fs.ModeSetuid, nil},
		{"sticky dir", "sticky", fs.ModeDir | fs.ModeSticky | 0o777, nil},
		{"relative symlink followed", "link-rel", 0o644, nil},
		{"absolute symlink followed", "link-abs", fs.ModeDir | 0o755, nil},
		{"symlink in the middle", "link-abs/x.conf", 0o644, nil},
		{"dot-dot after a directory", "dir/sub/../x.conf", 0o644, nil},
		{"dot-dot after a symlink", "link-abs/sub/../y.txt", 0o644, nil},
		{"trailing slash", "dir/", fs.ModeDir | 0o755, nil},
		{"missing", "missing", 0, fs.ErrNotExist},
		{"missing parent", "missing/x", 0, fs.ErrNotExist},
		{"dangling symlink", "link-dangling", 0, fs.ErrNotExist},
		{"symlink loop", "link-loop1", 0, errAny},
		{"file as a directory", "a.conf/x", 0, errAny},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			fi, err := s.Target.Stat(ctx, s.p(c.path))
			checkErr(t, "Stat "+c.path, err, c.wantErr)
			if err == nil && fi.Mode != c.mode {
				t.Errorf("Stat(%s).Mode = %v, want %v", c.path, fi.Mode, c.mode)
			}
		})
	}
	if os.Geteuid() == 0 {
		fi, err := s.Target.Stat(ctx, s.p("owned"))
		if err != nil || fi.UID != 1234 || fi.GID != 5678 {
			t.Errorf("Stat(owned) = %d:%d, %v; want 1234:5678", fi.UID, fi.GID, err)
		}
	}
}

// errAny stands for "some error" in checks.
var errAny = errors.New("any error")

func checkErr(t *testing.T, what string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s: unexpected error %v", what, err)
	case want == errAny && err == nil:
		t.Errorf("%s: no error, want one", what)
	case want != nil && want != errAny && !errors.Is(err, want):
		t.Errorf("%s: error %v, want %v", what, err, want)
	}
}

func (s *suite) testLstat(t *testing.T) {
	ctx := s.ctx(t)
	for _, rel := range []string{"a.conf", "link-rel", "link-abs", "link-dangling", "link-loop1", "fifo", "dir"} {
		fi, err := s.Target.Lstat(ctx, s.p(rel))
		if err != nil {
			t.Errorf("Lstat(%s): %v", rel, err)
			continue
		}
		s.sameAsHost(t, rel, fi, false)
	}
	fi, err := s.Target.Lstat(ctx, s.p("link-abs"))
	if err != nil || fi.Mode&fs.ModeSymlink == 0 || fi.Link != s.p("dir") {
		t.Errorf("Lstat(link-abs) = %v %q, %v; want a symlink to %s", fi.Mode, fi.Link, err, s.p("dir"))
	}
	// Intermediate symlinks are followed, the final one is not.
	fi, err = s.Target.Lstat(ctx, s.p("link-abs/x.conf"))
	if err != nil || !fi.Mode.IsRegular() {
		t.Errorf("Lstat(link-abs/x.conf) = %v, %v; want a regular file", fi.Mode, err)
	}
	if _, err := s.Target.Lstat(ctx, s.p("missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Lstat(missing): %v, want fs.ErrNotExist", err)
	}
}

func (s *suite) testReadlink(t *testing.T) {
	ctx := s.ctx(t)
	for rel, want := range map[string]string{
		"link-rel": "a.conf", "link-abs": s.p("dir"), "link-dangling": "nowhere", "link-loop1": "link-loop2",
	} {
		got, err := s.Target.Readlink(ctx, s.p(rel))
		if err != nil || got != want {
			t.Errorf("Readlink(%s) = %q, %v; want %q", rel, got, err, want)
		}
	}
	if _, err := s.Target.Readlink(ctx, s.p("a.conf")); err == nil {
		t.Error("Readlink(a.conf): no error for a regular file")
	}
	if _, err := s.Target.Readlink(ctx, s.p("missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Readlink(missing): %v, want fs.ErrNotExist", err)
	}
}

func (s *suite) testReadFile(t *testing.T) {
	ctx := s.ctx(t)
	checks := []struct {
		name, path string
		limit      int64
		want       string
		wantErr    error
	}{
		{"small", "a.conf", 100, aConf, nil},
		{"exactly the limit", "a.conf", int64(len(aConf)), aConf, nil},
		{"one past the limit", "a.conf", int64(len(aConf)) - 1, "", target.ErrTooLarge},
		{"big at limit", "big", bigSize, strings.Repeat("x", bigSize), nil},
		{"big past limit", "big", bigSize - 1, "", target.ErrTooLarge},
		{"empty", "empty", 10, "", nil},
		{"through a relative symlink", "link-rel", 100, aConf, nil},
		{"through a symlinked directory", "link-abs/x.conf", 100, "x\n", nil},
		{"name with a space", "with space", 100, "space\n", nil},
		{"missing", "missing", 100, "", fs.ErrNotExist},
		{"dangling symlink", "link-dangling", 100, "", fs.ErrNotExist},
		{"directory", "dir", 100, "", errAny},
		{"named pipe", "fifo", 100, "", errAny},
	}
	if s.Privileged {
		checks = append(checks, struct {
			name, path string
			limit      int64
			want       string
			wantErr    error
		}{"mode 0000 read as superuser", "secret", 100, secret, nil})
	} else {
		checks = append(checks, struct {
			name, path string
			limit      int64
			want       string
			wantErr    error
		}{"mode 0000 denied", "secret", 100, "", fs.ErrPermission})
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			var (
				b    []byte
				err  error
				done = make(chan struct{})
			)
			go func() {
				defer close(done)
				b, err = s.Target.ReadFile(ctx, s.p(c.path), c.limit)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("ReadFile(%s) hangs", c.path)
			}
			checkErr(t, "ReadFile "+c.path, err, c.wantErr)
			if err == nil && string(b) != c.want {
				t.Errorf("ReadFile(%s) = %q, want %q", c.path, b, c.want)
			}
		})
	}
}

func names(fis []target.FileInfo) []string {
	var out []string
	for _, fi := range fis {
		out = append(out, filepath.Base(fi.Path))
	}
	return out
}

func (s *suite) testReadDir(t *testing.T) {
	ctx := s.ctx(t)
	fis, err := s.Target.ReadDir(ctx, s.p(""))
	if err != nil {
		t.Fatalf("ReadDir: %v", err)
	}
	var want []string
	for _, r := range s.walkOrder()[1:] {
		if !strings.Contains(r, "/") {
			want = append(want, r)
		}
	}
	if got := names(fis); !slices.Equal(got, want) {
		t.Errorf("ReadDir names = %q\nwant %q", got, want)
	}
	for _, fi := range fis {
		s.sameAsHost(t, strings.TrimPrefix(strings.TrimPrefix(fi.Path, s.Prefix), "/"), fi, false)
	}
	fis, err = s.Target.ReadDir(ctx, s.p("link-abs"))
	if err != nil {
		t.Fatalf("ReadDir(link-abs): %v", err)
	}
	if got := names(fis); !slices.Equal(got, []string{"sub", "x.conf", "y.txt"}) {
		t.Errorf("ReadDir(link-abs) = %q", got)
	}
	if len(fis) > 0 && fis[0].Path != s.p("link-abs/sub") {
		t.Errorf("ReadDir(link-abs)[0].Path = %q, want it under the path asked for", fis[0].Path)
	}
	if len(fis) > 0 && !fis[0].Mode.IsDir() {
		t.Errorf("ReadDir(link-abs)[0] is not a directory: %v", fis[0].Mode)
	}
	if _, err := s.Target.ReadDir(ctx, s.p("missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadDir(missing): %v, want fs.ErrNotExist", err)
	}
	if _, err := s.Target.ReadDir(ctx, s.p("a.conf")); err == nil {
		t.Error("ReadDir(a.conf): no error for a file")
	}
	fis, err = s.Target.ReadDir(ctx, s.p("locked"))
	if s.Privileged {
		if err != nil || !slices.Equal(names(fis), []string{"inner"}) {
			t.Errorf("ReadDir(locked) as superuser = %q, %v; want [inner]", names(fis), err)
		}
	} else if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("ReadDir(locked): %v, want fs.ErrPermission", err)
	}
}

// walk runs a walk and returns the tree-relative paths visited.
func (s *suite) walk(t *testing.T, opts target.WalkOptions, fn target.WalkFunc) ([]string, []string, error) {
	t.Helper()
	var got, errPaths []string
	opts.OnError = func(p string, err error) {
		if err == nil {
			t.Errorf("OnError(%s, nil)", p)
		}
		errPaths = append(errPaths, p)
	}
	err := s.Target.Walk(s.ctx(t), opts, func(fi target.FileInfo) error {
		rel := strings.TrimPrefix(strings.TrimPrefix(fi.Path, s.Prefix), "/")
		if fi.Path != s.p(rel) {
			t.Errorf("walk reported %q, outside %q", fi.Path, s.Prefix)
		}
		got = append(got, rel)
		if fn != nil {
			return fn(fi)
		}
		return nil
	})
	return got, errPaths, err
}

func (s *suite) testWalk(t *testing.T) {
	var infos []target.FileInfo
	got, errPaths, err := s.walk(t, target.WalkOptions{Roots: []string{s.p("")}}, func(fi target.FileInfo) error {
		infos = append(infos, fi)
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	if want := s.walkOrder(); !slices.Equal(got, want) {
		t.Errorf("Walk order:\n got %q\nwant %q", got, want)
	}
	for _, fi := range infos {
		s.sameAsHost(t, strings.TrimPrefix(strings.TrimPrefix(fi.Path, s.Prefix), "/"), fi, false)
	}
	if s.Privileged {
		if len(errPaths) != 0 {
			t.Errorf("Walk as superuser reported errors for %q", errPaths)
		}
	} else if !slices.Equal(errPaths, []string{s.p("locked")}) {
		t.Errorf("Walk OnError paths = %q, want [%s]", errPaths, s.p("locked"))
	}
}

func (s *suite) testWalkControl(t *testing.T) {
	full := s.walkOrder()
	without := func(drop func(string) bool) []string {
		return slices.DeleteFunc(slices.Clone(full), drop)
	}
	upTo := func(last string) []string { return full[:slices.Index(full, last)+1] }
	stop := errors.New("stop")
	checks := []struct {
		name    string
		opts    target.WalkOptions
		fn      target.WalkFunc
		want    []string
		wantErr error
	}{
		{
			name: "exclude a directory",
			opts: target.WalkOptions{Roots: []string{s.p("")}, Exclude: []string{s.p("dir")}},
			want: without(func(r string) bool { return r == "dir" || strings.HasPrefix(r, "dir/") }),
		},
		{
			name: "exclude a nested directory and a file",
			opts: target.WalkOptions{Roots: []string{s.p("")}, Exclude: []string{s.p("dir/sub/"), s.p("big")}},
			want: without(func(r string) bool { return r == "big" || strings.HasPrefix(r, "dir/sub") }),
		},
		{
			name: "excluded root",
			opts: target.WalkOptions{Roots: []string{s.p("dir/sub")}, Exclude: []string{s.p("dir")}},
		},
		{
			name: "SkipDir on a directory",
			opts: target.WalkOptions{Roots: []string{s.p("")}},
			fn: func(fi target.FileInfo) error {
				if fi.Path == s.p("dir") {
					return fs.SkipDir
				}
				return nil
			},
			want: without(func(r string) bool { return strings.HasPrefix(r, "dir/") }),
		},
		{
			name: "SkipDir on a file skips the rest of its directory",
			opts: target.WalkOptions{Roots: []string{s.p("")}},
			fn: func(fi target.FileInfo) error {
				if fi.Path == s.p("dir/sub/deep.conf") {
					return fs.SkipDir
				}
				return nil
			},
			want: full,
		},
		{
			name: "SkipDir on a file at the top ends the root",
			opts: target.WalkOptions{Roots: []string{s.p("")}},
			fn: func(fi target.FileInfo) error {
				if fi.Path == s.p("b.conf") {
					return fs.SkipDir
				}
				return nil
			},
			want: upTo("b.conf"),
		},
		{
			name: "SkipAll",
			opts: target.WalkOptions{Roots: []string{s.p("")}},
			fn: func(fi target.FileInfo) error {
				if fi.Path == s.p("dir/x.conf") {
					return fs.SkipAll
				}
				return nil
			},
			want: upTo("dir/x.conf"),
		},
		{
			name: "error from fn stops the walk",
			opts: target.WalkOptions{Roots: []string{s.p("")}},
			fn: func(fi target.FileInfo) error {
				if fi.Path == s.p("dir/sub") {
					return stop
				}
				return nil
			},
			want:    upTo("dir/sub"),
			wantErr: stop,
		},
		{
			name: "overlapping roots visit each entry once, in order",
			opts: target.WalkOptions{Roots: []string{s.p("dir-x"), s.p("dir/sub"), s.p("dir"), s.p("dir/")}},
			want: []string{"dir", "dir/sub", "dir/sub/deep.conf", "dir/x.conf", "dir/y.txt", "dir-x"},
		},
		{
			name: "a symlink root is not followed",
			opts: target.WalkOptions{Roots: []string{s.p("link-abs")}},
			want: []string{"link-abs"},
		},
		{
			name: "a root under a symlinked directory",
			opts: target.WalkOptions{Roots: []string{s.p("link-abs/sub")}},
			want: []string{"link-abs/sub", "link-abs/sub/deep.conf"},
		},
		{
			name: "a missing root",
			opts: target.WalkOptions{Roots: []string{s.p("missing")}},
		},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			got, _, err := s.walk(t, c.opts, c.fn)
			checkErr(t, "Walk", err, c.wantErr)
			if !slices.Equal(got, c.want) {
				t.Errorf("Walk visited:\n got %q\nwant %q", got, c.want)
			}
		})
	}
	t.Run("SkipDir on a file deep down", func(t *testing.T) {
		// After dir/sub/deep.conf returns SkipDir, nothing else in dir/sub
		// (there is nothing else) is visited, and dir/x.conf still is.
		got, _, _ := s.walk(t, target.WalkOptions{Roots: []string{s.p("dir")}}, func(fi target.FileInfo) error {
			if fi.Path == s.p("dir/sub") {
				return nil
			}
			if fi.Path == s.p("dir/x.conf") {
				return fs.SkipDir
			}
			return nil
		})
		if want := []string{"dir", "dir/sub", "dir/sub/deep.conf", "dir/x.conf"}; !slices.Equal(got, want) {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := s.Target.Walk(ctx, target.WalkOptions{Roots: []string{s.p("")}}, func(target.FileInfo) error { return nil })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Walk with a cancelled context: %v, want context.Canceled", err)
		}
	})
}

func (s *suite) testGlob(t *testing.T) {
	ctx := s.ctx(t)
	checks := []struct {
		pattern string
		want    []string
		wantErr bool
	}{
		{"*.conf", []string{"a.conf", "b.conf"}, false},
		{"e*", []string{"empty", "exec"}, false},
		{"dir/*/*.conf", []string{"dir/sub/deep.conf"}, false},
		{"d*/*.conf", []string{"dir/x.conf"}, false}, // dir-x is a file: no match under it
		{"dir/x.conf", []string{"dir/x.conf"}, false},
		{"dir/nothing.conf", nil, false},
		{"missing/*", nil, false},
		{"link-abs/*.txt", []string{"link-abs/y.txt"}, false},
		{"link-?el", []string{"link-rel"}, false},
		{"[ab].conf", []string{"a.conf", "b.conf"}, false},
		{"with*", []string{"with space"}, false},
		{"[", nil, true},
	}
	for _, c := range checks {
		got, err := target.Glob(ctx, s.Target, s.p(c.pattern))
		if (err != nil) != c.wantErr {
			t.Errorf("Glob(%s): error %v, want error %v", c.pattern, err, c.wantErr)
			continue
		}
		var want []string
		for _, w := range c.want {
			want = append(want, s.p(w))
		}
		if !slices.Equal(got, want) {
			t.Errorf("Glob(%s) = %q, want %q", c.pattern, got, want)
		}
	}
}

func (s *suite) testRun(t *testing.T) {
	ctx := s.ctx(t)
	facts, _ := s.Target.Facts(ctx)
	res, err := s.Target.Run(ctx, []string{"/bin/echo", "hello", "$HOME", "a b"}, 1024)
	if errors.Is(err, target.ErrNotSupported) {
		if facts.Live {
			t.Errorf("Run is not supported but Facts.Live is true")
		}
		return
	}
	if err != nil {
		t.Fatalf("Run(echo): %v", err)
	}
	if string(res.Stdout) != "hello $HOME a b\n" || res.Exit != 0 {
		t.Errorf("Run(echo) = %q exit %d", res.Stdout, res.Exit)
	}
	res, err = s.Target.Run(ctx, []string{"/bin/sh", "-c", "echo err >&2; exit 3"}, 1024)
	if err != nil || res.Exit != 3 || string(res.Stderr) != "err\n" {
		t.Errorf("Run(exit 3) = exit %d stderr %q, %v; want exit 3, no error", res.Exit, res.Stderr, err)
	}
	if _, err := s.Target.Run(ctx, nil, 1024); err == nil {
		t.Error("Run(nil): no error")
	}
	if _, err := s.Target.Run(ctx, []string{"/nonexistent/command"}, 1024); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Run(missing command): %v, want fs.ErrNotExist", err)
	}
}

// testConcurrent uses one target from several goroutines (run with -race).
func (s *suite) testConcurrent(t *testing.T) {
	ctx := s.ctx(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 4 {
			case 0:
				if b, err := s.Target.ReadFile(ctx, s.p("a.conf"), 100); err != nil || string(b) != aConf {
					errs <- fmt.Errorf("concurrent ReadFile: %q, %v", b, err)
				}
			case 1:
				if _, err := s.Target.Stat(ctx, s.p("link-abs/sub/deep.conf")); err != nil {
					errs <- fmt.Errorf("concurrent Stat: %v", err)
				}
			case 2:
				n := 0
				err := s.Target.Walk(ctx, target.WalkOptions{Roots: []string{s.p("")}}, func(target.FileInfo) error { n++; return nil })
				if err != nil || n != len(s.walkOrder()) {
					errs <- fmt.Errorf("concurrent Walk: %d entries, %v", n, err)
				}
			case 3:
				if _, err := target.Glob(ctx, s.Target, s.p("dir/*")); err != nil {
					errs <- fmt.Errorf("concurrent Glob: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func (s *suite) testInvalidPaths(t *testing.T) {
	ctx := s.ctx(t)
	for _, p := range []string{"", "relative/path", "a.conf"} {
		if _, err := s.Target.Stat(ctx, p); err == nil {
			t.Errorf("Stat(%q): no error for a relative path", p)
		}
		if _, err := s.Target.ReadFile(ctx, p, 100); err == nil {
			t.Errorf("ReadFile(%q): no error for a relative path", p)
		}
		if _, err := s.Target.ReadDir(ctx, p); err == nil {
			t.Errorf("ReadDir(%q): no error for a relative path", p)
		}
		if _, err := target.Glob(ctx, s.Target, p); err == nil {
			t.Errorf("Glob(%q): no error for a relative pattern", p)
		}
	}
	if _, err := s.Target.Stat(ctx, s.p("a.conf\x00x")); err == nil {
		t.Error("Stat with a NUL byte: no error")
	}
}
