package probe

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/plumbhq/plumb/scap/oval"
	"github.com/plumbhq/plumb/target"
)

func FuzzParseEnviron(f *testing.F) {
	f.Add([]byte("PATH=/usr/bin:/bin\x00HOME=/root\x00"))
	f.Add([]byte("no-equals\x00=empty-name\x00A=b=c"))
	f.Add([]byte{0, 0, '=', 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, kv := range parseEnviron(data) {
			if strings.ContainsAny(kv.name, "=\x00") || strings.IndexByte(kv.value, 0) >= 0 {
				t.Fatalf("bad split %q", kv)
			}
			if !bytes.Contains(data, []byte(kv.name+"="+kv.value)) {
				t.Fatalf("%q=%q is not in the input", kv.name, kv.value)
			}
		}
	})
}

func FuzzSystemctlOutput(f *testing.F) {
	f.Add("ActiveState=active\nWants=a.service b.target\n")
	f.Add("ssh.service loaded active running OpenBSD Secure Shell server\n● x.service not-found\n")
	f.Add("=\n==\n a=b\n")
	f.Fuzz(func(t *testing.T, out string) {
		for k := range parseShow(out) {
			if k == "" || strings.ContainsAny(k, " \t\n") {
				t.Fatalf("bad key %q", k)
			}
		}
		for _, u := range parseListUnits(out) {
			if !isUnitName(u) {
				t.Fatalf("not a unit name: %q", u)
			}
		}
		for _, v := range showValues("Wants", out) {
			if v == "" {
				t.Fatal("empty array element")
			}
		}
	})
}

func FuzzSysctlValues(f *testing.F) {
	f.Add([]byte("2\n"))
	f.Add([]byte("4\t4\t1\t7\n"))
	f.Add([]byte("a\x00b\nc"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		for _, v := range sysctlValues(data) {
			if strings.IndexByte(v, '\n') >= 0 {
				t.Fatalf("value with a newline: %q", v)
			}
		}
	})
}

// FuzzPartialMatcher checks the pruning is sound: a directory is never
// skipped when a path below it (or the directory itself) matches, with
// PCRE's proviso that the match must start inside the directory's path
// (a match attempt must inspect a character of it; oscap prunes the same).
func FuzzPartialMatcher(f *testing.F) {
	f.Add(`^/etc/sudoers(\.d/.*)?$`, "/etc/sudoers.d/x")
	f.Add(`/etc/pam.d/a|/etc/security/b`, "/etc/security/b")
	f.Add(`^/a\b/c$`, "/a/c")
	f.Add(`(?i)^/ETC/x`, "/etc/x")
	f.Add(`^/a(b|$)`, "/a")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 200 || len(s) > 200 || !utf8.ValidString(s) {
			return
		}
		anchored := pattern
		if !strings.HasPrefix(anchored, "^") {
			anchored = "^" + anchored
		}
		re, err := regexp.Compile(anchored)
		if err != nil {
			return
		}
		m := newPartialMatcher(pattern)
		if m == nil {
			t.Fatalf("%q compiles with regexp but has no partial matcher", pattern)
		}
		loc := re.FindStringIndex(s)
		if loc == nil {
			return
		}
		for i := loc[0] + 1; i <= len(s); i++ {
			if !utf8.ValidString(s[:i]) {
				continue
			}
			if !m.possible(s[:i]) {
				t.Fatalf("%q matches %q but its prefix %q is pruned", pattern, s, s[:i])
			}
		}
	})
}

func FuzzFixedPrefix(f *testing.F) {
	f.Add(`^/etc/sudoers(\.d/.*)?$`)
	f.Add(`^\/(|s)bin|^\/usr`)
	f.Add(`\`)
	f.Fuzz(func(t *testing.T, expr string) {
		if p := fixedPrefix(expr); !strings.HasPrefix(p, "/") {
			t.Fatalf("fixedPrefix(%q) = %q", expr, p)
		}
	})
}

// FuzzUnitFile feeds arbitrary unit files and drop-ins to the systemd
// probes: whatever the files say, collecting must not fail or loop.
func FuzzUnitFile(f *testing.F) {
	f.Add("[Unit]\nRequires=b.target\nWants=a.target\n", "[Unit]\nWants=\n")
	f.Add("[Unit]\nWants=a.target a.target\n[Install]\nWantedBy=a.target\n", "")
	f.Add("\xef\xbb\xbf[Unit\nDescription=x\\\n", "[Unit]\nDefaultDependencies=maybe\n")
	f.Fuzz(func(t *testing.T, unit, dropin string) {
		dir := t.TempDir()
		write := func(p, data string) {
			full := filepath.Join(dir, p)
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("etc/hostname", "x\n")
		write("lib/systemd/system/a.target", unit)
		write("lib/systemd/system/b.target", "[Unit]\nWants=a.target\n")
		write("etc/systemd/system/a.target.d/x.conf", dropin)
		root, err := target.NewRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()
		p := New(root, Options{})
		ctx := context.Background()
		for _, o := range []*oval.Object{
			{ID: "d", Type: "systemdunitdependency_object", Entities: []oval.ObjectEntity{{Name: "unit", Operation: "pattern match", Values: []string{"."}}}},
			{ID: "p", Type: "systemdunitproperty_object", Entities: []oval.ObjectEntity{{Name: "unit", Operation: "pattern match", Values: []string{"."}}, {Name: "property", Operation: "pattern match", Values: []string{"^(Wants|Requires|Description|UnitFileState|LoadState|DefaultDependencies)$"}}}},
		} {
			c, err := p.Collect(ctx, o)
			if err != nil || c.Flag == oval.FlagError {
				t.Fatalf("%s: %v %+v", o.Type, err, c)
			}
		}
	})
}
