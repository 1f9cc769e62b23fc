-- A risk's treatment plan as dated actions (ISO/IEC 27001 6.1.3 e): what is to be done, by
-- whom, by when, and when it was done.
CREATE TABLE risk_actions (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organisations (id),
    risk_id     TEXT NOT NULL REFERENCES risks (id),
    title       TEXT NOT NULL,
    owner_id    TEXT REFERENCES users (id),
    due_on      TEXT NOT NULL,
    done_on     TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX risk_actions_risk ON risk_actions (org_id, risk_id, due_on);
