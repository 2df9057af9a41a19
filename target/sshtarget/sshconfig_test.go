package sshtarget

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseSSHConfig(t *testing.T) {
	in := "# comment\n" +
		"  \n" +
		"Host web\t*.example.com !bad.example.com\n" +
		"  HostName=web.internal\n" +
		"  Port = 2222 # trailing comment\n" +
		"  IdentityFile \"~/.ssh/my key\" 'other key'\n" +
		"  User   admin\r\n" +
		"  LocalCommand echo \\\"hi\\\" a\\ b\n" +
		"Match all\n"
	got, err := parseSSHConfig([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []sshOption{
		{key: "host", args: []string{"web", "*.example.com", "!bad.example.com"}, line: 3},
		{key: "hostname", args: []string{"web.internal"}, line: 4},
		{key: "port", args: []string{"2222"}, line: 5},
		{key: "identityfile", args: []string{"~/.ssh/my key", "other key"}, line: 6},
		{key: "user", args: []string{"admin"}, line: 7},
		{key: "localcommand", args: []string{"echo", `"hi"`, "a b"}, line: 8},
		{key: "match", args: []string{"all"}, line: 9},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parse:\n got %+v\nwant %+v", got, want)
	}
	for _, bad := range []string{"Host \"unterminated\n", "Bad-Key x\n", "=x\n"} {
		if _, err := parseSSHConfig([]byte(bad)); err == nil {
			t.Errorf("parse(%q): no error", bad)
		}
	}
}

func TestMatchHost(t *testing.T) {
	cases := []struct {
		patterns []string
		host     string
		want     bool
	}{
		{[]string{"*"}, "anything", true},
		{[]string{"web"}, "web", true},
		{[]string{"WEB"}, "web", true},
		{[]string{"web"}, "web2", false},
		{[]string{"web?"}, "web2", true},
		{[]string{"*.example.com"}, "a.example.com", true},
		{[]string{"*.example.com", "!bad.example.com"}, "bad.example.com", false},
		{[]string{"!bad", "*"}, "good", true},
		{[]string{"!bad"}, "good", false},
		{[]string{"a*b*c"}, "axxbyyc", true},
		{[]string{"a*b*c"}, "axxbyy", false},
		{nil, "x", false},
	}
	for _, c := range cases {
		if got := matchHost(c.patterns, c.host); got != c.want {
			t.Errorf("matchHost(%q, %q) = %v", c.patterns, c.host, got)
		}
	}
}

func TestConfigFromSSHConfig(t *testing.T) {
	home, _ := os.UserHomeDir()
	dir := t.TempDir()
	key := filepath.Join(dir, "id_exists")
	if err := os.WriteFile(key, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	inc := filepath.Join(dir, "conf.d")
	if err := os.Mkdir(inc, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(inc, "10-db.conf"), []byte("Host db\n  HostName db.internal\n  User dbadmin\nHost *\n  User fromincluded\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "config")
	if err := os.WriteFile(conf, []byte(`
Include `+inc+`/*.conf
Host web
  HostName %h.example.com
  Port 2222
  IdentityFile ~/.ssh/missing_%r
  IdentityFile `+key+`
  ProxyJump jumper@bastion:2200
Host bastion
  HostName bastion.example.com
  User ignored
Host deep
  ProxyJump web
Host chain
  ProxyJump a,b
Host none
  ProxyJump none
Host *
  User default
  Port 22
`), 0o644); err != nil {
		t.Fatal(err)
	}

	got, err := ConfigFromSSHConfig("web", conf)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Host: "web.example.com", Port: 2222, User: "fromincluded", PrivateKeyFile: key,
		Jump: &Config{Host: "bastion.example.com", Port: 2200, User: "jumper"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("web:\n got %+v jump %+v\nwant %+v jump %+v", got, got.Jump, want, want.Jump)
	}
	got, err = ConfigFromSSHConfig("db", conf)
	if err != nil || got.Host != "db.internal" || got.User != "dbadmin" || got.Port != 22 || got.Jump != nil {
		t.Errorf("db = %+v, %v", got, err)
	}
	got, err = ConfigFromSSHConfig("none", conf)
	if err != nil || got.Host != "none" || got.Jump != nil {
		t.Errorf("none = %+v, %v", got, err)
	}
	if _, err := ConfigFromSSHConfig("deep", conf); err == nil || !strings.Contains(err.Error(), "one level") {
		t.Errorf("nested ProxyJump: %v", err)
	}
	if _, err := ConfigFromSSHConfig("chain", conf); err == nil || !strings.Contains(err.Error(), "chains") {
		t.Errorf("ProxyJump chain: %v", err)
	}
	if _, err := ConfigFromSSHConfig("x", filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("explicit missing file: %v", err)
	}
	if _, err := ConfigFromSSHConfig("bad host", conf); err == nil {
		t.Error("an alias with a space was accepted")
	}
	// The missing-file default names only the key file under ~/.ssh when no
	// IdentityFile exists.
	if err := os.WriteFile(conf, []byte("Host k\n  IdentityFile ~/.ssh/nope\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err = ConfigFromSSHConfig("k", conf)
	if err != nil || got.PrivateKeyFile != filepath.Join(home, ".ssh", "nope") {
		t.Errorf("k = %+v, %v", got, err)
	}
}

func TestParseJumpConfig(t *testing.T) {
	c, err := ParseJump("admin@bastion:2200")
	if err != nil || !reflect.DeepEqual(*c, Config{Host: "bastion", Port: 2200, User: "admin"}) {
		t.Errorf("ParseJump = %+v, %v", c, err)
	}
	if _, err := ParseJump("a,b"); err == nil {
		t.Error("ParseJump accepted a chain")
	}
}

func TestParseJump(t *testing.T) {
	cases := []struct {
		in         string
		user, host string
		port       int
		bad        bool
	}{
		{in: "host", host: "host"},
		{in: "u@host", user: "u", host: "host"},
		{in: "u@host:2222", user: "u", host: "host", port: 2222},
		{in: "ssh://u@host:22", user: "u", host: "host", port: 22},
		{in: "[::1]:2222", host: "::1", port: 2222},
		{in: "[fe80::1]", host: "fe80::1"},
		{in: "u@h@host", user: "u@h", host: "host"},
		{in: "@host", bad: true},
		{in: "host:0", bad: true},
		{in: "host:99999", bad: true},
		{in: "", bad: true},
		{in: "a/b", bad: true},
	}
	for _, c := range cases {
		u, h, p, err := parseJump(c.in)
		if c.bad {
			if err == nil {
				t.Errorf("parseJump(%q) = %q %q %d, want an error", c.in, u, h, p)
			}
			continue
		}
		if err != nil || u != c.user || h != c.host || p != c.port {
			t.Errorf("parseJump(%q) = %q %q %d, %v", c.in, u, h, p, err)
		}
	}
}

// FuzzParseSSHConfig: any input parses or fails without panicking; what
// parses writes back to text that parses to the same options; lookups
// (with an Include that reads the same text again, to the depth bound) do
// not fail in other ways than an error.
func FuzzParseSSHConfig(f *testing.F) {
	for _, s := range []string{
		"Host a\n HostName b\n Port 22\n",
		"Host *\n User \"x y\"\n",
		"host=a\nhostname = %h.x\nproxyjump u@j:1\n",
		"Include other\nHost a b !c\n  IdentityFile ~/.ssh/id_%r\n",
		"Match all\n  User z\n",
		"  # comment\n\tKey 'a\\'b' \"c\\\"d\" e\\ f\n",
		"Host \"unterminated\n",
		"Host a\n ProxyJump a\n",
		"Include a\nInclude a\nInclude a\n",
	} {
		f.Add([]byte(s), "a")
	}
	f.Fuzz(func(t *testing.T, data []byte, alias string) {
		opts, err := parseSSHConfig(data)
		if err != nil {
			return
		}
		var text strings.Builder
		for _, o := range opts {
			if !isKeyword(o.key) || strings.ToLower(o.key) != o.key {
				t.Fatalf("bad keyword %q", o.key)
			}
			for _, a := range o.args {
				if strings.ContainsAny(a, "\n") {
					t.Fatalf("argument with a newline: %q", a)
				}
			}
			text.WriteString(formatSSHOption(o) + "\n")
		}
		again, err := parseSSHConfig([]byte(text.String()))
		if err != nil {
			t.Fatalf("reparse of %q: %v", text.String(), err)
		}
		if len(again) != len(opts) {
			t.Fatalf("reparse: %d options, want %d", len(again), len(opts))
		}
		for i := range opts {
			if again[i].key != opts[i].key || !reflect.DeepEqual(nonNil(again[i].args), nonNil(opts[i].args)) {
				t.Fatalf("reparse option %d: %+v, want %+v", i, again[i], opts[i])
			}
		}
		r := &sshConfigReader{
			home:     "/home/fuzz",
			dir:      "/home/fuzz/.ssh",
			readFile: func(string) ([]byte, error) { return data, nil },
			glob:     func(p string) ([]string, error) { return []string{p}, nil },
		}
		for _, a := range []string{alias, "a", "x"} {
			if a == "" {
				continue
			}
			_, _ = r.resolve(opts, a, 0)
		}
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
