/*
 * Shared by the complaint handlers (complaints.c, transitions.c,
 * notes.c, alerts.c): the request's actor and If-Match, loading a
 * complaint the caller may see, replies with ETag. Changes go through
 * the complaint service (include/ombud/service/complaint.h).
 */
#ifndef OMBUD_HTTP_COMPLAINT_COMMON_H
#define OMBUD_HTTP_COMPLAINT_COMMON_H

#include "ombud/complaint.h"
#include "ombud/db/pool.h"
#include "http/handlers.h"
#include "ombud/service/complaint.h"

/* The key behind the request, as recorded on events and notes. */
void ombud_actor_of(const struct ombud_req *req, struct ombud_actor *a);

/* Reads complaint id (locked when lock) and its current SLA clocks into
 * out; 404 when it does not exist or the caller's service key did not
 * create it. */
OMBUD_MUSTCHECK enum ombud_rc ombud_complaint_load(struct ombud_db_conn *c,
                                                   const struct ombud_req *req, int64_t id,
                                                   bool lock, struct ombud_complaint *out,
                                                   struct ombud_err *err);

/* The versions If-Match accepts, parsed into buf; NULL without the
 * header (no precondition). Tags that name no version match nothing. */
const struct ombud_expect *ombud_req_if_match(struct ombud_req *req, struct ombud_expect *buf);

/* Applies t to the complaint the path names, as the request's key and
 * under its If-Match, through the complaint service; replies status
 * with the complaint as it is now, or the problem. */
void ombud_complaint_change_reply(struct ombud_req *req, const struct ombud_transition *t,
                                  int status);

/* Replies status with the complaint and its ETag (and Location when given). */
void ombud_reply_complaint(struct ombud_req *req, int status, const struct ombud_complaint *c,
                           const char *location);

#endif
