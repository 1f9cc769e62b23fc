-- ISO certificates (DOMAIN.md rule 5) and SOC programs with their cadence (rule 3).
CREATE TABLE certificates (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organisations (id),
    number         TEXT NOT NULL,
    body           TEXT NOT NULL,
    standard       TEXT NOT NULL,
    scope          TEXT NOT NULL,
    issued_on      TEXT NOT NULL,
    expires_on     TEXT NOT NULL,
    state          TEXT NOT NULL,
    engagement_id  TEXT REFERENCES engagements (id),
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (org_id, number)
);

-- One SOC program per report family (soc1, soc2): `cadence` is JSON (period length in
-- months, the days periods end on, weeks to the report).
CREATE TABLE soc_programs (
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    family      TEXT NOT NULL,
    cadence     TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, family)
);
