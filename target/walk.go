package target

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// entry is one walked entry plus what the walker needs to descend safely.
type entry struct {
	fi FileInfo
	// host is the implementation's own name for the entry: the host path
	// for Local, the path relative to the root directory for Root.
	host string
	// ino, with fi.Dev, identifies the directory listed, so a directory
	// swapped for another between lstat and open is noticed.
	ino uint64
}

// walker is the depth-first walk shared by the implementations. They differ
// only in how a directory is listed and which directories are not entered.
// Listings of directories just ahead of the walk are fetched in parallel
// (see prefetcher); fn is still called from the walking goroutine, one
// entry at a time, in exactly the order of a sequential walk.
type walker struct {
	ctx     context.Context
	fn      WalkFunc
	onError func(string, error)
	exclude map[string]bool
	// noDescend reports directories to report but not enter (mount points
	// of pseudo and network file systems).
	noDescend func(entry) bool
	// list returns the entries of a directory, sorted by name, each
	// lstat'ed; entries that vanished meanwhile are left out. It must be
	// safe for concurrent use.
	list func(dir entry) listing
	pf   *prefetcher // nil: no prefetching
	n    int
}

// walkPrefetch enables prefetching; tests turn it off to compare.
var walkPrefetch = true

// prefetchWindow is how many subdirectories after the current one, per
// open directory, are listed ahead of the walk.
const prefetchWindow = 8

// WalkRoots is how every Target reads WalkOptions.Roots: cleaned, sorted,
// without a root that lies inside another (so every entry is visited
// once), "/" when empty; a relative path or a NUL byte is an error.
func WalkRoots(roots []string) ([]string, error) { return normRoots(roots) }

// Within reports whether p is dir or inside dir (both clean, absolute).
func Within(p, dir string) bool { return isUnder(p, dir) }

// normRoots cleans, sorts and de-duplicates walk roots, dropping a root that
// lies inside another so every entry is visited once.
func normRoots(roots []string) ([]string, error) {
	if len(roots) == 0 {
		return []string{"/"}, nil
	}
	clean := make([]string, 0, len(roots))
	for _, r := range roots {
		c, err := checkPath("walk", r)
		if err != nil {
			return nil, err
		}
		clean = append(clean, c)
	}
	slices.Sort(clean)
	var out []string
	for _, r := range clean {
		if !slices.ContainsFunc(out, func(k string) bool { return isUnder(r, k) }) {
			out = append(out, r)
		}
	}
	return out, nil
}

// isUnder reports whether p is dir or inside dir (both clean, absolute).
func isUnder(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

func newExclude(paths []string) map[string]bool {
	m := make(map[string]bool, len(paths))
	for _, p := range paths {
		if path.IsAbs(p) {
			m[path.Clean(p)] = true
		}
	}
	return m
}

// excludedRoot reports whether a walk root is excluded or inside an
// excluded tree (a root of /proc/sys with /proc excluded walks nothing).
func (w *walker) excludedRoot(p string) bool {
	for x := range w.exclude {
		if isUnder(p, x) {
			return true
		}
	}
	return false
}

func (w *walker) report(p string, err error) {
	if w.onError != nil {
		w.onError(p, err)
	}
}

// run walks one root entry. It returns fs.SkipAll, the context's error or
// the error of fn, unchanged.
func (w *walker) run(root entry) error {
	err := w.visit(root, nil)
	if err == fs.SkipDir {
		return nil
	}
	return err
}

// enters reports whether the walk lists directory e after reporting it.
func (w *walker) enters(e entry) bool {
	return e.fi.Mode.IsDir() && (w.noDescend == nil || !w.noDescend(e))
}

// visit reports e and walks what is below it. j, when not nil, is the
// prefetched listing of e.
func (w *walker) visit(e entry, j *job) error {
	w.n++
	if w.n&255 == 0 {
		if err := w.ctx.Err(); err != nil {
			w.pf.drop(j)
			return err
		}
	}
	if err := w.fn(e.fi); err != nil {
		w.pf.drop(j)
		if err == fs.SkipDir && e.fi.Mode.IsDir() {
			return nil
		}
		return err // fs.SkipDir on a non-directory skips the rest of its parent
	}
	if !w.enters(e) {
		return nil
	}
	if err := w.ctx.Err(); err != nil {
		w.pf.drop(j)
		return err
	}
	var l listing
	if j != nil {
		l = w.pf.take(j)
	} else {
		l = w.list(e)
	}
	for _, x := range l.errs {
		w.report(x.path, x.err)
	}
	if l.err != nil {
		if !errors.Is(l.err, fs.ErrNotExist) { // removed since its parent was listed
			w.report(e.fi.Path, l.err)
		}
		return nil
	}
	kids := l.ents
	var jobs []*job // prefetched listings of kids, by index
	next, ahead := 0, 0
	for i, c := range kids {
		if w.exclude[c.fi.Path] {
			continue
		}
		if w.pf != nil {
			next = max(next, i+1)
			for ; next < len(kids) && ahead < prefetchWindow; next++ {
				k := kids[next]
				if !w.enters(k) || w.exclude[k.fi.Path] {
					continue
				}
				kj := w.pf.submit(k)
				if kj == nil {
					break // at the global bound: try again at the next entry
				}
				if jobs == nil {
					jobs = make([]*job, len(kids))
				}
				jobs[next] = kj
				ahead++
			}
		}
		var cj *job
		if jobs != nil && jobs[i] != nil {
			cj, jobs[i] = jobs[i], nil
			ahead--
		}
		if err := w.visit(c, cj); err != nil {
			for _, kj := range jobs {
				w.pf.drop(kj)
			}
			if err == fs.SkipDir {
				return nil
			}
			return err
		}
	}
	return nil
}

// walkRoots drives a walk over normalised roots; stat returns the root
// entry itself (not following a final symlink).
func (w *walker) walkRoots(roots []string, stat func(p string) (entry, error)) error {
	if walkPrefetch {
		w.pf = newPrefetcher(w.list)
		defer w.pf.close()
	}
	for _, r := range roots {
		if w.excludedRoot(r) {
			continue
		}
		if err := w.ctx.Err(); err != nil {
			return err
		}
		e, err := stat(r)
		if err != nil {
			w.report(r, err)
			continue
		}
		if err := w.run(e); err != nil {
			if err == fs.SkipAll {
				return nil
			}
			return err
		}
	}
	return nil
}

// errSwapped reports a directory replaced between lstat and open.
var errSwapped = errors.New("directory changed during the walk")
