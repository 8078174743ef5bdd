/*
 * SLA clocks, alerts and policies through the real server. Policies of
 * one minute with warnings at 5, 10 and 20 per cent (3, 6 and 12
 * seconds) make every moment near; each test starts its own clocks and
 * moves the servers' test clock (harness.h) to just before each moment
 * it waits for, so that the moment itself still comes in real time and
 * is checked for being on time (within 2 s) and once, in /v1/alerts and
 * in the timeline: a breach; a target met late counts as breached;
 * nothing after the target is met; nothing while paused, and every
 * moment shifted by the pause; re-selection of the policy on a priority
 * change keeps the elapsed time, also with the new target already past
 * and while paused; a reopen starts resolution cycle 2 with the full
 * target. Also the policies API (CRUD, validation, selection by position
 * and match, the warning ladder), alert acknowledgement and filters, the
 * at-risk view, the summary (on a server of its own, so that its counts
 * are exact) and the role limits.
 *
 * The tests do not depend on one another's order: clocks left running by
 * one test may raise alerts while another moves the clock, and no test
 * counts what it did not create, except the checks that nothing anywhere
 * was raised twice. test_sla_realtime watches warnings come in real time
 * with the clock never moved, and checks the worker's own lag figures.
 *
 * PostgreSQL stamps created_at (complaints, alerts, events) and
 * acknowledged_at from the wall clock, which the test clock does not
 * move; checks that compare those with a business moment add
 * h_clock_offset_ms().
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
    p_risk10, p_risk120, p_page5, p_page20;

/* A moment waited for comes this long after the clock's jump, in real time. */
#define LEAD_MS 1000

/* Room for a list cursor (include/ombud/cursor.h: OMBUD_CURSOR_BUFLEN). */
#define OMBUD_TEST_CURSOR_LEN 160

/* ---- helpers ---- */

static struct h_resp *call(const char *method, const char *path, const char *key, json_t *body)
{
    return h_call_json(&srv, method, path, key, body, NULL);
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
    return h_post_complaint(s, key, b);
}

static int64_t create_id(struct cspec c)
{
    json_t *o = create_on(&srv, svc_key, c);
    int64_t id = h_jint(o, "id");
    json_decref(o);
    return id;
}

static json_t *get_complaint(int64_t id)
{
    return h_get_complaint(&srv, agent_key, id);
}

static json_t *act(int64_t id, const char *action)
{
    return h_transition(&srv, agent_key, id, action);
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

/* A complaint's created_at (PostgreSQL's wall clock) on the servers'
 * clock, for a complaint created since the clock last moved. */
static int64_t created_on_clock(const json_t *c)
{
    return h_jtime(c, "created_at") + h_clock_offset_ms() / 1000;
}

/* Moves srv's clock on until it reads at least at_ms (no waiting in real
 * time), and waits for a pass of its worker there. */
static void advance_to_ms(int64_t at_ms)
{
    int64_t ahead = at_ms - h_now_ms();
    if (ahead > 0)
        h_clock_advance(&srv, (ahead + 999) / 1000);
}

/* Moves srv's clock to about LEAD_MS before the moment (epoch s), and
 * waits (in real time) for n alerts of complaint id, at most until 3 s
 * after the moment. */
static json_t *alerts_at(int64_t id, int64_t moment, size_t n)
{
    h_clock_advance_to(&srv, moment, LEAD_MS);
    return h_wait_alerts(&srv, id, n, (moment + 3) * 1000 - h_now_ms());
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
    admin_key_id = h_sql_int(&srv, "SELECT min(id) FROM api_keys WHERE role = 'admin'");

    static const char *const cats[] = {"sla_fast",   "sla_res",       "sla_cycle",   "sla_resel",
                                       "sla_risk3",  "sla_risk10",    "sla_risk120", "sla_sel",
                                       "sla_ladder", "sla_resel_res", "sla_page5",   "sla_page20"};
    for (size_t i = 0; i < sizeof cats / sizeof cats[0]; i++)
        h_make_category(&srv, cats[i]);
    /* First response in a minute; warnings at 3, 6 and 12 s. */
    p_fast = h_make_policy(&srv, "Fast first response", 10,
                           json_pack("{s:[s]}", "categories", "sla_fast"), 1, 600, LADDER_FAST, 0);
    /* Resolution in a minute; warnings at 3, 6 and 12 s. */
    p_res = h_make_policy(&srv, "Fast resolution", 10,
                          json_pack("{s:[s]}", "categories", "sla_res"), 600, 1, LADDER_FAST, 0);
    /* Resolution in a minute; warnings at 3 and 30 s. */
    p_cycle = h_make_policy(&srv, "Cycles", 10, json_pack("{s:[s]}", "categories", "sla_cycle"),
                            600, 1, "[{\"percent\":5},{\"percent\":50}]", 0);
    /* Re-selection: ten minutes (one warning at 5 min), or one for urgent ones. */
    p_resel_long = h_make_policy(&srv, "Re-selection, long", 20,
                                 json_pack("{s:[s]}", "categories", "sla_resel"), 10, 600,
                                 "[{\"percent\":50}]", 0);
    p_resel_short = h_make_policy(
        &srv, "Re-selection, urgent", 10,
        json_pack("{s:[s], s:[s]}", "categories", "sla_resel", "priorities", "urgent"), 1, 600,
        "[{\"percent\":5},{\"percent\":10},{\"percent\":50}]", 0);
    /* The same for resolution: ten minutes, or one for urgent ones. */
    p_rr_long = h_make_policy(&srv, "Re-selection of resolution, long", 20,
                              json_pack("{s:[s]}", "categories", "sla_resel_res"), 600, 10,
                              "[{\"percent\":50}]", 0);
    p_rr_short = h_make_policy(
        &srv, "Re-selection of resolution, urgent", 10,
        json_pack("{s:[s], s:[s]}", "categories", "sla_resel_res", "priorities", "urgent"), 600, 1,
        LADDER_FAST, 0);
    p_risk3 = h_make_policy(&srv, "Risk 3", 10, json_pack("{s:[s]}", "categories", "sla_risk3"), 3,
                            600, NULL, 0);
    p_risk10 = h_make_policy(&srv, "Risk 10", 10, json_pack("{s:[s]}", "categories", "sla_risk10"),
                             10, 600, NULL, 0);
    p_risk120 = h_make_policy(&srv, "Risk 120", 10,
                              json_pack("{s:[s]}", "categories", "sla_risk120"), 120, 600, NULL, 0);
    /* The at-risk view's pages: first responses in 5 and 20 minutes. */
    p_page5 = h_make_policy(&srv, "Page 5", 10, json_pack("{s:[s]}", "categories", "sla_page5"), 5,
                            600, NULL, 0);
    p_page20 = h_make_policy(&srv, "Page 20", 10, json_pack("{s:[s]}", "categories", "sla_page20"),
                             20, 600, NULL, 0);
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
    json_array_foreach (items, i, it) {
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
    json_t *fr = h_sla_clock(o, "first_response");
    int64_t created = created_on_clock(o);
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
    assert_string_equal(h_jstr(h_sla_clock(again, "first_response"), "due_at"),
                        h_jstr(fr, "due_at"));
    assert_int_equal(h_jint(json_object_get(again, "sla"), "policy_id"), policy);
    json_decref(again);
    json_decref(o);
}

static void policy_selection(void **state)
{
    int64_t p1 =
        h_make_policy(&srv, "Sel urgent", 10,
                      json_pack("{s:[s], s:[s]}", "categories", "sla_sel", "priorities", "urgent"),
                      11, 600, NULL, 0);
    int64_t p2 = h_make_policy(&srv, "Sel any", 20, json_pack("{s:[s]}", "categories", "sla_sel"),
                               22, 600, NULL, 0);
    int64_t p3 = h_make_policy(
        &srv, "Sel chat", 5,
        json_pack("{s:[s], s:[s]}", "categories", "sla_sel", "channels", "chat"), 33, 600, NULL, 0);
    char p3path[64];
    snprintf(p3path, sizeof p3path, "/v1/sla-policies/%lld", (long long)p3);
    struct h_resp *r = call("PATCH", p3path, srv.admin_key, json_pack("{s:b}", "active", 0));
    h_expect_status(r, 200);
    h_resp_free(r);
    int64_t p4 =
        h_make_policy(&srv, "Sel vip", 15,
                      json_pack("{s:[s], s:[s]}", "categories", "sla_sel", "customer_tiers", "vip"),
                      44, 600, NULL, 0);
    int64_t p5 = h_make_policy(&srv, "Sel potential and high", 12,
                               json_pack("{s:[s], s:[s], s:[s]}", "categories", "sla_sel", "grades",
                                         "potential", "priorities", "high"),
                               55, 600, NULL, 0);

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
        h_make_policy(&srv, "Ladder", 10, json_pack("{s:[s]}", "categories", "sla_ladder"), 20, 100,
                      "[{\"minutes_before\":1},{\"percent\":10},{\"minutes_before\":30},"
                      "{\"percent\":50},{\"minutes_before\":20}]",
                      0);
    json_t *o = create_on(&srv, svc_key, (struct cspec){.category = "sla_ladder"});
    assert_int_equal(h_jint(json_object_get(o, "sla"), "policy_id"), pol);

    /* First response, 1200 s: 30 and 20 minutes before fall at or before the start. */
    static const int64_t fr_th[] = {120, 600, 1140};
    json_t *fr = h_sla_clock(o, "first_response");
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
    json_t *res = h_sla_clock(o, "resolution");
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

/* ---- clocks: one scenario each, on the test clock ---- */

/*
 * A first response target of a minute that no one meets: the breach is
 * raised at its moment and once (the warnings before it are skipped over
 * here; test_sla_realtime watches them come), and the complaint shows it.
 * B, acknowledged at once, never gets a first response alert.
 */
static void breach_on_time_and_once(void **state)
{
    int64_t b = create_id((struct cspec){.category = "sla_fast"});
    json_t *c = act(b, "acknowledge");
    json_t *fr = h_sla_clock(c, "first_response");
    assert_string_equal(h_jstr(fr, "state"), "met");
    assert_non_null(h_jstr(fr, "met_at"));
    assert_true(json_is_false(json_object_get(fr, "breached")));
    assert_true(h_jnull(fr, "remaining_seconds"));
    json_decref(c);

    json_t *o = create_on(&srv, svc_key, (struct cspec){.category = "sla_fast"});
    int64_t a = h_jint(o, "id");
    assert_int_equal(h_jint(json_object_get(o, "sla"), "policy_id"), p_fast);
    int64_t due = h_jtime(h_sla_clock(o, "first_response"), "due_at");
    h_expect_between(due - 60 - created_on_clock(o), 0, 1, "clock starts at creation");
    json_decref(o);

    /* Three warnings and the breach, each once; the breach on time. */
    json_t *alerts = alerts_at(a, due, 4);
    assert_int_equal(json_array_size(alerts), 4);
    json_t *breach = h_the_alert(alerts, "sla_breach", "first_response", 1, 0);
    h_expect_on_time(&srv, breach, due);
    for (int l = 1; l <= 3; l++)
        h_the_alert(alerts, "sla_warning", "first_response", 1, l);
    advance_to_ms(due * 1000 + 2500); /* well past the moment */
    c = get_complaint(a);
    fr = h_sla_clock(c, "first_response");
    assert_string_equal(h_jstr(fr, "state"), "breached");
    assert_true(json_is_true(json_object_get(fr, "breached")));
    assert_true(h_jint(fr, "remaining_seconds") < 0);
    assert_int_equal(h_jtime(fr, "due_at"), due);
    json_decref(c);
    json_decref(alerts);

    /* A few seconds more: no duplicates anywhere, and still nothing for B. */
    h_clock_advance(&srv, 3);
    alerts = h_alerts(&srv, a);
    assert_int_equal(json_array_size(alerts), 4);
    json_t *evs = h_events(&srv, a);
    assert_int_equal(h_count_events(evs, "sla_warning"), 3);
    assert_int_equal(h_count_events(evs, "sla_breached"), 1);
    size_t i;
    json_t *one;
    json_array_foreach (alerts, i, one)
        h_expect_alert_event(evs, one);
    json_decref(evs);
    json_decref(alerts);
    alerts = h_alerts(&srv, b);
    assert_int_equal(json_array_size(alerts), 0);
    json_decref(alerts);
    assert_int_equal(h_sql_int(&srv, "SELECT count(*) FROM (SELECT 1 FROM alerts GROUP BY"
                                     " complaint_id, target, cycle, kind, level"
                                     " HAVING count(*) > 1) d"),
                     0);
    json_t *rows = h_sql(&srv, "SELECT count(*) FROM complaint_events WHERE kind IN ('sla_warning',"
                               " 'sla_breached') GROUP BY data->>'alert_id' HAVING count(*) > 1");
    assert_int_equal(json_array_size(rows), 0);
    json_decref(rows);
}

/* G: breached; then met late, which still counts as breached. */
static void met_late_counts_as_breached(void **state)
{
    json_t *o = create_on(&srv, svc_key, (struct cspec){.category = "sla_fast"});
    int64_t g = h_jint(o, "id");
    int64_t due = h_jtime(h_sla_clock(o, "first_response"), "due_at");
    json_decref(o);

    json_t *alerts = alerts_at(g, due, 4);
    h_expect_on_time(&srv, h_the_alert(alerts, "sla_breach", "first_response", 1, 0), due);
    json_decref(alerts);
    advance_to_ms(due * 1000 + 2500);
    json_t *c = act(g, "acknowledge");
    json_t *fr = h_sla_clock(c, "first_response");
    assert_string_equal(h_jstr(fr, "state"), "met");
    assert_true(json_is_true(json_object_get(fr, "breached")));
    assert_true(h_jtime(fr, "met_at") > due);
    assert_true(h_jnull(fr, "remaining_seconds"));
    json_decref(c);
}

static void pause_shifts_every_moment(void **state)
{
    json_t *o = create_on(&srv, svc_key, (struct cspec){.category = "sla_res"});
    int64_t id = h_jint(o, "id");
    assert_int_equal(h_jint(json_object_get(o, "sla"), "policy_id"), p_res);
    json_decref(o);
    json_t *c = act(id, "start");
    json_t *res = h_sla_clock(c, "resolution");
    int64_t due0 = h_jtime(res, "due_at");
    static const int64_t th[] = {3, 6, 12};
    for (int l = 1; l <= 3; l++)
        assert_int_equal(h_jtime(h_sla_warning(res, l), "at"), due0 - 60 + th[l - 1]);
    json_decref(c);

    /* Waiting on the customer: the clocks stop. */
    int64_t paused_at = h_now_ms();
    c = act(id, "pend");
    json_t *sla = json_object_get(c, "sla");
    assert_true(json_is_true(json_object_get(sla, "paused")));
    res = h_sla_clock(c, "resolution");
    assert_string_equal(h_jstr(res, "state"), "paused");
    assert_string_equal(h_jstr(h_sla_clock(c, "first_response"), "state"), "met");
    json_decref(c);
    c = get_complaint(id);
    assert_string_equal(h_jstr(h_sla_clock(c, "resolution"), "state"), "paused");
    json_decref(c);

    /* Past the first warning's unpaused moment (and a worker pass there): nothing is raised. */
    advance_to_ms(paused_at + 5000);
    json_t *alerts = h_alerts(&srv, id);
    if (json_array_size(alerts))
        h_dump("alerts while paused", alerts);
    assert_int_equal(json_array_size(alerts), 0);
    json_decref(alerts);

    int64_t resumed_ms = h_real_ms(); /* to compare with created_at */
    c = act(id, "resume");
    assert_true(json_is_false(json_object_get(json_object_get(c, "sla"), "paused")));
    res = h_sla_clock(c, "resolution");
    int64_t due1 = h_jtime(res, "due_at");
    int64_t shift = due1 - due0;
    h_expect_between(shift, 4, 7, "due_at moved by the pause");
    assert_string_equal(h_jstr(res, "state"), "on_track");
    h_expect_between(h_jint(res, "remaining_seconds"), 60 - 3 - 2, 60, "remaining after resume");
    int64_t at[3];
    for (int l = 1; l <= 3; l++) {
        at[l - 1] = h_jtime(h_sla_warning(res, l), "at");
        assert_int_equal(at[l - 1], due0 - 60 + th[l - 1] + shift);
        assert_true(h_jnull(h_sla_warning(res, l), "raised_at"));
    }
    assert_int_equal(h_jtime(res, "warn_at"), at[0]);
    json_decref(c);

    /* The warnings come at the shifted moments, once each. */
    for (int l = 1; l <= 3; l++) {
        alerts = alerts_at(id, at[l - 1], (size_t)l);
        assert_int_equal(json_array_size(alerts), (size_t)l);
        json_t *a = h_the_alert(alerts, "sla_warning", "resolution", 1, l);
        h_expect_on_time(&srv, a, at[l - 1]);
        assert_true(h_jtime(a, "created_at") * 1000 >= resumed_ms - 1000);
        if (l < 3)
            json_decref(alerts);
    }
    json_t *evs = h_events(&srv, id);
    size_t i, paused_ev = 0, resumed_ev = 0;
    json_t *ev;
    json_array_foreach (evs, i, ev) {
        const char *kind = h_jstr(ev, "kind");
        if (strcmp(kind, "sla_paused") == 0)
            paused_ev = i + 1;
        else if (strcmp(kind, "sla_resumed") == 0)
            resumed_ev = i + 1;
        else if (strcmp(kind, "sla_warning") == 0)
            assert_true(resumed_ev && i + 1 > resumed_ev); /* none before the resume */
    }
    assert_true(paused_ev && resumed_ev > paused_ev);
    assert_int_equal(h_count_events(evs, "sla_paused"), 1);
    assert_int_equal(h_count_events(evs, "sla_resumed"), 1);
    assert_int_equal(h_count_events(evs, "sla_warning"), 3);
    size_t k;
    json_t *a;
    json_array_foreach (alerts, k, a)
        h_expect_alert_event(evs, a);
    json_decref(evs);
    json_decref(alerts);
}

static void reselect_keeps_elapsed_time(void **state)
{
    json_t *o = create_on(&srv, svc_key, (struct cspec){.category = "sla_resel"});
    int64_t d = h_jint(o, "id");
    assert_int_equal(h_jint(json_object_get(o, "sla"), "policy_id"), p_resel_long);
    int64_t due_long = h_jtime(h_sla_clock(o, "first_response"), "due_at");
    int64_t start = due_long - 600;
    const char *res_due = h_jstr(h_sla_clock(o, "resolution"), "due_at");
    char res_due_before[32];
    snprintf(res_due_before, sizeof res_due_before, "%s", res_due);
    json_decref(o);

    /* Seven seconds elapse under the ten-minute target… */
    advance_to_ms((start + 8) * 1000);
    /* (raised_at is on the servers' clock, the alerts' created_at on the wall clock) */
    int64_t offset_s = h_clock_offset_ms() / 1000;
    int64_t patched_ms = h_real_ms();
    json_t *c = patch_priority(d, "urgent");
    assert_int_equal(h_jint(json_object_get(c, "sla"), "policy_id"), p_resel_short);
    json_t *fr = h_sla_clock(c, "first_response");
    /* …and count toward the one-minute target: due a minute after the start. */
    assert_int_equal(h_jtime(fr, "due_at"), start + 60);
    assert_int_equal(h_jint(fr, "cycle"), 1);
    /* Levels 1 (3 s) and 2 (6 s) are past: dated when the elapsed time
     * crossed them, and raised at once. Level 3 (30 s) keeps its moment. */
    int64_t at1 = h_jtime(h_sla_warning(fr, 1), "at"), at2 = h_jtime(h_sla_warning(fr, 2), "at");
    assert_int_equal(at1, start + 3);
    assert_int_equal(at2, start + 6);
    int64_t l3_at = h_jtime(h_sla_warning(fr, 3), "at");
    assert_int_equal(l3_at, start + 30);
    /* The resolution target is the same length: its due time stays. */
    assert_string_equal(h_jstr(h_sla_clock(c, "resolution"), "due_at"), res_due_before);
    json_decref(c);

    json_t *alerts = h_wait_alerts(&srv, d, 2, 3000);
    assert_int_equal(json_array_size(alerts), 2);
    for (int l = 1; l <= 2; l++) {
        json_t *a = h_the_alert(alerts, "sla_warning", "first_response", 1, l);
        assert_int_equal(h_jtime(a, "scheduled_at"), l == 1 ? at1 : at2);
        h_expect_between(h_jtime(a, "created_at") * 1000 - patched_ms, -1000, 2000,
                         "raised at once");
    }
    json_t *evs = h_events(&srv, d);
    size_t i;
    json_t *a;
    json_array_foreach (alerts, i, a)
        h_expect_alert_event(evs, a);
    assert_int_equal(h_count_events(evs, "updated"), 1);
    json_decref(evs);
    json_decref(alerts);

    /* Back to normal priority: the long policy again, still with the elapsed time. */
    c = patch_priority(d, "normal");
    assert_int_equal(h_jint(json_object_get(c, "sla"), "policy_id"), p_resel_long);
    assert_int_equal(h_jtime(h_sla_clock(c, "first_response"), "due_at"), start + 600);
    json_decref(c);
    c = patch_priority(d, "urgent");
    fr = h_sla_clock(c, "first_response");
    assert_int_equal(h_jtime(fr, "due_at"), start + 60);
    /* Warnings already raised stay raised, and are not raised again. */
    h_expect_between(h_jtime(h_sla_warning(fr, 1), "raised_at") * 1000 - patched_ms -
                         offset_s * 1000,
                     -1000, 3000, "level 1 stays raised");
    const char *l2 = h_jstr(h_sla_warning(fr, 2), "raised_at");
    const char *l2_at = h_jstr(h_sla_warning(fr, 2), "at");
    char l2_raised[32], l2_due[32];
    snprintf(l2_raised, sizeof l2_raised, "%s", l2 ? l2 : "null");
    snprintf(l2_due, sizeof l2_due, "%s", l2_at ? l2_at : "null");
    json_decref(c);
    h_clock_advance(&srv, 2); /* a worker pass well after the round trip */
    alerts = h_alerts(&srv, d);
    assert_int_equal(json_array_size(alerts), 2);
    const char *l2_alert =
        h_jstr(h_the_alert(alerts, "sla_warning", "first_response", 1, 2), "created_at");
    char l2_created[32];
    snprintf(l2_created, sizeof l2_created, "%s", l2_alert);
    json_decref(alerts);
    evs = h_events(&srv, d);
    assert_int_equal(h_count_events(evs, "sla_warning"), 2);
    json_decref(evs);
    c = get_complaint(d);
    const char *l2_now = h_jstr(h_sla_warning(h_sla_clock(c, "first_response"), 2), "raised_at");
    char l2_later[32];
    snprintf(l2_later, sizeof l2_later, "%s", l2_now ? l2_now : "null");
    json_decref(c);
    /* Level 2 was raised under the urgent policy before the round trip through the
     * one-level ladder of the normal one: it must still read as raised, when it was. */
    int64_t l2_when = h_epoch(l2_created) + offset_s;
    if (strcmp(l2_raised, "null") == 0 || strcmp(l2_later, "null") == 0 ||
        h_epoch(l2_raised) != l2_when || h_epoch(l2_later) != l2_when)
        fail_msg("level 2 alert created at %s (+%lld s on the servers' clock); re-selected back"
                 " to this policy, the complaint says level 2 raised_at %s (at %s), and"
                 " raised_at %s a moment later",
                 l2_created, (long long)offset_s, l2_raised, l2_due, l2_later);

    /* The last warning of the re-selected ladder comes at its moment. */
    alerts = alerts_at(d, l3_at, 3);
    h_expect_on_time(&srv, h_the_alert(alerts, "sla_warning", "first_response", 1, 3), l3_at);
    json_decref(alerts);
}

/*
 * E runs its first minute under the ten-minute policy; raised to urgent,
 * the one-minute target is already over: only the breach is raised, at
 * once, and the due time is where the elapsed time reached the new
 * target (a minute after the start), as in the contract's example.
 */
static void reselect_with_breach_already_past(void **state)
{
    json_t *o = create_on(&srv, svc_key, (struct cspec){.category = "sla_resel"});
    int64_t e = h_jint(o, "id");
    assert_int_equal(h_jint(json_object_get(o, "sla"), "policy_id"), p_resel_long);
    int64_t e_start = h_jtime(h_sla_clock(o, "first_response"), "due_at") - 600;
    json_decref(o);

    advance_to_ms((e_start + 62) * 1000);
    int64_t patched_ms = h_real_ms();
    json_t *c = patch_priority(e, "urgent");
    assert_int_equal(h_jint(json_object_get(c, "sla"), "policy_id"), p_resel_short);
    json_t *fr = h_sla_clock(c, "first_response");
    assert_string_equal(h_jstr(fr, "state"), "breached");
    assert_true(json_is_true(json_object_get(fr, "breached")));
    for (int l = 1; l <= 3; l++)
        assert_true(h_jnull(h_sla_warning(fr, l), "raised_at"));
    const char *due_s = h_jstr(fr, "due_at");
    char due_text[32];
    snprintf(due_text, sizeof due_text, "%s", due_s ? due_s : "null");
    int64_t remaining = h_jint(fr, "remaining_seconds");
    json_decref(c);

    json_t *alerts = h_wait_alerts(&srv, e, 1, 3000);
    json_decref(alerts);
    h_clock_advance(&srv, 3); /* and nothing else follows */
    alerts = h_alerts(&srv, e);
    if (json_array_size(alerts) != 1)
        h_dump("alerts", alerts);
    assert_int_equal(json_array_size(alerts), 1);
    json_t *breach = h_the_alert(alerts, "sla_breach", "first_response", 1, 0);
    h_expect_between(h_jtime(breach, "created_at") * 1000 - patched_ms, -1000, 2000,
                     "raised at once");
    json_t *evs = h_events(&srv, e);
    h_expect_alert_event(evs, breach);
    assert_int_equal(h_count_events(evs, "sla_warning"), 0);
    json_decref(evs);
    int64_t scheduled = h_jtime(breach, "scheduled_at");
    json_decref(alerts);

    /* The moment the elapsed time reached the new target. */
    if (h_epoch(due_text) != e_start + 60 || scheduled != e_start + 60)
        fail_msg("started %lld, re-selected to a 60 s target at %lld: due_at %s (%lld), "
                 "breach scheduled_at %lld, remaining_seconds %lld; want due_at and "
                 "scheduled_at %lld",
                 (long long)e_start, (long long)(patched_ms / 1000 + h_clock_offset_ms() / 1000),
                 due_text, (long long)h_epoch(due_text), (long long)scheduled, (long long)remaining,
                 (long long)(e_start + 60));
}

static void reopen_starts_a_new_cycle(void **state)
{
    json_t *o = create_on(&srv, svc_key, (struct cspec){.category = "sla_cycle"});
    int64_t f = h_jint(o, "id");
    assert_int_equal(h_jint(json_object_get(o, "sla"), "policy_id"), p_cycle);
    json_decref(o);
    json_t *c = act(f, "start");
    int64_t due1 = h_jtime(h_sla_clock(c, "resolution"), "due_at");
    json_decref(c);

    /* Cycle 1's first warning (3 s), then resolved in time. */
    json_t *alerts = alerts_at(f, due1 - 57, 1);
    h_expect_on_time(&srv, h_the_alert(alerts, "sla_warning", "resolution", 1, 1), due1 - 57);
    json_decref(alerts);
    c = act(f, "resolve");
    json_t *res = h_sla_clock(c, "resolution");
    assert_int_equal(h_jint(res, "cycle"), 1);
    assert_string_equal(h_jstr(res, "state"), "met");
    assert_true(json_is_false(json_object_get(res, "breached")));
    json_decref(c);

    /* Reopened: cycle 2, with the whole minute again. */
    int64_t reopened_ms = h_now_ms();
    c = act(f, "reopen");
    res = h_sla_clock(c, "resolution");
    assert_int_equal(h_jint(res, "cycle"), 2);
    assert_true(h_jnull(res, "met_at"));
    assert_true(json_is_false(json_object_get(res, "breached")));
    assert_string_equal(h_jstr(res, "state"), "on_track");
    int64_t due2 = h_jtime(res, "due_at");
    h_expect_between(due2 * 1000 - reopened_ms, 58000, 61000, "cycle 2 due a full minute on");
    int64_t at1 = h_jtime(h_sla_warning(res, 1), "at");
    assert_int_equal(at1, due2 - 57);
    assert_int_equal(h_jtime(h_sla_warning(res, 2), "at"), due2 - 30);
    assert_true(h_jnull(h_sla_warning(res, 1), "raised_at"));
    /* The first response was met in cycle 1 and stays met. */
    assert_string_equal(h_jstr(h_sla_clock(c, "first_response"), "state"), "met");
    assert_int_equal(h_jint(c, "reopen_count"), 1);
    json_decref(c);

    alerts = alerts_at(f, at1, 2);
    assert_int_equal(json_array_size(alerts), 2);
    json_t *old = h_the_alert(alerts, "sla_warning", "resolution", 1, 1);
    json_t *fresh = h_the_alert(alerts, "sla_warning", "resolution", 2, 1);
    h_expect_on_time(&srv, fresh, at1);
    assert_true(h_jint(fresh, "id") > h_jint(old, "id"));
    json_t *evs = h_events(&srv, f);
    h_expect_alert_event(evs, old);
    h_expect_alert_event(evs, fresh);
    assert_int_equal(h_count_events(evs, "sla_warning"), 2);
    json_decref(evs);
    json_decref(alerts);

    /* Past cycle 1's due time: cycle 1 was met after its first warning,
     * and nothing more came for it. */
    advance_to_ms((due1 + 2) * 1000);
    alerts = h_alerts(&srv, f);
    assert_int_equal(h_count_alerts(alerts, "sla_warning", "resolution", 1, -1, NULL), 1);
    assert_int_equal(h_count_alerts(alerts, "sla_breach", "resolution", 1, -1, NULL), 0);
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
    int64_t start = h_jtime(h_sla_clock(c, "resolution"), "due_at") - 600;
    char fr_met[32];
    snprintf(fr_met, sizeof fr_met, "%s", h_jstr(h_sla_clock(c, "first_response"), "met_at"));
    json_decref(c);
    int64_t paused_ms = h_now_ms();
    json_decref(act(id, "pend"));

    advance_to_ms(paused_ms + 2000);
    c = patch_priority(id, "urgent");
    json_t *sla = json_object_get(c, "sla");
    assert_int_equal(h_jint(sla, "policy_id"), p_rr_short);
    assert_true(json_is_true(json_object_get(sla, "paused")));
    json_t *res = h_sla_clock(c, "resolution");
    assert_string_equal(h_jstr(res, "state"), "paused");
    json_t *fr = h_sla_clock(c, "first_response");
    assert_string_equal(h_jstr(fr, "state"), "met");
    assert_string_equal(h_jstr(fr, "met_at"), fr_met);
    assert_true(json_is_false(json_object_get(fr, "breached")));
    json_decref(c);

    advance_to_ms(paused_ms + 4000);
    int64_t resumed_ms = h_now_ms(), resumed_real_ms = h_real_ms();
    c = act(id, "resume");
    res = h_sla_clock(c, "resolution");
    int64_t due = h_jtime(res, "due_at");
    /* A one-minute target from the start, plus the four paused seconds. */
    h_expect_between(due - start - 60, (resumed_ms - paused_ms) / 1000 - 1,
                     (resumed_ms - paused_ms) / 1000 + 1, "paused time excluded");
    int64_t at1 = h_jtime(h_sla_warning(res, 1), "at");
    assert_int_equal(at1, due - 57);
    assert_int_equal(h_jtime(h_sla_warning(res, 3), "at"), due - 48);
    assert_string_equal(h_jstr(res, "state"), "on_track");
    json_decref(c);

    json_t *alerts = alerts_at(id, at1, 1);
    assert_int_equal(json_array_size(alerts), 1);
    json_t *a = h_the_alert(alerts, "sla_warning", "resolution", 1, 1);
    h_expect_on_time(&srv, a, at1);
    assert_true(h_jtime(a, "created_at") * 1000 >= resumed_real_ms - 1000);
    json_decref(alerts);
}

/*
 * The summary, on a server of its own so that its counts are exact:
 * while the one-minute targets run, past their warnings, and once they
 * are over (one breached, one met late).
 */
static void summary_counts_each_state(void **state)
{
    h_server_start(&srv2, NULL);
    h_make_policy(&srv2, "High", 1, json_pack("{s:[s]}", "priorities", "high"), 600, 6000, NULL, 0);
    h_make_policy(&srv2, "Low", 2, json_pack("{s:[s]}", "priorities", "low"), 10, 6000,
                  "[{\"percent\":1}]", 0);
    h_make_policy(&srv2, "Fast", 3, NULL, 1, 600, "[{\"percent\":5}]", 0);
    json_t *o;
    o = create_on(&srv2, srv2.admin_key, (struct cspec){.priority = "high"}); /* on track */
    json_decref(o);
    o = create_on(&srv2, srv2.admin_key, (struct cspec){.priority = "low"}); /* at risk at 6 s */
    json_decref(o);
    o = create_on(&srv2, srv2.admin_key, (struct cspec){.priority = "normal"}); /* breaches */
    int64_t brk = h_jint(o, "id");
    int64_t brk_due = h_jtime(h_sla_clock(o, "first_response"), "due_at");
    json_decref(o);
    o = create_on(&srv2, srv2.admin_key, (struct cspec){.priority = "normal"}); /* met late */
    int64_t late = h_jint(o, "id");
    int64_t late_due = h_jtime(h_sla_clock(o, "first_response"), "due_at");
    json_decref(o);
    o = create_on(&srv2, srv2.admin_key, (struct cspec){.priority = "high"});
    int64_t paused = h_jint(o, "id");
    json_decref(o);
    json_decref(h_transition(&srv2, srv2.admin_key, paused, "start"));
    json_decref(h_transition(&srv2, srv2.admin_key, paused, "pend"));
    o = create_on(&srv2, srv2.admin_key, (struct cspec){.priority = "high"});
    int64_t res_ok = h_jint(o, "id");
    json_decref(o);
    json_decref(h_transition(&srv2, srv2.admin_key, res_ok, "start"));
    json_decref(h_transition(&srv2, srv2.admin_key, res_ok, "resolve"));

    /* Past the warnings (3 and 6 s), well before the minute is over. */
    h_clock_advance(&srv2, 15);
    struct h_resp *r = h_call_json(&srv2, "GET", "/v1/sla/summary", srv2.admin_key, NULL, NULL);
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

    /* The minute is over: the breach came on time, and the counts follow. */
    h_clock_advance_to(&srv2, brk_due, LEAD_MS);
    json_t *alerts = h_wait_alerts(&srv2, brk, 2, (brk_due + 3) * 1000 - h_now_ms());
    h_expect_on_time(&srv2, h_the_alert(alerts, "sla_breach", "first_response", 1, 0), brk_due);
    json_decref(alerts);
    alerts = h_wait_alerts(&srv2, late, 2, (late_due + 3) * 1000 - h_now_ms());
    h_the_alert(alerts, "sla_breach", "first_response", 1, 0);
    json_decref(alerts);
    json_decref(h_transition(&srv2, srv2.admin_key, late, "acknowledge")); /* met late */
    r = h_call_json(&srv2, "GET", "/v1/sla/summary", srv2.admin_key, NULL, NULL);
    h_expect_status(r, 200);
    want = json_loads("{\"open\":{\"on_track\":2,\"at_risk\":1,\"breached\":1,\"paused\":1},"
                      "\"first_response\":{\"total\":4,\"met_in_time\":2,"
                      "\"compliance_percent\":50.0},"
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
}

static void alerts_ack_and_filters(void **state)
{
    char path[128];
    struct h_resp *r;
    /* A with its three warnings raised, its breach some 45 s on; B met at once. */
    json_t *o = create_on(&srv, svc_key, (struct cspec){.category = "sla_fast"});
    int64_t a = h_jint(o, "id");
    int64_t at3 = h_jtime(h_sla_warning(h_sla_clock(o, "first_response"), 3), "at");
    json_decref(o);
    int64_t b = create_id((struct cspec){.category = "sla_fast"});
    json_decref(act(b, "acknowledge"));
    advance_to_ms((at3 + 1) * 1000);
    json_t *alerts = h_wait_alerts(&srv, a, 3, 3000);
    int64_t first = h_jint(h_the_alert(alerts, "sla_warning", "first_response", 1, 1), "id");
    int64_t second = h_jint(h_the_alert(alerts, "sla_warning", "first_response", 1, 2), "id");
    h_the_alert(alerts, "sla_warning", "first_response", 1, 3);
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
    assert_int_equal(h_jint(r->json, "complaint_id"), a);
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
    snprintf(path, sizeof path, "/v1/alerts?kind=sla_warning&complaint_id=%lld", (long long)a);
    r = call("GET", path, agent_key, NULL); /* open by default */
    h_expect_status(r, 200);
    json_t *items = json_object_get(r->json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(h_jint(json_array_get(items, 0), "level"), 3);
    h_resp_free(r);
    snprintf(path, sizeof path, "/v1/alerts?state=acknowledged&complaint_id=%lld", (long long)a);
    /* (only warnings can be acknowledged yet) */
    r = call("GET", path, agent_key, NULL);
    h_expect_status(r, 200);
    items = json_object_get(r->json, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_int_equal(h_jint(json_array_get(items, 0), "id"), second); /* newest first */
    assert_true(json_equal(json_array_get(items, 1), acked));
    h_resp_free(r);
    snprintf(path, sizeof path, "/v1/alerts?state=all&kind=sla_breach&complaint_id=%lld",
             (long long)b);
    r = call("GET", path, agent_key, NULL);
    h_expect_status(r, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 0);
    h_resp_free(r);
    r = call("GET", "/v1/alerts?state=all&kind=sla_breach&limit=200", agent_key, NULL);
    h_expect_status(r, 200);
    size_t j;
    json_t *one;
    json_array_foreach (json_object_get(r->json, "items"), j, one) {
        assert_string_equal(h_jstr(one, "kind"), "sla_breach");
        assert_int_equal(h_jint(one, "level"), 0);
    }
    h_resp_free(r);
    snprintf(path, sizeof path, "/v1/alerts?state=all&kind=sla_warning&complaint_id=%lld",
             (long long)a);
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
        json_array_foreach (json_object_get(r->json, "items"), i, it) {
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
    assert_int_equal(seen, h_sql_int(&srv, "%s", sql));

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
    int64_t last = 0, limit = h_now_ms() / 1000 + within * 60 + 5;
    size_t i;
    json_t *c;
    json_array_foreach (json_object_get(r->json, "items"), i, c) {
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
    json_array_foreach (ids, i, v) {
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
    json_array_foreach (items, i, c) {
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

    /* The complaint list's filters apply (API.md "SLA"). */
    r = call("GET", "/v1/sla/at-risk?within_minutes=700&limit=200&category=sla_risk10", agent_key,
             NULL);
    h_expect_status(r, 200);
    items = json_object_get(r->json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(h_jint(json_array_get(items, 0), "id"), c10);
    h_resp_free(r);
    r = call("GET",
             "/v1/sla/at-risk?within_minutes=700&limit=200&category=sla_risk3,sla_risk120"
             "&channel=api,web,email,phone,chat,social",
             agent_key, NULL);
    h_expect_status(r, 200);
    bool seen3 = false, seen10 = false, seen120 = false, seen_met = false;
    json_array_foreach (json_object_get(r->json, "items"), i, c) {
        seen3 |= h_jint(c, "id") == c3;
        seen10 |= h_jint(c, "id") == c10;
        seen120 |= h_jint(c, "id") == c120;
        seen_met |= h_jint(c, "id") == met;
    }
    assert_true(seen3 && !seen10 && seen120 && seen_met);
    h_resp_free(r);
    /* Complaints are created with the default grade, explicit. */
    r = call("GET", "/v1/sla/at-risk?within_minutes=700&category=sla_risk10&grade=explicit",
             agent_key, NULL);
    h_expect_status(r, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 1);
    h_resp_free(r);
    static const char *const none[] = {"team_id=987654", "assignee_id=987654",
                                       "category=sla_risk10&grade=potential,high_risk"};
    for (size_t k = 0; k < sizeof none / sizeof none[0]; k++) {
        char path[160];
        snprintf(path, sizeof path, "/v1/sla/at-risk?within_minutes=700&%s", none[k]);
        r = call("GET", path, agent_key, NULL);
        h_expect_status(r, 200);
        assert_int_equal(json_array_size(json_object_get(r->json, "items")), 0);
        h_resp_free(r);
    }
    static const struct {
        const char *query, *field;
    } bad_filters[] = {
        {"team_id=0", "team_id"},
        {"team_id=18446744073709551616", "team_id"},
        {"assignee_id=1e999", "assignee_id"},
        {"priority=extreme", "priority"},
        {"grade=mild", "grade"},
        {"channel=pigeon", "channel"},
    };
    for (size_t k = 0; k < sizeof bad_filters / sizeof bad_filters[0]; k++) {
        char path[128];
        snprintf(path, sizeof path, "/v1/sla/at-risk?%s", bad_filters[k].query);
        r = call("GET", path, agent_key, NULL);
        h_expect_invalid(r, bad_filters[k].field);
        h_resp_free(r);
    }
}

/* Walks GET /v1/sla/at-risk?<query>&limit=<limit> page by page into ids
 * (and their due times into dues), checking that every page but the last
 * is full and carries a cursor; returns the number of pages. */
static size_t at_risk_walk(const char *query, int limit, int64_t *ids, int64_t *dues, size_t cap,
                           size_t *n)
{
    char cursor[OMBUD_TEST_CURSOR_LEN] = "";
    size_t pages = 0;
    *n = 0;
    for (;;) {
        char path[512];
        snprintf(path, sizeof path, "/v1/sla/at-risk?%s&limit=%d%s%s", query, limit,
                 *cursor ? "&cursor=" : "", cursor);
        struct h_resp *r = call("GET", path, agent_key, NULL);
        h_expect_status(r, 200);
        json_t *items = json_object_get(r->json, "items");
        size_t i;
        json_t *c;
        pages++;
        assert_true(json_array_size(items) <= (size_t)limit);
        json_array_foreach (items, i, c) {
            assert_true(*n < cap);
            ids[*n] = h_jint(c, "id");
            dues[*n] = earliest_due(c);
            (*n)++;
        }
        json_t *next = json_object_get(r->json, "next_cursor");
        if (json_is_null(next)) {
            h_resp_free(r);
            return pages;
        }
        assert_true(json_is_string(next));
        assert_int_equal(json_array_size(items), (size_t)limit);
        assert_true(strlen(json_string_value(next)) < sizeof cursor);
        snprintf(cursor, sizeof cursor, "%s", json_string_value(next));
        h_resp_free(r);
        assert_true(pages < 50);
    }
}

/* The at-risk view pages by (due time, id) like every list: each complaint
 * exactly once across pages, ties by id, the filters and the window on
 * every page, and a cursor it did not return refused. */
static void at_risk_pages(void **state)
{
    (void)state;
    int64_t made[7];
    size_t m = 0;
    /* Three due in 5 minutes, created at the start of one second (so that
     * their due times are equal), then four due in 20 (two and two). */
    for (int group = 0; group < 3; group++) {
        h_sleep_until_ms((h_now_ms() / 1000 + 1) * 1000 + 20);
        for (int k = 0; k < (group == 0 ? 3 : 2); k++)
            made[m++] =
                create_id((struct cspec){.category = group == 0 ? "sla_page5" : "sla_page20"});
    }
    assert_int_equal(m, 7);
    json_t *cj = get_complaint(made[0]);
    assert_int_equal(h_jint(json_object_get(cj, "sla"), "policy_id"), p_page5);
    json_decref(cj);
    cj = get_complaint(made[6]);
    assert_int_equal(h_jint(json_object_get(cj, "sla"), "policy_id"), p_page20);
    json_decref(cj);

    /* One page of all of them: the order to compare the pages with. */
    const char *both = "within_minutes=30&category=sla_page5,sla_page20";
    int64_t all[16], all_due[16], got[16], got_due[16];
    size_t n_all, n_got;
    assert_int_equal(at_risk_walk(both, 200, all, all_due, 16, &n_all), 1);
    assert_int_equal(n_all, 7);
    size_t ties = 0;
    for (size_t i = 0; i < n_all; i++) {
        assert_true(all_due[i] > 0);
        if (i) { /* soonest first, ties by id */
            assert_true(all_due[i - 1] < all_due[i] ||
                        (all_due[i - 1] == all_due[i] && all[i - 1] < all[i]));
            ties += all_due[i - 1] == all_due[i];
        }
        size_t seen = 0;
        for (size_t k = 0; k < m; k++)
            seen += made[k] == all[i];
        assert_int_equal(seen, 1);
    }
    assert_true(ties >= 1);

    /* Pages of 3: 3, 3 and 1, each once, in the same order. */
    assert_int_equal(at_risk_walk(both, 3, got, got_due, 16, &n_got), 3);
    assert_int_equal(n_got, 7);
    for (size_t i = 0; i < n_got; i++)
        assert_int_equal(got[i], all[i]);
    /* Pages of 1 and of 7 (the last full page has no cursor). */
    assert_int_equal(at_risk_walk(both, 1, got, got_due, 16, &n_got), 7);
    assert_int_equal(n_got, 7);
    for (size_t i = 0; i < n_got; i++)
        assert_int_equal(got[i], all[i]);
    assert_int_equal(at_risk_walk(both, 7, got, got_due, 16, &n_got), 1);
    assert_int_equal(n_got, 7);

    /* A filter and the window hold on every page. */
    assert_int_equal(
        at_risk_walk("within_minutes=30&category=sla_page20", 3, got, got_due, 16, &n_got), 2);
    assert_int_equal(n_got, 4);
    for (size_t i = 0; i < n_got; i++)
        assert_int_equal(got[i], all[3 + i]);
    assert_int_equal(at_risk_walk("within_minutes=10&category=sla_page5,sla_page20", 2, got,
                                  got_due, 16, &n_got),
                     2);
    assert_int_equal(n_got, 3);
    for (size_t i = 0; i < n_got; i++)
        assert_int_equal(got[i], all[i]);

    /* Cursors this list did not return: forged, truncated, another list's. */
    struct h_resp *r = call("GET",
                            "/v1/sla/at-risk?limit=3&within_minutes=30"
                            "&category=sla_page5,sla_page20",
                            agent_key, NULL);
    h_expect_status(r, 200);
    char cur[OMBUD_TEST_CURSOR_LEN];
    snprintf(cur, sizeof cur, "%s", h_jstr(r->json, "next_cursor"));
    h_resp_free(r);
    char one[16], three[64], zero_id[64], text[16], truncated[OMBUD_TEST_CURSOR_LEN];
    h_b64url("7", one); /* an id list's shape */
    h_b64url("1.2.3", three);
    h_b64url("1700000000.0", zero_id);
    h_b64url("abc.def", text);
    snprintf(truncated, sizeof truncated, "%.4s", cur); /* digits of the due time only */
    assert_true(strlen(cur) > 4);
    /* The alerts list's own cursor (a forged one of its shape when there is
     * no second alert yet). */
    r = call("GET", "/v1/alerts?state=all&limit=1", agent_key, NULL);
    h_expect_status(r, 200);
    char alerts_cur[OMBUD_TEST_CURSOR_LEN];
    json_t *anext = json_object_get(r->json, "next_cursor");
    snprintf(alerts_cur, sizeof alerts_cur, "%s",
             json_is_string(anext) ? json_string_value(anext) : one);
    h_resp_free(r);
    const char *bad[] = {"!!!", "", one, three, zero_id, text, truncated, alerts_cur, "%00"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char path[256];
        snprintf(path, sizeof path, "/v1/sla/at-risk?cursor=%s", bad[k]);
        r = call("GET", path, agent_key, NULL);
        if (r->status != 422)
            fprintf(stderr, "cursor=%s\n", bad[k]);
        h_expect_invalid(r, "cursor");
        h_resp_free(r);
    }
    /* An at-risk cursor is refused by an id list. */
    char path[256];
    snprintf(path, sizeof path, "/v1/alerts?cursor=%s", cur);
    r = call("GET", path, agent_key, NULL);
    h_expect_invalid(r, "cursor");
    h_resp_free(r);
}

/*
 * The minute is over for A, G and the summary's complaints: each breach
 * raised on time and once; B (met at once) never alerted; G met late
 * counts as breached; D's last warning came at its moment; F's first
 * cycle raised nothing after it was met.
 */

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
        cmocka_unit_test(breach_on_time_and_once),
        cmocka_unit_test(met_late_counts_as_breached),
        cmocka_unit_test(pause_shifts_every_moment),
        cmocka_unit_test(reselect_keeps_elapsed_time),
        cmocka_unit_test(reselect_with_breach_already_past),
        cmocka_unit_test(reopen_starts_a_new_cycle),
        cmocka_unit_test(reselect_while_paused),
        cmocka_unit_test(alerts_ack_and_filters),
        cmocka_unit_test(at_risk_order_and_window),
        cmocka_unit_test(at_risk_pages),
        cmocka_unit_test(summary_counts_each_state),
        cmocka_unit_test(server_stops_cleanly),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
