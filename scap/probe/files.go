package probe

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/plumbhq/plumb/scap/oval"
	"github.com/plumbhq/plumb/target"
)

// behaviors are a file search's <behaviors> attributes, with OVAL's
// defaults.
type behaviors struct {
	maxDepth     int    // -1: unlimited
	direction    string // none, down, up
	recurseDirs  bool
	recurseLinks bool
	fsMode       string // all, local, defined
}

func parseBehaviors(b map[string]string) (behaviors, error) {
	out := behaviors{maxDepth: -1, direction: "none", recurseDirs: true, recurseLinks: true, fsMode: "all"}
	if v, ok := b["max_depth"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < -1 {
			return out, fmt.Errorf("invalid max_depth %q", v)
		}
		out.maxDepth = n
	}
	if v, ok := b["recurse_direction"]; ok {
		switch v {
		case "none", "down", "up":
			out.direction = v
		default:
			return out, fmt.Errorf("invalid recurse_direction %q", v)
		}
	}
	if v, ok := b["recurse"]; ok {
		switch v {
		case "symlinks and directories":
			out.recurseDirs, out.recurseLinks = true, true
		case "files and directories", "directories":
			out.recurseDirs, out.recurseLinks = true, false
		case "symlinks":
			out.recurseDirs, out.recurseLinks = false, true
		default:
			return out, fmt.Errorf("invalid recurse %q", v)
		}
	}
	if v, ok := b["recurse_file_system"]; ok {
		switch v {
		case "all", "local", "defined":
			out.fsMode = v
		default:
			return out, fmt.Errorf("invalid recurse_file_system %q", v)
		}
	}
	return out, nil
}

// shallowDepth is the deepest downward recursion answered by listing
// directories one by one rather than from the shared walk.
const shallowDepth = 2

type fileKind int

const (
	kindFilepath fileKind = iota // filepath entity
	kindPath                     // path and filename entities
)

// fileSpec is a file search of one object: where it starts, what it
// matches, and what becomes of a hit.
type fileSpec struct {
	obj      *oval.Object
	res      *result
	kind     fileKind
	pathE    oval.ObjectEntity // path or filepath
	pathM    *matcher
	nameM    *matcher // filename; nil when xsi:nil (the directory itself)
	beh      behaviors
	noFollow bool // symlink_object: a symlink is the hit, never followed

	mu   sync.Mutex
	hits []*node // non-directory hits kept for after the search
	// sink receives every hit: dir is true for a directory reported by a
	// nil filename.
	sink func(n *node, dir bool)
	// post runs after every search of the batch (reads the hits' files).
	post func(ctx context.Context)
	// laterDirs are directories matched from the shared walk, whose own
	// recursion runs after it.
	laterDirs []*node
}

func (s *fileSpec) keepHit(n *node) {
	c := n.clone() // n may be the shared walk's (see visitor)
	s.mu.Lock()
	s.hits = append(s.hits, c)
	s.mu.Unlock()
}

func (s *fileSpec) onErr(p string, err error) {
	s.res.markIncomplete(fmt.Sprintf("%s: %v", p, errText(err)))
}

func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// newFileSpec reads the search part of a file-like object. The caller
// sets sink and post.
func (p *Prober) newFileSpec(obj *oval.Object, res *result) (*fileSpec, error) {
	s := &fileSpec{obj: obj, res: res}
	beh, err := parseBehaviors(obj.Behaviors)
	if err != nil {
		return nil, err
	}
	s.beh = beh
	if e, ok := obj.Entity("filepath"); ok && !e.Nil {
		s.kind, s.pathE = kindFilepath, e
		if obj.Type == "textfilecontent54_object" {
			// oscap drops the file behaviors of a filepath search.
			s.beh = behaviors{maxDepth: -1, direction: "none", recurseDirs: true, recurseLinks: true, fsMode: "all"}
		}
	} else {
		pe, err := requireEntity(obj, "path")
		if err != nil {
			return nil, err
		}
		fe, err := requireEntity(obj, "filename")
		if err != nil {
			return nil, err
		}
		s.kind, s.pathE = kindPath, pe
		if !fe.Nil {
			s.nameM = newMatcher(p.pats, fe)
		}
	}
	if s.pathE.Nil {
		return nil, fmt.Errorf("%s %s: path may not be nil", obj.Type, obj.ID)
	}
	s.pathM = newMatcher(p.pats, s.pathE)
	if s.pathM.err != nil {
		return nil, s.pathM.err
	}
	return s, nil
}

// fsScope applies recurse_file_system to the directories and symlinks a
// search would enter.
type fsScope struct {
	mode     string
	rootDev  uint64
	nonLocal *mountSet
}

func (f *fsScope) excludes(n *node) bool {
	switch f.mode {
	case "local":
		return f.nonLocal.contains(n)
	case "defined":
		return n.fol.Dev != f.rootDev
	}
	return false
}

// matchVisitor is oscap's first phase: find the directories a path
// pattern selects, or the files a filepath selects, walking down from the
// pattern's literal prefix. Symlinks are followed here (oscap reports
// the target of a symlink met while matching), subtrees that cannot
// match are skipped, and only non-directories can be filepath hits and
// only directories path hits.
type matchVisitor struct {
	s       *fileSpec
	partial *partialMatcher
	scope   *fsScope
	emit    func(n *node) // a path hit (directory) or filepath hit
}

func (v *matchVisitor) visit(n *node) action {
	if n.isSymlink() && !n.followed {
		if v.s.noFollow {
			v.leaf(n)
			return actSkip
		}
		return actFollow
	}
	if !n.fol.Mode.IsDir() {
		v.leaf(n)
		return actSkip
	}
	if v.scope.excludes(n) {
		return actSkip
	}
	if v.partial != nil && !v.partial.possible(n.label) {
		return actSkip
	}
	if v.s.kind == kindPath {
		if ok, err := v.s.pathM.match(n.label); err != nil {
			v.s.res.fail(err)
			return actSkip
		} else if ok {
			v.emit(n)
		}
	}
	return actDescend
}

func (v *matchVisitor) leaf(n *node) {
	if v.s.kind != kindFilepath {
		return
	}
	ok, err := v.s.pathM.match(n.label)
	if err != nil {
		v.s.res.fail(err)
		return
	}
	if ok {
		v.emit(n)
	}
}

// recurseVisitor is oscap's second phase for one matched directory:
// collect the entries below it that the filename selects (or, with a nil
// filename, the directories themselves) within max_depth. fts semantics
// apply: with a filename, only non-directories are hits, and they may
// sit one level below max_depth (the deepest directory entered still has
// its files listed); with a nil filename, directories down to max_depth
// are hits. A symlink below the start is entered only if recurse allows
// symlinks; it is then visited again as its target.
type recurseVisitor struct {
	s     *fileSpec
	scope *fsScope
}

func (v *recurseVisitor) visit(n *node) action {
	s, b := v.s, v.s.beh
	if s.nameM == nil {
		if n.fol.Mode.IsDir() && (b.maxDepth < 0 || n.level <= b.maxDepth) {
			s.sink(n, true)
		}
	} else if !n.fol.Mode.IsDir() && n.level > 0 {
		_, name := splitPath(n.label)
		ok, err := s.nameM.match(name)
		if err != nil {
			s.res.fail(err)
			return actSkip
		}
		if ok {
			s.sink(n, false)
		}
	}
	follow := false
	if n.level > 0 {
		if b.direction == "none" || (b.maxDepth >= 0 && n.level > b.maxDepth) {
			return actSkip
		}
		switch {
		case n.fol.Mode.IsDir():
			if !b.recurseDirs {
				return actSkip
			}
		case n.isSymlink() && !n.followed:
			if !b.recurseLinks {
				return actSkip
			}
			follow = true
		default:
			return actSkip
		}
	}
	if (n.fol.Mode.IsDir() || n.isSymlink()) && v.scope.excludes(n) {
		return actSkip
	}
	if follow {
		return actFollow
	}
	if n.fol.Mode.IsDir() {
		return actDescend
	}
	return actSkip
}

// planner gathers the searches of a batch that go to the shared walk.
type planner struct {
	mu      sync.Mutex
	queries []*walkQuery
}

func (pl *planner) add(q *walkQuery) {
	pl.mu.Lock()
	pl.queries = append(pl.queries, q)
	pl.mu.Unlock()
}

// startSpec runs what of a search can run before the shared walk (literal
// start paths, pruned pattern matching, shallow recursion) and hands the
// deep parts to pl. With pl nil everything runs now (after the walk).
func (p *Prober) startSpec(ctx context.Context, s *fileSpec, pl *planner) {
	values := s.pathE.Values
	if isEquals(s.pathE) {
		for _, v := range values {
			n, err := p.startNode(ctx, v)
			if err != nil {
				if !absent(err) {
					s.onErr(v, err)
				}
				continue
			}
			if s.kind == kindFilepath {
				if !n.fol.Mode.IsDir() || (s.noFollow && n.isSymlink()) {
					s.sink(n, false)
				}
				continue
			}
			if n.fol.Mode.IsDir() {
				p.recurse(ctx, s, n, pl)
			}
		}
		return
	}
	// Any other operation searches from a literal prefix (pattern match,
	// one search per distinct prefix, pruned by every pattern sharing it)
	// or from the top, unpruned.
	type group struct {
		start   string
		partial []*partialMatcher
		prune   bool
	}
	var groups []*group
	if s.pathE.Operation == "pattern match" {
		byStart := map[string]*group{}
		for _, v := range values {
			start := fixedPrefix(v)
			g, ok := byStart[start]
			if !ok {
				g = &group{start: start, prune: true}
				byStart[start] = g
				groups = append(groups, g)
			}
			m := p.partial(v)
			g.partial = append(g.partial, m)
			g.prune = g.prune && m != nil
		}
	} else {
		groups = []*group{{start: "/"}}
	}
	for _, g := range groups {
		n, err := p.startNode(ctx, g.start)
		if err != nil {
			if !absent(err) {
				s.onErr(g.start, err)
			}
			continue
		}
		scope := &fsScope{mode: s.beh.fsMode, rootDev: n.fol.Dev, nonLocal: p.nonLocalMounts(ctx)}
		mv := &matchVisitor{s: s, scope: scope}
		if g.prune {
			mv.partial = &partialMatcher{multi: g.partial}
			if len(g.partial) == 1 {
				mv.partial = g.partial[0]
			}
		}
		// Without pruning, a pattern search may cover a whole file
		// system: it goes to the shared walk.
		deep := mv.partial == nil && pl != nil && n.fol.Mode.IsDir()
		mv.emit = func(h *node) {
			switch {
			case s.kind == kindFilepath:
				s.sink(h, false)
			case deep:
				h = h.clone() // h may be the shared walk's (see visitor)
				s.mu.Lock()
				s.laterDirs = append(s.laterDirs, h)
				s.mu.Unlock()
			default:
				p.recurse(ctx, s, h, pl)
			}
		}
		if deep {
			root, err := p.realpath(ctx, g.start)
			if err != nil {
				s.onErr(g.start, err)
				continue
			}
			pl.add(&walkQuery{root: root, label: g.start, start: n, v: mv, local: s.beh.fsMode == "local", onErr: s.onErr})
			continue
		}
		d := &dfs{p: p, v: mv, onErr: s.onErr}
		if err := d.run(ctx, n); err != nil {
			s.res.fail(err)
			return
		}
	}
}

// recurse runs the second phase below a matched directory D.
func (p *Prober) recurse(ctx context.Context, s *fileSpec, d *node, pl *planner) {
	b := s.beh
	if b.direction == "none" && s.nameM == nil {
		s.sink(d, true) // the directory itself
		return
	}
	start := &node{label: d.label, lst: d.lst, fol: d.fol, followed: d.followed}
	if b.direction == "up" {
		p.recurseUp(ctx, s, start)
		return
	}
	scope := &fsScope{mode: b.fsMode, rootDev: start.fol.Dev, nonLocal: p.nonLocalMounts(ctx)}
	v := &recurseVisitor{s: s, scope: scope}
	deep := b.direction == "down" && (b.maxDepth < 0 || b.maxDepth > shallowDepth)
	if deep && pl != nil {
		root, err := p.realpath(ctx, start.label)
		if err != nil {
			s.onErr(start.label, err)
			return
		}
		pl.add(&walkQuery{root: root, label: start.label, start: start, v: v, local: b.fsMode == "local", onErr: s.onErr})
		return
	}
	dd := &dfs{p: p, v: v, onErr: s.onErr}
	if err := dd.run(ctx, start); err != nil {
		s.res.fail(err)
	}
}

// recurseUp is recurse_direction="up": the directory and its ancestors up
// to max_depth levels, each listed one level deep.
func (p *Prober) recurseUp(ctx context.Context, s *fileSpec, d *node) {
	cur := d
	for level := 0; s.beh.maxDepth < 0 || level <= s.beh.maxDepth; level++ {
		if s.nameM == nil {
			if cur.fol.Mode.IsDir() {
				s.sink(cur, true)
			}
		} else if cur.fol.Mode.IsDir() {
			ents, err := p.readDir(ctx, cur.label)
			if err != nil {
				if !absent(err) {
					s.onErr(cur.label, err)
				}
			}
			for _, e := range ents {
				name := e.Path[strings.LastIndexByte(e.Path, '/')+1:]
				c := &node{label: joinPath(cur.label, name), lst: e, fol: e, level: 1}
				if c.isSymlink() {
					// Reported as itself, then again as its target.
					if ok, _ := s.nameM.match(name); ok {
						s.sink(c, false)
					}
					if fi, err := p.stat(ctx, c.label); err == nil {
						c = &node{label: c.label, lst: e, fol: fi, followed: true, level: 1}
					} else {
						continue
					}
				}
				if c.fol.Mode.IsDir() {
					continue
				}
				ok, err := s.nameM.match(name)
				if err != nil {
					s.res.fail(err)
					return
				}
				if ok {
					s.sink(c, false)
				}
			}
		}
		if cur.label == "/" {
			return
		}
		parent, _ := splitPath(strings.TrimSuffix(cur.label, "/"))
		n, err := p.startNode(ctx, parent)
		if err != nil {
			return
		}
		cur = n
	}
}

// absent reports errors that mean "no such file" for a search: the path
// or a component of it does not exist or is not a directory.
func absent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

type fileResult struct {
	c   oval.Collected
	err error
}

// collectFiles answers a batch of file-like objects: every deep search of
// the batch is fed from one shared walk.
func (p *Prober) collectFiles(ctx context.Context, objs []*oval.Object) []fileResult {
	out := make([]fileResult, len(objs))
	specs := make([]*fileSpec, len(objs))
	results := make([]*result, len(objs))
	// Setting up compiles the objects' patterns: a few milliseconds
	// for a benchmark's worth, spread over the workers.
	p.parallel(len(objs), func(i int) {
		res := newResult(objs[i])
		results[i] = res
		s, err := p.newFileSpec(objs[i], res)
		if err == nil {
			err = p.setupSink(ctx, s)
		}
		if err != nil {
			res.fail(err)
			return
		}
		specs[i] = s
	})
	pl := &planner{}
	p.forEach(ctx, specs, func(s *fileSpec) { p.startSpec(ctx, s, pl) })
	if err := p.sharedWalk(ctx, pl.queries); err != nil {
		for _, s := range specs {
			if s == nil {
				continue
			}
			for _, q := range pl.queries {
				if ownsQuery(s, q) {
					s.res.fail(err)
					break
				}
			}
		}
	}
	// What the walk left: symlinks to follow and directories matched
	// during it.
	p.forEach(ctx, specs, func(s *fileSpec) {
		for _, q := range pl.queries {
			if !ownsQuery(s, q) {
				continue
			}
			d := &dfs{p: p, v: q.v, onErr: s.onErr}
			for _, n := range q.follows {
				if err := d.resume(ctx, n, q.label); err != nil {
					s.res.fail(err)
				}
			}
		}
		for _, dir := range s.laterDirs {
			p.recurse(ctx, s, dir, nil)
		}
	})
	p.forEach(ctx, specs, func(s *fileSpec) {
		if s.post != nil {
			s.post(ctx)
		}
	})
	for i := range objs {
		if err := ctx.Err(); err != nil {
			out[i].err = err
			continue
		}
		out[i].c = results[i].collected()
	}
	return out
}

// ownsQuery reports whether q is one of s's searches.
func ownsQuery(s *fileSpec, q *walkQuery) bool {
	switch v := q.v.(type) {
	case *matchVisitor:
		return v.s == s
	case *recurseVisitor:
		return v.s == s
	}
	return false
}

// parallel calls fn(0) .. fn(n-1) on up to Options.Concurrency
// goroutines and returns when all are done.
func (p *Prober) parallel(n int, fn func(i int)) {
	workers := min(p.opts.Concurrency, n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// forEach runs fn for each non-nil spec, at most Concurrency at a time.
func (p *Prober) forEach(ctx context.Context, specs []*fileSpec, fn func(*fileSpec)) {
	sem := make(chan struct{}, p.opts.Concurrency)
	var wg sync.WaitGroup
	for _, s := range specs {
		if s == nil {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(s)
		}()
	}
	wg.Wait()
}

// fileItemEntities are the entities of a file_item, in the order
// appendFileItem gives them.
var fileItemEntities = []string{"filepath", "path", "filename", "type", "group_id", "user_id",
	"a_time", "c_time", "m_time", "size", "suid", "sgid", "sticky",
	"uread", "uwrite", "uexec", "gread", "gwrite", "gexec", "oread", "owrite", "oexec",
	"has_extended_acl"}

// appendFileItem appends the file_item entities of an entry, from its
// lstat (a symlink is reported as "symbolic link" even when the search
// followed it, as oscap's lstat does). A directory reported for a nil
// filename has an empty filename and no filepath. With only not nil, it
// appends just the entities only names.
func appendFileItem(ents []oval.ItemEntity, label string, fi target.FileInfo, dir bool, only []string) []oval.ItemEntity {
	names := fileItemEntities
	if only != nil {
		names = only
	}
	for _, name := range names {
		if e, ok := fileEntity(name, label, fi, dir); ok {
			ents = append(ents, e)
		}
	}
	return ents
}

// fileEntity returns the file_item entity called name of an entry (see
// appendFileItem), or false when the item has none of that name.
func fileEntity(name, label string, fi target.FileInfo, dir bool) (oval.ItemEntity, bool) {
	m := fi.Mode
	switch name {
	case "filepath":
		if dir {
			return oval.ItemEntity{}, false
		}
		return strEnt("filepath", label), true
	case "path":
		if dir {
			return strEnt("path", label), true
		}
		d, _ := splitPath(label)
		return strEnt("path", d), true
	case "filename":
		if dir {
			return strEnt("filename", ""), true
		}
		_, n := splitPath(label)
		return strEnt("filename", n), true
	case "type":
		return strEnt("type", fileType(m)), true
	case "group_id":
		return uintEnt("group_id", uint64(fi.GID)), true
	case "user_id":
		return uintEnt("user_id", uint64(fi.UID)), true
	case "a_time", "c_time":
		// target.FileInfo carries no access or change time.
		return missingEnt(name, "int", oval.StatusNotCollected), true
	case "m_time":
		return intEnt("m_time", fi.ModTime.Unix()), true
	case "size":
		return intEnt("size", fi.Size), true
	case "suid":
		return boolEnt("suid", m&fs.ModeSetuid != 0), true
	case "sgid":
		return boolEnt("sgid", m&fs.ModeSetgid != 0), true
	case "sticky":
		return boolEnt("sticky", m&fs.ModeSticky != 0), true
	case "uread":
		return boolEnt("uread", m&0o400 != 0), true
	case "uwrite":
		return boolEnt("uwrite", m&0o200 != 0), true
	case "uexec":
		return boolEnt("uexec", m&0o100 != 0), true
	case "gread":
		return boolEnt("gread", m&0o040 != 0), true
	case "gwrite":
		return boolEnt("gwrite", m&0o020 != 0), true
	case "gexec":
		return boolEnt("gexec", m&0o010 != 0), true
	case "oread":
		return boolEnt("oread", m&0o004 != 0), true
	case "owrite":
		return boolEnt("owrite", m&0o002 != 0), true
	case "oexec":
		return boolEnt("oexec", m&0o001 != 0), true
	case "has_extended_acl":
		// ACLs are not visible through target.Target.
		return missingEnt("has_extended_acl", "boolean", oval.StatusNotCollected), true
	}
	return oval.ItemEntity{}, false
}

// fileType names a file type as the OVAL file_item does.
func fileType(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular"
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character special"
	case m&fs.ModeDevice != 0:
		return "block special"
	}
	return "regular"
}
