#!/usr/bin/env bash
#
# bench/sql-capture.sh: prints the SQL Ombud issues for each benchmarked
# operation, so that bench/pgbench/*.sql can be kept identical to it.
#
# Builds the release binary, starts a throwaway cluster and the server as
# bench/run.sh does (bench/common.sh; a small seed, SEED_N=2000 by
# default), then for each operation sends the benchmark's request
# (the same as the yardstick's wrk scripts) and prints:
#
#   1. the statements of one request in the order the server sent them,
#      with their parameters, from PostgreSQL's log (log_statement=all);
#      statements of the SLA worker's session are marked [worker];
#   2. per statement, calls per request over REQUESTS requests, from
#      pg_stat_statements (track=top): the set measure.sh's SQL check
#      compares with the pgbench script's (queryid, which ignores
#      constants and whitespace, not the numbering of parameters).
#
#   bench/sql-capture.sh                 all four operations
#   OPS="create transition" bench/sql-capture.sh
#
# Environment: OPS (create get list transition), REQUESTS (20), SEED_N
# (2000), SERVER_CPU (0), BENCH_HARNESS (../shared/bench beside the checkout, for the wrk
# request bodies' source of truth), OUT (.ombud/bench-capture.txt: a copy
# of what is printed).
set -euo pipefail
umask 022
SEED_N=${SEED_N:-2000}
# shellcheck source=bench/common.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
cd "$OMBUD_ROOT"

OPS=${OPS:-create get list transition}
REQUESTS=${REQUESTS:-20}
OUT=${OUT:-$OMBUD_STATE/bench-capture.txt}
case $REQUESTS in '' | *[!0-9]*) ombud_die "REQUESTS must be a number" ;; esac
[ "$REQUESTS" -ge 2 ] || ombud_die "REQUESTS must be at least 2"

bench_init
bench_build
bench_pg_start
bench_seed
bench_server_start "$OMBUD_STATE/bench-capture-server.log"
bench_smoke

AUTH="Authorization: Bearer $BENCH_KEY"
PGLOG="$BENCH_PG_DIR/postgres.log"

pg_set() { # name value: ALTER SYSTEM and reload (throwaway cluster)
    bench_psql -c "ALTER SYSTEM SET $1 = '$2'" -c 'SELECT pg_reload_conf()' >/dev/null
    sleep 0.3
}

# request op n: the benchmark's request number n (n >= 1) for op, as the
# wrk scripts send it (wrk/create.lua's body; get and transition on id n).
request() {
    local op=$1 n=$2
    case $op in
    create)
        curl -fsS -o /dev/null -H "$AUTH" -H 'Content-Type: application/json' \
            "$BENCH_URL/v1/complaints" -d "{\"title\":\"空调安装后漏水，要求退款\",\"description\":\"6月12日安装的空调，第二天室内机开始漏水，木地板已经泡坏。维修师傅上门两次都没有解决，客服一直推诿。要求全额退款并赔偿地板损失。订单号 GL20260612-0-$n。\",\"customer\":{\"name\":\"王芳\",\"external_id\":\"WRK-0-$n\",\"email\":\"wang.fang@example.cn\",\"phone\":\"+86 138 0013 8000\",\"tier\":\"standard\"},\"channel\":\"phone\",\"category\":\"after_sales\",\"grade\":\"explicit\"}"
        ;;
    get) curl -fsS -o /dev/null -H "$AUTH" "$BENCH_URL/v1/complaints/$n" ;;
    list) curl -fsS -o /dev/null -H "$AUTH" "$BENCH_URL/v1/complaints?status=new&limit=20" ;;
    transition)
        curl -fsS -o /dev/null -H "$AUTH" -H 'Content-Type: application/json' \
            "$BENCH_URL/v1/complaints/$n/transitions" -d '{"action":"acknowledge"}'
        ;;
    *) ombud_die "unknown operation $op" ;;
    esac
}

# The SLA worker's backend: the session whose last statement is the
# worker's planning query (it runs after every pass, then waits).
worker_pid() {
    bench_psql -c "SELECT pid FROM pg_stat_activity WHERE datname = 'ombud'
                     AND application_name = 'ombud' AND query ~ 'min\\(next_alert_at\\)'
                   ORDER BY pid LIMIT 1"
}

# The log lines (statement + parameters) between two marker statements,
# one statement per line: "[pid] SQL  -- params".
log_between() { # begin-marker end-marker worker-pid
    awk -v b="$1" -v e="$2" -v w="$3" '
        index($0, b) { on = 1; next }
        index($0, e) { on = 0; exit }
        !on { next }
        /^[^ \t]/ && match($0, /\[[0-9]+\] /) {
            pid = substr($0, RSTART + 1, RLENGTH - 3)
            if (match($0, /(LOG|DETAIL): +/)) {
                kind = substr($0, RSTART, 3); rest = substr($0, RSTART + RLENGTH)
            } else next
            if (kind == "LOG") {
                if (sql != "") print sql
                sub(/^(statement|execute [^:]*): /, "", rest)
                if (rest ~ /^(duration|parse|bind)/) { sql = ""; next }
                sql = (pid == w ? "[worker] " : "         ") rest
            } else if (kind == "DET" && sql != "") {
                sub(/^[Pp]arameters: /, "", rest)
                if (length(rest) > 300) rest = substr(rest, 1, 300) "..."
                sql = sql "\n             params: " rest
            }
            next
        }
        { next }
        END { if (sql != "") print sql }' "$PGLOG"
}

{
    echo "Ombud's SQL per benchmarked operation ($(git -C "$OMBUD_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u +%Y-%m-%dT%H:%MZ))"
    echo "BEGIN/COMMIT go in pipeline mode with the statement after/before them; everything else"
    echo "as named prepared statements (src/db/pool.c; the list: one prepared per shape, src/db/complaints.c)."
} | tee "$OUT"

pg_set log_line_prefix '%m [%p] '
for op in $OPS; do
    if [ "$op" = transition ]; then
        bench_psql -v lo=1 -v hi="$SEED_N" -f "$BENCH_HERE/pgbench/transition-reset.sql" >/dev/null
    fi
    first=1
    [ "$op" = get ] && first=7
    wpid=$(worker_pid)
    pg_set pg_stat_statements.track top
    bench_psql -c 'SELECT pg_stat_statements_reset()' >/dev/null
    pg_set log_statement all
    mark="bench-capture-$op-$$"
    bench_psql -c "SELECT '$mark-begin'" >/dev/null
    request "$op" "$first"
    sleep 0.5 # whatever the SLA worker does after it (its once-a-second poll)
    bench_psql -c "SELECT '$mark-end'" >/dev/null
    pg_set log_statement none
    for ((i = 1; i < REQUESTS; i++)); do
        request "$op" $((first + i))
    done
    sleep 0.5
    pg_set pg_stat_statements.track none
    {
        echo
        echo "==== $op: one request, in order (server log; [worker] = the SLA worker's session)"
        log_between "$mark-begin" "$mark-end" "$wpid" | grep -v "$mark" || true
        echo
        echo "==== $op: calls per request over $REQUESTS requests (pg_stat_statements, track=top)"
        bench_psql -F $'\t' -c "
            SELECT to_char(calls::numeric / $REQUESTS, 'FM990.00'), queryid,
                   left(regexp_replace(query, '\\s+', ' ', 'g'), 400)
              FROM pg_stat_statements
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'ombud')
               AND query !~* 'pg_stat_statements|pg_reload_conf|ALTER SYSTEM'
               AND query <> 'SELECT \$1' -- this script's log markers
             ORDER BY calls DESC, query" | awk -F '\t' '{ printf "  %6s  %20s  %s\n", $1, $2, $3 }'
    } | tee -a "$OUT"
done
bench_log "written to ${OUT#"$OMBUD_ROOT"/}"
