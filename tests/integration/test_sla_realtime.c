/*
 * SLA warnings in real time, end to end. This is the one SLA program that
 * never moves the servers' test clock (each test program has a clock of
 * its own, see harness.h), so the server's business clock is the wall
 * clock PostgreSQL stamps alerts with, and the worker's own lag figures
 * (created_at - scheduled_at, computed in SQL) mean what they mean in
 * production. A first response target of one minute with warnings at 5,
 * 10 and 20 per cent: each level comes 3, 6 and 12 s after the creation,
 * on time (within 2 s) and once, in /v1/alerts, on the complaint and in
 * the timeline; then /health/ready gives the worker's account of it.
 * test_sla covers the other scenarios on the test clock.
 */
#include "harness.h"

#include <stdio.h>
#include <string.h>

static struct h_server srv;
static char svc_key[96], agent_key[96];
static int64_t p_fast;

static int setup(void **state)
{
    h_server_start(&srv, NULL);
    h_make_key(&srv, "service", svc_key, sizeof svc_key);
    h_make_key(&srv, "agent", agent_key, sizeof agent_key);
    h_make_category(&srv, "sla_fast");
    p_fast = h_make_policy(&srv, "Fast first response", 10,
                           json_pack("{s:[s]}", "categories", "sla_fast"), 1, 600,
                           "[{\"percent\":5},{\"percent\":10},{\"percent\":20}]", 0);
    return 0;
}

static int teardown(void **state)
{
    h_server_stop(&srv, true);
    return 0;
}

/*
 * A's three warnings, each watched as it comes; a few seconds more bring
 * no duplicate; then the worker's health, lag and count.
 */
static void warnings_on_time_and_once(void **state)
{
    assert_int_equal(h_clock_offset_ms(), 0);
    json_t *o =
        h_post_complaint(&srv, svc_key,
                         json_pack("{s:s, s:s, s:{s:s}, s:s}", "title", "Late parcel",
                                   "description", "The parcel was promised for Monday.", "customer",
                                   "name", "Grace Hopper", "category", "sla_fast"));
    int64_t a = h_jint(o, "id");
    assert_int_equal(h_jint(json_object_get(o, "sla"), "policy_id"), p_fast);
    json_t *fr = h_sla_clock(o, "first_response");
    int64_t due = h_jtime(fr, "due_at");
    int64_t start = due - 60;
    h_expect_between(start - h_jtime(o, "created_at"), 0, 1, "clock starts at creation");
    static const int64_t th[] = {3, 6, 12};
    int64_t at[3];
    for (int l = 1; l <= 3; l++) {
        at[l - 1] = h_jtime(h_sla_warning(fr, l), "at");
        assert_int_equal(at[l - 1], start + th[l - 1]);
    }
    assert_int_equal(h_jtime(fr, "warn_at"), at[0]);
    assert_string_equal(h_jstr(fr, "state"), "on_track");
    json_decref(o);

    /* Each level in turn: raised within 2 s, and the complaint shows it. */
    for (int l = 1; l <= 3; l++) {
        json_t *alerts = h_wait_alerts(&srv, a, (size_t)l, (at[l - 1] + 3) * 1000 - h_real_ms());
        json_t *al = h_the_alert(alerts, "sla_warning", "first_response", 1, l);
        assert_int_equal(h_jint(al, "complaint_id"), a);
        h_expect_on_time(&srv, al, at[l - 1]);
        assert_int_equal(json_array_size(alerts), (size_t)l);
        json_decref(alerts);
        json_t *c = h_get_complaint(&srv, agent_key, a);
        json_t *k = h_sla_clock(c, "first_response");
        assert_string_equal(h_jstr(k, "state"), "at_risk");
        json_t *w = h_sla_warning(k, l);
        assert_int_equal(h_jtime(w, "at"), at[l - 1]);
        h_expect_between(h_jtime(w, "raised_at") - at[l - 1], 0, 2, "raised_at");
        json_decref(c);
    }
    /* A few seconds more: still one alert per level, one timeline event per alert. */
    h_sleep_ms(3000);
    json_t *alerts = h_alerts(&srv, a);
    assert_int_equal(json_array_size(alerts), 3);
    json_t *evs = h_events(&srv, a);
    assert_int_equal(h_count_events(evs, "sla_warning"), 3);
    assert_int_equal(h_count_events(evs, "sla_breached"), 0);
    size_t i;
    json_t *al;
    json_array_foreach (alerts, i, al) {
        assert_int_equal(h_jint(al, "level"), (int64_t)i + 1);
        h_expect_alert_event(evs, al);
    }
    json_decref(evs);
    json_decref(alerts);

    /* The worker's health: running, connected, a recent pass, its own
     * count of what it raised, and every lag within 2 s. */
    long long raised_before = h_sql_int(&srv, "SELECT count(*) FROM alerts");
    struct h_resp *r = h_req(&srv, "GET", "/health/ready", NULL);
    h_expect_status(r, 200);
    json_t *wk = json_object_get(r->json, "sla_worker");
    assert_string_equal(h_jstr(wk, "status"), "running");
    assert_true(json_is_true(json_object_get(wk, "connected")));
    h_expect_between(h_jtime(wk, "last_pass_at") - h_now_ms() / 1000, -10, 1, "last pass");
    h_expect_between(h_jint(wk, "alerts_raised"), raised_before,
                     h_sql_int(&srv, "SELECT count(*) FROM alerts"),
                     "alerts raised by this process");
    h_expect_between(h_jint(wk, "lag_last_ms"), 0, 2000, "lag_last_ms");
    h_expect_between(h_jint(wk, "lag_max_ms"), 0, 2000, "lag_max_ms");
    h_resp_free(r);
}

/* Last: SIGTERM must give exit 0, which under ASan also means nothing leaked. */
static void server_stops_cleanly(void **state)
{
    h_server_stop(&srv, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(warnings_on_time_and_once),
        cmocka_unit_test(server_stops_cleanly),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
