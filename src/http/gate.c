/*
 * The admission gate: how many MHD threads may be blocked on the
 * database at once. DESIGN, and what it guarantees:
 *
 * MHD runs OMBUD_THREADS + 1 threads (daemon.c) and the gate has
 * OMBUD_THREADS permits. A request takes a permit before any work that
 * may block on the database (a key not in the cache, the handler of a
 * route without OMBUD_ROUTE_NODB) and gives it back right after, so at
 * most OMBUD_THREADS threads are ever inside database calls and at least
 * one is always in its event loop. Routes that need no database
 * (/health/live, /metrics, /openapi.yaml, 404, 405, 401 for a missing
 * key, 413, 415) take no permit and are answered by whichever thread
 * reads them.
 *
 * Fast path: with a permit free and nobody waiting, entering is one
 * compare-and-swap and leaving one atomic add and one load: no lock, no
 * suspension, no other thread involved. Only when every permit is held
 * does a request wait: its connection is suspended
 * (MHD_suspend_connection, so its thread goes back to its other
 * connections) on a FIFO queue, and the request that gives a permit back
 * hands it to the oldest waiter and resumes that connection; MHD then
 * calls the access handler again on the connection's own thread, which
 * finds the permit held. A deadline thread resumes a waiter whose
 * deadline (OMBUD_REQUEST_TIMEOUT_MS) passes first, marked expired, and
 * the access handler answers it 503 with Retry-After. A request holding
 * a permit is bounded by the same deadline inside the database layer
 * (ombud_db_set_deadline: pool wait, statement start, cancel).
 *
 * What this guarantees for connections. MHD's thread pool gives each
 * connection to the thread that accepted it, for the connection's whole
 * life, and only a thread in its event loop accepts. So:
 *  - a NEW connection is always accepted and served by a free thread:
 *    /health/live and /metrics on a new connection are answered at once
 *    however stuck the database is (probes should not reuse connections;
 *    Kubernetes' do not);
 *  - a request on a KEEP-ALIVE connection whose thread is inside a
 *    database call waits for that call to end: the deadline of the
 *    request holding the thread (plus the moment a cancel takes), not
 *    the lock or statement_timeout. The same holds for a new connection
 *    that the thread accepted together with others (MHD accepts up to
 *    ten at a time) before it blocked. Such a request counts its own
 *    deadline from when the thread's run of slow steps began (daemon.c,
 *    admit), so its client too hears within about one deadline.
 *
 * Locking: one mutex guards the queue. MHD_suspend_connection and
 * MHD_resume_connection are called with it held (as stream.c does: MHD
 * never calls back into us while holding its own lock, so the order is
 * always ours, then MHD's). Lost wake-ups are excluded by the order of
 * the sequentially consistent atomics: a waiter counts itself in
 * `waiting` before it looks at `avail` again, and a leaver adds to
 * `avail` before it looks at `waiting`, so one of them sees the other.
 */
#include "http/gate.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "ombud/log.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;             /* CLOCK_MONOTONIC: the deadline thread */
static struct ombud_req *head, *tail; /* waiters, oldest first (mu) */
static _Atomic int avail;             /* permits free */
static _Atomic unsigned waiting;      /* waiters queued, or about to be */
static _Atomic unsigned long long n_waited, n_expired;
static unsigned npermits;
static bool stopping, started; /* mu */
static int64_t next_wake;      /* when the deadline thread looks next; 0: never (mu) */
static pthread_t timer;

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static bool take_permit(void)
{
    int f = atomic_load(&avail);
    while (f > 0)
        if (atomic_compare_exchange_weak(&avail, &f, f - 1))
            return true;
    return false;
}

/* mu held */
static void unlink_req(struct ombud_req *r)
{
    if (r->gate_prev)
        r->gate_prev->gate_next = r->gate_next;
    else
        head = r->gate_next;
    if (r->gate_next)
        r->gate_next->gate_prev = r->gate_prev;
    else
        tail = r->gate_prev;
    r->gate_prev = r->gate_next = NULL;
    atomic_fetch_sub(&waiting, 1);
}

/* mu held: a waiter leaves the queue with state st and runs again. */
static void wake(struct ombud_req *r, int st)
{
    unlink_req(r);
    r->gate = st;
    MHD_resume_connection(r->conn);
}

/* mu held: free permits go to the oldest waiters. */
static void hand_over(void)
{
    while (head && take_permit())
        wake(head, OMBUD_GATE_HELD);
}

bool ombud_gate_enter(struct ombud_req *req)
{
    if (atomic_load(&waiting) == 0 && take_permit()) {
        req->gate = OMBUD_GATE_HELD;
        return true;
    }
    pthread_mutex_lock(&mu);
    atomic_fetch_add(&waiting, 1);
    if (!head && !stopping && take_permit()) {
        atomic_fetch_sub(&waiting, 1);
        pthread_mutex_unlock(&mu);
        req->gate = OMBUD_GATE_HELD;
        return true;
    }
    req->gate = OMBUD_GATE_QUEUED;
    req->gate_next = NULL;
    req->gate_prev = tail;
    if (tail)
        tail->gate_next = req;
    else
        head = req;
    tail = req;
    atomic_fetch_add(&n_waited, 1);
    MHD_suspend_connection(req->conn);
    if (stopping) {
        atomic_fetch_add(&n_expired, 1);
        wake(req, OMBUD_GATE_EXPIRED);
    } else
        hand_over(); /* a permit given back while the queue was not empty */
    if (!next_wake || req->gate_deadline_us < next_wake)
        pthread_cond_signal(&cv); /* the deadline thread looks at the new deadline */
    pthread_mutex_unlock(&mu);
    return false;
}

void ombud_gate_leave(struct ombud_req *req)
{
    if (req->gate != OMBUD_GATE_HELD)
        return;
    req->gate = OMBUD_GATE_NONE;
    atomic_fetch_add(&avail, 1);
    if (atomic_load(&waiting) == 0)
        return;
    pthread_mutex_lock(&mu);
    hand_over();
    pthread_mutex_unlock(&mu);
}

static void *deadlines(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!stopping) {
        int64_t now = mono_us(), next = 0;
        for (struct ombud_req *r = head, *n; r; r = n) {
            n = r->gate_next;
            if (r->gate_deadline_us <= now) {
                atomic_fetch_add(&n_expired, 1);
                wake(r, OMBUD_GATE_EXPIRED);
            } else if (!next || r->gate_deadline_us < next) {
                next = r->gate_deadline_us;
            }
        }
        next_wake = next;
        if (!next) {
            pthread_cond_wait(&cv, &mu);
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t wait_us = next - now;
        ts.tv_sec += (time_t)(wait_us / 1000000);
        ts.tv_nsec += (long)(wait_us % 1000000) * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        int rc = pthread_cond_timedwait(&cv, &mu, &ts);
        (void)rc; /* woken or timed out: look again either way */
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

enum ombud_rc ombud_gate_start(unsigned permits, struct ombud_err *err)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cv, &ca);
    pthread_condattr_destroy(&ca);
    npermits = permits;
    atomic_store(&avail, (int)permits);
    atomic_store(&waiting, 0);
    stopping = false;
    head = tail = NULL;
    int rc = pthread_create(&timer, NULL, deadlines, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&cv);
        ombud_err_set(err, OMBUD_E_INTERNAL, NULL, "cannot start the gate's thread (errno %d)", rc);
        return OMBUD_ERROR;
    }
    started = true;
    return OMBUD_OK;
}

void ombud_gate_stop(void)
{
    if (!started)
        return;
    pthread_mutex_lock(&mu);
    stopping = true;
    while (head) {
        atomic_fetch_add(&n_expired, 1);
        wake(head, OMBUD_GATE_EXPIRED);
    }
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(timer, NULL);
    pthread_cond_destroy(&cv);
    started = false;
}

void ombud_gate_stats(struct ombud_gate_stats *out)
{
    int f = atomic_load(&avail);
    out->permits = npermits;
    out->in_use = f >= 0 && (unsigned)f <= npermits ? npermits - (unsigned)f : 0;
    out->waiting = atomic_load(&waiting);
    out->waited = atomic_load(&n_waited);
    out->expired = atomic_load(&n_expired);
}
