/* Complaint, note, event and category resources as JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ombud/repr.h"

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *id_or_null(int64_t id)
{
    return id ? json_integer(id) : json_null();
}

void ombud_repr_reference(int64_t id, char *out, size_t len)
{
    snprintf(out, len, "CMP-%06lld", (long long)id);
}

void ombud_repr_etag(int version, char *out, size_t len)
{
    snprintf(out, len, "\"v%d\"", version);
}

static json_t *resolution(const struct ombud_complaint *c)
{
    if (!c->resolution_summary && !c->compensation_amount && c->customer_agreed < 0)
        return json_null();
    json_t *comp = json_null();
    if (c->compensation_amount)
        comp = json_pack("{s:f, s:s}", "amount", strtod(c->compensation_amount, NULL), "currency",
                         c->compensation_currency);
    return json_pack("{s:o, s:o, s:o}", "summary", str_or_null(c->resolution_summary),
                     "compensation", comp, "customer_agreed",
                     c->customer_agreed < 0 ? json_null() : json_boolean(c->customer_agreed));
}

static json_t *clock_json(const struct ombud_sla_clock *k, int64_t now)
{
    json_t *w = json_array();
    for (size_t i = 0; i < k->nwarnings; i++)
        json_array_append_new(w,
                              json_pack("{s:i, s:o, s:o}", "level", k->warnings[i].level, "at",
                                        ombud_repr_time(k->warnings[i].at * 1000000), "raised_at",
                                        ombud_repr_time(k->warnings[i].raised_at > 0
                                                            ? k->warnings[i].raised_at * 1000000
                                                            : 0)));
    int64_t warn_at = k->nwarnings ? k->warnings[0].at : 0;
    bool breached = k->breached || (!k->met_at && k->due_at && now >= k->due_at);
    return json_pack(
        "{s:i, s:o, s:o, s:o, s:b, s:s, s:o, s:o}", "cycle", k->cycle, "due_at",
        ombud_repr_time(k->due_at * 1000000), "warn_at", ombud_repr_time(warn_at * 1000000),
        "met_at", ombud_repr_time(k->met_at * 1000000), "breached", breached, "state",
        ombud_sla_clock_state(k, now), "remaining_seconds",
        k->due_at && !k->met_at ? json_integer(k->due_at - now) : json_null(), "warnings", w);
}

static json_t *sla_json(const struct ombud_complaint *c, int64_t now)
{
    if (!c->sla_have[0] && !c->sla_have[1])
        return json_null();
    /* Paused: some target is still unmet and no clock is running (waiting
     * on the customer, or stopped because the complaint was withdrawn). */
    bool unmet = false, running = false;
    for (int i = 0; i < 2; i++) {
        unmet |= c->sla_have[i] && !c->sla[i].met_at;
        running |= c->sla_have[i] && !c->sla[i].met_at && c->sla[i].running_since;
    }
    bool paused = unmet && !running;
    return json_pack("{s:o, s:b, s:o, s:o}", "policy_id",
                     c->sla_policy_id ? json_integer(c->sla_policy_id) : json_null(), "paused",
                     paused, "first_response",
                     c->sla_have[0] ? clock_json(&c->sla[0], now) : json_null(), "resolution",
                     c->sla_have[1] ? clock_json(&c->sla[1], now) : json_null());
}

json_t *ombud_repr_complaint(const struct ombud_complaint *c, int64_t now)
{
    json_t *sla = sla_json(c, now);
    char ref[32];
    json_t *tags = c->tags_json ? json_loads(c->tags_json, 0, NULL) : NULL;
    ombud_repr_reference(c->id, ref, sizeof ref);

    json_t *customer =
        json_pack("{s:s, s:o, s:o, s:o, s:s}", "name", c->customer_name ? c->customer_name : "",
                  "external_id", str_or_null(c->customer_external_id), "email",
                  str_or_null(c->customer_email), "phone", str_or_null(c->customer_phone), "tier",
                  c->customer_tier);
    json_t *sat = c->satisfaction_score
                      ? json_pack("{s:i, s:o, s:o}", "score", c->satisfaction_score, "comment",
                                  str_or_null(c->satisfaction_comment), "recorded_at",
                                  ombud_repr_time(c->satisfaction_at))
                      : json_null();
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "id",
                          (json_int_t)c->id, "reference", ref, "title", c->title ? c->title : "",
                          "description", c->description ? c->description : "", "customer", customer,
                          "channel", c->channel, "category", c->category, "grade", c->grade,
                          "priority", c->priority, "demand",
                          c->demand[0] ? json_string(c->demand) : json_null(), "demand_detail",
                          str_or_null(c->demand_detail), "tags", tags ? tags : json_array());
    if (!o) {
        json_decref(sla);
        return NULL;
    }
    json_object_set_new(o, "team_id", id_or_null(c->team_id));
    json_object_set_new(o, "assignee_id", id_or_null(c->assignee_id));
    json_object_set_new(o, "external_ref", str_or_null(c->external_ref));
    json_object_set_new(o, "status", json_string(ombud_status_name(c->status)));
    json_object_set_new(o, "escalation_level", json_integer(c->escalation_level));
    json_object_set_new(o, "reopen_count", json_integer(c->reopen_count));
    json_object_set_new(o, "resolution", resolution(c));
    json_object_set_new(o, "satisfaction", sat);
    json_object_set_new(o, "created_at", ombud_repr_time(c->created_at));
    json_object_set_new(o, "updated_at", ombud_repr_time(c->updated_at));
    json_object_set_new(o, "first_response_at", ombud_repr_time(c->first_response_at));
    json_object_set_new(o, "resolved_at", ombud_repr_time(c->resolved_at));
    json_object_set_new(o, "closed_at", ombud_repr_time(c->closed_at));
    json_object_set_new(o, "version", json_integer(c->version));
    json_object_set_new(o, "sla", sla ? sla : json_null());
    return o;
}

json_t *ombud_repr_note(const struct ombud_note *n)
{
    return json_pack("{s:I, s:I, s:s, s:s, s:{s:s, s:o}, s:o}", "id", (json_int_t)n->id,
                     "complaint_id", (json_int_t)n->complaint_id, "body", n->body ? n->body : "",
                     "visibility", n->visibility, "author", "role", n->author_role, "agent_id",
                     id_or_null(n->author_agent_id), "created_at", ombud_repr_time(n->created_at));
}

json_t *ombud_repr_event(const struct ombud_event *e)
{
    json_t *data = e->data_json ? json_loads(e->data_json, 0, NULL) : NULL;
    return json_pack("{s:I, s:I, s:s, s:{s:s, s:o, s:o}, s:o, s:o}", "id", (json_int_t)e->id,
                     "complaint_id", (json_int_t)e->complaint_id, "kind", e->kind, "actor", "role",
                     e->actor_role[0] ? e->actor_role : "system", "key_id",
                     id_or_null(e->actor_key_id), "agent_id", id_or_null(e->actor_agent_id), "data",
                     data ? data : json_object(), "created_at", ombud_repr_time(e->created_at));
}

json_t *ombud_repr_category(const struct ombud_category *k)
{
    return json_pack("{s:s, s:s, s:o}", "key", k->key, "name", k->name, "created_at",
                     ombud_repr_time(k->created_at));
}
