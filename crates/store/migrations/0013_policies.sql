-- Policies and procedures (ISO/IEC 27001 5.2, 7.5): documents in Markdown with versions,
-- named approvers, publication, a review cadence and staff acknowledgements.
CREATE TABLE policies (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES organisations (id),
    ref               TEXT NOT NULL,
    title             TEXT NOT NULL,
    kind              TEXT NOT NULL,
    owner_id          TEXT REFERENCES users (id),
    review_months     BIGINT NOT NULL,
    ack_required      BIGINT NOT NULL,
    last_reviewed_on  TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (org_id, ref),
    UNIQUE (org_id, title)
);

-- Who must approve a version before it is published.
CREATE TABLE policy_approvers (
    org_id     TEXT NOT NULL REFERENCES organisations (id),
    policy_id  TEXT NOT NULL REFERENCES policies (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    PRIMARY KEY (policy_id, user_id)
);

-- Versions: at most one draft (the highest number); published and superseded versions
-- never change. `body_hash` is the SHA-256 of `body`, which approvals name.
CREATE TABLE policy_versions (
    org_id        TEXT NOT NULL REFERENCES organisations (id),
    policy_id     TEXT NOT NULL REFERENCES policies (id),
    version       BIGINT NOT NULL,
    state         TEXT NOT NULL,
    body          TEXT NOT NULL,
    body_hash     TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT '',
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    published_on  TEXT,
    published_by  TEXT,
    PRIMARY KEY (policy_id, version)
);

-- An approver's approval of one version's exact text (a later edit changes the hash, and
-- the approval no longer counts).
CREATE TABLE policy_approvals (
    org_id       TEXT NOT NULL REFERENCES organisations (id),
    policy_id    TEXT NOT NULL REFERENCES policies (id),
    version      BIGINT NOT NULL,
    user_id      TEXT NOT NULL REFERENCES users (id),
    user_name    TEXT NOT NULL,
    body_hash    TEXT NOT NULL,
    approved_at  BIGINT NOT NULL,
    PRIMARY KEY (policy_id, version, user_id, body_hash)
);

-- Who read which published version, when.
CREATE TABLE policy_acks (
    org_id     TEXT NOT NULL REFERENCES organisations (id),
    policy_id  TEXT NOT NULL REFERENCES policies (id),
    version    BIGINT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    acked_at   BIGINT NOT NULL,
    PRIMARY KEY (policy_id, version, user_id)
);
CREATE INDEX policy_acks_user ON policy_acks (org_id, user_id);

-- Reminders sent to the staff who have not acknowledged a published version yet.
CREATE TABLE policy_reminders (
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    policy_id   TEXT NOT NULL REFERENCES policies (id),
    version     BIGINT NOT NULL,
    sent_at     BIGINT NOT NULL,
    sent_by     TEXT NOT NULL,
    recipients  BIGINT NOT NULL,
    PRIMARY KEY (policy_id, version, sent_at)
);
