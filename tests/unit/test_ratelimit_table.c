/*
 * Unit tests for src/http/ratelimit.c: the per-key table of token
 * buckets. Many keys (every shard grows several times) each keep their
 * own bucket; the header values follow the verdict; threads taking from
 * one key at once never hand out more tokens than the bucket holds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "http/ratelimit.h"

static int teardown(void **state)
{
    (void)state;
    ombud_ratelimit_free();
    return 0;
}

/* 20,000 keys: each starts full and loses one token per take,
 * independently of the others, across table growth. */
static void test_many_keys(void **state)
{
    struct ombud_err err;
    (void)state;
    assert_int_equal(ombud_ratelimit_init(1, 3, &err), OMBUD_OK);
    assert_true(ombud_ratelimit_enabled());
    for (int round = 0; round < 3; round++) {
        for (int64_t k = 1; k <= 20000; k++) {
            struct ombud_rate_verdict v = ombud_ratelimit_take(k * 7919);
            if (!v.allowed || v.remaining != (unsigned)(2 - round))
                fail_msg("key %lld round %d: allowed %d remaining %u", (long long)k, round,
                         v.allowed, v.remaining);
        }
    }
    /* A fourth take is refused for every key (a second has not passed
     * for most; any refilled key gets at most one). */
    unsigned refused = 0;
    for (int64_t k = 1; k <= 20000; k++)
        refused += !ombud_ratelimit_take(k * 7919).allowed;
    assert_true(refused > 19000);
    /* A key never seen is full. */
    struct ombud_rate_verdict v = ombud_ratelimit_take(INT64_MAX);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 2);
}

static void test_headers(void **state)
{
    struct ombud_err err;
    char policy[OMBUD_RATELIMIT_HBUF], limit[OMBUD_RATELIMIT_HBUF];
    (void)state;
    assert_int_equal(ombud_ratelimit_init(1000, 2000, &err), OMBUD_OK);
    struct ombud_rate_verdict v = ombud_ratelimit_take(42);
    ombud_ratelimit_headers(&v, policy, limit);
    assert_string_equal(policy, "\"default\";q=2000;w=2");
    assert_string_equal(limit, "\"default\";r=1999;t=1");
    assert_int_equal(ombud_ratelimit_init(0, 1, &err), OMBUD_OK);
    assert_false(ombud_ratelimit_enabled());
    assert_int_equal(ombud_ratelimit_init(OMBUD_RATE_MAX + 1, 1, &err), OMBUD_ERROR);
    assert_int_equal(ombud_ratelimit_init(5, 0, &err), OMBUD_ERROR);
}

#define NTHREADS 8
#define TAKES 2000
#define BURST 3000

static void *taker(void *arg)
{
    unsigned long *allowed = arg;
    for (int i = 0; i < TAKES; i++)
        *allowed += ombud_ratelimit_take(7).allowed;
    return NULL;
}

/* 16,000 takes from one key by 8 threads at once: the burst of 3,000
 * and whatever a second's rate of 1 added while they ran, no more. */
static void test_threads_share_one_bucket(void **state)
{
    struct ombud_err err;
    pthread_t th[NTHREADS];
    unsigned long allowed[NTHREADS] = {0}, total = 0;
    (void)state;
    assert_int_equal(ombud_ratelimit_init(1, BURST, &err), OMBUD_OK);
    for (int i = 0; i < NTHREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, taker, &allowed[i]), 0);
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        total += allowed[i];
    }
    assert_true(total >= BURST);
    assert_true(total <= BURST + 5); /* a few seconds at most, at 1 a second */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_many_keys, teardown),
        cmocka_unit_test_teardown(test_headers, teardown),
        cmocka_unit_test_teardown(test_threads_share_one_bucket, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
