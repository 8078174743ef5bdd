-- 0013: escalation rules (API.md "Escalation and assignment").
--
-- A rule: when its trigger happens to a complaint (created, reopened, an
-- SLA warning or breach of its target), and delay_minutes business
-- minutes later its conditions hold, it acts (priority, team, assignee,
-- one level up, an `escalation` alert). Rules are configuration: each
-- process caches the active ones (service/rules.c) and a change is
-- announced on the `ombud_rules` channel (service/inval.h).
CREATE TABLE escalation_rules (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    position            integer NOT NULL CHECK (position >= 0),
    active              boolean NOT NULL DEFAULT true,
    trigger             text NOT NULL
                        CHECK (trigger IN ('created', 'reopened', 'sla_warning', 'sla_breach')),
    target              text NOT NULL DEFAULT 'any'
                        CHECK (target IN ('first_response', 'resolution', 'any')),
    delay_minutes       integer NOT NULL DEFAULT 0 CHECK (delay_minutes BETWEEN 0 AND 5256000),
    cond_priorities     text[] NOT NULL DEFAULT '{}',
    cond_grades         text[] NOT NULL DEFAULT '{}',
    cond_categories     text[] NOT NULL DEFAULT '{}',
    cond_channels       text[] NOT NULL DEFAULT '{}',
    cond_customer_tiers text[] NOT NULL DEFAULT '{}',
    cond_team_ids       bigint[] NOT NULL DEFAULT '{}',
    cond_min_level      integer CHECK (cond_min_level >= 0),
    cond_max_level      integer CHECK (cond_max_level >= 0),
    set_priority        text CHECK (set_priority IN ('low', 'normal', 'high', 'urgent')),
    set_team_id         bigint REFERENCES teams (id),
    set_assignee_id     bigint REFERENCES agents (id),
    raise_level         boolean NOT NULL DEFAULT false,
    notify              boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (cond_min_level IS NULL OR cond_max_level IS NULL OR cond_min_level <= cond_max_level),
    CHECK (set_priority IS NOT NULL OR set_team_id IS NOT NULL OR set_assignee_id IS NOT NULL
           OR raise_level OR notify)
);

-- A rule's run for one complaint and cycle (the complaint's resolution
-- cycle when the trigger happened): the primary key is what makes a rule
-- act at most once per complaint and cycle, whatever the number of
-- processes. A run is written when its trigger happens: `fired` at once
-- when it has no delay and acts in the same transaction, else `pending`
-- until due_at, when the worker claims it (FOR UPDATE SKIP LOCKED, like
-- the SLA clocks) and fires or skips it, with the reason, in one
-- transaction; a pending run outlives restarts and outages: the table is
-- the truth. Deleting a rule deletes its runs (the timeline keeps what
-- it did).
CREATE TABLE escalation_rule_runs (
    rule_id      bigint NOT NULL REFERENCES escalation_rules (id) ON DELETE CASCADE,
    complaint_id bigint NOT NULL REFERENCES complaints (id),
    cycle        integer NOT NULL CHECK (cycle >= 1),
    -- the SLA target whose alert triggered it; 'any' for created, reopened
    target       text NOT NULL CHECK (target IN ('first_response', 'resolution', 'any')),
    triggered_at timestamptz NOT NULL,
    due_at       timestamptz NOT NULL,
    state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'fired', 'skipped')),
    done_at      timestamptz,
    reason       text,
    PRIMARY KEY (rule_id, complaint_id, cycle),
    CHECK ((state = 'pending') = (done_at IS NULL))
);
CREATE INDEX escalation_rule_runs_due ON escalation_rule_runs (due_at) WHERE state = 'pending';
CREATE INDEX escalation_rule_runs_complaint ON escalation_rule_runs (complaint_id, cycle);

-- Who acted: a rule (actor {type: "rule", rule_id}). No foreign key: the
-- timeline outlives a deleted rule.
ALTER TABLE complaint_events ADD COLUMN actor_rule_id bigint;
ALTER DOMAIN ombud_ev_actor_role DROP CONSTRAINT complaint_events_actor_role_check;
ALTER DOMAIN ombud_ev_actor_role ADD CONSTRAINT complaint_events_actor_role_check
    CHECK (VALUE IN ('service', 'agent', 'supervisor', 'admin', 'system', 'rule'));
ALTER DOMAIN ombud_ev_kind DROP CONSTRAINT complaint_events_kind_check;
ALTER DOMAIN ombud_ev_kind ADD CONSTRAINT complaint_events_kind_check
    CHECK (VALUE IN ('created', 'updated', 'status_changed', 'note_added', 'assigned', 'escalated',
                     'sla_warning', 'sla_breached', 'sla_paused', 'sla_resumed',
                     'satisfaction_recorded', 'rule_skipped'));

-- An `escalation` alert is raised by a rule's `notify`, once per rule,
-- complaint and cycle; SLA alerts stay once per (complaint, target,
-- cycle, kind, level).
ALTER TABLE alerts ADD COLUMN rule_id bigint;
ALTER TABLE alerts DROP CONSTRAINT alerts_complaint_id_target_cycle_kind_level_key;
CREATE UNIQUE INDEX alerts_sla_once ON alerts (complaint_id, target, cycle, kind, level)
    WHERE kind <> 'escalation';
CREATE UNIQUE INDEX alerts_rule_once ON alerts (rule_id, complaint_id, cycle)
    WHERE kind = 'escalation';
ALTER TABLE alerts ADD CHECK ((kind = 'escalation') = (rule_id IS NOT NULL));
