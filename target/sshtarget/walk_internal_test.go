package sshtarget

import (
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plumbhq/plumb/target"
)

// TestWalkCompare: sorting full paths with walkCompare gives the order of
// a depth-first walk listing each directory sorted by name.
func TestWalkCompare(t *testing.T) {
	paths := []string{"/r", "/r/dir-x", "/r/dir", "/r/dir/sub", "/r/dir/sub/deep", "/r/dir/x", "/r/a b", "/r/a", "/r/a/z", "/r/Z", "/r/\xff", "/r/dir.d"}
	want := []string{"/r", "/r/Z", "/r/a", "/r/a/z", "/r/a b", "/r/dir", "/r/dir/sub", "/r/dir/sub/deep", "/r/dir/x", "/r/dir-x", "/r/dir.d", "/r/\xff"}
	rand.Shuffle(len(paths), func(i, j int) { paths[i], paths[j] = paths[j], paths[i] })
	slices.SortFunc(paths, walkCompare)
	if !slices.Equal(paths, want) {
		t.Errorf("got  %q\nwant %q", paths, want)
	}
	// Against a walk of a random tree.
	type node struct {
		name string
		kids []*node
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{' ', '-', '.', '/', '0', 'a', 'b', 0x7f, 0xff}
	var build func(depth int) []*node
	build = func(depth int) []*node {
		var kids []*node
		seen := map[string]bool{}
		for range r.IntN(4) {
			var b []byte
			for range 1 + r.IntN(3) {
				if c := alphabet[r.IntN(len(alphabet))]; c != '/' {
					b = append(b, c)
				}
			}
			if len(b) == 0 || seen[string(b)] {
				continue
			}
			seen[string(b)] = true
			n := &node{name: string(b)}
			if depth < 3 {
				n.kids = build(depth + 1)
			}
			kids = append(kids, n)
		}
		slices.SortFunc(kids, func(a, b *node) int { return strings.Compare(a.name, b.name) })
		return kids
	}
	for range 50 {
		var walked []string
		var walk func(p string, kids []*node)
		walk = func(p string, kids []*node) {
			walked = append(walked, p)
			for _, k := range kids {
				walk(p+"/"+k.name, k.kids)
			}
		}
		walk("/root", build(0))
		sorted := slices.Clone(walked)
		rand.Shuffle(len(sorted), func(i, j int) { sorted[i], sorted[j] = sorted[j], sorted[i] })
		slices.SortFunc(sorted, walkCompare)
		if !slices.Equal(sorted, walked) {
			t.Fatalf("sorted %q\nwalked %q", sorted, walked)
		}
	}
}

func TestParseFindTime(t *testing.T) {
	cases := []struct {
		in   string
		want time.Time
		bad  bool
	}{
		{in: "1700000000.1234567890", want: time.Unix(1700000000, 123456789)},
		{in: "1700000000.5", want: time.Unix(1700000000, 500000000)},
		{in: "1700000000", want: time.Unix(1700000000, 0)},
		{in: "1700000000,25", want: time.Unix(1700000000, 250000000)},
		{in: "-1.5", want: time.Unix(-1, -500000000)},
		{in: "0.0000000000", want: time.Unix(0, 0)},
		{in: "", bad: true},
		{in: ".5", bad: true},
		{in: "12a.5", bad: true},
		{in: "12.5x", bad: true},
		{in: "12.1234567891x", bad: true},
		{in: "99999999999999999999", bad: true},
	}
	for _, c := range cases {
		got, err := parseFindTime(c.in)
		if c.bad != (err != nil) || !c.bad && !got.Equal(c.want) {
			t.Errorf("parseFindTime(%q) = %v, %v", c.in, got, err)
		}
	}
}

func TestParseFindError(t *testing.T) {
	cases := []struct {
		in, path, msg string
		ok            bool
	}{
		{`'/tmp/locked': Permission denied`, "/tmp/locked", "Permission denied", true},
		{`'/tmp/we\'ird\ndir': Permission denied`, "/tmp/we'ird\ndir", "Permission denied", true},
		{`'/a\\b\tc\303\251': No such file or directory`, "/a\\b\tc\xc3\xa9", "No such file or directory", true},
		{`'/x': a: b`, "/x", "a: b", true},
		{`'relative': Permission denied`, "", "", false},
		{`'/unterminated: x`, "", "", false},
		{`/unquoted: x`, "", "", false},
		{`'/x' no colon`, "", "", false},
		{`'/x\`, "", "", false},
		{`'/x\777': y`, "", "", false},
	}
	for _, c := range cases {
		p, msg, ok := parseFindError(c.in)
		if ok != c.ok || p != c.path || msg != c.msg {
			t.Errorf("parseFindError(%q) = %q, %q, %v", c.in, p, msg, ok)
		}
	}
}

// record builds one find record as findFormat prints it.
func record(flag, typ, mode, uid, gid, size, mtime, dev, link, p string) string {
	return strings.Join([]string{flag, typ, mode, uid, gid, size, mtime, dev, link, p}, "\x00") + "\x00"
}

func TestRecReader(t *testing.T) {
	long := "/" + strings.Repeat("x", 300)
	stream := record("-", "d", "755", "0", "0", "4096", "1700000000.5", "2049", "", "/r") +
		record("-", "f", "4755", "1", "2", "10", "1700000001.0", "2049", "", "/r/suid\nname") +
		record("E", "d", "0", "0", "0", "4096", "1", "2049", "", "/r/locked") +
		record("-", "l", "777", "0", "0", "3", "1", "2049", "a\x01b", "/r/link") +
		record("P", "d", "555", "0", "0", "0", "1", "4", "", "/r/proc") +
		record("-", "f", "644", "0", "0", "1", "1", "1", "", long) + // too long: skipped
		record("-", "f", "99999", "0", "0", "1", "1", "1", "", "/r/badmode") + // bad: skipped, reported by path
		record("?", "f", "644", "0", "0", "1", "1", "1", "", "/r/badflag") +
		record("-", "f", "644", "0", "0", "1", "1", "1", "", "/r/../escape") +
		record("-", "c", "620", "0", "5", "0", "1", "5", "", "/r/tty") +
		"-\x00f\x00644" // truncated
	rr := newRecReader(strings.NewReader(stream), 256)
	var got []findRec
	var bad []string
	for {
		rec, perr, err := rr.next()
		if err != nil {
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("end: %v, want io.ErrUnexpectedEOF", err)
			}
			break
		}
		if perr != nil {
			bad = append(bad, perr.path("/r"))
			continue
		}
		got = append(got, rec)
	}
	var paths []string
	for _, r := range got {
		paths = append(paths, string(r.flag)+" "+r.fi.Path)
	}
	want := []string{"- /r", "- /r/suid\nname", "E /r/locked", "- /r/link", "P /r/proc", "- /r/tty"}
	if !slices.Equal(paths, want) {
		t.Errorf("records %q, want %q", paths, want)
	}
	if want := []string{"/r", "/r/badmode", "/r/badflag", "/r"}; !slices.Equal(bad, want) {
		t.Errorf("bad records reported at %q, want %q", bad, want)
	}
	if len(got) == len(want) {
		suid := got[1].fi
		if suid.Mode != fs.ModeSetuid|0o755 || suid.UID != 1 || suid.GID != 2 || suid.Size != 10 || suid.Dev != 2049 ||
			!suid.ModTime.Equal(time.Unix(1700000001, 0)) {
			t.Errorf("suid = %+v", suid)
		}
		if l := got[3].fi; l.Mode != fs.ModeSymlink|0o777 || l.Link != "a\x01b" {
			t.Errorf("link = %+v", l)
		}
		if d := got[0].fi; d.Mode != fs.ModeDir|0o755 || !d.ModTime.Equal(time.Unix(1700000000, 5e8)) {
			t.Errorf("dir = %+v", d)
		}
		if c := got[5].fi; c.Mode != fs.ModeDevice|fs.ModeCharDevice|0o620 {
			t.Errorf("tty = %+v", c)
		}
	}
}

func TestFindArgs(t *testing.T) {
	args := findArgs([]string{"/a", "/b c"}, map[string]bool{"/a/x*[y]?": true, `/a/back\slash`: true}, true)
	s := strings.Join(args, " ")
	for _, want := range []string{
		"find -P /a /b c ( -path /a/back\\\\slash -o -path /a/x\\*\\[y\\]\\? ) -prune -o",
		"-fstype proc -o",
		"-prune -printf P\\0%y",
		"-type d ! ( -readable -executable ) -prune -printf E\\0",
		"-o -printf -\\0%y\\0%m\\0%U\\0%G\\0%s\\0%T@\\0%D\\0%l\\0%p\\0",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("find args %q lack %q", s, want)
		}
	}
	if strings.Contains(strings.Join(findArgs([]string{"/"}, nil, false), " "), "-fstype") {
		t.Error("-fstype without LocalOnly")
	}
	for _, ft := range target.LocalOnlySkipFSTypes() {
		if !slices.Contains(args, ft) {
			t.Errorf("LocalOnly does not prune %s", ft)
		}
	}
}

func TestNormRoots(t *testing.T) {
	got, err := target.WalkRoots([]string{"/b/", "/a/x", "/a", "/a-b", "/b/c"})
	if want := []string{"/a", "/a-b", "/b"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("normRoots = %q, %v; want %q", got, err, want)
	}
	if _, err := target.WalkRoots([]string{"rel"}); err == nil {
		t.Error("relative root accepted")
	}
	if got, _ := target.WalkRoots(nil); !slices.Equal(got, []string{"/"}) {
		t.Errorf("default root %q", got)
	}
	if dirPrefix("/") != "/" || dirPrefix("/a") != "/a/" || path.Dir("/a") != "/" {
		t.Error("dirPrefix")
	}
}

func FuzzRecReader(f *testing.F) {
	f.Add([]byte(record("-", "d", "755", "0", "0", "4096", "1700000000.5", "2049", "", "/r")), 64)
	f.Add([]byte("\x00\x00\x00"), 8)
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		if max < 16 || max > 4096 {
			return
		}
		rr := newRecReader(strings.NewReader(string(data)), max)
		for range len(data) + 1 {
			rec, perr, err := rr.next()
			if err != nil {
				return
			}
			if perr == nil && (!path.IsAbs(rec.fi.Path) || len(rec.fi.Path) > max) {
				t.Fatalf("accepted path %q", rec.fi.Path)
			}
		}
		t.Fatal("the reader did not end")
	})
}
