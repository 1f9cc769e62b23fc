-- An organisation's evidence retention rule: evidence is disposed of once this many days
-- have passed since the end of the period it covers (or the day it was collected, for an
-- item with no end), unless it is under legal hold. No row: evidence is kept until an
-- owner disposes of it.
CREATE TABLE evidence_retention (
    org_id      TEXT PRIMARY KEY REFERENCES organisations (id),
    keep_days   BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
