-- Installations, the reports they send, and what the checks concluded from them.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE installations (
    id               TEXT PRIMARY KEY,
    client           TEXT NOT NULL,
    manager          TEXT NOT NULL,
    timezone         TEXT NOT NULL,
    telegram_chat_id BIGINT NOT NULL,
    url              TEXT,
    ip               TEXT,
    parent           TEXT REFERENCES installations (id) ON DELETE SET NULL,
    tags             TEXT NOT NULL,
    token_hash       TEXT NOT NULL UNIQUE,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);

CREATE TABLE reports (
    id              BIGSERIAL PRIMARY KEY,
    installation_id TEXT NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
    received_at     BIGINT NOT NULL,
    generated_at    BIGINT NOT NULL,
    agent           TEXT NOT NULL,
    document        BYTEA NOT NULL,
    raw             BYTEA NOT NULL,
    raw_size        BIGINT NOT NULL,
    evaluated_at    BIGINT
);

CREATE INDEX reports_pending ON reports (id) WHERE evaluated_at IS NULL;
CREATE INDEX reports_by_installation ON reports (installation_id, received_at);

CREATE TABLE findings (
    installation_id TEXT NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
    plugin          TEXT NOT NULL,
    key             TEXT NOT NULL,
    severity        TEXT NOT NULL,
    summary         TEXT NOT NULL,
    details         TEXT NOT NULL,
    labels          TEXT NOT NULL,
    since           BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (installation_id, plugin, key)
);

CREATE TABLE plugin_state (
    installation_id TEXT NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
    plugin          TEXT NOT NULL,
    key             TEXT NOT NULL,
    value           TEXT NOT NULL,
    PRIMARY KEY (installation_id, plugin, key)
);
