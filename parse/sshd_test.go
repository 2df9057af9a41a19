package parse

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// debianSSHD is Debian 12's /etc/ssh/sshd_config with a Match block added
// at the end.
const debianSSHD = `#	$OpenBSD: sshd_config,v 1.103 2018/04/09 20:41:22 tj Exp $

# This is the sshd server system-wide configuration file.  See
# sshd_config(5) for more information.

# This sshd was compiled with PATH=/usr/local/bin:/usr/bin:/bin:/usr/games

# The strategy used for options in the default sshd_config shipped with
# OpenSSH is to specify options with their default value where
# possible, but leave them commented.  Uncommented options override the
# default value.

Include /etc/ssh/sshd_config.d/*.conf

#Port 22
#AddressFamily any
#ListenAddress 0.0.0.0
#ListenAddress ::

#HostKey /etc/ssh/ssh_host_rsa_key
#HostKey /etc/ssh/ssh_host_ecdsa_key
#HostKey /etc/ssh/ssh_host_ed25519_key

# Logging
#SyslogFacility AUTH
#LogLevel INFO

# Authentication:

#LoginGraceTime 2m
PermitRootLogin yes
#StrictModes yes
#MaxAuthTries 6
#MaxSessions 10

#PubkeyAuthentication yes

# Expect .ssh/authorized_keys2 to be disregarded by default in future.
#AuthorizedKeysFile	.ssh/authorized_keys .ssh/authorized_keys2

# To disable tunneled clear text passwords, change to no here!
#PasswordAuthentication yes
#PermitEmptyPasswords no

# Change to yes to enable challenge-response passwords (beware issues with
# some PAM modules and threads)
KbdInteractiveAuthentication no

UsePAM yes

#AllowAgentForwarding yes
#AllowTcpForwarding yes
#GatewayPorts no
X11Forwarding yes
#X11DisplayOffset 10
PrintMotd no
#ClientAliveInterval 0
#ClientAliveCountMax 3

# Allow client to pass locale environment variables
AcceptEnv LANG LC_*

# override default of no subsystems
Subsystem	sftp	/usr/lib/openssh/sftp-server

# Example of overriding settings on a per-user basis
Match User anoncvs
	X11Forwarding no
	AllowTcpForwarding no
	PermitTTY no
	ForceCommand cvs server
`

func fakeInclude(files map[string][]File) func(string) ([]File, error) {
	return func(pattern string) ([]File, error) {
		if f, ok := files[pattern]; ok {
			return f, nil
		}
		return nil, nil
	}
}

func TestSSHDDebian(t *testing.T) {
	inc := fakeInclude(map[string][]File{
		"/etc/ssh/sshd_config.d/*.conf": {
			{Name: "/etc/ssh/sshd_config.d/50-cloud-init.conf", Data: []byte("PasswordAuthentication no\n")},
			{Name: "/etc/ssh/sshd_config.d/60-hardening.conf", Data: []byte("# CIS\nPermitRootLogin no\nAcceptEnv TZ\nMaxAuthTries=4\nciphers \"aes256-gcm@openssh.com,aes128-ctr\"\n")},
		},
	})
	c, err := SSHD("/etc/ssh/sshd_config", []byte(debianSSHD), inc)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key, value, source string
		ok                 bool
	}{
		{"PermitRootLogin", "no", "/etc/ssh/sshd_config.d/60-hardening.conf:2", true},
		{"permitrootlogin", "no", "/etc/ssh/sshd_config.d/60-hardening.conf:2", true},
		{"PasswordAuthentication", "no", "/etc/ssh/sshd_config.d/50-cloud-init.conf:1", true},
		{"MaxAuthTries", "4", "/etc/ssh/sshd_config.d/60-hardening.conf:4", true},
		{"Ciphers", "aes256-gcm@openssh.com,aes128-ctr", "/etc/ssh/sshd_config.d/60-hardening.conf:5", true},
		{"X11Forwarding", "yes", "/etc/ssh/sshd_config:54", true},
		{"ChallengeResponseAuthentication", "no", "/etc/ssh/sshd_config:47", true},
		{"AcceptEnv", "TZ LANG LC_*", "/etc/ssh/sshd_config.d/60-hardening.conf:3, /etc/ssh/sshd_config:61", true},
		{"Subsystem", "sftp /usr/lib/openssh/sftp-server", "/etc/ssh/sshd_config:64", true},
		{"AllowTcpForwarding", "", "", false},
		{"PermitTTY", "", "", false},
		{"ForceCommand", "", "", false},
		{"Port", "", "", false},
	}
	for _, tt := range tests {
		v, src, ok := c.Get(tt.key)
		if v != tt.value || src != tt.source || ok != tt.ok {
			t.Errorf("Get(%q) = %q, %q, %v; want %q, %q, %v", tt.key, v, src, ok, tt.value, tt.source, tt.ok)
		}
	}
	m := c.Matches()
	if len(m) != 1 || m[0].Criteria != "User anoncvs" || m[0].All || m[0].Within != "" || m[0].Source != "/etc/ssh/sshd_config:67" {
		t.Fatalf("Matches() = %+v", m)
	}
	want := []SSHDSetting{
		{"x11forwarding", "no", "/etc/ssh/sshd_config:68"},
		{"allowtcpforwarding", "no", "/etc/ssh/sshd_config:69"},
		{"permittty", "no", "/etc/ssh/sshd_config:70"},
		{"forcecommand", "cvs server", "/etc/ssh/sshd_config:71"},
	}
	if fmt.Sprint(m[0].Settings) != fmt.Sprint(want) {
		t.Errorf("Match settings = %v, want %v", m[0].Settings, want)
	}
	files := strings.Join(c.Files(), " ")
	if files != "/etc/ssh/sshd_config /etc/ssh/sshd_config.d/50-cloud-init.conf /etc/ssh/sshd_config.d/60-hardening.conf" {
		t.Errorf("Files() = %s", files)
	}
}

func TestSSHDSyntax(t *testing.T) {
	tests := []struct {
		name, conf, key, value string
		ok                     bool
	}{
		{"equals", "PermitRootLogin=no\n", "PermitRootLogin", "no", true},
		{"equals spaced", "PermitRootLogin = no\n", "PermitRootLogin", "no", true},
		{"tab", "PermitRootLogin\tno\n", "PermitRootLogin", "no", true},
		{"leading blanks", "   \tPermitRootLogin no   \r\n", "PermitRootLogin", "no", true},
		{"first wins", "PermitRootLogin no\nPermitRootLogin yes\n", "PermitRootLogin", "no", true},
		{"case", "PERMITROOTLOGIN No\n", "permitRootLogin", "No", true},
		{"trailing comment", "PermitRootLogin no # really\n", "PermitRootLogin", "no", true},
		{"hash inside arg", "Banner /etc/issue#net\n", "Banner", "/etc/issue#net", true},
		{"comment line", "#PermitRootLogin yes\n", "PermitRootLogin", "", false},
		{"quoted", "AuthorizedKeysFile \"/etc/ssh/keys/%u a\" .ssh/authorized_keys\n", "AuthorizedKeysFile", "/etc/ssh/keys/%u a .ssh/authorized_keys", true},
		{"single quoted", "ForceCommand 'internal-sftp -d /x'\n", "ForceCommand", "internal-sftp -d /x", true},
		{"escaped space", "Banner /etc/my\\ banner\n", "Banner", "/etc/my banner", true},
		{"accumulate users", "AllowUsers alice bob\nAllowUsers carol\n", "AllowUsers", "alice bob carol", true},
		{"accumulate ports", "Port 22\nPort 2222\n", "Port", "22 2222", true},
		{"alias first wins", "ChallengeResponseAuthentication yes\nKbdInteractiveAuthentication no\n", "KbdInteractiveAuthentication", "yes", true},
		{"match all returns to global", "Match User bob\nPermitRootLogin yes\nMatch all\nPermitRootLogin no\n", "PermitRootLogin", "no", true},
		{"match all overrides global", "PermitRootLogin yes\nMatch all\nPermitRootLogin no\n", "PermitRootLogin", "no", true},
		{"match all global-only not overridden", "Ciphers a\nMatch all\nCiphers b\n", "Ciphers", "a", true},
		{"match all replaces list", "AllowUsers a\nMatch all\nAllowUsers b\n", "AllowUsers", "b", true},
		{"conditional ignored", "Match Address 10.0.0.0/8\nPasswordAuthentication yes\n", "PasswordAuthentication", "", false},
		{"match with comment", "Match all # everyone\nPermitRootLogin no\n", "PermitRootLogin", "no", true},
		{"NUL truncates", "PermitRootLogin no\x00yes\n", "PermitRootLogin", "no", true},
	}
	for _, tt := range tests {
		c, err := SSHD("/etc/ssh/sshd_config", []byte(tt.conf), nil)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		v, _, ok := c.Get(tt.key)
		if v != tt.value || ok != tt.ok {
			t.Errorf("%s: Get(%q) = %q, %v; want %q, %v", tt.name, tt.key, v, ok, tt.value, tt.ok)
		}
	}
}

func TestSSHDErrors(t *testing.T) {
	tests := []struct{ name, conf, want string }{
		{"no argument", "PermitRootLogin\n", "no argument"},
		{"only comment", "PermitRootLogin # x\n", "no argument"},
		{"bad quotes", "Banner \"/etc/issue\n", "invalid quotes"},
		{"match empty", "Match #\n", "Bad Match"},
		{"match all combined", "Match all User x\n", "cannot be combined"},
		{"include empty", "Include \"\"\n", "empty argument"},
		{"include nil resolver", "Include foo.conf\n", "cannot be resolved"},
	}
	for _, tt := range tests {
		_, err := SSHD("/etc/ssh/sshd_config", []byte(tt.conf), nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestSSHDIncludes(t *testing.T) {
	t.Run("relative to /etc/ssh", func(t *testing.T) {
		var got []string
		inc := func(p string) ([]File, error) { got = append(got, p); return nil, nil }
		if _, err := SSHD("/etc/ssh/sshd_config", []byte("Include sshd_config.d/*.conf /abs/x ~/y\n"), inc); err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, " ") != "/etc/ssh/sshd_config.d/*.conf /abs/x ~/y" {
			t.Errorf("patterns %q", got)
		}
	})
	t.Run("include inside match belongs to block", func(t *testing.T) {
		inc := fakeInclude(map[string][]File{
			"/etc/ssh/m.conf": {{Name: "/etc/ssh/m.conf", Data: []byte("PermitRootLogin yes\nMatch all\nPasswordAuthentication yes\n")}},
		})
		c, err := SSHD("main", []byte("Match Group admins\nInclude m.conf\nX11Forwarding yes\nMatch all\nMaxSessions 2\n"), inc)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"PermitRootLogin", "PasswordAuthentication", "X11Forwarding"} {
			if v, _, ok := c.Get(k); ok {
				t.Errorf("%s = %q, should be unset (inside Match Group)", k, v)
			}
		}
		if v, _, _ := c.Get("MaxSessions"); v != "2" {
			t.Errorf("MaxSessions = %q", v)
		}
		m := c.Matches()
		if len(m) != 3 {
			t.Fatalf("Matches = %+v", m)
		}
		if m[0].Criteria != "Group admins" || len(m[0].Settings) != 2 || m[0].Settings[0].Keyword != "permitrootlogin" || m[0].Settings[1].Keyword != "x11forwarding" {
			t.Errorf("block 0 = %+v", m[0])
		}
		if !m[1].All || m[1].Within != "Group admins" || m[1].Source != "/etc/ssh/m.conf:2" {
			t.Errorf("block 1 = %+v", m[1])
		}
		if !m[2].All || m[2].Within != "" {
			t.Errorf("block 2 = %+v", m[2])
		}
	})
	t.Run("nested includes inside match", func(t *testing.T) {
		inc := fakeInclude(map[string][]File{
			"/etc/ssh/a": {{Name: "/etc/ssh/a", Data: []byte("Match Address 10.0.0.0/8\nInclude b\n")}},
			"/etc/ssh/b": {{Name: "/etc/ssh/b", Data: []byte("Match all\nPermitRootLogin yes\n")}},
		})
		c, err := SSHD("main", []byte("Match User bob\nInclude a\n"), inc)
		if err != nil {
			t.Fatal(err)
		}
		if v, _, ok := c.Get("PermitRootLogin"); ok {
			t.Errorf("PermitRootLogin = %q, want unset", v)
		}
		m := c.Matches()
		if len(m) != 3 || m[1].Within != "User bob" || m[2].Within != "User bob; Address 10.0.0.0/8" || !m[2].All || len(m[2].Settings) != 1 {
			t.Errorf("Matches = %+v", m)
		}
	})
	t.Run("match in drop-in ends with the file", func(t *testing.T) {
		inc := fakeInclude(map[string][]File{
			"/etc/ssh/sshd_config.d/*.conf": {{Name: "/etc/ssh/sshd_config.d/a.conf", Data: []byte("Match User git\nPasswordAuthentication yes\n")}},
		})
		c, err := SSHD("main", []byte("Include /etc/ssh/sshd_config.d/*.conf\nPasswordAuthentication no\n"), inc)
		if err != nil {
			t.Fatal(err)
		}
		if v, src, _ := c.Get("PasswordAuthentication"); v != "no" || src != "main:2" {
			t.Errorf("PasswordAuthentication = %q from %s", v, src)
		}
	})
	t.Run("match all in top-level drop-in applies", func(t *testing.T) {
		inc := fakeInclude(map[string][]File{
			"/etc/ssh/d/*": {{Name: "/etc/ssh/d/a", Data: []byte("Match all\nPermitRootLogin no\n")}},
		})
		c, err := SSHD("main", []byte("PermitRootLogin yes\nInclude d/*\n"), inc)
		if err != nil {
			t.Fatal(err)
		}
		if v, src, _ := c.Get("PermitRootLogin"); v != "no" || src != "/etc/ssh/d/a:2" {
			t.Errorf("PermitRootLogin = %q from %s", v, src)
		}
	})
	t.Run("recursion limit", func(t *testing.T) {
		self := []byte("Include /etc/ssh/self\n")
		inc := func(p string) ([]File, error) { return []File{{Name: p, Data: self}}, nil }
		c, err := SSHD("/etc/ssh/self", self, inc)
		if err == nil || !strings.Contains(err.Error(), "recursive") {
			t.Fatalf("err = %v", err)
		}
		if n := len(c.Files()); n != 17 {
			t.Errorf("read %d files, want 17 (depth 0..16)", n)
		}
	})
	t.Run("exponential includes are bounded", func(t *testing.T) {
		self := []byte(strings.Repeat("Include /etc/ssh/self\n", 4))
		calls := 0
		inc := func(p string) ([]File, error) { calls++; return []File{{Name: p, Data: self}}, nil }
		_, err := SSHD("/etc/ssh/self", self, inc)
		if err == nil {
			t.Fatal("no error")
		}
		if calls != 1 {
			t.Errorf("include called %d times, want 1 (cached)", calls)
		}
	})
	t.Run("include budget", func(t *testing.T) {
		data := []byte(strings.Repeat("Include x\n", 2000))
		inc := func(p string) ([]File, error) { return []File{{Name: p, Data: []byte("Port 22\n")}}, nil }
		c, err := SSHD("main", data, inc)
		if err == nil || !strings.Contains(err.Error(), "more than 1024 files") {
			t.Fatalf("err = %.200v", err)
		}
		if n := len(c.Files()); n != sshdMaxFiles {
			t.Errorf("read %d files", n)
		}
	})
	t.Run("include error", func(t *testing.T) {
		boom := errors.New("permission denied")
		inc := func(string) ([]File, error) { return nil, boom }
		c, err := SSHD("main", []byte("Include x\nPermitRootLogin no\n"), inc)
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		if v, _, _ := c.Get("PermitRootLogin"); v != "no" {
			t.Errorf("parsing did not continue: %q", v)
		}
	})
}

func TestArgvSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  bool
	}{
		{"a b\tc", []string{"a", "b", "c"}, false},
		{`"a b" c`, []string{"a b", "c"}, false},
		{`a"b c"d`, []string{"ab cd"}, false},
		{`'it''s'`, []string{"its"}, false},
		{`a\ b`, []string{"a b"}, false},
		{`"a\ b"`, []string{`a\ b`}, false},
		{`a\"b`, []string{`a"b`}, false},
		{`a\nb`, []string{`a\nb`}, false},
		{`a #b c`, []string{"a"}, false},
		{`a#b`, []string{"a#b"}, false},
		{`""`, []string{""}, false},
		{`"abc`, nil, true},
	}
	for _, tt := range tests {
		got, err := argvSplit(tt.in)
		if (err != nil) != tt.err || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
			t.Errorf("argvSplit(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
