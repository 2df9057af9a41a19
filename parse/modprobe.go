package parse

import "strings"

// Modprobe is one command of a modprobe.d file.
type Modprobe struct {
	Cmd    string   // install, remove, blacklist, options, alias, softdep, weakdep
	Module string   // module name ('-' normalised to '_'); for alias, the alias (pattern)
	Args   []string // the rest of the line split on blanks; for alias, the target module (normalised)
	Line   int      // first physical line of the command
}

// ModprobeConf parses a modprobe.d file like kmod (libkmod-config.c):
//
//   - a backslash before a newline joins the next line; a backslash before
//     any other character is dropped and the character kept;
//   - a line whose first character is '#' is a comment (a '#' later in a
//     line is part of it: "install cramfs /bin/false # off" runs the shell
//     command "/bin/false # off");
//   - fields are separated by spaces and tabs; module names have '-'
//     replaced by '_' outside [...] ranges, as kmod stores them;
//   - lines kmod rejects (unknown command, missing module, missing command
//     or options for install/remove/options/softdep/weakdep, unbalanced
//     brackets in a module name) are skipped, as kmod ignores them; the
//     deprecated include and config commands are ignored too.
//
// For install and remove, the shell command is strings.Join(Args, " ").
// Logical lines longer than MaxLine are truncated.
func ModprobeConf(data []byte) []Modprobe {
	var out []Modprobe
	s := string(data)
	pos, lineNo := 0, 0
	for pos < len(s) {
		line, first, next, lines := kmodReadLine(s, pos, lineNo)
		pos, lineNo = next, lineNo+lines
		if line == "" || line[0] == '#' {
			continue
		}
		if m, ok := kmodCommand(line); ok {
			m.Line = first
			out = append(out, m)
		}
	}
	return out
}

// kmodReadLine reads one logical line starting at pos like kmod's
// freadline_wrapped. It returns the line, its first line number, the next
// position and the number of physical lines consumed.
func kmodReadLine(s string, pos, lineNo int) (string, int, int, int) {
	var b []byte
	n := 0
	i := pos
	for i < len(s) {
		c := s[i]
		switch {
		case c == '\n':
			return string(b), lineNo + 1, i + 1, n + 1
		case c == '\\':
			if i+1 < len(s) && s[i+1] == '\n' {
				n++
				i += 2
				continue
			}
			i++
			if i >= len(s) {
				continue
			}
			c = s[i]
		}
		if len(b) < MaxLine {
			b = append(b, c)
		}
		i++
	}
	return string(b), lineNo + 1, i, n + 1
}

// kmodField returns the next blank-separated token of s at or after pos,
// and the position just after its terminating delimiter (like strtok_r,
// which consumes one delimiter).
func kmodField(s string, pos int) (string, int, bool) {
	for pos < len(s) && (s[pos] == ' ' || s[pos] == '\t') {
		pos++
	}
	if pos >= len(s) {
		return "", pos, false
	}
	j := pos
	for j < len(s) && s[j] != ' ' && s[j] != '\t' {
		j++
	}
	if j < len(s) {
		return s[pos:j], j + 1, true
	}
	return s[pos:j], j, true
}

func kmodCommand(line string) (Modprobe, bool) {
	cmd, pos, ok := kmodField(line, 0)
	if !ok {
		return Modprobe{}, false
	}
	switch cmd {
	case "alias":
		alias, p2, ok1 := kmodField(line, pos)
		target, _, ok2 := kmodField(line, p2)
		a, okA := kmodUnderscores(alias, ok1)
		t, okT := kmodUnderscores(target, ok2)
		if !okA || !okT {
			return Modprobe{}, false
		}
		return Modprobe{Cmd: cmd, Module: a, Args: []string{t}}, true
	case "blacklist":
		mod, _, ok := kmodField(line, pos)
		m, ok := kmodUnderscores(mod, ok)
		if !ok {
			return Modprobe{}, false
		}
		return Modprobe{Cmd: cmd, Module: m}, true
	case "options", "install", "remove", "softdep", "weakdep":
		mod, p2, ok := kmodField(line, pos)
		m, ok := kmodUnderscores(mod, ok)
		rest := line[p2:]
		if !ok || rest == "" {
			return Modprobe{}, false
		}
		return Modprobe{Cmd: cmd, Module: m, Args: strings.Fields(rest)}, true
	}
	return Modprobe{}, false
}

// kmodUnderscores normalises a module name like kmod's underscores():
// '-' becomes '_' except inside [...]; a stray ']' or an unclosed '['
// makes the name invalid.
func kmodUnderscores(s string, ok bool) (string, bool) {
	if !ok {
		return "", false
	}
	b := []byte(s)
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '-':
			b[i] = '_'
		case ']':
			return "", false
		case '[':
			j := strings.IndexByte(s[i:], ']')
			if j < 0 {
				return "", false
			}
			i += j
		}
	}
	return string(b), true
}
