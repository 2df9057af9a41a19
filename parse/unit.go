package parse

import (
	"strings"
	"unicode/utf8"
)

// UnitEntry is one assignment in a systemd unit file (or drop-in).
type UnitEntry struct {
	Section, Key, Value string
	Line                int // first physical line of the assignment
}

const utf8BOM = "\xef\xbb\xbf"

// Unit parses a systemd unit file or drop-in like systemd's config_parse:
//
//   - lines whose first non-blank character is '#' or ';' are comments,
//     also between continuation lines;
//   - a line ending in an odd number of backslashes continues on the next
//     line, the last backslash becoming a space;
//   - "[Section]" starts a section (the name between the brackets, as
//     written); "Key=Value" is split at the first '=' with whitespace
//     trimmed from both; assignments before any section, lines without '='
//     or with an empty key, and lines that are not valid UTF-8 are ignored,
//     as systemd ignores them with a warning;
//   - a UTF-8 byte order mark before the first line is skipped.
//
// Where systemd refuses the whole file (a line starting with '[' that does
// not end with ']', a logical line longer than MaxLine), parsing stops and
// the entries read so far are returned. Every assignment is returned in
// order; systemd's meaning of repeated keys (last wins, or an empty value
// resets a list) is the caller's business.
func Unit(data []byte) []UnitEntry {
	var out []UnitEntry
	lr := newLineReader(data)
	var cont strings.Builder
	inCont := false
	contLine := 0
	var section *string
	bomSeen := false
	for {
		buf, num, ok := lr.next()
		if !ok {
			break
		}
		if len(buf) > MaxLine {
			return out
		}
		l := strings.TrimLeft(buf, " \t\n\r")
		if l != "" && (l[0] == '#' || l[0] == ';') {
			continue
		}
		l = buf
		if !bomSeen && strings.HasPrefix(l, utf8BOM) {
			l = l[len(utf8BOM):]
			bomSeen = true
		}
		if inCont {
			if cont.Len()+len(l) > MaxLine {
				return out
			}
		}
		// An odd run of trailing backslashes continues the line. The text
		// already collected ends with a space, so the escape state at the
		// start of l is "not escaped".
		escaped := false
		for i := 0; i < len(l); i++ {
			if escaped {
				escaped = false
			} else if l[i] == '\\' {
				escaped = true
			}
		}
		if escaped {
			if !inCont {
				inCont, contLine = true, num
			}
			cont.WriteString(l[:len(l)-1])
			cont.WriteByte(' ')
			continue
		}
		p, first := l, num
		if inCont {
			cont.WriteString(l)
			p, first = cont.String(), contLine
			cont.Reset()
			inCont = false
		}
		var stop bool
		out, section, stop = unitLine(out, section, p, first)
		if stop {
			return out
		}
	}
	if inCont {
		// systemd parses an unfinished continuation at end of file.
		out, _, _ = unitLine(out, section, cont.String(), contLine)
	}
	return out
}

// unitLine parses one logical line; stop reports a line systemd rejects
// the whole file for.
func unitLine(out []UnitEntry, section *string, l string, num int) ([]UnitEntry, *string, bool) {
	l = strings.Trim(l, " \t\n\r")
	if l == "" || l[0] == '#' || l[0] == ';' {
		return out, section, false
	}
	if !utf8.ValidString(l) {
		return out, section, false
	}
	if l[0] == '[' {
		if len(l) < 2 || l[len(l)-1] != ']' {
			return out, section, true
		}
		name := l[1 : len(l)-1]
		return out, &name, false
	}
	if section == nil {
		return out, section, false
	}
	eq := strings.IndexByte(l, '=')
	if eq <= 0 {
		return out, section, false
	}
	out = append(out, UnitEntry{
		Section: *section,
		Key:     strings.Trim(l[:eq], " \t\n\r"),
		Value:   strings.Trim(l[eq+1:], " \t\n\r"),
		Line:    num,
	})
	return out, section, false
}
