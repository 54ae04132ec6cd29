-- Per-plan limits of the API itself: requests a minute, open websockets and
-- live subscriptions per person.
ALTER TABLE plans ADD COLUMN requests_per_minute INTEGER NOT NULL DEFAULT 60;

--bun:split

ALTER TABLE plans ADD COLUMN max_websockets INTEGER NOT NULL DEFAULT 5;

--bun:split

ALTER TABLE plans ADD COLUMN max_subscriptions INTEGER NOT NULL DEFAULT 20;

--bun:split

UPDATE plans SET requests_per_minute = 300, max_websockets = 10, max_subscriptions = 50 WHERE code = 'starter';

--bun:split

UPDATE plans SET requests_per_minute = 1200, max_websockets = 25, max_subscriptions = 200 WHERE code = 'pro';
