-- A finding's summary and details in other languages (plugin API 1.1), kept with the
-- finding and its alert as JSON (`[{"language": "ru", "summary": ..., "details": ...}]`),
-- so each reader is shown their own language's words.

ALTER TABLE findings ADD COLUMN translations TEXT NOT NULL DEFAULT '[]';
ALTER TABLE alerts ADD COLUMN translations TEXT NOT NULL DEFAULT '[]';
