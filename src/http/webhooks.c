/*
 * /v1/webhooks (admin): endpoints that receive the change log, signed
 * per Standard Webhooks 1.0 (API.md "Outbound"), their delivery log, a
 * manual retry and a test ping. The sender thread (src/outbound) does
 * the delivering; these handlers only read and write the tables. A URL
 * is checked here for its scheme and for a host that is literally an
 * address a webhook may not reach; the address actually connected to is
 * checked on every attempt.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/handlers.h"
#include "ombud/config.h"
#include "ombud/db/webhooks.h"
#include "ombud/json_spec.h"
#include "ombud/outbound.h"
#include "ombud/repr.h"

/* POST and PATCH: the fields given, and the endpoint as saved. */
struct webhook_save {
    int64_t id; /* 0: create */
    bool has_url, has_types, has_active, has_description;
    const char *url, *description;
    char types[1024];
    bool active;
    struct ombud_webhook w;
    char secret[OMBUD_WEBHOOK_SECRET_BUFLEN];
};

static enum ombud_rc webhook_save_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct webhook_save *save = arg;
    struct ombud_webhook *w = &save->w;
    bool found = true;
    enum ombud_rc rc;
    memset(w, 0, sizeof *w);
    w->active = true;
    if (save->id && (rc = ombud_db_webhook_get(c, save->id, true, w, &found, err)) != OMBUD_OK)
        return rc;
    if (!found)
        return ombud_err_not_found(err, "webhook");
    if (save->has_url)
        snprintf(w->url, sizeof w->url, "%s", save->url);
    if (save->has_types)
        snprintf(w->types, sizeof w->types, "%s", save->types);
    if (save->has_active)
        w->active = save->active;
    if (save->has_description)
        snprintf(w->description, sizeof w->description, "%s", save->description);
    if (save->id) {
        if ((rc = ombud_db_webhook_update(c, w, &found, err)) != OMBUD_OK)
            return rc;
        return found ? OMBUD_OK : ombud_err_not_found(err, "webhook");
    }
    snprintf(w->secret, sizeof w->secret, "%s", save->secret);
    if ((rc = ombud_db_webhook_insert(c, w, err)) != OMBUD_OK)
        return rc;
    memset(w->secret, 0, sizeof w->secret);
    return OMBUD_OK;
}

/* types: an array of change types and families (complaint.*, alert.*),
 * as the comma list the table keeps; [] or absent: every change. */
static void parse_types(const json_t *v, char *out, size_t len, struct ombud_err *err)
{
    size_t o = 0, i;
    json_t *t;
    out[0] = '\0';
    if (json_array_size(v) > OMBUD_CHANGE_FILTER_MAX) {
        ombud_err_field(err, "types", "may hold at most %d types", OMBUD_CHANGE_FILTER_MAX);
        return;
    }
    json_array_foreach (v, i, t) {
        struct ombud_change_filter f;
        char bad[64], field[32];
        const char *s = json_string_value(t);
        snprintf(field, sizeof field, "types[%zu]", i);
        if (!s || strchr(s, ',') || !s[0] || !ombud_change_filter_parse(s, &f, bad, sizeof bad)) {
            ombud_err_field(err, field, "must be a change type (or complaint.* or alert.*)");
            continue;
        }
        int n = snprintf(out + o, len - o, "%s%s", o ? "," : "", s);
        if (n < 0 || (size_t)n >= len - o) {
            ombud_err_field(err, "types", "is too long");
            return;
        }
        o += (size_t)n;
    }
}

static void webhook_write(struct ombud_req *req, int64_t id)
{
    struct webhook_save save = {.id = id};
    struct ombud_err err;
    json_t *types = NULL;
    const struct ombud_spec spec[] = {
        {.name = "url",
         .type = OMBUD_SPEC_STRING,
         .required = id == 0,
         .min = 1,
         .max = OMBUD_WEBHOOK_URL_MAX,
         .s = &save.url,
         .present = &save.has_url},
        {.name = "types", .type = OMBUD_SPEC_ARRAY, .j = &types, .present = &save.has_types},
        {.name = "active", .type = OMBUD_SPEC_BOOL, .b = &save.active, .present = &save.has_active},
        {.name = "description",
         .type = OMBUD_SPEC_STRING,
         .max = OMBUD_WEBHOOK_DESCRIPTION_MAX,
         .s = &save.description,
         .present = &save.has_description},
    };
    ombud_err_clear(&err);
    ombud_spec_parse(req->json, spec, sizeof spec / sizeof spec[0], NULL, &err);
    if (save.has_url && save.url)
        ombud_outbound_url_check(save.url, "url", ombud_cf.webhook_allow_http,
                                 ombud_cf.webhook_allow_private, &err);
    if (save.has_types && types)
        parse_types(types, save.types, sizeof save.types, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        (id == 0 && ombud_outbound_secret_new(save.secret, &err) != OMBUD_OK) ||
        ombud_tx_run(req->pool, webhook_save_tx, &save, &err) != OMBUD_OK) {
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_saved_steal(req, id == 0, ombud_repr_webhook(&save.w, id == 0 ? save.secret : NULL),
                            "/v1/webhooks", save.w.id);
    memset(save.secret, 0, sizeof save.secret);
}

void ombud_h_webhooks_create(struct ombud_req *req)
{
    webhook_write(req, 0);
}

void ombud_h_webhooks_patch(struct ombud_req *req)
{
    webhook_write(req, ombud_req_path_id(req, 0));
}

struct webhook_get {
    int64_t id;
    struct ombud_webhook w;
};

static enum ombud_rc webhook_get_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct webhook_get *g = arg;
    bool found;
    enum ombud_rc rc = ombud_db_webhook_get(c, g->id, false, &g->w, &found, err);
    if (rc != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "webhook");
}

void ombud_h_webhooks_get(struct ombud_req *req)
{
    struct webhook_get g = {.id = ombud_req_path_id(req, 0)};
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_db_run(req->pool, webhook_get_q, &g, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_json_steal(req, 200, ombud_repr_webhook(&g.w, NULL));
}

struct webhook_page {
    int limit;
    int64_t after;
    struct ombud_webhook *items;
    size_t n;
};

static enum ombud_rc webhook_list_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct webhook_page *p = arg;
    free(p->items);
    p->items = NULL;
    return ombud_db_webhook_list(c, p->after, p->limit, &p->items, &p->n, err);
}

static json_t *render_webhook(const void *row)
{
    return ombud_repr_webhook(row, NULL);
}

void ombud_h_webhooks_list(struct ombud_req *req)
{
    struct webhook_page p = {0};
    struct ombud_err err;
    ombud_err_clear(&err);
    ombud_query_id_page(req, &p.limit, &p.after, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_db_run(req->pool, webhook_list_q, &p, &err) != OMBUD_OK) {
        free(p.items);
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_list(req, p.items, p.n, sizeof *p.items, offsetof(struct ombud_webhook, id),
                     p.limit, render_webhook);
    free(p.items);
}

static enum ombud_rc webhook_delete_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    bool found;
    enum ombud_rc rc = ombud_db_webhook_delete(c, *(int64_t *)arg, &found, err);
    if (rc != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "webhook");
}

void ombud_h_webhooks_delete(struct ombud_req *req)
{
    int64_t id = ombud_req_path_id(req, 0);
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_tx_run(req->pool, webhook_delete_tx, &id, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_empty(req, 204);
}

/* ---- deliveries ---- */

struct delivery_page {
    int64_t webhook_id;
    int limit;
    int64_t after;
    struct ombud_webhook_delivery *items;
    size_t n;
};

static enum ombud_rc delivery_list_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct delivery_page *p = arg;
    struct ombud_webhook w;
    bool found;
    ombud_webhook_deliveries_free(p->items, p->n);
    p->items = NULL;
    p->n = 0;
    enum ombud_rc rc = ombud_db_webhook_get(c, p->webhook_id, false, &w, &found, err);
    if (rc != OMBUD_OK)
        return rc;
    if (!found)
        return ombud_err_not_found(err, "webhook");
    return ombud_db_webhook_deliveries(c, p->webhook_id, p->after, p->limit, &p->items, &p->n, err);
}

static json_t *render_delivery(const void *row)
{
    return ombud_repr_webhook_delivery(row);
}

void ombud_h_webhook_deliveries_list(struct ombud_req *req)
{
    struct delivery_page p = {.webhook_id = ombud_req_path_id(req, 0)};
    struct ombud_err err;
    ombud_err_clear(&err);
    ombud_query_id_page(req, &p.limit, &p.after, &err);
    /* A read of its own snapshot: the deliveries and their attempts agree. */
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_tx_run(req->pool, delivery_list_q, &p, &err) != OMBUD_OK) {
        ombud_webhook_deliveries_free(p.items, p.n);
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_list(req, p.items, p.n, sizeof *p.items,
                     offsetof(struct ombud_webhook_delivery, id), p.limit, render_delivery);
    ombud_webhook_deliveries_free(p.items, p.n);
}

struct delivery_act {
    int64_t webhook_id, delivery_id; /* delivery_id 0: a ping */
    struct ombud_webhook_delivery d;
};

static enum ombud_rc delivery_act_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct delivery_act *a = arg;
    bool found;
    enum ombud_rc rc = a->delivery_id ? ombud_db_webhook_retry(c, a->webhook_id, a->delivery_id,
                                                               &a->d, &found, err)
                                      : ombud_db_webhook_ping(c, a->webhook_id, &a->d, &found, err);
    if (rc != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, a->delivery_id ? "delivery" : "webhook");
}

static void delivery_act(struct ombud_req *req, int64_t delivery_id)
{
    struct delivery_act a = {.webhook_id = ombud_req_path_id(req, 0), .delivery_id = delivery_id};
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_tx_run(req->pool, delivery_act_tx, &a, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_json_steal(req, 202, ombud_repr_webhook_delivery(&a.d));
}

void ombud_h_webhook_delivery_retry(struct ombud_req *req)
{
    delivery_act(req, ombud_req_path_id(req, 1));
}

void ombud_h_webhooks_test(struct ombud_req *req)
{
    delivery_act(req, 0);
}
