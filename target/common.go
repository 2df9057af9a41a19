package target

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"syscall"
)

// maxSymlinks bounds symlink expansion during path resolution, like the
// kernel's MAXSYMLINKS: a cycle becomes ELOOP instead of a hang.
const maxSymlinks = 40

// checkPath validates a target path: it must be absolute and free of NUL
// bytes. It returns the lexically cleaned path, used only as the label in
// FileInfo.Path; resolution itself is always physical (symlinks first,
// then "..") as the kernel does it.
func checkPath(op, p string) (string, error) {
	if !path.IsAbs(p) || strings.IndexByte(p, 0) >= 0 {
		return "", &fs.PathError{Op: op, Path: p, Err: fs.ErrInvalid}
	}
	return path.Clean(p), nil
}

// effectiveLimit maps a non-positive limit to MaxFileSize, so a caller that
// forgets the limit gets the default instead of "everything is too large".
func effectiveLimit(limit int64) int64 {
	if limit <= 0 {
		return MaxFileSize
	}
	return limit
}

// readLimited reads r up to limit bytes. It reads one byte more than the
// limit to tell "exactly limit" from "longer", and never trusts a size
// reported by stat (files in /proc report 0, devices report nothing useful).
func readLimited(r io.Reader, p string, limit, sizeHint int64) ([]byte, error) {
	var buf bytes.Buffer
	if sizeHint > 0 {
		buf.Grow(int(min(sizeHint, limit) + 1))
	}
	_, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: p, Err: err}
	}
	if int64(buf.Len()) > limit {
		return nil, fmt.Errorf("read %s: %w (limit %d bytes)", p, ErrTooLarge, limit)
	}
	return buf.Bytes(), nil
}

// fileInfo converts an os-level FileInfo to a target FileInfo labelled p.
func fileInfo(p string, fi fs.FileInfo) FileInfo {
	out := FileInfo{
		Path:    p,
		Mode:    fi.Mode(),
		Size:    fi.Size(),
		ModTime: fi.ModTime(),
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		out.UID = st.Uid
		out.GID = st.Gid
		out.Dev = uint64(st.Dev)
	}
	return out
}

// inode returns the inode number of fi, used by Walk to detect a directory
// swapped between listing and opening.
func inode(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}

// pathErr relabels an error from the os package with the target path, so
// messages name what the engine asked for, not a host path. The underlying
// errno is kept, so errors.Is(err, fs.ErrNotExist) still works.
func pathErr(op, p string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: op, Path: p, Err: pe.Err}
	}
	return &fs.PathError{Op: op, Path: p, Err: err}
}

// childPath joins a directory's target path and an entry name.
func childPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}
