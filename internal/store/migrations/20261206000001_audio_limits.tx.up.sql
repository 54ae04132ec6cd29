-- Output limits of a generation (security review finding 2): the longest
-- audio a plan allows one generation to make, and, on each generation, the
-- cap that applied when it was created (NULL: none, for operators), so a
-- plan changed while a job runs does not change the job.
ALTER TABLE plans ADD COLUMN max_audio_seconds_per_generation INTEGER NOT NULL DEFAULT 7200;

--bun:split

ALTER TABLE generations ADD COLUMN max_audio_seconds INTEGER;

--bun:split

-- Generations still waiting or running when this runs get the default cap:
-- 1 s per character, at least 60 s, at most the plans' 2 hours.
UPDATE generations
SET max_audio_seconds = CASE WHEN characters < 60 THEN 60 WHEN characters > 7200 THEN 7200 ELSE characters END
WHERE status IN ('QUEUED', 'RUNNING');
