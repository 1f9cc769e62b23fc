-- The evidence list pages newest first by (created_at, id), or by the period an item covers
-- (effective_from, id) when filtered by dates. Each order has an index that leads with the
-- organisation and the sort key, so a page is a short walk down the index whatever else is
-- filtered (most items are current, so `superseded_by IS NULL` is checked on the way).
-- Links to controls carry both sort keys (copies of the evidence row's, which never change)
-- so that "evidence of this control" walks the link index in the list's order.
DROP INDEX evidence_current;
CREATE INDEX evidence_created ON evidence (org_id, created_at, id);
CREATE INDEX evidence_period ON evidence (org_id, effective_from, id);

ALTER TABLE evidence_controls ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE evidence_controls ADD COLUMN effective_from TEXT NOT NULL DEFAULT '';
UPDATE evidence_controls SET
    created_at = (SELECT e.created_at FROM evidence e WHERE e.id = evidence_controls.evidence_id),
    effective_from = (SELECT e.effective_from FROM evidence e WHERE e.id = evidence_controls.evidence_id);
DROP INDEX evidence_controls_control;
CREATE INDEX evidence_controls_created ON evidence_controls (org_id, control_id, created_at, evidence_id);
CREATE INDEX evidence_controls_period ON evidence_controls (org_id, control_id, effective_from, evidence_id);
