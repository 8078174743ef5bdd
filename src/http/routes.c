/*
 * The route table: every endpoint, its method, the least role allowed
 * and whether it takes a JSON body. Order does not matter for matching;
 * keep it grouped by resource.
 */
#include "http/handlers.h"
#include "ombud/http.h"

#define R(m, pat, name, role, flags, h)                                                            \
    {                                                                                              \
        m, pat, name, role, flags, (void *)(h)                                                     \
    }

const struct ombud_route ombud_routes[] = {
    R(OMBUD_GET, "/health/live", "health_live", OMBUD_ROLE_NONE, OMBUD_ROUTE_NODB,
      ombud_h_health_live),
    R(OMBUD_GET, "/health/ready", "health_ready", OMBUD_ROLE_NONE, 0, ombud_h_health_ready),
    R(OMBUD_GET, "/metrics", "metrics", OMBUD_ROLE_NONE, OMBUD_ROUTE_NODB, ombud_h_metrics),
    R(OMBUD_GET, "/openapi.yaml", "openapi", OMBUD_ROLE_NONE, OMBUD_ROUTE_NODB, ombud_h_openapi),

    R(OMBUD_POST, "/v1/api-keys", "api_keys_create", OMBUD_ROLE_ADMIN, OMBUD_ROUTE_BODY,
      ombud_h_api_keys_create),
    R(OMBUD_GET, "/v1/api-keys", "api_keys_list", OMBUD_ROLE_ADMIN, 0, ombud_h_api_keys_list),
    R(OMBUD_GET, "/v1/api-keys/{id}", "api_keys_get", OMBUD_ROLE_ADMIN, 0, ombud_h_api_keys_get),
    R(OMBUD_DELETE, "/v1/api-keys/{id}", "api_keys_delete", OMBUD_ROLE_ADMIN, 0,
      ombud_h_api_keys_delete),

    R(OMBUD_POST, "/v1/complaints", "complaints_create", OMBUD_ROLE_SERVICE, OMBUD_ROUTE_BODY,
      ombud_h_complaints_create),
    R(OMBUD_GET, "/v1/complaints", "complaints_list", OMBUD_ROLE_SERVICE, 0,
      ombud_h_complaints_list),
    R(OMBUD_GET, "/v1/complaints/{id}", "complaints_get", OMBUD_ROLE_SERVICE, 0,
      ombud_h_complaints_get),
    R(OMBUD_PATCH, "/v1/complaints/{id}", "complaints_patch", OMBUD_ROLE_AGENT, OMBUD_ROUTE_BODY,
      ombud_h_complaints_patch),
    R(OMBUD_POST, "/v1/complaints/{id}/transitions", "complaints_transition", OMBUD_ROLE_AGENT,
      OMBUD_ROUTE_BODY, ombud_h_complaints_transition),
    R(OMBUD_POST, "/v1/complaints/{id}/escalate", "complaints_escalate", OMBUD_ROLE_SUPERVISOR,
      OMBUD_ROUTE_BODY, ombud_h_complaints_escalate),
    R(OMBUD_POST, "/v1/complaints/{id}/notes", "notes_create", OMBUD_ROLE_SERVICE, OMBUD_ROUTE_BODY,
      ombud_h_notes_create),
    R(OMBUD_GET, "/v1/complaints/{id}/notes", "notes_list", OMBUD_ROLE_SERVICE, 0,
      ombud_h_notes_list),
    R(OMBUD_GET, "/v1/complaints/{id}/events", "events_list", OMBUD_ROLE_AGENT, 0,
      ombud_h_events_list),
    R(OMBUD_GET, "/v1/complaints/{id}/rules", "complaint_rules", OMBUD_ROLE_AGENT, 0,
      ombud_h_complaint_rules),
    R(OMBUD_POST, "/v1/complaints/{id}/satisfaction", "satisfaction_create", OMBUD_ROLE_SERVICE,
      OMBUD_ROUTE_BODY, ombud_h_satisfaction_create),

    R(OMBUD_GET, "/v1/categories", "categories_list", OMBUD_ROLE_SERVICE, 0,
      ombud_h_categories_list),
    R(OMBUD_POST, "/v1/categories", "categories_create", OMBUD_ROLE_ADMIN, OMBUD_ROUTE_BODY,
      ombud_h_categories_create),

    R(OMBUD_POST, "/v1/teams", "teams_create", OMBUD_ROLE_ADMIN, OMBUD_ROUTE_BODY,
      ombud_h_teams_create),
    R(OMBUD_GET, "/v1/teams", "teams_list", OMBUD_ROLE_AGENT, 0, ombud_h_teams_list),
    R(OMBUD_GET, "/v1/teams/{id}", "teams_get", OMBUD_ROLE_AGENT, 0, ombud_h_teams_get),
    R(OMBUD_PATCH, "/v1/teams/{id}", "teams_patch", OMBUD_ROLE_ADMIN, OMBUD_ROUTE_BODY,
      ombud_h_teams_patch),
    R(OMBUD_POST, "/v1/agents", "agents_create", OMBUD_ROLE_ADMIN, OMBUD_ROUTE_BODY,
      ombud_h_agents_create),
    R(OMBUD_GET, "/v1/agents", "agents_list", OMBUD_ROLE_AGENT, 0, ombud_h_agents_list),
    R(OMBUD_GET, "/v1/agents/{id}", "agents_get", OMBUD_ROLE_AGENT, 0, ombud_h_agents_get),
    R(OMBUD_PATCH, "/v1/agents/{id}", "agents_patch", OMBUD_ROLE_ADMIN, OMBUD_ROUTE_BODY,
      ombud_h_agents_patch),

    R(OMBUD_POST, "/v1/calendars", "calendars_create", OMBUD_ROLE_ADMIN, OMBUD_ROUTE_BODY,
      ombud_h_calendars_create),
    R(OMBUD_GET, "/v1/calendars", "calendars_list", OMBUD_ROLE_SERVICE, 0, ombud_h_calendars_list),
    R(OMBUD_GET, "/v1/calendars/{id}", "calendars_get", OMBUD_ROLE_SERVICE, 0,
      ombud_h_calendars_get),
    R(OMBUD_PATCH, "/v1/calendars/{id}", "calendars_patch", OMBUD_ROLE_ADMIN, OMBUD_ROUTE_BODY,
      ombud_h_calendars_patch),
    R(OMBUD_DELETE, "/v1/calendars/{id}", "calendars_delete", OMBUD_ROLE_ADMIN, 0,
      ombud_h_calendars_delete),
    R(OMBUD_GET, "/v1/calendars/{id}/due", "calendars_due", OMBUD_ROLE_SERVICE, 0,
      ombud_h_calendars_due),
    R(OMBUD_GET, "/v1/calendars/{id}/business-minutes", "calendars_minutes", OMBUD_ROLE_SERVICE, 0,
      ombud_h_calendars_minutes),

    R(OMBUD_GET, "/v1/changes", "changes_list", OMBUD_ROLE_AGENT, 0, ombud_h_changes_list),
    R(OMBUD_GET, "/v1/stream", "stream", OMBUD_ROLE_AGENT, 0, ombud_h_stream),

    R(OMBUD_POST, "/v1/webhooks", "webhooks_create", OMBUD_ROLE_ADMIN, OMBUD_ROUTE_BODY,
      ombud_h_webhooks_create),
    R(OMBUD_GET, "/v1/webhooks", "webhooks_list", OMBUD_ROLE_ADMIN, 0, ombud_h_webhooks_list),
    R(OMBUD_GET, "/v1/webhooks/{id}", "webhooks_get", OMBUD_ROLE_ADMIN, 0, ombud_h_webhooks_get),
    R(OMBUD_PATCH, "/v1/webhooks/{id}", "webhooks_patch", OMBUD_ROLE_ADMIN, OMBUD_ROUTE_BODY,
      ombud_h_webhooks_patch),
    R(OMBUD_DELETE, "/v1/webhooks/{id}", "webhooks_delete", OMBUD_ROLE_ADMIN, 0,
      ombud_h_webhooks_delete),
    R(OMBUD_GET, "/v1/webhooks/{id}/deliveries", "webhook_deliveries_list", OMBUD_ROLE_ADMIN, 0,
      ombud_h_webhook_deliveries_list),
    R(OMBUD_POST, "/v1/webhooks/{id}/deliveries/{id}/retry", "webhook_delivery_retry",
      OMBUD_ROLE_ADMIN, 0, ombud_h_webhook_delivery_retry),
    R(OMBUD_POST, "/v1/webhooks/{id}/test", "webhooks_test", OMBUD_ROLE_ADMIN, 0,
      ombud_h_webhooks_test),
    R(OMBUD_POST, "/v1/escalation-rules", "rules_create", OMBUD_ROLE_ADMIN, OMBUD_ROUTE_BODY,
      ombud_h_rules_create),
    R(OMBUD_GET, "/v1/escalation-rules", "rules_list", OMBUD_ROLE_ADMIN, 0, ombud_h_rules_list),
    R(OMBUD_GET, "/v1/escalation-rules/{id}", "rules_get", OMBUD_ROLE_ADMIN, 0, ombud_h_rules_get),
    R(OMBUD_PATCH, "/v1/escalation-rules/{id}", "rules_patch", OMBUD_ROLE_ADMIN, OMBUD_ROUTE_BODY,
      ombud_h_rules_patch),
    R(OMBUD_DELETE, "/v1/escalation-rules/{id}", "rules_delete", OMBUD_ROLE_ADMIN, 0,
      ombud_h_rules_delete),
    R(OMBUD_POST, "/v1/sla-policies", "policies_create", OMBUD_ROLE_ADMIN, OMBUD_ROUTE_BODY,
      ombud_h_policies_create),
    R(OMBUD_GET, "/v1/sla-policies", "policies_list", OMBUD_ROLE_SERVICE, 0, ombud_h_policies_list),
    R(OMBUD_GET, "/v1/sla-policies/{id}", "policies_get", OMBUD_ROLE_SERVICE, 0,
      ombud_h_policies_get),
    R(OMBUD_PATCH, "/v1/sla-policies/{id}", "policies_patch", OMBUD_ROLE_ADMIN, OMBUD_ROUTE_BODY,
      ombud_h_policies_patch),
    R(OMBUD_DELETE, "/v1/sla-policies/{id}", "policies_delete", OMBUD_ROLE_ADMIN, 0,
      ombud_h_policies_delete),

    R(OMBUD_GET, "/v1/alerts", "alerts_list", OMBUD_ROLE_AGENT, 0, ombud_h_alerts_list),
    R(OMBUD_POST, "/v1/alerts/{id}/ack", "alerts_ack", OMBUD_ROLE_SUPERVISOR, 0,
      ombud_h_alerts_ack),
    R(OMBUD_GET, "/v1/sla/at-risk", "sla_at_risk", OMBUD_ROLE_AGENT, 0, ombud_h_sla_at_risk),
    R(OMBUD_GET, "/v1/sla/summary", "sla_summary", OMBUD_ROLE_AGENT, 0, ombud_h_sla_summary),
};

const size_t ombud_nroutes = sizeof ombud_routes / sizeof ombud_routes[0];
