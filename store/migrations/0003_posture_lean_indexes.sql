-- Plumb store schema, version 3: fewer posture indexes, for ingest. Every
-- posture update sets a new result_id, so each index that holds result_id
-- takes a new entry per update on SQLite, and on PostgreSQL the update can
-- never be HOT and every index takes one. The posture is read in result_id
-- order (Posture pages by it), so posture_result stays; a policy or
-- control filter walks it and skips the other rows, which costs tens of
-- milliseconds at 3 million rows where the two indexes below cost a third
-- of every posture update.
DROP INDEX posture_policy;
DROP INDEX posture_cid;
