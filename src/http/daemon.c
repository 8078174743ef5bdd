/*
 * The HTTP daemon: MHD start and stop, the access handler, the completion
 * callback and the access log. DESIGN: libmicrohttpd runs a pool of
 * OMBUD_THREADS + 1 threads over epoll, and the gate as many permits to
 * wait on the database; while the database stalls, one thread is freed
 * and one permit held in reserve (gate.c says how, and what that
 * guarantees to new and to keep-alive connections). MHD calls access()
 * several times per request:
 *
 *   1. headers only (*req_cls == NULL): allocate state, route (404/405),
 *      authenticate (401/403, auth.c), check the query is UTF-8 (400,
 *      query.c), reject bodies early by Content-Length (413) and
 *      Content-Type (415, body.c). An early reply makes MHD skip the body
 *      and close the connection afterwards.
 *   2. body chunks: handed to body.c, which copies them under the size
 *      limit.
 *   3. *upload_data_size == 0: parse JSON (400, body.c), run the handler.
 *
 * Steps that may block on the database (a key lookup the cache cannot
 * answer in 1, the handler in 3 unless its route is OMBUD_ROUTE_NODB)
 * first take a permit from the gate; when none is free the connection is
 * suspended and MHD calls access() again once it is resumed, and the
 * step runs then (req->auth_waiting, req->body_parsed say where it was).
 * Each such step has a deadline (OMBUD_REQUEST_TIMEOUT_MS), carried into
 * the database layer (ombud_db_set_deadline): 503 once it passes.
 *
 * GET /v1/stream is the exception to "handlers block briefly": its
 * response is fed by stream.c's pump, the connection suspended while it
 * has nothing to send (MHD_ALLOW_SUSPEND_RESUME).
 *
 * Connection admission (per-address limit, head and body deadlines, the
 * cap that answers 503) is admission.c's: its MHD options and three hooks
 * per request (head whole, body whole, request over).
 *
 * completed() runs once per request: it writes the access-log line,
 * records metrics and frees the request state. Replies are built in
 * reply.c. ombud_http_stop() below describes the drain on SIGTERM.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http/admission.h"
#include "http/auth.h"
#include "http/body.h"
#include "http/gate.h"
#include "http/handlers.h"
#include "http/query.h"
#include "http/ratelimit.h"
#include "http/reply.h"
#include "http/stream.h"
#include "ombud/config.h"
#include "ombud/db/pool.h"
#include "ombud/http.h"
#include "ombud/keys.h"
#include "ombud/log.h"
#include "ombud/metrics.h"
#include "ombud/text.h"
#include "ombud/timefmt.h"

static atomic_long inflight;
static atomic_bool draining;
static struct ombud_db_pool *the_pool;

bool ombud_http_draining(void)
{
    return atomic_load(&draining);
}

/* ---- request life cycle ---- */

/*
 * Request ids are 128 bits as 32 hex digits. They must be unique, not
 * secret: each thread seeds two splitmix64 sequences once from the
 * kernel's CSPRNG and steps them per request, rather than asking
 * OpenSSL's generator (a getpid(2) and a DRBG round, a few percent of a
 * get's CPU) every time. Within a thread splitmix64 never repeats an
 * output in 2^64 steps; threads start from independent random seeds.
 */
static _Thread_local uint64_t rid_state[2];
static _Thread_local bool rid_seeded;

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void new_request_id(char out[static 33])
{
    static const char hex[] = "0123456789abcdef";
    if (!rid_seeded) {
        if (getrandom(rid_state, sizeof rid_state, 0) != (ssize_t)sizeof rid_state) {
            ombud_random_hex(out, 16); /* no seed yet: the slow way, this once */
            return;
        }
        rid_seeded = true;
    }
    for (int h = 0; h < 2; h++) {
        uint64_t v = splitmix64(&rid_state[h]);
        for (int i = 0; i < 16; i++)
            out[h * 16 + i] = hex[(v >> (60 - 4 * i)) & 15];
    }
    out[32] = '\0';
}

static void set_request_id(struct ombud_req *req)
{
    const char *given = ombud_req_header(req, "X-Request-Id");
    if (given) {
        size_t len = strlen(given);
        bool ok = len >= 1 && len <= 128;
        for (size_t i = 0; ok && i < len; i++)
            ok = given[i] > 0x20 && given[i] < 0x7f;
        if (ok) {
            memcpy(req->request_id, given, len + 1);
            return;
        }
    }
    new_request_id(req->request_id);
}

/* ---- waiting for the database (gate.c) ---- */

/* /health/ready answers within this, whatever OMBUD_REQUEST_TIMEOUT_MS. */
#define READY_TIMEOUT_MS 1000

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * A thread blocked in a slow step holds up every connection it owns: a
 * request read right after such a step has been waiting since that step
 * began (MHD accepts up to ten connections in one go, and gives each to
 * the accepting thread for good). So a step that follows a slow one on
 * the same thread within CHAIN_GAP_US counts its deadline from when the
 * slow run began, not from now: the client's wait, not ours, is what
 * the deadline bounds. It still gets a quarter of a deadline to try (it
 * may have arrived just now, with the database well again). A fast step
 * ends the run, so under a healthy database every step gets its whole
 * deadline.
 */
#define SLOW_STEP_US 50000
#define CHAIN_GAP_US 100000
static _Thread_local int64_t run_start_us, step_start_us, step_end_us;
static _Thread_local bool step_slow;

/*
 * Before a step that may block on the database: true when req holds a
 * permit and the calling thread carries req's deadline into the database
 * layer; false when req's connection is suspended in the gate's queue
 * (the step runs again on resumption) or has been answered 503 because
 * its deadline passed while it waited there. Each step gets its own deadline, counted from
 * when it is ready to run (the key lookup from the headers, the handler
 * from the whole body; see above for a thread that was blocked): time a
 * client takes to send its body is not ours to count.
 */
static bool admit(struct ombud_req *req, unsigned timeout_ms)
{
    int64_t now = mono_us();
    bool chained = step_slow && now - step_end_us <= CHAIN_GAP_US;
    if (req->gate == OMBUD_GATE_NONE) {
        int64_t whole = (int64_t)timeout_ms * 1000;
        req->gate_deadline_us = (chained ? run_start_us : now) + whole;
        if (req->gate_deadline_us < now + whole / 4)
            req->gate_deadline_us = now + whole / 4;
        if (!ombud_gate_enter(req))
            return false;
    }
    if (req->gate == OMBUD_GATE_EXPIRED) {
        struct ombud_err err;
        req->gate = OMBUD_GATE_NONE;
        ombud_err_clear(&err);
        ombud_err_set(&err, OMBUD_E_UNAVAILABLE, NULL,
                      "every database slot stayed busy for %u ms; try again", timeout_ms);
        ombud_reply_problem(req, &err);
        return false;
    }
    if (req->gate != OMBUD_GATE_HELD)
        return false; /* still queued: MHD called without a resumption */
    ombud_db_set_deadline(req->gate_deadline_us);
    ombud_gate_begin(now);
    if (!chained)
        run_start_us = now;
    step_start_us = now;
    return true;
}

static void unadmit(struct ombud_req *req)
{
    ombud_db_set_deadline(0);
    step_end_us = mono_us();
    /* A step ended by its deadline says nothing of the database moving. */
    ombud_gate_leave(req, step_end_us < req->gate_deadline_us ? step_end_us - step_start_us : -1);
    step_slow = step_end_us - step_start_us >= SLOW_STEP_US;
}

/* ---- the phases of a request ---- */

/* After authentication: the checks that need neither key nor body. */
static void after_auth(struct ombud_req *req)
{
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_query_check_utf8(req, &err) != OMBUD_OK) {
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_body_check_headers(req);
}

/* A key the cache could not answer for: looked up under a permit. Runs
 * again when the connection is resumed (req->auth_waiting). */
static void authenticate(struct ombud_req *req)
{
    req->auth_waiting = true;
    if (!admit(req, ombud_cf.request_timeout_ms)) {
        if (req->handled)
            req->auth_waiting = false;
        return;
    }
    ombud_auth_check(req);
    unadmit(req);
    req->auth_waiting = false;
    if (!req->handled)
        after_auth(req);
}

/* The first call: everything that can be decided from the headers. */
static void begin(struct ombud_req *req)
{
    unsigned allow = 0;
    char allow_s[96];

    if (strcmp(req->method, "OPTIONS") == 0) {
        /* No route takes OPTIONS, so matching yields the path's methods. */
        struct ombud_route_match m;
        if (ombud_router_match(ombud_routes, ombud_nroutes, "OPTIONS", req->path, &m, &allow) ==
            404) {
            ombud_reply_error(req, OMBUD_E_NOT_FOUND, "no such resource");
            return;
        }
        ombud_router_allow_string(allow, allow_s, sizeof allow_s);
        ombud_reply_preflight(req, allow_s);
        return;
    }
    int st = ombud_router_match(ombud_routes, ombud_nroutes, req->method, req->path, &req->match,
                                &allow);
    if (st == 404) {
        ombud_reply_error(req, OMBUD_E_NOT_FOUND, "no such resource");
        return;
    }
    if (st == 405) {
        struct ombud_err err;
        ombud_router_allow_string(allow, allow_s, sizeof allow_s);
        ombud_err_clear(&err);
        ombud_err_set(&err, OMBUD_E_METHOD_NOT_ALLOWED, NULL, "%s is not allowed here; allowed: %s",
                      req->method, allow_s);
        ombud_reply_problem_h(req, &err, "Allow", allow_s);
        return;
    }
    if (req->match.route->min_role != OMBUD_ROLE_NONE && atomic_load(&draining)) {
        /* An API request read after SIGTERM: not run, and the client is
         * told so (the reply carries Connection: close, reply.c). The
         * operations routes are still answered, as usual. */
        ombud_reply_error(req, OMBUD_E_UNAVAILABLE, "shutting down; try again");
        return;
    }
    if (req->match.route->min_role != OMBUD_ROLE_NONE) {
        if (!ombud_auth_check_cached(req)) {
            authenticate(req);
            return;
        }
        if (req->handled)
            return;
    }
    after_auth(req);
}

/* A connection that came in over OMBUD_CONN_LIMIT (admission.c): told
 * at once to come back, and closed. Liveness and metrics are still
 * answered (they touch neither the database nor a queue), so an
 * orchestrator does not restart a process for being busy. */
static bool over_cap_exempt(const char *method, const char *url)
{
    return (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0) &&
           (strcmp(url, "/health/live") == 0 || strcmp(url, "/metrics") == 0);
}

static void over_cap(struct ombud_req *req)
{
    struct ombud_err err;
    ombud_err_clear(&err);
    ombud_err_set(&err, OMBUD_E_UNAVAILABLE, "connection-limit",
                  "the server is at its connection limit; retry shortly");
    ombud_reply_problem_h(req, &err, "Connection", "close");
}

/* The last call, with the whole body: parse it, run the handler (under a
 * permit unless the route needs no database). Runs again when the
 * connection is resumed from the gate's queue. */
static void finish(struct ombud_req *req)
{
    if (!req->body_parsed) {
        if (!ombud_body_finish(req))
            return;
        req->body_parsed = true;
    }
    const struct ombud_route *route = req->match.route;
    bool db = !(route->flags & OMBUD_ROUTE_NODB);
    unsigned timeout_ms = ombud_cf.request_timeout_ms;
    if (route->handler == (void *)ombud_h_health_ready && timeout_ms > READY_TIMEOUT_MS)
        timeout_ms = READY_TIMEOUT_MS;
    if (db && !admit(req, timeout_ms))
        return;
    ((ombud_handler)route->handler)(req);
    if (db)
        unadmit(req);
    /* A write answered 2xx has committed: streams here may show it now. */
    if (req->handled && req->status >= 200 && req->status < 300 &&
        strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
        ombud_stream_nudge();
    if (!req->handled) {
        ombud_log(OMBUD_LOG_ERROR, "no_reply", "handler %s queued no reply", route->name);
        ombud_reply_error(req, OMBUD_E_INTERNAL, "no reply");
    }
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **req_cls)
{
    struct ombud_req *req = *req_cls;

    if (!req) {
        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        *req_cls = req;
        atomic_fetch_add(&inflight, 1);
        req->conn = conn;
        req->method = method;
        req->path = url;
        if (!ombud_utf8_valid(url)) {
            /* A percent-decoded path may hold any bytes; JSON needs UTF-8. */
            req->path_owned = ombud_utf8_sanitize_dup(url);
            req->path = req->path_owned ? req->path_owned : "/";
        }
        req->pool = the_pool;
        req->started_us = ombud_time_now();
        set_request_id(req);
        const char *origin = ombud_req_header(req, "Origin");
        if (ombud_config_cors_allows(&ombud_cf, origin))
            req->origin = origin;
        if (ombud_admission_request_head(conn) && !over_cap_exempt(method, url))
            over_cap(req);
        else if (strcmp(version, MHD_HTTP_VERSION_1_1) == 0 && !ombud_req_header(req, "Host"))
            ombud_reply_error(req, OMBUD_E_BAD_REQUEST, "an HTTP/1.1 request needs a Host header");
        else
            begin(req);
        if (req->handled)
            ombud_admission_request_body_done(conn);
        return MHD_YES;
    }
    if (req->auth_waiting) {
        /* Resumed from the gate's queue during the first call. */
        authenticate(req);
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        size_t len = *upload_data_size;
        *upload_data_size = 0; /* consumed: else MHD stops once its buffer fills */
        return ombud_body_chunk(req, upload_data, len) ? MHD_YES : MHD_NO;
    }
    if (!req->handled) {
        ombud_admission_request_body_done(conn);
        finish(req);
    }
    return MHD_YES;
}

static void completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct ombud_req *req = *req_cls;
    ombud_admission_request_end(conn);
    if (!req)
        return;
    *req_cls = NULL;

    int64_t dur = ombud_time_now() - req->started_us;
    int status = req->handled ? req->status : 0;
    const char *route = req->match.route ? req->match.route->name : "unmatched";
    /* A stream lasts as long as its client wants: counted, not timed. */
    bool stream = req->match.route && req->match.route->handler == (void *)ombud_h_stream;
    ombud_metrics_request(route, status, stream ? -1 : dur);

    enum ombud_log_level level = status >= 500 && status != 503 ? OMBUD_LOG_ERROR
                                 : status == 503                ? OMBUD_LOG_WARN
                                                                : OMBUD_LOG_INFO;
    ombud_log_request(level, &(struct ombud_log_request){
                                 .request_id = req->request_id,
                                 .method = req->method,
                                 .path = req->path,
                                 .route = route,
                                 .status = status,
                                 .duration_us = dur,
                                 .bytes_in = req->body_len,
                                 .key_id = req->who.key_id,
                                 .aborted = toe != MHD_REQUEST_TERMINATED_COMPLETED_OK,
                             });
    if (req->gate == OMBUD_GATE_HELD) /* never expected: every step gives its permit back */
        ombud_gate_leave(req, -1);
    ombud_body_free(req);
    free(req->path_owned);
    free(req);
    atomic_fetch_sub(&inflight, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    ombud_log(OMBUD_LOG_WARN, "http", "%s", msg);
}

struct MHD_Daemon *ombud_http_start(struct ombud_db_pool *pool, struct ombud_err *err)
{
    struct addrinfo hints = {0}, *ai = NULL;
    char port[8];
    struct MHD_Daemon *d;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME; /* idle streams leave the event loop (stream.c) */

    the_pool = pool;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    snprintf(port, sizeof port, "%u", ombud_cf.listen_port);
    if (getaddrinfo(ombud_cf.listen_host, port, &hints, &ai) != 0 || !ai) {
        ombud_err_set(err, OMBUD_E_CONFIG, NULL, "cannot resolve %s", ombud_cf.listen_host);
        return NULL;
    }
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (ombud_ratelimit_init(ombud_cf.rate_limit, ombud_cf.rate_burst, err) != OMBUD_OK ||
        ombud_admission_start(err) != OMBUD_OK) {
        freeaddrinfo(ai);
        return NULL;
    }
    if (ombud_stream_start(ombud_cf.database_url, err) != OMBUD_OK) {
        ombud_admission_stop();
        freeaddrinfo(ai);
        return NULL;
    }
    if (ombud_gate_start(ombud_cf.threads + 1, ombud_cf.request_timeout_ms, err) != OMBUD_OK) {
        ombud_stream_stop();
        ombud_admission_stop();
        freeaddrinfo(ai);
        return NULL;
    }
    atomic_store(&draining, false);
    d = MHD_start_daemon(flags, ombud_cf.listen_port, NULL, NULL, access_cb, NULL,
                         MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR,
                         ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)ombud_cf.threads + 1,
                         /* as many as the gate's permits; one is held in reserve only while the
                          * database stalls (gate.c) */
                         MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                         MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)ombud_cf.conn_timeout,
                         MHD_OPTION_ARRAY, ombud_admission_options(),
                         MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!d) {
        ombud_gate_stop();
        ombud_stream_stop();
        ombud_admission_stop();
        ombud_err_set(err, OMBUD_E_CONFIG, "listen-failed",
                      "cannot serve on %s:%u (address in use?)", ombud_cf.listen_host,
                      ombud_cf.listen_port);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    ombud_log(OMBUD_LOG_INFO, "listening", "http://%s:%u", ombud_cf.listen_host,
              info ? info->port : ombud_cf.listen_port);
    return d;
}

/*
 * The drain. From SIGTERM on:
 *  - the listening socket is closed: new connections are refused at once
 *    (not left in the backlog until the end);
 *  - every response queued from now on carries Connection: close (reply.c),
 *    so MHD closes each connection once its in-flight request is answered;
 *  - a request read from now on (a client reusing an idle keep-alive
 *    connection) is not run but answered 503 with Retry-After and
 *    Connection: close. This is what HTTP allows the client to act on: a
 *    server may close an idle persistent connection at any time, but a
 *    client whose request crossed that close cannot tell whether it ran
 *    (RFC 9110 9.2.2: it may not retry a POST by itself), while a 503 says
 *    plainly that nothing was done;
 *  - streams end once what they hold is sent;
 *  - as soon as no request is in flight (idle keep-alive connections do
 *    not count) the daemon stops, closing the idle connections, and the
 *    process exits. drain_seconds bounds the wait; a request the database
 *    still holds then is cut off (and logged).
 * So no response to a request that was read is dropped, unless it outlives
 * the drain.
 */
void ombud_http_stop(struct MHD_Daemon *d, unsigned drain_seconds)
{
    atomic_store(&draining, true);
    /* The listening socket is ours to close, but only after MHD_stop_daemon;
     * shutting it down now makes new connections fail at once instead of
     * waiting in the backlog for the drain to end. */
    MHD_socket fd = MHD_quiesce_daemon(d);
    if (fd != MHD_INVALID_SOCKET)
        shutdown(fd, SHUT_RDWR);
    /* Streams end once what they hold is sent (they are in-flight
     * requests, so the drain waits for them); none may stay suspended. */
    ombud_stream_close_all();
    for (unsigned i = 0; i < drain_seconds * 100 && atomic_load(&inflight) > 0; i++) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    /* No connection may stay suspended into MHD_stop_daemon: requests
     * still waiting for a permit are answered 503 now (any left only
     * after a drain timeout, or read in this last moment). */
    ombud_gate_stop();
    if (atomic_load(&inflight) > 0) {
        ombud_log(OMBUD_LOG_WARN, "drain_timeout", "%ld requests still running",
                  atomic_load(&inflight));
        for (int i = 0; i < 20 && atomic_load(&inflight) > 0; i++) {
            struct timespec ts = {0, 10 * 1000000L}; /* the 503s go out */
            nanosleep(&ts, NULL);
        }
    }
    MHD_stop_daemon(d);
    ombud_admission_stop();
    ombud_ratelimit_free();
    ombud_db_deadline_stop();
    ombud_stream_stop();
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}
