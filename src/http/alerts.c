/*
 * /v1/alerts (agents read; supervisors acknowledge) and the operators'
 * SLA views: /v1/sla/at-risk and /v1/sla/summary.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/complaint_common.h"
#include "ombud/cursor.h"
#include "ombud/db/alerts.h"
#include "ombud/db/complaints.h"
#include "ombud/repr.h"
#include "ombud/timefmt.h"

/* In the order of enum ombud_alert_state_filter. */
static const char *const alert_states[] = {"open", "acknowledged", "all", NULL};
static const char *const alert_kinds[] = {"sla_warning", "sla_breach", "escalation", NULL};

struct alert_page {
    struct ombud_alert_filter f;
    struct ombud_alert *alerts;
    size_t n;
};

static enum ombud_rc list_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct alert_page *page = arg;
    free(page->alerts); /* a retried run's */
    page->alerts = NULL;
    return ombud_db_alert_list(c, &page->f, &page->alerts, &page->n, err);
}

static json_t *render_alert(const void *row)
{
    return ombud_repr_alert(row);
}

void ombud_h_alerts_list(struct ombud_req *req)
{
    struct alert_page page = {0};
    struct ombud_err err;
    int kind, state;

    ombud_err_clear(&err);
    ombud_query_enum(req, "state", alert_states, OMBUD_ALERTS_OPEN, &state, &err);
    page.f.state = (enum ombud_alert_state_filter)state;
    if (ombud_query_enum(req, "kind", alert_kinds, 0, &kind, &err))
        page.f.kind = alert_kinds[kind];
    ombud_query_id(req, "complaint_id", &page.f.complaint_id, &err);
    ombud_query_id_page(req, &page.f.limit, &page.f.before_id, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_db_run(req->pool, list_q, &page, &err) != OMBUD_OK) {
        free(page.alerts);
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_list(req, page.alerts, page.n, sizeof *page.alerts,
                     offsetof(struct ombud_alert, id), page.f.limit, render_alert);
    free(page.alerts);
}

struct alert_ack {
    int64_t id;
    int64_t by_key_id; /* who acknowledges */
    struct ombud_alert alert;
    bool found, already;
};

static enum ombud_rc ack_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct alert_ack *ack = arg;
    enum ombud_rc rc = ombud_db_alert_ack(c, ack->id, ack->by_key_id, &ack->alert, &ack->found,
                                          &ack->already, err);
    if (rc != OMBUD_OK)
        return rc;
    if (!ack->found)
        return ombud_err_not_found(err, "alert");
    if (ack->already)
        return ombud_err_set(err, OMBUD_E_CONFLICT, "already-acknowledged",
                             "the alert was acknowledged already");
    return OMBUD_OK;
}

void ombud_h_alerts_ack(struct ombud_req *req)
{
    struct alert_ack ack = {.id = ombud_req_path_id(req, 0), .by_key_id = req->who.key_id};
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_tx_run(req->pool, ack_tx, &ack, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_json_steal(req, 200, ombud_repr_alert(&ack.alert));
}

/* ---- at-risk ---- */

struct risk_ctx {
    struct ombud_req *req;
    int64_t until;
    int limit;
    bool has_cursor;
    int64_t after[2]; /* the page position: due time, complaint id */
    struct ombud_complaint_filter f;
    int64_t *ids, *due;
    size_t n;
    struct ombud_complaint *items;
    size_t nitems;
};

static enum ombud_rc risk_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct risk_ctx *x = arg;
    enum ombud_rc rc;
    free(x->ids);
    free(x->due);
    ombud_complaints_free(x->items, x->nitems);
    x->ids = x->due = NULL;
    x->items = NULL;
    x->n = x->nitems = 0;
    x->f.creator_key_id = x->req->who.role == OMBUD_ROLE_SERVICE ? x->req->who.key_id : 0;
    /* One more than shown: whether another page follows. */
    rc = ombud_db_sla_at_risk(c, x->until, x->limit + 1, &x->f, x->has_cursor ? x->after : NULL,
                              &x->ids, &x->due, &x->n, err);
    if (rc != OMBUD_OK)
        return rc;
    /* The page's complaints in one statement (not the extra one). The
     * query above kept a service key to its own complaints, and none is
     * ever deleted, so each id has its complaint. */
    size_t shown = x->n > (size_t)x->limit ? (size_t)x->limit : x->n, got = 0;
    if ((rc = ombud_db_complaints_by_id(c, x->ids, shown, &x->items, &got, err)) != OMBUD_OK)
        return rc;
    x->nitems = got;
    if (got != shown)
        return ombud_err_internal(err, "an at-risk complaint could not be read");
    return OMBUD_OK;
}

void ombud_h_sla_at_risk(struct ombud_req *req)
{
    struct risk_ctx x = {.req = req};
    struct ombud_err err;
    int64_t within;

    ombud_err_clear(&err);
    ombud_query_int(req, "within_minutes", 0, OMBUD_SLA_MAX_MINUTES, 60, &within, &err);
    /* The complaint list's filters (API.md "SLA"). */
    ombud_complaint_filter_query(req, &x.f, &err);
    /* Keyset paging over (due time, id), the list's order. */
    ombud_query_page(req, &x.limit, x.after, 2, &x.has_cursor, &err);
    if (x.has_cursor && x.after[1] < 1)
        ombud_err_field(&err, "cursor", "is not a cursor this list returned");
    int64_t now = ombud_time_now_s();
    x.until = now + within * 60;
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_db_run(req->pool, risk_q, &x, &err) != OMBUD_OK) {
        ombud_reply_problem(req, &err);
    } else {
        size_t shown = x.n > (size_t)x.limit ? (size_t)x.limit : x.n;
        char next[OMBUD_CURSOR_BUFLEN];
        json_t *items = json_array();
        for (size_t i = 0; i < shown; i++)
            json_array_append_new(items, ombud_repr_complaint(&x.items[i], now));
        if (x.n > shown)
            ombud_cursor_encode((const int64_t[]){x.due[shown - 1], x.ids[shown - 1]}, 2, next);
        ombud_reply_json_steal(req, 200, ombud_repr_page_steal(items, x.n > shown ? next : NULL));
    }
    free(x.ids);
    free(x.due);
    ombud_complaints_free(x.items, x.nitems);
}

/* ---- summary ---- */

struct sum_ctx {
    int64_t now;
    struct ombud_sla_summary s;
};

static enum ombud_rc sum_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct sum_ctx *x = arg;
    return ombud_db_sla_summary(c, x->now, &x->s, err);
}

void ombud_h_sla_summary(struct ombud_req *req)
{
    struct sum_ctx x = {.now = ombud_time_now_s()};
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_db_run(req->pool, sum_q, &x, &err) != OMBUD_OK) {
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_json_steal(req, 200, ombud_repr_sla_summary(&x.s));
}
