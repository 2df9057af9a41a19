package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

func scheduleObject(id int64) string { return "schedule/" + strconv.FormatInt(id, 10) }

const scheduleCols = `id, name, policies, assets, group_ids, credential_id, every_us, next_run, created_by, created`

func scanSchedule(r scanner) (Schedule, error) {
	var sc Schedule
	var policies, assets, groups string
	var cred sql.NullInt64
	var every, next, created int64
	if err := r.Scan(&sc.ID, &sc.Name, &policies, &assets, &groups, &cred, &every, &next, &sc.CreatedBy, &created); err != nil {
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
	sc.CredentialID = cred.Int64
	sc.Every = time.Duration(every) * time.Microsecond
	sc.Next, sc.Created = fromMicros(next), fromMicros(created)
	return sc, nil
}

// CreateSchedule stores a schedule that launches a scan every sc.Every
// (at least a minute, else an *InvalidError on "every"), first at sc.Next
// (default now). Its assets and groups are resolved when it fires, so a
// group that grows is scanned whole.
func (s *Store) CreateSchedule(ctx context.Context, sc Schedule, actor string) (Schedule, error) {
	sc.Name = strings.TrimSpace(sc.Name)
	if sc.Every < time.Minute {
		return Schedule{}, &InvalidError{Field: "every", Message: "must be at least 1m, not " + sc.Every.String()}
	}
	sc.Every = sc.Every.Truncate(time.Microsecond)
	now := s.now()
	if sc.Next.IsZero() {
		sc.Next = now
	}
	sc.Next = fromMicros(micros(sc.Next))
	if sc.Policies == nil {
		sc.Policies = []string{}
	}
	sc.Assets, sc.Groups = uniqueIDs(sc.Assets), uniqueIDs(sc.Groups)
	sc.ID, sc.CreatedBy, sc.Created = 0, actor, now
	in := sc
	err := s.write(ctx, func(t tx) error {
		sc = in
		if err := credentialExists(ctx, t, sc.CredentialID); err != nil {
			return err
		}
		err := t.QueryRowContext(ctx, `INSERT INTO schedules (name, policies, assets, group_ids, credential_id, every_us,
			next_run, created_by, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			sc.Name, jsonText(sc.Policies), jsonText(sc.Assets), jsonText(sc.Groups), nullID(sc.CredentialID),
			sc.Every.Microseconds(), micros(sc.Next), actor, micros(now)).Scan(&sc.ID)
		if err != nil {
			return fmt.Errorf("create schedule: %w", err)
		}
		return s.audit(ctx, t, now, actor, "schedule.create", scheduleObject(sc.ID),
			fmt.Sprintf("name=%s; every=%s", sc.Name, sc.Every))
	})
	if err != nil {
		return Schedule{}, err
	}
	return sc, nil
}

// ListSchedules returns one page of schedules, by id.
func (s *Store) ListSchedules(ctx context.Context, p Page) ([]Schedule, error) {
	out, err := queryAll(ctx, s.read(), `SELECT `+scheduleCols+` FROM schedules WHERE id > ? ORDER BY id LIMIT ?`,
		[]any{p.After, p.limit()}, scanSchedule)
	if err != nil {
		return nil, fmt.Errorf("list schedules: %w", err)
	}
	return out, nil
}

// DeleteSchedule removes a schedule; the scans it launched stay, with
// schedule 0.
func (s *Store) DeleteSchedule(ctx context.Context, id int64, actor string) error {
	now := s.now()
	return s.write(ctx, func(t tx) error {
		var name string
		err := t.QueryRowContext(ctx, `SELECT name FROM schedules WHERE id = ?`, id).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("schedule %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read schedule %d: %w", id, err)
		}
		if _, err := t.ExecContext(ctx, `DELETE FROM schedules WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete schedule %d: %w", id, err)
		}
		return s.audit(ctx, t, now, actor, "schedule.delete", scheduleObject(id), "name="+name)
	})
}

// ClaimDueSchedule takes one schedule whose next run is due and moves its
// next run forward by whole periods until it is in the future (missed
// periods are skipped, not replayed), in one transaction, so however many
// servers poll, each period launches once. It returns the schedule as
// stored after the move (Next is the following run); ok is false when
// nothing is due.
func (s *Store) ClaimDueSchedule(ctx context.Context) (Schedule, bool, error) {
	now := s.now()
	var sc Schedule
	var ok bool
	err := s.write(ctx, func(t tx) error {
		ok = false
		var err error
		sc, err = scanSchedule(t.QueryRowContext(ctx, `SELECT `+scheduleCols+` FROM schedules WHERE next_run <= ?
			ORDER BY next_run, id LIMIT 1`+s.d.skipLocked("schedules"), micros(now)))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("claim schedule: %w", err)
		}
		every := sc.Every.Microseconds()
		next := micros(sc.Next)
		next += ((micros(now)-next)/every + 1) * every
		if _, err := t.ExecContext(ctx, `UPDATE schedules SET next_run = ? WHERE id = ?`, next, sc.ID); err != nil {
			return fmt.Errorf("advance schedule %d: %w", sc.ID, err)
		}
		sc.Next = fromMicros(next)
		ok = true
		return nil
	})
	if err != nil || !ok {
		return Schedule{}, false, err
	}
	return sc, true, nil
}
