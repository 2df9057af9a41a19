package xccdf

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/plumbhq/plumb/scap/ds"
)

// withoutProse blanks what Options.Brief leaves out of a full parse.
func withoutProse(b *Benchmark) {
	b.Description = ""
	for _, p := range b.Profiles {
		p.Description = ""
	}
	for _, g := range b.Groups {
		g.Description, g.Rationale, g.Warnings = "", "", nil
	}
	for _, v := range b.Values {
		v.Description = ""
	}
	for _, r := range b.Rules {
		r.Description, r.Rationale, r.Warnings, r.Fixes = "", "", nil, nil
	}
}

// checkBrief parses a benchmark fully and briefly: the brief parse must
// equal the full one without its prose.
func checkBrief(t *testing.T, full, brief func() (*Benchmark, error)) {
	t.Helper()
	fb, err := full()
	if err != nil {
		t.Fatal(err)
	}
	bb, err := brief()
	if err != nil {
		t.Fatal(err)
	}
	withoutProse(fb)
	if !reflect.DeepEqual(fb, bb) {
		t.Errorf("the brief parse differs from the full parse without prose")
	}
}

func TestBriefParse(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "benchmark.xml"))
	if err != nil {
		t.Fatal(err)
	}
	parse := func(o Options) func() (*Benchmark, error) {
		return func() (*Benchmark, error) {
			return DecodeWith(ds.NewDecoder(bytes.NewReader(data), "benchmark.xml"), o)
		}
	}
	checkBrief(t, parse(Options{}), parse(Options{Brief: true}))
	b, err := parse(Options{Brief: true})()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range b.Rules {
		if r.Description != "" || r.Rationale != "" || r.Fixes != nil || r.Warnings != nil {
			t.Errorf("rule %s keeps prose in a brief parse", r.ID)
		}
	}
}

// TestBriefParseSSG compares brief and full parses of SSG benchmarks.
func TestBriefParseSSG(t *testing.T) {
	for _, f := range ssgDataStreams(t) {
		// One stream of each family is enough: the others are built the
		// same way.
		switch filepath.Base(f) {
		case "ssg-debian11-ds.xml", "ssg-ubuntu2204-ds.xml", "ssg-rhel9-ds.xml":
		default:
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := ds.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for _, cl := range c.Checklists() {
				id := cl.Component.ID
				checkBrief(t,
					func() (*Benchmark, error) { return ParseComponent(c, id) },
					func() (*Benchmark, error) { return ParseComponentWith(c, id, Options{Brief: true}) })
			}
		})
	}
}
