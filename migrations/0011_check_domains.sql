-- 0011: the per-column rules of complaints and their events as domains.
--
-- PostgreSQL reads a table's CHECK constraints from their stored node
-- text (stringToNode), plans and compiles them again in every statement
-- that inserts or updates a row of the table: 27 on complaints, ~25 KB
-- of node text (a text constant is written out byte by byte), parsed on
-- every create and every transition. Profiled under wrk creates, that
-- was ~11% of the core. A domain's constraints are parsed and planned
-- once per session (the type cache) and only compiled per statement.
--
-- The rules are unchanged: each column whose rule involves only itself
-- gets a domain of its own with the same predicate, and the domain's
-- constraint keeps the table constraint's name, which is what a
-- violation reports (PG_DIAG_CONSTRAINT_NAME, SQLSTATE 23514, as
-- before). NOT NULL and the defaults stay on the columns; a domain check
-- passes NULL as a CHECK does. Left on the tables: the rules over
-- several columns and the short numeric ones (their node text is small).
--
-- A domain over text behaves as text everywhere the SQL uses these
-- columns (comparisons, indexes, ANY(text[]), assignment from $n::text).

CREATE DOMAIN ombud_c_title AS text
    CONSTRAINT complaints_title_check CHECK (char_length(VALUE) BETWEEN 1 AND 200);
CREATE DOMAIN ombud_c_description AS text
    CONSTRAINT complaints_description_check CHECK (char_length(VALUE) BETWEEN 1 AND 20000);
CREATE DOMAIN ombud_c_customer_name AS text
    CONSTRAINT complaints_customer_name_check CHECK (char_length(VALUE) BETWEEN 1 AND 200);
CREATE DOMAIN ombud_c_customer_external_id AS text
    CONSTRAINT complaints_customer_external_id_check CHECK (char_length(VALUE) BETWEEN 1 AND 200);
CREATE DOMAIN ombud_c_customer_email AS text
    CONSTRAINT complaints_customer_email_check
    CHECK (char_length(VALUE) BETWEEN 3 AND 320 AND VALUE LIKE '%_@_%');
CREATE DOMAIN ombud_c_customer_phone AS text
    CONSTRAINT complaints_customer_phone_check CHECK (char_length(VALUE) BETWEEN 1 AND 50);
CREATE DOMAIN ombud_c_customer_tier AS text
    CONSTRAINT complaints_customer_tier_check CHECK (VALUE IN ('standard', 'vip'));
CREATE DOMAIN ombud_c_channel AS text
    CONSTRAINT complaints_channel_check
    CHECK (VALUE IN ('phone', 'chat', 'email', 'web', 'social', 'in_person', 'api'));
CREATE DOMAIN ombud_c_grade AS text
    CONSTRAINT complaints_grade_check CHECK (VALUE IN ('potential', 'explicit', 'high_risk'));
CREATE DOMAIN ombud_c_priority AS text
    CONSTRAINT complaints_priority_check CHECK (VALUE IN ('low', 'normal', 'high', 'urgent'));
CREATE DOMAIN ombud_c_demand AS text
    CONSTRAINT complaints_demand_check
    CHECK (VALUE IN ('explanation', 'repair', 'replacement', 'refund', 'compensation', 'apology',
                     'other'));
CREATE DOMAIN ombud_c_demand_detail AS text
    CONSTRAINT complaints_demand_detail_check CHECK (char_length(VALUE) BETWEEN 1 AND 5000);
CREATE DOMAIN ombud_c_external_ref AS text
    CONSTRAINT complaints_external_ref_check CHECK (char_length(VALUE) BETWEEN 1 AND 200);
CREATE DOMAIN ombud_c_status AS text
    CONSTRAINT complaints_status_check
    CHECK (VALUE IN ('new', 'acknowledged', 'in_progress', 'pending_customer', 'resolved',
                     'closed'));
CREATE DOMAIN ombud_c_resolution_summary AS text
    CONSTRAINT complaints_resolution_summary_check CHECK (char_length(VALUE) BETWEEN 1 AND 5000);
CREATE DOMAIN ombud_c_satisfaction_comment AS text
    CONSTRAINT complaints_satisfaction_comment_check CHECK (char_length(VALUE) BETWEEN 1 AND 2000);

CREATE DOMAIN ombud_ev_kind AS text
    CONSTRAINT complaint_events_kind_check
    CHECK (VALUE IN ('created', 'updated', 'status_changed', 'note_added', 'assigned', 'escalated',
                     'sla_warning', 'sla_breached', 'sla_paused', 'sla_resumed',
                     'satisfaction_recorded'));
CREATE DOMAIN ombud_ev_actor_role AS text
    CONSTRAINT complaint_events_actor_role_check
    CHECK (VALUE IN ('service', 'agent', 'supervisor', 'admin', 'system'));

CREATE DOMAIN ombud_clock_target AS text
    CONSTRAINT sla_clocks_target_check CHECK (VALUE IN ('first_response', 'resolution'));

-- One ALTER TABLE per table: one rewrite each (a domain with constraints
-- checks every row), the constraints dropped first so their names move.
ALTER TABLE complaints
    DROP CONSTRAINT complaints_title_check,
    DROP CONSTRAINT complaints_description_check,
    DROP CONSTRAINT complaints_customer_name_check,
    DROP CONSTRAINT complaints_customer_external_id_check,
    DROP CONSTRAINT complaints_customer_email_check,
    DROP CONSTRAINT complaints_customer_phone_check,
    DROP CONSTRAINT complaints_customer_tier_check,
    DROP CONSTRAINT complaints_channel_check,
    DROP CONSTRAINT complaints_grade_check,
    DROP CONSTRAINT complaints_priority_check,
    DROP CONSTRAINT complaints_demand_check,
    DROP CONSTRAINT complaints_demand_detail_check,
    DROP CONSTRAINT complaints_external_ref_check,
    DROP CONSTRAINT complaints_status_check,
    DROP CONSTRAINT complaints_resolution_summary_check,
    DROP CONSTRAINT complaints_satisfaction_comment_check,
    ALTER COLUMN title TYPE ombud_c_title,
    ALTER COLUMN description TYPE ombud_c_description,
    ALTER COLUMN customer_name TYPE ombud_c_customer_name,
    ALTER COLUMN customer_external_id TYPE ombud_c_customer_external_id,
    ALTER COLUMN customer_email TYPE ombud_c_customer_email,
    ALTER COLUMN customer_phone TYPE ombud_c_customer_phone,
    ALTER COLUMN customer_tier TYPE ombud_c_customer_tier,
    ALTER COLUMN channel TYPE ombud_c_channel,
    ALTER COLUMN grade TYPE ombud_c_grade,
    ALTER COLUMN priority TYPE ombud_c_priority,
    ALTER COLUMN demand TYPE ombud_c_demand,
    ALTER COLUMN demand_detail TYPE ombud_c_demand_detail,
    ALTER COLUMN external_ref TYPE ombud_c_external_ref,
    ALTER COLUMN status TYPE ombud_c_status,
    ALTER COLUMN resolution_summary TYPE ombud_c_resolution_summary,
    ALTER COLUMN satisfaction_comment TYPE ombud_c_satisfaction_comment;

ALTER TABLE complaint_events
    DROP CONSTRAINT complaint_events_kind_check,
    DROP CONSTRAINT complaint_events_actor_role_check,
    ALTER COLUMN kind TYPE ombud_ev_kind,
    ALTER COLUMN actor_role TYPE ombud_ev_actor_role;

ALTER TABLE sla_clocks
    DROP CONSTRAINT sla_clocks_target_check,
    ALTER COLUMN target TYPE ombud_clock_target;

-- The type changes dropped the columns' statistics.
ANALYZE complaints, complaint_events, sla_clocks;
