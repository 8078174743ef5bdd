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
#include "ombud/db/calendars.h"
#include "ombud/db/sla.h"
#include "db/sla_page.h"

#define CLOCK_COLS OMBUD_DB_CLOCK_COLS("", "")

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

/* ---- clocks beside a page of complaints (db/sla_page.h) ---- */

/* The page's columns of one clock, named prefix + the names clock_cols reads. */
#define PAGE_COLS(k)                                                                               \
    ", " k ".target AS " k "_target, " k ".cycle AS " k "_cycle, " k ".policy_id AS " k            \
    "_policy_id, " k ".calendar_id AS " k "_calendar_id, " k ".target_seconds AS " k               \
    "_target_seconds, " k ".elapsed_seconds AS " k "_elapsed_seconds, " k ".running_since_s AS " k \
    "_running_since_s, " k ".due_at_s AS " k "_due_at_s, " k ".met_at_s AS " k "_met_at_s, " k     \
    ".breached AS " k "_breached, " k ".breach_raised_at_s AS " k "_breach_raised_at_s, " k        \
    ".warnings_json AS " k "_warnings_json, " k ".next_alert_at_s AS " k "_next_alert_at_s"

const char ombud_db_sla_page_cols[] = PAGE_COLS("fr") PAGE_COLS("rc");
/* clang-format off */
const char ombud_db_sla_page_join[] =
    " LEFT JOIN LATERAL (SELECT " CLOCK_COLS " FROM sla_clocks WHERE complaint_id = p.id"
    " AND target = 'first_response' AND cycle = 1 LIMIT 1) fr ON true"
    " LEFT JOIN LATERAL (SELECT " CLOCK_COLS " FROM sla_clocks WHERE complaint_id = p.id"
    " AND target = 'resolution' AND cycle = p.resolution_cycle LIMIT 1) rc ON true";
/* clang-format on */

enum ombud_rc ombud_db_sla_page_read(const PGresult *r, struct ombud_complaint *list, size_t n,
                                     struct ombud_err *err)
{
    static const char *const prefix[2] = {
        [OMBUD_SLA_FIRST_RESPONSE] = "fr_", [OMBUD_SLA_RESOLUTION] = "rc_"};
    for (int t = 0; t < 2; t++) {
        struct ombud_db_colmap map;
        enum ombud_rc rc = ombud_db_clock_bind(&map, r, prefix[t], err);
        if (rc != OMBUD_OK)
            return rc;
        for (size_t i = 0; i < n; i++)
            ombud_db_clock_read(&map, (int)i, &list[i].sla[t], &list[i].sla_have[t]);
    }
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
    char v[12][24], wj[OMBUD_DB_WARNINGS_BUFLEN];
    if (!ombud_db_clock_warnings_text(k, wj, sizeof wj))
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
        v[0], ombud_sla_target_name(k->target), v[1], v[2], v[3], v[4], v[5], v[6], v[7],
        v[8], k->breached ? "true" : "false",   v[9], wj,   v[10]};
    PGresult *r;
    enum ombud_rc qrc = ombud_db_exec(c, &q_save, 14, p, &r, err);
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
