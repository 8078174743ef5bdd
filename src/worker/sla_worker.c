/*
 * The SLA worker thread. DESIGN: its own connection (outside the pool,
 * because LISTEN belongs to a session). Each pass (sla_pass.c) claims the
 * clocks whose next_alert_at has come, through the partial index on
 * next_alert_at and FOR UPDATE SKIP LOCKED, so processes share the work
 * without waiting on each other; the alerts' unique key (complaint,
 * target, cycle, kind, level) makes each alert exactly-once even when two
 * passes race.
 *
 * Between passes it reads the earliest next_alert_at (one index probe)
 * (or the earliest due run of an escalation rule, which it fires after
 * each pass, one transaction each: service/rules.h)
 * and sleeps until then, but never longer than MAX_SLEEP_MS: writes do
 * not notify, so that read, repeated, is how a process learns of moments
 * another process wrote (and one whose writer died), within a second. A
 * pass runs when something is due, or when woken: in-process by a write
 * that brought a moment before the planned wake-up (service/sla_wake.h),
 * or by NOTIFY ombud_sla from anyone who wants the workers to look now
 * (the tests, after moving the clock). A read that finds nothing due at
 * now counts as a pass (an empty one) for last_pass_at.
 *
 * The wake-up plan and the pipe: each round drains the pipe, plans the
 * longest sleep (now + MAX_SLEEP_MS) before it reads, then plans the
 * sleep it chose. A write committing after the read with a moment before
 * the plan it sees wakes the worker; one that sees 0 (another write woke
 * it and that byte is not drained yet) is covered by the next round's
 * read, which comes after the drain.
 *
 * The same connection listens on every cache-invalidation channel
 * (service/inval.h) and bumps the topic of each notification. While it is
 * down notifications are lost: caches are bypassed (listening false) and
 * every topic is bumped when it is lost and again once it LISTENs anew;
 * clocks are rescanned then too (the table is the truth). Signals stay
 * blocked in this thread (the main thread blocks them before starting it).
 */
#include "ombud/sla_worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ombud/db/pool.h"
#include "ombud/db/sla.h"
#include "ombud/log.h"
#include "ombud/service/inval.h"
#include "ombud/service/rules.h"
#include "ombud/service/sla_wake.h"
#include "ombud/timefmt.h"

#define BATCH 200
#define MAX_SLEEP_MS 1000
#define SLA_CHANNEL "ombud_sla"

static pthread_t thread;
static bool started;
static char *db_url;
static atomic_bool stopping;
static atomic_bool running, connected;
static atomic_llong last_tick_us, alerts_raised, lag_last_ms, lag_max_ms;

static void nap(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A notification: a cache topic's is a bump, ombud_sla's a wake-up. */
static bool on_notify(const char *channel, void *arg)
{
    enum ombud_inval_topic t;
    (void)arg;
    if (ombud_inval_topic_of(channel, &t)) {
        ombud_inval_bump(t);
        return false;
    }
    return true;
}

/* Opens the connection and LISTENs on every channel; NULL when it fails. */
static struct ombud_db_conn *connect_listening(void)
{
    struct ombud_err err;
    char app[64];
    /* The pid tells the workers of several processes apart in pg_stat_activity. */
    snprintf(app, sizeof app, "ombud sla worker %ld", (long)getpid());
    ombud_err_clear(&err);
    struct ombud_db_conn *c = ombud_db_conn_open(db_url, app, &err);
    bool ok = c && ombud_db_listen(c, SLA_CHANNEL, &err) == OMBUD_OK;
    for (unsigned t = 0; ok && t < OMBUD_INVAL_TOPICS; t++)
        ok = ombud_db_listen(c, ombud_inval_channel((enum ombud_inval_topic)t), &err) == OMBUD_OK;
    if (!ok) {
        ombud_db_conn_close(c);
        return NULL;
    }
    /* Whatever changed while no one listened: no cached entry survives. */
    ombud_inval_bump_all();
    ombud_inval_set_listening(true);
    return c;
}

/* The connection is gone: notifications stop, so caches stop too. */
static void lost(void)
{
    ombud_inval_set_listening(false);
    ombud_inval_bump_all();
    ombud_sla_wake_plan(0);
    atomic_store(&connected, false);
}

static void *run(void *arg)
{
    struct ombud_db_conn *c = NULL;
    struct ombud_err err;
    int backoff = 100;
    bool pass_wanted = true;

    (void)arg;
    atomic_store(&running, true);
    while (!atomic_load(&stopping)) {
        if (!c || !ombud_db_conn_ok(c)) {
            lost();
            ombud_db_conn_close(c);
            c = connect_listening();
            if (!c) {
                nap(backoff);
                backoff = backoff < 2000 ? backoff * 2 : 2000;
                continue;
            }
            backoff = 100;
            pass_wanted = true;
            atomic_store(&connected, true);
            ombud_log(OMBUD_LOG_INFO, "sla_worker", "%s", "connected; rescanning clocks");
        }
        ombud_sla_wake_drain();
        ombud_sla_wake_plan(ombud_time_now() + MAX_SLEEP_MS * 1000LL);

        bool passed = false;
        size_t rules_fired = 0;
        struct ombud_sla_pass_stats st = {0};
        if (pass_wanted) {
            ombud_err_clear(&err);
            if (ombud_sla_pass_run(c, ombud_time_now() / 1000000, BATCH, &st, &err) != OMBUD_OK) {
                if (ombud_db_conn_ok(c)) {
                    ombud_log(OMBUD_LOG_WARN, "sla_worker", "pass failed: %s", err.detail);
                    nap(200);
                }
                continue; /* reconnects above when the connection is gone */
            }
            atomic_store(&last_tick_us, ombud_time_now());
            if (st.raised) {
                atomic_fetch_add(&alerts_raised, (long long)st.raised);
                atomic_store(&lag_last_ms, st.lag_max_ms);
                if (st.lag_max_ms > atomic_load(&lag_max_ms))
                    atomic_store(&lag_max_ms, st.lag_max_ms);
                ombud_log(OMBUD_LOG_DEBUG, "sla_worker", "raised %zu alerts (max lag %lld ms)",
                          st.raised, (long long)st.lag_max_ms);
            }
            /* Then the escalation rules' due runs, one transaction each. */
            size_t fired = 0;
            for (bool done = true; done && fired < BATCH && !atomic_load(&stopping);) {
                ombud_err_clear(&err);
                if (ombud_svc_rules_run_due(c, ombud_time_now() / 1000000, &done, &err) !=
                    OMBUD_OK) {
                    ombud_log(OMBUD_LOG_WARN, "sla_worker", "escalation rule failed: %s",
                              err.detail);
                    break;
                }
                fired += done;
            }
            rules_fired = fired;
            pass_wanted = st.clocks == BATCH || fired == BATCH; /* more are due */
            if (pass_wanted)
                continue;
            passed = true;
        }

        int64_t next = 0, now = ombud_time_now();
        ombud_err_clear(&err);
        if (ombud_db_sla_next(c, &next, &err) != OMBUD_OK) {
            if (ombud_db_conn_ok(c)) {
                ombud_log(OMBUD_LOG_WARN, "sla_worker", "reading the next moment failed: %s",
                          err.detail);
                nap(200);
            }
            continue;
        }
        int timeout = MAX_SLEEP_MS;
        int64_t plan = 0; /* the moment the sleep ends for */
        if (next && next * 1000000 <= now) {
            /* Due. Right after a pass that found nothing, the due clocks are
             * another process's (SKIP LOCKED passed them by): wait briefly
             * for it to commit instead of spinning. */
            if (!passed || st.clocks > 0 || rules_fired > 0) {
                pass_wanted = true;
                continue;
            }
            timeout = 20;
        } else {
            if (!passed)
                atomic_store(&last_tick_us, now); /* nothing due at now: an empty pass */
            if (next) {
                int64_t ms = (next * 1000000 - now) / 1000 + 5;
                timeout = ms > MAX_SLEEP_MS ? MAX_SLEEP_MS : (int)ms;
                if (timeout < MAX_SLEEP_MS)
                    plan = next * 1000000; /* a write of that same moment needs no wake */
            }
        }
        ombud_sla_wake_plan(plan ? plan : now + timeout * 1000LL);
        int w = ombud_db_wait(c, timeout, ombud_sla_wake_fd(), on_notify, NULL);
        if (w < 0)
            ombud_log(OMBUD_LOG_WARN, "sla_worker", "%s", "database connection lost");
        else if (w > 0)
            pass_wanted = true;
    }
    lost();
    ombud_db_conn_close(c);
    atomic_store(&running, false);
    return NULL;
}

enum ombud_rc ombud_sla_worker_start(const char *url, struct ombud_err *err)
{
    db_url = strdup(url);
    if (!db_url || ombud_sla_wake_open(err) != OMBUD_OK)
        return ombud_err_internal(err, "cannot start the SLA worker");
    atomic_store(&stopping, false);
    if (pthread_create(&thread, NULL, run, NULL) != 0)
        return ombud_err_internal(err, "cannot start the SLA worker thread");
    started = true;
    return OMBUD_OK;
}

void ombud_sla_worker_stop(void)
{
    if (!started)
        return;
    atomic_store(&stopping, true);
    ombud_sla_wake_now();
    pthread_join(thread, NULL);
    ombud_sla_wake_close();
    free(db_url);
    db_url = NULL;
    started = false;
}

void ombud_sla_worker_status(struct ombud_sla_worker_status *out)
{
    out->running = atomic_load(&running);
    out->connected = atomic_load(&connected);
    out->last_tick_us = atomic_load(&last_tick_us);
    out->alerts_raised = atomic_load(&alerts_raised);
    out->lag_last_ms = atomic_load(&lag_last_ms);
    out->lag_max_ms = atomic_load(&lag_max_ms);
}
