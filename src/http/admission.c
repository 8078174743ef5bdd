/*
 * Connection admission: how one client is kept from holding every
 * connection or thread. DESIGN: MHD's event loop serves many connections
 * per thread, so a slow client costs a connection slot, not a thread;
 * what must be bounded is how long a slot may be held without a request
 * to show for it, how many slots one address may hold, and what a client
 * finds when every slot is taken.
 *
 *  - Per address: MHD_OPTION_PER_IP_CONNECTION_LIMIT (OMBUD_CONN_PER_IP).
 *    MHD closes a connection over it right after accepting it.
 *  - Deadlines: every connection is tracked from MHD's connection
 *    notifications in a list with its phase and a deadline (monotonic
 *    milliseconds). A request's head must be whole within
 *    OMBUD_HEADER_TIMEOUT_MS of the connection's start or, on a
 *    keep-alive connection, of its request line (MHD's URI log callback);
 *    an idle keep-alive connection must start its next request head
 *    within OMBUD_CONN_TIMEOUT (MHD's own idle timeout counts silence
 *    only, so a byte a second would reset it forever). The body must be
 *    whole within OMBUD_BODY_TIMEOUT_MS of the head. While the handler
 *    runs and the reply is sent there is no deadline (streams last as long
 *    as their client reads). A reaper thread wakes a few times a second,
 *    and shutdown(2)s the socket of every connection past its deadline;
 *    MHD sees the end of the stream and closes the connection as usual.
 *    The list's mutex is held across the shutdown and by the close
 *    notification, which MHD sends before it closes the descriptor, so
 *    the reaper never touches a descriptor that was closed and reused.
 *  - The cap answers: MHD is allowed OVERFLOW connections above
 *    OMBUD_CONN_LIMIT. A connection that arrives while OMBUD_CONN_LIMIT are
 *    open is over the cap: its first request is answered 503 problem+json
 *    with Retry-After and Connection: close (daemon.c), and it gets
 *    OVER_CAP_MS rather than the whole header deadline to send that
 *    request, so the overflow slots turn over within a second and a new
 *    client is answered rather than left in the listen backlog. Only when
 *    the overflow slots are full as well does MHD stop accepting.
 *    GET /health/live and /metrics are still served over the cap
 *    (daemon.c), so a busy process does not fail its liveness probe.
 *
 * Hot path: a request costs three clock reads and atomic stores into its
 * connection's record, found through MHD's socket context; the list's
 * mutex is taken only when a connection opens or closes, and by the
 * reaper for one pass over the list.
 */
#include "http/admission.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ombud/config.h"
#include "ombud/http.h"
#include "ombud/log.h"

/* Above the cap: enough slots to answer a burst of newcomers. */
#define OVERFLOW_MIN 16u
/* An over-cap connection's time to send its request before it is closed. */
#define OVER_CAP_MS 1000

enum phase { P_HEAD, P_BODY, P_REPLY, P_IDLE };
static const char *const phase_names[] = {"head", "body", "reply", "idle"};

struct tracked {
    struct tracked *prev, *next;
    MHD_socket fd;
    bool over_cap;
    bool reaped;              /* the reaper shut it down */
    _Atomic int phase;        /* enum phase */
    _Atomic int64_t deadline; /* monotonic ms; 0: none */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct tracked head = {.prev = &head, .next = &head};
static atomic_long open_conns;
static atomic_ulong slow_closed, over_cap_total;
static pthread_t reaper;
static bool running, stopping;
static struct MHD_OptionItem options[6];

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct tracked *tracked_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void set(struct tracked *t, enum phase p, int64_t deadline)
{
    atomic_store_explicit(&t->deadline, deadline, memory_order_relaxed);
    atomic_store_explicit(&t->phase, (int)p, memory_order_relaxed);
}

static void notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                   enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        struct tracked *t = calloc(1, sizeof *t);
        if (!t)
            return; /* untracked: MHD's idle timeout still applies */
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        t->fd = ci ? ci->connect_fd : MHD_INVALID_SOCKET;
        long n = atomic_fetch_add(&open_conns, 1) + 1;
        t->over_cap = n > (long)ombud_cf.conn_limit;
        if (t->over_cap)
            atomic_fetch_add(&over_cap_total, 1);
        int64_t limit = ombud_cf.header_timeout_ms;
        if (t->over_cap && limit > OVER_CAP_MS)
            limit = OVER_CAP_MS;
        set(t, P_HEAD, now_ms() + limit);
        pthread_mutex_lock(&mu);
        t->next = &head;
        t->prev = head.prev;
        head.prev->next = t;
        head.prev = t;
        pthread_mutex_unlock(&mu);
        *socket_context = t;
        return;
    }
    struct tracked *t = *socket_context;
    if (!t)
        return;
    *socket_context = NULL;
    pthread_mutex_lock(&mu);
    t->prev->next = t->next;
    t->next->prev = t->prev;
    pthread_mutex_unlock(&mu);
    atomic_fetch_sub(&open_conns, 1);
    free(t);
}

/* A request line has arrived: on a keep-alive connection the head's
 * deadline starts now (unless the idle one comes first). */
static void *uri_logged(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    (void)uri;
    struct tracked *t = tracked_of(conn);
    if (t && atomic_load_explicit(&t->phase, memory_order_relaxed) == P_IDLE) {
        int64_t d = now_ms() + ombud_cf.header_timeout_ms;
        int64_t old = atomic_load_explicit(&t->deadline, memory_order_relaxed);
        set(t, P_HEAD, old && old < d ? old : d);
    }
    return NULL; /* the access handler's first call still sees *req_cls == NULL */
}

bool ombud_admission_request_head(struct MHD_Connection *conn)
{
    struct tracked *t = tracked_of(conn);
    if (!t)
        return false;
    set(t, P_BODY, now_ms() + ombud_cf.body_timeout_ms);
    return t->over_cap;
}

void ombud_admission_request_body_done(struct MHD_Connection *conn)
{
    struct tracked *t = tracked_of(conn);
    if (t)
        set(t, P_REPLY, 0);
}

void ombud_admission_request_end(struct MHD_Connection *conn)
{
    struct tracked *t = tracked_of(conn);
    if (!t)
        return;
    /* Next: a new request head, started within the idle timeout (at
     * least the head's own deadline) and then finished within the head's. */
    int64_t idle = (int64_t)ombud_cf.conn_timeout * 1000;
    if (idle < ombud_cf.header_timeout_ms)
        idle = ombud_cf.header_timeout_ms;
    if (t->over_cap) /* it was answered (a probe, or 503 and closed): no lingering */
        idle = OVER_CAP_MS;
    set(t, P_IDLE, now_ms() + idle);
}

void ombud_http_conn_stats(struct ombud_http_conn_stats *out)
{
    out->open = atomic_load(&open_conns);
    out->slow_closed = atomic_load(&slow_closed);
    out->over_cap = atomic_load(&over_cap_total);
}

/* One pass: shut down every connection past its deadline. */
static void reap(int64_t now)
{
    unsigned n[4] = {0};
    pthread_mutex_lock(&mu);
    for (struct tracked *t = head.next; t != &head; t = t->next) {
        int64_t d = atomic_load_explicit(&t->deadline, memory_order_relaxed);
        if (t->reaped || d == 0 || now < d || t->fd == MHD_INVALID_SOCKET)
            continue;
        int p = atomic_load_explicit(&t->phase, memory_order_relaxed);
        if (p == P_REPLY)
            continue;
        shutdown(t->fd, SHUT_RDWR);
        t->reaped = true;
        n[p]++;
    }
    pthread_mutex_unlock(&mu);
    for (int p = 0; p < 4; p++)
        if (n[p])
            atomic_fetch_add(&slow_closed, n[p]);
    for (int p = 0; p < 4; p++)
        if (n[p])
            ombud_log(OMBUD_LOG_INFO, "slow_client_closed", "%u connection%s past the %s deadline",
                      n[p], n[p] == 1 ? "" : "s", phase_names[p]);
}

static void *reaper_main(void *arg)
{
    (void)arg;
    /* A tick of a tenth of the shortest deadline, 10 to 250 ms: a
     * connection is closed at most that late. */
    unsigned shortest = ombud_cf.header_timeout_ms < ombud_cf.body_timeout_ms
                            ? ombud_cf.header_timeout_ms
                            : ombud_cf.body_timeout_ms;
    if (shortest > OVER_CAP_MS)
        shortest = OVER_CAP_MS;
    long tick = shortest / 10 < 10 ? 10 : shortest / 10 > 250 ? 250 : shortest / 10;

    pthread_mutex_lock(&mu);
    while (!stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += tick * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&wake, &mu, &ts);
        if (stopping)
            break;
        pthread_mutex_unlock(&mu);
        reap(now_ms());
        pthread_mutex_lock(&mu);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

enum ombud_rc ombud_admission_start(struct ombud_err *err)
{
    unsigned cap = ombud_cf.conn_limit, overflow = cap / 16;
    if (overflow < OVERFLOW_MIN)
        overflow = OVERFLOW_MIN;
    /* MHD splits its limit among the pool's threads: keep some overflow
     * on each. */
    if (overflow < 4 * ombud_cf.threads)
        overflow = 4 * ombud_cf.threads;
    size_t i = 0;
    options[i++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, cap + overflow, NULL};
    options[i++] =
        (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT, ombud_cf.conn_per_ip, NULL};
    options[i++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)notify, NULL};
    options[i++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)uri_logged, NULL};
    options[i++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

    stopping = false;
    int rc = pthread_create(&reaper, NULL, reaper_main, NULL);
    if (rc != 0)
        return ombud_err_set(err, OMBUD_E_CONFIG, NULL, "cannot start the connection reaper: %s",
                             strerror(rc));
    running = true;
    return OMBUD_OK;
}

const struct MHD_OptionItem *ombud_admission_options(void)
{
    return options;
}

void ombud_admission_stop(void)
{
    if (!running)
        return;
    pthread_mutex_lock(&mu);
    stopping = true;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&mu);
    pthread_join(reaper, NULL);
    running = false;
}
