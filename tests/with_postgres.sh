#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL 15 cluster, then stop and delete it.
#   tests/with_postgres.sh .venv/bin/python -m pytest tests/test_referrals.py
# The cluster lives in a temp dir and listens on a Unix socket only (no TCP port
# to clash with); PEERAPP_TEST_POSTGRES tells the test fixtures where it is.
# It is for tests only: fsync is off, so a crash loses it, which is fine here.
set -euo pipefail
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
if [ ! -x "$PG_BIN/initdb" ]; then
  echo "PostgreSQL 15 server binaries not found in $PG_BIN ('make test' installs Debian's postgresql)" >&2
  exit 1
fi

dir=$(mktemp -d /tmp/peerapp-pg.XXXXXX)
chmod 755 "$dir"
# initdb refuses to run as root: as root, the cluster belongs to the postgres user.
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
  chown postgres "$dir"
  as_owner() { runuser -u postgres -- "$@"; }
else
  as_owner() { "$@"; }
fi

stop() {
  as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap stop EXIT INT TERM

as_owner "$PG_BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -s start \
  -o "-k $dir -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"

export PEERAPP_TEST_POSTGRES="postgresql://postgres@/postgres?host=$dir"
set +e
"$@"
status=$?
set -e
exit $status
