-- The portal's last pieces: a bridge letter issued as a document of its report (so the portal
-- serves it as a restricted file), the organisation's logo (a PNG or JPEG in the blob store)
-- and an optional host name of its own on which the portal answers.
ALTER TABLE engagement_documents ADD COLUMN letter_id TEXT REFERENCES bridge_letters (id);
ALTER TABLE portal_settings ADD COLUMN logo_sha256 TEXT;
ALTER TABLE portal_settings ADD COLUMN logo_type TEXT;
ALTER TABLE portal_settings ADD COLUMN host TEXT;
CREATE UNIQUE INDEX portal_settings_host ON portal_settings (host);
-- One live document per bridge letter, kept by the database when two nodes issue it at once.
CREATE UNIQUE INDEX engagement_documents_letter ON engagement_documents (letter_id)
    WHERE letter_id IS NOT NULL AND withdrawn_at IS NULL;
