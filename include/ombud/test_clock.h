/*
 * Test clock: lets the integration tests move the server's business
 * clock forward instead of waiting for an SLA moment in real time.
 * Compiled in only when OMBUD_TEST_HOOKS is defined (builds with tests:
 * never the Release build of scripts/run); elsewhere the offset is the
 * constant 0 and the whole hook disappears.
 */
#ifndef OMBUD_TEST_CLOCK_H
#define OMBUD_TEST_CLOCK_H

#include <stdint.h>

#ifdef OMBUD_TEST_HOOKS
/* Microseconds to add to the wall clock: the int64 in the file named by
 * OMBUD_TEST_CLOCK_FILE, read on every call (0 when the variable is unset
 * or the file cannot be mapped). Thread-safe. */
int64_t ombud_test_clock_offset_us(void);
#else
static inline int64_t ombud_test_clock_offset_us(void)
{
    return 0;
}
#endif

#endif
