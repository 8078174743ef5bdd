/*
 * Unit tests for src/domain/timefmt.c: RFC 3339 output and input, and the
 * civil-date conversions they are built on.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "ombud/timefmt.h"

#define SEC INT64_C(1000000)

static void expect_format(int64_t usec, const char *want)
{
    char out[OMBUD_TIME_BUFLEN + 8];
    memset(out, 'X', sizeof out);
    ombud_time_format(usec, out);
    assert_string_equal(out, want);
    assert_true(strlen(out) < OMBUD_TIME_BUFLEN);
}

static void expect_parse(const char *s, int64_t want)
{
    int64_t got = INT64_C(-4242);
    if (!ombud_time_parse(s, &got))
        print_error("rejected \"%s\"\n", s);
    assert_true(ombud_time_parse(s, &got));
    assert_int_equal(got, want);
}

static void expect_reject(const char *s)
{
    int64_t got = INT64_C(-4242);
    bool ok = ombud_time_parse(s, &got);
    if (ok)
        print_error("accepted \"%s\"\n", s ? s : "(null)");
    assert_false(ok);
    assert_int_equal(got, INT64_C(-4242)); /* untouched on failure */
}

static bool valid_date(int64_t y, unsigned m, unsigned d)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m < 1 || m > 12 || d < 1)
        return false;
    return d <= mdays[m - 1] + (m == 2 && leap);
}

/* ---- format ---- */

static void test_format_epoch(void **state)
{
    (void)state;
    expect_format(0, "1970-01-01T00:00:00Z");
    expect_format(1, "1970-01-01T00:00:00Z");
    expect_format(999999, "1970-01-01T00:00:00Z");
    expect_format(SEC, "1970-01-01T00:00:01Z");
    expect_format(86399 * SEC + 999999, "1970-01-01T23:59:59Z");
    expect_format(86400 * SEC, "1970-01-02T00:00:00Z");
}

static void test_format_known_instants(void **state)
{
    (void)state;
    expect_format(INT64_C(1234567890) * SEC, "2009-02-13T23:31:30Z");
    expect_format(INT64_C(2000000000) * SEC, "2033-05-18T03:33:20Z");
    expect_format(INT64_C(1795334400) * SEC, "2026-11-22T08:00:00Z");
    expect_format(INT64_C(946684799) * SEC, "1999-12-31T23:59:59Z");
    expect_format(INT64_C(946684800) * SEC, "2000-01-01T00:00:00Z");
}

static void test_format_negative(void **state)
{
    (void)state;
    /* Instants before the epoch round down to the second, not toward zero. */
    expect_format(-1, "1969-12-31T23:59:59Z");
    expect_format(-999999, "1969-12-31T23:59:59Z");
    expect_format(-SEC, "1969-12-31T23:59:59Z");
    expect_format(-SEC - 1, "1969-12-31T23:59:58Z");
    expect_format(-86400 * SEC, "1969-12-31T00:00:00Z");
    expect_format(-86400 * SEC - 1, "1969-12-30T23:59:59Z");
    expect_format(-INT64_C(31536000) * SEC, "1969-01-01T00:00:00Z");
    expect_format(-INT64_C(2203891200) * SEC, "1900-03-01T00:00:00Z");
    expect_format(-INT64_C(62135596800) * SEC, "0001-01-01T00:00:00Z");
}

static void test_format_leap_days(void **state)
{
    (void)state;
    expect_format(INT64_C(1709210096) * SEC, "2024-02-29T12:34:56Z");
    expect_format(INT64_C(951782400) * SEC, "2000-02-29T00:00:00Z");
    expect_format(-INT64_C(11670912001) * SEC, "1600-02-29T23:59:59Z");
    /* 1900 is not a leap year: Feb 28 is followed by Mar 1. */
    expect_format((-INT64_C(2203891200) - 1) * SEC, "1900-02-28T23:59:59Z");
    /* 2100 is not one either. */
    expect_format(INT64_C(4107542400) * SEC, "2100-03-01T00:00:00Z");
    expect_format((INT64_C(4107542400) - 1) * SEC, "2100-02-28T23:59:59Z");
}

static void test_format_far_future(void **state)
{
    (void)state;
    expect_format(INT64_C(253402300799) * SEC, "9999-12-31T23:59:59Z");
    expect_format(INT64_C(253402300800) * SEC, "10000-01-01T00:00:00Z");
}

static void test_format_int64_extremes(void **state)
{
    (void)state;
    expect_format(INT64_MAX, "294247-01-10T04:00:54Z");
    expect_format(INT64_MIN, "-290308-12-21T19:59:05Z");
}

/* ---- parse ---- */

static void test_parse_utc(void **state)
{
    (void)state;
    expect_parse("1970-01-01T00:00:00Z", 0);
    expect_parse("2026-11-22T08:00:00Z", INT64_C(1795334400) * SEC);
    expect_parse("2009-02-13T23:31:30Z", INT64_C(1234567890) * SEC);
    expect_parse("1969-12-31T23:59:59Z", -SEC);
    expect_parse("0001-01-01T00:00:00Z", -INT64_C(62135596800) * SEC);
    expect_parse("9999-12-31T23:59:59Z", INT64_C(253402300799) * SEC);
}

static void test_parse_offsets(void **state)
{
    (void)state;
    expect_parse("1970-01-01T05:30:00+05:30", 0);
    expect_parse("1969-12-31T16:00:00-08:00", 0);
    expect_parse("1970-01-01T00:00:00+00:00", 0);
    expect_parse("1970-01-01T00:00:00-00:00", 0);
    expect_parse("2026-11-22T09:00:00+01:00", INT64_C(1795334400) * SEC);
    expect_parse("2026-11-22T00:00:00-08:00", INT64_C(1795334400) * SEC);
    /* An offset that moves the instant across a date boundary. */
    expect_parse("2024-03-01T01:00:00+02:00", INT64_C(1709251200) * SEC - 3600 * SEC);
    expect_parse("1970-01-01T00:00:00+23:59", -(23 * 3600 + 59 * 60) * SEC);
    expect_parse("1970-01-01T00:00:00-23:59", (23 * 3600 + 59 * 60) * SEC);
}

/* What the parser accepts, the formatter writes back in a form the
 * parser reads: no offset may carry an instant out of years 0001-9999. */
static void test_parse_offset_past_the_years(void **state)
{
    (void)state;
    expect_reject("0001-01-01T00:00:00+01:00");
    expect_reject("0001-01-01T00:59:59.999999+01:00");
    expect_parse("0001-01-01T01:00:00+01:00", -INT64_C(62135596800) * SEC);
    expect_reject("9999-12-31T23:59:59-01:00");
    expect_reject("9999-12-31T23:00:00-01:00");
    expect_parse("9999-12-31T22:59:59-01:00", INT64_C(253402300799) * SEC);
}

static void test_parse_fractions(void **state)
{
    (void)state;
    expect_parse("1970-01-01T00:00:00.5Z", 500000);
    expect_parse("1970-01-01T00:00:00.05Z", 50000);
    expect_parse("1970-01-01T00:00:00.123Z", 123000);
    expect_parse("1970-01-01T00:00:00.123456Z", 123456);
    expect_parse("1970-01-01T00:00:00.000001Z", 1);
    expect_parse("1970-01-01T00:00:00.0Z", 0);
    expect_parse("1970-01-01T00:00:00.000000000Z", 0);
    /* Digits beyond microseconds are dropped, not rounded. */
    expect_parse("1970-01-01T00:00:00.1234567Z", 123456);
    expect_parse("1970-01-01T00:00:00.9999999Z", 999999);
    expect_parse("1970-01-01T00:00:00.123456999999999999999999Z", 123456);
    /* With an offset. */
    expect_parse("1970-01-01T00:00:00.25+01:00", -3600 * SEC + 250000);
    /* Before the epoch the fraction still counts forward. */
    expect_parse("1969-12-31T23:59:59.5Z", -500000);
}

static void test_parse_lowercase(void **state)
{
    (void)state;
    expect_parse("1970-01-01t00:00:00z", 0);
    expect_parse("1970-01-01t00:00:00Z", 0);
    expect_parse("1970-01-01T00:00:00z", 0);
    expect_parse("1970-01-01t01:00:00+01:00", 0);
}

static void test_parse_leap_days(void **state)
{
    (void)state;
    expect_parse("2024-02-29T12:34:56Z", INT64_C(1709210096) * SEC);
    expect_parse("2000-02-29T00:00:00Z", INT64_C(951782400) * SEC);
    expect_parse("1600-02-29T23:59:59Z", -INT64_C(11670912001) * SEC);
    expect_reject("1900-02-29T00:00:00Z");
    expect_reject("2100-02-29T00:00:00Z");
    expect_reject("2026-02-29T00:00:00Z");
    expect_reject("2023-02-29T00:00:00Z");
}

static void test_parse_reject_bad_dates(void **state)
{
    (void)state;
    expect_reject("2026-02-30T00:00:00Z");
    expect_reject("2024-02-30T00:00:00Z");
    expect_reject("2026-04-31T00:00:00Z");
    expect_reject("2026-06-31T00:00:00Z");
    expect_reject("2026-09-31T00:00:00Z");
    expect_reject("2026-11-31T00:00:00Z");
    expect_reject("2026-01-32T00:00:00Z");
    expect_reject("2026-12-32T00:00:00Z");
    expect_reject("2026-00-10T00:00:00Z");
    expect_reject("2026-13-01T00:00:00Z");
    expect_reject("2026-01-00T00:00:00Z");
    expect_reject("0000-01-01T00:00:00Z");
    expect_reject("2026-99-99T00:00:00Z");
}

static void test_parse_reject_bad_times(void **state)
{
    (void)state;
    expect_reject("2026-01-01T24:00:00Z");
    expect_reject("2026-01-01T25:00:00Z");
    expect_reject("2026-01-01T00:60:00Z");
    expect_reject("2026-01-01T00:00:60Z"); /* leap seconds are not taken */
    expect_reject("2026-01-01T00:00:61Z");
    expect_reject("2026-01-01T99:99:99Z");
}

static void test_parse_reject_zone(void **state)
{
    (void)state;
    expect_reject("2026-01-01T00:00:00");
    expect_reject("2026-01-01T00:00:00.5");
    expect_reject("2026-01-01T00:00:00 Z");
    expect_reject("2026-01-01T00:00:00UTC");
    expect_reject("2026-01-01T00:00:00GMT");
    expect_reject("2026-01-01T00:00:00+05");
    expect_reject("2026-01-01T00:00:00+0530");
    expect_reject("2026-01-01T00:00:00+5:30");
    expect_reject("2026-01-01T00:00:00+05:3");
    expect_reject("2026-01-01T00:00:00+05-30");
    expect_reject("2026-01-01T00:00:00+24:00");
    expect_reject("2026-01-01T00:00:00+05:60");
    expect_reject("2026-01-01T00:00:00+");
    expect_reject("2026-01-01T00:00:00-");
    expect_reject("2026-01-01T00:00:00+:");
    expect_reject("2026-01-01T00:00:00++05:30");
}

static void test_parse_reject_trailing_junk(void **state)
{
    (void)state;
    expect_reject("2026-01-01T00:00:00Zx");
    expect_reject("2026-01-01T00:00:00Z ");
    expect_reject("2026-01-01T00:00:00ZZ");
    expect_reject("2026-01-01T00:00:00Z\n");
    expect_reject("2026-01-01T00:00:00+05:30x");
    expect_reject("2026-01-01T00:00:00+05:30Z");
    expect_reject("2026-01-01T00:00:00+05:30:00");
    expect_reject("2026-01-01T00:00:00.5Zjunk");
}

static void test_parse_reject_shape(void **state)
{
    (void)state;
    expect_reject(NULL);
    expect_reject("");
    expect_reject("Z");
    expect_reject("2026");
    expect_reject("2026-01-01");
    expect_reject("2026-01-01T00:00Z");    /* too short: no seconds */
    expect_reject("2026-01-01T00:00:0Z");  /* too short */
    expect_reject("2026-01-01 00:00:00Z"); /* space separator */
    expect_reject("2026-01-01X00:00:00Z");
    expect_reject("2026/01/01T00:00:00Z");
    expect_reject("2026-01-01T00.00.00Z");
    expect_reject("2026-1-01T00:00:00Z");
    expect_reject("2026-01-1T00:00:00Z");
    expect_reject("26-01-01T00:00:00Z");
    expect_reject("+2026-01-01T00:00:00Z");
    expect_reject("-2026-01-01T00:00:00Z");
    expect_reject("20a6-01-01T00:00:00Z");
    expect_reject("2026-0a-01T00:00:00Z");
    expect_reject("2026-01-01T0a:00:00Z");
    expect_reject(" 2026-01-01T00:00:00Z");
    expect_reject("12026-01-01T00:00:00Z");
    expect_reject("2026-01-01T00:00:00.Z"); /* dot without digits */
    expect_reject("2026-01-01T00:00:00.+01:00");
    expect_reject("2026-01-01T00:00:00,5Z"); /* comma fraction */
    expect_reject("2026-01-01T00:00:00.5.5Z");
    expect_reject("\xef\xbc\x92"
                  "026-01-01T00:00:00Z"); /* FULLWIDTH DIGIT TWO */
}

/* ---- round trip ---- */

static void test_round_trip_format_parse(void **state)
{
    char buf[OMBUD_TIME_BUFLEN];
    int64_t back;
    const int64_t first = ombud_days_from_civil(1, 1, 1);
    const int64_t last = ombud_days_from_civil(9999, 12, 31);
    (void)state;
    for (int64_t day = first; day <= last; day += 997) {
        for (int64_t sec = 0; sec < 86400; sec += 86399 / 3) {
            int64_t usec = (day * 86400 + sec) * SEC;
            ombud_time_format(usec, buf);
            if (!ombud_time_parse(buf, &back) || back != usec)
                print_error("round trip failed for %s\n", buf);
            assert_true(ombud_time_parse(buf, &back));
            assert_int_equal(back, usec);
        }
    }
    /* Sub-second parts are dropped by format. */
    ombud_time_format(1234567 * SEC + 654321, buf);
    assert_true(ombud_time_parse(buf, &back));
    assert_int_equal(back, 1234567 * SEC);
}

static void test_round_trip_parse_format(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"2026-11-22T08:00:00Z", "2026-11-22T08:00:00Z"},
        {"2026-11-22t08:00:00z", "2026-11-22T08:00:00Z"},
        {"2026-11-22T13:30:00+05:30", "2026-11-22T08:00:00Z"},
        {"2026-11-22T00:00:00-08:00", "2026-11-22T08:00:00Z"},
        {"2026-11-22T08:00:00.999999Z", "2026-11-22T08:00:00Z"},
        {"2024-12-31T23:30:00-01:00", "2025-01-01T00:30:00Z"},
        {"2024-03-01T00:30:00+01:00", "2024-02-29T23:30:00Z"},
    };
    char buf[OMBUD_TIME_BUFLEN];
    int64_t usec;
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_true(ombud_time_parse(cases[i].in, &usec));
        ombud_time_format(usec, buf);
        assert_string_equal(buf, cases[i].out);
    }
}

/* ---- civil-date conversions ---- */

static void test_days_from_civil_known(void **state)
{
    (void)state;
    assert_int_equal(ombud_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(ombud_days_from_civil(1970, 1, 2), 1);
    assert_int_equal(ombud_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(ombud_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(ombud_days_from_civil(2024, 2, 29), 19782);
    assert_int_equal(ombud_days_from_civil(1, 1, 1), -719162);
    assert_int_equal(ombud_days_from_civil(9999, 12, 31), 2932896);
    assert_int_equal(ombud_days_from_civil(0, 3, 1), -719468);
    /* Year 0 is a leap year in the proleptic Gregorian calendar. */
    assert_int_equal(ombud_days_from_civil(0, 3, 1) - ombud_days_from_civil(0, 2, 28), 2);
    assert_int_equal(ombud_days_from_civil(1, 1, 1) - ombud_days_from_civil(0, 1, 1), 366);
    /* 400-year cycle. */
    assert_int_equal(ombud_days_from_civil(2400, 1, 1) - ombud_days_from_civil(2000, 1, 1), 146097);
    assert_int_equal(ombud_days_from_civil(-400, 1, 1) - ombud_days_from_civil(-800, 1, 1), 146097);
}

static void test_civil_from_days_known(void **state)
{
    int64_t y;
    unsigned m, d;
    (void)state;
    ombud_civil_from_days(0, &y, &m, &d);
    assert_int_equal(y, 1970);
    assert_int_equal(m, 1);
    assert_int_equal(d, 1);
    ombud_civil_from_days(-1, &y, &m, &d);
    assert_int_equal(y, 1969);
    assert_int_equal(m, 12);
    assert_int_equal(d, 31);
    ombud_civil_from_days(19782, &y, &m, &d);
    assert_int_equal(y, 2024);
    assert_int_equal(m, 2);
    assert_int_equal(d, 29);
    ombud_civil_from_days(-719162, &y, &m, &d);
    assert_int_equal(y, 1);
    assert_int_equal(m, 1);
    assert_int_equal(d, 1);
    ombud_civil_from_days(-719163, &y, &m, &d);
    assert_int_equal(y, 0);
    assert_int_equal(m, 12);
    assert_int_equal(d, 31);
}

static void test_civil_sequential_range(void **state)
{
    /* Every day from about 3800 BCE to 4700 CE: each is a valid date, the
     * day after the previous one, and converts back to its day number. */
    int64_t py;
    unsigned pm, pd;
    (void)state;
    ombud_civil_from_days(-2000001, &py, &pm, &pd);
    for (int64_t z = -2000000; z <= 1000000; z++) {
        int64_t y;
        unsigned m, d;
        ombud_civil_from_days(z, &y, &m, &d);
        assert_true(valid_date(y, m, d));
        if (d == 1) {
            assert_true((m == pm + 1 && y == py) || (m == 1 && pm == 12 && y == py + 1));
            assert_true(!valid_date(py, pm, pd + 1));
        } else {
            assert_int_equal(y, py);
            assert_int_equal(m, pm);
            assert_int_equal(d, pd + 1);
        }
        assert_int_equal(ombud_days_from_civil(y, m, d), z);
        py = y;
        pm = m;
        pd = d;
    }
}

static void test_civil_wide_range(void **state)
{
    (void)state;
    /* Far beyond any instant an int64 of microseconds can hold. */
    for (int64_t z = -INT64_C(4000000000); z <= INT64_C(4000000000); z += 7919 * 1009) {
        int64_t y;
        unsigned m, d;
        ombud_civil_from_days(z, &y, &m, &d);
        assert_true(valid_date(y, m, d));
        assert_int_equal(ombud_days_from_civil(y, m, d), z);
    }
    /* Year boundaries across many centuries, including negative years. */
    for (int64_t y = -5000; y <= 5000; y += 7) {
        int64_t z = ombud_days_from_civil(y, 1, 1);
        assert_int_equal(z - 1, ombud_days_from_civil(y - 1, 12, 31));
        int64_t yy;
        unsigned m, d;
        ombud_civil_from_days(z, &yy, &m, &d);
        assert_int_equal(yy, y);
        assert_int_equal(m, 1);
        assert_int_equal(d, 1);
    }
}

static void test_now(void **state)
{
    (void)state;
    int64_t a = ombud_time_now();
    int64_t b = ombud_time_now();
    /* After 2020-01-01 and before 2200-01-01; not going backwards much. */
    assert_true(a > INT64_C(1577836800) * SEC);
    assert_true(a < INT64_C(7258118400) * SEC);
    assert_true(b >= a - SEC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_epoch),
        cmocka_unit_test(test_format_known_instants),
        cmocka_unit_test(test_format_negative),
        cmocka_unit_test(test_format_leap_days),
        cmocka_unit_test(test_format_far_future),
        cmocka_unit_test(test_format_int64_extremes),
        cmocka_unit_test(test_parse_utc),
        cmocka_unit_test(test_parse_offsets),
        cmocka_unit_test(test_parse_offset_past_the_years),
        cmocka_unit_test(test_parse_fractions),
        cmocka_unit_test(test_parse_lowercase),
        cmocka_unit_test(test_parse_leap_days),
        cmocka_unit_test(test_parse_reject_bad_dates),
        cmocka_unit_test(test_parse_reject_bad_times),
        cmocka_unit_test(test_parse_reject_zone),
        cmocka_unit_test(test_parse_reject_trailing_junk),
        cmocka_unit_test(test_parse_reject_shape),
        cmocka_unit_test(test_round_trip_format_parse),
        cmocka_unit_test(test_round_trip_parse_format),
        cmocka_unit_test(test_days_from_civil_known),
        cmocka_unit_test(test_civil_from_days_known),
        cmocka_unit_test(test_civil_sequential_range),
        cmocka_unit_test(test_civil_wide_range),
        cmocka_unit_test(test_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
