package probe

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/plumbhq/plumb/scap/oval"
)

// setupSink decides what a file-like object does with the entries its
// search selects.
func (p *Prober) setupSink(ctx context.Context, s *fileSpec) error {
	switch s.obj.Type {
	case "file_object":
		s.sink = func(n *node, dir bool) {
			key := n.label
			if dir {
				key += "\x00dir"
			}
			s.res.addBuilt(func(dst []oval.ItemEntity, only []string) []oval.ItemEntity {
				return appendFileItem(dst, n.label, n.lst, dir, only)
			}, key)
		}
		return nil
	case "textfilecontent54_object":
		return p.setupText54(s)
	case "textfilecontent_object":
		return p.setupTextLines(s)
	case "symlink_object":
		if s.kind != kindFilepath {
			return fmt.Errorf("%s %s: missing filepath entity", s.obj.Type, s.obj.ID)
		}
		s.noFollow = true
		s.sink = func(n *node, dir bool) {
			if !dir {
				s.keepHit(n)
			}
		}
		s.post = func(ctx context.Context) { p.symlinkItems(ctx, s) }
		return nil
	}
	return fmt.Errorf("%w: %s", oval.ErrUnsupported, s.obj.Type)
}

// readFile reads a file's content through the cache shared by all
// objects (sshd_config is read once for its dozens of objects). Contents
// are kept while the cache has room.
func (p *Prober) readFile(ctx context.Context, name string) ([]byte, error) {
	return p.readFileLimit(ctx, name, p.opts.MaxFileSize)
}

// readFileLimit is readFile with its own bound, for databases that are
// legitimately larger than a configuration file.
func (p *Prober) readFileLimit(ctx context.Context, name string, limit int64) ([]byte, error) {
	key := "read\x00" + name
	v, err := p.raw.do(ctx, key, func() (any, error) {
		p.stats.files.Add(1)
		b, err := p.t.ReadFile(ctx, name, limit)
		if err != nil {
			return nil, err
		}
		if p.cacheUsed.Add(int64(len(b))) > p.opts.CacheBytes {
			p.cacheUsed.Add(-int64(len(b)))
			defer p.raw.forget(key)
		}
		return b, nil
	})
	if err != nil {
		return nil, err
	}
	return v.([]byte), nil
}

// textBehaviors returns the Perl flags of textfilecontent54's behaviors:
// multiline is on unless turned off (OVAL's default, and oscap's).
func textFlags(b map[string]string) string {
	flags := ""
	if b["multiline"] != "false" && b["multiline"] != "0" {
		flags += "m"
	}
	if b["singleline"] == "true" || b["singleline"] == "1" {
		flags += "s"
	}
	if b["ignore_case"] == "true" || b["ignore_case"] == "1" {
		flags += "i"
	}
	if flags == "" {
		return ""
	}
	return "(?" + flags + ")"
}

func (p *Prober) setupText54(s *fileSpec) error {
	pe, err := requireEntity(s.obj, "pattern")
	if err != nil {
		return err
	}
	ie, err := requireEntity(s.obj, "instance")
	if err != nil {
		return err
	}
	if ie.Datatype == "" {
		ie.Datatype = "int"
	}
	flags := textFlags(s.obj.Behaviors)
	var pats []*oval.Pattern
	for _, v := range pe.Values {
		re, err := p.pats.Compile(flags + v)
		if err != nil {
			return err
		}
		pats = append(pats, re)
	}
	inst := newMatcher(p.pats, ie)
	s.sink = func(n *node, dir bool) {
		if !dir {
			s.keepHit(n)
		}
	}
	s.post = func(ctx context.Context) {
		p.eachRegularHit(ctx, s, func(n *node, text string) {
			for i, re := range pats {
				p.matchText54(s, n, text, pe.Values[i], re, inst)
			}
		})
	}
	return nil
}

// eachRegularHit reads every distinct hit of s that is (or leads to) a
// regular file, as oscap's textfilecontent does: a hit whose stat fails
// or that is not a regular file is skipped silently; a file that cannot
// be read flags the object error. The text stops at the first NUL byte,
// where oscap's C string does.
func (p *Prober) eachRegularHit(ctx context.Context, s *fileSpec, fn func(n *node, text string)) {
	seen := map[string]bool{}
	for _, n := range s.hits {
		if seen[n.label] || ctx.Err() != nil {
			continue
		}
		seen[n.label] = true
		fi, err := p.stat(ctx, n.label)
		if err != nil || !fi.Mode.IsRegular() {
			continue
		}
		data, err := p.readFile(ctx, n.label)
		if err != nil {
			if !absent(err) {
				s.res.itemError(fmt.Sprintf("%s: %v", n.label, errText(err)))
			}
			continue
		}
		if i := bytes.IndexByte(data, 0); i >= 0 {
			data = data[:i]
		}
		fn(n, string(data))
	}
}

// matchText54 reports the matches of re in text whose 1-based instance
// number the instance entity selects.
func (p *Prober) matchText54(s *fileSpec, n *node, text, expr string, re *oval.Pattern, inst *matcher) {
	ms, err := p.findAll(re, text, p.opts.MaxMatches+1)
	if err != nil {
		s.res.itemError(fmt.Sprintf("%s: %v", n.label, err))
		return
	}
	if len(ms) > p.opts.MaxMatches {
		ms = ms[:p.opts.MaxMatches]
		s.res.markIncomplete(fmt.Sprintf("%s: more than %d matches", n.label, p.opts.MaxMatches))
	}
	dir, name := splitPath(n.label)
	for i, m := range ms {
		k := strconv.Itoa(i + 1)
		ok, err := inst.match(k)
		if err != nil {
			s.res.fail(err)
			return
		}
		if !ok {
			continue
		}
		ents := make([]oval.ItemEntity, 0, 8+len(m.groups))
		ents = append(ents,
			strEnt("filepath", n.label),
			strEnt("path", dir),
			strEnt("filename", name),
			strEnt("pattern", expr),
			intEnt("instance", int64(i+1)),
			strEnt("line", expr),
			strEnt("text", text[m.Start:m.End]),
		)
		for _, g := range m.groups {
			ents = append(ents, strEnt("subexpression", g))
		}
		s.res.add(oval.Item{Entities: ents}, "")
	}
}

// match is one pattern match with the text of the capture groups that
// took part in it.
type match struct {
	Start, End int
	groups     []string
}

// findAll returns the matches of re in text, at most n. oscap reports a
// subexpression only for a group that took part in the match (an
// optional group that did not is absent, not empty); oval.Match does not
// tell the two apart, so a pattern Go's regexp accepts is matched here
// with group indexes, and only the backtracking engine's patterns report
// every group.
func (p *Prober) findAll(re *oval.Pattern, text string, n int) ([]match, error) {
	if g := re.Regexp(); g != nil {
		var out []match
		for _, idx := range g.FindAllStringSubmatchIndex(text, n) {
			m := match{Start: idx[0], End: idx[1]}
			for i := 2; i+1 < len(idx); i += 2 {
				if idx[i] >= 0 {
					m.groups = append(m.groups, text[idx[i]:idx[i+1]])
				}
			}
			out = append(out, m)
		}
		return out, nil
	}
	ms, err := re.FindAll(text, n)
	if err != nil {
		return nil, err
	}
	out := make([]match, len(ms))
	for i, m := range ms {
		out[i] = match{Start: m.Start, End: m.End, groups: m.Groups}
	}
	return out, nil
}

// setupTextLines is the older textfilecontent_object: the pattern (the
// line entity) is matched against each line, and each matching line is
// an item with the line's text and the first match's capture groups.
func (p *Prober) setupTextLines(s *fileSpec) error {
	le, err := requireEntity(s.obj, "line")
	if err != nil {
		return err
	}
	var pats []*oval.Pattern
	for _, v := range le.Values {
		re, err := p.pats.Compile(v)
		if err != nil {
			return err
		}
		pats = append(pats, re)
	}
	s.sink = func(n *node, dir bool) {
		if !dir {
			s.keepHit(n)
		}
	}
	s.post = func(ctx context.Context) {
		p.eachRegularHit(ctx, s, func(n *node, text string) {
			dir, name := splitPath(n.label)
			count := 0
			for _, line := range strings.Split(text, "\n") {
				for _, re := range pats {
					ms, err := p.findAll(re, line, 1)
					if err != nil {
						s.res.itemError(fmt.Sprintf("%s: %v", n.label, err))
						return
					}
					if len(ms) == 0 {
						continue
					}
					if count++; count > p.opts.MaxMatches {
						s.res.markIncomplete(fmt.Sprintf("%s: more than %d matches", n.label, p.opts.MaxMatches))
						return
					}
					ents := []oval.ItemEntity{strEnt("path", dir), strEnt("filename", name), strEnt("line", line)}
					for _, g := range ms[0].groups {
						ents = append(ents, strEnt("subexpression", g))
					}
					s.res.add(oval.Item{Entities: ents}, "")
				}
			}
		})
	}
	return nil
}

// symlinkItems reports each selected symlink with its canonical path; a
// path that is not a symlink has no item, and a link that cannot be
// resolved (dangling, a loop) has its canonical_path in error.
func (p *Prober) symlinkItems(ctx context.Context, s *fileSpec) {
	seen := map[string]bool{}
	for _, n := range s.hits {
		if seen[n.label] || !n.isSymlink() {
			continue
		}
		seen[n.label] = true
		canon, err := p.realpath(ctx, n.label)
		it := oval.Item{Entities: []oval.ItemEntity{strEnt("filepath", n.label)}}
		if err != nil {
			it.Entities = append(it.Entities, missingEnt("canonical_path", "", oval.StatusError))
			it.Status = oval.StatusError
			it.Message = fmt.Sprintf("%s: %v", n.label, errText(err))
		} else {
			it.Entities = append(it.Entities, strEnt("canonical_path", canon))
		}
		s.res.add(it, "")
	}
}
