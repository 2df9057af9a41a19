package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plumbhq/plumb/store"
)

// ---- scans

var scanStates = []string{store.Queued, store.Running, store.Finished, store.Failed, store.Cancelled}

type scansData struct {
	State   string
	States  []string
	Rows    []store.Scan
	Pager   pager
	Exports exportLinks
}

var scanTable = table[store.Scan]{name: "plumb-scans",
	header: []string{"id", "name", "state", "policies", "assets", "groups", "jobs", "done", "failures", "created_by", "created", "started", "finished"},
	row: func(sc store.Scan) []string {
		return []string{strconv.FormatInt(sc.ID, 10), sc.Name, sc.State, strings.Join(sc.Policies, " "), joinIDs(sc.Assets), joinIDs(sc.Groups),
			strconv.Itoa(sc.Jobs), strconv.Itoa(sc.Done), strconv.Itoa(sc.Failures), sc.CreatedBy, sc.Created.UTC().Format(time.RFC3339),
			isoPtr(sc.Started), isoPtr(sc.Finished)}
	}}

func (u *ui) scans(w http.ResponseWriter, r *http.Request, s *session) error {
	q := query(r)
	f := store.ScanFilter{State: q.oneOf("state", scanStates...)}
	l := q.list(pageSize)
	if q.err != nil {
		return q.err
	}
	fetch := func(ctx context.Context, p store.Page) ([]store.Scan, error) {
		f.Page = p
		return u.cfg.Store.ListScans(ctx, f)
	}
	scanID := func(sc store.Scan) int64 { return sc.ID }
	if l.format != "" {
		return exportList(u, w, r, l, scanTable, fetch, scanID)
	}
	scs, err := fetch(r.Context(), l.page)
	if err != nil {
		return err
	}
	d := scansData{State: f.State, States: scanStates, Rows: scs, Exports: exportsOf(r)}
	d.Pager = pagerOf(r, l, len(scs), lastID(scs))
	u.render(w, r, s, http.StatusOK, "scans", "Scans", "scans", d)
	return nil
}

type jobRow struct {
	store.Job
	Asset string
}

type scanData struct {
	Scan    store.Scan
	Groups  []store.Group
	Jobs    []jobRow
	Pager   pager
	Exports exportLinks
}

func (u *ui) scan(w http.ResponseWriter, r *http.Request, s *session) error {
	id, err := pathID(r, "id", "scan")
	if err != nil {
		return err
	}
	q := query(r)
	l := q.list(pageSize)
	if q.err != nil {
		return q.err
	}
	ctx := r.Context()
	sc, err := u.cfg.Store.GetScan(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("There is no scan %d.", id)
	} else if err != nil {
		return err
	}
	var jobs []store.Job
	// ListJobs answers every job of the scan at once; pages are cut here.
	fetch := func(ctx context.Context, p store.Page) ([]store.Job, error) {
		if jobs == nil {
			var err error
			if jobs, err = u.cfg.Store.ListJobs(ctx, id); err != nil {
				return nil, err
			}
		}
		i, _ := slices.BinarySearchFunc(jobs, p.After+1, func(j store.Job, id int64) int { return cmp.Compare(j.ID, id) })
		return jobs[i:min(len(jobs), i+cmp.Or(p.Limit, 100))], nil
	}
	names := newAssetNames(u.cfg.Store)
	jobID := func(j store.Job) int64 { return j.ID }
	if l.format != "" {
		return exportList(u, w, r, l, table[store.Job]{name: fmt.Sprintf("plumb-scan-%d-jobs", id),
			header: []string{"id", "scan_id", "asset_id", "state", "attempt", "worker", "error", "started", "finished"},
			row: func(j store.Job) []string {
				return []string{strconv.FormatInt(j.ID, 10), strconv.FormatInt(j.ScanID, 10), strconv.FormatInt(j.AssetID, 10), j.State,
					strconv.Itoa(j.Attempt), j.Worker, j.Error, isoPtr(j.Started), isoPtr(j.Finished)}
			}}, fetch, jobID)
	}
	page, err := fetch(ctx, l.page)
	if err != nil {
		return err
	}
	d := scanData{Scan: sc, Exports: exportsOf(r)}
	for _, j := range page {
		if err := names.load(ctx, j.AssetID); err != nil {
			return err
		}
		d.Jobs = append(d.Jobs, jobRow{Job: j, Asset: names.name(j.AssetID)})
	}
	d.Pager = pagerOf(r, l, len(page), lastID(page))
	for _, gid := range sc.Groups {
		g, err := u.cfg.Store.GetGroup(ctx, gid)
		if errors.Is(err, store.ErrNotFound) {
			g = store.Group{ID: gid, Name: fmt.Sprintf("%d (deleted)", gid)}
		} else if err != nil {
			return err
		}
		d.Groups = append(d.Groups, g)
	}
	u.render(w, r, s, http.StatusOK, "scan", fmt.Sprintf("Scan %d", id), "scans", d)
	return nil
}
