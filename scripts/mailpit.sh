#!/usr/bin/env bash
# Starts Mailpit for the tests (if none answers yet) and prints two lines:
#
#   smtp://127.0.0.1:1025?tls=none     the SMTP URL for email.NewSMTP (KOE_TEST_SMTP_URL)
#   http://127.0.0.1:8025              the base of its REST API     (KOE_TEST_MAILPIT_API)
#
# Read them with (a failure to start stops a `set -e` caller here)
#   mailpit=$(scripts/mailpit.sh)
#   KOE_TEST_SMTP_URL=${mailpit%%$'\n'*} KOE_TEST_MAILPIT_API=${mailpit#*$'\n'}
#   export KOE_TEST_SMTP_URL KOE_TEST_MAILPIT_API
# or, interactively,
#   { read -r KOE_TEST_SMTP_URL; read -r KOE_TEST_MAILPIT_API; } < <(scripts/mailpit.sh)
#
# Mailpit is installed once, pinned, into a cache outside the repository. It
# accepts any SMTP login without TLS (it is a test server), keeps its messages
# in $cache/mailpit.db across runs (tests tell their messages apart by unique
# recipient addresses) and prunes only past 50,000 messages, so bulk tests of
# thousands of messages find all of theirs. Like real mailbox providers it
# keeps one copy of messages with the same Message-ID (--ignore-duplicate-ids),
# which is how Koe's idempotent send key makes a resend after a crash harmless.
# It keeps running in the background;
# its log is $cache/mailpit.log. Ports: KOE_MAILPIT_SMTP_PORT, KOE_MAILPIT_HTTP_PORT.
set -euo pipefail
version=v1.33.1
cache=${KOE_CACHE_DIR:-$HOME/.cache/koe}
bin=$cache/bin/mailpit-$version
smtp_port=${KOE_MAILPIT_SMTP_PORT:-1025}
http_port=${KOE_MAILPIT_HTTP_PORT:-8025}
smtp_url="smtp://127.0.0.1:$smtp_port?tls=none"
api=http://127.0.0.1:$http_port

answers() { curl -sf -o /dev/null --max-time 2 "$api/api/v1/info"; }
ready() { if answers; then echo "$smtp_url"; echo "$api"; exit 0; fi; }
ready
if [ ! -x "$bin" ]; then
  echo "installing mailpit@$version into $cache/bin (once)" >&2
  mkdir -p "$cache/bin"
  tmp=$(mktemp -d "$cache/bin/tmp.XXXXXX")
  GOBIN="$tmp" go install "github.com/axllent/mailpit@$version" >&2
  mv "$tmp/mailpit" "$bin" && rmdir "$tmp"
fi
nohup "$bin" \
  --listen "127.0.0.1:$http_port" --smtp "127.0.0.1:$smtp_port" \
  --smtp-auth-accept-any --smtp-auth-allow-insecure --smtp-disable-rdns \
  --database "$cache/mailpit.db" --max 50000 --disable-version-check --ignore-duplicate-ids \
  > "$cache/mailpit.log" 2>&1 < /dev/null &
for _ in $(seq 1 100); do
  ready
  sleep 0.1
done
echo "mailpit did not start; its log:" >&2
tail -n 20 "$cache/mailpit.log" >&2
exit 1
