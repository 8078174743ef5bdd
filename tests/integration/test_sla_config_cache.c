/*
 * Each process caches SLA policies and calendars (service/sla_config.c).
 * A change must reach the next create at once in the process that made
 * it, and in another process on the same database within a bounded time
 * (its SLA worker's connection hears the change's notification). Two
 * servers, A and B, share a database; every policy change goes through
 * A, and complaints created through A and B must be measured against the
 * policy in force.
 */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 10000 /* another process sees a change within this */

static struct h_server a, b;

static int setup(void **state)
{
    (void)state;
    h_server_start(&a, NULL);
    h_server_spawn_beside(&b, &a, "B");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (b.pid > 0)
        kill(b.pid, SIGTERM);
    h_server_stop(&b, false);
    h_server_stop(&a, true);
    return 0;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Creates a complaint through s; its policy's id and first-response
 * remaining seconds. */
static void create(struct h_server *s, int64_t *policy_id, int64_t *remaining)
{
    struct h_resp *r =
        h_admin(s, "POST", "/v1/complaints",
                "{\"title\":\"t\",\"description\":\"d\",\"customer\":{\"name\":\"c\"}}");
    h_expect_status(r, 201);
    json_t *sla = json_object_get(r->json, "sla");
    assert_true(json_is_object(sla));
    *policy_id = h_jint(sla, "policy_id");
    *remaining = h_jint(json_object_get(sla, "first_response"), "remaining_seconds");
    h_resp_free(r);
}

/* Creates through s until its policy is want (and, when minutes is not 0,
 * its first response is that far off); fails after POLL_MS. */
static void expect_soon(struct h_server *s, int64_t want, int64_t minutes)
{
    int64_t got = 0, remaining = 0;
    for (long waited = 0;; waited += 100) {
        create(s, &got, &remaining);
        if (got == want &&
            (!minutes || (remaining > minutes * 60 - 30 && remaining <= minutes * 60)))
            return;
        if (waited >= POLL_MS)
            break;
        nap_ms(100);
    }
    fprintf(stderr, "policy %lld (%lld s left), wanted %lld (%lld min)\n", (long long)got,
            (long long)remaining, (long long)want, (long long)minutes);
    fail();
}

/* The same, but at once: the first create must see it. */
static void expect_now(struct h_server *s, int64_t want, int64_t minutes)
{
    int64_t got, remaining;
    create(s, &got, &remaining);
    assert_int_equal(got, want);
    if (minutes) {
        assert_true(remaining > minutes * 60 - 30);
        assert_true(remaining <= minutes * 60);
    }
}

static void policy_changes_reach_every_process(void **state)
{
    (void)state;
    /* Both processes fill their caches with the default policy (id 1). */
    expect_soon(&a, 1, 240);
    expect_soon(&b, 1, 240);

    /* A new policy ahead of the default: A's next create uses it. */
    struct h_resp *r = h_admin(&a, "POST", "/v1/sla-policies",
                               "{\"name\":\"Fast\",\"position\":10,"
                               "\"first_response_minutes\":10,\"resolution_minutes\":100}");
    h_expect_status(r, 201);
    int64_t fast = h_jint(r->json, "id");
    h_resp_free(r);
    expect_now(&a, fast, 10);
    expect_soon(&b, fast, 10);

    /* Its target changes: the same. */
    char path[64];
    snprintf(path, sizeof path, "/v1/sla-policies/%lld", (long long)fast);
    r = h_admin(&a, "PATCH", path, "{\"first_response_minutes\":20}");
    h_expect_status(r, 200);
    h_resp_free(r);
    expect_now(&a, fast, 20);
    expect_soon(&b, fast, 20);

    /* Deactivated: back to the default everywhere. */
    r = h_admin(&a, "PATCH", path, "{\"active\":false}");
    h_expect_status(r, 200);
    h_resp_free(r);
    expect_now(&a, 1, 240);
    expect_soon(&b, 1, 240);
}

/* A change made through B reaches A as well (every process listens). */
static void changes_from_either_process(void **state)
{
    (void)state;
    struct h_resp *r = h_admin(&b, "POST", "/v1/sla-policies",
                               "{\"name\":\"From B\",\"position\":5,"
                               "\"first_response_minutes\":15,\"resolution_minutes\":150}");
    h_expect_status(r, 201);
    int64_t id = h_jint(r->json, "id");
    h_resp_free(r);
    expect_now(&b, id, 15);
    expect_soon(&a, id, 15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(policy_changes_reach_every_process),
        cmocka_unit_test(changes_from_either_process),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
