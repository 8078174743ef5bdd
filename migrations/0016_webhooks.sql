-- 0016: webhooks (API.md "Outbound: change feed, live stream, webhooks").
--
-- An endpoint keeps its own position in the change log (cursor): the
-- fan-out (src/outbound/sender.c) locks an endpoint's row FOR UPDATE SKIP
-- LOCKED, reads the settled changes after its cursor (the log's order
-- without gaps, 0015), writes one delivery per matching change and moves
-- the cursor past every change it read, in one transaction. So each
-- change becomes exactly one delivery per endpoint whatever the number of
-- processes, and the work survives restarts. A new endpoint (or one made
-- active again) starts at the log's end: it gets changes from then on.
--
-- The secret is kept because signing needs it (HMAC is keyed with it);
-- it is shown once, in the answer to create.
CREATE TABLE webhooks (
    id          bigserial PRIMARY KEY,
    url         text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    types       text[] NOT NULL DEFAULT '{}',
    active      boolean NOT NULL DEFAULT true,
    description text NOT NULL DEFAULT '',
    secret      text NOT NULL,
    cursor      bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per (endpoint, change) (a ping has no change). A sender claims
-- due rows FOR UPDATE SKIP LOCKED and sets lease_until beyond the longest
-- attempt, so that no other process takes the row while it is in flight;
-- a process that dies mid-attempt leaves a lease that expires. payload is
-- the body as first rendered, the same on every retry.
CREATE TABLE webhook_deliveries (
    id              bigserial PRIMARY KEY,
    webhook_id      bigint NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    change_id       bigint,
    type            text NOT NULL,
    msg_id          text NOT NULL,
    payload         text NOT NULL,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'failed')),
    next_attempt_at timestamptz,
    lease_until     timestamptz,
    attempts        integer NOT NULL DEFAULT 0,
    -- a manual retry of a finished delivery: one attempt, then this state
    -- again unless it succeeds
    retry_from      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (webhook_id, change_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
    WHERE state = 'pending';

CREATE TABLE webhook_attempts (
    id               bigserial PRIMARY KEY,
    delivery_id      bigint NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at               timestamptz NOT NULL DEFAULT now(),
    status           integer,
    duration_ms      integer NOT NULL,
    error            text,
    response_excerpt text
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);
