/*
 * POST /v1/complaints/{id}/transitions {action, note?, resolution?, force?}
 * POST /v1/complaints/{id}/escalate {reason, team_id?} (supervisor)
 *
 * Parse, then the complaint service, then reply. What an action does
 * (state, timestamps, clocks, events) is decided by domain/lifecycle.c;
 * an action not allowed now is a 409 listing the allowed ones. Two
 * agents racing: the second waits for the row lock, then sees the new
 * state (409) or a new version (412).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/complaint_common.h"
#include "ombud/json_spec.h"
#include "ombud/repr.h"
#include "ombud/service/sla.h"

/* Compensation as the resolution stores it. */
struct comp_buf {
    char amount[32];
    char currency[4];
};

/* resolution: {summary, compensation: {amount, currency}, customer_agreed} */
static void parse_resolution(struct ombud_resolution_in *r, struct comp_buf *cb, const json_t *res,
                             struct ombud_err *err)
{
    json_t *comp = NULL;
    const struct ombud_spec spec[] = {
        {.name = "summary",
         .type = OMBUD_SPEC_STRING,
         .min = 1,
         .max = 5000,
         .s = &r->summary,
         .present = &r->has_summary},
        {.name = "compensation", .type = OMBUD_SPEC_OBJECT, .nullable = true, .j = &comp},
        {.name = "customer_agreed",
         .type = OMBUD_SPEC_BOOL,
         .b = &r->agreed,
         .present = &r->has_agreed},
    };
    r->given = true;
    ombud_spec_parse(res, spec, sizeof spec / sizeof spec[0], "resolution.", err);
    if (!comp)
        return;
    const char *currency = NULL;
    double v = 0;
    bool has_amount = false;
    const struct ombud_spec cspec[] = {
        {.name = "amount",
         .type = OMBUD_SPEC_NUMBER,
         .required = true,
         .min = 0,
         .max = 999999999999,
         .d = &v,
         .present = &has_amount},
        {.name = "currency",
         .type = OMBUD_SPEC_STRING,
         .required = true,
         .min = 3,
         .max = 3,
         .s = &currency},
    };
    ombud_spec_parse(comp, cspec, 2, "resolution.compensation.", err);
    if (has_amount && fabs(v * 100 - round(v * 100)) > 1e-6)
        ombud_err_field(err, "resolution.compensation.amount", "may have at most two decimals");
    if (currency && !(currency[0] >= 'A' && currency[0] <= 'Z' && currency[1] >= 'A' &&
                      currency[1] <= 'Z' && currency[2] >= 'A' && currency[2] <= 'Z'))
        ombud_err_field(err, "resolution.compensation.currency",
                        "must be an ISO 4217 code such as EUR");
    if (has_amount && currency) {
        snprintf(cb->amount, sizeof cb->amount, "%.2f", v);
        snprintf(cb->currency, sizeof cb->currency, "%s", currency);
        r->amount = cb->amount;
        r->currency = cb->currency;
    }
}

void ombud_h_complaints_transition(struct ombud_req *req)
{
    struct ombud_transition t = {.kind = OMBUD_CHANGE_ACTION};
    struct comp_buf cb;
    struct ombud_err err;
    const char *action = NULL;
    json_t *res = NULL;
    const struct ombud_spec spec[] = {
        {.name = "action",
         .type = OMBUD_SPEC_ENUM,
         .required = true,
         .values = ombud_action_names,
         .s = &action},
        {.name = "note",
         .type = OMBUD_SPEC_STRING,
         .min = 1,
         .max = 20000,
         .nullable = true,
         .s = &t.note},
        {.name = "resolution", .type = OMBUD_SPEC_OBJECT, .nullable = true, .j = &res},
        {.name = "force", .type = OMBUD_SPEC_BOOL, .b = &t.force},
    };

    ombud_err_clear(&err);
    ombud_spec_parse(req->json, spec, sizeof spec / sizeof spec[0], NULL, &err);
    if (res)
        parse_resolution(&t.resolution, &cb, res, &err);
    if (action && ombud_action_parse(action, &t.action))
        ombud_lifecycle_check_input(&t, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK) {
        ombud_reply_problem(req, &err);
        return;
    }
    if (t.force && req->who.role < OMBUD_ROLE_SUPERVISOR) {
        ombud_err_set(&err, OMBUD_E_FORBIDDEN, NULL,
                      "only a supervisor may force a close without the customer's agreement");
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_complaint_change_reply(req, &t, 200);
}

/* The escalation level goes up by one and the complaint moves to
 * team_id, or to its team's escalation team when it has one. */
void ombud_h_complaints_escalate(struct ombud_req *req)
{
    struct ombud_transition t = {.kind = OMBUD_CHANGE_ESCALATE};
    struct ombud_err err;
    const struct ombud_spec spec[] = {
        {.name = "reason",
         .type = OMBUD_SPEC_STRING,
         .required = true,
         .min = 1,
         .max = 2000,
         .s = &t.reason},
        {.name = "team_id",
         .type = OMBUD_SPEC_INT,
         .nullable = true,
         .min = 1,
         .max = INT64_MAX,
         .i = &t.team_id},
    };
    ombud_err_clear(&err);
    ombud_spec_parse(req->json, spec, sizeof spec / sizeof spec[0], NULL, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_complaint_change_reply(req, &t, 200);
}
