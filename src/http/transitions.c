/*
 * POST /v1/complaints/{id}/transitions {action, note?, resolution?, force?}
 *
 * The row is locked, If-Match checked, and the action looked up in the
 * transition table (domain/lifecycle.c); an action not allowed now is a
 * 409 listing the allowed ones. Two agents racing: the second waits for
 * the lock, then sees the new state (409) or a new version (412).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/complaint_common.h"
#include "ombud/json_spec.h"
#include "ombud/repr.h"
#include "ombud/service/sla.h"

struct tr_ctx {
    struct ombud_req *req;
    enum ombud_action action;
    const char *note;
    bool force;
    /* resolution, when given */
    bool has_resolution, has_summary, has_agreed, has_comp;
    const char *summary;
    bool agreed;
    char amount[32];
    char currency[4];
    struct ombud_complaint cp; /* output */
};

static enum ombud_rc transition_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct tr_ctx *x = arg;
    struct ombud_actor actor;
    struct ombud_note note = {0};
    enum ombud_status from, to;
    char *data = NULL;
    enum ombud_rc rc = OMBUD_ERROR;

    ombud_complaint_clear(&x->cp);
    if (ombud_complaint_load(c, x->req, x->req->match.ids[0], true, &x->cp, err) != OMBUD_OK ||
        ombud_check_if_match(x->req, x->cp.version, err) != OMBUD_OK)
        goto out;
    from = x->cp.status;
    if (!ombud_lifecycle_next(from, x->action, &to)) {
        ombud_err_set(err, 409, "transition-not-allowed", "Conflict",
                      "%s is not allowed while the complaint is %s", ombud_action_name(x->action),
                      ombud_status_name(from));
        ombud_lifecycle_allowed(from, err->allowed, sizeof err->allowed);
        goto out;
    }
    if (x->action == OMBUD_ACT_CLOSE && !x->force &&
        !(x->has_agreed ? x->agreed : x->cp.customer_agreed == 1)) {
        ombud_err_field(err, "resolution.customer_agreed",
                        "must be true to close (a supervisor may send force: true)");
        ombud_err_finish_validation(err);
        goto out;
    }

    /* Apply. Timestamps use OMBUD_DB_NOW, i.e. the transaction's now(). */
    x->cp.status = to;
    if (ombud_action_meets_first_response(x->action) && x->cp.first_response_at == 0)
        x->cp.first_response_at = OMBUD_DB_NOW;
    switch (x->action) {
    case OMBUD_ACT_RESOLVE:
        x->cp.resolved_at = OMBUD_DB_NOW;
        free(x->cp.resolution_summary);
        x->cp.resolution_summary = strdup(x->summary);
        free(x->cp.compensation_amount);
        x->cp.compensation_amount = x->has_comp ? strdup(x->amount) : NULL;
        snprintf(x->cp.compensation_currency, sizeof x->cp.compensation_currency, "%s",
                 x->has_comp ? x->currency : "");
        x->cp.customer_agreed = x->has_agreed ? x->agreed : -1;
        break;
    case OMBUD_ACT_CLOSE:
        x->cp.closed_at = OMBUD_DB_NOW;
        if (x->has_agreed)
            x->cp.customer_agreed = x->agreed;
        break;
    case OMBUD_ACT_WITHDRAW:
        x->cp.closed_at = OMBUD_DB_NOW;
        break;
    case OMBUD_ACT_REOPEN:
        /* A new resolution cycle: the old one stays in the timeline. */
        x->cp.reopen_count++;
        x->cp.resolved_at = 0;
        x->cp.closed_at = 0;
        x->cp.customer_agreed = -1;
        break;
    default:
        break;
    }
    ombud_actor_of(x->req, &actor);
    if (ombud_db_complaint_save(c, &x->cp, err) != OMBUD_OK)
        goto out;
    if (x->note) {
        if (ombud_db_note_add(c, x->cp.id, x->note, "internal", &actor, &note, err) != OMBUD_OK)
            goto out;
        data = ombud_event_data(json_pack("{s:I, s:s}", "note_id", (json_int_t)note.id,
                                          "visibility", "internal"));
        if (ombud_db_event_add(c, x->cp.id, "note_added", &actor, data, err) != OMBUD_OK)
            goto out;
        free(data);
        data = NULL;
    }
    /* The SLA clocks follow the life cycle, in the same transaction. */
    static const enum ombud_sla_op ops[OMBUD_ACT_COUNT] = {
        [OMBUD_ACT_ACKNOWLEDGE] = OMBUD_SLA_OP_MEET_FR, [OMBUD_ACT_START] = OMBUD_SLA_OP_MEET_FR,
        [OMBUD_ACT_PEND] = OMBUD_SLA_OP_PAUSE,          [OMBUD_ACT_RESUME] = OMBUD_SLA_OP_RESUME,
        [OMBUD_ACT_RESOLVE] = OMBUD_SLA_OP_MEET_RES,    [OMBUD_ACT_CLOSE] = OMBUD_SLA_OP_STOP,
        [OMBUD_ACT_REOPEN] = OMBUD_SLA_OP_REOPEN,       [OMBUD_ACT_WITHDRAW] = OMBUD_SLA_OP_STOP,
    };
    if (ombud_svc_sla_apply(c, &x->cp, ops[x->action], ombud_now_s(), err) != OMBUD_OK)
        goto out;
    if (x->action == OMBUD_ACT_PEND || x->action == OMBUD_ACT_RESUME) {
        free(data);
        data = ombud_event_data(json_pack("{s:s}", "status", ombud_status_name(to)));
        if (ombud_db_event_add(c, x->cp.id,
                               x->action == OMBUD_ACT_PEND ? "sla_paused" : "sla_resumed", &actor,
                               data, err) != OMBUD_OK)
            goto out;
    }
    json_t *ev = json_pack("{s:s, s:s, s:s}", "action", ombud_action_name(x->action), "from",
                           ombud_status_name(from), "to", ombud_status_name(to));
    if (note.id)
        json_object_set_new(ev, "note_id", json_integer(note.id));
    if (x->force)
        json_object_set_new(ev, "forced", json_true());
    if (x->action == OMBUD_ACT_REOPEN)
        json_object_set_new(ev, "reopen_count", json_integer(x->cp.reopen_count));
    if (x->action == OMBUD_ACT_RESOLVE)
        json_object_set_new(ev, "resolution", json_pack("{s:s}", "summary", x->summary));
    free(data);
    data = ombud_event_data(ev);
    if (ombud_db_event_add(c, x->cp.id, "status_changed", &actor, data, err) != OMBUD_OK)
        goto out;
    ombud_complaint_clear(&x->cp);
    rc = ombud_complaint_load(c, x->req, x->req->match.ids[0], false, &x->cp, err);
out:
    free(data);
    free(note.body);
    return rc;
}

/* resolution: {summary, compensation: {amount, currency}, customer_agreed} */
static void parse_resolution(struct tr_ctx *x, const json_t *res, struct ombud_err *err)
{
    json_t *comp = NULL;
    const struct ombud_spec spec[] = {
        {.name = "summary", .type = OMBUD_SPEC_STRING, .min = 1, .max = 5000, .s = &x->summary,
         .present = &x->has_summary},
        {.name = "compensation", .type = OMBUD_SPEC_OBJECT, .nullable = true, .j = &comp},
        {.name = "customer_agreed", .type = OMBUD_SPEC_BOOL, .b = &x->agreed,
         .present = &x->has_agreed},
    };
    ombud_spec_parse(res, spec, sizeof spec / sizeof spec[0], "resolution.", err);
    if (!comp)
        return;
    const char *currency = NULL;
    double v = 0;
    bool has_amount = false;
    const struct ombud_spec cspec[] = {
        {.name = "amount", .type = OMBUD_SPEC_NUMBER, .required = true, .min = 0,
         .max = 999999999999, .d = &v, .present = &has_amount},
        {.name = "currency", .type = OMBUD_SPEC_STRING, .required = true, .min = 3, .max = 3,
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
        x->has_comp = true;
        snprintf(x->amount, sizeof x->amount, "%.2f", v);
        snprintf(x->currency, sizeof x->currency, "%s", currency);
    }
}

void ombud_h_complaints_transition(struct ombud_req *req)
{
    struct tr_ctx x = {.req = req};
    struct ombud_err err;
    const char *action = NULL;
    json_t *res = NULL;
    const struct ombud_spec spec[] = {
        {.name = "action", .type = OMBUD_SPEC_ENUM, .required = true,
         .values = ombud_action_names, .s = &action},
        {.name = "note", .type = OMBUD_SPEC_STRING, .min = 1, .max = 20000, .nullable = true,
         .s = &x.note},
        {.name = "resolution", .type = OMBUD_SPEC_OBJECT, .nullable = true, .j = &res},
        {.name = "force", .type = OMBUD_SPEC_BOOL, .b = &x.force},
    };

    ombud_err_clear(&err);
    ombud_spec_parse(req->json, spec, sizeof spec / sizeof spec[0], NULL, &err);
    if (res)
        parse_resolution(&x, res, &err);
    if (action && ombud_action_parse(action, &x.action)) {
        if (x.action == OMBUD_ACT_RESOLVE && !x.has_summary)
            ombud_err_field(&err, "resolution.summary", "is required to resolve");
        if (x.action == OMBUD_ACT_WITHDRAW && !x.note)
            ombud_err_field(&err, "note", "is required to withdraw (say why)");
        if (res && x.action != OMBUD_ACT_RESOLVE && x.action != OMBUD_ACT_CLOSE)
            ombud_err_field(&err, "resolution", "is only taken by resolve and close");
        if (res && x.action == OMBUD_ACT_CLOSE && (x.has_summary || x.has_comp))
            ombud_err_field(&err, "resolution", "close takes only customer_agreed");
        if (x.force && x.action != OMBUD_ACT_CLOSE)
            ombud_err_field(&err, "force", "is only taken by close");
    }
    if (ombud_err_finish_validation(&err) != OMBUD_OK)
        goto fail;
    if (x.force && req->who.role < OMBUD_ROLE_SUPERVISOR) {
        ombud_err_set(&err, 403, "forbidden", "Forbidden",
                      "only a supervisor may force a close without the customer's agreement");
        goto fail;
    }
    if (ombud_tx_run(req->pool, transition_tx, &x, &err) != OMBUD_OK)
        goto fail;
    ombud_reply_complaint(req, 200, &x.cp, NULL);
    ombud_complaint_clear(&x.cp);
    return;
fail:
    ombud_complaint_clear(&x.cp);
    ombud_reply_problem(req, &err);
}

/*
 * POST /v1/complaints/{id}/escalate {reason, team_id?} (supervisor): the
 * escalation level goes up by one and the complaint moves to team_id, or
 * to its team's escalation team when it has one.
 */
struct esc_ctx {
    struct ombud_req *req;
    const char *reason;
    int64_t team_id;
    struct ombud_complaint cp;
};

static enum ombud_rc escalate_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct esc_ctx *x = arg;
    struct ombud_actor actor;
    struct ombud_team team;
    bool found, cat_ok, team_ok = true, agent_ok;
    char *data = NULL;
    enum ombud_rc rc = OMBUD_ERROR;

    ombud_complaint_clear(&x->cp);
    if (ombud_complaint_load(c, x->req, x->req->match.ids[0], true, &x->cp, err) != OMBUD_OK ||
        ombud_check_if_match(x->req, x->cp.version, err) != OMBUD_OK)
        goto out;
    if (!ombud_status_is_open(x->cp.status)) {
        ombud_err_set(err, 409, "not-open", "Conflict",
                      "only open complaints are escalated; this one is %s",
                      ombud_status_name(x->cp.status));
        goto out;
    }
    int64_t to_team = x->team_id;
    if (to_team) {
        if (ombud_db_refs_check(c, NULL, to_team, 0, &cat_ok, &team_ok, &agent_ok, err) !=
            OMBUD_OK)
            goto out;
        if (!team_ok) {
            ombud_err_field(err, "team_id", "names no team");
            ombud_err_finish_validation(err);
            goto out;
        }
    } else if (x->cp.team_id) {
        if (ombud_db_team_get(c, x->cp.team_id, &team, &found, err) != OMBUD_OK)
            goto out;
        to_team = found && team.escalation_team_id ? team.escalation_team_id : x->cp.team_id;
    }
    json_t *ev = json_pack("{s:s, s:i, s:i}", "reason", x->reason, "from_level",
                           x->cp.escalation_level, "to_level", x->cp.escalation_level + 1);
    if (to_team != x->cp.team_id)
        json_object_set_new(ev, "team_id",
                            ombud_change(x->cp.team_id ? json_integer(x->cp.team_id) : NULL,
                                         to_team ? json_integer(to_team) : NULL));
    data = ombud_event_data(ev);
    x->cp.escalation_level++;
    x->cp.team_id = to_team;
    ombud_actor_of(x->req, &actor);
    if (ombud_db_complaint_save(c, &x->cp, err) != OMBUD_OK ||
        ombud_db_event_add(c, x->cp.id, "escalated", &actor, data, err) != OMBUD_OK)
        goto out;
    ombud_complaint_clear(&x->cp);
    rc = ombud_complaint_load(c, x->req, x->req->match.ids[0], false, &x->cp, err);
out:
    free(data);
    return rc;
}

void ombud_h_complaints_escalate(struct ombud_req *req)
{
    struct esc_ctx x = {.req = req};
    struct ombud_err err;
    const struct ombud_spec spec[] = {
        {.name = "reason", .type = OMBUD_SPEC_STRING, .required = true, .min = 1, .max = 2000,
         .s = &x.reason},
        {.name = "team_id", .type = OMBUD_SPEC_INT, .nullable = true, .min = 1,
         .max = INT64_MAX, .i = &x.team_id},
    };
    ombud_err_clear(&err);
    ombud_spec_parse(req->json, spec, sizeof spec / sizeof spec[0], NULL, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_tx_run(req->pool, escalate_tx, &x, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_complaint(req, 200, &x.cp, NULL);
    ombud_complaint_clear(&x.cp);
}
