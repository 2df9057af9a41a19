package output

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	"github.com/plumbhq/plumb/result"
)

// junitWriter renders JUnit XML for CI systems: one <testsuite> per host
// and policy run, one <testcase> per control (classname "host/policy-id",
// name "CID title"). Statuses map to JUnit states as follows:
//
//	Pass        -> a testcase with no child (passed)
//	Fail        -> <failure message="expected ...; actual ..." type="criticality">
//	Error       -> <error message="..." type="reason"> (never a failure)
//	N/A         -> <skipped message="N/A: ...">
//	Not checked -> <skipped message="Not checked: ...">
//
// A host that could not be scanned and has no policy runs gets a suite
// named after the host with one testcase "host" in error, so the CI build
// shows it. Counts (tests, failures, errors, skipped) are per suite and
// summed on <testsuites>. Controls are evaluated from one shared
// collection, so testcases have time 0; a suite's time is its host's scan
// time and <testsuites> time is the whole scan (Finished - Started).
// Texts are escaped like the table, keeping newlines in element bodies.
type junitWriter struct{}

type junitSuites struct {
	XMLName   xml.Name     `xml:"testsuites"`
	Name      string       `xml:"name,attr"`
	Tests     int          `xml:"tests,attr"`
	Failures  int          `xml:"failures,attr"`
	Errors    int          `xml:"errors,attr"`
	Skipped   int          `xml:"skipped,attr"`
	Time      string       `xml:"time,attr"`
	Timestamp string       `xml:"timestamp,attr,omitempty"`
	Suites    []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Hostname   string          `xml:"hostname,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Classname string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitProblem `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr,omitempty"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",cdata"`
}

// junitTimestamp is the JUnit timestamp format (ISO 8601 without a zone);
// Plumb writes UTC.
const junitTimestamp = "2006-01-02T15:04:05"

func seconds(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }

func (junitWriter) write(buf *bytes.Buffer, r *result.Report, _ Options) error {
	doc := junitSuites{Name: "plumb"}
	if !r.Started.IsZero() {
		doc.Timestamp = r.Started.UTC().Format(junitTimestamp)
	}
	hostSeconds := 0.0
	for i := range r.Hosts {
		h := &r.Hosts[i]
		hostSeconds += h.Stats.Seconds
		if h.Error != "" && len(h.Policies) == 0 {
			doc.Suites = append(doc.Suites, junitHostError(h, doc.Timestamp))
			continue
		}
		for j := range h.Policies {
			doc.Suites = append(doc.Suites, junitSuiteOf(h, &h.Policies[j], doc.Timestamp))
		}
	}
	for _, s := range doc.Suites {
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
	}
	if !r.Started.IsZero() && !r.Finished.IsZero() {
		doc.Time = seconds(r.Finished.Sub(r.Started).Seconds())
	} else {
		doc.Time = seconds(hostSeconds)
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	buf.WriteString(xml.Header)
	buf.Write(out)
	buf.WriteByte('\n')
	return nil
}

func junitHostname(h *result.Host) string {
	if h.Facts.Hostname != "" {
		return escapeLine(h.Facts.Hostname)
	}
	return escapeLine(h.Target)
}

func junitHostError(h *result.Host, ts string) junitSuite {
	reason := h.Reason
	if reason == "" {
		reason = string(result.Error)
	}
	name := escapeLine(h.Target)
	return junitSuite{
		Name: name, Tests: 1, Errors: 1, Time: seconds(h.Stats.Seconds), Timestamp: ts, Hostname: junitHostname(h),
		Properties: []junitProperty{{"host", name}, {"host.error", escapeLine(h.Error)}, {"host.reason", escapeLine(reason)}},
		Cases: []junitCase{{
			Classname: name, Name: "host", Time: seconds(0),
			Error: &junitProblem{
				Message: escapeLine(h.Error),
				Type:    escapeLine(reason),
				Text:    escapeText(fmt.Sprintf("Host %s could not be scanned (%s): %s", h.Target, reason, h.Error)),
			},
		}},
	}
}

func junitSuiteOf(h *result.Host, pr *result.PolicyRun, ts string) junitSuite {
	name := escapeLine(policyRef(h, pr))
	s := junitSuite{Name: name, Time: seconds(h.Stats.Seconds), Timestamp: ts, Hostname: junitHostname(h)}
	sum := summaryOf(pr)
	s.Properties = []junitProperty{
		{"host", escapeLine(h.Target)},
		{"technology", escapeLine(h.Facts.Technology)},
		{"live", strconv.FormatBool(h.Facts.Live)},
		{"policy.id", escapeLine(pr.ID)},
		{"policy.version", escapeLine(pr.Version)},
		{"policy.title", escapeLine(pr.Title)},
		{"score", strconv.FormatFloat(sum.Score, 'f', 1, 64)},
		{"weighted_score", strconv.FormatFloat(sum.Weighted, 'f', 1, 64)},
		{"coverage", strconv.FormatFloat(sum.Coverage, 'f', 1, 64)},
	}
	if h.Error != "" {
		s.Properties = append(s.Properties, junitProperty{"host.error", escapeLine(h.Error)}, junitProperty{"host.reason", escapeLine(h.Reason)})
	}
	s.Cases = []junitCase{}
	for i := range pr.Results {
		res := &pr.Results[i]
		c := junitCase{Classname: name, Name: escapeLine(strconv.Itoa(res.CID) + " " + res.Title), Time: seconds(0)}
		s.Tests++
		switch res.Status {
		case result.Pass:
		case result.Fail:
			s.Failures++
			c.Failure = &junitProblem{
				Message: escapeLine("expected " + orEmpty(res.Expected) + "; actual " + orEmpty(strings.Join(res.Actual, "; "))),
				Type:    escapeLine(res.Criticality.String()),
				Text:    junitDetail(res),
			}
		case result.Error:
			s.Errors++
			msg := res.Message
			if msg == "" {
				msg = res.Reason
			}
			c.Error = &junitProblem{Message: escapeLine(msg), Type: escapeLine(res.Reason), Text: junitDetail(res)}
		case result.NA, result.NotChecked:
			s.Skipped++
			msg := res.Message
			if msg == "" {
				msg = res.Expected
			}
			c.Skipped = &junitProblem{Message: escapeLine(res.Status.Label() + ": " + msg)}
		default:
			// An unknown status is not a pass: report it as an error.
			s.Errors++
			c.Error = &junitProblem{Message: escapeLine("unknown status " + string(res.Status)), Type: escapeLine(string(res.Status)), Text: junitDetail(res)}
		}
		s.Cases = append(s.Cases, c)
	}
	return s
}

// junitDetail is the body of a failure or error: the evidence in full.
func junitDetail(r *result.Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Status: %s\n", r.Status.Label())
	if r.Reason != "" {
		fmt.Fprintf(&b, "Reason: %s\n", r.Reason)
	}
	if r.Message != "" {
		fmt.Fprintf(&b, "Message: %s\n", r.Message)
	}
	fmt.Fprintf(&b, "Criticality: %s\n", r.Criticality)
	if r.Category != "" {
		fmt.Fprintf(&b, "Category: %s\n", r.Category)
	}
	fmt.Fprintf(&b, "Expected: %s\n", orEmpty(r.Expected))
	if len(r.Actual) == 0 {
		fmt.Fprintf(&b, "Actual: %s\n", emptyMarker)
	} else {
		b.WriteString("Actual:\n")
		for _, a := range r.Actual {
			// One evidence line per line: newlines inside evidence are escaped.
			fmt.Fprintf(&b, "  %s\n", escapeLine(a))
		}
	}
	if refs := referencesString(r.References); refs != "" {
		fmt.Fprintf(&b, "References: %s\n", refs)
	}
	if r.Remediation != "" {
		fmt.Fprintf(&b, "Remediation: %s\n", r.Remediation)
	}
	return escapeText(b.String())
}
