package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// where collects the conditions of a filtered list and their arguments,
// in order.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// inGroup is the condition "the asset whose id is col belongs to group ?":
// a static member, or (when the group has match tags) an asset carrying
// every one of them. The set is computed once, not per row. It takes the
// group id three times.
func inGroup(col string) string {
	return col + ` IN (SELECT gm.asset_id FROM group_members gm WHERE gm.group_id = ?
	UNION
	SELECT at.asset_id FROM asset_tags at JOIN group_tags gt ON gt.tag_id = at.tag_id AND gt.group_id = ?
	GROUP BY at.asset_id HAVING COUNT(*) = (SELECT COUNT(*) FROM group_tags g2 WHERE g2.group_id = ?))`
}

// placeholders is "?, ?, ?" for n values.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// jsonText encodes a list column; nil lists are stored as [] so they read
// back as empty slices.
func jsonText[T any](v []T) string {
	if v == nil {
		return "[]"
	}
	// Only lists of strings and integers are stored this way, and those
	// always encode.
	b, _ := json.Marshal(v)
	return string(b)
}

// fromJSON decodes a list column, never returning nil.
func fromJSON[T any](s string) ([]T, error) {
	v := []T{}
	if s == "" {
		return v, nil
	}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("decode stored list: %w", err)
	}
	if v == nil {
		v = []T{}
	}
	return v, nil
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// queryAll runs a query and reads every row with scan, returning an empty
// (not nil) slice.
func queryAll[T any](ctx context.Context, q querier, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
