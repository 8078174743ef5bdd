/*
 * Unit tests for src/domain/rate.c: the token bucket behind per-key rate
 * limits, and the seconds it reports for RateLimit, RateLimit-Policy and
 * Retry-After.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ombud/rate.h"

#define SEC INT64_C(1000000)
#define T0 INT64_C(5000000000) /* any monotonic start */

/* A fresh bucket serves exactly its burst, counting down, then refuses. */
static void test_burst_then_refuse(void **state)
{
    struct ombud_rate_bucket b;
    (void)state;
    ombud_rate_bucket_init(&b, 3, T0);
    for (unsigned i = 0; i < 3; i++) {
        struct ombud_rate_verdict v = ombud_rate_take(&b, 1, 3, T0);
        assert_true(v.allowed);
        assert_int_equal(v.remaining, 2 - i);
        assert_int_equal(v.reset_s, i + 1); /* one second per missing token at 1/s */
        assert_int_equal(v.retry_after, 0);
    }
    struct ombud_rate_verdict v = ombud_rate_take(&b, 1, 3, T0);
    assert_false(v.allowed);
    assert_int_equal(v.remaining, 0);
    assert_int_equal(v.reset_s, 3);
    assert_int_equal(v.retry_after, 1);
}

/* A token comes back after 1/rate seconds, not a microsecond sooner. */
static void test_refill_exact(void **state)
{
    struct ombud_rate_bucket b;
    (void)state;
    ombud_rate_bucket_init(&b, 1, T0);
    assert_true(ombud_rate_take(&b, 1, 1, T0).allowed);
    struct ombud_rate_verdict v = ombud_rate_take(&b, 1, 1, T0 + SEC - 1);
    assert_false(v.allowed);
    assert_int_equal(v.retry_after, 1); /* a microsecond is rounded up to a second */
    v = ombud_rate_take(&b, 1, 1, T0 + SEC);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 0);
    assert_int_equal(v.reset_s, 1);
}

/* Retry-After is whole seconds rounded up and at least 1; the wait it
 * names is always enough. */
static void test_retry_after_rounds_up(void **state)
{
    struct ombud_rate_bucket b;
    (void)state;
    ombud_rate_bucket_init(&b, 5, T0);
    for (int i = 0; i < 5; i++)
        assert_true(ombud_rate_take(&b, 1, 5, T0).allowed);
    struct ombud_rate_verdict v = ombud_rate_take(&b, 1, 5, T0 + SEC / 4);
    assert_false(v.allowed);
    assert_int_equal(v.retry_after, 1);
    assert_int_equal(v.reset_s, 5); /* 4.75 s to full, rounded up */
    assert_true(ombud_rate_take(&b, 1, 5, T0 + SEC / 4 + (int64_t)v.retry_after * SEC).allowed);

    /* High rates: a refusal still says at least one second. */
    ombud_rate_bucket_init(&b, 2, T0);
    assert_true(ombud_rate_take(&b, 1000, 2, T0).allowed);
    assert_true(ombud_rate_take(&b, 1000, 2, T0).allowed);
    v = ombud_rate_take(&b, 1000, 2, T0);
    assert_false(v.allowed);
    assert_int_equal(v.retry_after, 1);
    assert_int_equal(v.reset_s, 1);
    /* 1 ms at 1000/s is one token. */
    assert_true(ombud_rate_take(&b, 1000, 2, T0 + 1000).allowed);
}

/* A refusal takes nothing: the tokens keep accruing while refused. */
static void test_refusal_costs_nothing(void **state)
{
    struct ombud_rate_bucket b;
    (void)state;
    ombud_rate_bucket_init(&b, 1, T0);
    assert_true(ombud_rate_take(&b, 2, 1, T0).allowed);
    for (int i = 1; i < 50; i++)
        assert_false(ombud_rate_take(&b, 2, 1, T0 + i * 10000).allowed); /* to 490 ms */
    assert_true(ombud_rate_take(&b, 2, 1, T0 + SEC / 2).allowed);
}

/* The bucket never holds more than its burst, however long it was idle,
 * and a long idle time does not overflow. */
static void test_long_idle_caps_at_burst(void **state)
{
    struct ombud_rate_bucket b;
    (void)state;
    ombud_rate_bucket_init(&b, OMBUD_RATE_MAX, T0);
    assert_true(ombud_rate_take(&b, OMBUD_RATE_MAX, OMBUD_RATE_MAX, T0).allowed);
    struct ombud_rate_verdict v =
        ombud_rate_take(&b, OMBUD_RATE_MAX, OMBUD_RATE_MAX, INT64_MAX / 2);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, OMBUD_RATE_MAX - 1);
    assert_int_equal(v.reset_s, 1);

    ombud_rate_bucket_init(&b, 2, T0);
    v = ombud_rate_take(&b, 1, 2, T0 + 1000 * SEC);
    assert_true(v.allowed);
    assert_int_equal(v.remaining, 1);
    assert_int_equal(v.reset_s, 1);
}

/* Time that runs backwards refills nothing and breaks nothing. */
static void test_time_backwards(void **state)
{
    struct ombud_rate_bucket b;
    (void)state;
    ombud_rate_bucket_init(&b, 1, T0);
    assert_true(ombud_rate_take(&b, 1, 1, T0).allowed);
    assert_false(ombud_rate_take(&b, 1, 1, T0 - 100 * SEC).allowed);
    assert_false(ombud_rate_take(&b, 1, 1, T0 + SEC / 2).allowed);
    assert_true(ombud_rate_take(&b, 1, 1, T0 + SEC).allowed);
}

/* Requests every millisecond for T seconds: exactly burst + rate * T
 * get through (the bucket starts full). (A bucket that is full between
 * two requests loses what it would have gained: so each case's burst
 * holds at least a millisecond's tokens plus one.) */
static void test_long_run_count(void **state)
{
    static const unsigned cases[][2] = {{1, 1}, {1, 5}, {7, 3}, {10, 20}, {333, 2}, {1000, 2000}};
    (void)state;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        unsigned rate = cases[c][0], burst = cases[c][1];
        struct ombud_rate_bucket b;
        unsigned long got = 0;
        ombud_rate_bucket_init(&b, burst, T0);
        for (int64_t ms = 0; ms <= 10000; ms++)
            for (int k = 0; k < 3; k++) /* several per millisecond, to drain fast rates */
                got += ombud_rate_take(&b, rate, burst, T0 + ms * 1000).allowed;
        unsigned long want = burst + rate * 10ul;
        if (got != want)
            print_error("rate %u burst %u: %lu through, want %lu\n", rate, burst, got, want);
        assert_true(got == want);
    }
}

/* RateLimit-Policy's w: the seconds an empty bucket takes to fill. */
static void test_window(void **state)
{
    (void)state;
    assert_int_equal(ombud_rate_window_s(1000, 2000), 2);
    assert_int_equal(ombud_rate_window_s(1, 1), 1);
    assert_int_equal(ombud_rate_window_s(3, 10), 4);
    assert_int_equal(ombud_rate_window_s(1000, 1), 1);
    assert_int_equal(ombud_rate_window_s(1, OMBUD_RATE_MAX), OMBUD_RATE_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_refuse),
        cmocka_unit_test(test_refill_exact),
        cmocka_unit_test(test_retry_after_rounds_up),
        cmocka_unit_test(test_refusal_costs_nothing),
        cmocka_unit_test(test_long_idle_caps_at_burst),
        cmocka_unit_test(test_time_backwards),
        cmocka_unit_test(test_long_run_count),
        cmocka_unit_test(test_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
