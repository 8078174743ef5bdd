/*
 * Unit tests for src/service/sla_wake.c: a committed moment wakes the SLA
 * worker only when it comes before the worker's plan, one byte wakes it
 * however many writes follow until it plans again, nothing wakes a worker
 * that is not waiting (plan 0), and drain empties the pipe.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <poll.h>
#include <stdbool.h>
#include <sys/ioctl.h>

#include "ombud/service/sla_wake.h"

#define US 1000000LL

static int setup(void **state)
{
    (void)state;
    struct ombud_err err;
    ombud_err_clear(&err);
    assert_int_equal(ombud_sla_wake_open(&err), OMBUD_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ombud_sla_wake_close();
    return 0;
}

/* Bytes waiting in the pipe. */
static int pending(void)
{
    int n = -1;
    assert_int_equal(ioctl(ombud_sla_wake_fd(), FIONREAD, &n), 0);
    return n;
}

static void earlier_moment_wakes_once(void **state)
{
    (void)state;
    ombud_sla_wake_drain();
    ombud_sla_wake_plan(1000 * US);
    ombud_sla_wake_moment(1000); /* the planned moment itself: no */
    ombud_sla_wake_moment(2000); /* later: no */
    assert_int_equal(pending(), 0);
    ombud_sla_wake_moment(999); /* earlier: one byte */
    assert_int_equal(pending(), 1);
    ombud_sla_wake_moment(10); /* already woken: no more */
    ombud_sla_wake_moment(500);
    assert_int_equal(pending(), 1);
    struct pollfd p = {.fd = ombud_sla_wake_fd(), .events = POLLIN};
    assert_int_equal(poll(&p, 1, 0), 1);
    ombud_sla_wake_drain();
    assert_int_equal(pending(), 0);
    /* Planned again: woken again. */
    ombud_sla_wake_plan(1000 * US);
    ombud_sla_wake_moment(5);
    assert_int_equal(pending(), 1);
    ombud_sla_wake_drain();
}

static void not_waiting_is_not_woken(void **state)
{
    (void)state;
    ombud_sla_wake_drain();
    ombud_sla_wake_plan(0);
    ombud_sla_wake_moment(1);
    assert_int_equal(pending(), 0);
    ombud_sla_wake_now(); /* stopping wakes it whatever it planned */
    assert_int_equal(pending(), 1);
    ombud_sla_wake_drain();
    assert_int_equal(pending(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(earlier_moment_wakes_once),
        cmocka_unit_test(not_waiting_is_not_woken),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
