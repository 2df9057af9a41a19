// Package parse reads configuration files collected from a scanned host the
// way the program that consumes them reads them (sshd, systemd-sysctl, kmod,
// Linux-PAM, dpkg, glibc, systemd): a check passes or fails on what the
// service really uses, not on what a naive grep would see.
//
// Every byte comes from a possibly hostile host, so every function here is
// pure, never panics, never executes anything and never builds a regular
// expression from its input. Work is bounded by the size of the input; a
// logical line is bounded by MaxLine, and the sshd Include recursion by
// depth, file count and byte budgets.
package parse

import (
	"errors"
	"fmt"
	"strings"
)

// MaxLine bounds one logical line (after joining continuation lines), the
// same limit systemd uses (LONG_LINE_MAX). Parsers that return an error
// report a longer line as an error; the others document what they do
// (systemd-style parsers stop, the rest truncate the line so that its
// beginning, usually the security-relevant part, is still seen).
const MaxLine = 1 << 20

// maxErrors bounds the number of individual messages an error carries; the
// rest are summarised as a count.
const maxErrors = 50

// File is one file handed to a parser, for example a file matched by an
// sshd Include directive.
type File struct {
	Name string
	Data []byte
}

// lineReader splits data into physical lines without copying: a final line
// without a newline is returned too, a trailing newline does not produce an
// extra empty line.
type lineReader struct {
	s   string
	pos int
	num int
}

func newLineReader(data []byte) *lineReader { return &lineReader{s: string(data)} }

func newLineReaderString(s string) *lineReader { return &lineReader{s: s} }

// next returns the next line (without its '\n') and its 1-based number.
func (r *lineReader) next() (string, int, bool) {
	if r.pos >= len(r.s) {
		return "", r.num, false
	}
	rest := r.s[r.pos:]
	r.num++
	if i := strings.IndexByte(rest, '\n'); i >= 0 {
		r.pos += i + 1
		return rest[:i], r.num, true
	}
	r.pos = len(r.s)
	return rest, r.num, true
}

// errList collects at most maxErrors messages and counts the rest.
type errList struct {
	errs []error
	more int
}

func (e *errList) addf(format string, args ...any) {
	if len(e.errs) < maxErrors {
		e.errs = append(e.errs, fmt.Errorf(format, args...))
		return
	}
	e.more++
}

func (e *errList) err() error {
	if len(e.errs) == 0 {
		return nil
	}
	errs := e.errs
	if e.more > 0 {
		errs = append(errs[:len(errs):len(errs)], fmt.Errorf("... and %d more errors", e.more))
	}
	return errors.Join(errs...)
}

// truncate cuts s to at most MaxLine bytes.
func truncate(s string) string {
	if len(s) > MaxLine {
		return s[:MaxLine]
	}
	return s
}

// short bounds a piece of input quoted in an error message.
func short(s string) string {
	const n = 64
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
