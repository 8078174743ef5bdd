/*
 * Waking this process's SLA worker when a write brings a moment closer.
 *
 * DESIGN: the worker publishes when it next means to look at the clocks
 * (ombud_sla_wake_plan, server-clock microseconds); a write that saved a
 * clock whose next moment comes before that wakes it through a pipe once
 * its transaction has committed (service/sla.c registers
 * ombud_sla_wake_moment with ombud_db_after_commit: a wake before the
 * commit would have the worker look before the row is visible, find
 * nothing and sleep past the moment). No database round trip, no NOTIFY:
 * other processes find moments they did not write by never sleeping
 * longer than a second (worker/sla_worker.c).
 *
 * The plan is 0 while the worker is not waiting on it (starting,
 * reconnecting) and after a write has woken it, so one byte wakes it
 * however many writes come; while awake it plans its longest sleep, so a
 * write committing after its last read is never lost (see the worker).
 */
#ifndef OMBUD_SERVICE_SLA_WAKE_H
#define OMBUD_SERVICE_SLA_WAKE_H

#include <stdint.h>

#include "ombud/err.h"

/* Creates the pipe (the worker's start); close it after the worker
 * stopped. */
OMBUD_MUSTCHECK enum ombud_rc ombud_sla_wake_open(struct ombud_err *err);
void ombud_sla_wake_close(void);

/* The worker's side: the read end to poll, emptied by drain; plan sets
 * when it will look next (0: not waiting). */
int ombud_sla_wake_fd(void);
void ombud_sla_wake_drain(void);
void ombud_sla_wake_plan(int64_t at_us);

/* Wakes the worker whatever its plan (stop). */
void ombud_sla_wake_now(void);
/* A committed clock's next moment (epoch seconds of the servers' clock):
 * wakes the worker when that is before its plan. An after-commit hook
 * (ombud_db_commit_fn). */
void ombud_sla_wake_moment(int64_t moment_s);

#endif
