// Package store keeps the server's state: assets, groups, policies,
// credentials, scans and their jobs, results and posture, API tokens and
// the audit log. One concrete Store runs on two databases, embedded SQLite
// (the zero set-up default) and PostgreSQL (shared by many server
// replicas); the SQL that differs between them sits behind a small dialect.
//
// Every write records an audit entry in the same transaction, so the log
// and the data never disagree.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/plumbhq/plumb/result"
)

var (
	// ErrNotFound: no row has that id or name.
	ErrNotFound = errors.New("not found")
	// ErrLeaseLost: the job is no longer held by this attempt (its lease
	// expired and another worker took it, or the scan was cancelled).
	ErrLeaseLost = errors.New("job lease lost")
)

// ConflictError reports a write refused by a uniqueness rule, naming the
// field, so the API can answer 409 with the field.
type ConflictError struct {
	Field string // e.g. "name", "addresses[1]"
	Value string
}

func (e *ConflictError) Error() string {
	return e.Field + " " + e.Value + " is already taken"
}

// InvalidError reports a value the store refuses whatever the database
// holds (an empty name, a schedule period under a minute), naming the
// field, so the API can answer 400 with the field.
type InvalidError struct {
	Field   string
	Message string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Message }

// Page selects one page of a list ordered by ID: items with ID > After,
// at most Limit of them (default 100, at most 1000).
type Page struct {
	Limit int
	After int64
}

// Asset is a host the server scans.
type Asset struct {
	ID        int64    `json:"id"`
	Name      string   `json:"name"`
	Hostnames []string `json:"hostnames"`
	// Addresses are IP addresses, unique within the Partition: two
	// assets may share an address in different network partitions.
	Addresses []string `json:"addresses"`
	Partition string   `json:"partition"`
	// Port is the SSH port (default 22); the scanner connects to the
	// first hostname, else the first address.
	Port         int    `json:"port"`
	CredentialID int64  `json:"credential_id,omitempty"`
	Technology   string `json:"technology,omitempty"` // detected by the last scan
	// Tags are case-insensitive; the first spelling ever stored wins.
	Tags      []string   `json:"tags"`
	Source    string     `json:"source"` // scanner, agent
	FirstSeen *time.Time `json:"first_seen,omitempty"`
	LastSeen  *time.Time `json:"last_seen,omitempty"`
	Created   time.Time  `json:"created"`
}

// AssetFilter narrows ListAssets; zero fields match everything.
type AssetFilter struct {
	Page
	Name       string
	Tag        string // case-insensitive
	Technology string
	Partition  string
	Address    string
	Group      int64 // members of this group (static or by tags)
}

// Group is a set of assets: static members plus every asset that carries
// all of MatchTags (when set). Policies assigned to the group are the
// ones a scan of the group evaluates by default.
type Group struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Members     []int64   `json:"members"`
	MatchTags   []string  `json:"match_tags"`
	Policies    []string  `json:"policies"`
	Created     time.Time `json:"created"`
}

// Policy is one stored version of a policy. Body is the policy document
// (policy.Policy as JSON). A new version is stored only when the body
// changes.
type Policy struct {
	ID        string    `json:"id"`
	Version   int       `json:"version"` // 1, 2, ... per ID
	Title     string    `json:"title"`
	Source    string    `json:"source"` // builtin, custom
	Body      []byte    `json:"-"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by"`
}

// Credential is an auth record. Sealed holds the secrets encrypted by the
// server; the store never sees them in clear.
type Credential struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	Kind    string    `json:"kind"` // ssh
	User    string    `json:"user"`
	Sudo    bool      `json:"sudo"`
	Sealed  []byte    `json:"-"`
	Created time.Time `json:"created"`
}

// Scan states.
const (
	Queued    = "queued"
	Running   = "running"
	Finished  = "finished"
	Failed    = "failed" // scans: every job failed; jobs: the host could not be scanned
	Cancelled = "cancelled"
)

// Scan is one run of policies against assets: one Job per asset.
type Scan struct {
	ID           int64      `json:"id"`
	Name         string     `json:"name,omitempty"`
	Policies     []string   `json:"policies"`
	Assets       []int64    `json:"assets"`
	Groups       []int64    `json:"groups"`
	CredentialID int64      `json:"credential_id,omitempty"`
	ScheduleID   int64      `json:"schedule_id,omitempty"`
	State        string     `json:"state"`
	CreatedBy    string     `json:"created_by"`
	Created      time.Time  `json:"created"`
	Started      *time.Time `json:"started,omitempty"`
	Finished     *time.Time `json:"finished,omitempty"`
	// Per-host progress, computed from the jobs.
	Jobs     int `json:"jobs"`
	Done     int `json:"done"`
	Failures int `json:"failures"`
}

// ScanFilter narrows ListScans.
type ScanFilter struct {
	Page
	State string
}

// Job is the work of one scan on one asset. Attempt counts claims: a
// worker holds the job while its lease lasts, and only the holder of the
// current attempt can complete it.
type Job struct {
	ID         int64      `json:"id"`
	ScanID     int64      `json:"scan_id"`
	AssetID    int64      `json:"asset_id"`
	State      string     `json:"state"`
	Attempt    int        `json:"attempt"`
	Worker     string     `json:"worker,omitempty"`
	LeaseUntil *time.Time `json:"lease_until,omitempty"`
	Error      string     `json:"error,omitempty"`
	Started    *time.Time `json:"started,omitempty"`
	Finished   *time.Time `json:"finished,omitempty"`
}

// Schedule launches a scan every Every, starting at Next.
type Schedule struct {
	ID           int64         `json:"id"`
	Name         string        `json:"name"`
	Policies     []string      `json:"policies"`
	Assets       []int64       `json:"assets"`
	Groups       []int64       `json:"groups"`
	CredentialID int64         `json:"credential_id,omitempty"`
	Every        time.Duration `json:"every"`
	Next         time.Time     `json:"next"`
	CreatedBy    string        `json:"created_by"`
	Created      time.Time     `json:"created"`
}

// MarshalJSON writes Every as a Go duration string ("24h0m0s"), the
// form the API takes it in.
func (s Schedule) MarshalJSON() ([]byte, error) {
	type plain Schedule
	return json.Marshal(struct {
		plain
		Every string `json:"every"`
	}{plain(s), s.Every.String()})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Schedule) UnmarshalJSON(b []byte) error {
	type plain Schedule
	var v struct {
		*plain
		Every string `json:"every"`
	}
	v.plain = (*plain)(s)
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	if v.Every == "" {
		s.Every = 0
		return nil
	}
	d, err := time.ParseDuration(v.Every)
	if err != nil {
		return fmt.Errorf("every: %w", err)
	}
	s.Every = d
	return nil
}

// Result is one stored control result: which scan, job, asset and policy
// version produced it, and the engine's result.
type Result struct {
	ID            int64  `json:"id"`
	ScanID        int64  `json:"scan_id"`
	JobID         int64  `json:"job_id"`
	AssetID       int64  `json:"asset_id"`
	Policy        string `json:"policy"`
	PolicyVersion int    `json:"policy_version"`
	// Excepted is set on a Fail of the posture that an approved,
	// unexpired exception covers: Fail (excepted), left out of scores.
	Excepted *Excepted `json:"excepted,omitempty"`
	result.Result
}

// ResultFilter narrows ListResults and Posture; zero fields match
// everything.
type ResultFilter struct {
	Page
	Scan        int64
	Asset       int64
	Group       int64
	Policy      string
	Technology  string // the asset's detected technology
	Status      string
	CID         int
	Criticality int // at least this criticality (1..5)
}

// JobOutcome is what a worker posts when it finishes a job.
type JobOutcome struct {
	Technology string // detected on the host; empty when unreachable
	Error      string // the host could not be scanned (its results are all Error)
	Results    []Result
}

// Token is an API token; only its SHA-256 hash is stored.
type Token struct {
	ID       int64      `json:"id"`
	Name     string     `json:"name"`
	Role     string     `json:"role"`
	Hash     string     `json:"-"`
	Created  time.Time  `json:"created"`
	LastUsed *time.Time `json:"last_used,omitempty"`
	Revoked  *time.Time `json:"revoked,omitempty"`
}

// AuditEntry records one write: who, what, when.
type AuditEntry struct {
	ID     int64     `json:"id"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"` // e.g. asset.create, scan.cancel
	Object string    `json:"object"` // e.g. asset/12
	Detail string    `json:"detail,omitempty"`
}
