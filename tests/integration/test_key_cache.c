/*
 * The per-process API-key cache (service/api_keys.c) never lets a key do
 * more than the database says, with two server processes on one
 * database: a revoked key is refused at once by the process that revoked
 * it and within a short bound by the other; a change made by hand in the
 * database (role, revocation) after the key was served from the caches is
 * honoured by both (migration 0009's trigger); and while a process's
 * listener is disconnected (its SLA worker's backend terminated and kept
 * out), that process bypasses its cache, so a revocation it was not told
 * of is honoured anyway.
 */
#include "harness.h"

#include <libpq-fe.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BOUND_MS 2000 /* how long the other process may take to hear of a change */

static struct h_server a, b;
/* The test's own sessions, for what the servers are not told of: on the
 * servers' database, and on the cluster's admin database (a database
 * cannot bar connections to itself). */
static PGconn *pg, *adm;

static void sql_on(PGconn *on, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sql_on(PGconn *on, const char *fmt, ...)
{
    char q[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q, sizeof q, fmt, ap);
    va_end(ap);
    PGresult *r = PQexec(on, q);
    ExecStatusType st = PQresultStatus(r);
    PQclear(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", q, PQerrorMessage(on));
}

#define sql(...) sql_on(pg, __VA_ARGS__)

static void allow_connections(bool on)
{
    sql_on(adm, "ALTER DATABASE \"%s\" ALLOW_CONNECTIONS %s", a.dbname, on ? "true" : "false");
}

static int setup(void **state)
{
    (void)state;
    h_server_start(&a, NULL);
    h_server_spawn_beside(&b, &a, "B");
    pg = PQconnectdb(a.db_url);
    assert_int_equal(PQstatus(pg), CONNECTION_OK);
    const char *admin_url = getenv("OMBUD_TEST_DATABASE_URL");
    assert_non_null(admin_url);
    adm = PQconnectdb(admin_url);
    assert_int_equal(PQstatus(adm), CONNECTION_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (adm) {
        allow_connections(true);
        PQfinish(adm);
    }
    PQfinish(pg);
    if (a.pid > 0)
        kill(a.pid, SIGTERM);
    if (b.pid > 0)
        h_server_stop(&b, false);
    h_server_stop(&a, true);
    return 0;
}

/* ---- helpers ---- */

static long status_as(struct h_server *s, const char *key, const char *path)
{
    struct h_opts o = {.key = key};
    struct h_resp *r = h_req(s, "GET", path, &o);
    long st = r->status;
    h_resp_free(r);
    return st;
}

/* Asks until s answers want (for at most ms); fails otherwise. */
static void wait_status(struct h_server *s, const char *key, const char *path, long want,
                        int64_t ms)
{
    int64_t until = h_real_ms() + ms;
    long got;
    while ((got = status_as(s, key, path)) != want && h_real_ms() < until)
        h_sleep_ms(10);
    if (got != want)
        fail_msg("%s %s: %ld after %lld ms, wanted %ld", s->base, path, got, (long long)ms, want);
}

/* Creates a key (through A) with role; its id, and its secret in secret. */
static int64_t make_key(const char *name, const char *role, char *secret, size_t len)
{
    char body[128];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"role\":\"%s\"}", name, role);
    struct h_resp *r = h_admin(&a, "POST", "/v1/api-keys", body);
    h_expect_status(r, 201);
    int64_t id = h_jint(r->json, "id");
    snprintf(secret, len, "%s", h_jstr_must(r->json, "key"));
    h_resp_free(r);
    return id;
}

/* Serves the key from both processes twice (so both have it cached). */
static void use_everywhere(const char *key, const char *path, long want)
{
    for (int i = 0; i < 2; i++) {
        assert_int_equal(status_as(&a, key, path), want);
        assert_int_equal(status_as(&b, key, path), want);
    }
}

static void revoke_key(struct h_server *s, int64_t id)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/api-keys/%lld", (long long)id);
    struct h_resp *r = h_admin(s, "DELETE", path, NULL);
    h_expect_status(r, 204);
    h_resp_free(r);
}

/* Waits (at most ms) until s's SLA worker reports connected == want. */
static void wait_worker(struct h_server *s, bool want, int64_t ms)
{
    int64_t until = h_real_ms() + ms;
    for (;;) {
        struct h_resp *r = h_req(s, "GET", "/health/ready", NULL);
        json_t *w = r->json ? json_object_get(r->json, "sla_worker") : NULL;
        bool got = json_is_true(json_object_get(w, "connected"));
        h_resp_free(r);
        if (got == want)
            return;
        if (h_real_ms() >= until)
            fail_msg("the SLA worker of %s is not %s after %lld ms", s->base,
                     want ? "connected" : "disconnected", (long long)ms);
        h_sleep_ms(20);
    }
}

/* ---- tests ---- */

static void revocation_reaches_every_process(void **state)
{
    (void)state;
    char key[96];
    int64_t id = make_key("revoked everywhere", "agent", key, sizeof key);
    use_everywhere(key, "/v1/teams", 200);

    revoke_key(&a, id);
    /* The revoking process: the very next request. */
    assert_int_equal(status_as(&a, key, "/v1/teams"), 401);
    /* The other: as soon as the notification arrives. */
    int64_t t0 = h_real_ms();
    wait_status(&b, key, "/v1/teams", 401, BOUND_MS);
    fprintf(stderr, "revocation reached the other process in %lld ms\n",
            (long long)(h_real_ms() - t0));
    /* And it stays refused in both. */
    assert_int_equal(status_as(&a, key, "/v1/teams"), 401);
    assert_int_equal(status_as(&b, key, "/v1/teams"), 401);
}

static void changes_by_hand_are_honoured(void **state)
{
    (void)state;
    char key[96];
    int64_t id = make_key("changed by hand", "agent", key, sizeof key);
    use_everywhere(key, "/v1/teams", 200);

    /* A lower role, set in the database directly: both processes see it. */
    sql("UPDATE api_keys SET role = 'service' WHERE id = %lld", (long long)id);
    wait_status(&a, key, "/v1/teams", 403, BOUND_MS);
    wait_status(&b, key, "/v1/teams", 403, BOUND_MS);
    use_everywhere(key, "/v1/categories", 200); /* still a service key */

    /* And back up again, then revoked by hand. */
    sql("UPDATE api_keys SET role = 'agent' WHERE id = %lld", (long long)id);
    wait_status(&a, key, "/v1/teams", 200, BOUND_MS);
    wait_status(&b, key, "/v1/teams", 200, BOUND_MS);
    use_everywhere(key, "/v1/teams", 200);
    sql("UPDATE api_keys SET revoked_at = now() WHERE id = %lld", (long long)id);
    wait_status(&a, key, "/v1/teams", 401, BOUND_MS);
    wait_status(&b, key, "/v1/teams", 401, BOUND_MS);

    /* Noting a key's use changes nothing it may do: no invalidation, and
     * the key keeps working. */
    char other[96];
    int64_t oid = make_key("noted", "agent", other, sizeof other);
    use_everywhere(other, "/v1/teams", 200);
    sql("UPDATE api_keys SET last_used_at = now() - interval '1 hour' WHERE id = %lld",
        (long long)oid);
    use_everywhere(other, "/v1/teams", 200);
}

static void disconnected_listener_bypasses_the_cache(void **state)
{
    (void)state;
    char key[96], spare[96];
    int64_t id = make_key("revoked unheard", "agent", key, sizeof key);
    make_key("still fine", "agent", spare, sizeof spare);
    use_everywhere(key, "/v1/teams", 200);
    use_everywhere(spare, "/v1/teams", 200);

    /* Keep B's listener out: no new connections to the database (the
     * servers' pooled ones stay), then end B's worker session. */
    allow_connections(false);
    char q[256];
    snprintf(q, sizeof q,
             "SELECT pid FROM pg_stat_activity WHERE application_name = 'ombud sla worker %ld'",
             (long)b.pid);
    PGresult *r = PQexec(pg, q);
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    long pid = ok ? atol(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    if (!ok)
        fail_msg("no single session of B's SLA worker: %s", PQerrorMessage(pg));
    sql("SELECT pg_terminate_backend(%ld)", pid);
    wait_worker(&b, false, BOUND_MS);

    /* Revoked through A: B hears nothing, yet refuses the key at once.
     * (Entries B cached before are dead since it lost the connection;
     * what it looked up during the outage must not be cached either.) */
    revoke_key(&a, id);
    assert_int_equal(status_as(&a, key, "/v1/teams"), 401);
    assert_int_equal(status_as(&b, key, "/v1/teams"), 401);
    char late[96];
    int64_t late_id = make_key("used in the outage", "agent", late, sizeof late);
    assert_int_equal(status_as(&b, late, "/v1/teams"), 200);
    assert_int_equal(status_as(&b, late, "/v1/teams"), 200);
    revoke_key(&a, late_id);
    assert_int_equal(status_as(&b, late, "/v1/teams"), 401);
    /* Other keys still work there, looked up each time. */
    assert_int_equal(status_as(&b, spare, "/v1/teams"), 200);
    assert_int_equal(status_as(&b, spare, "/v1/teams"), 200);

    /* Once the listener is back, the cache is used again, and nothing
     * cached before the outage has come back. */
    allow_connections(true);
    wait_worker(&b, true, 5000);
    assert_int_equal(status_as(&b, key, "/v1/teams"), 401);
    use_everywhere(spare, "/v1/teams", 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(revocation_reaches_every_process),
        cmocka_unit_test(changes_by_hand_are_honoured),
        cmocka_unit_test(disconnected_listener_bypasses_the_cache),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
