-- The trust portal: the organisation's public pages, one per offering (a certification or
-- attestation), every text the organisation writes kept in English and Korean as separate
-- fields (a published page never mixes languages; Korean falls back to English when empty).
CREATE TABLE portal_settings (
    org_id          TEXT PRIMARY KEY REFERENCES organisations (id),
    enabled         BIGINT NOT NULL,
    name_en         TEXT NOT NULL,
    name_ko         TEXT NOT NULL,
    intro_en        TEXT NOT NULL,
    intro_ko        TEXT NOT NULL,
    colour          TEXT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- `reports` lists the engagement kinds whose issued reports the offering shows, and
-- `standards` the certificate standards (comma separated).
CREATE TABLE portal_offerings (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organisations (id),
    key           TEXT NOT NULL,
    position      BIGINT NOT NULL,
    title_en      TEXT NOT NULL,
    title_ko      TEXT NOT NULL,
    overview_en   TEXT NOT NULL,
    overview_ko   TEXT NOT NULL,
    relation_en   TEXT NOT NULL,
    relation_ko   TEXT NOT NULL,
    cycle_en      TEXT NOT NULL,
    cycle_ko      TEXT NOT NULL,
    reports       TEXT NOT NULL,
    standards     TEXT NOT NULL,
    published     BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (org_id, key)
);

CREATE TABLE portal_faqs (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organisations (id),
    offering_id   TEXT NOT NULL REFERENCES portal_offerings (id),
    position      BIGINT NOT NULL,
    question_en   TEXT NOT NULL,
    question_ko   TEXT NOT NULL,
    answer_en     TEXT NOT NULL,
    answer_ko     TEXT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX portal_faqs_offering ON portal_faqs (offering_id, position);

CREATE TABLE portal_resources (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organisations (id),
    offering_id   TEXT NOT NULL REFERENCES portal_offerings (id),
    position      BIGINT NOT NULL,
    title_en      TEXT NOT NULL,
    title_ko      TEXT NOT NULL,
    url           TEXT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX portal_resources_offering ON portal_resources (offering_id, position);
