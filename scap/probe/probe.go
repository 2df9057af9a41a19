// Package probe collects OVAL items from a host through target.Target, so
// the same probes work on this machine, on an unpacked root file system and
// over SSH. It implements oval.Prober and oval.Preparer.
//
// Results are meant to agree with OpenSCAP's oscap on the SCAP Security
// Guide: where OVAL leaves room (which files a recursive search visits,
// how a symlink found on the way is treated, what a dpkginfo evr is), the
// probes do what oscap 1.3 does, and each such choice says so where it is
// made. Where the two cannot agree (oscap asks systemd over D-Bus; a probe
// here reads unit files), the difference is documented on the probe.
//
// Speed comes from sharing: Prepare sees every file-system object of a
// scan up front and answers all of their recursive searches from one walk
// of the tree, and raw data (file contents, directory listings, dpkg
// status, unit files, passwd) is read once per Prober however many
// objects need it.
package probe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/plumbhq/plumb/scap/oval"
	"github.com/plumbhq/plumb/target"
)

// Options tune a Prober. The zero value is usable.
type Options struct {
	// MaxFileSize bounds one file read for its content (textfilecontent,
	// databases such as dpkg status). Default target.MaxFileSize. A longer
	// file is not matched partially: its object is flagged error.
	MaxFileSize int64
	// Patterns compiles OVAL regular expressions. Pass the evaluator's so
	// each pattern is compiled once per scan; nil means a private cache.
	Patterns *oval.Patterns
	// Exclude lists absolute paths no search reports or enters, on top
	// of what recurse_file_system excludes (as target.WalkOptions.Exclude).
	Exclude []string
	// Concurrency bounds the parallel work outside the shared walk
	// (listings, file reads, per-object match phases). Default 4.
	Concurrency int
	// MaxMatches bounds the textfilecontent matches taken from one file;
	// past it the object is flagged incomplete. Default 100000.
	MaxMatches int
	// CacheBytes bounds the file contents kept for reuse by later
	// objects. Default 64 MiB; files read past it are not kept.
	CacheBytes int64
	// NoSystemctl stops the systemd probes from running systemctl on a
	// live target; runtime unit state (ActiveState, SubState) is then not
	// collectable and unit enumeration comes from unit files only.
	NoSystemctl bool
}

// Prober collects OVAL items from one target. It is safe for concurrent
// use. Create it with New.
type Prober struct {
	t    target.Target
	opts Options
	pats *oval.Patterns

	raw  memo // shared raw data: file reads, listings, databases
	objs memo // collected objects by key

	cacheUsed atomic.Int64

	partialMu sync.Mutex
	partials  map[string]*partialMatcher

	stats stats
}

var (
	_ oval.Prober   = (*Prober)(nil)
	_ oval.Preparer = (*Prober)(nil)
)

// New returns a Prober for t.
func New(t target.Target, opts Options) *Prober {
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = target.MaxFileSize
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.MaxMatches <= 0 {
		opts.MaxMatches = 100000
	}
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = 64 << 20
	}
	pats := opts.Patterns
	if pats == nil {
		pats = &oval.Patterns{}
	}
	return &Prober{t: t, opts: opts, pats: pats, partials: map[string]*partialMatcher{}}
}

// Stats counts the work a Prober did, for benchmarks and scan summaries.
type Stats struct {
	Walks         int64 // calls of target.Walk
	EntriesWalked int64 // entries those walks reported
	DirsListed    int64 // directories listed with ReadDir
	FilesRead     int64 // files read for their content
	Commands      int64 // commands run on the target
}

type stats struct {
	walks, entries, dirs, files, commands atomic.Int64
}

// Stats returns the counters so far.
func (p *Prober) Stats() Stats {
	return Stats{
		Walks:         p.stats.walks.Load(),
		EntriesWalked: p.stats.entries.Load(),
		DirsListed:    p.stats.dirs.Load(),
		FilesRead:     p.stats.files.Load(),
		Commands:      p.stats.commands.Load(),
	}
}

// Collect returns the items of obj. An object type without a probe is
// oval.ErrUnsupported; an object the target cannot answer at all (runtime
// kernel state of an unpacked root) is oval.ErrNotCollectable. Problems
// with the host's data (an unreadable file, a malformed database) are
// reported in the Collected flag and message, not as an error.
func (p *Prober) Collect(ctx context.Context, obj *oval.Object) (oval.Collected, error) {
	if obj == nil {
		return oval.Collected{}, errors.New("probe: nil object")
	}
	v, err := p.objs.do(ctx, objectKey(obj), func() (any, error) {
		if isFileLike(obj.Type) {
			res := p.collectFiles(ctx, []*oval.Object{obj})
			return res[0].c, res[0].err
		}
		return p.collectOther(ctx, obj)
	})
	if err != nil {
		return oval.Collected{}, err
	}
	return v.(oval.Collected), nil
}

// Prepare collects every file-system object among objs at once, so that
// all their recursive searches share one walk of the target's tree; a
// later Collect of any of them returns the stored result. Other object
// types are left to Collect, which reuses the raw data read here. Prepare
// returns only the context's error: per-object problems are kept for
// Collect.
func (p *Prober) Prepare(ctx context.Context, objs []*oval.Object) error {
	type pending struct {
		obj  *oval.Object
		fill func(any, error)
	}
	var todo []pending
	seen := map[string]bool{}
	for _, o := range objs {
		if o == nil || !isFileLike(o.Type) {
			continue
		}
		key := objectKey(o)
		if seen[key] {
			continue
		}
		seen[key] = true
		if fill, ok := p.objs.claim(key); ok {
			todo = append(todo, pending{o, fill})
		}
	}
	if len(todo) == 0 {
		return ctx.Err()
	}
	batch := make([]*oval.Object, len(todo))
	for i, t := range todo {
		batch[i] = t.obj
	}
	res := p.collectFiles(ctx, batch)
	for i, t := range todo {
		t.fill(res[i].c, res[i].err)
	}
	return ctx.Err()
}

func (p *Prober) collectOther(ctx context.Context, obj *oval.Object) (oval.Collected, error) {
	switch obj.Type {
	case "family_object":
		return p.collectFamily(ctx, obj)
	case "uname_object":
		return p.collectUname(ctx, obj)
	case "dpkginfo_object":
		return p.collectDpkg(ctx, obj)
	case "rpminfo_object":
		return p.collectRPM(ctx, obj)
	case "sysctl_object":
		return p.collectSysctl(ctx, obj)
	case "partition_object":
		return p.collectPartition(ctx, obj)
	case "password_object":
		return p.collectPassword(ctx, obj)
	case "shadow_object":
		return p.collectShadow(ctx, obj)
	case "environmentvariable58_object":
		return p.collectEnviron(ctx, obj)
	case "systemdunitproperty_object":
		return p.collectUnitProperty(ctx, obj)
	case "systemdunitdependency_object":
		return p.collectUnitDependency(ctx, obj)
	case "process58_object":
		return p.collectProcess(ctx, obj)
	case "interface_object":
		return p.collectInterface(ctx, obj)
	case "xmlfilecontent_object":
		return p.collectXMLContent(ctx, obj)
	case "yamlfilecontent_object":
		return p.collectYAMLContent(ctx, obj)
	}
	return oval.Collected{}, fmt.Errorf("%w: %s", oval.ErrUnsupported, obj.Type)
}

// isFileLike reports the object types answered by the file search
// machinery (and so by Prepare's shared walk).
func isFileLike(typ string) bool {
	switch typ {
	case "file_object", "textfilecontent54_object", "textfilecontent_object", "symlink_object":
		return true
	}
	return false
}

// objectKey identifies an object by id and content: the evaluator may hand
// a fresh *Object for the same id, and the result must be reused; the same
// id with other entity values (variables resolved differently) must not.
func objectKey(o *oval.Object) string {
	var b strings.Builder
	b.WriteString(o.ID)
	b.WriteByte(0)
	b.WriteString(o.Type)
	for _, e := range o.Entities {
		fmt.Fprintf(&b, "\x00%s\x01%s\x01%s\x01%s\x01%t", e.Name, e.Operation, e.Datatype, e.VarCheck, e.Nil)
		for _, v := range e.Values {
			b.WriteByte(2)
			b.WriteString(v)
		}
	}
	keys := make([]string, 0, len(o.Behaviors))
	for k := range o.Behaviors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "\x00%s=%s", k, o.Behaviors[k])
	}
	return b.String()
}

// memo computes each key at most once, concurrently safe: the first
// caller computes, later callers wait. A computation that failed because
// its context ended is forgotten, so a later caller with a live context
// tries again.
type memo struct {
	mu sync.Mutex
	m  map[string]*memoEntry
}

type memoEntry struct {
	done chan struct{}
	val  any
	err  error
}

func (m *memo) do(ctx context.Context, key string, fn func() (any, error)) (any, error) {
	m.mu.Lock()
	if m.m == nil {
		m.m = map[string]*memoEntry{}
	}
	if e, ok := m.m[key]; ok {
		m.mu.Unlock()
		select {
		case <-e.done:
			return e.val, e.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	e := &memoEntry{done: make(chan struct{})}
	m.m[key] = e
	m.mu.Unlock()
	e.val, e.err = fn()
	m.finish(key, e)
	return e.val, e.err
}

// claim reserves key for a computation the caller will finish with fill.
// It reports false when key is already computed or being computed.
func (m *memo) claim(key string) (fill func(any, error), ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]*memoEntry{}
	}
	if _, exists := m.m[key]; exists {
		return nil, false
	}
	e := &memoEntry{done: make(chan struct{})}
	m.m[key] = e
	return func(v any, err error) {
		e.val, e.err = v, err
		m.finish(key, e)
	}, true
}

// forget drops a computed key, so its value can be freed once its
// current users are done with it.
func (m *memo) forget(key string) {
	m.mu.Lock()
	delete(m.m, key)
	m.mu.Unlock()
}

func (m *memo) finish(key string, e *memoEntry) {
	if e.err != nil && (errors.Is(e.err, context.Canceled) || errors.Is(e.err, context.DeadlineExceeded)) {
		m.mu.Lock()
		delete(m.m, key)
		m.mu.Unlock()
	}
	close(e.done)
}

// facts returns the target's facts, read once.
func (p *Prober) facts(ctx context.Context) (target.Facts, error) {
	v, err := p.raw.do(ctx, "facts", func() (any, error) {
		f, err := p.t.Facts(ctx)
		if err != nil && f.Family == "" {
			return f, fmt.Errorf("target facts: %w", err)
		}
		return f, nil
	})
	if v == nil {
		return target.Facts{}, err
	}
	return v.(target.Facts), err
}

// live reports whether the target is a running system. An error reading
// the facts counts as not live: runtime probes then refuse rather than
// read a tree's leftovers as if they were kernel state.
func (p *Prober) live(ctx context.Context) bool {
	f, err := p.facts(ctx)
	return err == nil && f.Live
}

// notCollectable wraps oval.ErrNotCollectable with what and why.
func notCollectable(what, why string) error {
	return fmt.Errorf("%s: %w (%s)", what, oval.ErrNotCollectable, why)
}

// result accumulates the items of one object, applying its filter as they
// are found so a whole-file-system search keeps only what passes.
type result struct {
	obj        *oval.Object
	mu         sync.Mutex
	items      []oval.Item
	seen       map[string]bool
	err        error    // the object cannot be evaluated (flag error)
	errMsgs    []string // errors reading some of the items (flag error)
	incomplete []string // parts of the search that could not be read
}

func newResult(obj *oval.Object) *result { return &result{obj: obj} }

// add filters it and keeps it. A non-empty dedup key drops an item
// already kept under that key (oscap reports a path once however it was
// reached). A borrowed item's entities are copied when it is kept.
func (r *result) add(it oval.Item, dedup string, borrowed ...bool) {
	r.keep(it, dedup, len(borrowed) > 0 && borrowed[0], false)
}

// keep is add; filtered says the item has passed the filter already.
func (r *result) keep(it oval.Item, dedup string, borrowed, filtered bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return
	}
	if dedup != "" {
		if r.seen[dedup] {
			return
		}
		if r.seen == nil {
			r.seen = map[string]bool{}
		}
	}
	if !filtered && !r.filterLocked(it) {
		return
	}
	if dedup != "" {
		r.seen[dedup] = true
	}
	if borrowed {
		it.Entities = slices.Clone(it.Entities)
	}
	r.items = append(r.items, it)
}

// filterLocked applies the object's filter to it, with r.mu held; an
// error fails the object.
func (r *result) filterLocked(it oval.Item) bool {
	f := r.obj.Filter
	if f == nil {
		return true
	}
	ok, err := f(it)
	if err != nil {
		r.err = fmt.Errorf("filter: %w", err)
		return false
	}
	// A rejected item is not remembered: a rejected duplicate is
	// rejected again, and a whole-tree search must not keep a key per
	// entry.
	return ok
}

// scratch holds entity buffers for items built only to be filtered: in a
// whole-file-system search almost every item is rejected, and building
// each one into fresh memory would make the search allocation-bound.
var scratch = sync.Pool{New: func() any { b := make([]oval.ItemEntity, 0, 32); return &b }}

// addBuilt is add for an item built by build into a reused buffer: the
// filter sees the buffer (it must not keep the item it is given, only
// answer), and only a kept item is copied.
//
// build appends the item's entities to its first argument: all of them,
// or when its second argument is not nil only those it names (the
// entities the object's filter reads, Object.FilterEntities), so that an
// item the filter rejects is never built whole.
func (r *result) addBuilt(build func(dst []oval.ItemEntity, only []string) []oval.ItemEntity, dedup string) {
	r.mu.Lock()
	if r.err != nil || (dedup != "" && r.seen[dedup]) {
		r.mu.Unlock()
		return
	}
	r.mu.Unlock()
	bp := scratch.Get().(*[]oval.ItemEntity)
	defer func() { scratch.Put(bp) }()
	filtered := false
	if only := r.obj.FilterEntities; r.obj.Filter != nil && only != nil {
		ents := build((*bp)[:0], only)
		*bp = ents[:0]
		r.mu.Lock()
		ok := r.err == nil && r.filterLocked(oval.Item{Entities: ents})
		r.mu.Unlock()
		if !ok {
			return
		}
		filtered = true
	}
	ents := build((*bp)[:0], nil)
	*bp = ents[:0]
	r.keep(oval.Item{Entities: ents}, dedup, true, filtered)
}

func (r *result) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
}

func (r *result) itemError(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errMsgs) < 20 {
		r.errMsgs = append(r.errMsgs, msg)
	}
}

func (r *result) markIncomplete(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.incomplete) < 20 && !slices.Contains(r.incomplete, msg) {
		r.incomplete = append(r.incomplete, msg)
	}
}

// collected turns the accumulated state into the object's flag: error
// beats incomplete beats the plain complete / does not exist.
func (r *result) collected() oval.Collected {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := oval.Collected{Items: r.items}
	switch {
	case r.err != nil:
		c.Flag, c.Message = oval.FlagError, r.err.Error()
	case len(r.errMsgs) > 0:
		c.Flag, c.Message = oval.FlagError, strings.Join(r.errMsgs, "; ")
	case len(r.incomplete) > 0:
		c.Flag, c.Message = oval.FlagIncomplete, "could not read: "+strings.Join(r.incomplete, "; ")
	case len(r.items) == 0:
		c.Flag = oval.FlagDoesNotExist
	default:
		c.Flag = oval.FlagComplete
	}
	return c
}
