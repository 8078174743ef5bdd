/*
 * The HTTP daemon. DESIGN: libmicrohttpd runs a pool of OMBUD_THREADS
 * threads over epoll. MHD calls access() several times per request:
 *
 *   1. headers only (*req_cls == NULL): allocate state, route (404/405),
 *      authenticate (401/403), reject bodies early by Content-Length (413)
 *      and Content-Type (415). An early reply makes MHD skip the body and
 *      close the connection afterwards.
 *   2. body chunks: copied (upload_data lives for the call only) with the
 *      size limit enforced as they stream in, which also catches chunked
 *      bodies that announce no length.
 *   3. *upload_data_size == 0: parse JSON (400), run the handler.
 *
 * completed() runs once per request: it writes the access-log line,
 * records metrics and frees the request state. Handlers block on the
 * database, so threads are sized with the pool and every statement has
 * statement_timeout.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ombud/config.h"
#include "ombud/cursor.h"
#include "ombud/db.h"
#include "ombud/http.h"
#include "ombud/keys.h"
#include "ombud/log.h"
#include "ombud/metrics.h"
#include "ombud/repr.h"
#include "ombud/text.h"
#include "ombud/timefmt.h"

static atomic_long inflight;
static struct ombud_db_pool *the_pool;

static const char *const cors_allow_headers =
    "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, X-Request-Id";
static const char *const cors_expose_headers =
    "X-Request-Id, ETag, Location, Retry-After, Idempotent-Replayed, Allow";

/* ---- replies ---- */

static void problem(struct ombud_req *req, enum ombud_err_kind kind, const char *detail);

static void add_common_headers(struct ombud_req *req, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "X-Request-Id", req->request_id);
    if (req->origin) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", req->origin);
        MHD_add_response_header(resp, "Vary", "Origin");
        MHD_add_response_header(resp, "Access-Control-Expose-Headers", cors_expose_headers);
    }
}

static void queue(struct ombud_req *req, int status, struct MHD_Response *resp)
{
    if (!resp) {
        req->handled = true;
        req->status = 500;
        return;
    }
    add_common_headers(req, resp);
    if (MHD_queue_response(req->conn, (unsigned)status, resp) != MHD_YES)
        ombud_log(OMBUD_LOG_ERROR, "queue_failed", "status %d", status);
    MHD_destroy_response(resp);
    req->handled = true;
    req->status = status;
}

void ombud_reply_raw(struct ombud_req *req, int status, const char *content_type,
                     const char *data, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (resp && content_type)
        MHD_add_response_header(resp, "Content-Type", content_type);
    queue(req, status, resp);
}

static struct MHD_Response *json_response(json_t *body, const char *content_type)
{
    char *text = NULL;
    struct MHD_Response *resp;

    if (body) {
        text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
        json_decref(body);
        if (!text)
            return NULL;
        resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
            free(text);
            return NULL;
        }
        MHD_add_response_header(resp, "Content-Type", content_type);
    } else {
        resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    return resp;
}

static void reply_json_v(struct ombud_req *req, int status, json_t *body, va_list ap)
{
    if (!body && status != 204) {
        /* A representation could not be built (out of memory, or text
         * jansson refused): say so rather than answer an empty success. */
        ombud_log(OMBUD_LOG_ERROR, "render_failed", "no body for a %d reply", status);
        problem(req, OMBUD_E_INTERNAL, "the response could not be built");
        return;
    }
    struct MHD_Response *resp = json_response(body, "application/json");
    const char *name;
    while (resp && (name = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);
        if (value)
            MHD_add_response_header(resp, name, value);
    }
    queue(req, status, resp);
}

void ombud_reply_json_h(struct ombud_req *req, int status, json_t *body, ...)
{
    va_list ap;
    va_start(ap, body);
    reply_json_v(req, status, body, ap);
    va_end(ap);
}

void ombud_reply_json(struct ombud_req *req, int status, json_t *body)
{
    ombud_reply_json_h(req, status, body, NULL);
}

void ombud_reply_empty(struct ombud_req *req, int status)
{
    ombud_reply_json_h(req, status, NULL, NULL);
}

static void reply_problem_h(struct ombud_req *req, const struct ombud_err *err,
                            const char *hname, const char *hvalue)
{
    int status = ombud_problem_status(err->kind);
    struct MHD_Response *resp =
        json_response(ombud_repr_problem(err, status, ombud_problem_title(err->kind), req->path,
                                         req->request_id),
                      "application/problem+json");
    if (resp && hname)
        MHD_add_response_header(resp, hname, hvalue);
    if (resp && status == 401)
        MHD_add_response_header(resp, "WWW-Authenticate", "Bearer");
    if (resp && status == 503)
        MHD_add_response_header(resp, "Retry-After", "1");
    queue(req, status, resp);
}

void ombud_reply_problem(struct ombud_req *req, const struct ombud_err *err)
{
    reply_problem_h(req, err, NULL, NULL);
}

static void problem(struct ombud_req *req, enum ombud_err_kind kind, const char *detail)
{
    struct ombud_err err;
    ombud_err_clear(&err);
    ombud_err_set(&err, kind, NULL, "%s", detail);
    ombud_reply_problem(req, &err);
}

/* ---- request accessors ---- */

const char *ombud_req_query(struct ombud_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *ombud_req_header(struct ombud_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

void ombud_req_page(struct ombud_req *req, int *limit, int64_t *cursor, size_t ncur,
                    bool *cursor_set, struct ombud_err *err)
{
    const char *l = ombud_req_query(req, "limit");
    const char *c = ombud_req_query(req, "cursor");

    *limit = 50;
    *cursor_set = false;
    if (l) {
        char *end;
        long v = strtol(l, &end, 10);
        if (!*l || *end || v < 1 || v > 200)
            ombud_err_field(err, "limit", "must be an integer from 1 to 200");
        else
            *limit = (int)v;
    }
    if (c) {
        if (!ombud_cursor_decode(c, cursor, ncur))
            ombud_err_field(err, "cursor", "is not a cursor this list returned");
        else
            *cursor_set = true;
    }
}

void ombud_req_id_page(struct ombud_req *req, int *limit, int64_t *id, struct ombud_err *err)
{
    bool has_cursor;
    *id = 0;
    ombud_req_page(req, limit, id, 1, &has_cursor, err);
    if (has_cursor && *id < 1)
        ombud_err_field(err, "cursor", "is not a cursor this list returned");
}

void ombud_reply_id_page(struct ombud_req *req, json_t *items, size_t fetched, int limit,
                         int64_t last_id)
{
    char next[OMBUD_CURSOR_BUFLEN];
    bool more = fetched > (size_t)limit;
    if (more)
        ombud_cursor_encode(&last_id, 1, next);
    ombud_reply_json(req, 200, ombud_repr_page(items, more ? next : NULL));
}

/* ---- request life cycle ---- */

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
    ombud_random_hex(req->request_id, 16);
}

static bool is_json_type(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = strlen("application/json");
    if (strncasecmp(ct, "application/json", n) != 0)
        return false;
    ct += n;
    while (*ct == ' ')
        ct++;
    return *ct == '\0' || *ct == ';';
}

struct auth_ctx {
    char hash[OMBUD_HASH_BUFLEN];
    struct ombud_api_key key;
    bool found;
};

static enum ombud_rc auth_lookup(struct ombud_db_conn *c, void *ctx, struct ombud_err *err)
{
    struct auth_ctx *a = ctx;
    return ombud_db_api_key_authenticate(c, a->hash, &a->key, &a->found, err);
}

/* Fills req->who or replies 401/403/503. */
static void authenticate(struct ombud_req *req)
{
    const char *h = ombud_req_header(req, "Authorization");
    struct auth_ctx a;
    struct ombud_err err;

    if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
        problem(req, OMBUD_E_UNAUTHORIZED, "send an API key as Authorization: Bearer <key>");
        return;
    }
    h += 7;
    while (*h == ' ')
        h++;
    size_t len = strlen(h);
    if (len == 0 || len > 255 || ombud_key_hash(h, len, a.hash) != OMBUD_OK) {
        problem(req, OMBUD_E_UNAUTHORIZED, "unknown API key");
        return;
    }
    a.found = false;
    if (ombud_db_run(req->pool, auth_lookup, &a, &err) != OMBUD_OK) {
        ombud_reply_problem(req, &err);
        return;
    }
    if (!a.found) {
        problem(req, OMBUD_E_UNAUTHORIZED, "unknown or revoked API key");
        return;
    }
    req->who.key_id = a.key.id;
    req->who.agent_id = a.key.agent_id;
    if (!ombud_role_parse(a.key.role, &req->who.role))
        req->who.role = OMBUD_ROLE_NONE;
    if (req->who.role < req->match.route->min_role) {
        char detail[128];
        snprintf(detail, sizeof detail, "this needs the %s role; the key has %s",
                 ombud_role_name(req->match.route->min_role), ombud_role_name(req->who.role));
        problem(req, OMBUD_E_FORBIDDEN, detail);
    }
}

static void preflight(struct ombud_req *req, const char *allow)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (resp)
        MHD_add_response_header(resp, "Allow", allow);
    if (resp && req->origin) {
        MHD_add_response_header(resp, "Access-Control-Allow-Methods",
                                "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS");
        MHD_add_response_header(resp, "Access-Control-Allow-Headers", cors_allow_headers);
        MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
    }
    queue(req, 204, resp);
}

static enum MHD_Result check_arg_utf8(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    const char **bad = cls;
    if (!ombud_utf8_valid(key)) {
        *bad = "(name)";
        return MHD_NO;
    }
    if (value && !ombud_utf8_valid(value)) {
        *bad = key;
        return MHD_NO;
    }
    return MHD_YES;
}

/* The first call: everything that can be decided from the headers. */
static void begin(struct ombud_req *req)
{
    unsigned allow = 0;
    char allow_s[96];
    const char *cl, *te, *ct;
    bool has_body;

    if (strcmp(req->method, "OPTIONS") == 0) {
        /* No route takes OPTIONS, so matching yields the path's methods. */
        struct ombud_route_match m;
        if (ombud_router_match(ombud_routes, ombud_nroutes, "OPTIONS", req->path, &m, &allow) ==
            404) {
            problem(req, OMBUD_E_NOT_FOUND, "no such resource");
            return;
        }
        ombud_router_allow_string(allow, allow_s, sizeof allow_s);
        preflight(req, allow_s);
        return;
    }
    int st = ombud_router_match(ombud_routes, ombud_nroutes, req->method, req->path, &req->match,
                                &allow);
    if (st == 404) {
        problem(req, OMBUD_E_NOT_FOUND, "no such resource");
        return;
    }
    if (st == 405) {
        struct ombud_err err;
        ombud_router_allow_string(allow, allow_s, sizeof allow_s);
        ombud_err_clear(&err);
        ombud_err_set(&err, OMBUD_E_METHOD_NOT_ALLOWED, NULL,
                      "%s is not allowed here; allowed: %s", req->method, allow_s);
        reply_problem_h(req, &err, "Allow", allow_s);
        return;
    }
    if (req->match.route->min_role != OMBUD_ROLE_NONE) {
        authenticate(req);
        if (req->handled)
            return;
    }
    /* Query values reach SQL and JSON as text: they must be UTF-8. */
    const char *bad_arg = NULL;
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, check_arg_utf8, &bad_arg);
    if (bad_arg) {
        struct ombud_err err;
        ombud_err_clear(&err);
        ombud_err_field(&err, bad_arg, "is not valid UTF-8");
        ombud_err_set(&err, OMBUD_E_BAD_REQUEST, NULL, "query parameter %s is not valid UTF-8",
                      bad_arg);
        ombud_reply_problem(req, &err);
        return;
    }

    cl = ombud_req_header(req, "Content-Length");
    te = ombud_req_header(req, "Transfer-Encoding");
    ct = ombud_req_header(req, "Content-Type");
    has_body = (cl && strcmp(cl, "0") != 0) || te;
    if (cl) {
        char *end;
        unsigned long long n = strtoull(cl, &end, 10);
        if (*end == '\0' && n > ombud_cf.max_body_bytes) {
            char detail[128];
            snprintf(detail, sizeof detail, "the body may be at most %zu bytes",
                     ombud_cf.max_body_bytes);
            problem(req, OMBUD_E_TOO_LARGE, detail);
            return;
        }
    }
    if ((has_body || (req->match.route->flags & OMBUD_ROUTE_BODY)) && !is_json_type(ct)) {
        problem(req, OMBUD_E_UNSUPPORTED_MEDIA, "send the body as Content-Type: application/json");
        return;
    }
}

static bool append_body(struct ombud_req *req, const char *data, size_t len)
{
    if (req->body_len + len > ombud_cf.max_body_bytes)
        return false;
    if (req->body_len + len + 1 > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap : 4096;
        while (cap < req->body_len + len + 1)
            cap *= 2;
        char *nb = realloc(req->body, cap);
        if (!nb)
            return false;
        req->body = nb;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, data, len);
    req->body_len += len;
    req->body[req->body_len] = '\0';
    return true;
}

static void finish(struct ombud_req *req)
{
    if (req->match.route->flags & OMBUD_ROUTE_BODY) {
        json_error_t jerr;
        if (req->body_len == 0) {
            problem(req, OMBUD_E_BAD_REQUEST, "a JSON object body is required");
            return;
        }
        req->json = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
        if (!req->json) {
            char detail[256];
            snprintf(detail, sizeof detail, "body is not valid JSON: %s (at byte %d)", jerr.text,
                     jerr.position);
            problem(req, OMBUD_E_BAD_REQUEST, detail);
            return;
        }
        if (!json_is_object(req->json)) {
            problem(req, OMBUD_E_BAD_REQUEST, "the body must be a JSON object");
            return;
        }
    }
    ((ombud_handler)req->match.route->handler)(req);
    if (!req->handled) {
        ombud_log(OMBUD_LOG_ERROR, "no_reply", "handler %s queued no reply",
                  req->match.route->name);
        problem(req, OMBUD_E_INTERNAL, "no reply");
    }
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **req_cls)
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
        begin(req);
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        size_t len = *upload_data_size;
        *upload_data_size = 0;
        if (req->handled)
            return MHD_YES;
        if (req->body_too_large || !append_body(req, upload_data, len)) {
            /* MHD 0.9.75 cannot queue a reply while a body is still
             * arriving: discard it and answer 413 at its end, but hang
             * up on a client that keeps streaming far past the limit. */
            req->body_too_large = true;
            req->discarded += len;
            if (req->discarded > 16 * ombud_cf.max_body_bytes)
                return MHD_NO;
        }
        return MHD_YES;
    }
    if (req->body_too_large) {
        char detail[128];
        snprintf(detail, sizeof detail, "the body may be at most %zu bytes",
                 ombud_cf.max_body_bytes);
        problem(req, OMBUD_E_TOO_LARGE, detail);
    } else if (!req->handled) {
        finish(req);
    }
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
    ombud_metrics_request(route, status, dur);

    enum ombud_log_level level = status >= 500 && status != 503 ? OMBUD_LOG_ERROR
                                 : status == 503                ? OMBUD_LOG_WARN
                                                                : OMBUD_LOG_INFO;
    if (ombud_log_enabled(level)) {
        char ts[OMBUD_TIME_BUFLEN];
        ombud_time_format(ombud_time_now(), ts);
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:f, s:I}", "ts", ts,
                              "level", ombud_log_level_name(level), "event", "request",
                              "request_id", req->request_id, "method", req->method, "path",
                              req->path, "route", route, "status", status, "duration_ms",
                              (double)dur / 1000.0, "bytes_in", (json_int_t)req->body_len);
        if (o && req->who.key_id)
            json_object_set_new(o, "key_id", json_integer(req->who.key_id));
        if (o && toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
            json_object_set_new(o, "aborted", json_true());
        char *line =
            o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(6)) : NULL;
        json_decref(o);
        if (line) {
            ombud_log_line(level, line);
            free(line);
        }
    }
    json_decref(req->json);
    free(req->body);
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
                     MHD_USE_ERROR_LOG;

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
    d = MHD_start_daemon(
        flags, ombud_cf.listen_port, NULL, NULL, access_cb, NULL, MHD_OPTION_EXTERNAL_LOGGER,
        mhd_log, NULL, MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)ombud_cf.threads,
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)ombud_cf.conn_timeout, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)ombud_cf.conn_limit, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!d) {
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
    /* Let in-flight requests finish; idle keep-alive connections do not count. */
    for (unsigned i = 0; i < drain_seconds * 100 && atomic_load(&inflight) > 0; i++) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (atomic_load(&inflight) > 0)
        ombud_log(OMBUD_LOG_WARN, "drain_timeout", "%ld requests still running",
                  atomic_load(&inflight));
    MHD_stop_daemon(d);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}
