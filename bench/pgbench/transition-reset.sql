-- Run by measure.sh (psql -v lo=.. -v hi=..) before each transition run,
-- outside the timed part: puts the block of complaints the run will
-- acknowledge back to 'new' as if just created at their created_at
-- (version 1, which transition.sql's change expects), with their SLA
-- clocks and the complaints' copies of them rebuilt to match
-- (sql/clocks.sql): without them, acknowledging would find the first
-- response met already and write no clock (less work than Ombud's). Restarts the sequence transition.sql takes ids from.
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
-- ANALYZE of complaints is cheap since the search grams left it for
-- complaint_search (migrations/0008: no expression index whose function
-- ran on every sampled row), so the statistics follow the block's status
-- flips like the clocks' do.
VACUUM (ANALYZE) complaints;
VACUUM (ANALYZE) sla_clocks;
CHECKPOINT;
