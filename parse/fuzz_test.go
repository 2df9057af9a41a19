package parse

import (
	"bytes"
	"strings"
	"testing"
)

// lineCount is the number of physical lines a parser may number.
func lineCount(data []byte) int { return bytes.Count(data, []byte("\n")) + 1 }

func FuzzSSHD(f *testing.F) {
	f.Add([]byte(debianSSHD), []byte("PermitRootLogin no\nMatch all\nX11Forwarding no\n"))
	f.Add([]byte("Include x\nMatch User a\nInclude y\n"), []byte("Include z\nMatch all\nPort 1\n"))
	f.Add([]byte("Port=\"22\nA=\"b c\" 'd e' f\\ g # x\n"), []byte(""))
	f.Fuzz(func(t *testing.T, main, inc []byte) {
		served := false
		include := func(pattern string) ([]File, error) {
			if served {
				return nil, nil
			}
			served = true
			return []File{{Name: pattern, Data: inc}}, nil
		}
		c, _ := SSHD("/etc/ssh/sshd_config", main, include)
		if c == nil {
			t.Fatal("nil config")
		}
		for _, k := range []string{"PermitRootLogin", "Port", "AllowUsers", "Match", "Include", ""} {
			c.Get(k)
		}
		for _, s := range c.Settings() {
			if s.Keyword == "" || s.Keyword != strings.ToLower(s.Keyword) {
				t.Fatalf("bad keyword %q", s.Keyword)
			}
			if v, _, ok := c.Get(s.Keyword); ok && len(v) > 2*(len(main)+len(inc))+16 {
				t.Fatalf("value longer than input")
			}
		}
		// Include results are cached per pattern (as sshd does), so the one
		// served file may be read many times; the budget still holds.
		if len(c.Files()) > sshdMaxFiles {
			t.Fatalf("read %d files", len(c.Files()))
		}
	})
}

func FuzzKeyValue(f *testing.F) {
	f.Add([]byte(pwqualityConf))
	f.Add([]byte("a=b\n b = c # d\n\t#x\nkey"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := lineCount(data)
		for _, s := range KeyValue(data) {
			if s.Key == "" || strings.ContainsAny(s.Key, "= \t") || s.Line < 1 || s.Line > n {
				t.Fatalf("bad setting %+v", s)
			}
		}
	})
}

func FuzzLoginDefs(f *testing.F) {
	f.Add([]byte(loginDefs))
	f.Add([]byte("A \"b\"c\nB\t  \" x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := lineCount(data)
		for _, s := range LoginDefs(data) {
			if s.Key == "" || strings.ContainsAny(s.Key, " \t") || strings.Contains(s.Value, "\"") || s.Line < 1 || s.Line > n {
				t.Fatalf("bad setting %+v", s)
			}
		}
	})
}

func FuzzSysctl(f *testing.F) {
	f.Add([]byte(sysctlConf))
	f.Add([]byte("-a/b.c/d = 1\n..a..=2\n/=3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := lineCount(data)
		for _, s := range Sysctl(data) {
			if s.Key == "" || s.Line < 1 || s.Line > n || strings.Contains(s.Key, "..") || strings.HasPrefix(s.Key, ".") || strings.HasSuffix(s.Key, ".") {
				t.Fatalf("bad setting %+v", s)
			}
		}
	})
}

func FuzzPAM(f *testing.F) {
	f.Add([]byte(debianCommonPassword))
	f.Add([]byte(rhelSystemAuth))
	f.Add([]byte("@include common-auth\n-auth [a\\]b c] x.so [d e\\\n f] # g\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := lineCount(data)
		last := 0
		for _, l := range PAM(data) {
			if l.Line < 1 || l.Line > n || l.Line <= last {
				t.Fatalf("bad line number %d after %d", l.Line, last)
			}
			last = l.Line
			l.Arg("minlen")
			l.Arg("")
			if l.Include != "" && (l.Type != "" || l.Control != "" || l.Module != "" || l.Args != nil) {
				t.Fatalf("include with rule fields %+v", l)
			}
		}
	})
}

func FuzzModprobeConf(f *testing.F) {
	f.Add([]byte(cisModprobe))
	f.Add([]byte("alias a-[b-c] d-e\\\nf\ninstall x\\"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := lineCount(data)
		for _, m := range ModprobeConf(data) {
			switch m.Cmd {
			case "install", "remove", "blacklist", "options", "alias", "softdep", "weakdep":
			default:
				t.Fatalf("bad command %q", m.Cmd)
			}
			if m.Module == "" || m.Line < 1 || m.Line > n {
				t.Fatalf("bad entry %+v", m)
			}
			if !strings.Contains(m.Module, "[") && strings.Contains(m.Module, "-") {
				t.Fatalf("module not normalised: %q", m.Module)
			}
		}
	})
}

func FuzzDpkgStatus(f *testing.F) {
	f.Add([]byte(dpkgStatus))
	f.Add([]byte("Package: a\nStatus: install ok installed\n \nVersion: 1\n\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, _ := DpkgStatus(data)
		for name, p := range pkgs {
			if name == "" || name != p.Name || len(strings.Fields(p.Status)) != 3 {
				t.Fatalf("bad package %q %+v", name, p)
			}
			p.Installed()
		}
	})
}

func checkCompare(t *testing.T, name string, cmp func(a, b string) int, a, b string) {
	ab, ba := cmp(a, b), cmp(b, a)
	if ab < -1 || ab > 1 {
		t.Fatalf("%s(%q, %q) = %d", name, a, b, ab)
	}
	if ab != -ba {
		t.Fatalf("%s not antisymmetric: (%q, %q) = %d, reversed %d", name, a, b, ab, ba)
	}
	if cmp(a, a) != 0 || cmp(b, b) != 0 {
		t.Fatalf("%s not reflexive on %q or %q", name, a, b)
	}
}

func FuzzCompareDebVersion(f *testing.F) {
	for _, p := range [][2]string{{"1.0~rc1", "1.0"}, {"1:0.1", "2.0"}, {"1.0-1", "1.0-1+b1"}, {"1.0~~a", "1.0~"}, {"a:1-2-3", "0:1-2"}, {"", "~"}} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		checkCompare(t, "CompareDebVersion", CompareDebVersion, a, b)
	})
}

func FuzzCompareRPMVersion(f *testing.F) {
	for _, p := range [][2]string{{"1.0^git1", "1.01"}, {"1.0~rc1^git1", "1.0~rc1"}, {"xyz.4", "8"}, {"1:1.0-1", "2.0-1"}, {"10.0001", "10.1"}, {"+_", "_+"}} {
		f.Add(p[0], p[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		checkCompare(t, "CompareRPMVersion", CompareRPMVersion, a, b)
	})
}

func FuzzPasswd(f *testing.F) {
	f.Add([]byte(passwdFile))
	f.Fuzz(func(t *testing.T, data []byte) {
		users, _ := Passwd(data)
		for _, u := range users {
			if u.Name == "" || strings.Contains(u.Name, ":") || u.UID < 0 || u.GID < 0 || u.UID > 1<<32-1 {
				t.Fatalf("bad user %+v", u)
			}
		}
	})
}

func FuzzShadowFile(f *testing.F) {
	f.Add([]byte(shadowFile))
	f.Fuzz(func(t *testing.T, data []byte) {
		sh, _ := ShadowFile(data)
		for _, s := range sh {
			if s.Name == "" || strings.Contains(s.Name, ":") {
				t.Fatalf("bad entry %+v", s)
			}
			s.Usable()
		}
	})
}

func FuzzGroupFile(f *testing.F) {
	f.Add([]byte(groupFile))
	f.Fuzz(func(t *testing.T, data []byte) {
		gs, _ := GroupFile(data)
		for _, g := range gs {
			if g.Name == "" || g.GID < 0 {
				t.Fatalf("bad group %+v", g)
			}
			for _, m := range g.Members {
				if m == "" || strings.Contains(m, ",") {
					t.Fatalf("bad member %q", m)
				}
			}
		}
	})
}

func FuzzMounts(f *testing.F) {
	f.Add([]byte(fstab))
	f.Add([]byte("a\\040b c\\134 d\\\\ e,\\054f\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, _ := Mounts(data)
		n := lineCount(data)
		for _, m := range ms {
			if m.Line < 1 || m.Line > n {
				t.Fatalf("bad line %+v", m)
			}
			for _, o := range m.Options {
				if o == "" || !m.HasOption(o) {
					t.Fatalf("bad option %q", o)
				}
			}
		}
	})
}

func FuzzUnit(f *testing.F) {
	f.Add([]byte(sshService))
	f.Add([]byte("[S]\nA=x\\\\\\\n;c\nB\\\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n := lineCount(data)
		for _, e := range Unit(data) {
			if e.Key == "" || strings.Contains(e.Key, "=") || e.Line < 1 || e.Line > n {
				t.Fatalf("bad entry %+v", e)
			}
		}
	})
}
