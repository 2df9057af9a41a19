package parse

import (
	"strings"
	"testing"
)

const dpkgStatus = `Package: openssh-server
Status: install ok installed
Priority: optional
Section: net
Installed-Size: 1838
Maintainer: Debian OpenSSH Maintainers <debian-ssh@lists.debian.org>
Architecture: amd64
Multi-Arch: foreign
Source: openssh
Version: 1:9.2p1-2+deb12u3
Depends: libpam-modules (>= 0.72-9), adduser
Conffiles:
 /etc/default/ssh 500e3a4a8fd24ad7bd1d1ab2b7d5e6b5
 /etc/ssh/moduli 68bf5b1fe3d5d2bb7b6c8f2a2e5a3c55
Description: secure shell (SSH) server, for secure access from remote machines
 This is the portable version of OpenSSH, a free implementation of
 the Secure Shell protocol as specified by the IETF secsh working
 group.
 .
 Ssh (Secure Shell) is a program for logging into a remote machine.

Package: telnet
Status: deinstall ok config-files
Priority: standard
Architecture: amd64
Version: 0.17+2.4-2+deb12u1
Conffiles:
 /etc/telnet.conf 1234 obsolete

Package: libc6
Status: install ok installed
Architecture: i386
Multi-Arch: same
Version: 2.36-9+deb12u4

Package: libc6
Status: install ok installed
Architecture: amd64
Multi-Arch: same
Version: 2.36-9+deb12u7

package: libfoo1
status: deinstall ok config-files
architecture: amd64
version: 1.0-1

Package: libfoo1
Status: install ok installed
Architecture: i386
Version: 1.0-1

Package: broken
Status: install ok installed
Version 1.0

Package: half
Status: install reinstreq half-installed
Version: 2.0

Status: install ok installed
Version: 3

Package: nostatus
Version: 1

Package: badstatus
Status: installed
`

func TestDpkgStatus(t *testing.T) {
	pkgs, err := DpkgStatus([]byte(dpkgStatus))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"line 54:", "line 60:", "line 63:", "line 66:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s: %v", want, err)
		}
	}
	tests := []struct {
		name, version, arch string
		installed, present  bool
	}{
		{"openssh-server", "1:9.2p1-2+deb12u3", "amd64", true, true},
		{"telnet", "0.17+2.4-2+deb12u1", "amd64", false, true},
		{"libc6", "2.36-9+deb12u4", "i386", true, true},
		{"libfoo1", "1.0-1", "i386", true, true},
		{"half", "2.0", "", false, true},
		{"broken", "", "", false, false},
		{"nostatus", "", "", false, false},
		{"badstatus", "", "", false, false},
	}
	for _, tt := range tests {
		p, ok := pkgs[tt.name]
		if ok != tt.present || p.Version != tt.version || p.Arch != tt.arch || p.Installed() != tt.installed {
			t.Errorf("%s: %+v, %v", tt.name, p, ok)
		}
	}
	if len(pkgs) != 5 {
		t.Errorf("%d packages", len(pkgs))
	}
}

func TestInstalled(t *testing.T) {
	for status, want := range map[string]bool{
		"install ok installed":            true,
		"hold ok installed":               true,
		"deinstall ok installed":          true,
		"install reinstreq installed":     true,
		"deinstall ok config-files":       false,
		"purge ok not-installed":          false,
		"install ok half-installed":       false,
		"install ok unpacked":             false,
		"install ok half-configured":      false,
		"install ok triggers-pending":     false,
		"":                                false,
		"installed":                       false,
		"install ok installed extra-word": false,
	} {
		if got := (Package{Status: status}).Installed(); got != want {
			t.Errorf("Installed(%q) = %v", status, got)
		}
	}
}

func TestCompareDebVersion(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		// From dpkg's lib/dpkg/t/t-version.c and debian-policy examples.
		{"1.0~rc1", "1.0", -1},
		{"1:0.1", "2.0", 1},
		{"1.0-1", "1.0-1+b1", -1},
		{"0:1.0", "1.0", 0},
		{"1.0", "1.0-0", 0},
		{"0", "0", 0},
		{"0", "00", 0},
		{"1.01", "1.1", 0},
		{"1.0", "1.0a", -1},
		{"1.0", "1.0.0", -1},
		{"1.0~", "1.0", -1},
		{"1.0~~", "1.0~", -1},
		{"1.0~~", "1.0~~a", -1},
		{"1.0~~a", "1.0~", -1},
		{"1.0", "1.0+", -1},
		{"1.0a", "1.0+", -1},
		{"1.0", "1.1", -1},
		{"1.2-5", "1.2-10", -1},
		{"2:1.0", "1:2.0", 1},
		{"1:1.0", "1.0", 1},
		{"A", "a", -1},
		{"1+", "1.", -1},
		{"1.0-1~bpo1", "1.0-1", -1},
		{"9.2p1-2+deb12u3", "9.2p1-2+deb12u2", 1},
		{"1:9.2p1-2+deb12u3", "1:9.2p1-2+deb12u3", 0},
		{"2.36-9+deb12u4", "2.36-9+deb12u10", -1},
		{"1.2.3-a-b", "1.2.3-a-c", -1}, // upstream "1.2.3-a", revisions b < c
		{"99999999999999999999:1", "99999999999999999998:2", 1},
		{" 1.0 ", "1.0", 0},
		{"abc:1.0", "abc:1.0", 0},
		{"", "0", 0},
		{"", "~", 1},
	}
	for _, tt := range tests {
		if got := CompareDebVersion(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareDebVersion(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := CompareDebVersion(tt.b, tt.a); got != -tt.want {
			t.Errorf("CompareDebVersion(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

func TestCompareRPMVersion(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		// From rpm's tests/rpmvercmp.at.
		{"1.0", "1.0", 0},
		{"1.0", "2.0", -1},
		{"2.0.1", "2.0", 1},
		{"2.0.1a", "2.0.1", 1},
		{"5.5p1", "5.5p2", -1},
		{"5.5p10", "5.5p1", 1},
		{"10xyz", "10.1xyz", -1},
		{"xyz10", "xyz10.1", -1},
		{"xyz.4", "8", -1},
		{"xyz.4", "2", -1},
		{"5.5p2", "5.6p1", -1},
		{"5.6p1", "6.5p1", -1},
		{"6.0.rc1", "6.0", 1},
		{"10b2", "10a1", 1},
		{"10a2", "10b2", -1},
		{"1.0aa", "1.0aa", 0},
		{"1.0a", "1.0aa", -1},
		{"10.0001", "10.1", 0},
		{"10.0001", "10.0039", -1},
		{"4.999.9", "5.0", -1},
		{"20101121", "20101122", -1},
		{"2_0", "2_0", 0},
		{"2.0", "2_0", 0},
		{"a", "a", 0},
		{"a+", "a+", 0},
		{"a+", "a_", 0},
		{"+a", "_a", 0},
		{"+_", "_+", 0},
		{"1.0~rc1", "1.0~rc1", 0},
		{"1.0~rc1", "1.0", -1},
		{"1.0~rc1", "1.0~rc2", -1},
		{"1.0~rc1~git123", "1.0~rc1", -1},
		{"1.0^", "1.0^", 0},
		{"1.0^", "1.0", 1},
		{"1.0^git1", "1.0", 1},
		{"1.0^git1", "1.0^git2", -1},
		{"1.0^git1", "1.01", -1},
		{"1.0^20160101", "1.0.1", -1},
		{"1.0^20160102", "1.0^20160101^git1", 1},
		{"1.0~rc1^git1", "1.0~rc1", 1},
		{"1.0^git1~pre", "1.0^git1", -1},
		// EVR.
		{"1:1.0-1", "2.0-1", 1},
		{"0:1.0-1", "1.0-1", 0},
		{"1.0-1", "1.0", 0},
		{"1.0-1.el9", "1.0-2.el9", -1},
		{"3.2.5-2.el9_2.1", "3.2.5-2.el9_2", 1},
		{":1.0", "0:1.0", 0},
		{"99999999999999999999:1", "2:1", 1},
		{"openssh-8.7p1", "openssh-8.7p1", 0},
	}
	for _, tt := range tests {
		if got := CompareRPMVersion(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareRPMVersion(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := CompareRPMVersion(tt.b, tt.a); got != -tt.want {
			t.Errorf("CompareRPMVersion(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}
