-- GET /v1/complaints?status=S&limit=L as Ombud serves it
-- (ombud_h_complaints_list): the API-key check, the first page (L + 1 rows,
-- the extra one says whether there is a next page; built by
-- src/db/complaints.c ombud_db_complaint_list for this filter and sent
-- unnamed), then the clocks of the page's complaints in one statement.
-- page_ids (from run.sh) are the ids of that first page, as Ombud passes
-- them back: the ids the page holds when the run starts.
-- Every statement is Ombud's text as sent (bench/sql-capture.sh prints
-- it); a trailing /* :a :b */ comment names the pgbench variables bound to
-- $1, $2, ... (pgbench numbers the variables it finds in order and leaves
-- the statement's own $n alone). See README.md in this folder.
\set limit_plus_one :limit + 1
-- src/db/api_keys.c q_auth: every request, on its own pool checkout
WITH k AS (SELECT id, name, role, agent_id, ombud_usec(created_at) AS created_us, ombud_usec(last_used_at) AS last_used_us FROM api_keys  WHERE key_hash = $1::text AND revoked_at IS NULL), touch AS (UPDATE api_keys SET last_used_at = now()  WHERE id = (SELECT id FROM k)  AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')) SELECT * FROM k /* :key_hash */;
-- src/db/complaints.c ombud_db_complaint_list (status filter, newest first)
SELECT id, title, description, customer_name, customer_external_id, customer_email, customer_phone, customer_tier, channel, category, grade, priority, demand, demand_detail, to_json(tags)::text, team_id, assignee_id, external_ref, status, escalation_level, reopen_count, resolution_summary, compensation_amount::text, compensation_currency, customer_agreed, satisfaction_score, satisfaction_comment, ombud_usec(satisfaction_at), created_by_key_id, ombud_usec(created_at), ombud_usec(updated_at), ombud_usec(first_response_at), ombud_usec(resolved_at), ombud_usec(closed_at), version, sla_policy_id, resolution_cycle, NULL::bigint FROM complaints WHERE true AND status = ANY (string_to_array($1::text, ',')) ORDER BY created_at DESC, id DESC LIMIT $2::int /* :status :limit_plus_one */;
-- src/db/sla_clocks.c q_load_many
SELECT k.complaint_id, target, cycle, policy_id, calendar_id, target_seconds, elapsed_seconds, extract(epoch FROM running_since)::bigint, extract(epoch FROM due_at)::bigint, extract(epoch FROM met_at)::bigint, breached, extract(epoch FROM breach_raised_at)::bigint, warnings::text, extract(epoch FROM next_alert_at)::bigint FROM sla_clocks k JOIN complaints c ON c.id = k.complaint_id WHERE k.complaint_id = ANY ($1::bigint[]) AND (k.target = 'first_response' AND k.cycle = 1      OR k.target = 'resolution' AND k.cycle = c.resolution_cycle) /* :page_ids */;
