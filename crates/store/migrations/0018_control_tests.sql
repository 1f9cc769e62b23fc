-- Tests of controls in an engagement's scope: of design (Type 1) or of operating
-- effectiveness (Type 2). The sample is drawn once, from a recorded seed, and never
-- re-drawn (one test per engagement, control and kind); `drawn` is the JSON array of item
-- numbers, `results` a JSON object from item number to {"result", "note"}.
CREATE TABLE control_tests (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organisations (id),
    engagement_id    TEXT NOT NULL REFERENCES engagements (id),
    control_id       TEXT NOT NULL REFERENCES controls (id),
    kind             TEXT NOT NULL,
    population       BIGINT NOT NULL,
    population_note  TEXT NOT NULL DEFAULT '',
    sample_size      BIGINT NOT NULL,
    seed             TEXT NOT NULL,
    algorithm        TEXT NOT NULL,
    drawn            TEXT NOT NULL,
    results          TEXT NOT NULL DEFAULT '{}',
    created_by       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (engagement_id, control_id, kind)
);
