/*
 * Replies. DESIGN: every reply goes through queue(), which adds the
 * headers every response carries (X-Request-Id, the RateLimit headers
 * when a key's token was taken, and the CORS headers when the request's
 * Origin is allowed), queues the response on the connection and destroys
 * our reference, and records the status for the access log (and adds
 * Connection: close while the daemon drains). MHD sends a queued
 * response only after the access handler returns, so a handler queues at
 * most one. Bodies are built by jansson and handed to MHD to free, so
 * nothing here outlives the call.
 *
 * Problems (application/problem+json) come from one struct ombud_err,
 * rendered by repr/problem.c; the headers a status implies
 * (WWW-Authenticate on 401, Retry-After on 503) are added here so no
 * handler can forget them (a 429 names its own Retry-After, auth.c). The hot representations come
 * as text already (ombud_reply_text_h_steal), written by repr without a jansson tree. Lists share
 * one page shape, {items, next_cursor}, built by ombud_reply_list for every list ordered by id.
 */
#include "http/reply.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/ratelimit.h"
#include "ombud/cursor.h"
#include "ombud/log.h"
#include "ombud/repr.h"

static const char *const cors_allow_headers =
    "Authorization, Content-Type, If-Match, If-None-Match, Idempotency-Key, Last-Event-ID, "
    "X-Request-Id";
static const char *const cors_expose_headers =
    "X-Request-Id, ETag, Location, Retry-After, Idempotent-Replayed, Allow, RateLimit, "
    "RateLimit-Policy";

static void add_common_headers(struct ombud_req *req, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "X-Request-Id", req->request_id);
    if (req->rate_taken) {
        char policy[OMBUD_RATELIMIT_HBUF], limit[OMBUD_RATELIMIT_HBUF];
        ombud_ratelimit_headers(&req->rate, policy, limit);
        MHD_add_response_header(resp, "RateLimit-Policy", policy);
        MHD_add_response_header(resp, "RateLimit", limit);
    }
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
    if (ombud_http_draining()) /* MHD closes the connection once this is sent */
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    if (MHD_queue_response(req->conn, (unsigned)status, resp) != MHD_YES)
        ombud_log(OMBUD_LOG_ERROR, "queue_failed", "status %d", status);
    MHD_destroy_response(resp);
    req->handled = true;
    req->status = status;
}

void ombud_reply_response(struct ombud_req *req, int status, struct MHD_Response *resp)
{
    queue(req, status, resp);
}

void ombud_reply_raw(struct ombud_req *req, int status, const char *content_type, const char *data,
                     size_t len)
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
        ombud_reply_error(req, OMBUD_E_INTERNAL, "the response could not be built");
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

void ombud_reply_text_h_steal(struct ombud_req *req, int status, char *text, size_t len, ...)
{
    if (!text) {
        ombud_log(OMBUD_LOG_ERROR, "render_failed", "no body for a %d reply", status);
        ombud_reply_error(req, OMBUD_E_INTERNAL, "the response could not be built");
        return;
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        queue(req, status, NULL);
        return;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    va_list ap;
    va_start(ap, len);
    const char *name;
    while ((name = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);
        if (value)
            MHD_add_response_header(resp, name, value);
    }
    va_end(ap);
    queue(req, status, resp);
}

void ombud_reply_json_h_steal(struct ombud_req *req, int status, json_t *body, ...)
{
    va_list ap;
    va_start(ap, body);
    reply_json_v(req, status, body, ap);
    va_end(ap);
}

void ombud_reply_json_steal(struct ombud_req *req, int status, json_t *body)
{
    ombud_reply_json_h_steal(req, status, body, NULL);
}

void ombud_reply_empty(struct ombud_req *req, int status)
{
    ombud_reply_json_h_steal(req, status, NULL, NULL);
}

static void reply_problem_steal(struct ombud_req *req, int status, json_t *problem,
                                const char *hname, const char *hvalue)
{
    struct MHD_Response *resp = json_response(problem, "application/problem+json");
    if (resp && hname)
        MHD_add_response_header(resp, hname, hvalue);
    if (resp && status == 401)
        MHD_add_response_header(resp, "WWW-Authenticate", "Bearer");
    if (resp && status == 503)
        MHD_add_response_header(resp, "Retry-After", "1");
    queue(req, status, resp);
}

void ombud_reply_problem_steal(struct ombud_req *req, int status, json_t *problem)
{
    reply_problem_steal(req, status, problem, NULL, NULL);
}

void ombud_reply_problem_h(struct ombud_req *req, const struct ombud_err *err, const char *hname,
                           const char *hvalue)
{
    int status = ombud_problem_status(err->kind);
    reply_problem_steal(
        req, status,
        ombud_repr_problem(err, status, ombud_problem_title(err->kind), req->path, req->request_id),
        hname, hvalue);
}

void ombud_reply_problem(struct ombud_req *req, const struct ombud_err *err)
{
    ombud_reply_problem_h(req, err, NULL, NULL);
}

void ombud_reply_error(struct ombud_req *req, enum ombud_err_kind kind, const char *detail)
{
    struct ombud_err err;
    ombud_err_clear(&err);
    ombud_err_set(&err, kind, NULL, "%s", detail);
    ombud_reply_problem(req, &err);
}

void ombud_reply_preflight(struct ombud_req *req, const char *allow)
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

/* ---- writes ---- */

const char *ombud_location(char out[OMBUD_LOCATION_BUFLEN], const char *collection, int64_t id)
{
    snprintf(out, OMBUD_LOCATION_BUFLEN, "%s/%lld", collection, (long long)id);
    return out;
}

void ombud_reply_saved_steal(struct ombud_req *req, bool created, json_t *body,
                             const char *collection, int64_t id)
{
    char location[OMBUD_LOCATION_BUFLEN];
    ombud_reply_json_h_steal(req, created ? 201 : 200, body, "Location",
                             created ? ombud_location(location, collection, id) : NULL, NULL);
}

/* ---- lists ---- */

/* Replies 200 {items, next_cursor} (steals items): fetched rows beyond
 * limit mean more follow the last shown id. */
static void reply_id_page_steal(struct ombud_req *req, json_t *items, size_t fetched, int limit,
                                int64_t last_id)
{
    char next[OMBUD_CURSOR_BUFLEN];
    bool more = fetched > (size_t)limit;
    if (more)
        ombud_cursor_encode(&last_id, 1, next);
    ombud_reply_json_steal(req, 200, ombud_repr_page_steal(items, more ? next : NULL));
}

void ombud_reply_list(struct ombud_req *req, const void *rows, size_t n, size_t size,
                      size_t id_offset, int limit, ombud_render_fn render)
{
    const char *row = rows;
    size_t shown = n > (size_t)limit ? (size_t)limit : n;
    int64_t last = 0;
    json_t *items = json_array();

    for (size_t i = 0; i < shown; i++)
        json_array_append_new(items, render(row + i * size));
    if (shown) /* memcpy: rows are any record type, the id at a byte offset */
        memcpy(&last, row + (shown - 1) * size + id_offset, sizeof last);
    reply_id_page_steal(req, items, n, limit, last);
}
