# A throwaway PostgreSQL server for tests and benchmarks: its own data folder, loopback only.
# Source it, then `pg_start` (exports PG_URL) and `pg_stop`. Used by .ci/run and the benchmarks.
PG_PORT="${PG_PORT:-54329}"

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1; }

pg_run() {
  # The server refuses to run as root: use the postgres system user then.
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

pg_start() {
  local bin; bin="$(pg_bin)"
  PG_DATA="$(mktemp -d /tmp/chuangwen-pg.XXXXXX)"
  [ "$(id -u)" = 0 ] && chown postgres: "$PG_DATA"
  pg_run "'$bin/initdb' -D '$PG_DATA' -A trust -U postgres -E UTF8 --no-locale >/dev/null"
  pg_run "'$bin/pg_ctl' -D '$PG_DATA' -l '$PG_DATA/server.log' -w start -o \"-p $PG_PORT -k '$PG_DATA' -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-off} -c shared_buffers=${PG_SHARED_BUFFERS:-256MB}\" >/dev/null"
  "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres chuangwen
  export PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/chuangwen"
  export PG_DATA
}

pg_stop() {
  [ -n "${PG_DATA:-}" ] || return 0
  pg_run "'$(pg_bin)/pg_ctl' -D '$PG_DATA' -m fast -w stop >/dev/null" || true
  rm -rf "$PG_DATA"
}
