package client

import (
	"context"
	"net/url"
	"time"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/store"
)

// ExceptionQuery encodes an exception filter as query parameters.
func ExceptionQuery(f store.ExceptionFilter) url.Values {
	q := pageQuery(f.Page)
	setString(q, "status", f.Status)
	setString(q, "policy", f.Policy)
	setInt(q, "cid", int64(f.CID))
	setInt(q, "asset", f.Asset)
	if f.ExpiringWithin > 0 {
		q.Set("expiring", f.ExpiringWithin.String())
	}
	return q
}

// RequestException answers POST /v1/exceptions.
func (c *Client) RequestException(ctx context.Context, in api.ExceptionInput) (store.Exception, error) {
	var out store.Exception
	err := c.post(ctx, "/v1/exceptions", in, &out)
	return out, err
}

// ListExceptions answers GET /v1/exceptions.
func (c *Client) ListExceptions(ctx context.Context, f store.ExceptionFilter) (api.List[store.Exception], error) {
	var out api.List[store.Exception]
	err := c.get(ctx, "/v1/exceptions", ExceptionQuery(f), &out)
	return out, err
}

// ExpiringExceptions answers GET /v1/exceptions/expiring: approved
// exceptions expiring within the window (0: the server's default, 14 days).
func (c *Client) ExpiringExceptions(ctx context.Context, within time.Duration, p store.Page) (api.List[store.Exception], error) {
	q := pageQuery(p)
	if within > 0 {
		q.Set("within", within.String())
	}
	var out api.List[store.Exception]
	err := c.get(ctx, "/v1/exceptions/expiring", q, &out)
	return out, err
}

// GetException answers GET /v1/exceptions/{id}.
func (c *Client) GetException(ctx context.Context, exceptionID int64) (store.Exception, error) {
	var out store.Exception
	err := c.get(ctx, "/v1/exceptions/"+id(exceptionID), nil, &out)
	return out, err
}

// ExceptionHistory answers GET /v1/exceptions/{id}/history.
func (c *Client) ExceptionHistory(ctx context.Context, exceptionID int64) (api.List[store.ExceptionEvent], error) {
	var out api.List[store.ExceptionEvent]
	err := c.get(ctx, "/v1/exceptions/"+id(exceptionID)+"/history", nil, &out)
	return out, err
}

// DecideException answers POST /v1/exceptions/{id}/approve, reject or
// revoke (action).
func (c *Client) DecideException(ctx context.Context, exceptionID int64, action string) (store.Exception, error) {
	var out store.Exception
	err := c.post(ctx, "/v1/exceptions/"+id(exceptionID)+"/"+url.PathEscape(action), struct{}{}, &out)
	return out, err
}

// RenewException answers POST /v1/exceptions/{id}/renew.
func (c *Client) RenewException(ctx context.Context, exceptionID int64, expires time.Time) (store.Exception, error) {
	var out store.Exception
	err := c.post(ctx, "/v1/exceptions/"+id(exceptionID)+"/renew", api.Renewal{Expires: expires}, &out)
	return out, err
}

// VerifyExceptionLog answers GET /v1/exceptions/verify.
func (c *Client) VerifyExceptionLog(ctx context.Context) (api.LogCheck, error) {
	var out api.LogCheck
	err := c.get(ctx, "/v1/exceptions/verify", nil, &out)
	return out, err
}
