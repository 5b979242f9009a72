-- Plugins uploaded through the API (`PUT /api/v1/plugins/{name}`): the installed set every
-- node serves. A node loads what it lacks from here (compiling into its own cache) and
-- unloads what is gone; files in a node's plugins directory stay that node's own.

CREATE TABLE plugins (
    name         TEXT PRIMARY KEY,
    sha256       TEXT NOT NULL,
    bytes        BLOB NOT NULL,
    installed_at BIGINT NOT NULL
);
