/*
 * SLA service: works out one SLA operation on a complaint's clocks for
 * the caller's write. It is the glue between the pure clock
 * arithmetic (domain/sla.c) and its statements (db/sla_clocks.c), shared
 * by the HTTP handlers and, later, the worker's escalation rules; it
 * knows nothing of HTTP.
 */
#ifndef OMBUD_SERVICE_SLA_H
#define OMBUD_SERVICE_SLA_H

#include <stdbool.h>
#include <stdint.h>

#include "ombud/complaint.h"
#include "ombud/db/pool.h"
#include "ombud/err.h"
#include "ombud/sla.h"

/* What an operation decides for the complaint's row besides its clocks. */
struct ombud_sla_outcome {
    int64_t policy_id; /* the policy now governing the clocks, when it changed; else 0 */
    int cycle;         /* the new resolution cycle (REOPEN); else 0 */
};

/* Applies op at now (seconds) to the complaint's current clocks k/have
 * (as read and locked with the complaint; ignored for START): takes the
 * matching policy and the calendars as op needs (from the per-process
 * cache, service/sla_config.h), applies it (ombud_sla_apply_op) and says
 * which clocks changed (changed[i]) and what the row takes (o); the
 * caller stores all of it with the complaint. Once the transaction has
 * committed, wakes this process's SLA worker when a changed clock's next
 * moment is earlier than it meant to look (ombud/service/sla_wake.h). cp is the row as it is now
 * (after the change); REOPEN takes the next resolution cycle. Changes nothing when no policy or no
 * clock is concerned. */
OMBUD_MUSTCHECK enum ombud_rc
ombud_svc_sla_apply(struct ombud_db_conn *c, const struct ombud_complaint *cp, enum ombud_sla_op op,
                    int64_t now, struct ombud_sla_clock k[2], bool have[2], bool changed[2],
                    struct ombud_sla_outcome *o, struct ombud_err *err);

/* from (epoch seconds) plus minutes business minutes of calendar
 * calendar_id (from the per-process cache, else the database) into *due;
 * calendar_id 0 counts wall-clock minutes. */
OMBUD_MUSTCHECK enum ombud_rc ombud_svc_business_add(struct ombud_db_conn *c, int64_t calendar_id,
                                                     int64_t from, int64_t minutes, int64_t *due,
                                                     struct ombud_err *err);

#endif
