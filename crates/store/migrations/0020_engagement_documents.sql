-- The documents an engagement issues: the SOC report, the ISO certificate, the Statement of
-- Applicability and the assessment report the auditor hands over, as files in the blob
-- store. A document is never changed: a corrected one is added, the old one withdrawn.
CREATE TABLE engagement_documents (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organisations (id),
    engagement_id  TEXT NOT NULL REFERENCES engagements (id),
    kind           TEXT NOT NULL,
    title          TEXT NOT NULL,
    language       TEXT NOT NULL,
    sha256         TEXT NOT NULL,
    size           BIGINT NOT NULL,
    content_type   TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    uploaded_by    TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    withdrawn_at   BIGINT,
    published_at   BIGINT
);
CREATE INDEX engagement_documents_engagement ON engagement_documents (engagement_id, created_at);
