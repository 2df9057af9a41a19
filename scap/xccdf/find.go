package xccdf

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/plumbhq/plumb/scap/ds"
)

// ContentDirs returns the directories where distributions install SCAP
// Security Guide data streams: Debian and Ubuntu's ssg-* packages and
// Red Hat's scap-security-guide use the first; the others are used by
// some other packagings and by upstream's "make install".
func ContentDirs() []string {
	return []string{
		"/usr/share/xml/scap/ssg/content",
		"/usr/share/scap-security-guide",
		"/usr/share/scap-security-guide/content",
	}
}

// Find lists the source data streams (*-ds.xml) installed in
// ContentDirs, sorted, each once even when directories are linked.
// Directories that do not exist are skipped; no data stream at all is not
// an error (the list is empty).
func Find() ([]string, error) { return FindIn(ContentDirs()...) }

// FindIn lists the *-ds.xml files of dirs, sorted and without duplicates.
func FindIn(dirs ...string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), "-ds.xml") {
				continue
			}
			p := filepath.Join(dir, e.Name())
			st, err := os.Stat(p)
			if err != nil || !st.Mode().IsRegular() {
				continue
			}
			real, err := filepath.EvalSymlinks(p)
			if err != nil {
				real = p
			}
			if seen[real] {
				continue
			}
			seen[real] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out, nil
}

// ContentInfo describes an installed data stream for "plumb content
// list".
type ContentInfo struct {
	Path string
	// Product is the SSG product the file name gives ("debian11" for
	// ssg-debian11-ds.xml), or the file name without extension.
	Product     string
	BenchmarkID string
	Title       string
	Version     string
	Profiles    int
	Rules       int
}

// Describe opens the data stream at path and counts the profiles and
// rules of its first benchmark, without resolving anything: a quick
// look for listings.
func Describe(path string) (*ContentInfo, error) {
	c, err := ds.Open(path)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	lists := c.Checklists()
	if len(lists) == 0 {
		return nil, fmt.Errorf("%s: no XCCDF benchmark in the file", path)
	}
	d, err := c.ComponentDecoder(lists[0].Component.ID)
	if err != nil {
		return nil, err
	}
	info := &ContentInfo{Path: path, Product: product(path), BenchmarkID: lists[0].Component.RootID}
	root, err := d.Root()
	if err != nil {
		return nil, err
	}
	if err := checkRoot(d, root, "Benchmark"); err != nil {
		return nil, err
	}
	p := &parser{d: d}
	var items func(xml.StartElement) error
	items = func(t xml.StartElement) error {
		switch t.Name.Local {
		case "Group":
			return p.children(items, nil)
		case "Rule":
			info.Rules++
		}
		return d.Skip()
	}
	err = p.children(func(t xml.StartElement) error {
		switch t.Name.Local {
		case "title":
			return p.firstText(&info.Title, modePlain)
		case "version":
			return p.firstText(&info.Version, modePlain)
		case "Profile":
			info.Profiles++
			return d.Skip()
		case "Group", "Rule":
			return items(t)
		}
		return d.Skip()
	}, nil)
	if err != nil {
		return nil, err
	}
	return info, nil
}

// product derives the SSG product name from a data stream's file name.
func product(path string) string {
	base := filepath.Base(path)
	base = strings.TrimSuffix(base, ".xml")
	base = strings.TrimSuffix(base, "-ds")
	return strings.TrimPrefix(base, "ssg-")
}
