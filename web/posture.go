package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plumbhq/plumb/result"
	"github.com/plumbhq/plumb/store"
)

// ---- failing controls and posture items

// postureRow is a posture item with its asset's name and the link to its
// evidence.
type postureRow struct {
	store.Result
	Asset    string
	Evidence string
}

func postureRows(rs []store.Result, names *assetNames) []postureRow {
	out := make([]postureRow, len(rs))
	for i, x := range rs {
		out[i] = postureRow{Result: x, Asset: names.name(x.AssetID), Evidence: evidenceLink(x.AssetID, x.CID, x.Policy)}
	}
	return out
}

func evidenceLink(asset int64, cid int, pol string) string {
	return link(pathOf("assets", strconv.FormatInt(asset, 10), "controls", strconv.Itoa(cid)), "policy", pol)
}

// postureTable is the CSV form of posture items.
func postureTable(name string, names *assetNames) table[store.Result] {
	return table[store.Result]{name: name,
		header: []string{"result_id", "asset_id", "asset", "policy", "policy_version", "cid", "rule", "title", "category",
			"criticality", "status", "excepted_by", "exception_type", "exception_owner", "exception_expires",
			"expected", "actual", "reason", "message", "method", "time"},
		row: func(x store.Result) []string {
			var exID, exType, exOwner, exExpires string
			if x.Excepted != nil {
				exID, exType, exOwner, exExpires = strconv.FormatInt(x.Excepted.ID, 10), x.Excepted.Type, x.Excepted.Owner, x.Excepted.Expires.UTC().Format(time.RFC3339)
			}
			return []string{strconv.FormatInt(x.ID, 10), strconv.FormatInt(x.AssetID, 10), names.name(x.AssetID), x.Policy,
				strconv.Itoa(x.PolicyVersion), strconv.Itoa(x.CID), x.Rule, x.Title, x.Category, x.Criticality.String(),
				string(x.Status), exID, exType, exOwner, exExpires, x.Expected, strings.Join(x.Actual, "\n"), x.Reason, x.Message,
				x.Method, x.Time.UTC().Format(time.RFC3339)}
		}}
}

// postureFetch pages through the posture f selects, resolving the names
// of the assets of each page.
func (u *ui) postureFetch(f store.ResultFilter, names *assetNames) fetcher[store.Result] {
	return func(ctx context.Context, p store.Page) ([]store.Result, error) {
		f.Page = p
		rs, err := u.cfg.Store.Posture(ctx, f)
		if err != nil {
			return nil, err
		}
		return rs, names.loadResults(ctx, rs)
	}
}

func resultID(x store.Result) int64 { return x.ID }

type failingData struct {
	Filter  resultFilter
	Choices choices
	Summary result.Summary
	Rows    []postureRow
	Pager   pager
	Exports exportLinks
}

func (u *ui) failing(w http.ResponseWriter, r *http.Request, s *session) error {
	q := query(r)
	f := q.resultFilter()
	f.Status = string(result.Fail)
	l := q.list(pageSize)
	if q.err != nil {
		return q.err
	}
	ctx := r.Context()
	if err := u.checkGroup(ctx, f.Group); err != nil {
		return err
	}
	names := newAssetNames(u.cfg.Store)
	fetch := u.postureFetch(f.store(), names)
	if l.format != "" {
		return exportList(u, w, r, l, postureTable("plumb-failing-controls", names), fetch, resultID)
	}
	var rs []store.Result
	d := failingData{Filter: f, Exports: exportsOf(r)}
	err := parallel(
		func() (err error) { rs, err = fetch(ctx, l.page); return err },
		func() (err error) { d.Summary, err = u.summary(ctx, f.store()); return err },
		func() (err error) { d.Choices, err = u.choices(ctx, f); return err },
	)
	if err != nil {
		return err
	}
	d.Rows = postureRows(rs, names)
	d.Pager = pagerOf(r, l, len(rs), lastID(rs))
	u.render(w, r, s, http.StatusOK, "failing", "Failing controls", "failing", d)
	return nil
}

// ---- assets

type assetRow struct {
	store.Asset
	Summary result.Summary
}

type assetsData struct {
	Name, Tag, Technology string
	Group                 int64
	Choices               choices
	Rows                  []assetRow
	Pager                 pager
	Exports               exportLinks
}

func (u *ui) assets(w http.ResponseWriter, r *http.Request, s *session) error {
	q := query(r)
	f := store.AssetFilter{Name: q.str("name"), Tag: q.str("tag"), Technology: q.str("technology"), Group: q.id("group")}
	l := q.list(pageSize)
	if q.err != nil {
		return q.err
	}
	ctx := r.Context()
	if err := u.checkGroup(ctx, f.Group); err != nil {
		return err
	}
	fetch := func(ctx context.Context, p store.Page) ([]store.Asset, error) {
		f.Page = p
		return u.cfg.Store.ListAssets(ctx, f)
	}
	assetID := func(a store.Asset) int64 { return a.ID }
	if l.format != "" {
		return exportList(u, w, r, l, table[store.Asset]{name: "plumb-assets",
			header: []string{"id", "name", "hostnames", "addresses", "partition", "port", "technology", "tags", "source", "first_seen", "last_seen", "created"},
			row: func(a store.Asset) []string {
				return []string{strconv.FormatInt(a.ID, 10), a.Name, strings.Join(a.Hostnames, " "), strings.Join(a.Addresses, " "), a.Partition,
					strconv.Itoa(a.Port), a.Technology, strings.Join(a.Tags, ","), a.Source, isoPtr(a.FirstSeen), isoPtr(a.LastSeen),
					a.Created.UTC().Format(time.RFC3339)}
			}}, fetch, assetID)
	}
	as, err := fetch(ctx, l.page)
	if err != nil {
		return err
	}
	d := assetsData{Name: f.Name, Tag: f.Tag, Technology: f.Technology, Group: f.Group, Exports: exportsOf(r)}
	d.Rows = make([]assetRow, len(as))
	jobs := make([]func() error, len(as))
	for i, a := range as {
		jobs[i] = func() (err error) {
			d.Rows[i].Asset = a
			d.Rows[i].Summary, err = u.cfg.Store.PostureSummary(ctx, store.ResultFilter{Asset: a.ID})
			return err
		}
	}
	if err := parallelN(4, jobs...); err != nil {
		return err
	}
	d.Pager = pagerOf(r, l, len(as), lastID(as))
	if d.Choices, err = u.choices(ctx, resultFilter{Technology: f.Technology}); err != nil {
		return err
	}
	u.render(w, r, s, http.StatusOK, "assets", "Assets", "assets", d)
	return nil
}

type assetData struct {
	Asset    store.Asset
	Summary  result.Summary
	Status   string
	Statuses []result.Status
	Rows     []postureRow
	Pager    pager
	Exports  exportLinks
}

func (u *ui) asset(w http.ResponseWriter, r *http.Request, s *session) error {
	id, err := pathID(r, "id", "asset")
	if err != nil {
		return err
	}
	q := query(r)
	f := store.ResultFilter{Asset: id, Status: q.status("status"), Criticality: q.criticality("criticality")}
	l := q.list(pageSize)
	if q.err != nil {
		return q.err
	}
	ctx := r.Context()
	a, err := u.cfg.Store.GetAsset(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("There is no asset %d.", id)
	} else if err != nil {
		return err
	}
	names := newAssetNames(u.cfg.Store)
	names.names[a.ID] = a.Name
	fetch := u.postureFetch(f, names)
	if l.format != "" {
		return exportList(u, w, r, l, postureTable("plumb-posture-"+a.Name, names), fetch, resultID)
	}
	rs, err := fetch(ctx, l.page)
	if err != nil {
		return err
	}
	d := assetData{Asset: a, Status: f.Status, Statuses: result.Statuses, Rows: postureRows(rs, names), Exports: exportsOf(r)}
	d.Pager = pagerOf(r, l, len(rs), lastID(rs))
	if d.Summary, err = u.cfg.Store.PostureSummary(ctx, store.ResultFilter{Asset: id}); err != nil {
		return err
	}
	u.render(w, r, s, http.StatusOK, "asset", "Asset "+a.Name, "assets", d)
	return nil
}

// ---- one host's control

type controlItem struct {
	store.Result
	Exception *store.Exception // the one that excepts this Fail
}

type controlData struct {
	Asset      store.Asset
	CID        int
	Items      []controlItem
	Exceptions []exceptionRow // every exception on this control of this asset
	History    []store.Result // the latest results first
	Back       string
}

func (u *ui) control(w http.ResponseWriter, r *http.Request, s *session) error {
	id, err := pathID(r, "id", "asset")
	if err != nil {
		return err
	}
	cid64, err := pathID(r, "cid", "control")
	if err != nil {
		return err
	}
	cid := int(cid64)
	q := query(r)
	pol := q.str("policy")
	if q.err != nil {
		return q.err
	}
	ctx := r.Context()
	st := u.cfg.Store
	a, err := st.GetAsset(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return notFound("There is no asset %d.", id)
	} else if err != nil {
		return err
	}
	rs, err := st.Posture(ctx, store.ResultFilter{Asset: id, CID: cid, Policy: pol, Page: store.Page{Limit: 1000}})
	if err != nil {
		return err
	}
	if len(rs) == 0 {
		if pol != "" {
			return notFound("Asset %s has no result of control %d under policy %s.", a.Name, cid, pol)
		}
		return notFound("Asset %s has no result of control %d.", a.Name, cid)
	}
	d := controlData{Asset: a, CID: cid, Back: pathOf("assets", strconv.FormatInt(id, 10))}
	for _, x := range rs {
		it := controlItem{Result: x}
		if x.Excepted != nil {
			e, err := st.GetException(ctx, x.Excepted.ID)
			if err != nil {
				return err
			}
			it.Exception = &e
		}
		d.Items = append(d.Items, it)
	}
	exs, err := st.ListExceptions(ctx, store.ExceptionFilter{Asset: id, CID: cid, Policy: pol, Page: store.Page{Limit: 1000}})
	if err != nil {
		return err
	}
	if d.Exceptions, err = u.exceptionRows(ctx, exs); err != nil {
		return err
	}
	hist, err := st.ListResults(ctx, store.ResultFilter{Asset: id, CID: cid, Policy: pol, Page: store.Page{Limit: 1000}})
	if err != nil {
		return err
	}
	slices.Reverse(hist)
	d.History = hist[:min(len(hist), historyShown)]
	u.render(w, r, s, http.StatusOK, "control", fmt.Sprintf("Control %d on %s", cid, a.Name), "failing", d)
	return nil
}
