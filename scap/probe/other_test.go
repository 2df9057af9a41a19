package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/plumbhq/plumb/internal/fixture"
	"github.com/plumbhq/plumb/scap/oval"
	"github.com/plumbhq/plumb/target"
)

const dpkgFixture = `Package: openssh-server
Status: install ok installed
Architecture: amd64
Version: 1:9.2p1-2+deb12u3

Package: removed
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1

Package: native
Status: install ok installed
Architecture: all
Version: 2.3

Package: unpacked
Status: install ok unpacked
Architecture: amd64
Version: 0.1-1-2
`

func TestDpkginfo(t *testing.T) {
	p := New(newRoot(t, fixture.Tree{}.Text("/var/lib/dpkg/status", dpkgFixture)), Options{})
	dpkg := func(op, name string) *oval.Object {
		o := object("dpkginfo_object", nil, ent("name", op, name))
		o.ID += op + name
		return o
	}
	c := collect(t, p, dpkg("", "openssh-server"))
	for k, v := range map[string]string{"name": "openssh-server", "arch": "amd64", "epoch": "1", "version": "9.2p1", "release": "2+deb12u3", "evr": "1:9.2p1-2+deb12u3"} {
		if got := one(t, c, k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if e, _ := entity(c.Items[0], "evr"); e.Datatype != "debian_evr_string" {
		t.Errorf("evr datatype %q", e.Datatype)
	}
	c = collect(t, p, dpkg("", "native"))
	if got, rel := one(t, c, "evr"), one(t, c, "release"); got != "0:2.3" || rel != "" {
		t.Errorf("native package: evr %q release %q", got, rel)
	}
	c = collect(t, p, dpkg("", "unpacked"))
	if got := one(t, c, "release"); got != "1-2" {
		t.Errorf("release splits at the first '-': %q", got)
	}
	if c := collect(t, p, dpkg("", "removed")); c.Flag != oval.FlagDoesNotExist {
		t.Errorf("config-files package: %s", c.Flag)
	}
	if c := collect(t, p, dpkg("", "absent")); c.Flag != oval.FlagDoesNotExist {
		t.Errorf("absent package: %s", c.Flag)
	}
	if got := vals(collect(t, p, dpkg("pattern match", "^(open|nat)")), "name"); !slices.Equal(got, []string{"native", "openssh-server"}) {
		t.Errorf("pattern: %q", got)
	}
	// No dpkg database at all.
	p = New(newRoot(t, fixture.Tree{}), Options{})
	if c := collect(t, p, dpkg("", "bash")); c.Flag != oval.FlagDoesNotExist {
		t.Errorf("no database: %s", c.Flag)
	}
}

func TestRpminfo(t *testing.T) {
	rpm := object("rpminfo_object", nil, ent("name", "", "redhat-release"))
	// A Debian tree, even with an empty /var/lib/rpm (the rpm tool is
	// installed), has no RPM database.
	p := New(newRoot(t, fixture.Tree{}.Add(fixture.File{Path: "/var/lib/rpm", Dir: true})), Options{})
	if c := collect(t, p, rpm); c.Flag != oval.FlagDoesNotExist {
		t.Errorf("no database: %s %s", c.Flag, c.Message)
	}
	// A database in a root directory could only be read by running rpm.
	p = New(newRoot(t, fixture.Tree{}.Text("/var/lib/rpm/rpmdb.sqlite", "SQLite format 3\x00")), Options{})
	if _, err := p.Collect(context.Background(), rpm); !errors.Is(err, oval.ErrNotCollectable) {
		t.Errorf("database in a root: %v", err)
	}
	pkgs := parseRPMList("bash\t(none)\t5.1.8\t9.el9\tx86_64\tRSA/SHA256, Mon 01 Jan 2024, Key ID 199e2f91fd431d51\nkernel\t1\t5.14\t1.el9\tx86_64\t(none)\nbad line\n")
	if len(pkgs) != 2 || pkgs[0].keyid != "199e2f91fd431d51" || pkgs[1].epoch != "1" || pkgs[1].keyid != "" {
		t.Errorf("parseRPMList: %+v", pkgs)
	}
}

func TestRuntimeProbesOnRoot(t *testing.T) {
	p := New(newRoot(t, fixture.Tree{}), Options{})
	for _, o := range []*oval.Object{
		object("sysctl_object", nil, ent("name", "", "kernel.randomize_va_space")),
		object("environmentvariable58_object", nil, oval.ObjectEntity{Name: "pid", Nil: true, Datatype: "int"}, ent("name", "", "PATH")),
	} {
		_, err := p.Collect(context.Background(), o)
		if !errors.Is(err, oval.ErrNotCollectable) {
			t.Errorf("%s on a root directory: %v, want ErrNotCollectable", o.Type, err)
		}
	}
}

// TestPartitionOnRoot: an unpacked root's mounts are those of its fstab.
func TestPartitionOnRoot(t *testing.T) {
	fstab := "# /etc/fstab\nUUID=1234 / ext4 errors=remount-ro 0 1\n/dev/sda2 /tmp ext4 nodev,nosuid,noexec 0 2\n"
	for _, tc := range []struct {
		name  string
		tree  fixture.Tree
		mount string
		flag  oval.Flag
		opts  []string
	}{
		{"listed", fixture.Tree{}.Text("/etc/fstab", fstab), "/tmp", oval.FlagComplete, []string{"nodev", "nosuid", "noexec"}},
		{"not listed", fixture.Tree{}.Text("/etc/fstab", fstab), "/home", oval.FlagDoesNotExist, nil},
		{"no fstab", fixture.Tree{}, "/tmp", oval.FlagDoesNotExist, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := New(newRoot(t, tc.tree), Options{})
			c, err := p.Collect(context.Background(), object("partition_object", nil, ent("mount_point", "", tc.mount)))
			if err != nil || c.Flag != tc.flag {
				t.Fatalf("got %s %v, want %s", c.Flag, err, tc.flag)
			}
			var opts []string
			for _, it := range c.Items {
				for _, e := range it.Values("mount_options") {
					opts = append(opts, e.Value)
				}
			}
			if strings.Join(opts, ",") != strings.Join(tc.opts, ",") {
				t.Errorf("mount_options %v, want %v", opts, tc.opts)
			}
		})
	}
}

func TestUnsupported(t *testing.T) {
	p := New(newRoot(t, fixture.Tree{}), Options{})
	for _, typ := range []string{"selinuxboolean_object"} {
		_, err := p.Collect(context.Background(), object(typ, nil))
		if !errors.Is(err, oval.ErrUnsupported) || !strings.Contains(err.Error(), typ) {
			t.Errorf("%s: %v", typ, err)
		}
	}
}

func TestFamilyUname(t *testing.T) {
	root := newRoot(t, fixture.Tree{})
	p := New(root, Options{})
	if got := one(t, collect(t, p, object("family_object", nil)), "family"); got != "unix" {
		t.Errorf("family %q", got)
	}
	c := collect(t, p, object("uname_object", nil))
	if e, _ := entity(c.Items[0], "os_release"); e.Status != oval.StatusNotCollected {
		t.Errorf("os_release of a root directory: %+v", e)
	}
	p = New(target.NewLocal(), Options{})
	c = collect(t, p, object("uname_object", nil))
	if got := one(t, c, "os_name"); got != "Linux" {
		t.Errorf("os_name %q", got)
	}
	if m, pt := one(t, c, "machine_class"), one(t, c, "processor_type"); m == "" || m != pt {
		t.Errorf("machine_class %q processor_type %q", m, pt)
	}
}

func TestLiveSysctlEnvironPartition(t *testing.T) {
	if _, err := os.Stat("/proc/sys/kernel/ostype"); err != nil {
		t.Skip("no /proc/sys")
	}
	p := New(target.NewLocal(), Options{})
	c := collect(t, p, object("sysctl_object", nil, ent("name", "", "kernel.ostype")))
	if got := vals(c, "value"); !slices.Equal(got, []string{"Linux"}) {
		t.Errorf("kernel.ostype %q", got)
	}
	c = collect(t, p, object("sysctl_object", nil, ent("name", "pattern match", `^kernel\.os(type|release)$`)))
	if got := vals(c, "name"); !slices.Equal(got, []string{"kernel.osrelease", "kernel.ostype"}) {
		t.Errorf("pattern: %q", got)
	}
	c = collect(t, p, object("environmentvariable58_object", nil, oval.ObjectEntity{Name: "pid", Nil: true, Datatype: "int"}, ent("name", "", "PATH")))
	if got := one(t, c, "value"); got != os.Getenv("PATH") {
		t.Errorf("PATH of the collecting process: %q", got)
	}
	if got := one(t, c, "pid"); got != strconv.Itoa(os.Getpid()) {
		t.Errorf("pid %s, want %d", got, os.Getpid())
	}
	c = collect(t, p, object("partition_object", nil, ent("mount_point", "", "/")))
	if len(c.Items) != 1 {
		t.Fatalf("partition /: %+v", c)
	}
	if got := one(t, c, "fs_type"); got == "" {
		t.Error("no fs_type")
	}
}

func TestSysctlValues(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"2\n", []string{"2"}},
		{"4\t4\t1\t7\n", []string{"4\t4\t1\t7"}},
		{"a\nb\n", []string{"a", "b"}},
		{"x\x01y", []string{"x", "y"}},
		{"\n", []string{""}},
	}
	for _, c := range cases {
		if got := sysctlValues([]byte(c.in)); !slices.Equal(got, c.want) {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
	}
}

func TestPasswordShadow(t *testing.T) {
	ll := make([]byte, 3*lastlogRecord)
	binary.LittleEndian.PutUint32(ll[1*lastlogRecord:], 1700000000)
	tree := fixture.Tree{}.
		Text("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\nalice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n").
		Add(fixture.File{Path: "/etc/shadow", Mode: 0o640, Data: "root:$6$salt$hash:19000:0:99999:7:::\ndaemon:*:19000::::::\nalice:$y$j9T$abc:19000:1:365:7:30:20000:5\nbob:$2a$05$xyz:1::::::\n"}).
		Add(fixture.File{Path: "/var/log/lastlog", Data: string(ll)})
	p := New(newRoot(t, tree), Options{})
	c := collect(t, p, object("password_object", nil, ent("username", "pattern match", ".*")))
	if got := vals(c, "username"); !slices.Equal(got, []string{"alice", "daemon", "root"}) {
		t.Errorf("users %q", got)
	}
	c = collect(t, p, object("password_object", nil, ent("username", "", "daemon")))
	for k, v := range map[string]string{"user_id": "1", "group_id": "1", "home_dir": "/usr/sbin", "login_shell": "/usr/sbin/nologin", "last_login": "1700000000", "password": "x"} {
		if got := one(t, c, k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if got := one(t, collect(t, p, object("password_object", nil, ent("username", "", "alice"))), "last_login"); got != "-1" {
		t.Errorf("no lastlog record: %q", got)
	}
	sh := func(user string) oval.Collected {
		o := object("shadow_object", nil, ent("username", "", user))
		o.ID += user
		return collect(t, p, o)
	}
	c = sh("root")
	if got := one(t, c, "encrypt_method"); got != "SHA-512" {
		t.Errorf("root method %q", got)
	}
	c = sh("daemon")
	for k, v := range map[string]string{"chg_allow": "-1", "exp_date": "-1", "flag": "18446744073709551615", "encrypt_method": "DES"} {
		if got := one(t, c, k); got != v {
			t.Errorf("daemon %s = %q, want %q", k, got, v)
		}
	}
	c = sh("alice")
	if len(c.Items[0].Values("encrypt_method")) != 0 {
		t.Error("yescrypt has no oscap method name")
	}
	for k, v := range map[string]string{"chg_req": "365", "exp_inact": "30", "exp_date": "20000", "flag": "5"} {
		if got := one(t, c, k); got != v {
			t.Errorf("alice %s = %q, want %q", k, got, v)
		}
	}
	if got := one(t, sh("bob"), "encrypt_method"); got != "Blowfish" {
		t.Errorf("bob %q", got)
	}
}

// unitTree is a small systemd configuration: multi-user.target pulls in
// basic.target and, through .wants links, ssh and a timer target.
func unitTree() fixture.Tree {
	return fixture.Tree{}.
		Text("/lib/systemd/system/multi-user.target", "[Unit]\nDescription=Multi-User System\nRequires=basic.target\n").
		Text("/lib/systemd/system/basic.target", "[Unit]\nRequires=sysinit.target\nWants=timers.target\n").
		Text("/lib/systemd/system/sysinit.target", "[Unit]\nDescription=System Initialization\n").
		Text("/lib/systemd/system/timers.target", "[Unit]\n").
		Text("/lib/systemd/system/apt-daily.timer", "[Unit]\nDescription=Daily apt\n[Install]\nWantedBy=timers.target\n").
		Add(fixture.File{Path: "/etc/systemd/system/timers.target.wants/apt-daily.timer", Link: "/lib/systemd/system/apt-daily.timer"}).
		Text("/lib/systemd/system/ssh.service", "[Unit]\nDescription=OpenBSD Secure Shell server\nAfter=network.target\n[Install]\nWantedBy=multi-user.target\nAlias=sshd.service\n").
		Add(fixture.File{Path: "/etc/systemd/system/sshd.service", Link: "/lib/systemd/system/ssh.service"}).
		Add(fixture.File{Path: "/etc/systemd/system/multi-user.target.wants/ssh.service", Link: "/lib/systemd/system/ssh.service"}).
		Text("/etc/systemd/system/ssh.service.d/override.conf", "[Unit]\nDescription=Overridden\nAfter=\nAfter=auditd.service\n").
		Text("/lib/systemd/system/cron.service", "[Unit]\nDescription=cron\n[Install]\nWantedBy=multi-user.target\n").
		Text("/lib/systemd/system/avahi-daemon.service", "[Unit]\n[Install]\nWantedBy=multi-user.target\n").
		Add(fixture.File{Path: "/etc/systemd/system/avahi-daemon.service", Link: "/dev/null"}).
		Text("/lib/systemd/system/systemd-journald.service", "[Unit]\nDefaultDependencies=no\n")
}

func TestSystemdFromFiles(t *testing.T) {
	p := New(newRoot(t, unitTree()), Options{})
	c := collect(t, p, object("systemdunitdependency_object", nil, ent("unit", "", "multi-user.target")))
	deps := vals(c, "dependency")
	want := sorted("basic.target", "sysinit.target", "timers.target", "apt-daily.timer", "ssh.service")
	if !slices.Equal(deps, want) {
		t.Errorf("dependencies %q, want %q", deps, want)
	}
	prop := func(unit, property string) oval.Collected {
		o := object("systemdunitproperty_object", nil, ent("unit", "pattern match", unit), ent("property", "", property))
		o.ID += unit + property
		return collect(t, p, o)
	}
	// The alias is not a unit of its own (systemd lists ssh.service).
	if c := prop(`^sshd\.(service|socket)$`, "LoadState"); c.Flag != oval.FlagDoesNotExist {
		t.Errorf("alias listed: %+v", c)
	}
	for _, tc := range []struct{ unit, prop, want string }{
		{`^ssh\.service$`, "UnitFileState", "enabled"},
		{`^ssh\.service$`, "LoadState", "loaded"},
		{`^ssh\.service$`, "Description", "Overridden"},
		{`^ssh\.service$`, "After", "auditd.service"},
		{`^ssh\.service$`, "FragmentPath", "/lib/systemd/system/ssh.service"},
		{`^ssh\.service$`, "DropInPaths", "/etc/systemd/system/ssh.service.d/override.conf"},
		{`^cron\.service$`, "UnitFileState", "disabled"},
		{`^avahi-daemon\.service$`, "LoadState", "masked"},
		{`^avahi-daemon\.service$`, "UnitFileState", "masked"},
		{`^sysinit\.target$`, "UnitFileState", "static"},
		{`^systemd-journald\.service$`, "DefaultDependencies", "false"},
		{`^apt-daily\.timer$`, "UnitFileState", "enabled"},
	} {
		if got := vals(prop(tc.unit, tc.prop), "value"); !slices.Equal(got, []string{tc.want}) {
			t.Errorf("%s %s = %q, want %q", tc.unit, tc.prop, got, tc.want)
		}
	}
	if got := vals(prop(`^ssh\.service$`, "Names"), "value"); !slices.Equal(got, []string{"ssh.service", "sshd.service"}) {
		t.Errorf("Names %q", got)
	}
	o := object("systemdunitproperty_object", nil, ent("unit", "pattern match", `^ssh\.service$`), ent("property", "", "ActiveState"))
	if _, err := p.Collect(context.Background(), o); !errors.Is(err, oval.ErrNotCollectable) {
		t.Errorf("ActiveState in a root: %v", err)
	}
}

func TestSystemctlOutput(t *testing.T) {
	units := parseListUnits("ssh.service loaded active running OpenBSD Secure Shell server\n● foo.service not-found inactive dead foo.service\nbogus line\n")
	if !slices.Equal(units, []string{"ssh.service", "foo.service"}) {
		t.Errorf("list-units %q", units)
	}
	m := parseShow("ActiveState=active\nWants=a.service b.target\nDescription=x=y\n\n")
	if m["ActiveState"] != "active" || m["Description"] != "x=y" {
		t.Errorf("show %q", m)
	}
	if got := showValues("Wants", m["Wants"]); !slices.Equal(got, []string{"a.service", "b.target"}) {
		t.Errorf("Wants %q", got)
	}
}

func TestParseEnviron(t *testing.T) {
	got := parseEnviron([]byte("A=1\x00garbage\x00B=x=y\x00C=\x00"))
	want := []envVar{{"A", "1"}, {"B", "x=y"}, {"C", ""}}
	if !slices.Equal(got, want) {
		t.Errorf("%q", got)
	}
}

func TestFixedPrefix(t *testing.T) {
	cases := map[string]string{
		`^/etc/sudoers(\.d/.*)?$`:                                 "/etc",
		`^/etc/sudoers\.d/.*$`:                                    "/etc/sudoers.d",
		`^/etc/kernel/cmdline`:                                    "/etc/kernel/cmdline",
		`^/etc/issue\.net$`:                                       "/etc",
		`^\/(|s)bin|^\/usr\/(|local\/)(|s)bin|^\/usr\/libexec`:    "/",
		`/etc/pam.d/password-auth|/etc/pam.d/system-auth`:         "/etc",
		`^/usr/share/doc/audit(?:-\d.\d.\d)?/rules/10-base.rules`: "/usr/share/doc",
		`^/etc/apt/apt.conf.d/.*$`:                                "/etc/apt",
		`.*`:                                                      "/",
		`^/boot/loader/entries/.*.conf`:                           "/boot/loader/entries",
		`^/etc/(`:                                                 "/etc",
	}
	for in, want := range cases {
		if got := fixedPrefix(in); got != want {
			t.Errorf("fixedPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPartialMatcher(t *testing.T) {
	cases := []struct {
		pattern, dir string
		want         bool
	}{
		{`^/etc/sudoers(\.d/.*)?$`, "/etc", true},
		{`^/etc/sudoers(\.d/.*)?$`, "/etc/sudoers.d", true},
		{`^/etc/sudoers(\.d/.*)?$`, "/etc/ssh", false},
		{`^/etc/sudoers(\.d/.*)?$`, "/usr", false},
		{`^/etc/cron\.(d|daily)$`, "/etc/cron.d", true},
		{`^/etc/cron\.(d|daily)$`, "/etc/cron.d/sub", false},
		{`/etc/pam.d/password-auth|/etc/security/faillock.conf`, "/etc/security", true},
		{`/etc/pam.d/password-auth|/etc/security/faillock.conf`, "/etc/ssh", false},
		{`^/boot/config-.*$`, "/boot/efi", false},
		{`^.*$`, "/anything", true},
		{`^/a\b`, "/a", true},
	}
	for _, c := range cases {
		m := newPartialMatcher(c.pattern)
		if m == nil {
			t.Fatalf("%q: no matcher", c.pattern)
		}
		if got := m.possible(c.dir); got != c.want {
			t.Errorf("possible(%q, %q) = %v, want %v", c.pattern, c.dir, got, c.want)
		}
	}
	if newPartialMatcher(`^/etc/(?!x)`) != nil {
		t.Error("look-ahead compiled")
	}
}

func TestPrepareIgnoresOtherTypes(t *testing.T) {
	p := New(newRoot(t, fixture.Tree{}.Text("/var/lib/dpkg/status", dpkgFixture)), Options{})
	o := object("dpkginfo_object", nil, ent("name", "", "native"))
	if err := p.Prepare(context.Background(), []*oval.Object{o, nil}); err != nil {
		t.Fatal(err)
	}
	if got := one(t, collect(t, p, o), "version"); got != "2.3" {
		t.Errorf("version %q", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := object("file_object", down("-1", "directories", "all"), ent("path", "", "/"), nilEnt("filename"))
	if err := p.Prepare(ctx, []*oval.Object{f}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Prepare: %v", err)
	}
	// The cancelled result is not kept.
	if c := collect(t, p, f); len(c.Items) == 0 {
		t.Errorf("after a cancelled Prepare: %+v", c)
	}
}
