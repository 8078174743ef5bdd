/*
 * Connection pool. DESIGN: a fixed array of slots guarded by one mutex
 * and condvar. Checkout waits (bounded) for a free slot, then connects
 * it outside the lock if it has no live connection, so one slow connect
 * does not block other threads. A connection found broken is dropped at
 * release; the next checkout of that slot reconnects. No background
 * thread, no restart.
 *
 * Recovery after an outage (see slot_ready):
 *  - a pooled connection is checked before it is handed out: an idle
 *    connection receives nothing but the server's goodbye (an error
 *    saying it terminates, then end of file), so a readable socket means
 *    a connection PostgreSQL closed (when it restarted, say): the request
 *    gets a fresh one instead of failing on the stale one (one poll, in
 *    idle_conn_alive). One connection found lost also marks every one
 *    made before it (the pool's epoch), since they went through the same
 *    outage, so that tx.c's retry on a fresh connection does not meet
 *    another dead one;
 *  - while PostgreSQL cannot be reached, connection attempts are shared:
 *    one at a time per process, the next after a backoff doubling from
 *    100 ms to 2 s; meanwhile checkouts that would need a connection fail
 *    at once with 503 instead of each making its own attempt;
 *  - the warning that the database is unavailable is written at most
 *    once a second, with how many like it were left out.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/internal.h"
#include "ombud/log.h"

struct ombud_db_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *url;
    unsigned timeout_ms;
    unsigned statement_timeout_ms;
    size_t n;
    struct ombud_db_conn *conns;
    bool *busy;
    uint64_t checkouts, timeouts;
    /* Guarded by mu, like the rest; see the DESIGN note. */
    uint64_t epoch;   /* bumped when a connection is found lost */
    uint64_t *made;   /* the epoch each slot's connection was made in */
    bool down;        /* the last attempt to connect failed */
    bool probing;     /* an attempt during the outage is under way */
    int64_t retry_at; /* CLOCK_MONOTONIC ms: no attempt before */
    unsigned backoff_ms;
    int64_t logged_at;   /* CLOCK_MONOTONIC ms of the last warning line */
    uint64_t not_logged; /* warnings left out since */
};

#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 2000
#define LOG_EVERY_MS 1000

static atomic_int next_stmt_id;

/* Forgets the statements ombud_db_exec_cached prepared (the server
 * forgets them with the connection). */
static void sqlcache_clear(struct ombud_db_conn *c)
{
    for (size_t i = 0; i < OMBUD_DB_SQLCACHE_SIZE; i++) {
        free(c->sqlcache[i].sql);
        c->sqlcache[i].sql = NULL;
    }
}

static void forget_pending(struct ombud_db_conn *c);

PGconn *ombud_db_connect(const char *url, unsigned statement_timeout_ms, char *errbuf,
                         size_t errlen)
{
    return ombud_db_connect_as(url, statement_timeout_ms, "ombud", errbuf, errlen);
}

PGconn *ombud_db_connect_as(const char *url, unsigned statement_timeout_ms, const char *app_name,
                            char *errbuf, size_t errlen)
{
    char options[128];
    snprintf(options, sizeof options, "-c statement_timeout=%u -c TimeZone=UTC -c DateStyle=ISO",
             statement_timeout_ms);
    const char *const keys[] = {"dbname",           "connect_timeout", "options",
                                "application_name", "client_encoding", NULL};
    const char *const vals[] = {url, "3", options, app_name, "UTF8", NULL};
    PGconn *pg = PQconnectdbParams(keys, vals, 1);

    if (!pg) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    if (PQstatus(pg) != CONNECTION_OK) {
        const char *m = PQerrorMessage(pg);
        snprintf(errbuf, errlen, "%.*s", (int)strcspn(m, "\n"), m);
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

struct ombud_db_pool *ombud_db_pool_new(const char *url, size_t size, unsigned checkout_timeout_ms,
                                        unsigned statement_timeout_ms)
{
    struct ombud_db_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->url = strdup(url);
    p->conns = calloc(size, sizeof *p->conns);
    p->busy = calloc(size, sizeof *p->busy);
    p->made = calloc(size, sizeof *p->made);
    if (!p->url || !p->conns || !p->busy || !p->made) {
        free(p->url);
        free(p->conns);
        free(p->busy);
        free(p->made);
        free(p);
        return NULL;
    }
    p->n = size;
    p->timeout_ms = checkout_timeout_ms;
    p->statement_timeout_ms = statement_timeout_ms;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    return p;
}

void ombud_db_pool_free(struct ombud_db_pool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        if (p->conns[i].pg)
            PQfinish(p->conns[i].pg);
        sqlcache_clear(&p->conns[i]);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->conns);
    free(p->busy);
    free(p->made);
    free(p->url);
    free(p);
}

void ombud_db_pool_get_stats(struct ombud_db_pool *p, struct ombud_db_pool_stats *out)
{
    pthread_mutex_lock(&p->mu);
    out->size = p->n;
    out->in_use = out->connected = 0;
    for (size_t i = 0; i < p->n; i++) {
        out->in_use += p->busy[i];
        out->connected += p->conns[i].pg != NULL;
    }
    out->checkouts = p->checkouts;
    out->timeouts = p->timeouts;
    pthread_mutex_unlock(&p->mu);
}

static void reset_conn(struct ombud_db_conn *c)
{
    if (c->pg)
        PQfinish(c->pg);
    c->pg = NULL;
    c->broken = false;
    memset(c->prepared, 0, sizeof c->prepared);
    sqlcache_clear(c);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Writes the warning that the database is unavailable, at most once per
 * LOG_EVERY_MS: an outage under load would otherwise write one line per
 * request. The line counts those left out since the last one. */
static void warn_unavailable(struct ombud_db_pool *p, const char *msg)
{
    int64_t now = mono_ms();
    uint64_t left_out = 0;
    bool write = false;

    pthread_mutex_lock(&p->mu);
    if (p->logged_at == 0 || now - p->logged_at >= LOG_EVERY_MS) {
        write = true;
        left_out = p->not_logged;
        p->not_logged = 0;
        p->logged_at = now;
    } else {
        p->not_logged++;
    }
    pthread_mutex_unlock(&p->mu);
    if (write)
        ombud_log(OMBUD_LOG_WARN, "db_unavailable", "%s (%llu more since the last line)", msg,
                  (unsigned long long)left_out);
}

/* Whether a connection idle in the pool is still usable (see the DESIGN
 * note). Nothing is due on an idle connection (the pool's never LISTEN),
 * and what comes unasked is in practice the server's goodbye: the error
 * saying it terminates the session, then the end of the stream. Reading
 * that error would not tell libpq the connection is gone (it reports it
 * as a notice, and the end of the stream may not have arrived yet), so
 * anything to read means a new connection: cheap, where using a dead
 * one costs the request. */
static bool idle_conn_alive(PGconn *pg)
{
    if (PQstatus(pg) != CONNECTION_OK)
        return false;
    struct pollfd fd = {.fd = PQsocket(pg), .events = POLLIN};
    if (fd.fd < 0)
        return false;
    /* Nothing to read (or poll failed: the statement will find out). */
    return poll(&fd, 1, 0) <= 0;
}

/* May this thread try to connect now? While the database is down, one
 * attempt at a time, once the backoff has passed; *probe says this thread
 * makes that attempt (it reports with connect_done). */
static bool connect_allowed(struct ombud_db_pool *p, bool *probe)
{
    bool ok;
    pthread_mutex_lock(&p->mu);
    ok = !p->down || (!p->probing && mono_ms() >= p->retry_at);
    *probe = ok && p->down;
    if (*probe)
        p->probing = true;
    pthread_mutex_unlock(&p->mu);
    return ok;
}

static void connect_done(struct ombud_db_pool *p, bool probe, bool ok)
{
    bool restored = false;
    pthread_mutex_lock(&p->mu);
    if (probe)
        p->probing = false;
    if (ok) {
        restored = p->down;
        p->down = false;
        p->backoff_ms = 0;
    } else if (!p->down || probe) {
        /* The first failure, or the shared attempt failed again: wait
         * twice as long before the next (an attempt started before the
         * outage was noticed leaves the backoff as it is). */
        p->backoff_ms = !p->down                              ? BACKOFF_FIRST_MS
                        : p->backoff_ms >= BACKOFF_MAX_MS / 2 ? BACKOFF_MAX_MS
                                                              : p->backoff_ms * 2;
        p->down = true;
        p->retry_at = mono_ms() + p->backoff_ms;
    }
    pthread_mutex_unlock(&p->mu);
    if (restored)
        ombud_log(OMBUD_LOG_INFO, "db_available", "%s", "connected to the database again");
}

/* Makes the checked-out slot's connection usable: keeps a live one, drops
 * a stale one (failing the idle check, or `older`: made before a
 * connection was found lost, as the checkout read under its lock) and
 * connects when there is none, within the backoff while the database is
 * down. 503 in err when it cannot. */
static enum ombud_rc slot_ready(struct ombud_db_pool *p, size_t slot, bool older,
                                struct ombud_err *err)
{
    struct ombud_db_conn *c = &p->conns[slot];
    char msg[256];
    bool probe;

    if (c->pg && (older || !idle_conn_alive(c->pg)))
        reset_conn(c);
    if (c->pg)
        return OMBUD_OK;
    if (!connect_allowed(p, &probe)) {
        warn_unavailable(p, "database unavailable: waiting before the next attempt to connect");
        return ombud_err_unavailable(err, "database unavailable");
    }
    c->pg = ombud_db_connect(p->url, p->statement_timeout_ms, msg, sizeof msg);
    connect_done(p, probe, c->pg != NULL);
    if (!c->pg) {
        warn_unavailable(p, msg);
        return ombud_err_unavailable(err, "database unavailable");
    }
    pthread_mutex_lock(&p->mu);
    p->made[slot] = p->epoch;
    pthread_mutex_unlock(&p->mu);
    return OMBUD_OK;
}

/* How often a checkout waiting under a request deadline looks at it again. */
#define DEADLINE_SLICE_MS 20

enum ombud_rc ombud_db_checkout(struct ombud_db_pool *p, struct ombud_db_conn **out,
                                struct ombud_err *err)
{
    struct timespec deadline;
    size_t slot = p->n;
    unsigned wait_ms = p->timeout_ms;

    /* The request's deadline (deadline.c) may end the wait sooner. */
    if (ombud_db_deadline()) {
        int64_t left_ms = (ombud_db_deadline() - ombud_db_mono_us()) / 1000;
        if (left_ms <= 0)
            return ombud_err_unavailable(err, "no database connection free before the "
                                              "request's deadline; try again");
        if (left_ms < (int64_t)wait_ms)
            wait_ms = (unsigned)left_ms;
    }
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += wait_ms / 1000;
    deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }

    pthread_mutex_lock(&p->mu);
    for (;;) {
        /* Prefer a slot that already has a connection. */
        for (size_t i = 0; i < p->n; i++) {
            if (!p->busy[i] && p->conns[i].pg) {
                slot = i;
                break;
            }
        }
        if (slot == p->n)
            for (size_t i = 0; i < p->n; i++)
                if (!p->busy[i]) {
                    slot = i;
                    break;
                }
        if (slot < p->n)
            break;
        /* Under a request deadline, wake every DEADLINE_SLICE_MS to see
         * whether another thread brought it forward (deadline.c). */
        struct timespec until = deadline;
        bool sliced = false;
        if (ombud_db_deadline()) {
            if (ombud_db_deadline() <= ombud_db_mono_us()) {
                p->timeouts++;
                pthread_mutex_unlock(&p->mu);
                return ombud_err_unavailable(err, "no database connection free before the "
                                                  "request's deadline; try again");
            }
            struct timespec slice;
            clock_gettime(CLOCK_REALTIME, &slice);
            slice.tv_nsec += DEADLINE_SLICE_MS * 1000000L;
            if (slice.tv_nsec >= 1000000000L) {
                slice.tv_sec++;
                slice.tv_nsec -= 1000000000L;
            }
            if (slice.tv_sec < deadline.tv_sec ||
                (slice.tv_sec == deadline.tv_sec && slice.tv_nsec < deadline.tv_nsec)) {
                until = slice;
                sliced = true;
            }
        }
        if (pthread_cond_timedwait(&p->cv, &p->mu, &until) == ETIMEDOUT && !sliced) {
            p->timeouts++;
            pthread_mutex_unlock(&p->mu);
            return ombud_err_unavailable(err, "no database connection free; try again");
        }
    }
    p->busy[slot] = true;
    p->checkouts++;
    bool older = p->made[slot] < p->epoch;
    pthread_mutex_unlock(&p->mu);

    struct ombud_db_conn *c = &p->conns[slot];
    if (slot_ready(p, slot, older, err) != OMBUD_OK) {
        ombud_db_release(p, c);
        return OMBUD_ERROR;
    }
    ombud_db_deadline_watch(c);
    *out = c;
    return OMBUD_OK;
}

void ombud_db_release(struct ombud_db_pool *p, struct ombud_db_conn *c)
{
    size_t slot = (size_t)(c - p->conns);

    ombud_db_deadline_unwatch(c); /* first: no cancel may reach the ROLLBACK or a next user */

    forget_pending(c);
    c->in_tx = c->committed = c->work_sent = c->first_trip_dead = false;
    if (c->pg && !c->broken && PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
        PGresult *r = PQexec(c->pg, "ROLLBACK");
        PQclear(r);
        if (PQtransactionStatus(c->pg) != PQTRANS_IDLE)
            c->broken = true;
    }
    bool lost = c->pg && PQstatus(c->pg) != CONNECTION_OK;
    if (c->broken || lost)
        reset_conn(c);
    pthread_mutex_lock(&p->mu);
    if (lost)
        p->epoch++; /* the others went through the same; see slot_ready */
    p->busy[slot] = false;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* ---- statements ---- */

static int stmt_id(struct ombud_db_stmt *s)
{
    int id = atomic_load(&s->id);
    if (id == 0) {
        int fresh = atomic_fetch_add(&next_stmt_id, 1) + 1;
        int expected = 0;
        if (atomic_compare_exchange_strong(&s->id, &expected, fresh))
            id = fresh;
        else
            id = expected;
    }
    return id;
}

enum ombud_rc ombud_db_fail(struct ombud_db_conn *c, PGresult *res, struct ombud_err *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *constraint = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
    enum ombud_rc rc = OMBUD_ERROR;

    if (!msg)
        msg = PQerrorMessage(c->pg);
    if (PQstatus(c->pg) != CONNECTION_OK) {
        c->broken = true;
        ombud_err_unavailable(err, "database unavailable");
    } else if (!state) {
        ombud_err_internal(err, "database error");
    } else if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0) {
        ombud_err_set(err, OMBUD_E_CONFLICT, "concurrent-update", "concurrent update; try again");
        rc = OMBUD_RETRY;
    } else if (strcmp(state, "23505") == 0) {
        ombud_err_set(err, OMBUD_E_DUPLICATE, NULL, "already exists (%s)",
                      constraint ? constraint : "unique");
        ombud_err_constraint(err, constraint);
    } else if (strncmp(state, "23", 2) == 0) {
        ombud_err_set(err, OMBUD_E_INVALID, NULL, "rejected by %s",
                      constraint ? constraint : "a database constraint");
        ombud_err_constraint(err, constraint);
    } else if (strcmp(state, "57014") == 0) {
        ombud_err_unavailable(err, "database statement timed out");
    } else if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
               strcmp(state, "53300") == 0) {
        c->broken = true;
        ombud_err_unavailable(err, "database unavailable");
    } else {
        ombud_log(OMBUD_LOG_ERROR, "db_error", "%s: %s", state, msg ? msg : "");
        ombud_err_internal(err, "database error");
    }
    PQclear(res);
    return rc;
}

/* A PREPARE failed: ombud_db_fail, and a connection found dead there
 * before anything else went out may be replaced (PREPARE does no work). */
static enum ombud_rc prepare_fail(struct ombud_db_conn *c, PGresult *r, struct ombud_err *err)
{
    enum ombud_rc rc = ombud_db_fail(c, r, err);
    if (c->broken && !c->work_sent)
        c->first_trip_dead = true;
    return rc;
}

/* Prepares s on c unless it is already; *name receives its name. */
static enum ombud_rc prepare(struct ombud_db_conn *c, struct ombud_db_stmt *s, char name[24],
                             struct ombud_err *err)
{
    int id = stmt_id(s);
    if (id > OMBUD_DB_MAX_STMTS)
        return ombud_err_internal(err, "too many statements");
    snprintf(name, 24, "s%d", id);
    if (!c->prepared[id]) {
        PGresult *r = PQprepare(c->pg, name, s->sql, 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            return prepare_fail(c, r, err);
        PQclear(r);
        c->prepared[id] = true;
    }
    return OMBUD_OK;
}

static void forget_pending(struct ombud_db_conn *c)
{
    c->begin_pending = false;
}

/*
 * One round trip in pipeline mode: BEGIN when pending, s (when not NULL)
 * and COMMIT (when commit), then one Sync.
 * Every result is read up to the Sync; the first failure is what err
 * reports (the commands after it come back PGRES_PIPELINE_ABORTED). *out
 * receives s's result. Without an explicit BEGIN the server runs the
 * whole pipeline as one implicit transaction.
 */
static enum ombud_rc pipeline(struct ombud_db_conn *c, struct ombud_db_stmt *s, int nparams,
                              const char *const *params, bool commit, PGresult **out,
                              struct ombud_err *err)
{
    char name[24];
    bool begin = c->begin_pending;
    enum ombud_rc rc = OMBUD_OK;

    if (out)
        *out = NULL;
    if (ombud_db_deadline_check(err) != OMBUD_OK)
        return OMBUD_ERROR;
    if (s)
        rc = prepare(c, s, name, err);
    if (rc != OMBUD_OK)
        return rc;
    forget_pending(c);
    if (!PQenterPipelineMode(c->pg))
        return ombud_db_fail(c, NULL, err);
    bool fresh = !c->work_sent;
    c->work_sent = true;
    bool sent = !begin || PQsendQueryParams(c->pg, "BEGIN", 0, NULL, NULL, NULL, NULL, 0);
    if (sent && s)
        sent = PQsendQueryPrepared(c->pg, name, nparams, params, NULL, NULL, 0);
    if (sent && commit)
        sent = PQsendQueryParams(c->pg, "COMMIT", 0, NULL, NULL, NULL, NULL, 0);
    sent = sent && PQpipelineSync(c->pg);

    /* Commands in order: [BEGIN] [s] [COMMIT]; s is number mine. */
    int mine = s ? (int)begin : -1, cmd = 0, nulls = 0;
    PGresult *failed = NULL;
    while (sent) {
        PGresult *r = PQgetResult(c->pg);
        if (!r) { /* the end of one command's results */
            if (PQstatus(c->pg) != CONNECTION_OK || ++nulls > 2)
                break;
            cmd++;
            continue;
        }
        nulls = 0;
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            break;
        }
        if (st == PGRES_FATAL_ERROR && !failed)
            failed = r;
        else if (cmd == mine && out && (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) && !*out)
            *out = r;
        else
            PQclear(r);
    }
    if (!PQexitPipelineMode(c->pg))
        c->broken = true; /* results left unread: the session is unusable */
    if (!sent || failed || PQstatus(c->pg) != CONNECTION_OK || (out && s && !*out)) {
        if (out && *out) {
            PQclear(*out);
            *out = NULL;
        }
        /* The first trip of a transaction, without its COMMIT, found the
         * connection dead: the server rolls back whatever of it arrived.
         * With the COMMIT it may have committed before the connection
         * went: the caller never learns, so it must not run again. */
        if (fresh && begin && !commit && PQstatus(c->pg) != CONNECTION_OK)
            c->first_trip_dead = true;
        return ombud_db_fail(c, failed, err);
    }
    if (commit)
        c->committed = true;
    return OMBUD_OK;
}

enum ombud_rc ombud_db_exec(struct ombud_db_conn *c, struct ombud_db_stmt *s, int nparams,
                            const char *const *params, PGresult **out, struct ombud_err *err)
{
    char name[24];
    PGresult *r;

    *out = NULL;
    if (c->begin_pending)
        return pipeline(c, s, nparams, params, false, out, err);
    if (ombud_db_deadline_check(err) != OMBUD_OK)
        return OMBUD_ERROR;
    enum ombud_rc rc = prepare(c, s, name, err);
    if (rc != OMBUD_OK)
        return rc;
    c->work_sent = true;
    r = PQexecPrepared(c->pg, name, nparams, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
        return ombud_db_fail(c, r, err);
    *out = r;
    return OMBUD_OK;
}

enum ombud_rc ombud_db_exec_last(struct ombud_db_conn *c, struct ombud_db_stmt *s, int nparams,
                                 const char *const *params, PGresult **out, struct ombud_err *err)
{
    return pipeline(c, s, nparams, params, c->in_tx, out, err);
}

enum ombud_rc ombud_db_flush(struct ombud_db_conn *c, bool commit, struct ombud_err *err)
{
    if (commit && c->begin_pending) { /* nothing ran: no transaction to end */
        forget_pending(c);
        return OMBUD_OK;
    }
    if (c->begin_pending)
        return pipeline(c, NULL, 0, NULL, commit, NULL, err);
    return commit ? ombud_db_simple(c, "COMMIT", err) : OMBUD_OK;
}

enum ombud_rc ombud_db_exec_sql(struct ombud_db_conn *c, const char *sql, int nparams,
                                const char *const *params, PGresult **out, struct ombud_err *err)
{
    enum ombud_rc rc;
    *out = NULL;
    if (c->begin_pending && (rc = ombud_db_flush(c, false, err)) != OMBUD_OK)
        return rc;
    if (ombud_db_deadline_check(err) != OMBUD_OK)
        return OMBUD_ERROR;
    c->work_sent = true;
    PGresult *r = PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
        return ombud_db_fail(c, r, err);
    *out = r;
    return OMBUD_OK;
}

/* FNV-1a: the cache compares texts only where hashes are equal. */
static uint64_t sql_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

enum ombud_rc ombud_db_exec_cached(struct ombud_db_conn *c, const char *sql, int nparams,
                                   const char *const *params, PGresult **out, struct ombud_err *err)
{
    uint64_t h = sql_hash(sql);
    struct ombud_db_sqlcache_entry *e = NULL, *victim = &c->sqlcache[0];
    char name[24];
    PGresult *r;
    enum ombud_rc rc;

    *out = NULL;
    /* A BEGIN still waiting for its statement goes first. */
    if (c->begin_pending && (rc = ombud_db_flush(c, false, err)) != OMBUD_OK)
        return rc;
    if (ombud_db_deadline_check(err) != OMBUD_OK)
        return OMBUD_ERROR;
    for (size_t i = 0; i < OMBUD_DB_SQLCACHE_SIZE && !e; i++) {
        struct ombud_db_sqlcache_entry *x = &c->sqlcache[i];
        if (x->sql && x->hash == h && strcmp(x->sql, sql) == 0)
            e = x;
        else if (!x->sql || (victim->sql && x->used < victim->used))
            victim = x;
    }
    if (!e) {
        char *copy = strdup(sql);
        if (!copy)
            return ombud_err_internal(err, "out of memory");
        if (victim->sql) {
            /* One round trip, only when more shapes are in use than kept. */
            snprintf(name, sizeof name, "DEALLOCATE r%u", victim->name);
            PQclear(PQexec(c->pg, name));
            free(victim->sql);
            victim->sql = NULL;
        }
        victim->name = ++c->sqlcache_names;
        snprintf(name, sizeof name, "r%u", victim->name);
        r = PQprepare(c->pg, name, sql, 0, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            free(copy);
            return prepare_fail(c, r, err);
        }
        PQclear(r);
        victim->sql = copy;
        victim->hash = h;
        e = victim;
    }
    e->used = ++c->sqlcache_tick;
    snprintf(name, sizeof name, "r%u", e->name);
    c->work_sent = true;
    r = PQexecPrepared(c->pg, name, nparams, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
        return ombud_db_fail(c, r, err);
    *out = r;
    return OMBUD_OK;
}

enum ombud_rc ombud_db_simple(struct ombud_db_conn *c, const char *sql, struct ombud_err *err)
{
    enum ombud_rc rc;
    if (c->begin_pending && (rc = ombud_db_flush(c, false, err)) != OMBUD_OK)
        return rc;
    if (ombud_db_deadline_check(err) != OMBUD_OK)
        return OMBUD_ERROR;
    c->work_sent = true;
    PGresult *r = PQexec(c->pg, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        return ombud_db_fail(c, r, err);
    PQclear(r);
    return OMBUD_OK;
}

enum ombud_rc ombud_db_after_commit(struct ombud_db_conn *c, ombud_db_commit_fn fn, int64_t arg,
                                    struct ombud_err *err)
{
    for (size_t i = 0; i < c->nhooks; i++)
        if (c->hooks[i].fn == fn && c->hooks[i].arg == arg)
            return OMBUD_OK;
    if (c->nhooks == OMBUD_DB_MAX_HOOKS)
        return ombud_err_internal(err, "too many after-commit actions");
    c->hooks[c->nhooks++] = (struct ombud_db_hook){fn, arg};
    return OMBUD_OK;
}

bool ombud_db_in_tx(const struct ombud_db_conn *c)
{
    return c->in_tx || PQtransactionStatus(c->pg) == PQTRANS_INTRANS;
}

static struct ombud_db_stmt q_notify = OMBUD_STMT("SELECT pg_notify($1::text, '')");

enum ombud_rc ombud_db_notify(struct ombud_db_conn *c, const char *channel, struct ombud_err *err)
{
    const char *p[] = {channel};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_notify, 1, p, &r, err);
    if (rc == OMBUD_OK)
        PQclear(r);
    return rc;
}

void ombud_db_rollback(struct ombud_db_conn *c)
{
    bool begun = !c->begin_pending;
    forget_pending(c);
    if (!begun)
        return; /* BEGIN was never sent */
    PGresult *r = PQexec(c->pg, "ROLLBACK");
    PQclear(r);
}

int64_t ombud_db_int(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

bool ombud_db_bool(const PGresult *r, int row, int col)
{
    return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

void ombud_db_text(const PGresult *r, int row, int col, char *out, size_t len)
{
    if (PQgetisnull(r, row, col)) {
        out[0] = '\0';
        return;
    }
    snprintf(out, len, "%s", PQgetvalue(r, row, col));
}

/* ---- standalone connections ---- */

struct ombud_db_conn *ombud_db_conn_open(const char *url, const char *app_name,
                                         struct ombud_err *err)
{
    char msg[256];
    struct ombud_db_conn *c = calloc(1, sizeof *c);
    if (!c) {
        ombud_err_internal(err, "out of memory");
        return NULL;
    }
    c->pg = ombud_db_connect_as(url, 5000, app_name, msg, sizeof msg);
    if (!c->pg) {
        free(c);
        ombud_err_unavailable(err, msg);
        return NULL;
    }
    return c;
}

void ombud_db_conn_close(struct ombud_db_conn *c)
{
    if (!c)
        return;
    if (c->pg)
        PQfinish(c->pg);
    sqlcache_clear(c);
    free(c);
}

bool ombud_db_conn_ok(const struct ombud_db_conn *c)
{
    return c && c->pg && !c->broken && PQstatus(c->pg) == CONNECTION_OK;
}

enum ombud_rc ombud_db_listen(struct ombud_db_conn *c, const char *channel, struct ombud_err *err)
{
    /* LISTEN takes no parameters: the name is quoted as an identifier. */
    char *id = PQescapeIdentifier(c->pg, channel, strlen(channel));
    char sql[128];
    if (!id)
        return ombud_err_internal(err, "out of memory");
    snprintf(sql, sizeof sql, "LISTEN %s", id);
    PQfreemem(id);
    return ombud_db_simple(c, sql, err);
}

/* Hands every notification libpq holds to on_notify: 1 if one wakes. */
static int take_notifies(struct ombud_db_conn *c, ombud_db_notify_fn on_notify, void *arg)
{
    PGnotify *n;
    int got = 0;
    while ((n = PQnotifies(c->pg)) != NULL) {
        if (on_notify(n->relname, arg))
            got = 1;
        PQfreemem(n);
    }
    return got;
}

int ombud_db_wait(struct ombud_db_conn *c, int timeout_ms, int wake_fd,
                  ombud_db_notify_fn on_notify, void *arg)
{
    struct pollfd fds[2] = {{.fd = PQsocket(c->pg), .events = POLLIN},
                            {.fd = wake_fd, .events = POLLIN}};
    if (fds[0].fd < 0)
        return -1;
    /* Those that arrived while the last statements ran are read already:
     * the socket would not say so. */
    int got = take_notifies(c, on_notify, arg);
    if (poll(fds, wake_fd >= 0 ? 2 : 1, got ? 0 : timeout_ms) < 0)
        return got;
    if (fds[1].revents & POLLIN)
        got = 1;
    if (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) {
        if (!PQconsumeInput(c->pg)) {
            c->broken = true;
            return -1;
        }
        got |= take_notifies(c, on_notify, arg);
    }
    if (PQstatus(c->pg) != CONNECTION_OK) {
        c->broken = true;
        return -1;
    }
    return got;
}
