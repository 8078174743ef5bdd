/* Escalation rules at work; see include/ombud/service/rules.h. */
#include "ombud/service/rules.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ombud/db/complaints.h"
#include "ombud/db/rules.h"
#include "ombud/repr.h"
#include "ombud/service/complaint.h"
#include "ombud/service/inval.h"
#include "ombud/service/sla.h"
#include "ombud/service/sla_wake.h"
#include "ombud/timefmt.h"

#define PAGE 500

/* ---- the cached active rules ---- */

struct rules {
    struct ombud_inval_snap snap; /* first: the slot's view of it */
    size_t n;
    struct ombud_rule *list; /* active ones, by (position, id) */
    size_t on[OMBUD_TRIG_COUNT];
};

static void rules_free(struct ombud_inval_snap *snap)
{
    struct rules *rs = (struct rules *)snap;
    ombud_rules_free(rs->list, rs->n);
    free(rs);
}

static struct ombud_inval_slot slot = OMBUD_INVAL_SLOT(rules_free);

static void rules_put(struct rules *rs)
{
    ombud_inval_slot_put(&slot, rs ? &rs->snap : NULL);
}

static int by_position(const void *a, const void *b)
{
    const struct ombud_rule *x = a, *y = b;
    if (x->position != y->position)
        return x->position < y->position ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static enum ombud_rc load(struct ombud_db_conn *c, struct rules *rs, struct ombud_err *err)
{
    int64_t after = 0;
    for (;;) {
        struct ombud_rule *page = NULL;
        size_t n = 0;
        enum ombud_rc rc = ombud_db_rule_list(c, after, PAGE, &page, &n, err);
        if (rc != OMBUD_OK)
            return rc;
        size_t take = n > PAGE ? PAGE : n;
        struct ombud_rule *grown = realloc(rs->list, (rs->n + take + 1) * sizeof *grown);
        if (!grown) {
            ombud_rules_free(page, n);
            return ombud_err_internal(err, "out of memory");
        }
        rs->list = grown;
        for (size_t i = 0; i < take; i++) {
            after = page[i].id;
            if (page[i].active) {
                rs->on[page[i].trigger]++;
                rs->list[rs->n++] = page[i]; /* takes its lists */
                memset(&page[i], 0, sizeof page[i]);
            }
        }
        ombud_rules_free(page, n);
        if (n <= PAGE)
            break;
    }
    qsort(rs->list, rs->n, sizeof *rs->list, by_position);
    return OMBUD_OK;
}

/* The active rules: the cached ones when current, else read (and cached
 * when this process is listening). The caller puts them back. */
static enum ombud_rc rules_get(struct ombud_db_conn *c, struct rules **out, struct ombud_err *err)
{
    bool listening = ombud_inval_listening();
    uint64_t gen = ombud_inval_generation(OMBUD_INVAL_RULES);
    *out = listening ? (struct rules *)ombud_inval_slot_get(&slot, gen) : NULL;
    if (*out)
        return OMBUD_OK;
    struct rules *rs = calloc(1, sizeof *rs);
    if (!rs)
        return ombud_err_internal(err, "out of memory");
    rs->snap.generation = gen;
    atomic_store(&rs->snap.refs, 1); /* the caller's */
    enum ombud_rc rc = load(c, rs, err);
    if (rc != OMBUD_OK) {
        rules_put(rs);
        return rc; /* OMBUD_RETRY reaches the runner */
    }
    if (listening)
        ombud_inval_slot_install(&slot, &rs->snap);
    *out = rs;
    return OMBUD_OK;
}

bool ombud_svc_rules_may_act_on(enum ombud_rule_trigger trigger, const struct ombud_complaint *cp)
{
    if (!ombud_inval_listening())
        return true;
    struct rules *rs =
        (struct rules *)ombud_inval_slot_get(&slot, ombud_inval_generation(OMBUD_INVAL_RULES));
    if (!rs)
        return true; /* not read yet, or stale: only the table can say */
    bool may = cp ? false : rs->on[trigger] > 0;
    for (size_t i = 0; cp && !may && rs->on[trigger] && i < rs->n; i++)
        may = rs->list[i].trigger == trigger && ombud_rule_holds(&rs->list[i], cp, NULL, 0);
    rules_put(rs);
    return may;
}

bool ombud_svc_rules_may_act(enum ombud_rule_trigger trigger)
{
    return ombud_svc_rules_may_act_on(trigger, NULL);
}

void ombud_svc_rules_reset(void)
{
    ombud_inval_slot_reset(&slot);
}

enum ombud_rc ombud_svc_rules_change(struct ombud_db_pool *pool, ombud_tx_fn fn, void *ctx,
                                     struct ombud_err *err)
{
    return ombud_inval_change(pool, OMBUD_INVAL_RULES, fn, ctx, err);
}

/* ---- acting ---- */

/* Whether err is a refusal of the change itself (the rules said no),
 * which leaves the transaction usable, rather than a database failure. */
static bool is_refusal(enum ombud_rc rc, const struct ombud_err *err)
{
    if (rc == OMBUD_RETRY || err->constraint[0])
        return false;
    return err->kind == OMBUD_E_INVALID || err->kind == OMBUD_E_CONFLICT ||
           err->kind == OMBUD_E_NOT_FOUND || err->kind == OMBUD_E_STALE;
}

/* One change by rule r to complaint id; cp becomes the complaint after it. */
static enum ombud_rc change_as_rule(struct ombud_db_conn *c, const struct ombud_rule *r, int64_t id,
                                    const struct ombud_transition *t, struct ombud_complaint *cp,
                                    struct ombud_err *err)
{
    struct ombud_actor actor = {.role = "rule", .rule_id = r->id};
    struct ombud_complaint next = {0};
    enum ombud_rc rc = ombud_svc_complaint_change_tx(c, &actor, id, NULL, t, &next, NULL, err);
    if (rc != OMBUD_OK)
        return rc;
    ombud_complaint_clear(cp);
    *cp = next;
    return OMBUD_OK;
}

/* r's actions on complaint cp (current, in the caller's transaction),
 * for the run of cycle on target whose moment was scheduled. A refusal
 * (err set, rc OMBUD_ERROR, transaction usable) is the caller's to record. */
static enum ombud_rc act(struct ombud_db_conn *c, const struct ombud_rule *r, const char *target,
                         int cycle, int64_t scheduled, struct ombud_complaint *cp,
                         struct ombud_err *err)
{
    struct ombud_transition esc, edit;
    bool has_esc, has_edit;
    int64_t id = cp->id, alert_id;
    enum ombud_rc rc;

    ombud_rule_changes(r, &esc, &has_esc, &edit, &has_edit);
    if (has_esc && (rc = change_as_rule(c, r, id, &esc, cp, err)) != OMBUD_OK)
        return rc;
    if (has_edit && (rc = change_as_rule(c, r, id, &edit, cp, err)) != OMBUD_OK)
        return rc;
    if (r->notify)
        return ombud_db_rule_alert_insert(c, r->id, id, target, cycle, cp->escalation_level,
                                          scheduled, &alert_id, err);
    return OMBUD_OK;
}

/* The calendar the complaint's delays count in: its current policy's,
 * as its clocks carry it; none (wall clock) without clocks. */
static int64_t calendar_of(const struct ombud_complaint *cp)
{
    if (cp->sla_have[OMBUD_SLA_RESOLUTION])
        return cp->sla[OMBUD_SLA_RESOLUTION].calendar_id;
    if (cp->sla_have[OMBUD_SLA_FIRST_RESPONSE])
        return cp->sla[OMBUD_SLA_FIRST_RESPONSE].calendar_id;
    return 0;
}

/* A pending run due at due: the worker of this process wakes for it
 * once committed if that is sooner than it planned. */
static enum ombud_rc schedule(struct ombud_db_conn *c, const struct ombud_rule *r,
                              int64_t complaint_id, int cycle, const char *target, int64_t moment,
                              int64_t due, struct ombud_err *err)
{
    bool inserted;
    enum ombud_rc rc = ombud_db_rule_run_insert(c, r->id, complaint_id, cycle, target, moment, due,
                                                "pending", &inserted, err);
    if (rc == OMBUD_OK && inserted)
        rc = ombud_db_after_commit(c, ombud_sla_wake_moment, due, err);
    return rc;
}

/* The skip of a run, in the timeline, by the rule. */
static enum ombud_rc record_skip(struct ombud_db_conn *c, const struct ombud_rule_run *run,
                                 const char *reason, struct ombud_err *err)
{
    struct ombud_actor actor = {.role = "rule", .rule_id = run->rule_id};
    enum ombud_rc rc = ombud_db_rule_run_finish(c, run, "skipped", reason, err);
    if (rc != OMBUD_OK)
        return rc;
    char *data = ombud_repr_rule_skipped_data(run->rule_id, reason);
    if (!data)
        return ombud_err_internal(err, "out of memory");
    rc = ombud_db_event_add(c, run->complaint_id, "rule_skipped", &actor, data, err);
    free(data);
    return rc;
}

enum ombud_rc ombud_svc_rules_on_change(struct ombud_db_conn *c, struct ombud_complaint *cp,
                                        enum ombud_rule_trigger trigger, int64_t moment,
                                        struct ombud_err *err)
{
    struct rules *rs = NULL;
    enum ombud_rc rc = rules_get(c, &rs, err);
    if (rc != OMBUD_OK)
        return rc;
    int cycle = cp->resolution_cycle;
    for (size_t i = 0; rc == OMBUD_OK && i < rs->n; i++) {
        const struct ombud_rule *r = &rs->list[i];
        bool inserted;
        if (r->trigger != trigger || !ombud_rule_holds(r, cp, NULL, 0))
            continue;
        if (r->delay_minutes > 0) {
            int64_t due;
            if ((rc = ombud_svc_business_add(c, calendar_of(cp), moment, r->delay_minutes, &due,
                                             err)) == OMBUD_OK)
                rc = schedule(c, r, cp->id, cycle, "any", moment, due, err);
            continue;
        }
        /* Written pending and finished in this transaction: no one else
         * sees it pending. */
        struct ombud_rule_run run = {.rule_id = r->id, .complaint_id = cp->id, .cycle = cycle};
        rc = ombud_db_rule_run_insert(c, r->id, cp->id, cycle, "any", moment, moment, "pending",
                                      &inserted, err);
        if (rc != OMBUD_OK || !inserted)
            continue;
        rc = act(c, r, "any", cycle, moment, cp, err);
        if (rc == OMBUD_OK)
            rc = ombud_db_rule_run_finish(c, &run, "fired", NULL, err);
        else if (is_refusal(rc, err)) {
            char why[600];
            snprintf(why, sizeof why, "could not act: %.400s", err->detail);
            ombud_err_clear(err);
            rc = record_skip(c, &run, why, err);
        }
    }
    rules_put(rs);
    return rc;
}

enum ombud_rc ombud_svc_rules_on_alert(struct ombud_db_conn *c, int64_t complaint_id, bool breach,
                                       enum ombud_sla_target target, int cycle, int64_t moment,
                                       int64_t calendar_id, struct ombud_err *err)
{
    enum ombud_rule_trigger trigger = breach ? OMBUD_TRIG_SLA_BREACH : OMBUD_TRIG_SLA_WARNING;
    if (!ombud_svc_rules_may_act(trigger))
        return OMBUD_OK;
    struct rules *rs = NULL;
    enum ombud_rc rc = rules_get(c, &rs, err);
    if (rc != OMBUD_OK)
        return rc;
    struct ombud_complaint cp = {0};
    bool loaded = false, found;
    for (size_t i = 0; rc == OMBUD_OK && i < rs->n; i++) {
        const struct ombud_rule *r = &rs->list[i];
        int64_t due = moment;
        if (!ombud_rule_watches(r, trigger, target))
            continue;
        /* The complaint as it is at the trigger (read once, not locked:
         * the pass holds the clock, not the complaint). */
        if (!loaded) {
            if ((rc = ombud_db_complaint_get(c, complaint_id, false, &cp, &found, err)) !=
                    OMBUD_OK ||
                !found)
                break;
            loaded = true;
        }
        if (!ombud_rule_holds(r, &cp, NULL, 0))
            continue;
        if (r->delay_minutes > 0 &&
            (rc = ombud_svc_business_add(c, calendar_id, moment, r->delay_minutes, &due, err)) !=
                OMBUD_OK)
            break;
        /* Weighed again when it falls due (at once without a delay). */
        rc = schedule(c, r, complaint_id, cycle, ombud_sla_target_name(target), moment, due, err);
    }
    ombud_complaint_clear(&cp);
    rules_put(rs);
    return rc;
}

/* ---- the worker's side: one due run ---- */

struct due {
    int64_t now;
    bool done;
    struct ombud_rule_run run; /* the claimed run, for a failure's record */
};

static const struct ombud_rule *find_rule(const struct rules *rs, int64_t id)
{
    for (size_t i = 0; i < rs->n; i++)
        if (rs->list[i].id == id)
            return &rs->list[i];
    return NULL;
}

/* Why run may not fire for cp now ("" when it may). */
static void skip_reason(const struct ombud_rule *r, const struct ombud_rule_run *run,
                        const struct ombud_complaint *cp, char *why, size_t len)
{
    char cond[384];
    why[0] = '\0';
    if (!r)
        snprintf(why, len, "the rule is no longer active");
    else if (!ombud_status_is_open(cp->status))
        snprintf(why, len, "the complaint is %s", ombud_status_name(cp->status));
    else if (run->cycle != cp->resolution_cycle)
        snprintf(why, len, "the complaint was reopened: cycle %d has ended", run->cycle);
    else if (!ombud_rule_holds(r, cp, cond, sizeof cond))
        snprintf(why, len, "conditions no longer hold: %s", cond);
}

static enum ombud_rc due_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct due *d = arg;
    struct rules *rs = NULL;
    struct ombud_complaint cp = {0};
    struct ombud_rule fresh = {0};
    struct ombud_actor system = {.role = "system"};
    bool found;
    char why[512];
    enum ombud_rc rc;

    d->done = false;
    if ((rc = ombud_db_rule_run_claim(c, d->now, &d->run, &found, err)) != OMBUD_OK || !found)
        return rc;
    d->done = true;
    if ((rc = rules_get(c, &rs, err)) != OMBUD_OK ||
        (rc = ombud_svc_complaint_load(c, &system, d->run.complaint_id, true, &cp, err)) !=
            OMBUD_OK)
        goto out;
    const struct ombud_rule *r = find_rule(rs, d->run.rule_id);
    /* Not among the cached active rules: perhaps made (or made active)
     * a moment ago, its notice not here yet. The table decides. */
    if (!r) {
        if ((rc = ombud_db_rule_get(c, d->run.rule_id, &fresh, &found, err)) != OMBUD_OK)
            goto out;
        if (found && fresh.active)
            r = &fresh;
    }
    skip_reason(r, &d->run, &cp, why, sizeof why);
    if (why[0]) {
        rc = record_skip(c, &d->run, why, err);
        goto out;
    }
    rc = act(c, r, d->run.target, d->run.cycle, d->run.due_at, &cp, err);
    if (rc == OMBUD_OK)
        rc = ombud_db_rule_run_finish(c, &d->run, "fired", NULL, err);
    else if (is_refusal(rc, err)) {
        snprintf(why, sizeof why, "could not act: %.400s", err->detail);
        ombud_err_clear(err);
        rc = record_skip(c, &d->run, why, err);
    }
out:
    ombud_rule_clear(&fresh);
    ombud_complaint_clear(&cp);
    rules_put(rs);
    return rc;
}

struct failed {
    const struct ombud_rule_run *run;
    const char *why;
};

static enum ombud_rc failed_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    const struct failed *f = arg;
    return record_skip(c, f->run, f->why, err);
}

enum ombud_rc ombud_svc_rules_run_due(struct ombud_db_conn *c, int64_t now, bool *done,
                                      struct ombud_err *err)
{
    struct due d = {.now = now};
    enum ombud_rc rc = ombud_tx_run_on(c, due_tx, &d, err);
    *done = d.done;
    if (rc == OMBUD_OK || !d.done || !ombud_db_conn_ok(c))
        return rc;
    /* The run cannot be carried out (a failure of ours, not an outage):
     * recorded as skipped, so that it does not block the ones after it. */
    char why[512];
    snprintf(why, sizeof why, "could not act: %.400s", err->detail);
    struct failed f = {&d.run, why};
    struct ombud_err err2;
    ombud_err_clear(&err2);
    enum ombud_rc rc2 = ombud_tx_run_on(c, failed_tx, &f, &err2);
    return rc2 == OMBUD_OK ? rc : rc2;
}

/* ---- what is pending for a complaint ---- */

/* The scheduled moment of r's SLA trigger in clock k, 0 when none is
 * ahead (met, stopped, or the trigger already happened). */
static int64_t sla_moment(const struct ombud_rule *r, const struct ombud_sla_clock *k)
{
    if (k->met_at)
        return 0;
    if (r->trigger == OMBUD_TRIG_SLA_BREACH)
        return k->breached ? 0 : k->due_at;
    for (size_t w = 0; w < k->nwarnings; w++)
        if (k->warnings[w].raised_at)
            return 0; /* a warning of this cycle was raised already */
    return k->nwarnings ? k->warnings[0].at : 0;
}

/* The pending status of an SLA rule with no run yet: the soonest of its
 * targets' moments plus its delay; false when none is ahead. */
static enum ombud_rc sla_pending(struct ombud_db_conn *c, const struct ombud_rule *r,
                                 const struct ombud_complaint *cp, struct ombud_rule_status *st,
                                 bool *listed, struct ombud_err *err)
{
    int64_t best = -1, cal = 0;
    *listed = false;
    for (int t = 0; t < 2; t++) {
        const struct ombud_sla_clock *k = &cp->sla[t];
        if (!cp->sla_have[t] || !ombud_rule_watches(r, r->trigger, (enum ombud_sla_target)t))
            continue;
        int64_t m = sla_moment(r, k);
        bool paused = !k->met_at && !k->running_since && !k->due_at;
        if (!m && !paused)
            continue;
        *listed = true;
        if (m && (best < 0 || m < best)) {
            best = m;
            cal = k->calendar_id;
        }
    }
    if (!*listed)
        return OMBUD_OK;
    st->due_at = 0; /* unknown while paused */
    if (best > 0) {
        st->due_at = best;
        if (r->delay_minutes > 0)
            return ombud_svc_business_add(c, cal, best, r->delay_minutes, &st->due_at, err);
    }
    return OMBUD_OK;
}

enum ombud_rc ombud_svc_rules_of_complaint(struct ombud_db_conn *c, const struct ombud_actor *actor,
                                           int64_t id, struct ombud_rule_status **out, size_t *n,
                                           struct ombud_err *err)
{
    struct ombud_complaint cp = {0};
    struct ombud_rule_run *runs = NULL;
    size_t nruns = 0;
    struct rules *rs = NULL;
    enum ombud_rc rc;

    *out = NULL;
    *n = 0;
    if ((rc = ombud_svc_complaint_load(c, actor, id, false, &cp, err)) != OMBUD_OK ||
        (rc = ombud_db_rule_runs_of(c, id, cp.resolution_cycle, &runs, &nruns, err)) != OMBUD_OK ||
        (rc = rules_get(c, &rs, err)) != OMBUD_OK)
        goto out;
    if (!(*out = calloc(rs->n + 1, sizeof **out))) {
        rc = ombud_err_internal(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < rs->n; i++) {
        const struct ombud_rule *r = &rs->list[i];
        struct ombud_rule_status *st = &(*out)[*n];
        const struct ombud_rule_run *run = NULL;
        bool listed = false;
        for (size_t j = 0; j < nruns; j++)
            if (runs[j].rule_id == r->id)
                run = &runs[j];
        memset(st, 0, sizeof *st);
        st->rule_id = r->id;
        snprintf(st->name, sizeof st->name, "%s", r->name);
        st->trigger = r->trigger;
        st->target = r->target;
        if (run) {
            listed = true;
            snprintf(st->state, sizeof st->state, "%s", run->state);
            st->due_at = run->due_at;
            st->fired_at = strcmp(run->state, "fired") == 0 ? run->done_at : 0;
            snprintf(st->reason, sizeof st->reason, "%s", run->reason);
        } else if ((r->trigger == OMBUD_TRIG_SLA_WARNING || r->trigger == OMBUD_TRIG_SLA_BREACH) &&
                   ombud_status_is_open(cp.status) && ombud_rule_holds(r, &cp, NULL, 0)) {
            /* Ahead: scheduled if its conditions still hold at the trigger. */
            if ((rc = sla_pending(c, r, &cp, st, &listed, err)) != OMBUD_OK)
                goto out;
            snprintf(st->state, sizeof st->state, "pending");
        }
        if (listed)
            (*n)++;
    }
out:
    if (rc != OMBUD_OK) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    free(runs);
    rules_put(rs);
    ombud_complaint_clear(&cp);
    return rc;
}
