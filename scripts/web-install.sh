#!/usr/bin/env bash
# Installs the web app's packages (npm ci in web/) unless node_modules already
# matches package-lock.json. Progress goes to stderr with how long it took.
# Used by scripts/web-build.sh (make run) and scripts/web-test.sh (make test).
set -euo pipefail
cd "$(dirname "$0")/../web"
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.koe-lock-sha256 2>/dev/null)" = "$lock_sum" ]; then
  exit 0
fi
echo "web: npm ci (installs the web app's pinned packages; about a minute the first time)" >&2
started=$(date +%s)
npm ci --no-audit --no-fund --loglevel=error >&2
echo "$lock_sum" > node_modules/.koe-lock-sha256
echo "web: npm ci took $(( $(date +%s) - started )) s" >&2
