-- Identity and access: people, their roles per organisation, sessions, MFA, API tokens,
-- invitations, password resets, sign-in throttling and single sign-on.

-- A person (or a service account) who signs in to the staff side. One person may belong to
-- several organisations through `memberships`.
CREATE TABLE users (
    id                    TEXT PRIMARY KEY,
    kind                  TEXT NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'service')),
    email                 TEXT NOT NULL UNIQUE,
    display_name          TEXT NOT NULL,
    -- argon2id PHC string; NULL when the account has no password (SSO only, service account,
    -- or an invitation not yet accepted).
    password_hash         TEXT,
    password_changed_at   BIGINT,
    must_change_password  BIGINT NOT NULL DEFAULT 0,
    -- TOTP (RFC 6238): base32 secret, set when enrolment is confirmed.
    totp_secret           TEXT,
    totp_pending_secret   TEXT,
    totp_enabled_at       BIGINT,
    -- The last accepted TOTP time step, so a code cannot be replayed.
    totp_last_step        BIGINT,
    created_at            BIGINT NOT NULL,
    disabled_at           BIGINT
);

CREATE TABLE memberships (
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    user_id         TEXT NOT NULL REFERENCES users (id),
    role            TEXT NOT NULL,
    role_since      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    deactivated_at  BIGINT,
    -- Auditor accounts end on a set date (and with their engagement).
    expires_at      BIGINT,
    engagement_id   TEXT,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

-- Every role a member has held, for the access review (ISO/IEC 27001 A.5.18).
CREATE TABLE role_history (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    user_id     TEXT NOT NULL REFERENCES users (id),
    role        TEXT NOT NULL,
    from_at     BIGINT NOT NULL,
    until_at    BIGINT,
    granted_by  TEXT NOT NULL
);
CREATE INDEX role_history_member ON role_history (org_id, user_id);

CREATE TABLE recovery_codes (
    user_id    TEXT NOT NULL REFERENCES users (id),
    code_hash  TEXT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- Server-side sessions; the cookie holds a random token, this table its SHA-256.
CREATE TABLE sessions (
    id_hash        TEXT PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('staff', 'portal')),
    user_id        TEXT,
    org_id         TEXT,
    csrf_token     TEXT NOT NULL,
    -- 1 while the password was accepted but the second factor not yet.
    mfa_pending    BIGINT NOT NULL DEFAULT 0,
    via_sso        BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    last_seen_at   BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    ip             TEXT,
    user_agent     TEXT,
    revoked_at     BIGINT
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organisations (id),
    user_id       TEXT NOT NULL REFERENCES users (id),
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    prefix        TEXT NOT NULL,
    role          TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT,
    last_used_at  BIGINT
);
CREATE INDEX api_tokens_org ON api_tokens (org_id);

CREATE TABLE invitations (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organisations (id),
    email        TEXT NOT NULL,
    role         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    accepted_at  BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX invitations_org ON invitations (org_id);

CREATE TABLE password_resets (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

-- Sign-in throttling counters, keyed by IP, by account and IP, and by account.
CREATE TABLE login_throttle (
    key           TEXT PRIMARY KEY,
    failures      BIGINT NOT NULL,
    window_start  BIGINT NOT NULL,
    locked_until  BIGINT
);

CREATE TABLE sso_configs (
    org_id         TEXT PRIMARY KEY REFERENCES organisations (id),
    issuer         TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    client_secret  TEXT NOT NULL,
    default_role   TEXT NOT NULL,
    group_claim    TEXT,
    -- JSON object: IdP group name -> role.
    group_roles    TEXT NOT NULL DEFAULT '{}',
    enabled        BIGINT NOT NULL DEFAULT 1,
    required       BIGINT NOT NULL DEFAULT 0,
    updated_at     BIGINT NOT NULL
);

-- An OpenID Connect sign-in in flight: state, nonce and PKCE verifier, single use.
CREATE TABLE sso_logins (
    state_hash     TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organisations (id),
    nonce          TEXT NOT NULL,
    pkce_verifier  TEXT NOT NULL,
    return_to      TEXT NOT NULL,
    -- SHA-256 of the browser's pre-sign-in token: the answer must come back to the browser
    -- that started the sign-in (no login CSRF).
    browser_hash   TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);

CREATE TABLE sso_identities (
    issuer      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (issuer, subject)
);
