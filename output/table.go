package output

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/target"
)

// tableWriter renders the human table: per host a header line, per policy
// one row per result and a summary. Every string that comes from the host
// or from content is escaped (escapeLine) before it is measured, so
// columns line up and nothing the host wrote can drive the terminal.
type tableWriter struct{}

const defaultWidth = 120

// ANSI styles, used only with Options.Color.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
)

// Column layout of the results table.
const (
	indent      = "  "
	colGap      = "  "
	minFlexCol  = 8   // a title, expected or actual column is never narrower (unless its text is)
	emptyMarker = "-" // an empty expected or actual value
)

// flexWeights share the width left by CID, criticality and status between
// title, expected and actual; the evidence gets the largest share.
var flexWeights = []int{3, 2, 4}

type tableOut struct {
	buf   *bytes.Buffer
	color bool
	width int
}

func (tableWriter) write(buf *bytes.Buffer, r *result.Report, opts Options) error {
	t := &tableOut{buf: buf, color: opts.Color, width: opts.Width}
	if t.width <= 0 {
		t.width = defaultWidth
	}
	if len(r.Hosts) == 0 {
		t.line("No hosts were scanned.")
		return nil
	}
	for i := range r.Hosts {
		if i > 0 {
			t.line("")
		}
		t.host(&r.Hosts[i])
	}
	return nil
}

func (t *tableOut) line(s string) {
	t.buf.WriteString(strings.TrimRight(s, " "))
	t.buf.WriteByte('\n')
}

// paint wraps s in style when colours are on.
func (t *tableOut) paint(style, s string) string {
	if !t.color || style == "" || s == "" {
		return s
	}
	return style + s + ansiReset
}

func statusStyle(s result.Status) string {
	switch s {
	case result.Pass:
		return ansiGreen
	case result.Fail:
		return ansiRed
	case result.Error:
		return ansiYellow
	case result.NA, result.NotChecked:
		return ansiDim
	}
	return ""
}

// describeFacts is "Debian GNU/Linux 12 (bookworm) [debian-12], live system".
func describeFacts(f target.Facts) string {
	name := f.Name
	if name == "" {
		name = strings.TrimSpace(f.Distro + " " + f.Version)
	}
	if name == "" {
		name = f.Family
	}
	if name == "" {
		name = "unknown OS"
	}
	tech := f.Technology
	if tech == "" {
		tech = "technology not recognised"
	}
	mode := "root directory"
	if f.Live {
		mode = "live system"
	}
	return escapeLine(name) + " [" + escapeLine(tech) + "], " + mode
}

func (t *tableOut) host(h *result.Host) {
	head := "Host " + escapeLine(h.Target)
	if h.Facts != (target.Facts{}) {
		head += ": " + describeFacts(h.Facts)
	}
	t.line(t.paint(ansiBold, head))
	if h.Error != "" {
		reason := h.Reason
		if reason == "" {
			reason = "error"
		}
		t.line(indent + t.paint(ansiBold+ansiRed, "HOST ERROR ("+escapeLine(reason)+")") + ": " + escapeLine(h.Error))
	}
	if st := h.Stats; st != (result.Stats{}) {
		t.line(indent + t.paint(ansiDim, fmt.Sprintf("%d objects collected, %d files read, %d entries walked, %d commands run in %.1fs",
			st.Objects, st.FilesRead, st.EntriesWalked, st.Commands, st.Seconds)))
	}
	if len(h.Policies) == 0 {
		if h.Error == "" {
			t.line(indent + "No policies were evaluated.")
		}
		return
	}
	for i := range h.Policies {
		t.line("")
		t.policy(&h.Policies[i])
	}
}

// cell is one table cell: its (escaped) text and its style.
type cell struct {
	text  string
	style string
	right bool
}

func (t *tableOut) policy(pr *result.PolicyRun) {
	title := escapeLine(pr.Title)
	if title == "" {
		title = escapeLine(pr.ID)
	}
	t.line(indent + t.paint(ansiBold, "Policy: "+title) + " (" + escapeLine(pr.ID) + " " + escapeLine(pr.Version) + ")")
	if len(pr.Results) == 0 {
		t.line(indent + "No controls.")
	} else {
		t.results(pr.Results)
	}
	t.line("")
	t.summary(summaryOf(pr))
}

// actualCell is the evidence joined by "; " and, for an Error, the reason
// and message first.
func actualCell(r *result.Result) string {
	ev := escapeLine(strings.Join(r.Actual, "; "))
	if r.Status != result.Error {
		if ev == "" {
			return emptyMarker
		}
		return ev
	}
	parts := []string{}
	for _, s := range []string{r.Reason, r.Message} {
		if s != "" {
			parts = append(parts, escapeLine(s))
		}
	}
	if ev != "" {
		parts = append(parts, "evidence: "+ev)
	}
	if len(parts) == 0 {
		return emptyMarker
	}
	return strings.Join(parts, ": ")
}

func orEmpty(s string) string {
	if s == "" {
		return emptyMarker
	}
	return s
}

func (t *tableOut) results(rs []result.Result) {
	header := []cell{{text: "CID", right: true}, {text: "CRITICALITY"}, {text: "STATUS"}, {text: "TITLE"}, {text: "EXPECTED"}, {text: "ACTUAL"}}
	const nFixed = 3 // CID, criticality, status never shrink
	rows := make([][]cell, 0, len(rs))
	for i := range rs {
		r := &rs[i]
		rows = append(rows, []cell{
			{text: strconv.Itoa(r.CID), right: true},
			{text: escapeLine(r.Criticality.String())},
			{text: escapeLine(r.Status.Label()), style: statusStyle(r.Status)},
			{text: escapeLine(r.Title)},
			{text: orEmpty(escapeLine(r.Expected))},
			{text: actualCell(r)},
		})
	}
	natural := make([]int, len(header))
	for _, row := range append([][]cell{header}, rows...) {
		for i, c := range row {
			natural[i] = max(natural[i], textWidth(c.text))
		}
	}
	avail := t.width - len(indent) - len(colGap)*(len(header)-1)
	for _, w := range natural[:nFixed] {
		avail -= w
	}
	widths := slices.Clone(natural)
	copy(widths[nFixed:], fit(natural[nFixed:], flexWeights, avail, minFlexCol))

	for i := range header {
		header[i].style = ansiBold
	}
	t.row(header, widths)
	for _, row := range rows {
		t.row(row, widths)
	}
}

func (t *tableOut) row(cells []cell, widths []int) {
	var b strings.Builder
	b.WriteString(indent)
	for i, c := range cells {
		if i > 0 {
			b.WriteString(colGap)
		}
		text := truncate(c.text, widths[i])
		fill := strings.Repeat(" ", max(0, widths[i]-textWidth(text)))
		if c.right {
			b.WriteString(fill + t.paint(c.style, text))
		} else {
			b.WriteString(t.paint(c.style, text) + fill)
		}
	}
	t.line(b.String())
}

// fit shares avail cells between columns of the given natural widths in
// proportion to weight: columns that need less than their share keep
// their natural width and the others split what is left. No column is
// made narrower than min(natural, minW), even if the line then exceeds
// avail.
func fit(natural, weight []int, avail, minW int) []int {
	out := slices.Clone(natural)
	total := 0
	for _, w := range natural {
		total += w
	}
	if total <= avail {
		return out
	}
	left := make([]int, 0, len(natural))
	for i := range natural {
		left = append(left, i)
	}
	remaining := avail
	for len(left) > 0 {
		wsum := 0
		for _, i := range left {
			wsum += weight[i]
		}
		var still []int
		for _, i := range left {
			switch floor := min(natural[i], minW); {
			case natural[i]*wsum <= remaining*weight[i]:
				out[i] = natural[i] // fits in its share
			case floor*wsum > remaining*weight[i]:
				out[i] = floor // its share is below the minimum
			default:
				still = append(still, i)
				continue
			}
			remaining -= out[i]
		}
		if len(still) == len(left) {
			given := 0
			for _, i := range left {
				out[i] = remaining * weight[i] / wsum
				given += out[i]
			}
			out[left[len(left)-1]] += remaining - given // rounding goes to the last column
			break
		}
		left = still
	}
	return out
}

func (t *tableOut) summary(s result.Summary) {
	t.line(indent + fmt.Sprintf("Score %s  Weighted score %s  Coverage %s  (%d results, %d scored)",
		t.paint(ansiBold, fmt.Sprintf("%.1f%%", s.Score)), fmt.Sprintf("%.1f%%", s.Weighted), fmt.Sprintf("%.1f%%", s.Coverage), s.Total, s.Scored))
	var counts []string
	for _, st := range result.Statuses {
		n := s.Counts[st]
		label := st.Label() + " " + strconv.Itoa(n)
		if n > 0 {
			label = t.paint(statusStyle(st), label)
		}
		counts = append(counts, label)
	}
	t.line(indent + strings.Join(counts, "  "))
	if len(s.ByCriticality) == 0 {
		return
	}

	crits := make([]policy.Criticality, 0, len(s.ByCriticality))
	for c := range s.ByCriticality {
		crits = append(crits, c)
	}
	slices.SortFunc(crits, func(a, b policy.Criticality) int { return int(b) - int(a) })

	header := []cell{{text: "CRITICALITY"}}
	for _, st := range result.Statuses {
		header = append(header, cell{text: strings.ToUpper(st.Label()), right: true})
	}
	rows := [][]cell{}
	for _, c := range crits {
		row := []cell{{text: escapeLine(c.String())}}
		for _, st := range result.Statuses {
			n := s.ByCriticality[c][st]
			style := ""
			if n > 0 {
				style = statusStyle(st)
			}
			row = append(row, cell{text: strconv.Itoa(n), style: style, right: true})
		}
		rows = append(rows, row)
	}
	widths := make([]int, len(header))
	for _, row := range append([][]cell{header}, rows...) {
		for i, c := range row {
			widths[i] = max(widths[i], textWidth(c.text))
		}
	}
	t.line("")
	for i := range header {
		header[i].style = ansiBold
	}
	t.row(header, widths)
	for _, row := range rows {
		t.row(row, widths)
	}
}
