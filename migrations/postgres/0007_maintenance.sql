-- Maintenance windows live in the directory (kind `maintenance`). An alert that begins
-- inside one is recorded but not announced; `announce_at` is when the window ends, and
-- if the alert still fires then it is announced.

ALTER TABLE alerts ADD COLUMN announce_at BIGINT;
