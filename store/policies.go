package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
)

const policyCols = `id, version, title, source, body, created, created_by`

func scanPolicy(r scanner) (Policy, error) {
	var p Policy
	var created int64
	if err := r.Scan(&p.ID, &p.Version, &p.Title, &p.Source, &p.Body, &created, &p.CreatedBy); err != nil {
		return p, err
	}
	if p.Body == nil {
		p.Body = []byte{}
	}
	p.Created = fromMicros(created)
	return p, nil
}

func latestPolicy(ctx context.Context, q querier, id string) (Policy, error) {
	p, err := scanPolicy(q.QueryRowContext(ctx, `SELECT `+policyCols+` FROM policies WHERE id = ?
		ORDER BY version DESC LIMIT 1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Policy{}, fmt.Errorf("policy %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Policy{}, fmt.Errorf("read policy %q: %w", id, err)
	}
	return p, nil
}

// PutPolicy stores p as the next version of policy p.ID (1 for a new
// policy) when its body differs from the latest version's; an unchanged
// body returns the latest version as it is, with no new version and no
// audit entry, so loading the same library at every start costs nothing.
func (s *Store) PutPolicy(ctx context.Context, p Policy, actor string) (Policy, error) {
	if p.ID == "" {
		return Policy{}, &InvalidError{Field: "id", Message: "a policy needs an id"}
	}
	if p.Body == nil {
		p.Body = []byte{}
	}
	if p.Source == "" {
		p.Source = "custom"
	}
	now := s.now()
	in := p
	var out Policy
	err := s.write(ctx, func(t tx) error {
		p := in
		// Two replicas putting the same policy take turns, so versions
		// stay dense.
		if err := s.d.lock(ctx, t, "policy "+p.ID); err != nil {
			return fmt.Errorf("lock policy %q: %w", p.ID, err)
		}
		latest, err := latestPolicy(ctx, t, p.ID)
		switch {
		case err == nil:
			if bytes.Equal(latest.Body, p.Body) {
				out = latest
				return nil
			}
			p.Version = latest.Version + 1
		case errors.Is(err, ErrNotFound):
			p.Version = 1
		default:
			return err
		}
		p.Created, p.CreatedBy = now, actor
		_, err = t.ExecContext(ctx, `INSERT INTO policies (`+policyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.Version, p.Title, p.Source, p.Body, micros(now), actor)
		if err != nil {
			return s.conflict(err, "store policy", map[string]string{"version": strconv.Itoa(p.Version)})
		}
		out = p
		return s.audit(ctx, t, now, actor, "policy.put", "policy/"+p.ID, "version="+strconv.Itoa(p.Version))
	})
	if err != nil {
		return Policy{}, err
	}
	return out, nil
}

// GetPolicy returns one version of a policy; version 0 is the latest.
func (s *Store) GetPolicy(ctx context.Context, id string, version int) (Policy, error) {
	if version == 0 {
		return latestPolicy(ctx, s.read(), id)
	}
	p, err := scanPolicy(s.read().QueryRowContext(ctx, `SELECT `+policyCols+` FROM policies WHERE id = ? AND version = ?`, id, version))
	if errors.Is(err, sql.ErrNoRows) {
		return Policy{}, fmt.Errorf("policy %q version %d: %w", id, version, ErrNotFound)
	}
	if err != nil {
		return Policy{}, fmt.Errorf("read policy %q: %w", id, err)
	}
	return p, nil
}

// ListPolicies returns the latest version of every policy, by id.
func (s *Store) ListPolicies(ctx context.Context) ([]Policy, error) {
	ps, err := queryAll(ctx, s.read(), `SELECT `+policyCols+` FROM policies p
		WHERE version = (SELECT MAX(version) FROM policies p2 WHERE p2.id = p.id) ORDER BY id`, nil, scanPolicy)
	if err != nil {
		return nil, fmt.Errorf("list policies: %w", err)
	}
	return ps, nil
}

// PolicyVersions returns every stored version of a policy, oldest first.
func (s *Store) PolicyVersions(ctx context.Context, id string) ([]Policy, error) {
	ps, err := queryAll(ctx, s.read(), `SELECT `+policyCols+` FROM policies WHERE id = ? ORDER BY version`, []any{id}, scanPolicy)
	if err != nil {
		return nil, fmt.Errorf("list versions of policy %q: %w", id, err)
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("policy %q: %w", id, ErrNotFound)
	}
	return ps, nil
}
