package parse

import (
	"reflect"
	"strings"
	"testing"
)

const passwdFile = `root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
# a comment glibc skips

+@netadmins::::::
-baduser:x:::::
broken:x:1000:1000:only six fields:/home/broken
nouid:x::100::/home/nouid:/bin/sh
neg:x:-1:100::/:/bin/sh
big:x:4294967296:100::/:/bin/sh
:x:5:5::/:/bin/sh
alice:x:1001:1001:Alice,,,:/home/alice:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
extra:x:1:1:a:b:c:d
`

func TestPasswd(t *testing.T) {
	users, err := Passwd([]byte(passwdFile))
	want := []User{
		{Name: "root", Password: "x", UID: 0, GID: 0, Gecos: "root", Home: "/root", Shell: "/bin/bash", Line: 1},
		{Name: "daemon", Password: "x", UID: 1, GID: 1, Gecos: "daemon", Home: "/usr/sbin", Shell: "/usr/sbin/nologin", Line: 2},
		{Name: "alice", Password: "x", UID: 1001, GID: 1001, Gecos: "Alice,,,", Home: "/home/alice", Shell: "/bin/bash", Line: 12},
		{Name: "nobody", Password: "x", UID: 65534, GID: 65534, Gecos: "nobody", Home: "/nonexistent", Shell: "/usr/sbin/nologin", Line: 13},
	}
	if !reflect.DeepEqual(users, want) {
		t.Errorf("Passwd =\n%+v\nwant\n%+v", users, want)
	}
	if err == nil {
		t.Fatal("no error for malformed lines")
	}
	for _, l := range []string{"line 7:", "line 8:", "line 9:", "line 10:", "line 11:", "line 14:"} {
		if !strings.Contains(err.Error(), l) {
			t.Errorf("error does not mention %s: %v", l, err)
		}
	}
	if strings.Contains(err.Error(), "line 5:") || strings.Contains(err.Error(), "line 6:") {
		t.Errorf("NIS lines reported: %v", err)
	}
}

const shadowFile = `root:$y$j9T$abc$def:19700:0:99999:7:::
daemon:*:19700:0:99999:7:::
alice:!$6$salt$hash:19701:1:90:7:30:20000:
nopass::19700::::::
old:$1$x$y:10000:0:99999
eight:!!:19000:0:99999:7:::
bad:x:notanumber:0:99999:7:::
short:x:1:2
`

func TestShadowFile(t *testing.T) {
	sh, err := ShadowFile([]byte(shadowFile))
	if err == nil || !strings.Contains(err.Error(), "line 7:") || !strings.Contains(err.Error(), "line 8:") {
		t.Errorf("err = %v", err)
	}
	if len(sh) != 6 {
		t.Fatalf("%d entries: %+v", len(sh), sh)
	}
	p := func(n int) *int { return &n }
	a := sh[2]
	want := Shadow{Name: "alice", Hash: "!$6$salt$hash", LastChange: p(19701), Min: p(1), Max: p(90), Warn: p(7), Inactive: p(30), Expire: p(20000), Line: 3}
	if !reflect.DeepEqual(a, want) {
		t.Errorf("alice = %+v", a)
	}
	if sh[0].Inactive != nil || sh[0].Expire != nil || *sh[0].Max != 99999 {
		t.Errorf("root = %+v", sh[0])
	}
	if sh[3].LastChange == nil || sh[3].Min != nil || sh[3].Max != nil {
		t.Errorf("nopass = %+v", sh[3])
	}
	if sh[4].Name != "old" || sh[4].Warn != nil || *sh[4].Max != 99999 {
		t.Errorf("old = %+v", sh[4])
	}
	usable := map[string]bool{"root": true, "daemon": false, "alice": false, "nopass": false, "old": true, "eight": false}
	for _, s := range sh {
		if s.Usable() != usable[s.Name] {
			t.Errorf("%s Usable() = %v", s.Name, s.Usable())
		}
	}
}

const groupFile = `root:x:0:
sudo:x:27:alice,bob
adm:x:4:syslog, alice,,
bad:x:abc:
nomembersfield:x:5
wheel:x:10:
`

func TestGroupFile(t *testing.T) {
	gs, err := GroupFile([]byte(groupFile))
	want := []Group{
		{Name: "root", Password: "x", GID: 0, Line: 1},
		{Name: "sudo", Password: "x", GID: 27, Members: []string{"alice", "bob"}, Line: 2},
		{Name: "adm", Password: "x", GID: 4, Members: []string{"syslog", "alice"}, Line: 3},
		{Name: "wheel", Password: "x", GID: 10, Line: 6},
	}
	if !reflect.DeepEqual(gs, want) {
		t.Errorf("GroupFile =\n%+v\nwant\n%+v", gs, want)
	}
	if err == nil || !strings.Contains(err.Error(), "line 4:") || !strings.Contains(err.Error(), "line 5:") {
		t.Errorf("err = %v", err)
	}
}

func TestAccountErrorsBounded(t *testing.T) {
	_, err := Passwd([]byte(strings.Repeat("bad\n", 1000)))
	if err == nil || !strings.Contains(err.Error(), "950 more") {
		t.Errorf("err = %v", err)
	}
}
