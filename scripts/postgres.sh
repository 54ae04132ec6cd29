#!/usr/bin/env bash
# Prints a PostgreSQL URL the tests can create schemas on: KOE_TEST_DATABASE_URL
# if set, the local server on 127.0.0.1:5432 if it answers, else a throwaway
# cluster started here (initdb + pg_ctl, fsync off) under $KOE_PG_DIR.
set -euo pipefail
if [ -n "${KOE_TEST_DATABASE_URL:-}" ]; then
  echo "$KOE_TEST_DATABASE_URL"; exit 0
fi
url="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "$url"; exit 0
fi
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bin" ]; then
  echo "installing postgresql" >&2
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
fi
dir=${KOE_PG_DIR:-/tmp/koe-pg}
port=55432
as=()
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  as=(runuser -u postgres --)
fi
if ! pg_isready -q -h 127.0.0.1 -p "$port" 2>/dev/null; then
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  if [ ! -f "$dir/PG_VERSION" ]; then
    "${as[@]}" "$bin/initdb" -D "$dir" -U postgres --auth=trust >/dev/null
  fi
  "${as[@]}" "$bin/pg_ctl" -D "$dir" -l "$dir/log" -w \
    -o "-h 127.0.0.1 -p $port -k /tmp -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null
fi
echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
