/*
 * The SLA worker across a PostgreSQL outage. Warnings fall due while the
 * database is down; once it is back, the worker reconnects by itself
 * (the same ombud process, never restarted), says so in /health/ready,
 * raises every missed alert exactly once, shortly after the recovery and
 * with its original scheduled_at, and later alerts come on time again.
 * Everything up to the third warnings runs in real time (see there); only
 * the last wait, for duplicates, moves the servers' test clock instead.
 * Stops the shared test cluster, so ctest runs it alone (RUN_SERIAL).
 */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

static struct h_server srv;
static int64_t policy;

static const char *pg_script(void)
{
    const char *s = getenv("OMBUD_TEST_PG_SCRIPT");
    if (!s || !*s)
        fail_msg("OMBUD_TEST_PG_SCRIPT is not set: run the tests with ./scripts/test");
    return s;
}

/* Warnings at 10, 15 and 40 per cent of a minute: 6, 9 and 24 s. */
static int setup(void **state)
{
    static const char *const env[] = {"OMBUD_DB_TIMEOUT_MS=500", "OMBUD_DB_POOL=3", NULL};
    h_server_start(&srv, env);
    h_make_category(&srv, "outage");
    policy = h_make_policy(&srv, "Outage", 1, json_pack("{s:[s]}", "categories", "outage"), 1, 600,
                           "[{\"percent\":10},{\"percent\":15},{\"percent\":40}]", 0);
    return 0;
}

static int teardown(void **state)
{
    h_sh("\"%s\" start >/dev/null 2>&1", pg_script());
    h_server_stop(&srv, true);
    return 0;
}

/* Creates a complaint; returns its first response clock's warning moments. */
static int64_t create(int64_t at[3])
{
    struct h_resp *r = h_admin(&srv, "POST", "/v1/complaints",
                               "{\"title\":\"No dial tone\",\"description\":\"Since the storm.\","
                               "\"customer\":{\"name\":\"Ada\"},\"category\":\"outage\"}");
    h_expect_status(r, 201);
    json_t *sla = json_object_get(r->json, "sla");
    assert_int_equal(h_jint(sla, "policy_id"), policy);
    json_t *fr = json_object_get(sla, "first_response");
    json_t *ws = json_object_get(fr, "warnings");
    assert_int_equal(json_array_size(ws), 3);
    int64_t start = h_epoch(h_jstr(fr, "due_at")) - 60;
    static const int64_t th[] = {6, 9, 24};
    for (size_t i = 0; i < 3; i++) {
        json_t *w = json_array_get(ws, i);
        assert_int_equal(h_jint(w, "level"), (int64_t)i + 1);
        at[i] = h_epoch(h_jstr(w, "at"));
        assert_int_equal(at[i], start + th[i]);
    }
    int64_t id = h_jint(r->json, "id");
    h_resp_free(r);
    return id;
}

/* The alert of a warning level (borrowed); exactly one must exist. */
static json_t *level_alert(const json_t *alerts, int level)
{
    return h_the_alert(alerts, "sla_warning", "first_response", 1, level);
}

static json_t *ready(long *status)
{
    struct h_resp *r = h_req(&srv, "GET", "/health/ready", NULL);
    *status = r->status;
    json_t *w = json_incref(json_object_get(r->json, "sla_worker"));
    h_resp_free(r);
    if (!json_is_object(w))
        fail_msg("/health/ready has no sla_worker object");
    return w;
}

static void missed_alerts_raised_once_after_recovery(void **state)
{
    pid_t pid = srv.pid;
    int64_t at_x[3], at_y[3];
    int64_t x = create(at_x);
    int64_t y = create(at_y);
    long st;

    /* The worker is connected before the outage. */
    json_t *w = ready(&st);
    assert_int_equal(st, 200);
    assert_string_equal(h_jstr(w, "status"), "running");
    assert_true(json_is_true(json_object_get(w, "connected")));
    json_decref(w);

    assert_int_equal(h_sh("\"%s\" stop >/dev/null", pg_script()), 0);
    int64_t stopped_ms = h_now_ms();
    if (stopped_ms >= at_x[0] * 1000)
        fail_msg("PostgreSQL took too long to stop: the first warning was not missed");

    /* The worker notices and says so; the process stays up. */
    bool down = false;
    for (int i = 0; i < 50 && !down; i++) {
        w = ready(&st);
        down = st == 503 && json_is_false(json_object_get(w, "connected"));
        if (down)
            assert_string_equal(h_jstr(w, "status"), "reconnecting");
        json_decref(w);
        if (!down)
            h_sleep_ms(100);
    }
    assert_true(down);
    struct h_resp *r = h_req(&srv, "GET", "/health/live", NULL);
    h_expect_status(r, 200);
    h_resp_free(r);

    /* Down about 8 s, across both complaints' first two warning moments. */
    int64_t last_missed = at_x[1] > at_y[1] ? at_x[1] : at_y[1];
    int64_t restart_at = stopped_ms + 8000;
    if (restart_at < last_missed * 1000 + 1500)
        restart_at = last_missed * 1000 + 1500;
    h_sleep_until_ms(restart_at);
    r = h_admin(&srv, "GET", "/v1/alerts", NULL); /* the API is down too */
    h_expect_problem(r, 503);
    h_resp_free(r);
    int64_t restart_ms = h_now_ms();
    assert_int_equal(h_sh("\"%s\" start >/dev/null", pg_script()), 0);
    int64_t started_ms = h_now_ms();
    if (started_ms >= at_x[2] * 1000 - 3000 || started_ms >= at_y[2] * 1000 - 3000)
        fail_msg("PostgreSQL took too long to start: no time left to see the next warning");

    /* The worker reconnects by itself. */
    bool up = false;
    int64_t up_ms = 0;
    for (int i = 0; i < 150 && !up; i++) {
        w = ready(&st);
        up = st == 200 && json_is_true(json_object_get(w, "connected"));
        if (up) {
            up_ms = h_now_ms();
            assert_string_equal(h_jstr(w, "status"), "running");
        }
        json_decref(w);
        if (!up)
            h_sleep_ms(100);
    }
    if (!up)
        fail_msg("the SLA worker did not reconnect within 15 s");

    /* Every missed alert, once, soon after the recovery, for its original moment. */
    int64_t ids[2] = {x, y};
    int64_t *ats[2] = {at_x, at_y};
    for (int k = 0; k < 2; k++) {
        json_t *alerts = NULL;
        for (int i = 0; i < 50; i++) {
            json_decref(alerts);
            alerts = h_alerts(&srv, ids[k]);
            if (json_array_size(alerts) >= 2)
                break;
            h_sleep_ms(100);
        }
        for (int level = 1; level <= 2; level++) {
            json_t *a = level_alert(alerts, level);
            assert_int_equal(h_epoch(h_jstr(a, "scheduled_at")), ats[k][level - 1]);
            int64_t created = h_epoch(h_jstr(a, "created_at"));
            if (created * 1000 < restart_ms - 1000 || created * 1000 > up_ms + 3000)
                fail_msg("level %d raised at %lld: not shortly after the recovery (%lld..%lld)",
                         level, (long long)created, (long long)(restart_ms / 1000),
                         (long long)(up_ms / 1000));
            json_t *evs = h_events(&srv, ids[k]);
            h_expect_alert_event(evs, a);
            json_decref(evs);
        }
        assert_int_equal(json_array_size(alerts), 2);
        json_decref(alerts);
    }

    /* The API recovered too; the third warnings come on time. They are
     * waited for in real time: the worker's lag figures (checked below) are
     * PostgreSQL's created_at minus scheduled_at, which a moved test clock
     * would make negative, and the worker counts those as 0. */
    for (int k = 0; k < 2; k++) {
        json_t *alerts = h_wait_alerts(&srv, ids[k], 3, (ats[k][2] + 3) * 1000 - h_now_ms());
        h_expect_on_time(&srv, level_alert(alerts, 3), ats[k][2]);
        assert_int_equal(json_array_size(alerts), 3);
        json_decref(alerts);
    }

    /* No duplicates anywhere, in the alerts or the timeline, after a pass
     * of the worker 2 s later on its clock. */
    h_clock_advance(&srv, 2);
    for (int k = 0; k < 2; k++) {
        json_t *alerts = h_alerts(&srv, ids[k]);
        assert_int_equal(json_array_size(alerts), 3);
        json_decref(alerts);
    }
    json_t *rows = h_sql(&srv, "SELECT kind, count(*)::text FROM complaint_events"
                               " WHERE kind LIKE 'sla_%' GROUP BY kind ORDER BY kind");
    assert_int_equal(json_array_size(rows), 1);
    assert_string_equal(json_string_value(json_array_get(json_array_get(rows, 0), 0)),
                        "sla_warning");
    assert_string_equal(json_string_value(json_array_get(json_array_get(rows, 0), 1)), "6");
    json_decref(rows);

    /* The worker's account of it. */
    w = ready(&st);
    assert_int_equal(st, 200);
    assert_true(json_is_true(json_object_get(w, "connected")));
    assert_int_equal(h_jint(w, "alerts_raised"), 6);
    assert_true(h_jint(w, "lag_max_ms") >= 2000); /* the missed ones were late */
    assert_true(h_jint(w, "lag_last_ms") <= 2000);
    json_decref(w);

    /* Never restarted: the same process served throughout. */
    assert_int_equal(srv.pid, pid);
    int wst;
    assert_int_equal(waitpid(srv.pid, &wst, WNOHANG), 0);
    assert_int_equal(kill(srv.pid, 0), 0);
}

/* Last: SIGTERM must give exit 0, which under ASan also means nothing leaked. */
static void server_stops_cleanly(void **state)
{
    h_server_stop(&srv, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(missed_alerts_raised_once_after_recovery),
        cmocka_unit_test(server_stops_cleanly),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
