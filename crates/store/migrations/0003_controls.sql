-- The common controls hub: in-scope services and product families, the organisation's
-- controls linked to requirements of any framework, frameworks in use, imported frameworks,
-- and reviewed or user-added mapping links.

CREATE TABLE product_families (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organisations (id),
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE services (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organisations (id),
    family_id    TEXT REFERENCES product_families (id),
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    UNIQUE (org_id, name)
);
CREATE INDEX services_family ON services (family_id);

CREATE TABLE controls (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL REFERENCES organisations (id),
    ref          TEXT NOT NULL,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    owner_id     TEXT REFERENCES users (id),
    frequency    TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (org_id, ref)
);
CREATE INDEX controls_owner ON controls (org_id, owner_id);

CREATE TABLE control_services (
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    control_id  TEXT NOT NULL REFERENCES controls (id),
    service_id  TEXT NOT NULL REFERENCES services (id),
    PRIMARY KEY (control_id, service_id)
);

-- A control satisfies a requirement of a framework, in full or in part; `origin` says
-- whether a person linked it or accepted a proposal, `via` the mapping that proposed it.
CREATE TABLE control_links (
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    control_id      TEXT NOT NULL REFERENCES controls (id),
    framework_id    TEXT NOT NULL,
    requirement_id  TEXT NOT NULL,
    coverage        TEXT NOT NULL CHECK (coverage IN ('full', 'partial')),
    origin          TEXT NOT NULL CHECK (origin IN ('manual', 'proposal')),
    via             TEXT NOT NULL DEFAULT '',
    created_by      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (control_id, framework_id, requirement_id)
);
CREATE INDEX control_links_requirement ON control_links (org_id, framework_id, requirement_id);

-- Proposals a person accepted or rejected, so a rejected one is not proposed again.
CREATE TABLE proposal_decisions (
    org_id          TEXT NOT NULL REFERENCES organisations (id),
    control_id      TEXT NOT NULL REFERENCES controls (id),
    framework_id    TEXT NOT NULL,
    requirement_id  TEXT NOT NULL,
    decision        TEXT NOT NULL CHECK (decision IN ('accepted', 'rejected')),
    decided_by      TEXT NOT NULL,
    decided_at      BIGINT NOT NULL,
    PRIMARY KEY (control_id, framework_id, requirement_id)
);

CREATE TABLE org_frameworks (
    org_id        TEXT NOT NULL REFERENCES organisations (id),
    framework_id  TEXT NOT NULL,
    added_by      TEXT NOT NULL,
    added_at      BIGINT NOT NULL,
    PRIMARY KEY (org_id, framework_id)
);

-- Frameworks an organisation imported; `document` is the framework as JSON, `oscal` the
-- OSCAL catalog it came from (kept whole, so an export gives it back unchanged).
CREATE TABLE custom_frameworks (
    org_id       TEXT NOT NULL REFERENCES organisations (id),
    id           TEXT NOT NULL,
    name         TEXT NOT NULL,
    version      TEXT NOT NULL,
    format       TEXT NOT NULL,
    document     TEXT NOT NULL,
    oscal        TEXT,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (org_id, id)
);

-- A person's word on a mapping link: a shipped or derived link confirmed or rejected, or a
-- link a person added (`origin` = 'user').
CREATE TABLE mapping_reviews (
    org_id            TEXT NOT NULL REFERENCES organisations (id),
    source_framework  TEXT NOT NULL,
    source_id         TEXT NOT NULL,
    target_framework  TEXT NOT NULL,
    target_id         TEXT NOT NULL,
    relationship      TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('confirmed', 'rejected')),
    origin            TEXT NOT NULL CHECK (origin IN ('shipped', 'derived', 'user')),
    path              TEXT NOT NULL DEFAULT '',
    note              TEXT NOT NULL DEFAULT '',
    reviewed_by       TEXT NOT NULL,
    reviewed_at       BIGINT NOT NULL,
    PRIMARY KEY (org_id, source_framework, source_id, target_framework, target_id)
);
