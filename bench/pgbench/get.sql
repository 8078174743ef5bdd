-- GET /v1/complaints/{id} as Ombud serves it (src/http/complaints.c
-- ombud_h_complaints_get): one statement, the complaint with the copies of
-- its two current SLA clocks (fr_clock, rs_clock, migrations/0018: one
-- table; src/db/complaints.c q_get), no transaction;
-- ids uniform over id_min..id_max like wrk/get.lua. The API key is
-- Ombud's per-process cache's (src/service/api_keys.c): no statement.
-- Every statement is Ombud's text as sent (bench/sql-capture.sh prints
-- it); a trailing /* :a :b */ comment names the pgbench variables bound to
-- $1, $2, ... (pgbench numbers the variables it finds in order and leaves
-- the statement's own $n alone). See README.md in this folder.
\set id random(:id_min, :id_max)
-- src/db/complaints.c q_get
SELECT c.id AS id, c.title AS title, c.description AS description, c.customer_name AS customer_name, c.customer_external_id AS customer_external_id, c.customer_email AS customer_email, c.customer_phone AS customer_phone, c.customer_tier AS customer_tier, c.channel AS channel, c.category AS category, c.grade AS grade, c.priority AS priority, c.demand AS demand, c.demand_detail AS demand_detail, to_json(c.tags)::text AS tags_json, c.team_id AS team_id, c.assignee_id AS assignee_id, c.external_ref AS external_ref, c.status AS status, c.escalation_level AS escalation_level, c.reopen_count AS reopen_count, c.resolution_summary AS resolution_summary, c.compensation_amount::text AS compensation_amount, c.compensation_currency AS compensation_currency, c.customer_agreed AS customer_agreed, c.satisfaction_score AS satisfaction_score, c.satisfaction_comment AS satisfaction_comment, c.satisfaction_at AS satisfaction_at, c.created_by_key_id AS created_by_key_id, c.created_at AS created_at, c.updated_at AS updated_at, c.first_response_at AS first_response_at, c.resolved_at AS resolved_at, c.closed_at AS closed_at, c.version AS version, c.sla_policy_id AS sla_policy_id, c.resolution_cycle AS resolution_cycle, c.fr_clock AS fr_clock, c.rs_clock AS rs_clock FROM complaints c WHERE c.id = $1::bigint /* :id */;
