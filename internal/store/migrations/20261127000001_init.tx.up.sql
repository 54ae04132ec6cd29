-- Koe's first schema. One file for SQLite and PostgreSQL: the types below mean
-- the same on both ({{.Time}} is TIMESTAMPTZ on PostgreSQL, TEXT in UTC on SQLite).

CREATE TABLE IF NOT EXISTS settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

--bun:split

CREATE TABLE IF NOT EXISTS plans (
  id TEXT PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  monthly_price_cents BIGINT NOT NULL,
  currency TEXT NOT NULL,
  included_characters BIGINT NOT NULL,
  overage_price_per1000_cents BIGINT,
  max_concurrent_generations INTEGER NOT NULL,
  max_characters_per_generation INTEGER NOT NULL,
  stripe_price_id TEXT,
  features TEXT NOT NULL DEFAULT '[]',
  created_at {{.Time}} NOT NULL,
  updated_at {{.Time}} NOT NULL
);

--bun:split

CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  firebase_uid TEXT UNIQUE,
  email TEXT,
  display_name TEXT,
  role TEXT NOT NULL,
  plan_code TEXT NOT NULL,
  created_at {{.Time}} NOT NULL
);

--bun:split

CREATE INDEX IF NOT EXISTS users_created_idx ON users (created_at DESC, id DESC);

--bun:split

CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  secret_hash TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,
  created_at {{.Time}} NOT NULL,
  last_used_at {{.Time}},
  revoked_at {{.Time}}
);

--bun:split

CREATE INDEX IF NOT EXISTS api_keys_user_idx ON api_keys (user_id, created_at DESC);

--bun:split

CREATE TABLE IF NOT EXISTS voices (
  id TEXT PRIMARY KEY,
  engine TEXT NOT NULL,
  engine_voice_id TEXT NOT NULL,
  name TEXT NOT NULL,
  language TEXT NOT NULL,
  language_name TEXT NOT NULL,
  gender TEXT,
  description TEXT,
  tags TEXT NOT NULL DEFAULT '[]',
  enabled BOOLEAN NOT NULL DEFAULT TRUE,
  available BOOLEAN NOT NULL DEFAULT TRUE,
  created_at {{.Time}} NOT NULL,
  updated_at {{.Time}} NOT NULL
);

--bun:split

CREATE INDEX IF NOT EXISTS voices_order_idx ON voices (language, name, id);

--bun:split

CREATE TABLE IF NOT EXISTS generations (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  voice_id TEXT NOT NULL REFERENCES voices (id),
  text TEXT NOT NULL,
  characters INTEGER NOT NULL,
  format TEXT NOT NULL,
  speed DOUBLE PRECISION NOT NULL,
  pitch DOUBLE PRECISION NOT NULL,
  status TEXT NOT NULL,
  progress DOUBLE PRECISION NOT NULL DEFAULT 0,
  chunks_done INTEGER NOT NULL DEFAULT 0,
  chunks_total INTEGER NOT NULL DEFAULT 0,
  audio_key TEXT,
  audio_content_type TEXT,
  audio_bytes BIGINT,
  audio_duration_ms INTEGER,
  audio_sample_rate INTEGER,
  error_code TEXT,
  error_message TEXT,
  job_id BIGINT,
  retry_of TEXT,
  created_at {{.Time}} NOT NULL,
  started_at {{.Time}},
  finished_at {{.Time}}
);

--bun:split

CREATE INDEX IF NOT EXISTS generations_owner_idx ON generations (owner_id, created_at DESC, id DESC);

--bun:split

CREATE INDEX IF NOT EXISTS generations_owner_status_idx ON generations (owner_id, status, created_at DESC, id DESC);

--bun:split

CREATE TABLE IF NOT EXISTS idempotency_keys (
  owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  generation_id TEXT NOT NULL,
  created_at {{.Time}} NOT NULL,
  PRIMARY KEY (owner_id, key)
);
