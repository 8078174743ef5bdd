#!/usr/bin/env bash
# The SLA worker at scale: for each size, N open complaints whose clocks
# fall due from an hour to 30 days ahead, then DUE of them (default 2,000)
# moved to moments spread over the next minute, while `ombud serve` runs.
# For each size it reports
#
#  - alert lag: each alert's created_at (clock_timestamp() at its insert)
#    minus its scheduled moment, p50/p99/max over the DUE alerts;
#  - tick cost: the passes that claimed clocks, from the server's own
#    debug lines (src/worker/sla_pass.c): the whole pass (tick_ms), its
#    claim query (claim_ms), its commit (commit_ms: the WAL flush, which
#    a shared disk stretches) and the rest (work_ms = tick - commit), mean
#    and p99; and the mean execution times of the
#    worker's claim (q_due) and planning (q_next) statements from
#    pg_stat_statements;
#  - EXPLAIN (ANALYZE, BUFFERS) of q_due, custom and generic, and of
#    q_next, taken verbatim from src/db/sla_clocks.c (plans-<N>.txt),
#
# and prints one line per size, then the ratio of the largest size's tick
# cost to the smallest's:
#
#   WORKER {"open":1000000,"due":2000,"lag_p50_ms":...,"lag_p99_ms":...,"tick_ms_mean":...,...}
#   WORKER_RATIO {"open":[10000,1000000],"tick_ms_mean":1.1,...}
#
#   bench/worker_lag.sh [open ...]     default: 10000 1000000
#
# Knobs (environment): DUE=2000 moments, SPREAD=60 seconds they spread
# over, LEAD=5 seconds from the update to the first moment, SERVER_CPU=0
# (server and PostgreSQL pinned there). The cluster is bench/common.sh's
# (fresh under .ombud/bench-pg, pg_stat_statements preloaded, removed at
# exit); raw output stays in .ombud/worker-lag/<time>/. One million
# complaints (two million clocks) load in a few minutes: COPY-like
# INSERT ... SELECT from generate_series, triggers and foreign-key checks
# off (session_replication_role) and the search index dropped.
set -euo pipefail
# shellcheck source=bench/common.sh
. "$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)/common.sh"
cd "$OMBUD_ROOT"

SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(10000 1000000)
DUE=${DUE:-2000}
SPREAD=${SPREAD:-60}
LEAD=${LEAD:-5}
for v in "${SIZES[@]}" "$DUE" "$SPREAD" "$LEAD"; do
    case $v in '' | *[!0-9]*) ombud_die "usage: bench/worker_lag.sh [open ...] (integers)" ;; esac
done
for n in "${SIZES[@]}"; do
    [ "$n" -ge "$DUE" ] || ombud_die "each size needs at least DUE=$DUE complaints"
done
if [ "$DUE" -lt 2 ] || [ "$SPREAD" -lt 1 ]; then ombud_die "need DUE >= 2 and SPREAD >= 1"; fi
OUT="$OMBUD_STATE/worker-lag/$(date +%Y%m%d-%H%M%S)"

bench_init
mkdir -p -- "$OUT"
bench_build
bench_pg_start
export OMBUD_LOG_LEVEL=debug # the passes' cost lines

q_due=$(bench_worker_sql q_due)
q_next=$(bench_worker_sql q_next)
case $q_due in *"FROM sla_clocks k JOIN complaints c"*"SKIP LOCKED"*) ;;
    *) ombud_die "could not read q_due from src/db/sla_clocks.c (got: $q_due)" ;; esac
case $q_next in *"next_alert_at"*) ;;
    *) ombud_die "could not read q_next from src/db/sla_clocks.c (got: $q_next)" ;; esac

bench_q() { psql "$BENCH_DB_SERVER" -X -q -v ON_ERROR_STOP=1 "$@"; }

# Nearest-rank percentile p (0-100) of the numbers on stdin; empty input: null.
pct() { sort -g | awk -v p="$1" '{ v[NR] = $1 } END {
    if (!NR) { print "null"; exit } i = int((p * NR + 99) / 100); if (i < 1) i = 1; print v[i] }'; }
mean() { awk '{ s += $1 } END { if (NR) printf "%.3f\n", s / NR; else print "null" }'; }

load() { # open
    local n=$1 t0
    psql "$BENCH_PG_ADMIN" -X -q -v ON_ERROR_STOP=1 \
        -c 'DROP DATABASE IF EXISTS ombud WITH (FORCE)' -c 'CREATE DATABASE ombud' >/dev/null
    OMBUD_DATABASE_URL="$BENCH_DB_SERVER" "$BENCH_BIN" migrate >/dev/null
    bench_q -c 'CREATE EXTENSION pg_stat_statements' >/dev/null
    bench_log "loading $n open complaints, $((2 * n)) clocks"
    t0=$(date +%s)
    bench_q -v rows="$n" <<'SQL'
SET maintenance_work_mem = '512MB';
-- Triggers and foreign-key checks off: the rows are consistent by
-- construction. The worker never reads complaints' text, so the search
-- index (a function per row) goes too.
SET session_replication_role = replica;
DROP INDEX IF EXISTS complaints_search;
-- 1 day to first response, 40 days to resolution, one warning at 80 %,
-- 24x7: long enough that every clock started in the past.
INSERT INTO sla_policies (id, name, position, first_response_minutes, resolution_minutes,
                          warnings, calendar_id)
    VALUES (2, 'Bench', 0, 1440, 57600, '[{"percent": 80}]', 1);
SELECT setval(pg_get_serial_sequence('sla_policies', 'id'), 2) AS ignored \gset
SELECT extract(epoch FROM date_trunc('second', now()))::bigint AS t0 \gset
-- The resolution clock's next alert (its 80 % warning), from 1 h to
-- 30 days ahead, so none falls due on its own during a run.
CREATE TEMP TABLE plan AS
SELECT i, next_at, next_at - 2764800 AS start
  FROM (SELECT i, :t0 + 3600 + (i::bigint * 7919) % (30 * 86400 - 3600) AS next_at
          FROM generate_series(1, :rows) i) p;
INSERT INTO complaints (id, title, description, customer_name, priority, status, created_at,
                        updated_at, first_response_at, sla_policy_id, resolution_cycle)
OVERRIDING SYSTEM VALUE
SELECT i, 'Complaint #' || i, 'Loaded for the SLA worker benchmark.', 'Customer ' || (i % 50000),
       (ARRAY['low', 'normal', 'high', 'urgent'])[1 + i % 4], 'in_progress',
       to_timestamp(start), to_timestamp(start + 3600), to_timestamp(start + 3600), 2, 1
  FROM plan;
SELECT setval(pg_get_serial_sequence('complaints', 'id'), :rows) AS ignored \gset
INSERT INTO sla_clocks (complaint_id, target, cycle, policy_id, calendar_id, target_seconds,
                        elapsed_seconds, running_since, due_at, met_at, breached,
                        breach_raised_at, warnings, next_alert_at)
SELECT i, 'resolution', 1, 2, 1, 3456000, 0, to_timestamp(start), to_timestamp(start + 3456000),
       NULL, false, NULL,
       jsonb_build_array(jsonb_build_object('level', 1, 'threshold', 2764800, 'at', next_at,
                                            'raised_at', 0)),
       to_timestamp(next_at)
  FROM plan;
-- First response: met an hour after the start, so outside the worker's
-- partial index (next_alert_at IS NULL), as on a real, mostly answered book.
INSERT INTO sla_clocks (complaint_id, target, cycle, policy_id, calendar_id, target_seconds,
                        elapsed_seconds, running_since, due_at, met_at, breached,
                        breach_raised_at, warnings, next_alert_at)
SELECT i, 'first_response', 1, 2, 1, 86400, 3600, NULL, to_timestamp(start + 86400),
       to_timestamp(start + 3600), false, NULL,
       '[{"level": 1, "threshold": 69120, "at": 0, "raised_at": 0}]', NULL
  FROM plan;
-- The complaints' copies of their current clocks (migrations/0018), as
-- the server writes them with each clock.
SELECT ombud_clock_copy_refresh(NULL) AS ignored \gset
RESET session_replication_role;
VACUUM (ANALYZE) complaints, sla_clocks;
SQL
    bench_log "loaded in $(($(date +%s) - t0)) s: $(bench_q -Atc "SELECT pg_size_pretty(pg_relation_size('sla_clocks'))") clocks heap, $(bench_q -Atc "SELECT pg_size_pretty(pg_relation_size('sla_clocks_next_alert'))") next_alert index"
}

# The DUE clocks that fall due, one in every step-th complaint, as rows
# (complaint id, moment): moment k at t0 + floor(k * SPREAD / DUE), so
# about DUE / SPREAD of them share each second. Even k: the 80 % warning
# is due; odd k: the breach (the warning raised long ago).
due_rows() { # open t0
    local step=$(($1 / DUE))
    echo "SELECT k, (k + 1) * $step AS cid, $2 + (k * $SPREAD) / $DUE AS m
            FROM generate_series(0, $DUE - 1) k"
}

explain() { # open t_probe
    local mode
    for mode in force_custom_plan force_generic_plan; do
        echo "---- q_due, $mode (\$1 = $2, \$2 = 200)"
        bench_q <<SQL
SET plan_cache_mode = $mode;
PREPARE q_due AS $q_due;
BEGIN;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE q_due($2, 200);
ROLLBACK;
SQL
    done
    # What the server gets (plan_cache_mode auto): after five custom plans
    # PostgreSQL may keep a generic one; "\$1" in the plan shows which.
    echo "---- q_due, auto after 6 executions (\$1 = $2, \$2 = 200)"
    bench_q <<SQL
PREPARE q_due AS $q_due;
BEGIN;
$(for _ in 1 2 3 4 5 6; do echo "EXECUTE q_due($2, 200) \\g /dev/null"; done)
EXPLAIN (ANALYZE, BUFFERS) EXECUTE q_due($2, 200);
ROLLBACK;
SQL
    echo "---- q_next, auto after 6 executions"
    bench_q <<SQL
PREPARE q_next AS $q_next;
$(for _ in 1 2 3 4 5 6; do echo "EXECUTE q_next \\g /dev/null"; done)
EXPLAIN (ANALYZE, BUFFERS) EXECUTE q_next;
SQL
}

# pss regex: mean execution ms and calls of the statements matching it.
pss() { # psql interpolates :'pat' only in what it reads, not in -c
    bench_q -AtF ' ' -v pat="$1" <<'SQL'
SELECT coalesce(round(sum(total_exec_time)::numeric / nullif(sum(calls), 0), 3), 0),
       coalesce(sum(calls), 0)
  FROM pg_stat_statements WHERE query ~ :'pat'
SQL
}

results=()
run_size() { # open
    local n=$1 log="$OUT/server-$1.log" plans="$OUT/plans-$1.txt" t0 from deadline got
    load "$n"
    bench_server_start "$log"
    sleep 1 # its first (empty) pass
    bench_q -c 'SELECT pg_stat_statements_reset()' \
        -c "ALTER SYSTEM SET pg_stat_statements.track = 'top'" -c 'SELECT pg_reload_conf()' \
        >/dev/null
    from=$(($(wc -l <"$log") + 1))
    t0=$(($(date +%s) + LEAD))
    # Resolution clocks with the moment m: a warning at m (started m - 80 %
    # of 40 days ago) or a breach at m (the warning raised 8 days before),
    # and their complaints' copies of them (migrations/0018).
    # NOTIFY ombud_sla wakes every worker, as after any out-of-band change.
    bench_q <<SQL
BEGIN;
UPDATE sla_clocks k
   SET running_since = to_timestamp(d.m - CASE WHEN d.k % 2 = 0 THEN 2764800 ELSE 3456000 END),
       due_at = to_timestamp(d.m + CASE WHEN d.k % 2 = 0 THEN 691200 ELSE 0 END),
       warnings = jsonb_build_array(jsonb_build_object(
           'level', 1, 'threshold', 2764800,
           'at', CASE WHEN d.k % 2 = 0 THEN d.m ELSE d.m - 691200 END,
           'raised_at', CASE WHEN d.k % 2 = 0 THEN 0 ELSE d.m - 691200 END)),
       next_alert_at = to_timestamp(d.m), updated_at = now()
  FROM ($(due_rows "$n" "$t0")) d
 WHERE k.complaint_id = d.cid AND k.target = 'resolution' AND k.cycle = 1;
-- The copies of the moved clocks, in ombud_clock_copy_refresh's words
-- (migrations/0018) but joined by id: the function, given ids, tests
-- every complaint against the array (about 1.5 s for 2,000 ids at 100,000
-- complaints, ten times that at a million), longer than LEAD.
UPDATE complaints c SET rs_clock = ombud_clock_text(s)
  FROM sla_clocks s, ($(due_rows "$n" "$t0")) d
 WHERE c.id = d.cid AND s.complaint_id = c.id AND s.target = 'resolution'
   AND s.cycle = c.resolution_cycle;
NOTIFY ombud_sla;
COMMIT;
SQL
    bench_log "$n open: $DUE moments from $(date -d "@$t0" +%T) over ${SPREAD} s"
    # The plans while they wait: q_due as at the middle of the minute.
    explain "$n" $((t0 + SPREAD / 2)) >"$plans"
    deadline=$((t0 + SPREAD + 30))
    while :; do
        got=$(bench_q -Atc 'SELECT count(*) FROM alerts')
        [ "$got" -ge "$DUE" ] && break
        kill -0 "$BENCH_SERVER_PID" 2>/dev/null || { tail -n 30 "$log" >&2; ombud_die "ombud exited"; }
        [ "$(date +%s)" -lt "$deadline" ] ||
            ombud_die "$n open: $got of $DUE alerts $((SPREAD + 30)) s after the first moment"
        sleep 1
    done
    sleep 1
    bench_q -c "ALTER SYSTEM SET pg_stat_statements.track = 'none'" -c 'SELECT pg_reload_conf()' \
        >/dev/null

    local lag dups passes claims stmt_due stmt_next
    # lag_p50 lag_p99 lag_max alerts duplicates
    read -r -a lag <<<"$(bench_q -AtF ' ' -c "
        WITH l AS (SELECT extract(epoch FROM created_at - scheduled_at) * 1000 AS ms FROM alerts)
        SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
               round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1),
               round(max(ms)::numeric, 1), count(*) FROM l")"
    dups=$(bench_q -Atc "SELECT count(*) - count(DISTINCT (complaint_id, target, cycle, kind, level))
                           FROM alerts")
    # The passes that claimed clocks, "clocks claim_ms pass_ms commit_ms
    # work_ms" per line (work: the pass without its commit).
    tail -n +"$from" "$log" | jq -Rr 'fromjson? | select(.event == "sla_pass") | .msg' |
        sed -nE 's/^pass: ([0-9]+) clocks, [0-9]+ alerts, claim ([0-9.]+) ms, pass ([0-9.]+) ms, commit ([0-9.]+) ms$/\1 \2 \3 \4/p' |
        awk '$1 > 0 { printf "%s %s %s %s %.3f\n", $1, $2, $3, $4, $3 - $4 }' >"$OUT/passes-$n.txt"
    passes=$(wc -l <"$OUT/passes-$n.txt")
    [ "$passes" -gt 0 ] || ombud_die "no pass lines in $log (OMBUD_LOG_LEVEL=debug; src/worker/sla_pass.c)"
    claims=$(awk '{ s += $1 } END { print s + 0 }' "$OUT/passes-$n.txt")
    # mean exec ms and calls of q_due and q_next
    read -r -a stmt_due <<<"$(pss '^SELECT k\.complaint_id, .* FROM sla_clocks k JOIN complaints c ON .* WHERE k\.next_alert_at <=.*SKIP LOCKED')"
    read -r -a stmt_next <<<"$(pss '^SELECT .*next_alert_at.* FROM sla_clocks WHERE next_alert_at IS NOT NULL')"
    bench_server_stop

    local line
    line=$(jq -cn --argjson open "$n" --argjson due "$DUE" --argjson alerts "${lag[3]}" \
        --argjson dups "$dups" --argjson p50 "${lag[0]}" --argjson p99 "${lag[1]}" \
        --argjson max "${lag[2]}" --argjson passes "$passes" --argjson claims "$claims" \
        --argjson tmean "$(awk '{ print $3 }' "$OUT/passes-$n.txt" | mean)" \
        --argjson tp99 "$(awk '{ print $3 }' "$OUT/passes-$n.txt" | pct 99)" \
        --argjson cmean "$(awk '{ print $2 }' "$OUT/passes-$n.txt" | mean)" \
        --argjson cp99 "$(awk '{ print $2 }' "$OUT/passes-$n.txt" | pct 99)" \
        --argjson wmean "$(awk '{ print $5 }' "$OUT/passes-$n.txt" | mean)" \
        --argjson wp99 "$(awk '{ print $5 }' "$OUT/passes-$n.txt" | pct 99)" \
        --argjson kmean "$(awk '{ print $4 }' "$OUT/passes-$n.txt" | mean)" \
        --argjson kp99 "$(awk '{ print $4 }' "$OUT/passes-$n.txt" | pct 99)" \
        --argjson dmean "${stmt_due[0]}" --argjson dcalls "${stmt_due[1]}" \
        --argjson nmean "${stmt_next[0]}" --argjson ncalls "${stmt_next[1]}" '
        {open: $open, due: $due, alerts: $alerts, duplicates: $dups,
         lag_p50_ms: $p50, lag_p99_ms: $p99, lag_max_ms: $max,
         passes: $passes, clocks_per_pass: (($claims / $passes) * 10 | round / 10),
         tick_ms_mean: $tmean, tick_ms_p99: $tp99, claim_ms_mean: $cmean, claim_ms_p99: $cp99,
         work_ms_mean: $wmean, work_ms_p99: $wp99, commit_ms_mean: $kmean, commit_ms_p99: $kp99,
         q_due_ms_mean: $dmean, q_due_calls: $dcalls, q_next_ms_mean: $nmean,
         q_next_calls: $ncalls}')
    echo "WORKER $line" | tee -a "$OUT/worker.jsonl"
    results+=("$line")
    if [ "${lag[3]}" != "$DUE" ] || [ "$dups" != 0 ]; then
        bench_log "warning: $n open: ${lag[3]} alerts for $DUE moments, $dups duplicates"
    fi
}

for n in "${SIZES[@]}"; do run_size "$n"; done

echo
for n in "${SIZES[@]}"; do
    echo "==== plans at $n open (q_due as in the middle of the minute)"
    grep -E '^----|Limit|Scan|LockRows|Sort|Aggregate|InitPlan|Result|Index Cond|Planning Time|Execution Time' \
        "$OUT/plans-$n.txt" | sed 's/^/  /'
done
echo
echo "(raw output: ${OUT#"$OMBUD_ROOT"/})"
if [ ${#results[@]} -ge 2 ]; then
    printf '%s\n' "${results[0]}" "${results[-1]}" | jq -cs '
        def r(k): if .[0][k] > 0 then ((.[1][k] / .[0][k]) * 100 | round / 100) else null end;
        {open: [.[0].open, .[1].open], tick_ms_mean: r("tick_ms_mean"),
         tick_ms_p99: r("tick_ms_p99"), work_ms_mean: r("work_ms_mean"),
         work_ms_p99: r("work_ms_p99"), claim_ms_mean: r("claim_ms_mean"),
         q_due_ms_mean: r("q_due_ms_mean"), q_next_ms_mean: r("q_next_ms_mean"),
         lag_p99_ms: r("lag_p99_ms")}' | sed 's/^/WORKER_RATIO /'
fi
