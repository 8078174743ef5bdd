/*
 * Unit tests for the admission gate's stall rule (src/http/gate.c,
 * ombud_gate_stall_due): the database counts as stalled only when no
 * permit is free and the most recent step under a permit began at least
 * the stall time ago.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "http/gate.h"

#define STALL_US 150000
#define NOW 10000000

/* A free permit: never a stall, however long the holders have been in. */
static void test_free_permit(void **state)
{
    (void)state;
    assert_false(ombud_gate_stall_due(1, NOW - 10 * STALL_US, NOW, STALL_US));
    assert_false(ombud_gate_stall_due(3, NOW - 10 * STALL_US, NOW, STALL_US));
}

/* Every permit held: a stall once the youngest step is STALL_US old. */
static void test_all_held(void **state)
{
    (void)state;
    assert_false(ombud_gate_stall_due(0, NOW, NOW, STALL_US));
    assert_false(ombud_gate_stall_due(0, NOW - STALL_US + 1, NOW, STALL_US));
    assert_true(ombud_gate_stall_due(0, NOW - STALL_US, NOW, STALL_US));
    assert_true(ombud_gate_stall_due(0, NOW - 10 * STALL_US, NOW, STALL_US));
}

/* Every permit held but none in a step yet (taken, or handed to a
 * suspended request, and not begun): nothing to judge by, no stall. */
static void test_none_begun(void **state)
{
    (void)state;
    assert_false(ombud_gate_stall_due(0, 0, NOW, STALL_US));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_free_permit),
        cmocka_unit_test(test_all_held),
        cmocka_unit_test(test_none_begun),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
