#!/usr/bin/env bash
# Starts stripe-mock for the tests (if none answers yet) and prints its URL.
# It is installed once, pinned, into a cache outside the repository.
set -euo pipefail
version=v0.203.0
cache=${KOE_CACHE_DIR:-$HOME/.cache/koe}
bin=$cache/bin/stripe-mock-$version
port=${KOE_STRIPE_MOCK_PORT:-12111}
url=http://127.0.0.1:$port

answers() { curl -s -o /dev/null --max-time 2 -H "Authorization: Bearer sk_test_123" "$url/v1/customers"; }
if answers; then echo "$url"; exit 0; fi
if [ ! -x "$bin" ]; then
  echo "installing stripe-mock@$version into $cache/bin (once)" >&2
  mkdir -p "$cache/bin"
  GOBIN="$cache/bin/tmp" go install "github.com/stripe/stripe-mock@$version" >&2
  mv "$cache/bin/tmp/stripe-mock" "$bin" && rmdir "$cache/bin/tmp"
fi
nohup "$bin" -http-addr "127.0.0.1:$port" -https-addr "127.0.0.1:$((port + 1))" > "$cache/stripe-mock.log" 2>&1 < /dev/null &
for _ in $(seq 1 100); do
  if answers; then echo "$url"; exit 0; fi
  sleep 0.1
done
echo "stripe-mock did not start; its log:" >&2
tail -n 20 "$cache/stripe-mock.log" >&2
exit 1
