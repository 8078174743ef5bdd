/*
 * SLA clocks (src/db/sla_clocks.c). Statements only: the clock arithmetic
 * is domain/sla.c, an operation's glue service/sla.c, the worker's pass
 * worker/sla_pass.c. The first half serves every write path, the second
 * the worker.
 */
#ifndef OMBUD_DB_SLA_H
#define OMBUD_DB_SLA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/business_time.h"
#include "ombud/complaint.h"
#include "ombud/db/pool.h"
#include "ombud/err.h"
#include "ombud/sla.h"

/* Inserts or updates one clock (its warnings stored as JSON). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_sla_save_clock(struct ombud_db_conn *c, int64_t complaint_id,
                                                      const struct ombud_sla_clock *k,
                                                      struct ombud_err *err);
/* Loads calendar id and compiles it into out (the caller clears it with
 * ombud_bt_calendar_clear); a missing calendar is an internal error,
 * since a clock or policy refers to it. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_sla_calendar(struct ombud_db_conn *c, int64_t id,
                                                    struct ombud_bt_calendar *out,
                                                    struct ombud_err *err);

/* ---- the worker's side ---- */

/* A clock whose next_alert_at has come, claimed for this transaction. */
struct ombud_sla_claim {
    int64_t complaint_id;
    int64_t changed_at; /* usec: the clock's last change, when its moments became known */
    struct ombud_sla_clock clock;
};

/* Claims up to limit clocks due at now (seconds), soonest first, FOR
 * UPDATE SKIP LOCKED: clocks another transaction holds are left to it.
 * *out is a new array; the caller frees it (free). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_sla_claim_due(struct ombud_db_conn *c, int64_t now,
                                                     int limit, struct ombud_sla_claim **out,
                                                     size_t *n, struct ombud_err *err);
/* Inserts the alert a owed by clock k unless it exists (the alerts'
 * unique key makes each alert once across processes). *alert_id is its
 * id when this call raised it, 0 when it was raised before; *lag_ms how
 * long after its moment (or, if later, changed_at) it was raised. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_sla_alert_insert(struct ombud_db_conn *c,
                                                        int64_t complaint_id,
                                                        const struct ombud_sla_clock *k,
                                                        const struct ombud_sla_due_alert *a,
                                                        int64_t changed_at, int64_t *alert_id,
                                                        int64_t *lag_ms, struct ombud_err *err);
/* The worker's next moment: the earliest next_alert_at or pending
 * escalation rule run's due_at (epoch seconds), 0 when none. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_sla_next(struct ombud_db_conn *c, int64_t *next,
                                                struct ombud_err *err);

#endif
