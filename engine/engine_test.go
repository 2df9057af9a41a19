package engine

import (
	"context"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/plumbhq/plumb/internal/fixture"
	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/target"
)

func base() fixture.Tree {
	return fixture.Tree{}.
		Text("/etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n").
		Text("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nalice:x:1000:1000::/home/alice:/bin/bash\n").
		Text("/etc/group", "root:x:0:\ndaemon:x:1:\nshadow:x:42:\nalice:x:1000:\n").
		Add(fixture.File{Path: "/etc/shadow", Data: "root:$y$j9T$abc:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nalice:$y$j9T$def:19000:1:365:7:30::\n", Mode: 0o640, GID: 42})
}

// scan evaluates one check on a root built from tree.
func scan(t *testing.T, tree fixture.Tree, checks ...policy.Check) []result.Result {
	t.Helper()
	dir := t.TempDir()
	if err := tree.Write(dir); err != nil {
		t.Fatal(err)
	}
	tg, err := target.NewRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	var rules []policy.Rule
	for i, ch := range checks {
		c := &policy.Control{CID: i + 1, Title: "t", Technologies: []string{"linux"}, Criticality: policy.Serious, Check: ch}
		rules = append(rules, policy.Rule{Control: c, Criticality: c.Criticality, Check: ch})
	}
	host, err := (&Engine{}).Scan(context.Background(), tg, []Run{{Policy: &policy.Policy{ID: "p"}, Rules: rules}})
	if err != nil {
		t.Fatal(err)
	}
	return host.Policies[0].Results
}

func ptr[T any](v T) *T { return &v }

func TestChecks(t *testing.T) {
	sshd := "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\nMaxAuthTries 6\nCiphers aes256-gcm@openssh.com,3des-cbc\nMatch User bob\n  PasswordAuthentication yes\n"
	tests := []struct {
		name   string
		tree   fixture.Tree
		check  policy.Check
		want   result.Status
		reason string
		actual string // substring of the joined evidence
	}{
		{"sshd first value wins, include first", base().Text("/etc/ssh/sshd_config", sshd).Text("/etc/ssh/sshd_config.d/10-hard.conf", "permitrootlogin no\n"),
			policy.Check{SSHD: &policy.SSHDCheck{Key: "PermitRootLogin", Compare: policy.Compare{Value: "no"}}}, result.Pass, "", "10-hard.conf:1"},
		{"sshd wrong value", base().Text("/etc/ssh/sshd_config", sshd),
			policy.Check{SSHD: &policy.SSHDCheck{Key: "PermitRootLogin", Compare: policy.Compare{Value: "no"}}}, result.Fail, "", "PermitRootLogin yes"},
		{"sshd unset uses default", base().Text("/etc/ssh/sshd_config", sshd),
			policy.Check{SSHD: &policy.SSHDCheck{Key: "PermitEmptyPasswords", Compare: policy.Compare{Value: "no", Default: ptr("no")}}}, result.Pass, "", "default"},
		{"sshd unset no default fails", base().Text("/etc/ssh/sshd_config", sshd),
			policy.Check{SSHD: &policy.SSHDCheck{Key: "LoginGraceTime", Compare: policy.Compare{Op: "le", Value: "60"}}}, result.Fail, "", "not set"},
		{"sshd match block does not count", base().Text("/etc/ssh/sshd_config", sshd),
			policy.Check{SSHD: &policy.SSHDCheck{Key: "PasswordAuthentication", Compare: policy.Compare{Value: "no", Default: ptr("yes")}}}, result.Fail, "", "default"},
		{"sshd integer le", base().Text("/etc/ssh/sshd_config", sshd),
			policy.Check{SSHD: &policy.SSHDCheck{Key: "MaxAuthTries", Compare: policy.Compare{Op: "le", Value: "4"}}}, result.Fail, "", "MaxAuthTries 6"},
		{"sshd list not_contains", base().Text("/etc/ssh/sshd_config", sshd),
			policy.Check{SSHD: &policy.SSHDCheck{Key: "Ciphers", Compare: policy.Compare{Op: "not_contains", Value: "3des-cbc"}}}, result.Fail, "", "3des-cbc"},
		{"file mode ok", base(),
			policy.Check{File: &policy.FileCheck{Path: "/etc/shadow", Mode: "0640", Owner: "root", Group: "shadow"}}, result.Pass, "", "mode 0640 owner root(0) group shadow(42)"},
		{"file mode too open", base().Add(fixture.File{Path: "/etc/shadow", Data: "x", Mode: 0o644}),
			policy.Check{File: &policy.FileCheck{Path: "/etc/shadow", Mode: "0640"}}, result.Fail, "", "mode 0644"},
		{"file missing", base(),
			policy.Check{File: &policy.FileCheck{Path: "/etc/nothing", Mode: "0600"}}, result.Fail, "", "absent"},
		{"file must be absent", base(),
			policy.Check{File: &policy.FileCheck{Path: "/etc/hosts.equiv", Exists: ptr(false)}}, result.Pass, "", "absent"},
		{"line present across glob", base().Text("/etc/sudoers", "root ALL=(ALL) ALL\n").Text("/etc/sudoers.d/pty", "Defaults use_pty\n"),
			policy.Check{Line: &policy.LineCheck{Path: "/etc/sudoers.d/*", Pattern: `(?m)^\s*Defaults\s+use_pty`}}, result.Pass, "", "/etc/sudoers.d/pty:1"},
		{"line absent violated", base().Text("/etc/sudoers.d/x", "# ok\nalice ALL=(ALL) NOPASSWD: ALL\n"),
			policy.Check{Line: &policy.LineCheck{Path: "/etc/sudoers.d/*", Pattern: `(?m)^[^#]*NOPASSWD`, Expect: "absent"}}, result.Fail, "", "/etc/sudoers.d/x:2"},
		{"line with several matches is listed once", base().Text("/etc/issue", "Welcome to Debian\nDebian GNU/Linux 12 \\n \\l\nKernel \\r on \\m\n"),
			policy.Check{Line: &policy.LineCheck{Path: "/etc/issue", Pattern: `(?i)(\\[mrsv]|debian|gnu/linux|kernel)`, Expect: "absent"}}, result.Fail, "",
			`/etc/issue:1: Welcome to Debian | /etc/issue:2: Debian GNU/Linux 12 \n \l | /etc/issue:3: Kernel \r on \m`},
		{"login.defs last wins", base().Text("/etc/login.defs", "PASS_MAX_DAYS 99999\nPASS_MAX_DAYS 365\n"),
			policy.Check{Setting: &policy.SettingCheck{Path: "/etc/login.defs", Format: "login.defs", Key: "PASS_MAX_DAYS", Compare: policy.Compare{Op: "le", Value: "365"}}}, result.Pass, "", "login.defs:2"},
		{"keyvalue", base().Text("/etc/security/pwquality.conf", "# minlen = 8\nminlen = 14\n"),
			policy.Check{Setting: &policy.SettingCheck{Path: "/etc/security/pwquality.conf", Format: "keyvalue", Key: "minlen", Compare: policy.Compare{Op: "ge", Value: "14"}}}, result.Pass, "", "minlen 14"},
		{"sysctl config order, etc masks usr", base().Text("/usr/lib/sysctl.d/50-default.conf", "net.ipv4.ip_forward = 1\n").Text("/etc/sysctl.d/50-default.conf", "net.ipv4.ip_forward = 0\n").Text("/etc/sysctl.d/99-z.conf", "kernel.randomize_va_space=2\n"),
			policy.Check{Sysctl: &policy.SysctlCheck{Key: "net.ipv4.ip_forward", Compare: policy.Compare{Value: "0"}}}, result.Pass, "", "/etc/sysctl.d/50-default.conf"},
		{"sysctl later file wins", base().Text("/etc/sysctl.d/10-a.conf", "net/ipv4/ip_forward = 0\n").Text("/etc/sysctl.d/20-b.conf", "net.ipv4.ip_forward = 1\n"),
			policy.Check{Sysctl: &policy.SysctlCheck{Key: "net.ipv4.ip_forward", Compare: policy.Compare{Value: "0"}}}, result.Fail, "", "20-b.conf"},
		{"sysctl runtime in a root dir is not collectable", base(),
			policy.Check{Sysctl: &policy.SysctlCheck{Key: "net.ipv4.ip_forward", Source: "runtime", Compare: policy.Compare{Value: "0"}}}, result.Error, result.ReasonNotCollectable, ""},
		{"package installed", base().Text("/var/lib/dpkg/status", "Package: auditd\nStatus: install ok installed\nVersion: 1:3.0.9-1\nArchitecture: amd64\n\nPackage: telnet\nStatus: deinstall ok config-files\nVersion: 0.17\n"),
			policy.Check{Package: &policy.PackageCheck{Name: "auditd", MinVersion: "1:3.0"}}, result.Pass, "", "auditd 1:3.0.9-1"},
		{"package removed is not installed", base().Text("/var/lib/dpkg/status", "Package: telnet\nStatus: deinstall ok config-files\nVersion: 0.17\n"),
			policy.Check{Package: &policy.PackageCheck{Name: "telnet", Installed: ptr(false)}}, result.Pass, "", "config-files"},
		{"service enabled by wants link", base().Text("/lib/systemd/system/auditd.service", "[Unit]\n").Add(fixture.File{Path: "/etc/systemd/system/multi-user.target.wants/auditd.service", Link: "/lib/systemd/system/auditd.service"}),
			policy.Check{Service: &policy.ServiceCheck{Unit: "auditd.service", State: "enabled"}}, result.Pass, "", "multi-user.target.wants"},
		{"service masked", base().Text("/lib/systemd/system/avahi-daemon.service", "[Unit]\n").Add(fixture.File{Path: "/etc/systemd/system/avahi-daemon.service", Link: "/dev/null"}),
			policy.Check{Service: &policy.ServiceCheck{Unit: "avahi-daemon.service", State: "disabled"}}, result.Pass, "", "masked"},
		{"service enabled but should not be", base().Text("/lib/systemd/system/cups.service", "[Unit]\n").Add(fixture.File{Path: "/etc/systemd/system/multi-user.target.wants/cups.service", Link: "/lib/systemd/system/cups.service"}),
			policy.Check{Service: &policy.ServiceCheck{Unit: "cups.service", State: "disabled"}}, result.Fail, "", "enabled"},
		{"fstab options", base().Text("/etc/fstab", "UUID=1 / ext4 defaults 0 1\ntmpfs /tmp tmpfs defaults,nodev,nosuid 0 0\n"),
			policy.Check{Mount: &policy.MountCheck{Path: "/tmp", Options: []string{"nodev", "nosuid", "noexec"}}}, result.Fail, "", "missing noexec"},
		{"not separate", base().Text("/etc/fstab", "UUID=1 / ext4 defaults 0 1\n"),
			policy.Check{Mount: &policy.MountCheck{Path: "/var/log", Separate: true}}, result.Fail, "", "not a separate mount"},
		{"module disabled", base().Text("/etc/modprobe.d/cramfs.conf", "install cramfs /bin/false\nblacklist cramfs\n"),
			policy.Check{Module: &policy.ModuleCheck{Name: "cramfs", Disabled: true}}, result.Pass, "", "install /bin/false"},
		{"module not disabled", base(),
			policy.Check{Module: &policy.ModuleCheck{Name: "usb-storage", Disabled: true}}, result.Fail, "", "not disabled"},
		{"uid 0 other than root", base().Text("/etc/passwd", "root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\n"),
			policy.Check{Accounts: &policy.AccountsCheck{Rule: "root_only_uid0"}}, result.Fail, "", "toor has uid 0"},
		{"duplicate uids", base().Text("/etc/passwd", "root:x:0:0::/root:/bin/sh\na:x:1000:1000::/:/bin/sh\nb:x:1000:1000::/:/bin/sh\n"),
			policy.Check{Accounts: &policy.AccountsCheck{Rule: "unique_uids"}}, result.Fail, "", "uid 1000: a, b"},
		{"empty password", base().Add(fixture.File{Path: "/etc/shadow", Data: "root::19000:0:99999:7:::\n", Mode: 0o640}),
			policy.Check{Accounts: &policy.AccountsCheck{Rule: "no_empty_passwords"}}, result.Fail, "", "root: empty password"},
		{"max days", base(),
			policy.Check{Accounts: &policy.AccountsCheck{Rule: "max_days", Compare: policy.Compare{Op: "le", Value: "365"}}}, result.Fail, "", "root: 99999"},
		{"pam arg", base().Text("/etc/pam.d/common-password", "password [success=1 default=ignore] pam_unix.so obscure yescrypt\npassword requisite pam_pwhistory.so remember=5 use_authtok\n"),
			policy.Check{PAM: &policy.PAMCheck{File: "/etc/pam.d/common-password", Type: "password", Module: "pam_pwhistory.so", Arg: "remember", Compare: policy.Compare{Op: "ge", Value: "5"}}}, result.Pass, "", "remember=5"},
		{"pam module missing", base().Text("/etc/pam.d/common-auth", "auth required pam_unix.so\n"),
			policy.Check{PAM: &policy.PAMCheck{File: "/etc/pam.d/common-auth", Type: "auth", Module: "pam_faillock.so"}}, result.Fail, "", "no auth pam_faillock.so line"},
		{"world-writable file found", base().Add(fixture.File{Path: "/srv/open", Data: "x", Mode: 0o666}, fixture.File{Path: "/tmp", Dir: true, Mode: os.ModeSticky | 0o777}),
			policy.Check{Search: &policy.SearchCheck{Kind: "world_writable_files"}}, result.Fail, "", "/srv/open"},
		{"world-writable dir without sticky", base().Add(fixture.File{Path: "/srv/drop", Dir: true, Mode: 0o777}, fixture.File{Path: "/tmp", Dir: true, Mode: os.ModeSticky | 0o777}),
			policy.Check{Search: &policy.SearchCheck{Kind: "world_writable_dirs"}}, result.Fail, "", "/srv/drop"},
		{"suid allow list", base().Add(fixture.File{Path: "/usr/bin/passwd", Data: "x", Mode: os.ModeSetuid | 0o755}),
			policy.Check{Search: &policy.SearchCheck{Kind: "suid", Allow: []string{"/usr/bin/passwd"}}}, result.Pass, "", "none found"},
		{"sgid with a group owner", base().Add(fixture.File{Path: "/usr/bin/chage", Data: "x", Mode: os.ModeSetgid | 0o755, GID: 42}),
			policy.Check{Search: &policy.SearchCheck{Kind: "sgid"}}, result.Fail, "", "/usr/bin/chage"},
		{"unowned", base().Add(fixture.File{Path: "/srv/orphan", Data: "x", UID: 4242, GID: 4242}),
			policy.Check{Search: &policy.SearchCheck{Kind: "unowned"}}, result.Fail, "", "/srv/orphan"},
		{"command never runs in a root dir", base(),
			policy.Check{Command: &policy.CommandCheck{Argv: []string{"/bin/true"}}}, result.Error, result.ReasonNotCollectable, ""},
		{"all: fail beats error", base(),
			policy.Check{All: []policy.Check{{Command: &policy.CommandCheck{Argv: []string{"/bin/true"}}}, {File: &policy.FileCheck{Path: "/nope"}}}}, result.Fail, "", "absent"},
		{"any: pass beats error", base(),
			policy.Check{Any: []policy.Check{{Command: &policy.CommandCheck{Argv: []string{"/bin/true"}}}, {File: &policy.FileCheck{Path: "/etc/passwd"}}}}, result.Pass, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := scan(t, tt.tree, tt.check)[0]
			ev := strings.Join(r.Actual, " | ")
			if r.Status != tt.want || r.Reason != tt.reason || !strings.Contains(ev, tt.actual) {
				t.Errorf("got %s (%s: %s), evidence %q, expected %q; want %s (%s) with evidence containing %q",
					r.Status, r.Reason, r.Message, ev, r.Expected, tt.want, tt.reason, tt.actual)
			}
		})
	}
}

func TestApplicabilityAndTechnology(t *testing.T) {
	tree := base()
	dir := t.TempDir()
	if err := tree.Write(dir); err != nil {
		t.Fatal(err)
	}
	tg, err := target.NewRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(cid int, techs []string, app *policy.Check, ch policy.Check) policy.Rule {
		c := &policy.Control{CID: cid, Technologies: techs, Criticality: policy.Medium, Applicable: app, Check: ch}
		return policy.Rule{Control: c, Criticality: c.Criticality, Check: ch}
	}
	passwd := policy.Check{File: &policy.FileCheck{Path: "/etc/passwd"}}
	rules := []policy.Rule{
		mk(3, []string{"rhel-9"}, nil, passwd),
		mk(1, []string{"debian-12"}, &policy.Check{Package: &policy.PackageCheck{Name: "openssh-server"}}, passwd),
		mk(2, []string{"debian-family"}, nil, policy.Check{Manual: "Review site policy"}),
		mk(4, []string{"linux"}, &policy.Check{File: &policy.FileCheck{Path: "/etc/passwd"}}, passwd),
	}
	host, err := (&Engine{}).Scan(context.Background(), tg, []Run{{Policy: &policy.Policy{ID: "p"}, Rules: rules}})
	if err != nil {
		t.Fatal(err)
	}
	if host.Facts.Technology != "debian-12" {
		t.Fatalf("technology %q, want debian-12", host.Facts.Technology)
	}
	want := map[int]struct {
		s      result.Status
		reason string
	}{
		1: {result.Error, result.ReasonNotCollectable}, // no dpkg database, and rpm needs a live host: we never got the data
		2: {result.NotChecked, ""},
		3: {result.NA, ""}, // the policy covers debian-12 through other rules: a RHEL-only control does not apply
		4: {result.Pass, ""},
	}
	rs := host.Policies[0].Results
	for i, r := range rs {
		if i > 0 && rs[i-1].CID > r.CID {
			t.Errorf("results not ordered by CID")
		}
		if w := want[r.CID]; r.Status != w.s || r.Reason != w.reason {
			t.Errorf("cid %d: got %s/%s (%s), want %s/%s", r.CID, r.Status, r.Reason, r.Message, w.s, w.reason)
		}
	}
	// Nothing in the policy fits the host: Error, so it never looks compliant.
	host, err = (&Engine{}).Scan(context.Background(), tg, []Run{{Policy: &policy.Policy{ID: "rhel-only"}, Rules: rules[:1]}})
	if err != nil {
		t.Fatal(err)
	}
	if r := host.Policies[0].Results[0]; r.Status != result.Error || r.Reason != result.ReasonUnsupportedTechnology {
		t.Errorf("policy with no rule for the host: got %s/%s, want error/unsupported_technology", r.Status, r.Reason)
	}
	// N/A: the package database exists and the package is not installed.
	tree.Text("/var/lib/dpkg/status", "Package: bash\nStatus: install ok installed\nVersion: 5.2\n")
	dir2 := t.TempDir()
	if err := tree.Write(dir2); err != nil {
		t.Fatal(err)
	}
	tg2, err := target.NewRoot(dir2)
	if err != nil {
		t.Fatal(err)
	}
	host, err = (&Engine{}).Scan(context.Background(), tg2, []Run{{Policy: &policy.Policy{ID: "p"}, Rules: rules[1:2]}})
	if err != nil {
		t.Fatal(err)
	}
	if r := host.Policies[0].Results[0]; r.Status != result.NA || !strings.Contains(r.Message, "openssh-server installed") {
		t.Errorf("package not installed: got %s (%s), want na", r.Status, r.Message)
	}
}

// denyTarget wraps a target and refuses reads of some paths, as a scan by
// an unprivileged user would see them (the tests run as root).
type denyTarget struct {
	target.Target
	deny map[string]bool
}

func (d denyTarget) ReadFile(ctx context.Context, p string, limit int64) ([]byte, error) {
	if d.deny[p] {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrPermission}
	}
	return d.Target.ReadFile(ctx, p, limit)
}

func TestPermissionDeniedIsErrorNotFail(t *testing.T) {
	dir := t.TempDir()
	if err := base().Write(dir); err != nil {
		t.Fatal(err)
	}
	r, err := target.NewRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	tg := denyTarget{Target: r, deny: map[string]bool{"/etc/shadow": true}}
	ch := policy.Check{Accounts: &policy.AccountsCheck{Rule: "no_empty_passwords"}}
	ok := policy.Check{Accounts: &policy.AccountsCheck{Rule: "unique_uids"}}
	c1 := &policy.Control{CID: 1, Technologies: []string{"linux"}, Criticality: policy.Urgent, Check: ch}
	c2 := &policy.Control{CID: 2, Technologies: []string{"linux"}, Criticality: policy.Urgent, Check: ok}
	host, err := (&Engine{}).Scan(context.Background(), tg, []Run{{Policy: &policy.Policy{ID: "p"}, Rules: []policy.Rule{
		{Control: c1, Criticality: c1.Criticality, Check: ch}, {Control: c2, Criticality: c2.Criticality, Check: ok}}}})
	if err != nil {
		t.Fatal(err)
	}
	rs := host.Policies[0].Results
	if rs[0].Status != result.Error || rs[0].Reason != result.ReasonPermissionDenied {
		t.Errorf("denied shadow: got %s/%s, want error/permission_denied", rs[0].Status, rs[0].Reason)
	}
	if rs[1].Status != result.Pass {
		t.Errorf("other control: got %s, want pass", rs[1].Status)
	}
}
