-- A broadcast's versions in other languages (JSON, like plan_codes).

ALTER TABLE broadcasts ADD COLUMN translations TEXT NOT NULL DEFAULT '[]';
