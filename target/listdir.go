package target

import (
	"errors"
	"io/fs"
	"slices"
	"sync"
	"syscall"
)

// listing is one directory's content as the walker needs it.
type listing struct {
	ents []entry
	// errs are entries that exist but could not be lstat'ed; they are
	// passed to WalkOptions.OnError by the walking goroutine.
	errs []entryErr
	// err means the directory itself could not be listed.
	err error
}

type entryErr struct {
	path string
	err  error
}

var direntBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// readNames returns the names in the open directory fd, sorted, straight
// from getdents (no per-entry allocation but the name).
func readNames(fd int) ([]string, error) {
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	var names []string
	for {
		n, err := syscall.ReadDirent(fd, *bp)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			break
		}
		_, _, names = syscall.ParseDirent((*bp)[:n], -1, names)
	}
	slices.Sort(names)
	return names, nil
}

// slowLstat lstats one entry of the directory being listed through the os
// package, on platforms without lstatAt; it returns the link text for a
// symlink.
type slowLstat func(name string) (fs.FileInfo, string, error)

// listFD lists the open directory fd, which is entry e, lstat'ing every
// entry relative to fd (a single component, never followed, so a Root's
// listing cannot leave the directory). childHost names an entry for the
// implementation. Entries that vanished meanwhile are left out silently.
func listFD(fd int, e entry, childHost func(string) string, slow slowLstat) listing {
	if e.ino != 0 {
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			return listing{err: &fs.PathError{Op: "stat", Path: e.fi.Path, Err: err}}
		}
		if uint64(st.Dev) != e.fi.Dev || uint64(st.Ino) != e.ino {
			return listing{err: &fs.PathError{Op: "open", Path: e.fi.Path, Err: errSwapped}}
		}
	}
	names, err := readNames(fd)
	if err != nil {
		return listing{err: &fs.PathError{Op: "readdirent", Path: e.fi.Path, Err: err}}
	}
	out := listing{ents: make([]entry, 0, len(names))}
	fail := func(p, op string, err error) {
		if !errors.Is(err, fs.ErrNotExist) {
			out.errs = append(out.errs, entryErr{p, &fs.PathError{Op: op, Path: p, Err: unwrapPathErr(err)}})
		}
	}
	for _, name := range names {
		tp := childPath(e.fi.Path, name)
		var c entry
		if haveAt {
			var st syscall.Stat_t
			if err := lstatAt(fd, name, &st); err != nil {
				fail(tp, "lstat", err)
				continue
			}
			c = entry{fi: statInfo(tp, &st), ino: uint64(st.Ino)}
			if c.fi.Mode&fs.ModeSymlink != 0 {
				if c.fi.Link, err = readlinkAt(fd, name); err != nil {
					fail(tp, "readlink", err)
					continue
				}
			}
		} else {
			fi, link, err := slow(name)
			if err != nil {
				fail(tp, "lstat", err)
				continue
			}
			c = entry{fi: fileInfo(tp, fi), ino: inode(fi)}
			c.fi.Link = link
		}
		c.host = childHost(name)
		out.ents = append(out.ents, c)
	}
	return out
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
