package sshtest

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

func TestServer(t *testing.T) {
	users := EnsureUsers(t)
	s := Start(t, Options{})
	key := NewKey(t, "")
	s.AuthorizeKey(t, users.NoSudo.Name, key.Public)
	var seen ssh.PublicKey
	c, err := ssh.Dial("tcp", s.Addr, &ssh.ClientConfig{
		User: users.NoSudo.Name,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(key.Signer)},
		HostKeyCallback: func(_ string, _ net.Addr, k ssh.PublicKey) error {
			seen = k
			return nil
		},
		Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatalf("login: %v\n%s", err, s.Log())
	}
	defer c.Close()
	if string(seen.Marshal()) != string(s.HostKey.Marshal()) {
		t.Error("the server presented another host key")
	}
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.Output("id -un")
	if err != nil || strings.TrimSpace(string(out)) != NoSudoUser {
		t.Errorf("id -un = %q, %v", out, err)
	}
	if !strings.Contains(s.Log(), "Accepted publickey for "+NoSudoUser) {
		t.Errorf("log lacks the login:\n%s", s.Log())
	}
	if b, _ := os.ReadFile(s.KnownHosts); strings.TrimSpace(string(b)) != s.KnownHostsLine() {
		t.Errorf("known_hosts = %q", b)
	}
}

// TestUsers: the sudo rules do what the tests rely on.
func TestUsers(t *testing.T) {
	u := EnsureUsers(t)
	sudo := func(user string, args ...string) error {
		return exec.Command("su", append([]string{"-s", "/bin/sh", "-c", "sudo -n -- \"$@\"", user, "sh"}, args...)...).Run()
	}
	if err := sudo(u.Sudo.Name, "/usr/bin/true"); err != nil {
		t.Errorf("%s may not sudo true: %v", u.Sudo.Name, err)
	}
	if err := sudo(u.Sudo.Name, "/usr/bin/whoami"); err == nil {
		t.Errorf("%s may sudo whoami without a password", u.Sudo.Name)
	}
	if err := sudo(u.NoSudo.Name, "/usr/bin/true"); err == nil {
		t.Errorf("%s may sudo", u.NoSudo.Name)
	}
	if err := sudo(u.SudoPassword.Name, "/usr/bin/true"); err == nil {
		t.Errorf("%s may sudo without a password", u.SudoPassword.Name)
	}
}

func TestSilentListener(t *testing.T) {
	addr := SilentListener(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("the listener spoke: %d bytes, %v", n, err)
	}
}

func TestTempDir(t *testing.T) {
	d := TempDir(t)
	fi, err := os.Stat(d)
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("TempDir mode %v, %v", fi.Mode(), err)
	}
}
