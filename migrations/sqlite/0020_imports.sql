-- History imports (`import`): an archive of past reports, sent in batches, stored with
-- the import that brought them and evaluated as history (nothing told); its counts, so
-- any node answers how far it got.
CREATE TABLE imports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    source      TEXT NOT NULL,
    state       TEXT NOT NULL,
    stored      BIGINT NOT NULL DEFAULT 0,
    repeated    BIGINT NOT NULL DEFAULT 0,
    refused     BIGINT NOT NULL DEFAULT 0,
    max_reports BIGINT NOT NULL,
    started_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    finished_at BIGINT
);
-- Every installation an import named (stored or repeated): its history ends with it.
CREATE TABLE import_installations (
    import_id       BIGINT NOT NULL,
    installation_id TEXT NOT NULL,
    PRIMARY KEY (import_id, installation_id)
);
ALTER TABLE reports ADD COLUMN import_id BIGINT;
CREATE INDEX reports_import ON reports (import_id, evaluated_at) WHERE import_id IS NOT NULL;
