-- How natural each voice sounds (issue #14): 1 basic (formant, espeak-ng),
-- 2 standard (diphone, Flite), 3 natural (HTS, Open JTalk), 4 neural
-- (OpenAI-compatible). The catalog lists a language's voices best first.
-- The next sync writes what each engine says; until then, and for the
-- voices no engine offers any more, the tier comes from the engine.
ALTER TABLE voices ADD COLUMN quality INTEGER NOT NULL DEFAULT 1;

--bun:split

UPDATE voices SET quality = 3 WHERE engine = 'open-jtalk';

--bun:split

UPDATE voices SET quality = 4 WHERE engine = 'openai';
