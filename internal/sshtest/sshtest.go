// Package sshtest runs real OpenSSH servers for tests: private sshd
// instances on 127.0.0.1, each with a random free port, a generated host
// key and its own sshd_config, authorized keys and log in a temporary
// directory, killed when the test ends. It never touches the system's
// sshd or its configuration.
//
// It also sets up the local users the servers log in (plumbtest, with
// sudo for the commands the tests run; plumbnosudo, without; plumbsudopw,
// with sudo behind its password), keys, an in-process SSH agent and a
// listener that never speaks SSH.
//
// It installs nothing. It needs Linux, root (to start sshd and create
// users), /usr/sbin/sshd (Debian: openssh-server) and, for the users'
// sudo rules, sudo. When a part is missing, the test fails under CI=true
// and is skipped, with the reason, elsewhere.
package sshtest

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// SSHD is the OpenSSH server binary.
const SSHD = "/usr/sbin/sshd"

// The test users and their passwords.
const (
	SudoUser             = "plumbtest"   // sudo without a password for SudoCommands
	NoSudoUser           = "plumbnosudo" // no sudo at all
	SudoPasswordUser     = "plumbsudopw" // sudo for everything, with its password
	SudoUserPassword     = "plumbtest-Pw-1"
	NoSudoUserPassword   = "plumbnosudo-Pw-2"
	SudoPasswordPassword = "plumbsudopw-Pw-3"
)

// SudoCommands are what SudoUser may run with sudo -n, besides the SFTP
// server: the walk's find and the commands the conformance suite runs.
// /usr/bin/whoami is deliberately absent, to test a refusal.
var SudoCommands = []string{
	"/usr/bin/find", "/usr/bin/echo", "/bin/echo", "/usr/bin/sh", "/bin/sh",
	"/usr/bin/cat", "/bin/cat", "/usr/bin/id", "/usr/bin/true", "/usr/bin/head", "/usr/bin/yes",
}

// sftpServerPaths are where distributions install sftp-server.
var sftpServerPaths = []string{
	"/usr/lib/openssh/sftp-server",
	"/usr/libexec/openssh/sftp-server",
	"/usr/lib/ssh/sftp-server",
	"/usr/libexec/sftp-server",
}

// Missing stops a test for want of part of the environment: it fails
// under CI=true (CI must provide everything) and skips elsewhere, saying
// what is missing either way.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("sshtest: %s (CI=true: test.sh must install openssh-server and sudo, and run as root)", msg)
	}
	t.Skipf("sshtest: %s; skipping (needs root, openssh-server and sudo)", msg)
}

// Require checks that servers can be started: Linux, root, sshd.
func Require(t testing.TB) {
	t.Helper()
	if runtime.GOOS != "linux" {
		Missing(t, "real-sshd tests run on Linux only")
	}
	if os.Geteuid() != 0 {
		Missing(t, "not root: starting sshd and creating test users needs root")
	}
	if _, err := os.Stat(SSHD); err != nil {
		Missing(t, "%s is missing (Debian package openssh-server)", SSHD)
	}
	if SFTPServerPath() == "" {
		Missing(t, "no sftp-server in %v (Debian package openssh-sftp-server)", sftpServerPaths)
	}
}

// RequireSudo checks Require and that sudo is installed.
func RequireSudo(t testing.TB) {
	t.Helper()
	Require(t)
	if _, err := exec.LookPath("sudo"); err != nil {
		Missing(t, "sudo is missing (Debian package sudo)")
	}
}

// SFTPServerPath returns this machine's sftp-server, or "".
func SFTPServerPath() string {
	for _, p := range sftpServerPaths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// TempDir returns a new directory that every user may read and traverse
// (t.TempDir's parent is private to root, and sshd reads authorized keys,
// and the tests' users read trees, as those users). It is removed when
// the test ends.
func TempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "plumb-sshtest-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Trees built by tests may hold unreadable directories.
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if d != nil && d.IsDir() {
				_ = os.Chmod(p, 0o755)
			}
			return nil
		})
		_ = os.RemoveAll(dir)
	})
	return dir
}

// User is a local account the servers log in.
type User struct {
	Name, Password string
	UID, GID       uint32
	Home           string
}

// Users are the three test users.
type Users struct {
	Sudo, NoSudo, SudoPassword User
}

// EnsureUsers creates the test users when missing, (re)sets their
// passwords and installs their sudo rules in /etc/sudoers.d (checked with
// visudo before it is put in place). It is idempotent, and safe when test
// binaries of several packages run it at once.
func EnsureUsers(t testing.TB) Users {
	t.Helper()
	RequireSudo(t)
	u := Users{
		Sudo:         ensureUser(t, SudoUser, SudoUserPassword),
		NoSudo:       ensureUser(t, NoSudoUser, NoSudoUserPassword),
		SudoPassword: ensureUser(t, SudoPasswordUser, SudoPasswordPassword),
	}
	allowed := append([]string{SFTPServerPath()}, SudoCommands...)
	ensureSudoers(t, "plumbtest", fmt.Sprintf(
		"# Installed by plumb's tests (internal/sshtest).\n"+
			"Defaults:%s !lecture, !use_pty\n"+
			"Defaults:%s !lecture, !use_pty\n"+
			"%s ALL=(root) NOPASSWD: %s\n"+
			"%s ALL=(root) PASSWD: ALL\n",
		SudoUser, SudoPasswordUser, SudoUser, strings.Join(allowed, ", "), SudoPasswordUser))
	return u
}

// retry runs f until it succeeds, a few times: useradd and chpasswd fail
// while another process holds /etc/passwd's lock.
func retry(f func() error) error {
	var err error
	for i := range 20 {
		if err = f(); err == nil {
			return nil
		}
		time.Sleep(time.Duration(50*(i+1)) * time.Millisecond)
	}
	return err
}

func run(name string, stdin string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

func ensureUser(t testing.TB, name, password string) User {
	t.Helper()
	err := retry(func() error {
		if _, err := user.Lookup(name); err == nil {
			return nil
		}
		return run("useradd", "", "--create-home", "--shell", "/bin/sh", "--user-group", name)
	})
	if err != nil {
		t.Fatalf("sshtest: creating user %s: %v", name, err)
	}
	if err := retry(func() error { return run("chpasswd", name+":"+password+"\n") }); err != nil {
		t.Fatalf("sshtest: setting the password of %s: %v", name, err)
	}
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return User{Name: name, Password: password, UID: uint32(uid), GID: uint32(gid), Home: u.HomeDir}
}

// ensureSudoers installs /etc/sudoers.d/NAME with content, unless it is
// there already.
func ensureSudoers(t testing.TB, name, content string) {
	t.Helper()
	dst := filepath.Join("/etc/sudoers.d", name)
	if b, err := os.ReadFile(dst); err == nil && string(b) == content {
		return
	}
	tmp, err := os.CreateTemp("/etc/sudoers.d", ".plumbtest-*")
	if err != nil {
		t.Fatalf("sshtest: %v", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(content); err != nil {
		t.Fatal(err)
	}
	tmp.Close()
	if err := os.Chmod(tmp.Name(), 0o440); err != nil {
		t.Fatal(err)
	}
	if err := run("visudo", "", "-c", "-q", "-f", tmp.Name()); err != nil {
		t.Fatalf("sshtest: sudoers rule rejected: %v", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		t.Fatal(err)
	}
}

// Key is a generated ed25519 key pair.
type Key struct {
	Private ed25519.PrivateKey
	Signer  ssh.Signer
	Public  ssh.PublicKey
	// PEM is the private key in OpenSSH format, encrypted when a
	// passphrase was given.
	PEM []byte
}

// NewKey generates a key; a non-empty passphrase encrypts its PEM.
func NewKey(t testing.TB, passphrase string) Key {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "plumb test key")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "plumb test key", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	return Key{Private: priv, Signer: signer, Public: signer.PublicKey(), PEM: pem.EncodeToMemory(block)}
}

// WriteFile writes the key's PEM to a 0600 file in dir and returns its
// path.
func (k Key) WriteFile(t testing.TB, dir string) string {
	t.Helper()
	f, err := os.CreateTemp(dir, "id_ed25519-*")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(k.PEM); err != nil {
		t.Fatal(err)
	}
	if err := f.Chmod(0o600); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

// Options configure a server.
type Options struct {
	// UsePAM turns PAM on: on Linux, keyboard-interactive authentication
	// exists only through PAM.
	UsePAM bool
	// NoSFTPSubsystem leaves out the "Subsystem sftp" line, as some
	// hardened servers do.
	NoSFTPSubsystem bool
	// Config lines are appended to the generated sshd_config.
	Config []string
}

// Server is a running sshd.
type Server struct {
	Host string // 127.0.0.1
	Port int
	Addr string // Host:Port
	// HostKey is the server's public host key; KnownHosts a known_hosts
	// file holding it.
	HostKey    ssh.PublicKey
	KnownHosts string
	Dir        string
	LogFile    string
	cmd        *exec.Cmd
	exited     chan struct{}
}

// Start starts an sshd; it is stopped when the test ends (its log is
// printed then if the test failed).
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	Require(t)
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // sshd's privilege separation directory
		t.Fatalf("sshtest: %v", err)
	}
	dir := TempDir(t)
	s := &Server{Host: "127.0.0.1", Dir: dir, LogFile: filepath.Join(dir, "sshd.log")}

	hk := NewKey(t, "")
	hostKeyFile := filepath.Join(dir, "host_ed25519")
	if err := os.WriteFile(hostKeyFile, hk.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	s.HostKey = hk.Public
	if err := os.Mkdir(filepath.Join(dir, "authorized_keys"), 0o755); err != nil {
		t.Fatal(err)
	}

	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			t.Fatalf("sshtest: %v", err)
		}
		s.Port = port
		s.Addr = net.JoinHostPort(s.Host, strconv.Itoa(port))
		cfgFile := filepath.Join(dir, "sshd_config")
		if err := s.writeConfig(cfgFile, hostKeyFile, opts); err != nil {
			t.Fatalf("sshtest: %v", err)
		}
		if lastErr = s.start(cfgFile); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("sshtest: starting sshd: %v\n%s", lastErr, s.Log())
	}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("sshd log (%s):\n%s", s.Addr, tail(s.Log(), 8000))
		}
	})

	s.KnownHosts = filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(s.KnownHosts, []byte(s.KnownHostsLine()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return s
}

// KnownHostsLine is the known_hosts line for this server.
func (s *Server) KnownHostsLine() string {
	return "[" + s.Host + "]:" + strconv.Itoa(s.Port) + " " + strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.HostKey)))
}

// writeConfig writes sshd_config. Options only newer servers know are
// kept when `sshd -t` accepts them.
func (s *Server) writeConfig(file, hostKey string, opts Options) error {
	yesNo := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	lines := []string{
		"Port " + strconv.Itoa(s.Port),
		"ListenAddress " + s.Host,
		"HostKey " + hostKey,
		"PidFile " + filepath.Join(s.Dir, "sshd.pid"),
		"UsePAM " + yesNo(opts.UsePAM),
		"StrictModes no",
		"AuthorizedKeysFile " + filepath.Join(s.Dir, "authorized_keys", "%u"),
		"PubkeyAuthentication yes",
		"PasswordAuthentication yes",
		"KbdInteractiveAuthentication " + yesNo(opts.UsePAM),
		"PermitRootLogin prohibit-password",
		"LogLevel VERBOSE",
		"MaxSessions 10",
		"MaxStartups 100:30:200",
		"MaxAuthTries 20",
		"PrintMotd no",
		"PrintLastLog no",
		"UseDNS no",
		"X11Forwarding no",
		"AllowTcpForwarding yes",
	}
	if !opts.NoSFTPSubsystem {
		lines = append(lines, "Subsystem sftp "+SFTPServerPath())
	}
	lines = append(lines, opts.Config...)
	write := func(extra ...string) error {
		return os.WriteFile(file, []byte(strings.Join(append(slices.Clone(lines), extra...), "\n")+"\n"), 0o644)
	}
	// OpenSSH 9.8 and later penalise addresses that fail to log in,
	// which the tests do on purpose.
	if err := write("PerSourcePenalties no"); err != nil {
		return err
	}
	if exec.Command(SSHD, "-t", "-f", file).Run() == nil {
		return nil
	}
	if err := write(); err != nil {
		return err
	}
	if out, err := exec.Command(SSHD, "-t", "-f", file).CombinedOutput(); err != nil {
		return fmt.Errorf("sshd -t: %w: %s", err, out)
	}
	return nil
}

// start runs sshd in the foreground and waits for its banner.
func (s *Server) start(cfgFile string) error {
	logf, err := os.OpenFile(s.LogFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(SSHD, "-D", "-e", "-f", cfgFile)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	s.cmd = cmd
	s.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(s.exited)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return errors.New("sshd exited")
		default:
		}
		if banner(s.Addr) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.stop()
	return errors.New("sshd did not answer within 15s")
}

// banner reports whether addr answers with an SSH banner.
func banner(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "SSH-2.0-")
}

// stop ends sshd and the sessions it forked (its process group).
func (s *Server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	pid := s.cmd.Process.Pid
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-s.exited
	}
	// The per-connection processes sshd forked have their own sessions
	// (setsid) and end when their clients close.
	s.cmd = nil
}

// Log returns sshd's log so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.LogFile)
	return string(b)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// AuthorizeKey lets key log in as u.
func (s *Server) AuthorizeKey(t testing.TB, u string, key ssh.PublicKey) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(s.Dir, "authorized_keys", u), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(ssh.MarshalAuthorizedKey(key)); err != nil {
		t.Fatal(err)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartAgent serves an SSH agent holding keys on a unix socket, in
// process (golang.org/x/crypto/ssh/agent's keyring), and returns the
// socket's path. It stops when the test ends.
func StartAgent(t testing.TB, keys ...Key) string {
	t.Helper()
	kr := agent.NewKeyring()
	for _, k := range keys {
		if err := kr.Add(agent.AddedKey{PrivateKey: k.Private, Comment: "plumb test"}); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(TempDir(t), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = agent.ServeAgent(kr, c)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	return sock
}

// SilentListener accepts TCP connections on 127.0.0.1 and never sends a
// byte (a port that is open but not SSH). It returns the address.
func SilentListener(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}
