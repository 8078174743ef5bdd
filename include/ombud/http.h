/*
 * HTTP layer: the libmicrohttpd daemon, per-request state and the reply
 * helpers every handler uses. A handler runs once the whole body has
 * arrived and been parsed, and must queue exactly one reply.
 */
#ifndef OMBUD_HTTP_H
#define OMBUD_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/err.h"
#include "ombud/role.h"
#include "ombud/router.h"

struct MHD_Connection;
struct MHD_Daemon;
struct ombud_db_pool;

struct ombud_principal {
    int64_t key_id;
    enum ombud_role role;
    int64_t agent_id; /* 0: none */
};

struct ombud_req {
    struct MHD_Connection *conn;
    const char *method; /* owned by MHD until completion */
    const char *path;   /* valid UTF-8 (sanitized copy when MHD's was not) */
    char *path_owned;
    char request_id[129];
    int64_t started_us;
    struct ombud_route_match match;
    struct ombud_principal who;
    char *body; /* accumulated request body, NUL-terminated */
    size_t body_len, body_cap;
    bool body_too_large;
    size_t discarded; /* body bytes dropped past the limit */
    bool handled; /* a reply has been queued */
    json_t *json; /* parsed body (routes with OMBUD_ROUTE_BODY) */
    int status;   /* the queued reply's status, for the log */
    const char *origin;  /* allowed CORS origin, or NULL */
    struct ombud_db_pool *pool;
};

typedef void (*ombud_handler)(struct ombud_req *req);

/* Starts serving; NULL with err filled on failure. */
struct MHD_Daemon *ombud_http_start(struct ombud_db_pool *pool, struct ombud_err *err);
/* Stops accepting, lets in-flight requests finish (up to drain_seconds),
 * then stops the daemon. */
void ombud_http_stop(struct MHD_Daemon *d, unsigned drain_seconds);

/* Reply helpers: each queues one response and marks the request handled. */
/* Steals body (may be NULL for an empty reply). */
void ombud_reply_json(struct ombud_req *req, int status, json_t *body);
/* Like ombud_reply_json with extra headers: pairs of name, value, then NULL. */
void ombud_reply_json_h(struct ombud_req *req, int status, json_t *body, ...);
void ombud_reply_problem(struct ombud_req *req, const struct ombud_err *err);
void ombud_reply_empty(struct ombud_req *req, int status);
void ombud_reply_raw(struct ombud_req *req, int status, const char *content_type,
                     const char *data, size_t len);

/* ---- problems (problem.c): how HTTP reports an error kind ---- */
/* The status code and problem title of a kind (title NULL for none). */
int ombud_problem_status(enum ombud_err_kind kind);
const char *ombud_problem_title(enum ombud_err_kind kind);

/* What a database constraint means for one resource. */
struct ombud_constraint_msg {
    const char *constraint; /* e.g. "teams_name_key" */
    const char *field;      /* the request field it judges */
    const char *message;    /* for the client; may name the value once as "%s" */
};

/* When err is a duplicate or invalid value caught by a constraint listed
 * in msgs (ended by a {NULL} entry), explains it: a duplicate's detail
 * becomes the message; an invalid value gets a field error. value fills
 * the message's "%s" (may be NULL). Other errors are left alone. Returns
 * the entry used, or NULL. */
const struct ombud_constraint_msg *ombud_problem_explain(struct ombud_err *err,
                                                         const struct ombud_constraint_msg *msgs,
                                                         const char *value);

/* Query string value, or NULL. */
const char *ombud_req_query(struct ombud_req *req, const char *name);
/* Request header value, or NULL. */
const char *ombud_req_header(struct ombud_req *req, const char *name);

/* Reads `limit` (1..200, default 50) and `cursor` into the outputs,
 * decoding ncur int64 values (cursor_set false when absent). Adds field
 * errors to err. */
void ombud_req_page(struct ombud_req *req, int *limit, int64_t *cursor, size_t ncur,
                    bool *cursor_set, struct ombud_err *err);

/* Lists ordered by id: reads `limit` and an id `cursor` (0 when absent). */
void ombud_req_id_page(struct ombud_req *req, int *limit, int64_t *id, struct ombud_err *err);
/* Replies 200 {items, next_cursor} (steals items): fetched rows beyond
 * limit mean more follow the last shown id. */
void ombud_reply_id_page(struct ombud_req *req, json_t *items, size_t fetched, int limit,
                         int64_t last_id);

/* ---- handlers (one file each in src/http) ---- */
void ombud_h_health_live(struct ombud_req *req);
void ombud_h_health_ready(struct ombud_req *req);
void ombud_h_openapi(struct ombud_req *req);
void ombud_h_metrics(struct ombud_req *req);
void ombud_h_api_keys_create(struct ombud_req *req);
void ombud_h_api_keys_list(struct ombud_req *req);
void ombud_h_api_keys_get(struct ombud_req *req);
void ombud_h_api_keys_delete(struct ombud_req *req);
void ombud_h_complaints_create(struct ombud_req *req);
void ombud_h_complaints_get(struct ombud_req *req);
void ombud_h_complaints_list(struct ombud_req *req);
void ombud_h_complaints_patch(struct ombud_req *req);
void ombud_h_complaints_transition(struct ombud_req *req);
void ombud_h_complaints_escalate(struct ombud_req *req);
void ombud_h_notes_create(struct ombud_req *req);
void ombud_h_notes_list(struct ombud_req *req);
void ombud_h_events_list(struct ombud_req *req);
void ombud_h_satisfaction_create(struct ombud_req *req);
void ombud_h_categories_list(struct ombud_req *req);
void ombud_h_categories_create(struct ombud_req *req);
void ombud_h_teams_create(struct ombud_req *req);
void ombud_h_teams_list(struct ombud_req *req);
void ombud_h_teams_get(struct ombud_req *req);
void ombud_h_teams_patch(struct ombud_req *req);
void ombud_h_agents_create(struct ombud_req *req);
void ombud_h_agents_list(struct ombud_req *req);
void ombud_h_agents_get(struct ombud_req *req);
void ombud_h_agents_patch(struct ombud_req *req);
void ombud_h_calendars_create(struct ombud_req *req);
void ombud_h_calendars_list(struct ombud_req *req);
void ombud_h_calendars_get(struct ombud_req *req);
void ombud_h_calendars_patch(struct ombud_req *req);
void ombud_h_calendars_delete(struct ombud_req *req);
void ombud_h_calendars_due(struct ombud_req *req);
void ombud_h_calendars_minutes(struct ombud_req *req);
void ombud_h_policies_create(struct ombud_req *req);
void ombud_h_policies_list(struct ombud_req *req);
void ombud_h_policies_get(struct ombud_req *req);
void ombud_h_policies_patch(struct ombud_req *req);
void ombud_h_policies_delete(struct ombud_req *req);
void ombud_h_alerts_list(struct ombud_req *req);
void ombud_h_alerts_ack(struct ombud_req *req);
void ombud_h_sla_at_risk(struct ombud_req *req);
void ombud_h_sla_summary(struct ombud_req *req);

extern const struct ombud_route ombud_routes[];
extern const size_t ombud_nroutes;

#endif
