/*
 * SLA service: runs one SLA operation against a complaint's stored clocks
 * inside the caller's transaction. It is the glue between the pure clock
 * arithmetic (domain/sla.c) and its statements (db/sla_clocks.c), shared
 * by the HTTP handlers and, later, the worker's escalation rules; it
 * knows nothing of HTTP.
 */
#ifndef OMBUD_SERVICE_SLA_H
#define OMBUD_SERVICE_SLA_H

#include <stdint.h>

#include "ombud/complaint.h"
#include "ombud/db/pool.h"
#include "ombud/err.h"
#include "ombud/sla.h"

/* Applies op to the complaint's current clocks at now (seconds): selects
 * the matching policy and loads (locked) the clocks as op needs, applies
 * it (ombud_sla_apply_op), stores the changed clocks and the governing
 * policy, and, once the transaction has committed, wakes this process's
 * SLA worker if a saved clock's next moment is earlier than it meant to
 * look (ombud/service/sla_wake.h). cp must be the row as it is now
 * (after the change); REOPEN starts a new resolution cycle. Does nothing
 * when no policy or no clock is concerned. */
OMBUD_MUSTCHECK enum ombud_rc ombud_svc_sla_apply(struct ombud_db_conn *c,
                                                  const struct ombud_complaint *cp,
                                                  enum ombud_sla_op op, int64_t now,
                                                  struct ombud_err *err);

#endif
