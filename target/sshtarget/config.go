package sshtarget

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"github.com/plumbhq/plumb/target"
)

// Errors the caller tells apart. Each is returned wrapped, with the host
// and the detail; test with errors.Is. Each wraps the target package's
// error of the same kind, which the engine maps to a result reason.
var (
	// ErrAuth: the server refused every authentication method offered.
	ErrAuth = fmt.Errorf("ssh: %w", target.ErrAuth)
	// ErrHostKey: the host is not in the known hosts file and
	// Config.AcceptNewHostKey is off. Nothing was sent to the host.
	ErrHostKey = fmt.Errorf("ssh: %w: not in the known hosts file", target.ErrHostKey)
	// ErrHostKeyMismatch: the host presented a key other than the one
	// recorded for it (or a revoked key). Always refused, whatever
	// AcceptNewHostKey says: it is what a man in the middle looks like.
	ErrHostKeyMismatch = fmt.Errorf("ssh: %w: it does not match the known hosts file", target.ErrHostKey)
	// ErrUnreachable: no TCP connection (name resolution, refused,
	// unreachable network, or the jump host could not connect onwards).
	ErrUnreachable = fmt.Errorf("ssh: %w", target.ErrUnreachable)
	// ErrPrivilege: elevation with sudo was asked for and refused, or an
	// operation was denied while running without it. The engine reports
	// the controls that needed it as Error(privilege).
	ErrPrivilege = fmt.Errorf("sudo: %w", target.ErrPrivilege)
)

// Sudo modes for Config.Sudo.
const (
	SudoNone = ""     // run everything as the login user
	SudoSudo = "sudo" // elevate with sudo (sudo -n, or sudo -S with SudoPassword)
)

// Defaults for the zero values of Config and Limits.
const (
	DefaultPort           = 22
	DefaultConnectTimeout = 15 * time.Second
	DefaultCommandTimeout = 2 * time.Minute
	DefaultWalkTimeout    = time.Hour
	DefaultMaxSessions    = 8
	DefaultMaxRecord      = 64 << 10
	DefaultWalkBuffer     = 256 << 20
)

// Config says how to reach and log in to a host. The zero value of each
// field means its default. Credentials are only ever sent to the host
// through the SSH protocol (the sudo password on the standard input of
// sudo -S), never on a command line.
type Config struct {
	Host string
	Port int    // default 22
	User string // default: the local user's name

	// PrivateKeyFile and PrivateKey are private keys (OpenSSH or PEM
	// format); Passphrase decrypts an encrypted one.
	PrivateKeyFile string
	PrivateKey     []byte
	Passphrase     string
	// Password is used for password and keyboard-interactive
	// authentication (every keyboard-interactive prompt is answered with
	// it).
	Password string
	// UseAgent offers the keys of the SSH agent at AgentSocket (default
	// $SSH_AUTH_SOCK).
	UseAgent    bool
	AgentSocket string

	// KnownHostsFile holds the accepted host keys (default
	// ~/.ssh/known_hosts). An unknown host is refused with ErrHostKey
	// unless AcceptNewHostKey is set, in which case its key is appended
	// to the file (trust on first use, as OpenSSH's accept-new). A known
	// host with another key is always refused.
	KnownHostsFile   string
	AcceptNewHostKey bool

	// Sudo is SudoNone or SudoSudo. With SudoSudo, file operations go
	// through one SFTP server started with sudo, and commands and the
	// walk run under sudo. SudoPassword, when set, is written once to
	// sudo -S for each elevation; otherwise sudo -n must not need one.
	Sudo         string
	SudoPassword string

	// ConnectTimeout bounds the TCP connection, the SSH handshake and
	// authentication together, and the start of the SFTP server.
	ConnectTimeout time.Duration
	// CommandTimeout bounds each command and each file operation.
	CommandTimeout time.Duration
	// WalkTimeout bounds one Walk.
	WalkTimeout time.Duration
	Limits      Limits

	// Jump is the host to connect through (ProxyJump); one level. Its
	// zero auth fields, KnownHostsFile and AcceptNewHostKey are taken
	// from this Config.
	Jump *Config

	// Logger receives debug records of what is run (never credentials);
	// nil discards them.
	Logger *slog.Logger
}

// Limits bound what a host can make the scanner hold. Zero means the
// default.
type Limits struct {
	// MaxSessions bounds the exec sessions open at once on the
	// connection. sshd's MaxSessions defaults to 10; one more session is
	// the SFTP server.
	MaxSessions int
	// MaxRecord bounds one field (a path or a symlink target) of the walk
	// output; a longer one is reported to OnError and skipped.
	MaxRecord int
	// WalkBuffer bounds the bytes of walk records held to put one walk
	// root in depth-first lexical order (find lists in directory order).
	// Past it the walk of that root, and of the roots after it, falls
	// back to listing directories over SFTP (see Target.Walk).
	WalkBuffer int64
}

// withDefaults fills the zero fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if c.Host == "" {
		return c, errors.New("ssh: no host given")
	}
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.Port < 1 || c.Port > 65535 {
		return c, fmt.Errorf("ssh %s: port %d out of range", c.Host, c.Port)
	}
	if c.User == "" {
		u, err := user.Current()
		if err != nil {
			return c, fmt.Errorf("ssh %s: no user given and the local user is unknown: %w", c.Host, err)
		}
		c.User = u.Username
	}
	if c.KnownHostsFile == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return c, fmt.Errorf("ssh %s: no known hosts file given: %w", c.Host, err)
		}
		c.KnownHostsFile = filepath.Join(home, ".ssh", "known_hosts")
	}
	if c.UseAgent && c.AgentSocket == "" {
		c.AgentSocket = os.Getenv("SSH_AUTH_SOCK")
	}
	switch c.Sudo {
	case SudoNone, SudoSudo:
	default:
		return c, fmt.Errorf("ssh %s: unknown sudo mode %q (want %q or %q)", c.Host, c.Sudo, SudoNone, SudoSudo)
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.CommandTimeout <= 0 {
		c.CommandTimeout = DefaultCommandTimeout
	}
	if c.WalkTimeout <= 0 {
		c.WalkTimeout = DefaultWalkTimeout
	}
	if c.Limits.MaxSessions <= 0 {
		c.Limits.MaxSessions = DefaultMaxSessions
	}
	if c.Limits.MaxRecord <= 0 {
		c.Limits.MaxRecord = DefaultMaxRecord
	}
	if c.Limits.WalkBuffer <= 0 {
		c.Limits.WalkBuffer = DefaultWalkBuffer
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// jumpConfig is the jump host's Config, with what it leaves unset taken
// from the target's.
func (c Config) jumpConfig() Config {
	j := *c.Jump
	j.Jump = nil
	if j.PrivateKeyFile == "" && j.PrivateKey == nil && j.Password == "" && !j.UseAgent {
		j.PrivateKeyFile, j.PrivateKey, j.Passphrase = c.PrivateKeyFile, c.PrivateKey, c.Passphrase
		j.Password, j.UseAgent, j.AgentSocket = c.Password, c.UseAgent, c.AgentSocket
	}
	if j.KnownHostsFile == "" {
		j.KnownHostsFile = c.KnownHostsFile
		j.AcceptNewHostKey = c.AcceptNewHostKey
	}
	if j.ConnectTimeout <= 0 {
		j.ConnectTimeout = c.ConnectTimeout
	}
	if j.Logger == nil {
		j.Logger = c.Logger
	}
	// The jump host only forwards: it runs nothing.
	j.Sudo, j.SudoPassword = SudoNone, ""
	return j
}

// addr is host:port for dialling and for the known hosts file.
func (c Config) addr() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}
