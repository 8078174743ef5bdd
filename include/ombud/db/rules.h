/* Escalation rules and their runs (src/db/rules.c): statements only;
 * what a rule means is domain/rule.c, firing it service/rules.c. */
#ifndef OMBUD_DB_RULES_H
#define OMBUD_DB_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/db/pool.h"
#include "ombud/err.h"
#include "ombud/rule.h"

/* Inserts (r->id 0) or updates (r->id set) a rule and reads it back into
 * r; *found false when the id is unknown. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_rule_save(struct ombud_db_conn *c, struct ombud_rule *r,
                                                 bool *found, struct ombud_err *err);
/* Reads rule id into out (cleared first by the caller); *found false when absent. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_rule_get(struct ombud_db_conn *c, int64_t id,
                                                struct ombud_rule *out, bool *found,
                                                struct ombud_err *err);
/* Rules with id > after_id in id order, at most limit + 1. *out is a new
 * array; the caller frees it with ombud_rules_free. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_rule_list(struct ombud_db_conn *c, int64_t after_id,
                                                 int limit, struct ombud_rule **out, size_t *n,
                                                 struct ombud_err *err);
/* Deletes rule id and its runs; *found false when unknown. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_rule_delete(struct ombud_db_conn *c, int64_t id, bool *found,
                                                   struct ombud_err *err);
/* How many of the team ids (n of them) name no team, and whether the
 * category list (JSON array text, NULL: none) names an unknown category. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_rule_refs(struct ombud_db_conn *c, const int64_t *team_ids,
                                                 size_t n, const char *categories_json,
                                                 size_t *unknown_teams, bool *unknown_category,
                                                 struct ombud_err *err);

/* ---- runs: a rule's once per complaint and cycle ---- */

struct ombud_rule_run {
    int64_t rule_id, complaint_id;
    int cycle;
    char target[16];
    int64_t triggered_at, due_at, done_at; /* epoch seconds; done_at 0 while pending */
    char state[16];                        /* pending, fired, skipped */
    char reason[512];
};

/* Records the run (rule, complaint, cycle) as state ("pending" or
 * "fired"; reason NULL) unless it exists: *inserted says whether this
 * call wrote it, i.e. whether the rule may act now. Instants in epoch
 * seconds. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_rule_run_insert(struct ombud_db_conn *c, int64_t rule_id,
                                                       int64_t complaint_id, int cycle,
                                                       const char *target, int64_t triggered_at,
                                                       int64_t due_at, const char *state,
                                                       bool *inserted, struct ombud_err *err);
/* Claims the pending run due soonest at now (epoch seconds) FOR UPDATE
 * SKIP LOCKED: runs another transaction holds are left to it. *found
 * false when none is due. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_rule_run_claim(struct ombud_db_conn *c, int64_t now,
                                                      struct ombud_rule_run *out, bool *found,
                                                      struct ombud_err *err);
/* Marks a claimed run fired or skipped (with the reason) as of now. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_rule_run_finish(struct ombud_db_conn *c,
                                                       const struct ombud_rule_run *run,
                                                       const char *state, const char *reason,
                                                       struct ombud_err *err);
/* The runs of complaint_id in cycle, by rule id. *out is a new array (free). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_rule_runs_of(struct ombud_db_conn *c, int64_t complaint_id,
                                                    int cycle, struct ombud_rule_run **out,
                                                    size_t *n, struct ombud_err *err);

/* Raises the `escalation` alert of a rule's notify (once per rule,
 * complaint and cycle): *alert_id its id, 0 when it existed. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_rule_alert_insert(struct ombud_db_conn *c, int64_t rule_id,
                                                         int64_t complaint_id, const char *target,
                                                         int cycle, int level, int64_t scheduled_at,
                                                         int64_t *alert_id, struct ombud_err *err);

#endif
