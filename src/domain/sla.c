/*
 * SLA clocks; see include/ombud/sla.h. All instants are seconds.
 */
#include "ombud/sla.h"

#include <stdlib.h>
#include <string.h>

const char *const ombud_sla_match_names[5] = {"priorities", "grades", "categories", "channels",
                                              "customer_tiers"};

void ombud_sla_policy_clear(struct ombud_sla_policy *p)
{
    for (int i = 0; i < 5; i++)
        free(p->match_json[i]);
    memset(p, 0, sizeof *p);
}

const char *ombud_sla_target_name(enum ombud_sla_target t)
{
    return t == OMBUD_SLA_FIRST_RESPONSE ? "first_response" : "resolution";
}

static int cmp_threshold(const void *a, const void *b)
{
    const struct ombud_sla_warning *x = a, *y = b;
    return (x->threshold > y->threshold) - (x->threshold < y->threshold);
}

/* The ladder for a target: thresholds sorted, those at or before the
 * start left out, levels numbered 1, 2, … in order. */
static void ladder(struct ombud_sla_clock *c, const struct ombud_sla_policy *p)
{
    c->nwarnings = 0;
    for (size_t i = 0; i < p->nwarnings && i < OMBUD_SLA_MAX_WARNINGS; i++) {
        int64_t th = p->warnings[i].percent ? c->target_seconds * p->warnings[i].value / 100
                                            : c->target_seconds - p->warnings[i].value * 60;
        if (th <= 0)
            continue;
        c->warnings[c->nwarnings++] = (struct ombud_sla_warning){0, th, 0, 0};
    }
    qsort(c->warnings, c->nwarnings, sizeof c->warnings[0], cmp_threshold);
    for (size_t i = 0; i < c->nwarnings; i++)
        c->warnings[i].level = (int)i + 1;
}

static int64_t target_of(const struct ombud_sla_policy *p, enum ombud_sla_target t)
{
    return (t == OMBUD_SLA_FIRST_RESPONSE ? p->first_response_minutes : p->resolution_minutes) * 60;
}

void ombud_sla_clock_plan(struct ombud_sla_clock *c, const struct ombud_bt_calendar *cal,
                          int64_t now)
{
    c->next_alert_at = 0;
    if (c->met_at || !c->running_since) {
        if (!c->met_at)
            c->due_at = 0;
        for (size_t i = 0; i < c->nwarnings; i++)
            if (!c->warnings[i].raised_at)
                c->warnings[i].at = 0;
        return;
    }
    int64_t left = c->target_seconds - c->elapsed_seconds;
    if (left > 0) {
        if (!ombud_bt_add(cal, c->running_since, left, &c->due_at))
            c->due_at = 0;
    } else if (!c->due_at) {
        c->due_at = now; /* already overdue when it became known */
    }
    bool breach_known_past = left <= 0 && !c->breach_raised_at;
    for (size_t i = 0; i < c->nwarnings; i++) {
        struct ombud_sla_warning *w = &c->warnings[i];
        if (w->raised_at)
            continue;
        int64_t wl = w->threshold - c->elapsed_seconds;
        if (wl > 0) {
            if (!ombud_bt_add(cal, c->running_since, wl, &w->at))
                w->at = 0;
        } else if (breach_known_past) {
            w->raised_at = -1; /* the breach is past too: only the breach is raised */
            w->at = 0;
        } else if (!w->at || w->at > now) {
            w->at = now; /* past when it became known: raise at once */
        }
    }
    for (size_t i = 0; i < c->nwarnings; i++)
        if (!c->warnings[i].raised_at && c->warnings[i].at &&
            (!c->next_alert_at || c->warnings[i].at < c->next_alert_at))
            c->next_alert_at = c->warnings[i].at;
    if (!c->breach_raised_at && c->due_at && (!c->next_alert_at || c->due_at < c->next_alert_at))
        c->next_alert_at = c->due_at;
}

void ombud_sla_clock_start(struct ombud_sla_clock *c, const struct ombud_bt_calendar *cal,
                           const struct ombud_sla_policy *p, enum ombud_sla_target target,
                           int cycle, int64_t now)
{
    memset(c, 0, sizeof *c);
    c->target = target;
    c->cycle = cycle;
    c->policy_id = p->id;
    c->calendar_id = p->calendar_id;
    c->target_seconds = target_of(p, target);
    c->running_since = now;
    ladder(c, p);
    ombud_sla_clock_plan(c, cal, now);
}

/* Folds the running segment into elapsed_seconds, up to now. */
static void fold(struct ombud_sla_clock *c, const struct ombud_bt_calendar *cal, int64_t now)
{
    if (c->running_since && now > c->running_since)
        c->elapsed_seconds += ombud_bt_between(cal, c->running_since, now);
    if (c->running_since)
        c->running_since = now;
}

void ombud_sla_clock_pause(struct ombud_sla_clock *c, const struct ombud_bt_calendar *cal,
                           int64_t now)
{
    if (c->met_at || !c->running_since)
        return;
    fold(c, cal, now);
    c->running_since = 0;
    ombud_sla_clock_plan(c, cal, now);
}

void ombud_sla_clock_resume(struct ombud_sla_clock *c, const struct ombud_bt_calendar *cal,
                            int64_t now)
{
    if (c->met_at || c->running_since)
        return;
    c->running_since = now;
    ombud_sla_clock_plan(c, cal, now);
}

void ombud_sla_clock_meet(struct ombud_sla_clock *c, const struct ombud_bt_calendar *cal,
                          int64_t now)
{
    if (c->met_at)
        return;
    fold(c, cal, now);
    if (c->elapsed_seconds > c->target_seconds || (c->due_at && now > c->due_at))
        c->breached = true; /* met late counts as breached */
    c->met_at = now;
    c->running_since = 0;
    c->next_alert_at = 0;
}

void ombud_sla_clock_reselect(struct ombud_sla_clock *c, const struct ombud_bt_calendar *old_cal,
                              const struct ombud_bt_calendar *cal, const struct ombud_sla_policy *p,
                              int64_t now)
{
    if (c->met_at) /* a target already met stays met */
        return;
    /* The running segment [seg_start, now) began with seg_elapsed business
     * seconds on the clock: a threshold crossed inside it has a known
     * moment. One crossed before the last pause is dated now. */
    int64_t seg_start = c->running_since, seg_elapsed = c->elapsed_seconds;
    fold(c, old_cal, now);
    for (size_t i = 0; i < c->nwarnings; i++)
        if (c->warnings[i].raised_at > 0 && c->warnings[i].level >= 1 &&
            c->warnings[i].level <= OMBUD_SLA_MAX_WARNINGS)
            c->raised_history[c->warnings[i].level - 1] = c->warnings[i].raised_at;
    c->policy_id = p->id;
    c->calendar_id = p->calendar_id;
    c->target_seconds = target_of(p, c->target);
    ladder(c, p);

    int64_t passed_at;
    /* Warnings already raised stay raised (by level). */
    for (size_t i = 0; i < c->nwarnings; i++) {
        struct ombud_sla_warning *w = &c->warnings[i];
        int64_t raised = c->raised_history[w->level - 1];
        if (raised) {
            w->raised_at = raised;
            w->at = raised;
        } else if (w->threshold <= c->elapsed_seconds) {
            w->at = seg_start && w->threshold >= seg_elapsed &&
                            ombud_bt_add(old_cal, seg_start, w->threshold - seg_elapsed, &passed_at)
                        ? passed_at
                        : now;
        }
    }
    if (!c->breach_raised_at) {
        c->due_at = 0; /* recomputed from the new target */
        if (c->target_seconds <= c->elapsed_seconds && seg_start &&
            c->target_seconds >= seg_elapsed &&
            ombud_bt_add(old_cal, seg_start, c->target_seconds - seg_elapsed, &passed_at))
            c->due_at = passed_at; /* past already: the moment it passed */
    }
    ombud_sla_clock_plan(c, cal, now);
}

size_t ombud_sla_clock_fire(struct ombud_sla_clock *c, int64_t now, int *levels, bool *breach)
{
    size_t n = 0;
    *breach = false;
    if (c->met_at || !c->running_since)
        return 0;
    if (!c->breach_raised_at && c->due_at && c->due_at <= now) {
        *breach = true;
        c->breached = true;
        c->breach_raised_at = now;
    }
    for (size_t i = 0; i < c->nwarnings; i++) {
        struct ombud_sla_warning *w = &c->warnings[i];
        if (!w->raised_at && w->at && w->at <= now) {
            w->raised_at = now;
            if (w->level >= 1 && w->level <= OMBUD_SLA_MAX_WARNINGS)
                c->raised_history[w->level - 1] = now;
            levels[n++] = w->level;
        }
    }
    return n;
}

const char *ombud_sla_clock_state(const struct ombud_sla_clock *c, int64_t now)
{
    if (c->met_at)
        return "met";
    if (!c->running_since)
        return "paused";
    if (c->breached || (c->due_at && now >= c->due_at))
        return "breached";
    if (c->nwarnings && c->warnings[0].at && now >= c->warnings[0].at)
        return "at_risk";
    return "on_track";
}

/* ---- operations on a complaint's two clocks ---- */

/* Designated initializers: an op left out needs nothing and skips nothing. */
static const struct ombud_sla_op_needs op_needs[] = {
    [OMBUD_SLA_OP_START] = {.policy = true, .skip_no_policy = true},
    [OMBUD_SLA_OP_PAUSE] = {.clocks = true, .skip_no_clocks = true},
    [OMBUD_SLA_OP_RESUME] = {.clocks = true, .skip_no_clocks = true},
    [OMBUD_SLA_OP_MEET_FR] = {.clocks = true, .skip_no_clocks = true},
    [OMBUD_SLA_OP_MEET_RES] = {.clocks = true, .skip_no_clocks = true},
    [OMBUD_SLA_OP_STOP] = {.clocks = true, .skip_no_clocks = true},
    /* A reopened complaint gets a new cycle even when no policy applies
     * any more or it never had clocks: the cycle numbers the reopening. */
    [OMBUD_SLA_OP_REOPEN] = {.policy = true, .clocks = true, .new_cycle = true},
    [OMBUD_SLA_OP_RESELECT] = {.policy = true,
                               .clocks = true,
                               .skip_no_policy = true,
                               .skip_no_clocks = true},
};

const struct ombud_sla_op_needs *ombud_sla_op_needs(enum ombud_sla_op op)
{
    return &op_needs[op];
}

void ombud_sla_apply_op(struct ombud_sla_clock k[2], bool have[2], enum ombud_sla_op op,
                        const struct ombud_sla_basis *b, int64_t now, bool changed[2])
{
    const struct ombud_sla_policy *pol = b->policy;
    changed[0] = changed[1] = false;
    switch (op) {
    case OMBUD_SLA_OP_START:
        if (!pol)
            return;
        ombud_sla_clock_start(&k[0], b->policy_cal, pol, OMBUD_SLA_FIRST_RESPONSE, 1, now);
        ombud_sla_clock_start(&k[1], b->policy_cal, pol, OMBUD_SLA_RESOLUTION,
                              b->cycle ? b->cycle : 1, now);
        have[0] = have[1] = changed[0] = changed[1] = true;
        break;
    case OMBUD_SLA_OP_PAUSE:
    case OMBUD_SLA_OP_RESUME:
        for (int i = 0; i < 2; i++)
            if (have[i]) {
                if (op == OMBUD_SLA_OP_PAUSE)
                    ombud_sla_clock_pause(&k[i], b->clock_cal, now);
                else
                    ombud_sla_clock_resume(&k[i], b->clock_cal, now);
                changed[i] = true;
            }
        break;
    case OMBUD_SLA_OP_MEET_RES:
        if (have[1]) {
            ombud_sla_clock_meet(&k[1], b->clock_cal, now);
            changed[1] = true;
        }
        /* resolving is also a first response */
        __attribute__((fallthrough));
    case OMBUD_SLA_OP_MEET_FR:
        if (have[0] && !k[0].met_at) {
            ombud_sla_clock_meet(&k[0], b->clock_cal, now);
            changed[0] = true;
        }
        break;
    case OMBUD_SLA_OP_STOP:
        for (int i = 0; i < 2; i++)
            if (have[i] && !k[i].met_at && k[i].running_since) {
                ombud_sla_clock_pause(&k[i], b->clock_cal, now);
                k[i].next_alert_at = 0;
                changed[i] = true;
            }
        break;
    case OMBUD_SLA_OP_REOPEN:
        /* A new resolution cycle; the old cycle's clock stays as history.
         * First response was met once and for all. */
        if (pol) {
            ombud_sla_clock_start(&k[1], b->policy_cal, pol, OMBUD_SLA_RESOLUTION, b->cycle, now);
            have[1] = changed[1] = true;
        }
        break;
    case OMBUD_SLA_OP_RESELECT:
        if (!pol)
            return;
        for (int i = 0; i < 2; i++)
            if (have[i] && k[i].policy_id != pol->id) {
                ombud_sla_clock_reselect(&k[i], b->clock_cal, b->policy_cal, pol, now);
                changed[i] = true;
            }
        break;
    }
}

size_t ombud_sla_clock_take_due(struct ombud_sla_clock *c, int64_t now,
                                struct ombud_sla_due_alert *out)
{
    /* The moments as planned: firing marks them raised. */
    int64_t due = c->due_at, at[OMBUD_SLA_MAX_WARNINGS];
    for (size_t w = 0; w < c->nwarnings; w++)
        at[w] = c->warnings[w].at;
    int levels[OMBUD_SLA_MAX_WARNINGS];
    bool breach;
    size_t nw = ombud_sla_clock_fire(c, now, levels, &breach), n = 0;
    if (breach)
        out[n++] = (struct ombud_sla_due_alert){true, 0, due};
    for (size_t j = 0; j < nw; j++) {
        size_t w = (size_t)levels[j] - 1; /* the ladder numbers levels by position */
        out[n++] = (struct ombud_sla_due_alert){false, levels[j], w < c->nwarnings ? at[w] : now};
    }
    return n;
}
