-- Each run of the host: when it started and when it was last known alive. The gaps
-- between runs are the host's own downtime, which must not count as an installation's
-- silence.

CREATE TABLE host_runs (
    id         BIGSERIAL PRIMARY KEY,
    started_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL
);
