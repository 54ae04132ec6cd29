#!/usr/bin/env bash
# Starts the Firebase Auth emulator for the tests (if none answers yet) and
# prints its host:port. firebase-tools is installed once, pinned, into a cache
# outside the repository, so later runs start in seconds. The emulator keeps
# running in the background; its pid is in $dir/pid.
set -euo pipefail
version=15.34.2
cache=${KOE_CACHE_DIR:-$HOME/.cache/koe}
tools=$cache/firebase-tools-$version
dir=$cache/firebase-emulator
port=${KOE_FIREBASE_EMULATOR_PORT:-9099}
host=127.0.0.1:$port

answers() { curl -s -o /dev/null --max-time 2 "http://$host/" ; }
if answers; then echo "$host"; exit 0; fi

if [ ! -x "$tools/node_modules/.bin/firebase" ]; then
  command -v npm >/dev/null || { echo "npm is needed to install firebase-tools" >&2; exit 1; }
  echo "installing firebase-tools@$version into $tools (once)" >&2
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "firebase-tools@$version" >&2
fi

mkdir -p "$dir"
cat > "$dir/firebase.json" <<JSON
{ "emulators": { "auth": { "host": "127.0.0.1", "port": $port }, "ui": { "enabled": false }, "singleProjectMode": true } }
JSON
cd "$dir"
nohup "$tools/node_modules/.bin/firebase" emulators:start --only auth --project demo-koe --config "$dir/firebase.json" \
  > "$dir/log" 2>&1 < /dev/null &
echo $! > "$dir/pid"
for _ in $(seq 1 120); do
  if answers; then echo "$host"; exit 0; fi
  sleep 0.5
done
echo "the Firebase Auth emulator did not start; its log:" >&2
tail -n 30 "$dir/log" >&2
exit 1
