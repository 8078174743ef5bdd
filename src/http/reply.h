/*
 * Replies: each function queues one response on the request's connection
 * and marks the request handled. A function that takes a json_t * body
 * steals it, whether or not the reply could be queued, and says so by its
 * _steal suffix. Private to src/http.
 */
#ifndef OMBUD_HTTP_REPLY_H
#define OMBUD_HTTP_REPLY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/problem.h"
#include "http/request.h"
#include "ombud/err.h"

/* Longest Location value ombud_location writes, with its NUL. */
#define OMBUD_LOCATION_BUFLEN 64

/* Steals body (may be NULL for an empty reply). */
void ombud_reply_json_steal(struct ombud_req *req, int status, json_t *body);
/* Like ombud_reply_json_steal with extra headers: pairs of name, value,
 * then NULL. A NULL value leaves its header out. */
void ombud_reply_json_h_steal(struct ombud_req *req, int status, json_t *body, ...);
/* Like ombud_reply_json_h_steal for a body repr rendered as JSON text
 * (steals text, a heap buffer of len bytes; NULL: the body could not be
 * built, a 500). */
void ombud_reply_text_h_steal(struct ombud_req *req, int status, char *text, size_t len, ...);
void ombud_reply_problem(struct ombud_req *req, const struct ombud_err *err);
/* Like ombud_reply_problem with one extra header (hname NULL: none). */
void ombud_reply_problem_h(struct ombud_req *req, const struct ombud_err *err, const char *hname,
                           const char *hvalue);
/* Replies status with a problem body the caller built (steals it): a
 * problem with extension members. The headers the status implies are
 * added as for ombud_reply_problem. */
void ombud_reply_problem_steal(struct ombud_req *req, int status, json_t *problem);
/* A problem built here from its parts, for the checks made before a
 * handler runs (routing, authentication, the body). */
void ombud_reply_error(struct ombud_req *req, enum ombud_err_kind kind, const char *detail);
void ombud_reply_empty(struct ombud_req *req, int status);
/* Queues a response built by the caller (consumed; NULL: a 500), with
 * the common headers. */
struct MHD_Response;
/* Whether the daemon is draining after SIGTERM (daemon.c): every reply
 * then carries Connection: close. */
bool ombud_http_draining(void);

void ombud_reply_response(struct ombud_req *req, int status, struct MHD_Response *resp);
void ombud_reply_raw(struct ombud_req *req, int status, const char *content_type, const char *data,
                     size_t len);
/* 204 to an OPTIONS request: Allow, and the CORS preflight headers when
 * the origin is allowed. */
void ombud_reply_preflight(struct ombud_req *req, const char *allow);

/* Writes "<collection>/<id>" (e.g. "/v1/teams/7") into out and returns out. */
const char *ombud_location(char out[OMBUD_LOCATION_BUFLEN], const char *collection, int64_t id);
/* The reply to a create or update: 201 with Location <collection>/<id>
 * when created, else 200 without it. Steals body. */
void ombud_reply_saved_steal(struct ombud_req *req, bool created, json_t *body,
                             const char *collection, int64_t id);

/* Renders one row of a list; the row's type is the list's. */
typedef json_t *(*ombud_render_fn)(const void *row);

/* The reply to a list ordered by id and read with limit + 1 rows (see
 * ombud_query_id_page): renders the first min(n, limit) of the n rows, each
 * size bytes long with its int64_t id at id_offset, and sets next_cursor
 * when a row beyond limit was read. Borrows rows: the caller frees them. */
void ombud_reply_list(struct ombud_req *req, const void *rows, size_t n, size_t size,
                      size_t id_offset, int limit, ombud_render_fn render);

#endif
