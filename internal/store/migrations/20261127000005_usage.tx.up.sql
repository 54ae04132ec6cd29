-- Usage and quota: credit packs (seeded), purchased credits, one row per
-- user and billing period, one reservation per generation, daily rollups.

CREATE TABLE IF NOT EXISTS credit_packs (
  id TEXT PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  characters BIGINT NOT NULL,
  price_cents BIGINT NOT NULL,
  currency TEXT NOT NULL,
  stripe_price_id TEXT,
  created_at {{.Time}} NOT NULL,
  updated_at {{.Time}} NOT NULL
);

--bun:split

INSERT INTO credit_packs (id, code, name, characters, price_cents, currency, created_at, updated_at) VALUES
  ('pack_06h1qwqndsv8x1hzxnmwhpknjc', 'credits-100k', '100,000 characters', 100000, 500, 'usd', '2026-11-27 00:00:00+00:00', '2026-11-27 00:00:00+00:00'),
  ('pack_06h1qwqndsvgk752c47e68yfjw', 'credits-1m', '1,000,000 characters', 1000000, 4000, 'usd', '2026-11-27 00:00:00+00:00', '2026-11-27 00:00:00+00:00')
ON CONFLICT (code) DO NOTHING;

--bun:split

CREATE TABLE IF NOT EXISTS credit_balances (
  user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  characters BIGINT NOT NULL DEFAULT 0
);

--bun:split

CREATE TABLE IF NOT EXISTS usage_periods (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  period_start {{.Time}} NOT NULL,
  period_end {{.Time}} NOT NULL,
  included_characters BIGINT NOT NULL,
  overage_allowed BOOLEAN NOT NULL,
  used_characters BIGINT NOT NULL DEFAULT 0,
  reserved_characters BIGINT NOT NULL DEFAULT 0,
  credit_characters_used BIGINT NOT NULL DEFAULT 0,
  overage_characters BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, period_start)
);

--bun:split

CREATE TABLE IF NOT EXISTS usage_reservations (
  generation_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  period_start {{.Time}} NOT NULL,
  characters BIGINT NOT NULL,
  state TEXT NOT NULL,
  created_at {{.Time}} NOT NULL,
  finished_at {{.Time}}
);

--bun:split

CREATE TABLE IF NOT EXISTS usage_days (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  day TEXT NOT NULL,
  characters BIGINT NOT NULL DEFAULT 0,
  generations INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, day)
);
