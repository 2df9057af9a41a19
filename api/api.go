// Package api holds the wire types of Plumb's REST API v1, shared by the
// server, its Go client and the scanner worker, so the three can never
// disagree about a field name. Stored objects (assets, groups, scans,
// results, ...) travel as the store's own types; this package adds the
// request bodies, list envelopes, errors and the worker protocol.
package api

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/plumbhq/plumb/store"
)

// Roles an API token can hold. Admin can do everything; operator manages
// assets, groups, policies, credentials and scans; approver decides
// exceptions; auditor reads everything but credentials' use; scanner is
// what a scanner worker's token holds: it takes jobs and posts results.
const (
	RoleAdmin    = "admin"
	RoleOperator = "operator"
	RoleApprover = "approver"
	RoleAuditor  = "auditor"
	RoleScanner  = "scanner"
)

// Roles lists every role, for validation and help text.
var Roles = []string{RoleAdmin, RoleOperator, RoleApprover, RoleAuditor, RoleScanner}

// Problem is an error answer (RFC 9457 problem details, media type
// application/problem+json). Field names the offending input field when
// there is one, as a JSON path like "addresses[1]".
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Field  string `json:"field,omitempty"`
}

func (p *Problem) Error() string {
	if p.Field != "" {
		return p.Title + ": " + p.Field + ": " + p.Detail
	}
	if p.Detail != "" {
		return p.Title + ": " + p.Detail
	}
	return p.Title
}

// List is one page of a listing. NextAfter, when non-zero, is the value
// of the after query parameter that fetches the next page.
type List[T any] struct {
	Items     []T   `json:"items"`
	NextAfter int64 `json:"next_after,omitempty"`
}

// AssetInput creates or replaces an asset.
type AssetInput struct {
	Name         string   `json:"name"`
	Hostnames    []string `json:"hostnames,omitempty"`
	Addresses    []string `json:"addresses,omitempty"`
	Partition    string   `json:"partition,omitempty"`
	Port         int      `json:"port,omitempty"`
	CredentialID int64    `json:"credential_id,omitempty"`
	Tags         []string `json:"tags,omitempty"`
}

// GroupInput creates or replaces an asset group.
type GroupInput struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Members     []int64  `json:"members,omitempty"`
	MatchTags   []string `json:"match_tags,omitempty"`
	Policies    []string `json:"policies,omitempty"`
}

// PolicyImport imports built-in policies by id; All imports every one.
type PolicyImport struct {
	IDs []string `json:"ids,omitempty"`
	All bool     `json:"all,omitempty"`
}

// SCAPImport imports a profile of SCAP content installed on the server
// (a data stream in its content directories, named by file name, e.g.
// ssg-debian11-ds.xml) as a policy. ID defaults to the data stream's
// name and the profile's short id, e.g. ssg-debian11-standard.
type SCAPImport struct {
	ID         string `json:"id,omitempty"`
	DataStream string `json:"datastream"`
	Profile    string `json:"profile"`
}

// SCAPPolicy is the document of a policy imported from SCAP content
// (source "scap"): which content, by name and SHA-256, and which profile.
// Scanner workers evaluate it from their own installed copy of the same
// file and refuse a different one.
type SCAPPolicy struct {
	DataStream       string `json:"datastream"`
	SHA256           string `json:"sha256"`
	Profile          string `json:"profile"`
	Benchmark        string `json:"benchmark"`
	BenchmarkVersion string `json:"benchmark_version"`
	Rules            int    `json:"rules"`
}

// PolicyDoc is a stored policy version with its document.
type PolicyDoc struct {
	store.Policy
	Document json.RawMessage `json:"document"`
}

// CredentialInput creates an auth record. Exactly one of PrivateKey and
// Password is required; the secrets are encrypted at rest and never
// returned.
type CredentialInput struct {
	Name         string `json:"name"`
	Kind         string `json:"kind,omitempty"` // ssh (default)
	User         string `json:"user"`
	PrivateKey   string `json:"private_key,omitempty"`
	Passphrase   string `json:"passphrase,omitempty"`
	Password     string `json:"password,omitempty"`
	Sudo         bool   `json:"sudo,omitempty"`
	SudoPassword string `json:"sudo_password,omitempty"`
}

// Secrets is the decrypted part of a credential, sent only to scanner
// workers with a claimed job.
type Secrets struct {
	User         string `json:"user"`
	PrivateKey   string `json:"private_key,omitempty"`
	Passphrase   string `json:"passphrase,omitempty"`
	Password     string `json:"password,omitempty"`
	Sudo         bool   `json:"sudo,omitempty"`
	SudoPassword string `json:"sudo_password,omitempty"`
}

// ScanInput launches a scan now. Policies default to the policies
// assigned to the groups; targets are Assets plus every member of Groups.
// CredentialID overrides each asset's own credential.
type ScanInput struct {
	Name         string   `json:"name,omitempty"`
	Policies     []string `json:"policies,omitempty"`
	Assets       []int64  `json:"assets,omitempty"`
	Groups       []int64  `json:"groups,omitempty"`
	CredentialID int64    `json:"credential_id,omitempty"`
}

// ScheduleInput launches the same scan every Every (a Go duration such as
// "24h", at least 1m), first at Start (default now).
type ScheduleInput struct {
	ScanInput
	Every string     `json:"every"`
	Start *time.Time `json:"start,omitempty"`
}

// TokenInput creates an API token.
type TokenInput struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// TokenCreated answers TokenInput: the token's secret is shown this once.
type TokenCreated struct {
	store.Token
	Secret string `json:"secret"`
}

// ClaimRequest asks for a job; Worker names the scanner in leases and logs.
type ClaimRequest struct {
	Worker string `json:"worker"`
}

// Claim is a job handed to a worker with everything it needs to run it.
// LeaseSeconds is how long the worker holds it without a heartbeat.
type Claim struct {
	Job        store.Job   `json:"job"`
	Asset      store.Asset `json:"asset"`
	Credential *Secrets    `json:"credential,omitempty"`
	// CredentialError says why there is no credential (none assigned,
	// or it cannot be decrypted): the worker reports every control of
	// the host Error(auth_failed) with this message.
	CredentialError string      `json:"credential_error,omitempty"`
	Policies        []PolicyDoc `json:"policies"`
	LeaseSeconds    int         `json:"lease_seconds"`
}

// Heartbeat extends the lease of a job the worker holds.
type Heartbeat struct {
	Attempt int `json:"attempt"`
}

// Completion posts a finished job's results. Error, when set, says the
// host could not be scanned (its results are then all Error with the
// host's reason).
type Completion struct {
	Attempt    int            `json:"attempt"`
	Technology string         `json:"technology,omitempty"`
	Error      string         `json:"error,omitempty"`
	Results    []store.Result `json:"results"`
}

// ExceptionInput requests an exception: a dated, typed, justified waiver
// of a failing control (CID under Policy) on Assets or on every member of
// Group. Expires is required, in the future and at most the server's
// maximum ahead.
type ExceptionInput struct {
	Type                   string    `json:"type"`
	Policy                 string    `json:"policy"`
	CID                    int       `json:"cid"`
	Assets                 []int64   `json:"assets,omitempty"`
	Group                  int64     `json:"group,omitempty"`
	Owner                  string    `json:"owner"`
	Justification          string    `json:"justification"`
	Expires                time.Time `json:"expires"`
	ReopenOnEvidenceChange bool      `json:"reopen_on_evidence_change,omitempty"`
}

// Renewal asks for a new expiry; the exception needs a new approval.
type Renewal struct {
	Expires time.Time `json:"expires"`
}

// LogCheck answers a verification of the exception history's hash chain.
type LogCheck struct {
	OK      bool                  `json:"ok"`
	Checked int                   `json:"checked"`
	Bad     *store.ExceptionEvent `json:"bad,omitempty"`
}

// ParseWindow reads a time window as the API takes it: days ("14d") or a
// Go duration ("72h", "336h0m0s").
func ParseWindow(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(d); err == nil && n > 0 && n <= 3650 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("%q is not a window such as 14d or 72h", s)
}
