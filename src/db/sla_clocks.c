/*
 * SLA clocks: the only SQL touching sla_clocks, and the statements the
 * SLA glue (service/sla.c) and the worker's pass (worker/sla_pass.c) are
 * built from. No rule lives here: what an operation or a pass does to a
 * clock is domain/sla.c. Instants are epoch seconds in C and timestamptz
 * in the table; a clock's warning ladder is stored as a JSON array.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/clock_cols.h"
#include "db/changes.h"
#include "db/internal.h"
#include "ombud/log.h"
#include "ombud/db/calendars.h"
#include "ombud/db/sla.h"

static void read_target(const char *v, void *rec)
{
    struct ombud_sla_clock *k = rec;
    k->target =
        v && strcmp(v, "first_response") == 0 ? OMBUD_SLA_FIRST_RESPONSE : OMBUD_SLA_RESOLUTION;
}

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

static bool key_is(const char *key, size_t len, const char *name)
{
    return strlen(name) == len && memcmp(key, name, len) == 0;
}

/* "history": [n, …] into the clock's raised_history; returns what follows. */
static const char *read_history(const char *p, struct ombud_sla_clock *k)
{
    p = skip_space(p);
    if (*p != '[')
        return p;
    p++;
    for (size_t h = 0;; h++) {
        p = skip_space(p);
        if (*p == ',')
            p = skip_space(p + 1);
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p)
            return *p == ']' ? p + 1 : p;
        if (h < OMBUD_SLA_MAX_WARNINGS)
            k->raised_history[h] = v;
        p = end;
    }
}

/*
 * The stored ladder: one object per warning ({"level", "threshold",
 * "at", "raised_at"}), then {"history": [...]}, the levels raised in this
 * cycle across policy changes. Every clock read shows its warnings, so
 * each read needs them; what made that costly was building a jansson
 * tree (one allocation per value) to read some integers. This reads the
 * text in one pass into the fixed arrays, whatever the key order and
 * spacing (jsonb prints its own), allocating nothing.
 */
static void read_warnings(const char *v, void *rec)
{
    struct ombud_sla_clock *k = rec;
    struct ombud_sla_warning w = {0};
    bool in_object = false, history = false;

    k->nwarnings = 0;
    memset(k->raised_history, 0, sizeof k->raised_history);
    for (const char *p = v ? v : ""; *p;) {
        if (*p == '{') {
            in_object = true;
            history = false;
            memset(&w, 0, sizeof w);
            p++;
        } else if (*p == '}') {
            if (in_object && !history && k->nwarnings < OMBUD_SLA_MAX_WARNINGS)
                k->warnings[k->nwarnings++] = w;
            in_object = false;
            p++;
        } else if (*p == '"' && in_object) {
            const char *key = ++p;
            while (*p && *p != '"')
                p++;
            size_t len = (size_t)(p - key);
            if (*p)
                p++;
            p = skip_space(p);
            if (*p == ':')
                p++;
            if (key_is(key, len, "history")) {
                history = true;
                p = read_history(p, k);
                continue;
            }
            char *end;
            long long x = strtoll(skip_space(p), &end, 10);
            if (end == skip_space(p))
                continue; /* not a number: skipped character by character */
            p = end;
            if (key_is(key, len, "level"))
                w.level = (int)x;
            else if (key_is(key, len, "threshold"))
                w.threshold = x;
            else if (key_is(key, len, "at"))
                w.at = x;
            else if (key_is(key, len, "raised_at"))
                w.raised_at = x;
        } else {
            p++;
        }
    }
}

bool ombud_db_clock_warnings_text(const struct ombud_sla_clock *k, char *buf, size_t len)
{
    size_t n = 0;
    int w;
    buf[0] = '\0';
#define PUT(...)                                                                                   \
    do {                                                                                           \
        w = snprintf(buf + n, len - n, __VA_ARGS__);                                               \
        if (w < 0 || (size_t)w >= len - n)                                                         \
            return false;                                                                          \
        n += (size_t)w;                                                                            \
    } while (0)
    PUT("[");
    for (size_t i = 0; i < k->nwarnings; i++)
        PUT("{\"level\":%d,\"threshold\":%lld,\"at\":%lld,\"raised_at\":%lld},",
            k->warnings[i].level, (long long)k->warnings[i].threshold, (long long)k->warnings[i].at,
            (long long)k->warnings[i].raised_at);
    PUT("{\"history\":[");
    for (size_t h = 0; h < OMBUD_SLA_MAX_WARNINGS; h++)
        PUT("%s%lld", h ? "," : "", (long long)k->raised_history[h]);
    PUT("]}]");
#undef PUT
    return true;
}

bool ombud_db_clock_copy_text(const struct ombud_sla_clock *k, char *buf, size_t len)
{
    char w[OMBUD_DB_WARNINGS_BUFLEN];
    if (!ombud_db_clock_warnings_text(k, w, sizeof w))
        return false;
    int n = snprintf(buf, len, "%s %d %lld %lld %lld %lld %lld %lld %lld %d %lld %lld %s",
                     ombud_sla_target_name(k->target), k->cycle, (long long)k->policy_id,
                     (long long)k->calendar_id, (long long)k->target_seconds,
                     (long long)k->elapsed_seconds, (long long)k->running_since,
                     (long long)k->due_at, (long long)k->met_at, k->breached ? 1 : 0,
                     (long long)k->breach_raised_at, (long long)k->next_alert_at, w);
    return n >= 0 && (size_t)n < len;
}

/* The integer after the spaces at *p, moving *p past it; false when
 * there is none. */
static bool copy_int(const char **p, int64_t *out)
{
    const char *q = *p;
    while (*q == ' ')
        q++;
    bool neg = *q == '-';
    q += neg;
    uint64_t u = 0;
    int n = 0;
    for (; q[n] >= '0' && q[n] <= '9' && n < 19; n++)
        u = u * 10 + (uint64_t)(q[n] - '0');
    if (n == 0 || n == 19 || (q[n] != ' ' && q[n] != '\0'))
        return false;
    *out = neg ? -(int64_t)u : (int64_t)u;
    *p = q + n;
    return true;
}

void ombud_db_clock_copy_read(const char *v, struct ombud_sla_clock *k, bool *have)
{
    memset(k, 0, sizeof *k);
    *have = false;
    if (!v)
        return;
    const char *p = v;
    size_t tl = strcspn(p, " ");
    if (tl == strlen("first_response") && memcmp(p, "first_response", tl) == 0)
        k->target = OMBUD_SLA_FIRST_RESPONSE;
    else if (tl == strlen("resolution") && memcmp(p, "resolution", tl) == 0)
        k->target = OMBUD_SLA_RESOLUTION;
    else
        goto bad;
    p += tl;
    int64_t f[11];
    for (size_t i = 0; i < 11; i++)
        if (!copy_int(&p, &f[i]))
            goto bad;
    if (f[0] < 1 || f[0] > INT32_MAX)
        goto bad;
    k->cycle = (int)f[0];
    k->policy_id = f[1];
    k->calendar_id = f[2];
    k->target_seconds = f[3];
    k->elapsed_seconds = f[4];
    k->running_since = f[5];
    k->due_at = f[6];
    k->met_at = f[7];
    k->breached = f[8] != 0;
    k->breach_raised_at = f[9];
    k->next_alert_at = f[10];
    read_warnings(p, k);
    *have = true;
    return;
bad:
    memset(k, 0, sizeof *k);
    ombud_log(OMBUD_LOG_ERROR, "db_error", "a complaint's clock copy is not a clock line");
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

/* Whose clock a row is, and since when (the worker's claims). */
static const struct ombud_db_col claim_cols[] = {
    OMBUD_COL_I64(struct ombud_sla_claim, complaint_id, "complaint_id"),
    OMBUD_COL_USEC(struct ombud_sla_claim, changed_at, "changed_at_us"), OMBUD_COL_END};

static void read_clock(const struct ombud_db_colmap *map, int row, struct ombud_sla_clock *k)
{
    memset(k, 0, sizeof *k);
    ombud_db_read_row(map, row, k);
}

enum ombud_rc ombud_db_clock_bind(struct ombud_db_colmap *map, const PGresult *res,
                                  const char *prefix, struct ombud_err *err)
{
    return ombud_db_colmap_bind_prefix(map, res, clock_cols, prefix, err);
}

void ombud_db_clock_read(const struct ombud_db_colmap *map, int row, struct ombud_sla_clock *out,
                         bool *have)
{
    /* clock_cols[0] is target, NOT NULL in the table: NULL means no clock */
    *have = !PQgetisnull(map->res, row, map->index[0]);
    if (*have)
        read_clock(map, row, out);
    else
        memset(out, 0, sizeof *out);
}

/* Epoch seconds as a timestamptz parameter (NULL for 0). */
#define TS(n) "CASE WHEN $" #n "::bigint = 0 THEN NULL ELSE to_timestamp($" #n "::bigint) END"

/* clang-format off */
/* The clock, and the complaint's copy of it when it is a current one
 * ($15, migration 0018). The worker locked the complaint with the clock
 * (q_due), so this update waits for no one. */
static struct ombud_db_stmt q_save = OMBUD_STMT(
    "WITH s AS (INSERT INTO sla_clocks (complaint_id, target, cycle, policy_id, calendar_id,"
    " target_seconds, elapsed_seconds, running_since, due_at, met_at, breached, breach_raised_at,"
    " warnings, next_alert_at) VALUES ($1::bigint, $2::text, $3::int, $4::bigint, $5::bigint,"
    " $6::bigint, $7::bigint, " TS(8) ", " TS(9) ", " TS(10) ", $11::boolean, " TS(12) ","
    " $13::jsonb, " TS(14) ") ON CONFLICT (complaint_id, target, cycle) DO UPDATE SET"
    " policy_id = EXCLUDED.policy_id,"
    " calendar_id = EXCLUDED.calendar_id, target_seconds = EXCLUDED.target_seconds,"
    " elapsed_seconds = EXCLUDED.elapsed_seconds, running_since = EXCLUDED.running_since,"
    " due_at = EXCLUDED.due_at, met_at = EXCLUDED.met_at, breached = EXCLUDED.breached,"
    " breach_raised_at = EXCLUDED.breach_raised_at, warnings = EXCLUDED.warnings,"
    " next_alert_at = EXCLUDED.next_alert_at, updated_at = now())"
    " UPDATE complaints SET"
    " fr_clock = CASE WHEN $2::text = 'first_response' THEN $15::text ELSE fr_clock END,"
    " rs_clock = CASE WHEN $2::text = 'resolution' THEN $15::text ELSE rs_clock END"
    " WHERE id = $1::bigint AND ($2::text = 'first_response' AND $3::int = 1"
    " OR $2::text = 'resolution' AND $3::int = resolution_cycle)");
/* clang-format on */

enum ombud_rc ombud_db_sla_save_clock(struct ombud_db_conn *c, int64_t complaint_id,
                                      const struct ombud_sla_clock *k, struct ombud_err *err)
{
    char v[12][24], wj[OMBUD_DB_WARNINGS_BUFLEN], copy[OMBUD_DB_CLOCK_COPY_BUFLEN];
    if (!ombud_db_clock_warnings_text(k, wj, sizeof wj) ||
        !ombud_db_clock_copy_text(k, copy, sizeof copy))
        return ombud_err_internal(err, "warning ladder too long");
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
        v[0], ombud_sla_target_name(k->target), v[1], v[2], v[3],  v[4], v[5], v[6], v[7],
        v[8], k->breached ? "true" : "false",   v[9], wj,   v[10], copy};
    PGresult *r;
    enum ombud_rc qrc = ombud_db_exec(c, &q_save, 15, p, &r, err);
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
    "SELECT k.complaint_id, " OMBUD_DB_CLOCK_COLS("k.", "") ","
    " ombud_usec(k.updated_at) AS changed_at_us"
    " FROM sla_clocks k JOIN complaints c ON c.id = k.complaint_id"
    " WHERE k.next_alert_at <= (SELECT to_timestamp($1::bigint))"
    " ORDER BY k.next_alert_at LIMIT $2::int"
    " FOR UPDATE OF k SKIP LOCKED FOR NO KEY UPDATE OF c SKIP LOCKED");
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

/* The alert, and its change (alert.raised) when this raised it. */
/* clang-format off */
static struct ombud_db_stmt q_alert = OMBUD_STMT(
    "WITH a AS (INSERT INTO alerts (kind, level, complaint_id, target, cycle, scheduled_at)"
    " VALUES ($1::text, $2::int, $3::bigint, $4::text, $5::int, to_timestamp($6::bigint))"
    " ON CONFLICT (complaint_id, target, cycle, kind, level) WHERE kind <> 'escalation'"
    " DO NOTHING"
    /* lag: from when the moment was due or, if later, became known */
    " RETURNING id, (extract(epoch FROM created_at - greatest(scheduled_at,"
    " ombud_ts($7::bigint))) * 1000)::bigint AS lag_ms),"
    " ch AS (INSERT INTO " OMBUD_CHG_COLS " SELECT b.base + 1, 'alert.raised', c.id, NULL, a.id,"
    " c.status, c.priority, c.team_id, c.assignee_id, c.version FROM a, complaints c,"
    " (SELECT " OMBUD_CHG_BASE " AS base) b WHERE c.id = $3::bigint)"
    " SELECT id, lag_ms FROM a");
/* clang-format on */

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
    "SELECT coalesce(extract(epoch FROM least((SELECT min(next_alert_at) FROM sla_clocks"
    " WHERE next_alert_at IS NOT NULL), (SELECT min(due_at) FROM escalation_rule_runs"
    " WHERE state = 'pending')))::bigint, 0)");
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
