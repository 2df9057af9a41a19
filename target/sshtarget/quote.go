package sshtarget

import (
	"errors"
	"strings"
)

// errNUL refuses a NUL byte: no shell word, argument or path can hold
// one, and a quoting that dropped it would run something else.
var errNUL = errors.New("argument contains a NUL byte")

// ShellQuote returns s as one word for a POSIX shell: inside single
// quotes, where nothing is special, with each single quote written as
// close, escaped quote, reopen:
//
//	it's  ->  'it'\''s'
//
// The result is the same for any input, so it is safe for text from a
// policy or from the host. SSH runs a command as a string through the
// login shell, so every argument that reaches a host goes through here.
// A NUL byte cannot be passed and is an error.
func ShellQuote(s string) (string, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return "", errNUL
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'", nil
}

// ShellJoin quotes each argument with ShellQuote and joins them with
// spaces: the command line that runs argv without any shell expansion.
func ShellJoin(argv []string) (string, error) {
	var b strings.Builder
	for i, a := range argv {
		q, err := ShellQuote(a)
		if err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(q)
	}
	return b.String(), nil
}

// mustJoin is ShellJoin for argument lists built by this package from
// constants and validated paths; a NUL there is a bug.
func mustJoin(argv ...string) string {
	s, err := ShellJoin(argv)
	if err != nil {
		panic("sshtarget: " + err.Error())
	}
	return s
}
