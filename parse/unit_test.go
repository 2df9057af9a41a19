package parse

import (
	"reflect"
	"testing"
)

const sshService = "\xef\xbb\xbf" + `[Unit]
Description=OpenBSD Secure Shell server
Documentation=man:sshd(8) man:sshd_config(5)
After=network.target auditd.service
ConditionPathExists=!/etc/ssh/sshd_not_to_be_run

[Service]
EnvironmentFile=-/etc/default/ssh
ExecStartPre=/usr/sbin/sshd -t
ExecStart=/usr/sbin/sshd -D $SSHD_OPTS
ExecReload=/usr/sbin/sshd -t
ExecReload=/bin/kill -HUP $MAINPID
KillMode=process
Restart=on-failure
RestartPreventExitStatus=255
Type=notify
RuntimeDirectory=sshd
RuntimeDirectoryMode=0755
; a comment
# another
Environment="A=1" \
  # comment inside continuation
  "B=2"
ProtectSystem = strict 

[Install]
WantedBy=multi-user.target
Alias=sshd.service
`

func TestUnit(t *testing.T) {
	got := Unit([]byte(sshService))
	want := []UnitEntry{
		{"Unit", "Description", "OpenBSD Secure Shell server", 1},
		{"Unit", "Documentation", "man:sshd(8) man:sshd_config(5)", 3},
		{"Unit", "After", "network.target auditd.service", 4},
		{"Unit", "ConditionPathExists", "!/etc/ssh/sshd_not_to_be_run", 5},
		{"Service", "EnvironmentFile", "-/etc/default/ssh", 8},
		{"Service", "ExecStartPre", "/usr/sbin/sshd -t", 9},
		{"Service", "ExecStart", "/usr/sbin/sshd -D $SSHD_OPTS", 10},
		{"Service", "ExecReload", "/usr/sbin/sshd -t", 11},
		{"Service", "ExecReload", "/bin/kill -HUP $MAINPID", 12},
		{"Service", "KillMode", "process", 13},
		{"Service", "Restart", "on-failure", 14},
		{"Service", "RestartPreventExitStatus", "255", 15},
		{"Service", "Type", "notify", 16},
		{"Service", "RuntimeDirectory", "sshd", 17},
		{"Service", "RuntimeDirectoryMode", "0755", 18},
		{"Service", "Environment", `"A=1"    "B=2"`, 21},
		{"Service", "ProtectSystem", "strict", 24},
		{"Install", "WantedBy", "multi-user.target", 27},
		{"Install", "Alias", "sshd.service", 28},
	}
	// The first entry is on line 2: line 1 is the [Unit] header.
	want[0].Line = 2
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Unit =\n%v\nwant\n%v", got, want)
	}
}

func TestUnitSyntax(t *testing.T) {
	tests := []struct {
		name, in string
		want     []UnitEntry
	}{
		{"outside section", "A=1\n[S]\nB=2\n", []UnitEntry{{"S", "B", "2", 3}}},
		{"bad header stops", "[S]\nA=1\n[Broken\nB=2\n", []UnitEntry{{"S", "A", "1", 2}}},
		{"no equals", "[S]\njunk\n=x\nA=\n", []UnitEntry{{"S", "A", "", 4}}},
		{"even backslashes", "[S]\nA=x\\\\\nB=y\n", []UnitEntry{{"S", "A", `x\\`, 2}, {"S", "B", "y", 3}}},
		{"odd backslashes", "[S]\nA=x\\\\\\\nB=y\n", []UnitEntry{{"S", "A", `x\\ B=y`, 2}}},
		{"continuation at EOF", "[S]\nA=x\\", []UnitEntry{{"S", "A", "x", 2}}},
		{"invalid utf8 skipped", "[S]\nA=\xff\nB=1\n", []UnitEntry{{"S", "B", "1", 3}}},
		{"empty section name", "[]\nA=1\n", []UnitEntry{{"", "A", "1", 2}}},
	}
	for _, tt := range tests {
		if got := Unit([]byte(tt.in)); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Unit = %v, want %v", tt.name, got, tt.want)
		}
	}
}
