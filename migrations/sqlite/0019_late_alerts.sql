-- A report's own time (`report::Timing`): an alert a late report opened is history that
-- told nobody until its installation's backlog is concluded (`alerts::backlog`); the
-- partial index finds the few that wait.
ALTER TABLE alerts ADD COLUMN late BIGINT NOT NULL DEFAULT 0;
CREATE INDEX alerts_late ON alerts (installation_id) WHERE late <> 0;
