// Package target is the one seam between the engine and a host. A Target
// reads files, lists directories, walks the file system, runs commands by
// argv and reports OS facts. Implementations: Local (this machine) and Root
// (an unpacked root file system, read-only, never executing anything).
// The SSH target implements the same interface.
//
// Paths are always absolute paths as seen on the target ("/etc/ssh/sshd_config"),
// whatever the implementation maps them to.
package target

import (
	"context"
	"errors"
	"io/fs"
	"time"
)

// Errors every implementation returns (wrapped) so the engine can tell
// "absent" from "could not read". Missing files wrap fs.ErrNotExist and
// denied reads wrap fs.ErrPermission, as the os package does.
var (
	// ErrTooLarge: a file or command output exceeded the read limit.
	ErrTooLarge = errors.New("exceeds read limit")
	// ErrNotSupported: the target cannot do this at all (a root directory
	// has no running kernel and never executes commands).
	ErrNotSupported = errors.New("not supported by this target")
	// ErrEscape: a path resolved outside a root directory.
	ErrEscape = errors.New("path escapes the target root")
	// ErrUnreachable: the host could not be connected to at all.
	ErrUnreachable = errors.New("host unreachable")
	// ErrAuth: the host refused every credential offered.
	ErrAuth = errors.New("authentication failed")
	// ErrHostKey: the host's key is unknown or differs from the recorded
	// one; the connection is refused before any credential is sent.
	ErrHostKey = errors.New("host key not trusted")
	// ErrPrivilege: privilege elevation (sudo) was refused.
	ErrPrivilege = errors.New("privilege elevation refused")
)

// MaxFileSize is the default read limit for a configuration file.
const MaxFileSize = 4 << 20

// FileInfo describes one file system entry on the target. UID and GID are
// numeric; names are resolved by the engine from the target's own
// databases, never the scanner's.
type FileInfo struct {
	Path    string      `json:"path"`
	Mode    fs.FileMode `json:"mode"`
	UID     uint32      `json:"uid"`
	GID     uint32      `json:"gid"`
	Size    int64       `json:"size"`
	ModTime time.Time   `json:"mtime"`
	Dev     uint64      `json:"-"`
	// Link is the symlink target as stored, when Mode is a symlink (Lstat).
	Link string `json:"link,omitempty"`
}

// Facts describe the target's operating system.
type Facts struct {
	Hostname string `json:"hostname,omitempty"`
	Family   string `json:"family"`            // linux, windows
	Distro   string `json:"distro,omitempty"`  // os-release ID: debian, ubuntu, rhel, rocky
	Version  string `json:"version,omitempty"` // os-release VERSION_ID: 12, 22.04, 9.4
	Name     string `json:"name,omitempty"`    // PRETTY_NAME
	// Technology is Plumb's technology id: debian-12, ubuntu-22.04, rhel-9.
	// Empty when the OS is not one Plumb knows.
	Technology string `json:"technology,omitempty"`
	Kernel     string `json:"kernel,omitempty"` // live targets only
	Arch       string `json:"arch,omitempty"`
	// Live is true when the target is a running system (runtime state such
	// as sysctl values, loaded modules and mounts can be read).
	Live bool `json:"live"`
}

// CmdResult is the outcome of a command. Stdout and Stderr are bounded.
type CmdResult struct {
	Stdout []byte
	Stderr []byte
	Exit   int
}

// WalkOptions bound a file system walk.
type WalkOptions struct {
	// Roots to walk (default "/").
	Roots []string
	// Exclude lists absolute paths not to descend into.
	Exclude []string
	// LocalOnly skips pseudo (proc, sysfs, ...) and network file systems.
	LocalOnly bool
	// OnError, when set, learns about each part of the tree the walk could
	// not read (a directory it may not list, an entry it could not stat).
	// The walk itself goes on: one unreadable directory must not hide the
	// rest of the file system, but the caller must be able to say the
	// result is incomplete. It is called from the goroutine running Walk.
	OnError func(path string, err error)
}

// WalkFunc receives every entry visited (not following symlinks). Returning
// fs.SkipDir skips a directory; any other error stops the walk.
type WalkFunc func(fi FileInfo) error

// Target is a host to collect from. Methods are safe for concurrent use.
type Target interface {
	// Name identifies the target in reports ("local", "root:/srv/img").
	Name() string
	Facts(ctx context.Context) (Facts, error)
	// Stat follows symlinks (inside the target); Lstat does not.
	Stat(ctx context.Context, path string) (FileInfo, error)
	Lstat(ctx context.Context, path string) (FileInfo, error)
	// ReadFile reads at most limit bytes; a longer file is ErrTooLarge.
	ReadFile(ctx context.Context, path string, limit int64) ([]byte, error)
	// ReadDir lists a directory (entries Lstat'ed), sorted by name.
	ReadDir(ctx context.Context, path string) ([]FileInfo, error)
	Readlink(ctx context.Context, path string) (string, error)
	// Walk visits the file system once, depth-first in lexical order.
	Walk(ctx context.Context, opts WalkOptions, fn WalkFunc) error
	// Run executes argv[0] with arguments argv[1:], no shell, output bounded
	// by limit per stream (ErrTooLarge past it). A non-zero exit is not an
	// error: it is reported in CmdResult.Exit.
	Run(ctx context.Context, argv []string, limit int64) (CmdResult, error)
	Close() error
}
