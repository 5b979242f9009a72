-- Maintenance windows live in the directory (kind `maintenance`). An alert that begins
-- inside one is recorded but not announced; `announce_at` is when the window ends, and
-- if the alert still fires then it is announced.
--
-- One story per installation: `story_id` is the installation's alert that was open
-- first when this one opened (itself when none was); its messages reply in that thread.

ALTER TABLE alerts ADD COLUMN announce_at BIGINT;
ALTER TABLE alerts ADD COLUMN story_id BIGINT;
