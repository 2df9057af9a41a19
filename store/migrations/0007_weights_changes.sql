-- Plumb store schema, version 7: policy weights and the status change log.
--
-- weight is a result's weight in the weighted score when its policy sets
-- its own weights; NULL means the criticality. posture_counts.w sums the
-- weights (COALESCE(weight, criticality)) of the rows it counts.
ALTER TABLE results ADD COLUMN weight INTEGER;
ALTER TABLE posture ADD COLUMN weight INTEGER;
ALTER TABLE posture_counts ADD COLUMN w BIGINT NOT NULL DEFAULT 0;
UPDATE posture_counts SET w = n * criticality;

-- status_changes: every change of a control's status on an asset, as the
-- posture took it (CompleteJob writes one row per posture row whose status
-- a newer result changes). Changes reads the first and the last change of
-- each control in a window, so the question "what changed between two
-- dates" costs what changed, not what was scanned. Rows outlive their
-- asset, as results do.
CREATE TABLE status_changes (
	id @ID@,
	asset_id BIGINT NOT NULL,
	policy TEXT NOT NULL,
	cid INTEGER NOT NULL,
	criticality INTEGER NOT NULL,
	from_status TEXT NOT NULL,
	to_status TEXT NOT NULL,
	rtime BIGINT NOT NULL,
	result_id BIGINT NOT NULL
);
CREATE INDEX status_changes_time ON status_changes (rtime);
CREATE INDEX status_changes_asset ON status_changes (asset_id, rtime);
INSERT INTO status_changes (asset_id, policy, cid, criticality, from_status, to_status, rtime, result_id)
	SELECT asset_id, policy, cid, criticality, prev, status, rtime, id FROM (
		SELECT asset_id, policy, cid, criticality, status, rtime, id,
			LAG(status) OVER (PARTITION BY asset_id, policy, cid ORDER BY rtime, id) AS prev
		FROM results) h
	WHERE prev IS NOT NULL AND prev <> status
	ORDER BY rtime, id;
