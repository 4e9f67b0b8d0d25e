#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, in a folder of its own.
#   scripts/postgres.sh start [DIR]   initialises (once) and starts it; prints the URL to use as
#                                     DOORSTEP_TEST_POSTGRES_URL (also written to DIR/url)
#   scripts/postgres.sh stop [DIR]    stops it
# initdb refuses root, so as root the cluster belongs to the postgres user.
set -euo pipefail
command=${1:-start}
dir=${2:-${TMPDIR:-/tmp}/doorstep-postgres}
port=${DOORSTEP_PG_PORT:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
as_owner() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
case "$command" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "'$bin/initdb' -D '$dir/data' -A trust -U doorstep --encoding=UTF8 --locale=C.UTF-8" >/dev/null
    fi
    if ! as_owner "'$bin/pg_ctl' -D '$dir/data' status" >/dev/null 2>&1; then
      as_owner "'$bin/pg_ctl' -D '$dir/data' -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off\" -l '$dir/pg.log' start -w" >/dev/null
    fi
    url="postgres://doorstep@127.0.0.1:$port/postgres"
    echo "$url" > "$dir/url"
    echo "$url"
    ;;
  stop)
    as_owner "'$bin/pg_ctl' -D '$dir/data' stop -m fast" >/dev/null 2>&1 || true
    ;;
  *) echo "usage: scripts/postgres.sh start|stop [DIR]" >&2; exit 64 ;;
esac
