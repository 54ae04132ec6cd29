#!/usr/bin/env bash
# Builds the web app (the studio) into web/.output/public when it is missing
# or web/'s sources changed since it was built, and prints that folder on
# stdout for KOE_WEB_DIR. A build is keyed by a hash of web/'s sources
# (web/.output/.koe-source-sha256), so a second start costs a hash of a few
# hundred files. Without Node.js it prints nothing and says on stderr, in
# one line, how to get it: the server then serves the API and Playground.
# Progress goes to stderr with how long each step took.
set -euo pipefail
cd "$(dirname "$0")/.."
web=$PWD/web

need=20.19.0
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "web: Node.js $need or newer is not installed, so the studio is not built (Debian: apt-get install nodejs npm, or https://nodejs.org); serving the API and Playground" >&2
  exit 0
fi
have=$(node --version | tr -d v)
if [ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -n 1)" != "$need" ]; then
  echo "web: Node.js $have is older than the $need the studio needs (https://nodejs.org), so it is not built; serving the API and Playground" >&2
  exit 0
fi

# The sources: everything in web/ but what installing, building and testing
# write there.
source_sum() {
  (cd "$web" && find . \( -name node_modules -o -name .output -o -name .nuxt -o -name .data \
      -o -name test-results -o -name playwright-report -o -name .vitest -o -path ./bench/results \) -prune \
      -o -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
}
sum=$(source_sum)
stamp=$web/.output/.koe-source-sha256
if [ -f "$web/.output/public/index.html" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then
  echo "$web/.output/public"
  exit 0
fi

scripts/web-install.sh
echo "web: building the studio (nuxt generate; about a minute)" >&2
started=$(date +%s)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
(cd "$web" && NUXT_TELEMETRY_DISABLED=1 npx nuxi generate) >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
echo "$sum" > "$stamp"
echo "web: the studio was built in $(( $(date +%s) - started )) s" >&2
echo "$web/.output/public"
