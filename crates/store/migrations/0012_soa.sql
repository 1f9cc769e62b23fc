-- The Statement of Applicability (ISO/IEC 27001 6.1.3 d).
--
-- `soa_decisions` holds the organisation's current decision on each Annex A control of
-- each version (2022 and 2013 are kept apart, so switching back loses nothing). `reasons`
-- is a comma-separated list of reason codes.
CREATE TABLE soa_decisions (
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    framework_id    TEXT NOT NULL,
    requirement_id  TEXT NOT NULL,
    applicable      BIGINT NOT NULL,
    reasons         TEXT NOT NULL DEFAULT '',
    justification   TEXT NOT NULL DEFAULT '',
    updated_by      TEXT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (org_id, framework_id, requirement_id)
);

-- The versions of the statement: at most one draft (the highest number; its content is
-- computed from the data), and approved versions frozen with their content (JSON) and the
-- SHA-256 of that content. A decision made while the latest version is approved opens the
-- next draft. Numbers come from the primary key: two nodes opening a draft at once cannot
-- both succeed.
CREATE TABLE soa_versions (
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    version         BIGINT NOT NULL,
    framework_id    TEXT NOT NULL,
    status          TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    approver_id     TEXT REFERENCES users (id),
    approver_name   TEXT,
    approved_at     BIGINT,
    note            TEXT NOT NULL DEFAULT '',
    content         TEXT,
    content_hash    TEXT,
    PRIMARY KEY (org_id, version)
);
