/* Teams and agents: the only SQL touching those tables. Reads go through
 * the shared paths of db/row.c with one column table per record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/internal.h"
#include "ombud/db/teams.h"

/* Every alias is the name team_cols looks for. */
#define TEAM_COLS                                                                                  \
    "id, name, escalation_team_id, assignment, ombud_usec(created_at) AS created_at_us,"           \
    " ombud_usec(updated_at) AS updated_at_us"

static const struct ombud_db_col team_cols[] = {
    OMBUD_COL_I64(struct ombud_team, id, "id"),
    OMBUD_COL_TEXT(struct ombud_team, name, "name"),
    OMBUD_COL_I64(struct ombud_team, escalation_team_id, "escalation_team_id"),
    OMBUD_COL_TEXT(struct ombud_team, assignment, "assignment"),
    OMBUD_COL_USEC(struct ombud_team, created_at, "created_at_us"),
    OMBUD_COL_USEC(struct ombud_team, updated_at, "updated_at_us"),
    OMBUD_COL_END};

/* clang-format off */
static struct ombud_db_stmt q_team_insert = OMBUD_STMT(
    "INSERT INTO teams (name, escalation_team_id, assignment)"
    " VALUES ($1::text, $2::bigint, $3::text) RETURNING " TEAM_COLS);
/* clang-format on */
static struct ombud_db_stmt q_team_update = OMBUD_STMT(
    "UPDATE teams SET name = $2::text, escalation_team_id = $3::bigint, assignment = $4::text,"
    " updated_at = now() WHERE id = $1::bigint RETURNING " TEAM_COLS);

enum ombud_rc ombud_db_team_save(struct ombud_db_conn *c, struct ombud_team *t, bool *found,
                                 struct ombud_err *err)
{
    char id[OMBUD_DB_I64_BUFLEN], esc[OMBUD_DB_I64_BUFLEN];
    PGresult *r;
    enum ombud_rc rc;
    ombud_db_param_i64(id, sizeof id, t->id);
    ombud_db_param_i64(esc, sizeof esc, t->escalation_team_id);
    if (t->id) {
        const char *p[] = {id, t->name, t->escalation_team_id ? esc : NULL, t->assignment};
        rc = ombud_db_exec(c, &q_team_update, 4, p, &r, err);
    } else {
        const char *p[] = {t->name, t->escalation_team_id ? esc : NULL, t->assignment};
        rc = ombud_db_exec(c, &q_team_insert, 3, p, &r, err);
    }
    if (rc != OMBUD_OK)
        return rc;
    return ombud_db_read_one(r, team_cols, t, found, err);
}

static struct ombud_db_stmt q_team_get =
    OMBUD_STMT("SELECT " TEAM_COLS " FROM teams WHERE id = $1::bigint");

enum ombud_rc ombud_db_team_get(struct ombud_db_conn *c, int64_t id, struct ombud_team *out,
                                bool *found, struct ombud_err *err)
{
    return ombud_db_get_by_id(c, &q_team_get, id, team_cols, out, found, err);
}

/* clang-format off */
static struct ombud_db_stmt q_team_list = OMBUD_STMT(
    "SELECT " TEAM_COLS " FROM teams WHERE id > $1::bigint ORDER BY id LIMIT $2::int");
/* clang-format on */

enum ombud_rc ombud_db_team_list(struct ombud_db_conn *c, int64_t after_id, int limit,
                                 struct ombud_team **out, size_t *n, struct ombud_err *err)
{
    return ombud_db_list_page(c, &q_team_list, after_id, limit, 0, NULL, team_cols, sizeof **out,
                              (void **)out, n, err);
}

/* Every alias is the name agent_cols looks for. */
#define AGENT_COLS                                                                                 \
    "id, name, email, team_id, role, active, ombud_usec(created_at) AS created_at_us,"             \
    " ombud_usec(updated_at) AS updated_at_us"

static const struct ombud_db_col agent_cols[] = {
    OMBUD_COL_I64(struct ombud_agent, id, "id"),
    OMBUD_COL_TEXT(struct ombud_agent, name, "name"),
    OMBUD_COL_TEXT(struct ombud_agent, email, "email"),
    OMBUD_COL_I64(struct ombud_agent, team_id, "team_id"),
    OMBUD_COL_TEXT(struct ombud_agent, role, "role"),
    OMBUD_COL_BOOL(struct ombud_agent, active, "active"),
    OMBUD_COL_USEC(struct ombud_agent, created_at, "created_at_us"),
    OMBUD_COL_USEC(struct ombud_agent, updated_at, "updated_at_us"),
    OMBUD_COL_END};

static struct ombud_db_stmt q_agent_insert = OMBUD_STMT(
    "INSERT INTO agents (name, email, team_id, role, active)"
    " VALUES ($1::text, $2::text, $3::bigint, $4::text, $5::boolean) RETURNING " AGENT_COLS);
static struct ombud_db_stmt q_agent_update = OMBUD_STMT(
    "UPDATE agents SET name = $2::text, email = $3::text, team_id = $4::bigint, role = $5::text,"
    " active = $6::boolean, updated_at = now() WHERE id = $1::bigint RETURNING " AGENT_COLS);

enum ombud_rc ombud_db_agent_save(struct ombud_db_conn *c, struct ombud_agent *a, bool *found,
                                  struct ombud_err *err)
{
    char id[OMBUD_DB_I64_BUFLEN], team[OMBUD_DB_I64_BUFLEN];
    PGresult *r;
    enum ombud_rc rc;
    ombud_db_param_i64(id, sizeof id, a->id);
    ombud_db_param_i64(team, sizeof team, a->team_id);
    const char *email = a->email[0] ? a->email : NULL;
    const char *teamp = a->team_id ? team : NULL;
    const char *active = a->active ? "true" : "false";
    if (a->id) {
        const char *p[] = {id, a->name, email, teamp, a->role, active};
        rc = ombud_db_exec(c, &q_agent_update, 6, p, &r, err);
    } else {
        const char *p[] = {a->name, email, teamp, a->role, active};
        rc = ombud_db_exec(c, &q_agent_insert, 5, p, &r, err);
    }
    if (rc != OMBUD_OK)
        return rc;
    return ombud_db_read_one(r, agent_cols, a, found, err);
}

static struct ombud_db_stmt q_agent_get =
    OMBUD_STMT("SELECT " AGENT_COLS " FROM agents WHERE id = $1::bigint");

enum ombud_rc ombud_db_agent_get(struct ombud_db_conn *c, int64_t id, struct ombud_agent *out,
                                 bool *found, struct ombud_err *err)
{
    return ombud_db_get_by_id(c, &q_agent_get, id, agent_cols, out, found, err);
}

/* clang-format off */
static struct ombud_db_stmt q_agent_list = OMBUD_STMT(
    "SELECT " AGENT_COLS " FROM agents WHERE id > $1::bigint"
    " AND ($3::bigint = 0 OR team_id = $3::bigint) ORDER BY id LIMIT $2::int");
/* clang-format on */

enum ombud_rc ombud_db_agent_list(struct ombud_db_conn *c, int64_t after_id, int limit,
                                  int64_t team_id, struct ombud_agent **out, size_t *n,
                                  struct ombud_err *err)
{
    char team[OMBUD_DB_I64_BUFLEN];
    ombud_db_param_i64(team, sizeof team, team_id);
    const char *extra[] = {team};
    return ombud_db_list_page(c, &q_agent_list, after_id, limit, 1, extra, agent_cols, sizeof **out,
                              (void **)out, n, err);
}

/* ---- routing (API.md "Escalation and assignment") ----
 *
 * Routers into one round_robin team queue on the team's row: the lock is
 * its own statement, and the pick a later one, so that under READ
 * COMMITTED the pick's snapshot, taken once the lock is held, sees every
 * complaint an earlier router committed. FOR NO KEY UPDATE, because
 * inserting or changing a complaint that refers to the team takes KEY
 * SHARE on it (the foreign key), which this lets through. */

static struct ombud_db_stmt q_route_lock =
    OMBUD_STMT("SELECT id FROM teams WHERE id = $1::bigint AND assignment = 'round_robin'"
               " FOR NO KEY UPDATE");

enum ombud_rc ombud_db_team_route_lock(struct ombud_db_conn *c, int64_t team_id, bool *round_robin,
                                       struct ombud_err *err)
{
    char id[OMBUD_DB_I64_BUFLEN];
    PGresult *r;
    ombud_db_param_i64(id, sizeof id, team_id);
    const char *p[] = {id};
    enum ombud_rc rc = ombud_db_exec(c, &q_route_lock, 1, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *round_robin = PQntuples(r) == 1;
    PQclear(r);
    return OMBUD_OK;
}

/* The count is served by complaints_open_assignee (migrations/0014),
 * whose predicate this repeats. clock_timestamp(), not now(): two routers
 * into one team run one after the other, but the second's transaction
 * may have begun first. */
/* clang-format off */
static struct ombud_db_stmt q_route_pick = OMBUD_STMT(
    "WITH pick AS (SELECT a.id FROM agents a WHERE a.team_id = $1::bigint AND a.active"
    " ORDER BY (SELECT count(*) FROM complaints c WHERE c.assignee_id = a.id"
    " AND c.status NOT IN ('resolved', 'closed')), a.last_assigned_at NULLS FIRST, a.id"
    " LIMIT 1)"
    " UPDATE agents a SET last_assigned_at = clock_timestamp() FROM pick WHERE a.id = pick.id"
    " RETURNING a.id");
/* clang-format on */

enum ombud_rc ombud_db_team_route_pick(struct ombud_db_conn *c, int64_t team_id, int64_t *agent_id,
                                       struct ombud_err *err)
{
    char id[OMBUD_DB_I64_BUFLEN];
    PGresult *r;
    ombud_db_param_i64(id, sizeof id, team_id);
    const char *p[] = {id};
    enum ombud_rc rc = ombud_db_exec(c, &q_route_pick, 1, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *agent_id = PQntuples(r) == 1 ? ombud_db_int(r, 0, 0) : 0;
    PQclear(r);
    return OMBUD_OK;
}

static struct ombud_db_stmt q_agent_assigned =
    OMBUD_STMT("UPDATE agents SET last_assigned_at = clock_timestamp() WHERE id = $1::bigint");

enum ombud_rc ombud_db_agent_mark_assigned(struct ombud_db_conn *c, int64_t agent_id,
                                           struct ombud_err *err)
{
    char id[OMBUD_DB_I64_BUFLEN];
    PGresult *r;
    ombud_db_param_i64(id, sizeof id, agent_id);
    const char *p[] = {id};
    enum ombud_rc rc = ombud_db_exec(c, &q_agent_assigned, 1, p, &r, err);
    if (rc == OMBUD_OK)
        PQclear(r);
    return rc;
}

static struct ombud_db_stmt q_agent_member =
    OMBUD_STMT("SELECT EXISTS (SELECT 1 FROM agents WHERE id = $1::bigint AND team_id = $2::bigint"
               " AND active)");

enum ombud_rc ombud_db_agent_is_member(struct ombud_db_conn *c, int64_t agent_id, int64_t team_id,
                                       bool *member, struct ombud_err *err)
{
    char a[OMBUD_DB_I64_BUFLEN], t[OMBUD_DB_I64_BUFLEN];
    PGresult *r;
    ombud_db_param_i64(a, sizeof a, agent_id);
    ombud_db_param_i64(t, sizeof t, team_id);
    const char *p[] = {a, t};
    enum ombud_rc rc = ombud_db_exec(c, &q_agent_member, 2, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *member = ombud_db_bool(r, 0, 0);
    PQclear(r);
    return OMBUD_OK;
}

/* ---- escalation chains ---- */

/* pg_advisory_xact_lock key: "ombudesc" */
#define CHAIN_LOCK_KEY "8029181967006528355"

static struct ombud_db_stmt q_chain_lock =
    OMBUD_STMT("SELECT pg_advisory_xact_lock(" CHAIN_LOCK_KEY ")");

enum ombud_rc ombud_db_team_chain_lock(struct ombud_db_conn *c, struct ombud_err *err)
{
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_chain_lock, 0, NULL, &r, err);
    if (rc == OMBUD_OK)
        PQclear(r);
    return rc;
}

/* UNION, not UNION ALL: the walk ends even on a chain that loops. */
/* clang-format off */
static struct ombud_db_stmt q_chain_reaches = OMBUD_STMT(
    "WITH RECURSIVE chain (id) AS (SELECT $1::bigint"
    " UNION SELECT t.escalation_team_id FROM teams t JOIN chain ON t.id = chain.id"
    " WHERE t.escalation_team_id IS NOT NULL)"
    " SELECT EXISTS (SELECT 1 FROM chain WHERE id = $2::bigint)");
/* clang-format on */

enum ombud_rc ombud_db_team_chain_reaches(struct ombud_db_conn *c, int64_t from_id, int64_t team_id,
                                          bool *reaches, struct ombud_err *err)
{
    char f[OMBUD_DB_I64_BUFLEN], t[OMBUD_DB_I64_BUFLEN];
    PGresult *r;
    ombud_db_param_i64(f, sizeof f, from_id);
    ombud_db_param_i64(t, sizeof t, team_id);
    const char *p[] = {f, t};
    enum ombud_rc rc = ombud_db_exec(c, &q_chain_reaches, 2, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *reaches = ombud_db_bool(r, 0, 0);
    PQclear(r);
    return OMBUD_OK;
}
