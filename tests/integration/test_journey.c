/*
 * The complaint life cycle through the real server: one whole journey
 * (intake by a posting service, handling by an agent, a reopen and a
 * supervisor's forced close) checked entry by entry against its timeline
 * and timestamps; then every action from every state (409 with the exact
 * allowed list where it is not allowed), withdrawal from each open state,
 * transition validation, If-Match, notes and their visibility, customer
 * satisfaction, the role limits, and the append-only timeline.
 */
#include "harness.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server srv;

/* Keys and the ids behind them. */
static char svc_key[96], svc2_key[96], agent_key[96], sup_key[96];
static int64_t svc_key_id, agent_key_id, sup_key_id, admin_key_id;
static int64_t agent_id, sup_agent_id;

#define NSTATES 6
#define NACTIONS 8

static const char *const states[NSTATES] = {
    "new", "acknowledged", "in_progress", "pending_customer", "resolved", "closed"};
static const char *const actions[NACTIONS] = {"acknowledge", "start", "pend",   "resume",
                                              "resolve",     "close", "reopen", "withdraw"};

/* to[state][action]: the state the action leads to, or NULL when refused. */
static const char *const to_state[NSTATES][NACTIONS] = {
    /* new */ {"acknowledged", "in_progress", NULL, NULL, NULL, NULL, NULL, "closed"},
    /* acknowledged */
    {NULL, "in_progress", "pending_customer", NULL, "resolved", NULL, NULL, "closed"},
    /* in_progress */ {NULL, NULL, "pending_customer", NULL, "resolved", NULL, NULL, "closed"},
    /* pending_customer */ {NULL, NULL, NULL, "in_progress", "resolved", NULL, NULL, "closed"},
    /* resolved */ {NULL, NULL, NULL, NULL, NULL, "closed", "in_progress", NULL},
    /* closed */ {NULL, NULL, NULL, NULL, NULL, NULL, "in_progress", NULL},
};

/* ---- helpers ---- */

/* Sends body (stolen; NULL for none) with key and one optional extra header. */
static struct h_resp *call(const char *method, const char *path, const char *key, json_t *body,
                           const char *header)
{
    return h_call_json(&srv, method, path, key, body, header);
}

/* A 422 problem that names field. */
static void make_key(const char *role, int64_t agent, char *out, size_t len, int64_t *id)
{
    json_t *b = json_pack("{s:s, s:s}", "name", role, "role", role);
    if (agent)
        json_object_set_new(b, "agent_id", json_integer(agent));
    struct h_resp *r = call("POST", "/v1/api-keys", srv.admin_key, b, NULL);
    h_expect_status(r, 201);
    snprintf(out, len, "%s", h_jstr(r->json, "key"));
    *id = h_jint(r->json, "id");
    h_resp_free(r);
}

static int64_t create(const char *key, const char *title)
{
    struct h_resp *r = call("POST", "/v1/complaints", key,
                            json_pack("{s:s, s:s, s:{s:s}}", "title", title, "description",
                                      "The washing machine leaks since the repair.", "customer",
                                      "name", "Ada Lovelace"),
                            NULL);
    h_expect_status(r, 201);
    int64_t id = h_jint(r->json, "id");
    h_resp_free(r);
    return id;
}

static struct h_resp *transition(const char *key, int64_t id, json_t *body, const char *header)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/complaints/%lld/transitions", (long long)id);
    return call("POST", path, key, body, header);
}

/* A body for action that satisfies every precondition of its own. */
static json_t *valid_body(const char *action)
{
    if (strcmp(action, "resolve") == 0)
        return json_pack("{s:s, s:{s:s}}", "action", action, "resolution", "summary",
                         "Replaced the door seal.");
    if (strcmp(action, "close") == 0)
        return json_pack("{s:s, s:{s:b}}", "action", action, "resolution", "customer_agreed", 1);
    if (strcmp(action, "withdraw") == 0)
        return json_pack("{s:s, s:s}", "action", action, "note", "The customer withdrew.");
    return json_pack("{s:s}", "action", action);
}

/* Runs action as the agent; asserts 200 and the new status. */
static void act(int64_t id, const char *action, const char *want)
{
    struct h_resp *r = transition(agent_key, id, valid_body(action), NULL);
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "status"), want);
    h_resp_free(r);
}

/* Brings a new complaint into state. */
static void drive(int64_t id, const char *state)
{
    if (strcmp(state, "new") == 0)
        return;
    if (strcmp(state, "acknowledged") == 0) {
        act(id, "acknowledge", "acknowledged");
        return;
    }
    act(id, "start", "in_progress");
    if (strcmp(state, "in_progress") == 0)
        return;
    if (strcmp(state, "pending_customer") == 0) {
        act(id, "pend", "pending_customer");
        return;
    }
    act(id, "resolve", "resolved");
    if (strcmp(state, "resolved") == 0)
        return;
    assert_string_equal(state, "closed");
    act(id, "close", "closed");
}

static json_t *get_complaint(const char *key, int64_t id)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/complaints/%lld", (long long)id);
    struct h_resp *r = call("GET", path, key, NULL, NULL);
    h_expect_status(r, 200);
    json_t *c = json_incref(r->json);
    h_resp_free(r);
    return c;
}

/* Every item of a list, following next_cursor with pages of limit. */
static json_t *list_all(const char *key, int64_t id, const char *what, int limit)
{
    json_t *all = json_array();
    char path[512], cursor[256] = "";
    for (int page = 0; page < 100; page++) {
        snprintf(path, sizeof path, "/v1/complaints/%lld/%s?limit=%d%s%s", (long long)id, what,
                 limit, cursor[0] ? "&cursor=" : "", cursor);
        struct h_resp *r = call("GET", path, key, NULL, NULL);
        h_expect_status(r, 200);
        json_t *items = json_object_get(r->json, "items");
        assert_true(json_is_array(items));
        assert_true(json_array_size(items) <= (size_t)limit);
        json_array_extend(all, items);
        json_t *next = json_object_get(r->json, "next_cursor");
        assert_true(json_is_null(next) || json_is_string(next));
        if (json_is_null(next)) {
            h_resp_free(r);
            return all;
        }
        assert_int_equal(json_array_size(items), limit);
        snprintf(cursor, sizeof cursor, "%s", json_string_value(next));
        h_resp_free(r);
    }
    fail_msg("list did not end");
    return all;
}

static json_t *events(int64_t id)
{
    return list_all(agent_key, id, "events", 200);
}

/* One SQL value as text (NULL for SQL NULL); caller frees. */
static void expect_etag(const struct h_resp *r, int64_t version)
{
    char etag[64], want[64];
    snprintf(want, sizeof want, "\"v%lld\"", (long long)version);
    assert_non_null(h_header(r, "ETag", etag, sizeof etag));
    assert_string_equal(etag, want);
    assert_int_equal(h_jint(r->json, "version"), version);
}

static void expect_actor(const json_t *ev, const char *role, int64_t key_id, int64_t agent)
{
    json_t *a = json_object_get(ev, "actor");
    assert_true(json_is_object(a));
    assert_string_equal(h_jstr(a, "role"), role);
    assert_int_equal(h_jint(a, "key_id"), key_id);
    if (agent)
        assert_int_equal(h_jint(a, "agent_id"), agent);
    else
        assert_true(h_jnull(a, "agent_id"));
}

static void expect_change(const json_t *ev, const char *action, const char *from, const char *to)
{
    json_t *d = json_object_get(ev, "data");
    assert_string_equal(h_jstr(ev, "kind"), "status_changed");
    assert_string_equal(h_jstr(d, "action"), action);
    assert_string_equal(h_jstr(d, "from"), from);
    assert_string_equal(h_jstr(d, "to"), to);
}

/* The allowed_actions array of a 409 as one comma-separated string. */
static void allowed_of(const struct h_resp *r, char *out, size_t len)
{
    json_t *arr = json_object_get(r->json, "allowed_actions");
    size_t i, used = 0;
    json_t *v;
    out[0] = '\0';
    assert_true(json_is_array(arr));
    json_array_foreach (arr, i, v) {
        assert_true(json_is_string(v));
        used +=
            (size_t)snprintf(out + used, len - used, "%s%s", i ? "," : "", json_string_value(v));
        assert_true(used < len);
    }
}

static int state_index(const char *s)
{
    for (int i = 0; i < NSTATES; i++)
        if (strcmp(states[i], s) == 0)
            return i;
    fail_msg("unknown state %s", s);
    return -1;
}

static void allowed_from(const char *state, char *out, size_t len)
{
    int s = state_index(state);
    size_t used = 0;
    out[0] = '\0';
    for (int a = 0; a < NACTIONS; a++)
        if (to_state[s][a])
            used += (size_t)snprintf(out + used, len - used, "%s%s", used ? "," : "", actions[a]);
}

/* ---- setup ---- */

static int setup(void **state)
{
    h_server_start(&srv, NULL);
    agent_id = h_make_agent(&srv, "Alice Agent", "agent", 0);
    sup_agent_id = h_make_agent(&srv, "Sam Supervisor", "supervisor", 0);
    make_key("service", 0, svc_key, sizeof svc_key, &svc_key_id);
    int64_t ignored;
    make_key("service", 0, svc2_key, sizeof svc2_key, &ignored);
    make_key("agent", agent_id, agent_key, sizeof agent_key, &agent_key_id);
    make_key("supervisor", sup_agent_id, sup_key, sizeof sup_key, &sup_key_id);
    json_t *rows = h_sql(&srv, "SELECT min(id) FROM api_keys WHERE role = 'admin'");
    admin_key_id = strtoll(json_string_value(json_array_get(json_array_get(rows, 0), 0)), NULL, 10);
    json_decref(rows);
    return 0;
}

static int teardown(void **state)
{
    h_server_stop(&srv, true);
    return 0;
}

/* ---- the journey ---- */

static void full_journey(void **state)
{
    char path[128];
    struct h_resp *r;
    int64_t version;

    /* Intake by a posting service. */
    r = call("POST", "/v1/complaints", svc_key,
             json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:s}", "title", "Leaking washing machine",
                       "description", "Water on the floor after every wash.", "customer", "name",
                       "Grace Hopper", "external_id", "C-1001", "channel", "web", "demand",
                       "repair"),
             NULL);
    h_expect_status(r, 201);
    int64_t id = h_jint(r->json, "id");
    char ref[32];
    snprintf(ref, sizeof ref, "CMP-%06lld", (long long)id);
    assert_string_equal(h_jstr(r->json, "reference"), ref);
    assert_string_equal(h_jstr(r->json, "status"), "new");
    assert_int_equal(h_jint(r->json, "reopen_count"), 0);
    assert_true(h_jnull(r->json, "first_response_at"));
    assert_true(h_jnull(r->json, "resolved_at"));
    assert_true(h_jnull(r->json, "closed_at"));
    assert_true(h_jnull(r->json, "resolution"));
    assert_true(h_jnull(r->json, "satisfaction"));
    expect_etag(r, 1);
    char created_at[64];
    snprintf(created_at, sizeof created_at, "%s", h_jstr(r->json, "created_at"));
    h_resp_free(r);
    version = 1;

    /* The agent acknowledges: the first response. */
    r = transition(agent_key, id, json_pack("{s:s}", "action", "acknowledge"), NULL);
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "status"), "acknowledged");
    expect_etag(r, ++version);
    assert_non_null(h_jstr(r->json, "first_response_at"));
    assert_true(strcmp(h_jstr(r->json, "first_response_at"), created_at) >= 0);
    char first_response[64];
    snprintf(first_response, sizeof first_response, "%s", h_jstr(r->json, "first_response_at"));
    h_resp_free(r);
    char *fr_usec = h_sql_value(
        &srv, "SELECT ombud_usec(first_response_at)::text FROM complaints WHERE id = %lld",
        (long long)id);
    assert_non_null(fr_usec);

    /* A public note from the agent. */
    snprintf(path, sizeof path, "/v1/complaints/%lld/notes", (long long)id);
    r = call(
        "POST", path, agent_key,
        json_pack("{s:s, s:s}", "body", "A technician comes on Monday.", "visibility", "public"),
        NULL);
    h_expect_status(r, 201);
    int64_t note_id = h_jint(r->json, "id");
    assert_int_equal(h_jint(r->json, "complaint_id"), id);
    assert_string_equal(h_jstr(r->json, "visibility"), "public");
    assert_string_equal(h_jstr(r->json, "body"), "A technician comes on Monday.");
    assert_string_equal(h_jstr(json_object_get(r->json, "author"), "role"), "agent");
    assert_int_equal(h_jint(json_object_get(r->json, "author"), "agent_id"), agent_id);
    assert_non_null(h_jstr(r->json, "created_at"));
    h_resp_free(r);
    json_t *c = get_complaint(agent_key, id);
    assert_string_equal(h_jstr(c, "first_response_at"), first_response);
    assert_int_equal(h_jint(c, "version"), version);
    json_decref(c);

    /* Waiting on the customer, and back. */
    r = transition(agent_key, id, json_pack("{s:s}", "action", "pend"), NULL);
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "status"), "pending_customer");
    expect_etag(r, ++version);
    h_resp_free(r);
    r = transition(agent_key, id, json_pack("{s:s}", "action", "resume"), NULL);
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "status"), "in_progress");
    expect_etag(r, ++version);
    h_resp_free(r);

    /* Resolved with compensation. */
    r = transition(agent_key, id,
                   json_pack("{s:s, s:{s:s, s:{s:f, s:s}}}", "action", "resolve", "resolution",
                             "summary", "Replaced the pump; refunded the call-out fee.",
                             "compensation", "amount", 25.5, "currency", "EUR"),
                   NULL);
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "status"), "resolved");
    expect_etag(r, ++version);
    json_t *res = json_object_get(r->json, "resolution");
    assert_string_equal(h_jstr(res, "summary"), "Replaced the pump; refunded the call-out fee.");
    json_t *comp = json_object_get(res, "compensation");
    /* Sent as the number 25.5, kept and shown as the exact decimal string. */
    assert_string_equal(h_jstr(comp, "amount"), "25.50");
    assert_string_equal(h_jstr(comp, "currency"), "EUR");
    assert_true(h_jnull(res, "customer_agreed"));
    assert_non_null(h_jstr(r->json, "resolved_at"));
    assert_true(h_jnull(r->json, "closed_at"));
    assert_string_equal(h_jstr(r->json, "first_response_at"), first_response);
    char resolved_at[64];
    snprintf(resolved_at, sizeof resolved_at, "%s", h_jstr(r->json, "resolved_at"));
    h_resp_free(r);
    char *amount = h_sql_value(
        &srv, "SELECT compensation_amount::text FROM complaints WHERE id = %lld", (long long)id);
    assert_string_equal(amount, "25.50");
    free(amount);

    /* The customer's satisfaction, through the posting service. */
    snprintf(path, sizeof path, "/v1/complaints/%lld/satisfaction", (long long)id);
    r = call("POST", path, svc_key, json_pack("{s:i, s:s}", "score", 4, "comment", "Quick fix."),
             NULL);
    h_expect_status(r, 201);
    json_t *sat = json_object_get(r->json, "satisfaction");
    assert_int_equal(h_jint(sat, "score"), 4);
    assert_string_equal(h_jstr(sat, "comment"), "Quick fix.");
    assert_non_null(h_jstr(sat, "recorded_at"));
    assert_string_equal(h_jstr(r->json, "status"), "resolved");
    expect_etag(r, ++version);
    h_resp_free(r);

    /* Close needs the customer's agreement. */
    r = transition(agent_key, id, json_pack("{s:s}", "action", "close"), NULL);
    h_expect_invalid(r, "resolution.customer_agreed");
    h_resp_free(r);
    r = transition(
        agent_key, id,
        json_pack("{s:s, s:{s:b}}", "action", "close", "resolution", "customer_agreed", 0), NULL);
    h_expect_invalid(r, "resolution.customer_agreed");
    h_resp_free(r);
    r = transition(
        agent_key, id,
        json_pack("{s:s, s:{s:b}}", "action", "close", "resolution", "customer_agreed", 1), NULL);
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "status"), "closed");
    expect_etag(r, ++version);
    assert_true(
        json_is_true(json_object_get(json_object_get(r->json, "resolution"), "customer_agreed")));
    assert_non_null(h_jstr(r->json, "closed_at"));
    assert_string_equal(h_jstr(r->json, "resolved_at"), resolved_at);
    h_resp_free(r);

    /* Reopened: a new cycle. */
    r = transition(agent_key, id, json_pack("{s:s}", "action", "reopen"), NULL);
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "status"), "in_progress");
    expect_etag(r, ++version);
    assert_int_equal(h_jint(r->json, "reopen_count"), 1);
    assert_true(h_jnull(r->json, "resolved_at"));
    assert_true(h_jnull(r->json, "closed_at"));
    res = json_object_get(r->json, "resolution");
    assert_true(json_is_null(res) || h_jnull(res, "customer_agreed"));
    assert_string_equal(h_jstr(r->json, "first_response_at"), first_response);
    h_resp_free(r);

    r = transition(agent_key, id,
                   json_pack("{s:s, s:{s:s}}", "action", "resolve", "resolution", "summary",
                             "Second visit: new hose fitted."),
                   NULL);
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "status"), "resolved");
    expect_etag(r, ++version);
    assert_non_null(h_jstr(r->json, "resolved_at"));
    assert_string_equal(h_jstr(json_object_get(r->json, "resolution"), "summary"),
                        "Second visit: new hose fitted.");
    assert_true(h_jnull(json_object_get(r->json, "resolution"), "compensation"));
    assert_true(h_jnull(json_object_get(r->json, "resolution"), "customer_agreed"));
    h_resp_free(r);

    /* The agreement of the first cycle no longer counts; an agent may not force. */
    r = transition(agent_key, id, json_pack("{s:s}", "action", "close"), NULL);
    h_expect_invalid(r, "resolution.customer_agreed");
    h_resp_free(r);
    r = transition(agent_key, id, json_pack("{s:s, s:b}", "action", "close", "force", 1), NULL);
    h_expect_problem(r, 403);
    h_resp_free(r);

    /* The supervisor forces the close. */
    r = transition(sup_key, id, json_pack("{s:s, s:b}", "action", "close", "force", 1), NULL);
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "status"), "closed");
    expect_etag(r, ++version);
    assert_non_null(h_jstr(r->json, "closed_at"));
    assert_non_null(h_jstr(r->json, "resolved_at"));
    assert_true(strcmp(h_jstr(r->json, "closed_at"), h_jstr(r->json, "resolved_at")) >= 0);
    assert_int_equal(h_jint(r->json, "reopen_count"), 1);
    assert_string_equal(h_jstr(r->json, "first_response_at"), first_response);
    /* Satisfaction from the first cycle stays. */
    assert_int_equal(h_jint(json_object_get(r->json, "satisfaction"), "score"), 4);
    h_resp_free(r);

    /* first_response_at was set once, to the microsecond. */
    char *fr_now = h_sql_value(
        &srv, "SELECT ombud_usec(first_response_at)::text FROM complaints WHERE id = %lld",
        (long long)id);
    assert_string_equal(fr_now, fr_usec);
    free(fr_now);
    free(fr_usec);

    /* The timeline, entry by entry. */
    json_t *evs = events(id);
    static const struct {
        const char *kind, *role, *action, *from, *to;
    } want[] = {
        {"created", "service", NULL, NULL, NULL},
        {"status_changed", "agent", "acknowledge", "new", "acknowledged"},
        {"note_added", "agent", NULL, NULL, NULL},
        {"sla_paused", "agent", NULL, NULL, NULL},
        {"status_changed", "agent", "pend", "acknowledged", "pending_customer"},
        {"sla_resumed", "agent", NULL, NULL, NULL},
        {"status_changed", "agent", "resume", "pending_customer", "in_progress"},
        {"status_changed", "agent", "resolve", "in_progress", "resolved"},
        {"satisfaction_recorded", "service", NULL, NULL, NULL},
        {"status_changed", "agent", "close", "resolved", "closed"},
        {"status_changed", "agent", "reopen", "closed", "in_progress"},
        {"status_changed", "agent", "resolve", "in_progress", "resolved"},
        {"status_changed", "supervisor", "close", "resolved", "closed"},
    };
    size_t n = sizeof want / sizeof want[0];
    if (json_array_size(evs) != n) {
        char *dump = json_dumps(evs, JSON_INDENT(1));
        fprintf(stderr, "timeline: %s\n", dump);
        free(dump);
    }
    assert_int_equal(json_array_size(evs), n);
    int64_t last_id = 0;
    const char *last_at = created_at;
    for (size_t i = 0; i < n; i++) {
        json_t *ev = json_array_get(evs, i);
        json_t *d = json_object_get(ev, "data");
        assert_string_equal(h_jstr(ev, "kind"), want[i].kind);
        assert_int_equal(h_jint(ev, "complaint_id"), id);
        assert_true(h_jint(ev, "id") > last_id);
        last_id = h_jint(ev, "id");
        assert_non_null(h_jstr(ev, "created_at"));
        assert_true(strcmp(h_jstr(ev, "created_at"), last_at) >= 0);
        last_at = h_jstr(ev, "created_at");
        assert_true(json_is_object(d));
        if (strcmp(want[i].role, "service") == 0)
            expect_actor(ev, "service", svc_key_id, 0);
        else if (strcmp(want[i].role, "agent") == 0)
            expect_actor(ev, "agent", agent_key_id, agent_id);
        else
            expect_actor(ev, "supervisor", sup_key_id, sup_agent_id);
        if (want[i].action) {
            expect_change(ev, want[i].action, want[i].from, want[i].to);
            assert_null(json_object_get(d, "note_id"));
        }
    }
    json_t *d = json_object_get(json_array_get(evs, 0), "data");
    assert_string_equal(h_jstr(d, "reference"), ref);
    assert_string_equal(h_jstr(d, "channel"), "web");
    d = json_object_get(json_array_get(evs, 2), "data");
    assert_int_equal(h_jint(d, "note_id"), note_id);
    assert_string_equal(h_jstr(d, "visibility"), "public");
    d = json_object_get(json_array_get(evs, 7), "data");
    assert_string_equal(h_jstr(json_object_get(d, "resolution"), "summary"),
                        "Replaced the pump; refunded the call-out fee.");
    d = json_object_get(json_array_get(evs, 8), "data");
    assert_int_equal(h_jint(d, "score"), 4);
    d = json_object_get(json_array_get(evs, 10), "data");
    assert_int_equal(h_jint(d, "reopen_count"), 1);
    d = json_object_get(json_array_get(evs, 12), "data");
    assert_true(json_is_true(json_object_get(d, "forced")));
    /* Only the forced close says so. */
    d = json_object_get(json_array_get(evs, 9), "data");
    assert_null(json_object_get(d, "forced"));
    json_decref(evs);

    /* The same timeline, a page of three at a time. */
    json_t *paged = list_all(agent_key, id, "events", 3);
    json_t *whole = events(id);
    assert_true(json_equal(paged, whole));
    json_decref(paged);
    json_decref(whole);

    /* The complaint as it ends. */
    c = get_complaint(svc_key, id);
    assert_string_equal(h_jstr(c, "status"), "closed");
    assert_int_equal(h_jint(c, "version"), version);
    assert_int_equal(version, 10);
    assert_int_equal(h_jint(c, "reopen_count"), 1);
    assert_string_equal(h_jstr(c, "created_at"), created_at);
    assert_true(strcmp(h_jstr(c, "updated_at"), created_at) >= 0);
    json_decref(c);
}

/* ---- every action from every state ---- */

static void every_action_from_every_state(void **state)
{
    char want[256], got[256];
    for (int s = 0; s < NSTATES; s++) {
        /* The refused ones, all on one complaint: nothing changes. */
        int64_t id = create(svc_key, "Refusals");
        drive(id, states[s]);
        json_t *before = get_complaint(agent_key, id);
        json_t *evs_before = events(id);
        allowed_from(states[s], want, sizeof want);
        for (int a = 0; a < NACTIONS; a++) {
            if (to_state[s][a])
                continue;
            struct h_resp *r = transition(agent_key, id, valid_body(actions[a]), NULL);
            if (r->status != 409)
                fprintf(stderr, "%s from %s\n", actions[a], states[s]);
            h_expect_problem(r, 409);
            assert_string_equal(h_jstr(r->json, "type"), "/problems/transition-not-allowed");
            assert_non_null(strstr(h_jstr(r->json, "detail"), actions[a]));
            assert_non_null(strstr(h_jstr(r->json, "detail"), states[s]));
            allowed_of(r, got, sizeof got);
            assert_string_equal(got, want);
            h_resp_free(r);
        }
        /* A supervisor forcing a close is refused the same way. */
        if (strcmp(states[s], "resolved") != 0) {
            struct h_resp *r = transition(
                sup_key, id, json_pack("{s:s, s:b}", "action", "close", "force", 1), NULL);
            h_expect_problem(r, 409);
            allowed_of(r, got, sizeof got);
            assert_string_equal(got, want);
            h_resp_free(r);
        }
        json_t *after = get_complaint(agent_key, id);
        /* The SLA view moves with the clock (remaining_seconds); the record does not. */
        json_object_del(before, "sla");
        json_object_del(after, "sla");
        assert_true(json_equal(before, after));
        json_t *evs_after = events(id);
        assert_int_equal(json_array_size(evs_after), json_array_size(evs_before));
        json_decref(before);
        json_decref(after);
        json_decref(evs_before);
        json_decref(evs_after);

        /* The allowed ones, each on a complaint of its own. */
        for (int a = 0; a < NACTIONS; a++) {
            if (!to_state[s][a])
                continue;
            id = create(svc_key, "Allowed");
            drive(id, states[s]);
            json_t *c = get_complaint(agent_key, id);
            int64_t version = h_jint(c, "version");
            json_decref(c);
            struct h_resp *r = transition(agent_key, id, valid_body(actions[a]), NULL);
            if (r->status != 200)
                fprintf(stderr, "%s from %s: %ld %s\n", actions[a], states[s], r->status, r->body);
            assert_int_equal(r->status, 200);
            assert_string_equal(h_jstr(r->json, "status"), to_state[s][a]);
            expect_etag(r, version + 1);
            h_resp_free(r);
            json_t *evs = events(id);
            json_t *last = json_array_get(evs, json_array_size(evs) - 1);
            expect_change(last, actions[a], states[s], to_state[s][a]);
            expect_actor(last, "agent", agent_key_id, agent_id);
            json_decref(evs);
        }
    }
}

static void first_response_by_action(void **state)
{
    /* acknowledge and start answer first; withdraw does not; later actions
     * (pend, resolve) leave the first answer's time alone. */
    int64_t id = create(svc_key, "Withdrawn at once");
    act(id, "withdraw", "closed");
    json_t *c = get_complaint(agent_key, id);
    assert_true(h_jnull(c, "first_response_at"));
    assert_non_null(h_jstr(c, "closed_at"));
    assert_true(h_jnull(c, "resolved_at"));
    json_decref(c);

    id = create(svc_key, "Started");
    act(id, "start", "in_progress");
    c = get_complaint(agent_key, id);
    assert_non_null(h_jstr(c, "first_response_at"));
    json_decref(c);

    /* Pend and resolve after acknowledge keep the acknowledge time. */
    id = create(svc_key, "Acknowledged then resolved");
    act(id, "acknowledge", "acknowledged");
    char *fr = h_sql_value(
        &srv, "SELECT ombud_usec(first_response_at)::text FROM complaints WHERE id = %lld",
        (long long)id);
    act(id, "pend", "pending_customer");
    act(id, "resolve", "resolved");
    char *fr2 = h_sql_value(
        &srv, "SELECT ombud_usec(first_response_at)::text FROM complaints WHERE id = %lld",
        (long long)id);
    assert_string_equal(fr, fr2);
    free(fr);
    free(fr2);

    /* Every state resolve is allowed from is reached by acknowledge or
     * start, so resolve never is the first response itself here. */
    c = get_complaint(agent_key, id);
    assert_true(strcmp(h_jstr(c, "resolved_at"), h_jstr(c, "first_response_at")) >= 0);
    json_decref(c);
}

/* ---- withdraw ---- */

static void withdraw_from_each_open_state(void **state)
{
    static const char *const open_states[] = {"new", "acknowledged", "in_progress",
                                              "pending_customer"};
    char note[128];
    for (size_t i = 0; i < sizeof open_states / sizeof open_states[0]; i++) {
        int64_t id = create(svc_key, "To be withdrawn");
        drive(id, open_states[i]);
        json_t *before = get_complaint(agent_key, id);

        /* A note is required (and null is no note). */
        struct h_resp *r =
            transition(agent_key, id, json_pack("{s:s}", "action", "withdraw"), NULL);
        h_expect_invalid(r, "note");
        h_resp_free(r);
        r = transition(agent_key, id, json_pack("{s:s, s:n}", "action", "withdraw", "note"), NULL);
        h_expect_invalid(r, "note");
        h_resp_free(r);
        r = transition(agent_key, id, json_pack("{s:s, s:s}", "action", "withdraw", "note", ""),
                       NULL);
        h_expect_invalid(r, "note");
        h_resp_free(r);

        snprintf(note, sizeof note, "Customer withdrew while %s.", open_states[i]);
        r = transition(agent_key, id, json_pack("{s:s, s:s}", "action", "withdraw", "note", note),
                       NULL);
        h_expect_status(r, 200);
        assert_string_equal(h_jstr(r->json, "status"), "closed");
        expect_etag(r, h_jint(before, "version") + 1);
        assert_non_null(h_jstr(r->json, "closed_at"));
        assert_true(h_jnull(r->json, "resolved_at"));
        assert_true(json_equal(json_object_get(r->json, "first_response_at"),
                               json_object_get(before, "first_response_at")));
        h_resp_free(r);
        json_decref(before);

        /* The note is stored as an internal note... */
        json_t *notes = list_all(agent_key, id, "notes", 50);
        assert_int_equal(json_array_size(notes), 1);
        json_t *n = json_array_get(notes, 0);
        assert_string_equal(h_jstr(n, "body"), note);
        assert_string_equal(h_jstr(n, "visibility"), "internal");
        assert_string_equal(h_jstr(json_object_get(n, "author"), "role"), "agent");
        int64_t note_id = h_jint(n, "id");
        json_decref(notes);
        /* ...that the posting service does not see. */
        notes = list_all(svc_key, id, "notes", 50);
        assert_int_equal(json_array_size(notes), 0);
        json_decref(notes);

        /* note_added, then status_changed naming it. */
        json_t *evs = events(id);
        size_t k = json_array_size(evs);
        assert_true(k >= 3);
        json_t *ev = json_array_get(evs, k - 2);
        assert_string_equal(h_jstr(ev, "kind"), "note_added");
        assert_int_equal(h_jint(json_object_get(ev, "data"), "note_id"), note_id);
        assert_string_equal(h_jstr(json_object_get(ev, "data"), "visibility"), "internal");
        expect_actor(ev, "agent", agent_key_id, agent_id);
        ev = json_array_get(evs, k - 1);
        expect_change(ev, "withdraw", open_states[i], "closed");
        assert_int_equal(h_jint(json_object_get(ev, "data"), "note_id"), note_id);
        json_decref(evs);

        r = transition(agent_key, id, valid_body("withdraw"), NULL);
        h_expect_problem(r, 409);
        h_resp_free(r);
    }
}

/* ---- validation of the transition body ---- */

static void transition_validation(void **state)
{
    int64_t id = create(svc_key, "Validation");
    act(id, "start", "in_progress");
    json_t *before = get_complaint(agent_key, id);
    struct {
        json_t *body;
        const char *field;
    } cases[] = {
        {json_pack("{s:s}", "action", "explode"), "action"},
        {json_pack("{s:s}", "action", "Acknowledge"), "action"},
        {json_pack("{s:i}", "action", 1), "action"},
        {json_pack("{s:n}", "action"), "action"},
        {json_pack("{}"), "action"},
        {json_pack("{s:s}", "note", "no action"), "action"},
        {json_pack("{s:s}", "action", "resolve"), "resolution.summary"},
        {json_pack("{s:s, s:{}}", "action", "resolve", "resolution"), "resolution.summary"},
        {json_pack("{s:s, s:{s:s}}", "action", "resolve", "resolution", "summary", ""),
         "resolution.summary"},
        {json_pack("{s:s, s:{s:i}}", "action", "resolve", "resolution", "summary", 5),
         "resolution.summary"},
        {json_pack("{s:s, s:{s:s, s:s}}", "action", "resolve", "resolution", "summary", "ok", "why",
                   "x"),
         "resolution.why"},
        {json_pack("{s:s, s:{s:s, s:{s:f, s:s}}}", "action", "resolve", "resolution", "summary",
                   "ok", "compensation", "amount", 25.555, "currency", "EUR"),
         "resolution.compensation.amount"},
        {json_pack("{s:s, s:{s:s, s:{s:f, s:s}}}", "action", "resolve", "resolution", "summary",
                   "ok", "compensation", "amount", -1.0, "currency", "EUR"),
         "resolution.compensation.amount"},
        {json_pack("{s:s, s:{s:s, s:{s:s, s:s}}}", "action", "resolve", "resolution", "summary",
                   "ok", "compensation", "amount", "25.505", "currency", "EUR"),
         "resolution.compensation.amount"},
        {json_pack("{s:s, s:{s:s, s:{s:s}}}", "action", "resolve", "resolution", "summary", "ok",
                   "compensation", "currency", "EUR"),
         "resolution.compensation.amount"},
        {json_pack("{s:s, s:{s:s, s:{s:i, s:s}}}", "action", "resolve", "resolution", "summary",
                   "ok", "compensation", "amount", 10, "currency", "eur"),
         "resolution.compensation.currency"},
        {json_pack("{s:s, s:{s:s, s:{s:i, s:s}}}", "action", "resolve", "resolution", "summary",
                   "ok", "compensation", "amount", 10, "currency", "EURO"),
         "resolution.compensation.currency"},
        {json_pack("{s:s, s:{s:s, s:{s:i}}}", "action", "resolve", "resolution", "summary", "ok",
                   "compensation", "amount", 10),
         "resolution.compensation.currency"},
        {json_pack("{s:s, s:{s:s, s:s}}", "action", "resolve", "resolution", "summary", "ok",
                   "customer_agreed", "yes"),
         "resolution.customer_agreed"},
        {json_pack("{s:s, s:s}", "action", "resolve", "resolution", "summary"), "resolution"},
        /* resolution belongs to resolve and close only; force to close only. */
        {json_pack("{s:s, s:{s:s}}", "action", "pend", "resolution", "summary", "x"), "resolution"},
        {json_pack("{s:s, s:{s:b}}", "action", "withdraw", "resolution", "customer_agreed", 1),
         "resolution"},
        {json_pack("{s:s, s:{s:s}}", "action", "close", "resolution", "summary", "x"),
         "resolution"},
        {json_pack("{s:s, s:b}", "action", "pend", "force", 1), "force"},
        {json_pack("{s:s, s:{s:s}, s:b}", "action", "resolve", "resolution", "summary", "x",
                   "force", 1),
         "force"},
        {json_pack("{s:s, s:s}", "action", "close", "force", "yes"), "force"},
        {json_pack("{s:s, s:i}", "action", "pend", "note", 3), "note"},
        {json_pack("{s:s, s:s}", "action", "pend", "note", ""), "note"},
        {json_pack("{s:s, s:b}", "action", "pend", "urgent", 1), "urgent"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_non_null(cases[i].body);
        struct h_resp *r = transition(agent_key, id, cases[i].body, NULL);
        if (r->status != 422 || !h_problem_has_field(r, cases[i].field))
            fprintf(stderr, "case %zu (%s)\n", i, cases[i].field);
        h_expect_invalid(r, cases[i].field);
        h_resp_free(r);
    }
    /* A force by an agent is refused by role once the body is valid. */
    struct h_resp *r =
        transition(agent_key, id, json_pack("{s:s, s:b}", "action", "close", "force", 1), NULL);
    h_expect_problem(r, 403);
    h_resp_free(r);
    /* force: false is no force at all: no role check, the state decides. */
    r = transition(agent_key, id, json_pack("{s:s, s:b}", "action", "close", "force", 0), NULL);
    h_expect_problem(r, 409);
    h_resp_free(r);

    json_t *after = get_complaint(agent_key, id);
    json_object_del(before, "sla");
    json_object_del(after, "sla");
    assert_true(json_equal(before, after));
    json_decref(before);
    json_decref(after);

    /* Not JSON, not an object, wrong content type. */
    char path[96];
    snprintf(path, sizeof path, "/v1/complaints/%lld/transitions", (long long)id);
    r = h_req(&srv, "POST", path, &(struct h_opts){.key = agent_key, .body = "{\"action\":"});
    h_expect_problem(r, 400);
    h_resp_free(r);
    r = h_req(&srv, "POST", path, &(struct h_opts){.key = agent_key, .body = "[\"pend\"]"});
    h_expect_problem(r, 400);
    h_resp_free(r);
    r = h_req(&srv, "POST", path,
              &(struct h_opts){
                  .key = agent_key, .body = "{\"action\":\"pend\"}", .content_type = "text/plain"});
    h_expect_problem(r, 415);
    h_resp_free(r);

    /* Unknown complaint. */
    r = transition(agent_key, 99999999, json_pack("{s:s}", "action", "pend"), NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);

    /* Compensation of zero is fine; the amount has the currency's two decimals. */
    r = transition(agent_key, id,
                   json_pack("{s:s, s:{s:s, s:{s:i, s:s}, s:b}}", "action", "resolve", "resolution",
                             "summary", "Goodwill gesture.", "compensation", "amount", 0,
                             "currency", "GBP", "customer_agreed", 1),
                   NULL);
    h_expect_status(r, 200);
    json_t *res = json_object_get(r->json, "resolution");
    assert_string_equal(h_jstr(json_object_get(res, "compensation"), "amount"), "0.00");
    assert_string_equal(h_jstr(json_object_get(res, "compensation"), "currency"), "GBP");
    assert_true(json_is_true(json_object_get(res, "customer_agreed")));
    h_resp_free(r);
    /* Agreement given at resolve lets the close go through without more. */
    r = transition(agent_key, id, json_pack("{s:s}", "action", "close"), NULL);
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "status"), "closed");
    h_resp_free(r);

    /* A transition's note on any action is an internal note. */
    id = create(svc_key, "Noted transition");
    r = transition(agent_key, id,
                   json_pack("{s:s, s:s}", "action", "acknowledge", "note", "Called back."), NULL);
    h_expect_status(r, 200);
    h_resp_free(r);
    json_t *notes = list_all(agent_key, id, "notes", 50);
    assert_int_equal(json_array_size(notes), 1);
    assert_string_equal(h_jstr(json_array_get(notes, 0), "visibility"), "internal");
    assert_string_equal(h_jstr(json_array_get(notes, 0), "body"), "Called back.");
    json_decref(notes);
}

static void if_match_on_transitions(void **state)
{
    int64_t id = create(svc_key, "If-Match");
    struct h_resp *r =
        transition(agent_key, id, json_pack("{s:s}", "action", "acknowledge"), "If-Match: \"v2\"");
    h_expect_problem(r, 412);
    h_resp_free(r);
    r = transition(agent_key, id, json_pack("{s:s}", "action", "acknowledge"), "If-Match: \"v0\"");
    h_expect_problem(r, 412);
    h_resp_free(r);
    json_t *c = get_complaint(agent_key, id);
    assert_string_equal(h_jstr(c, "status"), "new");
    assert_int_equal(h_jint(c, "version"), 1);
    json_decref(c);

    r = transition(agent_key, id, json_pack("{s:s}", "action", "acknowledge"), "If-Match: \"v1\"");
    h_expect_status(r, 200);
    expect_etag(r, 2);
    h_resp_free(r);
    /* The old tag is stale now. */
    r = transition(agent_key, id, json_pack("{s:s}", "action", "start"), "If-Match: \"v1\"");
    h_expect_problem(r, 412);
    h_resp_free(r);
    /* A list containing the current tag, a weak tag, and * all match. */
    r = transition(agent_key, id, json_pack("{s:s}", "action", "start"),
                   "If-Match: \"v1\", \"v2\"");
    h_expect_status(r, 200);
    expect_etag(r, 3);
    h_resp_free(r);
    r = transition(agent_key, id, json_pack("{s:s}", "action", "pend"), "If-Match: W/\"v3\"");
    h_expect_status(r, 200);
    expect_etag(r, 4);
    h_resp_free(r);
    r = transition(agent_key, id, json_pack("{s:s}", "action", "resume"), "If-Match: *");
    h_expect_status(r, 200);
    expect_etag(r, 5);
    h_resp_free(r);
    /* A stale tag wins over a refused action: the client must re-read first. */
    r = transition(agent_key, id, json_pack("{s:s}", "action", "acknowledge"), "If-Match: \"v4\"");
    h_expect_problem(r, 412);
    h_resp_free(r);

    /* PATCH honours it the same way. */
    char path[64];
    snprintf(path, sizeof path, "/v1/complaints/%lld", (long long)id);
    r = call("PATCH", path, agent_key, json_pack("{s:s}", "title", "Renamed"), "If-Match: \"v4\"");
    h_expect_problem(r, 412);
    h_resp_free(r);
    r = call("PATCH", path, agent_key, json_pack("{s:s}", "title", "Renamed"), "If-Match: \"v5\"");
    h_expect_status(r, 200);
    expect_etag(r, 6);
    h_resp_free(r);
    /* GET carries the same tag. */
    r = call("GET", path, agent_key, NULL, NULL);
    h_expect_status(r, 200);
    expect_etag(r, 6);
    h_resp_free(r);
}

/* ---- notes ---- */

static void notes_and_visibility(void **state)
{
    char path[128];
    int64_t id = create(svc_key, "Notes");
    snprintf(path, sizeof path, "/v1/complaints/%lld/notes", (long long)id);

    /* Another service neither sees nor writes on it. */
    struct h_resp *r = call("POST", path, svc2_key, json_pack("{s:s}", "body", "hi"), NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);
    r = call("GET", path, svc2_key, NULL, NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);

    /* The service's note is public by default and is no first response. */
    r = call("POST", path, svc_key, json_pack("{s:s}", "body", "Any news?"), NULL);
    h_expect_status(r, 201);
    assert_string_equal(h_jstr(r->json, "visibility"), "public");
    assert_string_equal(h_jstr(json_object_get(r->json, "author"), "role"), "service");
    assert_true(h_jnull(json_object_get(r->json, "author"), "agent_id"));
    int64_t n1 = h_jint(r->json, "id");
    h_resp_free(r);
    r = call("POST", path, svc_key, json_pack("{s:s, s:s}", "body", "x", "visibility", "internal"),
             NULL);
    h_expect_problem(r, 403);
    h_resp_free(r);
    r = call("POST", path, svc_key,
             json_pack("{s:s, s:s}", "body", "Explicit", "visibility", "public"), NULL);
    h_expect_status(r, 201);
    int64_t n2 = h_jint(r->json, "id");
    h_resp_free(r);
    json_t *c = get_complaint(agent_key, id);
    assert_true(h_jnull(c, "first_response_at"));
    json_decref(c);

    /* The agent's note is internal by default; internal is no first response. */
    r = call("POST", path, agent_key, json_pack("{s:s}", "body", "Check the warranty."), NULL);
    h_expect_status(r, 201);
    assert_string_equal(h_jstr(r->json, "visibility"), "internal");
    assert_int_equal(h_jint(json_object_get(r->json, "author"), "agent_id"), agent_id);
    int64_t n3 = h_jint(r->json, "id");
    h_resp_free(r);
    c = get_complaint(agent_key, id);
    assert_true(h_jnull(c, "first_response_at"));
    assert_string_equal(h_jstr(c, "status"), "new");
    json_decref(c);

    /* A public note by the agent is the first response, and only the first counts. */
    r = call("POST", path, agent_key,
             json_pack("{s:s, s:s}", "body", "We are looking into it.", "visibility", "public"),
             NULL);
    h_expect_status(r, 201);
    int64_t n4 = h_jint(r->json, "id");
    h_resp_free(r);
    c = get_complaint(agent_key, id);
    assert_non_null(h_jstr(c, "first_response_at"));
    assert_string_equal(h_jstr(c, "status"), "new");
    json_decref(c);
    char *fr = h_sql_value(
        &srv, "SELECT ombud_usec(first_response_at)::text FROM complaints WHERE id = %lld",
        (long long)id);
    r = call("POST", path, sup_key,
             json_pack("{s:s, s:s}", "body", "Supervisor here.", "visibility", "public"), NULL);
    h_expect_status(r, 201);
    assert_string_equal(h_jstr(json_object_get(r->json, "author"), "role"), "supervisor");
    int64_t n5 = h_jint(r->json, "id");
    h_resp_free(r);
    act(id, "acknowledge", "acknowledged");
    char *fr2 = h_sql_value(
        &srv, "SELECT ombud_usec(first_response_at)::text FROM complaints WHERE id = %lld",
        (long long)id);
    assert_string_equal(fr, fr2);
    free(fr);
    free(fr2);

    /* Validation. */
    char *big = malloc(20002);
    memset(big, 'n', 20001);
    big[20001] = '\0';
    r = call("POST", path, agent_key, json_pack("{s:s}", "body", big), NULL);
    h_expect_invalid(r, "body");
    h_resp_free(r);
    big[20000] = '\0';
    r = call("POST", path, agent_key, json_pack("{s:s}", "body", big), NULL);
    h_expect_status(r, 201);
    assert_int_equal(strlen(h_jstr(r->json, "body")), 20000);
    int64_t n6 = h_jint(r->json, "id");
    h_resp_free(r);
    free(big);
    struct {
        json_t *body;
        const char *field;
    } bad[] = {
        {json_pack("{s:s}", "body", ""), "body"},
        {json_pack("{}"), "body"},
        {json_pack("{s:n}", "body"), "body"},
        {json_pack("{s:i}", "body", 7), "body"},
        {json_pack("{s:s, s:s}", "body", "x", "visibility", "secret"), "visibility"},
        {json_pack("{s:s, s:s}", "body", "x", "visibility", "Public"), "visibility"},
        {json_pack("{s:s, s:s}", "body", "x", "author", "me"), "author"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = call("POST", path, agent_key, bad[i].body, NULL);
        h_expect_invalid(r, bad[i].field);
        h_resp_free(r);
    }

    /* The agent sees them all in id order. */
    json_t *all = list_all(agent_key, id, "notes", 50);
    int64_t want_all[] = {n1, n2, n3, n4, n5, n6};
    assert_int_equal(json_array_size(all), 6);
    for (size_t i = 0; i < 6; i++) {
        json_t *n = json_array_get(all, i);
        assert_int_equal(h_jint(n, "id"), want_all[i]);
        assert_int_equal(h_jint(n, "complaint_id"), id);
        assert_non_null(h_jstr(n, "created_at"));
        assert_true(json_is_object(json_object_get(n, "author")));
    }
    /* Page by page, the same. */
    json_t *paged = list_all(agent_key, id, "notes", 2);
    assert_true(json_equal(all, paged));
    json_decref(paged);
    json_decref(all);

    /* The service sees the public ones only. */
    json_t *pub = list_all(svc_key, id, "notes", 50);
    int64_t want_pub[] = {n1, n2, n4, n5};
    assert_int_equal(json_array_size(pub), 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(h_jint(json_array_get(pub, i), "id"), want_pub[i]);
        assert_string_equal(h_jstr(json_array_get(pub, i), "visibility"), "public");
    }
    json_decref(pub);
    paged = list_all(svc_key, id, "notes", 1);
    assert_int_equal(json_array_size(paged), 4);
    json_decref(paged);

    /* Each note is on the timeline. */
    json_t *evs = events(id);
    size_t notes_seen = 0, i;
    json_t *ev;
    json_array_foreach (evs, i, ev) {
        if (strcmp(h_jstr(ev, "kind"), "note_added") != 0)
            continue;
        assert_int_equal(h_jint(json_object_get(ev, "data"), "note_id"), want_all[notes_seen]);
        notes_seen++;
    }
    assert_int_equal(notes_seen, 6);
    json_decref(evs);

    /* Bad paging parameters. */
    snprintf(path, sizeof path, "/v1/complaints/%lld/notes?limit=0", (long long)id);
    r = call("GET", path, agent_key, NULL, NULL);
    h_expect_invalid(r, "limit");
    h_resp_free(r);
    snprintf(path, sizeof path, "/v1/complaints/%lld/notes?limit=201", (long long)id);
    r = call("GET", path, agent_key, NULL, NULL);
    h_expect_invalid(r, "limit");
    h_resp_free(r);
    snprintf(path, sizeof path, "/v1/complaints/%lld/notes?cursor=!!", (long long)id);
    r = call("GET", path, agent_key, NULL, NULL);
    h_expect_invalid(r, "cursor");
    h_resp_free(r);

    /* Notes of an unknown complaint. */
    r = call("GET", "/v1/complaints/99999999/notes", agent_key, NULL, NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);
    r = call("POST", "/v1/complaints/99999999/notes", agent_key, json_pack("{s:s}", "body", "x"),
             NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);
}

/* ---- satisfaction ---- */

static void satisfaction_rules(void **state)
{
    char path[128];
    int64_t id = create(svc_key, "Satisfaction");
    snprintf(path, sizeof path, "/v1/complaints/%lld/satisfaction", (long long)id);

    /* Not before the complaint is resolved. */
    struct h_resp *r = call("POST", path, svc_key, json_pack("{s:i}", "score", 5), NULL);
    h_expect_problem(r, 409);
    h_resp_free(r);
    act(id, "start", "in_progress");
    act(id, "pend", "pending_customer");
    r = call("POST", path, svc_key, json_pack("{s:i}", "score", 5), NULL);
    h_expect_problem(r, 409);
    h_resp_free(r);

    /* Validation comes first. */
    struct {
        json_t *body;
        const char *field;
    } bad[] = {
        {json_pack("{s:i}", "score", 0), "score"},
        {json_pack("{s:i}", "score", 6), "score"},
        {json_pack("{s:i}", "score", -1), "score"},
        {json_pack("{s:s}", "score", "5"), "score"},
        {json_pack("{s:f}", "score", 4.5), "score"},
        {json_pack("{s:n}", "score"), "score"},
        {json_pack("{s:b}", "score", 1), "score"},
        {json_pack("{}"), "score"},
        {json_pack("{s:i, s:s}", "score", 3, "comment", ""), "comment"},
        {json_pack("{s:i, s:i}", "score", 3, "comment", 9), "comment"},
        {json_pack("{s:i, s:i}", "score", 3, "stars", 3), "stars"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = call("POST", path, svc_key, bad[i].body, NULL);
        h_expect_invalid(r, bad[i].field);
        h_resp_free(r);
    }

    /* Another service cannot see it. */
    act(id, "resolve", "resolved");
    r = call("POST", path, svc2_key, json_pack("{s:i}", "score", 1), NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);

    json_t *before = get_complaint(agent_key, id);
    r = call("POST", path, svc_key, json_pack("{s:i, s:s}", "score", 5, "comment", "Very good"),
             NULL);
    h_expect_status(r, 201);
    json_t *sat = json_object_get(r->json, "satisfaction");
    assert_int_equal(h_jint(sat, "score"), 5);
    assert_string_equal(h_jstr(sat, "comment"), "Very good");
    assert_non_null(h_jstr(sat, "recorded_at"));
    assert_string_equal(h_jstr(r->json, "status"), "resolved");
    expect_etag(r, h_jint(before, "version") + 1);
    h_resp_free(r);
    json_decref(before);

    /* Only once, whoever asks. */
    r = call("POST", path, svc_key, json_pack("{s:i}", "score", 1), NULL);
    h_expect_problem(r, 409);
    h_resp_free(r);
    r = call("POST", path, agent_key, json_pack("{s:i}", "score", 2), NULL);
    h_expect_problem(r, 409);
    h_resp_free(r);
    json_t *c = get_complaint(svc_key, id);
    assert_int_equal(h_jint(json_object_get(c, "satisfaction"), "score"), 5);
    json_decref(c);

    /* On the timeline once. */
    json_t *evs = events(id);
    json_t *last = json_array_get(evs, json_array_size(evs) - 1);
    assert_string_equal(h_jstr(last, "kind"), "satisfaction_recorded");
    assert_int_equal(h_jint(json_object_get(last, "data"), "score"), 5);
    expect_actor(last, "service", svc_key_id, 0);
    size_t i, count = 0;
    json_t *ev;
    json_array_foreach (evs, i, ev)
        count += strcmp(h_jstr(ev, "kind"), "satisfaction_recorded") == 0;
    assert_int_equal(count, 1);
    json_decref(evs);

    /* A reopened and resolved again complaint keeps the first score. */
    act(id, "reopen", "in_progress");
    r = call("POST", path, svc_key, json_pack("{s:i}", "score", 3), NULL);
    h_expect_problem(r, 409);
    h_resp_free(r);
    act(id, "resolve", "resolved");
    r = call("POST", path, svc_key, json_pack("{s:i}", "score", 3), NULL);
    h_expect_problem(r, 409);
    h_resp_free(r);

    /* A closed complaint takes one too; the comment is optional. */
    id = create(svc_key, "Satisfaction when closed");
    drive(id, "closed");
    snprintf(path, sizeof path, "/v1/complaints/%lld/satisfaction", (long long)id);
    r = call("POST", path, agent_key, json_pack("{s:i}", "score", 1), NULL);
    h_expect_status(r, 201);
    assert_int_equal(h_jint(json_object_get(r->json, "satisfaction"), "score"), 1);
    assert_true(h_jnull(json_object_get(r->json, "satisfaction"), "comment"));
    assert_string_equal(h_jstr(r->json, "status"), "closed");
    h_resp_free(r);

    /* A withdrawn (closed) complaint as well. */
    id = create(svc_key, "Satisfaction when withdrawn");
    act(id, "withdraw", "closed");
    snprintf(path, sizeof path, "/v1/complaints/%lld/satisfaction", (long long)id);
    r = call("POST", path, svc_key, json_pack("{s:i}", "score", 3), NULL);
    h_expect_status(r, 201);
    h_resp_free(r);

    r = call("POST", "/v1/complaints/99999999/satisfaction", agent_key,
             json_pack("{s:i}", "score", 3), NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);
}

/* ---- roles ---- */

static void role_limits(void **state)
{
    char path[128];
    int64_t id = create(svc_key, "Roles");

    /* A service may not work complaints, not even its own. */
    struct h_resp *r = transition(svc_key, id, json_pack("{s:s}", "action", "acknowledge"), NULL);
    h_expect_problem(r, 403);
    h_resp_free(r);
    snprintf(path, sizeof path, "/v1/complaints/%lld", (long long)id);
    r = call("PATCH", path, svc_key, json_pack("{s:s}", "title", "Mine"), NULL);
    h_expect_problem(r, 403);
    h_resp_free(r);
    snprintf(path, sizeof path, "/v1/complaints/%lld/events", (long long)id);
    r = call("GET", path, svc_key, NULL, NULL);
    h_expect_problem(r, 403);
    h_resp_free(r);

    /* No key, or a wrong one. */
    r = transition(NULL, id, json_pack("{s:s}", "action", "acknowledge"), NULL);
    h_expect_problem(r, 401);
    h_resp_free(r);
    r = transition("not-a-key", id, json_pack("{s:s}", "action", "acknowledge"), NULL);
    h_expect_problem(r, 401);
    h_resp_free(r);
    r = call("GET", path, NULL, NULL, NULL);
    h_expect_problem(r, 401);
    h_resp_free(r);

    /* The other service does not see it at all. */
    snprintf(path, sizeof path, "/v1/complaints/%lld", (long long)id);
    r = call("GET", path, svc2_key, NULL, NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);

    json_t *c = get_complaint(agent_key, id);
    assert_string_equal(h_jstr(c, "status"), "new");
    assert_int_equal(h_jint(c, "version"), 1);
    json_decref(c);

    /* Agents, supervisors and admins all work complaints. */
    r = transition(agent_key, id, json_pack("{s:s}", "action", "acknowledge"), NULL);
    h_expect_status(r, 200);
    h_resp_free(r);
    r = transition(sup_key, id, json_pack("{s:s}", "action", "start"), NULL);
    h_expect_status(r, 200);
    h_resp_free(r);
    r = transition(srv.admin_key, id,
                   json_pack("{s:s, s:{s:s}}", "action", "resolve", "resolution", "summary",
                             "Done by an admin."),
                   NULL);
    h_expect_status(r, 200);
    h_resp_free(r);

    /* Force: refused to agents, allowed to supervisors and admins. */
    r = transition(agent_key, id, json_pack("{s:s, s:b}", "action", "close", "force", 1), NULL);
    h_expect_problem(r, 403);
    h_resp_free(r);
    r = transition(srv.admin_key, id, json_pack("{s:s, s:b}", "action", "close", "force", 1), NULL);
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "status"), "closed");
    h_resp_free(r);

    json_t *evs = events(id);
    assert_int_equal(json_array_size(evs), 5);
    expect_actor(json_array_get(evs, 1), "agent", agent_key_id, agent_id);
    expect_actor(json_array_get(evs, 2), "supervisor", sup_key_id, sup_agent_id);
    expect_actor(json_array_get(evs, 3), "admin", admin_key_id, 0);
    expect_actor(json_array_get(evs, 4), "admin", admin_key_id, 0);
    assert_true(
        json_is_true(json_object_get(json_object_get(json_array_get(evs, 4), "data"), "forced")));
    json_decref(evs);

    /* A supervisor's force on a complaint with agreement is fine too. */
    id = create(svc_key, "Forced with agreement");
    drive(id, "resolved");
    r = transition(sup_key, id,
                   json_pack("{s:s, s:b, s:{s:b}}", "action", "close", "force", 1, "resolution",
                             "customer_agreed", 1),
                   NULL);
    h_expect_status(r, 200);
    assert_true(
        json_is_true(json_object_get(json_object_get(r->json, "resolution"), "customer_agreed")));
    h_resp_free(r);

    /* Agents do not manage keys. */
    r = call("POST", "/v1/api-keys", agent_key,
             json_pack("{s:s, s:s}", "name", "x", "role", "admin"), NULL);
    h_expect_problem(r, 403);
    h_resp_free(r);
}

/* ---- the timeline is append-only ---- */

static void timeline_is_append_only(void **state)
{
    int64_t id = create(svc_key, "Append-only");
    act(id, "acknowledge", "acknowledged");
    json_t *before = events(id);
    char sql[256];
    const char *stmts[] = {
        "UPDATE complaint_events SET kind = 'updated' WHERE complaint_id = %lld",
        "UPDATE complaint_events SET data = '{}' WHERE complaint_id = %lld",
        "DELETE FROM complaint_events WHERE complaint_id = %lld",
    };
    PGconn *pg = PQconnectdb(srv.db_url);
    assert_int_equal(PQstatus(pg), CONNECTION_OK);
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
        snprintf(sql, sizeof sql, stmts[i], (long long)id);
        PGresult *res = PQexec(pg, sql);
        assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
        assert_non_null(strstr(PQresultErrorMessage(res), "append-only"));
        PQclear(res);
    }
    PQfinish(pg);
    json_t *after = events(id);
    assert_true(json_equal(before, after));
    assert_int_equal(json_array_size(after), 2);
    json_decref(before);
    json_decref(after);

    /* Events of an unknown complaint; bad paging. */
    struct h_resp *r = call("GET", "/v1/complaints/99999999/events", agent_key, NULL, NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);
    snprintf(sql, sizeof sql, "/v1/complaints/%lld/events?limit=500", (long long)id);
    r = call("GET", sql, agent_key, NULL, NULL);
    h_expect_invalid(r, "limit");
    h_resp_free(r);
}

/* Last: SIGTERM must give exit 0, which under ASan also means nothing
 * leaked. Done as a test, not only in the group teardown, so that a
 * failure here fails the run. */
static void server_stops_cleanly(void **state)
{
    h_server_stop(&srv, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_journey),
        cmocka_unit_test(every_action_from_every_state),
        cmocka_unit_test(first_response_by_action),
        cmocka_unit_test(withdraw_from_each_open_state),
        cmocka_unit_test(transition_validation),
        cmocka_unit_test(if_match_on_transitions),
        cmocka_unit_test(notes_and_visibility),
        cmocka_unit_test(satisfaction_rules),
        cmocka_unit_test(role_limits),
        cmocka_unit_test(timeline_is_append_only),
        cmocka_unit_test(server_stops_cleanly),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
