package target

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Root is an unpacked root file system on this machine: a debootstrap
// tree, an extracted container image, a mounted disk image. It is
// untrusted data. Nothing in it is ever executed, no device node, pipe or
// socket in it is ever opened, and no path ever leaves it: target paths
// are resolved chroot-style (absolute symlinks re-rooted at the directory,
// ".." stopping at its top) and then opened through an *os.Root, which
// the kernel-level openat walk keeps inside the directory even if the
// tree changes under the scan.
type Root struct {
	dir  string
	root *os.Root
}

var _ Target = (*Root)(nil)

// NewRoot opens dir as a root file system. It must be a directory with an
// etc/ directory: scanning something else would report every control as
// failing, which is worse than refusing.
func NewRoot(dir string) (*Root, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("root file system %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("root file system: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("root file system %s: not a directory", dir)
	}
	osr, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("root file system: %w", err)
	}
	r := &Root{dir: abs, root: osr}
	if st, err := r.Stat(context.Background(), "/etc"); err != nil || !st.Mode.IsDir() {
		osr.Close()
		return nil, fmt.Errorf("%s does not look like a root file system: no etc/ directory", dir)
	}
	return r, nil
}

// Name is "root:" and the absolute directory.
func (r *Root) Name() string { return "root:" + r.dir }

// Dir is the host directory holding the root file system.
func (r *Root) Dir() string { return r.dir }

// Close releases the directory handle.
func (r *Root) Close() error { return r.root.Close() }

// Facts reads os-release and etc/hostname from the tree. Live is false:
// there is no running kernel, so Kernel is empty. Arch comes from the ELF
// header of the tree's /bin/sh, when there is one.
func (r *Root) Facts(ctx context.Context) (Facts, error) {
	kv, err := ReadOSRelease(ctx, r)
	f := OSReleaseFacts(kv)
	f.Family = "linux"
	f.Live = false
	if b, herr := r.ReadFile(ctx, "/etc/hostname", 4096); herr == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f.Hostname = strings.TrimSpace(line)
	}
	for _, p := range []string{"/bin/sh", "/usr/bin/sh", "/bin/busybox"} {
		if a := r.elfArch(p); a != "" {
			f.Arch = a
			break
		}
	}
	return f, err
}

// elfArch reads the machine field of an ELF header, in GOARCH spelling.
func (r *Root) elfArch(p string) string {
	f, _, err := r.openRegular("open", p)
	if err != nil {
		return ""
	}
	defer f.Close()
	var h [20]byte
	if _, err := io.ReadFull(f, h[:]); err != nil || string(h[:4]) != "\x7fELF" {
		return ""
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if h[5] == 2 {
		bo = binary.BigEndian
	}
	is64 := h[4] == 2
	switch bo.Uint16(h[18:20]) {
	case 0x3e:
		return "amd64"
	case 0xb7:
		return "arm64"
	case 0x03:
		return "386"
	case 0x28:
		return "arm"
	case 0xf3:
		if is64 {
			return "riscv64"
		}
	case 0x15:
		if h[5] == 1 {
			return "ppc64le"
		}
		return "ppc64"
	case 0x16:
		return "s390x"
	case 0x102:
		return "loong64"
	}
	return ""
}

// resolve maps target path p to a path relative to the root directory,
// as chroot(2) would: component by component with lstat, expanding
// symlinks (absolute targets from the top of the root, relative ones from
// the link's directory), ".." never above the top, at most maxSymlinks
// expansions. The final component is followed only when follow is set
// (or the path ends in a slash). The result names no symlink but perhaps
// the final component, so *os.Root never needs to follow one.
func (r *Root) resolve(op, p string, follow bool) (string, error) {
	if _, err := checkPath(op, p); err != nil {
		return "", err
	}
	todo := strings.Split(p, "/")
	var stack []string
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		last := len(todo) == 0
		cand := strings.Join(append(stack, c), "/")
		if last && !follow {
			stack = append(stack, c)
			break
		}
		fi, err := r.root.Lstat(cand)
		if err != nil {
			return "", rootErr(op, p, err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			if !last && !fi.IsDir() {
				return "", &fs.PathError{Op: op, Path: p, Err: syscall.ENOTDIR}
			}
			stack = append(stack, c)
			continue
		}
		links++
		if links > maxSymlinks {
			return "", &fs.PathError{Op: op, Path: p, Err: syscall.ELOOP}
		}
		link, err := r.root.Readlink(cand)
		if err != nil {
			return "", rootErr(op, p, err)
		}
		if link == "" {
			return "", &fs.PathError{Op: op, Path: p, Err: syscall.ENOENT}
		}
		if link[0] == '/' {
			stack = stack[:0]
		}
		todo = append(strings.Split(link, "/"), todo...)
	}
	if len(stack) == 0 {
		return ".", nil
	}
	return strings.Join(stack, "/"), nil
}

// Stat follows symlinks, inside the root.
func (r *Root) Stat(ctx context.Context, p string) (FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return FileInfo{}, err
	}
	rel, err := r.resolve("stat", p, true)
	if err != nil {
		return FileInfo{}, err
	}
	fi, err := r.root.Lstat(rel)
	if err != nil {
		return FileInfo{}, rootErr("stat", p, err)
	}
	label, _ := checkPath("stat", p)
	return fileInfo(label, fi), nil
}

// Lstat does not follow a final symlink, and fills Link for one.
func (r *Root) Lstat(ctx context.Context, p string) (FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return FileInfo{}, err
	}
	rel, err := r.resolve("lstat", p, false)
	if err != nil {
		return FileInfo{}, err
	}
	fi, err := r.root.Lstat(rel)
	if err != nil {
		return FileInfo{}, rootErr("lstat", p, err)
	}
	label, _ := checkPath("lstat", p)
	out := fileInfo(label, fi)
	if out.Mode&fs.ModeSymlink != 0 {
		if out.Link, err = r.root.Readlink(rel); err != nil {
			return FileInfo{}, rootErr("readlink", p, err)
		}
	}
	return out, nil
}

// Readlink returns the link text as stored: an absolute target means a
// path inside the root, not on this machine.
func (r *Root) Readlink(ctx context.Context, p string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	rel, err := r.resolve("readlink", p, false)
	if err != nil {
		return "", err
	}
	s, err := r.root.Readlink(rel)
	return s, rootErr("readlink", p, err)
}

// errNotRegular refuses device nodes, pipes and sockets in a root: a
// device node in an image opens this machine's device.
var errNotRegular = fmt.Errorf("not a regular file (devices, pipes and sockets in a root file system are never opened): %w", ErrNotSupported)

// openRegular opens the regular file at target path p, refusing anything
// else before opening it (and checking again after, against a swap).
func (r *Root) openRegular(op, p string) (*os.File, fs.FileInfo, error) {
	rel, err := r.resolve(op, p, true)
	if err != nil {
		return nil, nil, err
	}
	fi, err := r.root.Lstat(rel)
	if err != nil {
		return nil, nil, rootErr(op, p, err)
	}
	if fi.IsDir() {
		return nil, nil, &fs.PathError{Op: "read", Path: p, Err: syscall.EISDIR}
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, &fs.PathError{Op: op, Path: p, Err: errNotRegular}
	}
	f, err := r.root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, rootErr(op, p, err)
	}
	fi, err = f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = errNotRegular
		}
		return nil, nil, rootErr(op, p, err)
	}
	return f, fi, nil
}

// ReadFile reads at most limit bytes (limit <= 0 means MaxFileSize) of a
// regular file; a longer file is ErrTooLarge. Anything else but a
// directory (device, pipe, socket) is refused with ErrNotSupported.
func (r *Root) ReadFile(ctx context.Context, p string, limit int64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, fi, err := r.openRegular("open", p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f, p, effectiveLimit(limit), fi.Size())
}

// ReadDir lists a directory sorted by name, entries lstat'ed.
func (r *Root) ReadDir(ctx context.Context, p string) ([]FileInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rel, err := r.resolve("readdir", p, true)
	if err != nil {
		return nil, err
	}
	label, _ := checkPath("readdir", p)
	return listingInfos(r.list(entry{fi: FileInfo{Path: label}, host: rel}))
}

// list reads directory e.host, relative to the root and free of symlinks
// (but for races, which *os.Root contains). Entries are lstat'ed relative
// to the opened directory, one component at a time, never followed.
func (r *Root) list(e entry) listing {
	f, err := r.root.OpenFile(e.host, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return listing{err: rootErr("open", e.fi.Path, err)}
	}
	defer f.Close()
	join := func(name string) string {
		if e.host == "." {
			return name
		}
		return e.host + "/" + name
	}
	return listFD(int(f.Fd()), e, join, func(name string) (fs.FileInfo, string, error) {
		fi, err := r.root.Lstat(join(name))
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return fi, "", err
		}
		link, err := r.root.Readlink(join(name))
		return fi, link, err
	})
}

// Walk visits opts.Roots (default "/") inside the root depth-first in
// lexical order, never following symlinks, reporting target paths.
// LocalOnly has nothing to skip in a directory tree; pass Exclude for
// /proc, /sys, /dev and /run, which in an image hold nothing or leftovers.
// Directories that cannot be listed are passed to opts.OnError.
func (r *Root) Walk(ctx context.Context, opts WalkOptions, fn WalkFunc) error {
	roots, err := normRoots(opts.Roots)
	if err != nil {
		return err
	}
	w := &walker{
		ctx:     ctx,
		fn:      fn,
		onError: opts.OnError,
		exclude: newExclude(opts.Exclude),
	}
	w.list = r.list
	return w.walkRoots(roots, func(p string) (entry, error) {
		rel, err := r.resolve("lstat", p, false)
		if err != nil {
			return entry{}, err
		}
		fi, err := r.root.Lstat(rel)
		if err != nil {
			return entry{}, rootErr("lstat", p, err)
		}
		e := entry{fi: fileInfo(p, fi), host: rel, ino: inode(fi)}
		if e.fi.Mode&fs.ModeSymlink != 0 {
			if e.fi.Link, err = r.root.Readlink(rel); err != nil {
				return entry{}, rootErr("readlink", p, err)
			}
		}
		return e, nil
	})
}

// Run never executes anything from a root file system: its binaries are
// untrusted and may not even be for this machine's architecture.
func (r *Root) Run(ctx context.Context, argv []string, limit int64) (CmdResult, error) {
	name := "command"
	if len(argv) > 0 {
		name = argv[0]
	}
	return CmdResult{}, fmt.Errorf("run %s in %s: %w", name, r.Name(), ErrNotSupported)
}

// rootErr is pathErr, mapping an *os.Root refusal to leave the directory
// (which only a tree changing during the scan can cause after resolve) to
// ErrEscape.
func rootErr(op, p string, err error) error {
	if isEscape(err) {
		return &fs.PathError{Op: op, Path: p, Err: ErrEscape}
	}
	return pathErr(op, p, err)
}

// isEscape reports an *os.Root refusal to leave the directory, which only
// a tree changing during the scan can cause after resolve.
func isEscape(err error) bool {
	return err != nil && strings.Contains(err.Error(), "path escapes from parent")
}
