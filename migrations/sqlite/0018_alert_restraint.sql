-- Restraint over time (`alerts::policy::Restraint`): an alert opened as flapping resolves
-- only after a quiet while; what each installation's alerts did lately is read by when
-- they opened and resolved.
ALTER TABLE alerts ADD COLUMN flapping BIGINT NOT NULL DEFAULT 0;
CREATE INDEX alerts_opened ON alerts (installation_id, first_seen_at);
CREATE INDEX alerts_resolved ON alerts (installation_id, resolved_at) WHERE resolved_at IS NOT NULL;
