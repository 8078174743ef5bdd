/*
 * Transactions. fn runs between BEGIN and COMMIT on one pooled
 * connection (BEGIN is sent with fn's first statement, and COMMIT with
 * its last when it uses ombud_db_exec_last: libpq pipeline mode); serialization failures and
 * deadlocks run it again (a few times, with a short jittered pause), and a connection that died
 * while idle in the pool (PostgreSQL restarted) is replaced once, so the first request after an
 * outage succeeds instead of failing.
 *
 * The only retry signal is the code OMBUD_RETRY, which every src/db
 * function and every callback returns unchanged from the statement that
 * failed (also from COMMIT, where a serializable transaction may fail).
 * What err says is for the client once the attempts run out.
 *
 * After-commit actions (ombud_db_after_commit) are collected on the
 * connection, dropped with a failed attempt, and run once the commit
 * succeeded and the connection is back in the pool: only then may
 * another session (the SLA worker's, another process) look for what the
 * transaction wrote.
 */
#include <stdlib.h>
#include <time.h>

#include "db/internal.h"
#include "ombud/keys.h"

#define MAX_ATTEMPTS 5

static void pause_ms(unsigned attempt)
{
    char hex[3];
    ombud_random_hex(hex, 1);
    long ms = (long)(attempt * 5) + strtol(hex, NULL, 16) % 10;
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* The hooks of a committed transaction, copied off the connection so they
 * run after it is released. */
struct hooks {
    struct ombud_db_hook h[OMBUD_DB_MAX_HOOKS];
    size_t n;
};

static void hooks_take(struct hooks *out, struct ombud_db_conn *c)
{
    out->n = c->nhooks;
    for (size_t i = 0; i < c->nhooks; i++)
        out->h[i] = c->hooks[i];
    c->nhooks = 0;
}

static void hooks_run(const struct hooks *hk)
{
    for (size_t i = 0; i < hk->n; i++)
        hk->h[i].fn(hk->h[i].arg);
}

static enum ombud_rc run(struct ombud_db_pool *pool, ombud_tx_fn fn, void *ctx, bool tx,
                         struct ombud_err *err)
{
    bool reconnected = false;

    for (unsigned attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        struct ombud_db_conn *c;
        enum ombud_rc rc;

        ombud_err_clear(err);
        if (ombud_db_checkout(pool, &c, err) != OMBUD_OK)
            return OMBUD_ERROR;
        c->nhooks = 0;
        /* BEGIN travels with the first statement (pipeline mode, see
         * ombud_db_exec_last), and the last statement may carry COMMIT. */
        c->begin_pending = c->in_tx = tx;
        c->committed = c->work_sent = c->first_trip_dead = false;
        rc = fn(c, ctx, err);
        if (rc == OMBUD_OK && !c->committed)
            rc = ombud_db_flush(c, tx, err);
        if (rc != OMBUD_OK && tx && !c->broken)
            ombud_db_rollback(c);
        /* A connection found dead before any work of fn can have been
         * applied (a PREPARE, or the first trip of a transaction without
         * its COMMIT) gets one more try on a fresh one: the first request
         * after a restart whose stale connection slipped past the pool's
         * check. Never once a statement ran outside a transaction or a
         * COMMIT went out: a write must not be applied twice. */
        bool dead_first = rc != OMBUD_OK && c->broken && !reconnected && c->first_trip_dead;
        struct hooks hk;
        hooks_take(&hk, c);
        ombud_db_release(pool, c);
        if (rc == OMBUD_OK) {
            hooks_run(&hk);
            return OMBUD_OK;
        }
        if (dead_first) {
            reconnected = true;
            continue;
        }
        if (rc == OMBUD_RETRY) {
            pause_ms(attempt);
            continue;
        }
        return OMBUD_ERROR;
    }
    return OMBUD_ERROR;
}

enum ombud_rc ombud_tx_run(struct ombud_db_pool *pool, ombud_tx_fn fn, void *ctx,
                           struct ombud_err *err)
{
    return run(pool, fn, ctx, true, err);
}

enum ombud_rc ombud_db_run(struct ombud_db_pool *pool, ombud_tx_fn fn, void *ctx,
                           struct ombud_err *err)
{
    return run(pool, fn, ctx, false, err);
}

static enum ombud_rc ping(struct ombud_db_conn *c, void *ctx, struct ombud_err *err)
{
    return ombud_db_simple(c, "SELECT 1", err);
}

enum ombud_rc ombud_db_ping(struct ombud_db_pool *pool, struct ombud_err *err)
{
    return ombud_db_run(pool, ping, NULL, err);
}

enum ombud_rc ombud_tx_run_on(struct ombud_db_conn *c, ombud_tx_fn fn, void *ctx,
                              struct ombud_err *err)
{
    for (unsigned attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        ombud_err_clear(err);
        c->nhooks = 0;
        enum ombud_rc rc = ombud_db_simple(c, "BEGIN", err);
        if (rc != OMBUD_OK)
            return OMBUD_ERROR;
        rc = fn(c, ctx, err);
        if (rc == OMBUD_OK)
            rc = ombud_db_simple(c, "COMMIT", err);
        struct hooks hk;
        hooks_take(&hk, c);
        if (rc == OMBUD_OK) {
            hooks_run(&hk);
            return OMBUD_OK;
        }
        if (!ombud_db_conn_ok(c))
            return OMBUD_ERROR; /* the owner reconnects */
        ombud_db_rollback(c);
        if (rc != OMBUD_RETRY)
            return OMBUD_ERROR;
        pause_ms(attempt);
    }
    return OMBUD_ERROR;
}
