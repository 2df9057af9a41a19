-- Plumb store schema, version 5: score history. A snapshot is the posture
-- summary of one scope (the fleet, a group, a policy, a technology) on
-- one UTC day (unix micros of its midnight); a later snapshot the same day
-- replaces the earlier. counts is compact JSON: per criticality, the
-- posture rows per status and, under "x", the Fails an exception covered
-- ({"1":{"pass":7,"fail":2,"x":1}}), from which result.SummaryExcepting
-- rebuilds the summary exactly. The key runs scope, key, day: a trend
-- reads one scope and key over a range of days.
CREATE TABLE snapshots (
	scope TEXT NOT NULL,
	skey TEXT NOT NULL,
	day BIGINT NOT NULL,
	taken BIGINT NOT NULL,
	counts TEXT NOT NULL,
	PRIMARY KEY (scope, skey, day)
);
-- SnapshotsStale compares the last snapshot with the latest scan end.
CREATE INDEX scans_finished ON scans (finished);
-- Changes looks up the latest result of one asset, policy and control at
-- or before a time, and scans an asset's results over a window of time.
CREATE INDEX results_item ON results (asset_id, policy, cid, rtime);
