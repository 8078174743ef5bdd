/*
 * SLA clocks: the only SQL touching sla_clocks, and the glue that runs
 * the pure clock operations (domain/sla.c) inside a complaint's
 * transaction. Every change ends with pg_notify('ombud_sla'), which
 * PostgreSQL delivers on commit, so the workers replan at once.
 * Instants are epoch seconds in C and timestamptz in the table.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/internal.h"
#include "ombud/timefmt.h"

#define CLOCK_COLS                                                                                 \
    "target, cycle, policy_id, calendar_id, target_seconds, elapsed_seconds,"                      \
    " extract(epoch FROM running_since)::bigint, extract(epoch FROM due_at)::bigint,"              \
    " extract(epoch FROM met_at)::bigint, breached, extract(epoch FROM breach_raised_at)::bigint,"  \
    " warnings::text, extract(epoch FROM next_alert_at)::bigint"

static void read_clock_at(const PGresult *r, int row, int o, struct ombud_sla_clock *k);

static void read_clock(const PGresult *r, int row, struct ombud_sla_clock *k)
{
    read_clock_at(r, row, 0, k);
}

/* Reads CLOCK_COLS starting at column o. */
static void read_clock_at(const PGresult *r, int row, int o, struct ombud_sla_clock *k)
{
    memset(k, 0, sizeof *k);
    k->target = strcmp(PQgetvalue(r, row, o), "first_response") == 0 ? OMBUD_SLA_FIRST_RESPONSE
                                                                      : OMBUD_SLA_RESOLUTION;
    k->cycle = (int)ombud_db_int(r, row, o + 1);
    k->policy_id = ombud_db_int(r, row, o + 2);
    k->calendar_id = ombud_db_int(r, row, o + 3);
    k->target_seconds = ombud_db_int(r, row, o + 4);
    k->elapsed_seconds = ombud_db_int(r, row, o + 5);
    k->running_since = ombud_db_int(r, row, o + 6);
    k->due_at = ombud_db_int(r, row, o + 7);
    k->met_at = ombud_db_int(r, row, o + 8);
    k->breached = ombud_db_bool(r, row, o + 9);
    k->breach_raised_at = ombud_db_int(r, row, o + 10);
    json_t *w = json_loads(PQgetvalue(r, row, o + 11), 0, NULL);
    size_t i;
    json_t *e;
    json_array_foreach(w, i, e) {
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
    k->next_alert_at = ombud_db_int(r, row, o + 12);
}

#define LOAD_SQL                                                                                   \
    "SELECT " CLOCK_COLS " FROM sla_clocks WHERE complaint_id = $1::bigint"                        \
    " AND ((target = 'first_response' AND cycle = 1) OR (target = 'resolution' AND cycle ="         \
    " (SELECT resolution_cycle FROM complaints WHERE id = $1::bigint)))"
static struct ombud_db_stmt q_load = OMBUD_STMT(LOAD_SQL);
/* Write paths lock the clocks: a worker holding one is waited for. */
static struct ombud_db_stmt q_load_lock = OMBUD_STMT(LOAD_SQL " FOR UPDATE");

static enum ombud_rc load(struct ombud_db_conn *c, int64_t complaint_id, bool lock,
                          struct ombud_sla_clock out[2], bool have[2], struct ombud_err *err);

enum ombud_rc ombud_db_sla_load(struct ombud_db_conn *c, int64_t complaint_id,
                                struct ombud_sla_clock out[2], bool have[2],
                                struct ombud_err *err)
{
    return load(c, complaint_id, false, out, have, err);
}

static enum ombud_rc load(struct ombud_db_conn *c, int64_t complaint_id, bool lock,
                          struct ombud_sla_clock out[2], bool have[2], struct ombud_err *err)
{
    char id[24];
    i64s(id, sizeof id, complaint_id);
    const char *p[] = {id};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, lock ? &q_load_lock : &q_load, 1, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    have[0] = have[1] = false;
    for (int i = 0; i < PQntuples(r); i++) {
        struct ombud_sla_clock k;
        read_clock(r, i, &k);
        out[k.target] = k;
        have[k.target] = true;
    }
    PQclear(r);
    return OMBUD_OK;
}

static struct ombud_db_stmt q_load_many = OMBUD_STMT(
    "SELECT k.complaint_id, " CLOCK_COLS " FROM sla_clocks k JOIN complaints c"
    " ON c.id = k.complaint_id WHERE k.complaint_id = ANY ($1::bigint[])"
    " AND (k.target = 'first_response' AND k.cycle = 1"
    "      OR k.target = 'resolution' AND k.cycle = c.resolution_cycle)");

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
    enum ombud_rc rc = ombud_db_exec(c, &q_load_many, 1, p, &r, err);
    free(ids);
    if (rc != OMBUD_OK)
        return rc;
    for (int row = 0; row < PQntuples(r); row++) {
        int64_t cid = ombud_db_int(r, row, 0);
        struct ombud_sla_clock k;
        read_clock_at(r, row, 1, &k);
        for (size_t i = 0; i < n; i++)
            if (list[i].id == cid) {
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

enum ombud_rc ombud_db_sla_save_clock(struct ombud_db_conn *c, int64_t complaint_id,
                                      const struct ombud_sla_clock *k, struct ombud_err *err);
enum ombud_rc ombud_db_sla_save_clock(struct ombud_db_conn *c, int64_t complaint_id,
                                      const struct ombud_sla_clock *k, struct ombud_err *err)
{
    char v[12][24];
    json_t *w = json_array();
    for (size_t i = 0; i < k->nwarnings; i++)
        json_array_append_new(w, json_pack("{s:i, s:I, s:I, s:I}", "level", k->warnings[i].level,
                                           "threshold", (json_int_t)k->warnings[i].threshold,
                                           "at", (json_int_t)k->warnings[i].at, "raised_at",
                                           (json_int_t)k->warnings[i].raised_at));
    json_t *hist = json_array();
    for (size_t h = 0; h < OMBUD_SLA_MAX_WARNINGS; h++)
        json_array_append_new(hist, json_integer(k->raised_history[h]));
    json_array_append_new(w, json_pack("{s:o}", "history", hist));
    char *wj = json_dumps(w, JSON_COMPACT);
    json_decref(w);
    if (!wj)
        return ombud_err_internal(err, "out of memory");
    i64s(v[0], 24, complaint_id);
    snprintf(v[1], 24, "%d", k->cycle);
    i64s(v[2], 24, k->policy_id);
    i64s(v[3], 24, k->calendar_id);
    i64s(v[4], 24, k->target_seconds);
    i64s(v[5], 24, k->elapsed_seconds);
    i64s(v[6], 24, k->running_since);
    i64s(v[7], 24, k->due_at);
    i64s(v[8], 24, k->met_at);
    i64s(v[9], 24, k->breach_raised_at);
    i64s(v[10], 24, k->next_alert_at);
    const char *p[] = {v[0], ombud_sla_target_name(k->target), v[1], v[2], v[3], v[4], v[5],
                       v[6], v[7], v[8], k->breached ? "true" : "false", v[9], wj, v[10]};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_save, 14, p, &r, err);
    free(wj);
    if (rc != OMBUD_OK)
        return rc;
    PQclear(r);
    return OMBUD_OK;
}

static struct ombud_db_stmt q_notify = OMBUD_STMT("SELECT pg_notify('ombud_sla', '')");
static struct ombud_db_stmt q_next_cycle = OMBUD_STMT(
    "UPDATE complaints SET resolution_cycle = resolution_cycle + 1 WHERE id = $1::bigint"
    " RETURNING resolution_cycle");
static struct ombud_db_stmt q_set_policy = OMBUD_STMT(
    "UPDATE complaints SET sla_policy_id = $2::bigint WHERE id = $1::bigint");

/* Loads and compiles a calendar. */
static enum ombud_rc load_calendar(struct ombud_db_conn *c, int64_t id,
                                   struct ombud_bt_calendar *out, struct ombud_err *err)
{
    struct ombud_calendar cal = {0};
    bool found;
    enum ombud_rc rc;
    if ((rc = ombud_db_calendar_get(c, id, &cal, &found, err)) != OMBUD_OK)
        return rc;
    if (!found)
        return ombud_err_internal(err, "an SLA clock names a missing calendar");
    rc = ombud_calendar_compile(&cal, out, err);
    ombud_calendar_clear(&cal);
    return rc;
}

enum ombud_rc ombud_db_sla_apply(struct ombud_db_conn *c, const struct ombud_complaint *cp,
                                 enum ombud_sla_op op, int64_t now, struct ombud_err *err)
{
    struct ombud_sla_clock k[2];
    bool have[2] = {false, false}, found = false, changed[2] = {false, false};
    struct ombud_sla_policy pol = {0};
    struct ombud_bt_calendar cal = {0}, newcal = {0};
    enum ombud_rc rc = OMBUD_ERROR;
    char id[24], pid[24];

    i64s(id, sizeof id, cp->id);
    if (op == OMBUD_SLA_OP_START || op == OMBUD_SLA_OP_RESELECT || op == OMBUD_SLA_OP_REOPEN) {
        if ((rc = ombud_db_policy_select(c, cp->priority, cp->grade, cp->category, cp->channel,
                                         cp->customer_tier, &pol, &found, err)) != OMBUD_OK)
            goto out;
        if (!found && op != OMBUD_SLA_OP_REOPEN) {
            rc = OMBUD_OK; /* no policy applies: no clocks */
            goto out;
        }
        if (found && (rc = load_calendar(c, pol.calendar_id, &newcal, err)) != OMBUD_OK)
            goto out;
    }
    if (op != OMBUD_SLA_OP_START && (rc = load(c, cp->id, true, k, have, err)) != OMBUD_OK)
        goto out;
    if (op != OMBUD_SLA_OP_START && !have[0] && !have[1] && op != OMBUD_SLA_OP_REOPEN) {
        rc = OMBUD_OK; /* the complaint has no clocks */
        goto out;
    }
    /* The calendar of the existing clocks (both share the policy's). */
    int64_t cal_id = have[1] ? k[1].calendar_id : have[0] ? k[0].calendar_id : 0;
    if (cal_id && (rc = load_calendar(c, cal_id, &cal, err)) != OMBUD_OK)
        goto out;

    switch (op) {
    case OMBUD_SLA_OP_START:
        ombud_sla_clock_start(&k[0], &newcal, &pol, OMBUD_SLA_FIRST_RESPONSE, 1, now);
        ombud_sla_clock_start(&k[1], &newcal, &pol, OMBUD_SLA_RESOLUTION,
                              cp->resolution_cycle ? cp->resolution_cycle : 1, now);
        changed[0] = changed[1] = true;
        break;
    case OMBUD_SLA_OP_PAUSE:
    case OMBUD_SLA_OP_RESUME:
        for (int i = 0; i < 2; i++)
            if (have[i]) {
                if (op == OMBUD_SLA_OP_PAUSE)
                    ombud_sla_clock_pause(&k[i], &cal, now);
                else
                    ombud_sla_clock_resume(&k[i], &cal, now);
                changed[i] = true;
            }
        break;
    case OMBUD_SLA_OP_MEET_RES:
        if (have[1]) {
            ombud_sla_clock_meet(&k[1], &cal, now);
            changed[1] = true;
        }
        /* resolving is also a first response */
        __attribute__((fallthrough));
    case OMBUD_SLA_OP_MEET_FR:
        if (have[0] && !k[0].met_at) {
            ombud_sla_clock_meet(&k[0], &cal, now);
            changed[0] = true;
        }
        break;
    case OMBUD_SLA_OP_STOP:
        for (int i = 0; i < 2; i++)
            if (have[i] && !k[i].met_at && k[i].running_since) {
                ombud_sla_clock_pause(&k[i], &cal, now);
                k[i].next_alert_at = 0;
                changed[i] = true;
            }
        break;
    case OMBUD_SLA_OP_REOPEN: {
        /* A new cycle; the old cycle's clock stays as history. */
        const char *p[] = {id};
        PGresult *r;
        if ((rc = ombud_db_exec(c, &q_next_cycle, 1, p, &r, err)) != OMBUD_OK)
            goto out;
        int cycle = (int)ombud_db_int(r, 0, 0);
        PQclear(r);
        if (found) {
            ombud_sla_clock_start(&k[1], &newcal, &pol, OMBUD_SLA_RESOLUTION, cycle, now);
            have[1] = changed[1] = true;
        }
        break;
    }
    case OMBUD_SLA_OP_RESELECT:
        for (int i = 0; i < 2; i++)
            if (have[i] && k[i].policy_id != pol.id) {
                ombud_sla_clock_reselect(&k[i], &cal, &newcal, &pol, now);
                changed[i] = true;
            }
        break;
    }
    for (int i = 0; i < 2; i++)
        if (changed[i] && (rc = ombud_db_sla_save_clock(c, cp->id, &k[i], err)) != OMBUD_OK)
            goto out;
    if (found && pol.id != cp->sla_policy_id) {
        i64s(pid, sizeof pid, pol.id);
        const char *p[] = {id, pid};
        PGresult *r;
        if ((rc = ombud_db_exec(c, &q_set_policy, 2, p, &r, err)) != OMBUD_OK)
            goto out;
        PQclear(r);
    }
    PGresult *r;
    if ((rc = ombud_db_exec(c, &q_notify, 0, NULL, &r, err)) != OMBUD_OK)
        goto out;
    PQclear(r);
out:
    ombud_sla_policy_clear(&pol);
    ombud_bt_calendar_clear(&cal);
    ombud_bt_calendar_clear(&newcal);
    return rc;
}

/* ---- the worker's pass ---- */

static struct ombud_db_stmt q_due = OMBUD_STMT(
    "SELECT complaint_id, " CLOCK_COLS ", extract(epoch FROM updated_at) FROM sla_clocks"
    " WHERE next_alert_at <= to_timestamp($1::bigint) ORDER BY next_alert_at"
    " LIMIT $2::int FOR UPDATE SKIP LOCKED");
static struct ombud_db_stmt q_alert = OMBUD_STMT(
    "INSERT INTO alerts (kind, level, complaint_id, target, cycle, scheduled_at)"
    " VALUES ($1::text, $2::int, $3::bigint, $4::text, $5::int, to_timestamp($6::bigint))"
    " ON CONFLICT (complaint_id, target, cycle, kind, level) DO NOTHING"
    /* lag: from when the moment was due or, if later, became known */
    " RETURNING id, (extract(epoch FROM created_at - greatest(scheduled_at,"
    " to_timestamp($7::float8))) * 1000)::bigint");
static struct ombud_db_stmt q_next = OMBUD_STMT(
    "SELECT coalesce(extract(epoch FROM min(next_alert_at))::bigint, 0) FROM sla_clocks"
    " WHERE next_alert_at IS NOT NULL");

/* Inserts one alert and, if this process raised it, its timeline event. */
static enum ombud_rc raise_alert(struct ombud_db_conn *c, int64_t complaint_id,
                                 const struct ombud_sla_clock *k, bool breach, int level,
                                 int64_t scheduled, const char *known_at,
                                 struct ombud_sla_tick_stats *st, struct ombud_err *err)
{
    char lv[16], cid[24], cyc[16], sch[24];
    snprintf(lv, sizeof lv, "%d", breach ? 0 : level);
    i64s(cid, sizeof cid, complaint_id);
    snprintf(cyc, sizeof cyc, "%d", k->cycle);
    i64s(sch, sizeof sch, scheduled);
    const char *p[] = {breach ? "sla_breach" : "sla_warning", lv, cid,
                       ombud_sla_target_name(k->target), cyc, sch, known_at};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_alert, 7, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    bool mine = PQntuples(r) == 1;
    int64_t alert_id = mine ? ombud_db_int(r, 0, 0) : 0;
    int64_t lag = mine ? ombud_db_int(r, 0, 1) : 0;
    PQclear(r);
    if (!mine)
        return OMBUD_OK; /* raised already, by this or another process */
    st->raised++;
    st->lag_sum_ms += lag;
    if (lag > st->lag_max_ms)
        st->lag_max_ms = lag;
    char sched[OMBUD_TIME_BUFLEN];
    ombud_time_format(scheduled * 1000000, sched);
    json_t *d = json_pack("{s:I, s:s, s:i, s:s}", "alert_id", (json_int_t)alert_id, "target",
                          ombud_sla_target_name(k->target), "cycle", k->cycle, "scheduled_at",
                          sched);
    if (!breach)
        json_object_set_new(d, "level", json_integer(level));
    char *data = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    struct ombud_actor system = {0, "system", 0};
    rc = ombud_db_event_add(c, complaint_id, breach ? "sla_breached" : "sla_warning", &system,
                            data, err);
    free(data);
    return rc;
}

enum ombud_rc ombud_db_sla_tick(struct ombud_db_conn *c, int64_t now, int limit,
                                struct ombud_sla_tick_stats *st, struct ombud_err *err)
{
    char nows[24], lim[16];
    enum ombud_rc rc = OMBUD_ERROR;
    PGresult *r = NULL;
    struct {
        int64_t id;
        struct ombud_bt_calendar cal;
    } cache[8];
    size_t ncache = 0;

    memset(st, 0, sizeof *st);
    if ((rc = ombud_db_simple(c, "BEGIN", err)) != OMBUD_OK)
        return rc;
    i64s(nows, sizeof nows, now);
    snprintf(lim, sizeof lim, "%d", limit);
    const char *p[] = {nows, lim};
    if ((rc = ombud_db_exec(c, &q_due, 2, p, &r, err)) != OMBUD_OK)
        goto out;
    for (int i = 0; i < PQntuples(r); i++) {
        struct ombud_sla_clock k;
        int64_t complaint_id = ombud_db_int(r, i, 0);
        read_clock_at(r, i, 1, &k); /* CLOCK_COLS follow complaint_id */
        const struct ombud_bt_calendar *cal = NULL;
        for (size_t j = 0; j < ncache; j++)
            if (cache[j].id == k.calendar_id)
                cal = &cache[j].cal;
        if (!cal) {
            if (ncache == sizeof cache / sizeof cache[0]) {
                for (size_t j = 0; j < ncache; j++)
                    ombud_bt_calendar_clear(&cache[j].cal);
                ncache = 0;
            }
            if ((rc = load_calendar(c, k.calendar_id, &cache[ncache].cal, err)) != OMBUD_OK)
                goto out;
            cache[ncache].id = k.calendar_id;
            cal = &cache[ncache++].cal;
        }
        int levels[OMBUD_SLA_MAX_WARNINGS];
        int64_t at[OMBUD_SLA_MAX_WARNINGS];
        for (size_t w = 0; w < k.nwarnings; w++)
            at[w] = k.warnings[w].at;
        int64_t due = k.due_at;
        bool breach;
        size_t n = ombud_sla_clock_fire(&k, now, levels, &breach);
        const char *known_at = PQgetvalue(r, i, 14); /* the clock's last change */
        if (breach && (rc = raise_alert(c, complaint_id, &k, true, 0, due, known_at, st, err)) !=
                          OMBUD_OK)
            goto out;
        for (size_t j = 0; j < n; j++)
            if ((rc = raise_alert(c, complaint_id, &k, false, levels[j], at[levels[j] - 1],
                                  known_at, st, err)) != OMBUD_OK)
                goto out;
        ombud_sla_clock_plan(&k, cal, now);
        if ((rc = ombud_db_sla_save_clock(c, complaint_id, &k, err)) != OMBUD_OK)
            goto out;
        st->clocks++;
    }
    PQclear(r);
    r = NULL;
    rc = ombud_db_simple(c, "COMMIT", err);
out:
    PQclear(r);
    if (rc != OMBUD_OK && ombud_db_conn_ok(c))
        ombud_db_rollback(c);
    for (size_t j = 0; j < ncache; j++)
        ombud_bt_calendar_clear(&cache[j].cal);
    return rc;
}

enum ombud_rc ombud_db_sla_next(struct ombud_db_conn *c, int64_t *next, struct ombud_err *err)
{
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_next, 0, NULL, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *next = ombud_db_int(r, 0, 0);
    PQclear(r);
    return OMBUD_OK;
}
