-- Customers of the trust portal: their accounts (separate from staff: a customer is never a
-- member of the organisation), the NDA they accept, the documents they ask for and are
-- granted, and every download of a restricted document (or refusal of one).

-- E-mail domains whose customers' access requests are approved without staff (comma
-- separated, lower case).
ALTER TABLE portal_settings ADD COLUMN auto_domains TEXT NOT NULL DEFAULT '';

CREATE TABLE portal_accounts (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    email           TEXT NOT NULL,
    name            TEXT NOT NULL,
    company         TEXT NOT NULL,
    password_hash   TEXT,
    verified_at     BIGINT,
    disabled_at     BIGINT,
    invited_by      TEXT,
    created_at      BIGINT NOT NULL,
    UNIQUE (org_id, email)
);

-- One-time and short-lived secrets of customers, kept only as SHA-256: sessions, e-mail
-- verification and invitation links, and download links (bound to one account and one
-- document).
CREATE TABLE portal_tokens (
    hash            TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    account_id      TEXT NOT NULL REFERENCES portal_accounts (id),
    purpose         TEXT NOT NULL,
    document_id     TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT
);
CREATE INDEX portal_tokens_account ON portal_tokens (account_id, purpose);

-- The NDA, versioned; a version is never changed. The SHA-256 of each language's exact text
-- is what an acceptance records.
CREATE TABLE portal_ndas (
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    version         BIGINT NOT NULL,
    text_en         TEXT NOT NULL,
    text_ko         TEXT NOT NULL,
    sha256_en       TEXT NOT NULL,
    sha256_ko       TEXT NOT NULL,
    published_by    TEXT NOT NULL,
    published_at    BIGINT NOT NULL,
    PRIMARY KEY (org_id, version)
);

CREATE TABLE portal_nda_acceptances (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    account_id      TEXT NOT NULL REFERENCES portal_accounts (id),
    version         BIGINT NOT NULL,
    language        TEXT NOT NULL,
    text_sha256     TEXT NOT NULL,
    accepted_at     BIGINT NOT NULL,
    ip              TEXT NOT NULL,
    user_agent      TEXT NOT NULL,
    offline         BIGINT NOT NULL,
    recorded_by     TEXT NOT NULL,
    note            TEXT NOT NULL
);
CREATE INDEX portal_nda_acceptances_account ON portal_nda_acceptances (account_id, version);

-- A customer's request for restricted documents; approved, it is their grant until it
-- expires or is revoked.
CREATE TABLE portal_access_requests (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    account_id      TEXT NOT NULL REFERENCES portal_accounts (id),
    reason          TEXT NOT NULL,
    days            BIGINT NOT NULL,
    status          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    decided_by      TEXT,
    decided_at      BIGINT,
    decision_note   TEXT NOT NULL,
    expires_at      BIGINT,
    revoked_at      BIGINT
);
CREATE INDEX portal_access_requests_org ON portal_access_requests (org_id, status, created_at);
CREATE INDEX portal_access_requests_account ON portal_access_requests (account_id);

CREATE TABLE portal_access_documents (
    request_id      TEXT NOT NULL REFERENCES portal_access_requests (id),
    document_id     TEXT NOT NULL REFERENCES engagement_documents (id),
    PRIMARY KEY (request_id, document_id)
);

-- Every download of a restricted document and every refused attempt.
CREATE TABLE portal_downloads (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    at              BIGINT NOT NULL,
    account_id      TEXT,
    email           TEXT NOT NULL,
    company         TEXT NOT NULL,
    document_id     TEXT NOT NULL,
    document_title  TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    ip              TEXT NOT NULL,
    user_agent      TEXT NOT NULL,
    sha256          TEXT NOT NULL
);
CREATE INDEX portal_downloads_org ON portal_downloads (org_id, at);
