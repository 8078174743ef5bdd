/* The api-key resource as JSON (never the secret; the create handler adds it once). */
#include "ombud/repr.h"

json_t *ombud_repr_api_key(const struct ombud_api_key *k)
{
    return json_pack("{s:I, s:s, s:s, s:o, s:o, s:o}", "id", (json_int_t)k->id, "name", k->name,
                     "role", k->role, "agent_id",
                     k->agent_id ? json_integer(k->agent_id) : json_null(), "created_at",
                     ombud_repr_time(k->created_at), "last_used_at",
                     ombud_repr_time(k->last_used_at));
}
