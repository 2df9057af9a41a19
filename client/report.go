package client

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/plumbhq/plumb/store"
)

// MaxReport bounds a report's size (the answer limit of the report
// calls): a policy report of thousands of hosts runs to tens of MB.
const MaxReport = 1 << 30

// raw is c for a large answer.
func (c *Client) raw() *Client {
	cc := *c
	if cc.MaxResponse < MaxReport {
		cc.MaxResponse = MaxReport
	}
	return &cc
}

// PolicyReport answers GET /v1/reports/policy: the signed PDF report of a
// policy's posture, on a group's assets (0: every asset).
func (c *Client) PolicyReport(ctx context.Context, policy string, group int64) ([]byte, error) {
	q := url.Values{"policy": {policy}}
	if group != 0 {
		q.Set("group", strconv.FormatInt(group, 10))
	}
	var pdf []byte
	err := c.raw().get(ctx, "/v1/reports/policy", q, &pdf)
	return pdf, err
}

// TrendReport answers GET /v1/reports/trend: a signed PDF of the score
// over time, one chart per key of f.Scope (none for the fleet).
func (c *Client) TrendReport(ctx context.Context, f store.TrendFilter, keys []string) ([]byte, error) {
	q := url.Values{}
	setString(q, "scope", f.Scope)
	setString(q, "granularity", f.Granularity)
	for _, k := range keys {
		q.Add("key", k)
	}
	if !f.From.IsZero() {
		q.Set("from", f.From.Format(time.RFC3339))
	}
	if !f.To.IsZero() {
		q.Set("to", f.To.Format(time.RFC3339))
	}
	var pdf []byte
	err := c.raw().get(ctx, "/v1/reports/trend", q, &pdf)
	return pdf, err
}

// ReportCertificate answers GET /v1/reports/certificate: the PEM
// certificate reports are signed with.
func (c *Client) ReportCertificate(ctx context.Context) ([]byte, error) {
	var pem []byte
	err := c.get(ctx, "/v1/reports/certificate", nil, &pem)
	return pem, err
}
