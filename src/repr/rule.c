/* Escalation rules as JSON: the resource, a rule's state for one
 * complaint, and the data of a rule_skipped event. */
#include "ombud/repr.h"

#include <stdlib.h>

static json_t *id_or_null(int64_t id)
{
    return id ? json_integer(id) : json_null();
}

static json_t *level_or_null(int level)
{
    return level >= 0 ? json_integer(level) : json_null();
}

json_t *ombud_repr_rule(const struct ombud_rule *r)
{
    json_t *cond = json_object();
    for (int i = 0; i < OMBUD_RULE_NAME_LISTS; i++) {
        json_t *arr = r->cond_json[i] ? json_loads(r->cond_json[i], 0, NULL) : NULL;
        json_object_set_new(cond, ombud_rule_list_names[i], arr ? arr : json_array());
    }
    json_t *teams = json_array();
    for (size_t i = 0; i < r->nteams; i++)
        json_array_append_new(teams, json_integer(r->team_ids[i]));
    json_object_set_new(cond, "team_ids", teams);
    json_object_set_new(cond, "min_level", level_or_null(r->min_level));
    json_object_set_new(cond, "max_level", level_or_null(r->max_level));
    json_t *actions =
        json_pack("{s:o, s:o, s:o, s:b, s:b}", "set_priority",
                  r->set_priority[0] ? json_string(r->set_priority) : json_null(), "set_team_id",
                  id_or_null(r->set_team_id), "set_assignee_id", id_or_null(r->set_assignee_id),
                  "raise_level", r->raise_level, "notify", r->notify);
    return json_pack("{s:I, s:s, s:i, s:b, s:s, s:s, s:i, s:o, s:o, s:o, s:o}", "id",
                     (json_int_t)r->id, "name", r->name, "position", r->position, "active",
                     r->active, "trigger", ombud_rule_trigger_name(r->trigger), "target",
                     ombud_rule_target_name(r->target), "delay_minutes", r->delay_minutes,
                     "conditions", cond, "actions", actions, "created_at",
                     ombud_repr_time(r->created_at), "updated_at", ombud_repr_time(r->updated_at));
}

json_t *ombud_repr_rule_status(const struct ombud_rule_status *st)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:o, s:o}", "rule_id", (json_int_t)st->rule_id,
                     "name", st->name, "trigger", ombud_rule_trigger_name(st->trigger), "target",
                     ombud_rule_target_name(st->target), "state", st->state, "due_at",
                     ombud_repr_time(st->due_at * 1000000), "fired_at",
                     ombud_repr_time(st->fired_at * 1000000), "reason",
                     st->reason[0] ? json_string(st->reason) : json_null());
}

char *ombud_repr_rule_skipped_data(int64_t rule_id, const char *reason)
{
    json_t *d = json_pack("{s:I, s:s}", "rule_id", (json_int_t)rule_id, "reason", reason);
    if (!d)
        return NULL;
    char *text = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    return text;
}
