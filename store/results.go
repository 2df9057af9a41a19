package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/plumbhq/plumb/policy"
	"github.com/plumbhq/plumb/result"
)

// resultCols are the columns results and posture share, after their ids.
const resultCols = `policy, policy_version, cid, rule, title, category, criticality, status, expected, actual,
	reason, message, method, scap_result, rtime, refs, remediation, weight`

func scanResult(r scanner) (Result, error) { return scanResultWith(r) }

// scanResultWith reads a result and then the extra columns into extra.
func scanResultWith(r scanner, extra ...any) (Result, error) {
	var x Result
	var crit int
	var status, actual, refs string
	var rtime int64
	var weight sql.NullInt64
	if err := r.Scan(append([]any{&x.ID, &x.ScanID, &x.JobID, &x.AssetID,
		&x.Policy, &x.PolicyVersion, &x.CID, &x.Rule, &x.Title, &x.Category, &crit, &status, &x.Expected, &actual,
		&x.Reason, &x.Message, &x.Method, &x.SCAPResult, &rtime, &refs, &x.Remediation, &weight}, extra...)...); err != nil {
		return x, err
	}
	x.Weight = int(weight.Int64)
	x.Criticality = policy.Criticality(crit)
	x.Status = result.Status(status)
	x.Time = fromMicros(rtime)
	var err error
	if x.Actual, err = fromJSON[string](actual); err != nil {
		return x, err
	}
	if refs != "" && refs != "null" {
		if err := json.Unmarshal([]byte(refs), &x.References); err != nil {
			return x, fmt.Errorf("decode stored references: %w", err)
		}
	}
	return x, nil
}

// scanPosture reads a posture item and the exception that covers it
// (columns id, type, owner, justification, expires; NULL when none).
func scanPosture(r scanner) (Result, error) {
	var id, expires sql.NullInt64
	var typ, owner, just sql.NullString
	x, err := scanResultWith(r, &id, &typ, &owner, &just, &expires)
	if err != nil || !id.Valid {
		return x, err
	}
	x.Excepted = &Excepted{ID: id.Int64, Type: typ.String, Owner: owner.String, Justification: just.String,
		Expires: fromMicros(expires.Int64)}
	return x, nil
}

// CompleteJob records what the worker holding attempt of job found, in one
// transaction: its results (a repeat of a policy and control in
// out.Results is dropped; the first is kept), the posture (the latest result of
// each asset, policy and control), the job's end (failed when out.Error
// is set), the asset's detected technology and seen times, and the scan's
// end once its last job ends (failed when every job failed). A job no
// longer running under attempt (its lease was taken over, or its scan
// cancelled) gets ErrLeaseLost and nothing is stored.
//
// The job's scan, asset and id are the store's own: the ScanID, JobID and
// AssetID of out.Results are ignored. A result with no PolicyVersion gets
// the latest stored version of its policy; one with no Time gets now.
func (s *Store) CompleteJob(ctx context.Context, job int64, attempt int, out JobOutcome) error {
	now := s.now()
	return s.write(ctx, func(t tx) error {
		scan, asset, err := s.endJob(ctx, t, job, attempt, out, now)
		if err != nil {
			return err
		}
		// endJob locked the asset row when it updated it; storeResults
		// locks it otherwise.
		locked := out.Technology != "" || out.Error == ""
		if err := s.storeResults(ctx, t, scan, job, asset, locked, now, out.Results); err != nil {
			return err
		}
		return s.finishScan(ctx, t, scan, job, now)
	})
}

// endJob ends job, when it is still running under attempt, as out says,
// and records on its asset the detected technology and, when the host
// was reached, the seen times. It returns the job's scan and asset. On
// PostgreSQL both updates are one statement (one round trip); the asset
// row is locked before any posture row of the asset, the order
// DeleteAsset keeps too.
func (s *Store) endJob(ctx context.Context, t tx, job int64, attempt int, out JobOutcome, now time.Time) (scan, asset int64, err error) {
	state := Finished
	if out.Error != "" {
		state = Failed
	}
	jobQ := `UPDATE jobs SET state = ?, error = ?, finished = ?, lease_until = NULL
		WHERE id = ? AND state = 'running' AND attempt = ? RETURNING scan_id, asset_id`
	jobArgs := []any{state, out.Error, micros(now), job, attempt}
	var set string
	var setArgs []any
	if out.Technology != "" || out.Error == "" {
		set = `technology = CASE WHEN ? <> '' THEN ? ELSE technology END`
		setArgs = []any{out.Technology, out.Technology}
		if out.Error == "" {
			set += `, last_seen = ?, first_seen = COALESCE(first_seen, ?)`
			setArgs = append(setArgs, micros(now), micros(now))
		}
	}
	if set != "" && s.d.writableCTE() {
		err = t.QueryRowContext(ctx, `WITH j AS (`+jobQ+`),
			a AS (UPDATE assets SET `+set+` WHERE id = (SELECT asset_id FROM j))
			SELECT scan_id, asset_id FROM j`, append(jobArgs, setArgs...)...).Scan(&scan, &asset)
		set = ""
	} else {
		err = t.QueryRowContext(ctx, jobQ, jobArgs...).Scan(&scan, &asset)
	}
	if err != nil {
		if isNoRows(err) {
			return 0, 0, leaseLost(ctx, t, job, attempt)
		}
		return 0, 0, fmt.Errorf("complete job %d: %w", job, err)
	}
	if set != "" {
		if _, err := t.ExecContext(ctx, `UPDATE assets SET `+set+` WHERE id = ?`, append(setArgs, asset)...); err != nil {
			return 0, 0, fmt.Errorf("update asset %d: %w", asset, err)
		}
	}
	return scan, asset, nil
}

// resultInsertCols are the columns storeResults fills, in order.
var resultInsertCols = append([]string{"scan_id", "job_id", "asset_id"}, splitCols(resultCols)...)

// postureUpsert copies a job's just-stored results into the posture. It
// keeps, per asset, policy and control, the result with the latest time;
// an equal time replaces it (the later scan wins). A deleted asset gets no
// posture. Rows are written in key order, so two jobs of one asset lock
// them in the same order (no deadlock). The key columns are not assigned:
// they are equal, and leaving them out spares SQLite rewriting the indexes
// that hold them.
var postureUpsert = `INSERT INTO posture (asset_id, result_id, scan_id, job_id, ` + resultCols + `)
	SELECT r.asset_id, r.id, r.scan_id, r.job_id, ` + prefixed("r.", resultCols) + ` FROM results r
	WHERE r.job_id = ? AND EXISTS (SELECT 1 FROM assets a WHERE a.id = r.asset_id)
	ORDER BY r.policy, r.cid
	ON CONFLICT (asset_id, policy, cid) DO UPDATE SET result_id = excluded.result_id, scan_id = excluded.scan_id,
		job_id = excluded.job_id, ` + assignExcluded(resultCols, "policy", "cid") + `
	WHERE excluded.rtime >= posture.rtime`

// statusChangesInsert logs, before postureUpsert runs, the posture rows
// whose status a job's result (not an older one) is about to change.
const statusChangesInsert = `INSERT INTO status_changes (asset_id, policy, cid, criticality, from_status, to_status, rtime, result_id)
	SELECT r.asset_id, r.policy, r.cid, r.criticality, p.status, r.status, r.rtime, r.id
	FROM results r JOIN posture p ON p.asset_id = r.asset_id AND p.policy = r.policy AND p.cid = r.cid
	WHERE r.job_id = ? AND p.status <> r.status AND r.rtime >= p.rtime
	ORDER BY r.policy, r.cid`

// rowWeight is a posture row's weight in the weighted score.
const rowWeight = "COALESCE(r.weight, r.criticality)"

// postureCountsDelete and postureCountsInsert recount the posture of one
// asset (each takes the asset id) into posture_counts, on SQLite, where writes
// are serial.
const (
	postureCountsDelete = `DELETE FROM posture_counts WHERE asset_id = ?`
	postureCountsInsert = `INSERT INTO posture_counts (asset_id, policy, criticality, status, n, w)
	SELECT asset_id, policy, criticality, status, COUNT(*), SUM(` + rowWeight + `) FROM posture r WHERE asset_id = ?
	GROUP BY asset_id, policy, criticality, status`
)

// postureCountsRecount recounts the posture of one asset (the asset id
// twice) into posture_counts in one statement, on PostgreSQL: the counts
// that changed are updated, those of a status the asset no longer has
// deleted, and unchanged ones left unwritten.
const postureCountsRecount = `WITH c AS (SELECT asset_id, policy, criticality, status, COUNT(*) AS n, SUM(` + rowWeight + `) AS w
		FROM posture r WHERE asset_id = ?
		GROUP BY asset_id, policy, criticality, status),
	d AS (DELETE FROM posture_counts pc WHERE pc.asset_id = ?
		AND NOT EXISTS (SELECT 1 FROM c WHERE c.policy = pc.policy AND c.criticality = pc.criticality AND c.status = pc.status))
	INSERT INTO posture_counts (asset_id, policy, criticality, status, n, w) SELECT asset_id, policy, criticality, status, n, w FROM c
	ON CONFLICT (asset_id, policy, criticality, status) DO UPDATE SET n = excluded.n, w = excluded.w
		WHERE posture_counts.n <> excluded.n OR posture_counts.w <> excluded.w`

// recountPosture brings the posture_counts of asset up to date with its
// posture, in t. On PostgreSQL the caller holds the asset row's lock, so
// the posture writers of one asset recount one after another, each seeing
// the last one's posture.
func (s *Store) recountPosture(ctx context.Context, t tx, asset int64) error {
	if s.d.writableCTE() {
		if _, err := t.ExecContext(ctx, postureCountsRecount, asset, asset); err != nil {
			return fmt.Errorf("count posture of asset %d: %w", asset, err)
		}
		return nil
	}
	if _, err := t.execHot(ctx, postureCountsDelete, asset); err != nil {
		return fmt.Errorf("count posture of asset %d: %w", asset, err)
	}
	if _, err := t.execHot(ctx, postureCountsInsert, asset); err != nil {
		return fmt.Errorf("count posture of asset %d: %w", asset, err)
	}
	return nil
}

// hotStatements are the statements of CompleteJob that SQLite prepares
// once: the result inserts of every batch size, the posture update and
// the posture recount.
func hotStatements() []string {
	qs := []string{statusChangesInsert, postureUpsert, postureCountsDelete, postureCountsInsert}
	for n := 1; n <= sqliteBatch; n *= 2 {
		qs = append(qs, sqliteInsert("results", resultInsertCols, n))
	}
	return qs
}

// storeResults inserts rs for job and brings the posture up to date. A
// result repeating the policy and control of an earlier one in rs (a
// worker that sent its batch twice) is dropped. The rows go in by COPY on
// PostgreSQL and by batched, prepared INSERTs on SQLite; a row the unique
// key (job, policy, control) refuses fails the whole transaction. The
// asset's posture_counts are recounted; on PostgreSQL the asset row is
// locked first (unless locked says the caller holds it), before any
// posture row, so the posture writers of one asset take turns.
func (s *Store) storeResults(ctx context.Context, t tx, scan, job, asset int64, locked bool, now time.Time, rs []Result) error {
	if len(rs) == 0 {
		return nil
	}
	type key struct {
		policy string
		cid    int
	}
	seen := make(map[key]bool, len(rs))
	versions := map[string]int{}
	rows := make([][]any, 0, len(rs))
	for _, r := range rs {
		k := key{r.Policy, r.CID}
		if seen[k] {
			continue
		}
		seen[k] = true
		v := r.PolicyVersion
		if v == 0 {
			var ok bool
			if v, ok = versions[r.Policy]; !ok {
				if err := t.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM policies WHERE id = ?`, r.Policy).Scan(&v); err != nil {
					return fmt.Errorf("read version of policy %q: %w", r.Policy, err)
				}
				versions[r.Policy] = v
			}
		}
		rt := r.Time
		if rt.IsZero() {
			rt = now
		}
		refs := "{}"
		if len(r.References) > 0 {
			b, err := json.Marshal(r.References)
			if err != nil {
				return fmt.Errorf("encode references of control %d: %w", r.CID, err)
			}
			refs = string(b)
		}
		var weight any // NULL: the criticality
		if r.Weight != 0 {
			if r.Weight < 0 || r.Weight > policy.MaxWeight {
				return &InvalidError{Field: "results.weight", Message: fmt.Sprintf("control %d: weight %d is not from 1 to %d", r.CID, r.Weight, policy.MaxWeight)}
			}
			weight = r.Weight
		}
		rows = append(rows, []any{scan, job, asset,
			r.Policy, v, r.CID, r.Rule, r.Title, r.Category, int(r.Criticality), string(r.Status), r.Expected,
			jsonText(r.Actual), r.Reason, r.Message, r.Method, r.SCAPResult, micros(rt), refs, r.Remediation, weight})
	}
	if err := s.d.insertRows(ctx, t, "results", resultInsertCols, rows); err != nil {
		return fmt.Errorf("store results of job %d: %w", job, err)
	}
	if !locked && !s.d.serialWrites() {
		var one int
		err := t.QueryRowContext(ctx, `SELECT 1 FROM assets WHERE id = ? FOR NO KEY UPDATE`, asset).Scan(&one)
		if err != nil && !isNoRows(err) {
			return fmt.Errorf("lock asset %d: %w", asset, err)
		}
	}
	if _, err := t.execHot(ctx, statusChangesInsert, job); err != nil {
		return fmt.Errorf("log status changes of job %d: %w", job, err)
	}
	if _, err := t.execHot(ctx, postureUpsert, job); err != nil {
		return fmt.Errorf("update posture from job %d: %w", job, err)
	}
	return s.recountPosture(ctx, t, asset)
}

// splitCols splits a column list.
func splitCols(cols string) []string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = strings.TrimSpace(c)
	}
	return parts
}

// prefixed qualifies every column of a column list.
func prefixed(prefix, cols string) string {
	parts := splitCols(cols)
	for i, c := range parts {
		parts[i] = prefix + c
	}
	return strings.Join(parts, ", ")
}

// assignExcluded is "c = excluded.c" for every column of a column list
// but the skipped ones.
func assignExcluded(cols string, skip ...string) string {
	var parts []string
	for _, c := range splitCols(cols) {
		if !slices.Contains(skip, c) {
			parts = append(parts, c+" = excluded."+c)
		}
	}
	return strings.Join(parts, ", ")
}

// finishScan ends scan, when it is queued or running and its jobs have
// all ended, in the transaction that just ended job. The scan finishes,
// or fails when every job failed.
//
// On PostgreSQL the last two jobs of a scan may end at once, each in a
// READ COMMITTED transaction that sees the other's job still running;
// neither may then leave the scan open. Most jobs are not the last, and
// show it without waiting for anyone: they lock another open job of the
// scan that no transaction holds (SKIP LOCKED). That job cannot end until
// this transaction commits, and the transaction that ends it will see this
// job ended. Only when every other open job is held by a transaction (so
// perhaps ending right now) does the job take turns on the scan row with
// the others in the same case, and the second to get it sees the first.
// The scan row is locked after the jobs, the order ClaimJob and CancelScan
// keep, so no deadlock.
func (s *Store) finishScan(ctx context.Context, t tx, scan, job int64, now time.Time) error {
	if !s.d.serialWrites() {
		var other int64
		err := t.QueryRowContext(ctx, `SELECT id FROM jobs WHERE scan_id = ? AND state IN ('queued', 'running') AND id <> ?
			LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED`, scan, job).Scan(&other)
		if err == nil {
			return nil
		}
		if !isNoRows(err) {
			return fmt.Errorf("check jobs of scan %d: %w", scan, err)
		}
		var state string
		if err := t.QueryRowContext(ctx, `SELECT state FROM scans WHERE id = ?`+s.d.forUpdate(), scan).Scan(&state); err != nil {
			return fmt.Errorf("read scan %d: %w", scan, err)
		}
		if state != Queued && state != Running {
			return nil
		}
	}
	// The NOT EXISTS probes the (scan_id, state) index once: no count of
	// every job of a large scan.
	if _, err := t.ExecContext(ctx, `UPDATE scans SET state = CASE
			WHEN EXISTS (SELECT 1 FROM jobs WHERE scan_id = ?)
			AND NOT EXISTS (SELECT 1 FROM jobs WHERE scan_id = ? AND state <> 'failed') THEN 'failed'
			ELSE 'finished' END,
		finished = ?, started = COALESCE(started, ?)
		WHERE id = ? AND state IN ('queued', 'running')
		AND NOT EXISTS (SELECT 1 FROM jobs WHERE scan_id = ? AND state IN ('queued', 'running'))`,
		scan, scan, micros(now), micros(now), scan, scan); err != nil {
		return fmt.Errorf("finish scan %d: %w", scan, err)
	}
	return nil
}

// resultWhere is the filter shared by ListResults and Posture; idCol is the
// column the page runs over.
// An empty idCol leaves the page out.
func resultWhere(f ResultFilter, idCol string) where {
	var w where
	if idCol != "" {
		w.add(idCol+" > ?", f.After)
	}
	if f.Scan != 0 {
		w.add("r.scan_id = ?", f.Scan)
	}
	if f.Asset != 0 {
		w.add("r.asset_id = ?", f.Asset)
	}
	if f.Group != 0 {
		w.add(inGroup("r.asset_id"), f.Group, f.Group, f.Group)
	}
	if f.Policy != "" {
		w.add("r.policy = ?", f.Policy)
	}
	if f.Technology != "" {
		w.add("EXISTS (SELECT 1 FROM assets a WHERE a.id = r.asset_id AND a.technology = ?)", f.Technology)
	}
	if f.Status != "" {
		w.add("r.status = ?", f.Status)
	}
	if f.CID != 0 {
		w.add("r.cid = ?", f.CID)
	}
	if f.Criticality != 0 {
		w.add("r.criticality >= ?", f.Criticality)
	}
	return w
}

// ListResults returns one page of stored results that match f, by id:
// the full history, every scan's results.
func (s *Store) ListResults(ctx context.Context, f ResultFilter) ([]Result, error) {
	if f.Group != 0 {
		if err := s.groupExists(ctx, f.Group); err != nil {
			return nil, err
		}
	}
	w := resultWhere(f, "r.id")
	out, err := queryAll(ctx, s.read(), `SELECT r.id, r.scan_id, r.job_id, r.asset_id, `+prefixed("r.", resultCols)+
		` FROM results r`+w.String()+` ORDER BY r.id LIMIT ?`, append(w.args, f.limit()), scanResult)
	if err != nil {
		return nil, fmt.Errorf("list results: %w", err)
	}
	return out, nil
}

// Posture returns one page of the current posture that matches f: the
// latest result of every asset, policy and control, ordered (and paged)
// by the id of that result, which is the ID each Result carries. A Fail
// that an approved, unexpired exception covers is Fail (excepted): its
// Excepted names the exception (the lowest id if several apply). Status
// "fail" lists excepted Fails too.
//
// The page is cut first, and the exceptions are looked up for its rows
// alone.
func (s *Store) Posture(ctx context.Context, f ResultFilter) ([]Result, error) {
	if f.Group != 0 {
		if err := s.groupExists(ctx, f.Group); err != nil {
			return nil, err
		}
	}
	w := resultWhere(f, "r.result_id")
	now := micros(s.now())
	args := append(w.args, f.limit(), now, now)
	// One asset's posture is a few hundred rows its key finds: sorting
	// them beats walking the result_id index, which PostgreSQL picks for
	// the ORDER BY ... LIMIT and which passes every other asset's rows
	// first (450 ms for one asset at 10,000 x 300). "+ 0" keeps that
	// index out of the plan.
	order := "r.result_id"
	if f.Asset != 0 {
		order = "r.result_id + 0"
	}
	out, err := queryAll(ctx, s.read(), `SELECT p.result_id, p.scan_id, p.job_id, p.asset_id, `+prefixed("p.", resultCols)+`,
		x.id, x.type, x.owner, x.justification, x.expires
		FROM (SELECT r.result_id, r.scan_id, r.job_id, r.asset_id, `+prefixed("r.", resultCols)+
		` FROM posture r`+w.String()+` ORDER BY `+order+` LIMIT ?) p
		LEFT JOIN exceptions x ON x.id = CASE WHEN p.status = 'fail' THEN `+exceptedSQL("p")+` END
		ORDER BY p.result_id`, args, scanPosture)
	if err != nil {
		return nil, fmt.Errorf("read posture: %w", err)
	}
	return out, nil
}

// MaxPostureOf bounds the assets of one PostureOf call.
const MaxPostureOf = 1000

// PostureOf returns the whole posture of policy on assets (at most
// MaxPostureOf), ordered by asset id and CID, with exceptions applied as
// Posture applies them: a report reads its scope a batch of assets at a
// time, in one statement per batch.
func (s *Store) PostureOf(ctx context.Context, policy string, assets []int64) ([]Result, error) {
	if len(assets) == 0 {
		return nil, nil
	}
	if len(assets) > MaxPostureOf {
		return nil, &InvalidError{Field: "assets", Message: fmt.Sprintf("at most %d assets at a time, not %d", MaxPostureOf, len(assets))}
	}
	now := micros(s.now())
	args := []any{now, now, policy} // the exception lookup's times first
	marks := make([]string, len(assets))
	for i, a := range assets {
		marks[i] = "?"
		args = append(args, a)
	}
	out, err := queryAll(ctx, s.read(), `SELECT p.result_id, p.scan_id, p.job_id, p.asset_id, `+prefixed("p.", resultCols)+`,
		x.id, x.type, x.owner, x.justification, x.expires
		FROM posture p
		LEFT JOIN exceptions x ON x.id = CASE WHEN p.status = 'fail' THEN `+exceptedSQL("p")+` END
		WHERE p.policy = ? AND p.asset_id IN (`+strings.Join(marks, ", ")+`)
		ORDER BY p.asset_id, p.cid`, args, scanPosture)
	if err != nil {
		return nil, fmt.Errorf("read posture of %d assets: %w", len(assets), err)
	}
	return out, nil
}

// PostureSummary rolls up the current posture that matches f (its Page
// is ignored): the database counts the rows per criticality and status,
// and the Fails among them that exceptions cover per criticality, in one
// statement (one snapshot); result.SummaryExcepting does the arithmetic
// Summarize does for results in memory, leaving the excepted Fails out of
// the score. An unknown group is an ErrNotFound.
func (s *Store) PostureSummary(ctx context.Context, f ResultFilter) (result.Summary, error) {
	if f.Group != 0 {
		if err := s.groupExists(ctx, f.Group); err != nil {
			return result.Summary{}, err
		}
	}
	w := resultWhere(f, "")
	// The excepted count joins what the exceptions cover to the posture
	// by its key: its cost follows the exceptions, not the posture.
	cond := ""
	if len(w.conds) > 0 {
		cond = " AND " + strings.Join(w.conds, " AND ")
	}
	args := append(append([]any{micros(s.now())}, w.args...), w.args...)
	// The filters on an asset, its groups and technology, the policy,
	// criticality and status are columns of posture_counts too: its few
	// rows per asset and policy answer them; a CID or scan needs the
	// posture rows.
	counts := `SELECT r.criticality, r.status, COUNT(*), SUM(` + rowWeight + `) FROM posture r` + w.String() + `
		GROUP BY r.criticality, r.status`
	if f.CID == 0 && f.Scan == 0 {
		counts = `SELECT r.criticality, r.status, CAST(SUM(r.n) AS BIGINT), CAST(SUM(r.w) AS BIGINT) FROM posture_counts r WHERE r.n > 0` + cond + `
		GROUP BY r.criticality, r.status`
	}
	rows, err := s.read().QueryContext(ctx, coveredSQL+counts+`
		UNION ALL
		SELECT d.criticality, '`+exceptedKey+`', COUNT(*), SUM(COALESCE(d.weight, d.criticality)) FROM (
			SELECT DISTINCT r.asset_id, r.policy, r.cid, r.criticality, r.weight
			FROM covered c JOIN posture r ON r.asset_id = c.asset_id AND r.policy = c.policy AND r.cid = c.cid
			WHERE r.status = 'fail' AND (c.reopen = 0 OR EXISTS (SELECT 1 FROM exception_evidence ev
				WHERE ev.exception_id = c.id AND ev.asset_id = r.asset_id AND ev.actual = r.actual))`+cond+`) d
		GROUP BY d.criticality`, args...)
	if err != nil {
		return result.Summary{}, fmt.Errorf("summarize posture: %w", err)
	}
	defer rows.Close()
	t := tally{}
	for rows.Next() {
		var crit, n, wsum int
		var st string
		if err := rows.Scan(&crit, &st, &n, &wsum); err != nil {
			return result.Summary{}, fmt.Errorf("summarize posture: %w", err)
		}
		t.add(crit, st, n, wsum)
	}
	if err := rows.Err(); err != nil {
		return result.Summary{}, fmt.Errorf("summarize posture: %w", err)
	}
	return t.summary(), nil
}
