/*
 * HTTP layer, as the rest of the program sees it: start and stop the
 * libmicrohttpd daemon, and the route table. Request state, replies,
 * query getters and the handlers are private to src/http (handlers.h).
 */
#ifndef OMBUD_HTTP_H
#define OMBUD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "ombud/err.h"
#include "ombud/router.h"

struct MHD_Daemon;
struct ombud_db_pool;

/* Starts serving; NULL with err filled on failure. */
struct MHD_Daemon *ombud_http_start(struct ombud_db_pool *pool, struct ombud_err *err);
/* Stops accepting, lets in-flight requests finish (up to drain_seconds),
 * then stops the daemon. */
void ombud_http_stop(struct MHD_Daemon *d, unsigned drain_seconds);

/* The admission gate for database work (src/http/gate.c), for /metrics. */
struct ombud_gate_stats {
    unsigned permits;           /* threads that may wait on the database at once */
    unsigned in_use;            /* permits held now */
    unsigned waiting;           /* requests queued for a permit now */
    unsigned long long waited;  /* requests that had to queue, so far */
    unsigned long long expired; /* requests answered 503 at their deadline in the queue */
    bool stalled;               /* the database stalled: one permit held in reserve */
    unsigned long long stalls;  /* stalls seen so far (each freed a thread) */
};
void ombud_gate_stats(struct ombud_gate_stats *out);

/* Open GET /v1/stream responses in this process (stream.c). */
size_t ombud_http_open_streams(void);

/* Connection admission so far (admission.c): connections open now, those
 * closed for missing their head or body deadline, and those that came in
 * over OMBUD_CONN_LIMIT. */
struct ombud_http_conn_stats {
    long open;
    unsigned long slow_closed;
    unsigned long over_cap;
};
void ombud_http_conn_stats(struct ombud_http_conn_stats *out);

/* Every route (routes.c). metrics.c labels its counters by route name. */
extern const struct ombud_route ombud_routes[];
extern const size_t ombud_nroutes;

#endif
