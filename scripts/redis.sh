#!/usr/bin/env bash
# Prints a Redis URL for the tests: KOE_TEST_REDIS_URL if set, the local
# server on 127.0.0.1:6379 if it answers, else one started here on :56379
# (installing redis-server if needed). It keeps nothing on disk.
set -euo pipefail
if [ -n "${KOE_TEST_REDIS_URL:-}" ]; then echo "$KOE_TEST_REDIS_URL"; exit 0; fi
ping() { (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'PING\r\n' >&3 && timeout 2 head -c 5 <&3 | grep -q PONG) 2>/dev/null; }
if ping 6379; then echo "redis://127.0.0.1:6379/0"; exit 0; fi
port=56379
if ! ping $port; then
  if ! command -v redis-server >/dev/null; then
    echo "installing redis-server" >&2
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
  fi
  redis-server --daemonize yes --bind 127.0.0.1 --port $port --save "" --appendonly no --dir /tmp >/dev/null
  for _ in $(seq 1 50); do ping $port && break; sleep 0.1; done
fi
echo "redis://127.0.0.1:$port/0"
