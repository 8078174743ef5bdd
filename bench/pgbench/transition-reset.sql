-- Run by measure.sh (psql -v lo=.. -v hi=..) before each transition run,
-- outside the timed part: puts the block of complaints the run will
-- acknowledge back to 'new' as if just created at their created_at
-- (version 1, which transition.sql's save expects), with their SLA clocks
-- rebuilt to match (sql/clocks.sql): without them, acknowledging would
-- find the first response met already and skip the clock write, i.e. run
-- different SQL. Restarts the sequence transition.sql takes ids from.
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE bench_ids (id bigint PRIMARY KEY) ON COMMIT DROP;
WITH r AS (
    UPDATE complaints
       SET status = 'new', first_response_at = NULL, resolved_at = NULL, closed_at = NULL,
           resolution_summary = NULL, customer_agreed = NULL, version = 1,
           updated_at = now()
     WHERE id BETWEEN :lo AND :hi AND status <> 'new'
 RETURNING id)
INSERT INTO bench_ids SELECT id FROM r;
DELETE FROM sla_clocks WHERE complaint_id IN (SELECT id FROM bench_ids);
\ir ../sql/clocks.sql
ALTER SEQUENCE bench_transition_ids MINVALUE :lo MAXVALUE :hi RESTART WITH :lo CYCLE;
COMMIT;
-- No ANALYZE of complaints: with the search index's statistics target
-- (migrations/0003) it evaluates ombud_grams on every row, ~30 s at
-- 100,000 complaints; a status flip does not change the plans.
VACUUM complaints;
VACUUM (ANALYZE) sla_clocks;
CHECKPOINT;
