package sshtarget_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbhq/plumb/internal/sshtest"
	"github.com/plumbhq/plumb/target"
	"github.com/plumbhq/plumb/target/sshtarget"
)

// walkAll collects a walk's entries and errors.
func walkAll(t *testing.T, tg target.Target, opts target.WalkOptions) ([]target.FileInfo, []string) {
	t.Helper()
	var fis []target.FileInfo
	var errPaths []string
	opts.OnError = func(p string, err error) { errPaths = append(errPaths, p) }
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := tg.Walk(ctx, opts, func(fi target.FileInfo) error {
		fis = append(fis, fi)
		return nil
	}); err != nil {
		t.Fatalf("%s Walk: %v", tg.Name(), err)
	}
	return fis, errPaths
}

// sameWalk compares two walks entry by entry. seconds compares times to
// the second (a walk over SFTP, or partly); dev compares device numbers.
func sameWalk(t *testing.T, got, want []target.FileInfo, seconds, dev bool) {
	t.Helper()
	n := 0
	for i := 0; i < max(len(got), len(want)) && n < 10; i++ {
		var g, w target.FileInfo
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if seconds {
			g.ModTime, w.ModTime = g.ModTime.Truncate(time.Second), w.ModTime.Truncate(time.Second)
		}
		if !dev {
			g.Dev, w.Dev = 0, 0
		}
		if w.Mode.IsDir() {
			g.Size, w.Size = 0, 0 // directory sizes change as entries come and go
		}
		if g.Path != w.Path || g.Mode != w.Mode || g.UID != w.UID || g.GID != w.GID || g.Size != w.Size ||
			!g.ModTime.Equal(w.ModTime) || g.Dev != w.Dev || g.Link != w.Link {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, g, w)
			n++
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d entries, want %d", len(got), len(want))
	}
}

// TestCompareWithLocal walks, stats and reads the same directories over
// SSH and on this machine, and expects the same answers: a fixture tree
// as the login user, and system directories (root-only host keys among
// them) as root through sudo, with LocalOnly, so /dev/pts, a devpts
// mount, is reported but not entered.
func TestCompareWithLocal(t *testing.T) {
	e := newEnv(t, sshtest.Options{})
	local := target.NewLocal()

	fixture := sshtest.TempDir(t)
	for i := range 30 {
		p := filepath.Join(fixture, fmt.Sprintf("d%d", i%4), fmt.Sprintf("sub %d", i%3), fmt.Sprintf("f-%02d.conf", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.Repeat([]byte{byte(i)}, i*100), fs.FileMode(0o600+i%3*0o20)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("d1/sub 1", filepath.Join(fixture, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(fixture, int(e.users.NoSudo.UID), int(e.users.NoSudo.GID)); err != nil {
		t.Fatal(err)
	}
	if err := filepath.WalkDir(fixture, func(p string, d fs.DirEntry, err error) error {
		return os.Lchown(p, int(e.users.NoSudo.UID), int(e.users.NoSudo.GID))
	}); err != nil {
		t.Fatal(err)
	}

	sudo := e.config(e.users.Sudo)
	sudo.Sudo = sshtarget.SudoSudo
	cases := []struct {
		name string
		cfg  sshtarget.Config
		opts target.WalkOptions
	}{
		{"fixture as the login user", e.config(e.users.NoSudo), target.WalkOptions{Roots: []string{fixture}}},
		// Directories nothing changes during the tests (the test users'
		// /etc/shadow does; PostgreSQL's /dev/shm may).
		{"system directories with sudo", sudo, target.WalkOptions{
			Roots: []string{"/etc/ssh", "/etc/ssl", "/etc/apt", "/usr/share/doc", "/dev"}, Exclude: []string{"/dev/shm"}, LocalOnly: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := dial(t, c.cfg)
			want, wantErrs := walkAll(t, local, c.opts)
			for _, sftpWalk := range []bool{false, true} {
				sshtarget.SetSFTPWalk(tg, sftpWalk)
				got, gotErrs := walkAll(t, tg, c.opts)
				sameWalk(t, got, want, sftpWalk, !sftpWalk)
				if fmt.Sprint(gotErrs) != fmt.Sprint(wantErrs) {
					t.Errorf("SFTP walk %v: OnError paths %q, want %q", sftpWalk, gotErrs, wantErrs)
				}
			}
			sshtarget.SetSFTPWalk(tg, false)

			ctx := testCtx(t)
			files := 0
			for _, w := range want {
				gs, gerr := tg.Lstat(ctx, w.Path)
				ws, werr := local.Lstat(ctx, w.Path)
				if (gerr == nil) != (werr == nil) {
					t.Errorf("Lstat(%s): %v, local %v", w.Path, gerr, werr)
					continue
				}
				ws.ModTime, ws.Dev = ws.ModTime.Truncate(time.Second), 0
				if ws.Mode.IsDir() {
					gs.Size, ws.Size = 0, 0
				}
				if gs != ws {
					t.Errorf("Lstat(%s):\n got %+v\nwant %+v", w.Path, gs, ws)
				}
				if !w.Mode.IsRegular() || w.Size > 64<<10 || files > 300 {
					continue
				}
				files++
				gb, gerr := tg.ReadFile(ctx, w.Path, 64<<10)
				wb, werr := local.ReadFile(ctx, w.Path, 64<<10)
				if !bytes.Equal(gb, wb) || (gerr == nil) != (werr == nil) {
					t.Errorf("ReadFile(%s) = %d bytes, %v; local %d bytes, %v", w.Path, len(gb), gerr, len(wb), werr)
				}
			}
			if files == 0 {
				t.Error("no file compared")
			}
		})
	}
}

// TestWalkBufferFallback: a root whose records outgrow WalkBuffer is
// walked over SFTP instead, with the same result.
func TestWalkBufferFallback(t *testing.T) {
	e := newEnv(t, sshtest.Options{})
	cfg := e.config(e.users.NoSudo)
	cfg.Limits.WalkBuffer = 4 << 10
	small := dial(t, cfg)
	normal := dial(t, e.config(e.users.NoSudo))
	opts := target.WalkOptions{Roots: []string{"/usr/share/doc/sudo", "/usr/share/zoneinfo/Europe"}}
	want, _ := walkAll(t, normal, opts)
	got, _ := walkAll(t, small, opts)
	sameWalk(t, got, want, true, false)
	if len(want) < 50 {
		t.Errorf("only %d entries: the roots are too small to test the fallback", len(want))
	}
}

// TestWalkStops: fn's error and fs.SkipAll end the walk at once, also
// over a large tree, and the target stays usable.
func TestWalkStops(t *testing.T) {
	e := newEnv(t, sshtest.Options{})
	tg := dial(t, e.config(e.users.NoSudo))
	stop := errors.New("stop")
	n := 0
	err := tg.Walk(testCtx(t), target.WalkOptions{Roots: []string{"/usr/share"}}, func(fi target.FileInfo) error {
		if n++; n == 100 {
			return stop
		}
		return nil
	})
	if err != stop || n != 100 {
		t.Errorf("Walk = %v after %d entries, want stop after 100", err, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err = tg.Walk(ctx, target.WalkOptions{Roots: []string{"/"}}, func(fi target.FileInfo) error {
		time.Sleep(time.Millisecond)
		return nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Walk past its deadline: %v", err)
	}
	loggedIn(t, tg, e.users.NoSudo.Name)
}

func TestStats(t *testing.T) {
	e := newEnv(t, sshtest.Options{})
	tg := dial(t, e.config(e.users.NoSudo))
	s0 := tg.Stats()
	if s0.Sessions != 1 || s0.BytesIn == 0 || s0.BytesOut == 0 {
		t.Errorf("after Dial: %+v, want 1 session (SFTP) and bytes both ways", s0)
	}
	ctx := testCtx(t)
	if _, err := tg.ReadFile(ctx, "/etc/passwd", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Run(ctx, []string{"true"}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := walkCount(ctx, tg, "/usr/share/doc"); err != nil {
		t.Fatal(err)
	}
	s1 := tg.Stats()
	if s1.Sessions != 3 || s1.BytesIn <= s0.BytesIn || s1.BytesOut <= s0.BytesOut {
		t.Errorf("after a read, a command and a walk: %+v, want 3 sessions and more bytes than %+v", s1, s0)
	}
}

func walkCount(ctx context.Context, tg target.Target, root string) (int, error) {
	n := 0
	err := tg.Walk(ctx, target.WalkOptions{Roots: []string{root}}, func(target.FileInfo) error { n++; return nil })
	return n, err
}

// TestProxyJump reaches one sshd through another, from a Config and from
// an ssh_config file.
func TestProxyJump(t *testing.T) {
	e := newEnv(t, sshtest.Options{})
	jump := sshtest.Start(t, sshtest.Options{})
	jump.AuthorizeKey(t, e.users.NoSudo.Name, e.key.Public)
	dir := sshtest.TempDir(t)
	known := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(known, []byte(e.srv.KnownHostsLine()+"\n"+jump.KnownHostsLine()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	cfg := e.config(e.users.NoSudo)
	cfg.KnownHostsFile = known
	cfg.Jump = &sshtarget.Config{Host: jump.Host, Port: jump.Port, User: e.users.NoSudo.Name}
	tg := dial(t, cfg)
	loggedIn(t, tg, e.users.NoSudo.Name)
	if !strings.Contains(jump.Log(), "Accepted publickey for "+e.users.NoSudo.Name) {
		t.Error("the jump host logged no login")
	}

	keyFile := e.key.WriteFile(t, dir)
	conf := filepath.Join(dir, "config")
	if err := os.WriteFile(conf, fmt.Appendf(nil, `
Host bastion
    HostName %s
    Port %d
Host target
    HostName %s
    Port %d
    User %s
    IdentityFile %s
    ProxyJump %s@bastion
`, jump.Host, jump.Port, e.srv.Host, e.srv.Port, e.users.NoSudo.Name, keyFile, e.users.NoSudo.Name), 0o600); err != nil {
		t.Fatal(err)
	}
	fc, err := sshtarget.ConfigFromSSHConfig("target", conf)
	if err != nil {
		t.Fatal(err)
	}
	fc.KnownHostsFile = known
	loggedIn(t, dial(t, fc), e.users.NoSudo.Name)

	// A jump host that cannot reach the target: unreachable.
	cfg.Port = closedPort(t)
	if err := dialErr(t, cfg); !errors.Is(err, sshtarget.ErrUnreachable) {
		t.Errorf("through the jump host to a closed port: %v, want ErrUnreachable", err)
	}
}
