/*
 * /v1/complaints: create (with Idempotency-Key), get, list with filters
 * and keyset pagination, patch (with If-Match). The timeline event for
 * each change is written in the same transaction as the change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/complaint_common.h"
#include "ombud/cursor.h"
#include "ombud/json_spec.h"
#include "ombud/keys.h"
#include "ombud/repr.h"
#include "ombud/service/sla.h"
#include "ombud/timefmt.h"

static const char *const channels[] = {"phone", "chat",      "email", "web",
                                       "social", "in_person", "api",   NULL};
static const char *const grades[] = {"potential", "explicit", "high_risk", NULL};
static const char *const priorities[] = {"low", "normal", "high", "urgent", NULL};
static const char *const demands[] = {"explanation",  "repair",  "replacement", "refund",
                                      "compensation", "apology", "other",       NULL};
static const char *const tiers[] = {"standard", "vip", NULL};

#define MAX_TAGS 20
#define MAX_TAG_CHARS 50

/* ---- shared helpers (complaint_common.h) ---- */

void ombud_actor_of(const struct ombud_req *req, struct ombud_actor *a)
{
    a->key_id = req->who.key_id;
    a->role = ombud_role_name(req->who.role);
    a->agent_id = req->who.agent_id;
}

enum ombud_rc ombud_complaint_load(struct ombud_db_conn *c, const struct ombud_req *req,
                                   int64_t id, bool lock, struct ombud_complaint *out,
                                   struct ombud_err *err)
{
    bool found = false;
    if (ombud_db_complaint_get(c, id, lock, out, &found, err) != OMBUD_OK)
        return OMBUD_ERROR;
    if (found && req->who.role == OMBUD_ROLE_SERVICE && out->created_by_key_id != req->who.key_id) {
        ombud_complaint_clear(out);
        found = false;
    }
    if (!found)
        return ombud_err_not_found(err, "complaint");
    return ombud_db_sla_load(c, out->id, out->sla, out->sla_have, err);
}

int64_t ombud_now_s(void)
{
    return ombud_time_now() / 1000000;
}

enum ombud_rc ombud_check_if_match(struct ombud_req *req, int version, struct ombud_err *err)
{
    const char *h = ombud_req_header(req, "If-Match");
    char etag[32];

    if (!h)
        return OMBUD_OK;
    ombud_repr_etag(version, etag, sizeof etag);
    size_t elen = strlen(etag);
    const char *p = h;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t len = strcspn(p, ",");
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if ((len == 1 && *p == '*') || (len == elen && strncmp(p, etag, len) == 0))
            return OMBUD_OK;
        p += strcspn(p, ",");
    }
    return ombud_err_set(err, 412, "precondition-failed", "Precondition failed",
                         "If-Match does not match the current version %s", etag);
}

void ombud_reply_complaint(struct ombud_req *req, int status, const struct ombud_complaint *c,
                           const char *location)
{
    char etag[32];
    ombud_repr_etag(c->version, etag, sizeof etag);
    ombud_reply_json_h(req, status, ombud_repr_complaint(c, ombud_now_s()), "ETag", etag,
                       "Location",
                       location, NULL);
}

json_t *ombud_change(json_t *from, json_t *to)
{
    return json_pack("{s:o, s:o}", "from", from ? from : json_null(), "to", to ? to : json_null());
}

char *ombud_event_data(json_t *obj)
{
    char *s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    json_decref(obj);
    return s;
}

/* ---- validation ---- */

/* Checks tags (array of 1..50-char strings, at most 20, no repeats) and
 * returns its compact JSON text (caller frees), or NULL after adding a
 * field error. */
static char *tags_json(const json_t *tags, struct ombud_err *err)
{
    size_t i, j;
    json_t *t;
    if (json_array_size(tags) > MAX_TAGS) {
        ombud_err_field(err, "tags", "must have at most %d entries", MAX_TAGS);
        return NULL;
    }
    json_array_foreach(tags, i, t) {
        char field[32];
        snprintf(field, sizeof field, "tags[%zu]", i);
        if (!json_is_string(t) || strlen(json_string_value(t)) != json_string_length(t)) {
            ombud_err_field(err, field, "must be a string");
            return NULL;
        }
        size_t len = ombud_utf8_len(json_string_value(t));
        if (len < 1 || len > MAX_TAG_CHARS) {
            ombud_err_field(err, field, "must be 1 to %d characters long", MAX_TAG_CHARS);
            return NULL;
        }
        for (j = 0; j < i; j++)
            if (strcmp(json_string_value(json_array_get(tags, j)), json_string_value(t)) == 0) {
                ombud_err_field(err, field, "repeats an earlier tag");
                return NULL;
            }
    }
    return json_dumps(tags, JSON_COMPACT);
}

static bool email_ok(const char *s)
{
    const char *at = strchr(s, '@');
    return at && at != s && at[1] && !strchr(at + 1, '@') && !strpbrk(s, " \t\r\n");
}

/* Reports the referenced rows that do not exist as field errors. */
static enum ombud_rc check_refs(struct ombud_db_conn *c, const char *category, int64_t team_id,
                                int64_t agent_id, struct ombud_err *err)
{
    bool cat_ok, team_ok, agent_ok;
    if (ombud_db_refs_check(c, category, team_id, agent_id, &cat_ok, &team_ok, &agent_ok, err) !=
        OMBUD_OK)
        return OMBUD_ERROR;
    if (!cat_ok)
        ombud_err_field(err, "category", "is not a known category (see GET /v1/categories)");
    if (!team_ok)
        ombud_err_field(err, "team_id", "names no team");
    if (!agent_ok)
        ombud_err_field(err, "assignee_id", "names no agent");
    return ombud_err_finish_validation(err);
}

struct refs_ctx {
    const char *category;
    int64_t team_id, agent_id;
    bool cat_ok, team_ok, agent_ok;
};

static enum ombud_rc refs_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct refs_ctx *x = arg;
    return ombud_db_refs_check(c, x->category, x->team_id, x->agent_id, &x->cat_ok, &x->team_ok,
                               &x->agent_ok, err);
}

/* When a body already has field errors, unknown references are named in
 * the same answer (otherwise the transaction checks them, race-free). */
static enum ombud_rc report_refs(struct ombud_req *req, const char *category, int64_t team_id,
                                 int64_t agent_id, struct ombud_err *err)
{
    struct refs_ctx x = {.category = category, .team_id = team_id, .agent_id = agent_id};
    struct ombud_err dberr;
    ombud_err_clear(&dberr);
    if (!category && !team_id && !agent_id)
        return OMBUD_OK;
    if (ombud_db_run(req->pool, refs_q, &x, &dberr) != OMBUD_OK) {
        *err = dberr;
        return OMBUD_ERROR;
    }
    if (!x.cat_ok)
        ombud_err_field(err, "category", "is not a known category (see GET /v1/categories)");
    if (!x.team_ok)
        ombud_err_field(err, "team_id", "names no team");
    if (!x.agent_ok)
        ombud_err_field(err, "assignee_id", "names no agent");
    return OMBUD_OK;
}

/* ---- create ---- */

struct create_ctx {
    struct ombud_req *req;
    struct ombud_complaint_new in;
    const char *idem_key;
    char idem_hash[OMBUD_HASH_BUFLEN];
    /* outputs */
    bool replay;
    int replay_status;
    char *body;        /* response body (new or replayed) */
    int64_t id;
    int version;
};

static enum ombud_rc create_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct create_ctx *x = arg;
    struct ombud_complaint cp = {0};
    struct ombud_actor actor;
    enum ombud_rc rc = OMBUD_ERROR;
    char *data = NULL;

    free(x->body);
    x->body = NULL;
    x->replay = false;
    if (x->idem_key) {
        bool busy, found;
        char stored_hash[OMBUD_HASH_BUFLEN] = "";
        if (ombud_db_idem_begin(c, x->req->who.key_id, x->idem_key, &busy, &found, stored_hash,
                                &x->replay_status, &x->body, &x->id, err) != OMBUD_OK)
            return OMBUD_ERROR;
        if (busy)
            return ombud_err_set(err, 409, "idempotency-in-flight", "Conflict",
                                 "a request with this Idempotency-Key is still being processed");
        if (found) {
            if (strcmp(stored_hash, x->idem_hash) != 0)
                return ombud_err_set(err, 422, "idempotency-key-reused", "Validation failed",
                                     "this Idempotency-Key was used with a different body");
            x->replay = true;
            return OMBUD_OK;
        }
    }
    if (check_refs(c, x->in.category, x->in.team_id, x->in.assignee_id, err) != OMBUD_OK ||
        ombud_db_complaint_insert(c, &x->in, &x->id, err) != OMBUD_OK ||
        ombud_complaint_load(c, x->req, x->id, false, &cp, err) != OMBUD_OK ||
        ombud_svc_sla_apply(c, &cp, OMBUD_SLA_OP_START, ombud_now_s(), err) != OMBUD_OK)
        goto out;
    ombud_complaint_clear(&cp);
    if (ombud_complaint_load(c, x->req, x->id, false, &cp, err) != OMBUD_OK)
        goto out;
    char ref[32];
    ombud_repr_reference(cp.id, ref, sizeof ref);
    data = ombud_event_data(json_pack("{s:s, s:s, s:s, s:s, s:s}", "reference", ref, "channel",
                                      cp.channel, "category", cp.category, "grade", cp.grade,
                                      "priority", cp.priority));
    ombud_actor_of(x->req, &actor);
    if (ombud_db_event_add(c, cp.id, "created", &actor, data, err) != OMBUD_OK)
        goto out;
    if (cp.assignee_id || cp.team_id) {
        free(data);
        data = ombud_event_data(json_pack("{s:o, s:o}", "team_id",
                                          ombud_change(NULL, cp.team_id ? json_integer(cp.team_id) : NULL),
                                          "assignee_id",
                                          ombud_change(NULL, cp.assignee_id ? json_integer(cp.assignee_id) : NULL)));
        if (ombud_db_event_add(c, cp.id, "assigned", &actor, data, err) != OMBUD_OK)
            goto out;
    }
    json_t *repr = ombud_repr_complaint(&cp, ombud_now_s());
    x->body = repr ? json_dumps(repr, JSON_COMPACT) : NULL;
    json_decref(repr);
    x->version = cp.version;
    if (!x->body) {
        ombud_err_internal(err, "out of memory");
        goto out;
    }
    if (x->idem_key && ombud_db_idem_store(c, x->req->who.key_id, x->idem_key, x->idem_hash, 201,
                                           x->body, cp.id, err) != OMBUD_OK)
        goto out;
    rc = OMBUD_OK;
out:
    free(data);
    ombud_complaint_clear(&cp);
    return rc;
}

/* Validates the create body into x->in (strings borrowed from req->json). */
static char *parse_create(struct ombud_req *req, struct create_ctx *x, struct ombud_err *err)
{
    json_t *customer = NULL, *tags = NULL;
    int64_t team = 0, assignee = 0;
    const struct ombud_spec spec[] = {
        {.name = "title", .type = OMBUD_SPEC_STRING, .required = true, .min = 1, .max = 200,
         .s = &x->in.title},
        {.name = "description", .type = OMBUD_SPEC_STRING, .required = true, .min = 1,
         .max = 20000, .s = &x->in.description},
        {.name = "customer", .type = OMBUD_SPEC_OBJECT, .required = true, .j = &customer},
        {.name = "channel", .type = OMBUD_SPEC_ENUM, .values = channels, .s = &x->in.channel},
        {.name = "category", .type = OMBUD_SPEC_STRING, .min = 1, .max = 40,
         .s = &x->in.category},
        {.name = "grade", .type = OMBUD_SPEC_ENUM, .values = grades, .s = &x->in.grade},
        {.name = "priority", .type = OMBUD_SPEC_ENUM, .values = priorities, .nullable = true,
         .s = &x->in.priority},
        {.name = "demand", .type = OMBUD_SPEC_ENUM, .values = demands, .nullable = true,
         .s = &x->in.demand},
        {.name = "demand_detail", .type = OMBUD_SPEC_STRING, .min = 1, .max = 5000,
         .nullable = true, .s = &x->in.demand_detail},
        {.name = "tags", .type = OMBUD_SPEC_ARRAY, .nullable = true, .j = &tags},
        {.name = "team_id", .type = OMBUD_SPEC_INT, .min = 1, .max = INT64_MAX, .nullable = true,
         .i = &team},
        {.name = "assignee_id", .type = OMBUD_SPEC_INT, .min = 1, .max = INT64_MAX,
         .nullable = true, .i = &assignee},
        {.name = "external_ref", .type = OMBUD_SPEC_STRING, .min = 1, .max = 200,
         .nullable = true, .s = &x->in.external_ref},
    };
    const struct ombud_spec cspec[] = {
        {.name = "name", .type = OMBUD_SPEC_STRING, .required = true, .min = 1, .max = 200,
         .s = &x->in.customer_name},
        {.name = "external_id", .type = OMBUD_SPEC_STRING, .min = 1, .max = 200,
         .nullable = true, .s = &x->in.customer_external_id},
        {.name = "email", .type = OMBUD_SPEC_STRING, .min = 3, .max = 320, .nullable = true,
         .s = &x->in.customer_email},
        {.name = "phone", .type = OMBUD_SPEC_STRING, .min = 1, .max = 50, .nullable = true,
         .s = &x->in.customer_phone},
        {.name = "tier", .type = OMBUD_SPEC_ENUM, .values = tiers, .s = &x->in.customer_tier},
    };
    char *tj = NULL;

    ombud_spec_parse(req->json, spec, sizeof spec / sizeof spec[0], NULL, err);
    if (customer) {
        ombud_spec_parse(customer, cspec, sizeof cspec / sizeof cspec[0], "customer.", err);
        if (x->in.customer_email && !email_ok(x->in.customer_email))
            ombud_err_field(err, "customer.email", "must be an e-mail address");
    }
    if (tags)
        tj = tags_json(tags, err);
    x->in.team_id = team;
    x->in.assignee_id = assignee;
    if (!x->in.channel)
        x->in.channel = "api";
    if (!x->in.category)
        x->in.category = "other";
    if (!x->in.grade)
        x->in.grade = "explicit";
    if (!x->in.priority)
        x->in.priority = ombud_complaint_default_priority(x->in.grade);
    if (!x->in.customer_tier)
        x->in.customer_tier = "standard";
    x->in.tags_json = tj;
    x->in.created_by_key_id = req->who.key_id;
    return tj;
}

void ombud_h_complaints_create(struct ombud_req *req)
{
    struct create_ctx x = {.req = req};
    struct ombud_err err;
    char *tj;

    ombud_err_clear(&err);
    tj = parse_create(req, &x, &err);
    x.idem_key = ombud_req_header(req, "Idempotency-Key");
    if (x.idem_key) {
        size_t len = strlen(x.idem_key);
        bool ok = len >= 1 && len <= 255;
        for (size_t i = 0; ok && i < len; i++)
            ok = x.idem_key[i] >= 0x20 && x.idem_key[i] < 0x7f;
        if (!ok)
            ombud_err_field(&err, "Idempotency-Key", "must be 1 to 255 visible ASCII characters");
    }
    if (err.nfields && report_refs(req, x.in.category, x.in.team_id, x.in.assignee_id, &err) !=
                           OMBUD_OK)
        goto fail;
    if (ombud_err_finish_validation(&err) != OMBUD_OK)
        goto fail;
    if (x.idem_key) {
        /* Same body means the same JSON value: key order and spacing do not count. */
        char *canon = json_dumps(req->json, JSON_COMPACT | JSON_SORT_KEYS);
        if (!canon || ombud_key_hash(canon, strlen(canon), x.idem_hash) != OMBUD_OK) {
            free(canon);
            ombud_err_internal(&err, "out of memory");
            goto fail;
        }
        free(canon);
    }
    if (ombud_tx_run(req->pool, create_tx, &x, &err) != OMBUD_OK)
        goto fail;

    json_t *body = json_loads(x.body, 0, NULL);
    char location[64], etag[32];
    snprintf(location, sizeof location, "/v1/complaints/%lld", (long long)x.id);
    int version = x.replay ? (int)json_integer_value(json_object_get(body, "version")) : x.version;
    ombud_repr_etag(version, etag, sizeof etag);
    ombud_reply_json_h(req, x.replay ? x.replay_status : 201, body, "Location", location, "ETag",
                       etag, "Idempotent-Replayed", x.replay ? "true" : NULL, NULL);
    free(x.body);
    free(tj);
    return;
fail:
    free(x.body);
    free(tj);
    ombud_reply_problem(req, &err);
}

/* ---- get ---- */

struct get_ctx {
    struct ombud_req *req;
    struct ombud_complaint cp;
};

static enum ombud_rc get_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct get_ctx *x = arg;
    ombud_complaint_clear(&x->cp);
    return ombud_complaint_load(c, x->req, x->req->match.ids[0], false, &x->cp, err);
}

void ombud_h_complaints_get(struct ombud_req *req)
{
    struct get_ctx x = {.req = req};
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_db_run(req->pool, get_q, &x, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_complaint(req, 200, &x.cp, NULL);
    ombud_complaint_clear(&x.cp);
}

/* ---- list ---- */

struct list_ctx {
    struct ombud_complaint_filter f;
    struct ombud_complaint *items;
    size_t n;
};

static enum ombud_rc list_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct list_ctx *x = arg;
    ombud_complaints_free(x->items, x->n);
    x->items = NULL;
    x->n = 0;
    if (ombud_db_complaint_list(c, &x->f, &x->items, &x->n, err) != OMBUD_OK)
        return OMBUD_ERROR;
    return ombud_db_sla_load_many(c, x->items, x->n, err);
}

/* A comma-separated filter whose every entry is one of values. */
static const char *list_filter(struct ombud_req *req, const char *name,
                               const char *const *values, struct ombud_err *err)
{
    const char *v = ombud_req_query(req, name);
    if (!v)
        return NULL;
    const char *p = v;
    bool ok = *p != '\0';
    while (ok && *p) {
        size_t len = strcspn(p, ",");
        if (len == 0 || (p[len] == ',' && p[len + 1] == '\0')) { /* empty entry */
            ok = false;
            break;
        }
        bool known = false;
        for (size_t i = 0; values && values[i] && !known; i++)
            known = strlen(values[i]) == len && strncmp(values[i], p, len) == 0;
        if (!values) /* free-form keys: check the shape only */
            known = len >= 1 && len <= 40;
        ok = known;
        p += len;
        if (*p == ',')
            p++;
    }
    if (!ok) {
        if (values) {
            char list[200] = "";
            size_t used = 0;
            for (size_t i = 0; values[i]; i++) {
                int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                 values[i]);
                if (w < 0 || (size_t)w >= sizeof list - used)
                    break;
                used += (size_t)w;
            }
            ombud_err_field(err, name, "must be a comma-separated list of: %s", list);
        } else {
            ombud_err_field(err, name, "must be a comma-separated list of keys");
        }
        return NULL;
    }
    return v;
}

static int64_t id_filter(struct ombud_req *req, const char *name, struct ombud_err *err)
{
    const char *v = ombud_req_query(req, name);
    char *end;
    if (!v)
        return 0;
    long long n = strtoll(v, &end, 10);
    if (*v < '1' || *v > '9' || *end || n < 1) {
        ombud_err_field(err, name, "must be a positive integer");
        return 0;
    }
    return n;
}

/* Sets *t and returns true when the parameter is given and valid. */
static bool time_filter(struct ombud_req *req, const char *name, int64_t *t,
                        struct ombud_err *err)
{
    const char *v = ombud_req_query(req, name);
    if (!v)
        return false;
    if (!ombud_time_parse(v, t)) {
        ombud_err_field(err, name, "must be an RFC 3339 date-time, e.g. 2026-11-22T08:00:00Z");
        return false;
    }
    return true;
}

void ombud_h_complaints_list(struct ombud_req *req)
{
    struct list_ctx x = {0};
    struct ombud_err err;
    int64_t cur[2];
    const char *sort = ombud_req_query(req, "sort");

    ombud_err_clear(&err);
    x.f.status = list_filter(req, "status", ombud_status_names, &err);
    x.f.priority = list_filter(req, "priority", priorities, &err);
    x.f.grade = list_filter(req, "grade", grades, &err);
    x.f.channel = list_filter(req, "channel", channels, &err);
    x.f.category = list_filter(req, "category", NULL, &err);
    x.f.team_id = id_filter(req, "team_id", &err);
    x.f.assignee_id = id_filter(req, "assignee_id", &err);
    x.f.customer_external_id = ombud_req_query(req, "customer_external_id");
    x.f.has_created_after = time_filter(req, "created_after", &x.f.created_after, &err);
    x.f.has_created_before = time_filter(req, "created_before", &x.f.created_before, &err);
    x.f.q = ombud_req_query(req, "q");
    if (x.f.q) {
        size_t len = ombud_utf8_len(x.f.q);
        bool blank = strspn(x.f.q, " \t\r\n") == strlen(x.f.q);
        if (len < 1 || len > 200 || blank)
            ombud_err_field(&err, "q", "must be 1 to 200 characters, not only spaces");
    }
    static const char *const sla_states[] = {"on_track", "at_risk", "breached", "met",
                                             "paused",   "none",    NULL};
    x.f.sla_state = list_filter(req, "sla_state", sla_states, &err);
    if (sort && strcmp(sort, "created_at") != 0 && strcmp(sort, "-created_at") != 0 &&
        strcmp(sort, "due_at") != 0)
        ombud_err_field(&err, "sort", "must be created_at, -created_at or due_at");
    x.f.ascending = sort && strcmp(sort, "created_at") == 0;
    x.f.by_due = sort && strcmp(sort, "due_at") == 0;
    x.f.now = ombud_now_s();
    ombud_req_page(req, &x.f.limit, cur, 2, &x.f.has_cursor, &err);
    x.f.cursor_ts = cur[0];
    x.f.cursor_id = cur[1];
    if (req->who.role == OMBUD_ROLE_SERVICE)
        x.f.creator_key_id = req->who.key_id;
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_db_run(req->pool, list_q, &x, &err) != OMBUD_OK) {
        ombud_complaints_free(x.items, x.n);
        ombud_reply_problem(req, &err);
        return;
    }
    json_t *items = json_array();
    size_t shown = x.n > (size_t)x.f.limit ? (size_t)x.f.limit : x.n;
    char next[OMBUD_CURSOR_BUFLEN];
    int64_t now = ombud_now_s();
    for (size_t i = 0; i < shown; i++)
        json_array_append_new(items, ombud_repr_complaint(&x.items[i], now));
    if (x.n > shown) {
        const struct ombud_complaint *last = &x.items[shown - 1];
        int64_t v[2] = {x.f.by_due ? last->sla_due : last->created_at, last->id};
        ombud_cursor_encode(v, 2, next);
    }
    ombud_complaints_free(x.items, x.n);
    ombud_reply_json(req, 200, ombud_repr_page(items, x.n > shown ? next : NULL));
}

/* ---- patch ---- */

struct patch_ctx {
    struct ombud_req *req;
    /* requested changes (present flags from the spec) */
    bool has_title, has_desc, has_cat, has_grade, has_prio, has_demand, has_detail, has_tags,
        has_team, has_assignee;
    const char *title, *desc, *cat, *grade, *prio, *demand, *detail;
    char *tags; /* JSON text, or NULL for [] */
    int64_t team, assignee;
    struct ombud_complaint cp; /* output */
};

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *jid(int64_t v)
{
    return v ? json_integer(v) : json_null();
}

/* Replaces *dst with a copy of src when they differ; records the change. */
static void set_text(char **dst, const char *src, const char *name, json_t *changes)
{
    if ((*dst == NULL && src == NULL) || (*dst && src && strcmp(*dst, src) == 0))
        return;
    json_object_set_new(changes, name, ombud_change(jstr(*dst), jstr(src)));
    free(*dst);
    *dst = src ? strdup(src) : NULL;
}

static void set_fixed(char *dst, size_t len, const char *src, const char *name, json_t *changes)
{
    if (!src)
        src = "";
    if (strcmp(dst, src) == 0)
        return;
    json_object_set_new(changes, name, ombud_change(dst[0] ? json_string(dst) : json_null(),
                                                    src[0] ? json_string(src) : json_null()));
    snprintf(dst, len, "%s", src);
}

static enum ombud_rc patch_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct patch_ctx *x = arg;
    struct ombud_actor actor;
    json_t *changes = json_object(), *assign = json_object();
    char *data = NULL;
    enum ombud_rc rc = OMBUD_ERROR;

    ombud_complaint_clear(&x->cp);
    if (ombud_complaint_load(c, x->req, x->req->match.ids[0], true, &x->cp, err) != OMBUD_OK ||
        ombud_check_if_match(x->req, x->cp.version, err) != OMBUD_OK ||
        check_refs(c, x->has_cat ? x->cat : NULL, x->has_team ? x->team : 0,
                   x->has_assignee ? x->assignee : 0, err) != OMBUD_OK)
        goto out;
    if (x->has_title)
        set_text(&x->cp.title, x->title, "title", changes);
    if (x->has_desc)
        set_text(&x->cp.description, x->desc, "description", changes);
    if (x->has_cat)
        set_fixed(x->cp.category, sizeof x->cp.category, x->cat, "category", changes);
    if (x->has_grade)
        set_fixed(x->cp.grade, sizeof x->cp.grade, x->grade, "grade", changes);
    if (x->has_prio)
        set_fixed(x->cp.priority, sizeof x->cp.priority, x->prio, "priority", changes);
    if (x->has_demand)
        set_fixed(x->cp.demand, sizeof x->cp.demand, x->demand, "demand", changes);
    if (x->has_detail)
        set_text(&x->cp.demand_detail, x->detail, "demand_detail", changes);
    if (x->has_tags) {
        const char *now = x->tags ? x->tags : "[]";
        /* Compare as JSON: the database and jansson escape differently. */
        json_t *was = json_loads(x->cp.tags_json ? x->cp.tags_json : "[]", 0, NULL);
        json_t *will = json_loads(now, 0, NULL);
        if (!json_equal(was, will)) {
            json_object_set_new(changes, "tags", ombud_change(was, will));
            free(x->cp.tags_json);
            x->cp.tags_json = strdup(now);
        } else {
            json_decref(was);
            json_decref(will);
        }
    }
    if (x->has_team && x->team != x->cp.team_id) {
        json_object_set_new(assign, "team_id", ombud_change(jid(x->cp.team_id), jid(x->team)));
        x->cp.team_id = x->team;
    }
    if (x->has_assignee && x->assignee != x->cp.assignee_id) {
        json_object_set_new(assign, "assignee_id",
                            ombud_change(jid(x->cp.assignee_id), jid(x->assignee)));
        x->cp.assignee_id = x->assignee;
    }
    if (json_object_size(changes) == 0 && json_object_size(assign) == 0) {
        rc = OMBUD_OK; /* nothing changed: no new version, no event */
        goto out;
    }
    ombud_actor_of(x->req, &actor);
    /* Timestamps are written back unchanged (0 stays NULL). */
    if (ombud_db_complaint_save(c, &x->cp, err) != OMBUD_OK)
        goto out;
    if (json_object_get(changes, "priority") || json_object_get(changes, "grade") ||
        json_object_get(changes, "category")) {
        /* The policy may change: elapsed business time is kept. */
        if (ombud_svc_sla_apply(c, &x->cp, OMBUD_SLA_OP_RESELECT, ombud_now_s(), err) != OMBUD_OK)
            goto out;
    }
    if (json_object_size(changes)) {
        data = ombud_event_data(json_pack("{s:O}", "changes", changes));
        if (ombud_db_event_add(c, x->cp.id, "updated", &actor, data, err) != OMBUD_OK)
            goto out;
        free(data);
        data = NULL;
    }
    if (json_object_size(assign)) {
        data = ombud_event_data(json_incref(assign));
        if (ombud_db_event_add(c, x->cp.id, "assigned", &actor, data, err) != OMBUD_OK)
            goto out;
    }
    ombud_complaint_clear(&x->cp);
    rc = ombud_complaint_load(c, x->req, x->req->match.ids[0], false, &x->cp, err);
out:
    free(data);
    json_decref(changes);
    json_decref(assign);
    return rc;
}

void ombud_h_complaints_patch(struct ombud_req *req)
{
    struct patch_ctx x = {.req = req};
    struct ombud_err err;
    json_t *tags = NULL;
    const struct ombud_spec spec[] = {
        {.name = "title", .type = OMBUD_SPEC_STRING, .min = 1, .max = 200, .s = &x.title,
         .present = &x.has_title},
        {.name = "description", .type = OMBUD_SPEC_STRING, .min = 1, .max = 20000, .s = &x.desc,
         .present = &x.has_desc},
        {.name = "category", .type = OMBUD_SPEC_STRING, .min = 1, .max = 40, .s = &x.cat,
         .present = &x.has_cat},
        {.name = "grade", .type = OMBUD_SPEC_ENUM, .values = grades, .s = &x.grade,
         .present = &x.has_grade},
        {.name = "priority", .type = OMBUD_SPEC_ENUM, .values = priorities, .s = &x.prio,
         .present = &x.has_prio},
        /* These may be cleared with null. */
        {.name = "demand", .type = OMBUD_SPEC_ENUM, .values = demands, .nullable = true,
         .s = &x.demand, .present = &x.has_demand},
        {.name = "demand_detail", .type = OMBUD_SPEC_STRING, .min = 1, .max = 5000,
         .nullable = true, .s = &x.detail, .present = &x.has_detail},
        {.name = "tags", .type = OMBUD_SPEC_ARRAY, .nullable = true, .j = &tags,
         .present = &x.has_tags},
        {.name = "team_id", .type = OMBUD_SPEC_INT, .min = 1, .max = INT64_MAX, .nullable = true,
         .i = &x.team, .present = &x.has_team},
        {.name = "assignee_id", .type = OMBUD_SPEC_INT, .min = 1, .max = INT64_MAX,
         .nullable = true, .i = &x.assignee, .present = &x.has_assignee},
    };

    ombud_err_clear(&err);
    ombud_spec_parse(req->json, spec, sizeof spec / sizeof spec[0], NULL, &err);
    if (tags)
        x.tags = tags_json(tags, &err);
    if (err.nfields &&
        report_refs(req, x.has_cat ? x.cat : NULL, x.has_team ? x.team : 0,
                    x.has_assignee ? x.assignee : 0, &err) != OMBUD_OK) {
        ombud_reply_problem(req, &err);
        free(x.tags);
        return;
    }
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_tx_run(req->pool, patch_tx, &x, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_complaint(req, 200, &x.cp, NULL);
    free(x.tags);
    ombud_complaint_clear(&x.cp);
}
