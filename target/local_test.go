package target_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/plumbhq/plumb/target"
	"github.com/plumbhq/plumb/target/targettest"
)

func TestLocalConformance(t *testing.T) {
	targettest.Run(t, func(t *testing.T) targettest.Env {
		dir := t.TempDir()
		return targettest.Env{Target: target.NewLocal(), Dir: dir, Prefix: dir, Privileged: os.Geteuid() == 0}
	})
}

func TestLocalFacts(t *testing.T) {
	f, err := target.NewLocal().Facts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f.Family != "linux" || !f.Live || f.Arch == "" || f.Kernel == "" || f.Hostname == "" {
		t.Errorf("Facts = %+v", f)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil && f.Kernel != strings.TrimSpace(string(b)) {
		t.Errorf("Kernel = %q, want %q", f.Kernel, b)
	}
	if _, err := os.Stat("/etc/os-release"); err == nil && f.Distro == "" {
		t.Errorf("Distro empty although /etc/os-release exists: %+v", f)
	}
}

func TestLocalReadFileEndless(t *testing.T) {
	l := target.NewLocal()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, p := range []string{"/dev/zero", "/dev/urandom"} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s missing: %v", p, err)
		}
		_, err := l.ReadFile(ctx, p, 1<<20)
		if !errors.Is(err, target.ErrTooLarge) {
			t.Errorf("ReadFile(%s): %v, want ErrTooLarge", p, err)
		}
	}
	// /dev/null is empty, not endless.
	if b, err := l.ReadFile(ctx, "/dev/null", 10); err != nil || len(b) != 0 {
		t.Errorf("ReadFile(/dev/null) = %q, %v", b, err)
	}
}

func TestLocalReadFileProc(t *testing.T) {
	// /proc files report size 0: the read must not trust it.
	b, err := target.NewLocal().ReadFile(context.Background(), "/proc/self/status", 1<<20)
	if err != nil || !strings.Contains(string(b), "Name:") {
		t.Errorf("ReadFile(/proc/self/status) = %d bytes, %v", len(b), err)
	}
	_, err = target.NewLocal().ReadFile(context.Background(), "/proc/self/status", 10)
	if !errors.Is(err, target.ErrTooLarge) {
		t.Errorf("ReadFile(/proc/self/status, 10): %v, want ErrTooLarge", err)
	}
}

func TestLocalReadFileDefaultLimit(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, make([]byte, target.MaxFileSize+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := target.NewLocal().ReadFile(context.Background(), p, 0); !errors.Is(err, target.ErrTooLarge) {
		t.Errorf("ReadFile with limit 0 of a file past MaxFileSize: %v, want ErrTooLarge", err)
	}
}

func TestLocalRun(t *testing.T) {
	l := target.NewLocal()
	ctx := context.Background()
	tests := []struct {
		name       string
		argv       []string
		limit      int64
		wantOut    string
		wantErrOut string
		wantExit   int
		wantErr    error
	}{
		{
			name:    "shell metacharacters are literal",
			argv:    []string{"/bin/echo", "$(id)", ";", "|", "`id`", "&&", "*", "> /tmp/x"},
			limit:   1024,
			wantOut: "$(id) ; | `id` && * > /tmp/x\n",
		},
		{
			name:    "name looked up in the fixed PATH",
			argv:    []string{"echo", "plain"},
			limit:   1024,
			wantOut: "plain\n",
		},
		{
			name:    "minimal environment",
			argv:    []string{"/usr/bin/env"},
			limit:   1024,
			wantOut: "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nLC_ALL=C\n",
		},
		{
			name:    "stdin is empty",
			argv:    []string{"/bin/cat"},
			limit:   1024,
			wantOut: "",
		},
		{
			name:    "working directory is /",
			argv:    []string{"/bin/pwd"},
			limit:   1024,
			wantOut: "/\n",
		},
		{
			name:       "non-zero exit is not an error",
			argv:       []string{"/bin/sh", "-c", "echo out; echo err >&2; exit 7"},
			limit:      1024,
			wantOut:    "out\n",
			wantErrOut: "err\n",
			wantExit:   7,
		},
		{
			name:     "killed by a signal",
			argv:     []string{"/bin/sh", "-c", "kill -TERM $$"},
			limit:    1024,
			wantExit: 128 + 15,
		},
		{
			name:    "stdout past the limit",
			argv:    []string{"/bin/sh", "-c", "echo 0123456789abcdef"},
			limit:   8,
			wantOut: "01234567",
			wantErr: target.ErrTooLarge,
		},
		{
			name:       "stderr past the limit",
			argv:       []string{"/bin/sh", "-c", "echo 0123456789abcdef >&2"},
			limit:      8,
			wantErrOut: "01234567",
			wantErr:    target.ErrTooLarge,
		},
		{
			name:    "endless output is cut, not buffered",
			argv:    []string{"/usr/bin/yes"},
			limit:   1000,
			wantOut: strings.Repeat("y\n", 500),
			wantErr: target.ErrTooLarge,
		},
		{
			name:    "missing binary by path",
			argv:    []string{"/nonexistent/bin/tool"},
			wantErr: fs.ErrNotExist,
		},
		{
			name:    "missing binary by name",
			argv:    []string{"plumb-no-such-command"},
			wantErr: fs.ErrNotExist,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := l.Run(ctx, tt.argv, tt.limit)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Run(%q): %v, want %v", tt.argv, err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("Run(%q): %v", tt.argv, err)
			}
			if errors.Is(tt.wantErr, fs.ErrNotExist) {
				return
			}
			if string(res.Stdout) != tt.wantOut || string(res.Stderr) != tt.wantErrOut {
				t.Errorf("Run(%q) stdout %q stderr %q, want %q %q", tt.argv, res.Stdout, res.Stderr, tt.wantOut, tt.wantErrOut)
			}
			if tt.wantErr == nil && res.Exit != tt.wantExit {
				t.Errorf("Run(%q) exit %d, want %d", tt.argv, res.Exit, tt.wantExit)
			}
		})
	}
	if _, err := l.Run(ctx, nil, 10); err == nil {
		t.Error("Run(nil): no error")
	}
	if _, err := l.Run(ctx, []string{}, 10); err == nil {
		t.Error("Run([]): no error")
	}
}

func TestLocalRunTimeoutKillsGroup(t *testing.T) {
	l := target.NewLocal()
	marker := filepath.Join(t.TempDir(), "survived")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	// The grandchild would create marker after 2s if the group were not
	// killed; it also holds stdout open.
	script := fmt.Sprintf("(sleep 2; touch %s) & sleep 30", marker)
	_, err := l.Run(ctx, []string{"/bin/sh", "-c", script}, 1024)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run took %v after a 300ms timeout", d)
	}
	time.Sleep(2500 * time.Millisecond)
	if _, err := os.Stat(marker); err == nil {
		t.Error("a grandchild survived the timeout")
	}
}

func TestLocalRunSleepTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := target.NewLocal().Run(ctx, []string{"sleep", "30"}, 1024)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run(sleep 30): %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Run(sleep 30) returned after %v", d)
	}
}

func TestLocalRunDaemonisedGrandchild(t *testing.T) {
	// The command exits at once, but leaves a child holding stdout: Run
	// must return within the wait delay, with the command's output.
	start := time.Now()
	res, err := target.NewLocal().Run(context.Background(), []string{"/bin/sh", "-c", "echo done; sleep 30 &"}, 1024)
	if err != nil || string(res.Stdout) != "done\n" || res.Exit != 0 {
		t.Errorf("Run = %q exit %d, %v", res.Stdout, res.Exit, err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Run returned after %v", d)
	}
}

func TestLocalReadFileBlockingDeviceHonoursContext(t *testing.T) {
	// A terminal with no input blocks a reader forever, as /proc/kmsg
	// does; ReadFile must give up when the context ends.
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal to test with: %v", err)
	}
	defer ptmx.Close()
	var n uint32
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatal(e)
	}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatal(e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = target.NewLocal().ReadFile(ctx, fmt.Sprintf("/dev/pts/%d", n), 100)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ReadFile(pts): %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("ReadFile(pts) returned after %v", d)
	}
}
