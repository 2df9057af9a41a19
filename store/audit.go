package store

import (
	"context"
	"fmt"
)

func scanAudit(r scanner) (AuditEntry, error) {
	var e AuditEntry
	var at int64
	if err := r.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Object, &e.Detail); err != nil {
		return e, err
	}
	e.Time = fromMicros(at)
	return e, nil
}

// ListAudit returns one page of the audit log, oldest first.
func (s *Store) ListAudit(ctx context.Context, p Page) ([]AuditEntry, error) {
	out, err := queryAll(ctx, s.read(), `SELECT id, at, actor, action, object, detail FROM audit WHERE id > ? ORDER BY id LIMIT ?`,
		[]any{p.After, p.limit()}, scanAudit)
	if err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	return out, nil
}
