package probe

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/plumbhq/plumb/parse"
	"github.com/plumbhq/plumb/target"
)

// node is one file-system entry as a search sees it, in the terms of
// fts(3), which oscap's searches are built on: label is the path reported
// (through any symlink the search followed), lst the entry itself
// (lstat), fol what the search treats it as (the symlink's target once
// followed; lst otherwise). level counts components below the search's
// start directory.
type node struct {
	label    string
	lst, fol target.FileInfo
	followed bool
	level    int
}

func (n *node) isSymlink() bool { return n.lst.Mode&fs.ModeSymlink != 0 }

// clone returns a copy of n to keep.
func (n *node) clone() *node { c := *n; return &c }

// action is a visitor's decision about a node.
type action int

const (
	actSkip    action = iota // report nothing below it
	actDescend               // list the directory
	actFollow                // follow the symlink and visit the node again
)

// visitor is one search's logic: it sees nodes in depth-first order and
// decides what to enter. The same visitor runs under the shared walk
// (streamed entries, never following symlinks) and under the ReadDir
// traversal (which also serves what the walk left for later: symlinks to
// follow). A visitor must not keep n past the call (the shared walk
// reuses one node for every entry): what keeps a node (keepHit,
// fileSpec.laterDirs, walkQuery.follows) keeps a copy.
type visitor interface {
	visit(n *node) action
}

// joinPath appends name to a directory path without doubling a slash
// (a start path given as "/etc/" keeps its form, as fts does).
func joinPath(dir, name string) string {
	if strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}

// splitPath splits a label into the directory and the name, as oscap
// reports path and filename: "/etc/passwd" is "/etc" and "passwd", "/x"
// is "/" and "x".
func splitPath(p string) (dir, name string) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", p
	}
	dir, name = p[:i], p[i+1:]
	if dir == "" {
		dir = "/"
	}
	return dir, name
}

// under reports whether p is dir or inside it (both clean, absolute).
func under(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// excluded reports a path under Options.Exclude.
func (p *Prober) excluded(name string) bool {
	for _, x := range p.opts.Exclude {
		if under(path.Clean(name), path.Clean(x)) {
			return true
		}
	}
	return false
}

// readDir lists a directory through the cache shared by all objects.
func (p *Prober) readDir(ctx context.Context, dir string) ([]target.FileInfo, error) {
	v, err := p.raw.do(ctx, "readdir\x00"+dir, func() (any, error) {
		p.stats.dirs.Add(1)
		return p.t.ReadDir(ctx, dir)
	})
	if err != nil {
		return nil, err
	}
	return v.([]target.FileInfo), nil
}

func (p *Prober) lstat(ctx context.Context, name string) (target.FileInfo, error) {
	v, err := p.raw.do(ctx, "lstat\x00"+name, func() (any, error) { return p.t.Lstat(ctx, name) })
	if err != nil {
		return target.FileInfo{}, err
	}
	return v.(target.FileInfo), nil
}

func (p *Prober) stat(ctx context.Context, name string) (target.FileInfo, error) {
	v, err := p.raw.do(ctx, "stat\x00"+name, func() (any, error) { return p.t.Stat(ctx, name) })
	if err != nil {
		return target.FileInfo{}, err
	}
	return v.(target.FileInfo), nil
}

// realpath resolves every symlink in an absolute target path, as
// realpath(3) does, through the target (so absolute links in a root
// directory stay inside it). The walk never follows symlinks, so a search
// starting at /bin on a merged-/usr system is fed from the walk's /usr/bin.
func (p *Prober) realpath(ctx context.Context, name string) (string, error) {
	v, err := p.raw.do(ctx, "realpath\x00"+name, func() (any, error) {
		return p.resolve(ctx, name)
	})
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

const maxSymlinks = 40

func (p *Prober) resolve(ctx context.Context, name string) (string, error) {
	if !path.IsAbs(name) {
		return "", &fs.PathError{Op: "realpath", Path: name, Err: fs.ErrInvalid}
	}
	todo := strings.Split(name, "/")
	var done []string
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) > 0 {
				done = done[:len(done)-1]
			}
			continue
		}
		cand := "/" + strings.Join(append(done, c), "/")
		fi, err := p.lstat(ctx, cand)
		if err != nil {
			return "", err
		}
		if fi.Mode&fs.ModeSymlink == 0 {
			if len(todo) > 0 && !fi.Mode.IsDir() {
				return "", &fs.PathError{Op: "realpath", Path: name, Err: errors.New("not a directory")}
			}
			done = append(done, c)
			continue
		}
		links++
		if links > maxSymlinks {
			return "", &fs.PathError{Op: "realpath", Path: name, Err: errors.New("too many levels of symbolic links")}
		}
		link := fi.Link
		if link == "" {
			return "", &fs.PathError{Op: "realpath", Path: name, Err: fs.ErrNotExist}
		}
		if strings.HasPrefix(link, "/") {
			done = done[:0]
		}
		todo = append(strings.Split(link, "/"), todo...)
	}
	return "/" + strings.Join(done, "/"), nil
}

// startNode is the node of a search's start path: fts opens it following
// a final symlink (FTS_COMFOLLOW), so a start path that is a symlink to a
// directory is searched as that directory, under its own name.
func (p *Prober) startNode(ctx context.Context, label string) (*node, error) {
	lst, err := p.lstat(ctx, label)
	if err != nil {
		return nil, err
	}
	n := &node{label: label, lst: lst, fol: lst}
	if lst.Mode&fs.ModeSymlink != 0 {
		n.followed = true
		if fi, err := p.stat(ctx, label); err == nil {
			n.fol = fi
		}
	}
	return n, nil
}

// dfs runs a visitor with ReadDir listings (cached and shared by every
// object), following symlinks when the visitor asks. Directory cycles
// through followed symlinks are cut as fts cuts them (FTS_DC): a
// directory whose real path is one of its ancestors' is not entered.
type dfs struct {
	p     *Prober
	v     visitor
	onErr func(path string, err error)
}

// run visits n and what is below it.
func (d *dfs) run(ctx context.Context, n *node) error {
	return d.visit(ctx, n, "", nil)
}

// resume visits a node the shared walk left (a symlink to follow) at its
// level below the search's start label top: the real paths of the
// directories between them are its ancestors for the cycle check.
func (d *dfs) resume(ctx context.Context, n *node, top string) error {
	var anc []string
	dir := n.label
	for i := 0; i < n.level; i++ {
		dir, _ = splitPath(dir)
		if r, err := d.p.realpath(ctx, dir); err == nil {
			anc = append(anc, r)
		}
		if dir == top || dir == "/" {
			break
		}
	}
	slices.Reverse(anc)
	return d.visit(ctx, n, "", anc)
}

// visit handles n; real is its real path when known ("" to resolve it on
// demand), anc the real paths of the directories above it.
func (d *dfs) visit(ctx context.Context, n *node, real string, anc []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if n.level > 0 && d.p.excluded(n.label) {
		return nil // as the walk does: neither reported nor entered
	}
	act := d.v.visit(n)
	if act == actFollow {
		n.followed = true
		real = ""
		if fi, err := d.p.stat(ctx, n.label); err == nil {
			n.fol = fi
		}
		if n.fol.Mode.IsDir() {
			r, err := d.p.realpath(ctx, n.label)
			if err != nil {
				d.onErr(n.label, err)
				return nil
			}
			if slices.Contains(anc, r) {
				// A cycle: fts reports it as FTS_DC, which oscap skips
				// before looking at it.
				return nil
			}
			real = r
		}
		act = d.v.visit(n)
	}
	if act != actDescend || !n.fol.Mode.IsDir() {
		return nil
	}
	if real == "" {
		r, err := d.p.realpath(ctx, n.label)
		if err != nil {
			d.onErr(n.label, err)
			return nil
		}
		real = r
	}
	if slices.Contains(anc, real) {
		return nil // a cycle (FTS_DC): not entered
	}
	ents, err := d.p.readDir(ctx, n.label)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			d.onErr(n.label, err)
		}
		return nil
	}
	anc = append(anc, real)
	for _, e := range ents {
		name := path.Base(e.Path)
		c := &node{label: joinPath(n.label, name), lst: e, fol: e, level: n.level + 1}
		if err := d.visit(ctx, c, joinPath(real, name), anc); err != nil {
			return err
		}
	}
	return nil
}

// A walkQuery is one search fed from the shared walk: a visitor started
// at the real path root, reporting paths under label (they differ when
// the search starts at a symlink such as /bin -> usr/bin).
type walkQuery struct {
	root    string  // real, clean path the walk reaches the start at
	label   string  // path the search reports for root
	start   *node   // the start node (lstat of label, followed)
	v       visitor // the search
	local   bool    // recurse_file_system="local"
	onErr   func(string, error)
	follows []*node // symlinks to follow once the walk is over
}

// relabel maps a walked path under q.root to the search's own label.
func (q *walkQuery) relabel(p string) string {
	if q.root == q.label {
		return p
	}
	if p == q.root {
		return q.label
	}
	rest := p[len(q.root):]
	if q.root == "/" {
		rest = p
	}
	return strings.TrimSuffix(q.label, "/") + rest
}

// walkFrame is a directory the shared walk is inside of, with the
// searches that entered it. A symlink a search wants followed is
// remembered in the query and handed to the ReadDir traversal after the
// walk, which itself never follows one.
type walkFrame struct {
	dir    string
	prefix string // dir with a trailing slash: what entries below it start with
	qs     []frameQuery
}

type frameQuery struct {
	q     *walkQuery
	level int // level of the frame directory's children
}

// sharedWalk walks the union of the queries' roots once, feeding each
// entry to every query whose search covers it, and skipping directories
// no query wants entered.
func (p *Prober) sharedWalk(ctx context.Context, queries []*walkQuery) error {
	if len(queries) == 0 {
		return nil
	}
	byRoot := map[string][]*walkQuery{}
	ancestors := map[string]bool{} // strict ancestors of some root
	var roots []string
	allLocal := true
	for _, q := range queries {
		if _, ok := byRoot[q.root]; !ok {
			roots = append(roots, q.root)
		}
		byRoot[q.root] = append(byRoot[q.root], q)
		for a := q.root; a != "/"; {
			a = path.Dir(a)
			ancestors[a] = true
		}
		allLocal = allLocal && q.local
	}
	sort.Strings(roots)
	live := p.live(ctx)
	nonLocal := p.nonLocalMounts(ctx)

	var stack []walkFrame
	cur := new(node)
	opts := target.WalkOptions{
		Roots:     roots,
		Exclude:   p.opts.Exclude,
		LocalOnly: live && allLocal,
	}
	opts.OnError = func(errPath string, err error) {
		// The deepest frame covering the path holds the searches that
		// wanted it read.
		for i := len(stack) - 1; i >= 0; i-- {
			if under(errPath, stack[i].dir) {
				for _, fq := range stack[i].qs {
					fq.q.onErr(errPath, err)
				}
				return
			}
		}
		for _, q := range byRoot[errPath] {
			q.onErr(errPath, err)
		}
	}
	p.stats.walks.Add(1)
	err := p.t.Walk(ctx, opts, func(fi target.FileInfo) error {
		p.stats.entries.Add(1)
		P := fi.Path
		for len(stack) > 0 && !strings.HasPrefix(P, stack[len(stack)-1].prefix) {
			stack = stack[:len(stack)-1]
		}
		var cand []frameQuery
		if len(stack) > 0 {
			cand = stack[len(stack)-1].qs
		}
		starts := byRoot[P]
		isDir := fi.Mode.IsDir()
		if isDir && nonLocal.paths[P] {
			nonLocal.learn(fi.Dev)
		}
		var keep []frameQuery
		visit := func(q *walkQuery, level int) {
			var n *node
			if level == 0 {
				n = q.start
			} else {
				// Every entry is visited by every search covering it:
				// one node serves them all (see visitor).
				*cur = node{label: q.relabel(P), lst: fi, fol: fi, level: level}
				n = cur
			}
			act := q.v.visit(n)
			if act == actFollow {
				q.follows = append(q.follows, n.clone())
				return
			}
			if act == actDescend && isDir {
				keep = append(keep, frameQuery{q, level + 1})
			}
		}
		for _, fq := range cand {
			visit(fq.q, fq.level)
		}
		for _, q := range starts {
			visit(q, 0)
		}
		if !isDir {
			return nil
		}
		if len(keep) == 0 && !ancestors[P] {
			return fs.SkipDir
		}
		prefix := P + "/"
		if P == "/" {
			prefix = "/"
		}
		stack = append(stack, walkFrame{dir: P, prefix: prefix, qs: keep})
		return nil
	})
	if err != nil {
		return fmt.Errorf("walk %s: %w", strings.Join(roots, ", "), err)
	}
	return nil
}

// mountSet is what recurse_file_system="local" does not enter: mount
// points of pseudo and network file systems, and (learnt as the walk
// reaches those mount points) their devices, which catch the same file
// system mounted again elsewhere.
type mountSet struct {
	paths map[string]bool // written once, then read-only
	mu    sync.Mutex
	devs  map[uint64]bool
}

func (s *mountSet) learn(dev uint64) {
	s.mu.Lock()
	s.devs[dev] = true
	s.mu.Unlock()
}

// contains reports whether n is a non-local mount point, by path or by
// device.
func (s *mountSet) contains(n *node) bool {
	if s.paths[n.label] || s.paths[path.Clean(n.label)] {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.devs[n.fol.Dev]
}

// nonLocalMounts reads the live mount table once. A root directory has
// no mounts of its own: everything in it is local.
func (p *Prober) nonLocalMounts(ctx context.Context) *mountSet {
	v, _ := p.raw.do(ctx, "nonlocal", func() (any, error) {
		s := &mountSet{paths: map[string]bool{}, devs: map[uint64]bool{}}
		if !p.live(ctx) {
			return s, nil
		}
		data, err := p.t.ReadFile(ctx, "/proc/self/mounts", p.opts.MaxFileSize)
		if err != nil {
			return s, nil
		}
		ms, _ := parse.Mounts(data)
		for _, m := range ms {
			// oscap counts only network and autofs mounts as non-local
			// and so walks /proc and /sys, which SSG's filters then throw
			// away; skipping them gives the same items in a fraction of
			// the time.
			if target.NonLocalFS(m.FSType) {
				s.paths[path.Clean(m.Target)] = true
			}
		}
		return s, nil
	})
	if v == nil {
		return &mountSet{paths: map[string]bool{}, devs: map[uint64]bool{}}
	}
	return v.(*mountSet)
}
