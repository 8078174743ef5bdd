/* Teams and agents: the only SQL touching those tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/internal.h"
#include "ombud/db/teams.h"

#define TEAM_COLS                                                                                  \
    "id, name, escalation_team_id, assignment, ombud_usec(created_at), ombud_usec(updated_at)"

static void read_team(const PGresult *r, int row, void *rec)
{
    struct ombud_team *t = rec;
    t->id = ombud_db_int(r, row, 0);
    ombud_db_text(r, row, 1, t->name, sizeof t->name);
    t->escalation_team_id = ombud_db_int(r, row, 2);
    ombud_db_text(r, row, 3, t->assignment, sizeof t->assignment);
    t->created_at = ombud_db_int(r, row, 4);
    t->updated_at = ombud_db_int(r, row, 5);
}

static struct ombud_db_stmt q_team_insert = OMBUD_STMT(
    "INSERT INTO teams (name, escalation_team_id, assignment)"
    " VALUES ($1::text, $2::bigint, $3::text) RETURNING " TEAM_COLS);
static struct ombud_db_stmt q_team_update = OMBUD_STMT(
    "UPDATE teams SET name = $2::text, escalation_team_id = $3::bigint, assignment = $4::text,"
    " updated_at = now() WHERE id = $1::bigint RETURNING " TEAM_COLS);

enum ombud_rc ombud_db_team_save(struct ombud_db_conn *c, struct ombud_team *t, bool *found,
                                 struct ombud_err *err)
{
    char id[24], esc[24];
    PGresult *r;
    enum ombud_rc rc;
    i64s(id, sizeof id, t->id);
    i64s(esc, sizeof esc, t->escalation_team_id);
    if (t->id) {
        const char *p[] = {id, t->name, t->escalation_team_id ? esc : NULL, t->assignment};
        rc = ombud_db_exec(c, &q_team_update, 4, p, &r, err);
    } else {
        const char *p[] = {t->name, t->escalation_team_id ? esc : NULL, t->assignment};
        rc = ombud_db_exec(c, &q_team_insert, 3, p, &r, err);
    }
    if (rc != OMBUD_OK)
        return rc;
    *found = PQntuples(r) == 1;
    if (*found)
        read_team(r, 0, t);
    PQclear(r);
    return OMBUD_OK;
}

static struct ombud_db_stmt q_team_get =
    OMBUD_STMT("SELECT " TEAM_COLS " FROM teams WHERE id = $1::bigint");

enum ombud_rc ombud_db_team_get(struct ombud_db_conn *c, int64_t id, struct ombud_team *out,
                                bool *found, struct ombud_err *err)
{
    char ids[24];
    i64s(ids, sizeof ids, id);
    const char *p[] = {ids};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_team_get, 1, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *found = PQntuples(r) == 1;
    if (*found)
        read_team(r, 0, out);
    PQclear(r);
    return OMBUD_OK;
}

static struct ombud_db_stmt q_team_list = OMBUD_STMT(
    "SELECT " TEAM_COLS " FROM teams WHERE id > $1::bigint ORDER BY id LIMIT $2::int");

enum ombud_rc ombud_db_team_list(struct ombud_db_conn *c, int64_t after_id, int limit,
                                 struct ombud_team **out, size_t *n, struct ombud_err *err)
{
    char after[24], lim[16];
    i64s(after, sizeof after, after_id);
    snprintf(lim, sizeof lim, "%d", limit + 1);
    const char *p[] = {after, lim};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_team_list, 2, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_db_rows(r, sizeof(struct ombud_team), read_team, (void **)out, n, err);
}

#define AGENT_COLS                                                                                 \
    "id, name, email, team_id, role, active, ombud_usec(created_at), ombud_usec(updated_at)"

static void read_agent(const PGresult *r, int row, void *rec)
{
    struct ombud_agent *a = rec;
    a->id = ombud_db_int(r, row, 0);
    ombud_db_text(r, row, 1, a->name, sizeof a->name);
    ombud_db_text(r, row, 2, a->email, sizeof a->email);
    a->team_id = ombud_db_int(r, row, 3);
    ombud_db_text(r, row, 4, a->role, sizeof a->role);
    a->active = ombud_db_bool(r, row, 5);
    a->created_at = ombud_db_int(r, row, 6);
    a->updated_at = ombud_db_int(r, row, 7);
}

static struct ombud_db_stmt q_agent_insert = OMBUD_STMT(
    "INSERT INTO agents (name, email, team_id, role, active)"
    " VALUES ($1::text, $2::text, $3::bigint, $4::text, $5::boolean) RETURNING " AGENT_COLS);
static struct ombud_db_stmt q_agent_update = OMBUD_STMT(
    "UPDATE agents SET name = $2::text, email = $3::text, team_id = $4::bigint, role = $5::text,"
    " active = $6::boolean, updated_at = now() WHERE id = $1::bigint RETURNING " AGENT_COLS);

enum ombud_rc ombud_db_agent_save(struct ombud_db_conn *c, struct ombud_agent *a, bool *found,
                                  struct ombud_err *err)
{
    char id[24], team[24];
    PGresult *r;
    enum ombud_rc rc;
    i64s(id, sizeof id, a->id);
    i64s(team, sizeof team, a->team_id);
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
    *found = PQntuples(r) == 1;
    if (*found)
        read_agent(r, 0, a);
    PQclear(r);
    return OMBUD_OK;
}

static struct ombud_db_stmt q_agent_get =
    OMBUD_STMT("SELECT " AGENT_COLS " FROM agents WHERE id = $1::bigint");

enum ombud_rc ombud_db_agent_get(struct ombud_db_conn *c, int64_t id, struct ombud_agent *out,
                                 bool *found, struct ombud_err *err)
{
    char ids[24];
    i64s(ids, sizeof ids, id);
    const char *p[] = {ids};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_agent_get, 1, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *found = PQntuples(r) == 1;
    if (*found)
        read_agent(r, 0, out);
    PQclear(r);
    return OMBUD_OK;
}

static struct ombud_db_stmt q_agent_list = OMBUD_STMT(
    "SELECT " AGENT_COLS " FROM agents WHERE id > $1::bigint"
    " AND ($3::bigint = 0 OR team_id = $3::bigint) ORDER BY id LIMIT $2::int");

enum ombud_rc ombud_db_agent_list(struct ombud_db_conn *c, int64_t after_id, int limit,
                                  int64_t team_id, struct ombud_agent **out, size_t *n,
                                  struct ombud_err *err)
{
    char after[24], lim[16], team[24];
    i64s(after, sizeof after, after_id);
    snprintf(lim, sizeof lim, "%d", limit + 1);
    i64s(team, sizeof team, team_id);
    const char *p[] = {after, lim, team};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_agent_list, 3, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_db_rows(r, sizeof(struct ombud_agent), read_agent, (void **)out, n, err);
}
