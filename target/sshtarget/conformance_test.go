package sshtarget_test

import (
	"testing"

	"github.com/plumbhq/plumb/internal/sshtest"
	"github.com/plumbhq/plumb/target/sshtarget"
	"github.com/plumbhq/plumb/target/targettest"
)

// TestConformance runs the target conformance suite against real sshd,
// over a tree in a directory the login users can read, as the login user
// and elevated with sudo (without and with a password), through find and
// through the SFTP walk.
func TestConformance(t *testing.T) {
	e := newEnv(t, sshtest.Options{})
	cases := []struct {
		name       string
		cfg        func() sshtarget.Config
		owner      *sshtest.User
		sftpWalk   bool
		privileged bool
	}{
		{"login user", func() sshtarget.Config { return e.config(e.users.NoSudo) }, &e.users.NoSudo, false, false},
		{"login user, SFTP walk", func() sshtarget.Config { return e.config(e.users.NoSudo) }, &e.users.NoSudo, true, false},
		{"sudo", func() sshtarget.Config {
			c := e.config(e.users.Sudo)
			c.Sudo = sshtarget.SudoSudo
			return c
		}, nil, false, true},
		{"sudo, SFTP walk", func() sshtarget.Config {
			c := e.config(e.users.Sudo)
			c.Sudo = sshtarget.SudoSudo
			return c
		}, nil, true, true},
		{"sudo with password", func() sshtarget.Config {
			c := e.config(e.users.SudoPassword)
			c.Sudo, c.SudoPassword = sshtarget.SudoSudo, e.users.SudoPassword.Password
			return c
		}, nil, false, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			targettest.Run(t, func(t *testing.T) targettest.Env {
				tg := dial(t, c.cfg())
				if err := tg.Privilege(); err != nil {
					t.Fatalf("Privilege: %v", err)
				}
				sshtarget.SetSFTPWalk(tg, c.sftpWalk)
				dir := sshtest.TempDir(t)
				return targettest.Env{Target: &wholeSeconds{Target: tg, dir: dir, owner: c.owner}, Dir: dir, Prefix: dir, Privileged: c.privileged}
			})
		})
	}
}
