/*
 * A complaint's notes, its timeline and the customer's satisfaction.
 * Service keys see and add only public notes, on complaints they created.
 * Adding a note or a score is a change through the complaint service;
 * its rules (a public note by an agent or above is a first response,
 * satisfaction once and only after resolution) are domain/lifecycle.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/complaint_common.h"
#include "ombud/db/complaints.h"
#include "ombud/json_spec.h"
#include "ombud/repr.h"
#include "ombud/service/sla.h"

static const char *const visibilities[] = {"internal", "public", NULL};

void ombud_h_notes_create(struct ombud_req *req)
{
    struct ombud_transition t = {.kind = OMBUD_CHANGE_NOTE};
    struct ombud_note note = {0};
    struct ombud_actor actor;
    struct ombud_err err;
    const struct ombud_spec spec[] = {
        {.name = "body", .type = OMBUD_SPEC_STRING, .required = true, .min = 1, .max = 20000,
         .s = &t.note},
        {.name = "visibility", .type = OMBUD_SPEC_ENUM, .values = visibilities,
         .s = &t.visibility},
    };

    ombud_err_clear(&err);
    ombud_spec_parse(req->json, spec, sizeof spec / sizeof spec[0], NULL, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK)
        goto fail;
    bool service = req->who.role == OMBUD_ROLE_SERVICE;
    if (!t.visibility)
        t.visibility = service ? "public" : "internal";
    if (service && strcmp(t.visibility, "public") != 0) {
        ombud_err_set(&err, OMBUD_E_FORBIDDEN, NULL, "service keys add public notes only");
        goto fail;
    }
    /* A note is not conditional on the complaint's version. */
    ombud_actor_of(req, &actor);
    if (ombud_svc_complaint_change(req->pool, &actor, ombud_req_path_id(req, 0), NULL, &t, NULL, &note,
                                   &err) != OMBUD_OK)
        goto fail;
    ombud_reply_json(req, 201, ombud_repr_note(&note));
    free(note.body);
    return;
fail:
    ombud_reply_problem(req, &err);
}

/* ---- lists: notes and events, both in id order after an id cursor ---- */

struct sub_list_ctx {
    struct ombud_req *req;
    int64_t id;
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
    enum ombud_rc rc = ombud_complaint_load(c, x->req, x->id, false, &cp, err);
    if (rc != OMBUD_OK)
        return rc;
    ombud_complaint_clear(&cp);
    if (x->events)
        return ombud_db_event_list(c, x->id, x->after, x->limit, &x->evs, &x->n,
                                   err);
    return ombud_db_note_list(c, x->id, x->req->who.role == OMBUD_ROLE_SERVICE,
                              x->after, x->limit, &x->notes, &x->n, err);
}

static void sub_list(struct ombud_req *req, bool events)
{
    struct sub_list_ctx x = {.req = req, .id = ombud_req_path_id(req, 0), .events = events};
    struct ombud_err err;

    ombud_err_clear(&err);
    ombud_query_id_page(req, &x.limit, &x.after, &err);
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

void ombud_h_satisfaction_create(struct ombud_req *req)
{
    struct ombud_transition t = {.kind = OMBUD_CHANGE_SATISFACTION};
    struct ombud_err err;
    int64_t score = 0;
    const struct ombud_spec spec[] = {
        {.name = "score", .type = OMBUD_SPEC_INT, .required = true, .min = 1, .max = 5,
         .i = &score},
        {.name = "comment", .type = OMBUD_SPEC_STRING, .min = 1, .max = 2000, .nullable = true,
         .s = &t.comment},
    };

    ombud_err_clear(&err);
    ombud_spec_parse(req->json, spec, sizeof spec / sizeof spec[0], NULL, &err);
    t.score = (int)score;
    if (ombud_err_finish_validation(&err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_complaint_change_reply(req, &t, 201);
}
