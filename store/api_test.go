package store

import (
	"context"
	"time"

	"github.com/plumbhq/plumb/result"
)

// api is the exported surface the server is written against; this
// assertion fails to compile if a signature drifts.
type api interface {
	Close() error
	Driver() string
	CreateAsset(ctx context.Context, a Asset, actor string) (Asset, error)
	GetAsset(ctx context.Context, id int64) (Asset, error)
	ListAssets(ctx context.Context, f AssetFilter) ([]Asset, error)
	UpdateAsset(ctx context.Context, a Asset, actor string) (Asset, error)
	DeleteAsset(ctx context.Context, id int64, actor string) error
	CreateGroup(ctx context.Context, g Group, actor string) (Group, error)
	GetGroup(ctx context.Context, id int64) (Group, error)
	ListGroups(ctx context.Context, p Page) ([]Group, error)
	UpdateGroup(ctx context.Context, g Group, actor string) (Group, error)
	DeleteGroup(ctx context.Context, id int64, actor string) error
	PutPolicy(ctx context.Context, p Policy, actor string) (Policy, error)
	GetPolicy(ctx context.Context, id string, version int) (Policy, error)
	ListPolicies(ctx context.Context) ([]Policy, error)
	PolicyVersions(ctx context.Context, id string) ([]Policy, error)
	CreateCredential(ctx context.Context, c Credential, actor string) (Credential, error)
	GetCredential(ctx context.Context, id int64) (Credential, error)
	ListCredentials(ctx context.Context, p Page) ([]Credential, error)
	DeleteCredential(ctx context.Context, id int64, actor string) error
	CreateScan(ctx context.Context, sc Scan, assets []int64, actor string) (Scan, error)
	GetScan(ctx context.Context, id int64) (Scan, error)
	ListScans(ctx context.Context, f ScanFilter) ([]Scan, error)
	CancelScan(ctx context.Context, id int64, actor string) error
	ListJobs(ctx context.Context, scan int64) ([]Job, error)
	GetJob(ctx context.Context, id int64) (Job, error)
	ClaimJob(ctx context.Context, worker string, lease time.Duration) (Job, bool, error)
	RenewLease(ctx context.Context, job int64, attempt int, lease time.Duration) error
	CompleteJob(ctx context.Context, job int64, attempt int, out JobOutcome) error
	CreateSchedule(ctx context.Context, sc Schedule, actor string) (Schedule, error)
	ListSchedules(ctx context.Context, p Page) ([]Schedule, error)
	DeleteSchedule(ctx context.Context, id int64, actor string) error
	ClaimDueSchedule(ctx context.Context) (Schedule, bool, error)
	ListResults(ctx context.Context, f ResultFilter) ([]Result, error)
	Posture(ctx context.Context, f ResultFilter) ([]Result, error)
	PostureSummary(ctx context.Context, f ResultFilter) (result.Summary, error)
	CreateToken(ctx context.Context, t Token, actor string) (Token, error)
	TokenByHash(ctx context.Context, hash string) (Token, error)
	ListTokens(ctx context.Context) ([]Token, error)
	RevokeToken(ctx context.Context, id int64, actor string) error
	CountTokens(ctx context.Context) (int, error)
	ListAudit(ctx context.Context, p Page) ([]AuditEntry, error)
}

var (
	_ api                                           = (*Store)(nil)
	_ func(context.Context, string) (*Store, error) = Open
)
