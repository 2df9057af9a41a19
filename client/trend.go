package client

import (
	"context"
	"net/url"
	"time"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/store"
)

// Scores answers GET /v1/scores: the posture's score broken down by
// asset, group, policy, technology or criticality.
func (c *Client) Scores(ctx context.Context, by string, f store.ResultFilter) (api.List[store.ScoreRow], error) {
	q := ResultQuery(f)
	q.Del("limit")
	q.Del("after")
	setString(q, "by", by)
	var out api.List[store.ScoreRow]
	err := c.get(ctx, "/v1/scores", q, &out)
	return out, err
}

// Trend answers GET /v1/trend.
func (c *Client) Trend(ctx context.Context, f store.TrendFilter) (api.List[store.TrendPoint], error) {
	q := url.Values{}
	setString(q, "scope", f.Scope)
	setString(q, "key", f.Key)
	setString(q, "granularity", f.Granularity)
	if !f.From.IsZero() {
		q.Set("from", f.From.Format(time.RFC3339))
	}
	if !f.To.IsZero() {
		q.Set("to", f.To.Format(time.RFC3339))
	}
	var out api.List[store.TrendPoint]
	err := c.get(ctx, "/v1/trend", q, &out)
	return out, err
}

// Changes answers GET /v1/changes: controls that went Pass -> Fail or
// Fail -> Pass between from and to (zero: now).
func (c *Client) Changes(ctx context.Context, from, to time.Time, f store.ResultFilter) (api.List[store.Change], error) {
	q := ResultQuery(f)
	q.Del("after")
	q.Set("from", from.Format(time.RFC3339))
	if !to.IsZero() {
		q.Set("to", to.Format(time.RFC3339))
	}
	var out api.List[store.Change]
	err := c.get(ctx, "/v1/changes", q, &out)
	return out, err
}
