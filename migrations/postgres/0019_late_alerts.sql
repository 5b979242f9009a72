-- A report's own time (`report::Timing`): an alert opened by old news told nobody as it
-- opened (`alerts::lifecycle::Heard`): 1 while its agent's backlog is read (until
-- `alerts::backlog` concludes it), 2 for imported history (until the import ends); 0 once
-- told like any other. The partial index finds the few backlogs that wait.
ALTER TABLE alerts ADD COLUMN late BIGINT NOT NULL DEFAULT 0;
CREATE INDEX alerts_late ON alerts (installation_id) WHERE late = 1;
