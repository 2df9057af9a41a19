package sshtarget

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Stats count what a target cost the host and the network.
type Stats struct {
	// Sessions is the number of SSH sessions (channels) opened: one per
	// command and walk, one per SFTP server start.
	Sessions int64
	// BytesIn and BytesOut count the SSH stream to the target (after
	// encryption), handshake included.
	BytesIn, BytesOut int64
}

// counters are a target's Stats, updated from many goroutines.
type counters struct {
	sessions, in, out atomic.Int64
}

// countingConn counts the bytes of the connection under SSH.
type countingConn struct {
	net.Conn
	c *counters
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.c.in.Add(int64(n))
	return n, err
}

func (c countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.c.out.Add(int64(n))
	return n, err
}

// dialFunc opens the byte stream to addr: TCP, or a channel through the
// jump host.
type dialFunc func(ctx context.Context, addr string) (net.Conn, error)

func tcpDial(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

// connect dials cfg's host with dial and logs in. The whole of it (TCP,
// handshake, authentication) is bounded by cfg.ConnectTimeout: a deadline
// alone would not do, since a channel through a jump host has none, so
// the connection is closed when the time is up, which ends any read the
// handshake is blocked in.
func connect(ctx context.Context, cfg Config, dial dialFunc, cnt *counters) (*ssh.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	addr := cfg.addr()
	auth, closeAuth, err := authMethods(cfg)
	if err != nil {
		return nil, err
	}
	defer closeAuth()
	hk, err := newHostKeys(cfg)
	if err != nil {
		return nil, err
	}

	raw, err := dial(ctx, addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ssh %s: connecting: %w: %w (after %v)", addr, ErrUnreachable, ctx.Err(), cfg.ConnectTimeout)
		}
		return nil, fmt.Errorf("ssh %s: %w: %w", addr, ErrUnreachable, err)
	}
	conn := countingConn{Conn: raw, c: cnt}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	cc := &ssh.ClientConfig{
		User:              cfg.User,
		Auth:              auth,
		HostKeyCallback:   hk.check,
		HostKeyAlgorithms: hk.algorithms(addr),
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cc)
	if !stop() {
		// The time ran out (or ctx ended) as the handshake finished.
		if err == nil {
			c.Close()
		}
		return nil, fmt.Errorf("ssh %s: handshake: %w (after %v)", addr, ctx.Err(), cfg.ConnectTimeout)
	}
	if err != nil {
		conn.Close()
		if herr := hk.refused(); herr != nil {
			return nil, herr
		}
		if isAuthFailure(err) {
			return nil, fmt.Errorf("ssh %s: %w for user %s: %w", addr, ErrAuth, cfg.User, err)
		}
		return nil, fmt.Errorf("ssh %s: %w", addr, err)
	}
	return ssh.NewClient(c, chans, reqs), nil
}

// isAuthFailure tells an authentication refusal from other handshake
// errors. x/crypto/ssh has no typed error for it, only these messages.
func isAuthFailure(err error) bool {
	s := err.Error()
	return strings.Contains(s, "unable to authenticate") ||
		strings.Contains(s, "Too many authentication failures") ||
		strings.Contains(s, "no supported methods remain")
}

// authMethods builds the methods to offer, in the order OpenSSH tries
// them: public keys (agent, then key material), password,
// keyboard-interactive. The returned func closes the agent connection.
func authMethods(cfg Config) ([]ssh.AuthMethod, func(), error) {
	var signers []ssh.Signer
	closeFn := func() {}
	if cfg.UseAgent {
		if cfg.AgentSocket == "" {
			return nil, closeFn, fmt.Errorf("ssh %s: UseAgent: no agent socket (SSH_AUTH_SOCK is not set)", cfg.Host)
		}
		ac, err := net.Dial("unix", cfg.AgentSocket)
		if err != nil {
			return nil, closeFn, fmt.Errorf("ssh %s: agent: %w", cfg.Host, err)
		}
		closeFn = func() { ac.Close() }
		s, err := agent.NewClient(ac).Signers()
		if err != nil {
			ac.Close()
			return nil, func() {}, fmt.Errorf("ssh %s: agent: %w", cfg.Host, err)
		}
		signers = append(signers, s...)
	}
	addKey := func(what string, pem []byte) error {
		var s ssh.Signer
		var err error
		if cfg.Passphrase != "" {
			s, err = ssh.ParsePrivateKeyWithPassphrase(pem, []byte(cfg.Passphrase))
		} else {
			s, err = ssh.ParsePrivateKey(pem)
		}
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return fmt.Errorf("ssh %s: %s is encrypted and no passphrase was given: %w", cfg.Host, what, ErrAuth)
		}
		if err != nil {
			return fmt.Errorf("ssh %s: %s: %w", cfg.Host, what, err)
		}
		signers = append(signers, s)
		return nil
	}
	if cfg.PrivateKeyFile != "" {
		b, err := os.ReadFile(cfg.PrivateKeyFile)
		if err != nil {
			closeFn()
			return nil, func() {}, fmt.Errorf("ssh %s: private key: %w", cfg.Host, err)
		}
		if err := addKey(cfg.PrivateKeyFile, b); err != nil {
			closeFn()
			return nil, func() {}, err
		}
	}
	if len(cfg.PrivateKey) > 0 {
		if err := addKey("private key", cfg.PrivateKey); err != nil {
			closeFn()
			return nil, func() {}, err
		}
	}
	var methods []ssh.AuthMethod
	if len(signers) > 0 {
		methods = append(methods, ssh.PublicKeys(signers...))
	}
	if cfg.Password != "" {
		pw := cfg.Password
		methods = append(methods,
			ssh.Password(pw),
			ssh.KeyboardInteractive(func(name, instruction string, questions []string, echos []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	if len(methods) == 0 {
		closeFn()
		return nil, func() {}, fmt.Errorf("ssh %s: %w: no authentication method configured (key, agent or password)", cfg.Host, ErrAuth)
	}
	return methods, closeFn, nil
}

// hostKeys checks host keys against a known hosts file and records new
// ones when allowed. The refusal is kept so the handshake error, which
// x/crypto words its own way, can be reported as the typed error.
type hostKeys struct {
	file      string
	acceptNew bool
	db        ssh.HostKeyCallback // nil: the file does not exist yet

	mu  sync.Mutex
	err error
}

func newHostKeys(cfg Config) (*hostKeys, error) {
	h := &hostKeys{file: cfg.KnownHostsFile, acceptNew: cfg.AcceptNewHostKey}
	db, err := knownhosts.New(cfg.KnownHostsFile)
	switch {
	case err == nil:
		h.db = db
	case errors.Is(err, os.ErrNotExist):
	default:
		return nil, fmt.Errorf("ssh %s: known hosts: %w", cfg.Host, err)
	}
	return h, nil
}

func (h *hostKeys) refused() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

func (h *hostKeys) refuse(err error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.err = err
	return err
}

// check is the ssh.HostKeyCallback.
func (h *hostKeys) check(hostname string, remote net.Addr, key ssh.PublicKey) error {
	fp := ssh.FingerprintSHA256(key)
	if h.db != nil {
		err := h.db(hostname, remote, key)
		var ke *knownhosts.KeyError
		var re *knownhosts.RevokedError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &re):
			return h.refuse(fmt.Errorf("ssh %s: %w: its %s key %s is revoked (%s)", hostname, ErrHostKeyMismatch, key.Type(), fp, re.Revoked.String()))
		case errors.As(err, &ke) && len(ke.Want) > 0:
			var want []string
			for _, k := range ke.Want {
				want = append(want, fmt.Sprintf("%s %s at %s:%d", k.Key.Type(), ssh.FingerprintSHA256(k.Key), k.Filename, k.Line))
			}
			return h.refuse(fmt.Errorf("ssh %s: %w: it presented %s key %s, known: %s", hostname, ErrHostKeyMismatch, key.Type(), fp, strings.Join(want, "; ")))
		case errors.As(err, &ke):
			// Unknown host: below.
		default:
			return h.refuse(fmt.Errorf("ssh %s: checking host key: %w", hostname, err))
		}
	}
	if !h.acceptNew {
		return h.refuse(fmt.Errorf("ssh %s: %w: %s key %s is not in %s (connect once with AcceptNewHostKey, or add it)", hostname, ErrHostKey, key.Type(), fp, h.file))
	}
	if err := appendKnownHost(h.file, hostname, key); err != nil {
		return h.refuse(fmt.Errorf("ssh %s: recording new host key: %w", hostname, err))
	}
	return nil
}

// algorithms returns the host key algorithms to ask for: those of the
// keys recorded for addr, so a server with several host keys presents the
// one the file knows rather than the client's first preference (which
// would look like a changed key). Nil (the default order) for an unknown
// host.
func (h *hostKeys) algorithms(addr string) []string {
	if h.db == nil {
		return nil
	}
	_, probe, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil
	}
	pk, err := ssh.NewPublicKey(probe.Public())
	if err != nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if !errors.As(h.db(addr, &net.TCPAddr{}, pk), &ke) {
		return nil
	}
	var algs []string
	seen := map[string]bool{}
	add := func(a ...string) {
		for _, x := range a {
			if !seen[x] {
				seen[x] = true
				algs = append(algs, x)
			}
		}
	}
	for _, k := range ke.Want {
		switch t := k.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			add(ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
		default:
			add(t)
		}
	}
	return algs
}

// appendKnownHost adds one line for hostname to file, creating the file
// (and its directory) private to the user as OpenSSH does. The line is
// one write to a file opened for appending, so lines from targets dialled
// at once do not interleave.
func appendKnownHost(file, hostname string, key ssh.PublicKey) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	line := knownhosts.Line([]string{knownhosts.Normalize(hostname)}, key) + "\n"
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		// Make sure the line starts on a line of its own.
		last := make([]byte, 1)
		if r, err := os.Open(file); err == nil {
			if _, err := r.ReadAt(last, st.Size()-1); err == nil && !bytes.Equal(last, []byte("\n")) {
				line = "\n" + line
			}
			r.Close()
		}
	}
	if _, err := f.WriteString(line); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
