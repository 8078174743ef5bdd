/*
 * /v1/teams and /v1/agents: who complaints are assigned and escalated
 * to. Admins create and change them; agents and above read them.
 * POST and PATCH share one path: read (PATCH), apply the given fields,
 * check references (and that a changed escalation chain has no cycle),
 * save.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ombud/db/complaints.h"
#include "ombud/db/teams.h"
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

/* POST and PATCH: the fields given, and the team as saved. */
struct team_save {
    int64_t id; /* 0: create */
    bool has_name, has_esc, has_assign;
    const char *name, *assignment;
    int64_t esc;
    struct ombud_team team;
};

/* Team chains may not form a cycle: team id escalating to esc closes one
 * when esc's chain already leads back to id. A new team cannot close one
 * (no team escalates to it yet), so only a change is checked. Under the
 * chain lock until the commit, so that two changes cannot each pass and
 * together close a cycle; the check's own statement sees the last
 * change's commit. Adds a field error to err; fails only when the
 * database does. */
static enum ombud_rc check_chain(struct ombud_db_conn *c, int64_t id, int64_t esc,
                                 struct ombud_err *err)
{
    bool cycle = false;
    enum ombud_rc rc;
    if ((rc = ombud_db_team_chain_lock(c, err)) != OMBUD_OK ||
        (rc = ombud_db_team_chain_reaches(c, esc, id, &cycle, err)) != OMBUD_OK)
        return rc;
    if (cycle)
        ombud_err_field(err, "escalation_team_id",
                        "would form a cycle: team %lld escalates, through its chain, back to "
                        "this one",
                        (long long)esc);
    return OMBUD_OK;
}

static enum ombud_rc team_save_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct team_save *save = arg;
    struct ombud_team *t = &save->team;
    enum ombud_rc rc;
    bool found = true, cat_ok, team_ok = true, agent_ok;

    memset(t, 0, sizeof *t);
    snprintf(t->assignment, sizeof t->assignment, "manual");
    if (save->id && (rc = ombud_db_team_get(c, save->id, t, &found, err)) != OMBUD_OK)
        return rc;
    if (!found)
        return ombud_err_not_found(err, "team");
    if (save->has_name)
        snprintf(t->name, sizeof t->name, "%s", save->name);
    if (save->has_assign)
        snprintf(t->assignment, sizeof t->assignment, "%s", save->assignment);
    if (save->has_esc)
        t->escalation_team_id = save->esc;
    if (t->escalation_team_id &&
        (rc = ombud_db_refs_check(c, NULL, t->escalation_team_id, 0, &cat_ok, &team_ok, &agent_ok,
                                  err)) != OMBUD_OK)
        return rc;
    if (!team_ok)
        ombud_err_field(err, "escalation_team_id", "names no team");
    if (save->id && t->escalation_team_id == save->id)
        ombud_err_field(err, "escalation_team_id", "must name another team");
    else if (save->id && save->has_esc && t->escalation_team_id && team_ok &&
             (rc = check_chain(c, save->id, t->escalation_team_id, err)) != OMBUD_OK)
        return rc;
    if ((rc = ombud_err_finish_validation(err)) != OMBUD_OK)
        return rc;
    if ((rc = ombud_db_team_save(c, t, &found, err)) != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "team");
}

static void team_write(struct ombud_req *req, int64_t id)
{
    struct team_save save = {.id = id};
    struct ombud_err err;
    const struct ombud_spec spec[] = {
        {.name = "name",
         .type = OMBUD_SPEC_STRING,
         .required = id == 0,
         .min = 1,
         .max = 100,
         .s = &save.name,
         .present = &save.has_name},
        {.name = "escalation_team_id",
         .type = OMBUD_SPEC_INT,
         .nullable = true,
         .min = 1,
         .max = INT64_MAX,
         .i = &save.esc,
         .present = &save.has_esc},
        {.name = "assignment",
         .type = OMBUD_SPEC_ENUM,
         .values = assignments,
         .s = &save.assignment,
         .present = &save.has_assign},
    };
    ombud_err_clear(&err);
    ombud_spec_parse(req->json, spec, sizeof spec / sizeof spec[0], NULL, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_tx_run(req->pool, team_save_tx, &save, &err) != OMBUD_OK) {
        ombud_problem_explain(&err, team_constraints, NULL);
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_saved_steal(req, id == 0, ombud_repr_team(&save.team), "/v1/teams", save.team.id);
}

void ombud_h_teams_create(struct ombud_req *req)
{
    team_write(req, 0);
}

void ombud_h_teams_patch(struct ombud_req *req)
{
    team_write(req, ombud_req_path_id(req, 0));
}

struct team_get {
    int64_t id;
    struct ombud_team team;
};

static enum ombud_rc team_get_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct team_get *get = arg;
    enum ombud_rc rc;
    bool found;
    if ((rc = ombud_db_team_get(c, get->id, &get->team, &found, err)) != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "team");
}

void ombud_h_teams_get(struct ombud_req *req)
{
    struct team_get get = {.id = ombud_req_path_id(req, 0)};
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_db_run(req->pool, team_get_q, &get, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_json_steal(req, 200, ombud_repr_team(&get.team));
}

struct team_page {
    int64_t after;
    int limit;
    struct ombud_team *teams;
    size_t n;
};

static enum ombud_rc team_list_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct team_page *page = arg;
    free(page->teams);
    page->teams = NULL;
    return ombud_db_team_list(c, page->after, page->limit, &page->teams, &page->n, err);
}

static json_t *render_team(const void *row)
{
    return ombud_repr_team(row);
}

void ombud_h_teams_list(struct ombud_req *req)
{
    struct team_page page = {0};
    struct ombud_err err;

    ombud_err_clear(&err);
    ombud_query_id_page(req, &page.limit, &page.after, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_db_run(req->pool, team_list_q, &page, &err) != OMBUD_OK) {
        free(page.teams);
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_list(req, page.teams, page.n, sizeof *page.teams, offsetof(struct ombud_team, id),
                     page.limit, render_team);
    free(page.teams);
}

/* ---- agents ---- */

static const struct ombud_constraint_msg agent_constraints[] = {
    {"agents_email_key", "email", "an agent with this e-mail exists"},
    {NULL, NULL, NULL},
};

/* POST and PATCH: the fields given, and the agent as saved. */
struct agent_save {
    int64_t id; /* 0: create */
    bool has_name, has_email, has_team, has_role, has_active;
    const char *name, *email, *role;
    int64_t team;
    bool active;
    struct ombud_agent agent;
};

static enum ombud_rc agent_save_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct agent_save *save = arg;
    struct ombud_agent *a = &save->agent;
    enum ombud_rc rc;
    bool found = true, cat_ok, team_ok = true, agent_ok;

    memset(a, 0, sizeof *a);
    snprintf(a->role, sizeof a->role, "agent");
    a->active = true;
    if (save->id && (rc = ombud_db_agent_get(c, save->id, a, &found, err)) != OMBUD_OK)
        return rc;
    if (!found)
        return ombud_err_not_found(err, "agent");
    if (save->has_name)
        snprintf(a->name, sizeof a->name, "%s", save->name);
    if (save->has_email)
        snprintf(a->email, sizeof a->email, "%s", save->email ? save->email : "");
    if (save->has_team)
        a->team_id = save->team;
    if (save->has_role)
        snprintf(a->role, sizeof a->role, "%s", save->role);
    if (save->has_active)
        a->active = save->active;
    if (a->team_id && (rc = ombud_db_refs_check(c, NULL, a->team_id, 0, &cat_ok, &team_ok,
                                                &agent_ok, err)) != OMBUD_OK)
        return rc;
    if (!team_ok)
        ombud_err_field(err, "team_id", "names no team");
    if ((rc = ombud_err_finish_validation(err)) != OMBUD_OK)
        return rc;
    if ((rc = ombud_db_agent_save(c, a, &found, err)) != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "agent");
}

static void agent_write(struct ombud_req *req, int64_t id)
{
    struct agent_save save = {.id = id};
    struct ombud_err err;
    const struct ombud_spec spec[] = {
        {.name = "name",
         .type = OMBUD_SPEC_STRING,
         .required = id == 0,
         .min = 1,
         .max = 200,
         .s = &save.name,
         .present = &save.has_name},
        {.name = "email",
         .type = OMBUD_SPEC_STRING,
         .nullable = true,
         .min = 3,
         .max = 320,
         .s = &save.email,
         .present = &save.has_email},
        {.name = "team_id",
         .type = OMBUD_SPEC_INT,
         .nullable = true,
         .min = 1,
         .max = INT64_MAX,
         .i = &save.team,
         .present = &save.has_team},
        {.name = "role",
         .type = OMBUD_SPEC_ENUM,
         .values = ombud_agent_role_names,
         .s = &save.role,
         .present = &save.has_role},
        {.name = "active", .type = OMBUD_SPEC_BOOL, .b = &save.active, .present = &save.has_active},
    };
    ombud_err_clear(&err);
    ombud_spec_parse(req->json, spec, sizeof spec / sizeof spec[0], NULL, &err);
    if (save.email && !ombud_email_valid(save.email))
        ombud_err_field(&err, "email", "must be an e-mail address");
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_tx_run(req->pool, agent_save_tx, &save, &err) != OMBUD_OK) {
        ombud_problem_explain(&err, agent_constraints, NULL);
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_saved_steal(req, id == 0, ombud_repr_agent(&save.agent), "/v1/agents",
                            save.agent.id);
}

void ombud_h_agents_create(struct ombud_req *req)
{
    agent_write(req, 0);
}

void ombud_h_agents_patch(struct ombud_req *req)
{
    agent_write(req, ombud_req_path_id(req, 0));
}

struct agent_get {
    int64_t id;
    struct ombud_agent agent;
};

static enum ombud_rc agent_get_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct agent_get *get = arg;
    enum ombud_rc rc;
    bool found;
    if ((rc = ombud_db_agent_get(c, get->id, &get->agent, &found, err)) != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "agent");
}

void ombud_h_agents_get(struct ombud_req *req)
{
    struct agent_get get = {.id = ombud_req_path_id(req, 0)};
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_db_run(req->pool, agent_get_q, &get, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_json_steal(req, 200, ombud_repr_agent(&get.agent));
}

struct agent_page {
    int64_t after, team_id; /* team_id 0: every team */
    int limit;
    struct ombud_agent *agents;
    size_t n;
};

static enum ombud_rc agent_list_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct agent_page *page = arg;
    free(page->agents);
    page->agents = NULL;
    return ombud_db_agent_list(c, page->after, page->limit, page->team_id, &page->agents, &page->n,
                               err);
}

static json_t *render_agent(const void *row)
{
    return ombud_repr_agent(row);
}

void ombud_h_agents_list(struct ombud_req *req)
{
    struct agent_page page = {0};
    struct ombud_err err;

    ombud_err_clear(&err);
    ombud_query_id_page(req, &page.limit, &page.after, &err);
    ombud_query_id(req, "team_id", &page.team_id, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_db_run(req->pool, agent_list_q, &page, &err) != OMBUD_OK) {
        free(page.agents);
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_list(req, page.agents, page.n, sizeof *page.agents,
                     offsetof(struct ombud_agent, id), page.limit, render_agent);
    free(page.agents);
}
