-- Indexes that keep operator figures cheap over any date range.
CREATE INDEX IF NOT EXISTS usage_days_day_idx ON usage_days (day);

--bun:split

CREATE INDEX IF NOT EXISTS credit_purchases_paid_idx ON credit_purchases (paid_at);
