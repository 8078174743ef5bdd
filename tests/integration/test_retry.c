/*
 * Serialization failures and deadlocks inside a save are retried, not
 * reported; unique violations are explained by their constraint, never by
 * their status.
 *
 * DESIGN: a trigger installed straight into the test database (libpq, as
 * the superuser) raises the SQLSTATE named in fault_plan for the first
 * `failures` rows it sees, then lets updates through. Its counter is a
 * sequence, because nextval() survives the rollback of the transaction
 * that failed, where a counter row would be rolled back with it. So after
 * a request the sequence says how many times the statement ran: once per
 * attempt of the server's transaction runner.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server srv;

static const char *const install_sql =
    "CREATE TABLE fault_plan (sqlstate text NOT NULL, failures int NOT NULL);"
    "CREATE SEQUENCE fault_fires;"
    "CREATE FUNCTION fault_inject() RETURNS trigger LANGUAGE plpgsql AS $$"
    " DECLARE st text; n int; fails int;"
    " BEGIN"
    "   SELECT sqlstate, failures INTO st, fails FROM fault_plan;"
    "   IF st IS NULL THEN RETURN NEW; END IF;"
    "   n := nextval('fault_fires');"
    "   IF n <= fails THEN"
    "     RAISE EXCEPTION 'injected fault % (%)', st, n USING ERRCODE = st;"
    "   END IF;"
    "   RETURN NEW;"
    " END $$;"
    "CREATE TRIGGER fault_inject BEFORE UPDATE ON teams"
    " FOR EACH ROW EXECUTE FUNCTION fault_inject();"
    "CREATE TRIGGER fault_inject BEFORE UPDATE ON complaints"
    " FOR EACH ROW EXECUTE FUNCTION fault_inject();";

static int setup(void **state)
{
    h_server_start(&srv, NULL);
    json_decref(h_sql(&srv, install_sql));
    return 0;
}

static int teardown(void **state)
{
    h_server_stop(&srv, true);
    return 0;
}

/* The next updates of teams and complaints fail `failures` times with sqlstate. */
static void plan_faults(const char *sqlstate, int failures)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "DELETE FROM fault_plan; INSERT INTO fault_plan VALUES ('%s', %d);"
             " SELECT setval('fault_fires', 1, false)",
             sqlstate, failures);
    json_decref(h_sql(&srv, sql));
}

static void no_faults(void)
{
    json_decref(h_sql(&srv, "DELETE FROM fault_plan"));
}

/* How often the trigger ran since plan_faults. */
static long fires(void)
{
    json_t *rows = h_sql(&srv, "SELECT CASE WHEN is_called THEN last_value ELSE 0 END"
                               " FROM fault_fires");
    long n = strtol(json_string_value(json_array_get(json_array_get(rows, 0), 0)), NULL, 10);
    json_decref(rows);
    return n;
}

/* The first column of the first row of sql, as text. */
static char *sql_text(const char *sql)
{
    json_t *rows = h_sql(&srv, sql);
    char *v = strdup(json_string_value(json_array_get(json_array_get(rows, 0), 0)));
    json_decref(rows);
    return v;
}

static int64_t post_id(const char *path, const char *body)
{
    struct h_resp *r = h_admin(&srv, "POST", path, body);
    if (r->status != 201)
        fprintf(stderr, "%s: %ld %s\n", path, r->status, r->body);
    assert_int_equal(r->status, 201);
    int64_t id = json_integer_value(json_object_get(r->json, "id"));
    h_resp_free(r);
    return id;
}

static void expect_problem(struct h_resp *r, long status, const char *type, const char *title,
                           const char *detail)
{
    if (r->status != status)
        fprintf(stderr, "expected %ld, got %ld: %s\n", status, r->status, r->body);
    h_expect_problem(r, status);
    assert_string_equal(json_string_value(json_object_get(r->json, "type")), type);
    assert_string_equal(json_string_value(json_object_get(r->json, "title")), title);
    assert_string_equal(json_string_value(json_object_get(r->json, "detail")), detail);
}

/* PATCH /v1/teams/{id} renaming the team to name; the reply. */
static struct h_resp *rename_team(int64_t id, const char *name)
{
    char path[64], body[128];
    snprintf(path, sizeof path, "/v1/teams/%lld", (long long)id);
    snprintf(body, sizeof body, "{\"name\":\"%s\"}", name);
    return h_admin(&srv, "PATCH", path, body);
}

static void team_save_retried(const char *sqlstate, const char *before, const char *after)
{
    char body[128], sql[128];
    snprintf(body, sizeof body, "{\"name\":\"%s\"}", before);
    int64_t id = post_id("/v1/teams", body);

    plan_faults(sqlstate, 1);
    struct h_resp *r = rename_team(id, after);
    if (r->status != 200)
        fprintf(stderr, "PATCH with %s injected: %ld %s\n", sqlstate, r->status, r->body);
    assert_int_equal(r->status, 200);
    assert_string_equal(json_string_value(json_object_get(r->json, "name")), after);
    h_resp_free(r);
    /* The failed attempt and the one that committed. */
    assert_int_equal(fires(), 2);
    no_faults();

    snprintf(sql, sizeof sql, "SELECT name FROM teams WHERE id = %lld", (long long)id);
    char *stored = sql_text(sql);
    assert_string_equal(stored, after);
    free(stored);
}

static void serialization_failure_is_retried(void **state)
{
    team_save_retried("40001", "Serial before", "Serial after");
}

static void deadlock_is_retried(void **state)
{
    team_save_retried("40P01", "Deadlock before", "Deadlock after");
}

/* A complaint transition runs through the lifecycle path: the retry
 * code comes out of the complaint save and its callback unchanged. */
static void transition_is_retried(void **state)
{
    int64_t id = post_id("/v1/complaints", "{\"title\":\"t\",\"description\":\"d\","
                                           "\"customer\":{\"name\":\"c\"}}");
    char path[64], sql[160];
    snprintf(path, sizeof path, "/v1/complaints/%lld/transitions", (long long)id);

    plan_faults("40P01", 1);
    struct h_resp *r = h_admin(&srv, "POST", path, "{\"action\":\"acknowledge\"}");
    if (r->status != 200)
        fprintf(stderr, "transition with a deadlock injected: %ld %s\n", r->status, r->body);
    assert_int_equal(r->status, 200);
    assert_string_equal(json_string_value(json_object_get(r->json, "status")), "acknowledged");
    h_resp_free(r);
    assert_int_equal(fires(), 2);
    no_faults();

    /* Committed once: one status change in the timeline. */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM complaint_events WHERE complaint_id = %lld"
             " AND kind = 'status_changed'",
             (long long)id);
    char *n = sql_text(sql);
    assert_string_equal(n, "1");
    free(n);
}

/* A fault that never clears is reported once the attempts run out, as
 * what it is, not as the duplicate name the handler knows about. */
static void persistent_deadlock_is_reported_as_such(void **state)
{
    int64_t id = post_id("/v1/teams", "{\"name\":\"Stuck\"}");
    plan_faults("40P01", 1000);
    struct h_resp *r = rename_team(id, "Unstuck");
    expect_problem(r, 409, "/problems/concurrent-update", "Conflict",
                   "concurrent update; try again");
    h_resp_free(r);
    long n = fires();
    no_faults();
    assert_true(n > 1);

    char sql[96];
    snprintf(sql, sizeof sql, "SELECT name FROM teams WHERE id = %lld", (long long)id);
    char *stored = sql_text(sql);
    assert_string_equal(stored, "Stuck");
    free(stored);
}

/* Real unique violations keep today's answers, found by constraint name. */
static void duplicates_are_explained(void **state)
{
    post_id("/v1/teams", "{\"name\":\"Billing\"}");
    int64_t other = post_id("/v1/teams", "{\"name\":\"Billing desk\"}");
    struct h_resp *r = h_admin(&srv, "POST", "/v1/teams", "{\"name\":\"Billing\"}");
    expect_problem(r, 409, "/problems/conflict", "Conflict", "a team with this name exists");
    h_resp_free(r);
    r = rename_team(other, "Billing");
    expect_problem(r, 409, "/problems/conflict", "Conflict", "a team with this name exists");
    h_resp_free(r);

    post_id("/v1/agents", "{\"name\":\"Ana\",\"email\":\"ana@example.com\"}");
    r = h_admin(&srv, "POST", "/v1/agents", "{\"name\":\"Ana B\",\"email\":\"ana@example.com\"}");
    expect_problem(r, 409, "/problems/conflict", "Conflict", "an agent with this e-mail exists");
    h_resp_free(r);

    post_id("/v1/calendars", "{\"name\":\"Office\",\"timezone\":\"UTC\"}");
    r = h_admin(&srv, "POST", "/v1/calendars", "{\"name\":\"Office\",\"timezone\":\"UTC\"}");
    expect_problem(r, 409, "/problems/conflict", "Conflict", "a calendar with this name exists");
    h_resp_free(r);

    r = h_admin(&srv, "POST", "/v1/categories", "{\"key\":\"refunds\",\"name\":\"Refunds\"}");
    assert_int_equal(r->status, 201);
    h_resp_free(r);
    r = h_admin(&srv, "POST", "/v1/categories", "{\"key\":\"refunds\",\"name\":\"Again\"}");
    expect_problem(r, 409, "/problems/conflict", "Conflict", "category refunds already exists");
    h_resp_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(serialization_failure_is_retried),
        cmocka_unit_test(deadlock_is_retried),
        cmocka_unit_test(transition_is_retried),
        cmocka_unit_test(persistent_deadlock_is_reported_as_such),
        cmocka_unit_test(duplicates_are_explained),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
