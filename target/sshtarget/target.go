// Package sshtarget scans a host over SSH without installing anything on
// it: a target.Target that reads files over one SFTP session, walks the
// file system with one remote find, and runs commands as SSH exec
// sessions, all multiplexed over one connection.
//
// Everything that comes from the host is treated as hostile: every read
// is bounded (file content, command output, each walk record), every
// remote call has a timeout, and no command line is ever built from the
// host's output or from policy text except through ShellQuote.
//
// # Privilege
//
// With Config.Sudo set to "sudo", elevation is decided once, when Dial
// starts the SFTP server: the server is started in an exec session as
// `sudo -n -- <sftp-server>`, its path found among the usual places in
// the same command, and SFTP is spoken over the session's standard input
// and output. All file operations go through that one elevated server.
// With Config.SudoPassword, when sudo -n says a password is needed, the
// start is repeated as `sudo -k -S --` (empty prompt) with the password
// written once to its standard input, never on a command line; commands
// and the walk do the same, each under its own sudo.
//
// If sudo refuses, Dial still succeeds: Privilege returns the refusal
// (wrapping ErrPrivilege), sudo is never tried again (a wrong password
// tried once per command could lock the account), and everything runs as
// the login user. Then a file operation denied by permissions returns an
// error wrapping both fs.ErrPermission and ErrPrivilege, a walk reports
// unreadable directories the same way, and a command that exits non-zero
// comes with an error wrapping ErrPrivilege (its result filled in), since
// it may have failed for want of privilege. Reads that work as the login
// user work as usual. A command that sudoers does not allow (sudo accepted
// for the SFTP server) fails with an error wrapping ErrPrivilege.
//
// # Differences from target.Local
//
// SFTP version 3 (OpenSSH's) has whole-second modification times and no
// device numbers: Stat, Lstat and ReadDir report ModTime truncated to the
// second and Dev 0, while Walk (through find) reports both exactly.
// ReadFile refuses devices as well as FIFOs and sockets: opening one
// could block the SFTP server. Commands run with the login environment
// plus the fixed PATH and LC_ALL=C, and a timeout ends them with SIGTERM
// to their process group (sshd's signal request), not SIGKILL.
//
// # Host requirements
//
// A POSIX login shell (sh, bash, dash, ksh, zsh) for the login user; an
// SFTP server (the sftp subsystem, or for sudo an sftp-server binary in
// /usr/lib/openssh, /usr/libexec/openssh, /usr/lib/ssh or /usr/libexec);
// GNU find for the one-command walk (busybox find falls back to listing
// directories over SFTP); uname. Nothing is written to the host.
package sshtarget

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"golang.org/x/crypto/ssh"

	"github.com/plumbhq/plumb/target"
)

// Target is a host reached over SSH. Its methods are safe for concurrent
// use; each runs over the one connection Dial opened.
type Target struct {
	cfg    Config
	name   string
	client *ssh.Client
	jump   *ssh.Client // nil without Config.Jump
	cnt    *counters
	sem    chan struct{} // bounds concurrent exec sessions
	// nonce marks the lines this package's own shell snippets print, so
	// they are told apart from a command's output.
	nonce string
	log   *slog.Logger

	mu sync.Mutex
	fs *sftpConn // the SFTP server; nil until started or after a failure
	// privErr is why elevation was refused (wraps ErrPrivilege), set once
	// at the first SFTP start; elevate is then false for good.
	privErr error
	elevate bool
	closed  bool
	// sftpWalkOnly skips find (tests of the SFTP walk).
	sftpWalkOnly bool
}

var _ target.Target = (*Target)(nil)

// Dial connects and logs in to cfg.Host (through cfg.Jump when set),
// checks its host key against cfg.KnownHostsFile, and starts the SFTP
// server (elevated when cfg.Sudo asks for it; see Privilege). Errors wrap
// ErrUnreachable, ErrHostKey, ErrHostKeyMismatch, ErrAuth or
// context.DeadlineExceeded (past cfg.ConnectTimeout).
func Dial(ctx context.Context, cfg Config) (*Target, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	cnt := &counters{}
	dial := dialFunc(tcpDial)
	var jump *ssh.Client
	if cfg.Jump != nil {
		jcfg, err := cfg.jumpConfig().withDefaults()
		if err != nil {
			return nil, fmt.Errorf("jump host: %w", err)
		}
		// The jump host's own bytes are not counted: Stats are about the
		// target's stream.
		jump, err = connect(ctx, jcfg, tcpDial, &counters{})
		if err != nil {
			return nil, fmt.Errorf("jump host %s: %w", jcfg.addr(), err)
		}
		dial = func(ctx context.Context, addr string) (net.Conn, error) {
			return jump.DialContext(ctx, "tcp", addr)
		}
	}
	client, err := connect(ctx, cfg, dial, cnt)
	if err != nil {
		if jump != nil {
			jump.Close()
		}
		return nil, err
	}
	var nb [8]byte
	_, _ = rand.Read(nb[:])
	t := &Target{
		cfg:     cfg,
		name:    "ssh:" + cfg.User + "@" + net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		client:  client,
		jump:    jump,
		cnt:     cnt,
		sem:     make(chan struct{}, cfg.Limits.MaxSessions),
		nonce:   hex.EncodeToString(nb[:]),
		log:     cfg.Logger.With("target", cfg.addr()),
		elevate: cfg.Sudo == SudoSudo,
	}
	// Elevation is decided here, once: the SFTP server is the one
	// elevated session of the scan, and a host that cannot serve files
	// is better refused before the scan starts.
	if _, err := t.sftp(ctx); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// Name is "ssh:user@host:port".
func (t *Target) Name() string { return t.name }

// Stats returns the sessions opened and bytes moved so far.
func (t *Target) Stats() Stats {
	return Stats{Sessions: t.cnt.sessions.Load(), BytesIn: t.cnt.in.Load(), BytesOut: t.cnt.out.Load()}
}

// Privilege returns nil when the target runs as asked: without sudo, or
// with sudo accepted. When sudo was refused it returns why, wrapping
// ErrPrivilege; the target then runs everything as the login user.
func (t *Target) Privilege() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.privErr
}

// elevation returns whether to use sudo, and the refusal when it was
// asked for and refused.
func (t *Target) elevation() (bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.elevate, t.privErr
}

// Close ends the SFTP server, the connection and the jump host's.
func (t *Target) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	fs := t.fs
	t.fs = nil
	t.mu.Unlock()
	if fs != nil {
		fs.close()
	}
	err := t.client.Close()
	if t.jump != nil {
		if jerr := t.jump.Close(); err == nil {
			err = jerr
		}
	}
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// marker is a line this package's snippets print to stderr before
// exiting 127, so "not found" is not confused with a command's own exit.
func (t *Target) marker(what string) string { return "plumb-" + t.nonce + "-" + what }
