-- GET /v1/complaints/{id} as Ombud serves it (src/http/complaints.c
-- ombud_h_complaints_get): the API-key check, then the complaint and its
-- SLA clocks, each statement on its own (no transaction), ids uniform over
-- id_min..id_max like wrk/get.lua.
-- Every statement is Ombud's text as sent (bench/sql-capture.sh prints
-- it); a trailing /* :a :b */ comment names the pgbench variables bound to
-- $1, $2, ... (pgbench numbers the variables it finds in order and leaves
-- the statement's own $n alone). See README.md in this folder.
\set id random(:id_min, :id_max)
-- src/db/api_keys.c q_auth: every request, on its own pool checkout
WITH k AS (SELECT id, name, role, agent_id, ombud_usec(created_at) AS created_us, ombud_usec(last_used_at) AS last_used_us FROM api_keys  WHERE key_hash = $1::text AND revoked_at IS NULL), touch AS (UPDATE api_keys SET last_used_at = now()  WHERE id = (SELECT id FROM k)  AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')) SELECT * FROM k /* :key_hash */;
-- src/db/complaints.c q_get
SELECT id, title, description, customer_name, customer_external_id, customer_email, customer_phone, customer_tier, channel, category, grade, priority, demand, demand_detail, to_json(tags)::text, team_id, assignee_id, external_ref, status, escalation_level, reopen_count, resolution_summary, compensation_amount::text, compensation_currency, customer_agreed, satisfaction_score, satisfaction_comment, ombud_usec(satisfaction_at), created_by_key_id, ombud_usec(created_at), ombud_usec(updated_at), ombud_usec(first_response_at), ombud_usec(resolved_at), ombud_usec(closed_at), version, sla_policy_id, resolution_cycle FROM complaints WHERE id = $1::bigint /* :id */;
-- src/db/sla_clocks.c q_load ($1 twice)
SELECT target, cycle, policy_id, calendar_id, target_seconds, elapsed_seconds, extract(epoch FROM running_since)::bigint, extract(epoch FROM due_at)::bigint, extract(epoch FROM met_at)::bigint, breached, extract(epoch FROM breach_raised_at)::bigint, warnings::text, extract(epoch FROM next_alert_at)::bigint FROM sla_clocks WHERE complaint_id = $1::bigint AND ((target = 'first_response' AND cycle = 1) OR (target = 'resolution' AND cycle = (SELECT resolution_cycle FROM complaints WHERE id = $1::bigint))) /* :id */;
