/*
 * PostgreSQL goes away and comes back: requests get 503 problems,
 * /health/ready says the database is down while /health/live stays up,
 * and once the database is back the service recovers by itself, without
 * a restart, including the pooled connections that died meanwhile.
 * Stops the shared test cluster, so ctest runs it alone (RUN_SERIAL).
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server srv;

static const char *pg_script(void)
{
    const char *s = getenv("OMBUD_TEST_PG_SCRIPT");
    if (!s || !*s)
        fail_msg("OMBUD_TEST_PG_SCRIPT is not set: run the tests with ./scripts/test");
    return s;
}

static int setup(void **state)
{
    static const char *const env[] = {"OMBUD_DB_TIMEOUT_MS=500", "OMBUD_DB_POOL=3", NULL};
    h_server_start(&srv, env);
    return 0;
}

static int teardown(void **state)
{
    h_sh("\"%s\" start >/dev/null 2>&1", pg_script());
    h_server_stop(&srv, true);
    return 0;
}

static long get_status(const char *path, bool auth)
{
    struct h_opts o = {.key = auth ? srv.admin_key : NULL};
    struct h_resp *r = h_req(&srv, "GET", path, &o);
    long st = r->status;
    h_resp_free(r);
    return st;
}

static void outage_and_recovery(void **state)
{
    char key[96];

    /* Warm every pooled connection so that all of them die in the outage. */
    h_make_key(&srv, "agent", key, sizeof key);
    for (int i = 0; i < 10; i++)
        assert_int_equal(get_status("/v1/api-keys", true), 200);

    assert_int_equal(h_sh("\"%s\" stop >/dev/null", pg_script()), 0);

    struct h_resp *r = h_req(&srv, "GET", "/health/ready", NULL);
    h_expect_problem(r, 503);
    assert_string_equal(json_string_value(json_object_get(r->json, "database")), "down");
    h_resp_free(r);
    assert_int_equal(get_status("/health/live", false), 200);

    r = h_admin(&srv, "POST", "/v1/api-keys", "{\"name\":\"during\",\"role\":\"agent\"}");
    h_expect_problem(r, 503);
    char ra[16];
    assert_non_null(h_header(r, "Retry-After", ra, sizeof ra));
    h_resp_free(r);
    r = h_req(&srv, "GET", "/v1/api-keys", &(struct h_opts){.key = key});
    h_expect_problem(r, 503);
    h_resp_free(r);

    assert_int_equal(h_sh("\"%s\" start >/dev/null", pg_script()), 0);

    /* The very first requests after the restart succeed: dead pooled
     * connections are replaced transparently. */
    long st = 0;
    for (int i = 0; i < 100 && st != 200; i++) {
        st = get_status("/health/ready", false);
        if (st != 200)
            h_sleep_ms(100);
    }
    assert_int_equal(st, 200);
    for (int i = 0; i < 10; i++)
        assert_int_equal(get_status("/v1/api-keys", true), 200);
    r = h_admin(&srv, "POST", "/v1/api-keys", "{\"name\":\"after\",\"role\":\"agent\"}");
    assert_int_equal(r->status, 201);
    h_resp_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(outage_and_recovery),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
