#!/usr/bin/env bash
# A throwaway PostGIS cluster on loopback for the store tests (Debian; run as root, as CI does).
#   .ci/postgis.sh install   PostgreSQL and PostGIS from Debian's packages, if missing
#   .ci/postgis.sh start     a fresh cluster; prints its SQLAlchemy URL
#   .ci/postgis.sh stop      stops it and removes its files
set -euo pipefail
PGDIR=${PGDIR:-/tmp/geo-pgtest}
PGPORT=${PGPORT:-54329}
PGDB=${PGDB:-incidents_test}
pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-start}" in
  install)
    if [ -n "$(pgbin)" ] && ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then exit 0; fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgis >/dev/null ;;
  start)
    B=$(pgbin)
    rm -rf "$PGDIR"; mkdir -p "$PGDIR"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$PGDIR"
    as_postgres "$B/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 --no-locale >/dev/null
    as_postgres "$B/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w -t 30 -o "-p $PGPORT -k $PGDIR \
      -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
    "$B/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qc "CREATE DATABASE $PGDB" >/dev/null
    "$B/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -d "$PGDB" -qc "CREATE EXTENSION postgis" >/dev/null
    echo "postgresql+psycopg://postgres@127.0.0.1:$PGPORT/$PGDB" ;;
  stop)
    B=$(pgbin)
    if [ -d "$PGDIR/data" ]; then as_postgres "$B/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1 || true; fi
    rm -rf "$PGDIR" ;;
esac
