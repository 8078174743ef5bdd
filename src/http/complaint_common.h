/*
 * Shared by the complaint handlers (complaints.c, transitions.c,
 * notes.c, alerts.c): the request's actor and If-Match, loading a
 * complaint the caller may see, replies with ETag. Changes go through
 * the complaint service (include/ombud/service/complaint.h).
 */
#ifndef OMBUD_HTTP_COMPLAINT_COMMON_H
#define OMBUD_HTTP_COMPLAINT_COMMON_H

#include "ombud/complaint.h"
#include "ombud/money.h"
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

/* The filters the complaint list and the at-risk view share (priority,
 * grade, channel, category, team_id, assignee_id) from the query into f;
 * bad values go to err, naming their parameter. */
void ombud_complaint_filter_query(struct ombud_req *req, struct ombud_complaint_filter *f,
                                  struct ombud_err *err);

/* The versions If-Match accepts, parsed into buf; NULL without the
 * header (no precondition). Tags that name no version match nothing. */
const struct ombud_expect *ombud_req_if_match(struct ombud_req *req, struct ombud_expect *buf);

/* The If-Match header text h parsed into buf (as ombud_req_if_match). */
void ombud_if_match_parse(const char *h, struct ombud_expect *buf);

/* Adds a field error unless key is a valid Idempotency-Key (1 to 255
 * visible ASCII characters). */
void ombud_idem_key_check(const char *key, struct ombud_err *err);

/* The checks of a create body (a JSON object, as ombud_body_finish
 * gives it): every bad field is added to err, and the fields given are
 * written to in (strings borrowed from body; defaults filled in for
 * those absent; created_by_key_id is the caller's). Returns the tags'
 * compact JSON text (in->tags_json, caller frees) or NULL. No I/O: the
 * references (category, team, assignee) are the handler's to check. */
char *ombud_complaint_create_parse(const json_t *body, struct ombud_complaint_new *in,
                                   struct ombud_err *err);

/* The same for a PATCH body into e (strings borrowed from body); returns
 * e->tags_json (caller frees) or NULL. */
char *ombud_complaint_patch_parse(const json_t *body, struct ombud_edit *e, struct ombud_err *err);

/* The checks of resolution.compensation {amount, currency} (comp, a
 * JSON object): the amount as a decimal string or a JSON number, the
 * currency an active ISO 4217 code (include/ombud/money.h). Every bad
 * field is added to err; on success amount (OMBUD_MONEY_TEXT_MAX bytes)
 * holds the canonical amount and currency (4 bytes) the code. */
OMBUD_MUSTCHECK enum ombud_rc ombud_compensation_parse(const json_t *comp, char *amount,
                                                       char *currency, struct ombud_err *err);

/* Applies t to the complaint the path names, as the request's key and
 * under its If-Match, through the complaint service; replies status
 * with the complaint as it is now, or the problem. */
void ombud_complaint_change_reply(struct ombud_req *req, const struct ombud_transition *t,
                                  int status);

/* Replies status with the complaint and its ETag (and Location when given). */
void ombud_reply_complaint(struct ombud_req *req, int status, const struct ombud_complaint *c,
                           const char *location);

#endif
