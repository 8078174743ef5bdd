/*
 * /v1/sla-policies: targets, warning ladder and match lists (admin
 * writes, any key reads). The active policy with the lowest position
 * whose every non-empty match list holds the complaint's value applies.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ombud/db/calendars.h"
#include "ombud/db/policies.h"
#include "http/bodies.h"
#include "http/handlers.h"
#include "ombud/json_spec.h"
#include "ombud/repr.h"
#include "ombud/service/sla_config.h"

/* Known values of each match list, in ombud_sla_match_names order;
 * categories are checked against the table instead. */
static const char *const *const match_values[5] = {ombud_priority_names, ombud_grade_names, NULL,
                                                   ombud_channel_names, ombud_tier_names};

/* POST and PATCH: the fields given (b), and the policy as saved (out). */
struct policy_save {
    int64_t id; /* 0: create */
    struct ombud_policy_body b;
    struct ombud_sla_policy out;
};

/* match: {priorities: [...], ...}, each list of known values, into in. */
static void parse_match(const json_t *m, struct ombud_sla_policy *in, struct ombud_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)m, key, v) {
        int k = -1;
        char field[64];
        for (int i = 0; i < 5; i++)
            if (strcmp(key, ombud_sla_match_names[i]) == 0)
                k = i;
        snprintf(field, sizeof field, "match.%s", key);
        if (k < 0) {
            ombud_err_field(err, field, "is not a known field");
            continue;
        }
        ombud_spec_name_list(v, field, match_values[k], &in->match_json[k], err);
    }
}

/* warnings: 1..5 entries, each exactly one of {percent 1..99} {minutes_before N}, into in. */
static void parse_warnings(const json_t *w, struct ombud_sla_policy *in, struct ombud_err *err)
{
    size_t i;
    json_t *e;
    if (json_array_size(w) < 1 || json_array_size(w) > OMBUD_SLA_MAX_WARNINGS) {
        ombud_err_field(err, "warnings", "must have 1 to %d entries", OMBUD_SLA_MAX_WARNINGS);
        return;
    }
    json_array_foreach (w, i, e) {
        char field[40];
        snprintf(field, sizeof field, "warnings[%zu]", i);
        json_t *pc = json_object_get(e, "percent"), *mb = json_object_get(e, "minutes_before");
        if (!json_is_object(e) || json_object_size(e) != 1 || (!pc && !mb)) {
            ombud_err_field(err, field, "must be exactly one of {percent} or {minutes_before}");
            continue;
        }
        if (pc &&
            (!json_is_integer(pc) || json_integer_value(pc) < 1 || json_integer_value(pc) > 99)) {
            ombud_err_field(err, field, "percent must be an integer from 1 to 99");
            continue;
        }
        if (mb && (!json_is_integer(mb) || json_integer_value(mb) < 1 ||
                   json_integer_value(mb) > OMBUD_SLA_MAX_MINUTES)) {
            ombud_err_field(err, field, "minutes_before must be an integer from 1 to %d",
                            OMBUD_SLA_MAX_MINUTES);
            continue;
        }
        in->warnings[in->nwarnings].percent = pc != NULL;
        in->warnings[in->nwarnings].value = json_integer_value(pc ? pc : mb);
        in->nwarnings++;
    }
}

void ombud_policy_defaults(struct ombud_sla_policy *p)
{
    p->active = true;
    p->calendar_id = 1;
    p->nwarnings = 1;
    p->warnings[0] = (struct ombud_sla_warning_rule){true, 80};
}

bool ombud_policy_body_apply(const struct ombud_policy_body *b, struct ombud_sla_policy *out)
{
    const struct ombud_sla_policy *in = &b->in;

    if (b->has_name)
        snprintf(out->name, sizeof out->name, "%s", in->name);
    if (b->has_position)
        out->position = in->position;
    if (b->has_active)
        out->active = in->active;
    if (b->has_match)
        for (int i = 0; i < 5; i++) {
            free(out->match_json[i]);
            out->match_json[i] = in->match_json[i] ? strdup(in->match_json[i]) : NULL;
            if (in->match_json[i] && !out->match_json[i])
                return false;
        }
    if (b->has_first_response)
        out->first_response_minutes = in->first_response_minutes;
    if (b->has_resolution)
        out->resolution_minutes = in->resolution_minutes;
    if (b->has_warnings) {
        out->nwarnings = in->nwarnings;
        memcpy(out->warnings, in->warnings, sizeof in->warnings);
    }
    if (b->has_calendar)
        out->calendar_id = in->calendar_id;
    return true;
}

static enum ombud_rc save_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct policy_save *save = arg;
    struct ombud_sla_policy *out = &save->out;
    enum ombud_rc rc;
    bool found = true;
    struct ombud_calendar cal = {0};

    ombud_sla_policy_clear(out);
    if (save->id && (rc = ombud_db_policy_get(c, save->id, out, &found, err)) != OMBUD_OK)
        return rc;
    if (!found)
        return ombud_err_not_found(err, "SLA policy");
    if (!save->id)
        ombud_policy_defaults(out);
    if (!ombud_policy_body_apply(&save->b, out))
        return ombud_err_internal(err, "out of memory");
    if ((rc = ombud_db_calendar_get(c, out->calendar_id, &cal, &found, err)) != OMBUD_OK)
        return rc;
    ombud_calendar_clear(&cal);
    if (!found) {
        ombud_err_field(err, "calendar_id", "names no calendar");
        return ombud_err_finish_validation(err);
    }
    if ((rc = ombud_db_policy_save(c, out, &found, err)) != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "SLA policy");
}

void ombud_policy_body_parse(const json_t *body, bool create, struct ombud_policy_body *b,
                             struct ombud_err *err)
{
    const char *name = NULL;
    int64_t pos = 0, fr = 0, res = 0, cal = 0;
    json_t *match = NULL, *warnings = NULL;
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
        {.name = "match", .type = OMBUD_SPEC_OBJECT, .j = &match, .present = &b->has_match},
        {.name = "first_response_minutes",
         .type = OMBUD_SPEC_INT,
         .required = create,
         .min = 1,
         .max = OMBUD_SLA_MAX_MINUTES,
         .i = &fr,
         .present = &b->has_first_response},
        {.name = "resolution_minutes",
         .type = OMBUD_SPEC_INT,
         .required = create,
         .min = 1,
         .max = OMBUD_SLA_MAX_MINUTES,
         .i = &res,
         .present = &b->has_resolution},
        {.name = "warnings", .type = OMBUD_SPEC_ARRAY, .j = &warnings, .present = &b->has_warnings},
        {.name = "calendar_id",
         .type = OMBUD_SPEC_INT,
         .min = 1,
         .max = INT64_MAX,
         .i = &cal,
         .present = &b->has_calendar},
    };
    ombud_spec_parse(body, spec, sizeof spec / sizeof spec[0], NULL, err);
    if (name)
        snprintf(b->in.name, sizeof b->in.name, "%s", name);
    b->in.position = (int)pos;
    b->in.first_response_minutes = fr;
    b->in.resolution_minutes = res;
    b->in.calendar_id = cal;
    if (match)
        parse_match(match, &b->in, err);
    if (warnings)
        parse_warnings(warnings, &b->in, err);
}

static void write_policy(struct ombud_req *req, int64_t id)
{
    struct policy_save save = {.id = id};
    struct ombud_err err;
    bool create = id == 0;

    ombud_err_clear(&err);
    ombud_policy_body_parse(req->json, create, &save.b, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_svc_sla_config_change(req->pool, save_tx, &save, &err) != OMBUD_OK) {
        ombud_reply_problem(req, &err);
    } else {
        ombud_reply_saved_steal(req, create, ombud_repr_policy(&save.out), "/v1/sla-policies",
                                save.out.id);
    }
    ombud_sla_policy_clear(&save.b.in);
    ombud_sla_policy_clear(&save.out);
}

void ombud_h_policies_create(struct ombud_req *req)
{
    write_policy(req, 0);
}

void ombud_h_policies_patch(struct ombud_req *req)
{
    write_policy(req, ombud_req_path_id(req, 0));
}

struct policy_get {
    int64_t id;
    struct ombud_sla_policy policy;
};

static enum ombud_rc get_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct policy_get *get = arg;
    enum ombud_rc rc;
    bool found;
    ombud_sla_policy_clear(&get->policy);
    if ((rc = ombud_db_policy_get(c, get->id, &get->policy, &found, err)) != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "SLA policy");
}

void ombud_h_policies_get(struct ombud_req *req)
{
    struct policy_get get = {.id = ombud_req_path_id(req, 0)};
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_db_run(req->pool, get_q, &get, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_json_steal(req, 200, ombud_repr_policy(&get.policy));
    ombud_sla_policy_clear(&get.policy);
}

struct policy_page {
    int64_t after;
    int limit;
    struct ombud_sla_policy *policies;
    size_t n;
};

static enum ombud_rc list_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct policy_page *page = arg;
    ombud_policies_free(page->policies, page->n);
    page->policies = NULL;
    page->n = 0;
    return ombud_db_policy_list(c, page->after, page->limit, &page->policies, &page->n, err);
}

static json_t *render_policy(const void *row)
{
    return ombud_repr_policy(row);
}

void ombud_h_policies_list(struct ombud_req *req)
{
    struct policy_page page = {0};
    struct ombud_err err;

    ombud_err_clear(&err);
    ombud_query_id_page(req, &page.limit, &page.after, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_db_run(req->pool, list_q, &page, &err) != OMBUD_OK) {
        ombud_policies_free(page.policies, page.n);
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_list(req, page.policies, page.n, sizeof *page.policies,
                     offsetof(struct ombud_sla_policy, id), page.limit, render_policy);
    ombud_policies_free(page.policies, page.n);
}

struct policy_delete {
    int64_t id;
    bool found, in_use;
};

static enum ombud_rc delete_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct policy_delete *del = arg;
    enum ombud_rc rc = ombud_db_policy_delete(c, del->id, &del->found, &del->in_use, err);
    if (rc != OMBUD_OK)
        return rc;
    if (!del->found)
        return ombud_err_not_found(err, "SLA policy");
    if (del->in_use)
        return ombud_err_set(err, OMBUD_E_CONFLICT, "policy-in-use",
                             "complaints are measured against this policy; deactivate it instead");
    return OMBUD_OK;
}

void ombud_h_policies_delete(struct ombud_req *req)
{
    struct policy_delete del = {.id = ombud_req_path_id(req, 0)};
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_svc_sla_config_change(req->pool, delete_tx, &del, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_empty(req, 204);
}
