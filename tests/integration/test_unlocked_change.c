/*
 * Actions without a lock (src/service/complaint.c, the unlocked change):
 * an acknowledge reads the complaint unlocked with its row version and
 * writes only if the row is still that version. Here a side session
 * changes the complaint between the two: it holds the row (FOR UPDATE)
 * and changes its priority, so the action's write waits, and once the
 * side session commits the row is another version. The action must then
 * run again locked: the answer is 200 with the status acknowledged AND
 * the side session's priority kept, one status_changed event, the first
 * response met once, and the metrics count one relocked action. When the
 * side session only holds the row and writes nothing, the unlocked write
 * goes through on its own. Actions that do more than their write (a
 * reopen that rules may act on, an assignment) go straight to the locked
 * change and keep working.
 */
#include "harness.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server srv;
static char svc_key[96], agent_key[96];

static int64_t new_complaint(const char *title)
{
    return h_make_complaint(&srv, svc_key,
                            json_pack("{s:s, s:s, s:s, s:{s:s}}", "title", title, "description",
                                      "Changed under the action's feet.", "priority", "normal",
                                      "customer", "name", "Side"));
}

struct call {
    int64_t id;
    const char *action;
    struct h_resp *resp;
};

static void *act(void *arg)
{
    struct call *x = arg;
    char path[96], body[96];
    snprintf(path, sizeof path, "/v1/complaints/%lld/transitions", (long long)x->id);
    snprintf(body, sizeof body, "{\"action\":\"%s\"}", x->action);
    x->resp = h_req(&srv, "POST", path, &(struct h_opts){.key = agent_key, .body = body});
    return NULL;
}

/* Acknowledges id while a side session holds its row and, when change,
 * sets its priority to urgent before committing. */
static struct h_resp *acknowledge_under(int64_t id, bool change)
{
    char sql[160];
    PGconn *side = PQconnectdb(srv.db_url);
    assert_int_equal(PQstatus(side), CONNECTION_OK);
    PQclear(h_pg_ok(side, "BEGIN"));
    snprintf(sql, sizeof sql, "SELECT 1 FROM complaints WHERE id = %lld FOR UPDATE", (long long)id);
    PQclear(h_pg_ok(side, sql));
    if (change) {
        snprintf(sql, sizeof sql, "UPDATE complaints SET priority = 'urgent' WHERE id = %lld",
                 (long long)id);
        PQclear(h_pg_ok(side, sql));
    }
    struct call x = {.id = id, .action = "acknowledge"};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, act, &x), 0);
    /* The action has read the row (a plain read waits for no lock) and
     * its write waits on the side session's. */
    h_sleep_ms(400L * h_time_factor());
    PQclear(h_pg_ok(side, "COMMIT"));
    PQfinish(side);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_non_null(x.resp);
    return x.resp;
}

static void expect_acknowledged_once(int64_t id, const struct h_resp *r)
{
    h_expect_status(r, 200);
    assert_string_equal(h_jstr_must(r->json, "status"), "acknowledged");
    assert_int_equal(h_jint(r->json, "version"), 2);
    json_t *fr = h_sla_clock(r->json, "first_response");
    assert_non_null(fr);
    assert_false(json_is_null(json_object_get(fr, "met_at")));
    assert_int_equal(h_sql_int(&srv,
                               "SELECT count(*) FROM complaint_events WHERE complaint_id = %lld"
                               " AND kind = 'status_changed'",
                               (long long)id),
                     1);
    assert_int_equal(h_sql_int(&srv,
                               "SELECT count(*) FROM sla_clocks WHERE complaint_id = %lld"
                               " AND target = 'first_response' AND met_at IS NOT NULL",
                               (long long)id),
                     1);
    assert_int_equal(h_sql_int(&srv,
                               "SELECT count(*) FROM changes WHERE complaint_id = %lld"
                               " AND type = 'complaint.status_changed' AND version = 2",
                               (long long)id),
                     1);
}

static void a_lost_race_runs_again_locked(void **state)
{
    (void)state;
    int64_t id = new_complaint("raced");
    long long unlocked = h_metric(&srv, "ombud_complaint_actions_unlocked_total");
    long long relocked = h_metric(&srv, "ombud_complaint_actions_relocked_total");
    struct h_resp *r = acknowledge_under(id, true);
    expect_acknowledged_once(id, r);
    /* The side session's write survives: the action was computed again
     * from the row it left. */
    assert_string_equal(h_jstr_must(r->json, "priority"), "urgent");
    assert_int_equal(h_sql_int(&srv,
                               "SELECT count(*) FROM complaints WHERE id = %lld"
                               " AND priority = 'urgent' AND status = 'acknowledged'",
                               (long long)id),
                     1);
    assert_int_equal(h_metric(&srv, "ombud_complaint_actions_relocked_total") - relocked, 1);
    assert_int_equal(h_metric(&srv, "ombud_complaint_actions_unlocked_total") - unlocked, 0);
    h_resp_free(r);
}

static void a_held_row_without_a_write_lets_it_through(void **state)
{
    (void)state;
    int64_t id = new_complaint("held");
    long long unlocked = h_metric(&srv, "ombud_complaint_actions_unlocked_total");
    long long relocked = h_metric(&srv, "ombud_complaint_actions_relocked_total");
    struct h_resp *r = acknowledge_under(id, false);
    expect_acknowledged_once(id, r);
    assert_string_equal(h_jstr_must(r->json, "priority"), "normal");
    assert_int_equal(h_metric(&srv, "ombud_complaint_actions_unlocked_total") - unlocked, 1);
    assert_int_equal(h_metric(&srv, "ombud_complaint_actions_relocked_total") - relocked, 0);
    h_resp_free(r);
}

static void actions_in_a_row(void **state)
{
    (void)state;
    int64_t id = new_complaint("row");
    long long unlocked = h_metric(&srv, "ombud_complaint_actions_unlocked_total");
    static const char *const steps[] = {"acknowledge", "start", NULL};
    for (size_t i = 0; steps[i]; i++) {
        struct call x = {.id = id, .action = steps[i]};
        act(&x);
        h_expect_status(x.resp, 200);
        assert_int_equal(h_jint(x.resp->json, "version"), (long long)i + 2);
        h_resp_free(x.resp);
    }
    assert_int_equal(h_metric(&srv, "ombud_complaint_actions_unlocked_total") - unlocked, 2);
    /* A refused action writes nothing, unlocked or not. */
    struct call x = {.id = id, .action = "acknowledge"};
    act(&x);
    h_expect_problem(x.resp, 409);
    h_resp_free(x.resp);
    assert_int_equal(h_sql_int(&srv,
                               "SELECT count(*) FROM complaint_events WHERE complaint_id = %lld"
                               " AND kind = 'status_changed'",
                               (long long)id),
                     2);
    assert_int_equal(
        h_sql_int(&srv, "SELECT version FROM complaints WHERE id = %lld", (long long)id), 3);
}

static int setup(void **state)
{
    (void)state;
    h_server_start(&srv, NULL);
    h_make_key(&srv, "service", svc_key, sizeof svc_key);
    h_make_key(&srv, "agent", agent_key, sizeof agent_key);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_server_stop(&srv, true);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_lost_race_runs_again_locked),
        cmocka_unit_test(a_held_row_without_a_write_lets_it_through),
        cmocka_unit_test(actions_in_a_row),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
