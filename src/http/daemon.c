/*
 * The HTTP daemon: MHD start and stop, the access handler, the completion
 * callback and the access log. DESIGN: libmicrohttpd runs a pool of
 * OMBUD_THREADS threads over epoll. MHD calls access() several times per
 * request:
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
 * GET /v1/stream is the exception to "handlers block briefly": its
 * response is fed by stream.c's pump, the connection suspended while it
 * has nothing to send (MHD_ALLOW_SUSPEND_RESUME).
 *
 * completed() runs once per request: it writes the access-log line,
 * records metrics and frees the request state. Handlers block on the
 * database, so threads are sized with the pool and every statement has
 * statement_timeout. Replies are built in reply.c.
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

#include "http/auth.h"
#include "http/body.h"
#include "http/handlers.h"
#include "http/query.h"
#include "http/reply.h"
#include "http/stream.h"
#include "ombud/config.h"
#include "ombud/http.h"
#include "ombud/keys.h"
#include "ombud/log.h"
#include "ombud/metrics.h"
#include "ombud/text.h"
#include "ombud/timefmt.h"

static atomic_long inflight;
static struct ombud_db_pool *the_pool;

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
    if (req->match.route->min_role != OMBUD_ROLE_NONE) {
        ombud_auth_check(req);
        if (req->handled)
            return;
    }
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_query_check_utf8(req, &err) != OMBUD_OK) {
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_body_check_headers(req);
}

/* The last call, with the whole body: parse it, run the handler. */
static void finish(struct ombud_req *req)
{
    if (!ombud_body_finish(req))
        return;
    ((ombud_handler)req->match.route->handler)(req);
    /* A write answered 2xx has committed: streams here may show it now. */
    if (req->handled && req->status >= 200 && req->status < 300 &&
        strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
        ombud_stream_nudge();
    if (!req->handled) {
        ombud_log(OMBUD_LOG_ERROR, "no_reply", "handler %s queued no reply",
                  req->match.route->name);
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
        if (strcmp(version, MHD_HTTP_VERSION_1_1) == 0 && !ombud_req_header(req, "Host"))
            ombud_reply_error(req, OMBUD_E_BAD_REQUEST, "an HTTP/1.1 request needs a Host header");
        else
            begin(req);
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        size_t len = *upload_data_size;
        *upload_data_size = 0; /* consumed: else MHD stops once its buffer fills */
        return ombud_body_chunk(req, upload_data, len) ? MHD_YES : MHD_NO;
    }
    if (!req->handled)
        finish(req);
    return MHD_YES;
}

static void completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct ombud_req *req = *req_cls;
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
    if (ombud_stream_start(ombud_cf.database_url, err) != OMBUD_OK) {
        freeaddrinfo(ai);
        return NULL;
    }
    d = MHD_start_daemon(
        flags, ombud_cf.listen_port, NULL, NULL, access_cb, NULL, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, NULL, MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)ombud_cf.threads, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)ombud_cf.conn_timeout, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)ombud_cf.conn_limit, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!d) {
        ombud_stream_stop();
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

void ombud_http_stop(struct MHD_Daemon *d, unsigned drain_seconds)
{
    /* The listening socket is ours to close, but only after MHD_stop_daemon;
     * shutting it down now makes new connections fail at once instead of
     * waiting in the backlog for the drain to end. */
    MHD_socket fd = MHD_quiesce_daemon(d);
    if (fd != MHD_INVALID_SOCKET)
        shutdown(fd, SHUT_RDWR);
    /* Streams end once what they hold is sent (they are in-flight
     * requests, so the drain waits for them); none may stay suspended. */
    ombud_stream_close_all();
    /* Let in-flight requests finish; idle keep-alive connections do not count. */
    for (unsigned i = 0; i < drain_seconds * 100 && atomic_load(&inflight) > 0; i++) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (atomic_load(&inflight) > 0)
        ombud_log(OMBUD_LOG_WARN, "drain_timeout", "%ld requests still running",
                  atomic_load(&inflight));
    MHD_stop_daemon(d);
    ombud_stream_stop();
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}
