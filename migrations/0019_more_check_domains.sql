-- 0019: the remaining one-column rules of complaints and sla_clocks as
-- domains, as 0011 did for the text columns.
--
-- 0011 left the short numeric rules on the tables: their node text looked
-- small. Profiled under wrk transitions, the executor still spent ~6% of
-- the core checking constraints, half of it reading the tables' CHECK
-- constraints back from their node text (stringToNode) in every
-- statement that writes a complaint or a clock: twelve on complaints
-- (~7.7 KB) and three on sla_clocks (~1.2 KB). A domain's constraints
-- are read and planned once per session (the type cache).
--
-- The rules and their names are unchanged (a violation still reports
-- the same constraint name, SQLSTATE 23514). Left on the tables: the
-- rules over several columns.
--
-- No table is rewritten: each domain is created without its constraint,
-- so the type change is binary (the data and the indexes are kept), and
-- the constraint is added to the domain afterwards, which checks the
-- existing rows with one scan per table.

CREATE DOMAIN ombud_c_tags AS text[];
CREATE DOMAIN ombud_c_escalation_level AS integer;
CREATE DOMAIN ombud_c_reopen_count AS integer;
CREATE DOMAIN ombud_c_compensation_amount AS numeric;
CREATE DOMAIN ombud_c_compensation_currency AS text;
CREATE DOMAIN ombud_c_satisfaction_score AS smallint;
CREATE DOMAIN ombud_c_version AS integer;
CREATE DOMAIN ombud_clock_cycle AS integer;
CREATE DOMAIN ombud_clock_target_seconds AS bigint;
CREATE DOMAIN ombud_clock_elapsed_seconds AS bigint;

ALTER TABLE complaints
    DROP CONSTRAINT complaints_tags_check,
    DROP CONSTRAINT complaints_escalation_level_check,
    DROP CONSTRAINT complaints_reopen_count_check,
    DROP CONSTRAINT complaints_compensation_amount_check,
    DROP CONSTRAINT complaints_compensation_amount_exact,
    DROP CONSTRAINT complaints_compensation_currency_check,
    DROP CONSTRAINT complaints_satisfaction_score_check,
    DROP CONSTRAINT complaints_version_check,
    ALTER COLUMN tags TYPE ombud_c_tags,
    ALTER COLUMN escalation_level TYPE ombud_c_escalation_level,
    ALTER COLUMN reopen_count TYPE ombud_c_reopen_count,
    ALTER COLUMN compensation_amount TYPE ombud_c_compensation_amount,
    ALTER COLUMN compensation_currency TYPE ombud_c_compensation_currency,
    ALTER COLUMN satisfaction_score TYPE ombud_c_satisfaction_score,
    ALTER COLUMN version TYPE ombud_c_version;

ALTER TABLE sla_clocks
    DROP CONSTRAINT sla_clocks_cycle_check,
    DROP CONSTRAINT sla_clocks_target_seconds_check,
    DROP CONSTRAINT sla_clocks_elapsed_seconds_check,
    ALTER COLUMN cycle TYPE ombud_clock_cycle,
    ALTER COLUMN target_seconds TYPE ombud_clock_target_seconds,
    ALTER COLUMN elapsed_seconds TYPE ombud_clock_elapsed_seconds;

ALTER DOMAIN ombud_c_tags ADD CONSTRAINT complaints_tags_check
    CHECK (cardinality(VALUE) <= 20 AND array_position(VALUE, NULL) IS NULL);
ALTER DOMAIN ombud_c_escalation_level ADD CONSTRAINT complaints_escalation_level_check
    CHECK (VALUE >= 0);
ALTER DOMAIN ombud_c_reopen_count ADD CONSTRAINT complaints_reopen_count_check
    CHECK (VALUE >= 0);
ALTER DOMAIN ombud_c_compensation_amount ADD CONSTRAINT complaints_compensation_amount_check
    CHECK (VALUE >= 0);
ALTER DOMAIN ombud_c_compensation_amount ADD CONSTRAINT complaints_compensation_amount_exact
    CHECK (scale(VALUE) <= 4 AND VALUE < 1e18);
ALTER DOMAIN ombud_c_compensation_currency ADD CONSTRAINT complaints_compensation_currency_check
    CHECK (VALUE ~ '^[A-Z]{3}$');
ALTER DOMAIN ombud_c_satisfaction_score ADD CONSTRAINT complaints_satisfaction_score_check
    CHECK (VALUE BETWEEN 1 AND 5);
ALTER DOMAIN ombud_c_version ADD CONSTRAINT complaints_version_check CHECK (VALUE >= 1);
ALTER DOMAIN ombud_clock_cycle ADD CONSTRAINT sla_clocks_cycle_check CHECK (VALUE >= 1);
ALTER DOMAIN ombud_clock_target_seconds ADD CONSTRAINT sla_clocks_target_seconds_check
    CHECK (VALUE > 0);
ALTER DOMAIN ombud_clock_elapsed_seconds ADD CONSTRAINT sla_clocks_elapsed_seconds_check
    CHECK (VALUE >= 0);

-- The type changes dropped the columns' statistics.
ANALYZE complaints, sla_clocks;
