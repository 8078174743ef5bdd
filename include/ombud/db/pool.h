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
 * the timeout or PostgreSQL cannot be reached (at once while the pool
 * waits out its reconnect backoff: see pool.c). Return it with release. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_checkout(struct ombud_db_pool *pool,
                                                struct ombud_db_conn **out, struct ombud_err *err);
void ombud_db_release(struct ombud_db_pool *pool, struct ombud_db_conn *conn);

/* Sets the calling thread's deadline for database work (CLOCK_MONOTONIC
 * microseconds; 0 clears it): until cleared, checkouts wait at most
 * until it, no statement starts after it, and a statement still running
 * then is cancelled, each a 503 (OMBUD_E_UNAVAILABLE). See
 * src/db/deadline.c. ombud_db_deadline_stop ends its watchdog thread
 * (after every thread that set deadlines has stopped). */
void ombud_db_set_deadline(int64_t mono_us);
void ombud_db_deadline_stop(void);
/* A thread's deadline, as another thread sees it: ombud_db_deadline_self
 * gives the calling thread's (NULL when out of memory), and
 * ombud_db_deadline_cut brings the deadline of that thread's current
 * database work forward to now, with the same effect as reaching it
 * (its pool wait ends, no further statement starts, a running one is
 * cancelled): false when that thread has no deadline set. */
struct ombud_db_deadline_ref;
struct ombud_db_deadline_ref *ombud_db_deadline_self(void);
bool ombud_db_deadline_cut(struct ombud_db_deadline_ref *ref);
/* Statements cancelled at their deadline so far (for /metrics). */
unsigned long long ombud_db_deadline_cancels(void);

typedef enum ombud_rc (*ombud_tx_fn)(struct ombud_db_conn *conn, void *ctx, struct ombud_err *err);

/* Runs fn inside BEGIN … COMMIT on a pooled connection, retrying on
 * serialization failure and deadlock (fn may run more than once, so it
 * must only fill ctx from the database), and once on a fresh connection
 * when the first trip (BEGIN with the first statement, without COMMIT)
 * found the connection dead: never after a COMMIT went out. */
OMBUD_MUSTCHECK enum ombud_rc ombud_tx_run(struct ombud_db_pool *pool, ombud_tx_fn fn, void *ctx,
                                           struct ombud_err *err);

/* Like ombud_tx_run without a transaction: for single statements (each
 * commits on its own, so one found dead is run again only when it never
 * went out: its PREPARE failed). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_run(struct ombud_db_pool *pool, ombud_tx_fn fn, void *ctx,
                                           struct ombud_err *err);

/* Whether c is inside a transaction (one a runner opened, or BEGIN sent
 * by hand): for callers whose statements must commit together. */
bool ombud_db_in_tx(const struct ombud_db_conn *c);

/* Something to do once a transaction's effects are visible to others. */
typedef void (*ombud_db_commit_fn)(int64_t arg);

/* Asks the runner of the caller's transaction on c (ombud_tx_run,
 * ombud_db_run, ombud_tx_run_on) to call fn(arg) once it has committed,
 * before the runner returns; never when it rolls back (an attempt run
 * again registers again). Identical registrations run once. An internal
 * error past a handful per transaction. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_after_commit(struct ombud_db_conn *c, ombud_db_commit_fn fn,
                                                    int64_t arg, struct ombud_err *err);

/* NOTIFY channel (a fixed name of ours, never user text), delivered on
 * commit of the caller's transaction. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_notify(struct ombud_db_conn *c, const char *channel,
                                              struct ombud_err *err);

/* SELECT 1 on a pooled connection: the readiness probe. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_ping(struct ombud_db_pool *pool, struct ombud_err *err);

/* ---- a connection of one's own, outside the pool (the SLA worker's) ---- */

/* Opens one, named app_name in pg_stat_activity (so an operator can tell
 * it from the pool's); NULL (err set) when it fails. Close it with
 * conn_close. */
struct ombud_db_conn *ombud_db_conn_open(const char *url, const char *app_name,
                                         struct ombud_err *err);
void ombud_db_conn_close(struct ombud_db_conn *c);
bool ombud_db_conn_ok(const struct ombud_db_conn *c);
/* LISTEN channel (a fixed name of ours, never user text). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_listen(struct ombud_db_conn *c, const char *channel,
                                              struct ombud_err *err);
/* Called for each notification received, with its channel; true when it
 * should end the wait. */
typedef bool (*ombud_db_notify_fn)(const char *channel, void *arg);
/* Waits up to timeout_ms for a notification or for wake_fd to become
 * readable, passing every notification received to on_notify: 1 woken
 * (wake_fd, or on_notify said so), 0 not (timed out, or only
 * notifications that do not wake), -1 connection lost. */
int ombud_db_wait(struct ombud_db_conn *c, int timeout_ms, int wake_fd,
                  ombud_db_notify_fn on_notify, void *arg);

/* Like ombud_tx_run on a connection of one's own: fn runs inside BEGIN …
 * COMMIT, again on serialization failure or deadlock (so it must only
 * fill ctx from the database). A lost connection is an error;
 * reconnecting is the owner's business. */
OMBUD_MUSTCHECK enum ombud_rc ombud_tx_run_on(struct ombud_db_conn *c, ombud_tx_fn fn, void *ctx,
                                              struct ombud_err *err);

#endif
