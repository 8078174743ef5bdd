/* Webhooks as JSON: endpoints, deliveries with their attempts, and the
 * body each endpoint receives for a change. */
#include <stdlib.h>
#include <string.h>

#include "ombud/repr.h"

json_t *ombud_repr_webhook(const struct ombud_webhook *w, const char *secret)
{
    json_t *types = json_array();
    char buf[sizeof w->types];
    char *save = NULL;
    memcpy(buf, w->types, sizeof buf);
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        json_array_append_new(types, json_string(t));
    json_t *o =
        json_pack("{s:I, s:s, s:o, s:b, s:s, s:o, s:o}", "id", (json_int_t)w->id, "url", w->url,
                  "types", types, "active", w->active, "description", w->description, "created_at",
                  ombud_repr_time(w->created_at), "updated_at", ombud_repr_time(w->updated_at));
    if (o && secret)
        json_object_set_new(o, "secret", json_string(secret));
    return o;
}

json_t *ombud_repr_webhook_delivery(const struct ombud_webhook_delivery *d)
{
    json_t *attempts = json_array();
    for (size_t i = 0; i < d->nattempts; i++) {
        const struct ombud_webhook_attempt *a = &d->attempts[i];
        json_array_append_new(
            attempts,
            json_pack("{s:o, s:o, s:i, s:o, s:o}", "at", ombud_repr_time(a->at), "status",
                      a->status ? json_integer(a->status) : json_null(), "duration_ms",
                      a->duration_ms, "error", a->error[0] ? json_string(a->error) : json_null(),
                      "response_excerpt", a->has_excerpt ? json_string(a->excerpt) : json_null()));
    }
    return json_pack("{s:I, s:o, s:s, s:s, s:o, s:o}", "id", (json_int_t)d->id, "change_id",
                     d->change_id ? json_integer(d->change_id) : json_null(), "type", d->type,
                     "state", d->state, "next_attempt_at", ombud_repr_time(d->next_attempt_at),
                     "attempts", attempts);
}

char *ombud_repr_webhook_payload(const struct ombud_change *ch)
{
    json_t *c = ombud_repr_change(ch);
    if (!c)
        return NULL;
    json_t *body = json_pack("{s:O, s:O, s:O, s:O}", "id", json_object_get(c, "id"), "type",
                             json_object_get(c, "type"), "timestamp", json_object_get(c, "at"),
                             "data", json_object_get(c, "data"));
    json_decref(c);
    if (!body)
        return NULL;
    char *s = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    return s;
}
