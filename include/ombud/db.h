/*
 * Database layer: a fixed pool of libpq connections shared by all MHD
 * threads. A caller checks one out (bounded wait, then 503), uses it from
 * one thread only, and returns it. Connections are made lazily and made
 * again after PostgreSQL went away, so the service recovers by itself.
 * Statements are prepared lazily per connection (prepared statements
 * belong to one server connection) and again after a reconnect.
 *
 * libpq types never leave src/db: callers see struct ombud_db_conn only.
 */
#ifndef OMBUD_DB_H
#define OMBUD_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/err.h"

struct ombud_db_conn;
struct ombud_db_pool;

struct ombud_db_pool_stats {
    size_t size;
    size_t in_use;
    size_t connected;
    uint64_t checkouts;
    uint64_t timeouts;
};

/* Creates a pool of size connections (none opened yet). NULL on ENOMEM.
 * The caller owns the pool and frees it with ombud_db_pool_free. */
struct ombud_db_pool *ombud_db_pool_new(const char *url, size_t size, unsigned checkout_timeout_ms,
                                        unsigned statement_timeout_ms);
void ombud_db_pool_free(struct ombud_db_pool *pool);
void ombud_db_pool_get_stats(struct ombud_db_pool *pool, struct ombud_db_pool_stats *out);

/* Checks out a connected connection: 503 in err when none is free within
 * the timeout or PostgreSQL cannot be reached. Return it with release. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_checkout(struct ombud_db_pool *pool,
                                                struct ombud_db_conn **out, struct ombud_err *err);
void ombud_db_release(struct ombud_db_pool *pool, struct ombud_db_conn *conn);

typedef enum ombud_rc (*ombud_tx_fn)(struct ombud_db_conn *conn, void *ctx, struct ombud_err *err);

/* Runs fn inside BEGIN … COMMIT on a pooled connection, retrying on
 * serialization failure and deadlock (fn may run more than once, so it
 * must only fill ctx from the database), and once on a connection that
 * died while idle in the pool. */
OMBUD_MUSTCHECK enum ombud_rc ombud_tx_run(struct ombud_db_pool *pool, ombud_tx_fn fn, void *ctx,
                                           struct ombud_err *err);

/* Like ombud_tx_run without a transaction: for single read statements. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_run(struct ombud_db_pool *pool, ombud_tx_fn fn, void *ctx,
                                           struct ombud_err *err);

/* SELECT 1 on a pooled connection: the readiness probe. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_ping(struct ombud_db_pool *pool, struct ombud_err *err);

/* ---- resources ---- */

struct ombud_api_key {
    int64_t id;
    char name[256];
    char role[16];
    int64_t agent_id; /* 0: none */
    int64_t created_at;
    int64_t last_used_at; /* 0: never */
};

/* Inserts a key (hash of the secret) and fills out. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_api_key_insert(struct ombud_db_conn *c, const char *name,
                                                      const char *role, int64_t agent_id,
                                                      const char *hash, struct ombud_api_key *out,
                                                      struct ombud_err *err);
/* Ensures hash names an active admin key (bootstrap). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_api_key_ensure_admin(struct ombud_db_conn *c,
                                                            const char *hash,
                                                            struct ombud_err *err);
/* Finds the active key with this hash and notes its use; *found false if none. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_api_key_authenticate(struct ombud_db_conn *c,
                                                            const char *hash,
                                                            struct ombud_api_key *out, bool *found,
                                                            struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_api_key_get(struct ombud_db_conn *c, int64_t id,
                                                   struct ombud_api_key *out, bool *found,
                                                   struct ombud_err *err);
/* Active keys with id < before_id (0: from the newest), newest first, at
 * most limit (+1 to tell whether more follow). Caller frees *out. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_api_key_list(struct ombud_db_conn *c, int64_t before_id,
                                                    int limit, struct ombud_api_key **out,
                                                    size_t *n, struct ombud_err *err);
/* Revokes an active key; *found false when unknown or already revoked. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_api_key_revoke(struct ombud_db_conn *c, int64_t id,
                                                      bool *found, struct ombud_err *err);

#endif
