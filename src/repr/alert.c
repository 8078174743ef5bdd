/* Alerts as JSON: the resource, and the timeline event that records one. */
#include "ombud/repr.h"

#include <stdlib.h>

#include "ombud/timefmt.h"

json_t *ombud_repr_alert(const struct ombud_alert *a)
{
    return json_pack("{s:I, s:s, s:i, s:I, s:s, s:i, s:o, s:o, s:o, s:o, s:o}", "id",
                     (json_int_t)a->id, "kind", a->kind, "level", a->level, "complaint_id",
                     (json_int_t)a->complaint_id, "target", a->target, "cycle", a->cycle,
                     "scheduled_at", ombud_repr_time(a->scheduled_at), "created_at",
                     ombud_repr_time(a->created_at), "acknowledged_at",
                     ombud_repr_time(a->acknowledged_at), "acknowledged_by",
                     a->acknowledged_by ? json_integer(a->acknowledged_by) : json_null(), "rule_id",
                     a->rule_id ? json_integer(a->rule_id) : json_null());
}

char *ombud_repr_sla_alert_event(int64_t alert_id, const struct ombud_sla_clock *k,
                                 const struct ombud_sla_due_alert *a)
{
    char sched[OMBUD_TIME_BUFLEN];
    ombud_time_format(a->scheduled * 1000000, sched);
    json_t *d =
        json_pack("{s:I, s:s, s:i, s:s}", "alert_id", (json_int_t)alert_id, "target",
                  ombud_sla_target_name(k->target), "cycle", k->cycle, "scheduled_at", sched);
    if (!d)
        return NULL;
    if (!a->breach)
        json_object_set_new(d, "level", json_integer(a->level));
    char *text = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    return text;
}
