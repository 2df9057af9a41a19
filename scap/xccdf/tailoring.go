package xccdf

import (
	"encoding/xml"
	"io"

	"github.com/plumbhq/plumb/scap/ds"
)

// ParseTailoring parses an XCCDF 1.2 Tailoring document, as SCAP Workbench
// and autotailor write them: profiles that extend a benchmark's profiles
// with their own select, set-value, refine-value and refine-rule
// selectors. Pass the result to Benchmark.Resolve.
func ParseTailoring(r io.Reader) (*Tailoring, error) {
	return DecodeTailoring(ds.NewDecoder(r, ""))
}

// DecodeTailoring parses the Tailoring document d reads.
func DecodeTailoring(d *ds.Decoder) (*Tailoring, error) {
	root, err := d.Root()
	if err != nil {
		return nil, err
	}
	if err := checkRoot(d, root, "Tailoring"); err != nil {
		return nil, err
	}
	t := &Tailoring{ID: attr(root, "id")}
	p := &parser{d: d, b: &Benchmark{values: map[string]*Value{}}}
	seen := map[string]bool{}
	err = p.children(func(c xml.StartElement) error {
		switch c.Name.Local {
		case "benchmark":
			t.BenchmarkHref, t.BenchmarkID = attr(c, "href"), attr(c, "id")
			return d.Skip()
		case "version":
			t.VersionTime = attr(c, "time")
			s, err := rawText(d)
			t.Version = s
			return err
		case "Profile":
			pr, err := p.profile(c)
			if err != nil {
				return err
			}
			if seen[pr.ID] {
				return d.Errorf("duplicate Profile id %q in the tailoring", pr.ID)
			}
			seen[pr.ID] = true
			b := p.b
			pr.Title, pr.Description = b.expandSubs(pr.Title), b.expandSubs(pr.Description)
			t.Profiles = append(t.Profiles, pr)
			return nil
		}
		return d.Skip()
	}, nil)
	if err != nil {
		return nil, err
	}
	if err := d.Drain(); err != nil {
		return nil, err
	}
	return t, nil
}
