/*
 * Business time: hand-checked cases from API.md, then thousands of random
 * calendars and instants near daylight-saving switches compared with an
 * independent reference that steps minute by minute and reads the local
 * time from glibc's own time zone code (localtime_r under TZ; fine in a
 * single-threaded test, never in the server).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "ombud/business_time.h"
#include "ombud/timefmt.h"
#include "ombud/tz.h"

static int64_t T(const char *rfc3339)
{
    int64_t us;
    if (!ombud_time_parse(rfc3339, &us))
        fail_msg("bad time %s", rfc3339);
    return us / 1000000;
}

static int64_t D(const char *date)
{
    int64_t d;
    assert_true(ombud_bt_parse_date(date, &d));
    return d;
}

struct spec {
    const char *tz;
    const char *hours;    /* "1 09:00 18:00;2 ..." or "" for 24x7 */
    const char *holidays; /* "2026-10-01,2026-10-02" */
};

static void build(struct ombud_bt_calendar *cal, const struct spec *s)
{
    int wd[64];
    struct ombud_bt_interval iv[64];
    int64_t hol[64];
    size_t n = 0, nh = 0;
    struct ombud_err err;
    const char *p = s->hours;
    while (p && *p) {
        char o[6], c[6];
        int w;
        if (sscanf(p, "%d %5s %5s", &w, o, c) != 3)
            fail_msg("bad hours %s", p);
        wd[n] = w;
        assert_true(ombud_bt_parse_hhmm(o, &iv[n].open));
        assert_true(ombud_bt_parse_hhmm(c, &iv[n].close));
        n++;
        p = strchr(p, ';');
        if (p)
            p++;
    }
    p = s->holidays;
    while (p && *p) {
        char d[11];
        memcpy(d, p, 10);
        d[10] = '\0';
        hol[nh++] = D(d);
        p = strchr(p, ',');
        if (p)
            p++;
    }
    ombud_err_clear(&err);
    if (ombud_bt_calendar_init(cal, s->tz, wd, iv, n, hol, nh, &err) != OMBUD_OK)
        fail_msg("calendar: %s %s", err.detail, err.nfields ? err.fields[0].message : "");
}

static void expect_due(const struct spec *s, const char *from, long minutes, const char *due)
{
    struct ombud_bt_calendar cal;
    int64_t got;
    char buf[OMBUD_TIME_BUFLEN];
    build(&cal, s);
    assert_true(ombud_bt_add(&cal, T(from), minutes * 60, &got));
    ombud_time_format(got * 1000000, buf);
    if (strcmp(buf, due) != 0)
        fail_msg("%s + %ld min in %s: got %s, want %s", from, minutes, s->tz, buf, due);
    ombud_bt_calendar_clear(&cal);
}

static void expect_minutes(const struct spec *s, const char *from, const char *to, long minutes)
{
    struct ombud_bt_calendar cal;
    build(&cal, s);
    int64_t secs = ombud_bt_between(&cal, T(from), T(to));
    if (secs / 60 != minutes)
        fail_msg("%s..%s in %s: got %lld min, want %ld", from, to, s->tz, (long long)(secs / 60),
                 minutes);
    ombud_bt_calendar_clear(&cal);
}

static const struct spec ny_9_18 = {"America/New_York",
                                    "1 09:00 18:00;2 09:00 18:00;3 09:00 18:00;4 09:00 18:00;"
                                    "5 09:00 18:00",
                                    ""};

static void hand_cases(void **state)
{
    (void)state;
    static const struct spec utc247 = {"UTC", "", ""};
    /* 24x7: plain addition, seconds kept. */
    expect_due(&utc247, "2026-11-22T08:00:00Z", 60, "2026-11-22T09:00:00Z");
    expect_due(&utc247, "2026-11-22T09:00:30Z", 1, "2026-11-22T09:01:30Z");
    expect_minutes(&utc247, "2026-11-22T08:00:00Z", "2026-11-22T09:00:59Z", 60);
    /* Starting outside hours counts from the next opening (Fri 18:00 -> Mon 09:00). */
    expect_due(&ny_9_18, "2026-11-20T23:30:00Z", 60, "2026-11-23T15:00:00Z");
    /* A due landing on a closing time is that closing time. */
    expect_due(&ny_9_18, "2026-11-23T14:00:00Z", 540, "2026-11-23T23:00:00Z");
    expect_due(&ny_9_18, "2026-11-23T14:00:00Z", 541, "2026-11-24T14:01:00Z");
    /* Seconds are kept: 09:00:30 local + 1 minute = 09:01:30. */
    expect_due(&ny_9_18, "2026-11-23T14:00:30Z", 1, "2026-11-23T14:01:30Z");

    /* Clocks go back (New York, 2026-11-01): the repeated hour counts twice. */
    static const struct spec ny_night = {"America/New_York", "7 01:00 03:00", ""};
    expect_minutes(&ny_night, "2026-11-01T00:00:00Z", "2026-11-01T12:00:00Z", 180);
    /* Clocks go forward (2026-03-08): 02:30-03:15 gives the 15 minutes from 03:00. */
    static const struct spec ny_spring = {"America/New_York", "7 02:30 03:15", ""};
    expect_minutes(&ny_spring, "2026-03-08T00:00:00Z", "2026-03-08T12:00:00Z", 15);
    expect_due(&ny_spring, "2026-03-08T00:00:00Z", 10, "2026-03-08T07:10:00Z");

    /* Lunch break: two intervals. */
    static const struct spec berlin_lunch = {
        "Europe/Berlin", "1 09:00 12:00;1 13:00 17:00;2 09:00 12:00;2 13:00 17:00", ""};
    expect_due(&berlin_lunch, "2026-11-23T10:30:00Z", 60, "2026-11-23T12:30:00Z");
    expect_minutes(&berlin_lunch, "2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z", 420);

    /* Overnight shift Mon 22:00-24:00 + Tue 00:00-06:00; a Tuesday holiday
     * removes only Tuesday's part. */
    static const struct spec shift = {"UTC", "1 22:00 24:00;2 00:00 06:00", ""};
    static const struct spec shift_hol = {"UTC", "1 22:00 24:00;2 00:00 06:00", "2026-11-24"};
    expect_minutes(&shift, "2026-11-23T00:00:00Z", "2026-11-25T00:00:00Z", 480);
    expect_minutes(&shift_hol, "2026-11-23T00:00:00Z", "2026-11-25T00:00:00Z", 120);
    /* Holidays apply to 24x7 calendars too. */
    static const struct spec hol247 = {"Asia/Shanghai", "", "2026-10-01,2026-10-02"};
    expect_minutes(&hol247, "2026-09-30T00:00:00Z", "2026-10-03T00:00:00Z", 24 * 60);
    expect_due(&hol247, "2026-09-30T15:30:00Z", 60, "2026-10-02T16:30:00Z");

    /* Sao Paulo has had no DST since 2019; Sydney goes back on 2026-04-05. */
    static const struct spec sp = {"America/Sao_Paulo", "1 08:00 17:00", ""};
    expect_due(&sp, "2026-11-23T11:00:00Z", 60, "2026-11-23T12:00:00Z");
    static const struct spec syd = {"Australia/Sydney", "7 02:00 03:00", ""};
    expect_minutes(&syd, "2026-04-04T12:00:00Z", "2026-04-05T12:00:00Z", 120);

    /* Zero-hour days and years-long spans. */
    static const struct spec mon_only = {"Europe/Berlin", "1 10:00 11:00", ""};
    expect_minutes(&mon_only, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", 52 * 60);
    expect_due(&mon_only, "2026-01-01T00:00:00Z", 52 * 60, "2026-12-28T10:00:00Z");
}

static void bad_calendars(void **state)
{
    (void)state;
    struct ombud_bt_calendar cal;
    struct ombud_err err;
    int wd[] = {1, 1, 8};
    struct ombud_bt_interval iv[] = {{540, 720}, {700, 800}, {60, 120}};
    ombud_err_clear(&err);
    assert_int_equal(ombud_bt_calendar_init(&cal, "Mars/Olympus", wd, iv, 3, NULL, 0, &err),
                     OMBUD_ERROR);
    assert_int_equal(err.kind, OMBUD_E_INVALID);
    assert_true(err.nfields >= 3); /* zone, overlap, weekday 8 */
    uint16_t m;
    assert_false(ombud_bt_parse_hhmm("24:01", &m));
    assert_false(ombud_bt_parse_hhmm("9:00", &m));
    assert_true(ombud_bt_parse_hhmm("24:00", &m));
    assert_int_equal(m, 1440);
    int64_t d;
    assert_false(ombud_bt_parse_date("2026-02-29", &d));
    assert_false(ombud_bt_parse_date("2026-2-01", &d));
    assert_false(ombud_bt_calendar_init(&cal, "../../etc/passwd", NULL, NULL, 0, NULL, 0, &err) ==
                 OMBUD_OK);
}

/* ---- the independent reference ---- */

static void ref_local(const char *tz, int64_t t, int64_t *day, int *sod)
{
    (void)tz;
    time_t tt = (time_t)t;
    struct tm tm;
    localtime_r(&tt, &tm);
    *day = ombud_days_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday);
    *sod = tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

static bool ref_open(const struct ombud_bt_calendar *cal, const char *tz, int64_t t)
{
    int64_t day;
    int sod;
    ref_local(tz, t, &day, &sod);
    for (size_t i = 0; i < cal->nholidays; i++)
        if (cal->holidays[i] == day)
            return false;
    int wd = (int)(((day + 3) % 7 + 7) % 7);
    for (size_t k = 0; k < cal->nhours[wd]; k++)
        if (sod >= cal->hours[wd][k].open * 60 && sod < cal->hours[wd][k].close * 60)
            return true;
    return false;
}

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void random_against_reference(void **state)
{
    (void)state;
    static const char *const zones[] = {
        "America/New_York",    "Europe/Berlin",       "Australia/Sydney",
        "America/Sao_Paulo",   "Asia/Kolkata",        "UTC",
        "Australia/Lord_Howe", "America/Mexico_City", "Pacific/Chatham"};
    /* DST switches of 2026 (and one of 2027) to start near. */
    static const char *const near[] = {"2026-03-08T07:00:00Z", "2026-11-01T06:00:00Z",
                                       "2026-03-29T01:00:00Z", "2026-10-25T01:00:00Z",
                                       "2026-04-04T16:00:00Z", "2026-10-03T16:00:00Z",
                                       "2026-04-04T15:00:00Z", "2027-03-14T07:00:00Z"};
    int cases = 0, compared_minutes = 0;
    for (int iter = 0; iter < 1500; iter++) {
        const char *tz = zones[next() % (sizeof zones / sizeof zones[0])];
        int wd[40];
        struct ombud_bt_interval iv[40];
        size_t n = 0;
        bool all_day = next() % 8 == 0;
        for (int d = 1; d <= 7 && !all_day; d++) {
            int k = (int)(next() % 3);
            uint16_t at = (uint16_t)(next() % 360);
            for (int j = 0; j < k && at < 1440; j++) {
                uint16_t len = (uint16_t)(15 + next() % 600);
                uint16_t close = at + len > 1440 ? 1440 : (uint16_t)(at + len);
                wd[n] = d;
                iv[n].open = at;
                iv[n].close = close;
                n++;
                at = (uint16_t)(close + next() % 240);
            }
        }
        if (!all_day && n == 0) {
            wd[n] = 3;
            iv[n++] = (struct ombud_bt_interval){600, 660};
        }
        int64_t start = T(near[next() % (sizeof near / sizeof near[0])]);
        start += (int64_t)(next() % (6 * 86400)) - 3 * 86400;
        start -= ((start % 60) + 60) % 60; /* the reference steps whole minutes */
        int64_t hol[3];
        size_t nh = next() % 3;
        for (size_t h = 0; h < nh; h++)
            hol[h] = start / 86400 + (int64_t)(next() % 5) - 1;
        struct ombud_bt_calendar cal;
        struct ombud_err err;
        ombud_err_clear(&err);
        assert_int_equal(ombud_bt_calendar_init(&cal, tz, wd, iv, n, hol, nh, &err), OMBUD_OK);
        setenv("TZ", tz, 1);
        tzset();

        long minutes = 1 + (long)(next() % 3000);
        int64_t due;
        assert_true(ombud_bt_add(&cal, start, minutes * 60, &due));
        /* Reference: the minute after the minutes-th open minute. */
        long seen = 0;
        int64_t t = start, ref_due = 0;
        for (; seen < minutes && t < start + 400 * 86400; t += 60)
            if (ref_open(&cal, tz, t) && ++seen == minutes)
                ref_due = t + 60;
        if (due != ref_due) {
            char a[64], b[64], c[64];
            ombud_time_format(start * 1000000, a);
            ombud_time_format(due * 1000000, b);
            ombud_time_format(ref_due * 1000000, c);
            fail_msg("%s from %s + %ld min: got %s, reference %s", tz, a, minutes, b, c);
        }
        /* between() agrees with add() and with the reference on a window. */
        assert_int_equal(ombud_bt_between(&cal, start, due), minutes * 60);
        int64_t to = start + (int64_t)(next() % (5 * 86400)) / 60 * 60;
        long ref_min = 0;
        for (int64_t u = start; u < to; u += 60)
            ref_min += ref_open(&cal, tz, u);
        assert_int_equal(ombud_bt_between(&cal, start, to), ref_min * 60);
        compared_minutes += (int)(minutes + (to - start) / 60);
        ombud_bt_calendar_clear(&cal);
        cases++;
    }
    unsetenv("TZ");
    print_message("compared %d random calendars (%d reference minutes)\n", cases, compared_minutes);
}

static void long_spans_are_fast(void **state)
{
    (void)state;
    struct ombud_bt_calendar cal;
    build(&cal, &(struct spec){"America/New_York",
                               "1 09:00 18:00;2 09:00 18:00;3 09:00 18:00;4 09:00 18:00;"
                               "5 09:00 12:00;5 13:00 17:00",
                               "2026-12-25,2027-01-01,2027-07-05,2028-12-25"});
    int64_t due = 0;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 100; i++)
        assert_true(ombud_bt_add(&cal, T("2026-11-23T14:00:00Z"), 5256000LL * 60, &due));
    clock_gettime(CLOCK_MONOTONIC, &b);
    /* Consistency over years: counting back gives the same minutes. */
    assert_int_equal(ombud_bt_between(&cal, T("2026-11-23T14:00:00Z"), due), 5256000LL * 60);
    print_message("5,256,000 business minutes: %.1f us per call\n",
                  ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 100 /
                      1000);
    ombud_bt_calendar_clear(&cal);
}

/* The zone table ombud_tz keeps says what GLib says: the same offset on
 * both sides of every change it lists and at random instants from year 1
 * to 9999, and no change GLib knows is missing between two it lists. */
static void zone_table_matches_glib(void **state)
{
    (void)state;
    static const char *const zones[] = {"Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
                                        "Pacific/Apia",  "Asia/Kathmandu",   "UTC"};
    const int64_t first = T("0001-01-01T00:00:00Z"), last = T("9999-12-31T23:59:59Z");
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        const struct ombud_tz *tz = ombud_tz_get(zones[z]);
        GTimeZone *g = g_time_zone_new_identifier(zones[z]);
        assert_non_null(tz);
        assert_non_null(g);
#define GOFF(t) g_time_zone_get_offset(g, g_time_zone_find_interval(g, G_TIME_TYPE_UNIVERSAL, (t)))
#define GIDX(t) g_time_zone_find_interval(g, G_TIME_TYPE_UNIVERSAL, (t))
        int changes = 0;
        for (int64_t t = first; t < last;) {
            int64_t next = ombud_tz_next_change(tz, t, last);
            assert_true(next > t);
            assert_int_equal(ombud_tz_offset(tz, t), GOFF(t));
            assert_int_equal(ombud_tz_offset(tz, next - 1), GOFF(next - 1));
            assert_int_equal(GIDX(t), GIDX(next - 1)); /* none missed */
            if (next < last) {
                assert_int_not_equal(GIDX(next - 1), GIDX(next));
                assert_int_equal(ombud_tz_offset(tz, next), GOFF(next));
                changes++;
            }
            t = next;
        }
        for (int i = 0; i < 2000; i++) {
            int64_t t = first + (int64_t)(next() % (uint64_t)(last - first));
            assert_int_equal(ombud_tz_offset(tz, t), GOFF(t));
        }
#undef GOFF
#undef GIDX
        print_message("%s: %d changes from year 1 to 9999\n", zones[z], changes);
        g_time_zone_unref(g);
    }
}

/* Mon-Fri 09:00-17:00 weekdays between two local dates, counted a day at
 * a time: the calendar's hours never meet a daylight-saving change. */
static int64_t office_seconds(int64_t day0, int64_t day1)
{
    int64_t n = 0;
    for (int64_t d = day0; d <= day1; d++)
        n += ((d + 3) % 7 + 7) % 7 < 5;
    return n * 8 * 3600;
}

/* The span from year 1 to 9999 costs a fraction of a millisecond and is
 * exact, in a zone with two thousand offset changes and in UTC, and for
 * a calendar open one minute a week. */
static void whole_calendar_range(void **state)
{
    (void)state;
    const char *office = "1 09:00 17:00;2 09:00 17:00;3 09:00 17:00;4 09:00 17:00;5 09:00 17:00";
    const int64_t from = T("0001-01-01T00:00:00Z"), to = T("9999-12-31T23:59:59Z");
    /* Local dates: Berlin is ahead of UTC, so its last local date is
     * 10000-01-01 at 00:59, before opening. */
    const int64_t want = office_seconds(D("0001-01-01"), D("9999-12-31"));
    static const char *const zones[] = {"UTC", "Europe/Berlin", "America/New_York"};
    for (size_t z = 0; z < sizeof zones / sizeof zones[0]; z++) {
        struct ombud_bt_calendar cal;
        build(&cal, &(struct spec){zones[z], office, ""});
        struct timespec a, b;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
        int64_t got = ombud_bt_between(&cal, from, to);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
        assert_int_equal(got, want);
        print_message(
            "%s, years 1 to 9999: %.3f ms of CPU\n", zones[z],
            ((double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6));
        /* add over the last 999 years ends with the last open minute. */
        int64_t due, start = T("9001-01-01T00:00:00Z"), last = ombud_bt_between(&cal, start, to);
        assert_int_equal(last, office_seconds(D("9001-01-01"), D("9999-12-31")));
        assert_true(ombud_bt_add(&cal, start, last, &due));
        assert_int_equal(ombud_bt_between(&cal, start, due), last);
        assert_int_equal(ombud_bt_between(&cal, due, to), 0);
        assert_true(due > T("9999-12-31T00:00:00Z"));
        ombud_bt_calendar_clear(&cal);
    }
    /* One minute a week, with a holiday on a Sunday in 2026. */
    struct ombud_bt_calendar sparse;
    build(&sparse, &(struct spec){"Europe/Berlin", "7 10:00 10:01", "2026-11-29"});
    int64_t weeks = (D("9999-12-31") - D("0001-01-07")) / 7 + 1; /* Sundays, 0001-01-07 the first */
    assert_int_equal(ombud_bt_between(&sparse, from, to), (weeks - 1) * 60);
    int64_t due;
    assert_true(ombud_bt_add(&sparse, T("2026-11-22T09:00:00Z"), 2 * 60, &due));
    assert_int_equal(due, T("2026-12-06T09:01:00Z"));
    ombud_bt_calendar_clear(&sparse);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hand_cases),
        cmocka_unit_test(bad_calendars),
        cmocka_unit_test(random_against_reference),
        cmocka_unit_test(long_spans_are_fast),
        cmocka_unit_test(zone_table_matches_glib),
        cmocka_unit_test(whole_calendar_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
