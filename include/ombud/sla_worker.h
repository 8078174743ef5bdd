/*
 * The SLA worker: one background thread per server process that raises
 * every warning and breach once, on time, whatever the number of
 * processes sharing the database.
 */
#ifndef OMBUD_SLA_WORKER_H
#define OMBUD_SLA_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/err.h"
#include "ombud/sla.h" /* struct ombud_sla_worker_status */

struct ombud_db_conn;

/* Starts the thread (signals must already be blocked in the caller). */
OMBUD_MUSTCHECK enum ombud_rc ombud_sla_worker_start(const char *url, struct ombud_err *err);
/* Wakes and joins the thread. */
void ombud_sla_worker_stop(void);
void ombud_sla_worker_status(struct ombud_sla_worker_status *out);

/* ---- one pass (src/worker/sla_pass.c) ---- */

struct ombud_sla_pass_stats {
    size_t clocks; /* clocks handled */
    size_t raised; /* alerts this process raised */
    int64_t lag_max_ms;
    int64_t lag_sum_ms;
};

/* One pass on c, in its own transaction: claims clocks due at now
 * (seconds; FOR UPDATE SKIP LOCKED, at most limit), raises their warnings
 * and breaches (each once: the alerts' unique key) with their timeline
 * events, replans the clocks, commits. */
OMBUD_MUSTCHECK enum ombud_rc ombud_sla_pass_run(struct ombud_db_conn *c, int64_t now, int limit,
                                                 struct ombud_sla_pass_stats *st,
                                                 struct ombud_err *err);

#endif
