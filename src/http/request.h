/*
 * The state of one HTTP request, private to src/http. daemon.c allocates
 * it on MHD's first call for a request (MHD's per-request pointer holds
 * it) and frees it in the completion callback, so everything a handler
 * borrows from it lives until the reply has been sent.
 */
#ifndef OMBUD_HTTP_REQUEST_H
#define OMBUD_HTTP_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/rate.h"
#include "ombud/role.h"
#include "ombud/router.h"

struct MHD_Connection;
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
    bool rate_taken;                /* a key's token was taken: send the RateLimit headers */
    struct ombud_rate_verdict rate; /* what the take decided */
    char *body;                     /* accumulated request body, NUL-terminated */
    size_t body_len, body_cap;
    bool body_too_large;
    size_t discarded;   /* body bytes dropped past the limit */
    bool handled;       /* a reply has been queued */
    json_t *json;       /* parsed body (routes with OMBUD_ROUTE_BODY) */
    int status;         /* the queued reply's status, for the log */
    const char *origin; /* allowed CORS origin, or NULL */
    struct ombud_db_pool *pool;
    /* The admission gate (gate.c) and the phase it was asked in. */
    int gate;                 /* enum ombud_gate_state */
    int64_t gate_deadline_us; /* monotonic: stop waiting for the database then */
    struct ombud_req *gate_prev, *gate_next;
    bool auth_waiting; /* suspended to look the key up (daemon.c) */
    bool body_parsed;  /* the final call has parsed the body */
};

/* A route's handler: runs once the whole body has arrived and been
 * parsed, and must queue exactly one reply. */
typedef void (*ombud_handler)(struct ombud_req *req);

#endif
