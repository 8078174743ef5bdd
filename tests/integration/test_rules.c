/*
 * Escalation rules (API.md "Escalation and assignment"), through HTTP
 * against PostgreSQL: the resource and its validation; a created rule
 * sending high-risk complaints to a special team in the same
 * transaction (and routed there, the team being round robin); a three-level ladder on SLA warning
 * and breach firing in order and once each; a delayed rule skipped because its condition stopped
 * holding, and one that fires; a rule on reopen, once per cycle; a delayed moment found again after
 * the worker's database connection was cut. Each case has a category of its own, matched by an SLA
 * policy and the rules' conditions, so the cases do not meet; time moves by the servers' test
 * clock.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server srv;
static char agent_key[96], sup_key[96];
static int64_t front, leads, managers, directors, special, mei;

static int64_t post_id(const char *path, json_t *body)
{
    struct h_resp *r = h_call_json(&srv, "POST", path, srv.admin_key, body, NULL);
    h_expect_status(r, 201);
    int64_t id = h_jint(r->json, "id");
    h_resp_free(r);
    return id;
}

static int64_t make_team(const char *name, int64_t esc)
{
    json_t *b = json_pack("{s:s}", "name", name);
    if (esc)
        json_object_set_new(b, "escalation_team_id", json_integer(esc));
    return post_id("/v1/teams", b);
}

static int setup(void **state)
{
    h_server_start(&srv, NULL);
    h_make_key(&srv, "agent", agent_key, sizeof agent_key);
    h_make_key(&srv, "supervisor", sup_key, sizeof sup_key);
    directors = make_team("Directors", 0);
    managers = make_team("Managers", directors);
    leads = make_team("Team leads", managers);
    front = make_team("Front line", leads);
    special = post_id("/v1/teams",
                      json_pack("{s:s, s:s}", "name", "Special", "assignment", "round_robin"));
    mei = h_make_agent(&srv, "Mei", "agent", special);
    const char *cats[] = {"ladder", "delayed", "reopen", "special", "outage", NULL};
    for (size_t i = 0; cats[i]; i++)
        h_make_category(&srv, cats[i]);
    /* Resolution in 60 business minutes of the 24x7 calendar, warned at half. */
    h_make_policy(&srv, "Rules", 1,
                  json_pack("{s:[s,s,s,s]}", "categories", "ladder", "delayed", "reopen", "outage"),
                  600, 60, "[{\"percent\":50}]", 0);
    return 0;
}

static int teardown(void **state)
{
    h_server_stop(&srv, true);
    return 0;
}

static int64_t make_rule(json_t *body)
{
    return post_id("/v1/escalation-rules", body);
}

static json_t *complaint_body(const char *category, const char *grade, const char *priority)
{
    json_t *b = json_pack("{s:s, s:s, s:{s:s}, s:s, s:I}", "title", "Fridge died", "description",
                          "Third repair visit, still broken.", "customer", "name", "Ada",
                          "category", category, "team_id", (json_int_t)front);
    if (grade)
        json_object_set_new(b, "grade", json_string(grade));
    if (priority)
        json_object_set_new(b, "priority", json_string(priority));
    return b;
}

static json_t *get_path(const char *fmt, int64_t id)
{
    char path[96];
    snprintf(path, sizeof path, fmt, (long long)id);
    struct h_resp *r = h_admin(&srv, "GET", path, NULL);
    h_expect_status(r, 200);
    json_t *j = json_incref(r->json);
    h_resp_free(r);
    return j;
}

/* The complaint once its escalation level reaches level (real time, bounded). */
static json_t *wait_level(int64_t id, int level, int64_t ms)
{
    int64_t until = h_real_ms() + ms;
    for (;;) {
        json_t *c = h_get_complaint(&srv, agent_key, id);
        if (h_jint(c, "escalation_level") >= level || h_real_ms() > until)
            return c;
        json_decref(c);
        h_sleep_ms(25);
    }
}

/* The rule's entry in GET /v1/complaints/{id}/rules (borrowed from list), or NULL. */
static json_t *rule_entry(json_t *list, int64_t rule)
{
    size_t i;
    json_t *e;
    json_array_foreach (json_object_get(list, "items"), i, e)
        if (h_jint(e, "rule_id") == rule)
            return e;
    return NULL;
}

/* The state of rule for complaint id once it is no longer pending (bounded). */
static json_t *wait_rule_done(int64_t id, int64_t rule, int64_t ms)
{
    int64_t until = h_real_ms() + ms;
    for (;;) {
        json_t *list = get_path("/v1/complaints/%lld/rules", id);
        json_t *e = rule_entry(list, rule);
        if ((e && strcmp(h_jstr(e, "state"), "pending") != 0) || h_real_ms() > until)
            return list;
        json_decref(list);
        h_sleep_ms(25);
    }
}

/* ---- the resource ---- */

static void rules_are_validated(void **state)
{
    struct h_resp *r = h_call_json(&srv, "POST", "/v1/escalation-rules", srv.admin_key,
                                   json_pack("{s:s, s:i}", "name", "x", "position", 1), NULL);
    h_expect_problem(r, 422);
    assert_true(h_problem_has_field(r, "trigger"));
    assert_true(h_problem_has_field(r, "actions"));
    h_resp_free(r);

    r = h_call_json(&srv, "POST", "/v1/escalation-rules", srv.admin_key,
                    json_pack("{s:s, s:i, s:s, s:s, s:i, s:{s:[s], s:[i], s:i, s:i, s:b}, s:{}}",
                              "name", "bad", "position", 1, "trigger", "created", "target",
                              "resolution", "delay_minutes", -1, "conditions", "priorities", "soon",
                              "team_ids", 0, "min_level", 3, "max_level", 2, "colour", 1,
                              "actions"),
                    NULL);
    h_expect_problem(r, 422);
    assert_true(h_problem_has_field(r, "delay_minutes"));
    assert_true(h_problem_has_field(r, "conditions.priorities[0]"));
    assert_true(h_problem_has_field(r, "conditions.team_ids[0]"));
    assert_true(h_problem_has_field(r, "conditions.colour"));
    h_resp_free(r);

    /* The whole rule: target only for SLA triggers, levels in order, an action. */
    r = h_call_json(&srv, "POST", "/v1/escalation-rules", srv.admin_key,
                    json_pack("{s:s, s:i, s:s, s:s, s:{s:i, s:i}, s:{s:b}}", "name", "bad",
                              "position", 1, "trigger", "created", "target", "resolution",
                              "conditions", "min_level", 3, "max_level", 2, "actions", "notify", 0),
                    NULL);
    h_expect_problem(r, 422);
    assert_true(h_problem_has_field(r, "target"));
    assert_true(h_problem_has_field(r, "conditions.min_level"));
    assert_true(h_problem_has_field(r, "actions"));
    h_resp_free(r);

    /* References that name nothing. */
    r = h_call_json(&srv, "POST", "/v1/escalation-rules", srv.admin_key,
                    json_pack("{s:s, s:i, s:s, s:{s:[s], s:[I]}, s:{s:I, s:I, s:s}}", "name", "bad",
                              "position", 1, "trigger", "sla_breach", "conditions", "categories",
                              "nosuch", "team_ids", (json_int_t)987654, "actions", "set_team_id",
                              (json_int_t)987654, "set_assignee_id", (json_int_t)987654,
                              "set_priority", "soon"),
                    NULL);
    h_expect_problem(r, 422);
    assert_true(h_problem_has_field(r, "actions.set_priority"));
    h_resp_free(r);
    r = h_call_json(&srv, "POST", "/v1/escalation-rules", srv.admin_key,
                    json_pack("{s:s, s:i, s:s, s:{s:[s], s:[I]}, s:{s:I, s:I}}", "name", "bad",
                              "position", 1, "trigger", "sla_breach", "conditions", "categories",
                              "nosuch", "team_ids", (json_int_t)987654, "actions", "set_team_id",
                              (json_int_t)987654, "set_assignee_id", (json_int_t)987654),
                    NULL);
    h_expect_problem(r, 422);
    assert_true(h_problem_has_field(r, "conditions.categories"));
    assert_true(h_problem_has_field(r, "conditions.team_ids"));
    assert_true(h_problem_has_field(r, "actions.set_team_id"));
    assert_true(h_problem_has_field(r, "actions.set_assignee_id"));
    h_resp_free(r);

    /* Only admins. */
    r = h_req(&srv, "GET", "/v1/escalation-rules", &(struct h_opts){.key = sup_key});
    h_expect_problem(r, 403);
    h_resp_free(r);
}

static void rules_are_created_read_changed_and_deleted(void **state)
{
    struct h_resp *r =
        h_call_json(&srv, "POST", "/v1/escalation-rules", srv.admin_key,
                    json_pack("{s:s, s:i, s:s, s:s, s:i, s:{s:[s], s:[I], s:i}, s:{s:s, s:b}}",
                              "name", "Breach to managers", "position", 900, "trigger",
                              "sla_breach", "target", "resolution", "delay_minutes", 30,
                              "conditions", "grades", "explicit", "team_ids", (json_int_t)front,
                              "min_level", 0, "actions", "set_priority", "high", "notify", 1),
                    NULL);
    h_expect_status(r, 201);
    int64_t id = h_jint(r->json, "id");
    char loc[128], want[64];
    snprintf(want, sizeof want, "/v1/escalation-rules/%lld", (long long)id);
    assert_non_null(h_header(r, "Location", loc, sizeof loc));
    assert_non_null(strstr(loc, want));
    assert_string_equal(h_jstr(r->json, "target"), "resolution");
    assert_true(json_is_true(json_object_get(r->json, "active")));
    json_t *cond = json_object_get(r->json, "conditions");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(cond, "team_ids"), 0)),
                     front);
    assert_true(h_jnull(cond, "max_level"));
    json_t *act = json_object_get(r->json, "actions");
    assert_string_equal(h_jstr(act, "set_priority"), "high");
    assert_true(h_jnull(act, "set_team_id"));
    assert_false(json_is_true(json_object_get(act, "raise_level")));
    h_resp_free(r);

    /* PATCH changes what it names; conditions and actions are replaced whole. */
    r = h_call_json(&srv, "PATCH", want, srv.admin_key,
                    json_pack("{s:b, s:{s:b}}", "active", 0, "actions", "raise_level", 1), NULL);
    h_expect_status(r, 200);
    assert_false(json_is_true(json_object_get(r->json, "active")));
    assert_string_equal(h_jstr(r->json, "name"), "Breach to managers");
    act = json_object_get(r->json, "actions");
    assert_true(json_is_true(json_object_get(act, "raise_level")));
    assert_true(h_jnull(act, "set_priority"));
    h_resp_free(r);

    json_t *got = get_path("/v1/escalation-rules/%lld", id);
    assert_int_equal(h_jint(got, "delay_minutes"), 30);
    json_decref(got);
    r = h_admin(&srv, "GET", "/v1/escalation-rules?limit=200", NULL);
    h_expect_status(r, 200);
    bool listed = false;
    size_t i;
    json_t *e;
    json_array_foreach (json_object_get(r->json, "items"), i, e)
        listed |= h_jint(e, "id") == id;
    assert_true(listed);
    h_resp_free(r);

    r = h_admin(&srv, "DELETE", want, NULL);
    h_expect_status(r, 204);
    h_resp_free(r);
    r = h_admin(&srv, "GET", want, NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);
    r = h_call_json(&srv, "PATCH", want, srv.admin_key, json_pack("{s:b}", "active", 1), NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);
}

/* ---- created: the special team for high-risk complaints ---- */

static void high_risk_goes_to_the_special_team_at_once(void **state)
{
    int64_t rule = make_rule(json_pack(
        "{s:s, s:i, s:s, s:{s:[s], s:[s]}, s:{s:I, s:b}}", "name", "High risk to the special team",
        "position", 10, "trigger", "created", "conditions", "grades", "high_risk", "categories",
        "special", "actions", "set_team_id", (json_int_t)special, "notify", 1));

    /* The 201 already shows the rule's work. */
    json_t *c = h_post_complaint(&srv, sup_key, complaint_body("special", "high_risk", NULL));
    int64_t id = h_jint(c, "id");
    assert_int_equal(h_jint(c, "team_id"), special);
    assert_int_equal(h_jint(c, "assignee_id"), mei); /* routed: a round-robin team */
    assert_int_equal(h_jint(c, "version"), 2);
    json_decref(c);
    c = h_post_complaint(&srv, sup_key, complaint_body("special", "explicit", NULL));
    int64_t plain = h_jint(c, "id");
    assert_int_equal(h_jint(c, "team_id"), front);
    json_decref(c);

    /* The timeline: created by the key, then assigned by the rule. */
    json_t *evs = h_events(&srv, id);
    json_t *items = evs, *last = json_array_get(items, 2);
    assert_int_equal(json_array_size(items), 3);
    assert_string_equal(h_jstr(json_array_get(items, 0), "kind"), "created");
    assert_string_equal(h_jstr(json_object_get(json_array_get(items, 0), "actor"), "type"), "key");
    assert_string_equal(h_jstr(last, "kind"), "assigned");
    json_t *actor = json_object_get(last, "actor");
    assert_string_equal(h_jstr(actor, "type"), "rule");
    assert_int_equal(h_jint(actor, "rule_id"), rule);
    json_t *team = json_object_get(json_object_get(last, "data"), "team_id");
    assert_int_equal(h_jint(team, "from"), front);
    assert_int_equal(h_jint(team, "to"), special);
    json_t *who = json_object_get(json_object_get(last, "data"), "assignee_id");
    assert_true(h_jnull(who, "from"));
    assert_int_equal(h_jint(who, "to"), mei);
    json_decref(evs);

    /* notify: one escalation alert, naming the rule. */
    json_t *alerts = h_alerts(&srv, id);
    json_t *a = h_the_alert(alerts, "escalation", "any", 1, -1);
    assert_int_equal(h_jint(a, "rule_id"), rule);
    json_decref(alerts);
    alerts = h_alerts(&srv, plain);
    assert_int_equal(json_array_size(alerts), 0);
    json_decref(alerts);

    /* What the rules did for each. */
    json_t *list = get_path("/v1/complaints/%lld/rules", id);
    json_t *e = rule_entry(list, rule);
    assert_non_null(e);
    assert_string_equal(h_jstr(e, "state"), "fired");
    assert_string_equal(h_jstr(e, "trigger"), "created");
    assert_false(h_jnull(e, "fired_at"));
    json_decref(list);
    list = get_path("/v1/complaints/%lld/rules", plain);
    assert_null(rule_entry(list, rule));
    json_decref(list);

    /* A service key cannot see the rules of another key's complaint; an agent may. */
    char svc[96];
    h_make_key(&srv, "service", svc, sizeof svc);
    char path[96];
    snprintf(path, sizeof path, "/v1/complaints/%lld/rules", (long long)id);
    struct h_resp *r = h_req(&srv, "GET", path, &(struct h_opts){.key = svc});
    h_expect_problem(r, 403);
    h_resp_free(r);
    r = h_req(&srv, "GET", "/v1/complaints/987654/rules", &(struct h_opts){.key = agent_key});
    h_expect_problem(r, 404);
    h_resp_free(r);
}

/* ---- SLA: a three-level ladder ---- */

static void a_three_level_ladder_fires_in_order_once_each(void **state)
{
    int64_t warn = make_rule(json_pack(
        "{s:s, s:i, s:s, s:s, s:{s:[s]}, s:{s:I, s:b}}", "name", "Warning: team lead", "position",
        20, "trigger", "sla_warning", "target", "resolution", "conditions", "categories", "ladder",
        "actions", "set_team_id", (json_int_t)leads, "raise_level", 1));
    int64_t breach = make_rule(json_pack(
        "{s:s, s:i, s:s, s:s, s:{s:[s]}, s:{s:I, s:b, s:b}}", "name", "Breach: manager", "position",
        21, "trigger", "sla_breach", "target", "resolution", "conditions", "categories", "ladder",
        "actions", "set_team_id", (json_int_t)managers, "raise_level", 1, "notify", 1));
    int64_t late = make_rule(
        json_pack("{s:s, s:i, s:s, s:s, s:i, s:{s:[s]}, s:{s:I, s:b, s:b}}", "name",
                  "Breach + 2 h: director", "position", 22, "trigger", "sla_breach", "target",
                  "any", "delay_minutes", 120, "conditions", "categories", "ladder", "actions",
                  "set_team_id", (json_int_t)directors, "raise_level", 1, "notify", 1));

    json_t *c = h_post_complaint(&srv, agent_key, complaint_body("ladder", NULL, NULL));
    int64_t id = h_jint(c, "id");
    json_t *res = h_sla_clock(c, "resolution");
    int64_t warn_at = h_jtime(res, "warn_at"), due = h_jtime(res, "due_at");
    assert_int_equal(due - warn_at, 30 * 60);
    json_decref(c);

    /* All three are pending, with their moments. */
    json_t *list = get_path("/v1/complaints/%lld/rules", id);
    assert_int_equal(h_jtime(rule_entry(list, warn), "due_at"), warn_at);
    assert_int_equal(h_jtime(rule_entry(list, breach), "due_at"), due);
    assert_int_equal(h_jtime(rule_entry(list, late), "due_at"), due + 120 * 60);
    assert_string_equal(h_jstr(rule_entry(list, late), "state"), "pending");
    json_decref(list);

    /* Level 1 at the warning, level 2 at the breach, level 3 two hours on. */
    h_clock_advance_to(&srv, warn_at, 0);
    h_clock_advance(&srv, 1);
    c = wait_level(id, 1, 5000);
    assert_int_equal(h_jint(c, "escalation_level"), 1);
    assert_int_equal(h_jint(c, "team_id"), leads);
    json_decref(c);
    h_clock_advance_to(&srv, due, 0);
    h_clock_advance(&srv, 1);
    c = wait_level(id, 2, 5000);
    assert_int_equal(h_jint(c, "escalation_level"), 2);
    assert_int_equal(h_jint(c, "team_id"), managers);
    json_decref(c);
    h_clock_advance_to(&srv, due + 120 * 60, 0);
    h_clock_advance(&srv, 1);
    c = wait_level(id, 3, 5000);
    assert_int_equal(h_jint(c, "escalation_level"), 3);
    assert_int_equal(h_jint(c, "team_id"), directors);
    json_decref(c);

    /* Hours later nothing has fired again. */
    h_clock_advance(&srv, 6 * 3600);
    h_clock_wait_pass(&srv);
    c = h_get_complaint(&srv, agent_key, id);
    assert_int_equal(h_jint(c, "escalation_level"), 3);
    json_decref(c);

    /* The timeline: each rule's escalation once, in order, by the rule,
     * after the alert that triggered it. */
    json_t *evs = h_events(&srv, id);
    size_t i, n = 0;
    json_t *ev;
    const int64_t want_rule[] = {warn, breach, late};
    const int64_t want_team[] = {leads, managers, directors};
    bool seen_warning = false, seen_breach = false;
    json_array_foreach (evs, i, ev) {
        const char *kind = h_jstr(ev, "kind");
        json_t *d = json_object_get(ev, "data");
        if (strcmp(kind, "sla_warning") == 0 && strcmp(h_jstr(d, "target"), "resolution") == 0)
            seen_warning = true;
        if (strcmp(kind, "sla_breached") == 0 && strcmp(h_jstr(d, "target"), "resolution") == 0)
            seen_breach = true;
        if (strcmp(kind, "escalated") != 0)
            continue;
        assert_true(n < 3);
        json_t *actor = json_object_get(ev, "actor");
        assert_string_equal(h_jstr(actor, "type"), "rule");
        assert_int_equal(h_jint(actor, "rule_id"), want_rule[n]);
        assert_int_equal(h_jint(d, "to_level"), (int64_t)n + 1);
        assert_int_equal(h_jint(json_object_get(d, "team_id"), "to"), want_team[n]);
        assert_true(n == 0 ? seen_warning : seen_breach);
        n++;
    }
    assert_int_equal(n, 3);
    if (getenv("OMBUD_TEST_SHOW"))
        h_dump("ladder timeline", evs);
    json_decref(evs);

    /* Two escalation alerts (the breach's and the late one's), on time. */
    json_t *alerts = h_alerts(&srv, id);
    assert_int_equal(h_count_alerts(alerts, "escalation", "resolution", 1, -1, NULL), 2);
    json_t *a = h_the_alert(alerts, "escalation", "resolution", 1, 2);
    assert_int_equal(h_jint(a, "rule_id"), breach);
    assert_int_equal(h_jtime(a, "scheduled_at"), due);
    a = h_the_alert(alerts, "escalation", "resolution", 1, 3);
    assert_int_equal(h_jint(a, "rule_id"), late);
    assert_int_equal(h_jtime(a, "scheduled_at"), due + 120 * 60);
    json_decref(alerts);

    list = get_path("/v1/complaints/%lld/rules", id);
    for (size_t k = 0; k < 3; k++)
        assert_string_equal(h_jstr(rule_entry(list, want_rule[k]), "state"), "fired");
    json_decref(list);
}

/* ---- delayed: skipped when the condition stopped holding ---- */

static void a_delayed_rule_is_skipped_when_its_condition_no_longer_holds(void **state)
{
    int64_t rule =
        make_rule(json_pack("{s:s, s:i, s:s, s:i, s:{s:[s], s:[s]}, s:{s:I}}", "name",
                            "Urgent for 30 min: special team", "position", 30, "trigger", "created",
                            "delay_minutes", 30, "conditions", "priorities", "urgent", "categories",
                            "delayed", "actions", "set_team_id", (json_int_t)special));
    /* Delays count on the servers' clock (created_at is PostgreSQL's). */
    int64_t before = h_now_ms() / 1000;
    json_t *c = h_post_complaint(&srv, agent_key, complaint_body("delayed", NULL, "urgent"));
    int64_t after = h_now_ms() / 1000 + 1;
    int64_t calm = h_jint(c, "id");
    assert_int_equal(h_jint(c, "team_id"), front);
    json_decref(c);
    c = h_post_complaint(&srv, agent_key, complaint_body("delayed", NULL, "urgent"));
    int64_t hot = h_jint(c, "id");
    json_decref(c);

    json_t *list = get_path("/v1/complaints/%lld/rules", calm);
    json_t *e = rule_entry(list, rule);
    assert_string_equal(h_jstr(e, "state"), "pending");
    h_expect_between(h_jtime(e, "due_at"), before + 30 * 60, after + 30 * 60,
                     "due_at of the delayed rule");
    assert_true(h_jnull(e, "fired_at"));
    json_decref(list);

    /* One calms down; the other stays urgent. */
    char path[96];
    snprintf(path, sizeof path, "/v1/complaints/%lld", (long long)calm);
    struct h_resp *r =
        h_req(&srv, "PATCH", path,
              &(struct h_opts){.key = agent_key, .body = "{\"priority\":\"normal\"}"});
    h_expect_status(r, 200);
    h_resp_free(r);

    h_clock_advance(&srv, 30 * 60 + 2);
    list = wait_rule_done(calm, rule, 5000);
    e = rule_entry(list, rule);
    assert_string_equal(h_jstr(e, "state"), "skipped");
    assert_non_null(strstr(h_jstr(e, "reason"), "priority is normal"));
    json_decref(list);
    c = h_get_complaint(&srv, agent_key, calm);
    assert_int_equal(h_jint(c, "team_id"), front);
    json_decref(c);
    json_t *evs = h_events(&srv, calm);
    assert_int_equal(h_count_events(evs, "rule_skipped"), 1);
    size_t i;
    json_t *ev;
    json_array_foreach (evs, i, ev)
        if (strcmp(h_jstr(ev, "kind"), "rule_skipped") == 0) {
            json_t *d = json_object_get(ev, "data");
            assert_int_equal(h_jint(d, "rule_id"), rule);
            assert_non_null(strstr(h_jstr(d, "reason"), "conditions no longer hold"));
            assert_int_equal(h_jint(json_object_get(ev, "actor"), "rule_id"), rule);
        }
    json_decref(evs);

    list = wait_rule_done(hot, rule, 5000);
    assert_string_equal(h_jstr(rule_entry(list, rule), "state"), "fired");
    json_decref(list);
    c = h_get_complaint(&srv, agent_key, hot);
    assert_int_equal(h_jint(c, "team_id"), special);
    json_decref(c);
}

/* ---- reopened: once per cycle ---- */

static void a_rule_on_reopen_acts_in_the_same_request_once_per_cycle(void **state)
{
    int64_t rule =
        make_rule(json_pack("{s:s, s:i, s:s, s:{s:[s]}, s:{s:s, s:b}}", "name", "Reopened: urgent",
                            "position", 40, "trigger", "reopened", "conditions", "categories",
                            "reopen", "actions", "set_priority", "urgent", "notify", 1));
    json_t *c = h_post_complaint(&srv, agent_key, complaint_body("reopen", NULL, "low"));
    int64_t id = h_jint(c, "id");
    json_decref(c);
    char path[96];
    snprintf(path, sizeof path, "/v1/complaints/%lld", (long long)id);
    json_decref(h_transition(&srv, agent_key, id, "start"));
    for (int cycle = 2; cycle <= 3; cycle++) {
        json_decref(h_transition(&srv, agent_key, id, "resolve"));
        c = h_transition(&srv, agent_key, id, "reopen");
        assert_string_equal(h_jstr(c, "status"), "in_progress");
        assert_string_equal(h_jstr(c, "priority"), "urgent");
        json_decref(c);
        /* Calmed down again before the next round. */
        struct h_resp *r =
            h_req(&srv, "PATCH", path,
                  &(struct h_opts){.key = agent_key, .body = "{\"priority\":\"low\"}"});
        h_expect_status(r, 200);
        h_resp_free(r);
    }
    json_t *alerts = h_alerts(&srv, id);
    assert_int_equal(h_count_alerts(alerts, "escalation", "any", 2, -1, NULL), 1);
    assert_int_equal(h_count_alerts(alerts, "escalation", "any", 3, -1, NULL), 1);
    json_decref(alerts);
    /* The timeline: the rule's priority change after each reopen. */
    json_t *evs = h_events(&srv, id);
    size_t i, by_rule = 0;
    json_t *ev;
    json_array_foreach (evs, i, ev) {
        json_t *actor = json_object_get(ev, "actor");
        if (strcmp(h_jstr(actor, "type"), "rule") != 0)
            continue;
        by_rule++;
        assert_string_equal(h_jstr(ev, "kind"), "updated");
        assert_int_equal(h_jint(actor, "rule_id"), rule);
        json_t *prev = json_array_get(evs, i - 1);
        assert_string_equal(h_jstr(json_object_get(prev, "data"), "action"), "reopen");
    }
    assert_int_equal(by_rule, 2);
    json_decref(evs);
}

/* ---- a pending run outlives the worker's connection ---- */

static void a_delayed_moment_is_found_again_after_the_worker_reconnects(void **state)
{
    int64_t rule = make_rule(json_pack("{s:s, s:i, s:s, s:i, s:{s:[s]}, s:{s:b}}", "name",
                                       "Outage: level up after 10 min", "position", 50, "trigger",
                                       "created", "delay_minutes", 10, "conditions", "categories",
                                       "outage", "actions", "raise_level", 1));
    json_t *c = h_post_complaint(&srv, agent_key, complaint_body("outage", NULL, NULL));
    int64_t id = h_jint(c, "id");
    json_decref(c);

    /* Cut the worker's connection; its moment comes while it reconnects. */
    json_decref(h_sql(&srv, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE application_name LIKE 'ombud sla worker%'"));
    h_clock_advance(&srv, 10 * 60 + 2);
    c = wait_level(id, 1, 8000);
    assert_int_equal(h_jint(c, "escalation_level"), 1);
    assert_int_equal(h_jint(c, "team_id"), leads);
    json_decref(c);
    assert_int_equal(h_sql_int(&srv,
                               "SELECT count(*) FROM escalation_rule_runs WHERE rule_id = %lld"
                               " AND complaint_id = %lld AND state = 'fired'",
                               (long long)rule, (long long)id),
                     1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rules_are_validated),
        cmocka_unit_test(rules_are_created_read_changed_and_deleted),
        cmocka_unit_test(high_risk_goes_to_the_special_team_at_once),
        cmocka_unit_test(a_three_level_ladder_fires_in_order_once_each),
        cmocka_unit_test(a_delayed_rule_is_skipped_when_its_condition_no_longer_holds),
        cmocka_unit_test(a_rule_on_reopen_acts_in_the_same_request_once_per_cycle),
        cmocka_unit_test(a_delayed_moment_is_found_again_after_the_worker_reconnects),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    return rc | h_exit_status();
}
