-- Plumb store schema, version 4: exceptions, dated, typed, justified
-- waivers of a failing control on some assets or on an asset group. Rows
-- are never deleted: every change appends an exception_events entry, and
-- those entries are hash-chained (each hash covers the previous one).
--
-- Scope rows keep the ids of their assets and group without foreign keys:
-- deleting an asset or a group must not fail, nor rewrite an exception's
-- history; a deleted asset has no posture to except, a deleted group no
-- members.
CREATE TABLE exceptions (
	id @ID@,
	type TEXT NOT NULL,
	policy TEXT NOT NULL,
	cid INTEGER NOT NULL,
	group_id BIGINT,
	owner TEXT NOT NULL,
	justification TEXT NOT NULL,
	requested_by TEXT NOT NULL,
	decided_by TEXT NOT NULL,
	status TEXT NOT NULL,
	expires BIGINT NOT NULL,
	reopen_on_evidence_change INTEGER NOT NULL,
	created BIGINT NOT NULL,
	decided BIGINT
);
-- The posture looks up the group-scoped exceptions (group_id > 0) of one
-- control that are approved and unexpired.
CREATE INDEX exceptions_scope ON exceptions (policy, cid, status, group_id, expires);
-- Lists by effective status and the expiring window.
CREATE INDEX exceptions_status ON exceptions (status, expires);

-- exception_assets: the assets of an exception scoped by assets. The
-- exception's policy and control (never changed) are copied here, so the
-- posture finds the exceptions of one item in one index probe.
CREATE TABLE exception_assets (
	exception_id BIGINT NOT NULL REFERENCES exceptions (id),
	asset_id BIGINT NOT NULL,
	policy TEXT NOT NULL,
	cid INTEGER NOT NULL,
	PRIMARY KEY (exception_id, asset_id)
);
CREATE INDEX exception_assets_item ON exception_assets (asset_id, policy, cid, exception_id);

-- exception_evidence: the posture's actual values (JSON text) of every
-- asset in scope when the exception was approved.
CREATE TABLE exception_evidence (
	exception_id BIGINT NOT NULL REFERENCES exceptions (id),
	asset_id BIGINT NOT NULL,
	actual TEXT NOT NULL,
	PRIMARY KEY (exception_id, asset_id)
);

CREATE TABLE exception_events (
	id @ID@,
	exception_id BIGINT NOT NULL REFERENCES exceptions (id),
	time BIGINT NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	detail TEXT NOT NULL,
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL
);
CREATE INDEX exception_events_exception ON exception_events (exception_id, id);
