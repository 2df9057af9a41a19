-- Plumb store schema, version 1. @ID@ and @BLOB@ are filled in per
-- database. Times are unix microseconds (BIGINT); lists that are only
-- ever read whole are JSON text; lists that are searched or must be
-- unique have their own tables.

CREATE TABLE credentials (
	id @ID@,
	name TEXT NOT NULL CONSTRAINT credentials_name_key UNIQUE,
	kind TEXT NOT NULL,
	username TEXT NOT NULL,
	sudo INTEGER NOT NULL,
	sealed @BLOB@,
	created BIGINT NOT NULL
);

CREATE TABLE assets (
	id @ID@,
	name TEXT NOT NULL CONSTRAINT assets_name_key UNIQUE,
	hostnames TEXT NOT NULL,
	addresses TEXT NOT NULL,
	net_partition TEXT NOT NULL,
	port INTEGER NOT NULL,
	credential_id BIGINT REFERENCES credentials (id) ON DELETE SET NULL,
	technology TEXT NOT NULL,
	tags TEXT NOT NULL,
	source TEXT NOT NULL,
	first_seen BIGINT,
	last_seen BIGINT,
	created BIGINT NOT NULL
);
CREATE INDEX assets_technology ON assets (technology);
CREATE INDEX assets_credential ON assets (credential_id);

CREATE TABLE asset_addresses (
	asset_id BIGINT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
	net_partition TEXT NOT NULL,
	address TEXT NOT NULL,
	CONSTRAINT asset_addresses_key UNIQUE (net_partition, address)
);
CREATE INDEX asset_addresses_asset ON asset_addresses (asset_id);
CREATE INDEX asset_addresses_address ON asset_addresses (address);

-- tags: every spelling ever stored, keyed by its lower case; the first
-- spelling of a key is the one every asset and group shows.
CREATE TABLE tags (
	id @ID@,
	name TEXT NOT NULL,
	lkey TEXT NOT NULL CONSTRAINT tags_lkey_key UNIQUE
);

CREATE TABLE asset_tags (
	asset_id BIGINT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
	tag_id BIGINT NOT NULL REFERENCES tags (id),
	PRIMARY KEY (asset_id, tag_id)
);
CREATE INDEX asset_tags_tag ON asset_tags (tag_id, asset_id);

CREATE TABLE asset_groups (
	id @ID@,
	name TEXT NOT NULL CONSTRAINT asset_groups_name_key UNIQUE,
	description TEXT NOT NULL,
	match_tags TEXT NOT NULL,
	policies TEXT NOT NULL,
	created BIGINT NOT NULL
);

CREATE TABLE group_members (
	group_id BIGINT NOT NULL REFERENCES asset_groups (id) ON DELETE CASCADE,
	asset_id BIGINT NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, asset_id)
);
CREATE INDEX group_members_asset ON group_members (asset_id);

CREATE TABLE group_tags (
	group_id BIGINT NOT NULL REFERENCES asset_groups (id) ON DELETE CASCADE,
	tag_id BIGINT NOT NULL REFERENCES tags (id),
	PRIMARY KEY (group_id, tag_id)
);

CREATE TABLE policies (
	id TEXT NOT NULL,
	version INTEGER NOT NULL,
	title TEXT NOT NULL,
	source TEXT NOT NULL,
	body @BLOB@ NOT NULL,
	created BIGINT NOT NULL,
	created_by TEXT NOT NULL,
	CONSTRAINT policies_pkey PRIMARY KEY (id, version)
);

CREATE TABLE schedules (
	id @ID@,
	name TEXT NOT NULL,
	policies TEXT NOT NULL,
	assets TEXT NOT NULL,
	group_ids TEXT NOT NULL,
	credential_id BIGINT REFERENCES credentials (id) ON DELETE SET NULL,
	every_us BIGINT NOT NULL,
	next_run BIGINT NOT NULL,
	created_by TEXT NOT NULL,
	created BIGINT NOT NULL
);
CREATE INDEX schedules_next ON schedules (next_run);

CREATE TABLE scans (
	id @ID@,
	name TEXT NOT NULL,
	policies TEXT NOT NULL,
	assets TEXT NOT NULL,
	group_ids TEXT NOT NULL,
	credential_id BIGINT REFERENCES credentials (id) ON DELETE SET NULL,
	schedule_id BIGINT REFERENCES schedules (id) ON DELETE SET NULL,
	state TEXT NOT NULL,
	created_by TEXT NOT NULL,
	created BIGINT NOT NULL,
	started BIGINT,
	finished BIGINT
);
CREATE INDEX scans_state ON scans (state, id);
CREATE INDEX scans_credential ON scans (credential_id);

-- jobs keep their asset id after the asset is deleted: the scan's history
-- stays whole, and the worker reports the missing host as a failed job.
CREATE TABLE jobs (
	id @ID@,
	scan_id BIGINT NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
	asset_id BIGINT NOT NULL,
	state TEXT NOT NULL,
	attempt INTEGER NOT NULL,
	worker TEXT NOT NULL,
	lease_until BIGINT,
	error TEXT NOT NULL,
	started BIGINT,
	finished BIGINT
);
CREATE INDEX jobs_scan ON jobs (scan_id, state);
CREATE INDEX jobs_state ON jobs (state, id);

CREATE TABLE results (
	id @ID@,
	scan_id BIGINT NOT NULL,
	job_id BIGINT NOT NULL,
	asset_id BIGINT NOT NULL,
	policy TEXT NOT NULL,
	policy_version INTEGER NOT NULL,
	cid INTEGER NOT NULL,
	rule TEXT NOT NULL,
	title TEXT NOT NULL,
	category TEXT NOT NULL,
	criticality INTEGER NOT NULL,
	status TEXT NOT NULL,
	expected TEXT NOT NULL,
	actual TEXT NOT NULL,
	reason TEXT NOT NULL,
	message TEXT NOT NULL,
	method TEXT NOT NULL,
	scap_result TEXT NOT NULL,
	rtime BIGINT NOT NULL,
	refs TEXT NOT NULL,
	remediation TEXT NOT NULL,
	CONSTRAINT results_job_key UNIQUE (job_id, policy, cid)
);
CREATE INDEX results_scan ON results (scan_id, id);
CREATE INDEX results_asset ON results (asset_id, id);

-- posture: the latest result of every (asset, policy, control), a copy
-- kept whole so old results can be pruned without losing the posture.
CREATE TABLE posture (
	asset_id BIGINT NOT NULL,
	policy TEXT NOT NULL,
	cid INTEGER NOT NULL,
	result_id BIGINT NOT NULL,
	scan_id BIGINT NOT NULL,
	job_id BIGINT NOT NULL,
	policy_version INTEGER NOT NULL,
	rule TEXT NOT NULL,
	title TEXT NOT NULL,
	category TEXT NOT NULL,
	criticality INTEGER NOT NULL,
	status TEXT NOT NULL,
	expected TEXT NOT NULL,
	actual TEXT NOT NULL,
	reason TEXT NOT NULL,
	message TEXT NOT NULL,
	method TEXT NOT NULL,
	scap_result TEXT NOT NULL,
	rtime BIGINT NOT NULL,
	refs TEXT NOT NULL,
	remediation TEXT NOT NULL,
	PRIMARY KEY (asset_id, policy, cid)
);
CREATE INDEX posture_result ON posture (result_id);
CREATE INDEX posture_policy ON posture (policy, result_id);
CREATE INDEX posture_cid ON posture (cid, result_id);

CREATE TABLE tokens (
	id @ID@,
	name TEXT NOT NULL CONSTRAINT tokens_name_key UNIQUE,
	role TEXT NOT NULL,
	hash TEXT NOT NULL CONSTRAINT tokens_hash_key UNIQUE,
	created BIGINT NOT NULL,
	last_used BIGINT,
	revoked BIGINT
);

CREATE TABLE audit (
	id @ID@,
	at BIGINT NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	object TEXT NOT NULL,
	detail TEXT NOT NULL
);
