package sshtarget

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/plumbhq/plumb/target"
)

// shellPrelude starts every snippet: the same fixed PATH and C locale as
// target.Local, so the host's or the login user's settings cannot change
// a command found or its output's language, and / as the directory.
const shellPrelude = "PATH=/usr/sbin:/usr/bin:/sbin:/bin; LC_ALL=C; export PATH LC_ALL; cd / || exit 126; "

// killGrace bounds the wait for a killed session to report its end: a
// host that never answers the close must not hold the caller.
const killGrace = 5 * time.Second

// Run executes argv on the host. Each argument is quoted with ShellQuote
// (the login shell only sees literal words) and the command is exec'd
// with PATH=/usr/sbin:/usr/bin:/sbin:/bin, LC_ALL=C, the directory / and
// an empty standard input. Each output stream is bounded by limit (<= 0:
// target.MaxFileSize): past it the session is killed and an error
// wrapping target.ErrTooLarge is returned with the output read so far.
// The command gets Config.CommandTimeout; when ctx or that ends, the
// command is sent SIGTERM and its session closed. A non-zero exit is not
// an error; a command killed by a signal reports 128+signal. A command
// not found returns an error wrapping fs.ErrNotExist. With sudo, the
// command runs as `sudo -n -- argv...` (again with sudo -S when it needs
// the configured password, see sudoWithPassword) and a refusal wraps
// ErrPrivilege.
func (t *Target) Run(ctx context.Context, argv []string, limit int64) (target.CmdResult, error) {
	if len(argv) == 0 || argv[0] == "" {
		return target.CmdResult{}, errors.New("run: empty command")
	}
	words, err := ShellJoin(argv)
	if err != nil {
		return target.CmdResult{}, fmt.Errorf("run %q: %w", argv[0], err)
	}
	if err := ctx.Err(); err != nil {
		return target.CmdResult{}, err
	}
	if limit <= 0 {
		limit = target.MaxFileSize
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.CommandTimeout)
	defer cancel()
	elevate, privErr := t.elevation()
	t.log.Debug("run", "argv", argv, "sudo", elevate)
	var res target.CmdResult
	check := shellPrelude + t.lookupCheck(argv[0])
	if elevate {
		res, err = t.runScript(ctx, check+t.sudoCheck()+"exec "+sudoNoPassword+words, nil, limit)
		if err == nil && t.retryWithPassword(res.Exit, res.Stderr) {
			res, err = t.runScript(ctx, check+t.sudoCheck()+"exec "+sudoWithPassword+words, t.sudoStdin(), limit)
		}
	} else {
		res, err = t.runScript(ctx, check+"exec "+words, nil, limit)
	}
	if err != nil {
		return res, fmt.Errorf("run %s on %s: %w", argv[0], t.name, err)
	}
	if res.Exit == 127 && t.takeMarker(&res, "notfound") {
		return target.CmdResult{}, fmt.Errorf("run %s on %s: not found in PATH: %w", argv[0], t.name, fs.ErrNotExist)
	}
	if !elevate {
		if privErr != nil && res.Exit != 0 {
			return res, fmt.Errorf("run %s on %s: exit %d as %s, without the elevation asked for: %w", argv[0], t.name, res.Exit, t.cfg.User, privErr)
		}
		return res, nil
	}
	if res.Exit == 127 && t.takeMarker(&res, "nosudo") {
		return res, fmt.Errorf("run %s on %s: %w: sudo is not installed", argv[0], t.name, ErrPrivilege)
	}
	if res.Exit == 1 {
		if msg, ok := sudoNotFound(res.Stderr); ok {
			return target.CmdResult{}, fmt.Errorf("run %s on %s: %s: %w", argv[0], t.name, msg, fs.ErrNotExist)
		}
		if msg, ok := sudoRefused(res.Stderr); ok {
			return res, fmt.Errorf("run %s on %s: %w: %s", argv[0], t.name, ErrPrivilege, msg)
		}
	}
	return res, nil
}

// lookupCheck is a snippet exiting 127 with a marker when argv0 does not
// exist: as a path, or in the fixed PATH for a bare name (as
// target.Local looks commands up). It tests existence only, which the
// login user can see of root's commands too, so "not found" is told
// apart from a command's own exit 127 and from sudo refusing a command
// (restricted sudoers rules make sudo -n ask for a password rather than
// say the command is missing).
func (t *Target) lookupCheck(argv0 string) string {
	q, _ := ShellQuote(argv0) // checked by the caller
	notFound := " || { echo " + t.marker("notfound") + " >&2; exit 127; }; "
	if strings.Contains(argv0, "/") {
		return "[ -e " + q + " ]" + notFound
	}
	return "f=; for d in /usr/sbin /usr/bin /sbin /bin; do if [ -e \"$d\"/" + q + " ]; then f=1; break; fi; done; [ -n \"$f\" ]" + notFound
}

// The two ways sudo is run. Without a password sudo -n never asks: a
// password needed is a refusal. With Config.SudoPassword, a command is
// still tried with -n first, and run again with -S only when sudo said it
// needs a password: sudo then reads the password line from standard
// input (-k: ignoring credentials it may have cached), so the line is never
// left for the command to read, which it would be under a NOPASSWD rule.
// The price is one more session for each elevated command in password
// mode.
const (
	sudoNoPassword   = "sudo -n -- "
	sudoWithPassword = "sudo -k -S -p '' -- "
)

// retryWithPassword reports whether a sudo -n attempt failed only for want
// of a password that the configuration has.
func (t *Target) retryWithPassword(exit int, stderr []byte) bool {
	if t.cfg.SudoPassword == "" || exit != 1 {
		return false
	}
	for line := range strings.SplitSeq(string(stderr), "\n") {
		if strings.HasPrefix(line, "sudo: ") && strings.Contains(line, "a password is required") {
			return true
		}
	}
	return false
}

// sudoStdin is the standard input of sudo -S: the password, once.
func (t *Target) sudoStdin() []byte { return []byte(t.cfg.SudoPassword + "\n") }

// sudoCheck exits 127 with a marker when sudo is missing.
func (t *Target) sudoCheck() string {
	return "command -v sudo >/dev/null 2>&1 || { echo " + t.marker("nosudo") + " >&2; exit 127; }; "
}

// takeMarker reports whether res.Stderr holds the marker line, and
// removes it.
func (t *Target) takeMarker(res *target.CmdResult, what string) bool {
	m := []byte(t.marker(what) + "\n")
	i := bytes.Index(res.Stderr, m)
	if i < 0 {
		return false
	}
	res.Stderr = append(res.Stderr[:i:i], res.Stderr[i+len(m):]...)
	return true
}

// sudoRefusals are the messages sudo prints when it will not run a
// command (in the C locale the snippets set). sudo exits 1 with them.
var sudoRefusals = []string{
	"a password is required",
	"a terminal is required",
	"is not allowed to execute",
	"is not in the sudoers file",
	"may not run sudo",
	"incorrect password attempt",
	"no password was provided",
	"you must have a tty",
	"no tty present",
	"account validation failure",
	"authentication failure",
	"PAM account management error",
	"Sorry, try again",
	"not allowed to run sudo",
}

// sudoRefused finds sudo's refusal in stderr: a line starting "sudo: "
// (or sudo's "Sorry, " lines) with one of sudoRefusals.
func sudoRefused(stderr []byte) (string, bool) {
	for line := range strings.SplitSeq(string(stderr), "\n") {
		if !strings.HasPrefix(line, "sudo: ") && !strings.HasPrefix(line, "Sorry, ") {
			continue
		}
		for _, r := range sudoRefusals {
			if strings.Contains(line, r) {
				return clip(line, 300), true
			}
		}
	}
	return "", false
}

// sudoNotFound finds "sudo: NAME: command not found".
func sudoNotFound(stderr []byte) (string, bool) {
	for line := range strings.SplitSeq(string(stderr), "\n") {
		if strings.HasPrefix(line, "sudo: ") && strings.HasSuffix(line, ": command not found") {
			return clip(line, 300), true
		}
	}
	return "", false
}

// clip shortens host text quoted in an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// acquire takes one of the exec session slots.
func (t *Target) acquire(ctx context.Context) error {
	select {
	case t.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (t *Target) release() { <-t.sem }

// newSession opens a session channel and counts it. sshd refuses a
// session past its MaxSessions, and frees a closed session's slot only
// after it has read what arrived with the close, so a session opened
// right after another closed can be refused though the client never had
// more than its bound open: a refusal is retried, with a growing pause,
// until ctx ends.
func (t *Target) newSession(ctx context.Context) (*ssh.Session, error) {
	pause := 5 * time.Millisecond
	for {
		s, err := t.client.NewSession()
		if err == nil {
			t.cnt.sessions.Add(1)
			return s, nil
		}
		var oce *ssh.OpenChannelError
		if !errors.As(err, &oce) {
			return nil, fmt.Errorf("opening a session: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("opening a session: %w (last refusal: %w)", ctx.Err(), err)
		case <-time.After(pause):
		}
		pause = min(2*pause, 200*time.Millisecond)
	}
}

// runScript runs script in an exec session (within the session bound),
// with stdin (nil: empty) and each output stream bounded by limit. When
// an output passes the limit, or ctx ends, the command is sent SIGTERM
// (relayed by sudo to its child, unlike SIGKILL) and the session closed,
// which also breaks its output pipes.
func (t *Target) runScript(ctx context.Context, script string, stdin []byte, limit int64) (target.CmdResult, error) {
	if err := t.acquire(ctx); err != nil {
		return target.CmdResult{}, err
	}
	defer t.release()
	s, err := t.newSession(ctx)
	if err != nil {
		return target.CmdResult{}, err
	}
	defer s.Close()
	var killOnce sync.Once
	kill := func() {
		killOnce.Do(func() {
			_ = s.Signal(ssh.SIGTERM)
			_ = s.Close()
		})
	}
	stdout := target.NewCappedBuffer(limit, func() { go kill() })
	stderr := target.NewCappedBuffer(limit, func() { go kill() })
	s.Stdout, s.Stderr = stdout, stderr
	if stdin != nil {
		s.Stdin = bytes.NewReader(stdin)
	}
	if err := s.Start(script); err != nil {
		return target.CmdResult{}, fmt.Errorf("starting: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	var werr error
	select {
	case werr = <-done:
	case <-ctx.Done():
		kill()
		select {
		case werr = <-done:
		case <-time.After(killGrace):
		}
	}
	res := target.CmdResult{Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Exit: -1}
	var ee *ssh.ExitError
	switch {
	case werr == nil:
		res.Exit = 0
	case errors.As(werr, &ee):
		res.Exit = ee.ExitStatus()
		if sig := ee.Signal(); sig != "" {
			res.Exit = 128 + signalNumber(sig)
		}
	}
	switch {
	case stdout.Over() || stderr.Over():
		return res, fmt.Errorf("output %w (limit %d bytes per stream)", target.ErrTooLarge, limit)
	case ctx.Err() != nil:
		return res, ctx.Err()
	case werr == nil || ee != nil:
		return res, nil
	}
	var missing *ssh.ExitMissingError
	if errors.As(werr, &missing) {
		return res, errors.New("the session ended without an exit status")
	}
	return res, werr
}

// signalNumber maps the signal names of RFC 4254 to Linux numbers.
func signalNumber(name string) int {
	switch ssh.Signal(name) {
	case ssh.SIGHUP:
		return 1
	case ssh.SIGINT:
		return 2
	case ssh.SIGQUIT:
		return 3
	case ssh.SIGILL:
		return 4
	case ssh.SIGABRT:
		return 6
	case ssh.SIGFPE:
		return 8
	case ssh.SIGKILL:
		return 9
	case ssh.SIGUSR1:
		return 10
	case ssh.SIGSEGV:
		return 11
	case ssh.SIGUSR2:
		return 12
	case ssh.SIGPIPE:
		return 13
	case ssh.SIGALRM:
		return 14
	case ssh.SIGTERM:
		return 15
	}
	return 0
}
