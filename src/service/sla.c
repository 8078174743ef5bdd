/*
 * SLA service; see include/ombud/service/sla.h. DESIGN: the operation's
 * needs (domain ombud_sla_op_needs) say what to read; the statements run
 * in the same order as always (policy, locked clocks, new cycle, apply,
 * save, complaint's policy) so lock order stays the same for every
 * writer of a complaint.
 *
 * No NOTIFY: it would take PostgreSQL's global notification lock from
 * this transaction's commit to the end of its WAL flush (commits would
 * queue on it) and wake every process's worker for a pass. A saved
 * clock whose next moment comes before this process's worker means to
 * look again wakes that worker in-process once the transaction has
 * committed (service/sla_wake.h); other processes' workers find it by
 * looking at least once a second.
 */
#include "ombud/service/sla.h"

#include "ombud/db/policies.h"
#include "ombud/db/sla.h"
#include "ombud/service/sla_wake.h"

enum ombud_rc ombud_svc_sla_apply(struct ombud_db_conn *c, const struct ombud_complaint *cp,
                                  enum ombud_sla_op op, int64_t now, struct ombud_err *err)
{
    const struct ombud_sla_op_needs *needs = ombud_sla_op_needs(op);
    struct ombud_sla_clock k[2];
    bool have[2] = {false, false}, found = false, changed[2];
    struct ombud_sla_policy pol = {0};
    struct ombud_bt_calendar cal = {0}, newcal = {0};
    struct ombud_sla_basis basis = {.clock_cal = &cal, .cycle = cp->resolution_cycle};
    enum ombud_rc rc = OMBUD_OK;

    /* Every failure keeps its code: OMBUD_RETRY must reach the runner. */
    if (needs->policy) {
        if ((rc = ombud_db_policy_select(c, cp->priority, cp->grade, cp->category, cp->channel,
                                         cp->customer_tier, &pol, &found, err)) != OMBUD_OK)
            goto out;
        if (!found && needs->skip_no_policy)
            goto out; /* no policy applies: no clocks */
        if (found && (rc = ombud_db_sla_calendar(c, pol.calendar_id, &newcal, err)) != OMBUD_OK)
            goto out;
        if (found) {
            basis.policy = &pol;
            basis.policy_cal = &newcal;
        }
    }
    if (needs->clocks) {
        if ((rc = ombud_db_sla_load_locked(c, cp->id, k, have, err)) != OMBUD_OK)
            goto out;
        if (!have[0] && !have[1] && needs->skip_no_clocks)
            goto out; /* the complaint has no clocks */
    }
    /* The calendar of the existing clocks (both share the policy's). */
    int64_t cal_id = have[1] ? k[1].calendar_id : have[0] ? k[0].calendar_id : 0;
    if (cal_id && (rc = ombud_db_sla_calendar(c, cal_id, &cal, err)) != OMBUD_OK)
        goto out;
    if (needs->new_cycle && (rc = ombud_db_sla_new_cycle(c, cp->id, &basis.cycle, err)) != OMBUD_OK)
        goto out;

    ombud_sla_apply_op(k, have, op, &basis, now, changed);

    int64_t soonest = 0; /* the earliest next moment among the saved clocks */
    for (int i = 0; i < 2; i++) {
        if (!changed[i])
            continue;
        if ((rc = ombud_db_sla_save_clock(c, cp->id, &k[i], err)) != OMBUD_OK)
            goto out;
        if (k[i].next_alert_at && (!soonest || k[i].next_alert_at < soonest))
            soonest = k[i].next_alert_at;
    }
    if (found && pol.id != cp->sla_policy_id &&
        (rc = ombud_db_sla_set_policy(c, cp->id, pol.id, err)) != OMBUD_OK)
        goto out;
    if (soonest)
        rc = ombud_db_after_commit(c, ombud_sla_wake_moment, soonest, err);
out:
    ombud_sla_policy_clear(&pol);
    ombud_bt_calendar_clear(&cal);
    ombud_bt_calendar_clear(&newcal);
    return rc;
}
