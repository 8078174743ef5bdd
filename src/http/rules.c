/*
 * /v1/escalation-rules (admin) and GET /v1/complaints/{id}/rules.
 * POST and PATCH share one path: parse the given fields, read (PATCH),
 * apply them, check the whole rule and its references, save. PATCH
 * replaces `conditions` and `actions` whole when they are given.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/bodies.h"
#include "http/complaint_common.h"
#include "http/handlers.h"
#include "ombud/db/complaints.h"
#include "ombud/db/rules.h"
#include "ombud/json_spec.h"
#include "ombud/repr.h"
#include "ombud/service/rules.h"

/* Known values of each condition name list, in ombud_rule_list_names
 * order; categories are checked against the table. */
static const char *const *const list_values[OMBUD_RULE_NAME_LISTS] = {
    ombud_priority_names, ombud_grade_names, NULL, ombud_channel_names, ombud_tier_names};

struct rule_save {
    int64_t id; /* 0: create */
    struct ombud_rule_body b;
    struct ombud_rule out;
};

/* conditions: {priorities, grades, categories, channels, customer_tiers,
 * team_ids, min_level, max_level} into in. */
static void parse_conditions(const json_t *o, struct ombud_rule *in, struct ombud_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)o, key, v) {
        char field[64];
        int k = -1;
        snprintf(field, sizeof field, "conditions.%s", key);
        for (int i = 0; i < OMBUD_RULE_NAME_LISTS; i++)
            if (strcmp(key, ombud_rule_list_names[i]) == 0)
                k = i;
        if (k >= 0) {
            ombud_spec_name_list(v, field, list_values[k], &in->cond_json[k], err);
        } else if (strcmp(key, "team_ids") == 0) {
            size_t i;
            json_t *e;
            if (!json_is_array(v) || json_array_size(v) > OMBUD_RULE_MAX_TEAMS) {
                ombud_err_field(err, field, "must be an array of at most %d team ids",
                                OMBUD_RULE_MAX_TEAMS);
                continue;
            }
            json_array_foreach (v, i, e) {
                if (!json_is_integer(e) || json_integer_value(e) < 1) {
                    char f2[96];
                    snprintf(f2, sizeof f2, "%s[%zu]", field, i);
                    ombud_err_field(err, f2, "must be a team id (a positive integer)");
                    continue;
                }
                in->team_ids[in->nteams++] = json_integer_value(e);
            }
        } else if (strcmp(key, "min_level") == 0 || strcmp(key, "max_level") == 0) {
            int *lvl = key[1] == 'i' ? &in->min_level : &in->max_level;
            if (json_is_null(v))
                *lvl = -1;
            else if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                     json_integer_value(v) > 1000000)
                ombud_err_field(err, field, "must be an integer from 0 to 1000000, or null");
            else
                *lvl = (int)json_integer_value(v);
        } else {
            ombud_err_field(err, field, "is not a known field");
        }
    }
}

/* actions: {set_priority, set_team_id, set_assignee_id, raise_level, notify} into in. */
static void parse_actions(const json_t *o, struct ombud_rule *in, struct ombud_err *err)
{
    const char *prio = NULL;
    int64_t team = 0, agent = 0;
    const struct ombud_spec spec[] = {
        {.name = "set_priority",
         .type = OMBUD_SPEC_ENUM,
         .nullable = true,
         .values = ombud_priority_names,
         .s = &prio},
        {.name = "set_team_id",
         .type = OMBUD_SPEC_INT,
         .nullable = true,
         .min = 1,
         .max = INT64_MAX,
         .i = &team},
        {.name = "set_assignee_id",
         .type = OMBUD_SPEC_INT,
         .nullable = true,
         .min = 1,
         .max = INT64_MAX,
         .i = &agent},
        {.name = "raise_level", .type = OMBUD_SPEC_BOOL, .b = &in->raise_level},
        {.name = "notify", .type = OMBUD_SPEC_BOOL, .b = &in->notify},
    };
    ombud_spec_parse(o, spec, sizeof spec / sizeof spec[0], "actions.", err);
    snprintf(in->set_priority, sizeof in->set_priority, "%s", prio ? prio : "");
    in->set_team_id = team;
    in->set_assignee_id = agent;
}

void ombud_rule_check(const struct ombud_rule *r, struct ombud_err *err)
{
    bool sla = r->trigger == OMBUD_TRIG_SLA_WARNING || r->trigger == OMBUD_TRIG_SLA_BREACH;
    if (!sla && r->target != OMBUD_RTARGET_ANY)
        ombud_err_field(err, "target", "applies to sla_warning and sla_breach only; use any");
    if (r->min_level >= 0 && r->max_level >= 0 && r->min_level > r->max_level)
        ombud_err_field(err, "conditions.min_level", "must not be above max_level");
    if (!r->set_priority[0] && !r->set_team_id && !r->set_assignee_id && !r->raise_level &&
        !r->notify)
        ombud_err_field(err, "actions", "must do something: set a field, raise_level or notify");
}

void ombud_rule_defaults(struct ombud_rule *r)
{
    r->active = true;
    r->target = OMBUD_RTARGET_ANY;
}

bool ombud_rule_body_apply(const struct ombud_rule_body *b, struct ombud_rule *out)
{
    const struct ombud_rule *in = &b->in;

    if (b->has_name)
        snprintf(out->name, sizeof out->name, "%s", in->name);
    if (b->has_position)
        out->position = in->position;
    if (b->has_active)
        out->active = in->active;
    if (b->has_trigger)
        out->trigger = in->trigger;
    if (b->has_target)
        out->target = in->target;
    if (b->has_delay)
        out->delay_minutes = in->delay_minutes;
    if (b->has_conditions) {
        for (int i = 0; i < OMBUD_RULE_NAME_LISTS; i++) {
            free(out->cond_json[i]);
            out->cond_json[i] = in->cond_json[i] ? strdup(in->cond_json[i]) : NULL;
            if (in->cond_json[i] && !out->cond_json[i])
                return false;
        }
        out->nteams = in->nteams;
        memcpy(out->team_ids, in->team_ids, sizeof in->team_ids);
        out->min_level = in->min_level;
        out->max_level = in->max_level;
    }
    if (b->has_actions) {
        snprintf(out->set_priority, sizeof out->set_priority, "%s", in->set_priority);
        out->set_team_id = in->set_team_id;
        out->set_assignee_id = in->set_assignee_id;
        out->raise_level = in->raise_level;
        out->notify = in->notify;
    }
    return true;
}

static enum ombud_rc save_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct rule_save *save = arg;
    struct ombud_rule *out = &save->out;
    bool found = true, cat_ok, team_ok, agent_ok, unknown_cat;
    size_t unknown_teams;
    enum ombud_rc rc;

    ombud_rule_clear(out);
    if (save->id && (rc = ombud_db_rule_get(c, save->id, out, &found, err)) != OMBUD_OK)
        return rc;
    if (!found)
        return ombud_err_not_found(err, "escalation rule");
    if (!save->id)
        ombud_rule_defaults(out);
    if (!ombud_rule_body_apply(&save->b, out))
        return ombud_err_internal(err, "out of memory");
    ombud_rule_check(out, err);
    if ((rc = ombud_db_refs_check(c, NULL, out->set_team_id, out->set_assignee_id, &cat_ok,
                                  &team_ok, &agent_ok, err)) != OMBUD_OK ||
        (rc = ombud_db_rule_refs(c, out->team_ids, out->nteams, out->cond_json[2], &unknown_teams,
                                 &unknown_cat, err)) != OMBUD_OK)
        return rc;
    if (!team_ok)
        ombud_err_field(err, "actions.set_team_id", "names no team");
    if (!agent_ok)
        ombud_err_field(err, "actions.set_assignee_id", "names no agent");
    if (unknown_teams)
        ombud_err_field(err, "conditions.team_ids", "names %zu unknown team(s)", unknown_teams);
    if (unknown_cat)
        ombud_err_field(err, "conditions.categories",
                        "names an unknown category (see GET /v1/categories)");
    if ((rc = ombud_err_finish_validation(err)) != OMBUD_OK)
        return rc;
    if ((rc = ombud_db_rule_save(c, out, &found, err)) != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "escalation rule");
}

void ombud_rule_body_parse(const json_t *body, bool create, struct ombud_rule_body *b,
                           struct ombud_err *err)
{
    const char *name = NULL, *trigger = NULL, *target = NULL;
    int64_t pos = 0, delay = 0;
    json_t *cond = NULL, *actions = NULL;
    const struct ombud_spec spec[] = {
        {.name = "name",
         .type = OMBUD_SPEC_STRING,
         .required = create,
         .min = 1,
         .max = 100,
         .s = &name,
         .present = &b->has_name},
        {.name = "position",
         .type = OMBUD_SPEC_INT,
         .required = create,
         .min = 0,
         .max = 1000000,
         .i = &pos,
         .present = &b->has_position},
        {.name = "active", .type = OMBUD_SPEC_BOOL, .b = &b->in.active, .present = &b->has_active},
        {.name = "trigger",
         .type = OMBUD_SPEC_ENUM,
         .required = create,
         .values = ombud_rule_trigger_names,
         .s = &trigger,
         .present = &b->has_trigger},
        {.name = "target",
         .type = OMBUD_SPEC_ENUM,
         .values = ombud_rule_target_names,
         .s = &target,
         .present = &b->has_target},
        {.name = "delay_minutes",
         .type = OMBUD_SPEC_INT,
         .min = 0,
         .max = OMBUD_RULE_MAX_DELAY,
         .i = &delay,
         .present = &b->has_delay},
        {.name = "conditions",
         .type = OMBUD_SPEC_OBJECT,
         .j = &cond,
         .present = &b->has_conditions},
        {.name = "actions",
         .type = OMBUD_SPEC_OBJECT,
         .required = create,
         .j = &actions,
         .present = &b->has_actions},
    };
    ombud_spec_parse(body, spec, sizeof spec / sizeof spec[0], NULL, err);
    if (name)
        snprintf(b->in.name, sizeof b->in.name, "%s", name);
    b->in.position = (int)pos;
    b->in.delay_minutes = (int)delay;
    if (trigger)
        (void)ombud_rule_trigger_parse(trigger, &b->in.trigger);
    if (target)
        (void)ombud_rule_target_parse(target, &b->in.target);
    if (cond)
        parse_conditions(cond, &b->in, err);
    if (actions)
        parse_actions(actions, &b->in, err);
}

static void write_rule(struct ombud_req *req, int64_t id)
{
    struct rule_save save = {.id = id};
    struct ombud_err err;
    bool create = id == 0;

    ombud_err_clear(&err);
    ombud_rule_clear(&save.b.in);
    ombud_rule_clear(&save.out);
    ombud_rule_body_parse(req->json, create, &save.b, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_svc_rules_change(req->pool, save_tx, &save, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_saved_steal(req, create, ombud_repr_rule(&save.out), "/v1/escalation-rules",
                                save.out.id);
    ombud_rule_clear(&save.b.in);
    ombud_rule_clear(&save.out);
}

void ombud_h_rules_create(struct ombud_req *req)
{
    write_rule(req, 0);
}

void ombud_h_rules_patch(struct ombud_req *req)
{
    write_rule(req, ombud_req_path_id(req, 0));
}

struct rule_get {
    int64_t id;
    struct ombud_rule rule;
};

static enum ombud_rc get_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct rule_get *get = arg;
    bool found;
    ombud_rule_clear(&get->rule);
    enum ombud_rc rc = ombud_db_rule_get(c, get->id, &get->rule, &found, err);
    if (rc != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "escalation rule");
}

void ombud_h_rules_get(struct ombud_req *req)
{
    struct rule_get get = {.id = ombud_req_path_id(req, 0)};
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_db_run(req->pool, get_q, &get, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_json_steal(req, 200, ombud_repr_rule(&get.rule));
    ombud_rule_clear(&get.rule);
}

struct rule_page {
    int64_t after;
    int limit;
    struct ombud_rule *rules;
    size_t n;
};

static enum ombud_rc list_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct rule_page *page = arg;
    ombud_rules_free(page->rules, page->n);
    page->rules = NULL;
    page->n = 0;
    return ombud_db_rule_list(c, page->after, page->limit, &page->rules, &page->n, err);
}

static json_t *render_rule(const void *row)
{
    return ombud_repr_rule(row);
}

void ombud_h_rules_list(struct ombud_req *req)
{
    struct rule_page page = {0};
    struct ombud_err err;
    ombud_err_clear(&err);
    ombud_query_id_page(req, &page.limit, &page.after, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_db_run(req->pool, list_q, &page, &err) != OMBUD_OK) {
        ombud_rules_free(page.rules, page.n);
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_list(req, page.rules, page.n, sizeof *page.rules, offsetof(struct ombud_rule, id),
                     page.limit, render_rule);
    ombud_rules_free(page.rules, page.n);
}

struct rule_delete {
    int64_t id;
};

static enum ombud_rc delete_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct rule_delete *del = arg;
    bool found;
    enum ombud_rc rc = ombud_db_rule_delete(c, del->id, &found, err);
    if (rc != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "escalation rule");
}

void ombud_h_rules_delete(struct ombud_req *req)
{
    struct rule_delete del = {.id = ombud_req_path_id(req, 0)};
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_svc_rules_change(req->pool, delete_tx, &del, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_empty(req, 204);
}

/* ---- GET /v1/complaints/{id}/rules ---- */

struct of_complaint {
    struct ombud_req *req;
    int64_t id;
    struct ombud_rule_status *items;
    size_t n;
};

static enum ombud_rc of_complaint_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct of_complaint *x = arg;
    struct ombud_actor actor;
    free(x->items);
    x->items = NULL;
    ombud_actor_of(x->req, &actor);
    return ombud_svc_rules_of_complaint(c, &actor, x->id, &x->items, &x->n, err);
}

void ombud_h_complaint_rules(struct ombud_req *req)
{
    struct of_complaint x = {.req = req, .id = ombud_req_path_id(req, 0)};
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_db_run(req->pool, of_complaint_q, &x, &err) != OMBUD_OK) {
        ombud_reply_problem(req, &err);
    } else {
        json_t *items = json_array();
        for (size_t i = 0; i < x.n; i++)
            json_array_append_new(items, ombud_repr_rule_status(&x.items[i]));
        ombud_reply_json_steal(req, 200, json_pack("{s:o, s:n}", "items", items, "next_cursor"));
    }
    free(x.items);
}
