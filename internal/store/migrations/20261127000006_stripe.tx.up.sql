-- Stripe: customers, subscriptions, processed webhook events, credit pack
-- purchases, paid invoices, overage meter reports, and the domain events
-- billing and usage emit for notifications.

ALTER TABLE users ADD COLUMN stripe_customer_id TEXT;

--bun:split

CREATE UNIQUE INDEX IF NOT EXISTS users_stripe_customer_idx ON users (stripe_customer_id);

--bun:split

CREATE TABLE IF NOT EXISTS subscriptions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  plan_code TEXT NOT NULL,
  status TEXT NOT NULL,
  current_period_start {{.Time}} NOT NULL,
  current_period_end {{.Time}} NOT NULL,
  cancel_at_period_end BOOLEAN NOT NULL DEFAULT FALSE,
  event_created BIGINT NOT NULL,
  updated_at {{.Time}} NOT NULL
);

--bun:split

CREATE INDEX IF NOT EXISTS subscriptions_user_idx ON subscriptions (user_id, status);

--bun:split

CREATE TABLE IF NOT EXISTS stripe_events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  created BIGINT NOT NULL,
  received_at {{.Time}} NOT NULL
);

--bun:split

CREATE TABLE IF NOT EXISTS credit_purchases (
  checkout_session_id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  credit_pack_code TEXT NOT NULL,
  characters BIGINT NOT NULL,
  amount_cents BIGINT NOT NULL,
  currency TEXT NOT NULL,
  state TEXT NOT NULL,
  created_at {{.Time}} NOT NULL,
  paid_at {{.Time}}
);

--bun:split

CREATE TABLE IF NOT EXISTS invoices (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  amount_cents BIGINT NOT NULL,
  currency TEXT NOT NULL,
  paid_at {{.Time}} NOT NULL
);

--bun:split

CREATE INDEX IF NOT EXISTS invoices_paid_idx ON invoices (paid_at);

--bun:split

CREATE TABLE IF NOT EXISTS meter_reports (
  identifier TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  stripe_customer_id TEXT NOT NULL,
  period_start {{.Time}} NOT NULL,
  characters BIGINT NOT NULL,
  created_at {{.Time}} NOT NULL,
  sent_at {{.Time}}
);

--bun:split

CREATE TABLE IF NOT EXISTS domain_events (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  payload TEXT NOT NULL,
  created_at {{.Time}} NOT NULL
);

--bun:split

CREATE INDEX IF NOT EXISTS domain_events_created_idx ON domain_events (created_at, id);

--bun:split

CREATE INDEX IF NOT EXISTS generations_created_idx ON generations (created_at);

--bun:split

ALTER TABLE usage_periods ADD COLUMN overage_reported BIGINT NOT NULL DEFAULT 0;
