-- Client reports: a line per accepted report (when, from which agent, its glance) kept
-- long after the report itself is pruned, so a quarter's availability, seats and versions
-- can be told from it; and the reports sent to managers' chats on schedule.

CREATE TABLE report_log (
    installation_id TEXT NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
    received_at     BIGINT NOT NULL,
    agent           TEXT NOT NULL,
    -- report::Glance as JSON
    glance          TEXT NOT NULL
);

CREATE INDEX report_log_by_installation ON report_log (installation_id, received_at);

INSERT INTO report_log (installation_id, received_at, agent, glance)
    SELECT installation_id, received_at, agent, COALESCE(glance, '{}') FROM reports;

ALTER TABLE reports DROP COLUMN glance;

-- One row per client, period and chat: claimed before the document is sent, so a report
-- goes out once however often the clockwork looks.
CREATE TABLE report_deliveries (
    client     TEXT NOT NULL,
    period     TEXT NOT NULL,
    chat_id    BIGINT NOT NULL,
    claimed_at BIGINT NOT NULL,
    sent_at    BIGINT,
    error      TEXT,
    PRIMARY KEY (client, period, chat_id)
);
