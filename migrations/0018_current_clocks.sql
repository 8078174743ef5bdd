-- 0018: each complaint carries a copy of its two current SLA clocks.
--
-- Every read of a complaint shows its current clocks (first response,
-- cycle 1; resolution, the complaint's resolution_cycle). Read from
-- sla_clocks, that is two more index scans and heap fetches per
-- complaint, and three quarters of a get's cost in the database (a get
-- by id: about 7,400 statements a second alone, 17,500 without the two
-- joins). The copy makes a get and a list page read one table.
--
-- sla_clocks stays the record: the SLA worker claims and plans from it,
-- a change locks and reads it. fr_clock and rs_clock are written in the
-- same statement as the clock itself, by its only two writers (a create
-- or a change, src/db/complaints.c; the SLA worker's pass, which locks
-- the complaint with the clock, src/db/sla_clocks.c), as one line of
-- text the server reads without a JSON parser:
--
--   target cycle policy_id calendar_id target_seconds elapsed_seconds
--   running_since due_at met_at breached breach_raised_at next_alert_at
--   warnings
--
-- instants in epoch seconds (0: none), breached 1 or 0, then the
-- warnings ladder as JSON to the end of the line. NULL: no such clock.
-- ombud_clock_text() below writes the same line from a clock row; the
-- server's text differs only in the JSON's spacing and key order.

ALTER TABLE complaints ADD COLUMN fr_clock text, ADD COLUMN rs_clock text;

CREATE FUNCTION ombud_clock_text(k sla_clocks) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT concat_ws(' ', k.target, k.cycle, k.policy_id, k.calendar_id, k.target_seconds,
                     k.elapsed_seconds,
                     coalesce(extract(epoch FROM k.running_since)::bigint, 0),
                     coalesce(extract(epoch FROM k.due_at)::bigint, 0),
                     coalesce(extract(epoch FROM k.met_at)::bigint, 0),
                     CASE WHEN k.breached THEN 1 ELSE 0 END,
                     coalesce(extract(epoch FROM k.breach_raised_at)::bigint, 0),
                     coalesce(extract(epoch FROM k.next_alert_at)::bigint, 0),
                     k.warnings::text)
$$;

-- Whether two such lines say the same (the JSON compared as jsonb).
CREATE FUNCTION ombud_clock_text_same(a text, b text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT (a IS NULL AND b IS NULL)
        OR (a IS NOT NULL AND b IS NOT NULL
            AND substr(a, 1, strpos(a, ' [')) = substr(b, 1, strpos(b, ' ['))
            AND substr(a, strpos(a, ' [') + 1)::jsonb = substr(b, strpos(b, ' [') + 1)::jsonb)
$$;

-- Sets the copies of the given complaints (NULL: of every complaint)
-- from sla_clocks: this migration, and scripts that write clocks
-- directly, such as the benchmark's seed.
CREATE FUNCTION ombud_clock_copy_refresh(ids bigint[]) RETURNS void
LANGUAGE sql AS $$
    UPDATE complaints c
    SET fr_clock = (SELECT ombud_clock_text(k) FROM sla_clocks k
                    WHERE k.complaint_id = c.id AND k.target = 'first_response' AND k.cycle = 1),
        rs_clock = (SELECT ombud_clock_text(k) FROM sla_clocks k
                    WHERE k.complaint_id = c.id AND k.target = 'resolution'
                      AND k.cycle = c.resolution_cycle)
    -- IN (a subquery), hashed once, not c.id = ANY (ids), which searched
    -- the whole array for every row
    WHERE ids IS NULL OR c.id IN (SELECT unnest(ids))
$$;

SELECT ombud_clock_copy_refresh(NULL);
