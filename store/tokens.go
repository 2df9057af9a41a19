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

func tokenObject(id int64) string { return "token/" + strconv.FormatInt(id, 10) }

const tokenCols = `id, name, role, hash, created, last_used, revoked`

func scanToken(r scanner) (Token, error) {
	var t Token
	var created int64
	var used, revoked sql.NullInt64
	if err := r.Scan(&t.ID, &t.Name, &t.Role, &t.Hash, &created, &used, &revoked); err != nil {
		return t, err
	}
	t.Created = fromMicros(created)
	t.LastUsed, t.Revoked = timePtr(used), timePtr(revoked)
	return t, nil
}

// CreateToken stores an API token: its name (unique, else a
// *ConflictError), role and the hash of its secret; the secret itself
// never reaches the store.
func (s *Store) CreateToken(ctx context.Context, tok Token, actor string) (Token, error) {
	tok.Name = strings.TrimSpace(tok.Name)
	if tok.Name == "" {
		return Token{}, &InvalidError{Field: "name", Message: "a token needs a name"}
	}
	if tok.Hash == "" {
		return Token{}, &InvalidError{Field: "hash", Message: "a token needs the hash of its secret"}
	}
	now := s.now()
	tok.ID, tok.Created, tok.LastUsed, tok.Revoked = 0, now, nil, nil
	in := tok
	err := s.write(ctx, func(t tx) error {
		tok = in
		var other int64
		err := t.QueryRowContext(ctx, `SELECT id FROM tokens WHERE name = ?`, tok.Name).Scan(&other)
		if err == nil {
			return &ConflictError{Field: "name", Value: tok.Name}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("check token name: %w", err)
		}
		err = t.QueryRowContext(ctx, `INSERT INTO tokens (name, role, hash, created) VALUES (?, ?, ?, ?) RETURNING id`,
			tok.Name, tok.Role, tok.Hash, micros(now)).Scan(&tok.ID)
		if err != nil {
			return s.conflict(err, "create token", map[string]string{"name": tok.Name})
		}
		return s.audit(ctx, t, now, actor, "token.create", tokenObject(tok.ID), "name="+tok.Name+"; role="+tok.Role)
	})
	if err != nil {
		return Token{}, err
	}
	return tok, nil
}

// lastUsedEvery bounds how often TokenByHash writes last_used: a token
// used on every request costs one write a minute, not one a request.
const lastUsedEvery = time.Minute

// TokenByHash returns the live token with this hash; an unknown or
// revoked token is ErrNotFound. It records the use (at most once a
// minute).
func (s *Store) TokenByHash(ctx context.Context, hash string) (Token, error) {
	tok, err := scanToken(s.read().QueryRowContext(ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash = ? AND revoked IS NULL`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, fmt.Errorf("token: %w", ErrNotFound)
	}
	if err != nil {
		return Token{}, fmt.Errorf("read token: %w", err)
	}
	now := s.now()
	if tok.LastUsed != nil && now.Sub(*tok.LastUsed) < lastUsedEvery {
		return tok, nil
	}
	err = s.write(ctx, func(t tx) error {
		_, err := t.ExecContext(ctx, `UPDATE tokens SET last_used = ? WHERE id = ? AND (last_used IS NULL OR last_used < ?)`,
			micros(now), tok.ID, micros(now))
		return err
	})
	if err != nil {
		return Token{}, fmt.Errorf("record token use: %w", err)
	}
	tok.LastUsed = &now
	return tok, nil
}

// ListTokens returns every token, revoked ones included, by id.
func (s *Store) ListTokens(ctx context.Context) ([]Token, error) {
	out, err := queryAll(ctx, s.read(), `SELECT `+tokenCols+` FROM tokens ORDER BY id`, nil, scanToken)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// RevokeToken ends a token for good; it stays listed with its revocation
// time. Revoking a revoked token changes nothing.
func (s *Store) RevokeToken(ctx context.Context, id int64, actor string) error {
	now := s.now()
	return s.write(ctx, func(t tx) error {
		var name string
		var revoked sql.NullInt64
		err := t.QueryRowContext(ctx, `SELECT name, revoked FROM tokens WHERE id = ?`, id).Scan(&name, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("token %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read token %d: %w", id, err)
		}
		if revoked.Valid {
			return nil
		}
		if _, err := t.ExecContext(ctx, `UPDATE tokens SET revoked = ? WHERE id = ?`, micros(now), id); err != nil {
			return fmt.Errorf("revoke token %d: %w", id, err)
		}
		return s.audit(ctx, t, now, actor, "token.revoke", tokenObject(id), "name="+name)
	})
}

// CountTokens counts the tokens not revoked; the server uses it to tell a
// fresh install (no token yet) from a locked-out one.
func (s *Store) CountTokens(ctx context.Context) (int, error) {
	var n int
	if err := s.read().QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens WHERE revoked IS NULL`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count tokens: %w", err)
	}
	return n, nil
}
