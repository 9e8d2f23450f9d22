#!/usr/bin/env bash
# Full app test run: pytest on SQLite, then on a throwaway PostgreSQL 15 cluster with
# a throwaway Redis (real Celery broker + worker). Both servers listen on free
# loopback ports and are removed on exit.
#
# Needs: the app installed in ${PYTHON:-python} (pip install -e 'app[test]'),
# PostgreSQL 15 server binaries (apt postgresql-15) and redis-server.
# Env: PYTHON, PG_BIN (default /usr/lib/postgresql/15/bin), SSAS_TEST_SKIP_SLOW=1 to
# skip the wheelhouse build test. Extra arguments go to both pytest runs.
set -euo pipefail

PY=${PYTHON:-python}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
APP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d /tmp/ssas-test.XXXXXX)
PG_DATA="$WORK/pg"
REDIS_PID=""
RUN_AS=()

cleanup() {
    set +e
    if [ -f "$PG_DATA/postmaster.pid" ]; then
        "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1
    fi
    if [ -n "$REDIS_PID" ]; then
        kill "$REDIS_PID" 2>/dev/null
        wait "$REDIS_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

SLOW=()
[ "${SSAS_TEST_SKIP_SLOW:-0}" = 1 ] && SLOW=(-m "not slow")
missing=()
for tool in "$PG_BIN/initdb" "$PG_BIN/pg_ctl"; do
    [ -x "$tool" ] || missing+=("$tool (postgresql-15)")
done
command -v redis-server >/dev/null || missing+=("redis-server")
if [ "${#missing[@]}" -gt 0 ]; then
    # In CI a missing server is a failure; elsewhere (e.g. test.sh --quick without root) the
    # SQLite run still runs and says what it left out.
    if [ -n "${CI:-}" ]; then
        echo "run.sh: not found: ${missing[*]}" >&2
        exit 2
    fi
    echo "run.sh: not found: ${missing[*]}; only the SQLite run (the PostgreSQL + Redis run skipped)"
    cd "$APP_DIR"
    env -u SSAS_TEST_DATABASE_URL -u SSAS_TEST_REDIS_URL "$PY" -m pytest "${SLOW[@]}" "$@"
    exit
fi

# initdb refuses to run as root: use the postgres system account when we are root.
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || { echo "run.sh: as root, a 'postgres' user is needed" >&2; exit 2; }
    chown postgres "$WORK"
    RUN_AS=(runuser -u postgres --)
fi

PG_PORT=$(free_port)
"${RUN_AS[@]}" "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -A trust --no-sync >/dev/null
"${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$WORK/pg.log" -w -t 60 start \
    -o "-h 127.0.0.1 -p $PG_PORT -k $WORK -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    >/dev/null

# The shard databases of the test settings (shard_0, shard_1), as a sharded deployment has
# them; the test run itself creates and drops test_ssas_shard_N beside test_postgres.
for shard in ssas_shard_0 ssas_shard_1; do
    "${RUN_AS[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$shard"
done

REDIS_PORT=$(free_port)
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --dir "$WORK" --logfile "$WORK/redis.log" &
REDIS_PID=$!
for _ in $(seq 50); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
    sleep 0.1
done
redis-cli -p "$REDIS_PORT" ping >/dev/null

cd "$APP_DIR"

echo "== pytest on SQLite"
env -u SSAS_TEST_DATABASE_URL -u SSAS_TEST_REDIS_URL "$PY" -m pytest "${SLOW[@]}" "$@"

echo "== pytest on PostgreSQL 15 + Redis (port $PG_PORT, $REDIS_PORT)"
SSAS_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres" \
SSAS_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" \
    "$PY" -m pytest -m "not slow" "$@"
