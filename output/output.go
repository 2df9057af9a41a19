// Package output renders a scan report (*result.Report) in the formats
// plumb scan offers: a human table, the versioned JSON document, CSV,
// JUnit XML and SARIF 2.1.0. docs/output-formats.md describes every format.
//
// Evidence is data read from the scanned host and is treated as hostile:
// the human formats (table, CSV) and the JUnit texts never contain control,
// escape or bidirectional-override characters from it (they are replaced by
// visible escapes such as \x1b or \u202e), and the JSON formats escape C1
// and invisible format characters as \uXXXX so that printing a report on a
// terminal cannot inject escape sequences.
package output

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/plumbhq/plumb/result"
)

// Options tune human output.
type Options struct {
	Color bool // ANSI colours (the CLI sets it when stdout is a TTY and NO_COLOR is unset)
	Width int  // terminal width for the table; 0 = 120
}

// Formats lists the accepted format names: table, json, csv, junit, sarif.
var Formats = []string{"table", "json", "csv", "junit", "sarif"}

// writer renders a whole report into buf.
type writer interface {
	write(buf *bytes.Buffer, r *result.Report, opts Options) error
}

var writers = map[string]writer{
	"table": tableWriter{},
	"json":  jsonWriter{},
	"csv":   csvWriter{},
	"junit": junitWriter{},
	"sarif": sarifWriter{},
}

// Write renders r in format to w. The document is rendered completely
// before anything is written, so a rendering error leaves w untouched.
func Write(w io.Writer, format string, r *result.Report, opts Options) error {
	wr, ok := writers[format]
	if !ok {
		return fmt.Errorf("unknown output format %q: want one of %s", format, strings.Join(Formats, ", "))
	}
	if r == nil {
		return errors.New("output: nil report")
	}
	var buf bytes.Buffer
	if err := wr.write(&buf, r, opts); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// summaryOf returns the run's summary, computing it when the run carries
// none (a report assembled by hand rather than by the engine).
func summaryOf(pr *result.PolicyRun) result.Summary {
	if pr.Summary.Counts == nil || pr.Summary.ByCriticality == nil {
		return result.Summarize(pr.Results)
	}
	return pr.Summary
}

// policyRef names a policy run in one line: "host/policy-id".
func policyRef(h *result.Host, pr *result.PolicyRun) string {
	return h.Target + "/" + pr.ID
}

// referencesString renders references as "mandate:id;mandate:id", mandates
// in name order, ids in the order given.
func referencesString(refs map[string][]string) string {
	var parts []string
	for _, m := range sortedKeys(refs) {
		for _, id := range refs[m] {
			parts = append(parts, m+":"+id)
		}
	}
	return strings.Join(parts, ";")
}
