-- Every change to what an API key may do (revoked, reinstated, role,
-- agent, secret) or its removal is published on the channel of the key
-- caches (ombud_keys, service/inval.h), in the writing transaction, so
-- every server process drops its cached keys once it commits -- whoever
-- wrote it: Ombud's own revocation also publishes (and bumps its own
-- process at once), but an operator's UPDATE by hand must take effect
-- just as fast. Noting a key's use (last_used_at) changes none of these
-- columns, so it publishes nothing. Several rows in one transaction make
-- one notification (PostgreSQL folds identical ones).
CREATE FUNCTION ombud_api_keys_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ombud_keys', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_changed
    AFTER UPDATE OF revoked_at, role, agent_id, key_hash ON api_keys
    FOR EACH ROW
    WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.role IS DISTINCT FROM NEW.role
          OR OLD.agent_id IS DISTINCT FROM NEW.agent_id OR OLD.key_hash IS DISTINCT FROM NEW.key_hash)
    EXECUTE FUNCTION ombud_api_keys_changed();

CREATE TRIGGER api_keys_removed
    AFTER DELETE ON api_keys
    FOR EACH STATEMENT
    EXECUTE FUNCTION ombud_api_keys_changed();
