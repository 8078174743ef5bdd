/*
 * Business-time arithmetic on random calendars (time zone, opening
 * hours, holidays) checked against a reference that steps a minute at a
 * time: a UTC minute is open when the calendar's local wall clock at its
 * start reads an open time on a non-holiday local date (API.md "What a
 * business minute is"). The zones chosen have whole-minute offsets after
 * 1990, so the answer is the same for every second of a minute and
 * stepping by minutes is exact. Spans stay under REF_SPAN so the stepping
 * stays cheap. The reference reads offsets from GLib itself, not from the
 * zone table that ombud_tz keeps.
 *
 * One input in sixteen is a long span instead: up to LONG_SPAN, starting
 * anywhere from 1990 to 3100 (GLib's daylight-saving rules end in 2999),
 * with opening hours and holidays on quarter hours and holidays spread
 * over the span. Every offset and change of these zones falls on a
 * quarter hour too, so the reference steps a quarter hour at a time.
 * Beyond the reference, a span of up to 1,000 years is checked for
 * additivity and against add.
 *
 * Checked: ombud_bt_calendar_init accepts exactly the hours that do not
 * overlap and fit; ombud_bt_between equals the reference and is
 * additive; ombud_bt_add's due is the earliest instant at which the
 * seconds have elapsed (against the reference within the span, by
 * ombud_bt_between beyond it).
 */
#include <glib.h>
#include <string.h>

#include "fuzz.h"
#include "ombud/business_time.h"

#define DAY 86400
#define REF_SPAN (10 * (int64_t)DAY)
#define BASE 631152000 /* 1990-01-01T00:00:00Z */
#define YEARS50 (50 * 365 * (int64_t)DAY)
#define YEARS1110 (1110 * 365 * (int64_t)DAY)
#define LONG_SPAN (100 * (int64_t)DAY)
#define QUARTER 900
#define MAX_HOURS 12
#define MAX_HOLIDAYS 6

/* Offsets in whole minutes since 1990; daylight saving of 30 minutes
 * (Lord_Howe), at local midnight (Santiago, Havana), negative (Dublin),
 * a skipped date (Apia, 2011-12-30), odd offsets (Kathmandu, Chatham). */
static const char *const zones[] = {
    "UTC",
    "Europe/Oslo",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "America/Santiago",
    "Pacific/Chatham",
    "America/St_Johns",
    "Asia/Tehran",
    "Pacific/Apia",
    "Africa/Casablanca",
    "Europe/Dublin",
    "America/Havana",
    "Pacific/Kiritimati",
};

struct input {
    const uint8_t *p;
    size_t n;
};

static uint32_t take(struct input *in, int bytes)
{
    uint32_t v = 0;
    for (int i = 0; i < bytes; i++) {
        v <<= 8;
        if (in->n) {
            v |= *in->p++;
            in->n--;
        }
    }
    return v;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The calendar as the input gave it, for the reference. */
struct spec {
    size_t nhours;
    int weekday[MAX_HOURS];
    struct ombud_bt_interval hours[MAX_HOURS];
    size_t nholidays;
    int64_t holidays[MAX_HOLIDAYS];
};

/* Whether init must accept the hours: each open < close <= 1440, at most
 * OMBUD_BT_MAX_INTERVALS a weekday, none overlapping another that day. */
static bool ref_valid(const struct spec *s)
{
    size_t per_day[8] = {0};
    for (size_t i = 0; i < s->nhours; i++) {
        if (s->weekday[i] < 1 || s->weekday[i] > 7 || s->hours[i].open >= s->hours[i].close ||
            s->hours[i].close > 1440)
            return false;
        if (++per_day[s->weekday[i]] > OMBUD_BT_MAX_INTERVALS)
            return false;
        for (size_t j = 0; j < i; j++)
            if (s->weekday[j] == s->weekday[i] && s->hours[j].open < s->hours[i].close &&
                s->hours[i].open < s->hours[j].close)
                return false;
    }
    return true;
}

/* GLib's zone, opened by the reference itself (never freed: few zones). */
static GTimeZone *glib_zone(const char *zone)
{
    static GTimeZone *open[sizeof zones / sizeof zones[0]];
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
        if (strcmp(zones[i], zone) == 0) {
            if (!open[i])
                open[i] = g_time_zone_new_identifier(zone);
            CHECK(open[i]);
            return open[i];
        }
    CHECK(!"unknown zone");
    return NULL;
}

/* Whether the step-long stretch from `minute` is open (it must be all
 * open or all closed: offsets and hours are multiples of step). */
static bool ref_open(const struct spec *s, GTimeZone *tz, int64_t minute, int64_t step)
{
    int32_t off =
        g_time_zone_get_offset(tz, g_time_zone_find_interval(tz, G_TIME_TYPE_UNIVERSAL, minute));
    CHECK(off % step == 0);
    int64_t local = minute + off;
    int64_t day = floor_div(local, DAY);
    for (size_t i = 0; i < s->nholidays; i++)
        if (s->holidays[i] == day)
            return false;
    if (s->nhours == 0)
        return true;
    int wd = (int)(((day + 3) % 7 + 7) % 7) + 1; /* 1 = Monday; 1970-01-01 was a Thursday */
    int64_t m = (local - day * DAY) / 60;
    for (size_t i = 0; i < s->nhours; i++)
        if (s->weekday[i] == wd && m >= s->hours[i].open && m < s->hours[i].close)
            return true;
    return false;
}

/* Open seconds in [from, to), a step (60 or QUARTER seconds) at a time. */
static int64_t ref_between(const struct spec *s, GTimeZone *tz, int64_t from, int64_t to,
                           int64_t step)
{
    int64_t sum = 0;
    for (int64_t m = floor_div(from, step) * step; m < to; m += step) {
        int64_t a = m > from ? m : from, b = m + step < to ? m + step : to;
        if (a < b && ref_open(s, tz, m, step))
            sum += b - a;
    }
    return sum;
}

/* The earliest instant by which `seconds` (> 0) open seconds have passed
 * since from, if before from + window; -1 otherwise. */
static int64_t ref_add(const struct spec *s, GTimeZone *tz, int64_t from, int64_t seconds,
                       int64_t window, int64_t step)
{
    int64_t sum = 0;
    for (int64_t m = floor_div(from, step) * step; m < from + window; m += step) {
        int64_t a = m > from ? m : from, b = m + step;
        if (!ref_open(s, tz, m, step))
            continue;
        if (sum + (b - a) >= seconds)
            return a + (seconds - sum);
        sum += b - a;
    }
    return -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    struct spec s = {0};
    struct ombud_bt_calendar cal;
    struct ombud_err err;

    const char *zone = zones[take(&in, 1) % (sizeof zones / sizeof zones[0])];
    const struct ombud_tz *tz = ombud_tz_get(zone);
    CHECK(tz);
    GTimeZone *gtz = glib_zone(zone);

    /* The instants: anywhere from 1990 to 2040 (long spans: to 3100), or
     * a little before the zone's next offset change, so that spans cross
     * one often. */
    uint32_t mode = take(&in, 1);
    bool long_span = (mode & 0xf0) == 0xf0;
    int64_t step = long_span ? QUARTER : 60;
    int64_t from =
        BASE +
        (int64_t)(take(&in, 4) % (uint32_t)((long_span ? YEARS1110 : YEARS50) / step)) * step;
    if (mode & 1) {
        int64_t change = ombud_tz_next_change(tz, from, from + 400 * (int64_t)DAY);
        from = change - (int64_t)(take(&in, 2) % (3 * 24 * 60)) * 60;
        from = floor_div(from, step) * step;
    }
    if (mode & 2)
        from += take(&in, 1) % 60; /* not on a minute */
    int64_t span = (int64_t)(take(&in, 4) % (uint32_t)(long_span ? LONG_SPAN : REF_SPAN));
    int64_t to = from + span;
    int64_t first_day = floor_div(from, DAY);

    if (mode & 4) {
        /* Any hours, valid or not: init must tell them apart. */
        s.nhours = take(&in, 1) % (MAX_HOURS + 1);
        for (size_t i = 0; i < s.nhours; i++) {
            s.weekday[i] = (int)(take(&in, 1) % 9); /* 0 and 8: invalid */
            uint32_t open = take(&in, 2) % 1441, len = take(&in, 2) % 1441;
            s.hours[i].open = (uint16_t)open;
            s.hours[i].close = (uint16_t)(open + len > 1441 ? 1441 : open + len);
        }
    } else {
        /* Valid hours: per weekday up to three intervals in order, given
         * last first when mode says so (init sorts them). */
        for (int wd = 1; wd <= 7; wd++) {
            uint32_t k = take(&in, 1), cursor = 0;
            for (uint32_t j = 0; j < k % 4 && s.nhours < MAX_HOURS; j++) {
                uint32_t open = cursor + take(&in, 2) % 720;
                uint32_t close = open + 1 + take(&in, 2) % 720;
                if (close > 1440)
                    break;
                s.weekday[s.nhours] = wd;
                s.hours[s.nhours].open = (uint16_t)open;
                s.hours[s.nhours].close = (uint16_t)close;
                s.nhours++;
                cursor = close;
            }
        }
        if (mode & 8)
            for (size_t i = 0; i < s.nhours / 2; i++) {
                struct ombud_bt_interval h = s.hours[i];
                int w = s.weekday[i];
                s.hours[i] = s.hours[s.nhours - 1 - i];
                s.weekday[i] = s.weekday[s.nhours - 1 - i];
                s.hours[s.nhours - 1 - i] = h;
                s.weekday[s.nhours - 1 - i] = w;
            }
    }
    if (long_span) /* on quarter hours (an interval may become empty: invalid) */
        for (size_t i = 0; i < s.nhours; i++) {
            s.hours[i].open = (uint16_t)(s.hours[i].open / 15 * 15);
            s.hours[i].close = (uint16_t)(s.hours[i].close / 15 * 15);
        }
    s.nholidays = take(&in, 1) % (MAX_HOLIDAYS + 1);
    for (size_t i = 0; i < s.nholidays; i++)
        s.holidays[i] =
            first_day - 1 +
            (int64_t)(long_span ? take(&in, 2) % (uint32_t)(span / DAY + 3) : take(&in, 1) % 14);

    ombud_err_clear(&err);
    enum ombud_rc rc = ombud_bt_calendar_init(&cal, zone, s.weekday, s.hours, s.nhours, s.holidays,
                                              s.nholidays, &err);
    CHECK((rc == OMBUD_OK) == ref_valid(&s));
    if (rc != OMBUD_OK) {
        CHECK(err.nfields > 0);
        ombud_bt_calendar_clear(&cal);
        return 0;
    }

    /* between: the reference, and additivity at a point inside. */
    int64_t got = ombud_bt_between(&cal, from, to);
    CHECK(got == ref_between(&s, gtz, from, to, step));
    int64_t mid = from + (span ? (int64_t)(take(&in, 4) % (uint32_t)span) : 0);
    CHECK(ombud_bt_between(&cal, from, mid) + ombud_bt_between(&cal, mid, to) == got);
    CHECK(ombud_bt_between(&cal, to, from) == (span ? 0 : got));

    /* add: a number of seconds about what the span holds. */
    int64_t seconds = (int64_t)(take(&in, 4) % (uint32_t)(got + 120));
    int64_t due;
    bool ok = ombud_bt_add(&cal, from, seconds, &due);
    if (seconds == 0) {
        CHECK(ok && due == from);
    } else {
        int64_t ref = ref_add(&s, gtz, from, seconds, long_span ? span + DAY : REF_SPAN, step);
        if (ref >= 0)
            CHECK(ok && due == ref);
        if (ok) {
            CHECK(due > from);
            CHECK(ombud_bt_between(&cal, from, due) == seconds);
            CHECK(ombud_bt_between(&cal, from, due - 1) == seconds - 1);
        } else {
            /* Only a calendar that never opens again may refuse. */
            CHECK(ref < 0);
        }
    }

    /* Far beyond the reference: up to 1,000 years, additive at a point
     * inside, and add counts exactly that many seconds back to the end. */
    if (long_span) {
        int64_t far = to + (int64_t)(take(&in, 4) % 1000u) * 365 * DAY + take(&in, 3);
        int64_t all = ombud_bt_between(&cal, from, far);
        CHECK(all == got + ombud_bt_between(&cal, to, far));
        if (all > 0) {
            CHECK(ombud_bt_add(&cal, from, all, &due));
            CHECK(due <= far && ombud_bt_between(&cal, from, due) == all);
            CHECK(ombud_bt_between(&cal, from, due - 1) == all - 1);
        }
    }
    ombud_bt_calendar_clear(&cal);
    return 0;
}
