package target_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/plumbhq/plumb/target"
)

const hostSecret = "HOST SECRET - must never be read through a Root"

// confinedRoot builds a root file system full of hostile symlinks next to
// a sentinel directory on the host. It returns the root, the root
// directory and the sentinel directory (an absolute host path).
func confinedRoot(t *testing.T) (*target.Root, string, string) {
	t.Helper()
	base := t.TempDir()
	outside := filepath.Join(base, "outside")
	dir := filepath.Join(base, "img", "rootfs")
	write := func(p, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(to, at string) {
		t.Helper()
		p := filepath.Join(dir, at)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(to, p); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(outside, "sentinel"), hostSecret)
	write(filepath.Join(outside, "etc", "shadow"), hostSecret)
	write(filepath.Join(base, "img", "etc", "shadow"), hostSecret) // just above the root
	write(filepath.Join(dir, "etc", "shadow"), "inside shadow\n")
	write(filepath.Join(dir, "etc", "passwd"), "inside passwd\n")
	write(filepath.Join(dir, "d3", "file"), "end of chain\n")
	up := strings.Repeat("../", 12)
	link("/etc/shadow", "abs-shadow")
	link(filepath.Join(outside, "sentinel"), "abs-sentinel")
	link(outside, "abs-outside-dir")
	link(up+"etc/shadow", "rel-escape")
	link(up+strings.TrimPrefix(outside, "/")+"/sentinel", "rel-sentinel")
	link("../etc/shadow", "etc/parent-escape") // from /etc: ../etc/shadow
	link("../../etc/shadow", "etc/ssh/deep-escape")
	link("..", "dotdot")
	link("../..", "etc/upup")
	link("/etc", "mid")
	link("d2", "d1")
	link("/d3", "d2")
	link("loop", "loop")
	link("lb", "la")
	link("la", "lb")
	link("/", "self")
	link("self/self/self/etc/shadow", "selfish")
	// A chain of exactly 40 links resolves; 41 is a loop (ELOOP).
	for i := 1; i <= 41; i++ {
		link("c"+itoa(i-1), "c"+itoa(i))
	}
	write(filepath.Join(dir, "c0"), "chain end\n")
	r, err := target.NewRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, dir, outside
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestRootConfinement(t *testing.T) {
	r, _, outside := confinedRoot(t)
	ctx := context.Background()
	outRel := strings.TrimPrefix(outside, "/")
	tests := []struct {
		name    string
		path    string
		want    string // content; "" with wantErr
		wantErr error
	}{
		{"absolute symlink to /etc/shadow", "/abs-shadow", "inside shadow\n", nil},
		{"absolute symlink to a host file", "/abs-sentinel", "", fs.ErrNotExist},
		{"through an absolute symlink to a host directory", "/abs-outside-dir/sentinel", "", fs.ErrNotExist},
		{"relative ../../.. escape", "/rel-escape", "inside shadow\n", nil},
		{"relative escape towards a host file", "/rel-sentinel", "", fs.ErrNotExist},
		{"relative link from a subdirectory", "/etc/parent-escape", "inside shadow\n", nil},
		{"relative link two levels up", "/etc/ssh/deep-escape", "inside shadow\n", nil},
		{"symlink to .. at the top", "/dotdot/etc/shadow", "inside shadow\n", nil},
		{"symlink to ../.. in the middle", "/etc/upup/etc/shadow", "inside shadow\n", nil},
		{"symlink in the middle of a path", "/mid/shadow", "inside shadow\n", nil},
		{"symlinked directory chain", "/d1/file", "end of chain\n", nil},
		{"symlink to / repeated", "/selfish", "inside shadow\n", nil},
		{"dot-dot in the request", "/../../../../etc/shadow", "inside shadow\n", nil},
		{"dot-dot after a directory in the request", "/etc/../../../" + outRel + "/sentinel", "", fs.ErrNotExist},
		{"dot-dot through a symlink", "/mid/../../etc/passwd", "inside passwd\n", nil},
		{"40 links resolve", "/c40", "chain end\n", nil},
		{"41 links are a loop", "/c41", "", syscall.ELOOP},
		{"self loop", "/loop", "", syscall.ELOOP},
		{"two-link loop", "/la", "", syscall.ELOOP},
		{"loop in the middle", "/la/x", "", syscall.ELOOP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := r.ReadFile(ctx, tt.path, 1<<20)
			if strings.Contains(string(b), "HOST SECRET") {
				t.Fatalf("ReadFile(%s) read the host's file", tt.path)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("ReadFile(%s) = %q, %v; want %v", tt.path, b, err, tt.wantErr)
				}
			} else if err != nil || string(b) != tt.want {
				t.Errorf("ReadFile(%s) = %q, %v; want %q", tt.path, b, err, tt.want)
			}
			// Stat agrees with ReadFile, and never describes a host file.
			fi, serr := r.Stat(ctx, tt.path)
			if (serr == nil) != (tt.wantErr == nil) {
				t.Errorf("Stat(%s): %v, ReadFile: %v", tt.path, serr, err)
			}
			if serr == nil && fi.Size != int64(len(tt.want)) {
				t.Errorf("Stat(%s).Size = %d, want %d", tt.path, fi.Size, len(tt.want))
			}
		})
	}

	// Directories: listing through links to the host lists nothing of it.
	if _, err := r.ReadDir(ctx, "/abs-outside-dir"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadDir(/abs-outside-dir): %v, want fs.ErrNotExist", err)
	}
	fis, err := r.ReadDir(ctx, "/dotdot")
	if err != nil || len(fis) == 0 || fis[0].Path != "/dotdot/abs-outside-dir" {
		t.Errorf("ReadDir(/dotdot) = %v, %v; want the root's own listing", fis, err)
	}
	if m, err := target.Glob(ctx, r, "/abs-outside-dir/*"); err != nil || len(m) != 0 {
		t.Errorf("Glob(/abs-outside-dir/*) = %q, %v", m, err)
	}
	if m, err := target.Glob(ctx, r, "/*/shadow"); err != nil || strings.Join(m, " ") != "/etc/shadow /mid/shadow" {
		t.Errorf("Glob(/*/shadow) = %q, %v", m, err)
	}
	// Lstat and Readlink see the links themselves, text as stored.
	fi, err := r.Lstat(ctx, "/abs-shadow")
	if err != nil || fi.Mode&fs.ModeSymlink == 0 || fi.Link != "/etc/shadow" {
		t.Errorf("Lstat(/abs-shadow) = %+v, %v", fi, err)
	}
	if s, err := r.Readlink(ctx, "/abs-sentinel"); err != nil || s != filepath.Join(outside, "sentinel") {
		t.Errorf("Readlink(/abs-sentinel) = %q, %v", s, err)
	}
	// Walk never leaves the root and never follows a link.
	n := 0
	err = r.Walk(ctx, target.WalkOptions{}, func(fi target.FileInfo) error {
		n++
		if strings.Contains(fi.Path, "sentinel") && fi.Mode&fs.ModeSymlink == 0 {
			t.Errorf("Walk reached %s (%v)", fi.Path, fi.Mode)
		}
		if fi.Path == "/etc/shadow" && fi.Size != int64(len("inside shadow\n")) {
			t.Errorf("Walk /etc/shadow size %d", fi.Size)
		}
		return nil
	})
	if err != nil || n < 50 {
		t.Errorf("Walk: %d entries, %v", n, err)
	}
	var got []string
	err = r.Walk(ctx, target.WalkOptions{Roots: []string{"/abs-outside-dir", "/dotdot"}}, func(fi target.FileInfo) error {
		got = append(got, fi.Path)
		return nil
	})
	if err != nil || strings.Join(got, " ") != "/abs-outside-dir /dotdot" {
		t.Errorf("Walk of link roots = %q, %v; want the links only", got, err)
	}
}

func TestRootDeviceNodesNeverOpened(t *testing.T) {
	base := t.TempDir()
	if err := os.Mkdir(filepath.Join(base, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(base, "dev"), 0o755); err != nil {
		t.Fatal(err)
	}
	special := filepath.Join(base, "dev", "zero")
	if os.Geteuid() == 0 {
		// The image's /dev/zero is this machine's /dev/zero when opened.
		if err := syscall.Mknod(special, syscall.S_IFCHR|0o666, 1<<8|5); err != nil {
			t.Fatal(err)
		}
	} else if err := syscall.Mkfifo(special, 0o666); err != nil { // a pipe would block
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(base, "etc", "conf")); err != nil {
		t.Fatal(err)
	}
	r, err := target.NewRoot(base)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, p := range []string{"/dev/zero", "/etc/conf"} {
		if _, err := r.ReadFile(context.Background(), p, 100); !errors.Is(err, target.ErrNotSupported) {
			t.Errorf("ReadFile(%s): %v, want ErrNotSupported", p, err)
		}
	}
	fi, err := r.Stat(context.Background(), "/etc/conf")
	if err != nil || fi.Mode.IsRegular() || fi.Mode&(fs.ModeDevice|fs.ModeNamedPipe) == 0 {
		t.Errorf("Stat(/etc/conf) = %v, %v; want the special file's mode", fi.Mode, err)
	}
}

func TestNewRootErrors(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	noEtc := filepath.Join(base, "noetc")
	etcFile := filepath.Join(base, "etcfile")
	for _, d := range []string{noEtc, etcFile} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(etcFile, "etc"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dir, want string
	}{
		{filepath.Join(base, "missing"), "no such file or directory"},
		{file, "not a directory"},
		{noEtc, noEtc + " does not look like a root file system: no etc/ directory"},
		{etcFile, "no etc/ directory"},
	}
	for _, tt := range tests {
		r, err := target.NewRoot(tt.dir)
		if err == nil {
			r.Close()
			t.Errorf("NewRoot(%s): no error", tt.dir)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewRoot(%s): %v, want %q", tt.dir, err, tt.want)
		}
	}
}

func TestRootNameRunFacts(t *testing.T) {
	base := t.TempDir()
	write := func(rel, data string) {
		p := filepath.Join(base, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("usr/lib/os-release", "NAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\n")
	write("etc/hostname", "img-host\n")
	// An absolute link, as in real images: it must resolve in the root.
	if err := os.Symlink("/usr/lib/os-release", filepath.Join(base, "etc", "os-release")); err != nil {
		t.Fatal(err)
	}
	sh, err := os.ReadFile("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	write("bin/sh", string(sh[:64]))
	rel, err := filepath.Rel(mustGetwd(t), base)
	if err != nil {
		t.Fatal(err)
	}
	r, err := target.NewRoot(rel)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Name() != "root:"+base {
		t.Errorf("Name() = %q, want root:%s", r.Name(), base)
	}
	f, err := r.Facts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := target.Facts{Hostname: "img-host", Family: "linux", Distro: "ubuntu", Version: "22.04",
		Name: "Ubuntu 22.04.4 LTS", Technology: "ubuntu-22.04", Arch: runtime.GOARCH}
	if f != want {
		t.Errorf("Facts =\n %+v\nwant\n %+v", f, want)
	}
	marker := filepath.Join(base, "ran")
	_, err = r.Run(context.Background(), []string{"/bin/touch", marker}, 100)
	if !errors.Is(err, target.ErrNotSupported) {
		t.Errorf("Run: %v, want ErrNotSupported", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("Run executed something")
	}
}

func mustGetwd(t *testing.T) string {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}
