package sshtarget

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/plumbhq/plumb/target"
)

// sftpServerPaths are where distributions install OpenSSH's sftp-server.
// The path of sshd's "Subsystem sftp" is not visible to a client, and
// sudo needs a path, so the first executable one is used.
var sftpServerPaths = []string{
	"/usr/lib/openssh/sftp-server",     // Debian, Ubuntu
	"/usr/libexec/openssh/sftp-server", // RHEL, Fedora, SUSE
	"/usr/lib/ssh/sftp-server",         // Arch, Alpine
	"/usr/libexec/sftp-server",         // BSDs, macOS
}

// sftpConn is one SFTP server session and its client.
type sftpConn struct {
	c    *sftp.Client
	sess *ssh.Session
	once sync.Once
}

// close ends the session first: the client's Close waits for its reader,
// which only ends once the session is gone.
func (s *sftpConn) close() {
	s.once.Do(func() {
		s.sess.Close()
		go s.c.Close()
	})
}

// sftp returns the running SFTP client, starting the server when there
// is none (at Dial, and after a reset). Starts are serialised by t.mu: a
// start is bounded by ConnectTimeout, and concurrent callers need the
// same server anyway.
func (t *Target) sftp(ctx context.Context) (*sftpConn, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, fmt.Errorf("%s: %w", t.name, net.ErrClosed)
	}
	if t.fs != nil {
		return t.fs, nil
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, t.cfg.ConnectTimeout)
	defer cancel()
	if t.elevate {
		c, err := t.startSudoSFTP(ctx, false)
		var pw *passwordNeeded
		if errors.As(err, &pw) {
			c, err = t.startSudoSFTP(ctx, true)
		}
		if err == nil {
			t.fs = c
			return c, nil
		}
		if perr := parent.Err(); perr != nil {
			// The caller gave up: that says nothing about sudo.
			return nil, fmt.Errorf("%s: starting the SFTP server with sudo: %w", t.name, perr)
		}
		if !errors.Is(err, ErrPrivilege) {
			return nil, fmt.Errorf("%s: starting the SFTP server with sudo: %w", t.name, err)
		}
		// Refused: decided for the life of the target (see the package
		// documentation); go on as the login user.
		t.elevate = false
		t.privErr = err
		t.log.Warn("sudo refused; running as the login user", "user", t.cfg.User, "err", err)
	}
	c, err := t.startSubsystemSFTP(ctx)
	if err != nil && ctx.Err() == nil {
		// Hardened hosts may drop the sftp subsystem from sshd_config
		// and keep the binary.
		var msg string
		c, msg, _, err = t.startExecSFTP(ctx, "", "", nil)
		if err != nil && containsLine(msg, t.marker("nosftp")) {
			err = fmt.Errorf("no sftp subsystem, and no sftp-server in %v", sftpServerPaths)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: starting the SFTP server: %w", t.name, err)
	}
	t.fs = c
	return c, nil
}

// dropSFTP forgets c (when it is still the current server) and closes
// it; the next file operation starts a new one. It is called when a
// request outlives CommandTimeout: OpenSSH's sftp-server answers requests
// one at a time, so one stuck request (a file swapped for a FIFO after
// the stat that checked it) would hold up every later one.
func (t *Target) dropSFTP(c *sftpConn, why string) {
	t.mu.Lock()
	if t.fs == c {
		t.fs = nil
	}
	t.mu.Unlock()
	t.log.Warn("restarting the SFTP server", "why", why)
	c.close()
}

// startSubsystemSFTP starts the sftp subsystem as the login user.
func (t *Target) startSubsystemSFTP(ctx context.Context) (*sftpConn, error) {
	s, err := t.newSession(ctx)
	if err != nil {
		return nil, err
	}
	stdin, stdout, stderr, err := sessionPipes(s)
	if err != nil {
		s.Close()
		return nil, err
	}
	go drain(stderr, nil)
	if err := s.RequestSubsystem("sftp"); err != nil {
		s.Close()
		return nil, fmt.Errorf("requesting the sftp subsystem: %w", err)
	}
	c, err := newSFTPClient(ctx, s, stdout, stdin)
	if err != nil {
		s.Close()
		return nil, err
	}
	return &sftpConn{c: c, sess: s}, nil
}

// startSudoSFTP starts sftp-server under sudo (see startExecSFTP). With
// withPassword the password is written once, before the protocol, to
// sudo -S, which reads it a byte at a time up to the newline and leaves
// the rest to sftp-server. A refusal (sudo exits, or complains on stderr
// while it waits for another password) returns an error wrapping
// ErrPrivilege, or passwordNeeded when sudo -n wants the password the
// configuration has.
func (t *Target) startSudoSFTP(ctx context.Context, withPassword bool) (*sftpConn, error) {
	prefix, password := sudoNoPassword, []byte(nil)
	if withPassword {
		prefix, password = sudoWithPassword, t.sudoStdin()
	}
	c, msg, refused, err := t.startExecSFTP(ctx, t.sudoCheck(), prefix, password)
	if err == nil {
		return c, nil
	}
	if ctx.Err() != nil && !refused {
		// sudo -S may still be waiting for a password: take silence
		// within the connect timeout as a refusal too.
		return nil, fmt.Errorf("%w: sudo did not start sftp-server within %v: %w", ErrPrivilege, t.cfg.ConnectTimeout, ctx.Err())
	}
	switch {
	case containsLine(msg, t.marker("nosudo")):
		return nil, fmt.Errorf("%w: sudo is not installed on the host", ErrPrivilege)
	case containsLine(msg, t.marker("nosftp")):
		return nil, fmt.Errorf("%w: no sftp-server to run with sudo in %v", ErrPrivilege, sftpServerPaths)
	}
	if !withPassword && t.retryWithPassword(1, []byte(msg)) {
		return nil, &passwordNeeded{}
	}
	if line, ok := sudoRefused([]byte(msg)); ok {
		return nil, fmt.Errorf("%w: sudo as %s: %s", ErrPrivilege, t.cfg.User, line)
	}
	return nil, fmt.Errorf("%w: sudo sftp-server as %s failed: %w (stderr: %q)", ErrPrivilege, t.cfg.User, err, clip(msg, 300))
}

// startExecSFTP runs sftp-server in an exec session, after check (shell
// text) and prefix (a sudo invocation, or nothing), and speaks SFTP over
// the session's standard input and output, writing stdin first. One
// command finds the server binary and execs it, so the start costs one
// session and no extra round trip. It returns what the session said on
// stderr when it failed, and whether a sudo refusal was seen there (the
// session is closed as soon as one is, since sudo -S would otherwise wait
// for another password, reading the protocol's bytes).
func (t *Target) startExecSFTP(ctx context.Context, check, prefix string, stdin []byte) (_ *sftpConn, stderrText string, refusedSeen bool, _ error) {
	script := shellPrelude + check + "for p in " + mustJoin(sftpServerPaths...) +
		`; do if test -x "$p"; then exec ` + prefix + `"$p"; fi; done; echo ` + t.marker("nosftp") + " >&2; exit 127"
	s, err := t.newSession(ctx)
	if err != nil {
		return nil, "", false, err
	}
	stdinW, stdout, stderr, err := sessionPipes(s)
	if err != nil {
		s.Close()
		return nil, "", false, err
	}
	refused := make(chan struct{})
	drained := make(chan struct{})
	errText := target.NewCappedBuffer(4096, nil)
	go func() {
		defer close(drained)
		drain(stderr, func(b []byte) {
			_, _ = errText.Write(b)
			if _, ok := sudoRefused(errText.Bytes()); ok {
				select {
				case <-refused:
				default:
					close(refused)
					s.Close() // ends the protocol start below
				}
			}
		})
	}()
	if err := s.Start(script); err != nil {
		s.Close()
		return nil, "", false, fmt.Errorf("starting sftp-server: %w", err)
	}
	if stdin != nil {
		if _, err := stdinW.Write(stdin); err != nil {
			s.Close()
			return nil, "", false, fmt.Errorf("writing to sudo: %w", err)
		}
	}
	c, err := newSFTPClient(ctx, s, stdout, stdinW)
	if err == nil {
		return &sftpConn{c: c, sess: s}, "", false, nil
	}
	s.Close()
	// Let the stderr reader see the rest of what was said: the session
	// is closed, so stderr ends soon (a host that never closes it costs
	// a second, and then what was read so far is used).
	select {
	case <-drained:
	case <-time.After(time.Second):
	}
	select {
	case <-refused:
		refusedSeen = true
	default:
	}
	return nil, string(errText.Bytes()), refusedSeen, err
}

// passwordNeeded: sudo -n refused for want of a password, which the
// configuration has: try again with sudo -S.
type passwordNeeded struct{}

func (*passwordNeeded) Error() string { return "sudo needs a password" }

func containsLine(text, line string) bool {
	for l := range strings.SplitSeq(text, "\n") {
		if l == line {
			return true
		}
	}
	return false
}

// newSFTPClient runs the SFTP version exchange, bounded by ctx: a server
// that never answers (sudo waiting for a password, a shell that prints a
// banner) must not hang Dial. Closing the session ends the exchange.
func newSFTPClient(ctx context.Context, s *ssh.Session, r io.Reader, w io.WriteCloser) (*sftp.Client, error) {
	type result struct {
		c   *sftp.Client
		err error
	}
	ch := make(chan result, 1)
	go func() {
		c, err := sftp.NewClientPipe(r, w)
		ch <- result{c, err}
	}()
	select {
	case res := <-ch:
		return res.c, res.err
	case <-ctx.Done():
		s.Close()
		go func() {
			// A host that never acknowledges the close keeps the
			// exchange blocked: do not wait for it here.
			if res := <-ch; res.c != nil {
				res.c.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

func sessionPipes(s *ssh.Session) (io.WriteCloser, io.Reader, io.Reader, error) {
	stdin, err := s.StdinPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	stdout, err := s.StdoutPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	stderr, err := s.StderrPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	return stdin, stdout, stderr, nil
}

// drain reads r to the end (an unread stderr would stall the channel),
// passing each chunk to fn when set.
func drain(r io.Reader, fn func([]byte)) {
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		if n > 0 && fn != nil {
			fn(buf[:n])
		}
		if err != nil {
			return
		}
	}
}
