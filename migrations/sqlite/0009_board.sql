-- The web board: staff who log in to it, their sessions, and what each installation's
-- newest report says at a glance, so the board never reads a report to draw a row.

CREATE TABLE staff (
    name          TEXT PRIMARY KEY,
    -- argon2id, PHC string
    password_hash TEXT NOT NULL,
    -- admin, manager or viewer
    role          TEXT NOT NULL,
    -- For a manager: the `manager` of the installations they see.
    manager       TEXT,
    lang          TEXT NOT NULL,
    -- Their Telegram user id: /login in a private chat with the bot sends them a link.
    telegram_user_id BIGINT UNIQUE,
    created_at    BIGINT NOT NULL
);

-- One-time login links the bot sent (sha256 of the secret), for a few minutes.
CREATE TABLE login_links (
    token_hash TEXT PRIMARY KEY,
    staff      TEXT NOT NULL REFERENCES staff (name) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL
);

CREATE TABLE staff_sessions (
    -- sha256 of the cookie's value
    token_hash TEXT PRIMARY KEY,
    staff      TEXT NOT NULL REFERENCES staff (name) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE glances (
    installation_id TEXT PRIMARY KEY REFERENCES installations (id) ON DELETE CASCADE,
    report_id       BIGINT NOT NULL,
    received_at     BIGINT NOT NULL,
    -- report::Glance as JSON
    glance          TEXT NOT NULL
);

-- Every report's glance, for a client's 30 days of history without reading reports.
ALTER TABLE reports ADD COLUMN glance TEXT;

-- The language a chat chose with /lang (others read `[telegram] language`).
CREATE TABLE chat_languages (
    chat_id BIGINT PRIMARY KEY,
    lang    TEXT NOT NULL
);
