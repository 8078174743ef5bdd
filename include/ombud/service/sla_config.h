/*
 * The SLA configuration (policies and their calendars) as each process
 * caches it: read on every complaint write, written rarely. DESIGN: one
 * immutable snapshot (every active policy in selection order, every
 * calendar compiled) shared by all threads by reference count and
 * replaced whole when OMBUD_INVAL_SLA_CONFIG moves on (service/inval.h):
 * a writer of a policy or calendar publishes that topic in its
 * transaction and bumps it after commit, so the next create in the same
 * process sees the change at once, and other processes once their
 * listener has the notification. While this process is not listening
 * there is no snapshot and callers read the database (ombud_db_policy_select,
 * ombud_db_sla_calendar) as before.
 */
#ifndef OMBUD_SERVICE_SLA_CONFIG_H
#define OMBUD_SERVICE_SLA_CONFIG_H

#include <stdint.h>

#include "ombud/business_time.h"
#include "ombud/db/pool.h"
#include "ombud/err.h"
#include "ombud/sla.h"

struct ombud_sla_config;

/* The current snapshot, read from the database on c when the cached one
 * is stale (a miss); *out NULL when the caches are bypassed (not
 * listening). The caller returns a snapshot with _put. */
OMBUD_MUSTCHECK enum ombud_rc ombud_svc_sla_config_get(struct ombud_db_conn *c,
                                                       struct ombud_sla_config **out,
                                                       struct ombud_err *err);
void ombud_svc_sla_config_put(struct ombud_sla_config *cfg);

/* The active policy with the lowest (position, id) whose every non-empty
 * match list holds the complaint's value (as ombud_db_policy_select);
 * NULL when none. Borrowed from cfg. */
const struct ombud_sla_policy *ombud_svc_sla_config_match(const struct ombud_sla_config *cfg,
                                                          const char *priority, const char *grade,
                                                          const char *category, const char *channel,
                                                          const char *tier);
/* Compiled calendar id, borrowed from cfg; NULL when cfg has none such. */
const struct ombud_bt_calendar *ombud_svc_sla_config_calendar(const struct ombud_sla_config *cfg,
                                                              int64_t id);

/* Runs fn, a change of SLA policies or calendars, in a transaction of
 * its own (ombud_tx_run) that also announces it to every process; this
 * process's snapshot is stale once it returns. */
OMBUD_MUSTCHECK enum ombud_rc ombud_svc_sla_config_change(struct ombud_db_pool *pool,
                                                          ombud_tx_fn fn, void *ctx,
                                                          struct ombud_err *err);

/* Drops the cached snapshot (tests, shutdown). */
void ombud_svc_sla_config_reset(void);

#endif
