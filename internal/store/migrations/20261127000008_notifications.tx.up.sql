-- Notifications, email preferences, the email outbox and broadcasts.

ALTER TABLE users ADD COLUMN locale TEXT NOT NULL DEFAULT 'en';

--bun:split

ALTER TABLE domain_events ADD COLUMN processed_at {{.Time}};

--bun:split

CREATE INDEX IF NOT EXISTS domain_events_unprocessed_idx ON domain_events (processed_at, created_at);

--bun:split

CREATE TABLE IF NOT EXISTS notifications (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  cause_id TEXT NOT NULL UNIQUE,
  read_at {{.Time}},
  created_at {{.Time}} NOT NULL
);

--bun:split

CREATE INDEX IF NOT EXISTS notifications_user_idx ON notifications (user_id, created_at DESC, id DESC);

--bun:split

CREATE TABLE IF NOT EXISTS notification_preferences (
  user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  email_on_generation_finished BOOLEAN NOT NULL DEFAULT TRUE,
  email_on_usage_threshold BOOLEAN NOT NULL DEFAULT TRUE,
  email_on_billing BOOLEAN NOT NULL DEFAULT TRUE,
  product_news BOOLEAN NOT NULL DEFAULT FALSE
);

--bun:split

CREATE TABLE IF NOT EXISTS broadcasts (
  id TEXT PRIMARY KEY,
  subject TEXT NOT NULL,
  text_body TEXT NOT NULL,
  html_body TEXT,
  plan_codes TEXT NOT NULL DEFAULT '[]',
  send_at {{.Time}} NOT NULL,
  optimize_send_time BOOLEAN NOT NULL DEFAULT FALSE,
  status TEXT NOT NULL,
  recipients INTEGER NOT NULL DEFAULT 0,
  sent INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  fanned_out BOOLEAN NOT NULL DEFAULT FALSE,
  fan_out_cursor TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL,
  created_at {{.Time}} NOT NULL
);

--bun:split

CREATE INDEX IF NOT EXISTS broadcasts_status_idx ON broadcasts (status, send_at);

--bun:split

CREATE TABLE IF NOT EXISTS email_outbox (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  to_address TEXT NOT NULL,
  to_name TEXT NOT NULL DEFAULT '',
  subject TEXT NOT NULL,
  text_body TEXT NOT NULL,
  html_body TEXT NOT NULL DEFAULT '',
  unsubscribe_url TEXT NOT NULL DEFAULT '',
  broadcast_id TEXT,
  state TEXT NOT NULL,
  last_error TEXT,
  send_after {{.Time}} NOT NULL,
  created_at {{.Time}} NOT NULL,
  sent_at {{.Time}}
);

--bun:split

CREATE INDEX IF NOT EXISTS email_outbox_state_idx ON email_outbox (state, send_after);

--bun:split

CREATE INDEX IF NOT EXISTS email_outbox_broadcast_idx ON email_outbox (broadcast_id, state);
