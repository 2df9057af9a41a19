package sshtarget

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pkg/sftp"

	"github.com/plumbhq/plumb/internal/sshtest"
)

// TestSFTPWatchdog: a request unanswered past CommandTimeout fails with
// context.DeadlineExceeded and restarts the SFTP server (OpenSSH's serves
// one request at a time, so a stuck one would block every later one);
// the next operation gets a new server.
func TestSFTPWatchdog(t *testing.T) {
	users := sshtest.EnsureUsers(t)
	srv := sshtest.Start(t, sshtest.Options{})
	key := sshtest.NewKey(t, "")
	srv.AuthorizeKey(t, users.NoSudo.Name, key.Public)
	tg, err := Dial(context.Background(), Config{
		Host: srv.Host, Port: srv.Port, User: users.NoSudo.Name, PrivateKey: key.PEM,
		KnownHostsFile: srv.KnownHosts, CommandTimeout: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	tg.mu.Lock()
	first := tg.fs
	tg.mu.Unlock()

	release := make(chan struct{})
	defer close(release)
	err = tg.sftpDo(context.Background(), func(context.Context, *sftp.Client) error {
		<-release // stands for a request the server never answers
		return nil
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stuck request: %v, want DeadlineExceeded", err)
	}
	time.Sleep(100 * time.Millisecond) // the watchdog fires with the deadline
	if _, err := tg.Stat(context.Background(), "/etc/passwd"); err != nil {
		t.Fatalf("Stat after the restart: %v", err)
	}
	tg.mu.Lock()
	second := tg.fs
	tg.mu.Unlock()
	if second == first || second == nil {
		t.Error("the SFTP server was not restarted")
	}
	if s := tg.Stats().Sessions; s != 2 {
		t.Errorf("%d sessions, want 2 (the first server and its replacement)", s)
	}
}
