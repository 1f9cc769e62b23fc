-- The ISMS scope and context (ISO/IEC 27001 clause 4) as versioned documented information:
-- every save is a new version; the highest is current, earlier ones stay readable.
-- `document` is JSON: the scope statement, in-scope services and locations, internal and
-- external issues, interested parties and their requirements.
CREATE TABLE isms_scope_versions (
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    version     BIGINT NOT NULL,
    document    TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, version)
);
