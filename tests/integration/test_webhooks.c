/*
 * Webhooks through HTTP against PostgreSQL, with receivers on 127.0.0.1
 * that verify every request with the Standard Webhooks reference library
 * (tests/webhooks/receiver.js on the npm package `standardwebhooks`, not
 * our code): endpoints and their rules, signed deliveries, a 500 then 200
 * answered with the same webhook-id twice and both attempts logged, a
 * manual retry and a ping, 410 disabling the endpoint, private addresses
 * refused at create (a literal) and on connection (a name resolving to
 * loopback), and two server processes on one database delivering every
 * change to each endpoint. The servers run with
 * OMBUD_WEBHOOK_RETRY_SCALE=1000 (retry delays in milliseconds).
 */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static struct h_server srv;
static pid_t receiver_pid;
static int receiver_port;
static char log_path[256], secrets_path[256];
static json_t *secrets; /* path -> secret, written to secrets_path */

static bool port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static void write_secrets(void)
{
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", secrets_path);
    assert_int_equal(json_dump_file(secrets, tmp, JSON_COMPACT), 0);
    assert_int_equal(rename(tmp, secrets_path), 0);
}

static void start_receiver(void)
{
    const char *mods = getenv("OMBUD_TEST_WEBHOOK_NODE_MODULES");
    const char *src = getenv("OMBUD_SOURCE_DIR");
    if (!mods || !src) {
        fprintf(stderr, "OMBUD_TEST_WEBHOOK_NODE_MODULES and OMBUD_SOURCE_DIR are needed "
                        "(scripts/test sets them)\n");
        fail();
    }
    receiver_port = h_free_port();
    snprintf(log_path, sizeof log_path, "/tmp/ombud-webhooks-%d.log", (int)getpid());
    snprintf(secrets_path, sizeof secrets_path, "/tmp/ombud-webhooks-%d.secrets", (int)getpid());
    unlink(log_path);
    secrets = json_object();
    write_secrets();
    char script[512], port[16];
    snprintf(script, sizeof script, "%s/tests/webhooks/receiver.js", src);
    snprintf(port, sizeof port, "%d", receiver_port);
    receiver_pid = fork();
    assert_true(receiver_pid >= 0);
    if (receiver_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM); /* a test that aborts takes it along */
        setenv("NODE_PATH", mods, 1);
        execlp("node", "node", script, port, log_path, secrets_path, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 200 && !port_open(receiver_port); i++)
        h_sleep_ms(50);
    assert_true(port_open(receiver_port));
}

static void stop_receiver(void)
{
    if (receiver_pid > 0) {
        kill(receiver_pid, SIGTERM);
        waitpid(receiver_pid, NULL, 0);
        receiver_pid = 0;
    }
    unlink(log_path);
    unlink(secrets_path);
    json_decref(secrets);
}

/* Every request the receiver has had, in order (caller decrefs). */
static json_t *received(void)
{
    json_t *all = json_array();
    FILE *f = fopen(log_path, "r");
    char line[65536];
    while (f && fgets(line, sizeof line, f)) {
        json_t *e = json_loads(line, 0, NULL);
        if (e)
            json_array_append_new(all, e);
    }
    if (f)
        fclose(f);
    return all;
}

/* Requests to path (those of type when not NULL) so far. */
static size_t count_at(const json_t *all, const char *path, const char *type)
{
    size_t i, n = 0;
    json_t *e;
    json_array_foreach (all, i, e) {
        const char *t = h_jstr(e, "type");
        if (strcmp(h_jstr_must(e, "path"), path) == 0 && (!type || (t && strcmp(t, type) == 0)))
            n++;
    }
    return n;
}

/* Waits (up to ms) for at least n requests to path (of type). */
static json_t *wait_received(const char *path, const char *type, size_t n, int ms)
{
    json_t *all = received();
    for (int waited = 0; count_at(all, path, type) < n && waited < ms; waited += 50) {
        json_decref(all);
        h_sleep_ms(50);
        all = received();
    }
    return all;
}

/* Creates an endpoint at the receiver's path (types: JSON text or NULL);
 * asserts 201 and the secret; registers it with the receiver. */
static int64_t make_endpoint(struct h_server *s, const char *path, const char *types)
{
    char url[256], body[600];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", receiver_port, path);
    snprintf(body, sizeof body, "{\"url\":\"%s\",\"types\":%s,\"description\":\"test %s\"}", url,
             types ? types : "[]", path);
    struct h_resp *r = h_admin(s, "POST", "/v1/webhooks", body);
    h_expect_status(r, 201);
    const char *secret = h_jstr_must(r->json, "secret");
    assert_int_equal(strncmp(secret, "whsec_", 6), 0);
    assert_int_equal(strlen(secret), 6 + 32);
    assert_true(json_is_true(json_object_get(r->json, "active")));
    json_object_set_new(secrets, path, json_string(secret));
    write_secrets();
    int64_t id = h_jint(r->json, "id");
    h_resp_free(r);
    return id;
}

/* Every delivery of an endpoint (one page of up to 200; caller decrefs). */
static json_t *deliveries(struct h_server *s, int64_t id)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/webhooks/%lld/deliveries?limit=200", (long long)id);
    struct h_resp *r = h_admin(s, "GET", path, NULL);
    h_expect_status(r, 200);
    json_t *items = json_incref(json_object_get(r->json, "items"));
    h_resp_free(r);
    assert_non_null(items);
    return items;
}

/* Every request so far was verified by the reference library. */
static void expect_all_verified(const json_t *all)
{
    size_t i;
    json_t *e;
    json_array_foreach (all, i, e) {
        if (!json_is_true(json_object_get(e, "verified"))) {
            h_dump("not verified", e);
            fail();
        }
    }
}

static int setup(void **state)
{
    (void)state;
    setenv("OMBUD_WEBHOOK_ALLOW_HTTP", "1", 1);
    setenv("OMBUD_WEBHOOK_ALLOW_PRIVATE", "1", 1);
    setenv("OMBUD_WEBHOOK_RETRY_SCALE", "1000", 1);
    start_receiver();
    h_server_start(&srv, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_server_stop(&srv, true);
    stop_receiver();
    return 0;
}

static void endpoints_and_their_rules(void **state)
{
    (void)state;
    struct h_resp *r = h_admin(&srv, "POST", "/v1/webhooks", "{\"types\":[]}");
    h_expect_invalid(r, "url");
    h_resp_free(r);
    r = h_admin(&srv, "POST", "/v1/webhooks", "{\"url\":\"ftp://example.com/x\"}");
    h_expect_invalid(r, "url");
    h_resp_free(r);
    r = h_admin(&srv, "POST", "/v1/webhooks", "{\"url\":\"not a url\"}");
    h_expect_invalid(r, "url");
    h_resp_free(r);
    /* Metadata addresses, whatever the allowance. */
    r = h_admin(&srv, "POST", "/v1/webhooks", "{\"url\":\"http://169.254.169.254/latest\"}");
    h_expect_invalid(r, "url");
    h_resp_free(r);
    r = h_admin(&srv, "POST", "/v1/webhooks", "{\"url\":\"https://[fd00:ec2::254]/\"}");
    h_expect_invalid(r, "url");
    h_resp_free(r);
    r = h_admin(&srv, "POST", "/v1/webhooks",
                "{\"url\":\"https://example.com/h\",\"types\":[\"complaint.nope\", 3]}");
    h_expect_fields(r, (const char *const[]){"types[0]", "types[1]", NULL});
    h_resp_free(r);

    r = h_admin(&srv, "POST", "/v1/webhooks",
                "{\"url\":\"https://example.com/h\",\"types\":[\"complaint.*\",\"alert.raised\"],"
                "\"description\":\"crm\"}");
    h_expect_status(r, 201);
    int64_t id = h_jint(r->json, "id");
    char loc[64], path[64];
    snprintf(path, sizeof path, "/v1/webhooks/%lld", (long long)id);
    assert_string_equal(h_header(r, "Location", loc, sizeof loc), path);
    assert_non_null(h_jstr(r->json, "secret"));
    assert_int_equal(json_array_size(json_object_get(r->json, "types")), 2);
    h_resp_free(r);

    /* The secret is shown once. */
    r = h_admin(&srv, "GET", path, NULL);
    h_expect_status(r, 200);
    assert_null(json_object_get(r->json, "secret"));
    assert_string_equal(h_jstr_must(r->json, "description"), "crm");
    h_resp_free(r);
    r = h_admin(&srv, "GET", "/v1/webhooks", NULL);
    h_expect_status(r, 200);
    json_t *items = json_object_get(r->json, "items");
    assert_true(json_array_size(items) >= 1);
    assert_null(json_object_get(json_array_get(items, 0), "secret"));
    h_resp_free(r);

    r = h_admin(&srv, "PATCH", path, "{\"active\":false,\"types\":[]}");
    h_expect_status(r, 200);
    assert_true(json_is_false(json_object_get(r->json, "active")));
    assert_int_equal(json_array_size(json_object_get(r->json, "types")), 0);
    assert_string_equal(h_jstr_must(r->json, "url"), "https://example.com/h");
    h_resp_free(r);
    r = h_admin(&srv, "PATCH", path, "{\"url\":\"http://169.254.169.254/\"}");
    h_expect_invalid(r, "url");
    h_resp_free(r);

    /* Admins only. */
    char agent[128];
    h_make_key(&srv, "supervisor", agent, sizeof agent);
    r = h_req(&srv, "GET", "/v1/webhooks", &(struct h_opts){.key = agent});
    h_expect_problem(r, 403);
    h_resp_free(r);

    r = h_admin(&srv, "DELETE", path, NULL);
    h_expect_status(r, 204);
    h_resp_free(r);
    r = h_admin(&srv, "GET", path, NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);
    r = h_admin(&srv, "POST", "/v1/webhooks/999999/test", NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);
}

static void signed_retried_logged(void **state)
{
    (void)state;
    int64_t ok = make_endpoint(&srv, "/ok/a", NULL);
    int64_t flaky = make_endpoint(&srv, "/flaky/b", "[\"complaint.created\"]");
    int64_t complaint = h_make_complaint(&srv, srv.admin_key, NULL);
    (void)complaint;

    json_t *all = wait_received("/flaky/b", NULL, 2, 15000);
    json_decref(all);
    all = wait_received("/ok/a", "complaint.created", 1, 15000);
    expect_all_verified(all);
    /* The flaky endpoint got complaint.created only, twice, with one webhook-id. */
    assert_int_equal(count_at(all, "/flaky/b", NULL), 2);
    assert_int_equal(count_at(all, "/flaky/b", "complaint.created"), 2);
    char id1[40] = "", id2[40] = "";
    size_t i;
    json_t *e;
    json_array_foreach (all, i, e) {
        if (strcmp(h_jstr_must(e, "path"), "/flaky/b") != 0)
            continue;
        snprintf(id1[0] ? id2 : id1, sizeof id1, "%s", h_jstr_must(e, "id"));
    }
    assert_true(id2[0] != '\0');
    assert_string_equal(id1, id2);
    assert_int_equal(count_at(all, "/ok/a", "complaint.created"), 1);
    json_decref(all);

    /* The log shows both attempts: 500 with its body, then 200. */
    json_t *ds = NULL;
    for (int w = 0; w < 100; w++) {
        json_decref(ds);
        ds = deliveries(&srv, flaky);
        if (json_array_size(ds) == 1 &&
            strcmp(h_jstr_must(json_array_get(ds, 0), "state"), "delivered") == 0)
            break;
        h_sleep_ms(50);
    }
    assert_int_equal(json_array_size(ds), 1);
    json_t *d = json_array_get(ds, 0);
    assert_string_equal(h_jstr_must(d, "state"), "delivered");
    assert_string_equal(h_jstr_must(d, "type"), "complaint.created");
    assert_true(h_jnull(d, "next_attempt_at"));
    char cid[32];
    snprintf(cid, sizeof cid, "%lld", (long long)h_jint(d, "change_id"));
    assert_string_equal(cid, id1);
    json_t *at = json_object_get(d, "attempts");
    assert_int_equal(json_array_size(at), 2);
    assert_int_equal(h_jint(json_array_get(at, 0), "status"), 500);
    assert_string_equal(h_jstr_must(json_array_get(at, 0), "response_excerpt"),
                        "try again later\n");
    assert_int_equal(h_jint(json_array_get(at, 1), "status"), 200);
    assert_true(h_jnull(json_array_get(at, 1), "error"));
    assert_true(h_jint(json_array_get(at, 1), "duration_ms") >= 0);
    int64_t delivery = h_jint(d, "id");
    json_decref(ds);

    /* A manual retry: one more attempt, the same webhook-id. */
    char path[128];
    snprintf(path, sizeof path, "/v1/webhooks/%lld/deliveries/%lld/retry", (long long)flaky,
             (long long)delivery);
    struct h_resp *r = h_admin(&srv, "POST", path, NULL);
    h_expect_status(r, 202);
    assert_string_equal(h_jstr_must(r->json, "state"), "pending");
    h_resp_free(r);
    all = wait_received("/flaky/b", NULL, 3, 15000);
    assert_int_equal(count_at(all, "/flaky/b", NULL), 3);
    assert_string_equal(h_jstr_must(json_array_get(all, json_array_size(all) - 1), "id"), cid);
    json_decref(all);
    snprintf(path, sizeof path, "/v1/webhooks/%lld/deliveries/999999/retry", (long long)flaky);
    r = h_admin(&srv, "POST", path, NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);

    /* A ping, verified like the rest. */
    snprintf(path, sizeof path, "/v1/webhooks/%lld/test", (long long)ok);
    r = h_admin(&srv, "POST", path, NULL);
    h_expect_status(r, 202);
    assert_string_equal(h_jstr_must(r->json, "type"), "ping");
    assert_true(h_jnull(r->json, "change_id"));
    h_resp_free(r);
    all = wait_received("/ok/a", "ping", 1, 15000);
    assert_int_equal(count_at(all, "/ok/a", "ping"), 1);
    expect_all_verified(all);
    json_decref(all);

    /* The metrics count what this process did. */
    r = h_req(&srv, "GET", "/metrics", NULL);
    h_expect_status(r, 200);
    assert_non_null(strstr(r->body, "ombud_webhook_attempts_total{outcome=\"retry\"} "));
    assert_non_null(strstr(r->body, "ombud_webhook_queue_depth "));
    assert_non_null(strstr(r->body, "ombud_webhook_oldest_pending_age_seconds "));
    assert_null(strstr(r->body, "ombud_webhook_attempts_total{outcome=\"delivered\"} 0\n"));
    h_resp_free(r);

    /* Quiet from here on: the later tests count their own endpoints. */
    snprintf(path, sizeof path, "/v1/webhooks/%lld", (long long)ok);
    h_resp_free(h_admin(&srv, "DELETE", path, NULL));
    snprintf(path, sizeof path, "/v1/webhooks/%lld", (long long)flaky);
    h_resp_free(h_admin(&srv, "DELETE", path, NULL));
}

static void gone_disables(void **state)
{
    (void)state;
    int64_t id = make_endpoint(&srv, "/gone/c", "[\"complaint.created\"]");
    h_make_complaint(&srv, srv.admin_key, NULL);
    json_t *all = wait_received("/gone/c", NULL, 1, 15000);
    assert_int_equal(count_at(all, "/gone/c", NULL), 1);
    expect_all_verified(all);
    json_decref(all);
    char path[64];
    snprintf(path, sizeof path, "/v1/webhooks/%lld", (long long)id);
    json_t *ds = NULL;
    for (int w = 0; w < 100; w++) {
        json_decref(ds);
        ds = deliveries(&srv, id);
        if (json_array_size(ds) == 1 &&
            strcmp(h_jstr_must(json_array_get(ds, 0), "state"), "failed") == 0)
            break;
        h_sleep_ms(50);
    }
    assert_string_equal(h_jstr_must(json_array_get(ds, 0), "state"), "failed");
    json_t *at = json_object_get(json_array_get(ds, 0), "attempts");
    assert_int_equal(json_array_size(at), 1);
    assert_int_equal(h_jint(json_array_get(at, 0), "status"), 410);
    json_decref(ds);
    struct h_resp *r = h_admin(&srv, "GET", path, NULL);
    h_expect_status(r, 200);
    assert_true(json_is_false(json_object_get(r->json, "active")));
    h_resp_free(r);
    /* Disabled: no more deliveries. */
    h_make_complaint(&srv, srv.admin_key, NULL);
    h_sleep_ms(800);
    all = received();
    assert_int_equal(count_at(all, "/gone/c", NULL), 1);
    json_decref(all);
    h_resp_free(h_admin(&srv, "DELETE", path, NULL));
}

/* A slow endpoint (3 s an answer) holds up no other: a change reaches a
 * quick endpoint while the slow one is still in flight. */
static void slow_endpoint_holds_up_none(void **state)
{
    (void)state;
    int64_t slow = make_endpoint(&srv, "/slow/s", "[\"complaint.created\"]");
    int64_t quick = make_endpoint(&srv, "/ok/q", "[\"complaint.created\"]");
    int64_t t0 = h_real_ms();
    h_make_complaint(&srv, srv.admin_key, NULL);
    json_t *all = wait_received("/ok/q", NULL, 1, 10000);
    int64_t quick_ms = h_real_ms() - t0;
    assert_int_equal(count_at(all, "/ok/q", NULL), 1);
    assert_int_equal(count_at(all, "/slow/s", NULL), 0); /* still being answered */
    assert_true(quick_ms < 2500);
    json_decref(all);
    all = wait_received("/slow/s", NULL, 1, 10000);
    assert_int_equal(count_at(all, "/slow/s", NULL), 1);
    expect_all_verified(all);
    json_decref(all);
    char path[64];
    snprintf(path, sizeof path, "/v1/webhooks/%lld", (long long)slow);
    h_resp_free(h_admin(&srv, "DELETE", path, NULL));
    snprintf(path, sizeof path, "/v1/webhooks/%lld", (long long)quick);
    h_resp_free(h_admin(&srv, "DELETE", path, NULL));
}

/* A delivery that keeps failing is retried (later and later) until it is
 * older than the 24 h window, then failed. The window here is cut short
 * by moving the delivery's creation back a day. */
static void given_up_after_a_day(void **state)
{
    (void)state;
    int64_t id = make_endpoint(&srv, "/fail/d", "[\"complaint.created\"]");
    h_make_complaint(&srv, srv.admin_key, NULL);
    json_t *all = wait_received("/fail/d", NULL, 3, 15000);
    assert_true(count_at(all, "/fail/d", NULL) >= 3); /* retried */
    expect_all_verified(all);
    json_decref(all);
    json_t *ds = deliveries(&srv, id);
    assert_string_equal(h_jstr_must(json_array_get(ds, 0), "state"), "pending");
    assert_false(h_jnull(json_array_get(ds, 0), "next_attempt_at"));
    json_decref(ds);
    json_decref(h_sql(&srv, "UPDATE webhook_deliveries SET created_at = now() - interval '25 hours'"
                            " WHERE state = 'pending'"));
    ds = NULL;
    for (int w = 0; w < 300; w++) {
        json_decref(ds);
        ds = deliveries(&srv, id);
        if (strcmp(h_jstr_must(json_array_get(ds, 0), "state"), "failed") == 0)
            break;
        h_sleep_ms(50);
    }
    json_t *d = json_array_get(ds, 0);
    assert_string_equal(h_jstr_must(d, "state"), "failed");
    assert_true(h_jnull(d, "next_attempt_at"));
    json_t *at = json_object_get(d, "attempts");
    assert_true(json_array_size(at) >= 3);
    for (size_t i = 0; i < json_array_size(at); i++)
        assert_int_equal(h_jint(json_array_get(at, i), "status"), 500);
    size_t n = json_array_size(at);
    json_decref(ds);
    /* No more attempts once failed; the endpoint stays active. */
    h_sleep_ms(500);
    ds = deliveries(&srv, id);
    assert_int_equal(json_array_size(json_object_get(json_array_get(ds, 0), "attempts")), n);
    json_decref(ds);
    char path[64];
    snprintf(path, sizeof path, "/v1/webhooks/%lld", (long long)id);
    struct h_resp *r = h_admin(&srv, "GET", path, NULL);
    assert_true(json_is_true(json_object_get(r->json, "active")));
    h_resp_free(r);
    h_resp_free(h_admin(&srv, "DELETE", path, NULL));
}

static void private_addresses_refused(void **state)
{
    (void)state;
    struct h_server strict;
    const char *const env[] = {"OMBUD_WEBHOOK_ALLOW_PRIVATE=0", NULL};
    h_server_start(&strict, env);
    char body[256];
    /* A literal private address: 422 at create. */
    const char *const literal[] = {"127.0.0.1", "[::1]",     "10.1.2.3",     "192.168.0.1",
                                   "[fe80::1]", "[fd12::1]", "169.254.10.10"};
    for (size_t i = 0; i < sizeof literal / sizeof literal[0]; i++) {
        snprintf(body, sizeof body, "{\"url\":\"http://%s:%d/ok/x\"}", literal[i], receiver_port);
        struct h_resp *r = h_admin(&strict, "POST", "/v1/webhooks", body);
        h_expect_invalid(r, "url");
        h_resp_free(r);
    }
    /* A name resolving to loopback: refused on the address connected to. */
    snprintf(body, sizeof body, "{\"url\":\"http://localhost:%d/ok/refused\"}", receiver_port);
    struct h_resp *r = h_admin(&strict, "POST", "/v1/webhooks", body);
    h_expect_status(r, 201);
    int64_t id = h_jint(r->json, "id");
    h_resp_free(r);
    h_make_complaint(&strict, strict.admin_key, NULL);
    json_t *ds = NULL;
    const char *error = NULL;
    for (int w = 0; w < 200 && !error; w++) {
        json_decref(ds);
        h_sleep_ms(50);
        ds = deliveries(&strict, id);
        json_t *at = json_object_get(json_array_get(ds, 0), "attempts");
        if (json_array_size(at) > 0) {
            assert_true(h_jnull(json_array_get(at, 0), "status"));
            error = h_jstr(json_array_get(at, 0), "error");
        }
    }
    assert_non_null(error);
    assert_non_null(strstr(error, "refused"));
    assert_non_null(strstr(error, "loopback"));
    json_decref(ds);
    json_t *all = received();
    assert_int_equal(count_at(all, "/ok/refused", NULL), 0);
    json_decref(all);
    h_server_stop(&strict, true);
}

#define NCHANGES_WANTED 40

/* The attempts s's sender has made with an answer or an error (its
 * metrics: every outcome). */
static long long attempts_by(struct h_server *s)
{
    static const char *const outcomes[] = {"delivered", "retry", "failed", "gone"};
    struct h_resp *r = h_req(s, "GET", "/metrics", NULL);
    long long n = 0;
    h_expect_status(r, 200);
    for (size_t i = 0; i < 4; i++) {
        char key[96];
        snprintf(key, sizeof key, "ombud_webhook_attempts_total{outcome=\"%s\"} ", outcomes[i]);
        const char *p = strstr(r->body, key);
        assert_non_null(p);
        n += atoll(p + strlen(key));
    }
    h_resp_free(r);
    return n;
}

static void two_processes_deliver_each_change(void **state)
{
    (void)state;
    struct h_server beside;
    h_server_spawn_beside(&beside, &srv, "B");
    struct h_server *both[2] = {&srv, &beside};
    const char *paths[2] = {"/ok/m1", "/flaky/m2"};
    int64_t ep[2];
    for (int i = 0; i < 2; i++)
        ep[i] = make_endpoint(&srv, paths[i], NULL);
    long long before = attempts_by(&srv);
    struct h_resp *r = h_admin(&srv, "GET", "/v1/changes?after=now", NULL);
    h_expect_status(r, 200);
    int64_t from = h_jint(r->json, "next_after");
    h_resp_free(r);

    /* Changes written through both processes: creations and transitions. */
    for (int i = 0; i < NCHANGES_WANTED / 2; i++) {
        struct h_server *s = both[i % 2];
        int64_t c = h_make_complaint(s, s->admin_key, NULL);
        json_decref(h_transition(s, s->admin_key, c, "acknowledge"));
    }
    /* Every change after from, from the log: a change is readable once
     * every transaction that took an id before it has ended, and the
     * tests share one cluster, so read until all have settled (bounded). */
    json_t *changes = json_array();
    int64_t until = h_real_ms() + 10000;
    for (int64_t after = from;;) {
        char path[96];
        snprintf(path, sizeof path, "/v1/changes?after=%lld&limit=200", (long long)after);
        r = h_admin(&srv, "GET", path, NULL);
        h_expect_status(r, 200);
        json_t *items = json_object_get(r->json, "items");
        json_array_extend(changes, items);
        after = h_jint(r->json, "next_after");
        size_t n = json_array_size(items);
        h_resp_free(r);
        if (n == 0 && (json_array_size(changes) >= NCHANGES_WANTED || h_real_ms() > until))
            break;
        if (n == 0)
            h_sleep_ms(20);
    }
    size_t nchanges = json_array_size(changes);
    assert_true(nchanges >= NCHANGES_WANTED);

    /* Wait until each endpoint has had every one of them answered 2xx. */
    json_t *all = NULL;
    size_t missing = 0;
    for (int w = 0; w < 600; w++) {
        json_decref(all);
        all = received();
        missing = 0;
        size_t i, k;
        json_t *c, *e;
        for (int p = 0; p < 2; p++)
            json_array_foreach (changes, i, c) {
                char cid[32];
                bool got = false;
                snprintf(cid, sizeof cid, "%lld", (long long)h_jint(c, "id"));
                json_array_foreach (all, k, e) {
                    const char *id = h_jstr(e, "id");
                    if (!got && id && strcmp(id, cid) == 0 &&
                        strcmp(h_jstr_must(e, "path"), paths[p]) == 0 && h_jint(e, "status") == 200)
                        got = true;
                }
                missing += !got;
            }
        if (!missing)
            break;
        h_sleep_ms(50);
    }
    assert_int_equal(missing, 0);
    expect_all_verified(all);

    /* Count: deliveries (first 2xx per endpoint and change), duplicates
     * (2xx beyond the first), retries (non-2xx answers). */
    size_t delivered = 0, duplicates = 0, retries = 0, i, k;
    json_t *e, *f;
    json_array_foreach (all, i, e) {
        const char *path = h_jstr_must(e, "path");
        if (strcmp(path, paths[0]) != 0 && strcmp(path, paths[1]) != 0)
            continue;
        if (h_jint(e, "status") != 200) {
            retries++;
            continue;
        }
        bool earlier = false;
        json_array_foreach (all, k, f) {
            if (k >= i)
                break;
            if (h_jint(f, "status") == 200 && strcmp(h_jstr_must(f, "path"), path) == 0 &&
                strcmp(h_jstr_must(f, "id"), h_jstr_must(e, "id")) == 0)
                earlier = true;
        }
        if (earlier)
            duplicates++;
        else
            delivered++;
    }
    /* The flaky endpoint answers each webhook-id's first request with 500. */
    assert_true(retries >= nchanges);
    /* The log agrees: one delivery per (endpoint, change), all delivered. */
    for (int p = 0; p < 2; p++) {
        json_t *ds = NULL;
        size_t done = 0;
        for (int w = 0; w < 100; w++) {
            json_decref(ds);
            ds = deliveries(&srv, ep[p]);
            done = 0;
            json_array_foreach (ds, i, e)
                done += strcmp(h_jstr_must(e, "state"), "delivered") == 0;
            if (done == json_array_size(ds))
                break;
            h_sleep_ms(50);
        }
        assert_true(json_array_size(ds) >= nchanges);
        assert_int_equal(done, json_array_size(ds));
        json_decref(ds);
    }
    /* Both processes worked, and their attempts add up to the requests
     * received (an attempt is counted just after its answer). */
    long long by_a = 0, by_b = 0, received_n = (long long)(delivered + duplicates + retries);
    for (int w = 0; w < 40; w++) {
        by_a = attempts_by(&srv) - before;
        by_b = attempts_by(&beside);
        if (by_a + by_b >= received_n)
            break;
        h_sleep_ms(50);
    }
    fprintf(stderr,
            "two processes: %zu changes, 2 endpoints, %zu deliveries (first 2xx per endpoint "
            "and change), %zu duplicates, %zu retries; attempts by process A %lld, B %lld\n",
            nchanges, delivered, duplicates, retries, by_a, by_b);
    assert_int_equal(by_a + by_b, received_n);
    assert_true(delivered >= 2 * nchanges);
    json_decref(all);
    json_decref(changes);
    h_server_stop(&beside, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(endpoints_and_their_rules),
        cmocka_unit_test(signed_retried_logged),
        cmocka_unit_test(gone_disables),
        cmocka_unit_test(slow_endpoint_holds_up_none),
        cmocka_unit_test(given_up_after_a_day),
        cmocka_unit_test(private_addresses_refused),
        cmocka_unit_test(two_processes_deliver_each_change),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
