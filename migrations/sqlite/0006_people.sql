-- The right person at the right hour. The directory holds the admin's words (contacts,
-- client policies, on-call schedules, escalation policies) as checked JSON under a kind
-- and a name. An alert can be in several chats (the manager's, on-call's, the sysadmin's,
-- whoever an escalation brought in), each with its own living message; a notice can be
-- silent, or held for the morning digest until a time; a digest is an outbox row that is
-- about no single alert. Alerts learn their audience, acknowledgement expiry and
-- escalation, and a version that every human or timed change bumps.

CREATE TABLE directory (
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    spec       TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (kind, name)
);

-- Private chats the bot may write to: the person sent it /start.
CREATE TABLE private_chats (
    user_id    BIGINT PRIMARY KEY,
    name       TEXT NOT NULL,
    started_at BIGINT NOT NULL
);

CREATE TABLE alert_destinations (
    alert_id   BIGINT NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    chat_id    BIGINT NOT NULL,
    -- A forum topic; 0 for none.
    thread_id  BIGINT NOT NULL,
    -- manager, sysadmin, sales, oncall, escalation
    role       TEXT NOT NULL,
    contact    TEXT,
    message_id BIGINT,
    -- Held for the digest due then.
    held_until BIGINT,
    added_at   BIGINT NOT NULL,
    PRIMARY KEY (alert_id, chat_id, thread_id)
);

CREATE INDEX alert_destinations_by_chat ON alert_destinations (chat_id, alert_id);

INSERT INTO alert_destinations (alert_id, chat_id, thread_id, role, contact, message_id, held_until, added_at)
    SELECT id, chat_id, 0, 'manager', NULL, message_id, NULL, COALESCE(fired_at, first_seen_at)
    FROM alerts WHERE state <> 'pending';

ALTER TABLE alerts DROP COLUMN message_id;
ALTER TABLE alerts ADD COLUMN audience TEXT NOT NULL DEFAULT 'support';
ALTER TABLE alerts ADD COLUMN ack_expires_at BIGINT;
ALTER TABLE alerts ADD COLUMN escalation_step BIGINT NOT NULL DEFAULT 0;
ALTER TABLE alerts ADD COLUMN escalate_at BIGINT;
ALTER TABLE alerts ADD COLUMN escalated_to TEXT;
ALTER TABLE alerts ADD COLUMN escalated_at BIGINT;
ALTER TABLE alerts ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

CREATE INDEX alerts_due_escalation ON alerts (escalate_at) WHERE escalate_at IS NOT NULL;

CREATE TABLE outbox_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    -- NULL for a digest, which is about several alerts (listed in `payload`).
    alert_id    BIGINT REFERENCES alerts (id) ON DELETE CASCADE,
    -- post, refresh, resolved-reply, raised, reminder, digest
    kind        TEXT NOT NULL,
    chat_id     BIGINT NOT NULL,
    thread_id   BIGINT NOT NULL DEFAULT 0,
    -- Sent with disable_notification.
    silent      BIGINT NOT NULL DEFAULT 0,
    -- Held for the destination's digest due then (service clock, ms); not sent itself.
    held_until  BIGINT,
    payload     TEXT,
    created_at  BIGINT NOT NULL,
    attempts    BIGINT NOT NULL,
    -- Wall-clock milliseconds before which it is not tried again.
    retry_at    BIGINT NOT NULL,
    last_error  TEXT,
    done_at     BIGINT,
    -- delivered, failed, digested (a held notice shown in a digest), released (a held
    -- notice made moot: its destination was told otherwise)
    outcome     TEXT
);

INSERT INTO outbox_new (id, alert_id, kind, chat_id, created_at, attempts, retry_at, last_error, done_at, outcome)
    SELECT id, alert_id, kind, chat_id, created_at, attempts, retry_at, last_error, done_at, outcome FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;

CREATE INDEX outbox_undone ON outbox (alert_id, id) WHERE done_at IS NULL;
CREATE INDEX outbox_held ON outbox (held_until) WHERE done_at IS NULL AND held_until IS NOT NULL;
