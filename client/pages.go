package client

import (
	"context"
	"fmt"
	"iter"

	"github.com/plumbhq/plumb/api"
	"github.com/plumbhq/plumb/store"
)

// Pages walks a listing page by page from start: fetch is called with
// start, then with After set to each answer's NextAfter, until an answer
// has none. It yields each item, or one error and stops. A server whose
// NextAfter does not move forward is an error rather than an endless loop.
//
//	for a, err := range client.Pages(ctx, store.Page{}, func(ctx context.Context, p store.Page) (api.List[store.Asset], error) {
//		f.Page = p
//		return c.ListAssets(ctx, f)
//	}) { ... }
func Pages[T any](ctx context.Context, start store.Page, fetch func(context.Context, store.Page) (api.List[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		p := start
		for {
			l, err := fetch(ctx, p)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range l.Items {
				if !yield(it, nil) {
					return
				}
			}
			if l.NextAfter == 0 {
				return
			}
			if l.NextAfter <= p.After {
				var zero T
				yield(zero, fmt.Errorf("listing: next_after %d does not move past %d", l.NextAfter, p.After))
				return
			}
			p.After = l.NextAfter
		}
	}
}

// All collects every item of a listing (see Pages). max, when positive,
// stops after that many items; more then reports the NextAfter that
// continues the listing (0 when the listing ended).
func All[T any](ctx context.Context, start store.Page, max int, fetch func(context.Context, store.Page) (api.List[T], error)) (items []T, more int64, err error) {
	p := start
	for {
		if max > 0 && (p.Limit <= 0 || p.Limit > max-len(items)) {
			p.Limit = max - len(items)
		}
		l, err := fetch(ctx, p)
		if err != nil {
			return items, 0, err
		}
		items = append(items, l.Items...)
		if l.NextAfter == 0 {
			return items, 0, nil
		}
		if max > 0 && len(items) >= max {
			return items[:max], l.NextAfter, nil
		}
		if l.NextAfter <= p.After {
			return items, 0, fmt.Errorf("listing: next_after %d does not move past %d", l.NextAfter, p.After)
		}
		p.After = l.NextAfter
	}
}
