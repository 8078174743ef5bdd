/*
 * What a handler file needs, private to src/http: the request, the reply
 * and query helpers, and every handler the route table (routes.c) names.
 * A handler is parse (query.h, json_spec.h) -> domain -> db -> reply
 * (reply.h) and queues exactly one reply.
 */
#ifndef OMBUD_HTTP_HANDLERS_H
#define OMBUD_HTTP_HANDLERS_H

#include "ombud/change.h"
#include "http/query.h"
#include "http/reply.h"
#include "http/request.h"

/* health.c: operations */
void ombud_h_health_live(struct ombud_req *req);
void ombud_h_health_ready(struct ombud_req *req);
void ombud_h_openapi(struct ombud_req *req);
void ombud_h_metrics(struct ombud_req *req);
/* api_keys.c */
void ombud_h_api_keys_create(struct ombud_req *req);
void ombud_h_api_keys_list(struct ombud_req *req);
void ombud_h_api_keys_get(struct ombud_req *req);
void ombud_h_api_keys_delete(struct ombud_req *req);
/* complaints.c */
void ombud_h_complaints_create(struct ombud_req *req);
void ombud_h_complaints_get(struct ombud_req *req);
void ombud_h_complaints_list(struct ombud_req *req);
void ombud_h_complaints_patch(struct ombud_req *req);
/* transitions.c: lifecycle actions and escalation */
void ombud_h_complaints_transition(struct ombud_req *req);
void ombud_h_complaints_escalate(struct ombud_req *req);
/* notes.c: notes, the timeline, satisfaction */
void ombud_h_notes_create(struct ombud_req *req);
void ombud_h_notes_list(struct ombud_req *req);
void ombud_h_events_list(struct ombud_req *req);
void ombud_h_satisfaction_create(struct ombud_req *req);
/* categories.c */
void ombud_h_categories_list(struct ombud_req *req);
void ombud_h_categories_create(struct ombud_req *req);
/* teams.c: teams and agents */
void ombud_h_teams_create(struct ombud_req *req);
void ombud_h_teams_list(struct ombud_req *req);
void ombud_h_teams_get(struct ombud_req *req);
void ombud_h_teams_patch(struct ombud_req *req);
void ombud_h_agents_create(struct ombud_req *req);
void ombud_h_agents_list(struct ombud_req *req);
void ombud_h_agents_get(struct ombud_req *req);
void ombud_h_agents_patch(struct ombud_req *req);
/* calendars.c: calendars and the business-time calculator */
void ombud_h_calendars_create(struct ombud_req *req);
void ombud_h_calendars_list(struct ombud_req *req);
void ombud_h_calendars_get(struct ombud_req *req);
void ombud_h_calendars_patch(struct ombud_req *req);
void ombud_h_calendars_delete(struct ombud_req *req);
void ombud_h_calendars_due(struct ombud_req *req);
void ombud_h_calendars_minutes(struct ombud_req *req);
/* changes.c: the change log; its query (after or "now", limit unless
 * NULL, types) shared with the stream */
void ombud_h_changes_list(struct ombud_req *req);
void ombud_changes_query(struct ombud_req *req, int64_t *after, bool *now, int *limit,
                         struct ombud_change_filter *f, struct ombud_err *err);
/* stream.c: the change log as Server-Sent Events */
void ombud_h_stream(struct ombud_req *req);

/* rules.c: escalation rules, and what is pending for a complaint */
void ombud_h_rules_create(struct ombud_req *req);
void ombud_h_rules_list(struct ombud_req *req);
void ombud_h_rules_get(struct ombud_req *req);
void ombud_h_rules_patch(struct ombud_req *req);
void ombud_h_rules_delete(struct ombud_req *req);
void ombud_h_complaint_rules(struct ombud_req *req);

/* sla_policies.c */
void ombud_h_policies_create(struct ombud_req *req);
void ombud_h_policies_list(struct ombud_req *req);
void ombud_h_policies_get(struct ombud_req *req);
void ombud_h_policies_patch(struct ombud_req *req);
void ombud_h_policies_delete(struct ombud_req *req);
/* alerts.c: alerts and the SLA views */
void ombud_h_alerts_list(struct ombud_req *req);
void ombud_h_alerts_ack(struct ombud_req *req);
void ombud_h_sla_at_risk(struct ombud_req *req);
void ombud_h_sla_summary(struct ombud_req *req);

/* webhooks.c: outbound webhooks, their deliveries, retry and ping */
void ombud_h_webhooks_create(struct ombud_req *req);
void ombud_h_webhooks_list(struct ombud_req *req);
void ombud_h_webhooks_get(struct ombud_req *req);
void ombud_h_webhooks_patch(struct ombud_req *req);
void ombud_h_webhooks_delete(struct ombud_req *req);
void ombud_h_webhook_deliveries_list(struct ombud_req *req);
void ombud_h_webhook_delivery_retry(struct ombud_req *req);
void ombud_h_webhooks_test(struct ombud_req *req);

#endif
