package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/plumbhq/plumb/store"
)

// ---- exceptions

// exceptionRow is an exception with its scope in words.
type exceptionRow struct {
	store.Exception
	Scope     string
	ScopeLink string
}

// exceptionRows describes the scope of each exception: its group, or its
// assets by name (the first few).
func (u *ui) exceptionRows(ctx context.Context, es []store.Exception) ([]exceptionRow, error) {
	names := newAssetNames(u.cfg.Store)
	var groups map[int64]string
	out := make([]exceptionRow, len(es))
	for i, e := range es {
		row := exceptionRow{Exception: e}
		if e.Group != 0 {
			if groups == nil {
				gs, err := u.allGroups(ctx)
				if err != nil {
					return nil, err
				}
				groups = map[int64]string{}
				for _, g := range gs {
					groups[g.ID] = g.Name
				}
			}
			name, ok := groups[e.Group]
			if !ok {
				name = fmt.Sprintf("%d (deleted)", e.Group)
			}
			row.Scope = "group " + name
			row.ScopeLink = link("/ui/failing", "group", e.Group, "policy", e.Policy)
		} else {
			shown := e.Assets[:min(len(e.Assets), maxScopeNames)]
			if err := names.load(ctx, shown...); err != nil {
				return nil, err
			}
			var parts []string
			for _, id := range shown {
				parts = append(parts, names.name(id))
			}
			row.Scope = strings.Join(parts, ", ")
			if more := len(e.Assets) - len(shown); more > 0 {
				row.Scope += fmt.Sprintf(" and %d more", more)
			}
			if len(e.Assets) == 1 {
				row.ScopeLink = evidenceLink(e.Assets[0], e.CID, e.Policy)
			}
		}
		out[i] = row
	}
	return out, nil
}

var exceptionStatuses = []string{store.Pending, store.Approved, store.Expired, store.Rejected, store.Revoked}

type exceptionsData struct {
	Status     string
	Statuses   []string
	Policy     string
	CID        int64
	Asset      int64
	AssetName  string
	Expiring   bool
	Window     string
	WindowDays int
	Rows       []exceptionRow
	Pager      pager
	Exports    exportLinks
}

var exceptionTable = table[store.Exception]{name: "plumb-exceptions",
	header: []string{"id", "status", "type", "policy", "cid", "group", "assets", "owner", "justification", "expires",
		"requested_by", "decided_by", "created", "decided", "reopen_on_evidence_change"},
	row: func(e store.Exception) []string {
		var group string
		if e.Group != 0 {
			group = strconv.FormatInt(e.Group, 10)
		}
		return []string{strconv.FormatInt(e.ID, 10), e.Status, e.Type, e.Policy, strconv.Itoa(e.CID), group, joinIDs(e.Assets),
			e.Owner, e.Justification, e.Expires.UTC().Format(time.RFC3339), e.RequestedBy, e.ApprovedBy,
			e.Created.UTC().Format(time.RFC3339), isoPtr(e.Decided), strconv.FormatBool(e.ReopenOnEvidenceChange)}
	}}

func exceptionID(e store.Exception) int64 { return e.ID }

func (u *ui) exceptions(w http.ResponseWriter, r *http.Request, s *session) error {
	return u.exceptionList(w, r, s, false)
}

func (u *ui) expiring(w http.ResponseWriter, r *http.Request, s *session) error {
	return u.exceptionList(w, r, s, true)
}

func (u *ui) exceptionList(w http.ResponseWriter, r *http.Request, s *session, expiring bool) error {
	q := query(r)
	f := store.ExceptionFilter{Policy: q.str("policy"), CID: int(q.id("cid")), Asset: q.id("asset")}
	d := exceptionsData{Statuses: exceptionStatuses, Expiring: expiring, Policy: f.Policy, CID: int64(f.CID), Asset: f.Asset}
	if expiring {
		f.ExpiringWithin = q.window("within", expiringWindow)
		d.Window = q.str("within")
		d.WindowDays = int(f.ExpiringWithin.Hours() / 24)
	} else {
		f.Status = q.oneOf("status", exceptionStatuses...)
		d.Status = f.Status
	}
	l := q.list(pageSize)
	if q.err != nil {
		return q.err
	}
	ctx := r.Context()
	if f.Asset != 0 {
		a, err := u.cfg.Store.GetAsset(ctx, f.Asset)
		if errors.Is(err, store.ErrNotFound) {
			return badParam("asset", "there is no asset %d", f.Asset)
		} else if err != nil {
			return err
		}
		d.AssetName = a.Name
	}
	fetch := func(ctx context.Context, p store.Page) ([]store.Exception, error) {
		f.Page = p
		return u.cfg.Store.ListExceptions(ctx, f)
	}
	if l.format != "" {
		t := exceptionTable
		if expiring {
			t.name = "plumb-exceptions-expiring"
		}
		return exportList(u, w, r, l, t, fetch, exceptionID)
	}
	es, err := fetch(ctx, l.page)
	if err != nil {
		return err
	}
	if d.Rows, err = u.exceptionRows(ctx, es); err != nil {
		return err
	}
	d.Pager = pagerOf(r, l, len(es), lastID(es))
	d.Exports = exportsOf(r)
	title := "Exceptions"
	if expiring {
		title = "Exceptions expiring soon"
	}
	u.render(w, r, s, http.StatusOK, "exceptions", title, "exceptions", d)
	return nil
}

type exceptionData struct {
	exceptionRow
	History []store.ExceptionEvent
	Exports exportLinks
}

func (u *ui) exception(w http.ResponseWriter, r *http.Request, s *session) error {
	id, err := pathID(r, "id", "exception")
	if err != nil {
		return err
	}
	q := query(r)
	l := q.list(pageSize)
	if q.err != nil {
		return q.err
	}
	ctx := r.Context()
	e, err := u.cfg.Store.GetException(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("There is no exception %d.", id)
	} else if err != nil {
		return err
	}
	history := func(ctx context.Context, _ store.Page) ([]store.ExceptionEvent, error) {
		return u.cfg.Store.ExceptionHistory(ctx, id)
	}
	if l.format != "" {
		return exportList(u, w, r, l, table[store.ExceptionEvent]{name: fmt.Sprintf("plumb-exception-%d-history", id),
			header: []string{"id", "exception_id", "time", "actor", "action", "detail", "prev_hash", "hash"},
			row: func(ev store.ExceptionEvent) []string {
				return []string{strconv.FormatInt(ev.ID, 10), strconv.FormatInt(ev.ExceptionID, 10), ev.Time.UTC().Format(time.RFC3339Nano),
					ev.Actor, ev.Action, ev.Detail, ev.PrevHash, ev.Hash}
			}}, history, nil)
	}
	rows, err := u.exceptionRows(ctx, []store.Exception{e})
	if err != nil {
		return err
	}
	d := exceptionData{exceptionRow: rows[0], Exports: exportsOf(r)}
	if d.History, err = history(ctx, store.Page{}); err != nil {
		return err
	}
	u.render(w, r, s, http.StatusOK, "exception", fmt.Sprintf("Exception %d", id), "exceptions", d)
	return nil
}
