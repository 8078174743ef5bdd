/* Cache invalidation across processes; see include/ombud/service/inval.h. */
#include "ombud/service/inval.h"

#include <stdatomic.h>
#include <string.h>

#include "ombud/db/pool.h"

static const char *const channels[OMBUD_INVAL_TOPICS] = {
    [OMBUD_INVAL_KEYS] = "ombud_keys",
    [OMBUD_INVAL_SLA_CONFIG] = "ombud_sla_config",
    [OMBUD_INVAL_RULES] = "ombud_rules",
};

static atomic_uint_fast64_t generations[OMBUD_INVAL_TOPICS];
static atomic_bool listening;

const char *ombud_inval_channel(enum ombud_inval_topic t)
{
    return (unsigned)t < OMBUD_INVAL_TOPICS ? channels[t] : "";
}

bool ombud_inval_topic_of(const char *channel, enum ombud_inval_topic *out)
{
    for (unsigned t = 0; t < OMBUD_INVAL_TOPICS; t++) {
        if (channel && strcmp(channel, channels[t]) == 0) {
            *out = (enum ombud_inval_topic)t;
            return true;
        }
    }
    return false;
}

uint64_t ombud_inval_generation(enum ombud_inval_topic t)
{
    return atomic_load(&generations[t]);
}

void ombud_inval_bump(enum ombud_inval_topic t)
{
    atomic_fetch_add(&generations[t], 1);
}

void ombud_inval_bump_all(void)
{
    for (unsigned t = 0; t < OMBUD_INVAL_TOPICS; t++)
        ombud_inval_bump((enum ombud_inval_topic)t);
}

bool ombud_inval_listening(void)
{
    return atomic_load(&listening);
}

void ombud_inval_set_listening(bool on)
{
    atomic_store(&listening, on);
}

static void bump_committed(int64_t t)
{
    ombud_inval_bump((enum ombud_inval_topic)t);
}

enum ombud_rc ombud_inval_publish(struct ombud_db_conn *c, enum ombud_inval_topic t,
                                  struct ombud_err *err)
{
    enum ombud_rc rc = ombud_db_notify(c, ombud_inval_channel(t), err);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_db_after_commit(c, bump_committed, (int64_t)t, err);
}

/* fn, then the change announced (ombud_inval_change). */
struct change {
    enum ombud_inval_topic topic;
    ombud_tx_fn fn;
    void *ctx;
};

static enum ombud_rc change_fn(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    const struct change *ch = arg;
    enum ombud_rc rc = ch->fn(c, ch->ctx, err);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_inval_publish(c, ch->topic, err);
}

enum ombud_rc ombud_inval_change(struct ombud_db_pool *pool, enum ombud_inval_topic t,
                                 ombud_tx_fn fn, void *ctx, struct ombud_err *err)
{
    struct change ch = {t, fn, ctx};
    enum ombud_rc rc = ombud_tx_run(pool, change_fn, &ch, err);
    /* After the commit: this process never serves the old rows again. (A
     * failed change bumps too, which only costs a re-read.) */
    ombud_inval_bump(t);
    return rc;
}

struct ombud_inval_snap *ombud_inval_slot_get(struct ombud_inval_slot *s, uint64_t gen)
{
    struct ombud_inval_snap *snap = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->current && s->current->generation == gen) {
        atomic_fetch_add(&s->current->refs, 1);
        snap = s->current;
    }
    pthread_mutex_unlock(&s->mu);
    return snap;
}

void ombud_inval_slot_put(struct ombud_inval_slot *s, struct ombud_inval_snap *snap)
{
    if (snap && atomic_fetch_sub(&snap->refs, 1) == 1)
        s->free_fn(snap);
}

void ombud_inval_slot_install(struct ombud_inval_slot *s, struct ombud_inval_snap *snap)
{
    atomic_fetch_add(&snap->refs, 1); /* the slot's */
    pthread_mutex_lock(&s->mu);
    struct ombud_inval_snap *old = s->current;
    s->current = snap;
    pthread_mutex_unlock(&s->mu);
    ombud_inval_slot_put(s, old);
}

void ombud_inval_slot_reset(struct ombud_inval_slot *s)
{
    pthread_mutex_lock(&s->mu);
    struct ombud_inval_snap *old = s->current;
    s->current = NULL;
    pthread_mutex_unlock(&s->mu);
    ombud_inval_slot_put(s, old);
}
