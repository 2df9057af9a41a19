package sshtarget_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbhq/plumb/internal/sshtest"
	"github.com/plumbhq/plumb/target"
	"github.com/plumbhq/plumb/target/sshtarget"
)

func TestSudo(t *testing.T) {
	e := newEnv(t, sshtest.Options{})

	t.Run("allowed", func(t *testing.T) {
		cfg := e.config(e.users.Sudo)
		cfg.Sudo = sshtarget.SudoSudo
		tg := dial(t, cfg)
		if err := tg.Privilege(); err != nil {
			t.Fatalf("Privilege: %v", err)
		}
		b, err := tg.ReadFile(testCtx(t), "/etc/shadow", 0)
		if err != nil || !bytes.Contains(b, []byte("root:")) {
			t.Errorf("ReadFile(/etc/shadow) = %d bytes, %v", len(b), err)
		}
		loggedIn(t, tg, "root")
		// Not in the sudoers rule: refused, and said so.
		if _, err := tg.Run(testCtx(t), []string{"whoami"}, 1024); !errors.Is(err, sshtarget.ErrPrivilege) {
			t.Errorf("Run(whoami), not allowed by sudoers: %v, want ErrPrivilege", err)
		}
	})
	t.Run("with password", func(t *testing.T) {
		cfg := e.config(e.users.SudoPassword)
		cfg.Sudo, cfg.SudoPassword = sshtarget.SudoSudo, e.users.SudoPassword.Password
		tg := dial(t, cfg)
		if err := tg.Privilege(); err != nil {
			t.Fatalf("Privilege: %v", err)
		}
		if b, err := tg.ReadFile(testCtx(t), "/etc/shadow", 0); err != nil || !bytes.Contains(b, []byte("root:")) {
			t.Errorf("ReadFile(/etc/shadow) = %d bytes, %v", len(b), err)
		}
		// The password is sudo's alone: a command reading its standard
		// input sees nothing.
		res, err := tg.Run(testCtx(t), []string{"cat"}, 1024)
		if err != nil || len(res.Stdout) != 0 {
			t.Errorf("Run(cat) = %q, %v; want no output", res.Stdout, err)
		}
		loggedIn(t, tg, "root")
	})
	t.Run("wrong password", func(t *testing.T) {
		cfg := e.config(e.users.SudoPassword)
		cfg.Sudo, cfg.SudoPassword = sshtarget.SudoSudo, "not the password"
		tg := dial(t, cfg)
		checkRefused(t, tg, e.users.SudoPassword.Name)
	})
	t.Run("refused", func(t *testing.T) {
		cfg := e.config(e.users.NoSudo)
		cfg.Sudo = sshtarget.SudoSudo
		tg := dial(t, cfg)
		checkRefused(t, tg, e.users.NoSudo.Name)
	})
}

// checkRefused checks a target whose sudo was refused: Privilege says so,
// what the login user may read works, what it may not wraps both
// fs.ErrPermission and ErrPrivilege, commands run as the login user.
func checkRefused(t *testing.T, tg *sshtarget.Target, user string) {
	t.Helper()
	ctx := testCtx(t)
	if err := tg.Privilege(); !errors.Is(err, sshtarget.ErrPrivilege) {
		t.Fatalf("Privilege: %v, want ErrPrivilege", err)
	}
	if _, err := tg.ReadFile(ctx, "/etc/passwd", 0); err != nil {
		t.Errorf("ReadFile(/etc/passwd) as the login user: %v", err)
	}
	_, err := tg.ReadFile(ctx, "/etc/shadow", 0)
	if !errors.Is(err, fs.ErrPermission) || !errors.Is(err, sshtarget.ErrPrivilege) {
		t.Errorf("ReadFile(/etc/shadow): %v, want fs.ErrPermission and ErrPrivilege", err)
	}
	loggedIn(t, tg, user)
	res, err := tg.Run(ctx, []string{"cat", "/etc/shadow"}, 1024)
	if res.Exit == 0 || !errors.Is(err, sshtarget.ErrPrivilege) {
		t.Errorf("Run(cat /etc/shadow) = exit %d, %v; want a failure wrapping ErrPrivilege", res.Exit, err)
	}
	var walkErrs []error
	err = tg.Walk(ctx, target.WalkOptions{Roots: []string{"/root", "/etc/ssl"}, OnError: func(p string, err error) { walkErrs = append(walkErrs, err) }},
		func(target.FileInfo) error { return nil })
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	if len(walkErrs) == 0 || !errors.Is(walkErrs[0], sshtarget.ErrPrivilege) || !errors.Is(walkErrs[0], fs.ErrPermission) {
		t.Errorf("Walk(/root) errors %v, want permission denied wrapping ErrPrivilege", walkErrs)
	}
}

func TestRunOutput(t *testing.T) {
	e := newEnv(t, sshtest.Options{})
	tg := dial(t, e.config(e.users.NoSudo))

	over := []struct {
		name string
		argv []string
	}{
		{"endless text", []string{"yes"}},
		{"endless binary", []string{"cat", "/dev/urandom"}},
		{"endless stderr", []string{"sh", "-c", "yes >&2"}},
		{"big then exit", []string{"head", "-c", "10000000", "/dev/zero"}},
	}
	for _, c := range over {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			res, err := tg.Run(testCtx(t), c.argv, 1<<20)
			if !errors.Is(err, target.ErrTooLarge) {
				t.Errorf("Run(%v): %v, want ErrTooLarge", c.argv, err)
			}
			if len(res.Stdout) > 1<<20 || len(res.Stderr) > 1<<20 {
				t.Errorf("kept %d+%d bytes, more than the limit", len(res.Stdout), len(res.Stderr))
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("took %v", took)
			}
		})
	}
	t.Run("binary within the limit", func(t *testing.T) {
		want, err := os.ReadFile("/bin/ls")
		if err != nil {
			t.Fatal(err)
		}
		res, err := tg.Run(testCtx(t), []string{"cat", "/bin/ls"}, int64(len(want)))
		if err != nil || !bytes.Equal(res.Stdout, want) {
			t.Errorf("Run(cat /bin/ls) = %d bytes (equal %v), %v", len(res.Stdout), bytes.Equal(res.Stdout, want), err)
		}
	})
	t.Run("exit status and signal", func(t *testing.T) {
		res, err := tg.Run(testCtx(t), []string{"sh", "-c", "exit 7"}, 1024)
		if err != nil || res.Exit != 7 {
			t.Errorf("exit 7: %d, %v", res.Exit, err)
		}
		res, err = tg.Run(testCtx(t), []string{"sh", "-c", "kill -TERM $$"}, 1024)
		if err != nil || res.Exit != 128+15 {
			t.Errorf("killed by SIGTERM: exit %d, %v; want 143", res.Exit, err)
		}
		res, err = tg.Run(testCtx(t), []string{"sh", "-c", "exit 127"}, 1024)
		if err != nil || res.Exit != 127 {
			t.Errorf("a command's own exit 127: %d, %v", res.Exit, err)
		}
	})
	t.Run("not found", func(t *testing.T) {
		for _, argv0 := range []string{"no-such-command", "/no/such/command", "-n"} {
			if _, err := tg.Run(testCtx(t), []string{argv0}, 1024); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Run(%q): %v, want fs.ErrNotExist", argv0, err)
			}
		}
	})
	t.Run("NUL refused", func(t *testing.T) {
		if _, err := tg.Run(testCtx(t), []string{"echo", "a\x00b"}, 1024); err == nil {
			t.Error("an argument with a NUL byte was run")
		}
	})
	t.Run("environment", func(t *testing.T) {
		res, err := tg.Run(testCtx(t), []string{"sh", "-c", `echo "$PATH|$LC_ALL|$(pwd)"`}, 1024)
		if want := "/usr/sbin:/usr/bin:/sbin:/bin|C|/\n"; err != nil || string(res.Stdout) != want {
			t.Errorf("environment %q, %v; want %q", res.Stdout, err, want)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		cfg := e.config(e.users.NoSudo)
		cfg.CommandTimeout = time.Second
		short := dial(t, cfg)
		start := time.Now()
		_, err := short.Run(context.Background(), []string{"sleep", "30"}, 1024)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("sleep 30 with a 1s CommandTimeout: %v, want DeadlineExceeded", err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("took %v", took)
		}
		// The connection still works.
		loggedIn(t, short, e.users.NoSudo.Name)
	})
	t.Run("many at once", func(t *testing.T) {
		// More than sshd's MaxSessions (10): the target queues them.
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			wg.Go(func() {
				res, err := tg.Run(testCtx(t), []string{"echo", strings.Repeat("x", i)}, 1024)
				if err != nil || string(res.Stdout) != strings.Repeat("x", i)+"\n" {
					errs <- errors.Join(err, errors.New("output "+string(res.Stdout)))
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

// weirdNames are file names a host can hold: shell syntax, quotes,
// newlines, glob characters, leading dashes, bytes that are not UTF-8.
var weirdNames = []string{
	"a b", "it's", "say \"hi\"", "new\nline", "tab\there", `back\slash`,
	"$(touch pwned)", "`touch pwned`", "; touch pwned", "*", "[ab]", "?",
	"-rf", "--", "\xff\xfe", "trailing space ", "'", "''", "\\'", "%s%n", "#hash", "~",
}

func TestSpecialNames(t *testing.T) {
	e := newEnv(t, sshtest.Options{})
	tg := dial(t, e.config(e.users.NoSudo))
	ctx := testCtx(t)
	dir := sshtest.TempDir(t)
	root := filepath.Join(dir, "weird dir's \"root\"\n")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range weirdNames {
		if err := os.WriteFile(filepath.Join(root, n), []byte("content of "+n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(root, "sub*dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "sub*dir", "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("it's\n", filepath.Join(root, "link\nname")); err != nil {
		t.Fatal(err)
	}

	for _, n := range weirdNames {
		p := filepath.Join(root, n)
		if b, err := tg.ReadFile(ctx, p, 1024); err != nil || string(b) != "content of "+n {
			t.Errorf("ReadFile(%q) = %q, %v", p, b, err)
		}
		if fi, err := tg.Stat(ctx, p); err != nil || fi.Path != p {
			t.Errorf("Stat(%q) = %q, %v", p, fi.Path, err)
		}
		res, err := tg.Run(ctx, []string{"cat", "--", p}, 1024)
		if err != nil || string(res.Stdout) != "content of "+n {
			t.Errorf("Run(cat %q) = %q %q, %v", p, res.Stdout, res.Stderr, err)
		}
		res, err = tg.Run(ctx, []string{"printf", "%s", n}, 1024)
		if err != nil || string(res.Stdout) != n {
			t.Errorf("Run(printf %%s %q) = %q, %v", n, res.Stdout, err)
		}
	}
	if l, err := tg.Readlink(ctx, filepath.Join(root, "link\nname")); err != nil || l != "it's\n" {
		t.Errorf("Readlink = %q, %v", l, err)
	}

	var got []string
	err := tg.Walk(ctx, target.WalkOptions{Roots: []string{root}, Exclude: []string{filepath.Join(root, "*")},
		OnError: func(p string, err error) { t.Errorf("OnError(%q, %v)", p, err) }},
		func(fi target.FileInfo) error {
			got = append(got, fi.Path)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	_ = target.NewLocal().Walk(ctx, target.WalkOptions{Roots: []string{root}, Exclude: []string{filepath.Join(root, "*")}},
		func(fi target.FileInfo) error {
			want = append(want, fi.Path)
			return nil
		})
	if !slices.Equal(got, want) {
		t.Errorf("Walk:\n got %q\nwant %q", got, want)
	}
	if slices.Contains(got, filepath.Join(root, "*")) || !slices.Contains(got, filepath.Join(root, "[ab]")) {
		t.Errorf("Exclude of %q must exclude that name only: %q", "*", got)
	}
	if _, err := os.Stat(filepath.Join("/", "pwned")); err == nil {
		t.Error("a name was run as a command")
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*", "pwned"))
	if len(matches) > 0 {
		t.Errorf("a name was run as a command: %q", matches)
	}
}

// TestReadFileKinds reads what is not a plain file: /proc files (size 0),
// /sys files (size 4096, shorter content), and refuses devices, FIFOs and
// directories without hanging.
func TestReadFileKinds(t *testing.T) {
	e := newEnv(t, sshtest.Options{})
	tg := dial(t, e.config(e.users.NoSudo))
	local := target.NewLocal()
	ctx := testCtx(t)
	for _, p := range []string{"/proc/sys/kernel/osrelease", "/proc/self/mounts", "/sys/class/net/lo/address", "/sys/kernel/mm/transparent_hugepage/enabled"} {
		want, err := local.ReadFile(ctx, p, 1<<20)
		if err != nil {
			continue // not on this kernel
		}
		got, err := tg.ReadFile(ctx, p, 1<<20)
		if err != nil {
			t.Errorf("ReadFile(%s): %v", p, err)
			continue
		}
		if p != "/proc/self/mounts" && !bytes.Equal(got, want) {
			t.Errorf("ReadFile(%s) = %q, local %q", p, got, want)
		}
		if len(got) == 0 {
			t.Errorf("ReadFile(%s) is empty", p)
		}
	}
	if _, err := tg.ReadFile(ctx, "/proc/sys/kernel/osrelease", 3); !errors.Is(err, target.ErrTooLarge) {
		t.Errorf("ReadFile of a /proc file past the limit: %v, want ErrTooLarge", err)
	}
	dir := sshtest.TempDir(t)
	fifo := filepath.Join(dir, "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/dev/zero", "/dev/null", fifo} {
		start := time.Now()
		if _, err := tg.ReadFile(ctx, p, 100); !errors.Is(err, target.ErrNotSupported) {
			t.Errorf("ReadFile(%s): %v, want ErrNotSupported", p, err)
		}
		if time.Since(start) > 5*time.Second {
			t.Errorf("ReadFile(%s) took %v", p, time.Since(start))
		}
	}
	if _, err := tg.ReadFile(ctx, "/etc", 100); err == nil {
		t.Error("ReadFile(/etc): no error for a directory")
	}
}

// TestNoSFTPSubsystem: a server without the sftp subsystem is read by
// running sftp-server as a command.
func TestNoSFTPSubsystem(t *testing.T) {
	e := newEnv(t, sshtest.Options{NoSFTPSubsystem: true})
	tg := dial(t, e.config(e.users.NoSudo))
	if s := tg.Stats().Sessions; s != 2 {
		t.Errorf("%d sessions at Dial, want 2 (the refused subsystem, then sftp-server)", s)
	}
	if b, err := tg.ReadFile(testCtx(t), "/etc/passwd", 0); err != nil || !bytes.Contains(b, []byte("root:")) {
		t.Errorf("ReadFile = %d bytes, %v", len(b), err)
	}
}
