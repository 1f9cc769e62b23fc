-- Objectives and measurement (ISO/IEC 27001 6.2, 9.1), the internal audit programme (9.2)
-- and management reviews (9.3).

CREATE TABLE objectives (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organisations (id),
    ref          TEXT NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    owner_id     TEXT REFERENCES users (id),
    metric       TEXT NOT NULL,
    target       DOUBLE PRECISION NOT NULL,
    direction    TEXT NOT NULL,
    due_on       TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (org_id, ref)
);

-- One value per metric per day (the day's latest measurement replaces earlier ones):
-- computed metrics are recorded whenever objectives are looked at, manual ones by people.
CREATE TABLE metric_values (
    org_id       TEXT NOT NULL REFERENCES organisations (id),
    metric       TEXT NOT NULL,
    taken_on     TEXT NOT NULL,
    value        DOUBLE PRECISION NOT NULL,
    recorded_by  TEXT NOT NULL,
    PRIMARY KEY (org_id, metric, taken_on)
);

CREATE TABLE internal_audits (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    ref         TEXT NOT NULL,
    title       TEXT NOT NULL,
    scope       TEXT NOT NULL,
    criteria    TEXT NOT NULL,
    framework_id TEXT,
    requirements TEXT NOT NULL DEFAULT '',
    auditor     TEXT NOT NULL,
    starts_on   TEXT NOT NULL,
    ends_on     TEXT NOT NULL,
    status      TEXT NOT NULL,
    conclusion  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (org_id, ref)
);

-- The result of auditing one requirement; a finding may have raised a nonconformity.
CREATE TABLE audit_results (
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    audit_id        TEXT NOT NULL REFERENCES internal_audits (id),
    requirement_id  TEXT NOT NULL,
    result          TEXT NOT NULL,
    notes           TEXT NOT NULL DEFAULT '',
    nc_id           TEXT REFERENCES nonconformities (id),
    recorded_by     TEXT NOT NULL,
    recorded_at     BIGINT NOT NULL,
    PRIMARY KEY (audit_id, requirement_id)
);

-- A management review: the clause 9.3 inputs as gathered from the data (JSON, frozen when
-- the review is closed), what was discussed, and the decisions.
CREATE TABLE management_reviews (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    ref         TEXT NOT NULL,
    held_on     TEXT NOT NULL,
    attendees   TEXT NOT NULL,
    inputs      TEXT,
    notes       TEXT NOT NULL DEFAULT '',
    decisions   TEXT NOT NULL DEFAULT '[]',
    closed_at   BIGINT,
    closed_by   TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (org_id, ref)
);
