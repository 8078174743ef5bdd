/*
 * The SLA worker thread. DESIGN: its own connection (outside the pool,
 * because LISTEN belongs to a session) listens on ombud_sla. Each pass
 * (sla_pass.c) claims the clocks whose next_alert_at has come, through
 * the partial index on next_alert_at and FOR UPDATE SKIP LOCKED, so
 * processes share the work without waiting on each other; the alerts'
 * unique key (complaint, target, cycle, kind, level) makes each alert
 * exactly-once even when two passes race. Between passes it sleeps until the earliest next_alert_at
 * (at most MAX_SLEEP_MS) or until a NOTIFY says a clock changed.
 * NOTIFY is lost while disconnected, so after reconnecting it LISTENs
 * again and rescans: the table is the truth. Signals stay blocked in this
 * thread (the main thread blocks them before starting it).
 */
#include "ombud/sla_worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ombud/db/pool.h"
#include "ombud/db/sla.h"
#include "ombud/log.h"
#include "ombud/service/inval.h"
#include "ombud/timefmt.h"

#define BATCH 200
#define MAX_SLEEP_MS 5000

static pthread_t thread;
static bool started;
static char *db_url;
static int wake_pipe[2] = {-1, -1};
static atomic_bool stopping;
static atomic_bool running, connected;
static atomic_llong last_tick_us, alerts_raised, lag_last_ms, lag_max_ms;

static void nap(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The cache invalidation topics (service/inval.h) arrive on this
 * connection too: listening on them is what lets caches be used. */
static enum ombud_rc listen_inval(struct ombud_db_conn *c, struct ombud_err *err)
{
    for (unsigned t = 0; t < OMBUD_INVAL_TOPICS; t++) {
        enum ombud_rc rc =
            ombud_db_listen_channel(c, ombud_inval_channel((enum ombud_inval_topic)t), err);
        if (rc != OMBUD_OK)
            return rc;
    }
    return OMBUD_OK;
}

static void on_notify(const char *channel)
{
    enum ombud_inval_topic t;
    if (ombud_inval_topic_of(channel, &t))
        ombud_inval_bump(t);
}

static void *run(void *arg)
{
    struct ombud_db_conn *c = NULL;
    struct ombud_err err;
    int backoff = 100;

    atomic_store(&running, true);
    while (!atomic_load(&stopping)) {
        if (!c || !ombud_db_conn_ok(c)) {
            ombud_db_conn_close(c);
            atomic_store(&connected, false);
            ombud_err_clear(&err);
            ombud_inval_set_listening(false);
            c = ombud_db_conn_open(db_url, &err);
            if (c && (ombud_db_listen(c, &err) != OMBUD_OK || listen_inval(c, &err) != OMBUD_OK)) {
                ombud_db_conn_close(c);
                c = NULL;
            }
            if (!c) {
                nap(backoff);
                backoff = backoff < 2000 ? backoff * 2 : 2000;
                continue;
            }
            backoff = 100;
            /* Notifications sent while we were away are lost: every cache
             * starts again. */
            ombud_inval_bump_all();
            ombud_inval_set_listening(true);
            atomic_store(&connected, true);
            ombud_log(OMBUD_LOG_INFO, "sla_worker", "%s", "connected; rescanning clocks");
        }
        struct ombud_sla_pass_stats st;
        int64_t now_us = ombud_time_now();
        ombud_err_clear(&err);
        if (ombud_sla_pass_run(c, now_us / 1000000, BATCH, &st, &err) != OMBUD_OK) {
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
        if (st.clocks == BATCH)
            continue; /* more are due */
        int64_t next = 0;
        int timeout = MAX_SLEEP_MS;
        if (ombud_db_sla_next(c, &next, &err) == OMBUD_OK && next) {
            int64_t ms = (next * 1000000 - ombud_time_now()) / 1000 + 5;
            timeout = ms < 0 ? 0 : ms > MAX_SLEEP_MS ? MAX_SLEEP_MS : (int)ms;
        }
        /* Due clocks another process holds (SKIP LOCKED passed them by) are
         * its to finish: wait briefly instead of spinning until it commits. */
        if (timeout == 0 && st.clocks == 0)
            timeout = 20;
        if (timeout > 0 && ombud_db_wait_notify(c, timeout, wake_pipe[0], on_notify) < 0)
            ombud_log(OMBUD_LOG_WARN, "sla_worker", "%s", "database connection lost");
    }
    ombud_inval_set_listening(false);
    ombud_db_conn_close(c);
    atomic_store(&connected, false);
    atomic_store(&running, false);
    return NULL;
}

enum ombud_rc ombud_sla_worker_start(const char *url, struct ombud_err *err)
{
    db_url = strdup(url);
    if (!db_url || pipe(wake_pipe) != 0)
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
    ssize_t w = write(wake_pipe[1], "x", 1);
    (void)w;
    pthread_join(thread, NULL);
    close(wake_pipe[0]);
    close(wake_pipe[1]);
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
