package sshtarget

import (
	"os/exec"
	"strings"
	"testing"
)

func TestShellQuote(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "''"},
		{"plain", "'plain'"},
		{"a b", "'a b'"},
		{"it's", `'it'\''s'`},
		{"'", `''\'''`},
		{"''", `''\'''\'''`},
		{`\`, `'\'`},
		{"$(id)", "'$(id)'"},
		{"`id`", "'`id`'"},
		{"a\nb", "'a\nb'"},
		{"*?[]~#&;|<>(){}!", "'*?[]~#&;|<>(){}!'"},
		{"-n", "'-n'"},
		{"\xff", "'\xff'"},
	}
	for _, c := range cases {
		got, err := ShellQuote(c.in)
		if err != nil || got != c.want {
			t.Errorf("ShellQuote(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	if _, err := ShellQuote("a\x00b"); err == nil {
		t.Error("ShellQuote accepted a NUL byte")
	}
	if _, err := ShellJoin([]string{"ok", "a\x00"}); err == nil {
		t.Error("ShellJoin accepted a NUL byte")
	}
	if got, _ := ShellJoin([]string{"echo", "a b", ""}); got != "'echo' 'a b' ''" {
		t.Errorf("ShellJoin = %q", got)
	}
}

// unquote parses one word of POSIX shell made of single-quoted parts and
// backslash-escaped characters, the only syntax ShellQuote emits.
func unquote(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch s[i] {
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return "", false
			}
			b.WriteString(s[i+1 : i+1+j])
			i += j + 2
		case '\\':
			if i+1 >= len(s) {
				return "", false
			}
			b.WriteByte(s[i+1])
			i += 2
		default:
			return "", false // anything unquoted could be special
		}
	}
	return b.String(), true
}

// shellEcho has /bin/sh print the words of a command line, one per
// line-free record, to check quoting against a real shell.
func shellEcho(t *testing.T, words string) []string {
	t.Helper()
	out, err := exec.Command("/bin/sh", "-c", "printf '%s\\0' "+words).Output()
	if err != nil {
		t.Fatalf("sh: %v", err)
	}
	parts := strings.Split(string(out), "\x00")
	return parts[:len(parts)-1]
}

func FuzzShellQuote(f *testing.F) {
	for _, s := range []string{"", "a", "it's", "'", "\\'", "$(x)", "a\nb", "\xff", "'\\''", "-", "%s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ShellQuote(s)
		if strings.IndexByte(s, 0) >= 0 {
			if err == nil {
				t.Fatalf("NUL accepted: %q", q)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		got, ok := unquote(q)
		if !ok || got != s {
			t.Fatalf("ShellQuote(%q) = %q, which reads back as %q (%v)", s, q, got, ok)
		}
		// And a real shell agrees, with the word among others.
		words := shellEcho(t, "x "+q+" y")
		if len(words) != 3 || words[1] != s {
			t.Fatalf("sh read %q as %q", q, words)
		}
	})
}
