-- Stripe events that name a customer or a price Koe does not know yet. They
-- wait here, their event already recorded in stripe_events, and are applied
-- in the transaction that maps the customer to a user or the price to a plan.

CREATE TABLE IF NOT EXISTS stripe_pending_events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  created BIGINT NOT NULL,
  -- exactly one of customer_id and price_id: what the event waits for
  customer_id TEXT,
  price_id TEXT,
  data TEXT NOT NULL,
  received_at {{.Time}} NOT NULL
);

--bun:split

CREATE INDEX IF NOT EXISTS stripe_pending_customer_idx ON stripe_pending_events (customer_id, created);

--bun:split

CREATE INDEX IF NOT EXISTS stripe_pending_price_idx ON stripe_pending_events (price_id, created);
