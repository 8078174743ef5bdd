/*
 * Timeline event payloads: the JSON `data` of a complaint event, built
 * from the domain's event records (include/ombud/lifecycle.h) and
 * nowhere else, so what the timeline says about a change is written in
 * one place. The text is stored as jsonb and read back by
 * GET /v1/complaints/{id}/events (ombud_repr_event in repr/complaint.c).
 */
#include <stdlib.h>
#include <string.h>

#include "ombud/repr.h"

/* One side of a field change, as the API shows that field. */
static json_t *value(enum ombud_field f, const struct ombud_value *v)
{
    switch (f) {
    case OMBUD_FIELD_TEAM_ID:
    case OMBUD_FIELD_ASSIGNEE_ID:
        return v->n ? json_integer(v->n) : json_null();
    case OMBUD_FIELD_TAGS:
        return v->s ? json_loads(v->s, 0, NULL) : json_null();
    case OMBUD_FIELD_CUSTOMER_AGREED:
    case OMBUD_FIELD_REOPEN_COUNT:
    case OMBUD_FIELD_ESCALATION_LEVEL:
    case OMBUD_FIELD_SATISFACTION_SCORE:
        return json_integer(v->n);
    default:
        return v->s ? json_string(v->s) : json_null();
    }
}

/* Sets {name: {"from": a, "to": b}} in obj for each change. */
static void set_changes(json_t *obj, const struct ombud_event_rec *ev)
{
    for (size_t i = 0; i < ev->nchanges; i++) {
        const struct ombud_field_change *ch = &ev->changes[i];
        json_t *from = value(ch->field, &ch->from), *to = value(ch->field, &ch->to);
        json_object_set_new(obj, ombud_field_name(ch->field),
                            json_pack("{s:o, s:o}", "from", from ? from : json_null(), "to",
                                      to ? to : json_null()));
    }
}

static json_t *status_changed(const struct ombud_event_rec *ev)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "action", ombud_action_name(ev->action), "from",
                          ombud_status_name(ev->from), "to", ombud_status_name(ev->to));
    if (!o)
        return NULL;
    if (ev->about_note)
        json_object_set_new(o, "note_id", json_integer(ev->note_id));
    if (ev->forced)
        json_object_set_new(o, "forced", json_true());
    if (ev->action == OMBUD_ACT_REOPEN)
        json_object_set_new(o, "reopen_count", json_integer(ev->reopen_count));
    if (ev->action == OMBUD_ACT_RESOLVE)
        json_object_set_new(o, "resolution", json_pack("{s:s}", "summary", ev->resolution_summary));
    return o;
}

static json_t *event_json(const struct ombud_event_rec *ev)
{
    char ref[32];
    json_t *o = NULL;

    switch (ev->kind) {
    case OMBUD_EV_CREATED:
        ombud_repr_reference(ev->complaint_id, ref, sizeof ref);
        return json_pack("{s:s, s:s, s:s, s:s, s:s}", "reference", ref, "channel", ev->channel,
                         "category", ev->category, "grade", ev->grade, "priority", ev->priority);
    case OMBUD_EV_ASSIGNED:
        o = json_object();
        if (o)
            set_changes(o, ev);
        return o;
    case OMBUD_EV_UPDATED:
        o = json_object();
        if (o)
            set_changes(o, ev);
        return json_pack("{s:o}", "changes", o);
    case OMBUD_EV_NOTE_ADDED:
        return json_pack("{s:I, s:s}", "note_id", (json_int_t)ev->note_id, "visibility",
                         ev->visibility);
    case OMBUD_EV_STATUS_CHANGED:
        return status_changed(ev);
    case OMBUD_EV_SLA_PAUSED:
    case OMBUD_EV_SLA_RESUMED:
        return json_pack("{s:s}", "status", ombud_status_name(ev->to));
    case OMBUD_EV_ESCALATED:
        o = json_pack("{s:s, s:i, s:i}", "reason", ev->reason, "from_level", ev->from_level,
                      "to_level", ev->to_level);
        if (o)
            set_changes(o, ev);
        return o;
    case OMBUD_EV_SATISFACTION_RECORDED:
        return json_pack("{s:I}", "score", (json_int_t)ev->score);
    case OMBUD_EV_COUNT:
        break;
    }
    return NULL;
}

char *ombud_repr_event_data(const struct ombud_event_rec *ev)
{
    json_t *o = event_json(ev);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

char *ombud_repr_json_compact(const char *text)
{
    json_t *v = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(v);
    return s;
}
