/*
 * Representations: each resource's JSON is built in one place
 * (src/repr/<resource>.c). Every function returns a new reference.
 */
#ifndef OMBUD_REPR_H
#define OMBUD_REPR_H

#include <jansson.h>
#include <stdint.h>

#include "ombud/complaint.h"
#include "ombud/db.h"
#include "ombud/err.h"

/* RFC 9457 problem details for err with the given status and title
 * ("Error" when NULL); instance and request_id optional. */
json_t *ombud_repr_problem(const struct ombud_err *err, int status, const char *title,
                           const char *instance, const char *request_id);
/* RFC 3339 string, or JSON null for 0. */
json_t *ombud_repr_time(int64_t usec);
json_t *ombud_repr_api_key(const struct ombud_api_key *k);
/* {items: [...], next_cursor} steals items. */
json_t *ombud_repr_page_steal(json_t *items, const char *next_cursor);

/* "CMP-000042" for id 42 (at least six digits). */
void ombud_repr_reference(int64_t id, char *out, size_t len);
/* The complaint resource with its sla object from c->sla (null when the
 * complaint has no clocks), as seen at now (seconds). */
json_t *ombud_repr_complaint(const struct ombud_complaint *c, int64_t now);
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

json_t *ombud_repr_policy(const struct ombud_sla_policy *p);

json_t *ombud_repr_alert(const struct ombud_alert *a);
/* The data of the timeline event (sla_warning, sla_breached) recording
 * alert alert_id raised for clock k, as JSON text for storage: the caller
 * frees it; NULL when out of memory. */
char *ombud_repr_sla_alert_event(int64_t alert_id, const struct ombud_sla_clock *k,
                                 const struct ombud_sla_due_alert *a);

#endif
