package ds

import (
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// repeatReaderAt is a document made of a head, a unit repeated n times and
// a tail, generated on the fly: a 100 MB data stream without the disk.
type repeatReaderAt struct {
	head, unit, tail string
	n                int64
}

func (r *repeatReaderAt) Size() int64 {
	return int64(len(r.head)) + r.n*int64(len(r.unit)) + int64(len(r.tail))
}

func (r *repeatReaderAt) ReadAt(p []byte, off int64) (int, error) {
	size := r.Size()
	if off >= size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && off < size {
		var src string
		var at int64
		body := r.n * int64(len(r.unit))
		switch {
		case off < int64(len(r.head)):
			src, at = r.head, off
		case off < int64(len(r.head))+body:
			src, at = r.unit, (off-int64(len(r.head)))%int64(len(r.unit))
		default:
			src, at = r.tail, off-int64(len(r.head))-body
		}
		c := copy(p[n:], src[at:])
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// TestOpenMemoryBounded indexes a 100 MB collection and checks that the
// heap never holds more than a small fraction of it.
func TestOpenMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes 100 MB")
	}
	unit := `<def id="oval:x:def:1" class="compliance"><metadata><title>A definition with some text &amp; an entity</title>` +
		`<description>` + strings.Repeat("lorem ipsum ", 20) + `</description></metadata><criteria operator="AND">` +
		`<criterion test_ref="oval:x:tst:1"/></criteria></def>` + "\n"
	r := &repeatReaderAt{
		head: `<?xml version="1.0"?><ds:data-stream-collection xmlns:ds="http://scap.nist.gov/schema/scap/source/1.2" id="c">` +
			`<ds:component id="big"><oval_definitions xmlns="http://oval.mitre.org/XMLSchema/oval-definitions-5"><definitions>`,
		unit: unit,
		n:    100e6 / int64(len(unit)),
		tail: `</definitions></oval_definitions></ds:component></ds:data-stream-collection>`,
	}
	runtime.GC()
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak {
				peak = m.HeapInuse
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	c, err := Read(r, r.Size(), "big.xml")
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	comp := c.Components[0]
	first, last := make([]byte, 17), make([]byte, 19)
	r.ReadAt(first, comp.Offset)
	r.ReadAt(last, comp.Offset+comp.Size-19)
	if len(c.Components) != 1 || string(first) != "<oval_definitions" || string(last) != "</oval_definitions>" {
		t.Errorf("component %+v: %q ... %q", comp, first, last)
	}
	t.Logf("%.0f MB indexed, peak heap in use %.1f MB", float64(r.Size())/1e6, float64(peak)/1e6)
	if peak > 64<<20 {
		t.Errorf("peak heap %d MB for a %d MB file", peak>>20, r.Size()>>20)
	}
}
