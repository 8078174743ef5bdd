/*
 * Per-API-key token buckets. DESIGN: the table is split into 64 shards
 * by a hash of the key id, each an open-addressing hash table under its
 * own mutex, padded to its own cache line. A take locks one shard, finds
 * or inserts the key's bucket and does the arithmetic of domain/rate.c
 * (a few integer operations), so threads contend only when their keys
 * share a shard, and then for well under a microsecond. Time is
 * CLOCK_MONOTONIC: the limit is about real seconds, never the test clock
 * or a wall clock that jumps.
 *
 * Buckets are never removed: there is one per key that has made a
 * request since the start, and keys are few (an admin creates each), so
 * the table's size is bounded by the api_keys table. Unknown keys never
 * get here (auth.c takes a token only for a key it found).
 *
 * The limit is per process, as API.md says: N processes behind a load
 * balancer allow up to N times the rate.
 */
#include "http/ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NSHARDS 64
#define FIRST_CAP 16 /* slots; a power of two */

struct slot {
    int64_t key_id; /* 0: empty (key ids start at 1) */
    struct ombud_rate_bucket b;
};

struct shard {
    pthread_mutex_t mu;
    struct slot *slots;
    size_t cap, used;
} __attribute__((aligned(64)));

static struct shard shards[NSHARDS];
static unsigned the_rate, the_burst;
static bool mutexes_ready;

static uint64_t mix(int64_t key_id)
{
    uint64_t z = (uint64_t)key_id * 0x9E3779B97F4A7C15ull;
    return z ^ (z >> 29);
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

enum ombud_rc ombud_ratelimit_init(unsigned rate, unsigned burst, struct ombud_err *err)
{
    if (rate > OMBUD_RATE_MAX || (rate && (burst < 1 || burst > OMBUD_RATE_MAX)))
        return ombud_err_set(err, OMBUD_E_CONFIG, NULL, "rate limit out of range");
    ombud_ratelimit_free();
    the_rate = rate;
    the_burst = burst;
    for (size_t i = 0; i < NSHARDS && !mutexes_ready; i++)
        pthread_mutex_init(&shards[i].mu, NULL);
    mutexes_ready = true;
    return OMBUD_OK;
}

void ombud_ratelimit_free(void)
{
    for (size_t i = 0; i < NSHARDS; i++) {
        free(shards[i].slots);
        shards[i].slots = NULL;
        shards[i].cap = shards[i].used = 0;
    }
}

bool ombud_ratelimit_enabled(void)
{
    return the_rate != 0;
}

/* The slot for key_id in a table of cap slots (a power of two): its own
 * or the empty one where it belongs. */
static struct slot *probe(struct slot *slots, size_t cap, int64_t key_id, uint64_t h)
{
    size_t i = (size_t)(h >> 6) & (cap - 1); /* low bits chose the shard */
    while (slots[i].key_id != 0 && slots[i].key_id != key_id)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

/* Doubles the shard's table (or makes its first); false when out of memory. */
static bool grow(struct shard *s)
{
    size_t cap = s->cap ? s->cap * 2 : FIRST_CAP;
    struct slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < s->cap; i++)
        if (s->slots[i].key_id)
            *probe(slots, cap, s->slots[i].key_id, mix(s->slots[i].key_id)) = s->slots[i];
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return true;
}

struct ombud_rate_verdict ombud_ratelimit_take(int64_t key_id)
{
    uint64_t h = mix(key_id);
    struct shard *s = &shards[h & (NSHARDS - 1)];
    int64_t t = now_us();
    struct ombud_rate_verdict v;

    pthread_mutex_lock(&s->mu);
    if ((s->used + 1) * 4 > s->cap * 3 && !grow(s)) {
        pthread_mutex_unlock(&s->mu);
        /* Out of memory: let the request through rather than refuse a
         * caller for our own trouble; its headers say the bucket is full. */
        return (struct ombud_rate_verdict){.allowed = true, .remaining = the_burst - 1};
    }
    struct slot *sl = probe(s->slots, s->cap, key_id, h);
    if (sl->key_id == 0) {
        sl->key_id = key_id;
        ombud_rate_bucket_init(&sl->b, the_burst, t);
        s->used++;
    }
    v = ombud_rate_take(&sl->b, the_rate, the_burst, t);
    pthread_mutex_unlock(&s->mu);
    return v;
}

void ombud_ratelimit_headers(const struct ombud_rate_verdict *v, char policy[OMBUD_RATELIMIT_HBUF],
                             char limit[OMBUD_RATELIMIT_HBUF])
{
    snprintf(policy, OMBUD_RATELIMIT_HBUF, "\"default\";q=%u;w=%u", the_burst,
             ombud_rate_window_s(the_rate, the_burst));
    snprintf(limit, OMBUD_RATELIMIT_HBUF, "\"default\";r=%u;t=%u", v->remaining, v->reset_s);
}
