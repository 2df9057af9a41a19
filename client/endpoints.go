package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/store"
)

// pageQuery is the limit and after parameters of p (zero ones omitted).
func pageQuery(p store.Page) url.Values {
	q := url.Values{}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.After > 0 {
		q.Set("after", strconv.FormatInt(p.After, 10))
	}
	return q
}

func setString(q url.Values, key, v string) {
	if v != "" {
		q.Set(key, v)
	}
}

func setInt(q url.Values, key string, v int64) {
	if v != 0 {
		q.Set(key, strconv.FormatInt(v, 10))
	}
}

// AssetQuery is the query string of f: name, tag, technology, partition,
// address, group, limit and after.
func AssetQuery(f store.AssetFilter) url.Values {
	q := pageQuery(f.Page)
	setString(q, "name", f.Name)
	setString(q, "tag", f.Tag)
	setString(q, "technology", f.Technology)
	setString(q, "partition", f.Partition)
	setString(q, "address", f.Address)
	setInt(q, "group", f.Group)
	return q
}

// ResultQuery is the query string of f: scan, asset, group, policy,
// technology, status, cid, criticality, limit and after.
func ResultQuery(f store.ResultFilter) url.Values {
	q := pageQuery(f.Page)
	setInt(q, "scan", f.Scan)
	setInt(q, "asset", f.Asset)
	setInt(q, "group", f.Group)
	setString(q, "policy", f.Policy)
	setString(q, "technology", f.Technology)
	setString(q, "status", f.Status)
	setInt(q, "cid", int64(f.CID))
	setInt(q, "criticality", int64(f.Criticality))
	return q
}

// ScanQuery is the query string of f: state, limit and after.
func ScanQuery(f store.ScanFilter) url.Values {
	q := pageQuery(f.Page)
	setString(q, "state", f.State)
	return q
}

// Assets.

// ListAssets answers GET /v1/assets.
func (c *Client) ListAssets(ctx context.Context, f store.AssetFilter) (api.List[store.Asset], error) {
	var out api.List[store.Asset]
	err := c.get(ctx, "/v1/assets", AssetQuery(f), &out)
	return out, err
}

// CreateAsset answers POST /v1/assets.
func (c *Client) CreateAsset(ctx context.Context, in api.AssetInput) (store.Asset, error) {
	var out store.Asset
	err := c.post(ctx, "/v1/assets", in, &out)
	return out, err
}

// GetAsset answers GET /v1/assets/{id}.
func (c *Client) GetAsset(ctx context.Context, assetID int64) (store.Asset, error) {
	var out store.Asset
	err := c.get(ctx, "/v1/assets/"+id(assetID), nil, &out)
	return out, err
}

// UpdateAsset answers PUT /v1/assets/{id}: in replaces the asset's fields.
func (c *Client) UpdateAsset(ctx context.Context, assetID int64, in api.AssetInput) (store.Asset, error) {
	var out store.Asset
	err := c.put(ctx, "/v1/assets/"+id(assetID), in, &out)
	return out, err
}

// DeleteAsset answers DELETE /v1/assets/{id}.
func (c *Client) DeleteAsset(ctx context.Context, assetID int64) error {
	return c.del(ctx, "/v1/assets/"+id(assetID))
}

// Groups.

// ListGroups answers GET /v1/groups.
func (c *Client) ListGroups(ctx context.Context, p store.Page) (api.List[store.Group], error) {
	var out api.List[store.Group]
	err := c.get(ctx, "/v1/groups", pageQuery(p), &out)
	return out, err
}

// CreateGroup answers POST /v1/groups.
func (c *Client) CreateGroup(ctx context.Context, in api.GroupInput) (store.Group, error) {
	var out store.Group
	err := c.post(ctx, "/v1/groups", in, &out)
	return out, err
}

// GetGroup answers GET /v1/groups/{id}.
func (c *Client) GetGroup(ctx context.Context, groupID int64) (store.Group, error) {
	var out store.Group
	err := c.get(ctx, "/v1/groups/"+id(groupID), nil, &out)
	return out, err
}

// UpdateGroup answers PUT /v1/groups/{id}: in replaces the group's fields.
func (c *Client) UpdateGroup(ctx context.Context, groupID int64, in api.GroupInput) (store.Group, error) {
	var out store.Group
	err := c.put(ctx, "/v1/groups/"+id(groupID), in, &out)
	return out, err
}

// DeleteGroup answers DELETE /v1/groups/{id}.
func (c *Client) DeleteGroup(ctx context.Context, groupID int64) error {
	return c.del(ctx, "/v1/groups/"+id(groupID))
}

// GroupAssets answers GET /v1/groups/{id}/assets: the group's members,
// static and by tags.
func (c *Client) GroupAssets(ctx context.Context, groupID int64, p store.Page) (api.List[store.Asset], error) {
	var out api.List[store.Asset]
	err := c.get(ctx, "/v1/groups/"+id(groupID)+"/assets", pageQuery(p), &out)
	return out, err
}

// Policies.

// ListPolicies answers GET /v1/policies: the latest version of each.
func (c *Client) ListPolicies(ctx context.Context, p store.Page) (api.List[store.Policy], error) {
	var out api.List[store.Policy]
	err := c.get(ctx, "/v1/policies", pageQuery(p), &out)
	return out, err
}

// PushPolicy answers POST /v1/policies: it stores p as a new version of
// its ID (or returns the latest version when the document is unchanged).
func (c *Client) PushPolicy(ctx context.Context, p *policy.Policy) (api.PolicyDoc, error) {
	var out api.PolicyDoc
	err := c.post(ctx, "/v1/policies", p, &out)
	return out, err
}

// ImportPolicies answers POST /v1/policies/import: built-in policies.
func (c *Client) ImportPolicies(ctx context.Context, in api.PolicyImport) (api.List[api.PolicyDoc], error) {
	var out api.List[api.PolicyDoc]
	err := c.post(ctx, "/v1/policies/import", in, &out)
	return out, err
}

// ImportSCAP answers POST /v1/policies/scap: a profile of SCAP content
// installed on the server stored as a policy.
func (c *Client) ImportSCAP(ctx context.Context, in api.SCAPImport) (api.PolicyDoc, error) {
	var out api.PolicyDoc
	err := c.post(ctx, "/v1/policies/scap", in, &out)
	return out, err
}

// GetPolicy answers GET /v1/policies/{id}: version 0 is the latest.
func (c *Client) GetPolicy(ctx context.Context, policyID string, version int) (api.PolicyDoc, error) {
	var q url.Values
	if version > 0 {
		q = url.Values{"version": {strconv.Itoa(version)}}
	}
	var out api.PolicyDoc
	err := c.get(ctx, "/v1/policies/"+url.PathEscape(policyID), q, &out)
	return out, err
}

// PolicyVersions answers GET /v1/policies/{id}/versions.
func (c *Client) PolicyVersions(ctx context.Context, policyID string, p store.Page) (api.List[store.Policy], error) {
	var out api.List[store.Policy]
	err := c.get(ctx, "/v1/policies/"+url.PathEscape(policyID)+"/versions", pageQuery(p), &out)
	return out, err
}

// Credentials.

// ListCredentials answers GET /v1/credentials (never any secret).
func (c *Client) ListCredentials(ctx context.Context, p store.Page) (api.List[store.Credential], error) {
	var out api.List[store.Credential]
	err := c.get(ctx, "/v1/credentials", pageQuery(p), &out)
	return out, err
}

// CreateCredential answers POST /v1/credentials.
func (c *Client) CreateCredential(ctx context.Context, in api.CredentialInput) (store.Credential, error) {
	var out store.Credential
	err := c.post(ctx, "/v1/credentials", in, &out)
	return out, err
}

// GetCredential answers GET /v1/credentials/{id}.
func (c *Client) GetCredential(ctx context.Context, credID int64) (store.Credential, error) {
	var out store.Credential
	err := c.get(ctx, "/v1/credentials/"+id(credID), nil, &out)
	return out, err
}

// DeleteCredential answers DELETE /v1/credentials/{id}.
func (c *Client) DeleteCredential(ctx context.Context, credID int64) error {
	return c.del(ctx, "/v1/credentials/"+id(credID))
}

// Scans.

// ListScans answers GET /v1/scans.
func (c *Client) ListScans(ctx context.Context, f store.ScanFilter) (api.List[store.Scan], error) {
	var out api.List[store.Scan]
	err := c.get(ctx, "/v1/scans", ScanQuery(f), &out)
	return out, err
}

// LaunchScan answers POST /v1/scans.
func (c *Client) LaunchScan(ctx context.Context, in api.ScanInput) (store.Scan, error) {
	var out store.Scan
	err := c.post(ctx, "/v1/scans", in, &out)
	return out, err
}

// GetScan answers GET /v1/scans/{id}, with per-host progress.
func (c *Client) GetScan(ctx context.Context, scanID int64) (store.Scan, error) {
	var out store.Scan
	err := c.get(ctx, "/v1/scans/"+id(scanID), nil, &out)
	return out, err
}

// CancelScan answers POST /v1/scans/{id}/cancel.
func (c *Client) CancelScan(ctx context.Context, scanID int64) error {
	return c.post(ctx, "/v1/scans/"+id(scanID)+"/cancel", nil, nil)
}

// ScanJobs answers GET /v1/scans/{id}/jobs: one job per asset.
func (c *Client) ScanJobs(ctx context.Context, scanID int64, p store.Page) (api.List[store.Job], error) {
	var out api.List[store.Job]
	err := c.get(ctx, "/v1/scans/"+id(scanID)+"/jobs", pageQuery(p), &out)
	return out, err
}

// Schedules.

// ListSchedules answers GET /v1/schedules.
func (c *Client) ListSchedules(ctx context.Context, p store.Page) (api.List[store.Schedule], error) {
	var out api.List[store.Schedule]
	err := c.get(ctx, "/v1/schedules", pageQuery(p), &out)
	return out, err
}

// CreateSchedule answers POST /v1/schedules.
func (c *Client) CreateSchedule(ctx context.Context, in api.ScheduleInput) (store.Schedule, error) {
	var out store.Schedule
	err := c.post(ctx, "/v1/schedules", in, &out)
	return out, err
}

// DeleteSchedule answers DELETE /v1/schedules/{id}.
func (c *Client) DeleteSchedule(ctx context.Context, scheduleID int64) error {
	return c.del(ctx, "/v1/schedules/"+id(scheduleID))
}

// Results.

// ListResults answers GET /v1/results: every stored result.
func (c *Client) ListResults(ctx context.Context, f store.ResultFilter) (api.List[store.Result], error) {
	var out api.List[store.Result]
	err := c.get(ctx, "/v1/results", ResultQuery(f), &out)
	return out, err
}

// Posture answers GET /v1/posture: the latest result of each control on
// each asset.
func (c *Client) Posture(ctx context.Context, f store.ResultFilter) (api.List[store.Result], error) {
	var out api.List[store.Result]
	err := c.get(ctx, "/v1/posture", ResultQuery(f), &out)
	return out, err
}

// PostureSummary answers GET /v1/posture/summary: the score, coverage and
// counts of the posture f selects (f.Page is ignored).
func (c *Client) PostureSummary(ctx context.Context, f store.ResultFilter) (result.Summary, error) {
	var out result.Summary
	q := ResultQuery(f)
	q.Del("limit")
	q.Del("after")
	err := c.get(ctx, "/v1/posture/summary", q, &out)
	return out, err
}

// Tokens and audit.

// ListTokens answers GET /v1/tokens.
func (c *Client) ListTokens(ctx context.Context, p store.Page) (api.List[store.Token], error) {
	var out api.List[store.Token]
	err := c.get(ctx, "/v1/tokens", pageQuery(p), &out)
	return out, err
}

// CreateToken answers POST /v1/tokens; the answer's Secret is shown once.
func (c *Client) CreateToken(ctx context.Context, in api.TokenInput) (api.TokenCreated, error) {
	var out api.TokenCreated
	err := c.post(ctx, "/v1/tokens", in, &out)
	return out, err
}

// RevokeToken answers DELETE /v1/tokens/{id}.
func (c *Client) RevokeToken(ctx context.Context, tokenID int64) error {
	return c.del(ctx, "/v1/tokens/"+id(tokenID))
}

// Audit answers GET /v1/audit.
func (c *Client) Audit(ctx context.Context, p store.Page) (api.List[store.AuditEntry], error) {
	var out api.List[store.AuditEntry]
	err := c.get(ctx, "/v1/audit", pageQuery(p), &out)
	return out, err
}

// WhoAmI answers GET /v1/whoami: the token the client authenticates with.
func (c *Client) WhoAmI(ctx context.Context) (store.Token, error) {
	var out store.Token
	err := c.get(ctx, "/v1/whoami", nil, &out)
	return out, err
}

// Worker protocol.

// ClaimJob answers POST /v1/jobs/claim: a job to run, or nil (and no
// error) when there is none.
func (c *Client) ClaimJob(ctx context.Context, in api.ClaimRequest) (*api.Claim, error) {
	var out api.Claim
	status, err := c.do(ctx, http.MethodPost, "/v1/jobs/claim", nil, in, &out)
	if err != nil || status == http.StatusNoContent {
		return nil, err
	}
	return &out, nil
}

// Heartbeat answers POST /v1/jobs/{id}/heartbeat: it extends the lease of
// a job the worker holds. IsConflict(err) means the lease is lost: stop
// working on the job.
func (c *Client) Heartbeat(ctx context.Context, jobID int64, in api.Heartbeat) error {
	return c.post(ctx, "/v1/jobs/"+id(jobID)+"/heartbeat", in, nil)
}

// CompleteJob answers POST /v1/jobs/{id}/complete with the job's results.
// IsConflict(err) means the lease is lost and the results were refused.
func (c *Client) CompleteJob(ctx context.Context, jobID int64, in api.Completion) error {
	return c.post(ctx, "/v1/jobs/"+id(jobID)+"/complete", in, nil)
}
