-- How many of a broadcast's messages its cancellation stopped.

ALTER TABLE broadcasts ADD COLUMN canceled INTEGER NOT NULL DEFAULT 0;
