package target

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Local is the machine the scanner runs on. Paths are host paths as they
// are; commands run as the scanner's own user, without a shell and with a
// fixed minimal environment, so the scanner's environment cannot change a
// result.
type Local struct{}

// NewLocal returns the target for this machine.
func NewLocal() *Local { return &Local{} }

var _ Target = (*Local)(nil)

// Name is "local".
func (*Local) Name() string { return "local" }

// Close does nothing: Local holds no resources.
func (*Local) Close() error { return nil }

// Facts reads os-release, the host name and the running kernel. An OS
// without os-release is not an error (the Technology is then empty); a
// file that exists but cannot be read is, with the facts known so far.
func (l *Local) Facts(ctx context.Context) (Facts, error) {
	kv, err := ReadOSRelease(ctx, l)
	f := OSReleaseFacts(kv)
	f.Family = runtime.GOOS
	f.Arch = runtime.GOARCH
	f.Live = true
	if h, herr := os.Hostname(); herr == nil {
		f.Hostname = h
	}
	if b, kerr := l.ReadFile(ctx, "/proc/sys/kernel/osrelease", 4096); kerr == nil {
		f.Kernel = strings.TrimSpace(string(b))
	} else if u, uerr := uname(); uerr == nil {
		f.Kernel = u
	}
	return f, err
}

func uname() (string, error) {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return "", err
	}
	b := make([]byte, 0, len(u.Release))
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b), nil
}

// Stat follows symlinks.
func (*Local) Stat(ctx context.Context, p string) (FileInfo, error) {
	label, err := checkPath("stat", p)
	if err != nil {
		return FileInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return FileInfo{}, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return FileInfo{}, err
	}
	return fileInfo(label, fi), nil
}

// Lstat does not follow a final symlink, and fills Link for one.
func (*Local) Lstat(ctx context.Context, p string) (FileInfo, error) {
	label, err := checkPath("lstat", p)
	if err != nil {
		return FileInfo{}, err
	}
	if err := ctx.Err(); err != nil {
		return FileInfo{}, err
	}
	fi, err := os.Lstat(p)
	if err != nil {
		return FileInfo{}, err
	}
	out := fileInfo(label, fi)
	if out.Mode&fs.ModeSymlink != 0 {
		if out.Link, err = os.Readlink(p); err != nil {
			return FileInfo{}, err
		}
	}
	return out, nil
}

// Readlink returns the link text as stored.
func (*Local) Readlink(ctx context.Context, p string) (string, error) {
	if _, err := checkPath("readlink", p); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return os.Readlink(p)
}

// ReadFile reads at most limit bytes (limit <= 0 means MaxFileSize); a
// longer file is ErrTooLarge. The size stat reports is never trusted:
// /proc files say 0 and /dev/zero never ends, so the read itself is
// bounded. Named pipes and sockets are refused rather than opened for
// reading, which could block forever or steal another reader's data; the
// open is non-blocking, and a device that supports polling is read with a
// deadline tied to ctx, so a blocking device such as /proc/kmsg cannot hang
// the scan.
func (*Local) ReadFile(ctx context.Context, p string, limit int64) ([]byte, error) {
	if _, err := checkPath("open", p); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	limit = effectiveLimit(limit)
	fd, err := openNonblock(p)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, &fs.PathError{Op: "stat", Path: p, Err: err}
	}
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFIFO, syscall.S_IFSOCK:
		syscall.Close(fd)
		return nil, fmt.Errorf("read %s: %w: a named pipe or socket is never read", p, ErrNotSupported)
	case syscall.S_IFDIR:
		syscall.Close(fd)
		return nil, &fs.PathError{Op: "read", Path: p, Err: syscall.EISDIR}
	}
	f := os.NewFile(uintptr(fd), p) // non-blocking fd: uses the poller when the file supports it
	defer f.Close()
	stop := context.AfterFunc(ctx, func() { _ = f.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	b, err := readLimited(f, p, limit, st.Size)
	if err != nil && ctx.Err() != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, fmt.Errorf("read %s: %w", p, ctx.Err())
	}
	return b, err
}

func openNonblock(p string) (int, error) {
	for {
		fd, err := syscall.Open(p, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		return fd, err
	}
}

// ReadDir lists a directory sorted by name, each entry lstat'ed (Link
// filled for symlinks). Entries removed while listing are left out.
func (l *Local) ReadDir(ctx context.Context, p string) ([]FileInfo, error) {
	label, err := checkPath("readdir", p)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return listingInfos(l.list(entry{fi: FileInfo{Path: label}, host: p}))
}

// listingInfos is a listing as ReadDir returns it: an entry that exists
// but cannot be lstat'ed fails the whole listing, since the caller asked
// about every entry.
func listingInfos(l listing) ([]FileInfo, error) {
	if l.err != nil {
		return nil, l.err
	}
	if len(l.errs) > 0 {
		return nil, l.errs[0].err
	}
	out := make([]FileInfo, len(l.ents))
	for i, e := range l.ents {
		out[i] = e.fi
	}
	return out, nil
}

// list reads directory e.host. When e comes from a walk (e.ino set) the
// directory is opened without following a symlink and checked to be the
// one lstat'ed.
func (*Local) list(e entry) listing {
	flags := syscall.O_RDONLY | syscall.O_DIRECTORY | syscall.O_CLOEXEC
	if e.ino != 0 {
		flags |= syscall.O_NOFOLLOW
	}
	var fd int
	var err error
	for {
		fd, err = syscall.Open(e.host, flags, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return listing{err: &fs.PathError{Op: "open", Path: e.fi.Path, Err: err}}
	}
	defer syscall.Close(fd)
	return listFD(fd, e,
		func(name string) string { return childPath(e.host, name) },
		func(name string) (fs.FileInfo, string, error) {
			p := childPath(e.host, name)
			fi, err := os.Lstat(p)
			if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
				return fi, "", err
			}
			link, err := os.Readlink(p)
			return fi, link, err
		})
}

// Walk visits opts.Roots (default "/") depth-first in lexical order, never
// following symlinks. Excluded paths are neither reported nor entered.
// With LocalOnly, mount points of pseudo and network file systems (see
// NonLocalFS) are reported but not entered; /proc/self/mountinfo is read
// once per walk. Directories that cannot be listed are skipped and passed
// to opts.OnError; the walk goes on.
func (l *Local) Walk(ctx context.Context, opts WalkOptions, fn WalkFunc) error {
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
	w.list = l.list
	if opts.LocalOnly {
		mi, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			return fmt.Errorf("walk: reading mount table for LocalOnly: %w", err)
		}
		skip := parseMountinfo(mi)
		w.noDescend = func(e entry) bool { return skip.devs[e.fi.Dev] || skip.paths[e.host] }
	}
	return w.walkRoots(roots, func(p string) (entry, error) {
		fi, err := os.Lstat(p)
		if err != nil {
			return entry{}, err
		}
		e := entry{fi: fileInfo(p, fi), host: p, ino: inode(fi)}
		if e.fi.Mode&fs.ModeSymlink != 0 {
			if e.fi.Link, err = os.Readlink(p); err != nil {
				return entry{}, err
			}
		}
		return e, nil
	})
}

// skipFSTypes are the file system types a LocalOnly walk does not enter:
// kernel pseudo file systems (their content is runtime state, not files a
// policy is about, and some are huge or block on read) and network file
// systems (slow, and another host's files). tmpfs and overlay are local
// and walked: /tmp, /dev/shm and container roots matter for
// world-writable searches.
var skipFSTypes = map[string]bool{
	"proc": true, "sysfs": true, "cgroup": true, "cgroup2": true,
	"debugfs": true, "tracefs": true, "securityfs": true, "pstore": true,
	"bpf": true, "configfs": true, "fusectl": true, "mqueue": true,
	"hugetlbfs": true, "autofs": true, "binfmt_misc": true, "efivarfs": true,
	"devpts": true, "rpc_pipefs": true, "nsfs": true, "selinuxfs": true,
	"nfs": true, "nfs4": true, "cifs": true, "smb3": true, "smbfs": true,
	"fuse.sshfs": true, "sshfs": true, "9p": true, "ceph": true,
	"glusterfs": true, "fuse.glusterfs": true, "afs": true, "ncpfs": true,
	"lustre": true, "gfs2": true, "ocfs2": true, "fuse.s3fs": true,
	"fuse.rclone": true, "davfs": true, "fuse.davfs2": true,
}

// NonLocalFS reports whether a LocalOnly walk stays out of a file system
// of type fstype (as /proc/self/mounts names it). Probes that search the
// file system themselves use it to draw the same line.
func NonLocalFS(fstype string) bool { return skipFSTypes[fstype] }

// mountSkip is what a LocalOnly walk does not enter: devices and mount
// point paths. Both are kept: the device catches a mount reached by
// another path, the path catches an automount point not yet mounted.
type mountSkip struct {
	devs  map[uint64]bool
	paths map[string]bool
}

// parseMountinfo reads /proc/self/mountinfo lines:
//
//	36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//
// The mount listed last on a mount point is the visible one.
func parseMountinfo(b []byte) mountSkip {
	type mnt struct {
		dev    uint64
		fstype string
	}
	top := map[string]mnt{}
	var order []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		sep := slices.Index(fields, "-")
		if len(fields) < 5 || sep < 6 || sep+1 >= len(fields) {
			continue
		}
		dev, ok := parseMajMin(fields[2])
		if !ok {
			continue
		}
		mp := unescapeMount(fields[4])
		if _, seen := top[mp]; !seen {
			order = append(order, mp)
		}
		top[mp] = mnt{dev: dev, fstype: fields[sep+1]}
	}
	s := mountSkip{devs: map[uint64]bool{}, paths: map[string]bool{}}
	for _, mp := range order {
		m := top[mp]
		if NonLocalFS(m.fstype) {
			s.devs[m.dev] = true
			s.paths[mp] = true
		}
	}
	return s
}

// parseMajMin parses "major:minor" into a dev_t as glibc's makedev does.
func parseMajMin(s string) (uint64, bool) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, false
	}
	major, err1 := strconv.ParseUint(a, 10, 32)
	minor, err2 := strconv.ParseUint(b, 10, 32)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return (major&0xfffff000)<<32 | (major&0xfff)<<8 | (minor&0xffffff00)<<12 | minor&0xff, true
}

// unescapeMount undoes the octal escapes (\040 for space, \011, \012, \134)
// the kernel writes in mount paths.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// minimalPath is the PATH of every command: system directories only, so
// a scanner started from a user's shell cannot run that user's binaries.
const minimalPath = "/usr/sbin:/usr/bin:/sbin:/bin"

// runEnv is the whole environment of a command: LC_ALL=C keeps output in
// the untranslated, parseable form the engine expects.
var runEnv = []string{"PATH=" + minimalPath, "LC_ALL=C"}

// runWaitDelay bounds the wait for output pipes after the command exits or
// is killed: a daemonising grandchild may hold them open forever.
const runWaitDelay = 2 * time.Second

// Run executes argv directly (never through a shell, so arguments are
// passed literally), with stdin from /dev/null, the working directory /
// and only PATH and LC_ALL in the environment. argv[0] without a slash is
// looked up in that fixed PATH, not the scanner's. Each output stream is
// bounded by limit (limit <= 0 means MaxFileSize): past it the command is
// killed and an error wrapping ErrTooLarge is returned with the output
// read so far. The command runs in its own process group, killed as a
// whole when ctx is done, so a timeout also ends what the command started.
// A non-zero exit is not an error; a command killed by a signal reports
// Exit 128+signal, as a shell does.
func (*Local) Run(ctx context.Context, argv []string, limit int64) (CmdResult, error) {
	if len(argv) == 0 || argv[0] == "" {
		return CmdResult{}, errors.New("run: empty command")
	}
	if err := ctx.Err(); err != nil {
		return CmdResult{}, err
	}
	limit = effectiveLimit(limit)
	bin, err := lookPath(argv[0])
	if err != nil {
		return CmdResult{}, err
	}
	cmd := exec.CommandContext(ctx, bin, argv[1:]...)
	cmd.Args[0] = argv[0]
	cmd.Env = runEnv
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var killOnce sync.Once
	kill := func() error {
		var err error
		killOnce.Do(func() { err = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
		return err
	}
	cmd.Cancel = kill
	cmd.WaitDelay = runWaitDelay
	stdout := NewCappedBuffer(limit, func() { _ = kill() })
	stderr := NewCappedBuffer(limit, func() { _ = kill() })
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		return CmdResult{}, fmt.Errorf("run %s: %w", argv[0], err)
	}
	werr := cmd.Wait()
	res := CmdResult{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Exit: exitCode(cmd.ProcessState)}
	switch {
	case stdout.Over() || stderr.Over():
		return res, fmt.Errorf("run %s: output %w (limit %d bytes per stream)", argv[0], ErrTooLarge, limit)
	case ctx.Err() != nil:
		return res, fmt.Errorf("run %s: %w", argv[0], ctx.Err())
	case werr == nil:
		return res, nil
	}
	var ee *exec.ExitError
	switch {
	case errors.As(werr, &ee):
		return res, nil
	case errors.Is(werr, exec.ErrWaitDelay):
		// The command exited; something it started still holds the
		// output open. End that too: it is in the command's group, which
		// cannot be reused while a member lives.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		return res, nil
	}
	return res, fmt.Errorf("run %s: %w", argv[0], werr)
}

func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// lookPath finds name in minimalPath. A name with a slash is used as is.
// Not found wraps fs.ErrNotExist, so "command absent" is told apart from
// "command failed".
func lookPath(name string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	for _, dir := range strings.Split(minimalPath, ":") {
		p := dir + "/" + name
		fi, err := os.Stat(p)
		if err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("run %s: not found in %s: %w", name, minimalPath, fs.ErrNotExist)
}
