package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const example = `# hosts to scan
defaults:
  user: scanner
  key: /etc/plumb/id_ed25519
  passphrase_env: PLUMB_KEY_PASSPHRASE
  sudo: true
groups:
  web:
    user: webscan
    tags: [web, dmz]
  legacy:
    port: 2222
    sudo: false
    password_file: /etc/plumb/legacy.pw
hosts:
  - host: 10.0.0.5
    name: web1
    groups: [web]
  - host: db1.example.com
    tags: [db]
  - host: old.example.com
    groups: [web, legacy]
    user: root
  - 10.0.0.9
`

func TestParse(t *testing.T) {
	inv, err := Parse("hosts.yaml", []byte(example))
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Hosts) != 4 {
		t.Fatalf("%d hosts", len(inv.Hosts))
	}
	web1, db1, old, bare := inv.Hosts[0], inv.Hosts[1], inv.Hosts[2], inv.Hosts[3]
	if web1.Name != "web1" || web1.Address != "10.0.0.5" || web1.User != "webscan" || !web1.Sudo || web1.Port != 22 ||
		web1.KeyFile != "/etc/plumb/id_ed25519" || web1.Passphrase.Env != "PLUMB_KEY_PASSPHRASE" || strings.Join(web1.Tags, ",") != "web,dmz" || web1.Line != 16 {
		t.Errorf("web1 %+v", web1)
	}
	if db1.Name != "db1.example.com" || db1.User != "scanner" || strings.Join(db1.Tags, ",") != "db" {
		t.Errorf("db1 %+v", db1)
	}
	// Groups apply in order, the host's own entry last.
	if old.User != "root" || old.Port != 2222 || old.Sudo || old.Password.File != "/etc/plumb/legacy.pw" || old.Name != "old.example.com:2222" {
		t.Errorf("old %+v", old)
	}
	if bare.Address != "10.0.0.9" || bare.User != "scanner" {
		t.Errorf("bare %+v", bare)
	}
	if s := web1.Passphrase.String(); s != "$PLUMB_KEY_PASSPHRASE" {
		t.Errorf("secret prints as %q", s)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, data, want string
	}{
		{"unknown key", "hosts:\n  - host: a\n    colour: red\n", "hosts.yaml:3: hosts[0]: field colour not found"},
		{"secret in file", "hosts:\n  - host: a\n    password: hunter2\n", "hosts.yaml:2: hosts[0].password: secrets are not written into the inventory"},
		{"secret in defaults", "defaults:\n  sudo_password: x\nhosts: [a]\n", "defaults.sudo_password: secrets are not written"},
		{"no host", "hosts:\n  - user: a\n", "hosts.yaml:2: hosts[0].host: missing"},
		{"no hosts", "defaults:\n  user: a\n", "hosts: no hosts"},
		{"unknown group", "hosts:\n  - host: a\n    groups: [nope]\n", `hosts.yaml:2: hosts[0].groups: unknown group "nope"`},
		{"bad port", "hosts:\n  - host: a\n    port: 70000\n", "hosts[0].port: 70000 is not a TCP port"},
		{"port not a number", "hosts:\n  - host: a\n    port: ssh\n", "hosts.yaml:3: cannot unmarshal"},
		{"user in host", "hosts:\n  - host: root@a\n", "is not a host name or address"},
		{"duplicate", "hosts:\n  - host: a\n  - host: a\n", `hosts.yaml:3: hosts[1]: host "a" is already listed at line 2`},
		{"both env and file", "hosts:\n  - host: a\n    password_env: X\n    password_file: /y\n", "both password_env and password_file"},
		{"not yaml", "hosts: [a\n", "hosts.yaml:1: did not find expected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("hosts.yaml", []byte(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestSecretValue(t *testing.T) {
	t.Setenv("PLUMB_TEST_SECRET", "s3cret")
	if v, err := (Secret{Env: "PLUMB_TEST_SECRET"}).Value(); err != nil || v != "s3cret" {
		t.Errorf("env: %q %v", v, err)
	}
	if _, err := (Secret{Env: "PLUMB_TEST_UNSET_SECRET"}).Value(); err == nil {
		t.Error("unset variable: no error")
	}
	f := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(f, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if v, err := (Secret{File: f}).Value(); err != nil || v != "from-file" {
		t.Errorf("file: %q %v", v, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(example))
	f.Add([]byte("hosts: [a, b]\n"))
	f.Add([]byte("hosts:\n  - host: a\n    groups: [g]\ngroups:\n  g: {port: 1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := Parse("f.yaml", data)
		if err == nil {
			for _, h := range inv.Hosts {
				if h.Address == "" || h.Name == "" || h.Port < 1 && h.Port != 0 {
					t.Fatalf("bad host %+v", h)
				}
			}
		}
	})
}
