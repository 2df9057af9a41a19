package target

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"syscall"
)

// Glob returns the target paths matching pattern, sorted, with path.Match
// semantics per component ("*" never crosses "/", and does match a
// leading dot). It goes through t, so it sees the target's file system,
// not this machine's. Only directories before a component with meta
// characters are listed; a literal tail is checked with Lstat. A missing
// directory or a non-directory on the way means no match, not an error;
// a directory that cannot be listed is an error, because "no match" would
// then be a guess.
func Glob(ctx context.Context, t Target, pattern string) ([]string, error) {
	if !path.IsAbs(pattern) {
		return nil, fmt.Errorf("glob %q: pattern must be an absolute path", pattern)
	}
	pattern = path.Clean(pattern)
	var comps []string
	if pattern != "/" {
		comps = strings.Split(pattern[1:], "/")
	}
	for _, c := range comps {
		if _, err := path.Match(c, ""); err != nil {
			return nil, fmt.Errorf("glob %q: %w", pattern, err)
		}
	}
	matches := []string{"/"}
	literalTail := true
	for _, comp := range comps {
		if !hasMeta(comp) {
			for i, m := range matches {
				matches[i] = childPath(m, comp)
			}
			literalTail = true
			continue
		}
		literalTail = false
		var next []string
		for _, dir := range matches {
			ents, err := t.ReadDir(ctx, dir)
			if err != nil {
				if absent(err) {
					continue
				}
				return nil, fmt.Errorf("glob %q: %w", pattern, err)
			}
			for _, e := range ents {
				name := path.Base(e.Path)
				if ok, _ := path.Match(comp, name); ok {
					next = append(next, childPath(dir, name))
				}
			}
		}
		matches = next
		if len(matches) == 0 {
			return nil, nil
		}
	}
	if literalTail && len(comps) > 0 {
		kept := matches[:0]
		for _, m := range matches {
			if _, err := t.Lstat(ctx, m); err != nil {
				if absent(err) {
					continue
				}
				return nil, fmt.Errorf("glob %q: %w", pattern, err)
			}
			kept = append(kept, m)
		}
		matches = kept
	}
	slices.Sort(matches)
	if len(matches) == 0 {
		return nil, nil
	}
	return matches, nil
}

// absent tells "nothing there" (missing, a file where a directory was
// expected, a symlink loop) from a real failure such as a denied read.
func absent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ELOOP)
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }
