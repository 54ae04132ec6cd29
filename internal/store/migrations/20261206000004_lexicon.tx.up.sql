-- Pronunciation lexicons (issue #14): what a person's generations say
-- instead of a written form.

CREATE TABLE IF NOT EXISTS lexicon_entries (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  grapheme TEXT NOT NULL,
  alias TEXT NOT NULL,
  -- A canonical BCP 47 tag, or '' for every language: '' rather than NULL
  -- so that the unique index below holds one language-less entry per
  -- grapheme on SQLite and PostgreSQL alike (both let NULLs repeat).
  language TEXT NOT NULL DEFAULT '',
  created_at {{.Time}} NOT NULL
);

--bun:split

CREATE UNIQUE INDEX IF NOT EXISTS lexicon_entries_key_idx ON lexicon_entries (user_id, grapheme, language);

--bun:split

CREATE INDEX IF NOT EXISTS lexicon_entries_user_idx ON lexicon_entries (user_id, created_at DESC, id DESC);

--bun:split

-- The entries a generation speaks with, as JSON written by the lexicon when
-- the generation was created: a later edit of the lexicon changes neither a
-- queued job nor a retry. NULL: none.
ALTER TABLE generations ADD COLUMN lexicon TEXT;
