-- POST /v1/complaints as Ombud serves it (src/http/complaints.c
-- create_tx) for wrk/create.lua's body: the API-key check; then in one
-- transaction the reference check, the insert, the complaint read back,
-- the SLA policy and calendar, both clocks started, the policy noted,
-- NOTIFY, the complaint read again, the 'created' event.
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
PREPARE bench_refs AS SELECT $1::text IS NULL OR EXISTS (SELECT 1 FROM categories WHERE key = $1::text), $2::bigint IS NULL OR EXISTS (SELECT 1 FROM teams WHERE id = $2::bigint), $3::bigint IS NULL OR EXISTS (SELECT 1 FROM agents WHERE id = $3::bigint);
PREPARE bench_insert AS INSERT INTO complaints (title, description, customer_name, customer_external_id, customer_email, customer_phone, customer_tier, channel, category, grade, priority, demand, demand_detail, tags, team_id, assignee_id, external_ref, created_by_key_id) VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text, $10::text, $11::text, $12::text, $13::text, ARRAY(SELECT json_array_elements_text($14::json)), $15::bigint, $16::bigint, $17::text, $18::bigint) RETURNING id;
PREPARE bench_event AS INSERT INTO complaint_events (complaint_id, kind, actor_key_id, actor_role, actor_agent_id, data) VALUES ($1::bigint, $2::text, $3::bigint, $4::text, $5::bigint, $6::jsonb);
\set prep 1
\endif
\set one 1
\set zero 0
\set no false
\set policy 1
\set calendar 1
\set batch 200
\set fr_secs 14400
\set res_secs 172800
\set fr_due :now_s + 14400
\set fr_warn :now_s + 11520
\set res_due :now_s + 172800
\set res_warn :now_s + 138240
-- src/db/api_keys.c q_auth: every request, on its own pool checkout
WITH k AS (SELECT id, name, role, agent_id, ombud_usec(created_at) AS created_us, ombud_usec(last_used_at) AS last_used_us FROM api_keys  WHERE key_hash = $1::text AND revoked_at IS NULL), touch AS (UPDATE api_keys SET last_used_at = now()  WHERE id = (SELECT id FROM k)  AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')) SELECT * FROM k /* :key_hash */;
BEGIN;
-- src/db/complaints.c q_refs (category, team NULL, assignee NULL)
EXECUTE bench_refs('after_sales', NULL, NULL);
-- src/db/complaints.c q_insert
EXECUTE bench_insert('空调安装后漏水，要求退款', '6月12日安装的空调，第二天室内机开始漏水，木地板已经泡坏。维修师傅上门两次都没有解决，客服一直推诿。要求全额退款并赔偿地板损失。订单号 GL20260612-0-1。', '王芳', 'WRK-0-1', 'wang.fang@example.cn', '+86 138 0013 8000', 'standard', 'phone', 'after_sales', 'explicit', 'normal', NULL, NULL, '[]', NULL, NULL, NULL, current_setting('bench.key_id')::bigint) \gset c_
-- ombud_complaint_load: src/db/complaints.c q_get, src/db/sla_clocks.c q_load
SELECT id, title, description, customer_name, customer_external_id, customer_email, customer_phone, customer_tier, channel, category, grade, priority, demand, demand_detail, to_json(tags)::text, team_id, assignee_id, external_ref, status, escalation_level, reopen_count, resolution_summary, compensation_amount::text, compensation_currency, customer_agreed, satisfaction_score, satisfaction_comment, ombud_usec(satisfaction_at), created_by_key_id, ombud_usec(created_at), ombud_usec(updated_at), ombud_usec(first_response_at), ombud_usec(resolved_at), ombud_usec(closed_at), version, sla_policy_id, resolution_cycle FROM complaints WHERE id = $1::bigint /* :c_id */;
SELECT target, cycle, policy_id, calendar_id, target_seconds, elapsed_seconds, extract(epoch FROM running_since)::bigint, extract(epoch FROM due_at)::bigint, extract(epoch FROM met_at)::bigint, breached, extract(epoch FROM breach_raised_at)::bigint, warnings::text, extract(epoch FROM next_alert_at)::bigint FROM sla_clocks WHERE complaint_id = $1::bigint AND ((target = 'first_response' AND cycle = 1) OR (target = 'resolution' AND cycle = (SELECT resolution_cycle FROM complaints WHERE id = $1::bigint))) /* :c_id */;
-- ombud_db_sla_apply START: src/db/sla_policies.c q_select, src/db/calendars.c q_get
SELECT id, name, position, active, to_json(match_priorities)::text, to_json(match_grades)::text, to_json(match_categories)::text, to_json(match_channels)::text, to_json(match_customer_tiers)::text, first_response_minutes, resolution_minutes, warnings::text, calendar_id, ombud_usec(created_at), ombud_usec(updated_at) FROM sla_policies WHERE active AND (cardinality(match_priorities) = 0 OR $1::text = ANY (match_priorities)) AND (cardinality(match_grades) = 0 OR $2::text = ANY (match_grades)) AND (cardinality(match_categories) = 0 OR $3::text = ANY (match_categories)) AND (cardinality(match_channels) = 0 OR $4::text = ANY (match_channels)) AND (cardinality(match_customer_tiers) = 0 OR $5::text = ANY (match_customer_tiers)) ORDER BY position, id LIMIT 1 /* :priority :grade :category :channel :tier */;
SELECT id, name, timezone, hours::text, (SELECT coalesce(string_agg((d - date '1970-01-01')::text, ',' ORDER BY d), '')    FROM unnest(holidays) d), ombud_usec(created_at), ombud_usec(updated_at) FROM calendars WHERE id = $1::bigint /* :calendar */;
-- src/db/sla_clocks.c q_save: first response, then resolution
INSERT INTO sla_clocks (complaint_id, target, cycle, policy_id, calendar_id, target_seconds, elapsed_seconds, running_since, due_at, met_at, breached, breach_raised_at, warnings, next_alert_at) VALUES ($1::bigint, $2::text, $3::int, $4::bigint, $5::bigint, $6::bigint, $7::bigint, CASE WHEN $8::bigint = 0 THEN NULL ELSE to_timestamp($8::bigint) END, CASE WHEN $9::bigint = 0 THEN NULL ELSE to_timestamp($9::bigint) END, CASE WHEN $10::bigint = 0 THEN NULL ELSE to_timestamp($10::bigint) END, $11::boolean, CASE WHEN $12::bigint = 0 THEN NULL ELSE to_timestamp($12::bigint) END, $13::jsonb, CASE WHEN $14::bigint = 0 THEN NULL ELSE to_timestamp($14::bigint) END) ON CONFLICT (complaint_id, target, cycle) DO UPDATE SET policy_id = EXCLUDED.policy_id, calendar_id = EXCLUDED.calendar_id, target_seconds = EXCLUDED.target_seconds, elapsed_seconds = EXCLUDED.elapsed_seconds, running_since = EXCLUDED.running_since, due_at = EXCLUDED.due_at, met_at = EXCLUDED.met_at, breached = EXCLUDED.breached, breach_raised_at = EXCLUDED.breach_raised_at, warnings = EXCLUDED.warnings, next_alert_at = EXCLUDED.next_alert_at, updated_at = now() /* :c_id :fr :one :one :one :fr_secs :zero :now_s :fr_due :zero :no :zero :fr_warnings :fr_warn */;
INSERT INTO sla_clocks (complaint_id, target, cycle, policy_id, calendar_id, target_seconds, elapsed_seconds, running_since, due_at, met_at, breached, breach_raised_at, warnings, next_alert_at) VALUES ($1::bigint, $2::text, $3::int, $4::bigint, $5::bigint, $6::bigint, $7::bigint, CASE WHEN $8::bigint = 0 THEN NULL ELSE to_timestamp($8::bigint) END, CASE WHEN $9::bigint = 0 THEN NULL ELSE to_timestamp($9::bigint) END, CASE WHEN $10::bigint = 0 THEN NULL ELSE to_timestamp($10::bigint) END, $11::boolean, CASE WHEN $12::bigint = 0 THEN NULL ELSE to_timestamp($12::bigint) END, $13::jsonb, CASE WHEN $14::bigint = 0 THEN NULL ELSE to_timestamp($14::bigint) END) ON CONFLICT (complaint_id, target, cycle) DO UPDATE SET policy_id = EXCLUDED.policy_id, calendar_id = EXCLUDED.calendar_id, target_seconds = EXCLUDED.target_seconds, elapsed_seconds = EXCLUDED.elapsed_seconds, running_since = EXCLUDED.running_since, due_at = EXCLUDED.due_at, met_at = EXCLUDED.met_at, breached = EXCLUDED.breached, breach_raised_at = EXCLUDED.breach_raised_at, warnings = EXCLUDED.warnings, next_alert_at = EXCLUDED.next_alert_at, updated_at = now() /* :c_id :res :one :one :one :res_secs :zero :now_s :res_due :zero :no :zero :res_warnings :res_warn */;
-- src/db/sla_clocks.c q_set_policy ($2 before $1), q_notify
UPDATE complaints SET sla_policy_id = $2::bigint WHERE id = $1::bigint /* :c_id :policy */;
SELECT pg_notify('bench_sla', '');
-- ombud_complaint_load again
SELECT id, title, description, customer_name, customer_external_id, customer_email, customer_phone, customer_tier, channel, category, grade, priority, demand, demand_detail, to_json(tags)::text, team_id, assignee_id, external_ref, status, escalation_level, reopen_count, resolution_summary, compensation_amount::text, compensation_currency, customer_agreed, satisfaction_score, satisfaction_comment, ombud_usec(satisfaction_at), created_by_key_id, ombud_usec(created_at), ombud_usec(updated_at), ombud_usec(first_response_at), ombud_usec(resolved_at), ombud_usec(closed_at), version, sla_policy_id, resolution_cycle FROM complaints WHERE id = $1::bigint /* :c_id */;
SELECT target, cycle, policy_id, calendar_id, target_seconds, elapsed_seconds, extract(epoch FROM running_since)::bigint, extract(epoch FROM due_at)::bigint, extract(epoch FROM met_at)::bigint, breached, extract(epoch FROM breach_raised_at)::bigint, warnings::text, extract(epoch FROM next_alert_at)::bigint FROM sla_clocks WHERE complaint_id = $1::bigint AND ((target = 'first_response' AND cycle = 1) OR (target = 'resolution' AND cycle = (SELECT resolution_cycle FROM complaints WHERE id = $1::bigint))) /* :c_id */;
-- src/db/complaints.c q_event_add (actor_agent_id NULL)
EXECUTE bench_event(currval('complaints_id_seq'), 'created', current_setting('bench.key_id')::bigint, 'admin', NULL, '{"grade": "explicit", "channel": "phone", "category": "after_sales", "priority": "normal", "reference": "CMP-100001"}');
COMMIT;
-- The SLA worker's pass (src/worker/sla_worker.c, src/db/sla_clocks.c
-- q_due, q_next) that the NOTIFY above wakes, on its own connection; under
-- load one pass serves several notifications, so it runs here in
-- worker_create of 10000 transactions (run.sh measures that share).
\set wp random(1, 10000)
\if :wp <= :worker_create
BEGIN;
SELECT complaint_id, target, cycle, policy_id, calendar_id, target_seconds, elapsed_seconds, extract(epoch FROM running_since)::bigint, extract(epoch FROM due_at)::bigint, extract(epoch FROM met_at)::bigint, breached, extract(epoch FROM breach_raised_at)::bigint, warnings::text, extract(epoch FROM next_alert_at)::bigint, extract(epoch FROM updated_at) FROM sla_clocks WHERE next_alert_at <= to_timestamp($1::bigint) ORDER BY next_alert_at LIMIT $2::int FOR UPDATE SKIP LOCKED /* :now_s :batch */;
COMMIT;
SELECT coalesce(extract(epoch FROM min(next_alert_at))::bigint, 0) FROM sla_clocks WHERE next_alert_at IS NOT NULL;
\endif
