-- Alerts: the lifecycle of one finding key on one installation from one plugin; what
-- happened to each (its timeline); the notifications each owes (the outbox, written in the
-- same transaction as the change that owes them); who may act on alerts in each chat; and
-- how far the Telegram update stream has been read.

CREATE TABLE alerts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    -- No foreign key: an alert outlives its installation (it is resolved, not deleted).
    installation_id TEXT NOT NULL,
    client          TEXT NOT NULL,
    manager         TEXT NOT NULL,
    plugin          TEXT NOT NULL,
    key             TEXT NOT NULL,
    severity        TEXT NOT NULL,
    summary         TEXT NOT NULL,
    details         TEXT NOT NULL,
    -- pending (held by damping), firing, acknowledged, snoozed, resolved
    state           TEXT NOT NULL,
    chat_id         BIGINT NOT NULL,
    first_seen_at   BIGINT NOT NULL,
    seen_count      BIGINT NOT NULL,
    fired_at        BIGINT,
    -- While open: since when, and for how many evaluations, the finding has been gone.
    cleared_at      BIGINT,
    cleared_count   BIGINT NOT NULL,
    acknowledged_at BIGINT,
    acknowledged_by TEXT,
    snoozed_until   BIGINT,
    resolved_at     BIGINT,
    resolution      TEXT,
    -- The living message in the chat, once sent.
    message_id      BIGINT,
    updated_at      BIGINT NOT NULL
);

CREATE UNIQUE INDEX alerts_open ON alerts (installation_id, plugin, key) WHERE state <> 'resolved';
CREATE INDEX alerts_by_state ON alerts (state, id);

CREATE TABLE alert_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id BIGINT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    at       BIGINT NOT NULL,
    kind     TEXT NOT NULL,
    actor    TEXT,
    detail   TEXT NOT NULL
);

CREATE INDEX alert_events_by_alert ON alert_events (alert_id, id);

CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id    BIGINT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    -- post, refresh, resolved-reply, reminder
    kind        TEXT NOT NULL,
    chat_id     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    attempts    BIGINT NOT NULL,
    -- Wall-clock milliseconds before which it is not tried again.
    retry_at    BIGINT NOT NULL,
    last_error  TEXT,
    done_at     BIGINT,
    -- delivered, failed
    outcome     TEXT
);

CREATE INDEX outbox_undone ON outbox (alert_id, id) WHERE done_at IS NULL;

CREATE TABLE chat_members (
    chat_id  BIGINT NOT NULL,
    user_id  BIGINT NOT NULL,
    name     TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (chat_id, user_id)
);

CREATE TABLE telegram_updates (
    id          INTEGER PRIMARY KEY,
    next_offset BIGINT NOT NULL
);
