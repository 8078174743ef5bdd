-- 0001: foundation. Helpers shared by every later migration, and API keys.

-- Microseconds since the epoch: how instants cross into C (exact, no
-- float rounding, no time zone text to parse).
CREATE FUNCTION ombud_usec(timestamptz) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT (extract(epoch FROM $1) * 1000000)::bigint $$;

CREATE TABLE api_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    role         text NOT NULL CHECK (role IN ('service', 'agent', 'supervisor', 'admin')),
    agent_id     bigint CHECK (agent_id > 0),
    -- lowercase hex SHA-256 of the secret; the secret itself is never stored
    key_hash     text NOT NULL UNIQUE CHECK (key_hash ~ '^[0-9a-f]{64}$'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
