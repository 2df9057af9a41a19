package parse

import (
	"strings"
)

// PAMLine is one rule of a /etc/pam.d file.
type PAMLine struct {
	Type     string   // auth, account, password, session (lower case, leading '-' removed; Optional=true)
	Optional bool     // line started with '-': a missing module is not logged
	Control  string   // required, requisite, sufficient, optional, include, substack (lower case), or "[...]" verbatim
	Module   string   // e.g. pam_unix.so (as written, may be a path); for include/substack the included service name
	Args     []string // arguments; a [bracketed argument] is one argument, brackets removed
	Include  string   // for "@include common-auth" lines (Debian), the included file name; other fields empty
	Line     int      // first physical line of the rule
}

// PAM parses a /etc/pam.d/* file like Linux-PAM (pam_handlers.c):
//
//   - a '#' anywhere starts a comment that runs to the end of the line;
//   - a line ending in a backslash (trailing blanks allowed) continues on the
//     next line, the backslash becoming a space; blank and comment lines
//     inside a continuation are skipped;
//   - fields are separated by spaces, tabs and newlines; a field starting
//     with '[' runs to the first ']' not preceded by a backslash ("\]"
//     stands for "]"), so "[success=1 default=ignore]" is one control
//     (kept verbatim in Control) and "[query=select a b]" one argument
//     (passed to the module without its brackets, as PAM does);
//   - type and simple controls are case-insensitive and returned in lower
//     case; a '-' before the type marks an optional rule;
//   - "@include name" (Debian) includes another file; it is returned with
//     only Include and Line set ("@include" without a name is skipped).
//
// Lines are returned as written, including ones PAM rejects (unknown type,
// missing module): PAM keeps such rules and makes them fail when used.
// Logical lines longer than MaxLine are truncated.
func PAM(data []byte) []PAMLine {
	var out []PAMLine
	lr := newLineReader(data)
	for {
		line, num, ok := pamAssemble(lr)
		if !ok {
			return out
		}
		t := pamTokens{s: line}
		first, _, ok := t.next()
		if !ok {
			continue
		}
		if first == "@include" {
			if inc, _, ok := t.next(); ok && inc != "" {
				out = append(out, PAMLine{Include: inc, Line: num})
			}
			continue
		}
		l := PAMLine{Line: num}
		if strings.HasPrefix(first, "-") {
			l.Optional = true
			first = first[1:]
		}
		l.Type = strings.ToLower(first)
		if ctl, raw, ok := t.next(); ok {
			if strings.HasPrefix(raw, "[") {
				l.Control = raw
			} else {
				l.Control = strings.ToLower(ctl)
			}
		}
		l.Module, _, _ = t.next()
		for {
			a, _, ok := t.next()
			if !ok {
				break
			}
			l.Args = append(l.Args, a)
		}
		out = append(out, l)
	}
}

// pamAssemble reads one logical line like Linux-PAM's _pam_assemble_line.
// It returns the line and the number of its first physical line.
func pamAssemble(lr *lineReader) (string, int, bool) {
	var b strings.Builder
	first := 0
	for {
		raw, num, ok := lr.next()
		if !ok {
			if first == 0 {
				return "", 0, false
			}
			return b.String(), first, true
		}
		s := strings.TrimLeft(raw, " \n\t")
		if s == "" || s[0] == '#' {
			continue
		}
		if first == 0 {
			first = num
		}
		if i := strings.IndexByte(s, '#'); i >= 0 {
			pamAdd(&b, s[:i])
			return b.String(), first, true
		}
		t := strings.TrimRight(s, " \t\n")
		if strings.HasSuffix(t, "\\") {
			pamAdd(&b, t[:len(t)-1]+" ")
			continue
		}
		pamAdd(&b, s)
		return b.String(), first, true
	}
}

// pamAdd appends s to b without letting b grow past MaxLine.
func pamAdd(b *strings.Builder, s string) {
	if room := MaxLine - b.Len(); room < len(s) {
		if room <= 0 {
			return
		}
		s = s[:room]
	}
	b.WriteString(s)
}

// pamTokens splits a logical PAM line like Linux-PAM's _pam_StrTok.
type pamTokens struct {
	s   string
	pos int
}

// next returns the next field, the field as written (with its brackets)
// and whether there was one.
func (t *pamTokens) next() (tok, raw string, ok bool) {
	s := t.s
	i := t.pos
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
		i++
	}
	if i >= len(s) {
		t.pos = i
		return "", "", false
	}
	if s[i] != '[' {
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' {
			j++
		}
		t.pos = j
		return s[i:j], s[i:j], true
	}
	var b []byte
	j := i + 1
	for ; j < len(s); j++ {
		if s[j] == ']' {
			if j-1 > i && s[j-1] == '\\' {
				// "\]" is a literal ']': replace the backslash already copied.
				b[len(b)-1] = ']'
				continue
			}
			break
		}
		b = append(b, s[j])
	}
	if j < len(s) {
		t.pos = j + 1
		return string(b), s[i : j+1], true
	}
	t.pos = j
	return string(b), s[i:], true
}

// Arg finds "key" or "key=value" among the arguments and returns the value
// ("" for a bare key). When the argument appears more than once the last
// occurrence is returned: modules read their arguments in order, so a later
// one overrides an earlier one.
func (l PAMLine) Arg(key string) (string, bool) {
	val, found := "", false
	for _, a := range l.Args {
		if a == key {
			val, found = "", true
		} else if strings.HasPrefix(a, key+"=") {
			val, found = a[len(key)+1:], true
		}
	}
	return val, found
}
