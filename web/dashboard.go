package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/store"
)

// ---- the dashboard

type scoreTable struct {
	By    string
	Title string
	Rows  []scoreRow
	Total int
	All   string // the page with every row
}

type scoreRow struct {
	store.ScoreRow
	Failing string // the failing controls of this key
	Trend   string // its trend, when snapshots keep one
}

func scoreRows(by string, rows []store.ScoreRow) []scoreRow {
	out := make([]scoreRow, len(rows))
	for i, row := range rows {
		sr := scoreRow{ScoreRow: row}
		switch by {
		case store.ScopeGroup, store.ScopePolicy, store.ScopeTechnology:
			sr.Failing = link("/ui/failing", by, row.Key)
			sr.Trend = link("/ui/trend", by, row.Key)
		case "asset":
			sr.Failing = pathOf("assets", row.Key) + "?status=fail"
		case "criticality":
			sr.Failing = link("/ui/failing", "criticality", row.Key)
		}
		out[i] = sr
	}
	return out
}

type dashboardData struct {
	Fleet         result.Summary
	Tables        []scoreTable
	Chart         chart
	Granularity   string
	Granularities []string
	Running       []store.Scan
	Expiring      []exceptionRow
	WindowDays    int
}

func (u *ui) dashboard(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	q := query(r)
	g := cmp.Or(q.oneOf("granularity", granularities...), store.Day)
	if q.err != nil {
		return q.err
	}
	st := u.cfg.Store
	d := dashboardData{Granularity: g, Granularities: granularities, WindowDays: int(expiringWindow.Hours() / 24)}
	now := u.cfg.Now()
	kinds := []struct{ by, title string }{
		{store.ScopeGroup, "Asset groups"}, {store.ScopePolicy, "Policies"}, {store.ScopeTechnology, "Technologies"},
	}
	d.Tables = make([]scoreTable, len(kinds))
	var pts []store.TrendPoint
	var scans [2][]store.Scan
	var exs []store.Exception
	// The store calls are independent reads: they run at once.
	jobs := []func() error{
		func() (err error) { d.Fleet, err = u.summary(ctx, store.ResultFilter{}); return err },
		func() (err error) {
			pts, err = st.Trend(ctx, store.TrendFilter{Scope: store.ScopeAll, From: now.AddDate(0, 0, -trendDays), Granularity: g})
			return err
		},
		func() (err error) {
			scans[0], err = st.ListScans(ctx, store.ScanFilter{State: store.Running, Page: store.Page{Limit: 1000}})
			return err
		},
		func() (err error) {
			scans[1], err = st.ListScans(ctx, store.ScanFilter{State: store.Queued, Page: store.Page{Limit: 1000}})
			return err
		},
		func() (err error) {
			exs, err = st.ListExceptions(ctx, store.ExceptionFilter{ExpiringWithin: expiringWindow, Page: store.Page{Limit: 1000}})
			return err
		},
	}
	for i, k := range kinds {
		jobs = append(jobs, func() error {
			rows, err := st.Scores(ctx, k.by, store.ResultFilter{})
			if err != nil {
				return err
			}
			d.Tables[i] = scoreTable{By: k.by, Title: k.title, Total: len(rows), All: link("/ui/scores", "by", k.by),
				Rows: scoreRows(k.by, rows[:min(len(rows), dashboardRows)])}
			return nil
		})
	}
	if err := parallel(jobs...); err != nil {
		return err
	}
	d.Chart = newChart("fleet-trend", fmt.Sprintf("Fleet score over the last %d days, by %s", trendDays, g), g, pts)
	d.Running = append(scans[0], scans[1]...)
	slices.SortFunc(d.Running, func(a, b store.Scan) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortStableFunc(exs, func(a, b store.Exception) int { return a.Expires.Compare(b.Expires) })
	var err error
	if d.Expiring, err = u.exceptionRows(ctx, exs); err != nil {
		return err
	}
	u.render(w, r, s, http.StatusOK, "dashboard", "Dashboard", "dashboard", d)
	return nil
}

// ---- scores

type scoresData struct {
	By      string
	Bys     []string
	Filter  resultFilter
	Choices choices
	Rows    []scoreRow
	Exports exportLinks
}

var scoreBys = []string{store.ScopeGroup, store.ScopePolicy, store.ScopeTechnology, "asset", "criticality", store.ScopeMandate}

func (u *ui) scores(w http.ResponseWriter, r *http.Request, s *session) error {
	q := query(r)
	by := cmp.Or(q.oneOf("by", scoreBys...), store.ScopeGroup)
	f := q.resultFilter()
	l := q.list(pageSize)
	if q.err != nil {
		return q.err
	}
	ctx := r.Context()
	if err := u.checkGroup(ctx, f.Group); err != nil {
		return err
	}
	fetch := func(ctx context.Context, _ store.Page) ([]store.ScoreRow, error) {
		return u.cfg.Store.Scores(ctx, by, f.store())
	}
	if l.format != "" {
		return exportList(u, w, r, l, table[store.ScoreRow]{name: "plumb-scores-by-" + by,
			header: []string{"key", "name", "score", "weighted_score", "coverage", "pass", "fail", "error", "na", "not_checked", "excepted", "scored", "total"},
			row: func(x store.ScoreRow) []string {
				return append([]string{x.Key, x.Name}, summaryCells(x.Summary)...)
			}}, fetch, nil)
	}
	rows, err := fetch(ctx, store.Page{})
	if err != nil {
		return err
	}
	d := scoresData{By: by, Bys: scoreBys, Filter: f, Rows: scoreRows(by, rows), Exports: exportsOf(r)}
	if d.Choices, err = u.choices(ctx, f); err != nil {
		return err
	}
	u.render(w, r, s, http.StatusOK, "scores", "Scores by "+by, "dashboard", d)
	return nil
}

// summaryCells are the CSV cells of a summary, after its key.
func summaryCells(s result.Summary) []string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	n := func(st result.Status) string { return strconv.Itoa(s.Counts[st]) }
	return []string{f(s.Score), f(s.Weighted), f(s.Coverage), n(result.Pass), n(result.Fail), n(result.Error), n(result.NA), n(result.NotChecked),
		strconv.Itoa(s.Excepted), strconv.Itoa(s.Scored), strconv.Itoa(s.Total)}
}

// ---- the trend

type trendData struct {
	Filter        resultFilter
	Choices       choices
	Granularity   string
	Granularities []string
	From, To      string
	Chart         chart
	Exports       exportLinks
}

func (u *ui) trend(w http.ResponseWriter, r *http.Request, s *session) error {
	q := query(r)
	f := resultFilter{Group: q.id("group"), Policy: q.str("policy"), Technology: q.str("technology")}
	g := cmp.Or(q.oneOf("granularity", granularities...), store.Day)
	from, to := q.day("from"), q.day("to")
	l := q.list(pageSize)
	if q.err != nil {
		return q.err
	}
	now := u.cfg.Now()
	if to.IsZero() {
		to = now
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -trendDays)
	}
	if to.Before(from) {
		return badParam("to", "%s is before from (%s)", to.Format(time.DateOnly), from.Format(time.DateOnly))
	}
	tf := store.TrendFilter{Scope: store.ScopeAll, From: from, To: to, Granularity: g}
	title := "Fleet"
	set := 0
	if f.Group != 0 {
		set++
		grp, err := u.cfg.Store.GetGroup(r.Context(), f.Group)
		if errors.Is(err, store.ErrNotFound) {
			return badParam("group", "there is no group %d", f.Group)
		} else if err != nil {
			return err
		}
		tf.Scope, tf.Key, title = store.ScopeGroup, strconv.FormatInt(f.Group, 10), "Group "+grp.Name
	}
	if f.Policy != "" {
		set++
		tf.Scope, tf.Key, title = store.ScopePolicy, f.Policy, "Policy "+f.Policy
	}
	if f.Technology != "" {
		set++
		tf.Scope, tf.Key, title = store.ScopeTechnology, f.Technology, "Technology "+f.Technology
	}
	if set > 1 {
		return badParam("group", "choose one of group, policy and technology")
	}
	fetch := func(ctx context.Context, _ store.Page) ([]store.TrendPoint, error) { return u.cfg.Store.Trend(ctx, tf) }
	if l.format != "" {
		return exportList(u, w, r, l, table[store.TrendPoint]{name: "plumb-trend-" + tf.Scope + "-" + tf.Key,
			header: []string{"period", "taken", "score", "weighted_score", "coverage", "pass", "fail", "error", "na", "not_checked", "excepted", "scored", "total"},
			row: func(p store.TrendPoint) []string {
				return append([]string{p.Period.UTC().Format(time.DateOnly), p.Taken.UTC().Format(time.RFC3339)}, summaryCells(p.Summary)...)
			}}, fetch, nil)
	}
	pts, err := fetch(r.Context(), store.Page{})
	if err != nil {
		return err
	}
	d := trendData{Filter: f, Granularity: g, Granularities: granularities, From: from.UTC().Format(time.DateOnly), To: to.UTC().Format(time.DateOnly),
		Exports: exportsOf(r)}
	d.Chart = newChart("trend", fmt.Sprintf("%s: score from %s to %s, by %s", title, d.From, d.To, g), g, pts)
	if d.Choices, err = u.choices(r.Context(), f); err != nil {
		return err
	}
	u.render(w, r, s, http.StatusOK, "trend", "Trend", "reports", d)
	return nil
}
