/*
 * SLA clocks: the only SQL touching sla_clocks, and the statements the
 * SLA glue (service/sla.c) and the worker's pass (worker/sla_pass.c) are
 * built from. No rule lives here: what an operation or a pass does to a
 * clock is domain/sla.c. Instants are epoch seconds in C and timestamptz
 * in the table; a clock's warning ladder is stored as a JSON array.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/internal.h"
#include "ombud/db/calendars.h"
#include "ombud/db/sla.h"

/* Aliased for clock_cols; converted instants carry their unit so that
 * ORDER BY next_alert_at still means the indexed column. */
#define CLOCK_COLS                                                                                 \
    "target, cycle, policy_id, calendar_id, target_seconds, elapsed_seconds,"                      \
    " extract(epoch FROM running_since)::bigint AS running_since_s,"                               \
    " extract(epoch FROM due_at)::bigint AS due_at_s,"                                             \
    " extract(epoch FROM met_at)::bigint AS met_at_s, breached,"                                   \
    " extract(epoch FROM breach_raised_at)::bigint AS breach_raised_at_s,"                         \
    " warnings::text AS warnings_json,"                                                            \
    " extract(epoch FROM next_alert_at)::bigint AS next_alert_at_s"

static void read_target(const char *v, void *rec)
{
    struct ombud_sla_clock *k = rec;
    k->target =
        v && strcmp(v, "first_response") == 0 ? OMBUD_SLA_FIRST_RESPONSE : OMBUD_SLA_RESOLUTION;
}

/* The stored ladder: one object per warning, then {"history": [...]}. */
static void read_warnings(const char *v, void *rec)
{
    struct ombud_sla_clock *k = rec;
    json_t *w = v ? json_loads(v, 0, NULL) : NULL;
    size_t i;
    json_t *e;
    json_array_foreach (w, i, e) {
        json_t *hist = json_object_get(e, "history");
        if (hist) { /* levels raised in this cycle, across policy changes */
            for (size_t h = 0; h < OMBUD_SLA_MAX_WARNINGS; h++)
                k->raised_history[h] = json_integer_value(json_array_get(hist, h));
            continue;
        }
        if (k->nwarnings >= OMBUD_SLA_MAX_WARNINGS)
            break;
        struct ombud_sla_warning *x = &k->warnings[k->nwarnings++];
        x->level = (int)json_integer_value(json_object_get(e, "level"));
        x->threshold = json_integer_value(json_object_get(e, "threshold"));
        x->at = json_integer_value(json_object_get(e, "at"));
        x->raised_at = json_integer_value(json_object_get(e, "raised_at"));
    }
    json_decref(w);
}

/* The same ladder as JSON text for the warnings column (caller frees). */
static char *warnings_json(const struct ombud_sla_clock *k)
{
    json_t *w = json_array();
    for (size_t i = 0; i < k->nwarnings; i++)
        json_array_append_new(w, json_pack("{s:i, s:I, s:I, s:I}", "level", k->warnings[i].level,
                                           "threshold", (json_int_t)k->warnings[i].threshold, "at",
                                           (json_int_t)k->warnings[i].at, "raised_at",
                                           (json_int_t)k->warnings[i].raised_at));
    json_t *hist = json_array();
    for (size_t h = 0; h < OMBUD_SLA_MAX_WARNINGS; h++)
        json_array_append_new(hist, json_integer(k->raised_history[h]));
    json_array_append_new(w, json_pack("{s:o}", "history", hist));
    char *text = json_dumps(w, JSON_COMPACT);
    json_decref(w);
    return text;
}

#define K(kind, field, name) OMBUD_COL_##kind(struct ombud_sla_clock, field, name)
static const struct ombud_db_col clock_cols[] = {OMBUD_COL_FN("target", read_target),
                                                 K(INT, cycle, "cycle"),
                                                 K(I64, policy_id, "policy_id"),
                                                 K(I64, calendar_id, "calendar_id"),
                                                 K(I64, target_seconds, "target_seconds"),
                                                 K(I64, elapsed_seconds, "elapsed_seconds"),
                                                 K(EPOCH, running_since, "running_since_s"),
                                                 K(EPOCH, due_at, "due_at_s"),
                                                 K(EPOCH, met_at, "met_at_s"),
                                                 K(BOOL, breached, "breached"),
                                                 K(EPOCH, breach_raised_at, "breach_raised_at_s"),
                                                 OMBUD_COL_FN("warnings_json", read_warnings),
                                                 K(EPOCH, next_alert_at, "next_alert_at_s"),
                                                 OMBUD_COL_END};
#undef K

/* Whose clock a row is (lists, and the worker's claims). */
static const struct ombud_db_col owner_cols[] = {
    OMBUD_COL_I64(struct ombud_sla_claim, complaint_id, "complaint_id"), OMBUD_COL_END};
static const struct ombud_db_col claim_cols[] = {
    OMBUD_COL_I64(struct ombud_sla_claim, complaint_id, "complaint_id"),
    OMBUD_COL_USEC(struct ombud_sla_claim, changed_at, "changed_at_us"), OMBUD_COL_END};

static void read_clock(const struct ombud_db_colmap *map, int row, struct ombud_sla_clock *k)
{
    memset(k, 0, sizeof *k);
    ombud_db_read_row(map, row, k);
}

#define LOAD_SQL                                                                                   \
    "SELECT " CLOCK_COLS " FROM sla_clocks WHERE complaint_id = $1::bigint"                        \
    " AND ((target = 'first_response' AND cycle = 1) OR (target = 'resolution' AND cycle ="        \
    " (SELECT resolution_cycle FROM complaints WHERE id = $1::bigint)))"
static struct ombud_db_stmt q_load = OMBUD_STMT(LOAD_SQL);
static struct ombud_db_stmt q_load_lock = OMBUD_STMT(LOAD_SQL " FOR UPDATE");

static enum ombud_rc load(struct ombud_db_conn *c, struct ombud_db_stmt *s, int64_t complaint_id,
                          struct ombud_sla_clock out[2], bool have[2], struct ombud_err *err)
{
    char id[24];
    ombud_db_param_i64(id, sizeof id, complaint_id);
    const char *p[] = {id};
    PGresult *r;
    enum ombud_rc qrc = ombud_db_exec(c, s, 1, p, &r, err);
    if (qrc != OMBUD_OK)
        return qrc;
    struct ombud_db_colmap map;
    if (ombud_db_colmap_bind(&map, r, clock_cols, err) != OMBUD_OK) {
        PQclear(r);
        return OMBUD_ERROR;
    }
    have[0] = have[1] = false;
    for (int i = 0; i < PQntuples(r); i++) {
        struct ombud_sla_clock k;
        read_clock(&map, i, &k);
        out[k.target] = k;
        have[k.target] = true;
    }
    PQclear(r);
    return OMBUD_OK;
}

enum ombud_rc ombud_db_sla_load(struct ombud_db_conn *c, int64_t complaint_id,
                                struct ombud_sla_clock out[2], bool have[2], struct ombud_err *err)
{
    return load(c, &q_load, complaint_id, out, have, err);
}

enum ombud_rc ombud_db_sla_load_locked(struct ombud_db_conn *c, int64_t complaint_id,
                                       struct ombud_sla_clock out[2], bool have[2],
                                       struct ombud_err *err)
{
    return load(c, &q_load_lock, complaint_id, out, have, err);
}

/* clang-format off */
static struct ombud_db_stmt q_load_many = OMBUD_STMT(
    "SELECT k.complaint_id, " CLOCK_COLS " FROM sla_clocks k JOIN complaints c"
    " ON c.id = k.complaint_id WHERE k.complaint_id = ANY ($1::bigint[])"
    " AND (k.target = 'first_response' AND k.cycle = 1"
    "      OR k.target = 'resolution' AND k.cycle = c.resolution_cycle)");
/* clang-format on */

enum ombud_rc ombud_db_sla_load_many(struct ombud_db_conn *c, struct ombud_complaint *list,
                                     size_t n, struct ombud_err *err)
{
    if (n == 0)
        return OMBUD_OK;
    /* "{1,2,3}": ids are integers, so the array literal needs no quoting. */
    char *ids = malloc(n * 21 + 3);
    if (!ids)
        return ombud_err_internal(err, "out of memory");
    size_t len = 0;
    ids[len++] = '{';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(ids + len, 22, "%s%lld", i ? "," : "", (long long)list[i].id);
    ids[len++] = '}';
    ids[len] = '\0';
    const char *p[] = {ids};
    PGresult *r;
    enum ombud_rc qrc = ombud_db_exec(c, &q_load_many, 1, p, &r, err);
    free(ids);
    if (qrc != OMBUD_OK)
        return qrc;
    struct ombud_db_colmap clock_map, owner_map;
    if (ombud_db_colmap_bind(&clock_map, r, clock_cols, err) != OMBUD_OK ||
        ombud_db_colmap_bind(&owner_map, r, owner_cols, err) != OMBUD_OK) {
        PQclear(r);
        return OMBUD_ERROR;
    }
    for (int row = 0; row < PQntuples(r); row++) {
        struct ombud_sla_claim owner;
        ombud_db_read_row(&owner_map, row, &owner);
        struct ombud_sla_clock k;
        read_clock(&clock_map, row, &k);
        for (size_t i = 0; i < n; i++)
            if (list[i].id == owner.complaint_id) {
                list[i].sla[k.target] = k;
                list[i].sla_have[k.target] = true;
                break;
            }
    }
    PQclear(r);
    return OMBUD_OK;
}

/* Epoch seconds as a timestamptz parameter (NULL for 0). */
#define TS(n) "CASE WHEN $" #n "::bigint = 0 THEN NULL ELSE to_timestamp($" #n "::bigint) END"

/* clang-format off */
static struct ombud_db_stmt q_save = OMBUD_STMT(
    "INSERT INTO sla_clocks (complaint_id, target, cycle, policy_id, calendar_id, target_seconds,"
    " elapsed_seconds, running_since, due_at, met_at, breached, breach_raised_at, warnings,"
    " next_alert_at) VALUES ($1::bigint, $2::text, $3::int, $4::bigint, $5::bigint, $6::bigint,"
    " $7::bigint, " TS(8) ", " TS(9) ", " TS(10) ", $11::boolean, " TS(12) ", $13::jsonb, " TS(14)
    ") ON CONFLICT (complaint_id, target, cycle) DO UPDATE SET policy_id = EXCLUDED.policy_id,"
    " calendar_id = EXCLUDED.calendar_id, target_seconds = EXCLUDED.target_seconds,"
    " elapsed_seconds = EXCLUDED.elapsed_seconds, running_since = EXCLUDED.running_since,"
    " due_at = EXCLUDED.due_at, met_at = EXCLUDED.met_at, breached = EXCLUDED.breached,"
    " breach_raised_at = EXCLUDED.breach_raised_at, warnings = EXCLUDED.warnings,"
    " next_alert_at = EXCLUDED.next_alert_at, updated_at = now()");
/* clang-format on */

enum ombud_rc ombud_db_sla_save_clock(struct ombud_db_conn *c, int64_t complaint_id,
                                      const struct ombud_sla_clock *k, struct ombud_err *err)
{
    char v[12][24];
    char *wj = warnings_json(k);
    if (!wj)
        return ombud_err_internal(err, "out of memory");
    ombud_db_param_i64(v[0], 24, complaint_id);
    snprintf(v[1], 24, "%d", k->cycle);
    ombud_db_param_i64(v[2], 24, k->policy_id);
    ombud_db_param_i64(v[3], 24, k->calendar_id);
    ombud_db_param_i64(v[4], 24, k->target_seconds);
    ombud_db_param_i64(v[5], 24, k->elapsed_seconds);
    ombud_db_param_i64(v[6], 24, k->running_since);
    ombud_db_param_i64(v[7], 24, k->due_at);
    ombud_db_param_i64(v[8], 24, k->met_at);
    ombud_db_param_i64(v[9], 24, k->breach_raised_at);
    ombud_db_param_i64(v[10], 24, k->next_alert_at);
    const char *p[] = {
        v[0], ombud_sla_target_name(k->target), v[1], v[2], v[3], v[4], v[5], v[6], v[7],
        v[8], k->breached ? "true" : "false",   v[9], wj,   v[10]};
    PGresult *r;
    enum ombud_rc qrc = ombud_db_exec(c, &q_save, 14, p, &r, err);
    free(wj);
    if (qrc != OMBUD_OK)
        return qrc;
    PQclear(r);
    return OMBUD_OK;
}

enum ombud_rc ombud_db_sla_calendar(struct ombud_db_conn *c, int64_t id,
                                    struct ombud_bt_calendar *out, struct ombud_err *err)
{
    struct ombud_calendar cal = {0};
    bool found;
    enum ombud_rc rc;
    if (ombud_db_calendar_get(c, id, &cal, &found, err) != OMBUD_OK)
        return OMBUD_ERROR;
    if (!found)
        return ombud_err_internal(err, "an SLA clock names a missing calendar");
    rc = ombud_calendar_compile(&cal, out, err);
    ombud_calendar_clear(&cal);
    return rc;
}

/* clang-format off */
static struct ombud_db_stmt q_new_cycle = OMBUD_STMT(
    "UPDATE complaints SET resolution_cycle = resolution_cycle + 1 WHERE id = $1::bigint"
    " RETURNING resolution_cycle");
/* clang-format on */

enum ombud_rc ombud_db_sla_new_cycle(struct ombud_db_conn *c, int64_t complaint_id, int *cycle,
                                     struct ombud_err *err)
{
    char id[24];
    ombud_db_param_i64(id, sizeof id, complaint_id);
    const char *p[] = {id};
    PGresult *r;
    enum ombud_rc qrc = ombud_db_exec(c, &q_new_cycle, 1, p, &r, err);
    if (qrc != OMBUD_OK)
        return qrc;
    *cycle = (int)ombud_db_int(r, 0, 0);
    PQclear(r);
    return OMBUD_OK;
}

static struct ombud_db_stmt q_set_policy =
    OMBUD_STMT("UPDATE complaints SET sla_policy_id = $2::bigint WHERE id = $1::bigint");

enum ombud_rc ombud_db_sla_set_policy(struct ombud_db_conn *c, int64_t complaint_id,
                                      int64_t policy_id, struct ombud_err *err)
{
    char id[24], pid[24];
    ombud_db_param_i64(id, sizeof id, complaint_id);
    ombud_db_param_i64(pid, sizeof pid, policy_id);
    const char *p[] = {id, pid};
    PGresult *r;
    enum ombud_rc qrc = ombud_db_exec(c, &q_set_policy, 2, p, &r, err);
    if (qrc != OMBUD_OK)
        return qrc;
    PQclear(r);
    return OMBUD_OK;
}

/* PostgreSQL delivers it on commit, so the workers replan at once. */
static struct ombud_db_stmt q_notify = OMBUD_STMT("SELECT pg_notify('ombud_sla', '')");

enum ombud_rc ombud_db_sla_notify(struct ombud_db_conn *c, struct ombud_err *err)
{
    PGresult *r;
    enum ombud_rc qrc = ombud_db_exec(c, &q_notify, 0, NULL, &r, err);
    if (qrc != OMBUD_OK)
        return qrc;
    PQclear(r);
    return OMBUD_OK;
}

/* ---- the worker's statements ---- */

/* The bound is a subquery (an InitPlan), not a constant the planner can
 * see: with a constant, a big table and a few due rows in its statistics,
 * PostgreSQL plans a bitmap scan of every due clock and sorts them all to
 * lock the first $2, a cost that grows with the backlog. Behind the
 * InitPlan it estimates a third of the index, so it walks the partial
 * index in order and stops at the limit, whatever the size; custom and
 * generic plans then cost the same and the server keeps the generic one
 * (no planning per pass). bench/worker_lag.sh shows both plans. */
/* clang-format off */
static struct ombud_db_stmt q_due = OMBUD_STMT(
    "SELECT complaint_id, " CLOCK_COLS ", ombud_usec(updated_at) AS changed_at_us"
    " FROM sla_clocks WHERE next_alert_at <= (SELECT to_timestamp($1::bigint))"
    " ORDER BY next_alert_at LIMIT $2::int FOR UPDATE SKIP LOCKED");
/* clang-format on */

enum ombud_rc ombud_db_sla_claim_due(struct ombud_db_conn *c, int64_t now, int limit,
                                     struct ombud_sla_claim **out, size_t *n, struct ombud_err *err)
{
    char nows[24], lim[16];
    ombud_db_param_i64(nows, sizeof nows, now);
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {nows, lim};
    PGresult *r;
    enum ombud_rc qrc = ombud_db_exec(c, &q_due, 2, p, &r, err);
    if (qrc != OMBUD_OK)
        return qrc;
    struct ombud_db_colmap clock_map, claim_map;
    size_t rows = (size_t)PQntuples(r);
    struct ombud_sla_claim *list = NULL;
    if (ombud_db_colmap_bind(&clock_map, r, clock_cols, err) != OMBUD_OK ||
        ombud_db_colmap_bind(&claim_map, r, claim_cols, err) != OMBUD_OK)
        goto fail;
    list = calloc(rows ? rows : 1, sizeof *list);
    if (!list) {
        ombud_err_internal(err, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < rows; i++) {
        ombud_db_read_row(&claim_map, (int)i, &list[i]);
        read_clock(&clock_map, (int)i, &list[i].clock);
    }
    PQclear(r);
    *out = list;
    *n = rows;
    return OMBUD_OK;
fail:
    PQclear(r);
    return OMBUD_ERROR;
}

static struct ombud_db_stmt q_alert = OMBUD_STMT(
    "INSERT INTO alerts (kind, level, complaint_id, target, cycle, scheduled_at)"
    " VALUES ($1::text, $2::int, $3::bigint, $4::text, $5::int, to_timestamp($6::bigint))"
    " ON CONFLICT (complaint_id, target, cycle, kind, level) DO NOTHING"
    /* lag: from when the moment was due or, if later, became known */
    " RETURNING id, (extract(epoch FROM created_at - greatest(scheduled_at,"
    " ombud_ts($7::bigint))) * 1000)::bigint AS lag_ms");

enum ombud_rc ombud_db_sla_alert_insert(struct ombud_db_conn *c, int64_t complaint_id,
                                        const struct ombud_sla_clock *k,
                                        const struct ombud_sla_due_alert *a, int64_t changed_at,
                                        int64_t *alert_id, int64_t *lag_ms, struct ombud_err *err)
{
    char lv[16], cid[24], cyc[16], sch[24], known[24];
    snprintf(lv, sizeof lv, "%d", a->breach ? 0 : a->level);
    ombud_db_param_i64(cid, sizeof cid, complaint_id);
    snprintf(cyc, sizeof cyc, "%d", k->cycle);
    ombud_db_param_i64(sch, sizeof sch, a->scheduled);
    ombud_db_param_i64(known, sizeof known, changed_at);
    const char *p[] = {a->breach ? "sla_breach" : "sla_warning",
                       lv,
                       cid,
                       ombud_sla_target_name(k->target),
                       cyc,
                       sch,
                       known};
    PGresult *r;
    enum ombud_rc qrc = ombud_db_exec(c, &q_alert, 7, p, &r, err);
    if (qrc != OMBUD_OK)
        return qrc;
    bool mine = PQntuples(r) == 1; /* else raised already, by this or another process */
    *alert_id = mine ? ombud_db_int(r, 0, PQfnumber(r, "id")) : 0;
    *lag_ms = mine ? ombud_db_int(r, 0, PQfnumber(r, "lag_ms")) : 0;
    PQclear(r);
    return OMBUD_OK;
}

/* clang-format off */
static struct ombud_db_stmt q_next = OMBUD_STMT(
    "SELECT coalesce(extract(epoch FROM min(next_alert_at))::bigint, 0) FROM sla_clocks"
    " WHERE next_alert_at IS NOT NULL");
/* clang-format on */

enum ombud_rc ombud_db_sla_next(struct ombud_db_conn *c, int64_t *next, struct ombud_err *err)
{
    PGresult *r;
    enum ombud_rc qrc = ombud_db_exec(c, &q_next, 0, NULL, &r, err);
    if (qrc != OMBUD_OK)
        return qrc;
    *next = ombud_db_int(r, 0, 0);
    PQclear(r);
    return OMBUD_OK;
}
