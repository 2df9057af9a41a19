package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/store"
)

// DefaultExpiring is the window of "expiring soon" when none is given.
const DefaultExpiring = 14 * 24 * time.Hour

var exceptionTypes = []string{store.MitigatingControl, store.RiskAcceptance, store.FalsePositive}

// now is the store's clock, so tests that move it move the server too.
func (s *Server) now() time.Time {
	if s.st.Now != nil {
		return s.st.Now()
	}
	return time.Now()
}

func (s *Server) requestException(w http.ResponseWriter, r *http.Request) error {
	var in api.ExceptionInput
	if err := decode(w, r, s.max, &in); err != nil {
		return err
	}
	if err := s.checkException(r, in); err != nil {
		return err
	}
	e := store.Exception{Type: in.Type, Policy: in.Policy, CID: in.CID, Assets: in.Assets, Group: in.Group,
		Owner: in.Owner, Justification: strings.TrimSpace(in.Justification), Expires: in.Expires,
		ReopenOnEvidenceChange: in.ReopenOnEvidenceChange}
	e, err := s.st.RequestException(r.Context(), e, actor(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, e)
}

// checkException answers each documented refusal with the field at fault.
func (s *Server) checkException(r *http.Request, in api.ExceptionInput) error {
	ctx := r.Context()
	if !slices.Contains(exceptionTypes, in.Type) {
		return invalid("type", "%q is not an exception type (%s)", in.Type, strings.Join(exceptionTypes, ", "))
	}
	if len(strings.TrimSpace(in.Justification)) < 10 {
		return invalid("justification", "a justification is required: say why the control may fail (at least 10 characters)")
	}
	if len(in.Justification) > 4000 {
		return invalid("justification", "at most 4000 characters")
	}
	if strings.TrimSpace(in.Owner) == "" || len(in.Owner) > 200 {
		return invalid("owner", "name the owner of the risk (1-200 characters)")
	}
	now := s.now()
	switch {
	case in.Expires.IsZero():
		return invalid("expires", "an expiry date is required (RFC 3339, e.g. 2027-03-31T00:00:00Z)")
	case !in.Expires.After(now):
		return invalid("expires", "%s is in the past", in.Expires.Format(time.RFC3339))
	case in.Expires.Sub(now) > s.maxEx:
		return invalid("expires", "at most %d days ahead (the server's maximum)", int(s.maxEx.Hours()/24))
	}
	if err := s.policyExists(r, "policy", in.Policy); err != nil {
		return err
	}
	if in.CID <= 0 {
		return invalid("cid", "a control CID is required")
	}
	if (len(in.Assets) == 0) == (in.Group == 0) {
		return invalid("assets", "give the assets or one group the exception covers, not both")
	}
	var scope []int64
	for i, id := range in.Assets {
		if _, err := s.st.GetAsset(ctx, id); err != nil {
			return notFoundAs(err, fmt.Sprintf("assets[%d]", i), "no asset %d", id)
		}
		scope = append(scope, id)
	}
	if in.Group != 0 {
		if _, err := s.st.GetGroup(ctx, in.Group); err != nil {
			return notFoundAs(err, "group", "no group %d", in.Group)
		}
	}
	// The control must be one the policy evaluates, and fail somewhere in
	// scope: look at the posture first (it knows SCAP rules too), then at
	// a native policy's rules.
	seen, failing := 0, 0
	count := func(f store.ResultFilter) error {
		f.Policy, f.CID, f.Page = in.Policy, in.CID, store.Page{Limit: 1000}
		for {
			items, err := s.st.Posture(ctx, f)
			if err != nil {
				return err
			}
			for _, it := range items {
				seen++
				if it.Status == result.Fail {
					failing++
				}
			}
			if len(items) < f.Limit {
				return nil
			}
			f.After = items[len(items)-1].ID
		}
	}
	if in.Group != 0 {
		if err := count(store.ResultFilter{Group: in.Group}); err != nil {
			return err
		}
	}
	for _, id := range scope {
		if err := count(store.ResultFilter{Asset: id}); err != nil {
			return err
		}
	}
	if seen == 0 && !s.policyHasControl(r, in.Policy, in.CID) {
		return invalid("cid", "policy %s has no control %d", in.Policy, in.CID)
	}
	if seen > 0 && failing == 0 {
		return problem(http.StatusConflict, "control-passes", "cid", "control %d does not fail on any asset in scope (it passes, or is Error or N/A): there is nothing to except", in.CID)
	}
	return nil
}

// policyHasControl says whether a stored native policy selects cid.
func (s *Server) policyHasControl(r *http.Request, id string, cid int) bool {
	p, err := s.st.GetPolicy(r.Context(), id, 0)
	if err != nil || p.Source == "scap" {
		return false
	}
	pol, err := decodePolicy(p.Body)
	if err != nil {
		return false
	}
	rules, err := pol.Rules(s.lib)
	if err != nil {
		return false
	}
	for _, rule := range rules {
		if rule.CID == cid {
			return true
		}
	}
	return false
}

// decide approves, rejects or revokes. Four eyes: the store refuses an
// approval or rejection by the exception's requester.
func (s *Server) decide(action string) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		e, err := s.st.DecideException(r.Context(), id, action, nil, actor(r))
		if errors.Is(err, store.ErrSelfApproval) {
			return problem(http.StatusForbidden, "four-eyes", "", "you requested exception %d: another approver must decide it", id)
		}
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, e)
	}
}

func (s *Server) renewException(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in api.Renewal
	if err := decode(w, r, s.max, &in); err != nil {
		return err
	}
	now := s.now()
	switch {
	case !in.Expires.After(now):
		return invalid("expires", "the new expiry must be in the future")
	case in.Expires.Sub(now) > s.maxEx:
		return invalid("expires", "at most %d days ahead (the server's maximum)", int(s.maxEx.Hours()/24))
	}
	e, err := s.st.DecideException(r.Context(), id, "renew", &in.Expires, actor(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, e)
}

func (s *Server) exceptionFilter(r *http.Request) (store.ExceptionFilter, error) {
	q := &query{r: r}
	f := store.ExceptionFilter{Page: q.page(), Status: q.str("status"), Policy: q.str("policy"), CID: int(q.int64("cid")), Asset: q.int64("asset")}
	if q.err != nil {
		return f, q.err
	}
	if f.Status != "" && !slices.Contains([]string{store.Pending, store.Approved, store.Rejected, store.Revoked, store.Expired}, f.Status) {
		return f, invalid("status", "%q is not an exception status (pending, approved, rejected, revoked, expired)", f.Status)
	}
	if w := q.str("expiring"); w != "" {
		d, err := api.ParseWindow(w)
		if err != nil {
			return f, invalid("expiring", "%v", err)
		}
		f.ExpiringWithin = d
	}
	return f, nil
}

func (s *Server) listExceptions(w http.ResponseWriter, r *http.Request) error {
	f, err := s.exceptionFilter(r)
	if err != nil {
		return err
	}
	items, err := s.st.ListExceptions(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list(items, f.Page, func(e store.Exception) int64 { return e.ID }))
}

// expiringExceptions lists approved exceptions expiring within the window
// (query parameter within, default 14d), soonest first by id order.
func (s *Server) expiringExceptions(w http.ResponseWriter, r *http.Request) error {
	f, err := s.exceptionFilter(r)
	if err != nil {
		return err
	}
	f.ExpiringWithin = DefaultExpiring
	if v := r.URL.Query().Get("within"); v != "" {
		if f.ExpiringWithin, err = api.ParseWindow(v); err != nil {
			return invalid("within", "%v", err)
		}
	}
	items, err := s.st.ListExceptions(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list(items, f.Page, func(e store.Exception) int64 { return e.ID }))
}

func (s *Server) exceptionHistory(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := s.st.GetException(r.Context(), id); err != nil {
		return err
	}
	items, err := s.st.ExceptionHistory(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.List[store.ExceptionEvent]{Items: nonNil(items)})
}

func (s *Server) verifyExceptionLog(w http.ResponseWriter, r *http.Request) error {
	bad, n, err := s.st.VerifyExceptionLog(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.LogCheck{OK: bad == nil, Checked: n, Bad: bad})
}

func decodePolicy(body []byte) (*policy.Policy, error) {
	var p policy.Policy
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, err
	}
	return &p, nil
}
