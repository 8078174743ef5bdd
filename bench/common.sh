# shellcheck shell=bash
#
# Shared by bench/run.sh and bench/sql-capture.sh. Sourced, not run.
#
# Sets up what both need, in this order, and tears all of it down at exit:
#   bench_build       the release binary (build/release/ombud)
#   bench_pg_start    a throwaway PostgreSQL cluster of its own under
#                     .ombud/bench-pg, started the way the yardstick's
#                     run-peer.sh starts the peer's (durable defaults,
#                     shared_buffers=512MB, pg_stat_statements preloaded,
#                     unix socket), pinned to SERVER_CPU
#   bench_seed        migrations, the benchmark's admin API key and
#                     SEED_N complaints written straight into Ombud's schema
#                     (bench/sql/seed.sql)
#   bench_server_start  `ombud serve` pinned to SERVER_CPU on a free port
#   bench_smoke       create, read back, acknowledge, 409, 401, list
#
# DESIGN: the cluster is not scripts/pg's: the benchmark needs settings
# scripts/pg does not take (shared_preload_libraries, memory) and must be
# pinned with taskset from its first process, and a fresh cluster per run
# keeps runs comparable. It is removed at exit (BENCH_KEEP_PG=1 keeps it
# stopped, for inspection). Everything runs on 127.0.0.1 / a unix socket.

# shellcheck source=scripts/lib.sh
. "$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)/scripts/lib.sh"

BENCH_HERE="$OMBUD_ROOT/bench"
SEED_N=${SEED_N:-100000}
SERVER_CPU=${SERVER_CPU:-0}
LOADGEN_CPU=${LOADGEN_CPU:-1}
BENCH_PG_DIR=${BENCH_PG_DIR:-$OMBUD_STATE/bench-pg}
PG_SETTINGS=${PG_SETTINGS:-}
BENCH_BIN="$OMBUD_ROOT/build/release/ombud"

bench_log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# --- cleanup ---------------------------------------------------------------

BENCH_SERVER_PID=""
BENCH_CHILD_PGID=""   # a setsid'd child (measure.sh) to stop with its group
BENCH_PG_STARTED=0
BENCH_PG_USER=""
BENCH_PG_BIN=""

bench_as_pg() {
    if [ -n "$BENCH_PG_USER" ]; then
        (cd / && runuser -u "$BENCH_PG_USER" -- "$@")
    else
        (cd / && "$@")
    fi
}

bench_server_stop() {
    [ -n "$BENCH_SERVER_PID" ] || return 0
    local pid=$BENCH_SERVER_PID
    BENCH_SERVER_PID=""
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

bench_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$BENCH_CHILD_PGID" ] && kill -0 "$BENCH_CHILD_PGID" 2>/dev/null; then
        kill -TERM -- "-$BENCH_CHILD_PGID" 2>/dev/null || true
        wait "$BENCH_CHILD_PGID" 2>/dev/null || true
    fi
    bench_server_stop
    if [ "$BENCH_PG_STARTED" = 1 ]; then
        bench_as_pg "$BENCH_PG_BIN/pg_ctl" -D "$BENCH_PG_DIR/data" -m fast -w -t 60 stop \
            >/dev/null 2>&1 ||
            bench_as_pg "$BENCH_PG_BIN/pg_ctl" -D "$BENCH_PG_DIR/data" -m immediate -w -t 20 stop \
                >/dev/null 2>&1 || true
        if [ "${BENCH_KEEP_PG:-0}" != 1 ]; then
            rm -rf -- "$BENCH_PG_DIR/data" "$BENCH_PG_DIR/sock"
        fi
    fi
    exit "$rc"
}

# Installs the exit trap and takes the worktree's benchmark lock: one
# benchmark per checkout at a time (they share .ombud/bench-pg).
bench_init() {
    mkdir -p -- "$OMBUD_STATE"
    exec 8>>"$OMBUD_STATE/bench.lock"
    flock -n 8 || ombud_die "another bench/ script is running in this checkout (.ombud/bench.lock)"
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    [ "$(nproc)" -ge 2 ] || bench_log "warning: one core only; server and load generator share it"
    local tool
    for tool in psql pgbench taskset timeout curl jq; do
        command -v "$tool" >/dev/null || ombud_die "$tool is missing"
    done
}

# --- build -----------------------------------------------------------------

bench_build() {
    ombud_setup_packages run >&2
    ombud_build release Release -DBUILD_TESTING=OFF >&2
}

# --- PostgreSQL ------------------------------------------------------------

bench_pg_start() {
    BENCH_PG_BIN=$(ombud_pg_bindir) || ombud_die "no PostgreSQL under /usr/lib/postgresql/*/bin"
    [ -x "$BENCH_PG_BIN/pg_ctl" ] || ombud_die "no pg_ctl in $BENCH_PG_BIN"
    if ombud_is_root; then
        BENCH_PG_USER=postgres
        id -u postgres >/dev/null 2>&1 || ombud_die "running as root needs a 'postgres' user"
    fi
    local data="$BENCH_PG_DIR/data" sock="$BENCH_PG_DIR/sock"
    if [ -f "$data/postmaster.pid" ] &&
        bench_as_pg "$BENCH_PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        ombud_die "a benchmark cluster is still running in $data; stop it with:
  runuser -u postgres -- $BENCH_PG_BIN/pg_ctl -D $data -m fast stop"
    fi
    rm -rf -- "$data" "$sock"
    mkdir -p -- "$data" "$sock"
    chmod 700 "$data"
    [ -n "$BENCH_PG_USER" ] && chown -R "$BENCH_PG_USER:" "$BENCH_PG_DIR"
    bench_as_pg test -w "$data" ||
        ombud_die "PostgreSQL runs as '$BENCH_PG_USER', who cannot reach $BENCH_PG_DIR; set BENCH_PG_DIR"
    [ "${#sock}" -le 90 ] || ombud_die "socket path too long ($sock); set BENCH_PG_DIR to a shorter one"

    BENCH_PG_PORT=$(ombud_free_port 29400 30400) || ombud_die "no free TCP port for PostgreSQL"
    bench_log "initdb in $data (PostgreSQL $("$BENCH_PG_BIN/postgres" --version | awk '{print $3}'))"
    bench_as_pg "$BENCH_PG_BIN/initdb" -D "$data" -U ombud -A trust --locale=C.UTF-8 -E UTF8 \
        --no-instructions >"$BENCH_PG_DIR/initdb.log" 2>&1 ||
        { cat "$BENCH_PG_DIR/initdb.log" >&2; ombud_die "initdb failed"; }
    # As the yardstick's run-peer.sh: durable defaults (fsync,
    # synchronous_commit on), memory for this machine, checkpoints spaced
    # out; pg_stat_statements for the SQL check, tracking nothing outside it.
    local opts="-c listen_addresses=127.0.0.1 -c port=$BENCH_PG_PORT
 -c unix_socket_directories=$sock -c max_connections=200 -c shared_buffers=512MB
 -c effective_cache_size=4GB -c max_wal_size=4GB -c checkpoint_timeout=30min
 -c log_min_messages=warning -c shared_preload_libraries=pg_stat_statements $PG_SETTINGS"
    BENCH_PG_STARTED=1
    bench_log "starting PostgreSQL pinned to core $SERVER_CPU (port $BENCH_PG_PORT)"
    local as=()
    [ -n "$BENCH_PG_USER" ] && as=(runuser -u "$BENCH_PG_USER" --)
    (cd / && exec taskset -c "$SERVER_CPU" "${as[@]}" "$BENCH_PG_BIN/pg_ctl" -D "$data" \
        -l "$BENCH_PG_DIR/postgres.log" -o "${opts//$'\n'/}" -w -t 60 start) >/dev/null ||
        { tail -n 30 "$BENCH_PG_DIR/postgres.log" >&2; ombud_die "PostgreSQL did not start"; }
    BENCH_PG_PID=$(head -1 "$data/postmaster.pid")
    BENCH_PG_ADMIN="postgresql://ombud@/postgres?host=$sock&port=$BENCH_PG_PORT"
    # The server's sessions run with TimeZone=UTC (src/db/pool.c); pgbench
    # and measure.sh's psql get the same through the URI. (Not its
    # statement_timeout: transition-reset.sql may take longer.)
    # shellcheck disable=SC2034 # for the scripts that source this file
    BENCH_DB="postgresql://ombud@/ombud?host=$sock&port=$BENCH_PG_PORT&options=-c%20TimeZone%3DUTC"
    BENCH_DB_SERVER="postgresql://ombud@/ombud?host=$sock&port=$BENCH_PG_PORT"
}

bench_psql() { psql "$BENCH_DB_SERVER" -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

# --- schema, key, seed ---------------------------------------------------------

# bench_seed: sets BENCH_KEY (the admin key's secret), BENCH_KEY_HASH,
# BENCH_KEY_ID.
bench_seed() {
    psql "$BENCH_PG_ADMIN" -X -q -v ON_ERROR_STOP=1 -c 'CREATE DATABASE ombud' >/dev/null
    OMBUD_DATABASE_URL="$BENCH_DB_SERVER" "$BENCH_BIN" migrate >/dev/null
    # Tracking is switched on only around SQL checks and captures, with
    # ALTER SYSTEM (a -c on the command line would override that).
    bench_psql -c 'CREATE EXTENSION pg_stat_statements' \
        -c "ALTER SYSTEM SET pg_stat_statements.track = 'none'" -c 'SELECT pg_reload_conf()' >/dev/null
    BENCH_KEY="omb_bench_$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')"
    BENCH_KEY_HASH=$(printf '%s' "$BENCH_KEY" | sha256sum | cut -c1-64)
    # Ombud stores the plain SHA-256 of the secret (src/keys.c).
    BENCH_KEY_ID=$(bench_psql -v h="$BENCH_KEY_HASH" <<<"INSERT INTO api_keys (name, role, key_hash)
        VALUES ('benchmark', 'admin', :'h') RETURNING id")
    # For pgbench/{create,transition}.sql: the key's id, which they pass
    # where a pgbench variable cannot go (see pgbench/README.md).
    bench_psql -c "ALTER DATABASE ombud SET bench.key_id = '$BENCH_KEY_ID'" >/dev/null
    bench_log "seeding $SEED_N complaints"
    local t0
    t0=$(date +%s)
    bench_psql -v n="$SEED_N" -v key_id="$BENCH_KEY_ID" -f "$BENCH_HERE/sql/seed.sql" >/dev/null
    bench_log "seeded in $(($(date +%s) - t0)) s: $(bench_psql -c 'SELECT count(*) FROM complaints') complaints, $(bench_psql -c 'SELECT count(*) FROM sla_clocks') clocks, $(bench_psql -c "SELECT pg_size_pretty(pg_database_size('ombud'))")"
}

# --- the server ----------------------------------------------------------------

bench_server_start() {
    local port log="$1"
    port=$(ombud_free_port 18100 18999) || ombud_die "no free HTTP port"
    BENCH_URL="http://127.0.0.1:$port"
    : >"$log"
    bench_log "starting ombud on $BENCH_URL pinned to core $SERVER_CPU"
    # The load comes from one address at rates no API key would be given:
    # no rate limit or per-address connection limit unless the caller sets
    # one (OMBUD_RATE_LIMIT, OMBUD_CONN_PER_IP).
    OMBUD_DATABASE_URL="$BENCH_DB_SERVER" OMBUD_LISTEN="127.0.0.1:$port" \
        OMBUD_RATE_LIMIT="${OMBUD_RATE_LIMIT:-0}" OMBUD_CONN_PER_IP="${OMBUD_CONN_PER_IP:-0}" \
        taskset -c "$SERVER_CPU" "$BENCH_BIN" serve >>"$log" 2>&1 &
    BENCH_SERVER_PID=$!
    for _ in $(seq 150); do
        curl -fsS -o /dev/null "$BENCH_URL/health/live" 2>/dev/null && break
        kill -0 "$BENCH_SERVER_PID" 2>/dev/null || { cat "$log" >&2; ombud_die "ombud exited"; }
        sleep 0.2
    done
    curl -fsS -o /dev/null "$BENCH_URL/health/live" || { cat "$log" >&2; ombud_die "ombud did not come up"; }
    bench_log "ombud pid $BENCH_SERVER_PID, affinity $(taskset -pc "$BENCH_SERVER_PID" | sed 's/.*: //'); postmaster affinity $(taskset -pc "$BENCH_PG_PID" | sed 's/.*: //')"
}

# Smoke check: a broken server or seed stops the run here.
bench_smoke() {
    local auth="Authorization: Bearer $BENCH_KEY" created cid
    created=$(curl -fsS -H "$auth" -H 'Content-Type: application/json' "$BENCH_URL/v1/complaints" \
        -d '{"title":"空调安装后漏水，要求退款","description":"冒烟测试","customer":{"name":"王芳"},"channel":"phone","category":"after_sales","grade":"high_risk"}') ||
        ombud_die "smoke: create failed"
    cid=$(jq -r .id <<<"$created")
    [ "$(jq -r '.priority + " " + .status + " " + (.reference | test("^CMP-[0-9]{6,}$") | tostring)' <<<"$created")" = "urgent new true" ] ||
        ombud_die "smoke: unexpected create answer: $created"
    [ "$(curl -fsS -H "$auth" "$BENCH_URL/v1/complaints/$cid" | jq -r .title)" = "空调安装后漏水，要求退款" ] ||
        ombud_die "smoke: get failed"
    [ "$(curl -fsS -H "$auth" "$BENCH_URL/v1/complaints/1" | jq -r .id)" = 1 ] ||
        ombud_die "smoke: seeded complaint 1 not readable"
    [ "$(curl -fsS -H "$auth" -H 'Content-Type: application/json' "$BENCH_URL/v1/complaints/$cid/transitions" -d '{"action":"acknowledge"}' | jq -r '.status + " " + (.version|tostring)')" = "acknowledged 2" ] ||
        ombud_die "smoke: transition failed"
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$auth" -H 'Content-Type: application/json' "$BENCH_URL/v1/complaints/$cid/transitions" -d '{"action":"acknowledge"}')" = 409 ] ||
        ombud_die "smoke: second acknowledge was not a 409"
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$BENCH_URL/v1/complaints/$cid")" = 401 ] ||
        ombud_die "smoke: no key was not a 401"
    [ "$(curl -fsS -H "$auth" "$BENCH_URL/v1/complaints?status=new&limit=20" | jq '.items | length')" = 20 ] ||
        ombud_die "smoke: list failed"
    [ "$(bench_psql -c "SELECT string_agg(kind, ',' ORDER BY id) FROM complaint_events WHERE complaint_id = $cid")" = "created,status_changed" ] ||
        ombud_die "smoke: events not written"
    [ "$(bench_psql -c "SELECT count(*) FROM sla_clocks WHERE complaint_id = $cid")" = 2 ] ||
        ombud_die "smoke: SLA clocks not written"
    bench_log "smoke check passed (create/get/transition/409/401/list/events/clocks)"
}

# The text of one of the SLA worker's statements in src/db/sla_clocks.c
# (q_due, q_next): its string literals joined, with OMBUD_DB_CLOCK_COLS(t, p)
# (src/db/clock_cols.h; CLOCK_COLS is it with "" and "") expanded, for the
# plan and lag scripts to EXPLAIN and PREPARE exactly what the server does.
bench_worker_sql() {
    awk -v name="$1" '
        BEGIN { T = sprintf("%c", 1); P = sprintf("%c", 2) }
        # every occurrence of a in s replaced by b
        function repl(s, a, b,    out, i) {
            out = ""
            while ((i = index(s, a)) > 0) { out = out substr(s, 1, i - 1) b; s = substr(s, i + length(a)) }
            return out s
        }
        function clockcols(t, p) { return repl(repl(cols, T, t), P, p) }
        function lits(line,    out, t, a) {
            out = ""
            while (match(line, /"[^"]*"|OMBUD_DB_CLOCK_COLS\("[^"]*", *"[^"]*"\)|CLOCK_COLS/)) {
                t = substr(line, RSTART, RLENGTH)
                line = substr(line, RSTART + RLENGTH)
                if (t == "CLOCK_COLS") out = out clockcols("", "")
                else if (substr(t, 1, 1) == "\"") out = out substr(t, 2, length(t) - 2)
                else { split(t, a, "\""); out = out clockcols(a[2], a[4]) }
            }
            return out
        }
        # The macro body: its literals, with markers for the arguments t
        # (the table alias) and p (the column prefix).
        function body(line,    out, t) {
            out = ""
            while (match(line, /"[^"]*"|[A-Za-z_][A-Za-z_0-9]*/)) {
                t = substr(line, RSTART, RLENGTH)
                line = substr(line, RSTART + RLENGTH)
                if (t == "t") out = out T
                else if (t == "p") out = out P
                else if (substr(t, 1, 1) == "\"") out = out substr(t, 2, length(t) - 2)
            }
            return out
        }
        FILENAME ~ /clock_cols\.h$/ {
            if ($0 ~ /^#define OMBUD_DB_CLOCK_COLS\(t, p\)/) { incols = 1; next }
            if (incols) { cols = cols body($0); if ($0 !~ /\\$/) incols = 0 }
            next
        }
        /^#define CLOCK_COLS/ { next }
        $0 ~ ("^static struct ombud_db_stmt " name " = OMBUD_STMT\\(") { instmt = 1 }
        instmt { sql = sql lits($0); if ($0 ~ /\);[[:space:]]*$/) { print sql; exit } }
' "$OMBUD_ROOT/src/db/clock_cols.h" "$OMBUD_ROOT/src/db/sla_clocks.c"
}
