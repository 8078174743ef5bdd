/*
 * SLA service; see include/ombud/service/sla.h. DESIGN: the operation's
 * needs (domain ombud_sla_op_needs) say what it uses: the policy matching
 * the complaint and the calendars come from the per-process cache
 * (service/sla_config.c), or from the database while it is bypassed; the
 * clocks come with the complaint, read and locked in the same statement
 * by the caller. Nothing is written here: the caller stores the changed
 * clocks, the policy and the cycle with the complaint, in one statement.
 *
 * No NOTIFY: it would take PostgreSQL's global notification lock from
 * the transaction's commit to the end of its WAL flush (commits would
 * queue on it) and wake every process's worker for a pass. A changed
 * clock whose next moment comes before this process's worker means to
 * look again wakes that worker in-process once the transaction has
 * committed (service/sla_wake.h); other processes' workers find it by
 * looking at least once a second.
 */
#include "ombud/service/sla.h"

#include "ombud/db/policies.h"
#include "ombud/db/sla.h"
#include "ombud/service/sla_config.h"
#include "ombud/service/sla_wake.h"

/* A calendar from cfg, else compiled from the database into *own. */
static enum ombud_rc calendar(struct ombud_db_conn *c, const struct ombud_sla_config *cfg,
                              int64_t id, const struct ombud_bt_calendar **out,
                              struct ombud_bt_calendar *own, struct ombud_err *err)
{
    *out = cfg ? ombud_svc_sla_config_calendar(cfg, id) : NULL;
    if (*out)
        return OMBUD_OK;
    enum ombud_rc rc = ombud_db_sla_calendar(c, id, own, err);
    *out = own;
    return rc;
}

enum ombud_rc ombud_svc_sla_apply(struct ombud_db_conn *c, const struct ombud_complaint *cp,
                                  enum ombud_sla_op op, int64_t now, struct ombud_sla_clock k[2],
                                  bool have[2], bool changed[2], struct ombud_sla_outcome *o,
                                  struct ombud_err *err)
{
    const struct ombud_sla_op_needs *needs = ombud_sla_op_needs(op);
    struct ombud_sla_config *cfg = NULL;
    const struct ombud_sla_policy *pol = NULL;
    struct ombud_sla_policy own_pol = {0};
    struct ombud_bt_calendar own_cal = {0}, own_newcal = {0};
    const struct ombud_bt_calendar *cal = &own_cal, *newcal = NULL;
    struct ombud_sla_basis basis = {.clock_cal = &own_cal, .cycle = cp->resolution_cycle};
    bool found = false;
    enum ombud_rc rc = OMBUD_OK;

    changed[0] = changed[1] = false;
    o->policy_id = 0;
    o->cycle = 0;
    if (!needs->clocks)
        have[0] = have[1] = false; /* START: the complaint has none yet */
    /* Every failure keeps its code: OMBUD_RETRY must reach the runner. */
    if ((rc = ombud_svc_sla_config_get(c, &cfg, err)) != OMBUD_OK)
        goto out;
    if (needs->policy) {
        if (cfg) {
            pol = ombud_svc_sla_config_match(cfg, cp->priority, cp->grade, cp->category,
                                             cp->channel, cp->customer_tier);
        } else {
            if ((rc = ombud_db_policy_select(c, cp->priority, cp->grade, cp->category, cp->channel,
                                             cp->customer_tier, &own_pol, &found, err)) != OMBUD_OK)
                goto out;
            pol = found ? &own_pol : NULL;
        }
        if (!pol && needs->skip_no_policy)
            goto out; /* no policy applies: no clocks */
        if (pol && (rc = calendar(c, cfg, pol->calendar_id, &newcal, &own_newcal, err)) != OMBUD_OK)
            goto out;
        if (pol) {
            basis.policy = pol;
            basis.policy_cal = newcal;
        }
    }
    if (needs->clocks && !have[0] && !have[1] && needs->skip_no_clocks)
        goto out; /* the complaint has no clocks */
    /* The calendar of the existing clocks (both share the policy's). */
    int64_t cal_id = have[1] ? k[1].calendar_id : have[0] ? k[0].calendar_id : 0;
    if (cal_id && (rc = calendar(c, cfg, cal_id, &cal, &own_cal, err)) != OMBUD_OK)
        goto out;
    basis.clock_cal = cal;
    /* The complaint is locked: its next cycle is ours to take. */
    if (needs->new_cycle)
        o->cycle = basis.cycle = cp->resolution_cycle + 1;

    ombud_sla_apply_op(k, have, op, &basis, now, changed);

    if (pol && pol->id != cp->sla_policy_id)
        o->policy_id = pol->id;
    int64_t soonest = 0; /* the earliest next moment among the changed clocks */
    for (int i = 0; i < 2; i++)
        if (changed[i] && k[i].next_alert_at && (!soonest || k[i].next_alert_at < soonest))
            soonest = k[i].next_alert_at;
    if (soonest)
        rc = ombud_db_after_commit(c, ombud_sla_wake_moment, soonest, err);
out:
    ombud_svc_sla_config_put(cfg);
    ombud_sla_policy_clear(&own_pol);
    ombud_bt_calendar_clear(&own_cal);
    ombud_bt_calendar_clear(&own_newcal);
    return rc;
}

enum ombud_rc ombud_svc_business_add(struct ombud_db_conn *c, int64_t calendar_id, int64_t from,
                                     int64_t minutes, int64_t *due, struct ombud_err *err)
{
    struct ombud_sla_config *cfg = NULL;
    struct ombud_bt_calendar own = {0};
    const struct ombud_bt_calendar *cal = NULL;
    enum ombud_rc rc = OMBUD_OK;

    if (!calendar_id) {
        *due = from + minutes * 60;
        return OMBUD_OK;
    }
    if ((rc = ombud_svc_sla_config_get(c, &cfg, err)) != OMBUD_OK ||
        (rc = calendar(c, cfg, calendar_id, &cal, &own, err)) != OMBUD_OK)
        goto out;
    if (!ombud_bt_add(cal, from, minutes * 60, due))
        rc = ombud_err_internal(err, "the calendar has no open time to count the minutes in");
out:
    ombud_bt_calendar_clear(&own);
    ombud_svc_sla_config_put(cfg);
    return rc;
}
