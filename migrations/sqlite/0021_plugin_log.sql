-- What checks say to their authors (`plugins::log`): kept per plugin with the evaluation
-- it came from, the newest lines only (`store::plugin_log` keeps so many per plugin).
CREATE TABLE plugin_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    plugin          TEXT NOT NULL,
    version         TEXT NOT NULL,
    at              BIGINT NOT NULL,
    level           TEXT NOT NULL,
    message         TEXT NOT NULL,
    installation_id TEXT NOT NULL,
    report_id       BIGINT,
    trigger_name    TEXT NOT NULL
);
CREATE INDEX plugin_log_by_plugin ON plugin_log (plugin, id);
