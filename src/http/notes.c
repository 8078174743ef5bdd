/*
 * A complaint's notes, its timeline and the customer's satisfaction.
 * Service keys see and add only public notes, on complaints they created;
 * a public note by an agent (or above) is a first response.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/complaint_common.h"
#include "ombud/json_spec.h"
#include "ombud/repr.h"
#include "ombud/service/sla.h"

static const char *const visibilities[] = {"internal", "public", NULL};

struct note_ctx {
    struct ombud_req *req;
    const char *body, *visibility;
    struct ombud_note note; /* output */
};

static enum ombud_rc note_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct note_ctx *x = arg;
    struct ombud_complaint cp = {0};
    struct ombud_actor actor;
    char *data = NULL;
    enum ombud_rc rc = OMBUD_ERROR;

    free(x->note.body);
    memset(&x->note, 0, sizeof x->note);
    if (ombud_complaint_load(c, x->req, x->req->match.ids[0], true, &cp, err) != OMBUD_OK)
        goto out;
    ombud_actor_of(x->req, &actor);
    if (ombud_db_note_add(c, cp.id, x->body, x->visibility, &actor, &x->note, err) != OMBUD_OK)
        goto out;
    data = ombud_event_data(json_pack("{s:I, s:s}", "note_id", (json_int_t)x->note.id,
                                      "visibility", x->visibility));
    if (ombud_db_event_add(c, cp.id, "note_added", &actor, data, err) != OMBUD_OK)
        goto out;
    if (strcmp(x->visibility, "public") == 0 && x->req->who.role >= OMBUD_ROLE_AGENT &&
        cp.first_response_at == 0) {
        cp.first_response_at = OMBUD_DB_NOW;
        if (ombud_db_complaint_save(c, &cp, err) != OMBUD_OK ||
            ombud_svc_sla_apply(c, &cp, OMBUD_SLA_OP_MEET_FR, ombud_now_s(), err) != OMBUD_OK)
            goto out;
    }
    rc = OMBUD_OK;
out:
    free(data);
    ombud_complaint_clear(&cp);
    return rc;
}

void ombud_h_notes_create(struct ombud_req *req)
{
    struct note_ctx x = {.req = req};
    struct ombud_err err;
    const struct ombud_spec spec[] = {
        {.name = "body", .type = OMBUD_SPEC_STRING, .required = true, .min = 1, .max = 20000,
         .s = &x.body},
        {.name = "visibility", .type = OMBUD_SPEC_ENUM, .values = visibilities,
         .s = &x.visibility},
    };

    ombud_err_clear(&err);
    ombud_spec_parse(req->json, spec, sizeof spec / sizeof spec[0], NULL, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK)
        goto fail;
    bool service = req->who.role == OMBUD_ROLE_SERVICE;
    if (!x.visibility)
        x.visibility = service ? "public" : "internal";
    if (service && strcmp(x.visibility, "public") != 0) {
        ombud_err_set(&err, 403, "forbidden", "Forbidden", "service keys add public notes only");
        goto fail;
    }
    if (ombud_tx_run(req->pool, note_tx, &x, &err) != OMBUD_OK)
        goto fail;
    ombud_reply_json(req, 201, ombud_repr_note(&x.note));
    free(x.note.body);
    return;
fail:
    free(x.note.body);
    ombud_reply_problem(req, &err);
}

/* ---- lists: notes and events, both in id order after an id cursor ---- */

struct sub_list_ctx {
    struct ombud_req *req;
    bool events;
    int64_t after;
    int limit;
    struct ombud_note *notes;
    struct ombud_event *evs;
    size_t n;
};

static enum ombud_rc sub_list_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct sub_list_ctx *x = arg;
    struct ombud_complaint cp = {0};
    ombud_notes_free(x->notes, x->notes ? x->n : 0);
    ombud_events_free(x->evs, x->evs ? x->n : 0);
    x->notes = NULL;
    x->evs = NULL;
    x->n = 0;
    if (ombud_complaint_load(c, x->req, x->req->match.ids[0], false, &cp, err) != OMBUD_OK)
        return OMBUD_ERROR;
    ombud_complaint_clear(&cp);
    if (x->events)
        return ombud_db_event_list(c, x->req->match.ids[0], x->after, x->limit, &x->evs, &x->n,
                                   err);
    return ombud_db_note_list(c, x->req->match.ids[0], x->req->who.role == OMBUD_ROLE_SERVICE,
                              x->after, x->limit, &x->notes, &x->n, err);
}

static void sub_list(struct ombud_req *req, bool events)
{
    struct sub_list_ctx x = {.req = req, .events = events};
    struct ombud_err err;

    ombud_err_clear(&err);
    ombud_req_id_page(req, &x.limit, &x.after, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_db_run(req->pool, sub_list_q, &x, &err) != OMBUD_OK) {
        ombud_notes_free(x.notes, x.n);
        ombud_events_free(x.evs, x.n);
        ombud_reply_problem(req, &err);
        return;
    }
    json_t *items = json_array();
    size_t shown = x.n > (size_t)x.limit ? (size_t)x.limit : x.n;
    for (size_t i = 0; i < shown; i++)
        json_array_append_new(items, events ? ombud_repr_event(&x.evs[i])
                                            : ombud_repr_note(&x.notes[i]));
    int64_t last = !shown ? 0 : events ? x.evs[shown - 1].id : x.notes[shown - 1].id;
    ombud_notes_free(x.notes, x.notes ? x.n : 0);
    ombud_events_free(x.evs, x.evs ? x.n : 0);
    ombud_reply_id_page(req, items, x.n, x.limit, last);
}

void ombud_h_notes_list(struct ombud_req *req)
{
    sub_list(req, false);
}

void ombud_h_events_list(struct ombud_req *req)
{
    sub_list(req, true);
}

/* ---- satisfaction ---- */

struct sat_ctx {
    struct ombud_req *req;
    int64_t score;
    const char *comment;
    struct ombud_complaint cp;
};

static enum ombud_rc sat_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct sat_ctx *x = arg;
    struct ombud_actor actor;
    char *data = NULL;
    enum ombud_rc rc = OMBUD_ERROR;

    ombud_complaint_clear(&x->cp);
    if (ombud_complaint_load(c, x->req, x->req->match.ids[0], true, &x->cp, err) != OMBUD_OK ||
        ombud_check_if_match(x->req, x->cp.version, err) != OMBUD_OK)
        goto out;
    if (x->cp.status != OMBUD_ST_RESOLVED && x->cp.status != OMBUD_ST_CLOSED) {
        ombud_err_set(err, 409, "not-resolved", "Conflict",
                      "satisfaction is recorded once the complaint is resolved or closed; it is %s",
                      ombud_status_name(x->cp.status));
        goto out;
    }
    if (x->cp.satisfaction_score) {
        ombud_err_set(err, 409, "already-recorded", "Conflict",
                      "satisfaction was already recorded for this complaint");
        goto out;
    }
    x->cp.satisfaction_score = (int)x->score;
    x->cp.satisfaction_comment = x->comment ? strdup(x->comment) : NULL;
    x->cp.satisfaction_at = OMBUD_DB_NOW;
    ombud_actor_of(x->req, &actor);
    data = ombud_event_data(json_pack("{s:I}", "score", (json_int_t)x->score));
    if (ombud_db_complaint_save(c, &x->cp, err) != OMBUD_OK ||
        ombud_db_event_add(c, x->cp.id, "satisfaction_recorded", &actor, data, err) != OMBUD_OK)
        goto out;
    ombud_complaint_clear(&x->cp);
    rc = ombud_complaint_load(c, x->req, x->req->match.ids[0], false, &x->cp, err);
out:
    free(data);
    return rc;
}

void ombud_h_satisfaction_create(struct ombud_req *req)
{
    struct sat_ctx x = {.req = req};
    struct ombud_err err;
    const struct ombud_spec spec[] = {
        {.name = "score", .type = OMBUD_SPEC_INT, .required = true, .min = 1, .max = 5,
         .i = &x.score},
        {.name = "comment", .type = OMBUD_SPEC_STRING, .min = 1, .max = 2000, .nullable = true,
         .s = &x.comment},
    };

    ombud_err_clear(&err);
    ombud_spec_parse(req->json, spec, sizeof spec / sizeof spec[0], NULL, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_tx_run(req->pool, sat_tx, &x, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_complaint(req, 201, &x.cp, NULL);
    ombud_complaint_clear(&x.cp);
}
