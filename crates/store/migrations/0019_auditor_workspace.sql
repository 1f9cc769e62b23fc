-- The auditor workspace of an engagement.
--
-- An auditor is invited to one engagement: the invitation carries the engagement and the
-- last day of access, which the membership takes on acceptance.
ALTER TABLE invitations ADD COLUMN engagement_id TEXT;
ALTER TABLE invitations ADD COLUMN access_until BIGINT;

-- The organisation's sample-size table by control frequency (the documented default when
-- absent).
CREATE TABLE sample_tables (
    org_id        TEXT PRIMARY KEY REFERENCES organisations (id),
    annual        BIGINT NOT NULL,
    quarterly     BIGINT NOT NULL,
    monthly       BIGINT NOT NULL,
    weekly        BIGINT NOT NULL,
    daily         BIGINT NOT NULL,
    many_per_day  BIGINT NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at    BIGINT NOT NULL
);

-- The auditor's "provided by client" list: items assigned to people with due dates,
-- answered with evidence, then accepted or returned. Status: open, submitted, accepted,
-- returned.
CREATE TABLE audit_requests (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organisations (id),
    engagement_id  TEXT NOT NULL REFERENCES engagements (id),
    ref            TEXT NOT NULL,
    title          TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    control_id     TEXT REFERENCES controls (id),
    assignee_id    TEXT REFERENCES users (id),
    due_on         TEXT,
    status         TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (org_id, ref)
);
CREATE INDEX audit_requests_engagement ON audit_requests (engagement_id, created_at);
CREATE INDEX audit_requests_assignee ON audit_requests (org_id, assignee_id, status);

-- The evidence that answers a request (kept while the engagement is open).
CREATE TABLE request_evidence (
    request_id   TEXT NOT NULL REFERENCES audit_requests (id),
    evidence_id  TEXT NOT NULL REFERENCES evidence (id),
    org_id       TEXT NOT NULL REFERENCES organisations (id),
    added_by     TEXT NOT NULL,
    added_at     BIGINT NOT NULL,
    PRIMARY KEY (request_id, evidence_id)
);
CREATE INDEX request_evidence_evidence ON request_evidence (org_id, evidence_id);

-- Findings of an engagement: an exception in a control test (SOC), or a major or minor
-- nonconformity or an observation (ISO, which also raises a nonconformity into the ISMS).
CREATE TABLE engagement_findings (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES organisations (id),
    engagement_id     TEXT NOT NULL REFERENCES engagements (id),
    ref               TEXT NOT NULL,
    title             TEXT NOT NULL,
    description       TEXT NOT NULL DEFAULT '',
    severity          TEXT NOT NULL,
    control_id        TEXT REFERENCES controls (id),
    test_id           TEXT REFERENCES control_tests (id),
    items             TEXT NOT NULL DEFAULT '[]',
    nonconformity_id  TEXT REFERENCES nonconformities (id),
    response          TEXT NOT NULL DEFAULT '',
    created_by        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (org_id, ref)
);
CREATE INDEX engagement_findings_engagement ON engagement_findings (engagement_id, created_at);

-- Comments on an engagement, a request, a test or a finding; written once.
CREATE TABLE engagement_comments (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organisations (id),
    engagement_id  TEXT NOT NULL REFERENCES engagements (id),
    subject_kind   TEXT NOT NULL,
    subject_id     TEXT NOT NULL,
    author         TEXT NOT NULL,
    author_name    TEXT NOT NULL,
    body           TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX engagement_comments_subject ON engagement_comments (engagement_id, subject_kind, subject_id, created_at);
