/*
 * The admission gate: how many MHD threads may be blocked on the
 * database at once. DESIGN, and what it guarantees:
 *
 * MHD runs OMBUD_THREADS + 1 threads (daemon.c) and the gate has as many
 * permits, one per thread. A request takes a permit before any work that
 * may block on the database (a key not in the cache, the handler of a
 * route without OMBUD_ROUTE_NODB) and gives it back right after. A
 * thread runs one step at a time, so under a healthy database nobody
 * queues: every thread that reaches the database finds its permit.
 * Routes that need no database (/health/live, /metrics, /openapi.yaml,
 * 404, 405, 401 for a missing key, 413, 415) take no permit and are
 * answered by whichever thread reads them.
 *
 * A reserve, only while the database stalls. The deadline thread below
 * watches for a stall: every permit held and no step begun under a
 * permit for stall_us (STALL_MS, or OMBUD_REQUEST_TIMEOUT_MS when that is
 * smaller). Then every thread may be inside the database, none in its
 * event loop, and nothing answers a new connection. So on a stall the
 * gate (1) takes one permit out of circulation, the reserve: a request
 * that would take the last free permit queues instead; and (2) frees a
 * thread: the most recently admitted holder's database deadline is
 * brought forward to now (ombud_db_deadline_cut: its pool wait ends, its
 * running statement is cancelled, no further statement starts), so that
 * request gets the usual 503 with Retry-After and gives its permit back,
 * which stays free as the reserve. Should that holder not leave within
 * another stall_us (its thread was not in a database call), the next
 * youngest holder is cut. The stall ends when a permit is given back by
 * a step that took less than stall_us (the database is moving again):
 * the reserve returns to circulation and queued requests are handed
 * permits.
 *
 * STALL_MS is 150: far above a healthy step (a point read or a short
 * transaction takes a few ms, tens under heavy load on a shared core),
 * so that all permits staying held with none given back for that long
 * means the database is stuck, not busy; short enough that liveness on
 * a new connection stays well under a second. A legitimately slow step
 * on every thread at once (longer than STALL_MS each) costs one of them
 * a 503.
 *
 * Fast path: with a permit free and nobody waiting, entering is one
 * compare-and-swap and, when the step begins, one atomic store of the
 * time in the thread's holder record; leaving is one atomic add, one
 * store clearing that record and loads of `waiting` and `stalled`: no
 * lock, no suspension, no other thread involved. (The first request
 * after the gate went idle also wakes the deadline thread, under the
 * mutex.) When no permit is free (or only the reserved one) a request
 * waits: its connection is suspended (MHD_suspend_connection, so its
 * thread goes back to its other connections) on a FIFO queue, and the
 * request that gives a permit back hands it to the oldest waiter and
 * resumes that connection; MHD then calls the access handler again on
 * the connection's own thread, which finds the permit held. The deadline
 * thread resumes a waiter whose deadline (OMBUD_REQUEST_TIMEOUT_MS)
 * passes first, marked expired, and the access handler answers it 503
 * with Retry-After. A request holding a permit is bounded by the same
 * deadline inside the database layer (ombud_db_set_deadline: pool wait,
 * statement start, cancel).
 *
 * What this guarantees for connections. MHD's thread pool gives each
 * connection to the thread that accepted it, for the connection's whole
 * life, and only a thread in its event loop accepts. So:
 *  - a NEW connection is accepted and served by a free thread: while the
 *    database is healthy, at once; when it stalls, /health/live and
 *    /metrics on a new connection wait at most about stall_us (the stall
 *    being seen) plus the time a cancel takes to end the cut request's
 *    statement (a round trip to PostgreSQL), not the request deadline;
 *    once stalled, at once, since one thread stays out of the database
 *    (probes should not reuse connections; Kubernetes' do not);
 *  - a request on a KEEP-ALIVE connection whose thread is inside a
 *    database call waits for that call to end: the deadline of the
 *    request holding the thread (plus the moment a cancel takes), not
 *    the lock or statement_timeout. The same holds for a new connection
 *    that the thread accepted together with others (MHD accepts up to
 *    ten at a time) before it blocked. Such a request counts its own
 *    deadline from when the thread's run of slow steps began (daemon.c,
 *    admit), so its client too hears within about one deadline.
 *
 * Locking: one mutex guards the queue and the stall's start and end.
 * MHD_suspend_connection and MHD_resume_connection are called with it
 * held (as stream.c does: MHD never calls back into us while holding its
 * own lock, so the order is always ours, then MHD's). The reserve is one
 * permit subtracted from `avail` (which may then be -1 until the cut
 * holder leaves), so the fast path's test stays "avail > 0". Lost
 * wake-ups are excluded by the order of the sequentially consistent
 * atomics: a waiter counts itself in `waiting` before it looks at
 * `avail` again, and a leaver adds to `avail` before it looks at
 * `waiting`, so one of them sees the other; likewise the deadline thread
 * sets `timer_idle` before it looks at `avail` a last time, and a taker
 * takes from `avail` before it looks at `timer_idle`. The deadline thread
 * reads holder records without a lock: a record a thread has just
 * stamped, or is about to, only makes the stall look younger (later)
 * than it is, except in the instant between a taker's compare-and-swap
 * and its stamp, when every other holder has been in the database for
 * stall_us already.
 */
#include "http/gate.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "ombud/db/pool.h"
#include "ombud/log.h"

#define STALL_MS 150
/* OMBUD_THREADS' upper bound (config.c) plus the thread with no permit of
 * old: the holder records, one per MHD thread. */
#define MAX_HOLDERS 1025

/* One MHD thread's step under a permit, read by the deadline thread. */
struct holder {
    _Atomic int64_t since;                      /* monotonic µs its step began; 0: none */
    _Atomic(struct ombud_db_deadline_ref *) dl; /* its thread's database deadline */
    int64_t cut_since;                          /* the step cut last (deadline thread) */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;             /* CLOCK_MONOTONIC: the deadline thread */
static struct ombud_req *head, *tail; /* waiters, oldest first (mu) */
static _Atomic int avail;             /* permits free, less the reserve while stalled */
static _Atomic unsigned waiting;      /* waiters queued, or about to be */
static _Atomic bool stalled;          /* the reserve is out of circulation (changed under mu) */
static _Atomic bool timer_idle;       /* the deadline thread sleeps until poked (mu) */
static _Atomic unsigned long long n_waited, n_expired, n_stalls;
static unsigned npermits;
static int64_t stall_us;
static bool stopping, started; /* mu */
static int64_t next_wake;      /* when the deadline thread looks next; 0: never (mu) */
static int64_t last_cut_us;    /* deadline thread */
static pthread_t timer;

static struct holder holders[MAX_HOLDERS];
static _Atomic unsigned holders_used;
static _Atomic unsigned generation; /* of the gate's start: holder records are per start */
static _Thread_local struct holder *my_holder;
static _Thread_local unsigned my_generation;

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The calling thread's holder record (NULL past MAX_HOLDERS). */
static struct holder *holder_self(void)
{
    unsigned g = atomic_load_explicit(&generation, memory_order_relaxed);
    if (my_generation == g)
        return my_holder;
    my_generation = g;
    my_holder = NULL;
    unsigned i = atomic_fetch_add(&holders_used, 1);
    if (i >= MAX_HOLDERS) {
        ombud_log(OMBUD_LOG_WARN, "gate_holders", "%s", "more HTTP threads than holder records");
        return NULL;
    }
    my_holder = &holders[i];
    atomic_store(&my_holder->dl, ombud_db_deadline_self());
    return my_holder;
}

static bool take_permit(void)
{
    int f = atomic_load(&avail);
    while (f > 0)
        if (atomic_compare_exchange_weak(&avail, &f, f - 1))
            return true;
    return false;
}

/* After a permit was taken: the deadline thread, if asleep for good,
 * starts watching for a stall. */
static void poke_timer(void)
{
    if (!atomic_load(&timer_idle))
        return;
    pthread_mutex_lock(&mu);
    if (atomic_load(&timer_idle)) {
        atomic_store(&timer_idle, false);
        pthread_cond_signal(&cv);
    }
    pthread_mutex_unlock(&mu);
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
        poke_timer();
        return true;
    }
    pthread_mutex_lock(&mu);
    atomic_fetch_add(&waiting, 1);
    if (!head && !stopping && take_permit()) {
        atomic_fetch_sub(&waiting, 1);
        if (atomic_load(&timer_idle)) {
            atomic_store(&timer_idle, false);
            pthread_cond_signal(&cv);
        }
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
    if (atomic_load(&timer_idle) || !next_wake || req->gate_deadline_us < next_wake) {
        atomic_store(&timer_idle, false);
        pthread_cond_signal(&cv); /* the deadline thread looks at the new deadline */
    }
    pthread_mutex_unlock(&mu);
    return false;
}

void ombud_gate_begin(int64_t now_us)
{
    struct holder *h = holder_self();
    if (h)
        atomic_store(&h->since, now_us);
}

void ombud_gate_leave(struct ombud_req *req, int64_t step_us)
{
    if (req->gate != OMBUD_GATE_HELD)
        return;
    req->gate = OMBUD_GATE_NONE;
    struct holder *h =
        my_generation == atomic_load_explicit(&generation, memory_order_relaxed) ? my_holder : NULL;
    if (h)
        atomic_store(&h->since, 0);
    atomic_fetch_add(&avail, 1);
    bool moving = step_us >= 0 && step_us < stall_us && atomic_load(&stalled);
    if (!moving && atomic_load(&waiting) == 0)
        return;
    pthread_mutex_lock(&mu);
    if (moving && atomic_load(&stalled)) {
        /* The database is moving again: the reserve goes back. */
        atomic_store(&stalled, false);
        atomic_fetch_add(&avail, 1);
        ombud_log(OMBUD_LOG_INFO, "db_stall_over", "a step took %lld ms",
                  (long long)(step_us / 1000));
    }
    hand_over();
    pthread_mutex_unlock(&mu);
}

bool ombud_gate_stall_due(int free_permits, int64_t youngest_since_us, int64_t now_us,
                          int64_t stall_after_us)
{
    return free_permits <= 0 && youngest_since_us > 0 &&
           now_us - youngest_since_us >= stall_after_us;
}

/* The holder whose step began last, skipping those already cut in that
 * step; NULL when none is in a step. */
static struct holder *youngest_holder(void)
{
    struct holder *best = NULL;
    int64_t best_since = 0;
    unsigned n = atomic_load(&holders_used);
    if (n > MAX_HOLDERS)
        n = MAX_HOLDERS;
    for (unsigned i = 0; i < n; i++) {
        int64_t s = atomic_load(&holders[i].since);
        if (s && s != holders[i].cut_since && s > best_since) {
            best = &holders[i];
            best_since = s;
        }
    }
    return best;
}

/*
 * mu held: the stall watch. Returns when to look again (0: only when
 * poked) and in *cut the holder whose deadline to bring forward, if any
 * (done by the caller without mu: a cancel is a round trip).
 */
static int64_t watch_stall(int64_t now, struct holder **cut, int64_t *cut_since)
{
    *cut = NULL;
    int f = atomic_load(&avail);
    if (!atomic_load(&stalled)) {
        if (f >= (int)npermits)
            return 0;
        if (f > 0)
            return now + stall_us / 4; /* not full: look again soon */
        struct holder *y = youngest_holder();
        int64_t since = y ? atomic_load(&y->since) : 0;
        if (!ombud_gate_stall_due(f, since, now, stall_us))
            return since ? since + stall_us : now + stall_us / 4;
        if (!atomic_compare_exchange_strong(&avail, &f, f - 1))
            return now;               /* a permit came back meanwhile: look again */
        atomic_store(&stalled, true); /* the reserve is out */
        atomic_fetch_add(&n_stalls, 1);
        ombud_log(OMBUD_LOG_WARN, "db_stall",
                  "every database permit held for %lld ms: freeing a thread",
                  (long long)((now - since) / 1000));
        *cut = y;
        *cut_since = since;
        last_cut_us = now;
        return now + stall_us;
    }
    if (f >= 0)
        return (int)npermits - 1 - f > 0 ? now + stall_us : 0; /* the reserve is free */
    /* The one cut has not left yet: its thread was not in a database call. */
    if (now - last_cut_us < stall_us)
        return last_cut_us + stall_us;
    struct holder *y = youngest_holder();
    if (y) {
        *cut = y;
        *cut_since = atomic_load(&y->since);
    }
    last_cut_us = now;
    return now + stall_us;
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
        struct holder *cut;
        int64_t cut_since = 0;
        int64_t look = watch_stall(now, &cut, &cut_since);
        if (look && (!next || look < next))
            next = look;
        if (cut) {
            cut->cut_since = cut_since;
            struct ombud_db_deadline_ref *dl = atomic_load(&cut->dl);
            pthread_mutex_unlock(&mu);
            ombud_db_deadline_cut(dl);
            pthread_mutex_lock(&mu);
            continue;
        }
        next_wake = next;
        if (!next) {
            /* Nothing held, nobody queued: sleep until a taker pokes. */
            atomic_store(&timer_idle, true);
            if (atomic_load(&avail) < (int)npermits - (atomic_load(&stalled) ? 1 : 0) || head) {
                atomic_store(&timer_idle, false);
                continue;
            }
            pthread_cond_wait(&cv, &mu);
            atomic_store(&timer_idle, false);
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

enum ombud_rc ombud_gate_start(unsigned permits, unsigned timeout_ms, struct ombud_err *err)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cv, &ca);
    pthread_condattr_destroy(&ca);
    npermits = permits;
    stall_us = (int64_t)(timeout_ms < STALL_MS ? timeout_ms : STALL_MS) * 1000;
    atomic_store(&avail, (int)permits);
    atomic_store(&waiting, 0);
    atomic_store(&stalled, false);
    atomic_store(&timer_idle, false);
    for (unsigned i = 0; i < MAX_HOLDERS; i++) {
        atomic_store(&holders[i].since, 0);
        atomic_store(&holders[i].dl, NULL);
        holders[i].cut_since = 0;
    }
    atomic_store(&holders_used, 0);
    atomic_fetch_add(&generation, 1);
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
    bool st = atomic_load(&stalled);
    int f = atomic_load(&avail) + (st ? 1 : 0);
    out->permits = npermits;
    out->in_use = f >= 0 && (unsigned)f <= npermits ? npermits - (unsigned)f : 0;
    out->stalled = st;
    out->stalls = atomic_load(&n_stalls);
    out->waiting = atomic_load(&waiting);
    out->waited = atomic_load(&n_waited);
    out->expired = atomic_load(&n_expired);
}
