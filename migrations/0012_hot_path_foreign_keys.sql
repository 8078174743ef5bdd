-- 0012: foreign keys that checked, on every create and change, what the
-- writing statement already guarantees.
--
-- A foreign key is a query per inserted row (an SPI "SELECT 1 ... FOR KEY
-- SHARE" on the referenced row) at the end of the statement. A create
-- inserted the complaint, two clocks and its events: eleven such checks;
-- profiled under wrk creates, the checks were ~10% of the core. These
-- four go (the others stay: they name a create's unknown category, team
-- or agent, or keep a policy or calendar in use from being deleted):
--
-- sla_clocks.complaint_id, complaint_events.complaint_id: a complaint's
--   clocks and events are written by the statement that inserts it (a CTE
--   over the inserted row, src/db/complaints.c q_create), by a change of
--   the complaint read and locked FOR NO KEY UPDATE in the same
--   transaction (q_change), or by the SLA worker for the complaint of a
--   clock it claimed. Complaints are never deleted.
-- complaints.created_by_key_id, complaint_events.actor_key_id: the id of
--   the API key that authenticated the request. API keys are never
--   deleted (DELETE /v1/api-keys/{id} revokes); and every create and event
--   took a KEY SHARE lock on the same api_keys row, which concurrent
--   transactions turn into MultiXact work.
ALTER TABLE sla_clocks DROP CONSTRAINT sla_clocks_complaint_id_fkey;
ALTER TABLE complaint_events
    DROP CONSTRAINT complaint_events_complaint_id_fkey,
    DROP CONSTRAINT complaint_events_actor_key_id_fkey;
ALTER TABLE complaints DROP CONSTRAINT complaints_created_by_key_id_fkey;
