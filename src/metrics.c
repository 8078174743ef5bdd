/*
 * Metrics. DESIGN: a fixed table of (route, status) counters found by a
 * linear probe over routes (tens) and a fixed list of statuses; anything
 * unusual lands in an "other" column. Fixed storage means no allocation
 * and no lock when counting.
 */
#include "ombud/metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ombud/db/pool.h"
#include "ombud/http.h"
#include "ombud/outbound.h"
#include "ombud/service/complaint.h"
#include "ombud/sla_worker.h"

static const int statuses[] = {0,   200, 201, 204, 304, 400, 401, 403, 404, 405,
                               409, 412, 413, 415, 422, 429, 500, 503, -1};
#define NSTATUS (sizeof statuses / sizeof statuses[0])
#define MAX_ROUTES 128
static const double buckets_ms[] = {1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000};
#define NBUCKETS (sizeof buckets_ms / sizeof buckets_ms[0])

static atomic_ulong counts[MAX_ROUTES + 1][NSTATUS];
static atomic_ulong hist[NBUCKETS + 1];
static atomic_ulong hist_count;
static atomic_ullong hist_sum_us;

static size_t route_index(const char *route)
{
    for (size_t i = 0; i < ombud_nroutes && i < MAX_ROUTES; i++)
        if (strcmp(ombud_routes[i].name, route) == 0)
            return i;
    return MAX_ROUTES; /* unmatched */
}

static size_t status_index(int status)
{
    for (size_t i = 0; i + 1 < NSTATUS; i++)
        if (statuses[i] == status)
            return i;
    return NSTATUS - 1;
}

void ombud_metrics_request(const char *route, int status, int64_t duration_us)
{
    atomic_fetch_add(&counts[route_index(route)][status_index(status)], 1);
    if (duration_us < 0)
        return; /* not timed (a stream) */
    double ms = (double)duration_us / 1000.0;
    size_t b = 0;
    while (b < NBUCKETS && ms > buckets_ms[b])
        b++;
    atomic_fetch_add(&hist[b], 1);
    atomic_fetch_add(&hist_count, 1);
    atomic_fetch_add(&hist_sum_us, duration_us > 0 ? (unsigned long long)duration_us : 0);
}

struct buf {
    char *p;
    size_t len, cap;
    int failed;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    if (b->failed)
        return;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)n;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->failed = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
}

char *ombud_metrics_render(struct ombud_db_pool *pool, size_t *len)
{
    struct buf b = {malloc(8192), 0, 8192, 0};
    if (!b.p)
        return NULL;
    b.p[0] = '\0';
    put(&b, "# HELP ombud_http_requests_total HTTP requests by route and status.\n"
            "# TYPE ombud_http_requests_total counter\n");
    for (size_t r = 0; r <= MAX_ROUTES; r++) {
        if (r < MAX_ROUTES && r >= ombud_nroutes)
            continue;
        const char *name = r < MAX_ROUTES ? ombud_routes[r].name : "unmatched";
        for (size_t s = 0; s < NSTATUS; s++) {
            unsigned long v = atomic_load(&counts[r][s]);
            if (!v)
                continue;
            if (statuses[s] < 0)
                put(&b, "ombud_http_requests_total{route=\"%s\",status=\"other\"} %lu\n", name, v);
            else
                put(&b, "ombud_http_requests_total{route=\"%s\",status=\"%d\"} %lu\n", name,
                    statuses[s], v);
        }
    }
    put(&b, "# HELP ombud_http_request_duration_seconds Time from first byte to reply.\n"
            "# TYPE ombud_http_request_duration_seconds histogram\n");
    unsigned long cum = 0;
    for (size_t i = 0; i < NBUCKETS; i++) {
        cum += atomic_load(&hist[i]);
        put(&b, "ombud_http_request_duration_seconds_bucket{le=\"%g\"} %lu\n",
            buckets_ms[i] / 1000.0, cum);
    }
    cum += atomic_load(&hist[NBUCKETS]);
    put(&b, "ombud_http_request_duration_seconds_bucket{le=\"+Inf\"} %lu\n", cum);
    put(&b, "ombud_http_request_duration_seconds_sum %.6f\n",
        (double)atomic_load(&hist_sum_us) / 1e6);
    put(&b, "ombud_http_request_duration_seconds_count %lu\n", atomic_load(&hist_count));
    if (pool) {
        struct ombud_db_pool_stats st;
        ombud_db_pool_get_stats(pool, &st);
        put(&b,
            "# HELP ombud_db_pool_size Database connections the pool may hold.\n"
            "# TYPE ombud_db_pool_size gauge\nombud_db_pool_size %zu\n"
            "# HELP ombud_db_pool_in_use Connections checked out now.\n"
            "# TYPE ombud_db_pool_in_use gauge\nombud_db_pool_in_use %zu\n"
            "# HELP ombud_db_pool_connected Connections open now.\n"
            "# TYPE ombud_db_pool_connected gauge\nombud_db_pool_connected %zu\n"
            "# HELP ombud_db_pool_checkouts_total Checkouts so far.\n"
            "# TYPE ombud_db_pool_checkouts_total counter\nombud_db_pool_checkouts_total %llu\n"
            "# HELP ombud_db_pool_timeouts_total Checkouts that timed out (503).\n"
            "# TYPE ombud_db_pool_timeouts_total counter\nombud_db_pool_timeouts_total %llu\n",
            st.size, st.in_use, st.connected, (unsigned long long)st.checkouts,
            (unsigned long long)st.timeouts);
    }
    struct ombud_gate_stats g;
    ombud_gate_stats(&g);
    put(&b,
        "# HELP ombud_db_gate_permits Threads that may wait on the database at once (one each).\n"
        "# TYPE ombud_db_gate_permits gauge\nombud_db_gate_permits %u\n"
        "# HELP ombud_db_gate_in_use Requests running database work now.\n"
        "# TYPE ombud_db_gate_in_use gauge\nombud_db_gate_in_use %u\n"
        "# HELP ombud_db_gate_waiting Requests queued for database work now.\n"
        "# TYPE ombud_db_gate_waiting gauge\nombud_db_gate_waiting %u\n"
        "# HELP ombud_db_gate_waited_total Requests that had to queue for database work.\n"
        "# TYPE ombud_db_gate_waited_total counter\nombud_db_gate_waited_total %llu\n"
        "# HELP ombud_db_gate_expired_total Requests answered 503 at their deadline in the "
        "queue.\n"
        "# TYPE ombud_db_gate_expired_total counter\nombud_db_gate_expired_total %llu\n"
        "# HELP ombud_db_gate_stalled 1 while the database is stalled and a thread is kept out "
        "of it.\n"
        "# TYPE ombud_db_gate_stalled gauge\nombud_db_gate_stalled %d\n"
        "# HELP ombud_db_gate_stalls_total Database stalls seen (each freed a thread by "
        "cancelling a request).\n"
        "# TYPE ombud_db_gate_stalls_total counter\nombud_db_gate_stalls_total %llu\n"
        "# HELP ombud_db_statements_cancelled_total Statements cancelled at their request's "
        "deadline.\n"
        "# TYPE ombud_db_statements_cancelled_total counter\n"
        "ombud_db_statements_cancelled_total %llu\n",
        g.permits, g.in_use, g.waiting, g.waited, g.expired, g.stalled ? 1 : 0, g.stalls,
        ombud_db_deadline_cancels());
    put(&b,
        "# HELP ombud_streams_open Open GET /v1/stream responses.\n"
        "# TYPE ombud_streams_open gauge\nombud_streams_open %zu\n",
        ombud_http_open_streams());
    struct ombud_http_conn_stats cs;
    ombud_http_conn_stats(&cs);
    put(&b,
        "# HELP ombud_http_connections_open HTTP connections open now.\n"
        "# TYPE ombud_http_connections_open gauge\nombud_http_connections_open %ld\n"
        "# HELP ombud_http_connections_slow_closed_total Connections closed for not sending a "
        "request head or body by its deadline.\n"
        "# TYPE ombud_http_connections_slow_closed_total counter\n"
        "ombud_http_connections_slow_closed_total %lu\n"
        "# HELP ombud_http_connections_over_cap_total Connections that came in over "
        "OMBUD_CONN_LIMIT (answered 503).\n"
        "# TYPE ombud_http_connections_over_cap_total counter\n"
        "ombud_http_connections_over_cap_total %lu\n",
        cs.open, cs.slow_closed, cs.over_cap);
    unsigned long long unlocked, relocked;
    ombud_svc_complaint_change_stats(&unlocked, &relocked);
    put(&b,
        "# HELP ombud_complaint_actions_unlocked_total Actions written without a lock (the"
        " complaint read with its row version, the change written if the row was still it).\n"
        "# TYPE ombud_complaint_actions_unlocked_total counter\n"
        "ombud_complaint_actions_unlocked_total %llu\n"
        "# HELP ombud_complaint_actions_relocked_total Actions run again with the complaint"
        " locked: the row changed in between, or the action had more to do than its write.\n"
        "# TYPE ombud_complaint_actions_relocked_total counter\n"
        "ombud_complaint_actions_relocked_total %llu\n",
        unlocked, relocked);
    struct ombud_sla_worker_status w;
    ombud_sla_worker_status(&w);
    put(&b,
        "# HELP ombud_sla_alerts_raised_total SLA alerts this process raised.\n"
        "# TYPE ombud_sla_alerts_raised_total counter\nombud_sla_alerts_raised_total %lld\n"
        "# HELP ombud_sla_worker_lag_seconds Raise time minus due moment of the latest alert.\n"
        "# TYPE ombud_sla_worker_lag_seconds gauge\nombud_sla_worker_lag_seconds %.3f\n"
        "# HELP ombud_sla_worker_lag_max_seconds Largest lag seen by this process.\n"
        "# TYPE ombud_sla_worker_lag_max_seconds gauge\nombud_sla_worker_lag_max_seconds %.3f\n"
        "# HELP ombud_sla_worker_connected Whether the worker has its database connection.\n"
        "# TYPE ombud_sla_worker_connected gauge\nombud_sla_worker_connected %d\n",
        (long long)w.alerts_raised, (double)w.lag_last_ms / 1000.0, (double)w.lag_max_ms / 1000.0,
        w.connected ? 1 : 0);
    struct ombud_webhook_stats wh;
    ombud_webhook_sender_stats(&wh);
    put(&b,
        "# HELP ombud_webhook_attempts_total Webhook delivery attempts this process made, by "
        "outcome (delivered: 2xx; retry: to be tried again; failed: given up; gone: 410, endpoint "
        "disabled).\n"
        "# TYPE ombud_webhook_attempts_total counter\n"
        "ombud_webhook_attempts_total{outcome=\"delivered\"} %lld\n"
        "ombud_webhook_attempts_total{outcome=\"retry\"} %lld\n"
        "ombud_webhook_attempts_total{outcome=\"failed\"} %lld\n"
        "ombud_webhook_attempts_total{outcome=\"gone\"} %lld\n"
        "# HELP ombud_webhook_refused_total Attempts refused on the address connected to.\n"
        "# TYPE ombud_webhook_refused_total counter\nombud_webhook_refused_total %lld\n"
        "# HELP ombud_webhook_queue_depth Pending deliveries to active endpoints (all "
        "processes).\n"
        "# TYPE ombud_webhook_queue_depth gauge\nombud_webhook_queue_depth %lld\n"
        "# HELP ombud_webhook_oldest_pending_age_seconds Age of the oldest pending delivery.\n"
        "# TYPE ombud_webhook_oldest_pending_age_seconds gauge\n"
        "ombud_webhook_oldest_pending_age_seconds %lld\n"
        "# HELP ombud_webhook_in_flight Webhook requests this process has open now.\n"
        "# TYPE ombud_webhook_in_flight gauge\nombud_webhook_in_flight %lld\n",
        (long long)wh.delivered, (long long)wh.retried, (long long)wh.failed, (long long)wh.gone,
        (long long)wh.refused, (long long)wh.queue_depth, (long long)wh.oldest_age_s,
        (long long)wh.in_flight);
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}
