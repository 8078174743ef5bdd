/*
 * A complaint's notes, its timeline and the customer's satisfaction.
 * Service keys see and add only public notes, on complaints they created.
 * Adding a note or a score is a change through the complaint service;
 * its rules (a public note by an agent or above is a first response,
 * satisfaction once and only after resolution) are domain/lifecycle.c's.
 */
#include <stddef.h>
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
        {.name = "body",
         .type = OMBUD_SPEC_STRING,
         .required = true,
         .min = 1,
         .max = 20000,
         .s = &t.note},
        {.name = "visibility", .type = OMBUD_SPEC_ENUM, .values = visibilities, .s = &t.visibility},
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
    if (ombud_svc_complaint_change(req->pool, &actor, ombud_req_path_id(req, 0), NULL, &t, NULL,
                                   &note, &err) != OMBUD_OK)
        goto fail;
    ombud_reply_json_steal(req, 201, ombud_repr_note(&note));
    free(note.body);
    return;
fail:
    ombud_reply_problem(req, &err);
}

/* ---- lists: notes and events, both in id order after an id cursor ---- */

/* Which complaint's list, and which page of it. */
struct sub_page {
    struct ombud_req *req;
    int64_t complaint_id;
    int64_t after;
    int limit;
};

/* The page's complaint must be one the caller may see. */
static enum ombud_rc sub_page_visible(struct ombud_db_conn *c, const struct sub_page *p,
                                      struct ombud_err *err)
{
    struct ombud_complaint cp = {0};
    enum ombud_rc rc = ombud_complaint_load(c, p->req, p->complaint_id, false, &cp, err);
    ombud_complaint_clear(&cp);
    return rc;
}

/* Reads the path's complaint and the page's query; false with the problem in err. */
static bool sub_page_parse(struct ombud_req *req, struct sub_page *p, struct ombud_err *err)
{
    *p = (struct sub_page){.req = req, .complaint_id = ombud_req_path_id(req, 0)};
    ombud_err_clear(err);
    ombud_query_id_page(req, &p->limit, &p->after, err);
    return ombud_err_finish_validation(err) == OMBUD_OK;
}

struct note_list {
    struct sub_page page;
    struct ombud_note *notes;
    size_t n;
};

static enum ombud_rc note_list_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct note_list *list = arg;
    const struct sub_page *p = &list->page;
    enum ombud_rc rc;
    ombud_notes_free(list->notes, list->n);
    list->notes = NULL;
    list->n = 0;
    if ((rc = sub_page_visible(c, p, err)) != OMBUD_OK)
        return rc;
    return ombud_db_note_list(c, p->complaint_id, p->req->who.role == OMBUD_ROLE_SERVICE, p->after,
                              p->limit, &list->notes, &list->n, err);
}

static json_t *render_note(const void *row)
{
    return ombud_repr_note(row);
}

void ombud_h_notes_list(struct ombud_req *req)
{
    struct note_list list = {0};
    struct ombud_err err;

    if (!sub_page_parse(req, &list.page, &err) ||
        ombud_db_run(req->pool, note_list_q, &list, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_list(req, list.notes, list.n, sizeof *list.notes,
                         offsetof(struct ombud_note, id), list.page.limit, render_note);
    ombud_notes_free(list.notes, list.n);
}

struct event_list {
    struct sub_page page;
    struct ombud_event *events;
    size_t n;
};

static enum ombud_rc event_list_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct event_list *list = arg;
    const struct sub_page *p = &list->page;
    enum ombud_rc rc;
    ombud_events_free(list->events, list->n);
    list->events = NULL;
    list->n = 0;
    if ((rc = sub_page_visible(c, p, err)) != OMBUD_OK)
        return rc;
    return ombud_db_event_list(c, p->complaint_id, p->after, p->limit, &list->events, &list->n,
                               err);
}

static json_t *render_event(const void *row)
{
    return ombud_repr_event(row);
}

void ombud_h_events_list(struct ombud_req *req)
{
    struct event_list list = {0};
    struct ombud_err err;

    if (!sub_page_parse(req, &list.page, &err) ||
        ombud_db_run(req->pool, event_list_q, &list, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_list(req, list.events, list.n, sizeof *list.events,
                         offsetof(struct ombud_event, id), list.page.limit, render_event);
    ombud_events_free(list.events, list.n);
}

/* ---- satisfaction ---- */

void ombud_h_satisfaction_create(struct ombud_req *req)
{
    struct ombud_transition t = {.kind = OMBUD_CHANGE_SATISFACTION};
    struct ombud_err err;
    int64_t score = 0;
    const struct ombud_spec spec[] = {
        {.name = "score",
         .type = OMBUD_SPEC_INT,
         .required = true,
         .min = 1,
         .max = 5,
         .i = &score},
        {.name = "comment",
         .type = OMBUD_SPEC_STRING,
         .min = 1,
         .max = 2000,
         .nullable = true,
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
