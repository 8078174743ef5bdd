/* Teams and agents (src/db/teams.c): who complaints are assigned and
 * escalated to. Records in ombud/team.h. */
#ifndef OMBUD_DB_TEAMS_H
#define OMBUD_DB_TEAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/db/pool.h"
#include "ombud/err.h"
#include "ombud/team.h"

/* Inserts (t->id 0) or updates (t->id set) a team and reads it back into
 * t; *found false when the id is unknown. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_team_save(struct ombud_db_conn *c, struct ombud_team *t,
                                                 bool *found, struct ombud_err *err);
/* Reads team id into out; *found false when absent. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_team_get(struct ombud_db_conn *c, int64_t id,
                                                struct ombud_team *out, bool *found,
                                                struct ombud_err *err);
/* Teams with id > after_id in id order, at most limit + 1 (the extra one
 * tells whether more follow). *out is a new array; the caller frees it. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_team_list(struct ombud_db_conn *c, int64_t after_id,
                                                 int limit, struct ombud_team **out, size_t *n,
                                                 struct ombud_err *err);
/* The same three for agents; a list filtered to team_id unless it is 0. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_agent_save(struct ombud_db_conn *c, struct ombud_agent *a,
                                                  bool *found, struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_agent_get(struct ombud_db_conn *c, int64_t id,
                                                 struct ombud_agent *out, bool *found,
                                                 struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_agent_list(struct ombud_db_conn *c, int64_t after_id,
                                                  int limit, int64_t team_id,
                                                  struct ombud_agent **out, size_t *n,
                                                  struct ombud_err *err);

/* ---- escalation chains ---- */

/* Takes the transaction-scoped lock every change of a team's
 * escalation_team_id holds while it checks for a cycle and saves, so
 * that two changes cannot each pass the check and together close one.
 * Check in a later statement: its snapshot then sees the change before. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_team_chain_lock(struct ombud_db_conn *c,
                                                       struct ombud_err *err);
/* Whether following escalation_team_id from team from_id (itself
 * included) reaches team_id. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_team_chain_reaches(struct ombud_db_conn *c, int64_t from_id,
                                                          int64_t team_id, bool *reaches,
                                                          struct ombud_err *err);

#endif
