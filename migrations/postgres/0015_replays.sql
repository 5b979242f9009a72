-- Replays of a rule over stored history: what was asked, which node runs it, how far it
-- got and what it found (JSON), so any node answers for a replay another one runs.

CREATE TABLE replays (
    id          BIGSERIAL PRIMARY KEY,
    plugin      TEXT NOT NULL,
    node        TEXT NOT NULL,
    request     TEXT NOT NULL,
    state       TEXT NOT NULL,
    progress    TEXT NOT NULL,
    result      TEXT,
    error       TEXT,
    started_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    finished_at BIGINT
);
