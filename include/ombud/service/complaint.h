/*
 * Complaint service: the one path every change to a stored complaint
 * takes, whoever asks (an HTTP handler, later the SLA worker's
 * escalation rules). It loads the complaint locked, checks the expected
 * version, asks the life cycle (domain/lifecycle.c) what the change
 * does, and carries that out in the same transaction: the note, the row,
 * the SLA clocks, the timeline events; then it reads the complaint back.
 *
 * No HTTP here: callers pass who acts (struct ombud_actor) and the
 * versions they expect, and turn struct ombud_err into their own answer.
 */
#ifndef OMBUD_SERVICE_COMPLAINT_H
#define OMBUD_SERVICE_COMPLAINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/complaint.h"
#include "ombud/db/pool.h"
#include "ombud/err.h"
#include "ombud/lifecycle.h"

#define OMBUD_EXPECT_MAX 32

/* The versions a change is conditional on (HTTP: If-Match, which may
 * list several tags or say "*"). A NULL expectation means none. */
struct ombud_expect {
    bool any; /* any version */
    size_t n; /* versions[0..n): one of them must be current */
    int versions[OMBUD_EXPECT_MAX];
};

/* Whether version satisfies e (NULL: always). */
bool ombud_svc_expect_holds(const struct ombud_expect *e, int version);

/* Reads complaint id and its current SLA clocks, in one statement
 * (locked for a change when lock: see ombud_db_complaint_get), into out, which the caller clears.
 * Not found (err) when it does not exist or actor is a service key that did not create it. */
OMBUD_MUSTCHECK enum ombud_rc ombud_svc_complaint_load(struct ombud_db_conn *c,
                                                       const struct ombud_actor *actor, int64_t id,
                                                       bool lock, struct ombud_complaint *out,
                                                       struct ombud_err *err);

/* Adds a field error to err for a category, team or agent (assignee)
 * that does not exist, named as the complaint's fields; NULL / 0 are not
 * checked. Fails only when the database does; the field errors stay
 * collected, not yet an error (see ombud_svc_refs_check). */
OMBUD_MUSTCHECK enum ombud_rc ombud_svc_refs_report(struct ombud_db_conn *c, const char *category,
                                                    int64_t team_id, int64_t agent_id,
                                                    struct ombud_err *err);
/* ombud_svc_refs_report, then any field error as a 422 in err. */
OMBUD_MUSTCHECK enum ombud_rc ombud_svc_refs_check(struct ombud_db_conn *c, const char *category,
                                                   int64_t team_id, int64_t agent_id,
                                                   struct ombud_err *err);

/* Applies t to complaint id as actor, inside the caller's transaction
 * (t->role is ignored: the actor's role counts). A change that moves
 * the complaint to another team without naming its assignee hands it
 * over (ombud_lifecycle_handover): the assignee stays when an active
 * member of the new team, else a round_robin team routes the complaint
 * to a member, else it has none; the event reporting the team reports
 * the assignee too. An agent a change names is marked assigned now. On
 * success, out (when not NULL) holds the complaint as it is now and
 * note (when not NULL) the note the change added (body NULL when none);
 * the caller clears both. On failure err says why and nothing may be
 * committed. */
OMBUD_MUSTCHECK enum ombud_rc
ombud_svc_complaint_change_tx(struct ombud_db_conn *c, const struct ombud_actor *actor, int64_t id,
                              const struct ombud_expect *expect, const struct ombud_transition *t,
                              struct ombud_complaint *out, struct ombud_note *note,
                              struct ombud_err *err);

/* Creates the complaint in as actor: its SLA clocks (when a policy
 * matches) and its timeline events with it, in one statement. Outside a
 * transaction that statement is one on its own; inside one, the caller
 * commits. A complaint with a team or an assignee needs a transaction
 * (ombud_svc_complaint_create_needs_tx; else an internal error): before
 * the insert, a named assignee is marked assigned now, or a round_robin
 * team routes the complaint to a member (its row locked until the
 * commit), so that it and its assigned event name the assignee. out
 * receives the new complaint with its clocks (the caller clears it). An
 * unknown category, team or agent is OMBUD_E_INVALID naming its foreign
 * key (see ombud_db_complaint_create). */
OMBUD_MUSTCHECK enum ombud_rc ombud_svc_complaint_create_tx(struct ombud_db_conn *c,
                                                            const struct ombud_actor *actor,
                                                            const struct ombud_complaint_new *in,
                                                            struct ombud_complaint *out,
                                                            struct ombud_err *err);

/* Whether creating in takes more than its one statement, and so a
 * transaction: it names a team (routing) or an assignee, or escalation
 * rules on `created` may act. */
bool ombud_svc_complaint_create_needs_tx(const struct ombud_complaint_new *in);

/* The same on pool: an action that needs nothing but its one write
 * (routes no one, names no assignee, no rule acts on it) first without a
 * lock, outside a transaction (the complaint read with its row version,
 * the change written only if the row is still that version); anything
 * else, and an action that lost that race, in a transaction of its own
 * with the complaint locked (retried on serialization failure and
 * deadlock). */
OMBUD_MUSTCHECK enum ombud_rc
ombud_svc_complaint_change(struct ombud_db_pool *pool, const struct ombud_actor *actor, int64_t id,
                           const struct ombud_expect *expect, const struct ombud_transition *t,
                           struct ombud_complaint *out, struct ombud_note *note,
                           struct ombud_err *err);

/* Actions this process wrote without a lock, and actions it ran again
 * locked after trying (a lost race, or more to do than the one write). */
void ombud_svc_complaint_change_stats(unsigned long long *unlocked, unsigned long long *relocked);

#endif
