-- Plumb store schema, version 6: posture_counts holds the posture rows
-- counted per asset, criticality and status, kept current by every
-- transaction that writes the posture (CompleteJob recounts the asset it
-- updated, DeleteAsset drops the asset's rows). The breakdowns whose key
-- is a function of the asset (fleet, group, technology, asset,
-- criticality) sum these few rows per asset instead of counting every
-- posture row. A count may be 0 (a status an asset no longer has); the
-- readers skip those.
CREATE TABLE posture_counts (
	asset_id BIGINT NOT NULL,
	criticality INTEGER NOT NULL,
	status TEXT NOT NULL,
	n BIGINT NOT NULL,
	PRIMARY KEY (asset_id, criticality, status)
);
INSERT INTO posture_counts (asset_id, criticality, status, n)
	SELECT asset_id, criticality, status, COUNT(*) FROM posture GROUP BY asset_id, criticality, status;
