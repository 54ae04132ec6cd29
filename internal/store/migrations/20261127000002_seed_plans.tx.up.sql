-- The plans Koe starts with; operators change them later with upsertPlan, and
-- this seed never runs again. Numbers are explained in the README.
INSERT INTO plans (id, code, name, monthly_price_cents, currency, included_characters, overage_price_per1000_cents,
                   max_concurrent_generations, max_characters_per_generation, features, created_at, updated_at)
VALUES
  ('plan_06h1pxqjw9sphck41qec0g4pbm', 'free', 'Free', 0, 'usd', 20000, NULL, 2, 5000,
   '["20,000 characters a month","All voices","WAV, MP3 and Ogg Opus"]', '2026-11-27 00:00:00+00:00', '2026-11-27 00:00:00+00:00'),
  ('plan_06h1pxqjw9szb2n3k4e4kzdef8', 'starter', 'Starter', 900, 'usd', 500000, 30, 4, 20000,
   '["500,000 characters a month","$0.30 per 1,000 characters beyond","4 generations at once"]', '2026-11-27 00:00:00+00:00', '2026-11-27 00:00:00+00:00'),
  ('plan_06h1pxqjw9szx8as42xnnhywpc', 'pro', 'Pro', 2900, 'usd', 2000000, 20, 10, 100000,
   '["2,000,000 characters a month","$0.20 per 1,000 characters beyond","10 generations at once","100,000 characters per generation"]', '2026-11-27 00:00:00+00:00', '2026-11-27 00:00:00+00:00')
ON CONFLICT (code) DO NOTHING;
