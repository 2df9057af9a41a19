-- Plumb store schema, version 2: PostureSummary counts the posture of a
-- set of assets per criticality and status. This index holds all three,
-- so the count reads the index alone (on PostgreSQL once vacuum has
-- marked the pages all-visible) instead of every wide posture row.
CREATE INDEX posture_asset_summary ON posture (asset_id, criticality, status);
