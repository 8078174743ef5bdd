/*
 * Escalation chains (API.md "Escalation and assignment"): a team's
 * escalation_team_id may not close a cycle, even from two changes at once.
 */
#include "harness.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server srv;

static int setup(void **state)
{
    /* Enough HTTP threads (and connections) for requests to really overlap. */
    static const char *const env[] = {"OMBUD_THREADS=8", "OMBUD_DB_POOL=12", NULL};
    json_object_seed(0);
    h_server_start(&srv, env);
    return 0;
}

static int teardown(void **state)
{
    h_server_stop(&srv, true);
    return 0;
}

/* ---- helpers ---- */

static int64_t make_team(const char *name, const char *assignment, int64_t escalates_to)
{
    json_t *b = json_pack("{s:s, s:s}", "name", name, "assignment", assignment);
    if (escalates_to)
        json_object_set_new(b, "escalation_team_id", json_integer(escalates_to));
    struct h_resp *r = h_call_json(&srv, "POST", "/v1/teams", srv.admin_key, b, NULL);
    h_expect_status(r, 201);
    assert_string_equal(h_jstr_must(r->json, "assignment"), assignment);
    int64_t id = h_jint(r->json, "id");
    h_resp_free(r);
    return id;
}

/* ---- escalation chains ---- */

static struct h_resp *set_escalation(int64_t team, int64_t to)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/teams/%lld", (long long)team);
    return h_call_json(
        &srv, "PATCH", path, srv.admin_key,
        json_pack("{s:o}", "escalation_team_id", to ? json_integer(to) : json_null()), NULL);
}

static int64_t escalation_of(int64_t team)
{
    char *v =
        h_sql_value(&srv, "SELECT escalation_team_id FROM teams WHERE id = %lld", (long long)team);
    int64_t id = v ? strtoll(v, NULL, 10) : 0;
    free(v);
    return id;
}

static void chain_cycles_are_refused(void **state)
{
    int64_t a = make_team("Chain A", "manual", 0), b = make_team("Chain B", "manual", 0),
            c = make_team("Chain C", "manual", 0);
    struct h_resp *r = set_escalation(a, b);
    h_expect_status(r, 200);
    h_resp_free(r);
    /* B -> A closes A -> B -> A. */
    r = set_escalation(b, a);
    h_expect_invalid(r, "escalation_team_id");
    h_resp_free(r);
    /* A team escalating to itself. */
    r = set_escalation(c, c);
    h_expect_invalid(r, "escalation_team_id");
    h_resp_free(r);
    /* Longer: C -> A -> B, then B -> C closes B -> C -> A -> B. */
    r = set_escalation(c, a);
    h_expect_status(r, 200);
    h_resp_free(r);
    r = set_escalation(b, c);
    h_expect_invalid(r, "escalation_team_id");
    h_resp_free(r);
    assert_int_equal(escalation_of(b), 0);
    /* Once C no longer escalates, B -> C closes nothing. */
    r = set_escalation(c, 0);
    h_expect_status(r, 200);
    h_resp_free(r);
    r = set_escalation(b, c);
    h_expect_status(r, 200);
    h_resp_free(r);
    assert_int_equal(escalation_of(a), b);
    assert_int_equal(escalation_of(b), c);
    assert_int_equal(escalation_of(c), 0);
}

struct chain_job {
    pthread_barrier_t *start;
    int64_t team, to;
    long status;
};

static void *chain_run(void *arg)
{
    struct chain_job *j = arg;
    char path[64], body[64];
    snprintf(path, sizeof path, "/v1/teams/%lld", (long long)j->team);
    snprintf(body, sizeof body, "{\"escalation_team_id\":%lld}", (long long)j->to);
    pthread_barrier_wait(j->start);
    struct h_resp *r =
        h_req(&srv, "PATCH", path, &(struct h_opts){.key = srv.admin_key, .body = body});
    j->status = r->status;
    h_resp_free(r);
    return NULL;
}

/* X -> Y and Y -> X at once: one of them wins, the other is a 422. */
static void concurrent_changes_cannot_close_a_cycle(void **state)
{
    enum { ROUNDS = 10 };
    char name[32];
    for (int round = 0; round < ROUNDS; round++) {
        snprintf(name, sizeof name, "Race X %d", round);
        int64_t x = make_team(name, "manual", 0);
        snprintf(name, sizeof name, "Race Y %d", round);
        int64_t y = make_team(name, "manual", 0);
        pthread_barrier_t start;
        pthread_t th[2];
        struct chain_job jobs[2] = {{&start, x, y, 0}, {&start, y, x, 0}};
        assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&th[i], NULL, chain_run, &jobs[i]), 0);
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_join(th[i], NULL), 0);
        pthread_barrier_destroy(&start);
        assert_true((jobs[0].status == 200 && jobs[1].status == 422) ||
                    (jobs[0].status == 422 && jobs[1].status == 200));
        assert_true((escalation_of(x) == y) != (escalation_of(y) == x));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chain_cycles_are_refused),
        cmocka_unit_test(concurrent_changes_cannot_close_a_cycle),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
