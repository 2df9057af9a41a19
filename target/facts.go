package target

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"strings"
)

// osReleaseLimit bounds os-release: real files are well under 1 KiB.
const osReleaseLimit = 64 << 10

// osReleasePaths are read in order, as os-release(5) prescribes.
var osReleasePaths = []string{"/etc/os-release", "/usr/lib/os-release"}

// ReadOSRelease reads and parses the target's os-release, through the
// target itself, so every implementation (and a Root's symlinked
// /etc/os-release) gets the same answer. Neither file existing is not an
// error: the result is empty and the OS simply unknown.
func ReadOSRelease(ctx context.Context, t Target) (map[string]string, error) {
	for _, p := range osReleasePaths {
		b, err := t.ReadFile(ctx, p, osReleaseLimit)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return map[string]string{}, err
		}
		return ParseOSRelease(b), nil
	}
	return map[string]string{}, nil
}

// OSReleaseFacts fills the distribution part of Facts (Distro, Version,
// Name, Technology) from parsed os-release; the caller adds what only it
// knows (Family, Hostname, Kernel, Arch, Live).
func OSReleaseFacts(kv map[string]string) Facts {
	f := Facts{
		Distro:  strings.ToLower(kv["ID"]),
		Version: kv["VERSION_ID"],
		Name:    kv["PRETTY_NAME"],
	}
	if f.Name == "" {
		f.Name = strings.TrimSpace(kv["NAME"] + " " + kv["VERSION"])
	}
	f.Technology = Technology(f.Distro, f.Version, strings.Fields(strings.ToLower(kv["ID_LIKE"])))
	return f
}

// Technology maps an os-release ID, VERSION_ID and ID_LIKE to the
// technology id Plumb's library is written for, or "" when Plumb has no
// controls for that OS: a wrong guess would apply controls written for
// another system, which is worse than saying "unsupported".
//
// RHEL 9 rebuilds (Rocky, AlmaLinux, CentOS Stream, Oracle Linux, and any
// other distribution declaring ID_LIKE=rhel) share RHEL's version numbers
// and configuration, so they all map to rhel-9; the real distribution
// stays in Facts.Distro. Debian and Ubuntu derivatives are not mapped from
// ID_LIKE: their version numbers are their own.
func Technology(distro, version string, idLike []string) string {
	major, rest, _ := strings.Cut(version, ".")
	minor, _, _ := strings.Cut(rest, ".")
	switch distro {
	case "debian":
		// Testing and sid have no VERSION_ID.
		if major == "11" || major == "12" {
			return "debian-" + major
		}
	case "ubuntu":
		if v := major + "." + minor; v == "22.04" || v == "24.04" {
			return "ubuntu-" + v
		}
	case "rhel", "rocky", "almalinux", "centos", "ol":
		if major == "9" {
			return "rhel-9"
		}
	default:
		if major == "9" && slices.Contains(idLike, "rhel") {
			return "rhel-9"
		}
	}
	return ""
}

// ParseOSRelease parses os-release(5): KEY=value lines, values optionally
// quoted shell-style ('single', "double" with \" \\ \$ \` escapes, or
// unquoted with backslash escapes), blank lines and # comments. It follows
// what systemd accepts, but line by line: a line with an unterminated quote
// or an invalid key is ignored rather than swallowing the lines after it.
// A later assignment overrides an earlier one.
func ParseOSRelease(data []byte) map[string]string {
	kv := map[string]string{}
	for line := range strings.SplitSeq(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		line = strings.TrimLeft(line, " \t")
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		key, raw, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		key = strings.TrimRight(key, " \t")
		if !validKey(key) {
			continue
		}
		if v, ok := parseValue(strings.TrimLeft(raw, " \t")); ok {
			kv[key] = v
		}
	}
	return kv
}

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// parseValue unquotes one value. Unquoted whitespace inside a value is kept
// and at its end trimmed, as systemd does; quoted text is kept verbatim.
func parseValue(s string) (string, bool) {
	var b strings.Builder
	keep := 0 // length of b up to the last character not to trim
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return "", false
			}
			b.WriteString(s[i+1 : i+1+j])
			i += j + 2
		case '"':
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '"' {
					closed = true
					i++
					break
				}
				if c == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				b.WriteByte(c)
				i++
			}
			if !closed {
				return "", false
			}
		case '\\':
			if i+1 < len(s) {
				b.WriteByte(s[i+1])
			}
			i += 2
		case ' ', '\t':
			b.WriteByte(c)
			i++
			continue // not counted in keep: trailing blanks are trimmed
		default:
			b.WriteByte(c)
			i++
		}
		keep = b.Len()
	}
	return b.String()[:keep], true
}
