package sshtarget

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pkg/sftp"

	"github.com/plumbhq/plumb/target"
)

// File operations go through the one SFTP session. SFTP version 3, the
// one OpenSSH speaks, carries modification times in whole seconds and no
// device numbers: FileInfo.ModTime from Stat, Lstat and ReadDir is
// truncated to the second and Dev is 0 (Walk, through find, has both).

// checkPath validates a target path: absolute and free of NUL bytes. It
// returns the cleaned path used as the label in FileInfo.Path; the path
// sent to the host is the one asked for, so the host resolves symlinks,
// ".." and a trailing slash as its kernel does.
func checkPath(op, p string) (string, error) {
	if !path.IsAbs(p) || strings.IndexByte(p, 0) >= 0 {
		return "", &fs.PathError{Op: op, Path: p, Err: fs.ErrInvalid}
	}
	return path.Clean(p), nil
}

// childPath joins a directory's target path and an entry name.
func childPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// permissionError is a permission denied while elevation was refused: it
// is both fs.ErrPermission and the refusal (ErrPrivilege), so the engine
// can say "needs privilege" rather than "unreadable".
type permissionError struct{ priv error }

func (e permissionError) Error() string {
	return "permission denied (" + e.priv.Error() + ")"
}

func (e permissionError) Unwrap() []error { return []error{fs.ErrPermission, e.priv} }

// fsErr labels err with the operation and target path, keeping what
// errors.Is needs (fs.ErrNotExist, fs.ErrPermission, context errors), and
// adds the elevation refusal to a permission denied.
func (t *Target) fsErr(op, p string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		op, err = pe.Op, pe.Err
	}
	if errors.Is(err, fs.ErrPermission) {
		if _, priv := t.elevation(); priv != nil {
			err = permissionError{priv}
		}
	}
	return &fs.PathError{Op: op, Path: p, Err: err}
}

// sftpDo runs fn with the SFTP client, bounded by CommandTimeout. The
// caller's ctx ending returns at once; a request still unanswered after
// CommandTimeout restarts the server (see dropSFTP), since the server
// would otherwise stay blocked for every later request.
func (t *Target) sftpDo(ctx context.Context, fn func(ctx context.Context, c *sftp.Client) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.CommandTimeout)
	defer cancel()
	sc, err := t.sftp(ctx)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	watchdog := time.AfterFunc(t.cfg.CommandTimeout, func() {
		t.dropSFTP(sc, fmt.Sprintf("a request was not answered within %v", t.cfg.CommandTimeout))
	})
	go func() {
		err := fn(ctx, sc.c)
		watchdog.Stop()
		done <- err
	}()
	select {
	case err := <-done:
		if errors.Is(err, sftp.ErrSSHFxConnectionLost) {
			t.dropSFTP(sc, "connection lost")
		}
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fileInfo converts an SFTP attribute set to a target FileInfo.
func fileInfo(label string, fi os.FileInfo) target.FileInfo {
	out := target.FileInfo{
		Path:    label,
		Mode:    fi.Mode(),
		Size:    fi.Size(),
		ModTime: fi.ModTime(),
	}
	if st, ok := fi.Sys().(*sftp.FileStat); ok {
		out.UID, out.GID = st.UID, st.GID
	}
	return out
}

// Stat follows symlinks (on the host).
func (t *Target) Stat(ctx context.Context, p string) (target.FileInfo, error) {
	label, err := checkPath("stat", p)
	if err != nil {
		return target.FileInfo{}, err
	}
	var fi os.FileInfo
	err = t.sftpDo(ctx, func(_ context.Context, c *sftp.Client) (err error) {
		fi, err = c.Stat(p)
		return err
	})
	if err != nil {
		return target.FileInfo{}, t.fsErr("stat", label, err)
	}
	return fileInfo(label, fi), nil
}

// Lstat does not follow a final symlink, and fills Link for one.
func (t *Target) Lstat(ctx context.Context, p string) (target.FileInfo, error) {
	label, err := checkPath("lstat", p)
	if err != nil {
		return target.FileInfo{}, err
	}
	var out target.FileInfo
	err = t.sftpDo(ctx, func(_ context.Context, c *sftp.Client) error {
		fi, err := c.Lstat(p)
		if err != nil {
			return err
		}
		out = fileInfo(label, fi)
		if out.Mode&fs.ModeSymlink != 0 {
			if out.Link, err = c.ReadLink(p); err != nil {
				return &fs.PathError{Op: "readlink", Err: err}
			}
		}
		return nil
	})
	if err != nil {
		return target.FileInfo{}, t.fsErr("lstat", label, err)
	}
	return out, nil
}

// Readlink returns the link text as stored.
func (t *Target) Readlink(ctx context.Context, p string) (string, error) {
	label, err := checkPath("readlink", p)
	if err != nil {
		return "", err
	}
	var link string
	err = t.sftpDo(ctx, func(_ context.Context, c *sftp.Client) (err error) {
		link, err = c.ReadLink(p)
		return err
	})
	if err != nil {
		return "", t.fsErr("readlink", label, err)
	}
	return link, nil
}

// errNotRegular refuses devices, named pipes and sockets: opening one
// through the SFTP server could block the server itself (a FIFO without a
// writer, /dev/kmsg), and with it every other file operation.
var errNotRegular = fmt.Errorf("not a regular file (devices, pipes and sockets are never opened over SFTP): %w", target.ErrNotSupported)

// ReadFile reads at most limit bytes (limit <= 0 means
// target.MaxFileSize) of a regular file; a longer one is
// target.ErrTooLarge. The file is stat'ed first and anything but a
// regular file refused (see errNotRegular). The size stat reports bounds
// nothing: a file that says it is within the limit is read for that many
// bytes, and any other (files in /proc say 0) to its end, up to one byte
// past the limit.
func (t *Target) ReadFile(ctx context.Context, p string, limit int64) ([]byte, error) {
	label, err := checkPath("open", p)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = target.MaxFileSize
	}
	var out []byte
	err = t.sftpDo(ctx, func(_ context.Context, c *sftp.Client) error {
		st, err := c.Stat(p)
		if err != nil {
			return &fs.PathError{Op: "stat", Err: err}
		}
		if st.IsDir() {
			return &fs.PathError{Op: "read", Err: syscall.EISDIR}
		}
		if !st.Mode().IsRegular() {
			return &fs.PathError{Op: "open", Err: errNotRegular}
		}
		f, err := c.Open(p)
		if err != nil {
			return &fs.PathError{Op: "open", Err: err}
		}
		// The close needs no answer before the content is used.
		defer func() { go f.Close() }()
		if n := st.Size(); n > 0 && n <= limit {
			// The size is known and within the limit: read exactly
			// that, in concurrent requests when large, and save the
			// round trip that would only learn of the end. A file
			// shorter than it says (in /sys) ends the read early; one
			// that grew since the stat is read as it was then.
			b := make([]byte, n)
			m, err := f.ReadAt(b, 0)
			if err != nil && err != io.EOF {
				return &fs.PathError{Op: "read", Err: err}
			}
			out = b[:m]
			return nil
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(io.LimitReader(f, limit+1)); err != nil {
			return &fs.PathError{Op: "read", Err: err}
		}
		if int64(buf.Len()) > limit {
			return fmt.Errorf("%w (limit %d bytes)", target.ErrTooLarge, limit)
		}
		out = buf.Bytes()
		return nil
	})
	if err != nil {
		if errors.Is(err, target.ErrTooLarge) {
			return nil, fmt.Errorf("read %s: %w", label, err)
		}
		return nil, t.fsErr("read", label, err)
	}
	return out, nil
}

// ReadDir lists a directory sorted by name, entries lstat'ed (the SFTP
// server lstats what it lists) and Link filled for symlinks. An entry
// whose link cannot be read fails the listing, as for target.Local.
func (t *Target) ReadDir(ctx context.Context, p string) ([]target.FileInfo, error) {
	label, err := checkPath("readdir", p)
	if err != nil {
		return nil, err
	}
	ents, errs, err := t.list(ctx, p, label)
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, errs[0].err
	}
	return ents, nil
}

// entryErr is an entry of a listing that could not be completed.
type entryErr struct {
	path string
	err  error
}

// maxLinkReaders bounds the readlink requests in flight for one listing.
const maxLinkReaders = 16

// list reads directory host (labelled label), sorted by name, reading
// symlink targets concurrently. Names the server should never send (empty,
// ".", "..", with a slash) are dropped, and a repeated name kept once.
// Entries whose link could not be read come back in errs, not in ents.
func (t *Target) list(ctx context.Context, host, label string) ([]target.FileInfo, []entryErr, error) {
	var fis []os.FileInfo
	err := t.sftpDo(ctx, func(ctx context.Context, c *sftp.Client) (err error) {
		fis, err = c.ReadDirContext(ctx, host)
		return err
	})
	if err != nil {
		return nil, nil, t.fsErr("readdir", label, err)
	}
	ents := make([]target.FileInfo, 0, len(fis))
	for _, fi := range fis {
		name := fi.Name()
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
			continue
		}
		ents = append(ents, fileInfo(childPath(label, name), fi))
	}
	slices.SortFunc(ents, func(a, b target.FileInfo) int { return strings.Compare(a.Path, b.Path) })
	ents = slices.CompactFunc(ents, func(a, b target.FileInfo) bool { return a.Path == b.Path })

	var links []int
	for i, e := range ents {
		if e.Mode&fs.ModeSymlink != 0 {
			links = append(links, i)
		}
	}
	if len(links) == 0 {
		return ents, nil, nil
	}
	linkErrs := make([]error, len(ents))
	err = t.sftpDo(ctx, func(_ context.Context, c *sftp.Client) error {
		var wg sync.WaitGroup
		sem := make(chan struct{}, maxLinkReaders)
		for _, i := range links {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				hostPath := childPath(host, path.Base(ents[i].Path))
				ents[i].Link, linkErrs[i] = c.ReadLink(hostPath)
			})
		}
		wg.Wait()
		return nil
	})
	if err != nil {
		return nil, nil, t.fsErr("readlink", label, err)
	}
	var errs []entryErr
	kept := ents[:0]
	for i, e := range ents {
		if linkErrs[i] != nil {
			if !errors.Is(linkErrs[i], fs.ErrNotExist) { // removed since listed
				errs = append(errs, entryErr{e.Path, t.fsErr("readlink", e.Path, linkErrs[i])})
			}
			continue
		}
		kept = append(kept, e)
	}
	return kept, errs, nil
}
