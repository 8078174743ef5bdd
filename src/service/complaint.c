/*
 * The one mutate path for complaints (include/ombud/service/complaint.h).
 *
 * DESIGN. Transitions, notes, escalation, satisfaction and edits differ
 * only in their rules, and the rules are domain code
 * (ombud_lifecycle_apply). So every change runs the same steps here:
 *   load locked (the row and its clocks, one statement, sent with BEGIN)
 *   -> expected version -> facts the rules need from the database ->
 *   apply -> route (who has it when it changes teams or assignee) ->
 *   event texts -> commit into the record -> SLA clocks (in C,
 *   policies and calendars from the per-process cache) -> store note,
 *   row, clocks and events (one statement, sent with COMMIT).
 * Two round trips for a change whose rules need no facts and that moves
 * no one (routing asks the database only when it does); nothing is
 * read back: the store returns the row, and the clocks are what was
 * computed. The event texts are written before the record is changed
 * because the event records borrow the old values from it; a note's id
 * joins its events in the statement that stores both. The lock makes two
 * concurrent changes queue: the second sees the first's state (409) or
 * version (412).
 *
 * Errors of our own are set only through the refuse_* helpers.
 */
#include "ombud/service/complaint.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ombud/db/complaints.h"
#include "ombud/db/sla.h"
#include "ombud/db/teams.h"
#include "ombud/repr.h"
#include "ombud/service/rules.h"
#include "ombud/service/sla.h"
#include "ombud/role.h"
#include "ombud/timefmt.h"

static enum ombud_rc refuse_stale(struct ombud_err *err, int version)
{
    char etag[32];
    ombud_repr_etag(version, etag, sizeof etag);
    return ombud_err_set(err, OMBUD_E_STALE, NULL, "If-Match does not match the current version %s",
                         etag);
}

static enum ombud_rc refuse_not_found(struct ombud_err *err)
{
    return ombud_err_not_found(err, "complaint");
}

static enum ombud_rc refuse_no_memory(struct ombud_err *err)
{
    return ombud_err_internal(err, "out of memory");
}

/* Events record the role by name; rules compare ranks. The system (the
 * worker) has no key and no rank. */
static enum ombud_role actor_role(const struct ombud_actor *a)
{
    enum ombud_role r = OMBUD_ROLE_NONE;
    if (!ombud_role_parse(a->role, &r))
        return OMBUD_ROLE_NONE;
    return r;
}

bool ombud_svc_expect_holds(const struct ombud_expect *e, int version)
{
    if (!e || e->any)
        return true;
    for (size_t i = 0; i < e->n; i++)
        if (e->versions[i] == version)
            return true;
    return false;
}

/* A read complaint as actor may see it: a service key sees only what it
 * created; the others do not exist for it. */
static enum ombud_rc seen_by(const struct ombud_actor *actor, bool found,
                             struct ombud_complaint *out, struct ombud_err *err)
{
    if (found && actor_role(actor) == OMBUD_ROLE_SERVICE &&
        out->created_by_key_id != actor->key_id) {
        ombud_complaint_clear(out);
        found = false;
    }
    return found ? OMBUD_OK : refuse_not_found(err);
}

enum ombud_rc ombud_svc_complaint_load(struct ombud_db_conn *c, const struct ombud_actor *actor,
                                       int64_t id, bool lock, struct ombud_complaint *out,
                                       struct ombud_err *err)
{
    bool found = false;
    enum ombud_rc rc = ombud_db_complaint_get(c, id, lock, out, &found, err);
    return rc != OMBUD_OK ? rc : seen_by(actor, found, out, err);
}

/* ombud_svc_complaint_load unlocked, with the row's version in row. */
static enum ombud_rc load_row(struct ombud_db_conn *c, const struct ombud_actor *actor, int64_t id,
                              struct ombud_complaint *out, char row[OMBUD_DB_ROW_BUFLEN],
                              struct ombud_err *err)
{
    bool found = false;
    enum ombud_rc rc = ombud_db_complaint_get_row(c, id, out, &found, row, err);
    return rc != OMBUD_OK ? rc : seen_by(actor, found, out, err);
}

enum ombud_rc ombud_svc_refs_report(struct ombud_db_conn *c, const char *category, int64_t team_id,
                                    int64_t agent_id, struct ombud_err *err)
{
    bool cat_ok, team_ok, agent_ok;
    enum ombud_rc rc =
        ombud_db_refs_check(c, category, team_id, agent_id, &cat_ok, &team_ok, &agent_ok, err);
    if (rc != OMBUD_OK)
        return rc;
    if (!cat_ok)
        ombud_err_field(err, "category", "is not a known category (see GET /v1/categories)");
    if (!team_ok)
        ombud_err_field(err, "team_id", "names no team");
    if (!agent_ok)
        ombud_err_field(err, "assignee_id", "names no agent");
    return OMBUD_OK;
}

enum ombud_rc ombud_svc_refs_check(struct ombud_db_conn *c, const char *category, int64_t team_id,
                                   int64_t agent_id, struct ombud_err *err)
{
    enum ombud_rc rc = ombud_svc_refs_report(c, category, team_id, agent_id, err);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_err_finish_validation(err);
}

static void free_texts(char **texts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
}

static enum ombud_rc render_texts(const struct ombud_effects *e, char **texts,
                                  struct ombud_err *err)
{
    for (size_t i = 0; i < e->nevents; i++) {
        texts[i] = ombud_repr_event_data(&e->events[i]);
        if (!texts[i])
            return refuse_no_memory(err);
    }
    return OMBUD_OK;
}

/* What the rules need to know from the database besides the complaint:
 * for an escalation whether the requested team exists and where the
 * complaint's team escalates to; for an edit whether what it names
 * exists, and the stored tags written the way the edit's are. */
static enum ombud_rc gather_facts(struct ombud_db_conn *c, struct ombud_complaint *cp,
                                  struct ombud_transition *t, struct ombud_err *err)
{
    if (t->kind == OMBUD_CHANGE_ESCALATE) {
        bool cat_ok, agent_ok, found;
        struct ombud_team team;
        enum ombud_rc rc;
        if (t->team_id)
            return ombud_db_refs_check(c, NULL, t->team_id, 0, &cat_ok, &t->team_known, &agent_ok,
                                       err);
        if (!cp->team_id)
            return OMBUD_OK;
        if ((rc = ombud_db_team_get(c, cp->team_id, &team, &found, err)) != OMBUD_OK)
            return rc;
        t->escalation_team_id = found ? team.escalation_team_id : 0;
        return OMBUD_OK;
    }
    if (t->kind == OMBUD_CHANGE_EDIT) {
        const struct ombud_edit *e = &t->edit;
        enum ombud_rc rc = ombud_svc_refs_check(c, e->has_category ? e->category : NULL,
                                                e->has_team ? e->team_id : 0,
                                                e->has_assignee ? e->assignee_id : 0, err);
        if (rc != OMBUD_OK)
            return rc;
        /* The database and jansson escape differently: compare like with like. */
        if (e->has_tags && cp->tags_json) {
            char *canon = ombud_repr_json_compact(cp->tags_json);
            if (canon) {
                free(cp->tags_json);
                cp->tags_json = canon;
            }
        }
    }
    return OMBUD_OK;
}

/* Who has the complaint after a change (API.md "Escalation and
 * assignment"). A handover (domain: ombud_lifecycle_handover) keeps the
 * assignee when an active member of the new team; else a round_robin
 * team routes it (its row locked first, then the pick: two statements,
 * see ombud_db_team_route_lock); else no one has it. An assignee named
 * by the change is marked assigned now, as routing marks its pick. */
static enum ombud_rc route_change(struct ombud_db_conn *c, const struct ombud_complaint *cp,
                                  const struct ombud_transition *t, struct ombud_effects *eff,
                                  struct ombud_err *err)
{
    int64_t team, to = 0, named;
    bool member = false, round_robin = false;
    enum ombud_rc rc;

    if (!ombud_lifecycle_handover(t, eff, &team)) {
        named = ombud_effects_new_assignee(eff);
        return named ? ombud_db_agent_mark_assigned(c, named, err) : OMBUD_OK;
    }
    if (cp->assignee_id &&
        (rc = ombud_db_agent_is_member(c, cp->assignee_id, team, &member, err)) != OMBUD_OK)
        return rc;
    if (member)
        return OMBUD_OK;
    if ((rc = ombud_db_team_route_lock(c, team, &round_robin, err)) != OMBUD_OK ||
        (round_robin && (rc = ombud_db_team_route_pick(c, team, &to, err)) != OMBUD_OK))
        return rc;
    ombud_effects_reassign(cp, eff, to);
    return OMBUD_OK;
}

/*
 * A change without a lock: read the complaint and its row version
 * unlocked, and write the change in one statement of its own that writes
 * only if the row is still that version (ombud_db_complaint_change). One
 * statement fewer than the locked change (no BEGIN, no read FOR UPDATE of
 * the complaint and its clocks) for the changes that need nothing else:
 * an action (acknowledge, start, resolve, ...) that stores the row, routes
 * no one, names no assignee and that no rule acts on. Anything else, and
 * a change that lost its race, *redo: the caller runs the locked change
 * (nothing was written).
 */
static bool unlocked_may_write(const struct ombud_transition *t, const struct ombud_effects *eff)
{
    int64_t team;
    if (t->kind != OMBUD_CHANGE_ACTION || !eff->save)
        return false;
    if (t->action == OMBUD_ACT_REOPEN && ombud_svc_rules_may_act(OMBUD_TRIG_REOPENED))
        return false;
    return !ombud_lifecycle_handover(t, eff, &team) && !ombud_effects_new_assignee(eff);
}

/* The change: locked (redo NULL; the caller's transaction) or unlocked. */
static enum ombud_rc change_run(struct ombud_db_conn *c, const struct ombud_actor *actor,
                                int64_t id, const struct ombud_expect *expect,
                                const struct ombud_transition *t, struct ombud_complaint *out,
                                struct ombud_note *note, bool *redo, struct ombud_err *err)
{
    struct ombud_complaint cp = {0};
    struct ombud_transition tt = *t;
    struct ombud_effects eff;
    struct ombud_note stored = {0};
    struct ombud_change_sla sla = {.policy_id = 0};
    char *texts[OMBUD_EFFECTS_MAX_EVENTS] = {NULL};
    char row[OMBUD_DB_ROW_BUFLEN] = "";
    bool lost = false;
    enum ombud_rc rc = OMBUD_ERROR;

    tt.role = actor_role(actor);
    /* Every failure keeps its code: OMBUD_RETRY must reach the runner. */
    if ((rc = redo ? load_row(c, actor, id, &cp, row, err)
                   : ombud_svc_complaint_load(c, actor, id, true, &cp, err)) != OMBUD_OK)
        goto out;
    if (!ombud_svc_expect_holds(expect, cp.version)) {
        rc = refuse_stale(err, cp.version);
        goto out;
    }
    if ((rc = gather_facts(c, &cp, &tt, err)) != OMBUD_OK ||
        (rc = ombud_lifecycle_apply(&cp, &tt, &eff, err)) != OMBUD_OK)
        goto out;
    if (redo && !unlocked_may_write(&tt, &eff)) {
        *redo = true;
        rc = OMBUD_ERROR;
        goto out;
    }
    if ((rc = route_change(c, &cp, &tt, &eff, err)) != OMBUD_OK)
        goto out;
    /* Timestamps are the transaction's now(), as the database sees it. */
    if ((rc = render_texts(&eff, texts, err)) != OMBUD_OK)
        goto out;
    if (!ombud_lifecycle_commit(&cp, &eff, OMBUD_DB_NOW)) {
        rc = refuse_no_memory(err);
        goto out;
    }
    if (eff.sla) {
        struct ombud_sla_outcome o;
        bool have[2] = {cp.sla_have[0], cp.sla_have[1]};
        memcpy(sla.k, cp.sla, sizeof sla.k);
        if ((rc = ombud_svc_sla_apply(c, &cp, eff.sla_op, ombud_time_now_s(), sla.k, have,
                                      sla.changed, &o, err)) != OMBUD_OK)
            goto out;
        sla.policy_id = o.policy_id;
        sla.cycle = o.cycle;
    }
    /* The search grams follow the searchable text (and only it: other
     * changes leave the GIN index alone). */
    if (eff.save && tt.kind == OMBUD_CHANGE_EDIT &&
        (tt.edit.has_title || tt.edit.has_description) &&
        (rc = ombud_db_complaint_search_put(c, cp.id, cp.title, cp.description, cp.customer_name,
                                            err)) != OMBUD_OK)
        goto out;
    if ((rc = ombud_db_complaint_change(c, &cp, eff.save, eff.save, &sla, &eff, texts, actor,
                                        redo ? row : NULL, &lost, &stored, err)) != OMBUD_OK) {
        if (redo && lost)
            *redo = true;
        goto out;
    }
    /* Rules on reopen act in this transaction: the answer shows them. */
    if (tt.kind == OMBUD_CHANGE_ACTION && tt.action == OMBUD_ACT_REOPEN &&
        ombud_svc_rules_may_act(OMBUD_TRIG_REOPENED) &&
        (rc = ombud_svc_rules_on_change(c, &cp, OMBUD_TRIG_REOPENED, ombud_time_now_s(), err)) !=
            OMBUD_OK)
        goto out;
    if (out) {
        *out = cp;
        memset(&cp, 0, sizeof cp);
    }
    if (note) {
        *note = stored;
        memset(&stored, 0, sizeof stored);
    }
    rc = OMBUD_OK;
out:
    free_texts(texts, OMBUD_EFFECTS_MAX_EVENTS);
    free(stored.body);
    ombud_complaint_clear(&cp);
    return rc;
}

enum ombud_rc ombud_svc_complaint_change_tx(struct ombud_db_conn *c,
                                            const struct ombud_actor *actor, int64_t id,
                                            const struct ombud_expect *expect,
                                            const struct ombud_transition *t,
                                            struct ombud_complaint *out, struct ombud_note *note,
                                            struct ombud_err *err)
{
    return change_run(c, actor, id, expect, t, out, note, NULL, err);
}

/* Whether the create names whom it is for: routing or an assignee's stamp. */
static bool names_team_or_assignee(const struct ombud_complaint_new *in)
{
    return in->team_id || in->assignee_id;
}

/* The fields of the complaint in will be that rules and policies weigh. */
static void as_stored(const struct ombud_complaint_new *in, struct ombud_complaint *cp)
{
    snprintf(cp->customer_tier, sizeof cp->customer_tier, "%s", in->customer_tier);
    snprintf(cp->channel, sizeof cp->channel, "%s", in->channel);
    snprintf(cp->category, sizeof cp->category, "%s", in->category);
    snprintf(cp->grade, sizeof cp->grade, "%s", in->grade);
    snprintf(cp->priority, sizeof cp->priority, "%s", in->priority);
    cp->team_id = in->team_id;
    cp->assignee_id = in->assignee_id;
}

bool ombud_svc_complaint_create_needs_tx(const struct ombud_complaint_new *in)
{
    if (names_team_or_assignee(in))
        return true;
    /* Rules that will not act on it (as far as this process knows them)
     * leave the create one statement. */
    struct ombud_complaint cp = {.status = OMBUD_ST_NEW, .resolution_cycle = 1};
    as_stored(in, &cp);
    return ombud_svc_rules_may_act_on(OMBUD_TRIG_CREATED, &cp);
}

/* Who has a new complaint: the assignee it names (marked assigned now),
 * or, when it names a team and no assignee, whom the team's routing
 * picks (see route_change); the lock on a round_robin team is held until
 * the create commits. */
static enum ombud_rc route_intake(struct ombud_db_conn *c, struct ombud_complaint_new *in,
                                  struct ombud_err *err)
{
    bool round_robin = false;
    enum ombud_rc rc;

    if (!names_team_or_assignee(in))
        return OMBUD_OK;
    if (!ombud_db_in_tx(c))
        return ombud_err_internal(err, "a create with a team or an assignee needs a transaction");
    if (!ombud_lifecycle_intake_routes(in->team_id, in->assignee_id))
        return ombud_db_agent_mark_assigned(c, in->assignee_id, err);
    if ((rc = ombud_db_team_route_lock(c, in->team_id, &round_robin, err)) != OMBUD_OK ||
        !round_robin)
        return rc;
    return ombud_db_team_route_pick(c, in->team_id, &in->assignee_id, err);
}

enum ombud_rc ombud_svc_complaint_create_tx(struct ombud_db_conn *c,
                                            const struct ombud_actor *actor,
                                            const struct ombud_complaint_new *in,
                                            struct ombud_complaint *out, struct ombud_err *err)
{
    /* The row as it will be, for the rules and the SLA policy's match. */
    struct ombud_complaint cp = {.status = OMBUD_ST_NEW, .resolution_cycle = 1};
    struct ombud_complaint_new routed = *in;
    struct ombud_effects eff;
    struct ombud_sla_clock k[2];
    bool have[2] = {false, false}, changed[2];
    struct ombud_sla_outcome o;
    char *texts[OMBUD_EFFECTS_MAX_EVENTS] = {NULL};
    enum ombud_rc rc;

    /* Routed before the insert, so that the complaint and its assigned
     * event name the assignee from the start. */
    if ((rc = route_intake(c, &routed, err)) != OMBUD_OK)
        return rc;
    as_stored(&routed, &cp);
    ombud_lifecycle_created(&cp, &eff);
    /* The clocks start before the row exists: computed here, stored with it. */
    if ((rc = ombud_svc_sla_apply(c, &cp, eff.sla_op, ombud_time_now_s(), k, have, changed, &o,
                                  err)) != OMBUD_OK ||
        (rc = render_texts(&eff, texts, err)) != OMBUD_OK)
        goto out;
    rc = ombud_db_complaint_create(c, &routed, o.policy_id, k, changed, &eff, texts, actor, out,
                                   err);
    /* Rules on created act in the same transaction, so the 201 shows
     * them; a create on its own (one statement, no transaction) was
     * judged to need none (ombud_svc_complaint_create_needs_tx). */
    if (rc == OMBUD_OK && ombud_db_in_tx(c) && ombud_svc_rules_may_act(OMBUD_TRIG_CREATED))
        rc = ombud_svc_rules_on_change(c, out, OMBUD_TRIG_CREATED, ombud_time_now_s(), err);
out:
    free_texts(texts, OMBUD_EFFECTS_MAX_EVENTS);
    return rc;
}

struct change_ctx {
    const struct ombud_actor *actor;
    int64_t id;
    const struct ombud_expect *expect;
    const struct ombud_transition *t;
    struct ombud_complaint *out;
    struct ombud_note *note;
    bool unlocked; /* this run is the unlocked change */
    bool redo;     /* it could not be: run the locked one */
};

static void reset_outputs(struct change_ctx *x)
{
    if (x->out)
        ombud_complaint_clear(x->out);
    if (x->note) {
        free(x->note->body);
        memset(x->note, 0, sizeof *x->note);
    }
}

static atomic_ullong changes_unlocked, changes_relocked;

void ombud_svc_complaint_change_stats(unsigned long long *unlocked, unsigned long long *relocked)
{
    *unlocked = atomic_load(&changes_unlocked);
    *relocked = atomic_load(&changes_relocked);
}

static enum ombud_rc change_fn(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct change_ctx *x = arg;
    /* A retried transaction starts again: drop what a failed run filled. */
    reset_outputs(x);
    return change_run(c, x->actor, x->id, x->expect, x->t, x->out, x->note,
                      x->unlocked ? &x->redo : NULL, err);
}

enum ombud_rc ombud_svc_complaint_change(struct ombud_db_pool *pool,
                                         const struct ombud_actor *actor, int64_t id,
                                         const struct ombud_expect *expect,
                                         const struct ombud_transition *t,
                                         struct ombud_complaint *out, struct ombud_note *note,
                                         struct ombud_err *err)
{
    struct change_ctx x = {actor, id, expect, t, out, note, false, false};
    enum ombud_rc rc;
    /* An action first tries the unlocked change, outside a transaction. */
    if (t->kind == OMBUD_CHANGE_ACTION) {
        x.unlocked = true;
        rc = ombud_db_run(pool, change_fn, &x, err);
        if (rc == OMBUD_OK)
            atomic_fetch_add(&changes_unlocked, 1);
        if (rc == OMBUD_OK || !x.redo)
            goto out;
        atomic_fetch_add(&changes_relocked, 1);
        x.unlocked = false;
        reset_outputs(&x);
    }
    rc = ombud_tx_run(pool, change_fn, &x, err);
out:
    if (rc != OMBUD_OK)
        reset_outputs(&x);
    return rc;
}
