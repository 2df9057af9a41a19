package parse

import (
	"strings"
)

// Package is one installed-package database entry.
type Package struct {
	Name, Version, Arch string
	Status              string // dpkg "want flag status", e.g. "install ok installed"
}

// Installed reports whether the package is installed: the status word (the
// last of dpkg's three Status words) is "installed", whatever the selection
// ("install", "hold", "deinstall", ...) and flag. Packages that are
// "config-files", "not-installed", "half-installed", "unpacked",
// "half-configured", "triggers-awaited" or "triggers-pending" are not,
// which is what "dpkg-query -W -f '${Status}'" checks in the usual audits.
func (p Package) Installed() bool {
	f := strings.Fields(p.Status)
	return len(f) == 3 && f[2] == "installed"
}

// DpkgStatus parses /var/lib/dpkg/status: stanzas of "Field: value" lines
// separated by blank lines, continuation lines starting with a space or a
// tab, field names case-insensitive. The result is keyed by package name;
// when a name appears more than once (Multi-Arch: same), the installed
// entry is kept, and of two installed entries the one with the lower
// version (the conservative choice for version checks).
//
// A malformed stanza (a line that is neither a field nor a continuation, a
// continuation with no field before it, an empty or repeated field name, no
// Package or Status field, a Status that is not three words) is left out
// and reported in the error, joined with the others, with its line number;
// the good stanzas are still returned.
func DpkgStatus(data []byte) (map[string]Package, error) {
	pkgs := map[string]Package{}
	var errs errList
	lr := newLineReader(data)

	type stanza struct {
		start  int
		fields map[string]string
		bad    string
		badAt  int
		last   string
	}
	var cur *stanza
	finish := func() {
		if cur == nil {
			return
		}
		st := cur
		cur = nil
		if st.bad != "" {
			errs.addf("line %d: %s (stanza starting at line %d skipped)", st.badAt, st.bad, st.start)
			return
		}
		name := st.fields["package"]
		if name == "" {
			errs.addf("line %d: stanza without Package field", st.start)
			return
		}
		status, ok := st.fields["status"]
		if !ok {
			errs.addf("line %d: package %s: missing Status field", st.start, short(name))
			return
		}
		if len(strings.Fields(status)) != 3 {
			errs.addf("line %d: package %s: invalid Status %q", st.start, short(name), short(status))
			return
		}
		p := Package{Name: name, Version: st.fields["version"], Arch: st.fields["architecture"], Status: strings.Join(strings.Fields(status), " ")}
		old, seen := pkgs[name]
		if !seen || better(p, old) {
			pkgs[name] = p
		}
	}
	for {
		line, num, ok := lr.next()
		if !ok {
			break
		}
		if strings.TrimSpace(line) == "" {
			finish()
			continue
		}
		if cur == nil {
			cur = &stanza{start: num, fields: map[string]string{}}
		}
		if cur.bad != "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if cur.last == "" {
				cur.bad, cur.badAt = "continuation line without a field", num
			}
			continue
		}
		i := strings.IndexByte(line, ':')
		if i < 0 {
			cur.bad, cur.badAt = "field name not followed by a colon", num
			continue
		}
		name := strings.ToLower(strings.TrimRight(line[:i], " \t"))
		if name == "" || strings.ContainsAny(name, " \t") {
			cur.bad, cur.badAt = "invalid field name", num
			continue
		}
		if _, dup := cur.fields[name]; dup {
			cur.bad, cur.badAt = "duplicate field "+short(line[:i]), num
			continue
		}
		cur.fields[name] = strings.TrimSpace(line[i+1:])
		cur.last = name
	}
	finish()
	return pkgs, errs.err()
}

// better reports whether p should replace old for the same package name.
func better(p, old Package) bool {
	if p.Installed() != old.Installed() {
		return p.Installed()
	}
	if p.Installed() {
		return CompareDebVersion(p.Version, old.Version) < 0
	}
	return false
}

// CompareDebVersion compares two Debian versions
// ([epoch:]upstream[-revision]) with dpkg's algorithm and returns -1, 0 or
// 1. The epoch is the number before the first ':' (0 when absent), the
// revision what follows the last '-'; upstream and revision compare by
// alternating non-digit runs (letters before other characters, '~' before
// everything, even the end of the string) and numeric runs (by value, so
// "1.01" equals "1.1"). Versions dpkg would reject are still ordered: a
// non-numeric epoch is taken as part of the upstream version. The result
// is antisymmetric: CompareDebVersion(a, b) == -CompareDebVersion(b, a).
func CompareDebVersion(a, b string) int {
	ea, ua, ra := splitDeb(a)
	eb, ub, rb := splitDeb(b)
	if c := compareDigits(ea, eb); c != 0 {
		return c
	}
	if c := verrevcmp(ua, ub); c != 0 {
		return c
	}
	return verrevcmp(ra, rb)
}

func splitDeb(v string) (epoch, upstream, revision string) {
	v = strings.TrimSpace(v)
	epoch = "0"
	if i := strings.IndexByte(v, ':'); i >= 0 && allDigits(v[:i]) {
		if i > 0 {
			epoch = v[:i]
		}
		v = v[i+1:]
	}
	if i := strings.LastIndexByte(v, '-'); i >= 0 {
		return epoch, v[:i], v[i+1:]
	}
	return epoch, v, ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// compareDigits compares two strings of decimal digits by value, without
// overflow.
func compareDigits(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return sign(len(a) - len(b))
	}
	return strings.Compare(a, b)
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// debOrder is dpkg's character weight for non-digit runs.
func debOrder(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	c := s[i]
	switch {
	case isDigit(c):
		return 0
	case isAlpha(c):
		return int(c)
	case c == '~':
		return -1
	case c == 0:
		return 0
	}
	return int(c) + 256
}

// verrevcmp is dpkg's comparison of an upstream version or a revision.
func verrevcmp(a, b string) int {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for (i < len(a) && !isDigit(a[i])) || (j < len(b) && !isDigit(b[j])) {
			ac, bc := debOrder(a, i), debOrder(b, j)
			if ac != bc {
				return sign(ac - bc)
			}
			i++
			j++
		}
		for i < len(a) && a[i] == '0' {
			i++
		}
		for j < len(b) && b[j] == '0' {
			j++
		}
		firstDiff := 0
		for i < len(a) && j < len(b) && isDigit(a[i]) && isDigit(b[j]) {
			if firstDiff == 0 {
				firstDiff = int(a[i]) - int(b[j])
			}
			i++
			j++
		}
		if i < len(a) && isDigit(a[i]) {
			return 1
		}
		if j < len(b) && isDigit(b[j]) {
			return -1
		}
		if firstDiff != 0 {
			return sign(firstDiff)
		}
	}
	return 0
}

// CompareRPMVersion compares two RPM EVR strings ([epoch:]version[-release])
// with rpm's rules and returns -1, 0 or 1. The epoch is the leading digits
// before a ':' (0 when absent), the release what follows the last '-'. Each
// part is compared with rpmvercmp: runs of letters or digits compare in
// turn (digits by value and newer than letters), other characters only
// separate, '~' sorts before everything (pre-releases: 1.0~rc1 < 1.0) and
// '^' after the end of the string but before anything else (snapshots:
// 1.0 < 1.0^git1 < 1.0.1). As in rpm, the releases are compared only when
// both strings have one, so "1.0" equals "1.0-3.el9". The result is
// antisymmetric.
func CompareRPMVersion(a, b string) int {
	ea, va, ra, hasA := splitEVR(a)
	eb, vb, rb, hasB := splitEVR(b)
	if c := rpmvercmp(ea, eb); c != 0 {
		return c
	}
	if c := rpmvercmp(va, vb); c != 0 {
		return c
	}
	if hasA && hasB {
		return rpmvercmp(ra, rb)
	}
	return 0
}

func splitEVR(evr string) (epoch, version, release string, hasRelease bool) {
	evr = strings.TrimSpace(evr)
	i := 0
	for i < len(evr) && isDigit(evr[i]) {
		i++
	}
	epoch = "0"
	rest := evr
	if i < len(evr) && evr[i] == ':' {
		if i > 0 {
			epoch = evr[:i]
		}
		rest = evr[i+1:]
	}
	if j := strings.LastIndexByte(rest, '-'); j >= 0 {
		return epoch, rest[:j], rest[j+1:], true
	}
	return epoch, rest, "", false
}

func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

// rpmvercmp is rpm's version segment comparison (rpmio/rpmvercmp.c).
func rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		for i < len(a) && !isAlnum(a[i]) && a[i] != '~' && a[i] != '^' {
			i++
		}
		for j < len(b) && !isAlnum(b[j]) && b[j] != '~' && b[j] != '^' {
			j++
		}
		ca, cb := byteAt(a, i), byteAt(b, j)
		// Tilde sorts before everything else.
		if ca == '~' || cb == '~' {
			if ca != '~' {
				return 1
			}
			if cb != '~' {
				return -1
			}
			i++
			j++
			continue
		}
		// Caret sorts like tilde, except that the end of the string sorts
		// before it.
		if ca == '^' || cb == '^' {
			if i >= len(a) {
				return -1
			}
			if j >= len(b) {
				return 1
			}
			if ca != '^' {
				return 1
			}
			if cb != '^' {
				return -1
			}
			i++
			j++
			continue
		}
		if i >= len(a) || j >= len(b) {
			break
		}
		si, sj := i, j
		isNum := isDigit(a[i])
		if isNum {
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
		} else {
			for i < len(a) && isAlpha(a[i]) {
				i++
			}
			for j < len(b) && isAlpha(b[j]) {
				j++
			}
		}
		// Segments of different types: numeric is newer than alpha.
		if j == sj {
			if isNum {
				return 1
			}
			return -1
		}
		segA, segB := a[si:i], b[sj:j]
		if isNum {
			if c := compareDigits(segA, segB); c != 0 {
				return c
			}
			continue
		}
		if c := strings.Compare(segA, segB); c != 0 {
			return c
		}
	}
	switch {
	case i >= len(a) && j >= len(b):
		return 0
	case i >= len(a):
		return -1
	}
	return 1
}

func byteAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}
