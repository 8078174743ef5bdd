/*
 * Cache invalidation across processes. Rows that are read on every
 * request but written rarely (API keys; SLA policies and calendars) are
 * cached in each process (and escalation rules); any process may change them, so a change must
 * reach every process's caches.
 *
 * DESIGN: each topic has a generation counter per process. A cache entry
 * remembers the generation it was filled under and is used only while
 * that is still the topic's generation and this process is listening. A
 * writer publishes its topic inside its own transaction (NOTIFY, which
 * PostgreSQL delivers on commit to every listening session, its own
 * included) and bumps the local generation once the transaction has
 * committed, so its own process never serves the old row after the write
 * returns. The SLA worker's connection listens on every topic's channel
 * and bumps a topic when its notification arrives; while that connection
 * is down notifications are lost, so caches are bypassed
 * (ombud_inval_listening false) and every topic is bumped on reconnect.
 * Writes are rare, so the notification lock they take costs nothing that
 * matters; the hot paths (complaint writes) never notify.
 */
#ifndef OMBUD_SERVICE_INVAL_H
#define OMBUD_SERVICE_INVAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ombud/db/pool.h"
#include "ombud/err.h"

struct ombud_db_conn;

enum ombud_inval_topic {
    OMBUD_INVAL_KEYS,       /* API keys: created, revoked */
    OMBUD_INVAL_SLA_CONFIG, /* SLA policies and calendars */
    OMBUD_INVAL_RULES,      /* escalation rules */
    OMBUD_INVAL_TOPICS,
};

/* The topic's NOTIFY channel, e.g. "ombud_keys". */
const char *ombud_inval_channel(enum ombud_inval_topic t);
/* The topic that channel names; false when it names none. */
bool ombud_inval_topic_of(const char *channel, enum ombud_inval_topic *out);

/* The topic's current generation in this process. */
uint64_t ombud_inval_generation(enum ombud_inval_topic t);
/* Moves the topic (every topic) to a new generation: cached entries of
 * it stop being used. */
void ombud_inval_bump(enum ombud_inval_topic t);
void ombud_inval_bump_all(void);

/* Whether notifications are being received now (set by the listener);
 * caches are bypassed while false. */
bool ombud_inval_listening(void);
void ombud_inval_set_listening(bool on);

/* Publishes a change of topic t inside the caller's transaction on c
 * (NOTIFY on commit) and has the transaction's runner bump the local
 * generation once it has committed (ombud_db_after_commit), before the
 * write's reply: a caller bumping again itself changes nothing. */
OMBUD_MUSTCHECK enum ombud_rc ombud_inval_publish(struct ombud_db_conn *c, enum ombud_inval_topic t,
                                                  struct ombud_err *err);

/* ---- a cached snapshot of a topic's rows ----
 *
 * Each cache (SLA configuration, escalation rules) keeps one immutable
 * snapshot, shared by threads through reference counts and replaced
 * whole when its topic's generation moves on. A snapshot's struct begins
 * with struct ombud_inval_snap; the slot frees it with free_fn once its
 * last reference is put back. */
struct ombud_inval_snap {
    atomic_int refs;
    uint64_t generation; /* of the topic when reading its rows began */
};

struct ombud_inval_slot {
    pthread_mutex_t mu;
    struct ombud_inval_snap *current; /* holds one reference */
    void (*free_fn)(struct ombud_inval_snap *snap);
};

#define OMBUD_INVAL_SLOT(free_fn)                                                                  \
    {                                                                                              \
        PTHREAD_MUTEX_INITIALIZER, NULL, (free_fn)                                                 \
    }

/* The slot's snapshot, with a reference for the caller, when it was read
 * under generation gen; NULL otherwise. */
struct ombud_inval_snap *ombud_inval_slot_get(struct ombud_inval_slot *s, uint64_t gen);
/* Gives back a reference (NULL: nothing). */
void ombud_inval_slot_put(struct ombud_inval_slot *s, struct ombud_inval_snap *snap);
/* Makes snap (one reference, the caller's) the slot's, taking one more
 * for the slot, and puts back the one it replaces. */
void ombud_inval_slot_install(struct ombud_inval_slot *s, struct ombud_inval_snap *snap);
/* Drops the slot's snapshot (tests, shutdown). */
void ombud_inval_slot_reset(struct ombud_inval_slot *s);

/* Runs fn, a change of topic t's rows, in a transaction of its own
 * (ombud_tx_run) that also publishes t; this process's caches of t are
 * stale once it returns. */
OMBUD_MUSTCHECK enum ombud_rc ombud_inval_change(struct ombud_db_pool *pool,
                                                 enum ombud_inval_topic t, ombud_tx_fn fn,
                                                 void *ctx, struct ombud_err *err);

#endif
