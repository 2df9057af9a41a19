package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
)

// Snapshot scopes: the whole fleet, one asset group, one policy, one
// technology.
const (
	ScopeAll        = "all"
	ScopeGroup      = "group"
	ScopePolicy     = "policy"
	ScopeTechnology = "technology"
)

// Granularities of a trend.
const (
	Day     = "day"
	Week    = "week"
	Month   = "month"
	Quarter = "quarter"
)

// TrendFilter selects a score history: one scope and key (a group id as
// text, a policy id, a technology; "" for ScopeAll), a period and a
// granularity.
type TrendFilter struct {
	Scope       string
	Key         string
	From, To    time.Time // inclusive days; zero From: a year before To; zero To: today
	Granularity string    // day (default), week, month, quarter
}

// TrendPoint is the score of one period: the last snapshot taken in it.
type TrendPoint struct {
	Period time.Time `json:"period"` // the period's first day (weeks start on Monday), UTC
	Taken  time.Time `json:"taken"`  // when the snapshot it shows was taken
	result.Summary
}

// Change is a control whose status moved between two dates on one asset.
type Change struct {
	AssetID int64         `json:"asset_id"`
	Asset   string        `json:"asset"`
	Policy  string        `json:"policy"`
	CID     int           `json:"cid"`
	Title   string        `json:"title"`
	From    result.Status `json:"from"`
	To      result.Status `json:"to"`
	At      time.Time     `json:"at"` // time of the result that made the last change in the window
}

// ScoreRow is the score of one key of a breakdown.
type ScoreRow struct {
	Key  string `json:"key"`  // asset id, group id, policy id, technology or criticality
	Name string `json:"name"` // asset or group name; the key otherwise
	result.Summary
}

// snapshotScopes are the scopes TakeSnapshots records, in order.
var snapshotScopes = []string{ScopeAll, ScopeGroup, ScopePolicy, ScopeTechnology}

// ScopeMandate is the Scores breakdown by the mandates (cis, stig, ...)
// the controls' references name.
const ScopeMandate = "mandate"

// breakdown is how the posture rows of one scope kind (or Scores
// breakdown) get their key, for the kinds counted over the posture rows
// themselves: an SQL expression over the posture row r, the join it needs
// and a condition on that join.
type breakdown struct {
	key  string
	join string
	cond string
}

// rowBreakdowns are the kinds whose key is not a function of the asset.
// The mandate join is the dialect's (see Store.breakdown).
var rowBreakdowns = map[string]breakdown{
	ScopeMandate: {key: "mk.key"},
}

// assetBreakdowns are the kinds whose key is a function of the asset (or
// of the criticality): each is one SELECT (scope, key, criticality,
// status, count) over pa, the posture counted per asset, criticality and
// status (see tallies). A group is a set of assets, so its counts are the
// sums of its members' counts: the group breakdown joins the membership
// pairs to pa on the integer asset id and groups by the integer group id,
// never touching a posture row per group.
var assetBreakdowns = map[string]string{
	ScopeAll: `SELECT 'all', '', p.criticality, p.status, CAST(SUM(p.n) AS BIGINT), CAST(SUM(p.w) AS BIGINT) FROM pa p
		GROUP BY p.criticality, p.status`,
	ScopeGroup: `SELECT 'group', CAST(g.group_id AS TEXT), g.criticality, g.status, g.n, g.w FROM (
			SELECT m.group_id, p.criticality, p.status, CAST(SUM(p.n) AS BIGINT) AS n, CAST(SUM(p.w) AS BIGINT) AS w
			FROM membership m JOIN pa p ON p.asset_id = m.asset_id
			GROUP BY m.group_id, p.criticality, p.status) g`,
	ScopeTechnology: `SELECT 'technology', ta.technology, p.criticality, p.status, CAST(SUM(p.n) AS BIGINT), CAST(SUM(p.w) AS BIGINT)
		FROM pa p JOIN assets ta ON ta.id = p.asset_id WHERE ta.technology <> ''
		GROUP BY ta.technology, p.criticality, p.status`,
	ScopePolicy: `SELECT 'policy', p.policy, p.criticality, p.status, CAST(SUM(p.n) AS BIGINT), CAST(SUM(p.w) AS BIGINT) FROM pa p
		GROUP BY p.policy, p.criticality, p.status`,
	"asset": `SELECT 'asset', CAST(p.asset_id AS TEXT), p.criticality, p.status, CAST(SUM(p.n) AS BIGINT), CAST(SUM(p.w) AS BIGINT) FROM pa p
		GROUP BY p.asset_id, p.criticality, p.status`,
	"criticality": `SELECT 'criticality', CAST(p.criticality AS TEXT), p.criticality, p.status, CAST(SUM(p.n) AS BIGINT),
		CAST(SUM(p.w) AS BIGINT) FROM pa p
		GROUP BY p.criticality, p.status`,
}

// breakdown is the row breakdown of kind with the dialect's joins.
func (s *Store) breakdown(kind string) breakdown {
	bd := rowBreakdowns[kind]
	if kind == ScopeMandate {
		bd.join = s.d.jsonKeys("r.refs")
	}
	return bd
}

// membershipSQL continues coveredSQL's WITH clause with membership: every
// (group, asset) pair, static members and assets carrying all of a
// group's match tags, once each.
const membershipSQL = `, membership AS MATERIALIZED (SELECT gm.group_id, gm.asset_id FROM group_members gm
	UNION
	SELECT gt.group_id, at.asset_id FROM group_tags gt JOIN asset_tags at ON at.tag_id = gt.tag_id
	GROUP BY gt.group_id, at.asset_id
	HAVING COUNT(*) = (SELECT COUNT(*) FROM group_tags g2 WHERE g2.group_id = gt.group_id))
`

// tally is the posture of one key counted as PostureSummary counts it:
// per criticality, the rows per status and, under "x", the Fails that
// exceptions cover. It is also the stored form of a snapshot (as JSON,
// criticalities as decimal text).
type tally map[string]map[string]int

// exceptedKey is the tally entry of the excepted Fails.
const exceptedKey = "x"

// weightPrefix marks the tally entries that hold, per status (or
// exceptedKey), how far the summed weights of the rows counted differ
// from criticality x count: present only for policies with weights of
// their own, so most tallies (and snapshots) never carry one.
const weightPrefix = "w:"

// add counts n rows of crit and status whose weights sum to w.
func (t tally) add(crit int, status string, n, w int) {
	c := strconv.Itoa(crit)
	if t[c] == nil {
		t[c] = map[string]int{}
	}
	t[c][status] += n
	if d := w - crit*n; d != 0 {
		t[c][weightPrefix+status] += d
	}
}

// summary is the Summary PostureSummary returns for the counted rows.
func (t tally) summary() result.Summary {
	counts := map[policy.Criticality]map[result.Status]int{}
	excepted := map[policy.Criticality]int{}
	var wPass, wAll float64
	for c, byStatus := range t {
		n, err := strconv.Atoi(c)
		if err != nil {
			continue
		}
		crit := policy.Criticality(n)
		for st, k := range byStatus {
			w := float64(k) // a weight delta, or a count of weight crit
			if d, ok := strings.CutPrefix(st, weightPrefix); ok {
				st = d
			} else {
				w *= float64(crit)
			}
			switch result.Status(st) {
			case result.Pass:
				wPass += w
				fallthrough
			case result.Fail, result.Error:
				wAll += w
			case exceptedKey:
				wAll -= w
			}
		}
		for st, k := range byStatus {
			if strings.HasPrefix(st, weightPrefix) {
				continue
			}
			if st == exceptedKey {
				excepted[crit] += k
				continue
			}
			if counts[crit] == nil {
				counts[crit] = map[result.Status]int{}
			}
			counts[crit][result.Status(st)] += k
		}
	}
	s := result.SummaryExcepting(counts, excepted)
	s.SetWeighted(wPass, wAll)
	return s
}

// tallies counts the posture rows that w selects (conditions over the
// posture row r) per scope kind in kinds, per key, criticality and status,
// with the Fails that exceptions in force at now cover, in one statement
// (one snapshot of the database): the arithmetic of PostureSummary, once
// for every key. Keys with no posture row are missing, but for every
// group when allGroups is set (an empty tally).
//
// The kinds that are functions of the asset and policy (fleet, group,
// technology, asset, criticality, policy) share pa: the posture counted
// once per asset, policy, criticality and status, with the excepted Fails
// per asset, policy and criticality under "x". When counted is set (w's
// conditions are all on columns posture_counts has: an asset, a group, a
// technology, a policy, a criticality, a status) pa reads those counts
// from posture_counts, a few rows per asset and policy kept current at
// ingest, instead of counting the posture rows; the excepted
// Fails are counted at read time either way (exceptions are few). An excepted item belongs to one asset, so summing pa over an
// asset's keys counts it once per key, as PostureSummary does.
func (s *Store) tallies(ctx context.Context, q querier, now time.Time, kinds []string, w where, counted, allGroups bool) (map[string]map[string]tally, error) {
	var b strings.Builder
	b.WriteString(coveredSQL)
	if slices.Contains(kinds, ScopeGroup) {
		b.WriteString(membershipSQL)
	}
	args := []any{micros(now)}
	// excepted is the SELECT of the distinct excepted Fails among the
	// posture rows w selects, each with key k, joined by join.
	excepted := func(k, join string, conds []string) string {
		cond := ""
		if len(conds) > 0 {
			cond = " AND " + strings.Join(conds, " AND ")
		}
		args = append(args, w.args...)
		return `SELECT DISTINCT ` + k + ` AS k, r.asset_id, r.policy, r.cid, r.criticality, r.weight
			FROM covered c JOIN posture r ON r.asset_id = c.asset_id AND r.policy = c.policy AND r.cid = c.cid` + join + `
			WHERE r.status = 'fail' AND (c.reopen = 0 OR EXISTS (SELECT 1 FROM exception_evidence ev
				WHERE ev.exception_id = c.id AND ev.asset_id = r.asset_id AND ev.actual = r.actual))` + cond
	}
	var selects []string
	if slices.ContainsFunc(kinds, func(k string) bool { _, ok := assetBreakdowns[k]; return ok }) {
		args = append(args, w.args...)
		counts := `SELECT r.asset_id, r.policy, r.criticality, r.status, COUNT(*) AS n, SUM(` + rowWeight + `) AS w FROM posture r` + w.String() + `
			GROUP BY r.asset_id, r.policy, r.criticality, r.status`
		if counted {
			counts = `SELECT r.asset_id, r.policy, r.criticality, r.status, r.n, r.w FROM posture_counts r WHERE r.n > 0`
			if len(w.conds) > 0 {
				counts += " AND " + strings.Join(w.conds, " AND ")
			}
		}
		fmt.Fprintf(&b, `, pa AS MATERIALIZED (%s
			UNION ALL
			SELECT d.asset_id, d.policy, d.criticality, '%s', COUNT(*), SUM(COALESCE(d.weight, d.criticality)) FROM (%s) d
			GROUP BY d.asset_id, d.policy, d.criticality)
`, counts, exceptedKey, excepted("''", "", w.conds))
	}
	for _, kind := range kinds {
		if sel, ok := assetBreakdowns[kind]; ok {
			selects = append(selects, sel)
			continue
		}
		bd := s.breakdown(kind)
		conds := slices.Clone(w.conds)
		if bd.cond != "" {
			conds = append(conds, bd.cond)
		}
		cond := ""
		if len(conds) > 0 {
			cond = " AND " + strings.Join(conds, " AND ")
		}
		args = append(args, w.args...)
		sel := fmt.Sprintf(`SELECT '%s', %s, r.criticality, r.status, COUNT(*), SUM(%s) FROM posture r%s WHERE 1 = 1%s
		GROUP BY %s, r.criticality, r.status
		UNION ALL
		`, kind, bd.key, rowWeight, bd.join, cond, bd.key)
		sel += fmt.Sprintf(`SELECT '%s', d.k, d.criticality, '%s', COUNT(*), SUM(COALESCE(d.weight, d.criticality)) FROM (%s) d
		GROUP BY d.k, d.criticality`, kind, exceptedKey, excepted(bd.key, bd.join, conds))
		selects = append(selects, sel)
	}
	if allGroups {
		selects = append(selects, `SELECT 'group', CAST(id AS TEXT), 0, '', 0, 0 FROM asset_groups`)
	}
	b.WriteString(strings.Join(selects, "\nUNION ALL\n"))
	rows, err := q.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[string]tally{}
	for rows.Next() {
		var scope, key, status string
		var crit, n, wsum int
		if err := rows.Scan(&scope, &key, &crit, &status, &n, &wsum); err != nil {
			return nil, err
		}
		if out[scope] == nil {
			out[scope] = map[string]tally{}
		}
		t := out[scope][key]
		if t == nil {
			t = tally{}
			out[scope][key] = t
		}
		if status != "" {
			t.add(crit, status, n, wsum)
		}
	}
	return out, rows.Err()
}

// dayOf is the UTC midnight that starts t's UTC day.
func dayOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// periodOf is the first day of the period of granularity g that holds
// day d (a UTC midnight); weeks start on Monday.
func periodOf(d time.Time, g string) time.Time {
	switch g {
	case Week:
		return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
	case Month:
		return time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
	case Quarter:
		return time.Date(d.Year(), (d.Month()-1)/3*3+1, 1, 0, 0, 0, 0, time.UTC)
	}
	return d
}

// snapshotBatch is how many snapshot rows one upsert writes (5 values
// each).
const snapshotBatch = 200

// TakeSnapshots records today's score (the store clock's UTC day) of the
// fleet and of every group, policy and technology, from the posture with
// the exceptions in force now; a later snapshot the same day replaces the
// earlier. It returns the number of scopes recorded.
//
// The counts come from one statement (one read snapshot of the database,
// the group list included), read before the write transaction: the write
// holds SQLite's writer for the upserts alone. A snapshot never replaces
// one taken later (two replicas racing keep the later). Every group gets
// a row, an empty one too; policies and technologies those the posture
// holds (assets with no detected technology count in no technology). A
// key recorded earlier the same day that has gone since (a deleted
// group) keeps its earlier row.
func (s *Store) TakeSnapshots(ctx context.Context) (int, error) {
	now := s.now()
	day := micros(dayOf(now))
	all, err := s.tallies(ctx, s.read(), now, snapshotScopes, where{}, true, true)
	if err != nil {
		return 0, fmt.Errorf("take snapshots: %w", err)
	}
	if all[ScopeAll] == nil {
		all[ScopeAll] = map[string]tally{}
	}
	if all[ScopeAll][""] == nil {
		all[ScopeAll][""] = tally{}
	}
	var rows [][]any
	for _, scope := range snapshotScopes {
		keys := slices.Sorted(maps.Keys(all[scope]))
		for _, k := range keys {
			b, err := json.Marshal(all[scope][k])
			if err != nil {
				return 0, fmt.Errorf("take snapshots: %w", err)
			}
			rows = append(rows, []any{scope, k, day, micros(now), string(b)})
		}
	}
	err = s.write(ctx, func(t tx) error {
		for rest := rows; len(rest) > 0; {
			n := min(len(rest), snapshotBatch)
			args := make([]any, 0, 5*n)
			for _, r := range rest[:n] {
				args = append(args, r...)
			}
			q := `INSERT INTO snapshots (scope, skey, day, taken, counts) VALUES ` +
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", n), ", ") +
				` ON CONFLICT (scope, skey, day) DO UPDATE SET taken = excluded.taken, counts = excluded.counts
				WHERE snapshots.taken <= excluded.taken`
			if _, err := t.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("take snapshots: %w", err)
			}
			rest = rest[n:]
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(rows), nil
}

// SnapshotsStale says whether a scan finished after the last snapshot, or
// none was taken today: the server then takes one.
func (s *Store) SnapshotsStale(ctx context.Context) (bool, error) {
	today := micros(dayOf(s.now()))
	var day, taken int64
	err := s.read().QueryRowContext(ctx, `SELECT day, taken FROM snapshots WHERE scope = ? AND skey = ''
		ORDER BY day DESC LIMIT 1`, ScopeAll).Scan(&day, &taken)
	if isNoRows(err) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("read last snapshot: %w", err)
	}
	if day < today {
		return true, nil
	}
	var later bool
	if err := s.read().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM scans WHERE finished > ?)`, taken).Scan(&later); err != nil {
		return false, fmt.Errorf("read last scan end: %w", err)
	}
	return later, nil
}

// Trend returns one point per period that has a snapshot, oldest first.
// From and To are cut to their UTC days; a period that From or To cuts
// shows the last snapshot of its days within them. An unknown scope or
// granularity is an *InvalidError.
func (s *Store) Trend(ctx context.Context, f TrendFilter) ([]TrendPoint, error) {
	switch f.Scope {
	case ScopeAll:
		f.Key = ""
	case ScopeGroup, ScopePolicy, ScopeTechnology:
	default:
		return nil, &InvalidError{Field: "scope", Message: fmt.Sprintf("unknown scope %q (want all, group, policy or technology)", f.Scope)}
	}
	switch f.Granularity {
	case "":
		f.Granularity = Day
	case Day, Week, Month, Quarter:
	default:
		return nil, &InvalidError{Field: "granularity", Message: fmt.Sprintf("unknown granularity %q (want day, week, month or quarter)", f.Granularity)}
	}
	to := dayOf(s.now())
	if !f.To.IsZero() {
		to = dayOf(f.To)
	}
	from := to.AddDate(-1, 0, 0)
	if !f.From.IsZero() {
		from = dayOf(f.From)
	}
	rows, err := s.read().QueryContext(ctx, `SELECT day, taken, counts FROM snapshots
		WHERE scope = ? AND skey = ? AND day >= ? AND day <= ? ORDER BY day`, f.Scope, f.Key, micros(from), micros(to))
	if err != nil {
		return nil, fmt.Errorf("read trend: %w", err)
	}
	defer rows.Close()
	out := []TrendPoint{}
	for rows.Next() {
		var day, taken int64
		var counts string
		if err := rows.Scan(&day, &taken, &counts); err != nil {
			return nil, fmt.Errorf("read trend: %w", err)
		}
		var t tally
		if err := json.Unmarshal([]byte(counts), &t); err != nil {
			return nil, fmt.Errorf("read trend: decode snapshot: %w", err)
		}
		p := TrendPoint{Period: periodOf(fromMicros(day), f.Granularity), Taken: fromMicros(taken), Summary: t.summary()}
		if n := len(out); n > 0 && out[n-1].Period.Equal(p.Period) {
			out[n-1] = p // rows come by day: the last of the period wins
			continue
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read trend: %w", err)
	}
	return out, nil
}

// Changes lists the controls that went Pass -> Fail or Fail -> Pass
// between from and to on each asset: the status the posture held at from
// against the one it held at to. f narrows by asset, group, policy,
// technology, CID and criticality (f.Status and f.Scan are ignored;
// f.Page pages by nothing: at most f.Limit rows, default 1000).
//
// It reads status_changes, the log CompleteJob keeps of every status the
// posture changed: per control, the first change in the window says the
// status at from, the last the status at to and when (Change.At), so the
// cost follows what changed, not what was scanned; a control with no
// result at or before from had no status then, and is left out (one probe
// of results_item per changed control). A deleted asset's controls are
// left out;
// a from after to is an *InvalidError.
func (s *Store) Changes(ctx context.Context, from, to time.Time, f ResultFilter) ([]Change, error) {
	if from.After(to) {
		return nil, &InvalidError{Field: "from", Message: "from is after to"}
	}
	if f.Group != 0 {
		if err := s.groupExists(ctx, f.Group); err != nil {
			return nil, err
		}
	}
	f.Status, f.Scan = "", 0
	w := resultWhere(f, "")
	cond := ""
	if len(w.conds) > 0 {
		cond = " AND " + strings.Join(w.conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 1000
	}
	args := append(append([]any{micros(from), micros(to)}, w.args...), micros(from), limit)
	out, err := queryAll(ctx, s.read(), `WITH c AS (SELECT r.asset_id, r.policy, r.cid, MIN(r.id) AS first, MAX(r.id) AS last
			FROM status_changes r WHERE r.rtime > ? AND r.rtime <= ?`+cond+` GROUP BY r.asset_id, r.policy, r.cid)
		SELECT c.asset_id, a.name, c.policy, c.cid, rt.title, cf.from_status, cl.to_status, cl.rtime
		FROM c JOIN assets a ON a.id = c.asset_id
		JOIN status_changes cf ON cf.id = c.first
		JOIN status_changes cl ON cl.id = c.last
		JOIN results rt ON rt.id = cl.result_id
		WHERE cf.from_status IN ('pass', 'fail') AND cl.to_status IN ('pass', 'fail') AND cf.from_status <> cl.to_status
			AND EXISTS (SELECT 1 FROM results h WHERE h.asset_id = c.asset_id AND h.policy = c.policy AND h.cid = c.cid
				AND h.rtime <= ?)
		ORDER BY a.name, c.policy, c.cid LIMIT ?`, args, func(r scanner) (Change, error) {
		var c Change
		var fromSt, toSt string
		var at int64
		err := r.Scan(&c.AssetID, &c.Asset, &c.Policy, &c.CID, &c.Title, &fromSt, &toSt, &at)
		c.From, c.To, c.At = result.Status(fromSt), result.Status(toSt), fromMicros(at)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("list changes: %w", err)
	}
	return out, nil
}

// Scores breaks the posture's score down by "asset", "group", "policy",
// "technology", "criticality" or "mandate", with exceptions in force now,
// over the posture f selects (f.Page ignored). Rows are ordered by score,
// lowest first.
//
// By mandate there is one row per key of the items' references (cis,
// stig, ...), scoring the items whose control references that mandate: an
// item referencing two counts in both, one with no references in none.
//
// A key has a row when the posture f selects holds a row of it: a group
// with no such member, an asset of no technology, or a mandate no item
// references, has none. Ties in
// score go by key (numerically for ids and criticalities). An unknown by
// is an *InvalidError; an unknown f.Group an ErrNotFound.
func (s *Store) Scores(ctx context.Context, by string, f ResultFilter) ([]ScoreRow, error) {
	switch by {
	case "asset", ScopeGroup, ScopePolicy, ScopeTechnology, "criticality", ScopeMandate:
	default:
		return nil, &InvalidError{Field: "by", Message: fmt.Sprintf("unknown breakdown %q (want asset, group, policy, technology, criticality or mandate)", by)}
	}
	if f.Group != 0 {
		if err := s.groupExists(ctx, f.Group); err != nil {
			return nil, err
		}
	}
	// posture_counts answers the filters that are functions of the
	// asset; the others count the posture rows.
	g := f
	g.Page = Page{}
	counted := g.CID == 0 && g.Scan == 0
	all, err := s.tallies(ctx, s.read(), s.now(), []string{by}, resultWhere(f, ""), counted, false)
	if err != nil {
		return nil, fmt.Errorf("score %s: %w", by, err)
	}
	var names map[string]string
	switch by {
	case "asset":
		names, err = s.names(ctx, `SELECT id, name FROM assets`)
	case ScopeGroup:
		names, err = s.names(ctx, `SELECT id, name FROM asset_groups`)
	}
	if err != nil {
		return nil, fmt.Errorf("score %s: %w", by, err)
	}
	out := []ScoreRow{}
	for k, t := range all[by] {
		row := ScoreRow{Key: k, Name: k, Summary: t.summary()}
		switch by {
		case "asset", ScopeGroup:
			if n, ok := names[k]; ok {
				row.Name = n
			}
		case "criticality":
			if n, err := strconv.Atoi(k); err == nil {
				row.Name = policy.Criticality(n).String()
			}
		}
		out = append(out, row)
	}
	numeric := by == "asset" || by == ScopeGroup || by == "criticality"
	slices.SortFunc(out, func(a, b ScoreRow) int {
		if c := cmp.Compare(a.Score, b.Score); c != 0 {
			return c
		}
		if numeric && len(a.Key) != len(b.Key) {
			return cmp.Compare(len(a.Key), len(b.Key))
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out, nil
}

// names maps the ids a query returns (id, name) to their names.
func (s *Store) names(ctx context.Context, q string) (map[string]string, error) {
	rows, err := s.read().QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[strconv.FormatInt(id, 10)] = name
	}
	return out, rows.Err()
}
