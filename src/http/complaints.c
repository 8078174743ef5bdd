/*
 * /v1/complaints: create (with Idempotency-Key), get, list with filters
 * and keyset pagination, patch (with If-Match). The timeline event for
 * each change is written in the same transaction as the change.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/complaint_common.h"
#include "ombud/db/complaints.h"
#include "ombud/db/sla.h"
#include "ombud/cursor.h"
#include "ombud/json_spec.h"
#include "ombud/keys.h"
#include "ombud/repr.h"
#include "ombud/text.h"
#include "ombud/service/sla.h"
#include "ombud/timefmt.h"

/* ---- shared helpers (complaint_common.h) ---- */

void ombud_actor_of(const struct ombud_req *req, struct ombud_actor *a)
{
    a->key_id = req->who.key_id;
    a->role = ombud_role_name(req->who.role);
    a->agent_id = req->who.agent_id;
    a->rule_id = 0;
}

enum ombud_rc ombud_complaint_load(struct ombud_db_conn *c, const struct ombud_req *req, int64_t id,
                                   bool lock, struct ombud_complaint *out, struct ombud_err *err)
{
    struct ombud_actor actor;
    ombud_actor_of(req, &actor);
    return ombud_svc_complaint_load(c, &actor, id, lock, out, err);
}

void ombud_complaint_filter_query(struct ombud_req *req, struct ombud_complaint_filter *f,
                                  struct ombud_err *err)
{
    f->priority = ombud_query_enum_list(req, "priority", ombud_priority_names, err);
    f->grade = ombud_query_enum_list(req, "grade", ombud_grade_names, err);
    f->channel = ombud_query_enum_list(req, "channel", ombud_channel_names, err);
    f->category = ombud_query_enum_list(req, "category", NULL, err);
    ombud_query_id(req, "team_id", &f->team_id, err);
    ombud_query_id(req, "assignee_id", &f->assignee_id, err);
}

/* Whether [p, p + len) is the ETag of some version (*version). */
static bool etag_version(const char *p, size_t len, int *version)
{
    char etag[32];
    if (len < 4 || strncmp(p, "\"v", 2) != 0)
        return false;
    long v = strtol(p + 2, NULL, 10);
    if (v < INT_MIN || v > INT_MAX)
        return false;
    /* Only the tag ombud_repr_etag writes for v names v. */
    ombud_repr_etag((int)v, etag, sizeof etag);
    *version = (int)v;
    return strlen(etag) == len && strncmp(p, etag, len) == 0;
}

void ombud_if_match_parse(const char *h, struct ombud_expect *buf)
{
    int v;

    memset(buf, 0, sizeof *buf);
    const char *p = h;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t len = strcspn(p, ",");
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len == 1 && *p == '*')
            buf->any = true;
        else if (etag_version(p, len, &v) && buf->n < OMBUD_EXPECT_MAX) /* more: never matched */
            buf->versions[buf->n++] = v;
        p += strcspn(p, ",");
    }
}

const struct ombud_expect *ombud_req_if_match(struct ombud_req *req, struct ombud_expect *buf)
{
    const char *h = ombud_req_header(req, "If-Match");

    if (!h)
        return NULL;
    ombud_if_match_parse(h, buf);
    return buf;
}

void ombud_complaint_change_reply(struct ombud_req *req, const struct ombud_transition *t,
                                  int status)
{
    struct ombud_complaint cp = {0};
    struct ombud_actor actor;
    struct ombud_expect buf;
    struct ombud_err err;

    ombud_err_clear(&err);
    ombud_actor_of(req, &actor);
    if (ombud_svc_complaint_change(req->pool, &actor, ombud_req_path_id(req, 0),
                                   ombud_req_if_match(req, &buf), t, &cp, NULL, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_complaint(req, status, &cp, NULL);
    ombud_complaint_clear(&cp);
}

void ombud_reply_complaint(struct ombud_req *req, int status, const struct ombud_complaint *c,
                           const char *location)
{
    char etag[32];
    ombud_repr_etag(c->version, etag, sizeof etag);
    size_t len = 0;
    char *text = ombud_repr_complaint_text(c, ombud_time_now_s(), &len);
    ombud_reply_text_h_steal(req, status, text, len, "ETag", etag, "Location", location, NULL);
}

/* ---- validation ---- */

/* Checks tags (array of 1..50-char strings, at most 20, no repeats) and
 * returns its compact JSON text (caller frees), or NULL after adding a
 * field error. */
static char *tags_json(const json_t *tags, struct ombud_err *err)
{
    size_t i, j;
    json_t *t;
    if (json_array_size(tags) > OMBUD_COMPLAINT_MAX_TAGS) {
        ombud_err_field(err, "tags", "must have at most %d entries", OMBUD_COMPLAINT_MAX_TAGS);
        return NULL;
    }
    json_array_foreach (tags, i, t) {
        char field[32];
        snprintf(field, sizeof field, "tags[%zu]", i);
        if (!json_is_string(t) || strlen(json_string_value(t)) != json_string_length(t)) {
            ombud_err_field(err, field, "must be a string");
            return NULL;
        }
        size_t len = ombud_utf8_len(json_string_value(t));
        if (len < 1 || len > OMBUD_COMPLAINT_MAX_TAG_CHARS) {
            ombud_err_field(err, field, "must be 1 to %d characters long",
                            OMBUD_COMPLAINT_MAX_TAG_CHARS);
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

struct refs_ctx {
    const char *category;
    int64_t team_id, agent_id;
};

static enum ombud_rc refs_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    const struct refs_ctx *refs = arg;
    return ombud_svc_refs_report(c, refs->category, refs->team_id, refs->agent_id, err);
}

/* When a body already has field errors, unknown references are named in
 * the same answer (otherwise the foreign keys check them, race-free, and
 * a refusal is turned into the same field errors).
 * The references' field errors join err's; a database failure replaces
 * them. */
static enum ombud_rc report_refs(struct ombud_req *req, const char *category, int64_t team_id,
                                 int64_t agent_id, struct ombud_err *err)
{
    struct refs_ctx refs = {.category = category, .team_id = team_id, .agent_id = agent_id};
    struct ombud_err found;
    ombud_err_clear(&found);
    if (!category && !team_id && !agent_id)
        return OMBUD_OK;
    if (ombud_db_run(req->pool, refs_q, &refs, &found) != OMBUD_OK) {
        *err = found;
        return OMBUD_ERROR;
    }
    for (size_t i = 0; i < found.nfields; i++)
        ombud_err_field(err, found.fields[i].field, "%s", found.fields[i].message);
    return OMBUD_OK;
}

/* ---- the body: one field table for create and patch ---- */

/* How a request takes a field: not at all, optionally, optionally or as
 * null (on create null means absent; on patch it clears the field), or
 * as a required field. */
enum field_use { NOT_TAKEN, OPTIONAL, NULLABLE, REQUIRED };

/* A complaint's writable fields, in the order their errors are reported. */
enum complaint_field {
    F_TITLE,
    F_DESCRIPTION,
    F_CUSTOMER,
    F_CHANNEL,
    F_CATEGORY,
    F_GRADE,
    F_PRIORITY,
    F_DEMAND,
    F_DEMAND_DETAIL,
    F_TAGS,
    F_TEAM_ID,
    F_ASSIGNEE_ID,
    F_EXTERNAL_REF,
    F_COUNT
};

static const struct {
    struct ombud_spec check; /* name, type and limits: no outputs */
    enum field_use create, patch;
} complaint_fields[F_COUNT] = {
    [F_TITLE] = {{.name = "title",
                  .type = OMBUD_SPEC_STRING,
                  .min = 1,
                  .max = OMBUD_COMPLAINT_MAX_TITLE_CHARS},
                 REQUIRED,
                 OPTIONAL},
    [F_DESCRIPTION] = {{.name = "description",
                        .type = OMBUD_SPEC_STRING,
                        .min = 1,
                        .max = OMBUD_COMPLAINT_MAX_DESCRIPTION_CHARS},
                       REQUIRED,
                       OPTIONAL},
    [F_CUSTOMER] = {{.name = "customer", .type = OMBUD_SPEC_OBJECT}, REQUIRED, NOT_TAKEN},
    [F_CHANNEL] = {{.name = "channel", .type = OMBUD_SPEC_ENUM, .values = ombud_channel_names},
                   OPTIONAL,
                   NOT_TAKEN},
    [F_CATEGORY] = {{.name = "category",
                     .type = OMBUD_SPEC_STRING,
                     .min = 1,
                     .max = OMBUD_CATEGORY_MAX_KEY_CHARS},
                    OPTIONAL,
                    OPTIONAL},
    [F_GRADE] = {{.name = "grade", .type = OMBUD_SPEC_ENUM, .values = ombud_grade_names},
                 OPTIONAL,
                 OPTIONAL},
    /* null on create: the grade's default; a patch can not clear it */
    [F_PRIORITY] = {{.name = "priority", .type = OMBUD_SPEC_ENUM, .values = ombud_priority_names},
                    NULLABLE,
                    OPTIONAL},
    [F_DEMAND] = {{.name = "demand", .type = OMBUD_SPEC_ENUM, .values = ombud_demand_names},
                  NULLABLE,
                  NULLABLE},
    [F_DEMAND_DETAIL] = {{.name = "demand_detail",
                          .type = OMBUD_SPEC_STRING,
                          .min = 1,
                          .max = OMBUD_COMPLAINT_MAX_DEMAND_DETAIL_CHARS},
                         NULLABLE,
                         NULLABLE},
    [F_TAGS] = {{.name = "tags", .type = OMBUD_SPEC_ARRAY}, NULLABLE, NULLABLE},
    [F_TEAM_ID] = {{.name = "team_id", .type = OMBUD_SPEC_INT, .min = 1, .max = INT64_MAX},
                   NULLABLE,
                   NULLABLE},
    [F_ASSIGNEE_ID] = {{.name = "assignee_id", .type = OMBUD_SPEC_INT, .min = 1, .max = INT64_MAX},
                       NULLABLE,
                       NULLABLE},
    [F_EXTERNAL_REF] = {{.name = "external_ref",
                         .type = OMBUD_SPEC_STRING,
                         .min = 1,
                         .max = OMBUD_COMPLAINT_MAX_EXTERNAL_REF_CHARS},
                        NULLABLE,
                        NOT_TAKEN},
};

/* Where one request puts a field's value (and whether it was given). */
struct field_out {
    bool *present;
    const char **s;
    int64_t *i;
    json_t **j;
};

/* Fills spec with the fields a create (or a patch) takes, each writing
 * where out says; returns how many. */
static size_t complaint_spec(bool create, const struct field_out out[F_COUNT],
                             struct ombud_spec spec[F_COUNT])
{
    size_t n = 0;
    for (size_t f = 0; f < F_COUNT; f++) {
        enum field_use use = create ? complaint_fields[f].create : complaint_fields[f].patch;
        if (use == NOT_TAKEN)
            continue;
        spec[n] = complaint_fields[f].check;
        spec[n].required = use == REQUIRED;
        spec[n].nullable = use == NULLABLE;
        spec[n].present = out[f].present;
        spec[n].s = out[f].s;
        spec[n].i = out[f].i;
        spec[n].j = out[f].j;
        n++;
    }
    return n;
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
    char *body; /* response body (new or replayed) */
    int64_t id;
    int version;
};

static enum ombud_rc create_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct create_ctx *x = arg;
    struct ombud_complaint cp = {0};
    struct ombud_actor actor;
    enum ombud_rc rc = OMBUD_ERROR;

    free(x->body);
    x->body = NULL;
    x->replay = false;
    if (x->idem_key) {
        bool busy, found;
        char stored_hash[OMBUD_HASH_BUFLEN] = "";
        rc = ombud_db_idem_begin(c, x->req->who.key_id, x->idem_key, &busy, &found, stored_hash,
                                 &x->replay_status, &x->body, &x->id, err);
        if (rc != OMBUD_OK)
            return rc;
        if (busy)
            return ombud_err_set(err, OMBUD_E_CONFLICT, "idempotency-in-flight",
                                 "a request with this Idempotency-Key is still being processed");
        if (found) {
            if (strcmp(stored_hash, x->idem_hash) != 0)
                return ombud_err_set(err, OMBUD_E_INVALID, "idempotency-key-reused",
                                     "this Idempotency-Key was used with a different body");
            x->replay = true;
            return OMBUD_OK;
        }
    }
    ombud_actor_of(x->req, &actor);
    if ((rc = ombud_svc_complaint_create_tx(c, &actor, &x->in, &cp, err)) != OMBUD_OK)
        goto out;
    x->id = cp.id;
    x->body = ombud_repr_complaint_text(&cp, ombud_time_now_s(), NULL);
    x->version = cp.version;
    if (!x->body) {
        rc = ombud_err_internal(err, "out of memory");
        goto out;
    }
    if (x->idem_key && (rc = ombud_db_idem_store(c, x->req->who.key_id, x->idem_key, x->idem_hash,
                                                 201, x->body, cp.id, err)) != OMBUD_OK)
        goto out;
    rc = OMBUD_OK;
out:
    ombud_complaint_clear(&cp);
    return rc;
}

/* The foreign keys that name a create's unknown references. */
static bool is_reference_key(const char *constraint)
{
    static const char *const keys[] = {"complaints_category_fkey", "complaints_team_id_fkey",
                                       "complaints_assignee_id_fkey", NULL};
    for (size_t i = 0; keys[i]; i++)
        if (strcmp(constraint, keys[i]) == 0)
            return true;
    return false;
}

char *ombud_complaint_create_parse(const json_t *body, struct ombud_complaint_new *in,
                                   struct ombud_err *err)
{
    json_t *customer = NULL, *tags = NULL;
    const struct field_out out[F_COUNT] = {
        [F_TITLE] = {.s = &in->title},
        [F_DESCRIPTION] = {.s = &in->description},
        [F_CUSTOMER] = {.j = &customer},
        [F_CHANNEL] = {.s = &in->channel},
        [F_CATEGORY] = {.s = &in->category},
        [F_GRADE] = {.s = &in->grade},
        [F_PRIORITY] = {.s = &in->priority},
        [F_DEMAND] = {.s = &in->demand},
        [F_DEMAND_DETAIL] = {.s = &in->demand_detail},
        [F_TAGS] = {.j = &tags},
        [F_TEAM_ID] = {.i = &in->team_id},
        [F_ASSIGNEE_ID] = {.i = &in->assignee_id},
        [F_EXTERNAL_REF] = {.s = &in->external_ref},
    };
    const struct ombud_spec cspec[] = {
        {.name = "name",
         .type = OMBUD_SPEC_STRING,
         .required = true,
         .min = 1,
         .max = OMBUD_CUSTOMER_MAX_NAME_CHARS,
         .s = &in->customer_name},
        {.name = "external_id",
         .type = OMBUD_SPEC_STRING,
         .min = 1,
         .max = OMBUD_CUSTOMER_MAX_EXTERNAL_ID_CHARS,
         .nullable = true,
         .s = &in->customer_external_id},
        {.name = "email",
         .type = OMBUD_SPEC_STRING,
         .min = OMBUD_CUSTOMER_MIN_EMAIL_CHARS,
         .max = OMBUD_CUSTOMER_MAX_EMAIL_CHARS,
         .nullable = true,
         .s = &in->customer_email},
        {.name = "phone",
         .type = OMBUD_SPEC_STRING,
         .min = 1,
         .max = OMBUD_CUSTOMER_MAX_PHONE_CHARS,
         .nullable = true,
         .s = &in->customer_phone},
        {.name = "tier",
         .type = OMBUD_SPEC_ENUM,
         .values = ombud_tier_names,
         .s = &in->customer_tier},
    };
    struct ombud_spec spec[F_COUNT];
    char *tj = NULL;

    ombud_spec_parse(body, spec, complaint_spec(true, out, spec), NULL, err);
    if (customer) {
        ombud_spec_parse(customer, cspec, sizeof cspec / sizeof cspec[0], "customer.", err);
        if (in->customer_email && !ombud_email_valid(in->customer_email))
            ombud_err_field(err, "customer.email", "must be an e-mail address");
    }
    if (tags)
        tj = tags_json(tags, err);
    if (!in->channel)
        in->channel = "api";
    if (!in->category)
        in->category = "other";
    if (!in->grade)
        in->grade = "explicit";
    if (!in->priority)
        in->priority = ombud_complaint_default_priority(in->grade);
    if (!in->customer_tier)
        in->customer_tier = "standard";
    in->tags_json = tj;
    return tj;
}

void ombud_idem_key_check(const char *key, struct ombud_err *err)
{
    size_t len = strlen(key);
    bool ok = len >= 1 && len <= 255;
    for (size_t i = 0; ok && i < len; i++)
        ok = key[i] >= 0x20 && key[i] < 0x7f;
    if (!ok)
        ombud_err_field(err, "Idempotency-Key", "must be 1 to 255 visible ASCII characters");
}

void ombud_h_complaints_create(struct ombud_req *req)
{
    struct create_ctx x = {.req = req};
    struct ombud_err err;
    char *tj;

    ombud_err_clear(&err);
    tj = ombud_complaint_create_parse(req->json, &x.in, &err);
    x.in.created_by_key_id = req->who.key_id;
    x.idem_key = ombud_req_header(req, "Idempotency-Key");
    if (x.idem_key)
        ombud_idem_key_check(x.idem_key, &err);
    if (err.nfields &&
        report_refs(req, x.in.category, x.in.team_id, x.in.assignee_id, &err) != OMBUD_OK)
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
    /* Without an Idempotency-Key and with nothing to follow (escalation
     * rules, routing) the create is one statement, atomic on its own: no
     * BEGIN and COMMIT around it. */
    bool tx = x.idem_key || ombud_svc_complaint_create_needs_tx(&x.in);
    if ((tx ? ombud_tx_run : ombud_db_run)(req->pool, create_tx, &x, &err) != OMBUD_OK) {
        /* The foreign keys refused a reference: name every unknown one,
         * as the validation would have (an error path, so a look-up). */
        if (err.kind == OMBUD_E_INVALID && is_reference_key(err.constraint)) {
            struct ombud_err refs;
            ombud_err_clear(&refs);
            if (report_refs(req, x.in.category, x.in.team_id, x.in.assignee_id, &refs) ==
                    OMBUD_OK &&
                refs.nfields) {
                err = refs;
                (void)ombud_err_finish_validation(&err);
            }
        }
        goto fail;
    }

    /* The body is the complaint's text as written (or as stored with the
     * key): sent as it is, not parsed and written again. A replay's
     * version is read from it, for the ETag. */
    char location[OMBUD_LOCATION_BUFLEN], etag[32];
    ombud_location(location, "/v1/complaints", x.id);
    int version = x.version;
    if (x.replay) {
        json_t *stored = json_loads(x.body, 0, NULL);
        version = (int)json_integer_value(json_object_get(stored, "version"));
        json_decref(stored);
    }
    ombud_repr_etag(version, etag, sizeof etag);
    ombud_reply_text_h_steal(req, x.replay ? x.replay_status : 201, x.body,
                             x.body ? strlen(x.body) : 0, "Location", location, "ETag", etag,
                             "Idempotent-Replayed", x.replay ? "true" : NULL, NULL);
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
    int64_t id;
    struct ombud_complaint cp;
};

static enum ombud_rc get_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct get_ctx *x = arg;
    ombud_complaint_clear(&x->cp);
    return ombud_complaint_load(c, x->req, x->id, false, &x->cp, err);
}

void ombud_h_complaints_get(struct ombud_req *req)
{
    struct get_ctx x = {.req = req, .id = ombud_req_path_id(req, 0)};
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
    return ombud_db_complaint_list(c, &x->f, &x->items, &x->n, err);
}

void ombud_h_complaints_list(struct ombud_req *req)
{
    struct list_ctx x = {0};
    struct ombud_err err;
    int64_t cur[2];
    /* sort, as an index into sorts; newest first when absent. */
    static const char *const sorts[] = {"created_at", "-created_at", "due_at", NULL};
    enum { SORT_OLDEST, SORT_NEWEST, SORT_DUE };
    int sort;

    ombud_err_clear(&err);
    x.f.status = ombud_query_enum_list(req, "status", ombud_status_names, &err);
    ombud_complaint_filter_query(req, &x.f, &err);
    x.f.customer_external_id = ombud_req_query(req, "customer_external_id");
    x.f.has_created_after = ombud_query_time(req, "created_after", false, &x.f.created_after, &err);
    x.f.has_created_before =
        ombud_query_time(req, "created_before", false, &x.f.created_before, &err);
    x.f.q = ombud_query_text(req, "q", 1, 200, &err);
    static const char *const sla_states[] = {"on_track", "at_risk", "breached", "met",
                                             "paused",   "none",    NULL};
    x.f.sla_state = ombud_query_enum_list(req, "sla_state", sla_states, &err);
    ombud_query_enum(req, "sort", sorts, SORT_NEWEST, &sort, &err);
    x.f.ascending = sort == SORT_OLDEST;
    x.f.by_due = sort == SORT_DUE;
    x.f.now = ombud_time_now_s();
    ombud_query_page(req, &x.f.limit, cur, 2, &x.f.has_cursor, &err);
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
    size_t shown = x.n > (size_t)x.f.limit ? (size_t)x.f.limit : x.n;
    char next[OMBUD_CURSOR_BUFLEN];
    if (x.n > shown) {
        const struct ombud_complaint *last = &x.items[shown - 1];
        int64_t v[2] = {x.f.by_due ? last->sla_due : last->created_at, last->id};
        ombud_cursor_encode(v, 2, next);
    }
    size_t len = 0;
    char *text = ombud_repr_complaint_page_text(x.items, shown, x.n > shown ? next : NULL,
                                                ombud_time_now_s(), &len);
    ombud_complaints_free(x.items, x.n);
    ombud_reply_text_h_steal(req, 200, text, len, NULL);
}

/* ---- patch ---- */

char *ombud_complaint_patch_parse(const json_t *body, struct ombud_edit *e, struct ombud_err *err)
{
    json_t *tags = NULL;
    char *tj = NULL;
    const struct field_out out[F_COUNT] = {
        [F_TITLE] = {.s = &e->title, .present = &e->has_title},
        [F_DESCRIPTION] = {.s = &e->description, .present = &e->has_description},
        [F_CATEGORY] = {.s = &e->category, .present = &e->has_category},
        [F_GRADE] = {.s = &e->grade, .present = &e->has_grade},
        [F_PRIORITY] = {.s = &e->priority, .present = &e->has_priority},
        [F_DEMAND] = {.s = &e->demand, .present = &e->has_demand},
        [F_DEMAND_DETAIL] = {.s = &e->demand_detail, .present = &e->has_demand_detail},
        [F_TAGS] = {.j = &tags, .present = &e->has_tags},
        [F_TEAM_ID] = {.i = &e->team_id, .present = &e->has_team},
        [F_ASSIGNEE_ID] = {.i = &e->assignee_id, .present = &e->has_assignee},
    };
    struct ombud_spec spec[F_COUNT];

    ombud_spec_parse(body, spec, complaint_spec(false, out, spec), NULL, err);
    if (tags)
        e->tags_json = tj = tags_json(tags, err);
    return tj;
}

void ombud_h_complaints_patch(struct ombud_req *req)
{
    struct ombud_transition t = {.kind = OMBUD_CHANGE_EDIT};
    struct ombud_edit *e = &t.edit;
    struct ombud_err err;
    char *tj;

    ombud_err_clear(&err);
    tj = ombud_complaint_patch_parse(req->json, e, &err);
    if (err.nfields &&
        report_refs(req, e->has_category ? e->category : NULL, e->has_team ? e->team_id : 0,
                    e->has_assignee ? e->assignee_id : 0, &err) != OMBUD_OK) {
        ombud_reply_problem(req, &err);
        free(tj);
        return;
    }
    if (ombud_err_finish_validation(&err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_complaint_change_reply(req, &t, 200);
    free(tj);
}
