-- 0005: SLA clocks and alerts.

-- A clock: business time toward one target of one complaint in one cycle
-- (reopen starts a new resolution cycle). Elapsed business time is kept
-- as `elapsed_seconds` up to `running_since` (NULL while paused), so
-- pausing, resuming and re-selecting a policy keep what has elapsed.
-- `warnings` is the ladder: [{"level", "threshold", "at", "raised_at"}]
-- with thresholds in business seconds and instants as epoch seconds.
-- `next_alert_at` is the earliest unraised warning or breach: the worker
-- finds due clocks through its partial index, whatever the number of
-- open complaints.
CREATE TABLE sla_clocks (
    complaint_id    bigint NOT NULL REFERENCES complaints (id),
    target          text NOT NULL CHECK (target IN ('first_response', 'resolution')),
    cycle           integer NOT NULL CHECK (cycle >= 1),
    policy_id       bigint NOT NULL REFERENCES sla_policies (id),
    calendar_id     bigint NOT NULL REFERENCES calendars (id),
    target_seconds  bigint NOT NULL CHECK (target_seconds > 0),
    elapsed_seconds bigint NOT NULL DEFAULT 0 CHECK (elapsed_seconds >= 0),
    running_since   timestamptz,
    due_at          timestamptz,
    met_at          timestamptz,
    breached        boolean NOT NULL DEFAULT false,
    breach_raised_at timestamptz,
    warnings        jsonb NOT NULL DEFAULT '[]',
    next_alert_at   timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (complaint_id, target, cycle)
);
CREATE INDEX sla_clocks_next_alert ON sla_clocks (next_alert_at)
    WHERE next_alert_at IS NOT NULL;
CREATE INDEX sla_clocks_due ON sla_clocks (due_at)
    WHERE due_at IS NOT NULL AND met_at IS NULL;

ALTER TABLE complaints ADD COLUMN sla_policy_id bigint REFERENCES sla_policies (id);
ALTER TABLE complaints ADD COLUMN resolution_cycle integer NOT NULL DEFAULT 1;

CREATE TABLE alerts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind            text NOT NULL CHECK (kind IN ('sla_warning', 'sla_breach', 'escalation')),
    level           integer NOT NULL DEFAULT 0,
    complaint_id    bigint NOT NULL REFERENCES complaints (id),
    target          text NOT NULL CHECK (target IN ('first_response', 'resolution', 'any')),
    cycle           integer NOT NULL,
    scheduled_at    timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    acknowledged_at timestamptz,
    acknowledged_by bigint REFERENCES api_keys (id),
    -- exactly once, whatever the number of server processes
    UNIQUE (complaint_id, target, cycle, kind, level)
);
CREATE INDEX alerts_open ON alerts (id) WHERE acknowledged_at IS NULL;
CREATE INDEX alerts_complaint ON alerts (complaint_id, id);
