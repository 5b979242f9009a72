-- A report's content digest (sha256 of its bytes as the agent sent them, unpacked): the
-- same report sent again (an agent retrying after an answer it never got) is stored once.
-- Reports stored before have none, and never match.
ALTER TABLE reports ADD COLUMN digest TEXT;
CREATE UNIQUE INDEX reports_once ON reports (installation_id, generated_at, digest);
