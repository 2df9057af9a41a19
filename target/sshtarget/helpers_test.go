package sshtarget_test

import (
	"context"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/plumbhq/plumb/internal/sshtest"
	"github.com/plumbhq/plumb/target"
	"github.com/plumbhq/plumb/target/sshtarget"
)

// env is one sshd with the test users, each allowed to log in with key.
type env struct {
	srv   *sshtest.Server
	users sshtest.Users
	key   sshtest.Key
}

func newEnv(t testing.TB, opts sshtest.Options) *env {
	t.Helper()
	e := &env{users: sshtest.EnsureUsers(t), srv: sshtest.Start(t, opts), key: sshtest.NewKey(t, "")}
	for _, u := range []sshtest.User{e.users.Sudo, e.users.NoSudo, e.users.SudoPassword} {
		e.srv.AuthorizeKey(t, u.Name, e.key.Public)
	}
	return e
}

// config logs in as u with the env's key.
func (e *env) config(u sshtest.User) sshtarget.Config {
	return sshtarget.Config{
		Host:           e.srv.Host,
		Port:           e.srv.Port,
		User:           u.Name,
		PrivateKey:     e.key.PEM,
		KnownHostsFile: e.srv.KnownHosts,
		ConnectTimeout: 10 * time.Second,
		CommandTimeout: 30 * time.Second,
	}
}

func dial(t testing.TB, cfg sshtarget.Config) *sshtarget.Target {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tg, err := sshtarget.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { tg.Close() })
	return tg
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wholeSeconds wraps a target for the conformance suite, which builds its
// tree (as root) after setup returns; before the first call, the tree is
// adjusted on disk, and the target must then report it exactly:
//
//   - SFTP version 3 (OpenSSH's) carries modification times in whole
//     seconds, while the suite compares them to the nanosecond with what
//     this machine's lstat says: the times are rounded down to seconds.
//   - With owner set, the tree is given to the login user (but for the
//     suite's "owned" file), as the suite expects of an unprivileged
//     target: only its mode 0000 entries unreadable. Modes are restored
//     after chown, which clears setuid.
type wholeSeconds struct {
	target.Target
	dir   string
	owner *sshtest.User
	once  sync.Once
}

func (w *wholeSeconds) prep() {
	w.once.Do(func() {
		_ = filepath.WalkDir(w.dir, func(p string, d fs.DirEntry, err error) error {
			fi, lerr := os.Lstat(p)
			if lerr != nil {
				return nil
			}
			if w.owner != nil && fi.Sys().(*syscall.Stat_t).Uid == 0 {
				_ = os.Lchown(p, int(w.owner.UID), int(w.owner.GID))
				if fi.Mode()&fs.ModeSymlink == 0 {
					_ = os.Chmod(p, fi.Mode()&fs.ModePerm|fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky))
				}
			}
			sec := fi.ModTime().Unix()
			ts := []unix.Timespec{{Sec: sec}, {Sec: sec}}
			_ = unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW)
			return nil
		})
	})
}

func (w *wholeSeconds) Name() string { w.prep(); return w.Target.Name() }
func (w *wholeSeconds) Facts(ctx context.Context) (target.Facts, error) {
	w.prep()
	return w.Target.Facts(ctx)
}
func (w *wholeSeconds) Stat(ctx context.Context, p string) (target.FileInfo, error) {
	w.prep()
	return w.Target.Stat(ctx, p)
}
func (w *wholeSeconds) Lstat(ctx context.Context, p string) (target.FileInfo, error) {
	w.prep()
	return w.Target.Lstat(ctx, p)
}
func (w *wholeSeconds) ReadFile(ctx context.Context, p string, limit int64) ([]byte, error) {
	w.prep()
	return w.Target.ReadFile(ctx, p, limit)
}
func (w *wholeSeconds) ReadDir(ctx context.Context, p string) ([]target.FileInfo, error) {
	w.prep()
	return w.Target.ReadDir(ctx, p)
}
func (w *wholeSeconds) Readlink(ctx context.Context, p string) (string, error) {
	w.prep()
	return w.Target.Readlink(ctx, p)
}
func (w *wholeSeconds) Walk(ctx context.Context, opts target.WalkOptions, fn target.WalkFunc) error {
	w.prep()
	return w.Target.Walk(ctx, opts, fn)
}
func (w *wholeSeconds) Run(ctx context.Context, argv []string, limit int64) (target.CmdResult, error) {
	w.prep()
	return w.Target.Run(ctx, argv, limit)
}

// closedPort returns a port on 127.0.0.1 nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func splitAddr(t *testing.T, addr string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return h, n
}

func mkfifo(p string) error { return syscall.Mkfifo(p, 0o644) }
