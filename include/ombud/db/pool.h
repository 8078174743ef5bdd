/*
 * The database pool and transactions (src/db/pool.c, src/db/tx.c): a
 * fixed pool of libpq connections shared by all MHD threads. A caller
 * checks one out (bounded wait, then OMBUD_E_UNAVAILABLE), uses it from
 * one thread only, and returns it. Connections are made lazily and made
 * again after PostgreSQL went away, so the service recovers by itself.
 * Statements are prepared lazily per connection (prepared statements
 * belong to one server connection) and again after a reconnect.
 *
 * libpq types never leave src/db: callers see struct ombud_db_conn only.
 * Each resource's statements have a header of their own beside this one
 * (ombud/db/<resource>.h).
 *
 * How the resource functions report things, throughout:
 *  - absence is *found = false with OMBUD_OK, never an error: what a
 *    missing row means (404, 401, a field error, a default) is the
 *    caller's to say;
 *  - a get fills the caller's record; a list sets *out to a new array
 *    the caller frees (with the resource's _free function where its
 *    records own memory) and never frees what *out held before, so a
 *    transaction callback that may run again frees its previous result
 *    itself before calling.
 */
#ifndef OMBUD_DB_POOL_H
#define OMBUD_DB_POOL_H

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

/* NOTIFY channel (a fixed name of ours, never user text), delivered on
 * commit of the caller's transaction. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_notify(struct ombud_db_conn *c, const char *channel,
                                              struct ombud_err *err);

/* SELECT 1 on a pooled connection: the readiness probe. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_ping(struct ombud_db_pool *pool, struct ombud_err *err);

/* ---- a connection of one's own, outside the pool (the SLA worker's) ---- */

/* Opens one; NULL (err set) when it fails. Close it with conn_close. */
struct ombud_db_conn *ombud_db_conn_open(const char *url, struct ombud_err *err);
void ombud_db_conn_close(struct ombud_db_conn *c);
bool ombud_db_conn_ok(const struct ombud_db_conn *c);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_listen(struct ombud_db_conn *c, struct ombud_err *err);
/* LISTEN channel (a fixed name of ours) as well. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_listen_channel(struct ombud_db_conn *c, const char *channel,
                                                      struct ombud_err *err);
/* ombud_db_wait, calling on_notify (when not NULL) with each
 * notification's channel. */
int ombud_db_wait_notify(struct ombud_db_conn *c, int timeout_ms, int wake_fd,
                         void (*on_notify)(const char *channel));
/* Waits up to timeout_ms for a notification or for wake_fd to become
 * readable: 1 notified/woken, 0 timed out, -1 connection lost. */
int ombud_db_wait(struct ombud_db_conn *c, int timeout_ms, int wake_fd);

/* Like ombud_tx_run on a connection of one's own: fn runs inside BEGIN …
 * COMMIT, again on serialization failure or deadlock (so it must only
 * fill ctx from the database). A lost connection is an error;
 * reconnecting is the owner's business. */
OMBUD_MUSTCHECK enum ombud_rc ombud_tx_run_on(struct ombud_db_conn *c, ombud_tx_fn fn, void *ctx,
                                              struct ombud_err *err);

#endif
