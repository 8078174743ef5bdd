/*
 * Shared by the complaint handlers (complaints.c, transitions.c,
 * notes.c): loading a complaint the caller may see, If-Match, replies
 * with ETag, and the actor recorded on events.
 */
#ifndef OMBUD_HTTP_COMPLAINT_COMMON_H
#define OMBUD_HTTP_COMPLAINT_COMMON_H

#include "ombud/complaint.h"
#include "ombud/db.h"
#include "http/handlers.h"

/* The key behind the request, as recorded on events and notes. */
void ombud_actor_of(const struct ombud_req *req, struct ombud_actor *a);

/* Reads complaint id (locked when lock) and its current SLA clocks into
 * out; 404 when it does not exist or the caller's service key did not
 * create it. */
OMBUD_MUSTCHECK enum ombud_rc ombud_complaint_load(struct ombud_db_conn *c,
                                                   const struct ombud_req *req, int64_t id,
                                                   bool lock, struct ombud_complaint *out,
                                                   struct ombud_err *err);

/* 412 in err when an If-Match header is present and names another version. */
OMBUD_MUSTCHECK enum ombud_rc ombud_check_if_match(struct ombud_req *req, int version,
                                                   struct ombud_err *err);

/* Replies status with the complaint and its ETag (and Location when given). */
void ombud_reply_complaint(struct ombud_req *req, int status, const struct ombud_complaint *c,
                           const char *location);

/* Wall-clock now in seconds: the SLA clocks' notion of now. */
int64_t ombud_now_s(void);

/* Returns a JSON object {"from": a, "to": b} (steals both). */
json_t *ombud_change(json_t *from, json_t *to);

/* Serialises obj (steals it) for an event's data; caller frees. */
char *ombud_event_data(json_t *obj);

#endif
