-- Attest's foundation: organisations and the hash-chained audit trail.
-- Portable DDL: runs unchanged on SQLite and PostgreSQL (see crates/store/src/lib.rs).

CREATE TABLE organisations (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    -- Organisation-wide settings as a JSON object (MFA required, SSO, Annex A version, …).
    settings    TEXT NOT NULL DEFAULT '{}'
);

-- The head of each chain (an organisation id, or 'instance'): the last entry's number and
-- hash. Appending updates it in the same transaction, which serialises appenders.
CREATE TABLE audit_heads (
    chain   TEXT PRIMARY KEY,
    seq     BIGINT NOT NULL,
    hash    TEXT NOT NULL
);

-- Append-only: Attest never updates or deletes a row here. `entry` is the canonical text of
-- the whole entry (chain, seq, time, actor, action, object, before and after, separated by
-- U+001F) and `hash` is SHA-256(entry || previous hash). The other columns repeat fields of
-- `entry` so the trail can be searched; `attest verify` checks that they agree with it.
CREATE TABLE audit_log (
    chain        TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    object_type  TEXT NOT NULL,
    object_id    TEXT NOT NULL,
    entry        TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
);

CREATE INDEX audit_log_object ON audit_log (chain, object_type, object_id);
CREATE INDEX audit_log_at ON audit_log (chain, at);

-- Evidence bytes known to Attest, per organisation and content address. The bytes live in
-- the blob store (a directory or an S3 bucket); this row says they must exist.
CREATE TABLE blobs (
    org_id        TEXT NOT NULL REFERENCES organisations (id),
    sha256        TEXT NOT NULL,
    size          BIGINT NOT NULL,
    content_type  TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (org_id, sha256)
);
