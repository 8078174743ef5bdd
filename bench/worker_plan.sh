#!/usr/bin/env bash
# Loads N open complaints (default 1,000,000) with SLA clocks whose next
# alerts are spread over the next 30 days, a few thousand of them due now,
# and shows how the SLA worker's queries behave at that size:
#
#  - EXPLAIN (ANALYZE, BUFFERS) of the worker's claim query (q_due) and of
#    its planning query (q_next), taken verbatim from src/db/sla_clocks.c,
#    as a custom and as a generic plan (the server prepares its statements,
#    so after five executions PostgreSQL may switch to the generic one);
#  - how long `ombud serve` (release build, OMBUD_LOG_LEVEL=debug) takes
#    to drain the due clocks: alerts per second and time per 200-clock
#    pass, from the alerts' own created_at (clock_timestamp() at insert)
#    grouped by the transaction that inserted them (one per pass);
#  - the same plans once the due clocks are drained (the steady state:
#    nothing due, the drained clocks' old index entries not yet vacuumed).
#
#   bench/worker_plan.sh [rows] [due]
#
# Uses its own cluster (.ombud/pg-bench, like bench/search_plan.sh) and a
# database of its own (ombud_bench_worker). Not part of the test suite:
# loading a million complaints and two million clocks takes minutes.
set -euo pipefail
rows=${1:-1000000}
due=${2:-5000}
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
cd "$OMBUD_ROOT"
case $rows$due in *[!0-9]*) ombud_die "usage: bench/worker_plan.sh [rows] [due]" ;; esac
if [ "$due" -lt 2 ] || [ "$rows" -lt "$due" ]; then ombud_die "need rows >= due >= 2"; fi
step=$((rows / due))
due=$((rows / step)) # complaints i with i % step = 0

ombud_setup_packages run
ombud_build release Release -DBUILD_TESTING=OFF
export OMBUD_PG_DIR="$OMBUD_STATE/pg-bench"
was_running=0
"$root/scripts/pg" status >/dev/null 2>&1 && was_running=1
"$root/scripts/pg" ensure
base=$("$root/scripts/pg" url)
psql_bin=$(ombud_pg_bindir)/psql
dbname=ombud_bench_worker
db="${base}${dbname}"
srv_pid=""
srv_log="$OMBUD_STATE/worker-bench.log"
plans_before="$OMBUD_STATE/worker-bench-plans-due.txt"
plans_after="$OMBUD_STATE/worker-bench-plans-idle.txt"

cleanup() {
    if [ -n "$srv_pid" ] && kill -0 "$srv_pid" 2>/dev/null; then
        kill -TERM "$srv_pid" 2>/dev/null || true
        wait "$srv_pid" 2>/dev/null || true
    fi
    if [ "$was_running" = 0 ]; then
        "$root/scripts/pg" stop || true
    fi
}
trap cleanup EXIT

psql_q() { "$psql_bin" -X -q -v ON_ERROR_STOP=1 "$db" "$@"; }
psql_v() { "$psql_bin" -X -qAt -v ON_ERROR_STOP=1 "$db" -c "$1"; }

q_due=$(bench_worker_sql q_due)
q_next=$(bench_worker_sql q_next)
case $q_due in *"FROM sla_clocks k JOIN complaints c"*"SKIP LOCKED"*) ;;
    *) ombud_die "could not read q_due from src/db/sla_clocks.c (got: $q_due)" ;; esac
case $q_next in *"min(next_alert_at)"*) ;;
    *) ombud_die "could not read q_next from src/db/sla_clocks.c (got: $q_next)" ;; esac

"$psql_bin" -X -q -v ON_ERROR_STOP=1 "${base}postgres" \
    -c "DROP DATABASE IF EXISTS $dbname WITH (FORCE)" -c "CREATE DATABASE $dbname"
OMBUD_DATABASE_URL="$db" "$root/build/release/ombud" migrate >/dev/null

echo "inserting $rows complaints, $((2 * rows)) clocks ($due due now)..."
start=$(date +%s)
psql_q -v rows="$rows" -v step="$step" <<'SQL'
SET maintenance_work_mem = '1GB';
-- The worker never reads complaints' text: no search grams
-- (complaint_search) for these.
-- 1 day to first response, 40 days to resolution, one warning at 80 %,
-- 24x7: long enough that every clock started in the past.
INSERT INTO sla_policies (id, name, position, first_response_minutes, resolution_minutes,
                          warnings, calendar_id)
    VALUES (2, 'Bench', 0, 1440, 57600, '[{"percent": 80}]', 1);
SELECT setval(pg_get_serial_sequence('sla_policies', 'id'), 2) AS ignored \gset
SELECT extract(epoch FROM date_trunc('second', now()))::bigint AS t0 \gset
-- next_at: the resolution clock's next alert. Complaint i with
-- i % step = 0 is due now (within the last 10 minutes): the even ones
-- with their 80 % warning, the odd ones with their breach (the warning
-- raised long ago). The rest: the warning, from 1 h to 30 days ahead.
CREATE TEMP TABLE plan AS
SELECT i, next_at, form,
       next_at - CASE form WHEN 'b' THEN 3456000 ELSE 2764800 END AS start
  FROM (SELECT i,
               CASE WHEN i % :step = 0 THEN :t0 - i % 600
                    ELSE :t0 + 3600 + (i::bigint * 7919) % (30 * 86400 - 3600) END AS next_at,
               CASE WHEN i % :step = 0 AND (i / :step) % 2 = 1 THEN 'b' ELSE 'w' END AS form
          FROM generate_series(1, :rows) i) p;
INSERT INTO complaints (id, title, description, customer_name, priority, status, created_at,
                        updated_at, first_response_at, sla_policy_id, resolution_cycle)
OVERRIDING SYSTEM VALUE
SELECT i, 'Complaint #' || i, 'Loaded for the SLA worker benchmark.', 'Customer ' || (i % 50000),
       (ARRAY['low', 'normal', 'high', 'urgent'])[1 + i % 4], 'in_progress',
       to_timestamp(start), to_timestamp(start + 3600), to_timestamp(start + 3600), 2, 1
  FROM plan;
SELECT setval(pg_get_serial_sequence('complaints', 'id'), :rows) AS ignored \gset
-- Resolution: running, one warning at 80 % of 40 days.
INSERT INTO sla_clocks (complaint_id, target, cycle, policy_id, calendar_id, target_seconds,
                        elapsed_seconds, running_since, due_at, met_at, breached,
                        breach_raised_at, warnings, next_alert_at)
SELECT i, 'resolution', 1, 2, 1, 3456000, 0, to_timestamp(start), to_timestamp(start + 3456000),
       NULL, false, NULL,
       jsonb_build_array(jsonb_build_object('level', 1, 'threshold', 2764800,
                                            'at', start + 2764800,
                                            'raised_at', CASE form WHEN 'b' THEN start + 2764800
                                                                   ELSE 0 END)),
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
VACUUM (ANALYZE) complaints, sla_clocks;
SQL
echo "loaded in $(( $(date +%s) - start )) s"
psql_q <<'SQL'
SELECT count(*) AS clocks,
       count(next_alert_at) AS in_partial_index,
       count(*) FILTER (WHERE next_alert_at <= now()) AS due_now,
       min(next_alert_at) AS earliest, max(next_alert_at) AS latest
  FROM sla_clocks;
SELECT pg_size_pretty(pg_relation_size('sla_clocks')) AS clocks_heap,
       pg_size_pretty(pg_relation_size('sla_clocks_next_alert')) AS next_alert_index;
SQL

# EXPLAIN of the worker's statements, prepared as the server prepares
# them; q_due runs in a transaction that is rolled back (it locks rows).
explain_worker() {
    local now
    now=$(psql_v "SELECT extract(epoch FROM now())::bigint")
    for mode in force_custom_plan force_generic_plan; do
        echo "---- q_due, $mode (\$1 = now, \$2 = 200)"
        psql_q <<SQL
SET plan_cache_mode = $mode;
PREPARE q_due AS $q_due;
BEGIN;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE q_due($now, 200);
ROLLBACK;
SQL
    done
    echo "---- q_next"
    psql_q <<SQL
PREPARE q_next AS $q_next;
EXPLAIN (ANALYZE, BUFFERS) EXECUTE q_next;
SQL
}

echo
echo "==== q_due as the server writes it:"
echo "$q_due"
echo "==== q_next:"
echo "$q_next"
echo
echo "==== plans with $due clocks due"
explain_worker | tee "$plans_before"

# The "Execution Time" figures of explain_worker's output, in order:
# q_due custom, q_due generic, q_next.
exec_times() { grep -oE 'Execution Time: [0-9.]+' "$1" | grep -oE '[0-9.]+$'; }

# ---- the drain ----
port=$(ombud_free_port 47100 47999) || ombud_die "no free port in 47100-47999"
: >"$srv_log"
echo
echo "==== draining: ombud serve on 127.0.0.1:$port (log: .ombud/worker-bench.log)"
launch=$(date +%s.%N)
OMBUD_DATABASE_URL="$db" OMBUD_LISTEN="127.0.0.1:$port" OMBUD_LOG_LEVEL=debug \
    "$root/build/release/ombud" serve >>"$srv_log" 2>&1 &
srv_pid=$!
n=0
deadline=$(( $(date +%s) + 600 ))
last_report=0
while :; do
    n=$(psql_v "SELECT count(*) FROM alerts")
    now_s=$(date +%s)
    if [ "$n" -ge "$due" ]; then break; fi
    kill -0 "$srv_pid" 2>/dev/null || { tail -n 30 "$srv_log"; ombud_die "the server exited"; }
    [ "$now_s" -lt "$deadline" ] || { tail -n 30 "$srv_log"; ombud_die "not drained after 600 s ($n of $due alerts)"; }
    if [ "$now_s" != "$last_report" ]; then
        printf '  %6.1f s: %s alerts\n' "$(awk -v a="$(date +%s.%N)" -v b="$launch" 'BEGIN { print a - b }')" "$n"
        last_report=$now_s
    fi
    sleep 0.2
done
printf '  %6.1f s: %s alerts (all)\n' "$(awk -v a="$(date +%s.%N)" -v b="$launch" 'BEGIN { print a - b }')" "$n"
sleep 2 # anything beyond the due clocks would show up now
passes_logged=$(grep -c '"event":"sla_worker","msg":"raised ' "$srv_log" || true)
psql_q -v launch="$launch" <<'SQL'
\echo '---- the drain, from the alerts table'
SELECT count(*) AS alerts,
       count(*) FILTER (WHERE kind = 'sla_warning') AS warnings,
       count(*) FILTER (WHERE kind = 'sla_breach') AS breaches,
       count(*) - count(DISTINCT (complaint_id, target, cycle, kind, level)) AS duplicates,
       round(extract(epoch FROM min(created_at) - to_timestamp(:launch))::numeric, 3)
           AS first_alert_after_launch_s,
       round(extract(epoch FROM max(created_at) - min(created_at))::numeric, 3) AS drain_s,
       round((count(*) / nullif(extract(epoch FROM max(created_at) - min(created_at)), 0))::numeric)
           AS alerts_per_s
  FROM alerts;
SELECT count(*) AS still_due FROM sla_clocks WHERE next_alert_at <= now();
SELECT count(*) AS timeline_events FROM complaint_events
 WHERE kind IN ('sla_warning', 'sla_breached');
\echo '---- passes (one transaction each): size, time inside the pass, time between pass starts'
WITH p AS (
    SELECT xmin::text::bigint AS tx, count(*) AS n, min(created_at) AS t_first,
           max(created_at) AS t_last
      FROM alerts GROUP BY 1),
q AS (
    SELECT n, extract(epoch FROM t_last - t_first) * 1000 AS inside_ms,
           extract(epoch FROM lead(t_first) OVER (ORDER BY t_first) - t_first) * 1000 AS cycle_ms
      FROM p)
SELECT count(*) AS passes, min(n) AS min_clocks, max(n) AS max_clocks,
       round(avg(inside_ms) FILTER (WHERE n = 200)::numeric, 1) AS avg_inside_ms,
       round(max(inside_ms)::numeric, 1) AS max_inside_ms,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY cycle_ms)::numeric, 1) AS p50_cycle_ms,
       round(max(cycle_ms)::numeric, 1) AS max_cycle_ms,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY cycle_ms) / 200)::numeric, 3)
           AS ms_per_clock
  FROM q;
SQL
echo "passes that raised alerts, from the server's debug log: $passes_logged"

# Summary figures, for the last lines.
read -r s_alerts s_dups s_drain s_rate s_first <<<"$(psql_v "
SELECT count(*), count(*) - count(DISTINCT (complaint_id, target, cycle, kind, level)),
       round(extract(epoch FROM max(created_at) - min(created_at))::numeric, 2),
       round((count(*) / nullif(extract(epoch FROM max(created_at) - min(created_at)), 0))::numeric),
       round(extract(epoch FROM min(created_at) - to_timestamp($launch))::numeric, 2)
  FROM alerts" | tr '|' ' ')"
read -r s_passes s_cycle <<<"$(psql_v "
WITH p AS (SELECT xmin::text::bigint AS tx, min(created_at) AS t FROM alerts GROUP BY 1)
SELECT count(*), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY d)::numeric, 1)
  FROM (SELECT extract(epoch FROM lead(t) OVER (ORDER BY t) - t) * 1000 AS d FROM p) x" | tr '|' ' ')"

echo
echo "==== plans after the drain (nothing due; $due clocks rewritten, not yet vacuumed)"
explain_worker | tee "$plans_after"
kill -TERM "$srv_pid"
rc=0
wait "$srv_pid" || rc=$?
srv_pid=""
echo
echo "==== summary"
echo "  complaints:          $rows open, $((2 * rows)) clocks, $rows in the partial index, $due due"
echo "  alerts raised:       $s_alerts (expected $due), duplicates $s_dups"
echo "  first alert:         ${s_first} s after launching the server"
echo "  drain:               ${s_drain} s first to last alert, ${s_rate} alerts/s"
echo "  passes:              $s_passes (up to 200 clocks each), median ${s_cycle} ms per pass"
echo "  q_due execution:     $(exec_times "$plans_before" | sed -n 1,2p | paste -sd/) ms custom/generic with $due due;"
echo "                       $(exec_times "$plans_after" | sed -n 1,2p | paste -sd/) ms custom/generic after the drain"
echo "  q_next execution:    $(exec_times "$plans_before" | sed -n 3p) ms with $due due, $(exec_times "$plans_after" | sed -n 3p) ms after"
echo "  server exit status:  $rc"
[ "$s_alerts" = "$due" ] && [ "$s_dups" = 0 ] && [ "$rc" = 0 ]
