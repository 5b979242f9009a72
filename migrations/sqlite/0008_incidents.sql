-- One incident, not a storm. Alerts that share a cause (installations behind one failing
-- parent, or one check firing on several installations at once) wait a moment (`cause`,
-- `announce_at`) and are then attached to one incident (`incident_id`) instead of being
-- sent on their own. The incident has one living message per chat, a timeline, and a
-- post-mortem people fill in after it resolves.

CREATE TABLE incidents (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    -- parent:<name> or check:<plugin>:<key>; at most one open incident per cause.
    cause           TEXT NOT NULL,
    parent          TEXT,
    plugin          TEXT NOT NULL,
    severity        TEXT NOT NULL,
    -- firing, acknowledged, snoozed, rechecking, resolved
    state           TEXT NOT NULL,
    opened_at       BIGINT NOT NULL,
    acknowledged_at BIGINT,
    acknowledged_by TEXT,
    snoozed_until   BIGINT,
    -- After the parent came back: until when its children may show they are fine.
    recheck_until   BIGINT,
    -- Escalation steps taken while nobody acknowledged it, and when the next is due.
    escalation_step BIGINT NOT NULL DEFAULT 0,
    escalate_at     BIGINT,
    resolved_at     BIGINT,
    -- What the living messages show now (members, back, state), so a card is edited only
    -- when that changes, however many changes came in between.
    shown           TEXT NOT NULL DEFAULT '',
    -- The sections people write (cause, actions, prevention) as JSON.
    postmortem      TEXT,
    version         BIGINT NOT NULL DEFAULT 0,
    updated_at      BIGINT NOT NULL
);

CREATE UNIQUE INDEX incidents_open_cause ON incidents (cause) WHERE resolved_at IS NULL;

CREATE TABLE incident_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at          BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    actor       TEXT,
    detail      TEXT NOT NULL
);

CREATE INDEX incident_events_by_incident ON incident_events (incident_id, id);

CREATE TABLE incident_destinations (
    incident_id BIGINT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    chat_id     BIGINT NOT NULL,
    thread_id   BIGINT NOT NULL,
    role        TEXT NOT NULL,
    contact     TEXT,
    message_id  BIGINT,
    silent      BIGINT NOT NULL DEFAULT 0,
    added_at    BIGINT NOT NULL,
    PRIMARY KEY (incident_id, chat_id, thread_id)
);

CREATE INDEX incident_destinations_by_message ON incident_destinations (chat_id, message_id);

ALTER TABLE alerts ADD COLUMN cause TEXT;
-- A critical alert gets a post-mortem too; its sections as JSON.
ALTER TABLE alerts ADD COLUMN postmortem TEXT;
ALTER TABLE alerts ADD COLUMN incident_id BIGINT REFERENCES incidents (id) ON DELETE SET NULL;
CREATE INDEX alerts_by_cause ON alerts (cause) WHERE cause IS NOT NULL;
CREATE INDEX alerts_by_incident ON alerts (incident_id) WHERE incident_id IS NOT NULL;

ALTER TABLE outbox ADD COLUMN incident_id BIGINT REFERENCES incidents (id) ON DELETE CASCADE;
CREATE INDEX outbox_undone_incident ON outbox (incident_id, id) WHERE done_at IS NULL AND incident_id IS NOT NULL;
