/* The api-key resource as JSON; its secret only in the answer to its creation. */
#include "ombud/repr.h"

static json_t *agent_id(const struct ombud_api_key *k)
{
    return k->agent_id ? json_integer(k->agent_id) : json_null();
}

json_t *ombud_repr_api_key(const struct ombud_api_key *k)
{
    return json_pack("{s:I, s:s, s:s, s:o, s:o, s:o}", "id", (json_int_t)k->id, "name", k->name,
                     "role", k->role, "agent_id", agent_id(k), "created_at",
                     ombud_repr_time(k->created_at), "last_used_at",
                     ombud_repr_time(k->last_used_at));
}

json_t *ombud_repr_api_key_created(const struct ombud_api_key *k, const char *secret)
{
    /* A key just made has never been used: no last_used_at yet. */
    return json_pack("{s:I, s:s, s:s, s:o, s:o, s:s}", "id", (json_int_t)k->id, "name", k->name,
                     "role", k->role, "agent_id", agent_id(k), "created_at",
                     ombud_repr_time(k->created_at), "key", secret);
}
