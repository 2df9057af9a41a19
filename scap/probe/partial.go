package probe

import (
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// fixedPrefix returns the directory a path pattern's search starts from:
// the literal text before the first regular-expression character, cut
// back to the last '/' before it and unescaped, or "/" when there is no
// usable literal part. "^/etc/sudoers\.d/.*$" starts at /etc (the '.'
// before "d" is escaped, the one in ".*" is not, and the cut goes back to
// the '/' before "sudoers"); "^/etc/kernel/cmdline" has no regex
// character and starts at the file itself.
//
// This is oscap's reading, including its quirks (only "^*?$.([" count as
// regex characters, and a backslash escapes up to the next one of them),
// because the start directory decides which symlinks the search follows
// and so which items exist.
func fixedPrefix(expr string) string {
	s := strings.TrimPrefix(expr, "^")
	i := regexStart(s)
	if i < len(s) {
		j := i - 1
		for j > 1 && s[j] != '/' {
			j--
		}
		i = j
	}
	if i > 1 {
		if u, ok := unescapePrefix(s[:i]); ok && strings.HasPrefix(u, "/") {
			return u
		}
	}
	return "/"
}

// regexStart returns the index of the first unescaped character of
// "^*?$.([" in s, or len(s).
func regexStart(s string) int {
	escaped := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			escaped = !escaped
		case strings.IndexByte("^*?$.([", c) >= 0:
			if !escaped {
				return i
			}
			escaped = false
		}
	}
	return len(s)
}

// unescapePrefix drops the backslash of each escape; a trailing lone
// backslash makes the prefix unusable.
func unescapePrefix(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			if i+1 >= len(s) {
				return "", false
			}
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String(), true
}

// partialMatcher answers "could a path below this directory match the
// pattern?", so a pattern search skips subtrees that cannot contain a
// match instead of walking everything under its start directory. It
// mirrors PCRE's partial matching, which oscap uses for the same purpose:
// the pattern (anchored with '^' if it is not already) matches the
// directory's path, or the path is a prefix of something it could match.
// As in PCRE, a match attempt must have inspected at least one character,
// or every unanchored pattern would partially match the empty string at
// the end of any path.
//
// It runs a Pike VM over the program of Go's regexp/syntax, so it accepts
// what Go's regexp accepts; patterns only the backtracking engine takes
// (look-arounds, back-references) get no partial matcher and their search
// is not pruned. The answer errs on "yes": end-of-text and word-boundary
// assertions at the end of the path are assumed satisfiable.
type partialMatcher struct {
	prog  *syntax.Prog
	multi []*partialMatcher // several patterns: possible if any is
}

func newPartialMatcher(expr string) *partialMatcher {
	if !strings.HasPrefix(expr, "^") {
		expr = "^" + expr
	}
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil
	}
	return &partialMatcher{prog: prog}
}

// partial returns the cached partial matcher for a path pattern (nil when
// the pattern has none).
func (p *Prober) partial(expr string) *partialMatcher {
	p.partialMu.Lock()
	defer p.partialMu.Unlock()
	if m, ok := p.partials[expr]; ok {
		return m
	}
	m := newPartialMatcher(expr)
	p.partials[expr] = m
	return m
}

// pcSet is a sparse set of instruction indexes, in insertion order.
type pcSet struct {
	dense  []uint32
	sparse []uint32
}

func newPCSet(n int) *pcSet { return &pcSet{dense: make([]uint32, 0, n), sparse: make([]uint32, n)} }

func (s *pcSet) has(pc uint32) bool {
	i := s.sparse[pc]
	return int(i) < len(s.dense) && s.dense[i] == pc
}

func (s *pcSet) add(pc uint32) {
	s.sparse[pc] = uint32(len(s.dense))
	s.dense = append(s.dense, pc)
}

func (s *pcSet) clear() { s.dense = s.dense[:0] }

// possible reports whether s matches the pattern or is a proper prefix of
// a string that could.
func (m *partialMatcher) possible(s string) bool {
	if m.multi != nil {
		for _, x := range m.multi {
			if x.possible(s) {
				return true
			}
		}
		return false
	}
	prog := m.prog
	n := len(prog.Inst)
	cur, next := newPCSet(n), newPCSet(n)
	matched := false
	var visit []uint32
	// addThread follows empty transitions from pc at position pos; before
	// is the rune before pos (-1 at the start), after the rune at pos (-1
	// at the end of s, where more path may follow).
	addThread := func(set *pcSet, pc uint32, before, after rune, atEnd bool) {
		visit = append(visit[:0], pc)
		for len(visit) > 0 {
			pc := visit[len(visit)-1]
			visit = visit[:len(visit)-1]
			if set.has(pc) {
				continue
			}
			set.add(pc)
			in := &prog.Inst[pc]
			switch in.Op {
			case syntax.InstAlt, syntax.InstAltMatch:
				visit = append(visit, in.Arg, in.Out)
			case syntax.InstNop, syntax.InstCapture:
				visit = append(visit, in.Out)
			case syntax.InstEmptyWidth:
				op := syntax.EmptyOp(in.Arg)
				var ok bool
				if atEnd {
					// Only the look-behind half is known here.
					ok = op&syntax.EmptyBeginText == 0 || before == -1
					ok = ok && (op&syntax.EmptyBeginLine == 0 || before == -1 || before == '\n')
				} else {
					ok = op&^syntax.EmptyOpContext(before, after) == 0
				}
				if ok {
					visit = append(visit, in.Out)
				}
			case syntax.InstMatch:
				matched = true
			}
		}
	}
	before := rune(-1)
	for pos := 0; pos <= len(s); {
		r, w := rune(-1), 0
		atEnd := pos == len(s)
		if !atEnd {
			r, w = utf8.DecodeRuneInString(s[pos:])
			// Seed a new attempt here: PCRE's partial matching needs an
			// attempt that inspected a character, so none starts at the end.
			addThread(cur, uint32(prog.Start), before, r, false)
		}
		if matched {
			return true
		}
		if atEnd {
			for _, pc := range cur.dense {
				switch prog.Inst[pc].Op {
				case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
					return true
				}
			}
			return false
		}
		next.clear()
		after := rune(-1)
		if pos+w < len(s) {
			after, _ = utf8.DecodeRuneInString(s[pos+w:])
		}
		for _, pc := range cur.dense {
			in := &prog.Inst[pc]
			switch in.Op {
			case syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
				if in.MatchRune(r) {
					addThread(next, in.Out, r, after, pos+w == len(s))
				}
			}
		}
		cur, next = next, cur
		before = r
		pos += w
	}
	return matched
}
