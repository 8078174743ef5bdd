/*
 * SLA clocks, alerts and policies through the real server, in real time.
 * Policies of one minute with warnings at 5, 10 and 20 per cent (3, 6
 * and 12 seconds) make every moment observable within seconds: each
 * warning level and the breach are raised on time (within 2 s) and
 * once, in /v1/alerts and in the timeline; nothing after the target is
 * met; nothing while paused, and every moment shifted by the pause;
 * re-selection of the policy on a priority change keeps the elapsed
 * time; a reopen starts resolution cycle 2 with the full target; a
 * target met late counts as breached. Also the policies API (CRUD,
 * validation, selection by position and match, the warning ladder),
 * alert acknowledgement, the at-risk view, the summary (on a second
 * server of its own, so that its counts are exact) and the role limits.
 *
 * The clocks that need the full minute start in warnings_on_time_and_once
 * and are checked in breach_on_time_and_once and
 * reselect_with_breach_already_past, so that the minute is spent running
 * the other tests: cmocka runs them in the order of main().
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct h_server srv, srv2;
static char svc_key[96], agent_key[96], sup_key[96];
static int64_t sup_key_id, admin_key_id;

/* Policies on srv (set up once). */
static int64_t p_fast, p_res, p_cycle, p_resel_long, p_resel_short, p_rr_long, p_rr_short, p_risk3,
    p_risk10, p_risk120;

/* Long-running clocks, started in warnings_on_time_and_once. */
static struct {
    bool started;
    int64_t a, b, g, e;   /* srv: warned then breached; met at once; met late; re-selected late */
    int64_t a_due, g_due; /* first response due moments */
    int64_t e_start;      /* when E's clocks started */
    int64_t s_on, s_risk, s_brk, s_late, s_pause, s_res_ok; /* srv2, for the summary */
    int64_t s_brk_due, s_late_due;
    int64_t d, d_l3_at; /* from reselect_keeps_elapsed_time */
    int64_t f;          /* from reopen_starts_a_new_cycle */
} m;

/* ---- helpers ---- */

/* Sends body (stolen; NULL for none) to s with key. */
static struct h_resp *call_on(struct h_server *s, const char *method, const char *path,
                              const char *key, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    assert_true(body == NULL || text != NULL);
    struct h_opts o = {.key = key, .body = text};
    struct h_resp *r = h_req(s, method, path, &o);
    free(text);
    return r;
}

static struct h_resp *call(const char *method, const char *path, const char *key, json_t *body)
{
    return call_on(&srv, method, path, key, body);
}

static int64_t post_id(struct h_server *s, const char *path, json_t *body)
{
    struct h_resp *r = call_on(s, "POST", path, s->admin_key, body);
    h_expect_status(r, 201);
    int64_t id = h_jint(r->json, "id");
    h_resp_free(r);
    return id;
}

static void make_category(struct h_server *s, const char *key)
{
    struct h_resp *r = call_on(s, "POST", "/v1/categories", s->admin_key,
                               json_pack("{s:s, s:s}", "key", key, "name", key));
    h_expect_status(r, 201);
    h_resp_free(r);
}

/* A policy matching match (stolen; NULL for none), with warnings given as JSON text. */
static int64_t make_policy(struct h_server *s, const char *name, int position, json_t *match,
                           int fr, int res, const char *warnings)
{
    json_t *b = json_pack("{s:s, s:i, s:i, s:i}", "name", name, "position", position,
                          "first_response_minutes", fr, "resolution_minutes", res);
    if (match)
        json_object_set_new(b, "match", match);
    if (warnings)
        json_object_set_new(b, "warnings", json_loads(warnings, 0, NULL));
    return post_id(s, "/v1/sla-policies", b);
}

struct cspec {
    const char *category, *priority, *grade, *channel, *tier;
};

/* Creates a complaint on s; returns it (caller decrefs). */
static json_t *create_on(struct h_server *s, const char *key, struct cspec c)
{
    json_t *b =
        json_pack("{s:s, s:s, s:{s:s}}", "title", "Late parcel", "description",
                  "The parcel was promised for Monday.", "customer", "name", "Grace Hopper");
    if (c.category)
        json_object_set_new(b, "category", json_string(c.category));
    if (c.priority)
        json_object_set_new(b, "priority", json_string(c.priority));
    if (c.grade)
        json_object_set_new(b, "grade", json_string(c.grade));
    if (c.channel)
        json_object_set_new(b, "channel", json_string(c.channel));
    if (c.tier)
        json_object_set_new(json_object_get(b, "customer"), "tier", json_string(c.tier));
    struct h_resp *r = call_on(s, "POST", "/v1/complaints", key, b);
    h_expect_status(r, 201);
    json_t *out = json_incref(r->json);
    h_resp_free(r);
    return out;
}

static int64_t create_id(struct cspec c)
{
    json_t *o = create_on(&srv, svc_key, c);
    int64_t id = h_jint(o, "id");
    json_decref(o);
    return id;
}

static json_t *get_on(struct h_server *s, const char *key, int64_t id)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/complaints/%lld", (long long)id);
    struct h_resp *r = call_on(s, "GET", path, key, NULL);
    h_expect_status(r, 200);
    json_t *c = json_incref(r->json);
    h_resp_free(r);
    return c;
}

static json_t *get_complaint(int64_t id)
{
    return get_on(&srv, agent_key, id);
}

static json_t *clock_of(const json_t *c, const char *target)
{
    json_t *k = json_object_get(json_object_get(c, "sla"), target);
    if (!json_is_object(k))
        fail_msg("no %s clock", target);
    return k;
}

/* A transition on s; returns the complaint (caller decrefs). */
static json_t *act_on(struct h_server *s, const char *key, int64_t id, const char *action)
{
    char path[96];
    json_t *b = json_pack("{s:s}", "action", action);
    if (strcmp(action, "resolve") == 0)
        json_object_set_new(b, "resolution", json_pack("{s:s}", "summary", "Sent a new one."));
    snprintf(path, sizeof path, "/v1/complaints/%lld/transitions", (long long)id);
    struct h_resp *r = call_on(s, "POST", path, key, b);
    h_expect_status(r, 200);
    json_t *c = json_incref(r->json);
    h_resp_free(r);
    return c;
}

static json_t *act(int64_t id, const char *action)
{
    return act_on(&srv, agent_key, id, action);
}

static void act_quiet_on(struct h_server *s, const char *key, int64_t id, const char *action)
{
    json_decref(act_on(s, key, id, action));
}

static json_t *patch_priority(int64_t id, const char *priority)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/complaints/%lld", (long long)id);
    struct h_resp *r = call("PATCH", path, agent_key, json_pack("{s:s}", "priority", priority));
    h_expect_status(r, 200);
    json_t *c = json_incref(r->json);
    h_resp_free(r);
    return c;
}

/* Every alert of a complaint on s, oldest first. */
static json_t *alerts_on(struct h_server *s, int64_t id)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/alerts?state=all&limit=200&complaint_id=%lld", (long long)id);
    struct h_resp *r = call_on(s, "GET", path, s->admin_key, NULL);
    h_expect_status(r, 200);
    assert_true(json_is_null(json_object_get(r->json, "next_cursor")));
    json_t *items = json_object_get(r->json, "items");
    json_t *out = json_array();
    for (size_t i = json_array_size(items); i > 0; i--)
        json_array_append(out, json_array_get(items, i - 1));
    h_resp_free(r);
    return out;
}

static json_t *alerts_of(int64_t id)
{
    return alerts_on(&srv, id);
}

/* Polls until the complaint has at least n alerts, for at most ms. */
static json_t *wait_alerts_on(struct h_server *s, int64_t id, size_t n, int64_t ms)
{
    int64_t end = h_real_ms() + ms;
    for (;;) {
        json_t *a = alerts_on(s, id);
        if (json_array_size(a) >= n || h_real_ms() > end)
            return a;
        json_decref(a);
        h_sleep_ms(100);
    }
}

static json_t *wait_alerts(int64_t id, size_t n, int64_t ms)
{
    return wait_alerts_on(&srv, id, n, ms);
}

/* The alerts with this kind, target, cycle and level (level < 0: any). */
static size_t count_alerts(const json_t *alerts, const char *kind, const char *target, int cycle,
                           int level, json_t **found)
{
    size_t i, n = 0;
    json_t *a;
    json_array_foreach(alerts, i, a)
    {
        if (strcmp(h_jstr(a, "kind"), kind) == 0 && strcmp(h_jstr(a, "target"), target) == 0 &&
            h_jint(a, "cycle") == cycle && (level < 0 || h_jint(a, "level") == level)) {
            if (found && !n)
                *found = a;
            n++;
        }
    }
    return n;
}

/* Exactly one such alert; returns it (borrowed). */
static json_t *the_alert(const json_t *alerts, const char *kind, const char *target, int cycle,
                         int level)
{
    json_t *a = NULL;
    size_t n = count_alerts(alerts, kind, target, cycle, level, &a);
    if (n != 1) {
        h_dump("alerts", alerts);
        fail_msg("%zu alerts %s %s cycle %d level %d, want 1", n, kind, target, cycle, level);
    }
    return a;
}

/* Raise time minus the moment, to the microsecond, from the table. */
static double lag_of(struct h_server *s, int64_t alert_id)
{
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT extract(epoch FROM created_at - scheduled_at)::text FROM alerts"
             " WHERE id = %lld",
             (long long)alert_id);
    json_t *rows = h_sql(s, sql);
    assert_int_equal(json_array_size(rows), 1);
    double lag = strtod(json_string_value(json_array_get(json_array_get(rows, 0), 0)), NULL);
    json_decref(rows);
    return lag;
}

/* The alert was raised within 2 s of the moment it was scheduled for. */
static void expect_on_time(struct h_server *s, const json_t *a, int64_t moment)
{
    assert_int_equal(h_jtime(a, "scheduled_at"), moment);
    h_expect_between(h_jtime(a, "created_at") - moment, 0, 2, "alert raised after its moment");
    double lag = lag_of(s, h_jint(a, "id"));
    if (lag < 0 || lag > 2.0)
        fail_msg("alert %lld raised %.3f s after its moment", (long long)h_jint(a, "id"), lag);
    assert_true(h_jnull(a, "acknowledged_at"));
    assert_true(h_jnull(a, "acknowledged_by"));
}

/* The complaint's whole timeline, oldest first. */
static json_t *events_on(struct h_server *s, int64_t id)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/complaints/%lld/events?limit=200", (long long)id);
    struct h_resp *r = call_on(s, "GET", path, s->admin_key, NULL);
    h_expect_status(r, 200);
    assert_true(json_is_null(json_object_get(r->json, "next_cursor")));
    json_t *items = json_incref(json_object_get(r->json, "items"));
    h_resp_free(r);
    return items;
}

/* The timeline holds exactly one event for the alert, by the system. */
static void expect_alert_event(const json_t *evs, const json_t *alert)
{
    size_t i, n = 0;
    json_t *ev;
    bool breach = strcmp(h_jstr(alert, "kind"), "sla_breach") == 0;
    json_array_foreach(evs, i, ev)
    {
        json_t *d = json_object_get(ev, "data");
        if (!json_is_integer(json_object_get(d, "alert_id")) ||
            h_jint(d, "alert_id") != h_jint(alert, "id"))
            continue;
        n++;
        assert_string_equal(h_jstr(ev, "kind"), breach ? "sla_breached" : "sla_warning");
        json_t *actor = json_object_get(ev, "actor");
        assert_string_equal(h_jstr(actor, "role"), "system");
        assert_true(h_jnull(actor, "key_id"));
        assert_string_equal(h_jstr(d, "target"), h_jstr(alert, "target"));
        assert_int_equal(h_jint(d, "cycle"), h_jint(alert, "cycle"));
        assert_string_equal(h_jstr(d, "scheduled_at"), h_jstr(alert, "scheduled_at"));
        if (breach)
            assert_null(json_object_get(d, "level"));
        else
            assert_int_equal(h_jint(d, "level"), h_jint(alert, "level"));
        h_expect_between(h_jtime(ev, "created_at") - h_jtime(alert, "created_at"), -1, 1,
                       "event written with its alert");
    }
    if (n != 1) {
        h_dump("timeline", evs);
        fail_msg("%zu timeline events for alert %lld, want 1", n, (long long)h_jint(alert, "id"));
    }
}

static size_t count_events(const json_t *evs, const char *kind)
{
    size_t i, n = 0;
    json_t *ev;
    json_array_foreach(evs, i, ev) n += strcmp(h_jstr(ev, "kind"), kind) == 0;
    return n;
}

/* The warning entry of a level in a clock (borrowed). */
static json_t *warning_of(const json_t *clock, int level)
{
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(clock, "warnings"), i, w)
    {
        if (h_jint(w, "level") == level)
            return w;
    }
    fail_msg("no warning level %d", level);
    return NULL;
}

static void make_key_id(const char *role, char *out, size_t len, int64_t *id)
{
    struct h_resp *r = call("POST", "/v1/api-keys", srv.admin_key,
                            json_pack("{s:s, s:s}", "name", role, "role", role));
    h_expect_status(r, 201);
    snprintf(out, len, "%s", h_jstr(r->json, "key"));
    *id = h_jint(r->json, "id");
    h_resp_free(r);
}

/* ---- setup ---- */

#define LADDER_FAST "[{\"percent\":5},{\"percent\":10},{\"percent\":20}]"

static int setup(void **state)
{
    h_server_start(&srv, NULL);
    h_make_key(&srv, "service", svc_key, sizeof svc_key);
    h_make_key(&srv, "agent", agent_key, sizeof agent_key);
    make_key_id("supervisor", sup_key, sizeof sup_key, &sup_key_id);
    json_t *rows = h_sql(&srv, "SELECT min(id) FROM api_keys WHERE role = 'admin'");
    admin_key_id = strtoll(json_string_value(json_array_get(json_array_get(rows, 0), 0)), NULL, 10);
    json_decref(rows);

    static const char *const cats[] = {"sla_fast",   "sla_res",      "sla_cycle",   "sla_resel",
                                       "sla_risk3",  "sla_risk10",   "sla_risk120", "sla_sel",
                                       "sla_ladder", "sla_resel_res"};
    for (size_t i = 0; i < sizeof cats / sizeof cats[0]; i++)
        make_category(&srv, cats[i]);
    /* First response in a minute; warnings at 3, 6 and 12 s. */
    p_fast = make_policy(&srv, "Fast first response", 10,
                         json_pack("{s:[s]}", "categories", "sla_fast"), 1, 600, LADDER_FAST);
    /* Resolution in a minute; warnings at 3, 6 and 12 s. */
    p_res = make_policy(&srv, "Fast resolution", 10, json_pack("{s:[s]}", "categories", "sla_res"),
                        600, 1, LADDER_FAST);
    /* Resolution in a minute; warnings at 3 and 30 s. */
    p_cycle = make_policy(&srv, "Cycles", 10, json_pack("{s:[s]}", "categories", "sla_cycle"), 600,
                          1, "[{\"percent\":5},{\"percent\":50}]");
    /* Re-selection: ten minutes (one warning at 5 min), or one for urgent ones. */
    p_resel_long =
        make_policy(&srv, "Re-selection, long", 20, json_pack("{s:[s]}", "categories", "sla_resel"),
                    10, 600, "[{\"percent\":50}]");
    p_resel_short =
        make_policy(&srv, "Re-selection, urgent", 10,
                    json_pack("{s:[s], s:[s]}", "categories", "sla_resel", "priorities", "urgent"),
                    1, 600, "[{\"percent\":5},{\"percent\":10},{\"percent\":50}]");
    /* The same for resolution: ten minutes, or one for urgent ones. */
    p_rr_long = make_policy(&srv, "Re-selection of resolution, long", 20,
                            json_pack("{s:[s]}", "categories", "sla_resel_res"), 600, 10,
                            "[{\"percent\":50}]");
    p_rr_short = make_policy(
        &srv, "Re-selection of resolution, urgent", 10,
        json_pack("{s:[s], s:[s]}", "categories", "sla_resel_res", "priorities", "urgent"), 600, 1,
        LADDER_FAST);
    p_risk3 = make_policy(&srv, "Risk 3", 10, json_pack("{s:[s]}", "categories", "sla_risk3"), 3,
                          600, NULL);
    p_risk10 = make_policy(&srv, "Risk 10", 10, json_pack("{s:[s]}", "categories", "sla_risk10"),
                           10, 600, NULL);
    p_risk120 = make_policy(&srv, "Risk 120", 10, json_pack("{s:[s]}", "categories", "sla_risk120"),
                            120, 600, NULL);
    return 0;
}

static int teardown(void **state)
{
    if (srv2.dbname[0])
        h_server_stop(&srv2, true);
    h_server_stop(&srv, true);
    return 0;
}

/* ---- policies ---- */

static void policies_crud_and_validation(void **state)
{
    char path[64], loc[128];
    struct h_resp *r;

    /* The seeded default. */
    r = call("GET", "/v1/sla-policies/1", svc_key, NULL);
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "name"), "Default");
    assert_int_equal(h_jint(r->json, "position"), 1000);
    assert_true(json_is_true(json_object_get(r->json, "active")));
    assert_int_equal(h_jint(r->json, "first_response_minutes"), 240);
    assert_int_equal(h_jint(r->json, "resolution_minutes"), 2880);
    assert_int_equal(h_jint(r->json, "calendar_id"), 1);
    json_t *w80 = json_loads("[{\"percent\":80}]", 0, NULL);
    assert_true(json_equal(json_object_get(r->json, "warnings"), w80));
    h_resp_free(r);

    /* Minimal: the defaults fill in. */
    r = call("POST", "/v1/sla-policies", srv.admin_key,
             json_pack("{s:s, s:i, s:i, s:i}", "name", "Minimal", "position", 900,
                       "first_response_minutes", 30, "resolution_minutes", 300));
    h_expect_status(r, 201);
    int64_t id = h_jint(r->json, "id");
    snprintf(path, sizeof path, "/v1/sla-policies/%lld", (long long)id);
    assert_non_null(h_header(r, "Location", loc, sizeof loc));
    assert_string_equal(loc, path);
    assert_string_equal(h_jstr(r->json, "name"), "Minimal");
    assert_int_equal(h_jint(r->json, "position"), 900);
    assert_true(json_is_true(json_object_get(r->json, "active")));
    json_t *empty_match = json_pack("{s:[], s:[], s:[], s:[], s:[]}", "priorities", "grades",
                                    "categories", "channels", "customer_tiers");
    assert_true(json_equal(json_object_get(r->json, "match"), empty_match));
    assert_true(json_equal(json_object_get(r->json, "warnings"), w80));
    assert_int_equal(h_jint(r->json, "calendar_id"), 1);
    assert_int_equal(h_jint(r->json, "first_response_minutes"), 30);
    assert_int_equal(h_jint(r->json, "resolution_minutes"), 300);
    assert_non_null(h_jstr(r->json, "created_at"));
    assert_non_null(h_jstr(r->json, "updated_at"));
    json_t *created = json_incref(r->json);
    h_resp_free(r);
    r = call("GET", path, svc_key, NULL);
    h_expect_status(r, 200);
    assert_true(json_equal(r->json, created));
    h_resp_free(r);

    /* Listed in id order, the default first. */
    r = call("GET", "/v1/sla-policies?limit=200", agent_key, NULL);
    h_expect_status(r, 200);
    json_t *items = json_object_get(r->json, "items");
    assert_int_equal(h_jint(json_array_get(items, 0), "id"), 1);
    size_t i;
    json_t *it;
    bool seen = false;
    int64_t last = 0;
    json_array_foreach(items, i, it)
    {
        assert_true(h_jint(it, "id") > last);
        last = h_jint(it, "id");
        seen |= json_equal(it, created);
    }
    assert_true(seen);
    h_resp_free(r);
    r = call("GET", "/v1/sla-policies?limit=2", agent_key, NULL);
    h_expect_status(r, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 2);
    assert_true(json_is_string(json_object_get(r->json, "next_cursor")));
    h_resp_free(r);

    /* PATCH changes what it names. */
    r = call("PATCH", path, srv.admin_key,
             json_pack("{s:b, s:[{s:i}, {s:i}], s:{s:[s, s]}}", "active", 0, "warnings",
                       "minutes_before", 5, "percent", 50, "match", "channels", "chat", "email"));
    h_expect_status(r, 200);
    assert_true(json_is_false(json_object_get(r->json, "active")));
    json_t *w = json_loads("[{\"minutes_before\":5},{\"percent\":50}]", 0, NULL);
    assert_true(json_equal(json_object_get(r->json, "warnings"), w));
    json_decref(w);
    json_t *chat = json_loads("[\"chat\",\"email\"]", 0, NULL);
    assert_true(json_equal(json_object_get(json_object_get(r->json, "match"), "channels"), chat));
    json_decref(chat);
    assert_string_equal(h_jstr(r->json, "name"), "Minimal");
    assert_int_equal(h_jint(r->json, "first_response_minutes"), 30);
    assert_string_equal(h_jstr(r->json, "created_at"), h_jstr(created, "created_at"));
    h_resp_free(r);

    /* Unused: deleted. */
    r = call("DELETE", path, srv.admin_key, NULL);
    h_expect_status(r, 204);
    h_resp_free(r);
    r = call("GET", path, svc_key, NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);
    r = call("DELETE", path, srv.admin_key, NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);
    r = call("PATCH", path, srv.admin_key, json_pack("{s:i}", "position", 3));
    h_expect_problem(r, 404);
    h_resp_free(r);

    /* In use by a complaint: kept (409). */
    int64_t c = create_id((struct cspec){.category = "other"});
    json_t *cj = get_complaint(c);
    assert_int_equal(h_jint(json_object_get(cj, "sla"), "policy_id"), 1);
    json_decref(cj);
    r = call("DELETE", "/v1/sla-policies/1", srv.admin_key, NULL);
    h_expect_problem(r, 409);
    h_resp_free(r);
    r = call("DELETE", "/v1/sla-policies/9999999", srv.admin_key, NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);

    /* Validation names every bad field. */
    r = call("POST", "/v1/sla-policies", srv.admin_key, json_object());
    h_expect_invalid(r, "name");
    h_expect_invalid(r, "position");
    h_expect_invalid(r, "first_response_minutes");
    h_expect_invalid(r, "resolution_minutes");
    h_resp_free(r);
    r = call("POST", "/v1/sla-policies", srv.admin_key,
             json_loads("{\"name\":\"\",\"position\":-1,\"active\":\"yes\","
                        "\"match\":{\"priorities\":[\"asap\"],\"grades\":\"explicit\","
                        "\"colours\":[],\"channels\":[\"web\",\"fax\"],"
                        "\"customer_tiers\":[\"gold\"]},"
                        "\"first_response_minutes\":0,\"resolution_minutes\":5256001,"
                        "\"warnings\":[{\"percent\":0},{\"percent\":100},{\"minutes_before\":0},"
                        "{\"percent\":50,\"minutes_before\":5},\"soon\"],"
                        "\"calendar_id\":0,\"owner\":\"me\"}",
                        0, NULL));
    static const char *const fields[] = {
        "name",
        "position",
        "active",
        "match.priorities[0]",
        "match.grades",
        "match.colours",
        "match.channels[1]",
        "match.customer_tiers[0]",
        "first_response_minutes",
        "resolution_minutes",
        "warnings[0]",
        "warnings[1]",
        "warnings[2]",
        "warnings[3]",
        "warnings[4]",
        "calendar_id",
        "owner",
    };
    for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
        h_expect_invalid(r, fields[i]);
    assert_false(h_problem_has_field(r, "match.channels[0]"));
    h_resp_free(r);
    /* The ladder has one to five entries. */
    static const char *const ladders[] = {
        "[]",
        "[{\"percent\":10},{\"percent\":20},{\"percent\":30},{\"percent\":40},"
        "{\"percent\":50},{\"percent\":60}]",
        "{\"percent\":10}"};
    for (i = 0; i < 3; i++) {
        json_t *b = json_pack("{s:s, s:i, s:i, s:i}", "name", "Ladder", "position", 1,
                              "first_response_minutes", 10, "resolution_minutes", 10);
        json_object_set_new(b, "warnings", json_loads(ladders[i], JSON_DECODE_ANY, NULL));
        r = call("POST", "/v1/sla-policies", srv.admin_key, b);
        h_expect_invalid(r, "warnings");
        h_resp_free(r);
    }
    r = call("POST", "/v1/sla-policies", srv.admin_key,
             json_loads("{\"name\":\"Five\",\"position\":1,\"first_response_minutes\":10,"
                        "\"resolution_minutes\":10,\"active\":false,\"warnings\":[{\"percent\":1},"
                        "{\"percent\":99},{\"minutes_before\":1},{\"minutes_before\":5256000},"
                        "{\"percent\":50}]}",
                        0, NULL));
    h_expect_status(r, 201);
    assert_int_equal(json_array_size(json_object_get(r->json, "warnings")), 5);
    h_resp_free(r);
    /* An unknown calendar. */
    r = call("POST", "/v1/sla-policies", srv.admin_key,
             json_pack("{s:s, s:i, s:i, s:i, s:i}", "name", "Nowhere", "position", 1,
                       "first_response_minutes", 10, "resolution_minutes", 10, "calendar_id",
                       987654));
    h_expect_invalid(r, "calendar_id");
    h_resp_free(r);
    /* PATCH validates too. */
    r = call("PATCH", "/v1/sla-policies/1", srv.admin_key,
             json_loads("{\"warnings\":[],\"first_response_minutes\":\"4h\","
                        "\"match\":{\"grades\":[\"urgent\"]}}",
                        0, NULL));
    h_expect_invalid(r, "warnings");
    h_expect_invalid(r, "first_response_minutes");
    h_expect_invalid(r, "match.grades[0]");
    h_resp_free(r);
    r = call("GET", "/v1/sla-policies/1", svc_key, NULL);
    assert_true(json_equal(json_object_get(r->json, "warnings"), w80));
    assert_int_equal(h_jint(r->json, "first_response_minutes"), 240);
    h_resp_free(r);

    json_decref(created);
    json_decref(empty_match);
    json_decref(w80);
}

/* The policy a complaint is measured against, and its first response target. */
static void expect_policy(struct cspec c, int64_t policy, int fr_minutes)
{
    json_t *o = create_on(&srv, svc_key, c);
    json_t *sla = json_object_get(o, "sla");
    if (h_jint(sla, "policy_id") != policy) {
        h_dump("complaint", o);
        fail_msg("category %s priority %s grade %s channel %s tier %s: policy %lld, want %lld",
                 c.category, c.priority, c.grade, c.channel, c.tier,
                 (long long)h_jint(sla, "policy_id"), (long long)policy);
    }
    json_t *fr = clock_of(o, "first_response");
    int64_t created = h_jtime(o, "created_at");
    h_expect_between(h_jtime(fr, "due_at") - created, fr_minutes * 60, fr_minutes * 60 + 2,
                   "first response due after creation");
    assert_string_equal(h_jstr(fr, "state"), "on_track");
    assert_int_equal(h_jint(fr, "cycle"), 1);
    assert_true(h_jnull(fr, "met_at"));
    assert_true(json_is_false(json_object_get(fr, "breached")));
    h_expect_between(h_jint(fr, "remaining_seconds"), fr_minutes * 60 - 3, fr_minutes * 60,
                   "remaining seconds");
    assert_true(json_is_false(json_object_get(sla, "paused")));
    /* A GET shows the same clocks. */
    json_t *again = get_complaint(h_jint(o, "id"));
    assert_string_equal(h_jstr(clock_of(again, "first_response"), "due_at"), h_jstr(fr, "due_at"));
    assert_int_equal(h_jint(json_object_get(again, "sla"), "policy_id"), policy);
    json_decref(again);
    json_decref(o);
}

static void policy_selection(void **state)
{
    int64_t p1 =
        make_policy(&srv, "Sel urgent", 10,
                    json_pack("{s:[s], s:[s]}", "categories", "sla_sel", "priorities", "urgent"),
                    11, 600, NULL);
    int64_t p2 = make_policy(&srv, "Sel any", 20, json_pack("{s:[s]}", "categories", "sla_sel"), 22,
                             600, NULL);
    int64_t p3 = make_policy(
        &srv, "Sel chat", 5,
        json_pack("{s:[s], s:[s]}", "categories", "sla_sel", "channels", "chat"), 33, 600, NULL);
    char p3path[64];
    snprintf(p3path, sizeof p3path, "/v1/sla-policies/%lld", (long long)p3);
    struct h_resp *r = call("PATCH", p3path, srv.admin_key, json_pack("{s:b}", "active", 0));
    h_expect_status(r, 200);
    h_resp_free(r);
    int64_t p4 =
        make_policy(&srv, "Sel vip", 15,
                    json_pack("{s:[s], s:[s]}", "categories", "sla_sel", "customer_tiers", "vip"),
                    44, 600, NULL);
    int64_t p5 = make_policy(&srv, "Sel potential and high", 12,
                             json_pack("{s:[s], s:[s], s:[s]}", "categories", "sla_sel", "grades",
                                       "potential", "priorities", "high"),
                             55, 600, NULL);

    expect_policy((struct cspec){.category = "sla_sel"}, p2, 22);
    expect_policy((struct cspec){.category = "sla_sel", .priority = "urgent"}, p1, 11);
    expect_policy((struct cspec){.category = "sla_sel", .tier = "vip"}, p4, 44);
    expect_policy((struct cspec){.category = "sla_sel", .priority = "urgent", .tier = "vip"}, p1,
                  11);
    expect_policy((struct cspec){.category = "sla_sel", .channel = "chat"}, p2, 22);
    expect_policy((struct cspec){.category = "sla_sel", .grade = "potential"}, p2, 22);
    expect_policy((struct cspec){.category = "sla_sel", .grade = "potential", .priority = "high"},
                  p5, 55);
    expect_policy((struct cspec){.category = "sla_sel", .grade = "explicit", .priority = "high"},
                  p2, 22);
    /* high_risk defaults to urgent. */
    expect_policy((struct cspec){.category = "sla_sel", .grade = "high_risk"}, p1, 11);
    expect_policy((struct cspec){.category = "billing", .priority = "urgent"}, 1, 240);

    /* Activated, the chat policy wins by position; moved behind, it loses. */
    r = call("PATCH", p3path, srv.admin_key, json_pack("{s:b}", "active", 1));
    h_expect_status(r, 200);
    h_resp_free(r);
    expect_policy((struct cspec){.category = "sla_sel", .channel = "chat", .priority = "urgent"},
                  p3, 33);
    r = call("PATCH", p3path, srv.admin_key, json_pack("{s:i}", "position", 30));
    h_expect_status(r, 200);
    h_resp_free(r);
    expect_policy((struct cspec){.category = "sla_sel", .channel = "chat"}, p2, 22);
    /* Deactivated policies leave complaints to the next match. */
    r = call("PATCH", p3path, srv.admin_key, json_pack("{s:b, s:i}", "active", 0, "position", 1));
    h_expect_status(r, 200);
    h_resp_free(r);
    expect_policy((struct cspec){.category = "sla_sel", .channel = "chat"}, p2, 22);
}

static void warning_ladder(void **state)
{
    int64_t pol =
        make_policy(&srv, "Ladder", 10, json_pack("{s:[s]}", "categories", "sla_ladder"), 20, 100,
                    "[{\"minutes_before\":1},{\"percent\":10},{\"minutes_before\":30},"
                    "{\"percent\":50},{\"minutes_before\":20}]");
    json_t *o = create_on(&srv, svc_key, (struct cspec){.category = "sla_ladder"});
    assert_int_equal(h_jint(json_object_get(o, "sla"), "policy_id"), pol);

    /* First response, 1200 s: 30 and 20 minutes before fall at or before the start. */
    static const int64_t fr_th[] = {120, 600, 1140};
    json_t *fr = clock_of(o, "first_response");
    int64_t start = h_jtime(fr, "due_at") - 1200;
    json_t *ws = json_object_get(fr, "warnings");
    if (json_array_size(ws) != 3)
        h_dump("first_response", fr);
    assert_int_equal(json_array_size(ws), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *w = json_array_get(ws, i);
        assert_int_equal(h_jint(w, "level"), (int64_t)i + 1);
        assert_int_equal(h_jtime(w, "at"), start + fr_th[i]);
        assert_true(h_jnull(w, "raised_at"));
    }
    assert_string_equal(h_jstr(fr, "warn_at"), h_jstr(json_array_get(ws, 0), "at"));

    /* Resolution, 6000 s: every entry applies, numbered in the order of their moments. */
    static const int64_t res_th[] = {600, 3000, 4200, 4800, 5940};
    json_t *res = clock_of(o, "resolution");
    start = h_jtime(res, "due_at") - 6000;
    ws = json_object_get(res, "warnings");
    assert_int_equal(json_array_size(ws), 5);
    for (size_t i = 0; i < 5; i++) {
        json_t *w = json_array_get(ws, i);
        assert_int_equal(h_jint(w, "level"), (int64_t)i + 1);
        assert_int_equal(h_jtime(w, "at"), start + res_th[i]);
    }
    assert_string_equal(h_jstr(res, "warn_at"), h_jstr(json_array_get(ws, 0), "at"));
    json_decref(o);
}

static void role_limits(void **state)
{
    struct h_resp *r;
    json_t *body = json_pack("{s:s, s:i, s:i, s:i}", "name", "Role probe", "position", 1,
                             "first_response_minutes", 10, "resolution_minutes", 10);
    const char *refused[] = {svc_key, agent_key, sup_key};
    for (size_t i = 0; i < 3; i++) {
        r = call("POST", "/v1/sla-policies", refused[i], json_incref(body));
        h_expect_problem(r, 403);
        h_resp_free(r);
        r = call("PATCH", "/v1/sla-policies/1", refused[i], json_pack("{s:i}", "position", 1));
        h_expect_problem(r, 403);
        h_resp_free(r);
        r = call("DELETE", "/v1/sla-policies/1", refused[i], NULL);
        h_expect_problem(r, 403);
        h_resp_free(r);
    }
    json_decref(body);
    /* Any key reads policies. */
    r = call("GET", "/v1/sla-policies", svc_key, NULL);
    h_expect_status(r, 200);
    h_resp_free(r);
    r = call("GET", "/v1/sla-policies/1", svc_key, NULL);
    h_expect_status(r, 200);
    h_resp_free(r);
    /* Alerts, at-risk and summary are for agents and up. */
    static const char *const agent_paths[] = {"/v1/alerts", "/v1/sla/at-risk", "/v1/sla/summary"};
    for (size_t i = 0; i < 3; i++) {
        r = call("GET", agent_paths[i], svc_key, NULL);
        h_expect_problem(r, 403);
        h_resp_free(r);
        r = call("GET", agent_paths[i], NULL, NULL);
        h_expect_problem(r, 401);
        h_resp_free(r);
        const char *allowed[] = {agent_key, sup_key, srv.admin_key};
        for (size_t k = 0; k < 3; k++) {
            r = call("GET", agent_paths[i], allowed[k], NULL);
            h_expect_status(r, 200);
            h_resp_free(r);
        }
    }
    r = call("GET", "/v1/sla-policies", NULL, NULL);
    h_expect_problem(r, 401);
    h_resp_free(r);
    /* Acknowledging: supervisors and admins only (the id does not matter for the role check). */
    r = call("POST", "/v1/alerts/1/ack", svc_key, NULL);
    h_expect_problem(r, 403);
    h_resp_free(r);
    r = call("POST", "/v1/alerts/1/ack", agent_key, NULL);
    h_expect_problem(r, 403);
    h_resp_free(r);
    r = call("POST", "/v1/alerts/987654/ack", sup_key, NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);
}

/* ---- clocks in real time ---- */

/*
 * Starts the clocks that need the full minute (A, B, G, E here and the
 * summary's complaints on srv2), then watches A's three warnings come,
 * each on time and once.
 */
static void warnings_on_time_and_once(void **state)
{
    /* The summary's server, with its own policies. */
    h_server_start(&srv2, NULL);
    make_policy(&srv2, "High", 1, json_pack("{s:[s]}", "priorities", "high"), 600, 6000, NULL);
    make_policy(&srv2, "Low", 2, json_pack("{s:[s]}", "priorities", "low"), 10, 6000,
                "[{\"percent\":1}]");
    make_policy(&srv2, "Fast", 3, NULL, 1, 600, "[{\"percent\":5}]");
    json_t *o;
    o = create_on(&srv2, srv2.admin_key, (struct cspec){.priority = "high"});
    m.s_on = h_jint(o, "id");
    json_decref(o);
    o = create_on(&srv2, srv2.admin_key, (struct cspec){.priority = "low"});
    m.s_risk = h_jint(o, "id");
    json_decref(o);
    o = create_on(&srv2, srv2.admin_key, (struct cspec){.priority = "normal"});
    m.s_brk = h_jint(o, "id");
    m.s_brk_due = h_jtime(clock_of(o, "first_response"), "due_at");
    json_decref(o);
    o = create_on(&srv2, srv2.admin_key, (struct cspec){.priority = "normal"});
    m.s_late = h_jint(o, "id");
    m.s_late_due = h_jtime(clock_of(o, "first_response"), "due_at");
    json_decref(o);
    o = create_on(&srv2, srv2.admin_key, (struct cspec){.priority = "high"});
    m.s_pause = h_jint(o, "id");
    json_decref(o);
    act_quiet_on(&srv2, srv2.admin_key, m.s_pause, "start");
    act_quiet_on(&srv2, srv2.admin_key, m.s_pause, "pend");
    o = create_on(&srv2, srv2.admin_key, (struct cspec){.priority = "high"});
    m.s_res_ok = h_jint(o, "id");
    json_decref(o);
    act_quiet_on(&srv2, srv2.admin_key, m.s_res_ok, "start");
    act_quiet_on(&srv2, srv2.admin_key, m.s_res_ok, "resolve");

    /* On srv: E (re-selected once its minute is over), G (met late), B (met at once), A. */
    o = create_on(&srv, svc_key, (struct cspec){.category = "sla_resel"});
    m.e = h_jint(o, "id");
    assert_int_equal(h_jint(json_object_get(o, "sla"), "policy_id"), p_resel_long);
    m.e_start = h_jtime(clock_of(o, "first_response"), "due_at") - 600;
    json_decref(o);
    o = create_on(&srv, svc_key, (struct cspec){.category = "sla_fast"});
    m.g = h_jint(o, "id");
    m.g_due = h_jtime(clock_of(o, "first_response"), "due_at");
    json_decref(o);
    o = create_on(&srv, svc_key, (struct cspec){.category = "sla_fast"});
    m.b = h_jint(o, "id");
    json_decref(o);
    json_t *b = act(m.b, "acknowledge");
    json_t *bfr = clock_of(b, "first_response");
    assert_string_equal(h_jstr(bfr, "state"), "met");
    assert_non_null(h_jstr(bfr, "met_at"));
    assert_true(json_is_false(json_object_get(bfr, "breached")));
    assert_true(h_jnull(bfr, "remaining_seconds"));
    json_decref(b);

    o = create_on(&srv, svc_key, (struct cspec){.category = "sla_fast"});
    m.a = h_jint(o, "id");
    assert_int_equal(h_jint(json_object_get(o, "sla"), "policy_id"), p_fast);
    json_t *fr = clock_of(o, "first_response");
    m.a_due = h_jtime(fr, "due_at");
    int64_t start = m.a_due - 60;
    h_expect_between(start - h_jtime(o, "created_at"), 0, 1, "clock starts at creation");
    static const int64_t th[] = {3, 6, 12};
    int64_t at[3];
    for (int l = 1; l <= 3; l++) {
        at[l - 1] = h_jtime(warning_of(fr, l), "at");
        assert_int_equal(at[l - 1], start + th[l - 1]);
    }
    assert_int_equal(h_jtime(fr, "warn_at"), at[0]);
    assert_string_equal(h_jstr(fr, "state"), "on_track");
    m.started = true;
    json_decref(o);

    /* Each level in turn: raised within 2 s, and the complaint shows it. */
    for (int l = 1; l <= 3; l++) {
        json_t *alerts = wait_alerts(m.a, (size_t)l, (at[l - 1] + 3) * 1000 - h_real_ms());
        json_t *a = the_alert(alerts, "sla_warning", "first_response", 1, l);
        assert_int_equal(h_jint(a, "complaint_id"), m.a);
        expect_on_time(&srv, a, at[l - 1]);
        assert_int_equal(json_array_size(alerts), (size_t)l);
        json_decref(alerts);
        json_t *c = get_complaint(m.a);
        json_t *k = clock_of(c, "first_response");
        assert_string_equal(h_jstr(k, "state"), "at_risk");
        json_t *w = warning_of(k, l);
        assert_int_equal(h_jtime(w, "at"), at[l - 1]);
        h_expect_between(h_jtime(w, "raised_at") - at[l - 1], 0, 2, "raised_at");
        json_decref(c);
    }
    /* A few seconds more: still one alert per level, one timeline event per alert. */
    h_sleep_ms(3000);
    json_t *alerts = alerts_of(m.a);
    assert_int_equal(json_array_size(alerts), 3);
    json_t *evs = events_on(&srv, m.a);
    assert_int_equal(count_events(evs, "sla_warning"), 3);
    assert_int_equal(count_events(evs, "sla_breached"), 0);
    size_t i;
    json_t *a;
    json_array_foreach(alerts, i, a)
    {
        assert_int_equal(h_jint(a, "level"), (int64_t)i + 1);
        expect_alert_event(evs, a);
    }
    json_decref(evs);
    json_decref(alerts);

    /* Met at once: no first response alerts (resolution is hours away). */
    alerts = alerts_of(m.b);
    assert_int_equal(json_array_size(alerts), 0);
    json_decref(alerts);

    /* The summary, before the minute is over: exact on a server of its own. */
    struct h_resp *r = call_on(&srv2, "GET", "/v1/sla/summary", srv2.admin_key, NULL);
    h_expect_status(r, 200);
    json_t *want = json_loads(
        "{\"open\":{\"on_track\":1,\"at_risk\":3,\"breached\":0,\"paused\":1},"
        "\"first_response\":{\"total\":2,\"met_in_time\":2,\"compliance_percent\":100.0},"
        "\"resolution\":{\"total\":1,\"met_in_time\":1,\"compliance_percent\":100.0},"
        "\"window_days\":30}",
        0, NULL);
    if (!json_equal(r->json, want))
        h_dump("summary", r->json);
    assert_true(json_equal(r->json, want));
    json_decref(want);
    h_resp_free(r);
}

static void pause_shifts_every_moment(void **state)
{
    json_t *o = create_on(&srv, svc_key, (struct cspec){.category = "sla_res"});
    int64_t id = h_jint(o, "id");
    assert_int_equal(h_jint(json_object_get(o, "sla"), "policy_id"), p_res);
    json_decref(o);
    json_t *c = act(id, "start");
    json_t *res = clock_of(c, "resolution");
    int64_t due0 = h_jtime(res, "due_at");
    static const int64_t th[] = {3, 6, 12};
    for (int l = 1; l <= 3; l++)
        assert_int_equal(h_jtime(warning_of(res, l), "at"), due0 - 60 + th[l - 1]);
    json_decref(c);

    /* Waiting on the customer: the clocks stop. */
    int64_t paused_at = h_real_ms();
    c = act(id, "pend");
    json_t *sla = json_object_get(c, "sla");
    assert_true(json_is_true(json_object_get(sla, "paused")));
    res = clock_of(c, "resolution");
    assert_string_equal(h_jstr(res, "state"), "paused");
    assert_string_equal(h_jstr(clock_of(c, "first_response"), "state"), "met");
    json_decref(c);
    c = get_complaint(id);
    assert_string_equal(h_jstr(clock_of(c, "resolution"), "state"), "paused");
    json_decref(c);

    /* Past the first warning's unpaused moment: nothing is raised. */
    h_sleep_until_ms(paused_at + 5000);
    json_t *alerts = alerts_of(id);
    if (json_array_size(alerts))
        h_dump("alerts while paused", alerts);
    assert_int_equal(json_array_size(alerts), 0);
    json_decref(alerts);

    int64_t resumed_ms = h_real_ms();
    c = act(id, "resume");
    assert_true(json_is_false(json_object_get(json_object_get(c, "sla"), "paused")));
    res = clock_of(c, "resolution");
    int64_t due1 = h_jtime(res, "due_at");
    int64_t shift = due1 - due0;
    h_expect_between(shift, 4, 7, "due_at moved by the pause");
    assert_string_equal(h_jstr(res, "state"), "on_track");
    h_expect_between(h_jint(res, "remaining_seconds"), 60 - 3 - 2, 60, "remaining after resume");
    int64_t at[3];
    for (int l = 1; l <= 3; l++) {
        at[l - 1] = h_jtime(warning_of(res, l), "at");
        assert_int_equal(at[l - 1], due0 - 60 + th[l - 1] + shift);
        assert_true(h_jnull(warning_of(res, l), "raised_at"));
    }
    assert_int_equal(h_jtime(res, "warn_at"), at[0]);
    json_decref(c);

    /* The warnings come at the shifted moments, once each. */
    alerts = wait_alerts(id, 3, (at[2] + 3) * 1000 - h_real_ms());
    assert_int_equal(json_array_size(alerts), 3);
    for (int l = 1; l <= 3; l++) {
        json_t *a = the_alert(alerts, "sla_warning", "resolution", 1, l);
        expect_on_time(&srv, a, at[l - 1]);
        assert_true(h_jtime(a, "created_at") * 1000 >= resumed_ms - 1000);
    }
    json_t *evs = events_on(&srv, id);
    size_t i, paused_ev = 0, resumed_ev = 0;
    json_t *ev;
    json_array_foreach(evs, i, ev)
    {
        const char *kind = h_jstr(ev, "kind");
        if (strcmp(kind, "sla_paused") == 0)
            paused_ev = i + 1;
        else if (strcmp(kind, "sla_resumed") == 0)
            resumed_ev = i + 1;
        else if (strcmp(kind, "sla_warning") == 0)
            assert_true(resumed_ev && i + 1 > resumed_ev); /* none before the resume */
    }
    assert_true(paused_ev && resumed_ev > paused_ev);
    assert_int_equal(count_events(evs, "sla_paused"), 1);
    assert_int_equal(count_events(evs, "sla_resumed"), 1);
    assert_int_equal(count_events(evs, "sla_warning"), 3);
    size_t k;
    json_t *a;
    json_array_foreach(alerts, k, a) expect_alert_event(evs, a);
    json_decref(evs);
    json_decref(alerts);
}

static void reselect_keeps_elapsed_time(void **state)
{
    json_t *o = create_on(&srv, svc_key, (struct cspec){.category = "sla_resel"});
    m.d = h_jint(o, "id");
    assert_int_equal(h_jint(json_object_get(o, "sla"), "policy_id"), p_resel_long);
    int64_t due_long = h_jtime(clock_of(o, "first_response"), "due_at");
    int64_t start = due_long - 600;
    const char *res_due = h_jstr(clock_of(o, "resolution"), "due_at");
    char res_due_before[32];
    snprintf(res_due_before, sizeof res_due_before, "%s", res_due);
    json_decref(o);

    /* Seven seconds elapse under the ten-minute target… */
    h_sleep_until_ms((start + 8) * 1000);
    int64_t patched_ms = h_real_ms();
    json_t *c = patch_priority(m.d, "urgent");
    assert_int_equal(h_jint(json_object_get(c, "sla"), "policy_id"), p_resel_short);
    json_t *fr = clock_of(c, "first_response");
    /* …and count toward the one-minute target: due a minute after the start. */
    assert_int_equal(h_jtime(fr, "due_at"), start + 60);
    assert_int_equal(h_jint(fr, "cycle"), 1);
    /* Levels 1 (3 s) and 2 (6 s) are past: dated when the elapsed time
     * crossed them, and raised at once. Level 3 (30 s) keeps its moment. */
    int64_t at1 = h_jtime(warning_of(fr, 1), "at"), at2 = h_jtime(warning_of(fr, 2), "at");
    assert_int_equal(at1, start + 3);
    assert_int_equal(at2, start + 6);
    m.d_l3_at = h_jtime(warning_of(fr, 3), "at");
    assert_int_equal(m.d_l3_at, start + 30);
    /* The resolution target is the same length: its due time stays. */
    assert_string_equal(h_jstr(clock_of(c, "resolution"), "due_at"), res_due_before);
    json_decref(c);

    json_t *alerts = wait_alerts(m.d, 2, 3000);
    assert_int_equal(json_array_size(alerts), 2);
    for (int l = 1; l <= 2; l++) {
        json_t *a = the_alert(alerts, "sla_warning", "first_response", 1, l);
        assert_int_equal(h_jtime(a, "scheduled_at"), l == 1 ? at1 : at2);
        h_expect_between(h_jtime(a, "created_at") * 1000 - patched_ms, -1000, 2000, "raised at once");
    }
    json_t *evs = events_on(&srv, m.d);
    size_t i;
    json_t *a;
    json_array_foreach(alerts, i, a) expect_alert_event(evs, a);
    assert_int_equal(count_events(evs, "updated"), 1);
    json_decref(evs);
    json_decref(alerts);

    /* Back to normal priority: the long policy again, still with the elapsed time. */
    c = patch_priority(m.d, "normal");
    assert_int_equal(h_jint(json_object_get(c, "sla"), "policy_id"), p_resel_long);
    assert_int_equal(h_jtime(clock_of(c, "first_response"), "due_at"), start + 600);
    json_decref(c);
    c = patch_priority(m.d, "urgent");
    fr = clock_of(c, "first_response");
    assert_int_equal(h_jtime(fr, "due_at"), start + 60);
    /* Warnings already raised stay raised, and are not raised again. */
    h_expect_between(h_jtime(warning_of(fr, 1), "raised_at") * 1000 - patched_ms, -1000, 3000,
                   "level 1 stays raised");
    const char *l2 = h_jstr(warning_of(fr, 2), "raised_at");
    const char *l2_at = h_jstr(warning_of(fr, 2), "at");
    char l2_raised[32], l2_due[32];
    snprintf(l2_raised, sizeof l2_raised, "%s", l2 ? l2 : "null");
    snprintf(l2_due, sizeof l2_due, "%s", l2_at ? l2_at : "null");
    json_decref(c);
    h_sleep_ms(1500);
    alerts = alerts_of(m.d);
    assert_int_equal(json_array_size(alerts), 2);
    const char *l2_alert =
        h_jstr(the_alert(alerts, "sla_warning", "first_response", 1, 2), "created_at");
    char l2_created[32];
    snprintf(l2_created, sizeof l2_created, "%s", l2_alert);
    json_decref(alerts);
    evs = events_on(&srv, m.d);
    assert_int_equal(count_events(evs, "sla_warning"), 2);
    json_decref(evs);
    c = get_complaint(m.d);
    const char *l2_now = h_jstr(warning_of(clock_of(c, "first_response"), 2), "raised_at");
    char l2_later[32];
    snprintf(l2_later, sizeof l2_later, "%s", l2_now ? l2_now : "null");
    json_decref(c);
    /* Level 2 was raised under the urgent policy before the round trip through the
     * one-level ladder of the normal one: it must still read as raised, when it was. */
    if (strcmp(l2_raised, l2_created) != 0 || strcmp(l2_later, l2_created) != 0)
        fail_msg("level 2 alert created at %s; re-selected back to this policy, the complaint"
                 " says level 2 raised_at %s (at %s), and raised_at %s a moment later",
                 l2_created, l2_raised, l2_due, l2_later);
}

static void reopen_starts_a_new_cycle(void **state)
{
    json_t *o = create_on(&srv, svc_key, (struct cspec){.category = "sla_cycle"});
    m.f = h_jint(o, "id");
    assert_int_equal(h_jint(json_object_get(o, "sla"), "policy_id"), p_cycle);
    json_decref(o);
    json_t *c = act(m.f, "start");
    int64_t due1 = h_jtime(clock_of(c, "resolution"), "due_at");
    json_decref(c);

    /* Cycle 1's first warning (3 s), then resolved in time. */
    json_t *alerts = wait_alerts(m.f, 1, (due1 - 60 + 3 + 3) * 1000 - h_real_ms());
    expect_on_time(&srv, the_alert(alerts, "sla_warning", "resolution", 1, 1), due1 - 57);
    json_decref(alerts);
    c = act(m.f, "resolve");
    json_t *res = clock_of(c, "resolution");
    assert_int_equal(h_jint(res, "cycle"), 1);
    assert_string_equal(h_jstr(res, "state"), "met");
    assert_true(json_is_false(json_object_get(res, "breached")));
    json_decref(c);

    /* Reopened: cycle 2, with the whole minute again. */
    int64_t reopened_ms = h_real_ms();
    c = act(m.f, "reopen");
    res = clock_of(c, "resolution");
    assert_int_equal(h_jint(res, "cycle"), 2);
    assert_true(h_jnull(res, "met_at"));
    assert_true(json_is_false(json_object_get(res, "breached")));
    assert_string_equal(h_jstr(res, "state"), "on_track");
    int64_t due2 = h_jtime(res, "due_at");
    h_expect_between(due2 * 1000 - reopened_ms, 58000, 61000, "cycle 2 due a full minute on");
    int64_t at1 = h_jtime(warning_of(res, 1), "at");
    assert_int_equal(at1, due2 - 57);
    assert_int_equal(h_jtime(warning_of(res, 2), "at"), due2 - 30);
    assert_true(h_jnull(warning_of(res, 1), "raised_at"));
    /* The first response was met in cycle 1 and stays met. */
    assert_string_equal(h_jstr(clock_of(c, "first_response"), "state"), "met");
    assert_int_equal(h_jint(c, "reopen_count"), 1);
    json_decref(c);

    alerts = wait_alerts(m.f, 2, (at1 + 3) * 1000 - h_real_ms());
    assert_int_equal(json_array_size(alerts), 2);
    json_t *old = the_alert(alerts, "sla_warning", "resolution", 1, 1);
    json_t *fresh = the_alert(alerts, "sla_warning", "resolution", 2, 1);
    expect_on_time(&srv, fresh, at1);
    assert_true(h_jint(fresh, "id") > h_jint(old, "id"));
    json_t *evs = events_on(&srv, m.f);
    expect_alert_event(evs, old);
    expect_alert_event(evs, fresh);
    assert_int_equal(count_events(evs, "sla_warning"), 2);
    json_decref(evs);
    json_decref(alerts);
}

/* Re-selected while paused: the paused time stays excluded, the met target stays met. */
static void reselect_while_paused(void **state)
{
    json_t *o = create_on(&srv, svc_key, (struct cspec){.category = "sla_resel_res"});
    int64_t id = h_jint(o, "id");
    assert_int_equal(h_jint(json_object_get(o, "sla"), "policy_id"), p_rr_long);
    json_decref(o);
    json_t *c = act(id, "start");
    int64_t start = h_jtime(clock_of(c, "resolution"), "due_at") - 600;
    char fr_met[32];
    snprintf(fr_met, sizeof fr_met, "%s", h_jstr(clock_of(c, "first_response"), "met_at"));
    json_decref(c);
    int64_t paused_ms = h_real_ms();
    json_decref(act(id, "pend"));

    h_sleep_until_ms(paused_ms + 2000);
    c = patch_priority(id, "urgent");
    json_t *sla = json_object_get(c, "sla");
    assert_int_equal(h_jint(sla, "policy_id"), p_rr_short);
    assert_true(json_is_true(json_object_get(sla, "paused")));
    json_t *res = clock_of(c, "resolution");
    assert_string_equal(h_jstr(res, "state"), "paused");
    json_t *fr = clock_of(c, "first_response");
    assert_string_equal(h_jstr(fr, "state"), "met");
    assert_string_equal(h_jstr(fr, "met_at"), fr_met);
    assert_true(json_is_false(json_object_get(fr, "breached")));
    json_decref(c);

    h_sleep_until_ms(paused_ms + 4000);
    int64_t resumed_ms = h_real_ms();
    c = act(id, "resume");
    res = clock_of(c, "resolution");
    int64_t due = h_jtime(res, "due_at");
    /* A one-minute target from the start, plus the four paused seconds. */
    h_expect_between(due - start - 60, (resumed_ms - paused_ms) / 1000 - 1,
                   (resumed_ms - paused_ms) / 1000 + 1, "paused time excluded");
    int64_t at1 = h_jtime(warning_of(res, 1), "at");
    assert_int_equal(at1, due - 57);
    assert_int_equal(h_jtime(warning_of(res, 3), "at"), due - 48);
    assert_string_equal(h_jstr(res, "state"), "on_track");
    json_decref(c);

    json_t *alerts = wait_alerts(id, 1, (at1 + 3) * 1000 - h_real_ms());
    assert_int_equal(json_array_size(alerts), 1);
    json_t *a = the_alert(alerts, "sla_warning", "resolution", 1, 1);
    expect_on_time(&srv, a, at1);
    assert_true(h_jtime(a, "created_at") * 1000 >= resumed_ms - 1000);
    json_decref(alerts);
}

static void alerts_ack_and_filters(void **state)
{
    char path[128];
    struct h_resp *r;
    /* A's warnings (its breach may come any moment now: left out of the counts). */
    json_t *alerts = alerts_of(m.a);
    int64_t first = h_jint(the_alert(alerts, "sla_warning", "first_response", 1, 1), "id");
    int64_t second = h_jint(the_alert(alerts, "sla_warning", "first_response", 1, 2), "id");
    json_decref(alerts);

    snprintf(path, sizeof path, "/v1/alerts/%lld/ack", (long long)first);
    r = call("POST", path, agent_key, NULL);
    h_expect_problem(r, 403);
    h_resp_free(r);
    int64_t before_ms = h_real_ms();
    r = call("POST", path, sup_key, NULL);
    h_expect_status(r, 200);
    assert_int_equal(h_jint(r->json, "id"), first);
    assert_int_equal(h_jint(r->json, "acknowledged_by"), sup_key_id);
    h_expect_between(h_jtime(r->json, "acknowledged_at") * 1000 - before_ms, -1000, 2000,
                   "acknowledged now");
    assert_string_equal(h_jstr(r->json, "kind"), "sla_warning");
    assert_int_equal(h_jint(r->json, "complaint_id"), m.a);
    json_t *acked = json_incref(r->json);
    h_resp_free(r);
    r = call("POST", path, sup_key, NULL);
    h_expect_problem(r, 409);
    h_resp_free(r);
    r = call("POST", path, srv.admin_key, NULL);
    h_expect_problem(r, 409);
    h_resp_free(r);
    /* Admins acknowledge too. */
    snprintf(path, sizeof path, "/v1/alerts/%lld/ack", (long long)second);
    r = call("POST", path, srv.admin_key, NULL);
    h_expect_status(r, 200);
    assert_int_equal(h_jint(r->json, "acknowledged_by"), admin_key_id);
    h_resp_free(r);

    /* Filters. */
    snprintf(path, sizeof path, "/v1/alerts?kind=sla_warning&complaint_id=%lld", (long long)m.a);
    r = call("GET", path, agent_key, NULL); /* open by default */
    h_expect_status(r, 200);
    json_t *items = json_object_get(r->json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(h_jint(json_array_get(items, 0), "level"), 3);
    h_resp_free(r);
    snprintf(path, sizeof path, "/v1/alerts?state=acknowledged&complaint_id=%lld", (long long)m.a);
    /* (only warnings can be acknowledged yet) */
    r = call("GET", path, agent_key, NULL);
    h_expect_status(r, 200);
    items = json_object_get(r->json, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_int_equal(h_jint(json_array_get(items, 0), "id"), second); /* newest first */
    assert_true(json_equal(json_array_get(items, 1), acked));
    h_resp_free(r);
    snprintf(path, sizeof path, "/v1/alerts?state=all&kind=sla_breach&complaint_id=%lld",
             (long long)m.b);
    r = call("GET", path, agent_key, NULL);
    h_expect_status(r, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 0);
    h_resp_free(r);
    r = call("GET", "/v1/alerts?state=all&kind=sla_breach&limit=200", agent_key, NULL);
    h_expect_status(r, 200);
    size_t j;
    json_t *one;
    json_array_foreach(json_object_get(r->json, "items"), j, one)
    {
        assert_string_equal(h_jstr(one, "kind"), "sla_breach");
        assert_int_equal(h_jint(one, "level"), 0);
    }
    h_resp_free(r);
    snprintf(path, sizeof path, "/v1/alerts?state=all&kind=sla_warning&complaint_id=%lld",
             (long long)m.a);
    r = call("GET", path, agent_key, NULL);
    h_expect_status(r, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 3);
    h_resp_free(r);

    /* Every alert, a page at a time, newest first, each once. */
    char cursor[256] = "";
    int64_t last = INT64_MAX, top = 0;
    size_t seen = 0;
    for (int page = 0; page < 100; page++) {
        char p[384];
        snprintf(p, sizeof p, "/v1/alerts?state=all&limit=2%s%s", *cursor ? "&cursor=" : "",
                 cursor);
        r = call("GET", p, agent_key, NULL);
        h_expect_status(r, 200);
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(r->json, "items"), i, it)
        {
            assert_true(h_jint(it, "id") < last);
            last = h_jint(it, "id");
            if (!top)
                top = last;
            seen++;
        }
        json_t *next = json_object_get(r->json, "next_cursor");
        bool more = json_is_string(next);
        if (more)
            snprintf(cursor, sizeof cursor, "%s", json_string_value(next));
        h_resp_free(r);
        if (!more)
            break;
    }
    /* (alerts raised meanwhile have higher ids than the first page) */
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM alerts WHERE id <= %lld", (long long)top);
    json_t *rows = h_sql(&srv, sql);
    assert_int_equal(
        seen, strtoull(json_string_value(json_array_get(json_array_get(rows, 0), 0)), NULL, 10));
    json_decref(rows);

    /* Bad filters. */
    static const char *const bad[][2] = {
        {"/v1/alerts?state=closed", "state"},
        {"/v1/alerts?kind=sla_warn", "kind"},
        {"/v1/alerts?complaint_id=abc", "complaint_id"},
        {"/v1/alerts?complaint_id=0", "complaint_id"},
        {"/v1/alerts?limit=201", "limit"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = call("GET", bad[i][0], agent_key, NULL);
        h_expect_invalid(r, bad[i][1]);
        h_resp_free(r);
    }
    json_decref(acked);
}

/* The earliest unmet, running due time of a complaint in a list. */
static int64_t earliest_due(const json_t *c)
{
    int64_t best = 0;
    static const char *const targets[] = {"first_response", "resolution"};
    for (int i = 0; i < 2; i++) {
        json_t *k = json_object_get(json_object_get(c, "sla"), targets[i]);
        if (!json_is_object(k) || !h_jnull(k, "met_at") || h_jnull(k, "due_at"))
            continue;
        int64_t d = h_jtime(k, "due_at");
        if (!best || d < best)
            best = d;
    }
    return best;
}

/* The ids of GET /v1/sla/at-risk?within_minutes=w, checking order and openness. */
static json_t *at_risk(int within)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/sla/at-risk?within_minutes=%d&limit=200", within);
    struct h_resp *r = call("GET", path, agent_key, NULL);
    h_expect_status(r, 200);
    json_t *ids = json_array();
    int64_t last = 0, limit = (int64_t)time(NULL) + within * 60 + 5;
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(r->json, "items"), i, c)
    {
        const char *st = h_jstr(c, "status");
        assert_true(strcmp(st, "resolved") != 0 && strcmp(st, "closed") != 0 &&
                    strcmp(st, "pending_customer") != 0);
        int64_t d = earliest_due(c);
        assert_true(d > 0);
        assert_true(d >= last); /* soonest first */
        assert_true(d <= limit);
        last = d;
        json_array_append_new(ids, json_integer(h_jint(c, "id")));
    }
    h_resp_free(r);
    return ids;
}

static long index_of(const json_t *ids, int64_t id)
{
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        if (json_integer_value(v) == id)
            return (long)i;
    }
    return -1;
}

static void at_risk_order_and_window(void **state)
{
    /* Created latest-due first, so that only the due times can order them. */
    int64_t c120 = create_id((struct cspec){.category = "sla_risk120"});
    int64_t c10 = create_id((struct cspec){.category = "sla_risk10"});
    int64_t c3 = create_id((struct cspec){.category = "sla_risk3"});
    int64_t met = create_id((struct cspec){.category = "sla_risk3"});
    json_decref(act(met, "acknowledge")); /* next due: resolution, 600 min */
    int64_t paused = create_id((struct cspec){.category = "sla_risk3"});
    json_decref(act(paused, "start"));
    json_decref(act(paused, "pend"));
    int64_t done = create_id((struct cspec){.category = "sla_risk3"});
    json_decref(act(done, "start"));
    json_decref(act(done, "resolve"));
    const int64_t risk_ids[] = {c3, c10, c120}, pols[] = {p_risk3, p_risk10, p_risk120};
    for (size_t k = 0; k < 3; k++) {
        json_t *cj = get_complaint(risk_ids[k]);
        assert_int_equal(h_jint(json_object_get(cj, "sla"), "policy_id"), pols[k]);
        json_decref(cj);
    }

    json_t *ids = at_risk(5);
    assert_true(index_of(ids, c3) >= 0);
    assert_true(index_of(ids, c10) < 0 && index_of(ids, c120) < 0 && index_of(ids, met) < 0);
    assert_true(index_of(ids, paused) < 0 && index_of(ids, done) < 0);
    json_decref(ids);

    ids = at_risk(15);
    assert_true(index_of(ids, c3) >= 0 && index_of(ids, c10) > index_of(ids, c3));
    assert_true(index_of(ids, c120) < 0 && index_of(ids, met) < 0);
    json_decref(ids);

    ids = at_risk(130);
    assert_true(index_of(ids, c3) >= 0 && index_of(ids, c10) > index_of(ids, c3) &&
                index_of(ids, c120) > index_of(ids, c10));
    assert_true(index_of(ids, met) < 0 && index_of(ids, paused) < 0 && index_of(ids, done) < 0);
    json_decref(ids);

    ids = at_risk(700);
    assert_true(index_of(ids, met) > index_of(ids, c120));
    assert_true(index_of(ids, paused) < 0 && index_of(ids, done) < 0);
    json_decref(ids);

    /* Overdue ones (the minute-long clocks of this file, once past) come first. */
    ids = at_risk(0);
    assert_true(index_of(ids, c3) < 0);
    json_decref(ids);

    /* The default window is an hour; limit bounds the list. */
    struct h_resp *r = call("GET", "/v1/sla/at-risk", agent_key, NULL);
    h_expect_status(r, 200);
    json_t *items = json_object_get(r->json, "items");
    bool has3 = false, has120 = false;
    size_t i;
    json_t *c;
    json_array_foreach(items, i, c)
    {
        has3 |= h_jint(c, "id") == c3;
        has120 |= h_jint(c, "id") == c120;
    }
    assert_true(has3 && !has120);
    assert_true(json_is_null(json_object_get(r->json, "next_cursor")));
    h_resp_free(r);
    r = call("GET", "/v1/sla/at-risk?within_minutes=700&limit=1", agent_key, NULL);
    h_expect_status(r, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 1);
    h_resp_free(r);

    static const char *const bad[] = {"-1", "abc", "5256001", "1.5", ""};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char path[96];
        snprintf(path, sizeof path, "/v1/sla/at-risk?within_minutes=%s", bad[k]);
        r = call("GET", path, agent_key, NULL);
        h_expect_invalid(r, "within_minutes");
        h_resp_free(r);
    }
}

/*
 * The minute is over for A, G and the summary's complaints: each breach
 * raised on time and once; B (met at once) never alerted; G met late
 * counts as breached; D's last warning came at its moment; F's first
 * cycle raised nothing after it was met.
 */
static void breach_on_time_and_once(void **state)
{
    assert_true(m.started);
    int64_t wait_to = m.a_due;
    if (m.g_due > wait_to)
        wait_to = m.g_due;
    if (m.s_brk_due > wait_to)
        wait_to = m.s_brk_due;
    if (m.s_late_due > wait_to)
        wait_to = m.s_late_due;
    if (m.d && m.d_l3_at > wait_to)
        wait_to = m.d_l3_at;
    h_sleep_until_ms(wait_to * 1000 + 2500);

    /* A: three warnings and the breach, each once. */
    json_t *alerts = wait_alerts(m.a, 4, 2000);
    assert_int_equal(json_array_size(alerts), 4);
    json_t *breach = the_alert(alerts, "sla_breach", "first_response", 1, 0);
    expect_on_time(&srv, breach, m.a_due);
    json_t *c = get_complaint(m.a);
    json_t *fr = clock_of(c, "first_response");
    assert_string_equal(h_jstr(fr, "state"), "breached");
    assert_true(json_is_true(json_object_get(fr, "breached")));
    assert_true(h_jint(fr, "remaining_seconds") < 0);
    assert_int_equal(h_jtime(fr, "due_at"), m.a_due);
    json_decref(c);
    json_decref(alerts);

    /* G: breached; then met late, which still counts as breached. */
    alerts = wait_alerts(m.g, 4, 2000);
    expect_on_time(&srv, the_alert(alerts, "sla_breach", "first_response", 1, 0), m.g_due);
    json_decref(alerts);
    c = act(m.g, "acknowledge");
    fr = clock_of(c, "first_response");
    assert_string_equal(h_jstr(fr, "state"), "met");
    assert_true(json_is_true(json_object_get(fr, "breached")));
    assert_true(h_jtime(fr, "met_at") > m.g_due);
    assert_true(h_jnull(fr, "remaining_seconds"));
    json_decref(c);

    /* B: acknowledged before any warning: never a first response alert. */
    alerts = alerts_of(m.b);
    assert_int_equal(json_array_size(alerts), 0);
    json_decref(alerts);

    /* D: the last warning of the re-selected ladder at its moment. */
    if (m.d) {
        alerts = alerts_of(m.d);
        expect_on_time(&srv, the_alert(alerts, "sla_warning", "first_response", 1, 3), m.d_l3_at);
        json_decref(alerts);
    }
    /* F: cycle 1 was met after its first warning; nothing more came for it. */
    if (m.f) {
        alerts = alerts_of(m.f);
        assert_int_equal(count_alerts(alerts, "sla_warning", "resolution", 1, -1, NULL), 1);
        assert_int_equal(count_alerts(alerts, "sla_breach", "resolution", 1, -1, NULL), 0);
        json_decref(alerts);
    }

    /* The summary's server: its breach came, and the counts follow. */
    alerts = wait_alerts_on(&srv2, m.s_brk, 2, 2000);
    expect_on_time(&srv2, the_alert(alerts, "sla_breach", "first_response", 1, 0), m.s_brk_due);
    json_decref(alerts);
    act_quiet_on(&srv2, srv2.admin_key, m.s_late, "acknowledge"); /* met late */
    struct h_resp *r = call_on(&srv2, "GET", "/v1/sla/summary", srv2.admin_key, NULL);
    h_expect_status(r, 200);
    json_t *want =
        json_loads("{\"open\":{\"on_track\":2,\"at_risk\":1,\"breached\":1,\"paused\":1},"
                   "\"first_response\":{\"total\":4,\"met_in_time\":2,\"compliance_percent\":50.0},"
                   "\"resolution\":{\"total\":1,\"met_in_time\":1,\"compliance_percent\":100.0},"
                   "\"window_days\":30}",
                   0, NULL);
    if (!json_equal(r->json, want))
        h_dump("summary", r->json);
    assert_true(json_equal(r->json, want));
    json_decref(want);
    h_resp_free(r);
    h_server_stop(&srv2, true);
    memset(&srv2, 0, sizeof srv2);

    /* A few seconds more: no duplicates anywhere. */
    h_sleep_ms(3000);
    alerts = alerts_of(m.a);
    assert_int_equal(json_array_size(alerts), 4);
    json_t *evs = events_on(&srv, m.a);
    assert_int_equal(count_events(evs, "sla_warning"), 3);
    assert_int_equal(count_events(evs, "sla_breached"), 1);
    size_t i;
    json_t *a;
    json_array_foreach(alerts, i, a) expect_alert_event(evs, a);
    json_decref(evs);
    json_decref(alerts);
    json_t *rows = h_sql(&srv, "SELECT count(*) FROM (SELECT 1 FROM alerts GROUP BY complaint_id,"
                               " target, cycle, kind, level HAVING count(*) > 1) d");
    assert_string_equal(json_string_value(json_array_get(json_array_get(rows, 0), 0)), "0");
    json_decref(rows);
    rows = h_sql(&srv, "SELECT count(*) FROM complaint_events WHERE kind IN ('sla_warning',"
                       " 'sla_breached') GROUP BY data->>'alert_id' HAVING count(*) > 1");
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);

    /* The worker's health. */
    rows = h_sql(&srv, "SELECT count(*) FROM alerts");
    int64_t raised_before =
        strtoll(json_string_value(json_array_get(json_array_get(rows, 0), 0)), NULL, 10);
    json_decref(rows);
    r = h_req(&srv, "GET", "/health/ready", NULL);
    h_expect_status(r, 200);
    json_t *wk = json_object_get(r->json, "sla_worker");
    assert_string_equal(h_jstr(wk, "status"), "running");
    assert_true(json_is_true(json_object_get(wk, "connected")));
    h_expect_between(h_jtime(wk, "last_pass_at") - (int64_t)time(NULL), -10, 1, "last pass");
    rows = h_sql(&srv, "SELECT count(*) FROM alerts");
    h_expect_between(h_jint(wk, "alerts_raised"), raised_before,
                   strtoll(json_string_value(json_array_get(json_array_get(rows, 0), 0)), NULL, 10),
                   "alerts raised by this process");
    json_decref(rows);
    h_expect_between(h_jint(wk, "lag_last_ms"), 0, 2000, "lag_last_ms");
    h_expect_between(h_jint(wk, "lag_max_ms"), 0, 2000, "lag_max_ms");
    h_resp_free(r);
}

/*
 * E ran its first minute under the ten-minute policy; raised to urgent,
 * the one-minute target is already over: only the breach is raised, at
 * once, and the due time is where the elapsed time reached the new
 * target (a minute after the start), as in the contract's example.
 */
static void reselect_with_breach_already_past(void **state)
{
    assert_true(m.started);
    h_sleep_until_ms((m.e_start + 62) * 1000);
    int64_t patched_ms = h_real_ms();
    json_t *c = patch_priority(m.e, "urgent");
    assert_int_equal(h_jint(json_object_get(c, "sla"), "policy_id"), p_resel_short);
    json_t *fr = clock_of(c, "first_response");
    assert_string_equal(h_jstr(fr, "state"), "breached");
    assert_true(json_is_true(json_object_get(fr, "breached")));
    for (int l = 1; l <= 3; l++)
        assert_true(h_jnull(warning_of(fr, l), "raised_at"));
    const char *due_s = h_jstr(fr, "due_at");
    char due_text[32];
    snprintf(due_text, sizeof due_text, "%s", due_s ? due_s : "null");
    int64_t remaining = h_jint(fr, "remaining_seconds");
    json_decref(c);

    json_t *alerts = wait_alerts(m.e, 1, 3000);
    h_sleep_ms(2500); /* and nothing else follows */
    json_decref(alerts);
    alerts = alerts_of(m.e);
    if (json_array_size(alerts) != 1)
        h_dump("alerts", alerts);
    assert_int_equal(json_array_size(alerts), 1);
    json_t *breach = the_alert(alerts, "sla_breach", "first_response", 1, 0);
    h_expect_between(h_jtime(breach, "created_at") * 1000 - patched_ms, -1000, 2000, "raised at once");
    json_t *evs = events_on(&srv, m.e);
    expect_alert_event(evs, breach);
    assert_int_equal(count_events(evs, "sla_warning"), 0);
    json_decref(evs);
    int64_t scheduled = h_jtime(breach, "scheduled_at");
    json_decref(alerts);

    /* The moment the elapsed time reached the new target. */
    if (h_epoch(due_text) != m.e_start + 60 || scheduled != m.e_start + 60)
        fail_msg("started %lld, re-selected to a 60 s target at %lld: due_at %s (%lld), "
                 "breach scheduled_at %lld, remaining_seconds %lld; want due_at and "
                 "scheduled_at %lld",
                 (long long)m.e_start, (long long)(patched_ms / 1000), due_text,
                 (long long)h_epoch(due_text), (long long)scheduled, (long long)remaining,
                 (long long)(m.e_start + 60));
}

/* Last: SIGTERM must give exit 0, which under ASan also means nothing leaked. */
static void server_stops_cleanly(void **state)
{
    h_server_stop(&srv, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(policies_crud_and_validation),
        cmocka_unit_test(policy_selection),
        cmocka_unit_test(warning_ladder),
        cmocka_unit_test(role_limits),
        cmocka_unit_test(warnings_on_time_and_once),
        cmocka_unit_test(pause_shifts_every_moment),
        cmocka_unit_test(reselect_keeps_elapsed_time),
        cmocka_unit_test(reopen_starts_a_new_cycle),
        cmocka_unit_test(reselect_while_paused),
        cmocka_unit_test(alerts_ack_and_filters),
        cmocka_unit_test(at_risk_order_and_window),
        cmocka_unit_test(breach_on_time_and_once),
        cmocka_unit_test(reselect_with_breach_already_past),
        cmocka_unit_test(server_stops_cleanly),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
