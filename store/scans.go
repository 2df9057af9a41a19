package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

func scanObject(id int64) string { return "scan/" + strconv.FormatInt(id, 10) }

const scanCols = `s.id, s.name, s.policies, s.assets, s.group_ids, s.credential_id, s.schedule_id, s.state,
	s.created_by, s.created, s.started, s.finished,
	(SELECT COUNT(*) FROM jobs j WHERE j.scan_id = s.id),
	(SELECT COUNT(*) FROM jobs j WHERE j.scan_id = s.id AND j.state IN ('finished', 'failed')),
	(SELECT COUNT(*) FROM jobs j WHERE j.scan_id = s.id AND j.state = 'failed')`

func scanScan(r scanner) (Scan, error) {
	var sc Scan
	var policies, assets, groups string
	var cred, sched, started, finished sql.NullInt64
	var created int64
	if err := r.Scan(&sc.ID, &sc.Name, &policies, &assets, &groups, &cred, &sched, &sc.State,
		&sc.CreatedBy, &created, &started, &finished, &sc.Jobs, &sc.Done, &sc.Failures); err != nil {
		return sc, err
	}
	var err error
	if sc.Policies, err = fromJSON[string](policies); err != nil {
		return sc, err
	}
	if sc.Assets, err = fromJSON[int64](assets); err != nil {
		return sc, err
	}
	if sc.Groups, err = fromJSON[int64](groups); err != nil {
		return sc, err
	}
	sc.CredentialID, sc.ScheduleID = cred.Int64, sched.Int64
	sc.Created = fromMicros(created)
	sc.Started, sc.Finished = timePtr(started), timePtr(finished)
	return sc, nil
}

// uniqueIDs drops repeated ids, keeping the first; never nil.
func uniqueIDs(in []int64) []int64 {
	out := make([]int64, 0, len(in))
	seen := map[int64]bool{}
	for _, id := range in {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// assetsExist reports the first of ids that names no asset as an
// ErrNotFound naming field.
func assetsExist(ctx context.Context, q querier, field string, ids []int64) error {
	const chunk = 500
	for i := 0; i < len(ids); i += chunk {
		part := ids[i:min(i+chunk, len(ids))]
		args := make([]any, len(part))
		for k, id := range part {
			args[k] = id
		}
		found, err := queryAll(ctx, q, `SELECT id FROM assets WHERE id IN (`+placeholders(len(part))+`)`, args,
			scanID)
		if err != nil {
			return fmt.Errorf("check %s: %w", field, err)
		}
		have := make(map[int64]bool, len(found))
		for _, id := range found {
			have[id] = true
		}
		for _, id := range part {
			if !have[id] {
				return fmt.Errorf("%s: asset %d: %w", field, id, ErrNotFound)
			}
		}
	}
	return nil
}

// CreateScan stores a scan and queues one job per asset in assets (the
// targets resolved from sc.Assets and sc.Groups by the caller; repeats are
// dropped), in one transaction. sc.Assets and sc.Groups record what was
// asked for; when both are empty, Assets records the resolved list. A
// scan with no assets is finished at once: there is nothing to wait for.
func (s *Store) CreateScan(ctx context.Context, sc Scan, assets []int64, actor string) (Scan, error) {
	assets = uniqueIDs(assets)
	if sc.Policies == nil {
		sc.Policies = []string{}
	}
	if len(sc.Assets) == 0 && len(sc.Groups) == 0 {
		sc.Assets = assets
	}
	if sc.Assets == nil {
		sc.Assets = []int64{}
	}
	if sc.Groups == nil {
		sc.Groups = []int64{}
	}
	now := s.now()
	sc.ID, sc.State, sc.CreatedBy, sc.Created = 0, Queued, actor, now
	sc.Started, sc.Finished = nil, nil
	sc.Jobs, sc.Done, sc.Failures = len(assets), 0, 0
	if len(assets) == 0 {
		sc.State, sc.Started, sc.Finished = Finished, &now, &now
	}
	in := sc
	err := s.write(ctx, func(t tx) error {
		sc = in
		if err := assetsExist(ctx, t, "assets", assets); err != nil {
			return err
		}
		if err := credentialExists(ctx, t, sc.CredentialID); err != nil {
			return err
		}
		if sc.ScheduleID != 0 {
			var one int
			err := t.QueryRowContext(ctx, `SELECT 1 FROM schedules WHERE id = ?`, sc.ScheduleID).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("schedule_id: schedule %d: %w", sc.ScheduleID, ErrNotFound)
			}
			if err != nil {
				return fmt.Errorf("check schedule: %w", err)
			}
		}
		err := t.QueryRowContext(ctx, `INSERT INTO scans (name, policies, assets, group_ids, credential_id, schedule_id,
			state, created_by, created, started, finished) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			sc.Name, jsonText(sc.Policies), jsonText(sc.Assets), jsonText(sc.Groups), nullID(sc.CredentialID),
			nullID(sc.ScheduleID), sc.State, actor, micros(now), nullMicros(sc.Started), nullMicros(sc.Finished)).Scan(&sc.ID)
		if err != nil {
			return fmt.Errorf("create scan: %w", err)
		}
		const chunk = 500
		for i := 0; i < len(assets); i += chunk {
			part := assets[i:min(i+chunk, len(assets))]
			args := make([]any, 0, 2*len(part))
			q := `INSERT INTO jobs (scan_id, asset_id, state, attempt, worker, error) VALUES `
			for k, id := range part {
				if k > 0 {
					q += ", "
				}
				q += "(?, ?, 'queued', 0, '', '')"
				args = append(args, sc.ID, id)
			}
			if _, err := t.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("queue scan jobs: %w", err)
			}
		}
		return s.audit(ctx, t, now, actor, "scan.create", scanObject(sc.ID),
			fmt.Sprintf("name=%s; jobs=%d", sc.Name, len(assets)))
	})
	if err != nil {
		return Scan{}, err
	}
	return sc, nil
}

func getScan(ctx context.Context, q querier, id int64) (Scan, error) {
	sc, err := scanScan(q.QueryRowContext(ctx, `SELECT `+scanCols+` FROM scans s WHERE s.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Scan{}, fmt.Errorf("scan %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Scan{}, fmt.Errorf("read scan %d: %w", id, err)
	}
	return sc, nil
}

// GetScan returns one scan with its progress counts.
func (s *Store) GetScan(ctx context.Context, id int64) (Scan, error) {
	return getScan(ctx, s.read(), id)
}

// ListScans returns one page of scans, by id, with their progress counts.
func (s *Store) ListScans(ctx context.Context, f ScanFilter) ([]Scan, error) {
	var w where
	w.add("s.id > ?", f.After)
	if f.State != "" {
		w.add("s.state = ?", f.State)
	}
	out, err := queryAll(ctx, s.read(), `SELECT `+scanCols+` FROM scans s`+w.String()+` ORDER BY s.id LIMIT ?`,
		append(w.args, f.limit()), scanScan)
	if err != nil {
		return nil, fmt.Errorf("list scans: %w", err)
	}
	return out, nil
}

// CancelScan stops a queued or running scan: its queued and running jobs
// are cancelled, so no worker takes them and a worker still holding one
// gets ErrLeaseLost when it completes. Cancelling a finished or failed
// scan is a *ConflictError on "state"; cancelling a cancelled scan is a
// no-op.
func (s *Store) CancelScan(ctx context.Context, id int64, actor string) error {
	now := s.now()
	return s.write(ctx, func(t tx) error {
		// Jobs before the scan row: ClaimJob and CompleteJob lock a job
		// and then its scan, and the same order cannot deadlock.
		res, err := t.ExecContext(ctx, `UPDATE jobs SET state = 'cancelled', lease_until = NULL, finished = ?
			WHERE scan_id = ? AND state IN ('queued', 'running')`, micros(now), id)
		if err != nil {
			return fmt.Errorf("cancel scan %d jobs: %w", id, err)
		}
		n, _ := res.RowsAffected()
		var state string
		err = t.QueryRowContext(ctx, `SELECT state FROM scans WHERE id = ?`+s.d.forUpdate(), id).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("scan %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read scan %d: %w", id, err)
		}
		switch state {
		case Cancelled:
			return nil
		case Finished, Failed:
			return &ConflictError{Field: "state", Value: state}
		}
		if _, err := t.ExecContext(ctx, `UPDATE scans SET state = 'cancelled', finished = ? WHERE id = ?`, micros(now), id); err != nil {
			return fmt.Errorf("cancel scan %d: %w", id, err)
		}
		return s.audit(ctx, t, now, actor, "scan.cancel", scanObject(id), fmt.Sprintf("was=%s; jobs cancelled=%d", state, n))
	})
}

const jobCols = `id, scan_id, asset_id, state, attempt, worker, lease_until, error, started, finished`

func scanJob(r scanner) (Job, error) {
	var j Job
	var lease, started, finished sql.NullInt64
	if err := r.Scan(&j.ID, &j.ScanID, &j.AssetID, &j.State, &j.Attempt, &j.Worker, &lease, &j.Error, &started, &finished); err != nil {
		return j, err
	}
	j.LeaseUntil, j.Started, j.Finished = timePtr(lease), timePtr(started), timePtr(finished)
	return j, nil
}

// ListJobs returns every job of a scan, by id.
func (s *Store) ListJobs(ctx context.Context, scan int64) ([]Job, error) {
	q := s.read()
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM scans WHERE id = ?`, scan).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("scan %d: %w", scan, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read scan %d: %w", scan, err)
	}
	js, err := queryAll(ctx, q, `SELECT `+jobCols+` FROM jobs WHERE scan_id = ? ORDER BY id`, []any{scan}, scanJob)
	if err != nil {
		return nil, fmt.Errorf("list jobs of scan %d: %w", scan, err)
	}
	return js, nil
}

func getJob(ctx context.Context, q querier, id int64) (Job, error) {
	j, err := scanJob(q.QueryRowContext(ctx, `SELECT `+jobCols+` FROM jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, fmt.Errorf("job %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Job{}, fmt.Errorf("read job %d: %w", id, err)
	}
	return j, nil
}

// GetJob returns one job.
func (s *Store) GetJob(ctx context.Context, id int64) (Job, error) {
	return getJob(ctx, s.read(), id)
}

// DefaultLease is the lease ClaimJob and RenewLease grant when asked for
// none.
const DefaultLease = 5 * time.Minute

// DefaultMaxAttempts is the MaxAttempts of a Store that sets none.
const DefaultMaxAttempts = 3

// ClaimJob hands worker the oldest job that is queued, or running under a
// lease that has expired (its worker died), of a scan that is still
// queued or running. The job becomes running under a new attempt with a
// lease of lease from now; the scan becomes running. With no job to hand
// out it returns ok false and no error. Each job goes to one worker at a
// time, however many servers and workers ask at once.
//
// A job whose lease expired under its MaxAttempts-th attempt is not
// handed out again: ClaimJob marks it failed, with an error saying so,
// ends its scan when that was the scan's last open job, and looks for
// another.
func (s *Store) ClaimJob(ctx context.Context, worker string, lease time.Duration) (Job, bool, error) {
	if lease <= 0 {
		lease = DefaultLease
	}
	maxAttempts := s.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	now := s.now()
	var j Job
	var ok bool
	err := s.write(ctx, func(t tx) error {
		ok = false
		for {
			var id, scan int64
			var attempt int
			var state string
			err := t.QueryRowContext(ctx, `SELECT j.id, j.scan_id, j.state, j.attempt FROM jobs j JOIN scans s ON s.id = j.scan_id
				WHERE (j.state = 'queued' OR (j.state = 'running' AND j.lease_until < ?))
				AND s.state IN ('queued', 'running')
				ORDER BY j.id LIMIT 1`+s.d.skipLocked("j"), micros(now)).Scan(&id, &scan, &state, &attempt)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("claim job: %w", err)
			}
			if state == Running && attempt >= maxAttempts {
				if err := s.abandonJob(ctx, t, id, scan, attempt, now); err != nil {
					return err
				}
				continue
			}
			j, err = scanJob(t.QueryRowContext(ctx, `UPDATE jobs SET state = 'running', attempt = attempt + 1, worker = ?,
				lease_until = ?, started = COALESCE(started, ?) WHERE id = ? RETURNING `+jobCols,
				worker, micros(now.Add(lease)), micros(now), id))
			if err != nil {
				return fmt.Errorf("claim job %d: %w", id, err)
			}
			if _, err := t.ExecContext(ctx, `UPDATE scans SET state = 'running', started = COALESCE(started, ?)
				WHERE id = ? AND state = 'queued'`, micros(now), scan); err != nil {
				return fmt.Errorf("start scan %d: %w", scan, err)
			}
			ok = true
			return nil
		}
	})
	if err != nil {
		return Job{}, false, err
	}
	return j, ok, nil
}

// abandonJob fails job, held by t, whose lease expired under its last
// allowed attempt: a job that stops every worker that takes it (one that
// crashes the scanner, say) must not be handed out forever. Its scan ends
// when that was its last open job.
func (s *Store) abandonJob(ctx context.Context, t tx, job, scan int64, attempts int, now time.Time) error {
	msg := fmt.Sprintf("abandoned after %d attempts: each worker stopped renewing its lease", attempts)
	if _, err := t.ExecContext(ctx, `UPDATE jobs SET state = 'failed', error = ?, finished = ?, lease_until = NULL WHERE id = ?`,
		msg, micros(now), job); err != nil {
		return fmt.Errorf("abandon job %d: %w", job, err)
	}
	return s.finishScan(ctx, t, scan, job, now)
}

// leaseLost tells ErrLeaseLost from ErrNotFound once an update that
// required the job running under attempt touched nothing.
func leaseLost(ctx context.Context, q querier, job int64, attempt int) error {
	j, err := getJob(ctx, q, job)
	if err != nil {
		return err
	}
	return fmt.Errorf("job %d attempt %d (now %s, attempt %d): %w", job, attempt, j.State, j.Attempt, ErrLeaseLost)
}

// RenewLease extends the lease of a job still running under attempt to
// lease from now; otherwise it returns ErrLeaseLost and the worker should
// stop.
func (s *Store) RenewLease(ctx context.Context, job int64, attempt int, lease time.Duration) error {
	if lease <= 0 {
		lease = DefaultLease
	}
	now := s.now()
	return s.write(ctx, func(t tx) error {
		res, err := t.ExecContext(ctx, `UPDATE jobs SET lease_until = ? WHERE id = ? AND state = 'running' AND attempt = ?`,
			micros(now.Add(lease)), job, attempt)
		if err != nil {
			return fmt.Errorf("renew lease of job %d: %w", job, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("renew lease of job %d: %w", job, err)
		} else if n == 0 {
			return leaseLost(ctx, t, job, attempt)
		}
		return nil
	})
}

func scanID(r scanner) (int64, error) {
	var id int64
	err := r.Scan(&id)
	return id, err
}
