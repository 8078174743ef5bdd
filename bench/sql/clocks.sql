-- The SLA clocks of the complaints whose ids are in the temporary table
-- bench_ids, as Ombud would hold them today for each complaint's status
-- and history: included by seed.sql and by pgbench/transition-reset.sql.
--
-- The default policy (migrations/0004: 240 min to first response, 2880 min
-- to resolution, one warning at 80 %, the 24x7 calendar) starts both
-- clocks at creation (src/db/sla_clocks.c, ombud_db_sla_apply START).
-- A target met (acknowledge/start meet the first response, resolve the
-- resolution) stops its clock at that moment (ombud_sla_clock_meet). A
-- running clock whose warning or due moment has passed has had it raised
-- by the SLA worker at that moment (ombud_sla_clock_fire), so nothing is
-- due now: the worker sleeps through the benchmark as it would on a
-- healthy system, instead of draining a backlog of alerts. (The alerts
-- and sla_warning/sla_breached events themselves are not seeded: no
-- benchmarked operation reads them.)
INSERT INTO sla_clocks (complaint_id, target, cycle, policy_id, calendar_id, target_seconds,
                        elapsed_seconds, running_since, due_at, met_at, breached,
                        breach_raised_at, warnings, next_alert_at, updated_at)
SELECT k.id, k.target, 1, 1, 1, k.secs,
       coalesce(k.met - k.start, 0),
       CASE WHEN k.met IS NULL THEN to_timestamp(k.start) END,
       to_timestamp(k.due),
       to_timestamp(k.met),
       r.breach_raised IS NOT NULL,
       to_timestamp(r.breach_raised),
       jsonb_build_array(
           jsonb_build_object('level', 1, 'threshold', k.warn_secs, 'at', k.warn_at,
                              'raised_at', r.warn_raised),
           jsonb_build_object('history', jsonb_build_array(r.warn_raised, 0, 0, 0, 0))),
       CASE WHEN k.met IS NULL AND k.now < k.warn_at THEN to_timestamp(k.warn_at)
            WHEN k.met IS NULL AND k.now < k.due THEN to_timestamp(k.due) END,
       to_timestamp(greatest(k.start, k.met, r.warn_raised, r.breach_raised))
  FROM (SELECT c.id, t.target, t.secs, t.secs * 80 / 100 AS warn_secs,
               s.start, s.start + t.secs AS due, s.start + t.secs * 80 / 100 AS warn_at,
               extract(epoch FROM CASE t.target WHEN 'first_response' THEN c.first_response_at
                                                ELSE c.resolved_at END)::bigint AS met,
               extract(epoch FROM now())::bigint AS now
          FROM complaints c
          JOIN bench_ids b ON b.id = c.id
         CROSS JOIN (VALUES ('first_response', 14400), ('resolution', 172800)) AS t(target, secs)
         CROSS JOIN LATERAL (SELECT extract(epoch FROM c.created_at)::bigint AS start) s
       ) k,
       -- Raised by the worker while the clock ran (0 / NULL: not raised).
       LATERAL (SELECT CASE WHEN k.warn_at <= coalesce(k.met, k.now) THEN k.warn_at ELSE 0 END
                           AS warn_raised,
                       CASE WHEN k.due < coalesce(k.met, k.now) THEN k.due END
                           AS breach_raised) r;

-- The complaints' copies of their current clocks, as the server writes
-- them with each clock (migrations/0018).
SELECT ombud_clock_copy_refresh(ARRAY(SELECT id FROM bench_ids));
