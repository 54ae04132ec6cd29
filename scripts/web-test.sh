#!/usr/bin/env bash
# The web app's tests, from a fresh clone: installs Debian's chromium if
# missing, `npm ci`, checks the generated GraphQL types are current, type-checks,
# runs Vitest; then runs `make run` in a clean copy of the tree (as a person
# would on a fresh clone: the web step builds the studio there) and checks
# that the server answers / with the studio and /playground with Playground;
# then starts the real server on that build (SQLite in a temporary folder,
# the Firebase Auth emulator) and runs the Playwright end-to-end specs
# against it in headless Chromium.
# Screenshots and results land in web/test-results/.
# KOE_WEB_SKIP_E2E=1 stops after Vitest; KOE_WEB_BENCH=1 also measures the
# numbers of web/bench/measure.mjs against the same stack.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
web=$root/web
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 NUXT_TELEMETRY_DISABLED=1 CI=${CI:-}

started=$(date +%s)
step() { echo "== web: $* (+$(( $(date +%s) - started )) s)"; }

if [ ! -x /usr/bin/chromium ]; then
  step "installing chromium (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi

step "npm ci (unless node_modules matches package-lock.json), nuxt prepare"
scripts/web-install.sh
cd "$web"
npx nuxi prepare >/dev/null 2>&1

step "GraphQL codegen is current"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r app/gql "$tmp/gql.before"
npm run --silent codegen >/dev/null
if ! diff -r "$tmp/gql.before" app/gql >/dev/null; then
  echo "app/gql is stale: run \`npm run codegen\` in web/ and commit the result. Differences:"
  diff -r "$tmp/gql.before" app/gql | head -40 || true
  exit 1
fi

step "typecheck"
npm run --silent typecheck

step "vitest"
npx vitest run

if [ "${KOE_WEB_SKIP_E2E:-}" = 1 ]; then step "end-to-end skipped (KOE_WEB_SKIP_E2E=1)"; exit 0; fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

step "make run in a clean copy of the tree"
copy=$tmp/clone
mkdir -p "$copy"
(cd "$root" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] && printf '%s\0' "$f"; done | xargs -0 cp --parents -t "$copy")
port=$(free_port)
# setsid: `make run` runs `go run`, which runs the server; all three stop together.
# A person's fresh machine has no emulator settings: the test suite's are unset.
KOE_ADDR=127.0.0.1:$port KOE_DATA_DIR="$tmp/run-data" setsid env -u FIREBASE_AUTH_EMULATOR_HOST -u FIREBASE_PROJECT_ID make -C "$copy" run >"$tmp/run.out" 2>"$tmp/run.err" &
run=$!
trap 'kill -- -"$run" 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 600); do
  if curl -fs -o /dev/null "http://127.0.0.1:$port/readyz"; then break; fi
  if ! kill -0 "$run" 2>/dev/null; then echo "make run exited:"; cat "$tmp/run.out" "$tmp/run.err"; exit 1; fi
  sleep 0.5
done
curl -fs "http://127.0.0.1:$port/" | grep -q '<div id="__nuxt"' || { echo "make run does not serve the studio at /:"; cat "$tmp/run.out" "$tmp/run.err"; exit 1; }
curl -fs "http://127.0.0.1:$port/playground" | grep -q 'id="graphiql"' || { echo "make run does not serve Playground at /playground"; exit 1; }
grep -q "^Koe studio: http://127.0.0.1:$port/$" "$tmp/run.out" || { echo "make run did not say where the studio is:"; cat "$tmp/run.out"; exit 1; }
grep -q "/signin by pasting this key" "$tmp/run.out" || { echo "make run did not say how to sign in:"; cat "$tmp/run.out"; exit 1; }
grep "^web: " "$tmp/run.err" || true
! grep -q "no working helper" "$tmp/run.out" "$tmp/run.err" || { echo "make run did not give an engine its helper:"; cat "$tmp/run.out" "$tmp/run.err"; exit 1; }
kill -- -"$run" 2>/dev/null; wait "$run" 2>/dev/null || true
build=$copy/web/.output/public

step "build the server"
(cd "$root" && go build -o "$tmp/koe" .)

step "Firebase Auth emulator"
FIREBASE_AUTH_EMULATOR_HOST=$("$root/scripts/firebase-emulator.sh")
export FIREBASE_AUTH_EMULATOR_HOST

port=$(free_port)
admin_key=koe-e2e-admin-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$tmp/data" "$web/test-results"
step "start the server on 127.0.0.1:$port"
KOE_ADDR=127.0.0.1:$port KOE_DATA_DIR="$tmp/data" KOE_WEB_DIR="$build" \
  KOE_ADMIN_API_KEY="$admin_key" FIREBASE_PROJECT_ID=demo-koe FIREBASE_WEB_API_KEY=demo-web-api-key \
  FIREBASE_AUTH_EMULATOR_HOST="$FIREBASE_AUTH_EMULATOR_HOST" KOE_LOG_LEVEL=${KOE_LOG_LEVEL:-warn} \
  "$tmp/koe" >"$web/test-results/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 120); do
  if curl -fs -o /dev/null "http://127.0.0.1:$port/readyz"; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then echo "the server exited:"; cat "$web/test-results/server.log"; exit 1; fi
  sleep 0.5
done
curl -fs -o /dev/null "http://127.0.0.1:$port/readyz" || { echo "the server is not ready:"; tail -50 "$web/test-results/server.log"; exit 1; }

step "playwright"
export KOE_E2E_URL=http://127.0.0.1:$port KOE_E2E_ADMIN_KEY=$admin_key KOE_WEB_DIR=$build
npx playwright test

if [ "${KOE_WEB_BENCH:-}" = 1 ]; then
  step "bench"
  node bench/measure.mjs
fi

echo "== web: done in $(( $(date +%s) - started )) s"
