-- Plugin settings for one client, over the host's configuration (`[plugins.<name>]`).

CREATE TABLE client_settings (
    client TEXT NOT NULL,
    plugin TEXT NOT NULL,
    key    TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (client, plugin, key)
);
