/* Alerts as JSON. */
#include "ombud/repr.h"

json_t *ombud_repr_alert(const struct ombud_alert *a)
{
    return json_pack("{s:I, s:s, s:i, s:I, s:s, s:i, s:o, s:o, s:o, s:o}", "id", (json_int_t)a->id,
                     "kind", a->kind, "level", a->level, "complaint_id",
                     (json_int_t)a->complaint_id, "target", a->target, "cycle", a->cycle,
                     "scheduled_at", ombud_repr_time(a->scheduled_at), "created_at",
                     ombud_repr_time(a->created_at), "acknowledged_at",
                     ombud_repr_time(a->acknowledged_at), "acknowledged_by",
                     a->acknowledged_by ? json_integer(a->acknowledged_by) : json_null());
}
