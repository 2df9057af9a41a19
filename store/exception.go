package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrSelfApproval: four eyes; the requester of an exception (or of its
// renewal) may not approve or reject it.
var ErrSelfApproval = errors.New("the requester may not decide their own exception")

// Exception types.
const (
	MitigatingControl = "mitigating_control"
	RiskAcceptance    = "risk_acceptance"
	FalsePositive     = "false_positive"
)

// Exception states. Expired is never stored: an approved exception whose
// expiry has passed reads as expired, computed at read time, so no job has
// to run for a control to count as a plain Fail again.
const (
	Pending  = "pending"
	Approved = "approved"
	Rejected = "rejected"
	Revoked  = "revoked"
	Expired  = "expired"
)

// Exception is a dated, typed, justified waiver of a failing control on
// some assets (or an asset group) under one policy. Nothing about an
// exception is ever deleted: every change appends an ExceptionEvent.
type Exception struct {
	ID            int64     `json:"id"`
	Type          string    `json:"type"`
	Policy        string    `json:"policy"`
	CID           int       `json:"cid"`
	Assets        []int64   `json:"assets"`          // scope: these assets...
	Group         int64     `json:"group,omitempty"` // ...or every member of this group
	Owner         string    `json:"owner"`
	Justification string    `json:"justification"`
	RequestedBy   string    `json:"requested_by"`
	ApprovedBy    string    `json:"approved_by,omitempty"` // or rejected/revoked by
	Status        string    `json:"status"`                // effective: expired when approved and past Expires
	Expires       time.Time `json:"expires"`
	// ReopenOnEvidenceChange: the exception stops applying to an asset
	// whose evidence (the actual values of the excepted result) differs
	// from what it was when the exception was approved.
	ReopenOnEvidenceChange bool       `json:"reopen_on_evidence_change,omitempty"`
	Created                time.Time  `json:"created"`
	Decided                *time.Time `json:"decided,omitempty"`
}

// ExceptionFilter narrows ListExceptions.
type ExceptionFilter struct {
	Page
	Status string // effective status
	Policy string
	CID    int
	Asset  int64 // exceptions whose scope holds this asset
	// ExpiringWithin: approved exceptions that expire within this long
	// from now (and have not yet).
	ExpiringWithin time.Duration
}

// ExceptionEvent is one entry of an exception's history. Hash chains the
// entries of all exceptions: it is the SHA-256 of the previous entry's
// Hash and this entry's content, so editing any past entry breaks every
// later hash (VerifyExceptionLog finds it).
type ExceptionEvent struct {
	ID          int64     `json:"id"`
	ExceptionID int64     `json:"exception_id"`
	Time        time.Time `json:"time"`
	Actor       string    `json:"actor"`
	Action      string    `json:"action"` // request, approve, reject, renew, revoke
	Detail      string    `json:"detail"` // JSON of the fields the action set
	PrevHash    string    `json:"prev_hash"`
	Hash        string    `json:"hash"`
}

// Excepted describes the exception that turns a Fail into Fail
// (excepted), on posture items it applies to.
type Excepted struct {
	ID            int64     `json:"id"`
	Type          string    `json:"type"`
	Owner         string    `json:"owner"`
	Justification string    `json:"justification"`
	Expires       time.Time `json:"expires"`
}

func exceptionObject(id int64) string { return "exception/" + strconv.FormatInt(id, 10) }

// exceptionLogLock serialises appends to the exception history's hash
// chain on PostgreSQL (on SQLite the write transaction already is).
const exceptionLogLock = "plumb exception log"

// effectiveStatus is the status an exception reads as at now.
func effectiveStatus(stored string, expires, now time.Time) string {
	if stored == Approved && !expires.After(now) {
		return Expired
	}
	return stored
}

// statusSQL is the effective status in SQL; it takes now once.
const statusSQL = `CASE WHEN e.status = 'approved' AND e.expires <= ? THEN 'expired' ELSE e.status END`

// activeSQL holds for an exception e that applies (approved and not
// expired); it takes now once.
const activeSQL = `e.status = 'approved' AND e.expires > ?`

// memberSQL is "the asset a belongs to group g", for a correlated group
// column g and an asset column or placeholder a: a static member, or
// (when the group has match tags) an asset carrying every one of them.
// It takes a twice when a is a placeholder.
func memberSQL(g, a string) string {
	return `(EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = ` + g + ` AND gm.asset_id = ` + a + `)
	OR (EXISTS (SELECT 1 FROM group_tags gt WHERE gt.group_id = ` + g + `)
		AND NOT EXISTS (SELECT 1 FROM group_tags gt WHERE gt.group_id = ` + g + `
			AND NOT EXISTS (SELECT 1 FROM asset_tags at WHERE at.asset_id = ` + a + ` AND at.tag_id = gt.tag_id))))`
}

// exceptedSQL is the id of the exception that turns the posture item p
// (a Fail) into Fail (excepted), the lowest if several apply, or NULL:
// an approved, unexpired exception of its policy and control whose scope
// holds its asset (listed, or a member of the group) and, when it reopens
// on a change of evidence, whose evidence for the asset is p's actual.
//
// Two arms, each driven by its own index: the exceptions listing the
// asset (one probe of exception_assets_item; CROSS JOIN keeps SQLite from
// starting at the exceptions instead), and the group-scoped exceptions of
// the control (exceptions_scope, group_id > 0). It takes now twice.
func exceptedSQL(p string) string {
	evidence := `(e.reopen_on_evidence_change = 0 OR EXISTS (SELECT 1 FROM exception_evidence ev
		WHERE ev.exception_id = e.id AND ev.asset_id = ` + p + `.asset_id AND ev.actual = ` + p + `.actual))`
	return `(SELECT e.id FROM exception_assets ea CROSS JOIN exceptions e
		WHERE e.id = ea.exception_id AND ea.asset_id = ` + p + `.asset_id AND ea.policy = ` + p + `.policy AND ea.cid = ` + p + `.cid
		AND ` + activeSQL + ` AND ` + evidence + `
	UNION ALL
	SELECT e.id FROM exceptions e WHERE e.policy = ` + p + `.policy AND e.cid = ` + p + `.cid AND e.status = 'approved'
		AND e.group_id > 0 AND e.expires > ? AND ` + memberSQL("e.group_id", p+".asset_id") + ` AND ` + evidence + `
	ORDER BY 1 LIMIT 1)`
}

// coveredSQL is a WITH clause naming covered: every (exception, asset,
// policy, control) an approved, unexpired exception covers, with its
// reopen flag; an asset in a group both statically and by its tags
// appears twice. It is driven by the exceptions that apply, so its cost
// follows them and not the size of the posture. It takes now once.
const coveredSQL = `WITH active AS (SELECT e.id, e.policy, e.cid, e.group_id, e.reopen_on_evidence_change AS reopen
		FROM exceptions e WHERE ` + activeSQL + `),
	covered AS (
		SELECT a.id, ea.asset_id, a.policy, a.cid, a.reopen FROM active a JOIN exception_assets ea ON ea.exception_id = a.id
		UNION ALL
		SELECT a.id, gm.asset_id, a.policy, a.cid, a.reopen FROM active a JOIN group_members gm ON gm.group_id = a.group_id
		UNION ALL
		SELECT a.id, at.asset_id, a.policy, a.cid, a.reopen FROM active a
			JOIN group_tags gt ON gt.group_id = a.group_id JOIN asset_tags at ON at.tag_id = gt.tag_id
			GROUP BY a.id, at.asset_id, a.policy, a.cid, a.reopen, a.group_id
			HAVING COUNT(*) = (SELECT COUNT(*) FROM group_tags g2 WHERE g2.group_id = a.group_id))
`

// requestDetail is what a request event records.
type requestDetail struct {
	Type                   string    `json:"type"`
	Policy                 string    `json:"policy"`
	CID                    int       `json:"cid"`
	Assets                 []int64   `json:"assets"`
	Group                  int64     `json:"group,omitempty"`
	Owner                  string    `json:"owner"`
	Justification          string    `json:"justification"`
	Expires                time.Time `json:"expires"`
	ReopenOnEvidenceChange bool      `json:"reopen_on_evidence_change"`
}

// validate checks what the store refuses whatever the database holds.
func (e *Exception) validate(now time.Time) error {
	e.Justification = strings.TrimSpace(e.Justification)
	e.Owner = strings.TrimSpace(e.Owner)
	e.Policy = strings.TrimSpace(e.Policy)
	switch {
	case !slices.Contains([]string{MitigatingControl, RiskAcceptance, FalsePositive}, e.Type):
		return &InvalidError{Field: "type", Message: fmt.Sprintf("%q is not an exception type (%s, %s, %s)",
			e.Type, MitigatingControl, RiskAcceptance, FalsePositive)}
	case e.Policy == "":
		return &InvalidError{Field: "policy", Message: "an exception names the policy of its control"}
	case e.CID <= 0:
		return &InvalidError{Field: "cid", Message: "an exception names the control (CID) it waives"}
	case e.Owner == "":
		return &InvalidError{Field: "owner", Message: "an exception names the owner of the risk"}
	case e.Justification == "":
		return &InvalidError{Field: "justification", Message: "an exception needs a justification"}
	case e.Expires.IsZero():
		return &InvalidError{Field: "expires", Message: "an exception needs an expiry"}
	case !e.Expires.After(now):
		return &InvalidError{Field: "expires", Message: "the expiry " + e.Expires.UTC().Format(time.RFC3339) + " is not in the future"}
	case (len(e.Assets) == 0) == (e.Group == 0):
		return &InvalidError{Field: "assets", Message: "an exception covers some assets or one group, not both"}
	}
	seen := map[int64]bool{}
	assets := []int64{}
	for _, id := range e.Assets {
		if !seen[id] {
			seen[id] = true
			assets = append(assets, id)
		}
	}
	slices.Sort(assets)
	e.Assets = assets
	e.Expires = time.UnixMicro(e.Expires.UnixMicro()).UTC()
	return nil
}

// RequestException stores a pending exception requested by actor, with
// the first entry of its history. Refusals: an *InvalidError naming the
// field (type, policy, cid, owner, justification, expires, assets), or an
// ErrNotFound naming the policy, an asset (assets[i]) or the group.
func (s *Store) RequestException(ctx context.Context, e Exception, actor string) (Exception, error) {
	now := s.now()
	if err := e.validate(now); err != nil {
		return Exception{}, err
	}
	e.ID, e.RequestedBy, e.ApprovedBy, e.Status, e.Created, e.Decided = 0, actor, "", Pending, now, nil
	detail, err := json.Marshal(requestDetail{Type: e.Type, Policy: e.Policy, CID: e.CID, Assets: e.Assets, Group: e.Group,
		Owner: e.Owner, Justification: e.Justification, Expires: e.Expires, ReopenOnEvidenceChange: e.ReopenOnEvidenceChange})
	if err != nil {
		return Exception{}, fmt.Errorf("encode exception request: %w", err)
	}
	in := e
	err = s.write(ctx, func(t tx) error {
		e = in
		if err := checkScope(ctx, t, e); err != nil {
			return err
		}
		err := t.QueryRowContext(ctx, `INSERT INTO exceptions (type, policy, cid, group_id, owner, justification, requested_by,
			decided_by, status, expires, reopen_on_evidence_change, created)
			VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?) RETURNING id`,
			e.Type, e.Policy, e.CID, nullID(e.Group), e.Owner, e.Justification, actor, Pending, micros(e.Expires),
			boolInt(e.ReopenOnEvidenceChange), micros(now)).Scan(&e.ID)
		if err != nil {
			return fmt.Errorf("store exception: %w", err)
		}
		for _, a := range e.Assets {
			if _, err := t.ExecContext(ctx, `INSERT INTO exception_assets (exception_id, asset_id, policy, cid) VALUES (?, ?, ?, ?)`,
				e.ID, a, e.Policy, e.CID); err != nil {
				return fmt.Errorf("store exception scope: %w", err)
			}
		}
		if err := s.appendEvent(ctx, t, e.ID, now, actor, "request", string(detail)); err != nil {
			return err
		}
		return s.audit(ctx, t, now, actor, "exception.request", exceptionObject(e.ID),
			fmt.Sprintf("policy=%s cid=%d type=%s", e.Policy, e.CID, e.Type))
	})
	if err != nil {
		return Exception{}, err
	}
	return e, nil
}

// checkScope checks that the policy, the assets and the group of e exist.
func checkScope(ctx context.Context, t tx, e Exception) error {
	var one int
	err := t.QueryRowContext(ctx, `SELECT 1 FROM policies WHERE id = ? LIMIT 1`, e.Policy).Scan(&one)
	if isNoRows(err) {
		return fmt.Errorf("policy: policy %q: %w", e.Policy, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("check exception policy: %w", err)
	}
	for i, id := range e.Assets {
		err := t.QueryRowContext(ctx, `SELECT 1 FROM assets WHERE id = ?`, id).Scan(&one)
		if isNoRows(err) {
			return fmt.Errorf("assets[%d]: asset %d: %w", i, id, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("check exception assets: %w", err)
		}
	}
	if e.Group != 0 {
		err := t.QueryRowContext(ctx, `SELECT 1 FROM asset_groups WHERE id = ?`, e.Group).Scan(&one)
		if isNoRows(err) {
			return fmt.Errorf("group: group %d: %w", e.Group, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("check exception group: %w", err)
		}
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// DecideException approves or rejects a pending exception (action
// "approve" or "reject"), renews an approved or expired one with a new
// expiry ("renew": it goes back to pending with the new expiry, and needs
// a new approval), or revokes a pending, approved or expired one
// ("revoke"). Four eyes: the requester of an exception (or of its
// renewal) may not approve or reject it (ErrSelfApproval). An action the
// exception's state does not allow is a *ConflictError on "status" with
// the effective status. Approval records the evidence: the posture's
// actual values of the control on every asset in scope.
func (s *Store) DecideException(ctx context.Context, id int64, action string, expires *time.Time, actor string) (Exception, error) {
	now := s.now()
	switch action {
	case "approve", "reject", "revoke":
	case "renew":
		switch {
		case expires == nil || expires.IsZero():
			return Exception{}, &InvalidError{Field: "expires", Message: "a renewal needs a new expiry"}
		case !expires.After(now):
			return Exception{}, &InvalidError{Field: "expires", Message: "the new expiry " + expires.UTC().Format(time.RFC3339) + " is not in the future"}
		}
	default:
		return Exception{}, &InvalidError{Field: "action", Message: fmt.Sprintf("%q is not an exception action (approve, reject, renew, revoke)", action)}
	}
	var e Exception
	err := s.write(ctx, func(t tx) error {
		var err error
		if e, err = getException(ctx, t, id, now, s.d.forUpdate()); err != nil {
			return err
		}
		stored := e.Status
		if stored == Expired {
			stored = Approved
		}
		allowed := map[string][]string{
			"approve": {Pending},
			"reject":  {Pending},
			"revoke":  {Pending, Approved},
			"renew":   {Approved},
		}[action]
		if !slices.Contains(allowed, stored) {
			return &ConflictError{Field: "status", Value: e.Status}
		}
		var detail any
		switch action {
		case "approve", "reject":
			if actor == e.RequestedBy {
				return fmt.Errorf("exception %d: %w", id, ErrSelfApproval)
			}
			if action == "approve" && !e.Expires.After(now) {
				return &InvalidError{Field: "expires", Message: "the exception expired on " +
					e.Expires.Format(time.RFC3339) + " before its approval: request it again"}
			}
			e.Status = map[string]string{"approve": Approved, "reject": Rejected}[action]
			e.ApprovedBy, e.Decided = actor, &now
			if _, err := t.ExecContext(ctx, `UPDATE exceptions SET status = ?, decided_by = ?, decided = ? WHERE id = ?`,
				e.Status, actor, micros(now), id); err != nil {
				return fmt.Errorf("%s exception %d: %w", action, id, err)
			}
			d := map[string]any{"status": e.Status, "decided_by": actor}
			if action == "approve" {
				n, err := recordEvidence(ctx, t, e)
				if err != nil {
					return err
				}
				d["evidence"] = n
			}
			detail = d
		case "revoke":
			d := map[string]any{"status": Revoked, "previous_status": e.Status, "decided_by": actor}
			e.Status, e.ApprovedBy, e.Decided = Revoked, actor, &now
			if _, err := t.ExecContext(ctx, `UPDATE exceptions SET status = ?, decided_by = ?, decided = ? WHERE id = ?`,
				Revoked, actor, micros(now), id); err != nil {
				return fmt.Errorf("revoke exception %d: %w", id, err)
			}
			detail = d
		case "renew":
			exp := time.UnixMicro(expires.UnixMicro()).UTC()
			detail = map[string]any{"status": Pending, "previous_status": e.Status, "expires": exp,
				"previous_expires": e.Expires, "requested_by": actor}
			e.Status, e.Expires, e.RequestedBy, e.ApprovedBy, e.Decided = Pending, exp, actor, "", nil
			if _, err := t.ExecContext(ctx, `UPDATE exceptions SET status = ?, expires = ?, requested_by = ?, decided_by = '', decided = NULL
				WHERE id = ?`, Pending, micros(exp), actor, id); err != nil {
				return fmt.Errorf("renew exception %d: %w", id, err)
			}
			if _, err := t.ExecContext(ctx, `DELETE FROM exception_evidence WHERE exception_id = ?`, id); err != nil {
				return fmt.Errorf("renew exception %d: %w", id, err)
			}
		}
		b, err := json.Marshal(detail)
		if err != nil {
			return fmt.Errorf("encode exception event: %w", err)
		}
		if err := s.appendEvent(ctx, t, id, now, actor, action, string(b)); err != nil {
			return err
		}
		return s.audit(ctx, t, now, actor, "exception."+action, exceptionObject(id), string(b))
	})
	if err != nil {
		return Exception{}, err
	}
	e.Status = effectiveStatus(e.Status, e.Expires, now)
	return e, nil
}

// recordEvidence stores, for an exception being approved, the posture's
// actual values of its control on every asset in its scope that has a
// result of it, and returns how many.
func recordEvidence(ctx context.Context, t tx, e Exception) (int64, error) {
	q := `INSERT INTO exception_evidence (exception_id, asset_id, actual)
		SELECT ?, r.asset_id, r.actual FROM posture r WHERE r.policy = ? AND r.cid = ? AND `
	args := []any{e.ID, e.Policy, e.CID}
	if e.Group != 0 {
		q += inGroup("r.asset_id")
		args = append(args, e.Group, e.Group, e.Group)
	} else {
		q += `r.asset_id IN (SELECT asset_id FROM exception_assets WHERE exception_id = ?)`
		args = append(args, e.ID)
	}
	res, err := t.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("record evidence of exception %d: %w", e.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("record evidence of exception %d: %w", e.ID, err)
	}
	return n, nil
}

// eventHash is the hash of one history entry: hex SHA-256 of the previous
// entry's hash, a newline, and the JSON array [exception_id, time (unix
// microseconds), actor, action, detail].
func eventHash(prev string, exceptionID int64, at time.Time, actor, action, detail string) string {
	// An array of integers and strings always encodes.
	b, _ := json.Marshal([]any{exceptionID, at.UnixMicro(), actor, action, detail})
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write([]byte("\n"))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// appendEvent appends one entry to the exception history's hash chain
// inside t. Appends are serialised (PostgreSQL: an advisory lock held to
// the end of t; SQLite: the write transaction), so every entry's
// prev_hash is the hash of the entry before it in id order.
func (s *Store) appendEvent(ctx context.Context, t tx, exceptionID int64, at time.Time, actor, action, detail string) error {
	if err := s.d.lock(ctx, t, exceptionLogLock); err != nil {
		return fmt.Errorf("lock the exception history: %w", err)
	}
	var prev string
	err := t.QueryRowContext(ctx, `SELECT hash FROM exception_events ORDER BY id DESC LIMIT 1`).Scan(&prev)
	if err != nil && !isNoRows(err) {
		return fmt.Errorf("read the exception history: %w", err)
	}
	hash := eventHash(prev, exceptionID, at, actor, action, detail)
	if _, err := t.ExecContext(ctx, `INSERT INTO exception_events (exception_id, time, actor, action, detail, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, exceptionID, micros(at), actor, action, detail, prev, hash); err != nil {
		return fmt.Errorf("append to the exception history: %w", err)
	}
	return nil
}

// exceptionCols are the columns scanException reads; they take now once
// (for the effective status).
const exceptionCols = `e.id, e.type, e.policy, e.cid, COALESCE(e.group_id, 0), e.owner, e.justification, e.requested_by,
	e.decided_by, ` + statusSQL + `, e.expires, e.reopen_on_evidence_change, e.created, e.decided`

func scanException(r scanner) (Exception, error) {
	var e Exception
	var expires, created int64
	var reopen int
	var decided sql.NullInt64
	if err := r.Scan(&e.ID, &e.Type, &e.Policy, &e.CID, &e.Group, &e.Owner, &e.Justification, &e.RequestedBy,
		&e.ApprovedBy, &e.Status, &expires, &reopen, &created, &decided); err != nil {
		return e, err
	}
	e.Assets = []int64{}
	e.Expires, e.Created, e.Decided = fromMicros(expires), fromMicros(created), timePtr(decided)
	e.ReopenOnEvidenceChange = reopen != 0
	return e, nil
}

// fillScope reads the assets of es.
func fillScope(ctx context.Context, q querier, es []Exception) error {
	if len(es) == 0 {
		return nil
	}
	idx := map[int64]int{}
	args := make([]any, len(es))
	for i, e := range es {
		idx[e.ID] = i
		args[i] = e.ID
	}
	type pair struct{ exception, asset int64 }
	ps, err := queryAll(ctx, q, `SELECT exception_id, asset_id FROM exception_assets WHERE exception_id IN (`+placeholders(len(es))+`)
		ORDER BY exception_id, asset_id`, args, func(r scanner) (pair, error) {
		var p pair
		err := r.Scan(&p.exception, &p.asset)
		return p, err
	})
	if err != nil {
		return fmt.Errorf("read exception scope: %w", err)
	}
	for _, p := range ps {
		e := &es[idx[p.exception]]
		e.Assets = append(e.Assets, p.asset)
	}
	return nil
}

// getException reads one exception with its effective status at now;
// lock (the dialect's FOR UPDATE, or "") locks its row for a decision.
func getException(ctx context.Context, q querier, id int64, now time.Time, lock string) (Exception, error) {
	e, err := scanException(q.QueryRowContext(ctx, `SELECT `+exceptionCols+` FROM exceptions e WHERE e.id = ?`+lock, micros(now), id))
	if isNoRows(err) {
		return Exception{}, fmt.Errorf("exception %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Exception{}, fmt.Errorf("read exception %d: %w", id, err)
	}
	es := []Exception{e}
	if err := fillScope(ctx, q, es); err != nil {
		return Exception{}, err
	}
	return es[0], nil
}

// GetException returns one exception with its effective status.
func (s *Store) GetException(ctx context.Context, id int64) (Exception, error) {
	return getException(ctx, s.read(), id, s.now(), "")
}

// ListExceptions returns one page of exceptions that match f, by id, with
// their effective status.
func (s *Store) ListExceptions(ctx context.Context, f ExceptionFilter) ([]Exception, error) {
	now := micros(s.now())
	w := where{}
	w.add("e.id > ?", f.After)
	switch f.Status {
	case "":
	case Approved:
		w.add(activeSQL, now)
	case Expired:
		w.add(`e.status = 'approved' AND e.expires <= ?`, now)
	default:
		w.add("e.status = ?", f.Status)
	}
	if f.Policy != "" {
		w.add("e.policy = ?", f.Policy)
	}
	if f.CID != 0 {
		w.add("e.cid = ?", f.CID)
	}
	if f.Asset != 0 {
		w.add(`(EXISTS (SELECT 1 FROM exception_assets ea WHERE ea.exception_id = e.id AND ea.asset_id = ?)
			OR (e.group_id > 0 AND `+memberSQL("e.group_id", "?")+`))`, f.Asset, f.Asset, f.Asset)
	}
	if f.ExpiringWithin > 0 {
		w.add(activeSQL+` AND e.expires <= ?`, now, now+f.ExpiringWithin.Microseconds())
	}
	q := s.read()
	es, err := queryAll(ctx, q, `SELECT `+exceptionCols+` FROM exceptions e`+w.String()+` ORDER BY e.id LIMIT ?`,
		append(append([]any{now}, w.args...), f.limit()), scanException)
	if err != nil {
		return nil, fmt.Errorf("list exceptions: %w", err)
	}
	if err := fillScope(ctx, q, es); err != nil {
		return nil, err
	}
	return es, nil
}

const eventCols = `id, exception_id, time, actor, action, detail, prev_hash, hash`

func scanEvent(r scanner) (ExceptionEvent, error) {
	var ev ExceptionEvent
	var at int64
	if err := r.Scan(&ev.ID, &ev.ExceptionID, &at, &ev.Actor, &ev.Action, &ev.Detail, &ev.PrevHash, &ev.Hash); err != nil {
		return ev, err
	}
	ev.Time = fromMicros(at)
	return ev, nil
}

// ExceptionHistory lists the history of exception id, oldest first. An
// unknown exception is an ErrNotFound.
func (s *Store) ExceptionHistory(ctx context.Context, id int64) ([]ExceptionEvent, error) {
	q := s.read()
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM exceptions WHERE id = ?`, id).Scan(&one)
	if isNoRows(err) {
		return nil, fmt.Errorf("exception %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read exception %d: %w", id, err)
	}
	evs, err := queryAll(ctx, q, `SELECT `+eventCols+` FROM exception_events WHERE exception_id = ? ORDER BY id`, []any{id}, scanEvent)
	if err != nil {
		return nil, fmt.Errorf("read history of exception %d: %w", id, err)
	}
	return evs, nil
}

// VerifyExceptionLog recomputes the hash chain and returns the first
// entry that does not match (nil when the log is intact) and how many
// entries it checked. An entry does not match when its prev_hash is not
// the hash stored on the entry before it, or its hash is not the hash of
// its own content: an edited entry is reported itself, a deleted one by
// the entry after it. The log is read as a stream, never whole.
func (s *Store) VerifyExceptionLog(ctx context.Context) (bad *ExceptionEvent, checked int, err error) {
	rows, err := s.read().QueryContext(ctx, `SELECT `+eventCols+` FROM exception_events ORDER BY id`)
	if err != nil {
		return nil, 0, fmt.Errorf("verify the exception history: %w", err)
	}
	defer rows.Close()
	prev := ""
	for rows.Next() {
		ev, err := scanEvent(rows)
		if err != nil {
			return nil, checked, fmt.Errorf("verify the exception history: %w", err)
		}
		checked++
		if ev.PrevHash != prev || ev.Hash != eventHash(ev.PrevHash, ev.ExceptionID, ev.Time, ev.Actor, ev.Action, ev.Detail) {
			return &ev, checked, nil
		}
		prev = ev.Hash
	}
	if err := rows.Err(); err != nil {
		return nil, checked, fmt.Errorf("verify the exception history: %w", err)
	}
	return nil, checked, nil
}
