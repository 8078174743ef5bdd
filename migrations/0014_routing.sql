-- 0014: round-robin routing (API.md "Escalation and assignment").
--
-- A complaint that lands in a round_robin team without an assignee goes
-- to the team's active member with the fewest open complaints; ties go
-- to the member assigned least recently (never assigned first), then to
-- the lowest id (src/db/teams.c q_route_pick).
--
-- last_assigned_at: when the agent was last given a complaint, by
-- routing or by name (at intake, by a change). Bookkeeping of the
-- router's tie-break, so it leaves the agent's updated_at alone.
ALTER TABLE agents ADD COLUMN last_assigned_at timestamptz;

-- The router counts each member's open complaints: an index over just
-- those keeps the count to the agent's open ones, however many the agent
-- has resolved or closed. Complaints without an assignee (every create
-- without one, and their transitions) have no entry here.
CREATE INDEX complaints_open_assignee ON complaints (assignee_id)
    WHERE assignee_id IS NOT NULL AND status NOT IN ('resolved', 'closed');
