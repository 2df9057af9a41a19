package parse

import (
	"path"
	"sort"
	"strings"
)

// Setting is one assignment read from a key/value file.
type Setting struct {
	Key, Value string
	Line       int // 1-based line number
}

// KeyValue parses a generic key/value file (pwquality.conf, faillock.conf,
// /etc/default/*, journald.conf, ...). A line is "key = value", "key=value"
// or "key value": the key ends at the first "=" or blank, one "=" (with
// blanks around it) separates it from the value, and the value is the rest
// of the line with surrounding whitespace removed; a line with only a key
// has an empty value, a line starting with "=" has no key and is skipped.
// Lines whose first non-blank character is '#' are
// comments and blank lines are ignored. A '#' after a value is NOT a
// comment: it stays in the value. Consumers differ (useradd and
// shell-sourced /etc/default files keep it, libpwquality strips it), and a
// value like "14 # was 8" then fails to compare as a clean "14" instead of
// being guessed right or wrong. Quotes are kept as written. Lines longer
// than MaxLine are truncated.
// Every assignment is returned in file order; see Last for "last wins".
func KeyValue(data []byte) []Setting {
	var out []Setting
	lr := newLineReader(data)
	for {
		raw, num, ok := lr.next()
		if !ok {
			return out
		}
		line := strings.TrimSpace(truncate(raw))
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.IndexAny(line, "= \t\r\v\f")
		if i == 0 {
			continue // "=value": no key
		}
		if i < 0 {
			out = append(out, Setting{Key: line, Line: num})
			continue
		}
		rest := strings.TrimLeft(line[i:], " \t\r\v\f")
		rest = strings.TrimPrefix(rest, "=")
		out = append(out, Setting{Key: line[:i], Value: strings.TrimSpace(rest), Line: num})
	}
}

// LoginDefs parses /etc/login.defs like shadow-utils' getdef.c: a line is
// "NAME VALUE", the name ending at the first blank; leading blanks, spaces,
// tabs and double quotes before the value are skipped and the value ends at
// the next double quote or the end of the line (trailing whitespace
// removed); a line with only a name is ignored, as are comment lines (first
// non-blank '#') and blank lines. A '#' after the value is part of the value
// (shadow then fails to read it as a number and uses its default). Lines
// longer than MaxLine are truncated. Every assignment is returned in order;
// shadow uses the last one (see Last).
func LoginDefs(data []byte) []Setting {
	var out []Setting
	lr := newLineReader(data)
	for {
		raw, num, ok := lr.next()
		if !ok {
			return out
		}
		line := strings.TrimRight(truncate(raw), " \t\r\n\v\f")
		name := strings.TrimLeft(line, " \t")
		if name == "" || name[0] == '#' {
			continue
		}
		i := strings.IndexAny(name, " \t")
		if i < 0 {
			continue
		}
		value := strings.TrimLeft(name[i+1:], " \"\t")
		if j := strings.IndexByte(value, '"'); j >= 0 {
			value = value[:j]
		}
		out = append(out, Setting{Key: name[:i], Value: value, Line: num})
	}
}

// Last returns the last setting for key (case-sensitive): the value that
// counts for programs where a later assignment overrides an earlier one.
func Last(settings []Setting, key string) (Setting, bool) {
	for i := len(settings) - 1; i >= 0; i-- {
		if settings[i].Key == key {
			return settings[i], true
		}
	}
	return Setting{}, false
}

// Sysctl parses a sysctl.d or sysctl.conf file like systemd-sysctl: each
// line is stripped; empty lines and lines starting with '#' or ';' are
// comments; an assignment is "key = value" split at the first '='; a leading
// '-' on the key (ignore failures) is removed; key and value are trimmed. A
// line without '=' is not an assignment and is skipped (systemd treats
// "-key" without '=' as an exclusion for glob keys, which assigns nothing).
//
// Keys are returned in dotted form: systemd normalises a key whose first
// separator is '/' as a path, so "net/ipv4/ip_forward" becomes
// "net.ipv4.ip_forward"; in a dotted key a '/' stands for a '.' inside a
// name and is kept ("net.ipv4.conf.eth0/1.rp_filter"); in a slash key a '.'
// is such a character and becomes '/'. Empty path components are dropped.
// Glob keys ("net.ipv4.conf.*.rp_filter") are kept as they are otherwise.
//
// Like systemd, reading stops at a line longer than MaxLine: the rest of the
// file is not applied.
func Sysctl(data []byte) []Setting {
	var out []Setting
	lr := newLineReader(data)
	for {
		raw, num, ok := lr.next()
		if !ok || len(raw) > MaxLine {
			return out
		}
		line := strings.Trim(raw, " \t\n\r")
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		eq := strings.IndexByte(line, '=')
		if eq < 0 {
			continue
		}
		key := line[:eq]
		key = strings.TrimPrefix(key, "-")
		key = sysctlKey(strings.Trim(key, " \t\n\r"))
		if key == "" {
			continue
		}
		out = append(out, Setting{Key: key, Value: strings.Trim(line[eq+1:], " \t\n\r"), Line: num})
	}
}

// sysctlKey converts a key to systemd's normalised path form and then to
// dotted form.
func sysctlKey(k string) string {
	i := strings.IndexAny(k, "/.")
	if i < 0 {
		return k
	}
	// p is the /proc/sys relative path form.
	p := k
	if k[i] == '.' {
		p = swapDotSlash(k)
	}
	parts := strings.Split(p, "/")
	kept := parts[:0]
	for _, c := range parts {
		if c != "" && c != "." {
			kept = append(kept, c)
		}
	}
	return swapDotSlash(strings.Join(kept, "/"))
}

func swapDotSlash(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch c {
		case '.':
			b[i] = '/'
		case '/':
			b[i] = '.'
		}
	}
	return string(b)
}

// ConfDirOrder returns the files systemd (and kmod, for modprobe.d) reads
// for a "*.d" configuration such as sysctl.d, modules-load.d, tmpfiles.d or
// modprobe.d. dirs are the directories in priority order, highest first
// (e.g. /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d,
// /usr/lib/sysctl.d, /lib/sysctl.d); names holds each directory's file names.
// Only names ending in ext count (all names when ext is empty); hidden
// names (leading '.') and names that are not plain file names are ignored.
// A name in a higher-priority directory masks the same name in every lower
// one, and the result, full paths, is sorted by file name, which is the order
// the files are applied in (a later file overrides an earlier one).
func ConfDirOrder(dirs []string, names map[string][]string, ext string) []string {
	chosen := map[string]string{}
	var order []string
	for _, d := range dirs {
		for _, n := range names[d] {
			if n == "" || n == "." || n == ".." || strings.HasPrefix(n, ".") || strings.ContainsAny(n, "/\x00") || !strings.HasSuffix(n, ext) {
				continue
			}
			if _, seen := chosen[n]; seen {
				continue
			}
			chosen[n] = path.Join(d, n)
			order = append(order, n)
		}
	}
	sort.Strings(order)
	out := make([]string, 0, len(order))
	for _, n := range order {
		out = append(out, chosen[n])
	}
	return out
}
