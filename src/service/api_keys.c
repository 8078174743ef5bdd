/*
 * The per-process API-key cache; see include/ombud/service/api_keys.h.
 *
 * DESIGN: a fixed table (no allocation ever; bounded whatever keys are
 * presented), set-associative: the first hex digits of the key's hash,
 * itself uniform, pick a set of WAYS entries, each set under its own
 * mutex, so the MHD threads only meet on the same set and then only to
 * copy a few words. An entry is used only while this process listens for
 * invalidations and under the generation of OMBUD_INVAL_KEYS it was filled
 * under, read before the lookup that filled it: a revocation committed
 * while the lookup ran bumps past that generation (locally after commit,
 * elsewhere when its notification arrives), so the entry is dead on
 * arrival rather than stale.
 *
 * Only keys found are cached. Caching "unknown" would save nothing for
 * real clients (they hold valid keys) and would let anyone fill the table
 * with made-up keys, pushing out real ones; a key created just now would
 * also need an invalidation. A wrong key costs one indexed lookup, as
 * before.
 *
 * last_used_at keeps its meaning (when the key last authenticated a
 * request, written at most once a minute): the lookup that fills an entry
 * notes the use; a hit on an entry this process has not noted for
 * TOUCH_US notes it again with one short UPDATE, which itself writes only
 * when the stored time is a minute old (another process may have).
 */
#include "ombud/service/api_keys.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "ombud/db/api_keys.h"
#include "ombud/keys.h"
#include "ombud/service/inval.h"

#define SETS 256 /* a power of two */
#define WAYS 4
#define TOUCH_US 60000000LL

struct entry {
    bool used;
    char hash[OMBUD_HASH_BUFLEN];
    uint64_t gen;
    struct ombud_svc_key key;
    int64_t noted_us; /* monotonic: when this process last noted its use */
};

static struct set {
    pthread_mutex_t mu;
    struct entry e[WAYS];
} sets[SETS];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_sets(void)
{
    for (size_t i = 0; i < SETS; i++)
        pthread_mutex_init(&sets[i].mu, NULL);
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int hexval(char ch)
{
    return ch >= 'a' ? ch - 'a' + 10 : ch - '0';
}

static struct set *set_of(const char *hash)
{
    size_t i = (size_t)(hexval(hash[0]) << 4 | hexval(hash[1])) & (SETS - 1);
    return &sets[i];
}

/* The live entry for hash: *hit, its key, and whether its use is to be
 * noted now (claimed here, so one thread notes it). */
static void cache_get(const char *hash, uint64_t gen, struct ombud_svc_key *out, bool *hit,
                      bool *note)
{
    struct set *s = set_of(hash);
    *hit = *note = false;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < WAYS; i++) {
        struct entry *e = &s->e[i];
        if (!e->used || e->gen != gen || memcmp(e->hash, hash, OMBUD_HASH_BUFLEN - 1) != 0)
            continue;
        *out = e->key;
        *hit = true;
        int64_t now = mono_us();
        if (now - e->noted_us >= TOUCH_US) {
            e->noted_us = now;
            *note = true;
        }
        break;
    }
    pthread_mutex_unlock(&s->mu);
}

static void cache_put(const char *hash, uint64_t gen, const struct ombud_svc_key *key)
{
    struct set *s = set_of(hash);
    int64_t now = mono_us();
    pthread_mutex_lock(&s->mu);
    /* The same key's entry, else a free or dead one, else the one noted
     * longest ago. */
    uint64_t cur = ombud_inval_generation(OMBUD_INVAL_KEYS);
    struct entry *victim = NULL;
    for (int i = 0; i < WAYS && !victim; i++)
        if (s->e[i].used && memcmp(s->e[i].hash, hash, OMBUD_HASH_BUFLEN - 1) == 0)
            victim = &s->e[i];
    for (int i = 0; i < WAYS && !victim; i++)
        if (!s->e[i].used || s->e[i].gen != cur)
            victim = &s->e[i];
    if (!victim) {
        victim = &s->e[0];
        for (int i = 1; i < WAYS; i++)
            if (s->e[i].noted_us < victim->noted_us)
                victim = &s->e[i];
    }
    victim->used = true;
    memcpy(victim->hash, hash, OMBUD_HASH_BUFLEN - 1);
    victim->hash[OMBUD_HASH_BUFLEN - 1] = '\0';
    victim->gen = gen;
    victim->key = *key;
    victim->noted_us = now;
    pthread_mutex_unlock(&s->mu);
}

/* Drops hash's entry (its use could not be noted: look it up again). */
static void cache_drop(const char *hash)
{
    struct set *s = set_of(hash);
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < WAYS; i++)
        if (s->e[i].used && memcmp(s->e[i].hash, hash, OMBUD_HASH_BUFLEN - 1) == 0)
            s->e[i].used = false;
    pthread_mutex_unlock(&s->mu);
}

struct lookup {
    const char *hash;
    struct ombud_api_key key;
    int64_t id;
    bool found;
};

static enum ombud_rc lookup_q(struct ombud_db_conn *c, void *ctx, struct ombud_err *err)
{
    struct lookup *x = ctx;
    return ombud_db_api_key_authenticate(c, x->hash, &x->key, &x->found, err);
}

static enum ombud_rc touch_q(struct ombud_db_conn *c, void *ctx, struct ombud_err *err)
{
    const struct lookup *x = ctx;
    return ombud_db_api_key_touch(c, x->id, err);
}

enum ombud_rc ombud_svc_key_authenticate(struct ombud_db_pool *pool, const char *hash,
                                         struct ombud_svc_key *out, bool *found,
                                         struct ombud_err *err)
{
    /* Read before the lookup, and in this order (see the file comment). */
    uint64_t gen = ombud_inval_generation(OMBUD_INVAL_KEYS);
    bool listening = ombud_inval_listening();
    struct lookup x = {.hash = hash};

    pthread_once(&once, init_sets);
    if (listening) {
        bool hit, note;
        cache_get(hash, gen, out, &hit, &note);
        if (hit) {
            *found = true;
            x.id = out->id;
            /* A failed note is not the request's failure: the next request
             * looks the key up (and notes it) instead. */
            if (note && ombud_db_run(pool, touch_q, &x, err) != OMBUD_OK) {
                cache_drop(hash);
                ombud_err_clear(err);
            }
            return OMBUD_OK;
        }
    }
    if (ombud_db_run(pool, lookup_q, &x, err) != OMBUD_OK)
        return OMBUD_ERROR;
    *found = x.found;
    if (!x.found)
        return OMBUD_OK;
    out->id = x.key.id;
    out->agent_id = x.key.agent_id;
    if (!ombud_role_parse(x.key.role, &out->role))
        out->role = OMBUD_ROLE_NONE;
    if (listening)
        cache_put(hash, gen, out);
    return OMBUD_OK;
}

bool ombud_svc_key_peek(const char *hash, struct ombud_svc_key *out)
{
    uint64_t gen = ombud_inval_generation(OMBUD_INVAL_KEYS);
    if (!ombud_inval_listening())
        return false;
    pthread_once(&once, init_sets);
    struct set *s = set_of(hash);
    bool hit = false;
    int64_t now = mono_us();
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < WAYS; i++) {
        const struct entry *e = &s->e[i];
        if (!e->used || e->gen != gen || memcmp(e->hash, hash, OMBUD_HASH_BUFLEN - 1) != 0)
            continue;
        /* A use due to be noted needs a statement: not answered here. */
        if (now - e->noted_us < TOUCH_US) {
            *out = e->key;
            hit = true;
        }
        break;
    }
    pthread_mutex_unlock(&s->mu);
    return hit;
}

enum ombud_rc ombud_svc_key_revoke(struct ombud_db_conn *c, int64_t id, bool *found,
                                   struct ombud_err *err)
{
    enum ombud_rc rc = ombud_db_api_key_revoke(c, id, found, err);
    if (rc != OMBUD_OK || !*found)
        return rc;
    return ombud_inval_publish(c, OMBUD_INVAL_KEYS, err);
}

enum ombud_rc ombud_svc_key_ensure_admin(struct ombud_db_conn *c, const char *hash,
                                         struct ombud_err *err)
{
    enum ombud_rc rc = ombud_db_api_key_ensure_admin(c, hash, err);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_inval_publish(c, OMBUD_INVAL_KEYS, err);
}
