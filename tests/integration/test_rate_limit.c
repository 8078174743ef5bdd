/*
 * Per-API-key rate limits through the real server (API.md, Operations):
 * a key's token bucket serves its burst, then 429 problem+json with
 * Retry-After; a token comes back after the refill; every keyed response
 * (errors after authentication too) carries RateLimit-Policy and
 * RateLimit, and no unauthenticated one does; keys do not share buckets;
 * OMBUD_RATE_LIMIT=0 turns the limit off. Small rates keep it quick: the
 * only waits are the one-second refills the server asks for.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BURST 5

static struct h_server limited, unlimited;

static int setup(void **state)
{
    (void)state;
    const char *env[] = {"OMBUD_RATE_LIMIT=1", "OMBUD_RATE_BURST=5",
                         "OMBUD_CORS_ORIGINS=https://board.example", NULL};
    /* 1 a second: refills are slow enough that no test races them. */
    h_server_start(&limited, env);
    const char *off[] = {"OMBUD_RATE_LIMIT=0", NULL};
    h_server_start(&unlimited, off);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_server_stop(&limited, true);
    h_server_stop(&unlimited, true);
    return 0;
}

static struct h_resp *get(struct h_server *s, const char *key, const char *path)
{
    struct h_opts o = {.key = key};
    return h_req(s, "GET", path, &o);
}

/* The RateLimit header's r and t, after checking both headers' shape and
 * the policy's q and w (w: the seconds an empty bucket takes to fill,
 * 5 / 1 = 5). */
static void expect_headers(const struct h_resp *r, unsigned *remaining, unsigned *reset)
{
    char policy[128], limit[128];
    if (!h_header(r, "RateLimit-Policy", policy, sizeof policy) ||
        !h_header(r, "RateLimit", limit, sizeof limit))
        fail_msg("a keyed %ld reply without the RateLimit headers:\n%s", r->status, r->headers);
    assert_string_equal(policy, "\"default\";q=5;w=5");
    char tail;
    if (sscanf(limit, "\"default\";r=%u;t=%u%c", remaining, reset, &tail) != 2)
        fail_msg("RateLimit: %s", limit);
    assert_true(*remaining <= BURST);
    assert_true(*reset <= 5);
}

static void expect_no_headers(const struct h_resp *r)
{
    char buf[128];
    if (h_header(r, "RateLimit", buf, sizeof buf) ||
        h_header(r, "RateLimit-Policy", buf, sizeof buf))
        fail_msg("an unkeyed %ld reply with RateLimit headers:\n%s", r->status, r->headers);
}

/* Spends a fresh key's burst; returns the 429 that follows (free it). */
static struct h_resp *exhaust(const char *key)
{
    unsigned r, t, last = BURST;
    for (int i = 0; i < BURST + 20; i++) {
        struct h_resp *resp = get(&limited, key, "/v1/categories");
        if (resp->status == 429)
            return resp;
        h_expect_status(resp, 200);
        expect_headers(resp, &r, &t);
        /* Counting down, a token per request (a refill meanwhile may
         * give one back, never more than the bucket holds). */
        assert_true(r <= last);
        if (i == 0)
            assert_int_equal(r, BURST - 1);
        assert_true(t >= 1);
        last = r;
        h_resp_free(resp);
    }
    fail_msg("no 429 after %d requests at a burst of %d", BURST + 20, BURST);
    return NULL;
}

/* The burst, then 429 with Retry-After and both headers; after the wait
 * it names, the key is served again. */
static void burst_then_429_then_refill(void **state)
{
    char key[128], buf[64];
    (void)state;
    h_make_key(&limited, "service", key, sizeof key);

    struct h_resp *r = exhaust(key);
    h_expect_problem(r, 429);
    assert_string_equal(h_jstr_must(r->json, "type"), "/problems/rate-limited");
    assert_string_equal(h_jstr_must(r->json, "title"), "Too many requests");
    assert_non_null(h_header(r, "Retry-After", buf, sizeof buf));
    char *end;
    long retry = strtol(buf, &end, 10);
    assert_true(*end == '\0' && retry == 1); /* a token takes a second at 1/s */
    unsigned rem, reset;
    expect_headers(r, &rem, &reset);
    assert_int_equal(rem, 0);
    assert_true(reset >= 5); /* over 4 tokens missing at 1/s */
    assert_non_null(h_header(r, "X-Request-Id", buf, sizeof buf));
    h_resp_free(r);

    /* Still refused at once (refusals cost nothing, but time must pass). */
    r = get(&limited, key, "/v1/categories");
    h_expect_problem(r, 429);
    h_resp_free(r);

    h_sleep_ms(retry * 1000);
    r = get(&limited, key, "/v1/categories");
    h_expect_status(r, 200);
    expect_headers(r, &rem, &reset);
    assert_true(rem <= 1); /* the second brought a token, spent here */
    h_resp_free(r);
}

/* Another key's bucket is its own: full while the first is empty. */
static void keys_are_independent(void **state)
{
    char a[128], b[128];
    unsigned rem, reset;
    (void)state;
    h_make_key(&limited, "service", a, sizeof a);
    h_make_key(&limited, "service", b, sizeof b);
    h_resp_free(exhaust(a));
    struct h_resp *r = get(&limited, b, "/v1/categories");
    h_expect_status(r, 200);
    expect_headers(r, &rem, &reset);
    assert_int_equal(rem, BURST - 1);
    h_resp_free(r);
    r = get(&limited, a, "/v1/categories");
    h_expect_problem(r, 429);
    h_resp_free(r);
}

/* Errors after authentication carry the headers (and cost a token);
 * replies to requests with no known key do not. */
static void which_replies_carry_the_headers(void **state)
{
    char key[128];
    unsigned rem, reset;
    (void)state;
    h_make_key(&limited, "service", key, sizeof key);

    struct h_resp *r = get(&limited, key, "/v1/complaints/987654321");
    h_expect_problem(r, 404);
    expect_headers(r, &rem, &reset);
    assert_int_equal(rem, BURST - 1);
    h_resp_free(r);

    r = get(&limited, key, "/v1/api-keys"); /* admin only: 403 */
    h_expect_problem(r, 403);
    expect_headers(r, &rem, &reset);
    assert_true(rem <= BURST - 2);
    h_resp_free(r);

    r = get(&limited, NULL, "/health/live");
    h_expect_status(r, 200);
    expect_no_headers(r);
    h_resp_free(r);
    r = get(&limited, NULL, "/v1/categories");
    h_expect_problem(r, 401);
    expect_no_headers(r);
    h_resp_free(r);
    r = get(&limited, "no-such-key-0123456789", "/v1/categories");
    h_expect_problem(r, 401);
    expect_no_headers(r);
    h_resp_free(r);
    r = get(&limited, key, "/v1/no-such-route");
    h_expect_problem(r, 404);
    expect_no_headers(r); /* unrouted: never authenticated */
    h_resp_free(r);

    /* A browser may read them: CORS exposes both. */
    struct h_opts o = {.key = key, .headers = {"Origin: https://board.example"}};
    r = h_req(&limited, "GET", "/v1/categories", &o);
    char expose[512];
    assert_non_null(h_header(r, "Access-Control-Expose-Headers", expose, sizeof expose));
    assert_non_null(strstr(expose, "RateLimit-Policy"));
    assert_non_null(strstr(expose, "RateLimit,"));
    assert_non_null(strstr(expose, "Retry-After"));
    h_resp_free(r);
}

/* OMBUD_RATE_LIMIT=0: no bucket, no 429 and no headers. */
static void zero_turns_it_off(void **state)
{
    char buf[128];
    (void)state;
    for (int i = 0; i < 40; i++) {
        struct h_resp *r = h_admin(&unlimited, "GET", "/v1/categories", NULL);
        h_expect_status(r, 200);
        assert_null(h_header(r, "RateLimit", buf, sizeof buf));
        assert_null(h_header(r, "RateLimit-Policy", buf, sizeof buf));
        h_resp_free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(burst_then_429_then_refill),
        cmocka_unit_test(keys_are_independent),
        cmocka_unit_test(which_replies_carry_the_headers),
        cmocka_unit_test(zero_turns_it_off),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
