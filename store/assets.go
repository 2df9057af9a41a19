package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// DefaultPartition is the network partition of an asset that names none.
const DefaultPartition = "default"

const assetCols = `a.id, a.name, a.hostnames, a.addresses, a.net_partition, a.port, a.credential_id,
	a.technology, a.tags, a.source, a.first_seen, a.last_seen, a.created`

func scanAsset(r scanner) (Asset, error) {
	var a Asset
	var hostnames, addresses, tags string
	var cred, first, last sql.NullInt64
	var created int64
	if err := r.Scan(&a.ID, &a.Name, &hostnames, &addresses, &a.Partition, &a.Port, &cred,
		&a.Technology, &tags, &a.Source, &first, &last, &created); err != nil {
		return a, err
	}
	var err error
	if a.Hostnames, err = fromJSON[string](hostnames); err != nil {
		return a, err
	}
	if a.Addresses, err = fromJSON[string](addresses); err != nil {
		return a, err
	}
	if a.Tags, err = fromJSON[string](tags); err != nil {
		return a, err
	}
	a.CredentialID = cred.Int64
	a.FirstSeen, a.LastSeen = timePtr(first), timePtr(last)
	a.Created = fromMicros(created)
	return a, nil
}

// normalize applies the defaults and collapses duplicates the way every
// write stores them.
func (a *Asset) normalize() error {
	a.Name = strings.TrimSpace(a.Name)
	if a.Name == "" {
		return &InvalidError{Field: "name", Message: "an asset needs a name"}
	}
	if a.Partition == "" {
		a.Partition = DefaultPartition
	}
	if a.Port == 0 {
		a.Port = 22
	}
	if a.Port < 0 || a.Port > 65535 {
		return &InvalidError{Field: "port", Message: "must be 1..65535, not " + strconv.Itoa(a.Port)}
	}
	if a.Source == "" {
		a.Source = "scanner"
	}
	a.Hostnames = dedupe(a.Hostnames, func(s string) string { return s })
	a.Addresses = dedupe(a.Addresses, func(s string) string { return s })
	a.Tags = dedupe(a.Tags, strings.ToLower)
	return nil
}

// dedupe keeps the first of each key, trims spaces and drops empty values;
// it never returns nil.
func dedupe(in []string, key func(string) string) []string {
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, v := range in {
		v = strings.TrimSpace(v)
		if v == "" || seen[key(v)] {
			continue
		}
		seen[key(v)] = true
		out = append(out, v)
	}
	return out
}

// tagIDs stores every tag of tags not seen before (in any case) and
// returns the ids and the spelling each key was first stored with.
func tagIDs(ctx context.Context, t tx, tags []string) ([]int64, []string, error) {
	ids := make([]int64, 0, len(tags))
	names := make([]string, 0, len(tags))
	seen := map[int64]bool{}
	for _, tag := range tags {
		key := strings.ToLower(tag)
		if _, err := t.ExecContext(ctx, `INSERT INTO tags (name, lkey) VALUES (?, ?) ON CONFLICT (lkey) DO NOTHING`, tag, key); err != nil {
			return nil, nil, fmt.Errorf("store tag %q: %w", tag, err)
		}
		var id int64
		var name string
		if err := t.QueryRowContext(ctx, `SELECT id, name FROM tags WHERE lkey = ?`, key).Scan(&id, &name); err != nil {
			return nil, nil, fmt.Errorf("read tag %q: %w", tag, err)
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		ids = append(ids, id)
		names = append(names, name)
	}
	return ids, names, nil
}

func credentialExists(ctx context.Context, q querier, id int64) error {
	if id == 0 {
		return nil
	}
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM credentials WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("credential_id: credential %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("read credential %d: %w", id, err)
	}
	return nil
}

// checkAsset refuses a name or address another asset (not id) holds, with
// the field the API reports.
func checkAsset(ctx context.Context, t tx, a Asset) error {
	var other int64
	err := t.QueryRowContext(ctx, `SELECT id FROM assets WHERE name = ? AND id <> ?`, a.Name, a.ID).Scan(&other)
	if err == nil {
		return &ConflictError{Field: "name", Value: a.Name}
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("check asset name: %w", err)
	}
	for _, addr := range a.Addresses {
		err := t.QueryRowContext(ctx, `SELECT asset_id FROM asset_addresses WHERE net_partition = ? AND address = ? AND asset_id <> ?`,
			a.Partition, addr, a.ID).Scan(&other)
		if err == nil {
			return &ConflictError{Field: "addresses", Value: addr}
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("check asset address: %w", err)
		}
	}
	return credentialExists(ctx, t, a.CredentialID)
}

// writeAssetLinks replaces the address and tag rows of asset a.
func writeAssetLinks(ctx context.Context, t tx, a Asset, tags []int64) error {
	if _, err := t.ExecContext(ctx, `DELETE FROM asset_addresses WHERE asset_id = ?`, a.ID); err != nil {
		return fmt.Errorf("replace addresses: %w", err)
	}
	for _, addr := range a.Addresses {
		if _, err := t.ExecContext(ctx, `INSERT INTO asset_addresses (asset_id, net_partition, address) VALUES (?, ?, ?)`,
			a.ID, a.Partition, addr); err != nil {
			return err
		}
	}
	if _, err := t.ExecContext(ctx, `DELETE FROM asset_tags WHERE asset_id = ?`, a.ID); err != nil {
		return fmt.Errorf("replace tags: %w", err)
	}
	for _, id := range tags {
		if _, err := t.ExecContext(ctx, `INSERT INTO asset_tags (asset_id, tag_id) VALUES (?, ?)`, a.ID, id); err != nil {
			return fmt.Errorf("store asset tag: %w", err)
		}
	}
	return nil
}

func assetConflictValues(a Asset) map[string]string {
	return map[string]string{"name": a.Name, "addresses": strings.Join(a.Addresses, ",")}
}

// CreateAsset stores a new asset with its defaults filled in (partition
// "default", port 22, source "scanner") and its tags in their first stored
// spelling. A name, or an address in the same partition, that another
// asset holds is a *ConflictError.
func (s *Store) CreateAsset(ctx context.Context, a Asset, actor string) (Asset, error) {
	if err := a.normalize(); err != nil {
		return Asset{}, err
	}
	a.ID, a.Technology, a.FirstSeen, a.LastSeen = 0, "", nil, nil
	now := s.now()
	a.Created = now
	in := a
	err := s.write(ctx, func(t tx) error {
		a = in
		if err := checkAsset(ctx, t, a); err != nil {
			return err
		}
		ids, names, err := tagIDs(ctx, t, a.Tags)
		if err != nil {
			return err
		}
		a.Tags = names
		err = t.QueryRowContext(ctx, `INSERT INTO assets (name, hostnames, addresses, net_partition, port, credential_id,
			technology, tags, source, created) VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, ?) RETURNING id`,
			a.Name, jsonText(a.Hostnames), jsonText(a.Addresses), a.Partition, a.Port, nullID(a.CredentialID),
			jsonText(a.Tags), a.Source, micros(now)).Scan(&a.ID)
		if err != nil {
			return s.conflict(err, "create asset", assetConflictValues(a))
		}
		if err := writeAssetLinks(ctx, t, a, ids); err != nil {
			return s.conflict(err, "create asset", assetConflictValues(a))
		}
		return s.audit(ctx, t, now, actor, "asset.create", assetObject(a.ID), "name="+a.Name)
	})
	if err != nil {
		return Asset{}, err
	}
	return a, nil
}

func assetObject(id int64) string { return "asset/" + strconv.FormatInt(id, 10) }

func getAsset(ctx context.Context, q querier, id int64) (Asset, error) {
	a, err := scanAsset(q.QueryRowContext(ctx, `SELECT `+assetCols+` FROM assets a WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Asset{}, fmt.Errorf("asset %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Asset{}, fmt.Errorf("read asset %d: %w", id, err)
	}
	return a, nil
}

// GetAsset returns one asset.
func (s *Store) GetAsset(ctx context.Context, id int64) (Asset, error) {
	return getAsset(ctx, s.read(), id)
}

// ListAssets returns one page of the assets that match f, by id.
func (s *Store) ListAssets(ctx context.Context, f AssetFilter) ([]Asset, error) {
	var w where
	w.add("a.id > ?", f.After)
	if f.Name != "" {
		w.add("a.name = ?", f.Name)
	}
	if f.Tag != "" {
		w.add(`EXISTS (SELECT 1 FROM asset_tags at JOIN tags tg ON tg.id = at.tag_id
			WHERE at.asset_id = a.id AND tg.lkey = ?)`, strings.ToLower(strings.TrimSpace(f.Tag)))
	}
	if f.Technology != "" {
		w.add("a.technology = ?", f.Technology)
	}
	if f.Partition != "" {
		w.add("a.net_partition = ?", f.Partition)
	}
	if f.Address != "" {
		w.add("EXISTS (SELECT 1 FROM asset_addresses aa WHERE aa.asset_id = a.id AND aa.address = ?)", f.Address)
	}
	if f.Group != 0 {
		if err := s.groupExists(ctx, f.Group); err != nil {
			return nil, err
		}
		w.add(inGroup("a.id"), f.Group, f.Group, f.Group)
	}
	q := `SELECT ` + assetCols + ` FROM assets a` + w.String() + ` ORDER BY a.id LIMIT ?`
	out, err := queryAll(ctx, s.read(), q, append(w.args, f.limit()), scanAsset)
	if err != nil {
		return nil, fmt.Errorf("list assets: %w", err)
	}
	return out, nil
}

// UpdateAsset replaces the mutable fields of asset a.ID: name, hostnames,
// addresses, partition, port, credential and tags. Technology, source and
// the seen times belong to the scanner and are kept.
func (s *Store) UpdateAsset(ctx context.Context, a Asset, actor string) (Asset, error) {
	if err := a.normalize(); err != nil {
		return Asset{}, err
	}
	now := s.now()
	in := a
	var out Asset
	err := s.write(ctx, func(t tx) error {
		a := in
		old, err := getAsset(ctx, t, a.ID)
		if err != nil {
			return err
		}
		if err := checkAsset(ctx, t, a); err != nil {
			return err
		}
		ids, names, err := tagIDs(ctx, t, a.Tags)
		if err != nil {
			return err
		}
		_, err = t.ExecContext(ctx, `UPDATE assets SET name = ?, hostnames = ?, addresses = ?, net_partition = ?, port = ?,
			credential_id = ?, tags = ? WHERE id = ?`,
			a.Name, jsonText(a.Hostnames), jsonText(a.Addresses), a.Partition, a.Port, nullID(a.CredentialID),
			jsonText(names), a.ID)
		if err != nil {
			return s.conflict(err, "update asset", assetConflictValues(a))
		}
		if err := writeAssetLinks(ctx, t, a, ids); err != nil {
			return s.conflict(err, "update asset", assetConflictValues(a))
		}
		out = old
		out.Name, out.Hostnames, out.Addresses, out.Partition = a.Name, a.Hostnames, a.Addresses, a.Partition
		out.Port, out.CredentialID, out.Tags = a.Port, a.CredentialID, names
		return s.audit(ctx, t, now, actor, "asset.update", assetObject(a.ID), "name="+a.Name)
	})
	if err != nil {
		return Asset{}, err
	}
	return out, nil
}

// DeleteAsset removes an asset, its group memberships and its posture.
// Its past results and jobs stay, for the history of the scans that
// covered it.
func (s *Store) DeleteAsset(ctx context.Context, id int64, actor string) error {
	now := s.now()
	return s.write(ctx, func(t tx) error {
		a, err := getAsset(ctx, t, id)
		if err != nil {
			return err
		}
		// The asset row before its posture rows: CompleteJob locks them in
		// that order too.
		if _, err := t.ExecContext(ctx, `DELETE FROM assets WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete asset %d: %w", id, err)
		}
		if _, err := t.ExecContext(ctx, `DELETE FROM posture WHERE asset_id = ?`, id); err != nil {
			return fmt.Errorf("delete asset %d posture: %w", id, err)
		}
		if _, err := t.ExecContext(ctx, `DELETE FROM posture_counts WHERE asset_id = ?`, id); err != nil {
			return fmt.Errorf("delete asset %d posture counts: %w", id, err)
		}
		return s.audit(ctx, t, now, actor, "asset.delete", assetObject(id), "name="+a.Name)
	})
}
