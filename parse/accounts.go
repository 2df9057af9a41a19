package parse

import (
	"math"
	"strconv"
	"strings"
)

// User is one /etc/passwd entry.
type User struct {
	Name, Password string
	UID, GID       int
	Gecos          string
	Home, Shell    string
	Line           int
}

// Shadow is one /etc/shadow entry. A nil field was empty in the file,
// which means "no limit" / "not set" for the aging fields.
type Shadow struct {
	Name, Hash                                   string
	LastChange, Min, Max, Warn, Inactive, Expire *int
	Line                                         int
}

// Group is one /etc/group entry.
type Group struct {
	Name, Password string
	GID            int
	Members        []string
	Line           int
}

// accountLines calls fn for each line glibc's files backend would parse:
// leading whitespace is skipped, empty lines and lines starting with '#'
// are ignored (glibc does), and NIS compat lines starting with '+' or '-'
// are skipped (they refer to entries held elsewhere).
func accountLines(data []byte, fn func(line string, num int)) {
	lr := newLineReader(data)
	for {
		raw, num, ok := lr.next()
		if !ok {
			return
		}
		line := strings.TrimLeft(raw, " \t\r\v\f")
		if line == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		fn(line, num)
	}
}

// splitFields splits a colon-separated line into at most max fields and
// also returns the real number of fields.
func splitFields(line string, max int) ([]string, int) {
	n := strings.Count(line, ":") + 1
	if n > max {
		return nil, n
	}
	return strings.Split(line, ":"), n
}

// parseID parses a user or group id: decimal digits that fit a 32-bit
// unsigned integer (uid_t).
func parseID(s string) (int, bool) {
	if s == "" || !allDigits(s) {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > math.MaxUint32 {
		return 0, false
	}
	return int(n), true
}

// Passwd parses /etc/passwd: "name:password:uid:gid:gecos:home:shell".
// Entries with another number of fields, an empty name or a uid or gid that
// is not a decimal number in the uid_t range are left out and reported in
// the error (errors.Join of "line N: ..."); the well-formed entries are
// returned. Comment, empty and NIS ("+"/"-") lines are skipped.
func Passwd(data []byte) ([]User, error) {
	var out []User
	var errs errList
	accountLines(data, func(line string, num int) {
		f, n := splitFields(line, 7)
		if n != 7 {
			errs.addf("line %d: %d fields, want 7", num, n)
			return
		}
		if f[0] == "" {
			errs.addf("line %d: empty user name", num)
			return
		}
		uid, ok1 := parseID(f[2])
		gid, ok2 := parseID(f[3])
		if !ok1 || !ok2 {
			errs.addf("line %d: user %s: invalid uid or gid", num, short(f[0]))
			return
		}
		out = append(out, User{Name: f[0], Password: f[1], UID: uid, GID: gid, Gecos: f[4], Home: f[5], Shell: f[6], Line: num})
	})
	return out, errs.err()
}

// ShadowFile parses /etc/shadow:
// "name:hash:lastchange:min:max:warn:inactive:expire:reserved". Like glibc
// it also accepts the 8-field form without the reserved field and the old
// 5-field form "name:hash:lastchange:min:max". Empty numeric fields are nil;
// a numeric field that is not an integer, an empty name or another number
// of fields makes the entry malformed: it is left out and reported in the
// error. Comment, empty and NIS lines are skipped.
func ShadowFile(data []byte) ([]Shadow, error) {
	var out []Shadow
	var errs errList
	accountLines(data, func(line string, num int) {
		f, n := splitFields(line, 9)
		if n != 9 && n != 8 && n != 5 {
			errs.addf("line %d: %d fields, want 9", num, n)
			return
		}
		if f[0] == "" {
			errs.addf("line %d: empty user name", num)
			return
		}
		s := Shadow{Name: f[0], Hash: f[1], Line: num}
		ptrs := []**int{&s.LastChange, &s.Min, &s.Max, &s.Warn, &s.Inactive, &s.Expire}
		for i, p := range ptrs {
			if 2+i >= len(f) || f[2+i] == "" {
				continue
			}
			n, err := strconv.ParseInt(f[2+i], 10, 32)
			if err != nil {
				errs.addf("line %d: user %s: field %d is not a number", num, short(f[0]), 3+i)
				return
			}
			v := int(n)
			*p = &v
		}
		out = append(out, s)
	})
	return out, errs.err()
}

// Usable reports whether the hash is a usable password: not empty (an
// empty hash is "no password", see pam_unix nullok) and not locked or
// disabled (starting with '!' or '*').
func (s Shadow) Usable() bool {
	return s.Hash != "" && s.Hash[0] != '!' && s.Hash[0] != '*'
}

// GroupFile parses /etc/group: "name:password:gid:member,member". Members
// are split on ',' with leading blanks removed and empty elements dropped,
// as glibc does. Entries with another number of fields, an empty name or a
// gid that is not a decimal number in the gid_t range are left out and
// reported in the error. Comment, empty and NIS lines are skipped.
func GroupFile(data []byte) ([]Group, error) {
	var out []Group
	var errs errList
	accountLines(data, func(line string, num int) {
		f, n := splitFields(line, 4)
		if n != 4 {
			errs.addf("line %d: %d fields, want 4", num, n)
			return
		}
		if f[0] == "" {
			errs.addf("line %d: empty group name", num)
			return
		}
		gid, ok := parseID(f[2])
		if !ok {
			errs.addf("line %d: group %s: invalid gid", num, short(f[0]))
			return
		}
		g := Group{Name: f[0], Password: f[1], GID: gid, Line: num}
		for _, m := range strings.Split(f[3], ",") {
			if m = strings.TrimLeft(m, " \t\r\v\f"); m != "" {
				g.Members = append(g.Members, m)
			}
		}
		out = append(out, g)
	})
	return out, errs.err()
}
