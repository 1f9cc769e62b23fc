-- What a SOC report says beyond the organisation's own controls (DOMAIN.md rule 9):
-- subservice organisations (carve-out or inclusive) with their complementary subservice
-- organisation controls (CSOCs, one per line), and complementary user entity controls
-- (CUECs) that stay the customer's responsibility.
CREATE TABLE subservice_orgs (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organisations (id),
    engagement_id  TEXT NOT NULL REFERENCES engagements (id),
    name           TEXT NOT NULL,
    method         TEXT NOT NULL,
    services       TEXT NOT NULL DEFAULT '',
    their_report   TEXT NOT NULL DEFAULT '',
    csocs          TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL
);
CREATE INDEX subservice_orgs_engagement ON subservice_orgs (org_id, engagement_id);

CREATE TABLE cuecs (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organisations (id),
    engagement_id  TEXT NOT NULL REFERENCES engagements (id),
    ref            TEXT NOT NULL,
    text           TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (engagement_id, ref)
);
