/* API keys: the only SQL touching api_keys. Secrets never reach here, only hashes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/internal.h"
#include "ombud/db/api_keys.h"

/* Every alias is the name key_cols looks for. */
#define KEY_COLS                                                                                   \
    "id, name, role, agent_id, ombud_usec(created_at) AS created_at_us,"                           \
    " ombud_usec(last_used_at) AS last_used_at_us"

static const struct ombud_db_col key_cols[] = {
    OMBUD_COL_I64(struct ombud_api_key, id, "id"),
    OMBUD_COL_TEXT(struct ombud_api_key, name, "name"),
    OMBUD_COL_TEXT(struct ombud_api_key, role, "role"),
    OMBUD_COL_I64(struct ombud_api_key, agent_id, "agent_id"),
    OMBUD_COL_USEC(struct ombud_api_key, created_at, "created_at_us"),
    OMBUD_COL_USEC(struct ombud_api_key, last_used_at, "last_used_at_us"),
    OMBUD_COL_END};

/* clang-format off */
static struct ombud_db_stmt q_insert = OMBUD_STMT(
    "INSERT INTO api_keys (name, role, agent_id, key_hash)"
    " VALUES ($1::text, $2::text, $3::bigint, $4::text) RETURNING " KEY_COLS);
/* clang-format on */

enum ombud_rc ombud_db_api_key_insert(struct ombud_db_conn *c, const char *name, const char *role,
                                      int64_t agent_id, const char *hash, struct ombud_api_key *out,
                                      struct ombud_err *err)
{
    char agent[OMBUD_DB_I64_BUFLEN];
    ombud_db_param_i64(agent, sizeof agent, agent_id);
    const char *p[] = {name, role, agent_id ? agent : NULL, hash};
    PGresult *r;
    bool inserted;
    enum ombud_rc rc = ombud_db_exec(c, &q_insert, 4, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_db_read_one(r, key_cols, out, &inserted, err);
}

static struct ombud_db_stmt q_ensure_admin = OMBUD_STMT(
    "INSERT INTO api_keys (name, role, key_hash) VALUES ('bootstrap admin', 'admin', $1::text)"
    " ON CONFLICT (key_hash) DO UPDATE SET role = 'admin', revoked_at = NULL");

enum ombud_rc ombud_db_api_key_ensure_admin(struct ombud_db_conn *c, const char *hash,
                                            struct ombud_err *err)
{
    const char *p[] = {hash};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_ensure_admin, 1, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    PQclear(r);
    return OMBUD_OK;
}

/* One round trip: find the key and, at most once a minute, note its use. */
/* clang-format off */
static struct ombud_db_stmt q_auth = OMBUD_STMT(
    "WITH k AS (SELECT " KEY_COLS " FROM api_keys"
    "  WHERE key_hash = $1::text AND revoked_at IS NULL),"
    " touch AS (UPDATE api_keys SET last_used_at = now()"
    "  WHERE id = (SELECT id FROM k)"
    "  AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute'))"
    " SELECT * FROM k");
/* clang-format on */

enum ombud_rc ombud_db_api_key_authenticate(struct ombud_db_conn *c, const char *hash,
                                            struct ombud_api_key *out, bool *found,
                                            struct ombud_err *err)
{
    const char *p[] = {hash};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_auth, 1, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_db_read_one(r, key_cols, out, found, err);
}

static struct ombud_db_stmt q_touch =
    OMBUD_STMT("UPDATE api_keys SET last_used_at = now() WHERE id = $1::bigint"
               " AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')");

enum ombud_rc ombud_db_api_key_touch(struct ombud_db_conn *c, int64_t id, struct ombud_err *err)
{
    char ids[OMBUD_DB_I64_BUFLEN];
    ombud_db_param_i64(ids, sizeof ids, id);
    const char *p[] = {ids};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_touch, 1, p, &r, err);
    if (rc == OMBUD_OK)
        PQclear(r);
    return rc;
}

static struct ombud_db_stmt q_get =
    OMBUD_STMT("SELECT " KEY_COLS " FROM api_keys WHERE id = $1::bigint AND revoked_at IS NULL");

enum ombud_rc ombud_db_api_key_get(struct ombud_db_conn *c, int64_t id, struct ombud_api_key *out,
                                   bool *found, struct ombud_err *err)
{
    return ombud_db_get_by_id(c, &q_get, id, key_cols, out, found, err);
}

/* clang-format off */
static struct ombud_db_stmt q_list = OMBUD_STMT(
    "SELECT " KEY_COLS " FROM api_keys WHERE revoked_at IS NULL"
    " AND ($1::bigint = 0 OR id < $1::bigint) ORDER BY id DESC LIMIT $2::int");
/* clang-format on */

enum ombud_rc ombud_db_api_key_list(struct ombud_db_conn *c, int64_t before_id, int limit,
                                    struct ombud_api_key **out, size_t *n, struct ombud_err *err)
{
    return ombud_db_list_page(c, &q_list, before_id, limit, 0, NULL, key_cols, sizeof **out,
                              (void **)out, n, err);
}

static struct ombud_db_stmt q_revoke = OMBUD_STMT(
    "UPDATE api_keys SET revoked_at = now() WHERE id = $1::bigint AND revoked_at IS NULL");

enum ombud_rc ombud_db_api_key_revoke(struct ombud_db_conn *c, int64_t id, bool *found,
                                      struct ombud_err *err)
{
    char ids[OMBUD_DB_I64_BUFLEN];
    ombud_db_param_i64(ids, sizeof ids, id);
    const char *p[] = {ids};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_revoke, 1, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *found = strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    return OMBUD_OK;
}
