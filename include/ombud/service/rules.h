/*
 * Escalation rules at work (API.md "Escalation and assignment").
 *
 * DESIGN. A rule acts at most once per complaint and cycle: the run row
 * (rule, complaint, cycle) is written by whoever may act, under its
 * primary key, in the transaction that acts. When a trigger happens:
 *   - created / reopened (in the request's transaction, after the change
 *     is stored): every active rule on that trigger whose conditions hold
 *     now, in position order, either acts at once (no delay: its run is
 *     written `fired` and its changes go through the one change path,
 *     ombud_svc_complaint_change_tx, with the rule as actor, each rule
 *     seeing the changes of the ones before) or is scheduled (a `pending`
 *     run due delay_minutes business minutes later, in the calendar of
 *     the complaint's SLA policy);
 *   - an SLA warning or breach (in the worker's pass, in the transaction
 *     that raises the alert, so it is scheduled exactly when the alert
 *     is raised): every active rule on it whose conditions hold then is
 *     scheduled as a `pending` run due delay_minutes after the alert's
 *     moment (possibly now).
 * The worker then claims due runs one transaction each (FOR UPDATE SKIP
 * LOCKED, so processes share them and none is taken twice) and, in that
 * transaction, fires the run (its conditions hold, the complaint is open
 * and still in the run's cycle) or skips it with the reason, written in
 * the timeline as `rule_skipped`. A pending run survives restarts and
 * outages: the table is the truth, and the worker's next moment includes
 * the earliest pending run (db/sla.h ombud_db_sla_next).
 *
 * The active rules are configuration, cached per process like the SLA
 * configuration and announced on their own topic (service/inval.h): a
 * rule applies to triggers from when its change reaches a process (at
 * once in the process that made it, within the notification's delivery
 * elsewhere). A due run whose rule is not among the cached ones is
 * looked up in the table before it is skipped as inactive.
 */
#ifndef OMBUD_SERVICE_RULES_H
#define OMBUD_SERVICE_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/complaint.h"
#include "ombud/db/pool.h"
#include "ombud/err.h"
#include "ombud/rule.h"
#include "ombud/sla.h"

/* ---- configuration ---- */

/* Whether a rule on trigger may act in this process now: false only when
 * the cached rules are current and none is active on trigger. Takes no
 * connection: a create asks it to know whether it needs a transaction. */
bool ombud_svc_rules_may_act(enum ombud_rule_trigger trigger);

/* The same for a complaint cp as it is now: false only when the cached
 * rules are current and none on trigger has conditions that hold for cp
 * (a create asks it with the complaint it is about to insert); cp NULL
 * asks as ombud_svc_rules_may_act does. */
bool ombud_svc_rules_may_act_on(enum ombud_rule_trigger trigger, const struct ombud_complaint *cp);

/* Runs fn, a change of escalation rules, in a transaction of its own
 * that also announces it to every process. */
OMBUD_MUSTCHECK enum ombud_rc ombud_svc_rules_change(struct ombud_db_pool *pool, ombud_tx_fn fn,
                                                     void *ctx, struct ombud_err *err);

/* Drops the cached rules (tests, shutdown). */
void ombud_svc_rules_reset(void);

/* ---- triggers ---- */

/* A created or reopened complaint, cp as stored in the caller's
 * transaction on c, at moment (epoch seconds): fires and schedules its
 * rules as above. cp is replaced by the complaint as it is afterwards. */
OMBUD_MUSTCHECK enum ombud_rc ombud_svc_rules_on_change(struct ombud_db_conn *c,
                                                        struct ombud_complaint *cp,
                                                        enum ombud_rule_trigger trigger,
                                                        int64_t moment, struct ombud_err *err);

/* An SLA alert just raised in the caller's transaction (the worker's
 * pass): schedules the rules on it. calendar_id is the clock's. */
OMBUD_MUSTCHECK enum ombud_rc ombud_svc_rules_on_alert(struct ombud_db_conn *c,
                                                       int64_t complaint_id, bool breach,
                                                       enum ombud_sla_target target, int cycle,
                                                       int64_t moment, int64_t calendar_id,
                                                       struct ombud_err *err);

/* Claims the run due soonest at now (epoch seconds) and fires or skips
 * it, in a transaction of its own on c (the worker's connection). *done
 * false when none was due. */
OMBUD_MUSTCHECK enum ombud_rc ombud_svc_rules_run_due(struct ombud_db_conn *c, int64_t now,
                                                      bool *done, struct ombud_err *err);

/* ---- what is pending for a complaint ---- */

/* For complaint id as actor sees it (not found as ombud_svc_complaint_load
 * says): each active rule whose trigger has occurred or is scheduled in
 * the complaint's current cycle, in position order. *out is a new array
 * (free). */
OMBUD_MUSTCHECK enum ombud_rc
ombud_svc_rules_of_complaint(struct ombud_db_conn *c, const struct ombud_actor *actor, int64_t id,
                             struct ombud_rule_status **out, size_t *n, struct ombud_err *err);

#endif
