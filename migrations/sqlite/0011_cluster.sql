-- Several nodes on one database. A lease names the node that does one kind of background
-- work (evaluation and the clockwork, delivery, Telegram polling) until it expires;
-- holders renew theirs well before. Times are wall-clock milliseconds.

CREATE TABLE leases (
    role        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    acquired_at BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

-- An outbox entry is marked before its Bot API call: which node is sending it, since when.
-- A mark that outlives the call's deadline, or the node's previous run, was interrupted:
-- the call may or may not have reached Telegram.
ALTER TABLE outbox ADD COLUMN sending_at BIGINT;
ALTER TABLE outbox ADD COLUMN sending_by TEXT;
