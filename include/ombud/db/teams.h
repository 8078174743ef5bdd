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

/* ---- routing (API.md "Escalation and assignment") ---- */

/* Locks team_id FOR NO KEY UPDATE until the caller's transaction ends
 * when its assignment is round_robin (*round_robin true); routers into
 * one team then queue here. A manual or unknown team: *round_robin false,
 * nothing locked. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_team_route_lock(struct ombud_db_conn *c, int64_t team_id,
                                                       bool *round_robin, struct ombud_err *err);
/* Picks the active member of team_id with the fewest open complaints
 * (not resolved or closed); ties go to the one assigned least recently
 * (never assigned first), then to the lowest id; and marks it assigned
 * now. *agent_id 0 when the team has no active member. Call it after
 * ombud_db_team_route_lock, in the same transaction: a statement of its
 * own sees what the routers before it committed. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_team_route_pick(struct ombud_db_conn *c, int64_t team_id,
                                                       int64_t *agent_id, struct ombud_err *err);
/* Marks agent_id assigned now (a complaint given to it by name); an
 * unknown id changes nothing. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_agent_mark_assigned(struct ombud_db_conn *c,
                                                           int64_t agent_id, struct ombud_err *err);
/* Whether agent_id is an active member of team_id. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_agent_is_member(struct ombud_db_conn *c, int64_t agent_id,
                                                       int64_t team_id, bool *member,
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
