package scap

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/scap/oval"
	"github.com/plumbhq/plumb/scap/probe"
	"github.com/plumbhq/plumb/scap/xccdf"
	"github.com/plumbhq/plumb/target"
)

// Profile is SCAP content opened with one profile resolved: what a scan
// of SCAP content needs, whether the CLI runs it or a scanner worker.
// Opening resolves the profile before anything is scanned, so a typo in
// a profile id costs nothing.
type Profile struct {
	Source    *Source
	Selection *xccdf.Selection
	// Warnings are the resolver's remarks (a refine-value naming an
	// unknown value, ...), for the user.
	Warnings []string
}

// OpenProfile opens the content at path (Brief and Prefetch are set) and
// resolves profile, a full profile id or a unique suffix of one
// ("cis_level1_server"), xccdf.AllProfile, or "" (the tailoring's only
// profile, else the benchmark's defaults). tailoringFile may be empty.
func OpenProfile(path string, o OpenOptions, profile, tailoringFile string) (*Profile, error) {
	o.Brief, o.Prefetch = true, true
	src, err := Open(path, o)
	if err != nil {
		return nil, err
	}
	var tail *xccdf.Tailoring
	if tailoringFile != "" {
		f, err := os.Open(tailoringFile)
		if err != nil {
			src.Close()
			return nil, err
		}
		tail, err = xccdf.ParseTailoring(f)
		f.Close()
		if err != nil {
			src.Close()
			return nil, fmt.Errorf("tailoring %s: %w", tailoringFile, err)
		}
	}
	id, err := MatchProfile(src.Benchmark, tail, profile)
	if err != nil {
		src.Close()
		return nil, err
	}
	sel, err := src.Benchmark.Resolve(id, tail)
	if err != nil {
		src.Close()
		return nil, fmt.Errorf("%s: profile %q: %w", path, profile, err)
	}
	return &Profile{Source: src, Selection: sel, Warnings: sel.Warnings}, nil
}

// MatchProfile accepts a profile's full id or a unique suffix of it
// ("cis_level1_server" for xccdf_org.ssgproject.content_profile_cis_level1_server).
func MatchProfile(b *xccdf.Benchmark, t *xccdf.Tailoring, id string) (string, error) {
	if id == "" || id == xccdf.AllProfile {
		return id, nil
	}
	var ids []string
	for _, p := range b.Profiles {
		ids = append(ids, p.ID)
	}
	if t != nil {
		for _, p := range t.Profiles {
			ids = append(ids, p.ID)
		}
	}
	var match []string
	for _, p := range ids {
		if p == id {
			return id, nil
		}
		if strings.HasSuffix(p, "_"+id) || strings.HasSuffix(p, "profile_"+id) {
			match = append(match, p)
		}
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		return "", fmt.Errorf("profile %q: no such profile in %s; have: %s", id, b.ID, strings.Join(ids, ", "))
	}
	return "", fmt.Errorf("profile %q is ambiguous: %s", id, strings.Join(match, ", "))
}

// Rules is the number of rules the profile selects.
func (p *Profile) Rules() int { return len(p.Selection.Rules) }

// Scan evaluates the profile on t. The policy run is named by the
// profile; method is what results record as their collection method.
func (p *Profile) Scan(ctx context.Context, t target.Target, concurrency int, method string) (result.PolicyRun, probe.Stats, error) {
	pats := &oval.Patterns{}
	pr := probe.New(t, probe.Options{Patterns: pats})
	rrs, err := p.Source.Evaluate(ctx, p.Selection, pr, Options{Concurrency: concurrency, Patterns: pats})
	if err != nil {
		return result.PolicyRun{}, pr.Stats(), err
	}
	return p.Source.PolicyRun(p.Selection, rrs, Options{Method: method}), pr.Stats(), nil
}

// Unscanned is the policy run of a host that could not be scanned: every
// selected rule Error with the host's reason.
func (p *Profile) Unscanned(reason, msg string) result.PolicyRun {
	return p.Source.PolicyRun(p.Selection, Unscanned(p.Selection, reason, msg), Options{})
}

// Close releases the content.
func (p *Profile) Close() error { return p.Source.Close() }

// Locate finds the data stream named name (a base name such as
// ssg-debian11-ds.xml) among the *-ds.xml files of dirs. Servers and
// scanner workers name content this way, so each machine finds its own
// installed copy and nothing outside the content directories is read.
func Locate(name string, dirs []string) (string, error) {
	if name == "" || strings.ContainsAny(name, `/\`) {
		return "", fmt.Errorf("data stream %q: give a file name such as ssg-debian11-ds.xml, found in %s", name, strings.Join(dirs, ", "))
	}
	files, err := xccdf.FindIn(dirs...)
	if err != nil {
		return "", err
	}
	for _, f := range files {
		if filepath.Base(f) == name {
			return f, nil
		}
	}
	return "", fmt.Errorf("data stream %s is not installed in %s (apt-get install ssg-debian ssg-debderived ssg-nondebian)", name, strings.Join(dirs, ", "))
}

// FileSHA256 is the hex SHA-256 of a file: the identity of a content
// version, so a worker scans exactly what the policy was imported from.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
