-- Plugins an admin switched off (`POST /api/v1/plugins/{name}/disable`): they stay off
-- across restarts until switched on again. Built-ins included, which have no file to
-- delete.

CREATE TABLE plugin_switches (
    name        TEXT PRIMARY KEY,
    disabled_at BIGINT NOT NULL
);
