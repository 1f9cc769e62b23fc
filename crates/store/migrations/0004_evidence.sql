-- Evidence: immutable items (a file in the blob store, a link, or a JSON record) with the
-- dates they prove, linked to controls. A correction is a new version in the same lineage;
-- rows are never rewritten except to mark a newer version, a legal hold or a disposal.
-- Dates are calendar days as 'YYYY-MM-DD' text, which sorts as dates do.
-- `sha256` names the file's blob; it stays on a disposed row as the record of what was
-- deleted, so it is not a foreign key: `attest verify` checks that every live file's blob
-- row and bytes exist.

CREATE TABLE evidence (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organisations (id),
    lineage_id       TEXT NOT NULL,
    version          BIGINT NOT NULL,
    supersedes       TEXT REFERENCES evidence (id),
    superseded_by    TEXT,
    kind             TEXT NOT NULL,
    title            TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    source           TEXT NOT NULL,
    sha256           TEXT,
    size             BIGINT,
    content_type     TEXT,
    file_name        TEXT,
    url              TEXT,
    record           TEXT,
    collected_on     TEXT NOT NULL,
    effective_from   TEXT NOT NULL,
    effective_until  TEXT,
    collected_by     TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    legal_hold       BIGINT NOT NULL DEFAULT 0,
    disposed_at      BIGINT,
    disposed_by      TEXT,
    disposal_reason  TEXT,
    UNIQUE (org_id, lineage_id, version)
);
-- The list view: current versions, newest first, paged by (created_at, id).
CREATE INDEX evidence_current ON evidence (org_id, superseded_by, created_at, id);
CREATE INDEX evidence_blob ON evidence (org_id, sha256);

CREATE TABLE evidence_controls (
    org_id       TEXT NOT NULL REFERENCES organisations (id),
    evidence_id  TEXT NOT NULL REFERENCES evidence (id),
    control_id   TEXT NOT NULL REFERENCES controls (id),
    PRIMARY KEY (evidence_id, control_id)
);
CREATE INDEX evidence_controls_control ON evidence_controls (org_id, control_id, evidence_id);
