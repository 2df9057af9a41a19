package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

func groupObject(id int64) string { return "group/" + strconv.FormatInt(id, 10) }

func (g *Group) normalize() error {
	g.Name = strings.TrimSpace(g.Name)
	if g.Name == "" {
		return &InvalidError{Field: "name", Message: "a group needs a name"}
	}
	seen := map[int64]bool{}
	members := make([]int64, 0, len(g.Members))
	for _, id := range g.Members {
		if !seen[id] {
			seen[id] = true
			members = append(members, id)
		}
	}
	sort.Slice(members, func(i, j int) bool { return members[i] < members[j] })
	g.Members = members
	g.MatchTags = dedupe(g.MatchTags, strings.ToLower)
	g.Policies = dedupe(g.Policies, func(s string) string { return s })
	return nil
}

// writeGroup checks and stores everything of g but its own row: the name
// is free, every member exists, match tags in their first spelling.
func writeGroup(ctx context.Context, t tx, g *Group) error {
	var other int64
	err := t.QueryRowContext(ctx, `SELECT id FROM asset_groups WHERE name = ? AND id <> ?`, g.Name, g.ID).Scan(&other)
	if err == nil {
		return &ConflictError{Field: "name", Value: g.Name}
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("check group name: %w", err)
	}
	for _, id := range g.Members {
		var one int
		err := t.QueryRowContext(ctx, `SELECT 1 FROM assets WHERE id = ?`, id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("members: asset %d: %w", id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("check group members: %w", err)
		}
	}
	_, names, err := tagIDs(ctx, t, g.MatchTags)
	if err != nil {
		return err
	}
	g.MatchTags = names
	return nil
}

// CreateGroup stores a new group. An unknown member is an ErrNotFound
// naming "members"; a taken name is a *ConflictError.
func (s *Store) CreateGroup(ctx context.Context, g Group, actor string) (Group, error) {
	if err := g.normalize(); err != nil {
		return Group{}, err
	}
	now := s.now()
	g.ID, g.Created = 0, now
	in := g
	err := s.write(ctx, func(t tx) error {
		g = in
		if err := writeGroup(ctx, t, &g); err != nil {
			return err
		}
		err := t.QueryRowContext(ctx, `INSERT INTO asset_groups (name, description, match_tags, policies, created)
			VALUES (?, ?, ?, ?, ?) RETURNING id`,
			g.Name, g.Description, jsonText(g.MatchTags), jsonText(g.Policies), micros(now)).Scan(&g.ID)
		if err != nil {
			return s.conflict(err, "create group", map[string]string{"name": g.Name})
		}
		if err := replaceGroupLinks(ctx, t, g); err != nil {
			return err
		}
		return s.audit(ctx, t, now, actor, "group.create", groupObject(g.ID), "name="+g.Name)
	})
	if err != nil {
		return Group{}, err
	}
	return g, nil
}

// replaceGroupLinks replaces the member and match-tag rows of g; the match
// tags are already in their stored spelling.
func replaceGroupLinks(ctx context.Context, t tx, g Group) error {
	if _, err := t.ExecContext(ctx, `DELETE FROM group_members WHERE group_id = ?`, g.ID); err != nil {
		return fmt.Errorf("replace group members: %w", err)
	}
	for _, id := range g.Members {
		if _, err := t.ExecContext(ctx, `INSERT INTO group_members (group_id, asset_id) VALUES (?, ?)`, g.ID, id); err != nil {
			return fmt.Errorf("store group member: %w", err)
		}
	}
	if _, err := t.ExecContext(ctx, `DELETE FROM group_tags WHERE group_id = ?`, g.ID); err != nil {
		return fmt.Errorf("replace group tags: %w", err)
	}
	for _, tag := range g.MatchTags {
		if _, err := t.ExecContext(ctx, `INSERT INTO group_tags (group_id, tag_id) SELECT ?, id FROM tags WHERE lkey = ?`,
			g.ID, strings.ToLower(tag)); err != nil {
			return fmt.Errorf("store group tag: %w", err)
		}
	}
	return nil
}

const groupCols = `id, name, description, match_tags, policies, created`

func scanGroup(r scanner) (Group, error) {
	var g Group
	var tags, policies string
	var created int64
	if err := r.Scan(&g.ID, &g.Name, &g.Description, &tags, &policies, &created); err != nil {
		return g, err
	}
	var err error
	if g.MatchTags, err = fromJSON[string](tags); err != nil {
		return g, err
	}
	if g.Policies, err = fromJSON[string](policies); err != nil {
		return g, err
	}
	g.Members = []int64{}
	g.Created = fromMicros(created)
	return g, nil
}

// fillMembers reads the static members of gs.
func fillMembers(ctx context.Context, q querier, gs []Group) error {
	if len(gs) == 0 {
		return nil
	}
	idx := map[int64]int{}
	args := make([]any, len(gs))
	for i, g := range gs {
		idx[g.ID] = i
		args[i] = g.ID
	}
	type member struct{ group, asset int64 }
	ms, err := queryAll(ctx, q, `SELECT group_id, asset_id FROM group_members WHERE group_id IN (`+placeholders(len(gs))+`)
		ORDER BY group_id, asset_id`, args, func(r scanner) (member, error) {
		var m member
		err := r.Scan(&m.group, &m.asset)
		return m, err
	})
	if err != nil {
		return fmt.Errorf("read group members: %w", err)
	}
	for _, m := range ms {
		g := &gs[idx[m.group]]
		g.Members = append(g.Members, m.asset)
	}
	return nil
}

func getGroup(ctx context.Context, q querier, id int64) (Group, error) {
	g, err := scanGroup(q.QueryRowContext(ctx, `SELECT `+groupCols+` FROM asset_groups WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Group{}, fmt.Errorf("group %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Group{}, fmt.Errorf("read group %d: %w", id, err)
	}
	gs := []Group{g}
	if err := fillMembers(ctx, q, gs); err != nil {
		return Group{}, err
	}
	return gs[0], nil
}

func (s *Store) groupExists(ctx context.Context, id int64) error {
	var one int
	err := s.read().QueryRowContext(ctx, `SELECT 1 FROM asset_groups WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("group %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("read group %d: %w", id, err)
	}
	return nil
}

// GetGroup returns one group with its static members.
func (s *Store) GetGroup(ctx context.Context, id int64) (Group, error) {
	return getGroup(ctx, s.read(), id)
}

// ListGroups returns one page of groups, by id.
func (s *Store) ListGroups(ctx context.Context, p Page) ([]Group, error) {
	q := s.read()
	gs, err := queryAll(ctx, q, `SELECT `+groupCols+` FROM asset_groups WHERE id > ? ORDER BY id LIMIT ?`,
		[]any{p.After, p.limit()}, scanGroup)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	if err := fillMembers(ctx, q, gs); err != nil {
		return nil, err
	}
	return gs, nil
}

// UpdateGroup replaces the name, description, members, match tags and
// policies of group g.ID.
func (s *Store) UpdateGroup(ctx context.Context, g Group, actor string) (Group, error) {
	if err := g.normalize(); err != nil {
		return Group{}, err
	}
	now := s.now()
	in := g
	err := s.write(ctx, func(t tx) error {
		g = in
		old, err := getGroup(ctx, t, g.ID)
		if err != nil {
			return err
		}
		g.Created = old.Created
		if err := writeGroup(ctx, t, &g); err != nil {
			return err
		}
		_, err = t.ExecContext(ctx, `UPDATE asset_groups SET name = ?, description = ?, match_tags = ?, policies = ? WHERE id = ?`,
			g.Name, g.Description, jsonText(g.MatchTags), jsonText(g.Policies), g.ID)
		if err != nil {
			return s.conflict(err, "update group", map[string]string{"name": g.Name})
		}
		if err := replaceGroupLinks(ctx, t, g); err != nil {
			return err
		}
		return s.audit(ctx, t, now, actor, "group.update", groupObject(g.ID), "name="+g.Name)
	})
	if err != nil {
		return Group{}, err
	}
	return g, nil
}

// DeleteGroup removes a group; its assets stay.
func (s *Store) DeleteGroup(ctx context.Context, id int64, actor string) error {
	now := s.now()
	return s.write(ctx, func(t tx) error {
		g, err := getGroup(ctx, t, id)
		if err != nil {
			return err
		}
		if _, err := t.ExecContext(ctx, `DELETE FROM asset_groups WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete group %d: %w", id, err)
		}
		return s.audit(ctx, t, now, actor, "group.delete", groupObject(id), "name="+g.Name)
	})
}
