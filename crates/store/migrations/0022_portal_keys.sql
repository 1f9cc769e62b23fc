-- The organisation's Ed25519 key that signs the trust portal's manifests (the list of
-- current documents with their SHA-256). Made on first use; the public half is published.
CREATE TABLE portal_keys (
    org_id       TEXT PRIMARY KEY REFERENCES organisations (id),
    public_key   TEXT NOT NULL,
    secret_key   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
