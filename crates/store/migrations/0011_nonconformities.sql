-- Nonconformities and corrective action (ISO/IEC 27001 10.1): found by an audit or raised
-- ad hoc, with the requirement, control, risk and evidence involved, the root cause, the
-- correction and corrective action with owner and due day, and the verification of
-- effectiveness that closing requires. `ref` is numbered per organisation (NC-001).
CREATE TABLE nonconformities (
    id                 TEXT PRIMARY KEY,
    org_id             TEXT NOT NULL REFERENCES organisations (id),
    ref                TEXT NOT NULL,
    title              TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    source             TEXT NOT NULL,
    severity           TEXT NOT NULL,
    framework_id       TEXT,
    requirement_id     TEXT,
    control_id         TEXT REFERENCES controls (id),
    risk_id            TEXT REFERENCES risks (id),
    evidence_id        TEXT REFERENCES evidence (id),
    raised_by          TEXT NOT NULL,
    raised_on          TEXT NOT NULL,
    root_cause         TEXT NOT NULL DEFAULT '',
    correction         TEXT NOT NULL DEFAULT '',
    corrective_action  TEXT NOT NULL DEFAULT '',
    owner_id           TEXT REFERENCES users (id),
    due_on             TEXT,
    verification       TEXT,
    verified_by        TEXT,
    verified_on        TEXT,
    closed_on          TEXT,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    UNIQUE (org_id, ref)
);
