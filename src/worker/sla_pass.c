/*
 * The SLA worker's pass: what is due is raised once, then replanned.
 * DESIGN: one transaction (ombud_tx_run_on, on the worker's own
 * connection) claims the due clocks FOR UPDATE SKIP LOCKED, so processes
 * share the work without waiting on each other. For each clock the
 * domain says which alerts it owes (ombud_sla_clock_take_due); each is
 * inserted under the alerts' unique key (complaint, target, cycle, kind,
 * level), so whoever inserts it first, in any process, also writes its
 * timeline event, and a pass that lost a race writes nothing. The clock
 * is replanned (ombud_sla_clock_plan) and saved in the same transaction:
 * if the pass fails nothing is marked raised, and the next pass (or
 * another process, or this one after a restart) finds the clock due again.
 * At debug level each pass logs what it cost (claim query, whole pass with
 * its commit), which bench/worker_lag.sh reads to measure the worker at
 * scale.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ombud/db/complaints.h"
#include "ombud/db/sla.h"
#include "ombud/log.h"
#include "ombud/repr.h"
#include "ombud/service/rules.h"
#include "ombud/sla.h"
#include "ombud/sla_worker.h"

/* Calendars are few and shared by many clocks: keep some compiled. */
#define CAL_CACHE 8

struct pass {
    int64_t now;
    int limit;
    struct ombud_sla_pass_stats *st;
    struct {
        int64_t id;
        struct ombud_bt_calendar cal;
    } cache[CAL_CACHE];
    size_t ncache;
    int64_t claim_us; /* the claim query's time, last attempt */
    int64_t done_us;  /* when the last attempt's statements were done (mono_us) */
};

/* Monotonic microseconds: durations, immune to wall-clock steps. */
static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void cache_clear(struct pass *x)
{
    for (size_t j = 0; j < x->ncache; j++)
        ombud_bt_calendar_clear(&x->cache[j].cal);
    x->ncache = 0;
}

static enum ombud_rc calendar(struct ombud_db_conn *c, struct pass *x, int64_t id,
                              const struct ombud_bt_calendar **out, struct ombud_err *err)
{
    for (size_t j = 0; j < x->ncache; j++)
        if (x->cache[j].id == id) {
            *out = &x->cache[j].cal;
            return OMBUD_OK;
        }
    if (x->ncache == CAL_CACHE)
        cache_clear(x);
    enum ombud_rc rc = ombud_db_sla_calendar(c, id, &x->cache[x->ncache].cal, err);
    if (rc != OMBUD_OK)
        return rc;
    x->cache[x->ncache].id = id;
    *out = &x->cache[x->ncache++].cal;
    return OMBUD_OK;
}

/* Inserts one alert and, if this process raised it, its timeline event. */
static enum ombud_rc raise_alert(struct ombud_db_conn *c, struct pass *x,
                                 const struct ombud_sla_claim *cl,
                                 const struct ombud_sla_due_alert *a, struct ombud_err *err)
{
    int64_t alert_id, lag;
    enum ombud_rc rc = ombud_db_sla_alert_insert(c, cl->complaint_id, &cl->clock, a, cl->changed_at,
                                                 &alert_id, &lag, err);
    if (rc != OMBUD_OK)
        return rc;
    if (!alert_id)
        return OMBUD_OK; /* raised already, by this or another process */
    x->st->raised++;
    x->st->lag_sum_ms += lag;
    if (lag > x->st->lag_max_ms)
        x->st->lag_max_ms = lag;
    char *data = ombud_repr_sla_alert_event(alert_id, &cl->clock, a);
    if (!data)
        return ombud_err_internal(err, "out of memory");
    struct ombud_actor system = {.role = "system"};
    rc = ombud_db_event_add(c, cl->complaint_id, a->breach ? "sla_breached" : "sla_warning",
                            &system, data, err);
    free(data);
    if (rc != OMBUD_OK)
        return rc;
    /* Escalation rules on this alert are scheduled with it, exactly once. */
    return ombud_svc_rules_on_alert(c, cl->complaint_id, a->breach, cl->clock.target,
                                    cl->clock.cycle, a->scheduled, cl->clock.calendar_id, err);
}

static enum ombud_rc pass_tx(struct ombud_db_conn *c, void *ctx, struct ombud_err *err)
{
    struct pass *x = ctx;
    struct ombud_sla_claim *due = NULL;
    size_t n = 0;
    enum ombud_rc rc;

    /* Every failure keeps its code: OMBUD_RETRY must reach the runner. */
    memset(x->st, 0, sizeof *x->st); /* a retried pass counts afresh */
    int64_t t0 = mono_us();
    rc = ombud_db_sla_claim_due(c, x->now, x->limit, &due, &n, err);
    x->claim_us = mono_us() - t0;
    if (rc != OMBUD_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        struct ombud_sla_claim *cl = &due[i];
        const struct ombud_bt_calendar *cal;
        if ((rc = calendar(c, x, cl->clock.calendar_id, &cal, err)) != OMBUD_OK)
            goto out;
        struct ombud_sla_due_alert alerts[OMBUD_SLA_MAX_WARNINGS + 1];
        size_t na = ombud_sla_clock_take_due(&cl->clock, x->now, alerts);
        for (size_t j = 0; j < na; j++)
            if ((rc = raise_alert(c, x, cl, &alerts[j], err)) != OMBUD_OK)
                goto out;
        ombud_sla_clock_plan(&cl->clock, cal, x->now);
        rc = ombud_db_sla_save_clock(c, cl->complaint_id, &cl->clock, err);
        if (rc != OMBUD_OK)
            goto out;
        x->st->clocks++;
    }
out:
    free(due);
    x->done_us = mono_us();
    return rc;
}

enum ombud_rc ombud_sla_pass_run(struct ombud_db_conn *c, int64_t now, int limit,
                                 struct ombud_sla_pass_stats *st, struct ombud_err *err)
{
    struct pass x = {.now = now, .limit = limit, .st = st, .ncache = 0};
    memset(st, 0, sizeof *st);
    int64_t t0 = mono_us();
    enum ombud_rc rc = ombud_tx_run_on(c, pass_tx, &x, err);
    int64_t end = mono_us();
    cache_clear(&x);
    /* The commit is apart: it waits for the WAL flush, which a busy disk
     * can stretch whatever the number of clocks. */
    if (rc == OMBUD_OK && ombud_log_enabled(OMBUD_LOG_DEBUG))
        ombud_log(OMBUD_LOG_DEBUG, "sla_pass",
                  "pass: %zu clocks, %zu alerts, claim %.3f ms, pass %.3f ms, commit %.3f ms",
                  st->clocks, st->raised, (double)x.claim_us / 1000.0, (double)(end - t0) / 1000.0,
                  (double)(end - x.done_us) / 1000.0);
    return rc;
}
