// Package scap runs SCAP content (source data streams of XCCDF 1.2 and
// OVAL 5.11, such as the SCAP Security Guide's) on a target and returns
// Plumb results: each XCCDF rule becomes a control with a stable CID, its
// OVAL definition is evaluated by scap/oval with the probes of scap/probe,
// and the OVAL items that decided it are its evidence.
//
// The pieces are split as the standards are: scap/ds finds the components
// of a data stream, scap/xccdf resolves a profile into rules and values,
// scap/cpe answers platform applicability, scap/oval evaluates checks.
// This package joins them and maps SCAP's results onto Plumb's statuses.
package scap

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/plumbhq/plumb/scap/cpe"
	"github.com/plumbhq/plumb/scap/ds"
	"github.com/plumbhq/plumb/scap/oval"
	"github.com/plumbhq/plumb/scap/xccdf"
)

// OVALSystem is the check system URI of OVAL 5 checks.
const OVALSystem = "http://oval.mitre.org/XMLSchema/oval-definitions-5"

// Source is an opened SCAP source: a data stream collection, or a
// stand-alone XCCDF benchmark, with the benchmark of one checklist parsed.
// OVAL and CPE components are parsed on first use and kept. Close it when
// done.
type Source struct {
	Path      string
	Coll      *ds.Collection
	Stream    *ds.DataStream // nil for a stand-alone benchmark
	Checklist ds.Checklist
	Benchmark *xccdf.Benchmark

	mu    sync.Mutex
	ovals map[string]*ovalDoc // by component id

	dictOnce sync.Once
	dicts    []*dictionary
	dictErr  error
}

type ovalDoc struct {
	once sync.Once
	defs *oval.Definitions
	err  error
}

type dictionary struct {
	ref  *ds.ComponentRef
	dict *cpe.Dictionary
}

// OpenOptions choose what Open reads.
type OpenOptions struct {
	// DataStream and Benchmark choose a data stream and a checklist when
	// the file holds several ("" takes the first).
	DataStream string
	Benchmark  string
	// Prefetch parses the data stream's OVAL components and CPE
	// dictionaries in the background while the benchmark is parsed, for
	// a caller about to scan; listing profiles does not need them.
	Prefetch bool
	// Brief parses the benchmark without the prose a scan does not
	// report (xccdf.Options.Brief): descriptions, rationales, warnings
	// and fix scripts stay empty.
	Brief bool
}

// Open opens the SCAP source at path.
func Open(path string, o OpenOptions) (*Source, error) {
	coll, err := ds.Open(path)
	if err != nil {
		return nil, err
	}
	s := &Source{Path: path, Coll: coll, ovals: map[string]*ovalDoc{}}
	if err := s.pick(o); err != nil {
		coll.Close()
		return nil, err
	}
	return s, nil
}

// prefetch parses the stream's OVAL components and dictionaries on other
// goroutines; ovalDefs and dictionaries wait for them as needed.
func (s *Source) prefetch() {
	if s.Stream == nil {
		return
	}
	for _, ref := range s.Stream.Checks {
		if c, ok := s.Coll.Get(ref.ComponentID()); ok && c.Kind == ds.KindOVAL {
			go s.ovalDefs(c.ID) //nolint:errcheck // kept for the caller
		}
	}
	go s.dictionaries() //nolint:errcheck // kept for the caller
}

func (s *Source) pick(o OpenOptions) error {
	streamID, benchmarkID := o.DataStream, o.Benchmark
	var found bool
	for _, cl := range s.Coll.Checklists() {
		if streamID != "" && cl.DataStream.ID != streamID {
			continue
		}
		if benchmarkID != "" && cl.Component.RootID != benchmarkID && cl.Ref.ID != benchmarkID {
			continue
		}
		s.Checklist, s.Stream, found = cl, cl.DataStream, true
		break
	}
	if !found && s.Coll.Standalone && len(s.Coll.Components) == 1 && s.Coll.Components[0].Kind == ds.KindXCCDF {
		s.Checklist = ds.Checklist{Component: s.Coll.Components[0]}
		found = true
	}
	if !found {
		switch {
		case streamID != "" || benchmarkID != "":
			return fmt.Errorf("%s: no XCCDF benchmark for data stream %q / benchmark %q", s.Path, streamID, benchmarkID)
		default:
			return fmt.Errorf("%s: no XCCDF benchmark in this file (an OVAL or CPE file alone cannot be scanned by profile)", s.Path)
		}
	}
	if o.Prefetch {
		s.prefetch()
	}
	b, err := xccdf.ParseComponentWith(s.Coll, s.Checklist.Component.ID, xccdf.Options{Brief: o.Brief})
	if err != nil {
		return err
	}
	s.Benchmark = b
	return nil
}

// Close releases the file.
func (s *Source) Close() error { return s.Coll.Close() }

func (s *Source) streamID() string {
	if s.Stream == nil {
		return ""
	}
	return s.Stream.ID
}

// benchRef is the id of the benchmark's component-ref, whose catalog
// resolves its check hrefs ("" for a stand-alone benchmark).
func (s *Source) benchRef() string {
	if s.Checklist.Ref == nil {
		return ""
	}
	return s.Checklist.Ref.ID
}

// filePrefix marks a key of Source.ovals that is the path of a separate
// OVAL file rather than a component id.
const filePrefix = "file:"

// resolve finds the component an href of the benchmark (or of the
// dictionary ref from) designates. A stand-alone benchmark's check href
// names an OVAL file beside it (as oscap accepts); remote content is
// never fetched.
func (s *Source) resolve(from, href string) (string, error) {
	id, err := s.Coll.Resolve(s.streamID(), from, href)
	var ext *ds.ExternalRefError
	if errors.As(err, &ext) && !ext.Remote {
		return filePrefix + ext.Target, nil
	}
	return id, err
}

// ovalDefs returns the parsed OVAL document of a component.
func (s *Source) ovalDefs(componentID string) (*oval.Definitions, error) {
	s.mu.Lock()
	d := s.ovals[componentID]
	if d == nil {
		d = &ovalDoc{}
		s.ovals[componentID] = d
	}
	s.mu.Unlock()
	d.once.Do(func() {
		if path, ok := strings.CutPrefix(componentID, filePrefix); ok {
			d.defs, d.err = parseOVALFile(path)
			return
		}
		dec, err := s.Coll.ComponentDecoder(componentID)
		if err != nil {
			d.err = err
			return
		}
		d.defs, d.err = oval.Decode(dec)
		if d.err != nil {
			d.err = fmt.Errorf("%s: OVAL component %s: %w", s.Path, componentID, d.err)
			return
		}
		// While prefetching, this runs as the benchmark parses.
		d.defs.Index()
	})
	return d.defs, d.err
}

// parseOVALFile parses a stand-alone oval_definitions file.
func parseOVALFile(path string) (*oval.Definitions, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	defs, err := oval.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return defs, nil
}

// dictionaries returns the CPE dictionaries of the data stream, parsed
// once.
func (s *Source) dictionaries() ([]*dictionary, error) {
	s.dictOnce.Do(func() { s.dicts, s.dictErr = s.loadDictionaries() })
	return s.dicts, s.dictErr
}

func (s *Source) loadDictionaries() ([]*dictionary, error) {
	if s.Stream == nil {
		return nil, nil
	}
	var out []*dictionary
	for _, ref := range s.Stream.Dictionaries {
		id := ref.ComponentID()
		comp, ok := s.Coll.Get(id)
		if !ok || comp.Kind != ds.KindCPEDictionary {
			continue
		}
		dec, err := s.Coll.ComponentDecoder(id)
		if err != nil {
			return nil, err
		}
		d, err := cpe.DecodeDictionary(dec)
		if err != nil {
			return nil, fmt.Errorf("%s: CPE dictionary %s: %w", s.Path, id, err)
		}
		out = append(out, &dictionary{ref: ref, dict: d})
	}
	return out, nil
}

// errNoOVAL marks a rule whose checks are all in other languages.
var errNoOVAL = errors.New("no OVAL check")
