/*
 * Complaint, note, event and category resources as JSON. DESIGN: the
 * complaint is written as text with the JSON writer (jsonw.c), not built
 * as a jansson tree: a get or a page of a list renders it on every
 * request, and the tree's allocations and walk were most of the server's
 * own CPU there. The json_t form, for answers that embed a complaint,
 * parses that one text, so the representation has one definition.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ombud/repr.h"

static json_t *id_or_null_j(int64_t id)
{
    return id ? json_integer(id) : json_null();
}

static void id_or_null(struct ombud_jw *w, int64_t id)
{
    if (id)
        ombud_jw_int(w, id);
    else
        ombud_jw_null(w);
}

void ombud_repr_reference(int64_t id, char *out, size_t len)
{
    snprintf(out, len, "CMP-%06lld", (long long)id);
}

void ombud_repr_etag(int version, char *out, size_t len)
{
    snprintf(out, len, "\"v%d\"", version);
}

static void resolution(struct ombud_jw *w, const struct ombud_complaint *c)
{
    if (!c->resolution_summary && !c->compensation_amount && c->customer_agreed < 0) {
        ombud_jw_null(w);
        return;
    }
    ombud_jw_begin(w, '{');
    ombud_jw_key(w, "summary");
    ombud_jw_str(w, c->resolution_summary);
    ombud_jw_key(w, "compensation");
    if (c->compensation_amount) {
        ombud_jw_begin(w, '{');
        /* The canonical decimal text as stored (domain/money.c), never a float. */
        ombud_jw_key(w, "amount");
        ombud_jw_str(w, c->compensation_amount);
        ombud_jw_key(w, "currency");
        ombud_jw_str(w, c->compensation_currency);
        ombud_jw_end(w, '}');
    } else {
        ombud_jw_null(w);
    }
    ombud_jw_key(w, "customer_agreed");
    if (c->customer_agreed < 0)
        ombud_jw_null(w);
    else
        ombud_jw_bool(w, c->customer_agreed);
    ombud_jw_end(w, '}');
}

static void clock_json(struct ombud_jw *w, const struct ombud_sla_clock *k, int64_t now)
{
    int64_t warn_at = k->nwarnings ? k->warnings[0].at : 0;
    bool breached = k->breached || (!k->met_at && k->due_at && now >= k->due_at);
    ombud_jw_begin(w, '{');
    ombud_jw_key(w, "cycle");
    ombud_jw_int(w, k->cycle);
    ombud_jw_key(w, "due_at");
    ombud_jw_time(w, k->due_at * 1000000);
    ombud_jw_key(w, "warn_at");
    ombud_jw_time(w, warn_at * 1000000);
    ombud_jw_key(w, "met_at");
    ombud_jw_time(w, k->met_at * 1000000);
    ombud_jw_key(w, "breached");
    ombud_jw_bool(w, breached);
    ombud_jw_key(w, "state");
    ombud_jw_str(w, ombud_sla_clock_state(k, now));
    ombud_jw_key(w, "remaining_seconds");
    if (k->due_at && !k->met_at)
        ombud_jw_int(w, k->due_at - now);
    else
        ombud_jw_null(w);
    ombud_jw_key(w, "warnings");
    ombud_jw_begin(w, '[');
    for (size_t i = 0; i < k->nwarnings; i++) {
        const struct ombud_sla_warning *x = &k->warnings[i];
        ombud_jw_begin(w, '{');
        ombud_jw_key(w, "level");
        ombud_jw_int(w, x->level);
        ombud_jw_key(w, "at");
        ombud_jw_time(w, x->at * 1000000);
        ombud_jw_key(w, "raised_at");
        ombud_jw_time(w, x->raised_at > 0 ? x->raised_at * 1000000 : 0);
        ombud_jw_end(w, '}');
    }
    ombud_jw_end(w, ']');
    ombud_jw_end(w, '}');
}

static void sla_json(struct ombud_jw *w, const struct ombud_complaint *c, int64_t now)
{
    if (!c->sla_have[0] && !c->sla_have[1]) {
        ombud_jw_null(w);
        return;
    }
    /* Paused: some target is still unmet and no clock is running (waiting
     * on the customer, or stopped because the complaint was withdrawn). */
    bool unmet = false, running = false;
    for (int i = 0; i < 2; i++) {
        unmet |= c->sla_have[i] && !c->sla[i].met_at;
        running |= c->sla_have[i] && !c->sla[i].met_at && c->sla[i].running_since;
    }
    ombud_jw_begin(w, '{');
    ombud_jw_key(w, "policy_id");
    id_or_null(w, c->sla_policy_id);
    ombud_jw_key(w, "paused");
    ombud_jw_bool(w, unmet && !running);
    static const char *const names[2] = {"first_response", "resolution"};
    for (int i = 0; i < 2; i++) {
        ombud_jw_key(w, names[i]);
        if (c->sla_have[i])
            clock_json(w, &c->sla[i], now);
        else
            ombud_jw_null(w);
    }
    ombud_jw_end(w, '}');
}

/* Whether the database's to_json of the tags is already the compact text
 * jansson would write: no escapes (PostgreSQL writes control characters
 * in lower-case hex, jansson in upper) and no space outside the strings. */
static bool tags_compact(const char *t)
{
    if (t[0] != '[' || strchr(t, '\\'))
        return false;
    bool in_string = false;
    for (; *t; t++) {
        if (*t == '"')
            in_string = !in_string;
        else if (!in_string && (*t == ' ' || *t == '\n' || *t == '\t' || *t == '\r'))
            return false;
    }
    return !in_string;
}

static void tags(struct ombud_jw *w, const char *tags_json)
{
    if (tags_json && tags_compact(tags_json)) {
        ombud_jw_raw(w, w->comma ? "," : "", w->comma);
        ombud_jw_raw(w, tags_json, strlen(tags_json));
        w->comma = true;
        return;
    }
    /* Anything else goes through jansson, which also makes [] of what it
     * cannot read. */
    json_t *j = tags_json ? json_loads(tags_json, 0, NULL) : NULL;
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    ombud_jw_raw(w, w->comma ? "," : "", w->comma);
    if (text)
        ombud_jw_raw(w, text, strlen(text));
    else
        ombud_jw_raw(w, "[]", 2);
    w->comma = true;
    free(text);
}

/* A string member json_pack took with "s": NULL fails the whole object. */
static void required(struct ombud_jw *w, const char *s)
{
    if (!s)
        w->failed = true;
    else
        ombud_jw_str(w, s);
}

static void complaint_json(struct ombud_jw *w, const struct ombud_complaint *c, int64_t now)
{
    char ref[32];
    ombud_repr_reference(c->id, ref, sizeof ref);

    ombud_jw_begin(w, '{');
    ombud_jw_key(w, "id");
    ombud_jw_int(w, c->id);
    ombud_jw_key(w, "reference");
    ombud_jw_str(w, ref);
    ombud_jw_key(w, "title");
    ombud_jw_str(w, c->title ? c->title : "");
    ombud_jw_key(w, "description");
    ombud_jw_str(w, c->description ? c->description : "");
    ombud_jw_key(w, "customer");
    ombud_jw_begin(w, '{');
    ombud_jw_key(w, "name");
    ombud_jw_str(w, c->customer_name ? c->customer_name : "");
    ombud_jw_key(w, "external_id");
    ombud_jw_str(w, c->customer_external_id);
    ombud_jw_key(w, "email");
    ombud_jw_str(w, c->customer_email);
    ombud_jw_key(w, "phone");
    ombud_jw_str(w, c->customer_phone);
    ombud_jw_key(w, "tier");
    required(w, c->customer_tier);
    ombud_jw_end(w, '}');
    ombud_jw_key(w, "channel");
    required(w, c->channel);
    ombud_jw_key(w, "category");
    required(w, c->category);
    ombud_jw_key(w, "grade");
    required(w, c->grade);
    ombud_jw_key(w, "priority");
    required(w, c->priority);
    ombud_jw_key(w, "demand");
    ombud_jw_str(w, c->demand[0] ? c->demand : NULL);
    ombud_jw_key(w, "demand_detail");
    ombud_jw_str(w, c->demand_detail);
    ombud_jw_key(w, "tags");
    tags(w, c->tags_json);
    ombud_jw_key(w, "team_id");
    id_or_null(w, c->team_id);
    ombud_jw_key(w, "assignee_id");
    id_or_null(w, c->assignee_id);
    ombud_jw_key(w, "external_ref");
    ombud_jw_str(w, c->external_ref);
    ombud_jw_key(w, "status");
    required(w, ombud_status_name(c->status));
    ombud_jw_key(w, "escalation_level");
    ombud_jw_int(w, c->escalation_level);
    ombud_jw_key(w, "reopen_count");
    ombud_jw_int(w, c->reopen_count);
    ombud_jw_key(w, "resolution");
    resolution(w, c);
    ombud_jw_key(w, "satisfaction");
    if (c->satisfaction_score) {
        ombud_jw_begin(w, '{');
        ombud_jw_key(w, "score");
        ombud_jw_int(w, c->satisfaction_score);
        ombud_jw_key(w, "comment");
        ombud_jw_str(w, c->satisfaction_comment);
        ombud_jw_key(w, "recorded_at");
        ombud_jw_time(w, c->satisfaction_at);
        ombud_jw_end(w, '}');
    } else {
        ombud_jw_null(w);
    }
    ombud_jw_key(w, "created_at");
    ombud_jw_time(w, c->created_at);
    ombud_jw_key(w, "updated_at");
    ombud_jw_time(w, c->updated_at);
    ombud_jw_key(w, "first_response_at");
    ombud_jw_time(w, c->first_response_at);
    ombud_jw_key(w, "resolved_at");
    ombud_jw_time(w, c->resolved_at);
    ombud_jw_key(w, "closed_at");
    ombud_jw_time(w, c->closed_at);
    ombud_jw_key(w, "version");
    ombud_jw_int(w, c->version);
    ombud_jw_key(w, "sla");
    sla_json(w, c, now);
    ombud_jw_end(w, '}');
}

char *ombud_repr_complaint_text(const struct ombud_complaint *c, int64_t now, size_t *len)
{
    struct ombud_jw w;
    ombud_jw_init(&w, NULL, 0, false);
    ombud_jw_reserve(&w, 2048); /* a typical complaint with its clocks, in one allocation */
    complaint_json(&w, c, now);
    return ombud_jw_steal(&w, len);
}

char *ombud_repr_complaint_page_text(const struct ombud_complaint *items, size_t n,
                                     const char *next_cursor, int64_t now, size_t *len)
{
    struct ombud_jw w;
    ombud_jw_init(&w, NULL, 0, false);
    ombud_jw_reserve(&w, 64 + 1536 * n);
    ombud_jw_begin(&w, '{');
    ombud_jw_key(&w, "items");
    ombud_jw_begin(&w, '[');
    for (size_t i = 0; i < n && !w.failed; i++)
        complaint_json(&w, &items[i], now);
    ombud_jw_end(&w, ']');
    ombud_jw_key(&w, "next_cursor");
    ombud_jw_str(&w, next_cursor);
    ombud_jw_end(&w, '}');
    return ombud_jw_steal(&w, len);
}

json_t *ombud_repr_complaint(const struct ombud_complaint *c, int64_t now)
{
    size_t len;
    char *text = ombud_repr_complaint_text(c, now, &len);
    json_t *o = text ? json_loadb(text, len, 0, NULL) : NULL;
    free(text);
    return o;
}

json_t *ombud_repr_note(const struct ombud_note *n)
{
    return json_pack("{s:I, s:I, s:s, s:s, s:{s:s, s:o}, s:o}", "id", (json_int_t)n->id,
                     "complaint_id", (json_int_t)n->complaint_id, "body", n->body ? n->body : "",
                     "visibility", n->visibility, "author", "role", n->author_role, "agent_id",
                     id_or_null_j(n->author_agent_id), "created_at",
                     ombud_repr_time(n->created_at));
}

/* Who acted (API.md "Life cycle"): a request's key, an escalation rule,
 * or the system (the worker). */
static json_t *event_actor(const struct ombud_event *e)
{
    if (e->actor_rule_id)
        return json_pack("{s:s, s:I}", "type", "rule", "rule_id", (json_int_t)e->actor_rule_id);
    if (!e->actor_role[0] || strcmp(e->actor_role, "system") == 0)
        return json_pack("{s:s}", "type", "system");
    return json_pack("{s:s, s:o, s:s, s:o}", "type", "key", "key_id", id_or_null_j(e->actor_key_id),
                     "role", e->actor_role, "agent_id", id_or_null_j(e->actor_agent_id));
}

json_t *ombud_repr_event(const struct ombud_event *e)
{
    json_t *data = e->data_json ? json_loads(e->data_json, 0, NULL) : NULL;
    return json_pack("{s:I, s:I, s:s, s:o, s:o, s:o}", "id", (json_int_t)e->id, "complaint_id",
                     (json_int_t)e->complaint_id, "kind", e->kind, "actor", event_actor(e), "data",
                     data ? data : json_object(), "created_at", ombud_repr_time(e->created_at));
}

json_t *ombud_repr_category(const struct ombud_category *k)
{
    return json_pack("{s:s, s:s, s:o}", "key", k->key, "name", k->name, "created_at",
                     ombud_repr_time(k->created_at));
}
