package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/store"
)

// Defaults of the pages.
const (
	pageSize       = 50
	dashboardRows  = 8
	trendDays      = 90
	expiringWindow = 14 * 24 * time.Hour
	maxScopeNames  = 4
	historyShown   = 10
)

var granularities = []string{store.Day, store.Week, store.Month, store.Quarter}

// exportLinks are the CSV and JSON links of a list page: the page's URL
// with format set, without its page cursor (an export holds every item).
type exportLinks struct {
	CSV, JSON string
}

func exportsOf(r *http.Request) exportLinks {
	q := r.URL.Query()
	q.Del("after")
	q.Del("limit")
	q.Del("format")
	mk := func(f string) string {
		q.Set("format", f)
		return r.URL.Path + "?" + q.Encode()
	}
	return exportLinks{CSV: mk("csv"), JSON: mk("json")}
}

// pager holds the links to the first and the next page of a list.
type pager struct {
	First, Next string
	Shown       int
}

// pagerOf builds the links of a page of n items that started after
// after, the last one with id last, when limit items fill a page.
// lastID is the id of a page's last item, 0 for an empty page.
func lastID[T any](items []T) int64 {
	if len(items) == 0 {
		return 0
	}
	switch x := any(items[len(items)-1]).(type) {
	case store.Exception:
		return x.ID
	case store.Result:
		return x.ID
	case store.Asset:
		return x.ID
	case store.Scan:
		return x.ID
	case store.Job:
		return x.ID
	}
	panic(fmt.Sprintf("web: lastID of %T", items[0]))
}

func pagerOf(r *http.Request, l listing, n int, last int64) pager {
	p := pager{Shown: n}
	q := r.URL.Query()
	if l.page.After > 0 {
		q.Del("after")
		p.First = r.URL.Path
		if len(q) > 0 {
			p.First += "?" + q.Encode()
		}
	}
	if n > 0 && n == l.page.Limit {
		q.Set("after", strconv.FormatInt(last, 10))
		p.Next = r.URL.Path + "?" + q.Encode()
	}
	return p
}

// ---- result filters, shared by the failing controls, the scores and the
// trend

// resultFilter is the filter form of the posture pages.
type resultFilter struct {
	Criticality int
	Technology  string
	Group       int64
	Policy      string
	Status      string
}

func (f resultFilter) store() store.ResultFilter {
	return store.ResultFilter{Criticality: f.Criticality, Technology: f.Technology, Group: f.Group, Policy: f.Policy, Status: f.Status}
}

func (p *params) resultFilter() resultFilter {
	return resultFilter{Criticality: p.criticality("criticality"), Technology: p.str("technology"), Group: p.id("group"), Policy: p.str("policy")}
}

// checkGroup answers an unknown group as a bad parameter.
func (u *ui) checkGroup(ctx context.Context, id int64) error {
	if id == 0 {
		return nil
	}
	_, err := u.cfg.Store.GetGroup(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return badParam("group", "there is no group %d", id)
	}
	return err
}

// choices are the options of the filter forms.
type choices struct {
	Groups        []store.Group
	Policies      []store.Policy
	Technologies  []string
	Criticalities []policy.Criticality
}

func (u *ui) choices(ctx context.Context, f resultFilter) (choices, error) {
	var c choices
	err := parallel(
		func() (err error) { c.Groups, err = u.allGroups(ctx); return err },
		func() (err error) { c.Policies, err = u.cfg.Store.ListPolicies(ctx); return err },
		func() (err error) { c.Technologies, err = u.technologies(ctx); return err },
	)
	if err != nil {
		return c, err
	}
	if f.Technology != "" && !slices.Contains(c.Technologies, f.Technology) {
		c.Technologies = append(c.Technologies, f.Technology)
		slices.Sort(c.Technologies)
	}
	c.Criticalities = []policy.Criticality{policy.Minimal, policy.Medium, policy.Serious, policy.Critical, policy.Urgent}
	return c, nil
}

// summary is the store's PostureSummary(f), which reads the per-asset and
// per-policy counts the store keeps current at ingest for every filter
// but a CID or a scan.
func (u *ui) summary(ctx context.Context, f store.ResultFilter) (result.Summary, error) {
	f.Page = store.Page{}
	return u.cfg.Store.PostureSummary(ctx, f)
}

// parallel runs independent store reads at once and returns the first
// error in the order given.
func parallel(fs ...func() error) error { return parallelN(len(fs), fs...) }

// parallelN is parallel with at most n reads at a time.
func parallelN(n int, fs ...func() error) error {
	errs := make([]error, len(fs))
	sem := make(chan struct{}, max(n, 1))
	var wg sync.WaitGroup
	for i, f := range fs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = f()
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// technologiesTTL is how long the list of technologies offered by the
// filter forms is kept: it costs a breakdown of the whole posture, and
// only names the options (a technology typed in the URL is offered too).
const technologiesTTL = time.Minute

// technologyCache keeps the technologies the posture holds.
type technologyCache struct {
	mu    sync.Mutex
	at    time.Time
	techs []string
}

// technologies lists the technologies the posture holds, sorted; the list
// is kept for technologiesTTL.
func (u *ui) technologies(ctx context.Context) ([]string, error) {
	c := &u.techs
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.techs != nil && time.Since(c.at) < technologiesTTL {
		return slices.Clone(c.techs), nil
	}
	rows, err := u.cfg.Store.Scores(ctx, store.ScopeTechnology, store.ResultFilter{})
	if err != nil {
		return nil, err
	}
	techs := make([]string, 0, len(rows))
	for _, r := range rows {
		techs = append(techs, r.Key)
	}
	slices.Sort(techs)
	c.techs, c.at = techs, time.Now()
	return slices.Clone(techs), nil
}

// allGroups lists every group.
func (u *ui) allGroups(ctx context.Context) ([]store.Group, error) {
	var out []store.Group
	p := store.Page{Limit: 1000}
	for {
		gs, err := u.cfg.Store.ListGroups(ctx, p)
		if err != nil {
			return nil, err
		}
		out = append(out, gs...)
		if len(gs) < p.Limit {
			return out, nil
		}
		p.After = gs[len(gs)-1].ID
	}
}
