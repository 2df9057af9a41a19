package oval

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/dlclark/regexp2/v2"
)

// ErrRegexTimeout is returned when a Perl-style pattern backtracks for
// longer than Patterns.Timeout; the rule that needed it is Error.
var ErrRegexTimeout = errors.New("regular expression match timed out")

// Patterns compiles OVAL's Perl-compatible regular expressions once and
// caches them. Go's regexp (linear time) is used whenever it accepts the
// pattern; the rest (look-arounds, back-references, about 8% of the SCAP
// Security Guide's) go to a backtracking engine with a match timeout.
// The zero value is ready to use.
type Patterns struct {
	// Timeout bounds one backtracking match (default 2s).
	Timeout time.Duration

	mu sync.Mutex
	m  map[string]*patternEntry
}

type patternEntry struct {
	once sync.Once
	p    *Pattern
	err  error
}

// Pattern is a compiled pattern.
type Pattern struct {
	expr string
	re   *regexp.Regexp
	bt   *regexp2.Regexp
	// any is set for a pattern every string matches (".*"); oneLine
	// for "^.*$", which every string without a newline matches.
	any, oneLine bool
}

// Compile returns the compiled pattern for expr. Different patterns
// compile concurrently; callers of the same one wait for the first.
func (ps *Patterns) Compile(expr string) (*Pattern, error) {
	ps.mu.Lock()
	e := ps.m[expr]
	if e == nil {
		if ps.m == nil {
			ps.m = map[string]*patternEntry{}
		}
		e = &patternEntry{}
		ps.m[expr] = e
	}
	ps.mu.Unlock()
	e.once.Do(func() { e.p, e.err = compile(expr, ps.Timeout) })
	return e.p, e.err
}

func compile(expr string, timeout time.Duration) (*Pattern, error) {
	if re, err := regexp.Compile(expr); err == nil {
		p := &Pattern{expr: expr, re: re}
		switch expr {
		case ".*", "^.*", ".*$":
			p.any = true
		case "^.*$":
			p.oneLine = true
		}
		return p, nil
	}
	bt, err := regexp2.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", expr, err)
	}
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	bt.MatchTimeout = timeout
	return &Pattern{expr: expr, bt: bt}, nil
}

// String returns the source pattern.
func (p *Pattern) String() string { return p.expr }

// Regexp returns the pattern compiled by Go's regexp, or nil when only
// the backtracking engine accepts it.
func (p *Pattern) Regexp() *regexp.Regexp { return p.re }

// MatchString reports whether s contains a match.
func (p *Pattern) MatchString(s string) (bool, error) {
	switch {
	case p.any:
		return true, nil
	case p.oneLine:
		return !strings.Contains(s, "\n"), nil
	}
	if p.re != nil {
		return p.re.MatchString(s), nil
	}
	ok, err := p.bt.MatchString(s)
	if err != nil {
		return false, fmt.Errorf("pattern %q: %w: %v", p.expr, ErrRegexTimeout, err)
	}
	return ok, nil
}

// Match is one match of a pattern: its byte offsets in the text and the
// text of each capture group (empty for a group that did not take part).
type Match struct {
	Start, End int
	Groups     []string
}

// FindAll returns the successive non-overlapping matches in s, at most n
// (all when n < 0).
func (p *Pattern) FindAll(s string, n int) ([]Match, error) {
	var out []Match
	if p.re != nil {
		for _, idx := range p.re.FindAllStringSubmatchIndex(s, n) {
			m := Match{Start: idx[0], End: idx[1]}
			for g := 2; g+1 < len(idx); g += 2 {
				if idx[g] < 0 {
					m.Groups = append(m.Groups, "")
					continue
				}
				m.Groups = append(m.Groups, s[idx[g]:idx[g+1]])
			}
			out = append(out, m)
		}
		return out, nil
	}
	m, err := p.bt.FindStringMatch(s)
	for ; err == nil && m != nil && (n < 0 || len(out) < n); m, err = p.bt.FindNextMatch(m) {
		start, length := m.ByteRange()
		mm := Match{Start: start, End: start + length}
		for _, g := range m.Groups()[1:] {
			if len(g.Captures) == 0 {
				mm.Groups = append(mm.Groups, "")
				continue
			}
			mm.Groups = append(mm.Groups, g.String())
		}
		out = append(out, mm)
	}
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w: %v", p.expr, ErrRegexTimeout, err)
	}
	return out, nil
}
