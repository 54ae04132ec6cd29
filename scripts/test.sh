#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs or starts what the
# tests need, checks the tree is clean (gofmt, vet, generated code in sync),
# then runs every test with the race detector. With CI=true, tests that need
# PostgreSQL, Redis, stripe-mock, Mailpit or the Firebase Auth emulator fail instead of skipping when it is
# missing.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh
KOE_TEST_DATABASE_URL=$(scripts/postgres.sh)
KOE_TEST_REDIS_URL=$(scripts/redis.sh)
FIREBASE_AUTH_EMULATOR_HOST=$(scripts/firebase-emulator.sh)
KOE_TEST_STRIPE_URL=$(scripts/stripe-mock.sh)
mailpit=$(scripts/mailpit.sh)
KOE_TEST_SMTP_URL=${mailpit%%$'\n'*} KOE_TEST_MAILPIT_API=${mailpit#*$'\n'}
export KOE_TEST_DATABASE_URL KOE_TEST_REDIS_URL FIREBASE_AUTH_EMULATOR_HOST KOE_TEST_STRIPE_URL KOE_TEST_SMTP_URL KOE_TEST_MAILPIT_API

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './web/*'))
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi

echo "== go vet"
go vet ./...

echo "== generated code in sync"
generated=(graph/generated graph/model/models_gen.go graph/resolvers)
before=$(find "${generated[@]}" -type f -exec sha256sum {} + | sort)
go generate ./...
after=$(find "${generated[@]}" -type f -exec sha256sum {} + | sort)
if [ "$before" != "$after" ]; then
  echo "go generate ./... changed generated code; run it and commit the result:"
  diff <(echo "$before") <(echo "$after") || true
  exit 1
fi

echo "== go test -race"
go test -race -count=1 -timeout 20m ./...

echo "== fuzz the GraphQL endpoint (bounded)"
go test -run '^$' -fuzz FuzzGraphQL -fuzztime "${KOE_FUZZ_TIME:-20s}" ./internal/app/

echo "== web app (Nuxt: codegen, typecheck, Vitest, build, Playwright against the server)"
scripts/web-test.sh
