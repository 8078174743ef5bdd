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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/complaint_common.h"
#include "ombud/json_spec.h"
#include "ombud/repr.h"
#include "ombud/service/sla.h"

/* Compensation as the resolution stores it. */
struct comp_buf {
    char amount[OMBUD_MONEY_TEXT_MAX];
    char currency[4];
};

#define AMOUNT_FIELD "resolution.compensation.amount"
#define CURRENCY_FIELD "resolution.compensation.currency"

enum ombud_rc ombud_compensation_parse(const json_t *comp, char *amount, char *currency,
                                       struct ombud_err *err)
{
    json_t *a = NULL;
    const char *code = NULL;
    const struct ombud_spec spec[] = {
        {.name = "amount", .type = OMBUD_SPEC_ANY, .required = true, .j = &a},
        {.name = "currency", .type = OMBUD_SPEC_STRING, .required = true, .s = &code},
    };
    size_t nfields = err->nfields;
    amount[0] = currency[0] = '\0';
    ombud_spec_parse(comp, spec, sizeof spec / sizeof spec[0], "resolution.compensation.", err);
    /* A bad currency is reported once, as itself; the amount is then
     * checked only for what does not depend on it (form, sign). */
    const char *payable =
        code && ombud_money_currency(code, CURRENCY_FIELD, err) == OMBUD_OK ? code : NULL;
    enum ombud_rc rc = OMBUD_ERROR;
    if (json_is_string(a))
        rc = ombud_money_parse_text(json_string_value(a), json_string_length(a), payable,
                                    AMOUNT_FIELD, amount, err);
    else if (json_is_integer(a))
        rc = ombud_money_parse_integer(json_integer_value(a), payable, AMOUNT_FIELD, amount, err);
    else if (json_is_real(a))
        rc = ombud_money_parse_real(json_real_value(a), payable, AMOUNT_FIELD, amount, err);
    else if (a)
        ombud_err_field(err, AMOUNT_FIELD,
                        "must be a decimal string such as \"12.50\" or a number");
    if (rc != OMBUD_OK || !payable || err->nfields != nfields) {
        amount[0] = '\0';
        return OMBUD_ERROR;
    }
    snprintf(currency, 4, "%s", payable);
    return OMBUD_OK;
}

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
    if (ombud_compensation_parse(comp, cb->amount, cb->currency, err) == OMBUD_OK) {
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
