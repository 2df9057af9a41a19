// Package result holds what a scan produces: one Result per (host, policy,
// control), grouped into reports, and the summary arithmetic (score,
// coverage, counts) that every output shares.
package result

import (
	"time"

	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/target"
)

// Status is the outcome of one control on one host. Pass, Fail and Error
// count in the score; NA and NotChecked are informational.
type Status string

const (
	Pass       Status = "pass"
	Fail       Status = "fail"
	Error      Status = "error"       // the data was never obtained; never a Fail
	NA         Status = "na"          // the control's applicability condition is false
	NotChecked Status = "not_checked" // manual control, no automated check
)

// Statuses in display order.
var Statuses = []Status{Pass, Fail, Error, NA, NotChecked}

// Label is the human spelling of a status.
func (s Status) Label() string {
	switch s {
	case Pass:
		return "Pass"
	case Fail:
		return "Fail"
	case Error:
		return "Error"
	case NA:
		return "N/A"
	case NotChecked:
		return "Not checked"
	}
	return string(s)
}

// Error reasons: why a control could not be evaluated.
const (
	ReasonUnsupportedTechnology = "unsupported_technology"
	ReasonCollectionFailed      = "collection_failed"
	ReasonPermissionDenied      = "permission_denied"
	ReasonTimeout               = "timeout"
	ReasonUnreachable           = "unreachable"
	ReasonAuthFailed            = "auth_failed"
	ReasonHostKeyMismatch       = "host_key_mismatch" // the host's key is unknown or changed: refused before authenticating
	ReasonPrivilege             = "privilege"         // sudo was refused; the data needs root
	ReasonNotCollectable        = "not_collectable"   // the target cannot provide this data (e.g. runtime state of a root directory)
	ReasonInvalidCheck          = "invalid_check"
	ReasonUnsupportedCheck      = "unsupported_check" // content needs a check type Plumb does not implement (an OVAL test type)
)

// Result is one control's outcome on one host under one policy.
type Result struct {
	CID int `json:"cid"`
	// Rule is the content's own id of the control (an XCCDF rule id) when
	// it came from SCAP content.
	Rule        string             `json:"rule,omitempty"`
	Title       string             `json:"title"`
	Category    string             `json:"category"`
	Criticality policy.Criticality `json:"criticality"`
	// Weight is the result's weight in the weighted score when its
	// policy sets weights (policy.Policy.Weights); 0: the criticality.
	Weight   int      `json:"weight,omitempty"`
	Status   Status   `json:"status"`
	Expected string   `json:"expected"`
	Actual   []string `json:"actual"`
	Reason   string   `json:"reason,omitempty"`
	Message  string   `json:"message,omitempty"`
	Method   string   `json:"method"`
	// SCAPResult keeps the XCCDF result value (pass, fail, error, unknown,
	// notapplicable, notchecked, informational) of SCAP content.
	SCAPResult  string              `json:"scap_result,omitempty"`
	Time        time.Time           `json:"time"`
	References  map[string][]string `json:"references,omitempty"`
	Remediation string              `json:"remediation,omitempty"`
}

// PolicyRun is the results of one policy on one host.
type PolicyRun struct {
	ID      string   `json:"id"`
	Version string   `json:"version"`
	Title   string   `json:"title"`
	Results []Result `json:"results"`
	Summary Summary  `json:"summary"`
}

// Stats describe the work a scan did, for benchmarks and for users who
// want to know why a scan was slow.
type Stats struct {
	Objects       int `json:"objects"`        // distinct objects collected
	FilesRead     int `json:"files_read"`     // file contents read
	EntriesWalked int `json:"entries_walked"` // file system entries visited by the shared walk
	Commands      int `json:"commands"`       // commands run on the target
	// For SSH targets: sessions opened on the connection and bytes
	// received and sent.
	SSHSessions int     `json:"ssh_sessions,omitempty"`
	BytesIn     int64   `json:"bytes_in,omitempty"`
	BytesOut    int64   `json:"bytes_out,omitempty"`
	Seconds     float64 `json:"seconds"` // wall time
}

// Host is everything one scan learned about one target.
type Host struct {
	Target   string       `json:"target"`
	Facts    target.Facts `json:"facts"`
	Error    string       `json:"error,omitempty"`
	Reason   string       `json:"reason,omitempty"`
	Policies []PolicyRun  `json:"policies"`
	Stats    Stats        `json:"stats"`
}

// SchemaVersion names the JSON document format; bump it on any
// incompatible change and document the change in docs/output-formats.md.
const SchemaVersion = "plumb.scan/v1"

// Report is the document a scan produces.
type Report struct {
	Schema   string    `json:"schema"`
	Tool     string    `json:"tool"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Hosts    []Host    `json:"hosts"`
}

// weight is r's weight in the weighted score.
func (r Result) weight() int {
	if r.Weight > 0 {
		return r.Weight
	}
	return int(r.Criticality)
}
