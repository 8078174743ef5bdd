/* Webhooks (src/db/webhooks.c): endpoints, the fan-out of the change log
 * into deliveries, claiming due deliveries and recording attempts
 * (migrations/0016_webhooks.sql says how these hold across processes).
 * Records in ombud/webhook.h. */
#ifndef OMBUD_DB_WEBHOOKS_H
#define OMBUD_DB_WEBHOOKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/db/pool.h"
#include "ombud/err.h"
#include "ombud/webhook.h"

/* ---- endpoints (the API) ---- */

/* Inserts w (url, types, active, description, secret), its cursor at the
 * log's end, and reads it back into w (secret kept). */
OMBUD_MUSTCHECK enum ombud_rc
ombud_db_webhook_insert(struct ombud_db_conn *c, struct ombud_webhook *w, struct ombud_err *err);
/* Reads endpoint id into out (no secret); *found false when absent. With
 * lock, FOR UPDATE (for a read-modify-write). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_webhook_get(struct ombud_db_conn *c, int64_t id, bool lock,
                                                   struct ombud_webhook *out, bool *found,
                                                   struct ombud_err *err);
/* Saves url, types, active and description of w->id (made active again:
 * its cursor moves to the log's end) and reads it back. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_webhook_update(struct ombud_db_conn *c,
                                                      struct ombud_webhook *w, bool *found,
                                                      struct ombud_err *err);
/* Endpoints with id > after_id, at most limit + 1, in id order. *out is
 * a new array the caller frees. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_webhook_list(struct ombud_db_conn *c, int64_t after_id,
                                                    int limit, struct ombud_webhook **out,
                                                    size_t *n, struct ombud_err *err);
/* Deletes the endpoint and its deliveries. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_webhook_delete(struct ombud_db_conn *c, int64_t id,
                                                      bool *found, struct ombud_err *err);

/* Deliveries of endpoint webhook_id with id > after_id, at most limit + 1,
 * in id order, each with its attempts. *out: a new array
 * (ombud_webhook_deliveries_free). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_webhook_deliveries(struct ombud_db_conn *c,
                                                          int64_t webhook_id, int64_t after_id,
                                                          int limit,
                                                          struct ombud_webhook_delivery **out,
                                                          size_t *n, struct ombud_err *err);
/* Queues one more attempt of a delivery now; *found false when the
 * endpoint has no such delivery. out gets the delivery (no attempts). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_webhook_retry(struct ombud_db_conn *c, int64_t webhook_id,
                                                     int64_t delivery_id,
                                                     struct ombud_webhook_delivery *out,
                                                     bool *found, struct ombud_err *err);
/* Queues a ping to the endpoint now; *found false when there is none. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_webhook_ping(struct ombud_db_conn *c, int64_t webhook_id,
                                                    struct ombud_webhook_delivery *out, bool *found,
                                                    struct ombud_err *err);

/* ---- the sender (src/outbound/sender.c) ---- */

/* An active endpoint locked for its fan-out. */
struct ombud_webhook_cursor {
    int64_t id, cursor;
    char types[1024];
};
/* Inside a transaction: locks up to limit active endpoints not locked by
 * another fan-out (FOR UPDATE SKIP LOCKED). *out is a new array. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_webhook_fanout_lock(struct ombud_db_conn *c, int limit,
                                                           struct ombud_webhook_cursor **out,
                                                           size_t *n, struct ombud_err *err);
/* Queues a delivery of change_id (type, body payload) to webhook_id, due
 * now; nothing when it exists. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_webhook_enqueue(struct ombud_db_conn *c, int64_t webhook_id,
                                                       int64_t change_id, const char *type,
                                                       const char *payload, struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_webhook_cursor_set(struct ombud_db_conn *c,
                                                          int64_t webhook_id, int64_t cursor,
                                                          struct ombud_err *err);

/* A delivery claimed for one attempt. */
struct ombud_webhook_job {
    int64_t delivery_id, webhook_id;
    char msg_id[40];
    char *payload; /* owned */
    char url[OMBUD_WEBHOOK_URL_MAX + 1];
    char secret[OMBUD_WEBHOOK_SECRET_BUFLEN];
    int attempts; /* counting this one */
};
void ombud_webhook_jobs_free(struct ombud_webhook_job *list, size_t n);
/* Claims up to limit due pending deliveries of active endpoints that no
 * other process holds (FOR UPDATE SKIP LOCKED), leasing each for
 * lease_s seconds. *out is a new array (ombud_webhook_jobs_free). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_webhook_claim(struct ombud_db_conn *c, int limit,
                                                     int lease_s, struct ombud_webhook_job **out,
                                                     size_t *n, struct ombud_err *err);

enum ombud_webhook_outcome {
    OMBUD_WEBHOOK_OK,    /* 2xx: delivered */
    OMBUD_WEBHOOK_RETRY, /* anything else: again after retry_ms, unless past the window */
    OMBUD_WEBHOOK_GONE,  /* 410: failed, and the endpoint disabled */
};
/* Records an attempt (status 0: no response; error and excerpt may be
 * NULL) and what follows from it: the delivery's new state (a manual
 * retry returns to its former state unless it succeeded; a delivery older
 * than window_ms fails), its next attempt, the lease released. *state
 * gets the new state. */
OMBUD_MUSTCHECK enum ombud_rc
ombud_db_webhook_attempt_record(struct ombud_db_conn *c, int64_t delivery_id, int status,
                                int duration_ms, const char *error, const char *excerpt,
                                enum ombud_webhook_outcome outcome, int64_t retry_ms,
                                int64_t window_ms, char state[12], struct ombud_err *err);

/* Pending deliveries of active endpoints and the age of the oldest, in
 * seconds (0 when none). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_webhook_queue(struct ombud_db_conn *c, int64_t *depth,
                                                     int64_t *oldest_s, struct ombud_err *err);

#endif
