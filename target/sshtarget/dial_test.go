package sshtarget_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/plumbhq/plumb/internal/sshtest"
	"github.com/plumbhq/plumb/target/sshtarget"
)

// dialErr dials cfg and expects an error.
func dialErr(t *testing.T, cfg sshtarget.Config) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tg, err := sshtarget.Dial(ctx, cfg)
	if err == nil {
		tg.Close()
		t.Fatalf("Dial succeeded, want an error")
	}
	return err
}

// loggedIn checks that tg runs commands as user.
func loggedIn(t *testing.T, tg *sshtarget.Target, user string) {
	t.Helper()
	res, err := tg.Run(testCtx(t), []string{"id", "-un"}, 1024)
	if err != nil || strings.TrimSpace(string(res.Stdout)) != user {
		t.Fatalf("id -un = %q, %v; want %s", res.Stdout, err, user)
	}
}

func TestAuth(t *testing.T) {
	e := newEnv(t, sshtest.Options{})
	u := e.users.NoSudo
	dir := sshtest.TempDir(t)

	t.Run("key file", func(t *testing.T) {
		cfg := e.config(u)
		cfg.PrivateKey, cfg.PrivateKeyFile = nil, e.key.WriteFile(t, dir)
		loggedIn(t, dial(t, cfg), u.Name)
	})
	t.Run("encrypted key with passphrase", func(t *testing.T) {
		k := sshtest.NewKey(t, "correct horse")
		e.srv.AuthorizeKey(t, u.Name, k.Public)
		cfg := e.config(u)
		cfg.PrivateKey, cfg.PrivateKeyFile, cfg.Passphrase = nil, k.WriteFile(t, dir), "correct horse"
		loggedIn(t, dial(t, cfg), u.Name)

		cfg.Passphrase = ""
		if err := dialErr(t, cfg); !errors.Is(err, sshtarget.ErrAuth) {
			t.Errorf("encrypted key without passphrase: %v, want ErrAuth", err)
		}
		cfg.Passphrase = "wrong"
		if err := dialErr(t, cfg); err == nil {
			t.Error("wrong passphrase accepted")
		}
	})
	t.Run("password", func(t *testing.T) {
		cfg := e.config(u)
		cfg.PrivateKey, cfg.Password = nil, u.Password
		loggedIn(t, dial(t, cfg), u.Name)
	})
	t.Run("agent", func(t *testing.T) {
		cfg := e.config(u)
		cfg.PrivateKey, cfg.UseAgent, cfg.AgentSocket = nil, true, sshtest.StartAgent(t, e.key)
		loggedIn(t, dial(t, cfg), u.Name)
	})
	t.Run("agent without socket", func(t *testing.T) {
		cfg := e.config(u)
		cfg.PrivateKey, cfg.UseAgent, cfg.AgentSocket = nil, true, filepath.Join(dir, "no-agent.sock")
		if err := dialErr(t, cfg); err == nil || errors.Is(err, sshtarget.ErrAuth) {
			t.Errorf("missing agent: %v, want a plain error", err)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		cfg := e.config(u)
		cfg.PrivateKey = sshtest.NewKey(t, "").PEM
		err := dialErr(t, cfg)
		if !errors.Is(err, sshtarget.ErrAuth) {
			t.Errorf("wrong key: %v, want ErrAuth", err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		cfg := e.config(u)
		cfg.PrivateKey, cfg.Password = nil, "not the password"
		if err := dialErr(t, cfg); !errors.Is(err, sshtarget.ErrAuth) {
			t.Errorf("wrong password: %v, want ErrAuth", err)
		}
	})
	t.Run("no method", func(t *testing.T) {
		cfg := e.config(u)
		cfg.PrivateKey = nil
		if err := dialErr(t, cfg); !errors.Is(err, sshtarget.ErrAuth) {
			t.Errorf("no method: %v, want ErrAuth", err)
		}
	})
}

// TestKeyboardInteractive needs PAM: on Linux sshd offers
// keyboard-interactive only through it. Password authentication is off,
// so the password can only go through keyboard-interactive.
func TestKeyboardInteractive(t *testing.T) {
	if _, err := os.Stat("/etc/pam.d/sshd"); err != nil {
		sshtest.Missing(t, "no /etc/pam.d/sshd for a PAM sshd (Debian package openssh-server)")
	}
	e := newEnv(t, sshtest.Options{UsePAM: true, Config: []string{"PasswordAuthentication no", "AuthenticationMethods keyboard-interactive"}})
	u := e.users.NoSudo
	cfg := e.config(u)
	cfg.PrivateKey, cfg.Password = nil, u.Password
	loggedIn(t, dial(t, cfg), u.Name)
	if !strings.Contains(e.srv.Log(), "Accepted keyboard-interactive/pam for "+u.Name) {
		t.Errorf("sshd did not log a keyboard-interactive login:\n%s", e.srv.Log())
	}
	cfg.Password = "wrong"
	if err := dialErr(t, cfg); !errors.Is(err, sshtarget.ErrAuth) {
		t.Errorf("wrong password: %v, want ErrAuth", err)
	}
}

func TestHostKeys(t *testing.T) {
	e := newEnv(t, sshtest.Options{})
	u := e.users.NoSudo
	dir := sshtest.TempDir(t)

	t.Run("unknown host refused", func(t *testing.T) {
		for name, file := range map[string]string{"missing file": filepath.Join(dir, "none"), "empty file": filepath.Join(dir, "empty")} {
			if name == "empty file" {
				if err := os.WriteFile(file, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			cfg := e.config(u)
			cfg.KnownHostsFile = file
			if err := dialErr(t, cfg); !errors.Is(err, sshtarget.ErrHostKey) {
				t.Errorf("%s: %v, want ErrHostKey", name, err)
			}
		}
		if strings.Contains(e.srv.Log(), "Accepted publickey for "+u.Name) {
			t.Error("the client authenticated to an unknown host")
		}
	})
	t.Run("accept new and record", func(t *testing.T) {
		file := filepath.Join(dir, "sub", "known_hosts")
		cfg := e.config(u)
		cfg.KnownHostsFile, cfg.AcceptNewHostKey = file, true
		loggedIn(t, dial(t, cfg), u.Name)
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(string(b)); got != e.srv.KnownHostsLine() {
			t.Errorf("recorded %q, want %q", got, e.srv.KnownHostsLine())
		}
		// Now known: accepted without AcceptNewHostKey, and not recorded twice.
		cfg.AcceptNewHostKey = false
		loggedIn(t, dial(t, cfg), u.Name)
		if b2, _ := os.ReadFile(file); string(b2) != string(b) {
			t.Errorf("known hosts file changed on a known host: %q", b2)
		}
	})
	t.Run("mismatch always refused", func(t *testing.T) {
		other := sshtest.NewKey(t, "")
		file := filepath.Join(dir, "mismatch")
		line := "[" + e.srv.Host + "]:" + strconv.Itoa(e.srv.Port) + " " + string(ssh.MarshalAuthorizedKey(other.Public))
		if err := os.WriteFile(file, []byte(line), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, accept := range []bool{false, true} {
			cfg := e.config(u)
			cfg.KnownHostsFile, cfg.AcceptNewHostKey = file, accept
			if err := dialErr(t, cfg); !errors.Is(err, sshtarget.ErrHostKeyMismatch) {
				t.Errorf("AcceptNewHostKey=%v: %v, want ErrHostKeyMismatch", accept, err)
			}
		}
		if b, _ := os.ReadFile(file); string(b) != line {
			t.Errorf("known hosts file changed after a mismatch: %q", b)
		}
	})
}

func TestUnreachable(t *testing.T) {
	sshtest.Require(t)
	t.Run("closed port", func(t *testing.T) {
		cfg := sshtarget.Config{Host: "127.0.0.1", Port: closedPort(t), User: "nobody", Password: "x", KnownHostsFile: os.DevNull, ConnectTimeout: 5 * time.Second}
		if err := dialErr(t, cfg); !errors.Is(err, sshtarget.ErrUnreachable) {
			t.Errorf("closed port: %v, want ErrUnreachable", err)
		}
	})
	t.Run("unknown name", func(t *testing.T) {
		cfg := sshtarget.Config{Host: "no-such-host.invalid", User: "nobody", Password: "x", KnownHostsFile: os.DevNull, ConnectTimeout: 5 * time.Second}
		if err := dialErr(t, cfg); !errors.Is(err, sshtarget.ErrUnreachable) {
			t.Errorf("unknown name: %v, want ErrUnreachable", err)
		}
	})
	t.Run("silent port", func(t *testing.T) {
		host, port := splitAddr(t, sshtest.SilentListener(t))
		cfg := sshtarget.Config{Host: host, Port: port, User: "nobody", Password: "x", KnownHostsFile: os.DevNull, ConnectTimeout: time.Second}
		start := time.Now()
		err := dialErr(t, cfg)
		took := time.Since(start)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("silent port: %v, want context.DeadlineExceeded", err)
		}
		if took < 900*time.Millisecond || took > 3*time.Second {
			t.Errorf("silent port failed after %v, want about the 1s ConnectTimeout", took)
		}
	})
}
