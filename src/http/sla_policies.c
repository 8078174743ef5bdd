/*
 * /v1/sla-policies: targets, warning ladder and match lists (admin
 * writes, any key reads). The active policy with the lowest position
 * whose every non-empty match list holds the complaint's value applies.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ombud/db.h"
#include "http/handlers.h"
#include "ombud/json_spec.h"
#include "ombud/repr.h"

/* Known values of each match list, in ombud_sla_match_names order;
 * categories are checked against the table instead. */
static const char *const *const match_values[5] = {ombud_priority_names, ombud_grade_names, NULL,
                                                   ombud_channel_names, ombud_tier_names};

struct pol_ctx {
    int64_t id;
    struct ombud_sla_policy in, out;
    bool has[16];
    struct ombud_sla_policy *list;
    size_t n;
    int64_t after;
    int limit;
    bool found, in_use;
};

enum { H_NAME, H_POS, H_ACTIVE, H_MATCH, H_FR, H_RES, H_WARN, H_CAL };

/* match: {priorities: [...], ...}, each list of known values. */
static void parse_match(const json_t *m, struct pol_ctx *x, struct ombud_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)m, key, v) {
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
        if (!json_is_array(v) || json_array_size(v) > 50) {
            ombud_err_field(err, field, "must be an array of at most 50 values");
            continue;
        }
        size_t i;
        json_t *e;
        bool ok = true;
        json_array_foreach(v, i, e) {
            const char *s = json_string_value(e);
            bool known = s && strlen(s) >= 1 && strlen(s) <= 40;
            if (known && match_values[k]) {
                known = false;
                for (size_t j = 0; match_values[k][j]; j++)
                    known |= strcmp(s, match_values[k][j]) == 0;
            }
            if (!known) {
                char f2[96];
                snprintf(f2, sizeof f2, "%s[%zu]", field, i);
                ombud_err_field(err, f2, "is not a known value");
                ok = false;
            }
        }
        if (ok)
            x->in.match_json[k] = json_dumps(v, JSON_COMPACT);
    }
}

/* warnings: 1..5 entries, each exactly one of {percent 1..99} {minutes_before N}. */
static void parse_warnings(const json_t *w, struct pol_ctx *x, struct ombud_err *err)
{
    size_t i;
    json_t *e;
    if (json_array_size(w) < 1 || json_array_size(w) > OMBUD_SLA_MAX_WARNINGS) {
        ombud_err_field(err, "warnings", "must have 1 to %d entries", OMBUD_SLA_MAX_WARNINGS);
        return;
    }
    json_array_foreach(w, i, e) {
        char field[40];
        snprintf(field, sizeof field, "warnings[%zu]", i);
        json_t *pc = json_object_get(e, "percent"), *mb = json_object_get(e, "minutes_before");
        if (!json_is_object(e) || json_object_size(e) != 1 || (!pc && !mb)) {
            ombud_err_field(err, field, "must be exactly one of {percent} or {minutes_before}");
            continue;
        }
        if (pc && (!json_is_integer(pc) || json_integer_value(pc) < 1 ||
                   json_integer_value(pc) > 99)) {
            ombud_err_field(err, field, "percent must be an integer from 1 to 99");
            continue;
        }
        if (mb && (!json_is_integer(mb) || json_integer_value(mb) < 1 ||
                   json_integer_value(mb) > OMBUD_SLA_MAX_MINUTES)) {
            ombud_err_field(err, field, "minutes_before must be an integer from 1 to %d",
                            OMBUD_SLA_MAX_MINUTES);
            continue;
        }
        x->in.warnings[x->in.nwarnings].percent = pc != NULL;
        x->in.warnings[x->in.nwarnings].value = json_integer_value(pc ? pc : mb);
        x->in.nwarnings++;
    }
}

static enum ombud_rc save_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct pol_ctx *x = arg;
    enum ombud_rc rc;
    bool found = true;
    struct ombud_calendar cal = {0};

    ombud_sla_policy_clear(&x->out);
    if (x->id && (rc = ombud_db_policy_get(c, x->id, &x->out, &found, err)) != OMBUD_OK)
        return rc;
    if (!found)
        return ombud_err_not_found(err, "SLA policy");
    if (!x->id) { /* defaults */
        x->out.active = true;
        x->out.calendar_id = 1;
        x->out.nwarnings = 1;
        x->out.warnings[0] = (struct ombud_sla_warning_rule){true, 80};
    }
    if (x->has[H_NAME])
        snprintf(x->out.name, sizeof x->out.name, "%s", x->in.name);
    if (x->has[H_POS])
        x->out.position = x->in.position;
    if (x->has[H_ACTIVE])
        x->out.active = x->in.active;
    if (x->has[H_MATCH])
        for (int i = 0; i < 5; i++) {
            free(x->out.match_json[i]);
            x->out.match_json[i] = x->in.match_json[i] ? strdup(x->in.match_json[i]) : NULL;
        }
    if (x->has[H_FR])
        x->out.first_response_minutes = x->in.first_response_minutes;
    if (x->has[H_RES])
        x->out.resolution_minutes = x->in.resolution_minutes;
    if (x->has[H_WARN]) {
        x->out.nwarnings = x->in.nwarnings;
        memcpy(x->out.warnings, x->in.warnings, sizeof x->in.warnings);
    }
    if (x->has[H_CAL])
        x->out.calendar_id = x->in.calendar_id;
    if ((rc = ombud_db_calendar_get(c, x->out.calendar_id, &cal, &found, err)) != OMBUD_OK)
        return rc;
    ombud_calendar_clear(&cal);
    if (!found) {
        ombud_err_field(err, "calendar_id", "names no calendar");
        return ombud_err_finish_validation(err);
    }
    if ((rc = ombud_db_policy_save(c, &x->out, &found, err)) != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "SLA policy");
}

static void write_policy(struct ombud_req *req, int64_t id)
{
    struct pol_ctx x = {.id = id};
    struct ombud_err err;
    const char *name = NULL;
    int64_t pos = 0, fr = 0, res = 0, cal = 0;
    json_t *match = NULL, *warnings = NULL;
    bool create = id == 0;
    const struct ombud_spec spec[] = {
        {.name = "name", .type = OMBUD_SPEC_STRING, .required = create, .min = 1, .max = 100,
         .s = &name, .present = &x.has[H_NAME]},
        {.name = "position", .type = OMBUD_SPEC_INT, .required = create, .min = 0,
         .max = 1000000, .i = &pos, .present = &x.has[H_POS]},
        {.name = "active", .type = OMBUD_SPEC_BOOL, .b = &x.in.active,
         .present = &x.has[H_ACTIVE]},
        {.name = "match", .type = OMBUD_SPEC_OBJECT, .j = &match, .present = &x.has[H_MATCH]},
        {.name = "first_response_minutes", .type = OMBUD_SPEC_INT, .required = create, .min = 1,
         .max = OMBUD_SLA_MAX_MINUTES, .i = &fr, .present = &x.has[H_FR]},
        {.name = "resolution_minutes", .type = OMBUD_SPEC_INT, .required = create, .min = 1,
         .max = OMBUD_SLA_MAX_MINUTES, .i = &res, .present = &x.has[H_RES]},
        {.name = "warnings", .type = OMBUD_SPEC_ARRAY, .j = &warnings,
         .present = &x.has[H_WARN]},
        {.name = "calendar_id", .type = OMBUD_SPEC_INT, .min = 1, .max = INT64_MAX, .i = &cal,
         .present = &x.has[H_CAL]},
    };
    ombud_err_clear(&err);
    ombud_spec_parse(req->json, spec, sizeof spec / sizeof spec[0], NULL, &err);
    if (name)
        snprintf(x.in.name, sizeof x.in.name, "%s", name);
    x.in.position = (int)pos;
    x.in.first_response_minutes = fr;
    x.in.resolution_minutes = res;
    x.in.calendar_id = cal;
    if (match)
        parse_match(match, &x, &err);
    if (warnings)
        parse_warnings(warnings, &x, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_tx_run(req->pool, save_tx, &x, &err) != OMBUD_OK) {
        ombud_reply_problem(req, &err);
    } else {
        ombud_reply_saved_steal(req, create, ombud_repr_policy(&x.out), "/v1/sla-policies", x.out.id);
    }
    ombud_sla_policy_clear(&x.in);
    ombud_sla_policy_clear(&x.out);
}

void ombud_h_policies_create(struct ombud_req *req)
{
    write_policy(req, 0);
}

void ombud_h_policies_patch(struct ombud_req *req)
{
    write_policy(req, ombud_req_path_id(req, 0));
}

static enum ombud_rc get_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct pol_ctx *x = arg;
    enum ombud_rc rc;
    bool found;
    ombud_sla_policy_clear(&x->out);
    if ((rc = ombud_db_policy_get(c, x->id, &x->out, &found, err)) != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "SLA policy");
}

void ombud_h_policies_get(struct ombud_req *req)
{
    struct pol_ctx x = {.id = ombud_req_path_id(req, 0)};
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_db_run(req->pool, get_q, &x, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_json_steal(req, 200, ombud_repr_policy(&x.out));
    ombud_sla_policy_clear(&x.out);
}

static enum ombud_rc list_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct pol_ctx *x = arg;
    ombud_policies_free(x->list, x->n);
    x->list = NULL;
    x->n = 0;
    return ombud_db_policy_list(c, x->after, x->limit, &x->list, &x->n, err);
}

static json_t *render_policy(const void *row)
{
    return ombud_repr_policy(row);
}

void ombud_h_policies_list(struct ombud_req *req)
{
    struct pol_ctx x = {0};
    struct ombud_err err;

    ombud_err_clear(&err);
    ombud_query_id_page(req, &x.limit, &x.after, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_db_run(req->pool, list_q, &x, &err) != OMBUD_OK) {
        ombud_policies_free(x.list, x.n);
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_list(req, x.list, x.n, sizeof *x.list, offsetof(struct ombud_sla_policy, id),
                     x.limit, render_policy);
    ombud_policies_free(x.list, x.n);
}

static enum ombud_rc delete_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct pol_ctx *x = arg;
    return ombud_db_policy_delete(c, x->id, &x->found, &x->in_use, err);
}

void ombud_h_policies_delete(struct ombud_req *req)
{
    struct pol_ctx x = {.id = ombud_req_path_id(req, 0)};
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_tx_run(req->pool, delete_tx, &x, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else if (!x.found)
        ombud_reply_problem(req, (ombud_err_not_found(&err, "SLA policy"), &err));
    else if (x.in_use)
        ombud_reply_problem(req, (ombud_err_set(&err, OMBUD_E_CONFLICT, "policy-in-use",
                                                "complaints are measured against this policy;"
                                                " deactivate it instead"),
                                  &err));
    else
        ombud_reply_empty(req, 204);
}
