-- Information security risk (ISO/IEC 27001 6.1.2, 6.1.3, 8.2, 8.3): the organisation's risk
-- matrix and appetite, its asset register, risks rated inherent and residual on the matrix
-- with their treatment, and recorded acceptances of residual risk.

-- One row per organisation that changed the default matrix. `matrix` is JSON: the
-- likelihood and impact step names, the named levels and the appetite.
CREATE TABLE risk_matrices (
    org_id      TEXT PRIMARY KEY REFERENCES organisations (id),
    matrix      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE assets (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    classification  TEXT NOT NULL,
    owner_id        TEXT REFERENCES users (id),
    description     TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE risks (
    id                   TEXT PRIMARY KEY,
    org_id               TEXT NOT NULL REFERENCES organisations (id),
    ref                  TEXT NOT NULL,
    title                TEXT NOT NULL,
    description          TEXT NOT NULL DEFAULT '',
    threat               TEXT NOT NULL DEFAULT '',
    vulnerability        TEXT NOT NULL DEFAULT '',
    owner_id             TEXT REFERENCES users (id),
    inherent_likelihood  BIGINT NOT NULL,
    inherent_impact      BIGINT NOT NULL,
    residual_likelihood  BIGINT NOT NULL,
    residual_impact      BIGINT NOT NULL,
    treatment            TEXT NOT NULL,
    treatment_plan       TEXT NOT NULL DEFAULT '',
    treatment_due        TEXT,
    status               TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    UNIQUE (org_id, ref)
);

CREATE TABLE risk_assets (
    org_id    TEXT NOT NULL REFERENCES organisations (id),
    risk_id   TEXT NOT NULL REFERENCES risks (id),
    asset_id  TEXT NOT NULL REFERENCES assets (id),
    PRIMARY KEY (risk_id, asset_id)
);
CREATE INDEX risk_assets_asset ON risk_assets (org_id, asset_id);

CREATE TABLE risk_controls (
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    risk_id     TEXT NOT NULL REFERENCES risks (id),
    control_id  TEXT NOT NULL REFERENCES controls (id),
    PRIMARY KEY (risk_id, control_id)
);
CREATE INDEX risk_controls_control ON risk_controls (org_id, control_id);

-- A decision to accept a risk's residual level: who, when, why, until when, and the risk's
-- values at the decision (`snapshot`, JSON), so that a later material change shows the
-- decision no longer covers it. Never updated: a renewal is a new row.
CREATE TABLE risk_acceptances (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organisations (id),
    risk_id        TEXT NOT NULL REFERENCES risks (id),
    approver_id    TEXT REFERENCES users (id),
    approver_name  TEXT NOT NULL,
    decided_on     TEXT NOT NULL,
    expires_on     TEXT NOT NULL,
    justification  TEXT NOT NULL,
    snapshot       TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX risk_acceptances_risk ON risk_acceptances (org_id, risk_id, created_at);
