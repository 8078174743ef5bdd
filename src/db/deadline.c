/*
 * Request deadlines for the database (ombud/db/pool.h,
 * ombud_db_set_deadline). DESIGN: a deadline belongs to the calling
 * thread (an MHD thread runs one request's handler at a time, start to
 * end), so it is a thread-local and costs nothing to threads that never
 * set one (the SLA worker, the webhook sender, the stream pump). It caps
 * three waits:
 *
 *  - the pool checkout: the wait for a free connection ends at the
 *    deadline when that comes before OMBUD_DB_TIMEOUT_MS (pool.c);
 *  - the start of a statement: none is sent once the deadline has passed
 *    (pool.c, ombud_db_deadline_check), so a handler with several
 *    statements, or a transaction retried, stops there with a 503 and
 *    nothing committed;
 *  - a statement already running (waiting on a lock, say): the watchdog
 *    thread sends PostgreSQL a cancel request for it at the deadline
 *    (PQcancel), so it ends with 57014, a 503, rather than running on to
 *    statement_timeout.
 *
 * The watchdog: each thread that sets a deadline gets a slot (once, on a
 * list that only grows: threads are few and live as long as the process).
 * The slot holds the deadline (an atomic, written by its thread without
 * a lock) and the connection checked out under it, set at checkout and
 * cleared first thing at release under the slot's mutex. The watchdog
 * wakes every TICK_MS while any slot has a deadline and cancels under
 * that mutex, so it can never cancel a statement of the connection's
 * next user: release waits for a cancel in progress. A cancel that
 * arrives while the session is idle between two statements is ignored by
 * PostgreSQL; the next statement then stops at the start check.
 *
 * Another thread may bring a deadline forward to now
 * (ombud_db_deadline_cut: the HTTP gate does, to free a thread when the
 * database stalls). It goes through the same three caps: the slot's
 * deadline is what the start check and the pool wait read (the pool
 * waits in slices of at most TICK_MS while a deadline is set, so it
 * notices), and the cut sends the cancel itself rather than waiting for
 * the watchdog's next tick.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "db/internal.h"
#include "ombud/log.h"

#define TICK_MS 20

struct ombud_db_deadline_ref {
    struct ombud_db_deadline_ref *next;
    pthread_mutex_t mu;
    _Atomic int64_t deadline;   /* monotonic µs; 0: none */
    struct ombud_db_conn *conn; /* checked out under the deadline (mu) */
    bool cancelled;             /* sent for this checkout (mu) */
};

static pthread_mutex_t list_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t list_cv = PTHREAD_COND_INITIALIZER;
static struct ombud_db_deadline_ref *slots;
static _Atomic int armed; /* slots with a deadline now */
static pthread_t watchdog;
static bool started;
static _Atomic bool stopping;
static _Atomic unsigned long long cancels;

static _Thread_local struct ombud_db_deadline_ref *my_slot;
static _Thread_local int64_t my_deadline;

int64_t ombud_db_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void cancel(struct ombud_db_deadline_ref *s)
{
    char msg[256];
    PGcancel *pc = PQgetCancel(s->conn->pg);
    if (!pc)
        return;
    if (!PQcancel(pc, msg, sizeof msg))
        ombud_log(OMBUD_LOG_WARN, "db_cancel_failed", "%s", msg);
    else
        atomic_fetch_add(&cancels, 1);
    PQfreeCancel(pc);
}

/* Cancels the statement s's thread is running if its deadline is still
 * d (not set again since) and none was sent for this checkout. */
static void cancel_due(struct ombud_db_deadline_ref *s, int64_t d)
{
    pthread_mutex_lock(&s->mu);
    if (s->conn && !s->cancelled && s->conn->pg && atomic_load(&s->deadline) == d) {
        s->cancelled = true;
        cancel(s);
    }
    pthread_mutex_unlock(&s->mu);
}

static void *watch(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&list_mu);
    while (!atomic_load(&stopping)) {
        if (atomic_load(&armed) == 0) {
            pthread_cond_wait(&list_cv, &list_mu);
            continue;
        }
        struct ombud_db_deadline_ref *head = slots;
        pthread_mutex_unlock(&list_mu);
        int64_t now = ombud_db_mono_us();
        for (struct ombud_db_deadline_ref *s = head; s; s = s->next) {
            int64_t d = atomic_load(&s->deadline);
            if (d == 0 || d > now)
                continue;
            cancel_due(s, d);
        }
        struct timespec ts = {0, TICK_MS * 1000000L};
        nanosleep(&ts, NULL);
        pthread_mutex_lock(&list_mu);
    }
    pthread_mutex_unlock(&list_mu);
    return NULL;
}

static struct ombud_db_deadline_ref *slot_get(void)
{
    if (my_slot)
        return my_slot;
    struct ombud_db_deadline_ref *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_lock(&list_mu);
    if (!started && !atomic_load(&stopping)) {
        if (pthread_create(&watchdog, NULL, watch, NULL) == 0)
            started = true;
        else
            ombud_log(OMBUD_LOG_ERROR, "db_watchdog", "%s", "cannot start the deadline watchdog");
    }
    s->next = slots;
    slots = s;
    pthread_mutex_unlock(&list_mu);
    my_slot = s;
    return s;
}

void ombud_db_set_deadline(int64_t mono_us)
{
    struct ombud_db_deadline_ref *s = mono_us || my_slot ? slot_get() : NULL;
    my_deadline = mono_us;
    if (!s)
        return;
    int64_t was = atomic_exchange(&s->deadline, mono_us);
    if (mono_us && !was) {
        if (atomic_fetch_add(&armed, 1) == 0) {
            pthread_mutex_lock(&list_mu);
            pthread_cond_signal(&list_cv);
            pthread_mutex_unlock(&list_mu);
        }
    } else if (!mono_us && was) {
        atomic_fetch_sub(&armed, 1);
    }
}

int64_t ombud_db_deadline(void)
{
    /* The slot's copy: another thread may have brought it forward. */
    return my_slot ? atomic_load_explicit(&my_slot->deadline, memory_order_relaxed) : my_deadline;
}

enum ombud_rc ombud_db_deadline_check(struct ombud_err *err)
{
    int64_t d = ombud_db_deadline();
    if (d && ombud_db_mono_us() >= d)
        return ombud_err_unavailable(err, "the request's deadline passed before its database work "
                                          "was done; try again");
    return OMBUD_OK;
}

void ombud_db_deadline_watch(struct ombud_db_conn *c)
{
    if (!my_deadline || !my_slot)
        return;
    pthread_mutex_lock(&my_slot->mu);
    my_slot->conn = c;
    my_slot->cancelled = false; /* one cancel per checkout at most */
    pthread_mutex_unlock(&my_slot->mu);
}

void ombud_db_deadline_unwatch(struct ombud_db_conn *c)
{
    if (!my_slot)
        return;
    pthread_mutex_lock(&my_slot->mu); /* waits out a cancel in progress */
    if (my_slot->conn == c)
        my_slot->conn = NULL;
    pthread_mutex_unlock(&my_slot->mu);
}

struct ombud_db_deadline_ref *ombud_db_deadline_self(void)
{
    return slot_get();
}

bool ombud_db_deadline_cut(struct ombud_db_deadline_ref *s)
{
    if (!s)
        return false;
    int64_t now = ombud_db_mono_us(), d = atomic_load(&s->deadline);
    do {
        if (d == 0)
            return false; /* its thread is not doing database work */
        if (d <= now)
            return true; /* due already: the watchdog has it */
    } while (!atomic_compare_exchange_weak(&s->deadline, &d, now));
    cancel_due(s, now);
    return true;
}

unsigned long long ombud_db_deadline_cancels(void)
{
    return atomic_load(&cancels);
}

void ombud_db_deadline_stop(void)
{
    pthread_mutex_lock(&list_mu);
    atomic_store(&stopping, true);
    bool join = started;
    started = false;
    pthread_cond_signal(&list_cv);
    pthread_mutex_unlock(&list_mu);
    if (join)
        pthread_join(watchdog, NULL);
    pthread_mutex_lock(&list_mu);
    while (slots) {
        struct ombud_db_deadline_ref *s = slots;
        slots = s->next;
        pthread_mutex_destroy(&s->mu);
        free(s);
    }
    pthread_mutex_unlock(&list_mu);
}
