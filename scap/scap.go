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
	"io"
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

	mu          sync.Mutex
	ovals       map[string]*ovalDoc // by component id
	dicts       []*dictionary
	dictsLoaded bool
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

// Open opens the SCAP source at path. streamID and benchmarkID choose a
// data stream and a checklist when the file holds several ("" takes the
// first).
func Open(path, streamID, benchmarkID string) (*Source, error) {
	coll, err := ds.Open(path)
	if err != nil {
		return nil, err
	}
	s := &Source{Path: path, Coll: coll, ovals: map[string]*ovalDoc{}}
	if err := s.pick(streamID, benchmarkID); err != nil {
		coll.Close()
		return nil, err
	}
	return s, nil
}

func (s *Source) pick(streamID, benchmarkID string) error {
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
	b, err := xccdf.ParseComponent(s.Coll, s.Checklist.Component.ID)
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

// resolve finds the component an href of the benchmark (or of the
// dictionary ref from) designates.
func (s *Source) resolve(from, href string) (string, error) {
	return s.Coll.Resolve(s.streamID(), from, href)
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
		var r io.Reader
		r, d.err = s.Coll.Component(componentID)
		if d.err != nil {
			return
		}
		d.defs, d.err = oval.Parse(r)
		if d.err != nil {
			d.err = fmt.Errorf("%s: OVAL component %s: %w", s.Path, componentID, d.err)
		}
	})
	return d.defs, d.err
}

// dictionaries returns the CPE dictionaries of the data stream.
func (s *Source) dictionaries() ([]*dictionary, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dictsLoaded {
		return s.dicts, nil
	}
	s.dictsLoaded = true
	if s.Stream == nil {
		return nil, nil
	}
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
		s.dicts = append(s.dicts, &dictionary{ref: ref, dict: d})
	}
	return s.dicts, nil
}

// errNoOVAL marks a rule whose checks are all in other languages.
var errNoOVAL = errors.New("no OVAL check")
