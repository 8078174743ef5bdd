/* SLA policies as JSON. */
#include "ombud/repr.h"

json_t *ombud_repr_policy(const struct ombud_sla_policy *p)
{
    json_t *match = json_object();
    for (int i = 0; i < 5; i++) {
        json_t *arr = p->match_json[i] ? json_loads(p->match_json[i], 0, NULL) : NULL;
        json_object_set_new(match, ombud_sla_match_names[i], arr ? arr : json_array());
    }
    json_t *w = json_array();
    for (size_t i = 0; i < p->nwarnings; i++)
        json_array_append_new(w, json_pack("{s:I}",
                                           p->warnings[i].percent ? "percent" : "minutes_before",
                                           (json_int_t)p->warnings[i].value));
    return json_pack(
        "{s:I, s:s, s:i, s:b, s:o, s:I, s:I, s:o, s:I, s:o, s:o}", "id", (json_int_t)p->id, "name",
        p->name, "position", p->position, "active", p->active, "match", match,
        "first_response_minutes", (json_int_t)p->first_response_minutes, "resolution_minutes",
        (json_int_t)p->resolution_minutes, "warnings", w, "calendar_id", (json_int_t)p->calendar_id,
        "created_at", ombud_repr_time(p->created_at), "updated_at", ombud_repr_time(p->updated_at));
}
