// Package report writes Plumb's audit reports as PDF: a policy report
// (cover, summary, every control with its evidence and exception) and a
// trend report (score over time as vector charts). Rows are streamed in;
// signing is pdfsign's job.
package report

import (
	"fmt"
	"io"
	"iter"
	"strconv"
	"time"

	"github.com/plumbhq/plumb/result"
)

// Cover is what the first page says about the report.
type Cover struct {
	Title         string    // e.g. "Policy report"
	Scope         string    // e.g. "group web (12 assets)" or "all assets"
	Policy        string    // policy id
	PolicyTitle   string    // the policy's title
	PolicyVersion int       // version stored by the server
	Generated     time.Time // when the report was made
	GeneratedBy   string    // who asked for it (token name)
	Server        string    // which server made it (optional)
}

// Exception is the exception that turns a row's Fail into Fail (excepted).
type Exception struct {
	ID            int64
	Type          string
	Owner         string
	Justification string
	Expires       time.Time
}

// Row is one control's result on one asset.
type Row struct {
	Asset string // hostname or name of the asset
	result.Result
	Excepted *Exception
}

// Policy writes a policy report to w: the cover, the summary sum, then
// every row in the order rows yields them (callers sort by asset, then
// control). It stops at the first error rows yields.
//
// The report is A4: a portrait cover with the score, weighted score and
// coverage of sum and how they are computed, a portrait summary page
// (counts per status, a bar chart of them, counts per criticality and
// status), then the control table on landscape pages, one section per
// asset, the column titles repeated on every page and no row split
// across pages. Every page has a header line (title and scope) and
// "Page N of M" in its footer, and the document an outline (cover,
// summary, each asset). The metadata (title, author, subject, creation
// date = c.Generated; a zero Generated is written as 1970-01-01, never
// the current time) is set so that the same input gives the same bytes,
// which are a plain PDF with a classic cross-reference table, as pdfsign
// expects.
//
// Text from rows is untrusted: it is printed in Windows-1252 (the PDF
// core fonts'), with characters it cannot print shown as a substitute,
// and every cell is capped (about 12 lines, 1,500 characters) with a
// note of how much was left out, so that no host can fill pages with one
// value. Rows are consumed one at a time; what Policy holds grows only
// with the PDF itself. Nothing is written to w before the document is
// complete: an error (from rows, or making the PDF) leaves w untouched.
func Policy(w io.Writer, c Cover, sum result.Summary, rows iter.Seq2[Row, error]) error {
	const kind = "Policy report"
	subject := kind
	if c.Policy != "" {
		subject += ": " + c.Policy
	}
	if c.Scope != "" {
		subject += " (" + c.Scope + ")"
	}
	right := ""
	if c.Policy != "" {
		right = "Policy " + c.Policy
		if c.PolicyVersion != 0 {
			right += " v" + strconv.Itoa(c.PolicyVersion)
		}
	}
	d := newDoc(c, kind, subject, right, a4W) // ends with landscape pages
	d.scores(d.cover(c, kind), sum)
	d.summary(sum)
	t := newControls(d)
	if rows == nil {
		rows = func(func(Row, error) bool) {}
	}
	for r, err := range rows {
		if err != nil {
			return fmt.Errorf("report: reading results (after %d rows): %w", t.rows, err)
		}
		t.row(&r)
		if d.pdf.Err() {
			break // output says why
		}
	}
	t.end()
	return d.output(w)
}

// Series is one line of a trend chart.
type Series struct {
	Name   string // e.g. "group web" or "policy cis-debian12-l1"
	Points []Point
}

// Point is the score of one period.
type Point struct {
	Period   time.Time
	Score    float64
	Weighted float64
	Coverage float64
	Excepted int
}

// Trend writes a trend report to w: the cover, then per series a chart of
// score (and weighted score) over time and a table of the points.
//
// granularity is day (also ""), week, month or quarter, as the store's
// trends are: it sets how periods are labelled (2026-11-30, 2026-W48,
// 2026-11, 2026-Q4); any other value is an error. Each series gets a
// page: a line chart (0 to 100 %, score solid, weighted score dashed)
// and a table of its points; values that are not numbers are left out
// of the chart and shown as a dash. Like Policy, Trend writes nothing to
// w unless it succeeds, and the same input gives the same bytes.
func Trend(w io.Writer, c Cover, granularity string, series []Series) error {
	label, err := periodLabel(granularity)
	if err != nil {
		return err
	}
	if granularity == "" {
		granularity = Day
	}
	const kind = "Trend report"
	subject := kind
	if c.Scope != "" {
		subject += " (" + c.Scope + ")"
	}
	d := newDoc(c, kind, subject, "By "+granularity, a4H)
	d.trendCover(d.cover(c, kind), granularity, series, label)
	for i := range series {
		d.series(&series[i], label)
	}
	return d.output(w)
}
