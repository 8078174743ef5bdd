/*
 * Reading PostgreSQL's ISO text of a timestamptz (src/db/row.c), as the
 * complaint columns arrive: against known instants, against gmtime_r over
 * random instants from year 1 to 9999 written the way PostgreSQL writes
 * them (fraction without trailing zeros, none when zero), with offsets,
 * and refusing what is not one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "db/internal.h"

static int64_t read_ok(const char *text)
{
    int64_t v = -1;
    if (!ombud_db_tstz_usec(text, &v))
        fail_msg("refused %s", text);
    return v;
}

static void known_instants(void **state)
{
    (void)state;
    assert_int_equal(read_ok("1970-01-01 00:00:00+00"), 0);
    assert_int_equal(read_ok("1970-01-01 00:00:00.000001+00"), 1);
    assert_int_equal(read_ok("1969-12-31 23:59:59.999999+00"), -1);
    assert_int_equal(read_ok("2026-12-01 22:16:33.5+00"), INT64_C(1796163393500000));
    assert_int_equal(read_ok("2000-02-29 12:00:00+00"), INT64_C(951825600000000));
    /* offsets: the same instant written in other zones */
    assert_int_equal(read_ok("2026-12-02 03:46:33.5+05:30"), INT64_C(1796163393500000));
    assert_int_equal(read_ok("2026-12-01 19:16:33.5-03"), INT64_C(1796163393500000));
    assert_int_equal(read_ok("1970-01-01 00:00:00+00:00:30"), -30000000);
    /* the ends of what Ombud stores */
    assert_int_equal(read_ok("0001-01-01 00:00:00+00"), INT64_C(-62135596800000000));
    assert_int_equal(read_ok("9999-12-31 23:59:59.999999+00"), INT64_C(253402300799999999));
    assert_int_equal(read_ok("10000-01-01 00:00:00+00"), INT64_C(253402300800000000));
}

static void refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "infinity",
        "-infinity",
        "2026-12-01",
        "2026-12-01 22:16:33",
        "2026-12-01 22:16:33.+00",
        "2026-12-01 22:16:33.1234567+00",
        "2026-12-01T22:16:33+00",
        "2026-13-01 22:16:33+00",
        "2026-12-00 22:16:33+00",
        "2026-12-01 24:00:00+00",
        "2026-12-01 22:60:00+00",
        "2026-12-01 22:16:60+00",
        "0044-03-15 12:00:00+00 BC",
        "2026-12-01 22:16:33+0",
        "2026-12-01 22:16:33+00:",
        "226-12-01 22:16:33+00",
        "2026-1-01 22:16:33+00",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 42;
        if (ombud_db_tstz_usec(bad[i], &v))
            fail_msg("accepted \"%s\" as %lld", bad[i], (long long)v);
    }
}

/* The text PostgreSQL writes for usec at UTC offset off_s (seconds). */
static void pg_text(int64_t usec, int off_s, char *out, size_t len)
{
    int64_t local = usec + (int64_t)off_s * 1000000;
    int64_t secs = local >= 0 ? local / 1000000 : -((-local + 999999) / 1000000);
    int frac = (int)(local - secs * 1000000);
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    int n = snprintf(out, len, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (frac) {
        char f[8];
        snprintf(f, sizeof f, "%06d", frac);
        for (int k = 5; k > 0 && f[k] == '0'; k--)
            f[k] = '\0';
        n += snprintf(out + n, len - (size_t)n, ".%s", f);
    }
    int a = off_s < 0 ? -off_s : off_s;
    n += snprintf(out + n, len - (size_t)n, "%c%02d", off_s < 0 ? '-' : '+', a / 3600);
    if (a % 3600)
        snprintf(out + n, len - (size_t)n, ":%02d", a % 3600 / 60);
}

static void random_instants(void **state)
{
    (void)state;
    const int64_t lo = INT64_C(-62135596800000000), hi = INT64_C(253402300799999999);
    static const int offsets[] = {0, 0, 0, 19800, -10800, 3600, -34200, 45900};
    srand(20261201);
    for (int i = 0; i < 200000; i++) {
        uint64_t r = ((uint64_t)rand() << 42) ^ ((uint64_t)rand() << 21) ^ (uint64_t)rand();
        int64_t usec = lo + (int64_t)(r % (uint64_t)(hi - lo));
        if (i % 4 == 0)
            usec -= usec % 1000000; /* whole seconds: no fraction written */
        int off = offsets[i % 8];
        char text[64];
        pg_text(usec, off, text, sizeof text);
        int64_t got = 0;
        if (!ombud_db_tstz_usec(text, &got) || got != usec)
            fail_msg("%s read as %lld, not %lld", text, (long long)got, (long long)usec);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_instants),
        cmocka_unit_test(refused),
        cmocka_unit_test(random_instants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
