-- 0015: the change log (API.md "Outbound: change feed, live stream,
-- webhooks"). Every timeline event and every alert is also a change,
-- written by the same statement that writes the event or alert.
--
-- ORDER WITHOUT GAPS. A change's id is its transaction's id times 2^20
-- plus its place among that transaction's changes:
--
--     id = (pg_current_xact_id() << 20) + n,   n = 1, 2, ...
--
-- so ids sort by (transaction id, order within it). Readers return only
-- changes whose transaction id is below the oldest transaction still in
-- progress (pg_snapshot_xmin of the reading statement's snapshot), i.e.
-- id < xmin << 20. Why that never misses a change: every transaction
-- below xmin has ended, so the changes below that bound are all visible
-- (committed) or never will be (rolled back); and any change not yet
-- visible belongs to a transaction in progress or yet to start, whose id
-- is at least xmin, so its change id is above every id already returned.
-- A reader that resumes after the last id it saw therefore sees every
-- later change, in one order, across any number of writers and server
-- processes. The cost is a delay: a change waits until every transaction
-- that took its id before it has ended (ours last milliseconds). No
-- extra write, lock or sequencer is involved.
--
-- Transaction ids are cluster-wide and below 2^33 for a long time (at
-- 1,000 write transactions a second, 270 years), so ids stay below 2^53
-- and exact in JSON. At most 2^20 - 1 changes per transaction.
--
-- A change keeps the complaint's state at that change (reference from
-- the id; status, priority, team, assignee, version) and points at its
-- event or alert, which readers join (events are append-only).
CREATE TABLE changes (
    id           bigint PRIMARY KEY,
    type         text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now(),
    complaint_id bigint NOT NULL,
    event_id     bigint,
    alert_id     bigint,
    status       text,
    priority     text,
    team_id      bigint,
    assignee_id  bigint,
    version      integer,
    CHECK ((event_id IS NULL) <> (alert_id IS NULL))
);
