package scap

import (
	"fmt"
	"strings"
	"time"

	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/scap/oval"
	"github.com/plumbhq/plumb/scap/xccdf"
)

// PolicyRun turns rule results into a Plumb policy run: one result per
// rule with its CID, criticality, SCAP result, references by mandate and
// the OVAL items that decided it as the evidence.
func (s *Source) PolicyRun(sel *xccdf.Selection, rrs []RuleResult, opts Options) result.PolicyRun {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	maxEv := opts.MaxEvidence
	if maxEv <= 0 {
		maxEv = 12
	}
	id := sel.ProfileID
	title := s.Benchmark.Title
	if sel.Profile != nil {
		title = sel.Profile.Title
	}
	if id == "" {
		id = s.Benchmark.ID
	}
	pr := result.PolicyRun{ID: id, Version: s.Benchmark.Version, Title: title}
	t := now()
	for _, rr := range rrs {
		r := rr.Rule.Rule
		res := result.Result{
			CID:         rr.Rule.CID,
			Rule:        r.ID,
			Title:       r.Title,
			Category:    category(r),
			Criticality: rr.Rule.Criticality,
			Status:      Status(rr.Result),
			SCAPResult:  rr.Result,
			Method:      opts.Method,
			Time:        t,
			References:  xccdf.ReferencesByMandate(r.References),
		}
		if len(r.FixTexts) > 0 {
			res.Remediation = r.FixTexts[0].Text
		}
		if d := rr.Definition; d != nil {
			res.Expected = expected(d)
			res.Actual = evidence(d, maxEv)
		}
		if res.Status == result.Error {
			res.Reason, res.Message = reason(rr)
			if rr.Reason != "" {
				res.Reason = rr.Reason
			}
		} else if rr.Result != XPass && rr.Result != XFail {
			res.Message = rr.Message
		}
		pr.Results = append(pr.Results, res)
	}
	pr.Summary = result.Summarize(pr.Results)
	return pr
}

// category is the title of the rule's nearest group.
func category(r *xccdf.Rule) string {
	if r.Parent != nil {
		return r.Parent.Title
	}
	return ""
}

// expected states what the definition wants: its title, and the id so a
// user can find it in the content.
func expected(d *oval.DefResult) string {
	if d.Title == "" {
		return "OVAL " + d.ID + " true"
	}
	return d.Title + " (OVAL " + d.ID + " true)"
}

// evidence lists the decisive tests with the items they looked at.
func evidence(d *oval.DefResult, limit int) []string {
	var out []string
	tests := d.Decisive()
	if len(tests) == 0 {
		tests = d.Tests
	}
	for _, t := range tests {
		if len(out) >= limit {
			break
		}
		head := t.Comment
		if head == "" {
			head = t.ID
		}
		line := fmt.Sprintf("%s: %s", head, t.Result)
		if t.Flag != "" && t.Flag != oval.FlagComplete {
			line += " (object " + string(t.Flag) + ")"
		}
		if t.Message != "" {
			line += ": " + t.Message
		}
		if len(t.Items) == 0 && t.Flag == oval.FlagDoesNotExist {
			line += ": no items"
		}
		out = append(out, line)
		for i, it := range t.Items {
			if len(out) >= limit {
				out = append(out, fmt.Sprintf("  ... %d more items", len(t.Items)-i+t.Truncated))
				break
			}
			mark := ""
			if i < len(t.ItemResults) {
				mark = " [" + string(t.ItemResults[i]) + "]"
			}
			out = append(out, "  "+itemText(it)+mark)
		}
		if t.Truncated > 0 && len(out) < limit {
			out = append(out, fmt.Sprintf("  ... %d more items", t.Truncated))
		}
	}
	return out
}

// itemText renders an item compactly: its identifying entities first.
func itemText(it oval.Item) string {
	var b strings.Builder
	if it.Status != "" && it.Status != oval.StatusExists {
		b.WriteString(string(it.Status) + " ")
	}
	for i, e := range it.Entities {
		if i > 0 {
			b.WriteString(" ")
		}
		v := e.Value
		if len(v) > 200 {
			v = v[:200] + "..."
		}
		fmt.Fprintf(&b, "%s=%q", e.Name, v)
		if b.Len() > 400 {
			b.WriteString(" ...")
			break
		}
	}
	if it.Message != "" {
		b.WriteString(" (" + it.Message + ")")
	}
	return b.String()
}

// reason classifies an Error result for users and for --fail-on.
func reason(rr RuleResult) (string, string) {
	msg := rr.Message
	if d := rr.Definition; d != nil && msg == "" {
		for _, t := range d.Tests {
			if t.Result == oval.Error || t.Result == oval.Unknown {
				msg = t.ID + ": " + t.Message
				break
			}
		}
	}
	if rr.Result == XUnknown && msg == "" {
		msg = "the OVAL check could not decide (unknown)"
	}
	low := strings.ToLower(msg)
	switch {
	case strings.Contains(low, "unsupported oval"):
		return result.ReasonUnsupportedCheck, msg
	case strings.Contains(low, "not collectable"):
		return result.ReasonNotCollectable, msg
	case strings.Contains(low, "permission denied"):
		return result.ReasonPermissionDenied, msg
	case strings.Contains(low, "timed out") || strings.Contains(low, "deadline"):
		return result.ReasonTimeout, msg
	case strings.HasPrefix(low, "platform applicability"):
		return result.ReasonInvalidCheck, msg
	}
	return result.ReasonCollectionFailed, msg
}
