/*
 * Webhooks: endpoints, deliveries and attempts (migrations/0016). The
 * sender's statements are built so that processes sharing the database
 * never work on the same thing at once: the fan-out locks endpoints FOR
 * UPDATE SKIP LOCKED, and a claim leases deliveries it took FOR UPDATE
 * SKIP LOCKED (the lease outlives the longest attempt, so a later claim
 * by another process passes them by until the attempt is recorded).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/changes.h"
#include "db/internal.h"
#include "ombud/db/webhooks.h"

#define WH(kind, field, name) OMBUD_COL_##kind(struct ombud_webhook, field, name)
static const struct ombud_db_col webhook_cols[] = {WH(I64, id, "id"),
                                                   WH(TEXT, url, "url"),
                                                   WH(TEXT, types, "types_list"),
                                                   WH(BOOL, active, "active"),
                                                   WH(TEXT, description, "description"),
                                                   WH(USEC, created_at, "created_at_us"),
                                                   WH(USEC, updated_at, "updated_at_us"),
                                                   OMBUD_COL_END};
static const struct ombud_db_col webhook_secret_cols[] = {WH(I64, id, "id"),
                                                          WH(TEXT, url, "url"),
                                                          WH(TEXT, types, "types_list"),
                                                          WH(BOOL, active, "active"),
                                                          WH(TEXT, description, "description"),
                                                          WH(TEXT, secret, "secret"),
                                                          WH(USEC, created_at, "created_at_us"),
                                                          WH(USEC, updated_at, "updated_at_us"),
                                                          OMBUD_COL_END};
#undef WH

#define WEBHOOK_COLS                                                                               \
    "id, url, array_to_string(types, ',') AS types_list, active, description,"                     \
    " ombud_usec(created_at) AS created_at_us, ombud_usec(updated_at) AS updated_at_us"

/* $1 url, $2 types (comma list), $3 active, $4 description, $5 secret */
/* clang-format off */
static struct ombud_db_stmt q_insert = OMBUD_STMT(
    "INSERT INTO webhooks (url, types, active, description, secret, cursor)"
    " VALUES ($1, string_to_array($2, ','), $3::boolean, $4, $5, " OMBUD_CHG_HORIZON " - 1)"
    " RETURNING " WEBHOOK_COLS ", secret");
/* clang-format on */

enum ombud_rc ombud_db_webhook_insert(struct ombud_db_conn *c, struct ombud_webhook *w,
                                      struct ombud_err *err)
{
    PGresult *r;
    bool found;
    const char *p[] = {w->url, w->types, w->active ? "true" : "false", w->description, w->secret};
    enum ombud_rc rc = ombud_db_exec(c, &q_insert, 5, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_db_read_one(r, webhook_secret_cols, w, &found, err);
}

static struct ombud_db_stmt q_get =
    OMBUD_STMT("SELECT " WEBHOOK_COLS " FROM webhooks WHERE id = $1::bigint");
static struct ombud_db_stmt q_get_lock =
    OMBUD_STMT("SELECT " WEBHOOK_COLS " FROM webhooks WHERE id = $1::bigint FOR UPDATE");

enum ombud_rc ombud_db_webhook_get(struct ombud_db_conn *c, int64_t id, bool lock,
                                   struct ombud_webhook *out, bool *found, struct ombud_err *err)
{
    return ombud_db_get_by_id(c, lock ? &q_get_lock : &q_get, id, webhook_cols, out, found, err);
}

/* $1 id, $2 url, $3 types, $4 active, $5 description */
/* clang-format off */
static struct ombud_db_stmt q_update = OMBUD_STMT(
    "UPDATE webhooks SET url = $2, types = string_to_array($3, ','), active = $4::boolean,"
    " description = $5, updated_at = now(),"
    " cursor = CASE WHEN NOT active AND $4::boolean THEN " OMBUD_CHG_HORIZON " - 1 ELSE cursor END"
    " WHERE id = $1::bigint RETURNING " WEBHOOK_COLS);
/* clang-format on */

enum ombud_rc ombud_db_webhook_update(struct ombud_db_conn *c, struct ombud_webhook *w, bool *found,
                                      struct ombud_err *err)
{
    char id[OMBUD_DB_I64_BUFLEN];
    PGresult *r;
    ombud_db_param_i64(id, sizeof id, w->id);
    const char *p[] = {id, w->url, w->types, w->active ? "true" : "false", w->description};
    enum ombud_rc rc = ombud_db_exec(c, &q_update, 5, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_db_read_one(r, webhook_cols, w, found, err);
}

static struct ombud_db_stmt q_list = OMBUD_STMT(
    "SELECT " WEBHOOK_COLS " FROM webhooks WHERE id > $1::bigint ORDER BY id LIMIT $2::int");

enum ombud_rc ombud_db_webhook_list(struct ombud_db_conn *c, int64_t after_id, int limit,
                                    struct ombud_webhook **out, size_t *n, struct ombud_err *err)
{
    return ombud_db_list_page(c, &q_list, after_id, limit, 0, NULL, webhook_cols, sizeof **out,
                              (void **)out, n, err);
}

static struct ombud_db_stmt q_delete =
    OMBUD_STMT("DELETE FROM webhooks WHERE id = $1::bigint RETURNING id");

enum ombud_rc ombud_db_webhook_delete(struct ombud_db_conn *c, int64_t id, bool *found,
                                      struct ombud_err *err)
{
    char a[OMBUD_DB_I64_BUFLEN];
    PGresult *r;
    ombud_db_param_i64(a, sizeof a, id);
    const char *p[] = {a};
    enum ombud_rc rc = ombud_db_exec(c, &q_delete, 1, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *found = PQntuples(r) > 0;
    PQclear(r);
    return OMBUD_OK;
}

/* ---- deliveries ---- */

#define DL(kind, field, name) OMBUD_COL_##kind(struct ombud_webhook_delivery, field, name)
static const struct ombud_db_col delivery_cols[] = {DL(I64, id, "id"),
                                                    DL(I64, webhook_id, "webhook_id"),
                                                    DL(I64, change_id, "change_id"),
                                                    DL(TEXT, type, "type"),
                                                    DL(TEXT, msg_id, "msg_id"),
                                                    DL(TEXT, state, "state"),
                                                    DL(USEC, next_attempt_at, "next_attempt_at_us"),
                                                    OMBUD_COL_END};
#undef DL
#define DELIVERY_COLS                                                                              \
    "id, webhook_id, change_id, type, msg_id, state,"                                              \
    " CASE WHEN state = 'pending' THEN ombud_usec(next_attempt_at) END AS next_attempt_at_us"

#define AT(kind, field, name) OMBUD_COL_##kind(struct ombud_webhook_attempt, field, name)
static const struct ombud_db_col attempt_cols[] = {AT(I64, id, "id"),
                                                   AT(I64, delivery_id, "delivery_id"),
                                                   AT(USEC, at, "at_us"),
                                                   AT(INT, status, "status"),
                                                   AT(INT, duration_ms, "duration_ms"),
                                                   AT(TEXT, error, "error"),
                                                   AT(TEXT, excerpt, "response_excerpt"),
                                                   AT(BOOL, has_excerpt, "has_excerpt"),
                                                   OMBUD_COL_END};
#undef AT

/* $1 after, $2 limit + 1, $3 webhook */
static struct ombud_db_stmt q_deliveries =
    OMBUD_STMT("SELECT " DELIVERY_COLS " FROM webhook_deliveries WHERE webhook_id = $3::bigint"
               " AND id > $1::bigint ORDER BY id LIMIT $2::int");
/* $1 first delivery id, $2 last, $3 webhook */
/* clang-format off */
static struct ombud_db_stmt q_attempts = OMBUD_STMT(
    "SELECT a.id, a.delivery_id, ombud_usec(a.at) AS at_us, a.status, a.duration_ms, a.error,"
    " a.response_excerpt, a.response_excerpt IS NOT NULL AS has_excerpt"
    " FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id"
    " WHERE d.webhook_id = $3::bigint AND a.delivery_id BETWEEN $1::bigint AND $2::bigint"
    " ORDER BY a.delivery_id, a.id");
/* clang-format on */

enum ombud_rc ombud_db_webhook_deliveries(struct ombud_db_conn *c, int64_t webhook_id,
                                          int64_t after_id, int limit,
                                          struct ombud_webhook_delivery **out, size_t *n,
                                          struct ombud_err *err)
{
    char wh[OMBUD_DB_I64_BUFLEN], lo[OMBUD_DB_I64_BUFLEN], hi[OMBUD_DB_I64_BUFLEN];
    struct ombud_webhook_attempt *at = NULL;
    size_t nat = 0;
    ombud_db_param_i64(wh, sizeof wh, webhook_id);
    const char *extra[] = {wh};
    enum ombud_rc rc = ombud_db_list_page(c, &q_deliveries, after_id, limit, 1, extra,
                                          delivery_cols, sizeof **out, (void **)out, n, err);
    if (rc != OMBUD_OK || *n == 0)
        return rc;
    ombud_db_param_i64(lo, sizeof lo, (*out)[0].id);
    ombud_db_param_i64(hi, sizeof hi, (*out)[*n - 1].id);
    const char *p[] = {lo, hi, wh};
    PGresult *r;
    if ((rc = ombud_db_exec(c, &q_attempts, 3, p, &r, err)) != OMBUD_OK ||
        (rc = ombud_db_read_rows(r, attempt_cols, sizeof *at, (void **)&at, &nat, err)) != OMBUD_OK)
        goto fail;
    /* Both in id order: hand each delivery its run of attempts. */
    size_t j = 0;
    for (size_t i = 0; i < *n; i++) {
        struct ombud_webhook_delivery *d = &(*out)[i];
        size_t start = j;
        while (j < nat && at[j].delivery_id == d->id)
            j++;
        if (j == start)
            continue;
        if (!(d->attempts = malloc((j - start) * sizeof *at))) {
            rc = ombud_err_internal(err, "out of memory");
            goto fail;
        }
        memcpy(d->attempts, at + start, (j - start) * sizeof *at);
        d->nattempts = j - start;
    }
    free(at);
    return OMBUD_OK;
fail:
    free(at);
    ombud_webhook_deliveries_free(*out, *n);
    *out = NULL;
    *n = 0;
    return rc;
}

/* $1 webhook, $2 delivery */
/* clang-format off */
static struct ombud_db_stmt q_retry = OMBUD_STMT(
    "UPDATE webhook_deliveries SET"
    " retry_from = CASE WHEN state = 'pending' THEN retry_from ELSE state END,"
    " state = 'pending', next_attempt_at = now()"
    " WHERE webhook_id = $1::bigint AND id = $2::bigint RETURNING " DELIVERY_COLS);
/* clang-format on */

enum ombud_rc ombud_db_webhook_retry(struct ombud_db_conn *c, int64_t webhook_id,
                                     int64_t delivery_id, struct ombud_webhook_delivery *out,
                                     bool *found, struct ombud_err *err)
{
    char wh[OMBUD_DB_I64_BUFLEN], dl[OMBUD_DB_I64_BUFLEN];
    PGresult *r;
    ombud_db_param_i64(wh, sizeof wh, webhook_id);
    ombud_db_param_i64(dl, sizeof dl, delivery_id);
    const char *p[] = {wh, dl};
    enum ombud_rc rc = ombud_db_exec(c, &q_retry, 2, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_db_read_one(r, delivery_cols, out, found, err);
}

/* $1 webhook. A ping's webhook-id is ping_<delivery id>; its body is
 * {id, type: "ping", timestamp, data: {webhook_id}}. */
/* clang-format off */
static struct ombud_db_stmt q_ping = OMBUD_STMT(
    "WITH w AS (SELECT id FROM webhooks WHERE id = $1::bigint),"
    " n AS (SELECT nextval('webhook_deliveries_id_seq') AS id FROM w)"
    " INSERT INTO webhook_deliveries (id, webhook_id, type, msg_id, payload, next_attempt_at)"
    " SELECT n.id, w.id, 'ping', 'ping_' || n.id,"
    " json_build_object('id', 'ping_' || n.id, 'type', 'ping', 'timestamp',"
    " to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " 'data', json_build_object('webhook_id', w.id))::text, now()"
    " FROM w, n RETURNING " DELIVERY_COLS);
/* clang-format on */

enum ombud_rc ombud_db_webhook_ping(struct ombud_db_conn *c, int64_t webhook_id,
                                    struct ombud_webhook_delivery *out, bool *found,
                                    struct ombud_err *err)
{
    char wh[OMBUD_DB_I64_BUFLEN];
    PGresult *r;
    ombud_db_param_i64(wh, sizeof wh, webhook_id);
    const char *p[] = {wh};
    enum ombud_rc rc = ombud_db_exec(c, &q_ping, 1, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_db_read_one(r, delivery_cols, out, found, err);
}

/* ---- the sender ---- */

#define CU(kind, field, name) OMBUD_COL_##kind(struct ombud_webhook_cursor, field, name)
static const struct ombud_db_col cursor_cols[] = {CU(I64, id, "id"), CU(I64, cursor, "cursor"),
                                                  CU(TEXT, types, "types_list"), OMBUD_COL_END};
#undef CU

/* Only endpoints with settled changes after their cursor (an index probe
 * each): when there is nothing new no row is locked, so an idle round
 * writes nothing and takes no transaction id (which would hold the log's
 * horizon back for everyone while it lasts). */
/* clang-format off */
static struct ombud_db_stmt q_fanout_lock = OMBUD_STMT(
    "SELECT id, cursor, array_to_string(types, ',') AS types_list FROM webhooks w WHERE active"
    " AND EXISTS (SELECT 1 FROM changes ch WHERE ch.id > w.cursor AND ch.id < "
    OMBUD_CHG_HORIZON ")"
    " ORDER BY id LIMIT $1::int FOR UPDATE SKIP LOCKED");
/* clang-format on */

enum ombud_rc ombud_db_webhook_fanout_lock(struct ombud_db_conn *c, int limit,
                                           struct ombud_webhook_cursor **out, size_t *n,
                                           struct ombud_err *err)
{
    char l[16];
    PGresult *r;
    snprintf(l, sizeof l, "%d", limit);
    const char *p[] = {l};
    *out = NULL;
    *n = 0;
    enum ombud_rc rc = ombud_db_exec(c, &q_fanout_lock, 1, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_db_read_rows(r, cursor_cols, sizeof **out, (void **)out, n, err);
}

/* clang-format off */
static struct ombud_db_stmt q_enqueue = OMBUD_STMT(
    "INSERT INTO webhook_deliveries (webhook_id, change_id, type, msg_id, payload,"
    " next_attempt_at) VALUES ($1::bigint, $2::bigint, $3, $2, $4, now())"
    " ON CONFLICT (webhook_id, change_id) DO NOTHING");
/* clang-format on */

enum ombud_rc ombud_db_webhook_enqueue(struct ombud_db_conn *c, int64_t webhook_id,
                                       int64_t change_id, const char *type, const char *payload,
                                       struct ombud_err *err)
{
    char wh[OMBUD_DB_I64_BUFLEN], ch[OMBUD_DB_I64_BUFLEN];
    PGresult *r;
    ombud_db_param_i64(wh, sizeof wh, webhook_id);
    ombud_db_param_i64(ch, sizeof ch, change_id);
    const char *p[] = {wh, ch, type, payload};
    enum ombud_rc rc = ombud_db_exec(c, &q_enqueue, 4, p, &r, err);
    if (rc == OMBUD_OK)
        PQclear(r);
    return rc;
}

static struct ombud_db_stmt q_cursor_set =
    OMBUD_STMT("UPDATE webhooks SET cursor = $2::bigint WHERE id = $1::bigint");

enum ombud_rc ombud_db_webhook_cursor_set(struct ombud_db_conn *c, int64_t webhook_id,
                                          int64_t cursor, struct ombud_err *err)
{
    char wh[OMBUD_DB_I64_BUFLEN], cu[OMBUD_DB_I64_BUFLEN];
    PGresult *r;
    ombud_db_param_i64(wh, sizeof wh, webhook_id);
    ombud_db_param_i64(cu, sizeof cu, cursor);
    const char *p[] = {wh, cu};
    enum ombud_rc rc = ombud_db_exec(c, &q_cursor_set, 2, p, &r, err);
    if (rc == OMBUD_OK)
        PQclear(r);
    return rc;
}

void ombud_webhook_jobs_free(struct ombud_webhook_job *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        free(list[i].payload);
    free(list);
}

#define JB(kind, field, name) OMBUD_COL_##kind(struct ombud_webhook_job, field, name)
static const struct ombud_db_col job_cols[] = {
    JB(I64, delivery_id, "id"),    JB(I64, webhook_id, "webhook_id"),
    JB(TEXT, msg_id, "msg_id"),    JB(STR, payload, "payload"),
    JB(TEXT, url, "url"),          JB(TEXT, secret, "secret"),
    JB(INT, attempts, "attempts"), OMBUD_COL_END};
#undef JB

/* $1 limit, $2 lease seconds. The subquery's row locks keep two claims
 * apart while this statement runs; the lease keeps them apart after. */
/* clang-format off */
static struct ombud_db_stmt q_claim = OMBUD_STMT(
    "UPDATE webhook_deliveries d SET lease_until = now() + $2::int * interval '1 s',"
    " attempts = d.attempts + 1"
    " FROM webhooks w WHERE w.id = d.webhook_id AND d.id IN ("
    "  SELECT d2.id FROM webhook_deliveries d2 JOIN webhooks w2 ON w2.id = d2.webhook_id"
    "  WHERE d2.state = 'pending' AND d2.next_attempt_at <= now() AND w2.active"
    "  AND (d2.lease_until IS NULL OR d2.lease_until < now())"
    "  ORDER BY d2.next_attempt_at LIMIT $1::int FOR UPDATE OF d2 SKIP LOCKED)"
    " RETURNING d.id, d.webhook_id, d.msg_id, d.payload, w.url, w.secret, d.attempts");
/* clang-format on */

enum ombud_rc ombud_db_webhook_claim(struct ombud_db_conn *c, int limit, int lease_s,
                                     struct ombud_webhook_job **out, size_t *n,
                                     struct ombud_err *err)
{
    char l[16], s[16];
    PGresult *r;
    snprintf(l, sizeof l, "%d", limit);
    snprintf(s, sizeof s, "%d", lease_s);
    const char *p[] = {l, s};
    *out = NULL;
    *n = 0;
    enum ombud_rc rc = ombud_db_exec(c, &q_claim, 2, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_db_read_rows(r, job_cols, sizeof **out, (void **)out, n, err);
}

/* $1 delivery, $2 status (NULL: none), $3 duration, $4 error, $5 excerpt,
 * $6 outcome (ok, retry, gone), $7 retry ms, $8 window ms. A delivery
 * deleted meanwhile (with its endpoint) is left alone. */
/* clang-format off */
static struct ombud_db_stmt q_record = OMBUD_STMT(
    "WITH a AS (INSERT INTO webhook_attempts (delivery_id, status, duration_ms, error,"
    "  response_excerpt) SELECT id, $2::int, $3::int, $4, $5 FROM webhook_deliveries"
    "  WHERE id = $1::bigint),"
    " s AS (SELECT id, CASE WHEN $6 = 'ok' THEN 'delivered' WHEN $6 = 'gone' THEN 'failed'"
    "  WHEN retry_from IS NOT NULL THEN retry_from"
    "  WHEN created_at + $8::bigint * interval '1 ms' < now() THEN 'failed'"
    "  ELSE 'pending' END AS st FROM webhook_deliveries WHERE id = $1::bigint),"
    " d AS (UPDATE webhook_deliveries SET state = s.st, lease_until = NULL, retry_from = NULL,"
    "  next_attempt_at = CASE WHEN s.st = 'pending'"
    "   THEN now() + $7::bigint * interval '1 ms' END"
    "  FROM s WHERE webhook_deliveries.id = s.id RETURNING webhook_id, state),"
    " g AS (UPDATE webhooks SET active = false, updated_at = now()"
    "  WHERE $6 = 'gone' AND id = (SELECT webhook_id FROM d))"
    " SELECT state FROM d");
/* clang-format on */

enum ombud_rc ombud_db_webhook_attempt_record(struct ombud_db_conn *c, int64_t delivery_id,
                                              int status, int duration_ms, const char *error,
                                              const char *excerpt,
                                              enum ombud_webhook_outcome outcome, int64_t retry_ms,
                                              int64_t window_ms, char state[12],
                                              struct ombud_err *err)
{
    char dl[OMBUD_DB_I64_BUFLEN], st[16], du[16], rm[OMBUD_DB_I64_BUFLEN], wm[OMBUD_DB_I64_BUFLEN];
    PGresult *r;
    ombud_db_param_i64(dl, sizeof dl, delivery_id);
    snprintf(st, sizeof st, "%d", status);
    snprintf(du, sizeof du, "%d", duration_ms);
    ombud_db_param_i64(rm, sizeof rm, retry_ms);
    ombud_db_param_i64(wm, sizeof wm, window_ms);
    const char *oc = outcome == OMBUD_WEBHOOK_OK     ? "ok"
                     : outcome == OMBUD_WEBHOOK_GONE ? "gone"
                                                     : "retry";
    const char *p[] = {dl, status ? st : NULL, du, error, excerpt, oc, rm, wm};
    enum ombud_rc rc = ombud_db_exec(c, &q_record, 8, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    state[0] = '\0';
    if (PQntuples(r) > 0)
        ombud_db_text(r, 0, 0, state, 12);
    PQclear(r);
    return OMBUD_OK;
}

/* clang-format off */
static struct ombud_db_stmt q_queue = OMBUD_STMT(
    "SELECT count(*), coalesce(extract(epoch FROM now() - min(d.created_at))::bigint, 0)"
    " FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id"
    " WHERE d.state = 'pending' AND w.active");
/* clang-format on */

enum ombud_rc ombud_db_webhook_queue(struct ombud_db_conn *c, int64_t *depth, int64_t *oldest_s,
                                     struct ombud_err *err)
{
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_queue, 0, NULL, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *depth = ombud_db_int(r, 0, 0);
    *oldest_s = ombud_db_int(r, 0, 1);
    PQclear(r);
    return OMBUD_OK;
}
