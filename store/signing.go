package store

import (
	"context"
	"errors"
	"fmt"
)

// SigningKey is the stored report signing certificate (PEM) and its
// private key as the server sealed it.
type SigningKey struct {
	Cert      []byte
	SealedKey []byte
}

// SigningKey returns the stored signing key, or ErrNotFound when none
// has been made yet.
func (s *Store) SigningKey(ctx context.Context) (SigningKey, error) {
	var k SigningKey
	var cert string
	err := s.read().QueryRowContext(ctx, `SELECT cert, sealed_key FROM signing_key WHERE id = 1`).Scan(&cert, &k.SealedKey)
	if isNoRows(err) {
		return k, ErrNotFound
	}
	if err != nil {
		return k, fmt.Errorf("read the signing key: %w", err)
	}
	k.Cert = []byte(cert)
	return k, nil
}

// InitSigningKey stores k as the signing key unless one is stored
// already, and returns the one stored: replicas starting together agree
// on the first.
func (s *Store) InitSigningKey(ctx context.Context, k SigningKey, actor string) (SigningKey, error) {
	if len(k.Cert) == 0 || len(k.SealedKey) == 0 {
		return SigningKey{}, errors.New("store: an empty signing key")
	}
	now := s.now()
	err := s.write(ctx, func(t tx) error {
		res, err := t.ExecContext(ctx, `INSERT INTO signing_key (id, cert, sealed_key, created) VALUES (1, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, string(k.Cert), k.SealedKey, micros(now))
		if err != nil {
			return fmt.Errorf("store the signing key: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.audit(ctx, t, now, actor, "signing-key.create", "signing-key/1", "")
	})
	if err != nil {
		return SigningKey{}, err
	}
	return s.SigningKey(ctx)
}
