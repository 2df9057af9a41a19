package output

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"time"

	"github.com/plumbhq/plumb/result"
)

// csvWriter renders one row per result under a header row. Cells are
// escaped like the table (escapeLine: no control characters, so one record
// is one line) and guarded against formula injection: a cell whose first
// character is = + - @ TAB or CR gets a leading single quote, so a
// spreadsheet shows it as text instead of evaluating it.
//
// A host that could not be scanned at all (Host.Error set and no policy
// runs) still gets one row: host and technology, status "error", its
// reason and error message, the other cells empty. A failed host is never
// silently missing from the file.
type csvWriter struct{}

var csvHeader = []string{
	"host", "technology", "policy_id", "policy_version", "cid", "title", "category",
	"criticality", "status", "expected", "actual", "reason", "message", "time", "references",
}

func (csvWriter) write(buf *bytes.Buffer, r *result.Report, _ Options) error {
	w := csv.NewWriter(buf)
	if err := w.Write(csvHeader); err != nil {
		return err
	}
	row := func(cells ...string) error {
		for i, c := range cells {
			cells[i] = csvCell(c)
		}
		return w.Write(cells)
	}
	for _, h := range r.Hosts {
		if h.Error != "" && len(h.Policies) == 0 {
			if err := row(h.Target, h.Facts.Technology, "", "", "", "", "", "", string(result.Error), "", "", h.Reason, h.Error, "", ""); err != nil {
				return err
			}
			continue
		}
		for _, pr := range h.Policies {
			for _, res := range pr.Results {
				at := ""
				if !res.Time.IsZero() {
					at = res.Time.Format(time.RFC3339)
				}
				err := row(h.Target, h.Facts.Technology, pr.ID, pr.Version, strconv.Itoa(res.CID), res.Title, res.Category,
					res.Criticality.String(), string(res.Status), res.Expected, strings.Join(res.Actual, " | "),
					res.Reason, res.Message, at, referencesString(res.References))
				if err != nil {
					return err
				}
			}
		}
	}
	w.Flush()
	return w.Error()
}

// csvCell escapes s and defuses spreadsheet formulas.
func csvCell(s string) string {
	if s == "" {
		return s
	}
	out := escapeLine(s)
	if strings.ContainsRune("=+-@\t\r", rune(s[0])) || strings.ContainsRune("=+-@", rune(out[0])) {
		out = "'" + out
	}
	return out
}
