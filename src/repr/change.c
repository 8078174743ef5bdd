/* Changes as JSON: {id, type, at, complaint_id, data}, data holding the
 * event (or the alert) and the complaint's state at that change. */
#include "ombud/repr.h"

json_t *ombud_repr_change(const struct ombud_change *ch)
{
    char ref[32];
    ombud_repr_reference(ch->complaint_id, ref, sizeof ref);
    json_t *data = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "reference", ref, "status",
                             ch->status[0] ? json_string(ch->status) : json_null(), "priority",
                             ch->priority[0] ? json_string(ch->priority) : json_null(), "team_id",
                             ch->team_id ? json_integer(ch->team_id) : json_null(), "assignee_id",
                             ch->assignee_id ? json_integer(ch->assignee_id) : json_null(),
                             "version", ch->version ? json_integer(ch->version) : json_null());
    if (data && ch->has_event)
        json_object_set_new(data, "event", ombud_repr_event(&ch->event));
    if (data && ch->has_alert)
        json_object_set_new(data, "alert", ombud_repr_alert(&ch->alert));
    return json_pack("{s:I, s:s, s:o, s:I, s:o}", "id", (json_int_t)ch->id, "type", ch->type, "at",
                     ombud_repr_time(ch->at), "complaint_id", (json_int_t)ch->complaint_id, "data",
                     data ? data : json_object());
}
