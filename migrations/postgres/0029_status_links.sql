-- A client's status page is reached by a private link: its secret kept by digest, one per
-- client; renewing it makes the old link stop working.
CREATE TABLE status_links (
    client TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
