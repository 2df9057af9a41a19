// Package client is the Go client of Plumb's REST API v1: one method per
// endpoint, context first, with bearer-token authentication, JSON bodies,
// a request timeout and bounded response reads. The CLI's remote commands
// and the scanner worker both use it.
//
// A non-2xx answer of type application/problem+json comes back as an error
// wrapping *api.Problem (use errors.As, or IsConflict and IsNotFound); any
// other failure names the method and URL.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/plumbhq/plumb/api"
)

const (
	// DefaultTimeout bounds one request, answer included.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxResponse bounds the bytes read from one answer.
	DefaultMaxResponse = 64 << 20
)

// Client calls one Plumb server. Its fields may be set directly, or
// through New and its options; a Client is safe for concurrent use once
// its fields are set.
type Client struct {
	// BaseURL is the server's address, such as http://127.0.0.1:8080;
	// a path prefix is kept (https://host/plumb/v1/...).
	BaseURL string
	// Token is the API token sent as "Authorization: Bearer <token>".
	Token string
	// HTTPClient sends the requests (default: one with DefaultTimeout).
	HTTPClient *http.Client
	// MaxResponse caps the bytes read from one answer (default
	// DefaultMaxResponse).
	MaxResponse int64
	// UserAgent is sent with every request (default "plumb-client").
	UserAgent string
}

// Option configures a Client made by New.
type Option func(*Client)

// WithHTTPClient sends the requests with h (its Timeout applies).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.HTTPClient = h } }

// WithTimeout bounds each request, answer included, to d.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) {
		h := *c.httpClient()
		h.Timeout = d
		c.HTTPClient = &h
	}
}

// WithMaxResponse caps the bytes read from one answer.
func WithMaxResponse(n int64) Option { return func(c *Client) { c.MaxResponse = n } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.UserAgent = ua } }

// New returns a client of the server at baseURL authenticating with token.
func New(baseURL, token string, opts ...Option) *Client {
	c := &Client{BaseURL: baseURL, Token: token}
	for _, o := range opts {
		o(c)
	}
	return c
}

var defaultHTTPClient = &http.Client{Timeout: DefaultTimeout}

func (c *Client) httpClient() *http.Client {
	if c.HTTPClient != nil {
		return c.HTTPClient
	}
	return defaultHTTPClient
}

// HTTPError is a non-2xx answer that is not a problem document (a proxy's
// error page, say). Body holds its first bytes.
type HTTPError struct {
	Method, URL string
	StatusCode  int
	Body        string
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// StatusCode is the HTTP status of a failed request's answer (from its
// problem document or HTTPError), or 0 when there was no answer.
func StatusCode(err error) int {
	var p *api.Problem
	if errors.As(err, &p) {
		return p.Status
	}
	var h *HTTPError
	if errors.As(err, &h) {
		return h.StatusCode
	}
	return 0
}

// IsConflict reports whether the server answered 409 Conflict: a name or
// address already taken, or, for a worker, a job lease lost.
func IsConflict(err error) bool { return StatusCode(err) == http.StatusConflict }

// IsNotFound reports whether the server answered 404 Not Found.
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// endpoint is the URL of path (which starts with /v1/) with query q.
func (c *Client) endpoint(path string, q url.Values) (string, error) {
	base := strings.TrimRight(c.BaseURL, "/")
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("server URL %q: %w", c.BaseURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("server URL %q: want http://HOST[:PORT] or https://HOST[:PORT]", c.BaseURL)
	}
	s := base + path
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s, nil
}

// do sends one request: in (when not nil) as a JSON body, and decodes a
// 2xx answer into out (when not nil and the answer has a body; a *[]byte
// out takes the body as it is). It
// returns the answer's status.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, in, out any) (int, error) {
	u, err := c.endpoint(path, q)
	if err != nil {
		return 0, err
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("%s %s: encoding the request: %w", method, u, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", method, u, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	ua := c.UserAgent
	if ua == "" {
		ua = "plumb-client"
	}
	req.Header.Set("User-Agent", ua)

	resp, err := c.httpClient().Do(req)
	if err != nil {
		// *url.Error repeats the method and URL in its own words; keep
		// the cause (context.Canceled, a dial error...) under ours.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	limit := c.MaxResponse
	if limit <= 0 {
		limit = DefaultMaxResponse
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: reading the answer: %w", method, u, err)
	}
	if int64(len(data)) > limit {
		return resp.StatusCode, fmt.Errorf("%s %s: the answer is larger than %d bytes", method, u, limit)
	}

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, answerError(method, u, resp, data)
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = data
		return resp.StatusCode, nil
	}
	if out == nil || resp.StatusCode == http.StatusNoContent || len(bytes.TrimSpace(data)) == 0 {
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: decoding the answer: %w", method, u, err)
	}
	return resp.StatusCode, nil
}

// answerError turns a non-2xx answer into an error: the problem document
// when there is one, else an HTTPError.
func answerError(method, u string, resp *http.Response, data []byte) error {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "application/problem+json" {
		var p api.Problem
		if err := json.Unmarshal(data, &p); err == nil {
			if p.Status == 0 {
				p.Status = resp.StatusCode
			}
			if p.Title == "" {
				p.Title = http.StatusText(resp.StatusCode)
			}
			return fmt.Errorf("%s %s: %w", method, u, &p)
		}
	}
	body := strings.TrimSpace(string(data))
	if len(body) > 200 {
		body = body[:200] + "..."
	}
	return &HTTPError{Method: method, URL: u, StatusCode: resp.StatusCode, Body: body}
}

// id formats an object id for a path.
func id(n int64) string { return strconv.FormatInt(n, 10) }

// get, post, put and del are do with the method filled in.
func (c *Client) get(ctx context.Context, path string, q url.Values, out any) error {
	_, err := c.do(ctx, http.MethodGet, path, q, nil, out)
	return err
}

func (c *Client) post(ctx context.Context, path string, in, out any) error {
	_, err := c.do(ctx, http.MethodPost, path, nil, in, out)
	return err
}

func (c *Client) put(ctx context.Context, path string, in, out any) error {
	_, err := c.do(ctx, http.MethodPut, path, nil, in, out)
	return err
}

func (c *Client) del(ctx context.Context, path string) error {
	_, err := c.do(ctx, http.MethodDelete, path, nil, nil, nil)
	return err
}
