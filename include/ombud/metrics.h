/*
 * Process metrics in Prometheus text format: requests by route and
 * status, a latency histogram, pool usage. Counters are atomics, so
 * recording costs no lock on the request path.
 */
#ifndef OMBUD_METRICS_H
#define OMBUD_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct ombud_db_pool;

/* Records one finished request (route: a name from the route table or
 * "unmatched"; status 0 when none was sent; a negative duration: count
 * it, leave it out of the latency histogram). */
void ombud_metrics_request(const char *route, int status, int64_t duration_us);

/* Renders the exposition text; the caller frees the result. */
char *ombud_metrics_render(struct ombud_db_pool *pool, size_t *len);

#endif
