package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

func credentialObject(id int64) string { return "credential/" + strconv.FormatInt(id, 10) }

const credentialCols = `id, name, kind, username, sudo, sealed, created`

func scanCredential(r scanner) (Credential, error) {
	var c Credential
	var sudo int
	var created int64
	if err := r.Scan(&c.ID, &c.Name, &c.Kind, &c.User, &sudo, &c.Sealed, &created); err != nil {
		return c, err
	}
	c.Sudo = sudo != 0
	c.Created = fromMicros(created)
	return c, nil
}

// CreateCredential stores an auth record. Sealed is stored as given: the
// server seals the secrets before they reach the store. A taken name is a
// *ConflictError.
func (s *Store) CreateCredential(ctx context.Context, c Credential, actor string) (Credential, error) {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" {
		return Credential{}, &InvalidError{Field: "name", Message: "a credential needs a name"}
	}
	if c.Kind == "" {
		c.Kind = "ssh"
	}
	now := s.now()
	c.ID, c.Created = 0, now
	sudo := 0
	if c.Sudo {
		sudo = 1
	}
	in := c
	err := s.write(ctx, func(t tx) error {
		c = in
		var other int64
		err := t.QueryRowContext(ctx, `SELECT id FROM credentials WHERE name = ?`, c.Name).Scan(&other)
		if err == nil {
			return &ConflictError{Field: "name", Value: c.Name}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("check credential name: %w", err)
		}
		err = t.QueryRowContext(ctx, `INSERT INTO credentials (name, kind, username, sudo, sealed, created)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, c.Name, c.Kind, c.User, sudo, c.Sealed, micros(now)).Scan(&c.ID)
		if err != nil {
			return s.conflict(err, "create credential", map[string]string{"name": c.Name})
		}
		return s.audit(ctx, t, now, actor, "credential.create", credentialObject(c.ID), "name="+c.Name)
	})
	if err != nil {
		return Credential{}, err
	}
	return c, nil
}

// GetCredential returns one auth record, sealed secrets included (the
// scanner needs them); the API must never print Sealed.
func (s *Store) GetCredential(ctx context.Context, id int64) (Credential, error) {
	c, err := scanCredential(s.read().QueryRowContext(ctx, `SELECT `+credentialCols+` FROM credentials WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Credential{}, fmt.Errorf("credential %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Credential{}, fmt.Errorf("read credential %d: %w", id, err)
	}
	return c, nil
}

// ListCredentials returns one page of auth records, by id, without their
// sealed secrets: a list has no use for them.
func (s *Store) ListCredentials(ctx context.Context, p Page) ([]Credential, error) {
	cs, err := queryAll(ctx, s.read(), `SELECT id, name, kind, username, sudo, NULL, created FROM credentials
		WHERE id > ? ORDER BY id LIMIT ?`, []any{p.After, p.limit()}, scanCredential)
	if err != nil {
		return nil, fmt.Errorf("list credentials: %w", err)
	}
	return cs, nil
}

// DeleteCredential removes an auth record even while assets, scans or
// schedules name it: their credential becomes 0 (none), so a scan of such
// an asset fails with a clear auth error instead of the delete being
// refused until every reference is edited. The audit entry counts the
// references cleared.
func (s *Store) DeleteCredential(ctx context.Context, id int64, actor string) error {
	now := s.now()
	return s.write(ctx, func(t tx) error {
		var name string
		err := t.QueryRowContext(ctx, `SELECT name FROM credentials WHERE id = ?`, id).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("credential %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read credential %d: %w", id, err)
		}
		var assets, scans, schedules int
		if err := t.QueryRowContext(ctx, `SELECT
			(SELECT COUNT(*) FROM assets WHERE credential_id = ?),
			(SELECT COUNT(*) FROM scans WHERE credential_id = ?),
			(SELECT COUNT(*) FROM schedules WHERE credential_id = ?)`, id, id, id).Scan(&assets, &scans, &schedules); err != nil {
			return fmt.Errorf("count credential %d references: %w", id, err)
		}
		// ON DELETE SET NULL clears the references.
		if _, err := t.ExecContext(ctx, `DELETE FROM credentials WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete credential %d: %w", id, err)
		}
		return s.audit(ctx, t, now, actor, "credential.delete", credentialObject(id),
			fmt.Sprintf("name=%s; cleared from %d assets, %d scans, %d schedules", name, assets, scans, schedules))
	})
}
