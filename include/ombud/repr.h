/*
 * Representations: each resource's JSON is built in one place
 * (src/repr/<resource>.c). Every function returns a new reference.
 */
#ifndef OMBUD_REPR_H
#define OMBUD_REPR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/alert.h"
#include "ombud/change.h"
#include "ombud/rule.h"
#include "ombud/api_key.h"
#include "ombud/calendar.h"
#include "ombud/complaint.h"
#include "ombud/err.h"
#include "ombud/sla.h"
#include "ombud/team.h"
#include "ombud/webhook.h"

/* RFC 9457 problem details for err with the given status and title
 * ("Error" when NULL); instance and request_id optional. */
json_t *ombud_repr_problem(const struct ombud_err *err, int status, const char *title,
                           const char *instance, const char *request_id);
/* RFC 3339 string, or JSON null for 0. */
json_t *ombud_repr_time(int64_t usec);
json_t *ombud_repr_api_key(const struct ombud_api_key *k);
/* The answer to a key's creation: the resource (never used yet, so no
 * last_used_at) with its secret as "key", shown this once. */
json_t *ombud_repr_api_key_created(const struct ombud_api_key *k, const char *secret);
/* {items: [...], next_cursor} steals items. */
json_t *ombud_repr_page_steal(json_t *items, const char *next_cursor);

/* "CMP-000042" for id 42 (at least six digits). */
void ombud_repr_reference(int64_t id, char *out, size_t len);
/* The complaint resource with its sla object from c->sla (null when the
 * complaint has no clocks), as seen at now (seconds). The text functions
 * are the representation (compact JSON, in a buffer the caller frees;
 * *len receives its length; NULL when it cannot be built); the json_t
 * one parses that text, for answers that embed a complaint. */
char *ombud_repr_complaint_text(const struct ombud_complaint *c, int64_t now, size_t *len);
json_t *ombud_repr_complaint(const struct ombud_complaint *c, int64_t now);
/* A page of complaints, {items, next_cursor} (next_cursor null when
 * NULL), the first n of items. */
char *ombud_repr_complaint_page_text(const struct ombud_complaint *items, size_t n,
                                     const char *next_cursor, int64_t now, size_t *len);
/* ETag value for a complaint version: "v<version>" with the quotes. */
void ombud_repr_etag(int version, char *out, size_t len);
json_t *ombud_repr_note(const struct ombud_note *n);
json_t *ombud_repr_event(const struct ombud_event *e);
/* The data of a timeline event as compact JSON text (repr/event.c);
 * caller frees; NULL when out of memory. */
char *ombud_repr_event_data(const struct ombud_event_rec *ev);
/* text re-serialised as compact JSON the way jansson writes it, so two
 * texts of one value compare equal; caller frees; NULL when text is not
 * JSON or out of memory. */
char *ombud_repr_json_compact(const char *text);
json_t *ombud_repr_category(const struct ombud_category *k);

json_t *ombud_repr_team(const struct ombud_team *t);
json_t *ombud_repr_agent(const struct ombud_agent *a);

json_t *ombud_repr_calendar(const struct ombud_calendar *c);
/* The business-time calculator's answers (instants in seconds): the
 * moment minutes of open time after from, and the open minutes between
 * from and to. */
json_t *ombud_repr_calendar_due(int64_t calendar_id, int64_t from, int64_t minutes, int64_t due_at);
json_t *ombud_repr_calendar_minutes(int64_t calendar_id, int64_t from, int64_t to, int64_t minutes);

json_t *ombud_repr_policy(const struct ombud_sla_policy *p);

json_t *ombud_repr_alert(const struct ombud_alert *a);

/* A change of the log (repr/change.c): {id, type, at, complaint_id,
 * data: {event | alert, reference, status, priority, team_id,
 * assignee_id, version}}. */
json_t *ombud_repr_change(const struct ombud_change *ch);

/* Webhooks (repr/webhook.c). An endpoint {id, url, types, active,
 * description, created_at, updated_at}, with secret only when given (the
 * answer to create). */
json_t *ombud_repr_webhook(const struct ombud_webhook *w, const char *secret);
/* {id, change_id, type, state, next_attempt_at, attempts: [{at, status,
 * duration_ms, error, response_excerpt}]} */
json_t *ombud_repr_webhook_delivery(const struct ombud_webhook_delivery *d);
/* The body a webhook receives for a change, as compact JSON text (the
 * caller frees it; NULL when out of memory): {id, type, timestamp (the
 * change's time), data}, id, type and data as the log renders them. */
char *ombud_repr_webhook_payload(const struct ombud_change *ch);

/* Escalation rules (repr/rule.c): the resource; a rule's state for one
 * complaint (GET /v1/complaints/{id}/rules); the data of a rule_skipped
 * event as JSON text for storage (the caller frees it; NULL when out of
 * memory). */
json_t *ombud_repr_rule(const struct ombud_rule *r);
json_t *ombud_repr_rule_status(const struct ombud_rule_status *st);
char *ombud_repr_rule_skipped_data(int64_t rule_id, const char *reason);
/* GET /v1/sla/summary: open complaints by clock state, compliance over
 * the last 30 days (repr/sla.c). */
json_t *ombud_repr_sla_summary(const struct ombud_sla_summary *s);
/* The data of the timeline event (sla_warning, sla_breached) recording
 * alert alert_id raised for clock k, as JSON text for storage: the caller
 * frees it; NULL when out of memory. */
char *ombud_repr_sla_alert_event(int64_t alert_id, const struct ombud_sla_clock *k,
                                 const struct ombud_sla_due_alert *a);

/* The health endpoints (repr/health.c): liveness; readiness with the SLA
 * worker's state; and not ready, the problem for err (status and title
 * from the caller, as ombud_repr_problem) with database "down" and the
 * worker's state as extension members. */
struct ombud_sla_worker_status;
json_t *ombud_repr_health_live(void);
json_t *ombud_repr_health_ready(const struct ombud_sla_worker_status *w);
json_t *ombud_repr_health_unready(const struct ombud_err *err, int status, const char *title,
                                  const struct ombud_sla_worker_status *w);

/*
 * A JSON text writer (src/repr/jsonw.c) for the representations on hot
 * paths, writing what json_dumps(JSON_COMPACT) writes for the same values
 * (ascii: as with JSON_ENSURE_ASCII). It starts in a buffer the caller
 * gives (may be NULL with cap 0) and moves to the heap when that is full.
 * Values after a key or inside an array get their commas by themselves.
 * Any failure (memory, text that is not UTF-8) sticks: the text is then
 * NULL.
 */
struct ombud_jw {
    char *p, *stack;
    size_t len, cap;
    bool failed, comma, ascii;
    /* the last day ombud_jw_time converted (a complaint's instants share few) */
    int64_t day, day_y;
    unsigned day_m, day_d;
};
void ombud_jw_init(struct ombud_jw *w, char *buf, size_t cap, bool ascii);
/* The NUL-terminated text, owned by the writer (NULL after a failure,
 * when the writer is freed too). */
char *ombud_jw_text(struct ombud_jw *w, size_t *len);
/* The text in a heap buffer the caller frees (NULL after a failure). */
char *ombud_jw_steal(struct ombud_jw *w, size_t *len);
void ombud_jw_free(struct ombud_jw *w);
/* '{' or '[' / '}' or ']'. */
void ombud_jw_begin(struct ombud_jw *w, char open);
void ombud_jw_end(struct ombud_jw *w, char close);
/* Room for n more bytes, ahead of writing them (a size hint). */
void ombud_jw_reserve(struct ombud_jw *w, size_t n);
/* key: one of our own member names, plain ASCII, written as it is. */
void ombud_jw_key(struct ombud_jw *w, const char *key);
/* A string, or null for NULL. */
void ombud_jw_str(struct ombud_jw *w, const char *s);
void ombud_jw_null(struct ombud_jw *w);
void ombud_jw_bool(struct ombud_jw *w, bool v);
void ombud_jw_int(struct ombud_jw *w, int64_t v);
/* As jansson with JSON_REAL_PRECISION(precision) (0: its default, 17). */
void ombud_jw_real(struct ombud_jw *w, double v, int precision);
/* Milliseconds from microseconds: ombud_jw_real(usec / 1000.0, 6), fast. */
void ombud_jw_ms(struct ombud_jw *w, int64_t usec);
/* RFC 3339 as ombud_time_format, or null for 0 (as ombud_repr_time). */
void ombud_jw_time(struct ombud_jw *w, int64_t usec);
/* Text that is JSON already, as it is. */
void ombud_jw_raw(struct ombud_jw *w, const char *s, size_t n);

#endif
