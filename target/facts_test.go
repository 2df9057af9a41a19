package target

import (
	"maps"
	"strings"
	"testing"
)

func TestTechnology(t *testing.T) {
	tests := []struct {
		distro, version string
		idLike          []string
		want            string
	}{
		{"debian", "12", nil, "debian-12"},
		{"debian", "11", nil, "debian-11"},
		{"debian", "", nil, ""}, // testing / sid
		{"debian", "10", nil, ""},
		{"debian", "13", nil, ""},
		{"ubuntu", "22.04", []string{"debian"}, "ubuntu-22.04"},
		{"ubuntu", "24.04", []string{"debian"}, "ubuntu-24.04"},
		{"ubuntu", "20.04", []string{"debian"}, ""},
		{"ubuntu", "22.10", []string{"debian"}, ""},
		{"ubuntu", "22", nil, ""},
		{"linuxmint", "21.2", []string{"ubuntu", "debian"}, ""},
		{"rhel", "9.4", []string{"fedora"}, "rhel-9"},
		{"rhel", "9", nil, "rhel-9"},
		{"rhel", "8.9", nil, ""},
		{"rocky", "9.3", []string{"rhel", "centos", "fedora"}, "rhel-9"},
		{"almalinux", "9.4", []string{"rhel", "centos", "fedora"}, "rhel-9"},
		{"centos", "9", []string{"rhel", "fedora"}, "rhel-9"}, // CentOS Stream 9
		{"centos", "7", []string{"rhel", "fedora"}, ""},
		{"ol", "9.3", []string{"fedora"}, "rhel-9"},
		{"cloudlinux", "9.4", []string{"rhel", "fedora", "centos"}, "rhel-9"},
		{"fedora", "9", nil, ""},
		{"amzn", "2023", []string{"fedora"}, ""},
		{"amzn", "2", []string{"centos", "rhel", "fedora"}, ""},
		{"", "", nil, ""},
		{"arch", "", nil, ""},
	}
	for _, tt := range tests {
		if got := Technology(tt.distro, tt.version, tt.idLike); got != tt.want {
			t.Errorf("Technology(%q, %q, %q) = %q, want %q", tt.distro, tt.version, tt.idLike, got, tt.want)
		}
	}
}

func TestParseOSRelease(t *testing.T) {
	tests := []struct {
		name, in string
		want     map[string]string
	}{
		{"debian 12", `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
`, map[string]string{
			"PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)", "NAME": "Debian GNU/Linux", "VERSION_ID": "12",
			"VERSION": "12 (bookworm)", "VERSION_CODENAME": "bookworm", "ID": "debian", "HOME_URL": "https://www.debian.org/",
		}},
		{"comments and blank lines", "# a comment\n\n   # indented comment\nID=x\n; semicolon comment\n", map[string]string{"ID": "x"}},
		{"single quotes keep everything", `A='it''s "q" \n $x'`, map[string]string{"A": `its "q" \n $x`}},
		{"double quote escapes", `A="say \"hi\" \\ \$HOME \` + "`" + `x\` + "`" + ` \n"`, map[string]string{"A": `say "hi" \ $HOME ` + "`x`" + ` \n`}},
		{"unquoted escapes", `A=a\ b\"c`, map[string]string{"A": `a b"c`}},
		{"unquoted internal blanks kept, trailing trimmed", "A=foo bar  \t\n", map[string]string{"A": "foo bar"}},
		{"quoted trailing blanks kept", `A="x  "`, map[string]string{"A": "x  "}},
		{"concatenation", `A="a"'b'c`, map[string]string{"A": "abc"}},
		{"spaces around =", "  ID = rocky \n", map[string]string{"ID": "rocky"}},
		{"CRLF", "ID=\"rhel\"\r\nVERSION_ID=\"9.4\"\r\n", map[string]string{"ID": "rhel", "VERSION_ID": "9.4"}},
		{"empty value", "A=\nB=\"\"\n", map[string]string{"A": "", "B": ""}},
		{"later wins", "ID=a\nID=b\n", map[string]string{"ID": "b"}},
		{"unterminated quote ignores the line only", "A=\"open\nB=ok\nC='open\n", map[string]string{"B": "ok"}},
		{"invalid keys", "1A=x\nA-B=y\n=z\nnoequals\nGOOD_1=ok\n", map[string]string{"GOOD_1": "ok"}},
		{"equals in value", "A=b=c\n", map[string]string{"A": "b=c"}},
		{"hash inside a value", "A=x#y\nB=\"#z\"\n", map[string]string{"A": "x#y", "B": "#z"}},
		{"no trailing newline", "ID=alpine", map[string]string{"ID": "alpine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParseOSRelease([]byte(tt.in)); !maps.Equal(got, tt.want) {
				t.Errorf("ParseOSRelease(%q) =\n %q\nwant\n %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestOSReleaseFacts(t *testing.T) {
	f := OSReleaseFacts(ParseOSRelease([]byte(`NAME="Rocky Linux"
VERSION="9.3 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.3"
`)))
	want := Facts{Distro: "rocky", Version: "9.3", Name: "Rocky Linux 9.3 (Blue Onyx)", Technology: "rhel-9"}
	if f != want {
		t.Errorf("OSReleaseFacts = %+v, want %+v", f, want)
	}
	if f := OSReleaseFacts(map[string]string{}); f != (Facts{}) {
		t.Errorf("OSReleaseFacts(empty) = %+v", f)
	}
}

// quoteOSRelease writes v so that ParseOSRelease reads it back.
func quoteOSRelease(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`")
	return `"` + r.Replace(v) + `"`
}

func FuzzOSRelease(f *testing.F) {
	for _, s := range []string{
		"ID=debian\nVERSION_ID=\"12\"\n",
		"PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nID=ubuntu\nID_LIKE=debian\n",
		"A='x' B\nC=\"a\\\"b\"\n# c\n",
		"A=\"unterminated\n",
		"A=a\\ b\\\nB=\r\n",
		"  X = 'y'\"z\"w  \n;c\n=\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		kv := ParseOSRelease(data)
		for k, v := range kv {
			if !validKey(k) {
				t.Fatalf("invalid key %q", k)
			}
			if strings.Contains(v, "\n") {
				t.Fatalf("value of %s spans lines: %q", k, v)
			}
			// Whatever was parsed survives a round trip through quoting.
			line := k + "=" + quoteOSRelease(v) + "\n"
			if got := ParseOSRelease([]byte(line)); len(got) != 1 || got[k] != v {
				t.Fatalf("round trip of %s=%q via %q gave %q", k, v, line, got)
			}
		}
		// Technology never panics and is one of the known ids.
		switch tech := OSReleaseFacts(kv).Technology; tech {
		case "", "debian-11", "debian-12", "ubuntu-22.04", "ubuntu-24.04", "rhel-9":
		default:
			t.Fatalf("unknown technology %q", tech)
		}
	})
}
