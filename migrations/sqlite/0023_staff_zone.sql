-- The zone a member of staff reads times in on pages; NULL: the service's `time_zone`.
ALTER TABLE staff ADD COLUMN time_zone TEXT;
