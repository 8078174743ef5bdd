/* The per-process SLA configuration cache; see include/ombud/service/sla_config.h. */
#include "ombud/service/sla_config.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ombud/calendar.h"
#include "ombud/db/calendars.h"
#include "ombud/db/policies.h"
#include "ombud/rule.h"
#include "ombud/service/inval.h"

#define PAGE 500

struct ombud_sla_config {
    struct ombud_inval_snap snap; /* first: the slot's view of it */
    size_t npolicies;
    struct ombud_sla_policy *policies; /* active ones, by (position, id) */
    size_t ncals;
    int64_t *cal_ids;
    struct ombud_bt_calendar *cals;
};

static void config_free(struct ombud_sla_config *cfg)
{
    ombud_policies_free(cfg->policies, cfg->npolicies);
    for (size_t i = 0; i < cfg->ncals; i++)
        ombud_bt_calendar_clear(&cfg->cals[i]);
    free(cfg->cals);
    free(cfg->cal_ids);
    free(cfg);
}

static void snap_free(struct ombud_inval_snap *snap)
{
    config_free((struct ombud_sla_config *)snap);
}

static struct ombud_inval_slot slot = OMBUD_INVAL_SLOT(snap_free);

void ombud_svc_sla_config_put(struct ombud_sla_config *cfg)
{
    ombud_inval_slot_put(&slot, cfg ? &cfg->snap : NULL);
}

static int by_position(const void *a, const void *b)
{
    const struct ombud_sla_policy *x = a, *y = b;
    if (x->position != y->position)
        return x->position < y->position ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Every active policy, sorted as the selection orders them. */
static enum ombud_rc load_policies(struct ombud_db_conn *c, struct ombud_sla_config *cfg,
                                   struct ombud_err *err)
{
    int64_t after = 0;
    for (;;) {
        struct ombud_sla_policy *page = NULL;
        size_t n = 0;
        enum ombud_rc rc = ombud_db_policy_list(c, after, PAGE, &page, &n, err);
        if (rc != OMBUD_OK)
            return rc;
        size_t take = n > PAGE ? PAGE : n;
        struct ombud_sla_policy *grown =
            realloc(cfg->policies, (cfg->npolicies + take + 1) * sizeof *grown);
        if (!grown) {
            ombud_policies_free(page, n);
            return ombud_err_internal(err, "out of memory");
        }
        cfg->policies = grown;
        for (size_t i = 0; i < take; i++) {
            after = page[i].id;
            if (page[i].active) {
                cfg->policies[cfg->npolicies++] = page[i]; /* takes its match lists */
                memset(&page[i], 0, sizeof page[i]);
            }
        }
        ombud_policies_free(page, n);
        if (n <= PAGE)
            break;
    }
    qsort(cfg->policies, cfg->npolicies, sizeof *cfg->policies, by_position);
    return OMBUD_OK;
}

/* Every calendar, compiled; one that does not compile is left out (a
 * clock naming it is then read from the database and fails as before). */
static enum ombud_rc load_calendars(struct ombud_db_conn *c, struct ombud_sla_config *cfg,
                                    struct ombud_err *err)
{
    int64_t after = 0;
    for (;;) {
        struct ombud_calendar *page = NULL;
        size_t n = 0;
        enum ombud_rc rc = ombud_db_calendar_list(c, after, PAGE, &page, &n, err);
        if (rc != OMBUD_OK)
            return rc;
        size_t take = n > PAGE ? PAGE : n;
        int64_t *ids = realloc(cfg->cal_ids, (cfg->ncals + take + 1) * sizeof *ids);
        if (ids)
            cfg->cal_ids = ids;
        struct ombud_bt_calendar *cals =
            ids ? realloc(cfg->cals, (cfg->ncals + take + 1) * sizeof *cals) : NULL;
        if (!cals) {
            ombud_calendars_free(page, n);
            return ombud_err_internal(err, "out of memory");
        }
        cfg->cals = cals;
        for (size_t i = 0; i < take; i++) {
            struct ombud_err ignored;
            ombud_err_clear(&ignored);
            after = page[i].id;
            if (ombud_calendar_compile(&page[i], &cfg->cals[cfg->ncals], &ignored) == OMBUD_OK)
                cfg->cal_ids[cfg->ncals++] = page[i].id;
        }
        ombud_calendars_free(page, n);
        if (n <= PAGE)
            break;
    }
    return OMBUD_OK;
}

enum ombud_rc ombud_svc_sla_config_get(struct ombud_db_conn *c, struct ombud_sla_config **out,
                                       struct ombud_err *err)
{
    *out = NULL;
    if (!ombud_inval_listening())
        return OMBUD_OK; /* changes elsewhere would not reach us: no cache */
    /* Read before the rows: a change committed meanwhile moves the
     * generation on, and this snapshot is then stale at once. */
    uint64_t gen = ombud_inval_generation(OMBUD_INVAL_SLA_CONFIG);
    struct ombud_inval_snap *snap = ombud_inval_slot_get(&slot, gen);
    if (snap) {
        *out = (struct ombud_sla_config *)snap;
        return OMBUD_OK;
    }

    struct ombud_sla_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return ombud_err_internal(err, "out of memory");
    cfg->snap.generation = gen;
    atomic_store(&cfg->snap.refs, 1); /* the caller's */
    enum ombud_rc rc = load_policies(c, cfg, err);
    if (rc == OMBUD_OK)
        rc = load_calendars(c, cfg, err);
    if (rc != OMBUD_OK) {
        config_free(cfg);
        return rc; /* OMBUD_RETRY reaches the runner */
    }
    ombud_inval_slot_install(&slot, &cfg->snap);
    *out = cfg;
    return OMBUD_OK;
}

void ombud_svc_sla_config_reset(void)
{
    ombud_inval_slot_reset(&slot);
}

const struct ombud_sla_policy *ombud_svc_sla_config_match(const struct ombud_sla_config *cfg,
                                                          const char *priority, const char *grade,
                                                          const char *category, const char *channel,
                                                          const char *tier)
{
    const char *values[5] = {priority, grade, category, channel, tier};
    for (size_t i = 0; i < cfg->npolicies; i++) {
        const struct ombud_sla_policy *p = &cfg->policies[i];
        bool all = true;
        for (size_t m = 0; all && m < 5; m++)
            all = ombud_name_list_admits(p->match_json[m], values[m]);
        if (all)
            return p;
    }
    return NULL;
}

const struct ombud_bt_calendar *ombud_svc_sla_config_calendar(const struct ombud_sla_config *cfg,
                                                              int64_t id)
{
    for (size_t i = 0; i < cfg->ncals; i++)
        if (cfg->cal_ids[i] == id)
            return &cfg->cals[i];
    return NULL;
}

enum ombud_rc ombud_svc_sla_config_change(struct ombud_db_pool *pool, ombud_tx_fn fn, void *ctx,
                                          struct ombud_err *err)
{
    return ombud_inval_change(pool, OMBUD_INVAL_SLA_CONFIG, fn, ctx, err);
}
