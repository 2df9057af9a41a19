package sshtarget

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/plumbhq/plumb/target"
)

// Walk visits opts.Roots (default "/") depth-first in lexical (bytewise)
// order, never following symlinks, as target.Local does, in one remote
// command: GNU find prints one NUL-separated record per entry (type,
// mode, owner, size, mtime in nanoseconds, device, link target, path), so
// any byte but NUL in a name is carried safely. Excluded paths are pruned
// by find itself, and with LocalOnly so are mounts of the file system
// types target.Local does not enter (find -fstype); the mount point is
// still reported. Directories the walk may not read are reported to
// opts.OnError (find checks them with -readable -executable and does not
// try them); find's other complaints on stderr are reported at the end of
// the walk.
//
// find lists a directory in the order the file system returns, so the
// records of one root are held and sorted before fn sees any of them:
// memory grows with the size of a root (about 100 bytes plus the path per
// entry), bounded by Limits.WalkBuffer. Past that, and where find lacks
// -printf (busybox) or sudo refuses find, the walk lists directories over
// SFTP instead, a few ahead of the walk: it holds only the listings of
// the open directories and of those requested ahead, but costs round
// trips for each directory (on loopback, /usr takes about 7 times as long
// as with find), and its modification times are whole seconds.
func (t *Target) Walk(ctx context.Context, opts target.WalkOptions, fn target.WalkFunc) error {
	roots, err := target.WalkRoots(opts.Roots)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.WalkTimeout)
	defer cancel()
	w := &walk{
		t:       t,
		ctx:     ctx,
		fn:      fn,
		onError: opts.OnError,
		exclude: map[string]bool{},
	}
	for _, x := range opts.Exclude {
		if path.IsAbs(x) && strings.IndexByte(x, 0) < 0 {
			w.exclude[path.Clean(x)] = true
		}
	}
	var todo []string
	for _, r := range roots {
		if !w.excludedRoot(r) {
			todo = append(todo, r)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	rest := todo
	t.mu.Lock()
	sftpOnly := t.sftpWalkOnly
	t.mu.Unlock()
	if !sftpOnly {
		rest, err = w.find(todo, opts.LocalOnly)
	}
	if err == errSkipAll {
		return nil
	}
	if err != nil || len(rest) == 0 {
		return err
	}
	err = w.sftpWalk(rest, opts.LocalOnly)
	if err == errSkipAll {
		return nil
	}
	return err
}

// errSkipAll ends a walk early without an error (fs.SkipAll from fn).
var errSkipAll = errors.New("skip all")

// dirPrefix is what the paths inside directory p start with.
func dirPrefix(p string) string {
	if p == "/" {
		return "/"
	}
	return p + "/"
}

// walkCompare orders paths depth-first, lexically: as bytes, but with
// '/' before every other byte, so a directory's entries come right after
// it ("dir", "dir/sub", "dir-x"), as a walk listing each directory sorted
// visits them.
func walkCompare(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		switch {
		case ca == '/':
			return -1
		case cb == '/':
			return 1
		case ca < cb:
			return -1
		default:
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

// walk is the state of one Walk.
type walk struct {
	t       *Target
	ctx     context.Context
	fn      target.WalkFunc
	onError func(string, error)
	exclude map[string]bool
	n       int
}

func (w *walk) report(p string, err error) {
	if w.onError != nil {
		w.onError(p, err)
	}
}

// excludedRoot reports whether a root is excluded or inside an excluded
// tree.
func (w *walk) excludedRoot(p string) bool {
	for x := range w.exclude {
		if target.Within(p, x) {
			return true
		}
	}
	return false
}

// tick checks the context every 256 entries.
func (w *walk) tick() error {
	w.n++
	if w.n&255 == 0 {
		return w.ctx.Err()
	}
	return nil
}

// Record flags: how find treated the entry.
const (
	flagNormal     = '-'
	flagUnreadable = 'E' // a directory find may not list (not entered)
	flagPruned     = 'P' // a mount of a LocalOnly-skipped type (not entered)
)

// findFormat is one record after its flag: every field NUL-terminated.
const findFormat = `%y\0%m\0%U\0%G\0%s\0%T@\0%D\0%l\0%p\0`

// recordFields is the number of NUL-terminated fields of a record.
const recordFields = 10

// recOverhead estimates the memory of a held record beyond its strings.
const recOverhead = 112

// findRec is one entry from find.
type findRec struct {
	fi   target.FileInfo
	flag byte
}

// findArgs is the find command line (before quoting).
func findArgs(roots []string, exclude map[string]bool, localOnly bool) []string {
	args := append([]string{"find", "-P"}, roots...)
	if len(exclude) > 0 {
		args = append(args, "(")
		for i, x := range slices.Sorted(maps.Keys(exclude)) {
			if i > 0 {
				args = append(args, "-o")
			}
			args = append(args, "-path", globEscape(x))
		}
		args = append(args, ")", "-prune", "-o")
	}
	if localOnly {
		args = append(args, "(")
		for i, ft := range target.LocalOnlySkipFSTypes() {
			if i > 0 {
				args = append(args, "-o")
			}
			args = append(args, "-fstype", ft)
		}
		args = append(args, ")", "-prune", "-printf", string(flagPruned)+`\0`+findFormat, "-o")
	}
	return append(args,
		"-type", "d", "!", "(", "-readable", "-executable", ")", "-prune", "-printf", string(flagUnreadable)+`\0`+findFormat,
		"-o", "-printf", string(flagNormal)+`\0`+findFormat)
}

// globEscape makes p match itself only as a find -path pattern.
func globEscape(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*', '?', '[', ']', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// findProbe fails where find lacks what the walk uses (busybox find has
// no -printf, old GNU find no -readable).
const findProbe = `find / -maxdepth 0 \( -fstype proc -o -readable -executable \) -printf '' >/dev/null 2>&1`

// find walks roots with one remote find. It returns the roots it did not
// walk, for the SFTP walk: all of them when find cannot be used, the rest
// when a root's records outgrew Limits.WalkBuffer.
func (w *walk) find(roots []string, localOnly bool) ([]string, error) {
	elevate, _ := w.t.elevation()
	if !elevate {
		rest, _, err := w.findOnce(roots, localOnly, "", nil)
		return rest, err
	}
	rest, again, err := w.findOnce(roots, localOnly, sudoNoPassword, nil)
	if again {
		rest, _, err = w.findOnce(roots, localOnly, sudoWithPassword, w.t.sudoStdin())
	}
	return rest, err
}

// findOnce runs find, under sudo when prefix says so. again reports that
// sudo -n refused for want of the password the configuration has.
func (w *walk) findOnce(roots []string, localOnly bool, prefix string, stdin []byte) (rest []string, again bool, err error) {
	t := w.t
	script := shellPrelude
	if prefix != "" {
		script += t.sudoCheck()
	}
	script += "if " + findProbe + "; then exec " + prefix + mustJoin(findArgs(roots, w.exclude, localOnly)...) +
		"; fi; echo " + t.marker("nofind") + " >&2; exit 127"
	t.log.Debug("walk", "roots", roots, "sudo", prefix != "", "localOnly", localOnly)

	if err := t.acquire(w.ctx); err != nil {
		return nil, false, err
	}
	defer t.release()
	s, err := t.newSession(w.ctx)
	if err != nil {
		return nil, false, fmt.Errorf("walk on %s: %w", t.name, err)
	}
	defer s.Close()
	stdinW, stdout, stderr, err := sessionPipes(s)
	if err != nil {
		return nil, false, fmt.Errorf("walk on %s: %w", t.name, err)
	}
	errs := newFindErrors()
	errsDone := make(chan struct{})
	go func() {
		defer close(errsDone)
		errs.read(stderr)
	}()
	if err := s.Start(script); err != nil {
		return nil, false, fmt.Errorf("walk on %s: starting find: %w", t.name, err)
	}
	if stdin != nil {
		_, _ = stdinW.Write(stdin)
	}
	stdinW.Close()
	stop := context.AfterFunc(w.ctx, func() { s.Close() })
	defer stop()
	kill := func() {
		_ = s.Signal(ssh.SIGTERM)
		s.Close()
	}

	g := &findGroups{w: w, roots: roots, seen: make([]bool, len(roots)), unreadable: map[string]bool{}}
	rr := newRecReader(stdout, t.cfg.Limits.MaxRecord)
	for {
		rec, perr, err := rr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if w.ctx.Err() != nil {
				return nil, false, fmt.Errorf("walk on %s: %w", t.name, w.ctx.Err())
			}
			return nil, false, fmt.Errorf("walk on %s: reading find's output: %w", t.name, err)
		}
		if perr != nil {
			w.report(perr.path(roots[min(g.cur, len(roots)-1)]), perr)
			continue
		}
		if err := g.add(rec); err != nil {
			kill()
			if err == errOverBuffer {
				t.log.Info("walk: a root outgrew WalkBuffer; listing it over SFTP", "root", roots[g.cur], "limit", t.cfg.Limits.WalkBuffer)
				return roots[g.cur:], false, nil
			}
			return nil, false, err
		}
	}
	if w.ctx.Err() != nil {
		return nil, false, fmt.Errorf("walk on %s: %w", t.name, w.ctx.Err())
	}
	if err := g.flush(); err != nil {
		kill()
		return nil, false, err
	}
	exit := waitStatus(s)
	select {
	case <-errsDone:
	case <-time.After(killGrace):
		// stderr never ended: what was read of it is still being
		// written; go without it.
		errs = newFindErrors()
	}
	if w.ctx.Err() != nil {
		return nil, false, fmt.Errorf("walk on %s: %w", t.name, w.ctx.Err())
	}
	if !g.any {
		switch {
		case prefix == sudoNoPassword && t.retryWithPassword(exit, errs.sample):
			return nil, true, nil
		case exit == 127 && errs.has(t.marker("nofind")):
			t.log.Info("walk: find lacks -printf/-readable (busybox?); listing directories over SFTP")
			return roots, false, nil
		case exit == 127 && errs.has(t.marker("nosudo")):
			t.log.Info("walk: sudo not installed; listing directories over SFTP")
			return roots, false, nil
		case exit == 1 && errs.sudoRefusal() != "":
			t.log.Info("walk: sudo refused find; listing directories over the elevated SFTP server", "sudo", errs.sudoRefusal())
			return roots, false, nil
		}
	}
	g.reportErrors(errs)
	return nil, false, nil
}

// waitStatus waits (bounded) for the session's exit status: -1 when
// there is none.
func waitStatus(s *ssh.Session) int {
	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(killGrace):
		return -1
	}
	var ee *ssh.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitStatus()
	}
	return -1
}

// errOverBuffer: a root's records outgrew Limits.WalkBuffer.
var errOverBuffer = errors.New("walk records exceed the walk buffer")

// findGroups collects find's records root by root (find walks its
// starting points in the order given) and hands each root, sorted, to
// the walk once find has moved past it.
type findGroups struct {
	w          *walk
	roots      []string
	cur        int
	recs       []findRec
	bytes      int64
	seen       []bool
	any        bool
	unreadable map[string]bool // reported through flagUnreadable
	stopped    bool
}

// rootOf returns the index of the root p is under, from the current one
// on, or -1.
func (g *findGroups) rootOf(p string) int {
	for i := g.cur; i < len(g.roots); i++ {
		if target.Within(p, g.roots[i]) {
			return i
		}
	}
	return -1
}

func (g *findGroups) add(rec findRec) error {
	if g.stopped {
		return nil
	}
	i := g.rootOf(rec.fi.Path)
	if i < 0 {
		g.w.report(rec.fi.Path, fmt.Errorf("walk: find reported %q, outside the roots walked", clip(rec.fi.Path, 200)))
		return nil
	}
	for g.cur < i {
		if err := g.flush(); err != nil {
			return err
		}
		g.cur++
	}
	g.any = true
	g.seen[i] = true
	g.bytes += int64(len(rec.fi.Path)+len(rec.fi.Link)) + recOverhead
	if g.bytes > g.w.t.cfg.Limits.WalkBuffer {
		return errOverBuffer
	}
	g.recs = append(g.recs, rec)
	return nil
}

// flush sorts and emits the current root's records.
func (g *findGroups) flush() error {
	recs := g.recs
	g.recs, g.bytes = nil, 0
	if g.stopped || len(recs) == 0 {
		return nil
	}
	slices.SortStableFunc(recs, func(a, b findRec) int { return walkCompare(a.fi.Path, b.fi.Path) })
	err := g.emit(g.roots[g.cur], recs)
	if err != nil {
		g.stopped = true
	}
	return err
}

// emit calls fn for one root's sorted records, with target.Walk's
// semantics for fs.SkipDir (on a directory: not entered; on anything
// else: the rest of its parent skipped) and fs.SkipAll.
func (g *findGroups) emit(root string, recs []findRec) error {
	w := g.w
	skip := "" // prefix of the paths being skipped
	for i := range recs {
		r := &recs[i]
		p := r.fi.Path
		if skip != "" && strings.HasPrefix(p, skip) {
			continue
		}
		skip = ""
		if w.exclude[p] {
			skip = dirPrefix(p)
			continue
		}
		if err := w.tick(); err != nil {
			return err
		}
		err := w.fn(r.fi)
		switch {
		case err == fs.SkipAll:
			return errSkipAll
		case err == fs.SkipDir && r.fi.Mode.IsDir():
			skip = dirPrefix(p)
			continue
		case err == fs.SkipDir:
			if p == root {
				return nil
			}
			skip = dirPrefix(path.Dir(p))
			continue
		case err != nil:
			return err
		}
		if r.flag == flagUnreadable {
			g.unreadable[p] = true
			w.report(p, w.t.fsErr("open", p, syscall.EACCES))
		}
	}
	return nil
}

// reportErrors passes find's complaints to OnError: a root that produced
// nothing, and errors about entries other than vanished ones and the
// unreadable directories already reported.
func (g *findGroups) reportErrors(errs *findErrors) {
	w := g.w
	for i, r := range g.roots {
		if g.seen[i] {
			continue
		}
		if msg, ok := errs.paths[r]; ok {
			w.report(r, w.t.fsErr("lstat", r, errnoFor(msg)))
			delete(errs.paths, r)
		} else {
			w.report(r, &fs.PathError{Op: "lstat", Path: r, Err: errors.New("find reported nothing for it")})
		}
	}
	for _, p := range slices.Sorted(maps.Keys(errs.paths)) {
		msg := errs.paths[p]
		if g.unreadable[p] || msg == "No such file or directory" {
			continue
		}
		w.report(p, w.t.fsErr("walk", p, errnoFor(msg)))
	}
	for _, line := range errs.other {
		w.report(g.roots[0], fmt.Errorf("walk: %s", line))
	}
	if errs.dropped > 0 {
		w.report(g.roots[0], fmt.Errorf("walk: %d more errors from find not reported", errs.dropped))
	}
}

// errnoFor maps find's (C locale) error text back to an errno, so
// errors.Is(err, fs.ErrPermission) and fs.ErrNotExist work.
func errnoFor(msg string) error {
	switch msg {
	case "Permission denied":
		return syscall.EACCES
	case "No such file or directory":
		return syscall.ENOENT
	case "Not a directory":
		return syscall.ENOTDIR
	case "Too many levels of symbolic links":
		return syscall.ELOOP
	case "Input/output error":
		return syscall.EIO
	}
	return errors.New(msg)
}

// recReader reads find records: fields ending in NUL, each at most max
// bytes.
type recReader struct {
	r   *bufio.Reader
	max int
}

func newRecReader(r io.Reader, max int) *recReader {
	return &recReader{r: bufio.NewReaderSize(r, max), max: max}
}

// field reads one NUL-terminated field. The slice is valid until the
// next read. A field longer than max is consumed to its NUL and returned
// as its first bytes with long set.
func (rr *recReader) field() (b []byte, long bool, err error) {
	b, err = rr.r.ReadSlice(0)
	if err == nil {
		return b[:len(b)-1], false, nil
	}
	if err != bufio.ErrBufferFull {
		return b, false, err
	}
	head := string(b[:min(len(b), 200)])
	for err == bufio.ErrBufferFull {
		_, err = rr.r.ReadSlice(0)
	}
	return []byte(head), true, err
}

// recError is a record the walk could not use.
type recError struct {
	p   string // the record's path, when it had a usable one
	err error
}

func (e *recError) Error() string { return "walk: bad record from find: " + e.err.Error() }
func (e *recError) Unwrap() error { return e.err }

// path is where to report the error: the record's path or the root.
func (e *recError) path(root string) string {
	if e.p != "" {
		return e.p
	}
	return root
}

// next returns the next record; or a recError for a malformed one (the
// reader stays at the next record); or io.EOF at a clean end.
func (rr *recReader) next() (findRec, *recError, error) {
	var rec findRec
	var bad error
	for i := 0; i < recordFields; i++ {
		b, long, err := rr.field()
		if err != nil {
			if err == io.EOF && i == 0 && len(b) == 0 {
				return rec, nil, io.EOF
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return rec, nil, err
		}
		if long {
			if bad == nil {
				bad = fmt.Errorf("field %d longer than %d bytes (starts %q): %w", i, rr.max, b, target.ErrTooLarge)
			}
			continue
		}
		if bad != nil && i != recordFields-1 {
			continue
		}
		if err := rec.set(i, b); err != nil && bad == nil {
			bad = err
		}
	}
	if bad != nil {
		return rec, &recError{p: rec.fi.Path, err: bad}, nil
	}
	return rec, nil, nil
}

// set parses field i of a record into rec.
func (rec *findRec) set(i int, b []byte) error {
	s := string(b)
	var err error
	switch i {
	case 0:
		if len(s) != 1 || (s[0] != flagNormal && s[0] != flagUnreadable && s[0] != flagPruned) {
			return fmt.Errorf("flag %q", clip(s, 40))
		}
		rec.flag = s[0]
	case 1:
		if len(s) != 1 {
			return fmt.Errorf("type %q", clip(s, 40))
		}
		rec.fi.Mode |= typeMode(s[0])
	case 2:
		var perm uint64
		if perm, err = strconv.ParseUint(s, 8, 32); err != nil || perm > 0o7777 {
			return fmt.Errorf("mode %q", clip(s, 40))
		}
		rec.fi.Mode |= fs.FileMode(perm & 0o777)
		if perm&0o4000 != 0 {
			rec.fi.Mode |= fs.ModeSetuid
		}
		if perm&0o2000 != 0 {
			rec.fi.Mode |= fs.ModeSetgid
		}
		if perm&0o1000 != 0 {
			rec.fi.Mode |= fs.ModeSticky
		}
	case 3, 4:
		var id uint64
		if id, err = strconv.ParseUint(s, 10, 32); err != nil {
			return fmt.Errorf("owner %q", clip(s, 40))
		}
		if i == 3 {
			rec.fi.UID = uint32(id)
		} else {
			rec.fi.GID = uint32(id)
		}
	case 5:
		if rec.fi.Size, err = strconv.ParseInt(s, 10, 64); err != nil || rec.fi.Size < 0 {
			return fmt.Errorf("size %q", clip(s, 40))
		}
	case 6:
		if rec.fi.ModTime, err = parseFindTime(s); err != nil {
			return err
		}
	case 7:
		if rec.fi.Dev, err = strconv.ParseUint(s, 10, 64); err != nil {
			return fmt.Errorf("device %q", clip(s, 40))
		}
	case 8:
		rec.fi.Link = s
	case 9:
		if !path.IsAbs(s) || path.Clean(s) != s {
			return fmt.Errorf("path %q is not absolute and clean", clip(s, 200))
		}
		rec.fi.Path = s
	}
	return nil
}

// typeMode maps find's %y letter to the mode type bits, as os.Lstat
// reports them.
func typeMode(c byte) fs.FileMode {
	switch c {
	case 'f':
		return 0
	case 'd':
		return fs.ModeDir
	case 'l':
		return fs.ModeSymlink
	case 'p':
		return fs.ModeNamedPipe
	case 's':
		return fs.ModeSocket
	case 'c':
		return fs.ModeDevice | fs.ModeCharDevice
	case 'b':
		return fs.ModeDevice
	}
	return fs.ModeIrregular // D (door), U (unknown)
}

// parseFindTime parses %T@: seconds since the epoch with a fraction
// ("1700000000.1234567890"; a comma where a locale has one).
func parseFindTime(s string) (time.Time, error) {
	bad := func() (time.Time, error) { return time.Time{}, fmt.Errorf("mtime %q", clip(s, 40)) }
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	secs, frac, _ := strings.Cut(strings.Replace(body, ",", ".", 1), ".")
	if secs == "" || len(frac) > 30 {
		return bad()
	}
	sec, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return bad()
	}
	var nsec int64
	for i := 0; i < 9; i++ {
		d := byte('0')
		if i < len(frac) {
			d = frac[i]
		}
		if d < '0' || d > '9' {
			return bad()
		}
		nsec = nsec*10 + int64(d-'0')
	}
	for i := 9; i < len(frac); i++ {
		if frac[i] < '0' || frac[i] > '9' {
			return bad()
		}
	}
	if neg {
		sec, nsec = -sec, -nsec
	}
	return time.Unix(sec, nsec), nil
}

// Bounds on what is kept of find's stderr.
const (
	maxErrLine   = 8 << 10
	maxErrPaths  = 10000
	maxErrOther  = 20
	maxErrSample = 4096
)

// findErrors is what find (or sudo) said on stderr, bounded.
type findErrors struct {
	paths   map[string]string // path -> message, from "find: 'path': message"
	other   []string          // other find lines
	dropped int
	sample  []byte   // the start of stderr, for sudo's refusal
	lines   []string // marker lines
}

func newFindErrors() *findErrors { return &findErrors{paths: map[string]string{}} }

// read consumes r to its end.
func (e *findErrors) read(r io.Reader) {
	br := bufio.NewReaderSize(r, maxErrLine)
	for {
		line, err := br.ReadSlice('\n')
		full := err == nil
		if err == bufio.ErrBufferFull {
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			full = err == nil
		}
		if len(line) > 0 {
			e.add(strings.TrimSuffix(string(line), "\n"), full)
		}
		if err != nil {
			return
		}
	}
}

func (e *findErrors) add(line string, complete bool) {
	if len(e.sample) < maxErrSample {
		e.sample = append(e.sample, line[:min(len(line), maxErrSample-len(e.sample))]...)
		e.sample = append(e.sample, '\n')
	}
	if strings.HasPrefix(line, "plumb-") {
		e.lines = append(e.lines, line)
		return
	}
	rest, ok := strings.CutPrefix(line, "find: ")
	if !ok {
		return // sudo's warnings and the like
	}
	if strings.HasPrefix(rest, "warning: ") {
		return
	}
	if p, msg, ok := parseFindError(rest); ok && complete {
		if len(e.paths) < maxErrPaths {
			e.paths[p] = msg
		} else {
			e.dropped++
		}
		return
	}
	if len(e.other) < maxErrOther {
		e.other = append(e.other, clip(line, 300))
	} else {
		e.dropped++
	}
}

func (e *findErrors) has(marker string) bool { return slices.Contains(e.lines, marker) }

func (e *findErrors) sudoRefusal() string {
	s, _ := sudoRefused(e.sample)
	return s
}

// parseFindError parses "'path': message", the path quoted as GNU find
// quotes file names in the C locale: in single quotes, with C escapes
// (\', \\, \n, \ooo, ...) for quotes and unprintable bytes.
func parseFindError(s string) (string, string, bool) {
	if !strings.HasPrefix(s, "'") {
		return "", "", false
	}
	var b strings.Builder
	i := 1
	for ; i < len(s); i++ {
		c := s[i]
		if c == '\'' {
			break
		}
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(s) {
			return "", "", false
		}
		switch e := s[i]; e {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'a':
			b.WriteByte('\a')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'v':
			b.WriteByte('\v')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v, j := 0, i
			for ; j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7'; j++ {
				v = v*8 + int(s[j]-'0')
			}
			if v > 255 {
				return "", "", false
			}
			b.WriteByte(byte(v))
			i = j - 1
		default:
			b.WriteByte(e)
		}
	}
	if i >= len(s) {
		return "", "", false
	}
	msg, ok := strings.CutPrefix(s[i+1:], ": ")
	p := b.String()
	if !ok || !path.IsAbs(p) {
		return "", "", false
	}
	return p, msg, true
}

// sftpWalk walks roots by listing directories over SFTP (see Walk).
// LocalOnly reads the host's mount table to find the mounts not to enter.
func (w *walk) sftpWalk(roots []string, localOnly bool) error {
	sw := &sftpWalker{walk: w, sem: make(chan struct{}, sftpPrefetch)}
	if localOnly {
		mi, err := w.t.ReadFile(w.ctx, "/proc/self/mountinfo", 64<<20)
		if err != nil {
			return fmt.Errorf("walk: reading mount table for LocalOnly: %w", err)
		}
		sw.skipMounts = map[string]bool{}
		for _, m := range target.LocalOnlySkipMounts(mi) {
			sw.skipMounts[m] = true
		}
	}
	for _, r := range roots {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		fi, err := w.t.Lstat(w.ctx, r)
		if err != nil {
			if w.ctx.Err() != nil {
				return w.ctx.Err()
			}
			w.report(r, err)
			continue
		}
		if err := sw.visit(fi, nil); err != nil && err != fs.SkipDir {
			return err
		}
	}
	return nil
}

// sftpPrefetch bounds the directory listings requested ahead of the SFTP
// walk. The server answers one request at a time; keeping it busy hides
// the round trips, which are most of a listing's cost.
const sftpPrefetch = 8

// sftpWalker is the SFTP walk: depth first, each directory listed sorted,
// and the listings of the next subdirectories of each directory requested
// ahead, while fn still sees entries one at a time, in order.
type sftpWalker struct {
	*walk
	skipMounts map[string]bool
	sem        chan struct{} // listings in flight ahead of the walk
}

// dirListing is a listing requested ahead.
type dirListing struct {
	done chan struct{}
	ents []target.FileInfo
	errs []entryErr
	err  error
}

// enters reports whether the walk lists fi.
func (sw *sftpWalker) enters(fi target.FileInfo) bool {
	return fi.Mode.IsDir() && !sw.skipMounts[fi.Path] && !sw.exclude[fi.Path]
}

// ahead requests the listing of dir unless the bound is reached (nil:
// list it when visited).
func (sw *sftpWalker) ahead(dir string) *dirListing {
	select {
	case sw.sem <- struct{}{}:
	default:
		return nil
	}
	l := &dirListing{done: make(chan struct{})}
	go func() {
		defer func() { <-sw.sem }()
		l.ents, l.errs, l.err = sw.t.list(sw.ctx, dir, dir)
		close(l.done)
	}()
	return l
}

// visit reports fi and walks what is below it; pre, when not nil, is its
// listing requested ahead.
func (sw *sftpWalker) visit(fi target.FileInfo, pre *dirListing) error {
	if err := sw.tick(); err != nil {
		return err
	}
	if err := sw.fn(fi); err != nil {
		if err == fs.SkipAll {
			return errSkipAll
		}
		if err == fs.SkipDir && fi.Mode.IsDir() {
			return nil
		}
		return err // fs.SkipDir on a non-directory skips the rest of its parent
	}
	if !fi.Mode.IsDir() || sw.skipMounts[fi.Path] {
		return nil
	}
	var ents []target.FileInfo
	var errs []entryErr
	var err error
	if pre != nil {
		select {
		case <-pre.done:
		case <-sw.ctx.Done():
			return sw.ctx.Err()
		}
		ents, errs, err = pre.ents, pre.errs, pre.err
	} else {
		ents, errs, err = sw.t.list(sw.ctx, fi.Path, fi.Path)
	}
	for _, e := range errs {
		sw.report(e.path, e.err)
	}
	if err != nil {
		if sw.ctx.Err() != nil {
			return sw.ctx.Err()
		}
		if !errors.Is(err, fs.ErrNotExist) { // removed since its parent was listed
			sw.report(fi.Path, err)
		}
		return nil
	}
	pres := make([]*dirListing, len(ents))
	next := 0 // the next entry to consider requesting ahead
	for i, e := range ents {
		if sw.exclude[e.Path] {
			continue
		}
		for next = max(next, i); next < len(ents) && next <= i+sftpPrefetch; next++ {
			if pres[next] == nil && sw.enters(ents[next]) {
				if pres[next] = sw.ahead(ents[next].Path); pres[next] == nil {
					break // at the bound: try again at the next entry
				}
			}
		}
		if err := sw.visit(e, pres[i]); err != nil {
			if err == fs.SkipDir {
				return nil
			}
			return err
		}
		pres[i] = nil
	}
	return nil
}
