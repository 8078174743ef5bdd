-- 0002: complaints, their categories, notes, timeline and idempotent intake;
-- teams and agents, which complaints are assigned to.
-- Every rule the C validation enforces is also a constraint here, so no
-- path (a bug, a manual fix, a future endpoint) can store an invalid
-- complaint.

CREATE TABLE categories (
    key        text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_]{0,39}$'),
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO categories (key, name) VALUES
    ('after_sales', 'After-sales service'),
    ('contract', 'Contracts'),
    ('quality', 'Quality'),
    ('service', 'Service'),
    ('billing', 'Billing'),
    ('delivery', 'Delivery'),
    ('other', 'Other');

CREATE TABLE teams (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name               text NOT NULL UNIQUE CHECK (char_length(name) BETWEEN 1 AND 100),
    escalation_team_id bigint REFERENCES teams (id),
    assignment         text NOT NULL DEFAULT 'manual'
                       CHECK (assignment IN ('round_robin', 'manual')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CHECK (escalation_team_id IS DISTINCT FROM id)
);

CREATE TABLE agents (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    email      text UNIQUE CHECK (char_length(email) BETWEEN 3 AND 320 AND email LIKE '%_@_%'),
    team_id    bigint REFERENCES teams (id),
    role       text NOT NULL DEFAULT 'agent' CHECK (role IN ('agent', 'supervisor', 'admin')),
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agents_team ON agents (team_id) WHERE active;

ALTER TABLE api_keys ADD FOREIGN KEY (agent_id) REFERENCES agents (id);

-- Search: lowercase character unigrams and bigrams (whitespace dropped).
-- A GIN index over them serves substring search in any script: a
-- two-character Chinese word is one bigram, which trigrams cannot serve,
-- and an English word is a handful of bigrams. The exact substring test
-- (strpos) then removes the rare false positive.
CREATE FUNCTION ombud_grams(t text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT g), '{}')
      FROM (SELECT lower(t) AS s) x,
           LATERAL (SELECT substr(x.s, i, 2) AS g
                      FROM generate_series(1, char_length(x.s) - 1) i
                    UNION ALL
                    SELECT substr(x.s, i, 1)
                      FROM generate_series(1, char_length(x.s)) i) y
     WHERE y.g !~ '\s'
$$;

-- The grams a query needs: its bigrams, or its one character.
CREATE FUNCTION ombud_query_grams(q text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN char_length(btrim(lower(q))) = 1 THEN ARRAY[btrim(lower(q))]
           ELSE coalesce((SELECT array_agg(DISTINCT g)
                            FROM (SELECT substr(lower(q), i, 2) AS g
                                    FROM generate_series(1, char_length(q) - 1) i) y
                           WHERE y.g !~ '\s'), '{}') END
$$;

CREATE FUNCTION ombud_complaint_search_text(title text, description text, customer text)
    RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT lower(coalesce(title, '') || E'\n' || coalesce(description, '') || E'\n' ||
                 coalesce(customer, ''))
$$;

CREATE TABLE complaints (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title                text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    description          text NOT NULL CHECK (char_length(description) BETWEEN 1 AND 20000),
    customer_name        text NOT NULL CHECK (char_length(customer_name) BETWEEN 1 AND 200),
    customer_external_id text CHECK (char_length(customer_external_id) BETWEEN 1 AND 200),
    customer_email       text CHECK (char_length(customer_email) BETWEEN 3 AND 320
                                     AND customer_email LIKE '%_@_%'),
    customer_phone       text CHECK (char_length(customer_phone) BETWEEN 1 AND 50),
    customer_tier        text NOT NULL DEFAULT 'standard'
                         CHECK (customer_tier IN ('standard', 'vip')),
    channel              text NOT NULL DEFAULT 'api'
                         CHECK (channel IN ('phone', 'chat', 'email', 'web', 'social',
                                            'in_person', 'api')),
    category             text NOT NULL DEFAULT 'other' REFERENCES categories (key),
    grade                text NOT NULL DEFAULT 'explicit'
                         CHECK (grade IN ('potential', 'explicit', 'high_risk')),
    priority             text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    demand               text CHECK (demand IN ('explanation', 'repair', 'replacement', 'refund',
                                                'compensation', 'apology', 'other')),
    demand_detail        text CHECK (char_length(demand_detail) BETWEEN 1 AND 5000),
    tags                 text[] NOT NULL DEFAULT '{}'
                         CHECK (cardinality(tags) <= 20 AND array_position(tags, NULL) IS NULL),
    team_id              bigint REFERENCES teams (id),
    assignee_id          bigint REFERENCES agents (id),
    external_ref         text CHECK (char_length(external_ref) BETWEEN 1 AND 200),
    status               text NOT NULL DEFAULT 'new'
                         CHECK (status IN ('new', 'acknowledged', 'in_progress',
                                           'pending_customer', 'resolved', 'closed')),
    escalation_level     integer NOT NULL DEFAULT 0 CHECK (escalation_level >= 0),
    reopen_count         integer NOT NULL DEFAULT 0 CHECK (reopen_count >= 0),
    resolution_summary   text CHECK (char_length(resolution_summary) BETWEEN 1 AND 5000),
    compensation_amount  numeric(14, 2) CHECK (compensation_amount >= 0),
    compensation_currency text CHECK (compensation_currency ~ '^[A-Z]{3}$'),
    customer_agreed      boolean,
    satisfaction_score   smallint CHECK (satisfaction_score BETWEEN 1 AND 5),
    satisfaction_comment text CHECK (char_length(satisfaction_comment) BETWEEN 1 AND 2000),
    satisfaction_at      timestamptz,
    created_by_key_id    bigint REFERENCES api_keys (id),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    first_response_at    timestamptz,
    resolved_at          timestamptz,
    closed_at            timestamptz,
    version              integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    CHECK ((compensation_amount IS NULL) = (compensation_currency IS NULL)),
    CHECK (status <> 'resolved' OR (resolution_summary IS NOT NULL AND resolved_at IS NOT NULL)),
    CHECK (status <> 'closed' OR closed_at IS NOT NULL),
    CHECK ((satisfaction_score IS NULL) = (satisfaction_at IS NULL))
);
CREATE INDEX complaints_created ON complaints (created_at DESC, id DESC);
CREATE INDEX complaints_status ON complaints (status, created_at DESC, id DESC);
CREATE INDEX complaints_team ON complaints (team_id, created_at DESC) WHERE team_id IS NOT NULL;
CREATE INDEX complaints_assignee ON complaints (assignee_id, created_at DESC)
    WHERE assignee_id IS NOT NULL;
CREATE INDEX complaints_customer ON complaints (customer_external_id)
    WHERE customer_external_id IS NOT NULL;
CREATE INDEX complaints_creator ON complaints (created_by_key_id, created_at DESC, id DESC);
CREATE INDEX complaints_search ON complaints
    USING gin (ombud_grams(ombud_complaint_search_text(title, description, customer_name)));

CREATE TABLE complaint_notes (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id  bigint NOT NULL REFERENCES complaints (id),
    body          text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 20000),
    visibility    text NOT NULL CHECK (visibility IN ('internal', 'public')),
    author_key_id bigint REFERENCES api_keys (id),
    author_role   text NOT NULL CHECK (author_role IN ('service', 'agent', 'supervisor', 'admin')),
    author_agent_id bigint REFERENCES agents (id),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX complaint_notes_complaint ON complaint_notes (complaint_id, id);

-- The timeline: append-only. Written in the same transaction as the change
-- it records; updates and deletes are refused by the trigger below.
CREATE TABLE complaint_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    complaint_id   bigint NOT NULL REFERENCES complaints (id),
    kind           text NOT NULL CHECK (kind IN ('created', 'updated', 'status_changed',
                        'note_added', 'assigned', 'escalated', 'sla_warning', 'sla_breached',
                        'sla_paused', 'sla_resumed', 'satisfaction_recorded')),
    actor_key_id   bigint REFERENCES api_keys (id),
    actor_role     text CHECK (actor_role IN ('service', 'agent', 'supervisor', 'admin', 'system')),
    actor_agent_id bigint REFERENCES agents (id),
    data           jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX complaint_events_complaint ON complaint_events (complaint_id, id);

CREATE FUNCTION ombud_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'complaint_events is append-only' USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER complaint_events_append_only BEFORE UPDATE OR DELETE ON complaint_events
    FOR EACH ROW EXECUTE FUNCTION ombud_events_append_only();

-- Idempotent intake: one row per (API key, Idempotency-Key), written in
-- the same transaction as the complaint it created, so a key can never
-- yield two complaints nor a complaint without its stored response.
-- While the first request runs it holds a transaction-scoped advisory
-- lock on the key, which is how a concurrent repeat knows to answer 409.
-- Rows older than 24 h no longer count.
CREATE TABLE idempotency_keys (
    api_key_id      bigint NOT NULL REFERENCES api_keys (id),
    key             text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    request_hash    text NOT NULL CHECK (request_hash ~ '^[0-9a-f]{64}$'),
    response_status integer NOT NULL,
    response_body   text NOT NULL,
    complaint_id    bigint NOT NULL REFERENCES complaints (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (api_key_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Microseconds since the epoch back to an instant (exact; see ombud_usec).
CREATE FUNCTION ombud_ts(bigint) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT 'epoch'::timestamptz + $1 * interval '1 microsecond' $$;
