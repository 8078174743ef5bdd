/* Teams and agents as JSON. */
#include "ombud/repr.h"

static json_t *id_or_null(int64_t id)
{
    return id ? json_integer(id) : json_null();
}

json_t *ombud_repr_team(const struct ombud_team *t)
{
    return json_pack("{s:I, s:s, s:o, s:s, s:o, s:o}", "id", (json_int_t)t->id, "name", t->name,
                     "escalation_team_id", id_or_null(t->escalation_team_id), "assignment",
                     t->assignment, "created_at", ombud_repr_time(t->created_at), "updated_at",
                     ombud_repr_time(t->updated_at));
}

json_t *ombud_repr_agent(const struct ombud_agent *a)
{
    return json_pack("{s:I, s:s, s:o, s:o, s:s, s:b, s:o, s:o}", "id", (json_int_t)a->id, "name",
                     a->name, "email", a->email[0] ? json_string(a->email) : json_null(), "team_id",
                     id_or_null(a->team_id), "role", a->role, "active", a->active, "created_at",
                     ombud_repr_time(a->created_at), "updated_at", ombud_repr_time(a->updated_at));
}
