package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/store"
)

// params reads typed query parameters, keeping the first error, which
// names the parameter (a 400 page).
type params struct {
	r   *http.Request
	err error
}

func query(r *http.Request) *params { return &params{r: r} }

func (p *params) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

func (p *params) str(name string) string {
	v := p.r.URL.Query().Get(name)
	if len(v) > 1000 {
		p.fail(badParam(name, "at most 1000 characters"))
		return ""
	}
	return v
}

// id reads a positive id; empty is 0.
func (p *params) id(name string) int64 {
	s := p.str(name)
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		p.fail(badParam(name, "%q is not an id (a positive whole number)", s))
	}
	return n
}

// oneOf reads a value among allowed (empty allowed: it is the default).
func (p *params) oneOf(name string, allowed ...string) string {
	s := p.str(name)
	if s != "" && !slices.Contains(allowed, s) {
		p.fail(badParam(name, "%q is not one of %s", s, strings.Join(allowed, ", ")))
		return ""
	}
	return s
}

// criticality reads "at least this criticality": 1..5 or a name.
func (p *params) criticality(name string) int {
	s := p.str(name)
	if s == "" {
		return 0
	}
	c, err := policy.ParseCriticality(s)
	if err != nil {
		p.fail(badParam(name, "%q is not a criticality (1-5 or minimal, medium, serious, critical, urgent)", s))
		return 0
	}
	return int(c)
}

// status reads a result status.
func (p *params) status(name string) string {
	s := p.str(name)
	if s != "" && !slices.Contains(result.Statuses, result.Status(s)) {
		p.fail(badParam(name, "%q is not a status (pass, fail, error, na, not_checked)", s))
		return ""
	}
	return s
}

// window reads a duration such as 14d or 72h.
func (p *params) window(name string, def time.Duration) time.Duration {
	s := p.str(name)
	if s == "" {
		return def
	}
	d, err := api.ParseWindow(s)
	if err != nil {
		p.fail(badParam(name, "%v", err))
		return def
	}
	return d
}

// day reads a date (2027-03-31) or an RFC 3339 time.
func (p *params) day(name string) time.Time {
	s := p.str(name)
	if s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t
	}
	p.fail(badParam(name, "%q is not a date (2027-03-31)", s))
	return time.Time{}
}

// listing is the page of a list a request asks for, and its format.
type listing struct {
	page store.Page
	// explicit: the request named limit or after. An export without them
	// holds every item; with them, that one page, as the API answers.
	explicit bool
	format   string // "", csv or json
}

// list reads limit, after and format. Pages show def items unless limit
// says otherwise (at most 1000, as the API).
func (p *params) list(def int) listing {
	l := listing{format: p.oneOf("format", "html", "csv", "json")}
	if l.format == "html" {
		l.format = ""
	}
	q := p.r.URL.Query()
	l.explicit = q.Has("limit") || q.Has("after")
	if s := p.str("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			p.fail(badParam("limit", "%q is not a page size (1-1000)", s))
		}
		l.page.Limit = n
	}
	if s := p.str("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			p.fail(badParam("after", "%q is not an id (a whole number)", s))
		}
		l.page.After = n
	}
	if l.page.Limit == 0 {
		l.page.Limit = def
		if l.format != "" {
			l.page.Limit = 100 // the API's default
		}
	}
	return l
}

// pathID reads the numeric id of a path segment; anything else is a 404.
func pathID(r *http.Request, name, what string) (int64, error) {
	s := r.PathValue(name)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, notFound("There is no %s %q.", what, s)
	}
	return n, nil
}
