package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/plumbhq/plumb/store"
)

type reportsData struct {
	Policies []store.Policy
	Groups   []store.Group
	Policy   string
	Group    int64
}

// reports is the policy report form.
func (u *ui) reports(w http.ResponseWriter, r *http.Request, s *session) error {
	q := query(r)
	d := reportsData{Policy: q.str("policy"), Group: q.id("group")}
	if q.err != nil {
		return q.err
	}
	var err error
	if d.Policies, err = u.cfg.Store.ListPolicies(r.Context()); err != nil {
		return err
	}
	if d.Groups, err = u.allGroups(r.Context()); err != nil {
		return err
	}
	u.render(w, r, s, http.StatusOK, "reports", "Reports", "reports", d)
	return nil
}

// report streams the signed PDF report of a policy, optionally narrowed
// to a group, as a download. When the report fails before its first byte
// the user gets an error page saying why; a failure half way cuts the
// connection, so that no truncated PDF passes for a whole one.
func (u *ui) report(w http.ResponseWriter, r *http.Request, s *session) error {
	q := query(r)
	pol, group := q.str("policy"), q.id("group")
	if q.err != nil {
		return q.err
	}
	if pol == "" {
		return badParam("policy", "choose the policy of the report")
	}
	ctx := r.Context()
	if _, err := u.cfg.Store.GetPolicy(ctx, pol, 0); errors.Is(err, store.ErrNotFound) {
		return badParam("policy", "there is no policy %q on the server", pol)
	} else if err != nil {
		return err
	}
	name := "plumb-report-" + pol
	if group != 0 {
		g, err := u.cfg.Store.GetGroup(ctx, group)
		if errors.Is(err, store.ErrNotFound) {
			return badParam("group", "there is no group %d", group)
		} else if err != nil {
			return err
		}
		name += "-" + g.Name
	}
	name += "-" + u.cfg.Now().UTC().Format("2006-01-02")
	if u.cfg.Report == nil {
		return &httpError{status: http.StatusNotImplemented, msg: "This server cannot make policy reports."}
	}
	dw := &download{w: w, name: safeFileName(name) + ".pdf"}
	err := u.cfg.Report(ctx, dw, pol, group, actor(s.token))
	if err == nil && !dw.started {
		err = errors.New("the report is empty")
	}
	if err != nil {
		if dw.started {
			u.log.Error("policy report cut short", "policy", pol, "group", group, "err", err)
			panic(http.ErrAbortHandler)
		}
		u.log.Error("policy report failed", "policy", pol, "group", group, "err", err)
		status := http.StatusInternalServerError
		if errors.Is(err, store.ErrNotFound) {
			status = http.StatusNotFound
		}
		return &httpError{status: status, msg: fmt.Sprintf("The report of policy %s could not be made: %v.", pol, err)}
	}
	u.log.Info("policy report downloaded", "policy", pol, "group", group, "actor", actor(s.token))
	return nil
}

// download sends the answer's headers with the first byte written, so
// that an error before it can still be answered as a page.
type download struct {
	w       http.ResponseWriter
	name    string
	started bool
}

// Flush sends what was written so far (a Report may stream).
func (d *download) Flush() {
	if d.started {
		http.NewResponseController(d.w).Flush()
	}
}

func (d *download) Write(p []byte) (int, error) {
	if !d.started {
		if len(p) == 0 {
			return 0, nil
		}
		d.started = true
		h := d.w.Header()
		h.Set("Content-Type", "application/pdf")
		h.Set("Content-Disposition", `attachment; filename="`+d.name+`"`)
		h.Del("Content-Length")
		d.w.WriteHeader(http.StatusOK)
	}
	return d.w.Write(p)
}
