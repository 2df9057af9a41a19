package server

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/store"
)

// scores breaks the posture's score down by asset, group, policy,
// technology, criticality or mandate (query parameter by, default group).
func (s *Server) scores(w http.ResponseWriter, r *http.Request) error {
	f, err := resultFilter(r)
	if err != nil {
		return err
	}
	by := r.URL.Query().Get("by")
	if by == "" {
		by = "group"
	}
	if !slices.Contains([]string{"asset", "group", "policy", "technology", "criticality", "mandate"}, by) {
		return invalid("by", "%q: break scores down by asset, group, policy, technology, criticality or mandate", by)
	}
	rows, err := s.st.Scores(r.Context(), by, f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.List[store.ScoreRow]{Items: nonNil(rows)})
}

// day reads a date parameter: 2027-03-31 or an RFC 3339 time.
func day(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, invalid(name, "%q is not a date (2027-03-31) or an RFC 3339 time", v)
}

// trend is the score over time of the fleet, a group, a policy or a
// technology, at day, week, month or quarter granularity.
func (s *Server) trend(w http.ResponseWriter, r *http.Request) error {
	f, err := trendFilter(r, r.URL.Query().Get("key"))
	if err != nil {
		return err
	}
	pts, err := s.st.Trend(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.List[store.TrendPoint]{Items: nonNil(pts)})
}

// trendFilter reads a trend's scope (default all), granularity (default
// day), from and to, with key as the scope's key.
func trendFilter(r *http.Request, key string) (store.TrendFilter, error) {
	q := r.URL.Query()
	f := store.TrendFilter{Scope: q.Get("scope"), Key: key, Granularity: q.Get("granularity")}
	if f.Scope == "" {
		f.Scope = store.ScopeAll
	}
	if !slices.Contains([]string{store.ScopeAll, store.ScopeGroup, store.ScopePolicy, store.ScopeTechnology}, f.Scope) {
		return f, invalid("scope", "%q is not a scope (all, group, policy, technology)", f.Scope)
	}
	if (f.Scope == store.ScopeAll) != (f.Key == "") {
		return f, invalid("key", "scope %s takes %s", f.Scope, map[bool]string{true: "no key", false: "a key (the group id, policy id or technology)"}[f.Scope == store.ScopeAll])
	}
	if f.Scope == store.ScopeGroup {
		if _, err := strconv.ParseInt(f.Key, 10, 64); err != nil {
			return f, invalid("key", "%q is not a group id", f.Key)
		}
	}
	if f.Granularity == "" {
		f.Granularity = store.Day
	}
	if !slices.Contains([]string{store.Day, store.Week, store.Month, store.Quarter}, f.Granularity) {
		return f, invalid("granularity", "%q is not day, week, month or quarter", f.Granularity)
	}
	var err error
	if f.From, err = day(r, "from"); err != nil {
		return f, err
	}
	if f.To, err = day(r, "to"); err != nil {
		return f, err
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return f, invalid("to", "before from")
	}
	return f, nil
}

// changes lists the controls that went Pass -> Fail or Fail -> Pass on
// each asset between two dates.
func (s *Server) changes(w http.ResponseWriter, r *http.Request) error {
	f, err := resultFilter(r)
	if err != nil {
		return err
	}
	from, err := day(r, "from")
	if err != nil {
		return err
	}
	to, err := day(r, "to")
	if err != nil {
		return err
	}
	if from.IsZero() {
		return invalid("from", "a start date is required")
	}
	if to.IsZero() {
		to = s.now()
	}
	if to.Before(from) {
		return invalid("to", "before from")
	}
	rows, err := s.st.Changes(r.Context(), from, to, f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.List[store.Change]{Items: nonNil(rows)})
}

// snapshot takes the day's score snapshots now.
func (s *Server) snapshot(w http.ResponseWriter, r *http.Request) error {
	n, err := s.st.TakeSnapshots(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]int{"scopes": n})
}
