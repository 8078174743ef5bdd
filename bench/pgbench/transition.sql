-- POST /v1/complaints/{id}/transitions {"action":"acknowledge"} as Ombud
-- serves it (src/http/transitions.c transition_tx): the API-key check;
-- then in one transaction the complaint locked and read with its clocks,
-- saved (Ombud writes the whole row back: text, classification and
-- version from the seed, see sql/seed.sql), the clocks locked, the
-- calendar, the first-response clock met, NOTIFY, the 'status_changed'
-- event, the complaint read back. Each transaction takes the next id of
-- the block (sequence bench_transition_ids, restarted by
-- transition-reset.sql), as wrk/transition.lua walks the same block.
-- Every statement is Ombud's text as sent (bench/sql-capture.sh prints
-- it); a trailing /* :a :b */ comment names the pgbench variables bound to
-- $1, $2, ... (pgbench numbers the variables it finds in order and leaves
-- the statement's own $n alone). See README.md in this folder.
-- Statements that Ombud sends with NULL parameters run through PREPARE
-- (once per client, Ombud's text verbatim: same pg_stat_statements
-- queryid) and EXECUTE with NULL literals: pgbench cannot bind NULL, and
-- EXECUTE cannot take bound parameters, so their other values are
-- literals or come from the session (currval, the bench.key_id setting).
\if :prep = 0
PREPARE bench_get_lock AS SELECT id, title, description, customer_name, customer_external_id, customer_email, customer_phone, customer_tier, channel, category, grade, priority, demand, demand_detail, to_json(tags)::text, team_id, assignee_id, external_ref, status, escalation_level, reopen_count, resolution_summary, compensation_amount::text, compensation_currency, customer_agreed, satisfaction_score, satisfaction_comment, ombud_usec(satisfaction_at), created_by_key_id, ombud_usec(created_at), ombud_usec(updated_at), ombud_usec(first_response_at), ombud_usec(resolved_at), ombud_usec(closed_at), version, sla_policy_id, resolution_cycle FROM complaints WHERE id = $1::bigint FOR UPDATE;
PREPARE bench_save AS UPDATE complaints SET title = $2::text, description = $3::text, category = $4::text, grade = $5::text, priority = $6::text, demand = $7::text, demand_detail = $8::text, tags = ARRAY(SELECT json_array_elements_text($9::json)), team_id = $10::bigint, assignee_id = $11::bigint, status = $12::text, escalation_level = $13::int, reopen_count = $14::int, resolution_summary = $15::text, compensation_amount = $16::numeric, compensation_currency = $17::text, customer_agreed = $18::boolean, satisfaction_score = $19::smallint, satisfaction_comment = $20::text, satisfaction_at = CASE WHEN $21::bigint = 0 THEN NULL WHEN $21::bigint = -9223372036854775808 THEN now() ELSE ombud_ts($21::bigint) END, first_response_at = CASE WHEN $22::bigint = 0 THEN NULL WHEN $22::bigint = -9223372036854775808 THEN now() ELSE ombud_ts($22::bigint) END, resolved_at = CASE WHEN $23::bigint = 0 THEN NULL WHEN $23::bigint = -9223372036854775808 THEN now() ELSE ombud_ts($23::bigint) END, closed_at = CASE WHEN $24::bigint = 0 THEN NULL WHEN $24::bigint = -9223372036854775808 THEN now() ELSE ombud_ts($24::bigint) END, updated_at = now(), version = version + 1 WHERE id = $1::bigint AND version = $25::int;
PREPARE bench_event AS INSERT INTO complaint_events (complaint_id, kind, actor_key_id, actor_role, actor_agent_id, data) VALUES ($1::bigint, $2::text, $3::bigint, $4::text, $5::bigint, $6::jsonb);
\set prep 1
\endif
\set one 1
\set zero 0
\set calendar 1
\set batch 200
\set fr_secs 14400
-- src/db/api_keys.c q_auth: every request, on its own pool checkout
WITH k AS (SELECT id, name, role, agent_id, ombud_usec(created_at) AS created_us, ombud_usec(last_used_at) AS last_used_us FROM api_keys  WHERE key_hash = $1::text AND revoked_at IS NULL), touch AS (UPDATE api_keys SET last_used_at = now()  WHERE id = (SELECT id FROM k)  AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')) SELECT * FROM k /* :key_hash */;
BEGIN;
-- src/db/complaints.c q_get_lock, src/db/sla_clocks.c q_load
EXECUTE bench_get_lock(nextval('bench_transition_ids')) \gset t_
SELECT target, cycle, policy_id, calendar_id, target_seconds, elapsed_seconds, extract(epoch FROM running_since)::bigint, extract(epoch FROM due_at)::bigint, extract(epoch FROM met_at)::bigint, breached, extract(epoch FROM breach_raised_at)::bigint, warnings::text, extract(epoch FROM next_alert_at)::bigint FROM sla_clocks WHERE complaint_id = $1::bigint AND ((target = 'first_response' AND cycle = 1) OR (target = 'resolution' AND cycle = (SELECT resolution_cycle FROM complaints WHERE id = $1::bigint))) /* :t_id */;
-- the first-response clock as sql/clocks.sql seeded it, met now
\set created :now_s - 2592000 * (:seed_n - :t_id) / :seed_n
\set due :created + 14400
\set elapsed :now_s - :created
\set late :now_s > :due
\set breach_at case when :now_s > :due then :due else 0 end
-- src/db/complaints.c q_save (status acknowledged, first_response_at now())
EXECUTE bench_save(currval('bench_transition_ids'), bench_title(currval('bench_transition_ids')), bench_description(currval('bench_transition_ids')), bench_category(currval('bench_transition_ids')), bench_grade(currval('bench_transition_ids')), bench_priority(currval('bench_transition_ids')), NULL, NULL, '[]', NULL, NULL, 'acknowledged', 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, '-9223372036854775808', 0, 0, 1);
-- ombud_db_sla_apply MEET_FR: src/db/sla_clocks.c q_load_lock, src/db/calendars.c q_get, q_save, q_notify
SELECT target, cycle, policy_id, calendar_id, target_seconds, elapsed_seconds, extract(epoch FROM running_since)::bigint, extract(epoch FROM due_at)::bigint, extract(epoch FROM met_at)::bigint, breached, extract(epoch FROM breach_raised_at)::bigint, warnings::text, extract(epoch FROM next_alert_at)::bigint FROM sla_clocks WHERE complaint_id = $1::bigint AND ((target = 'first_response' AND cycle = 1) OR (target = 'resolution' AND cycle = (SELECT resolution_cycle FROM complaints WHERE id = $1::bigint))) FOR UPDATE /* :t_id */;
SELECT id, name, timezone, hours::text, (SELECT coalesce(string_agg((d - date '1970-01-01')::text, ',' ORDER BY d), '')    FROM unnest(holidays) d), ombud_usec(created_at), ombud_usec(updated_at) FROM calendars WHERE id = $1::bigint /* :calendar */;
INSERT INTO sla_clocks (complaint_id, target, cycle, policy_id, calendar_id, target_seconds, elapsed_seconds, running_since, due_at, met_at, breached, breach_raised_at, warnings, next_alert_at) VALUES ($1::bigint, $2::text, $3::int, $4::bigint, $5::bigint, $6::bigint, $7::bigint, CASE WHEN $8::bigint = 0 THEN NULL ELSE to_timestamp($8::bigint) END, CASE WHEN $9::bigint = 0 THEN NULL ELSE to_timestamp($9::bigint) END, CASE WHEN $10::bigint = 0 THEN NULL ELSE to_timestamp($10::bigint) END, $11::boolean, CASE WHEN $12::bigint = 0 THEN NULL ELSE to_timestamp($12::bigint) END, $13::jsonb, CASE WHEN $14::bigint = 0 THEN NULL ELSE to_timestamp($14::bigint) END) ON CONFLICT (complaint_id, target, cycle) DO UPDATE SET policy_id = EXCLUDED.policy_id, calendar_id = EXCLUDED.calendar_id, target_seconds = EXCLUDED.target_seconds, elapsed_seconds = EXCLUDED.elapsed_seconds, running_since = EXCLUDED.running_since, due_at = EXCLUDED.due_at, met_at = EXCLUDED.met_at, breached = EXCLUDED.breached, breach_raised_at = EXCLUDED.breach_raised_at, warnings = EXCLUDED.warnings, next_alert_at = EXCLUDED.next_alert_at, updated_at = now() /* :t_id :fr :one :one :one :fr_secs :elapsed :zero :due :now_s :late :breach_at :met_warnings :zero */;
SELECT pg_notify('bench_sla', '');
-- src/db/complaints.c q_event_add (actor_agent_id NULL)
EXECUTE bench_event(currval('bench_transition_ids'), 'status_changed', current_setting('bench.key_id')::bigint, 'admin', NULL, '{"to": "acknowledged", "from": "new", "action": "acknowledge"}');
-- ombud_complaint_load
SELECT id, title, description, customer_name, customer_external_id, customer_email, customer_phone, customer_tier, channel, category, grade, priority, demand, demand_detail, to_json(tags)::text, team_id, assignee_id, external_ref, status, escalation_level, reopen_count, resolution_summary, compensation_amount::text, compensation_currency, customer_agreed, satisfaction_score, satisfaction_comment, ombud_usec(satisfaction_at), created_by_key_id, ombud_usec(created_at), ombud_usec(updated_at), ombud_usec(first_response_at), ombud_usec(resolved_at), ombud_usec(closed_at), version, sla_policy_id, resolution_cycle FROM complaints WHERE id = $1::bigint /* :t_id */;
SELECT target, cycle, policy_id, calendar_id, target_seconds, elapsed_seconds, extract(epoch FROM running_since)::bigint, extract(epoch FROM due_at)::bigint, extract(epoch FROM met_at)::bigint, breached, extract(epoch FROM breach_raised_at)::bigint, warnings::text, extract(epoch FROM next_alert_at)::bigint FROM sla_clocks WHERE complaint_id = $1::bigint AND ((target = 'first_response' AND cycle = 1) OR (target = 'resolution' AND cycle = (SELECT resolution_cycle FROM complaints WHERE id = $1::bigint))) /* :t_id */;
COMMIT;
-- The SLA worker's pass (src/worker/sla_worker.c, src/db/sla_clocks.c
-- q_due, q_next) that the NOTIFY above wakes, on its own connection; under
-- load one pass serves several notifications, so it runs here in
-- worker_transition of 10000 transactions (run.sh measures that share).
\set wp random(1, 10000)
\if :wp <= :worker_transition
BEGIN;
SELECT complaint_id, target, cycle, policy_id, calendar_id, target_seconds, elapsed_seconds, extract(epoch FROM running_since)::bigint, extract(epoch FROM due_at)::bigint, extract(epoch FROM met_at)::bigint, breached, extract(epoch FROM breach_raised_at)::bigint, warnings::text, extract(epoch FROM next_alert_at)::bigint, extract(epoch FROM updated_at) FROM sla_clocks WHERE next_alert_at <= to_timestamp($1::bigint) ORDER BY next_alert_at LIMIT $2::int FOR UPDATE SKIP LOCKED /* :now_s :batch */;
COMMIT;
SELECT coalesce(extract(epoch FROM min(next_alert_at))::bigint, 0) FROM sla_clocks WHERE next_alert_at IS NOT NULL;
\endif
