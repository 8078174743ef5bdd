#!/usr/bin/env bash
#
# bench/run.sh: Ombud's HTTP benchmark against PostgreSQL running Ombud's
# own SQL, in one command.
#
# Builds the release binary, starts a throwaway PostgreSQL and `ombud
# serve`, both pinned to SERVER_CPU (bench/common.sh), seeds SEED_N
# complaints straight into Ombud's schema (sql/seed.sql), smoke-checks the
# server, then runs the yardstick's harness (measure.sh in BENCH_HARNESS):
# for each operation (create, get-by-id, a filtered list page, a
# transition) and client count, wrk against the server and pgbench with
# pgbench/<op>.sql, which hold the very statements Ombud issues for that
# operation (measure.sh proves it with pg_stat_statements before the timed
# runs: column `same`). Prints measure.sh's table, then a summary with the
# server's peak RSS per run, and one machine-readable line per operation
# and client count:
#
#   BENCH {"op":"get","conns":16,"rps":...,"p50_ms":...,"p99_ms":...,
#          "rss_peak_kib":...,"core_us_per_req":...,"pgbench_tps":...,
#          "pgbench_core_us_per_tx":...,"ratio":...,...}
#
# core_us_per_req (and pgbench's per transaction): the server core's busy
# microseconds per answer, from measure.sh's busy % of that core over the
# run. It leaves out the time the core waited idle on the disk, so on a
# machine whose fsync latency wanders it moves less than the rates do.
#
# Raw output (wrk, pgbench, the SQL check's statement lists, server and
# PostgreSQL logs, results.tsv, bench.jsonl) stays in RESULTS_DIR.
# Every load is bounded in time and targets 127.0.0.1; everything started
# is stopped at exit and the cluster removed.
#
#   bench/run.sh                                   # ~5 min: 4 ops x {16, 64} x 10 s x {wrk, pgbench}
#   DURATION=30 CONNS="16 64 128" bench/run.sh
#   OPS="get list" DURATION=2 WARMUP=1 CONNS=16 bench/run.sh   # a quick check
#
# Environment (defaults in brackets):
#   SEED_N         complaints seeded [100000]
#   OPS            operations, in order [create get list transition]
#   CONNS          wrk connections = pgbench clients [16 64]
#   DURATION       seconds per wrk / pgbench run [10]; WARMUP [3]
#   SERVER_CPU     core for ombud and PostgreSQL [0]
#   LOADGEN_CPU    core for wrk and pgbench [1]
#   SQL_CHECK      1: prove the pgbench scripts issue Ombud's statements [1]
#   RULES          1: add escalation rules the load never matches (one on
#                  created, one on sla_breach) before measuring, to see what
#                  rules cost a write they do not act on (the SQL stays the
#                  same: a create no rule would act on is one statement) [0]
#   PG_SETTINGS    extra "-c name=value" for postgres [none]
#   BENCH_HARNESS  the yardstick folder with measure.sh and wrk/
#                  [../shared/bench beside the checkout]
#   RESULTS_DIR    [.ombud/bench/<UTC time>]
#   OMBUD_*        passed to the server as usual (src/config.c), e.g.
#                  OMBUD_THREADS, OMBUD_DB_POOL
#
# The SLA worker: writes do not wake it through the database (no NOTIFY);
# it reads the earliest next_alert_at at most once a second per process
# and runs a pass only when a moment has come, which none does during the
# runs (sql/clocks.sql). So no request brings a statement of the worker's,
# and the pgbench scripts have none: its poll is background load, the
# same during the wrk and the pgbench runs (the server keeps running).
set -euo pipefail
umask 022
# shellcheck source=bench/common.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"
cd "$OMBUD_ROOT"

OPS=${OPS:-create get list transition}
CONNS=${CONNS:-16 64}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
RULES=${RULES:-0}
SQL_CHECK=${SQL_CHECK:-1}
BENCH_HARNESS=${BENCH_HARNESS:-$(cd "$OMBUD_ROOT/.." && pwd)/shared/bench}
RESULTS_DIR=${RESULTS_DIR:-$OMBUD_STATE/bench/$(date -u +%Y%m%dT%H%M%SZ)}
LIST_STATUS=${LIST_STATUS:-new}
LIST_LIMIT=${LIST_LIMIT:-20}

MEASURE="$BENCH_HARNESS/measure.sh"
[ -x "$MEASURE" ] || [ -f "$MEASURE" ] ||
    ombud_die "no measure.sh in BENCH_HARNESS=$BENCH_HARNESS (the yardstick's harness)"
[ -f "$BENCH_HARNESS/wrk/create.lua" ] || ombud_die "no wrk scripts in $BENCH_HARNESS/wrk"
command -v wrk >/dev/null || {
    ombud_is_root || ombud_die "wrk is missing: apt-get install -y wrk"
    ombud_install_packages wrk
}
case $SEED_N in '' | *[!0-9]*) ombud_die "SEED_N must be a number" ;; esac
[ "$SEED_N" -ge 1000 ] || ombud_die "SEED_N must be at least 1000"
for c in $CONNS; do
    case $c in '' | *[!0-9]*) ombud_die "CONNS must be numbers" ;; esac
done

bench_init
mkdir -p -- "$RESULTS_DIR"
bench_build
bench_pg_start
bench_seed
bench_server_start "$RESULTS_DIR/ombud.log"
bench_smoke
if [ "$RULES" = 1 ]; then
    for rule in \
        '{"name":"bench: social media on intake","position":1,"trigger":"created","conditions":{"channels":["social"]},"actions":{"set_priority":"urgent"}}' \
        '{"name":"bench: social media breach","position":2,"trigger":"sla_breach","conditions":{"channels":["social"]},"actions":{"raise_level":true}}'; do
        curl -fsS -o /dev/null -H "Authorization: Bearer $BENCH_KEY" -H 'Content-Type: application/json' \
            "$BENCH_URL/v1/escalation-rules" -d "$rule" || ombud_die "RULES=1: could not add a rule"
    done
    bench_log "RULES=1: two escalation rules the load never matches"
fi

# --- RSS sampler -------------------------------------------------------------
# The server's VmRSS every 0.1 s ("epoch_s kib"), on the load generator's
# core: measure.sh reports one peak for the whole run, the summary wants
# one per operation and client count.
RSS_LOG="$RESULTS_DIR/rss.log"
(
    exec 2>/dev/null
    while kill -0 "$BENCH_SERVER_PID"; do
        while read -r k v _; do
            [ "$k" = VmRSS: ] && { printf '%s %s\n' "$EPOCHREALTIME" "$v"; break; }
        done <"/proc/$BENCH_SERVER_PID/status"
        sleep 0.1
    done
) >"$RSS_LOG" &
RSS_PID=$!
taskset -pc "$LOADGEN_CPU" "$RSS_PID" >/dev/null 2>&1 || true
stop_sampler() { kill "$RSS_PID" 2>/dev/null || true; wait "$RSS_PID" 2>/dev/null || true; }

# --- pgbench variables -----------------------------------------------------------
# prep=0: create.sql and transition.sql PREPARE their statements in the
# first transaction of each client (see pgbench/README.md).
PGBENCH_VARS="prep=0"

# --- measure ---------------------------------------------------------------------
bench_log "measuring: ops '$OPS', conns '$CONNS', ${DURATION}s each (results: ${RESULTS_DIR#"$OMBUD_ROOT"/})"
set +e
SERVER_PID=$BENCH_SERVER_PID SERVER_NAME=ombud OUT_DIR="$RESULTS_DIR" \
    SERVER_CPU="$SERVER_CPU" LOADGEN_CPU="$LOADGEN_CPU" SQL_CHECK="$SQL_CHECK" \
    OPS="$OPS" CONNS="$CONNS" DURATION="$DURATION" WARMUP="$WARMUP" \
    ID_MIN=1 ID_MAX="$SEED_N" TR_FIRST=1 TR_LAST="$SEED_N" \
    LIST_STATUS="$LIST_STATUS" LIST_LIMIT="$LIST_LIMIT" \
    PGBENCH_DIR="$BENCH_HERE/pgbench" PGBENCH_MODE=prepared PGBENCH_VARS="$PGBENCH_VARS" \
    setsid bash "$MEASURE" "$BENCH_URL" "$BENCH_KEY" "$BENCH_DB" 2> >(tee "$RESULTS_DIR/measure.log" >&2) &
BENCH_CHILD_PGID=$!
wait "$BENCH_CHILD_PGID"
measure_rc=$?
BENCH_CHILD_PGID=""
set -e
stop_sampler
[ "$measure_rc" = 0 ] || ombud_die "measure.sh failed (exit $measure_rc); see $RESULTS_DIR"
cp "$BENCH_PG_DIR/postgres.log" "$RESULTS_DIR/postgres.log" 2>/dev/null || true

# --- summary and BENCH lines -------------------------------------------------------
# Peak RSS of each wrk run: the samples between measure.sh's "op: wrk N
# connections" log line and its next line (second resolution).
rss_peak() { # op conns
    local t0 t1
    t0=$(grep -m1 "\] $1: wrk $2 connections" "$RESULTS_DIR/measure.log" | sed -E 's/^\[measure ([0-9:]+)\].*/\1/')
    [ -n "$t0" ] || { echo NA; return; }
    t1=$(grep -A1 -m1 "\] $1: wrk $2 connections" "$RESULTS_DIR/measure.log" | sed -n '2s/^\[measure \([0-9:]*\)\].*/\1/p')
    t0=$(date -d "$t0" +%s)
    if [ -n "$t1" ]; then t1=$(($(date -d "$t1" +%s) + 1)); else t1=$((t0 + DURATION + 2)); fi
    awk -v a="$t0" -v b="$t1" '$1 >= a && $1 < b && $2 > m { m = $2 } END { print m ? m : "NA" }' "$RSS_LOG"
}
git_rev=$(git -C "$OMBUD_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$OMBUD_ROOT" diff --quiet HEAD 2>/dev/null || git_rev="$git_rev+dirty"
hwm=$(sed -n 's/.*peak (VmHWM) \([0-9.]*\) MiB.*/\1/p' "$RESULTS_DIR/table.txt" | tail -1)
: >"$RESULTS_DIR/bench.jsonl"
{
    echo
    echo "ombud $git_rev: $SEED_N complaints, server + PostgreSQL on core $SERVER_CPU, wrk/pgbench on core $LOADGEN_CPU, ${DURATION}s runs, pgbench -M prepared"
    printf '%-10s %5s | %9s %8s %8s %9s %8s | %9s %8s %6s %4s\n' operation conns "req/s" "p50 ms" \
        "p99 ms" "RSS MiB" "core us" "pgb tps" "core us" ratio same
    printf '%s\n' "-----------------+---------------------------------------------+-----------------------------"
} | tee "$RESULTS_DIR/summary.txt"
# The server core's busy time per answer (wrk) and per transaction
# (pgbench), in microseconds: measure.sh's busy % of that core over the
# run, over the rate. Unlike the rates it leaves out the time the core
# sat idle waiting for the disk, so it is the steadier figure to compare
# builds by on a machine whose fsync latency wanders.
per_op_us() { # busy% rate
    awk -v b="$1" -v r="$2" 'BEGIN { if (b == "" || b == "NA" || r == "" || r == "NA" || r + 0 <= 0) print "NA"; else printf "%.0f", b * 10000 / r }'
}
while IFS=$'\t' read -r op c _rps okrps p50 p99 non2xx sockerr ws _wg tps pp50 pp99 failed ps _pg ratio same; do
    rss=$(rss_peak "$op" "$c")
    rss_mib=$(awk -v k="$rss" 'BEGIN { if (k == "NA") print "NA"; else printf "%.1f", k / 1024 }')
    core_us=$(per_op_us "$ws" "$okrps")
    pgb_core_us=$(per_op_us "$ps" "$tps")
    printf '%-10s %5s | %9s %8s %8s %9s %8s | %9s %8s %6s %4s\n' "$op" "$c" "$okrps" "$p50" "$p99" \
        "$rss_mib" "$core_us" "$tps" "$pgb_core_us" "$ratio" "$same" | tee -a "$RESULTS_DIR/summary.txt"
    # NA becomes null; numbers stay numbers.
    jq -cn --arg op "$op" --arg c "$c" --arg rps "$okrps" --arg p50 "$p50" --arg p99 "$p99" \
        --arg rss "$rss" --arg tps "$tps" --arg pp50 "$pp50" --arg pp99 "$pp99" \
        --arg ratio "$ratio" --arg non2xx "$non2xx" --arg sockerr "$sockerr" \
        --arg failed "$failed" --arg same "$same" --arg rev "$git_rev" --arg seed "$SEED_N" \
        --arg dur "$DURATION" --arg cus "$core_us" --arg pcus "$pgb_core_us" '
        def n: if . == "NA" or . == "" then null else tonumber end;
        {op: $op, conns: ($c | n), rps: ($rps | n), p50_ms: ($p50 | n), p99_ms: ($p99 | n),
         rss_peak_kib: ($rss | n), core_us_per_req: ($cus | n), pgbench_tps: ($tps | n),
         pgbench_p50_ms: ($pp50 | n), pgbench_p99_ms: ($pp99 | n),
         pgbench_core_us_per_tx: ($pcus | n), ratio: ($ratio | n), non2xx: ($non2xx | n),
         socket_errors: ($sockerr | n), pgbench_failed: ($failed | n), same_sql: $same,
         duration_s: ($dur | n), seed: ($seed | n), worker_permyriad: null, rev: $rev}' \
        >>"$RESULTS_DIR/bench.jsonl"
done < <(tail -n +2 "$RESULTS_DIR/results.tsv")
echo "req/s: 2xx answers per second; RSS: ombud's peak VmRSS during the wrk run (whole-run VmHWM ${hwm:-NA} MiB); core us: the server core's busy microseconds per answer / per pgbench transaction; ratio = req/s / pgbench tps of the same SQL" |
    tee -a "$RESULTS_DIR/summary.txt"
echo
sed 's/^/BENCH /' "$RESULTS_DIR/bench.jsonl"
echo "raw output: ${RESULTS_DIR#"$OMBUD_ROOT"/}"
grep -q . "$RESULTS_DIR/bench.jsonl" || ombud_die "no results"
if grep -qv '"same_sql":"yes"' "$RESULTS_DIR/bench.jsonl" && [ "$SQL_CHECK" = 1 ]; then
    ombud_die "the SQL check failed for some operation: the pgbench scripts no longer issue Ombud's statements (bench/sql-capture.sh, bench/pgbench/README.md)"
fi
