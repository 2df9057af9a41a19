package parse

import (
	"fmt"
	"reflect"
	"testing"
)

const pwqualityConf = `# Configuration for systemwide password quality limits
# Defaults:
#
# Number of characters in the new password that must not be present in the
# old password.
# difok = 1
#
# Minimum acceptable size for the new password (plus one if
# credits are not disabled which is the default). (See pam_cracklib manual.)
minlen = 14
dcredit=-1
   ucredit  -1
enforce_for_root
minclass = 4 # CIS
retry==3

`

func TestKeyValue(t *testing.T) {
	got := KeyValue([]byte(pwqualityConf))
	want := []Setting{
		{"minlen", "14", 10},
		{"dcredit", "-1", 11},
		{"ucredit", "-1", 12},
		{"enforce_for_root", "", 13},
		{"minclass", "4 # CIS", 14},
		{"retry", "=3", 15},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("KeyValue =\n%v\nwant\n%v", got, want)
	}
	if s, ok := Last(KeyValue([]byte("deny=5\ndeny = 3\nDENY=9\n")), "deny"); !ok || s.Value != "3" || s.Line != 2 {
		t.Errorf("Last = %v, %v", s, ok)
	}
	if _, ok := Last(nil, "x"); ok {
		t.Error("Last on nil found something")
	}
}

const loginDefs = `#
# /etc/login.defs - Configuration control definitions for the login package.
#
MAIL_DIR        /var/mail
#FAILLOG_ENAB		yes
ENV_PATH	PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games
PASS_MAX_DAYS	99999
PASS_MIN_DAYS	0
PASS_WARN_AGE	7
UMASK		022
ENCRYPT_METHOD "SHA512"
PASS_MAX_DAYS	365 # CIS 5.4.1.1
  LOGIN_RETRIES   5   
USERGROUPS_ENAB
`

func TestLoginDefs(t *testing.T) {
	got := LoginDefs([]byte(loginDefs))
	want := []Setting{
		{"MAIL_DIR", "/var/mail", 4},
		{"ENV_PATH", "PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games", 6},
		{"PASS_MAX_DAYS", "99999", 7},
		{"PASS_MIN_DAYS", "0", 8},
		{"PASS_WARN_AGE", "7", 9},
		{"UMASK", "022", 10},
		{"ENCRYPT_METHOD", "SHA512", 11},
		{"PASS_MAX_DAYS", "365 # CIS 5.4.1.1", 12},
		{"LOGIN_RETRIES", "5", 13},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LoginDefs =\n%v\nwant\n%v", got, want)
	}
	if s, _ := Last(got, "PASS_MAX_DAYS"); s.Line != 12 {
		t.Errorf("Last PASS_MAX_DAYS = %v", s)
	}
}

const sysctlConf = `# /etc/sysctl.d/60-cis.conf
; old style comment
net.ipv4.ip_forward = 0
net/ipv4/conf/all/send_redirects=0
-net.ipv6.conf.all.disable_ipv6 = 1
  kernel.randomize_va_space   =   2  
net.ipv4.conf.*.rp_filter = 1
net.ipv4.conf.eth0/100.accept_redirects = 0
net/ipv4/conf/eth0.100/log_martians = 1
-net.ipv4.conf.lo.rp_filter
not an assignment
kernel.sysrq =
fs.suid_dumpable=0 # trailing
= 5
net..ipv4..tcp_syncookies = 1
`

func TestSysctl(t *testing.T) {
	got := Sysctl([]byte(sysctlConf))
	want := []Setting{
		{"net.ipv4.ip_forward", "0", 3},
		{"net.ipv4.conf.all.send_redirects", "0", 4},
		{"net.ipv6.conf.all.disable_ipv6", "1", 5},
		{"kernel.randomize_va_space", "2", 6},
		{"net.ipv4.conf.*.rp_filter", "1", 7},
		{"net.ipv4.conf.eth0/100.accept_redirects", "0", 8},
		{"net.ipv4.conf.eth0/100.log_martians", "1", 9},
		{"kernel.sysrq", "", 12},
		{"fs.suid_dumpable", "0 # trailing", 13},
		{"net.ipv4.tcp_syncookies", "1", 15},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Sysctl =\n%v\nwant\n%v", got, want)
	}
}

func TestSysctlStopsAtLongLine(t *testing.T) {
	data := []byte("a.b = 1\n" + string(make([]byte, MaxLine+1)) + "\nc.d = 2\n")
	got := Sysctl(data)
	if len(got) != 1 || got[0].Key != "a.b" {
		t.Errorf("Sysctl = %v", got)
	}
}

func TestConfDirOrder(t *testing.T) {
	dirs := []string{"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d"}
	names := map[string][]string{
		"/etc/sysctl.d":     {"99-sysctl.conf", "50-default.conf", "README", ".hidden.conf", "10-local.conf.bak", "60-cis.conf"},
		"/run/sysctl.d":     {"50-pid-max.conf"},
		"/usr/lib/sysctl.d": {"50-default.conf", "50-pid-max.conf", "10-coredump-debian.conf", "../evil.conf"},
		"/lib/sysctl.d":     {"50-default.conf", "30-tracker.conf"},
	}
	got := ConfDirOrder(dirs, names, ".conf")
	want := []string{
		"/usr/lib/sysctl.d/10-coredump-debian.conf",
		"/lib/sysctl.d/30-tracker.conf",
		"/etc/sysctl.d/50-default.conf",
		"/run/sysctl.d/50-pid-max.conf",
		"/etc/sysctl.d/60-cis.conf",
		"/etc/sysctl.d/99-sysctl.conf",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ConfDirOrder =\n%v\nwant\n%v", got, want)
	}
	if got := ConfDirOrder([]string{"/etc/modprobe.d/"}, map[string][]string{"/etc/modprobe.d/": {"b", "a"}}, ""); fmt.Sprint(got) != "[/etc/modprobe.d/a /etc/modprobe.d/b]" {
		t.Errorf("no ext: %v", got)
	}
}
