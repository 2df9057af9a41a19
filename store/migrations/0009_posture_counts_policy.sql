-- Plumb store schema, version 9: posture_counts per policy too. The
-- breakdown by policy, and any summary narrowed by policy, criticality
-- or status, now sums these few rows per asset and policy instead of
-- counting the posture rows (a dashboard over 10,000 assets x 300
-- controls read 3 million rows for its policy table).
CREATE TABLE posture_counts_p (
	asset_id BIGINT NOT NULL,
	policy TEXT NOT NULL,
	criticality INTEGER NOT NULL,
	status TEXT NOT NULL,
	n BIGINT NOT NULL,
	w BIGINT NOT NULL,
	PRIMARY KEY (asset_id, policy, criticality, status)
);
INSERT INTO posture_counts_p (asset_id, policy, criticality, status, n, w)
	SELECT asset_id, policy, criticality, status, COUNT(*), SUM(COALESCE(weight, criticality))
	FROM posture GROUP BY asset_id, policy, criticality, status;
DROP TABLE posture_counts;
ALTER TABLE posture_counts_p RENAME TO posture_counts;
