/*
 * POST /v1/complaints/{id}/escalate: supervisors only, level + 1, moved
 * to the given team or the current team's escalation team, recorded in
 * the timeline; bad input, closed complaints and the top of a chain
 * refused.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server srv;
static char agent_key[96], sup_key[96];
static int64_t top, leads, front; /* Front -> Leads -> Managers (top) */

static int64_t post_id(const char *path, const char *body)
{
    struct h_resp *r = h_admin(&srv, "POST", path, body);
    h_expect_status(r, 201);
    int64_t id = h_jint(r->json, "id");
    h_resp_free(r);
    return id;
}

static int setup(void **state)
{
    char body[256];
    h_server_start(&srv, NULL);
    h_make_key(&srv, "agent", agent_key, sizeof agent_key);
    h_make_key(&srv, "supervisor", sup_key, sizeof sup_key);
    top = post_id("/v1/teams", "{\"name\":\"Managers\"}");
    snprintf(body, sizeof body, "{\"name\":\"Leads\",\"escalation_team_id\":%lld}", (long long)top);
    leads = post_id("/v1/teams", body);
    snprintf(body, sizeof body, "{\"name\":\"Front\",\"escalation_team_id\":%lld}",
             (long long)leads);
    front = post_id("/v1/teams", body);
    return 0;
}

static int teardown(void **state)
{
    h_server_stop(&srv, true);
    return 0;
}

/* A fresh complaint (version 1) in the Front team. */
static int64_t make_complaint(void)
{
    char body[256];
    snprintf(
        body, sizeof body,
        "{\"title\":\"t\",\"description\":\"d\",\"customer\":{\"name\":\"c\"},\"team_id\":%lld}",
        (long long)front);
    return post_id("/v1/complaints", body);
}

static struct h_resp *escalate(const char *key, int64_t id, const char *body, const char *if_match)
{
    char path[64], hdr[64];
    snprintf(path, sizeof path, "/v1/complaints/%lld/escalate", (long long)id);
    snprintf(hdr, sizeof hdr, "If-Match: %s", if_match ? if_match : "");
    return h_req(&srv, "POST", path,
                 &(struct h_opts){.key = key, .body = body, .headers = {if_match ? hdr : NULL}});
}

static void agents_may_not_escalate(void **state)
{
    struct h_resp *r = escalate(agent_key, make_complaint(), "{\"reason\":\"x\"}", NULL);
    h_expect_problem(r, 403);
    h_resp_free(r);
}

/* Reason is required; unknown fields and bad team ids are named. */
static void bad_input_is_named(void **state)
{
    int64_t id = make_complaint();
    struct h_resp *r = escalate(sup_key, id, "{\"team_id\":0,\"why\":1}", NULL);
    h_expect_problem(r, 422);
    assert_true(h_problem_has_field(r, "reason"));
    assert_true(h_problem_has_field(r, "team_id"));
    assert_true(h_problem_has_field(r, "why"));
    h_resp_free(r);
    r = escalate(sup_key, id, "{\"reason\":\"x\",\"team_id\":999999}", NULL);
    h_expect_invalid(r, "team_id");
    h_resp_free(r);
}

static void stale_if_match_is_412(void **state)
{
    struct h_resp *r = escalate(sup_key, make_complaint(), "{\"reason\":\"x\"}", "\"v99\"");
    h_expect_problem(r, 412);
    h_resp_free(r);
}

static void escalation_ladder(void **state)
{
    char body[256];
    int64_t id = make_complaint();

    /* Front -> Leads -> Managers by the teams' escalation chain. */
    struct h_resp *r = escalate(sup_key, id, "{\"reason\":\"threatens the regulator\"}", "\"v1\"");
    h_expect_status(r, 200);
    assert_int_equal(h_jint(r->json, "escalation_level"), 1);
    assert_int_equal(h_jint(r->json, "team_id"), leads);
    h_resp_free(r);
    r = escalate(sup_key, id, "{\"reason\":\"still waiting\"}", NULL);
    assert_int_equal(h_jint(r->json, "escalation_level"), 2);
    assert_int_equal(h_jint(r->json, "team_id"), top);
    h_resp_free(r);
    /* The top of the chain: nowhere to go (see escalation_at_the_top_is_409);
     * an explicit team still goes. */
    snprintf(body, sizeof body, "{\"reason\":\"back to the front\",\"team_id\":%lld}",
             (long long)front);
    r = escalate(sup_key, id, body, NULL);
    h_expect_status(r, 200);
    assert_int_equal(h_jint(r->json, "escalation_level"), 3);
    assert_int_equal(h_jint(r->json, "team_id"), front);
    h_resp_free(r);

    /* The timeline has one escalated event per escalation. */
    char path[64];
    snprintf(path, sizeof path, "/v1/complaints/%lld/events", (long long)id);
    r = h_admin(&srv, "GET", path, NULL);
    size_t i, n = 0;
    json_t *ev;
    json_array_foreach (json_object_get(r->json, "items"), i, ev) {
        if (strcmp(h_jstr(ev, "kind"), "escalated") != 0)
            continue;
        json_t *d = json_object_get(ev, "data");
        n++;
        assert_int_equal(h_jint(d, "to_level"), (int64_t)n);
        assert_string_equal(h_jstr(json_object_get(ev, "actor"), "role"), "supervisor");
    }
    assert_int_equal(n, 3);
    h_resp_free(r);
}

/* Asserts a 409 escalation-at-top for escalating id, and that the
 * complaint and its timeline are as they were (version, level, team). */
static void expect_at_top(int64_t id, int version, int level, int64_t team)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/complaints/%lld/events", (long long)id);
    struct h_resp *before = h_admin(&srv, "GET", path, NULL);
    struct h_resp *r = escalate(sup_key, id, "{\"reason\":\"higher still\"}", NULL);
    h_expect_problem(r, 409);
    assert_string_equal(h_jstr(r->json, "type"), "/problems/escalation-at-top");
    assert_non_null(strstr(h_jstr(r->json, "detail"), "team_id"));
    h_resp_free(r);
    json_t *c = h_get_complaint(&srv, srv.admin_key, id);
    assert_int_equal(h_jint(c, "version"), version);
    assert_int_equal(h_jint(c, "escalation_level"), level);
    if (team)
        assert_int_equal(h_jint(c, "team_id"), team);
    else
        assert_true(h_jnull(c, "team_id"));
    json_decref(c);
    r = h_admin(&srv, "GET", path, NULL);
    assert_string_equal(r->body, before->body);
    h_resp_free(r);
    h_resp_free(before);
}

/* At the top of a chain, or without a team, escalating without naming a
 * team is a 409 that writes nothing. */
static void escalation_at_the_top_is_409(void **state)
{
    int64_t id = make_complaint();
    struct h_resp *r = escalate(sup_key, id, "{\"reason\":\"up\"}", NULL);
    h_expect_status(r, 200);
    h_resp_free(r);
    r = escalate(sup_key, id, "{\"reason\":\"up again\"}", NULL);
    assert_int_equal(h_jint(r->json, "team_id"), top);
    h_resp_free(r);
    expect_at_top(id, 3, 2, top);

    id = post_id("/v1/complaints",
                 "{\"title\":\"t\",\"description\":\"d\",\"customer\":{\"name\":\"c\"}}");
    expect_at_top(id, 1, 0, 0);
}

/* Closed complaints are not escalated. */
static void closed_complaint_is_409(void **state)
{
    char path[64];
    int64_t id = make_complaint();
    snprintf(path, sizeof path, "/v1/complaints/%lld/transitions", (long long)id);
    struct h_resp *r =
        h_admin(&srv, "POST", path, "{\"action\":\"withdraw\",\"note\":\"customer withdrew\"}");
    h_expect_status(r, 200);
    h_resp_free(r);
    r = escalate(sup_key, id, "{\"reason\":\"x\"}", NULL);
    h_expect_problem(r, 409);
    h_resp_free(r);
}

static void unknown_complaint_is_404(void **state)
{
    struct h_resp *r = escalate(sup_key, 987654, "{\"reason\":\"x\"}", NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(agents_may_not_escalate),      cmocka_unit_test(bad_input_is_named),
        cmocka_unit_test(stale_if_match_is_412),        cmocka_unit_test(escalation_ladder),
        cmocka_unit_test(escalation_at_the_top_is_409), cmocka_unit_test(closed_complaint_is_409),
        cmocka_unit_test(unknown_complaint_is_404),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
