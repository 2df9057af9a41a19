package web

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/plumbhq/plumb/store"
)

// table is how a listing is exported: its file name, its CSV columns and
// the CSV row of an item. The JSON export is the API's list document
// ({"items": [...], "next_after": N}) of the same store values.
type table[T any] struct {
	name   string
	header []string
	row    func(T) []string
}

// fetcher returns one page of a listing.
type fetcher[T any] func(ctx context.Context, p store.Page) ([]T, error)

// exportList writes a listing as CSV or JSON. Without limit and after in
// the request it holds every item (paged through 1000 at a time, and
// streamed); with them, the one page they select and, as the API does, the
// cursor of the next page when this one is full. id is nil for listings
// that come whole (fetched once).
//
// An error before the first byte is an error page; a later one is logged
// and the connection is cut, so that a truncated file cannot pass for a
// whole one.
func exportList[T any](u *ui, w http.ResponseWriter, r *http.Request, l listing, t table[T], fetch fetcher[T], id func(T) int64) error {
	ctx := r.Context()
	p := l.page
	if !l.explicit {
		p = store.Page{Limit: 1000}
	}
	items, err := fetch(ctx, p)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.%s"`, safeFileName(t.name), l.format))
	bw := bufio.NewWriterSize(w, 64<<10)
	var write func([]T) error
	var next int64
	switch l.format {
	case "csv":
		h.Set("Content-Type", "text/csv; charset=utf-8")
		cw := csv.NewWriter(bw)
		cw.Write(t.header)
		write = func(items []T) error {
			for _, it := range items {
				row := t.row(it)
				for i, c := range row {
					row[i] = neutralize(c)
				}
				cw.Write(row)
			}
			cw.Flush()
			return cw.Error()
		}
	default:
		h.Set("Content-Type", "application/json")
		bw.WriteString(`{"items":[`)
		first := true
		write = func(items []T) error {
			for _, it := range items {
				b, err := json.Marshal(it)
				if err != nil {
					return err
				}
				if !first {
					bw.WriteByte(',')
				}
				first = false
				bw.Write(b)
			}
			return nil
		}
	}
	fail := func(err error) error {
		if !errors.Is(err, context.Canceled) {
			u.log.Error("dashboard export cut short", "path", r.URL.Path, "err", err)
		}
		panic(http.ErrAbortHandler)
	}
	for {
		if err := write(items); err != nil {
			return fail(err)
		}
		if id == nil || len(items) < p.Limit || len(items) == 0 {
			break
		}
		if l.explicit {
			next = id(items[len(items)-1])
			break
		}
		p.After = id(items[len(items)-1])
		if items, err = fetch(ctx, p); err != nil {
			return fail(err)
		}
	}
	if l.format == "json" {
		bw.WriteString("]")
		if next > 0 {
			bw.WriteString(`,"next_after":` + strconv.FormatInt(next, 10))
		}
		bw.WriteString("}\n")
	}
	if err := bw.Flush(); err != nil && !errors.Is(err, context.Canceled) {
		u.log.Debug("dashboard export not delivered", "path", r.URL.Path, "err", err)
	}
	return nil
}

// neutralize keeps a spreadsheet from reading a cell as a formula: scan
// data is hostile, and a value such as =HYPERLINK(...) must stay text. A
// cell starting with = + - @ or a tab or carriage return gets a leading
// apostrophe (the OWASP advice for CSV injection).
func neutralize(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// safeFileName keeps a download's file name to plain characters.
func safeFileName(s string) string {
	s = strings.Trim(unsafeName.ReplaceAllString(s, "-"), "-.")
	if s == "" {
		return "plumb"
	}
	if len(s) > 120 {
		s = s[:120]
	}
	return s
}

// assetNames resolves asset ids to names for a listing, once each.
type assetNames struct {
	st    *store.Store
	names map[int64]string
}

func newAssetNames(st *store.Store) *assetNames {
	return &assetNames{st: st, names: map[int64]string{}}
}

// load looks up the ids not yet known; a deleted asset reads as such.
func (n *assetNames) load(ctx context.Context, ids ...int64) error {
	for _, id := range ids {
		if _, ok := n.names[id]; ok || id == 0 {
			continue
		}
		a, err := n.st.GetAsset(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			n.names[id] = fmt.Sprintf("(deleted asset %d)", id)
		case err != nil:
			return err
		default:
			n.names[id] = a.Name
		}
	}
	return nil
}

func (n *assetNames) name(id int64) string { return n.names[id] }

// loadResults loads the names of the assets of results.
func (n *assetNames) loadResults(ctx context.Context, rs []store.Result) error {
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = r.AssetID
	}
	return n.load(ctx, ids...)
}
