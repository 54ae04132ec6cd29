-- Accounts (issue #18): Koe's own disabled state per user and who set it,
-- whether the email address is verified, the input an idempotency key was
-- first used with, and how many finished generations a pending "audio
-- ready" digest tells of.

ALTER TABLE users ADD COLUMN disabled_at {{.Time}};

--bun:split

-- 'operator' (setUserDisabled) or 'firebase' (seen disabled or revoked at
-- sign-in); only an operator lifts an operator's.
ALTER TABLE users ADD COLUMN disabled_by TEXT;

--bun:split

-- Existing addresses count as unverified until their owner signs in again
-- with a token whose email_verified claim is true.
ALTER TABLE users ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;

--bun:split

-- Keys recorded before this column compare as the same input.
ALTER TABLE idempotency_keys ADD COLUMN input_hash TEXT;

--bun:split

ALTER TABLE email_outbox ADD COLUMN digest_count INTEGER NOT NULL DEFAULT 0;

--bun:split

CREATE INDEX IF NOT EXISTS email_outbox_user_kind_idx ON email_outbox (user_id, kind, send_after);

--bun:split

CREATE INDEX IF NOT EXISTS api_keys_active_idx ON api_keys (user_id, revoked_at);
