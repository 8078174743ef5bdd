/*
 * /v1/teams and /v1/agents: who complaints are assigned and escalated
 * to. Admins create and change them; agents and above read them.
 * POST and PATCH share one path: read (PATCH), apply the given fields,
 * check references, save.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ombud/db.h"
#include "http/handlers.h"
#include "ombud/json_spec.h"
#include "ombud/repr.h"
#include "ombud/text.h"

static const char *const assignments[] = {"round_robin", "manual", NULL};

/* ---- teams ---- */

/* What the tables' constraints mean to a client (migrations/0002). */
static const struct ombud_constraint_msg team_constraints[] = {
    {"teams_name_key", "name", "a team with this name exists"},
    {NULL, NULL, NULL},
};

struct team_ctx {
    int64_t id; /* 0: create */
    bool has_name, has_esc, has_assign;
    const char *name, *assignment;
    int64_t esc;
    struct ombud_team t;
    struct ombud_team *list;
    size_t n;
    int64_t after;
    int limit;
};

static enum ombud_rc team_save_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct team_ctx *x = arg;
    enum ombud_rc rc;
    bool found = true, cat_ok, team_ok = true, agent_ok;

    memset(&x->t, 0, sizeof x->t);
    snprintf(x->t.assignment, sizeof x->t.assignment, "manual");
    if (x->id && (rc = ombud_db_team_get(c, x->id, &x->t, &found, err)) != OMBUD_OK)
        return rc;
    if (!found)
        return ombud_err_not_found(err, "team");
    if (x->has_name)
        snprintf(x->t.name, sizeof x->t.name, "%s", x->name);
    if (x->has_assign)
        snprintf(x->t.assignment, sizeof x->t.assignment, "%s", x->assignment);
    if (x->has_esc)
        x->t.escalation_team_id = x->esc;
    if (x->t.escalation_team_id &&
        (rc = ombud_db_refs_check(c, NULL, x->t.escalation_team_id, 0, &cat_ok, &team_ok,
                                  &agent_ok, err)) != OMBUD_OK)
        return rc;
    if (!team_ok)
        ombud_err_field(err, "escalation_team_id", "names no team");
    if (x->id && x->t.escalation_team_id == x->id)
        ombud_err_field(err, "escalation_team_id", "must name another team");
    if ((rc = ombud_err_finish_validation(err)) != OMBUD_OK)
        return rc;
    if ((rc = ombud_db_team_save(c, &x->t, &found, err)) != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "team");
}

static void team_write(struct ombud_req *req, int64_t id)
{
    struct team_ctx x = {.id = id};
    struct ombud_err err;
    const struct ombud_spec spec[] = {
        {.name = "name", .type = OMBUD_SPEC_STRING, .required = id == 0, .min = 1, .max = 100,
         .s = &x.name, .present = &x.has_name},
        {.name = "escalation_team_id", .type = OMBUD_SPEC_INT, .nullable = true, .min = 1,
         .max = INT64_MAX, .i = &x.esc, .present = &x.has_esc},
        {.name = "assignment", .type = OMBUD_SPEC_ENUM, .values = assignments,
         .s = &x.assignment, .present = &x.has_assign},
    };
    ombud_err_clear(&err);
    ombud_spec_parse(req->json, spec, sizeof spec / sizeof spec[0], NULL, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_tx_run(req->pool, team_save_tx, &x, &err) != OMBUD_OK) {
        ombud_problem_explain(&err, team_constraints, NULL);
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_saved_steal(req, id == 0, ombud_repr_team(&x.t), "/v1/teams", x.t.id);
}

void ombud_h_teams_create(struct ombud_req *req)
{
    team_write(req, 0);
}

void ombud_h_teams_patch(struct ombud_req *req)
{
    team_write(req, ombud_req_path_id(req, 0));
}

static enum ombud_rc team_get_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct team_ctx *x = arg;
    enum ombud_rc rc;
    bool found;
    if ((rc = ombud_db_team_get(c, x->id, &x->t, &found, err)) != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "team");
}

void ombud_h_teams_get(struct ombud_req *req)
{
    struct team_ctx x = {.id = ombud_req_path_id(req, 0)};
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_db_run(req->pool, team_get_q, &x, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_json_steal(req, 200, ombud_repr_team(&x.t));
}

static enum ombud_rc team_list_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct team_ctx *x = arg;
    free(x->list);
    x->list = NULL;
    return ombud_db_team_list(c, x->after, x->limit, &x->list, &x->n, err);
}

static json_t *render_team(const void *row)
{
    return ombud_repr_team(row);
}

void ombud_h_teams_list(struct ombud_req *req)
{
    struct team_ctx x = {0};
    struct ombud_err err;

    ombud_err_clear(&err);
    ombud_query_id_page(req, &x.limit, &x.after, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_db_run(req->pool, team_list_q, &x, &err) != OMBUD_OK) {
        free(x.list);
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_list(req, x.list, x.n, sizeof *x.list, offsetof(struct ombud_team, id), x.limit,
                     render_team);
    free(x.list);
}

/* ---- agents ---- */

static const struct ombud_constraint_msg agent_constraints[] = {
    {"agents_email_key", "email", "an agent with this e-mail exists"},
    {NULL, NULL, NULL},
};

struct agent_ctx {
    int64_t id;
    bool has_name, has_email, has_team, has_role, has_active;
    const char *name, *email, *role;
    int64_t team;
    bool active;
    struct ombud_agent a;
    struct ombud_agent *list;
    size_t n;
    int64_t after, team_filter;
    int limit;
};

static enum ombud_rc agent_save_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct agent_ctx *x = arg;
    enum ombud_rc rc;
    bool found = true, cat_ok, team_ok = true, agent_ok;

    memset(&x->a, 0, sizeof x->a);
    snprintf(x->a.role, sizeof x->a.role, "agent");
    x->a.active = true;
    if (x->id && (rc = ombud_db_agent_get(c, x->id, &x->a, &found, err)) != OMBUD_OK)
        return rc;
    if (!found)
        return ombud_err_not_found(err, "agent");
    if (x->has_name)
        snprintf(x->a.name, sizeof x->a.name, "%s", x->name);
    if (x->has_email)
        snprintf(x->a.email, sizeof x->a.email, "%s", x->email ? x->email : "");
    if (x->has_team)
        x->a.team_id = x->team;
    if (x->has_role)
        snprintf(x->a.role, sizeof x->a.role, "%s", x->role);
    if (x->has_active)
        x->a.active = x->active;
    if (x->a.team_id && (rc = ombud_db_refs_check(c, NULL, x->a.team_id, 0, &cat_ok, &team_ok,
                                                  &agent_ok, err)) != OMBUD_OK)
        return rc;
    if (!team_ok)
        ombud_err_field(err, "team_id", "names no team");
    if ((rc = ombud_err_finish_validation(err)) != OMBUD_OK)
        return rc;
    if ((rc = ombud_db_agent_save(c, &x->a, &found, err)) != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "agent");
}

static void agent_write(struct ombud_req *req, int64_t id)
{
    struct agent_ctx x = {.id = id};
    struct ombud_err err;
    const struct ombud_spec spec[] = {
        {.name = "name", .type = OMBUD_SPEC_STRING, .required = id == 0, .min = 1, .max = 200,
         .s = &x.name, .present = &x.has_name},
        {.name = "email", .type = OMBUD_SPEC_STRING, .nullable = true, .min = 3, .max = 320,
         .s = &x.email, .present = &x.has_email},
        {.name = "team_id", .type = OMBUD_SPEC_INT, .nullable = true, .min = 1, .max = INT64_MAX,
         .i = &x.team, .present = &x.has_team},
        {.name = "role", .type = OMBUD_SPEC_ENUM, .values = ombud_agent_role_names, .s = &x.role,
         .present = &x.has_role},
        {.name = "active", .type = OMBUD_SPEC_BOOL, .b = &x.active, .present = &x.has_active},
    };
    ombud_err_clear(&err);
    ombud_spec_parse(req->json, spec, sizeof spec / sizeof spec[0], NULL, &err);
    if (x.email && !ombud_email_valid(x.email))
        ombud_err_field(&err, "email", "must be an e-mail address");
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_tx_run(req->pool, agent_save_tx, &x, &err) != OMBUD_OK) {
        ombud_problem_explain(&err, agent_constraints, NULL);
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_saved_steal(req, id == 0, ombud_repr_agent(&x.a), "/v1/agents", x.a.id);
}

void ombud_h_agents_create(struct ombud_req *req)
{
    agent_write(req, 0);
}

void ombud_h_agents_patch(struct ombud_req *req)
{
    agent_write(req, ombud_req_path_id(req, 0));
}

static enum ombud_rc agent_get_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct agent_ctx *x = arg;
    enum ombud_rc rc;
    bool found;
    if ((rc = ombud_db_agent_get(c, x->id, &x->a, &found, err)) != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "agent");
}

void ombud_h_agents_get(struct ombud_req *req)
{
    struct agent_ctx x = {.id = ombud_req_path_id(req, 0)};
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_db_run(req->pool, agent_get_q, &x, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_json_steal(req, 200, ombud_repr_agent(&x.a));
}

static enum ombud_rc agent_list_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct agent_ctx *x = arg;
    free(x->list);
    x->list = NULL;
    return ombud_db_agent_list(c, x->after, x->limit, x->team_filter, &x->list, &x->n, err);
}

static json_t *render_agent(const void *row)
{
    return ombud_repr_agent(row);
}

void ombud_h_agents_list(struct ombud_req *req)
{
    struct agent_ctx x = {0};
    struct ombud_err err;

    ombud_err_clear(&err);
    ombud_query_id_page(req, &x.limit, &x.after, &err);
    ombud_query_id(req, "team_id", &x.team_filter, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_db_run(req->pool, agent_list_q, &x, &err) != OMBUD_OK) {
        free(x.list);
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_list(req, x.list, x.n, sizeof *x.list, offsetof(struct ombud_agent, id), x.limit,
                     render_agent);
    free(x.list);
}
