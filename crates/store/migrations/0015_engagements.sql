-- Audit engagements (SOC 1, SOC 2, SOC 3, ISO certification audits, internal audits) and the
-- bridge letters issued after a report. Lists (services, frameworks, trust services
-- categories) are comma-separated ids.
CREATE TABLE engagements (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organisations (id),
    ref           TEXT NOT NULL,
    kind          TEXT NOT NULL,
    title         TEXT NOT NULL,
    firm          TEXT NOT NULL,
    lead_auditor  TEXT NOT NULL DEFAULT '',
    as_of         BIGINT NOT NULL,
    period_start  TEXT NOT NULL,
    period_end    TEXT NOT NULL,
    services      TEXT NOT NULL DEFAULT '',
    frameworks    TEXT NOT NULL DEFAULT '',
    categories    TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL,
    opinion       TEXT,
    opinion_notes TEXT NOT NULL DEFAULT '',
    basis_id      TEXT REFERENCES engagements (id),
    issued_on     TEXT,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (org_id, ref)
);
CREATE INDEX engagements_period ON engagements (org_id, period_end);

CREATE TABLE bridge_letters (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organisations (id),
    engagement_id  TEXT NOT NULL REFERENCES engagements (id),
    starts_on      TEXT NOT NULL,
    ends_on        TEXT NOT NULL,
    changes        TEXT NOT NULL DEFAULT '',
    signer         TEXT NOT NULL,
    language       TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX bridge_letters_report ON bridge_letters (org_id, engagement_id);
