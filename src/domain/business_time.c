/*
 * Business-time arithmetic. DESIGN: time is cut into pieces in which the
 * zone's UTC offset is constant (found with ombud_tz_next_change). In a
 * piece, local time is t + offset, so each local day's open intervals map
 * to UTC intervals, clipped to the piece. Clipping is what makes daylight
 * saving right without special cases: on the day clocks go back, the
 * repeated local hour lies in both pieces and counts twice; on the day
 * they go forward, the skipped hour maps before the piece's start in the
 * later piece and after its end in the earlier one, and counts not at all.
 *
 * Whole weeks inside one piece and free of holidays are skipped in one
 * step (week_seconds each), so the cost grows with offset changes and
 * holidays crossed, not with the number of minutes.
 */
#include "ombud/business_time.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ombud/timefmt.h"

#define DAY 86400
#define WEEK (7 * DAY)

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* 0 = Monday for a day number (1970-01-01 was a Thursday). */
static int weekday_of(int64_t day)
{
    int64_t w = (day + 3) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_interval(const void *a, const void *b)
{
    const struct ombud_bt_interval *x = a, *y = b;
    return (int)x->open - (int)y->open;
}

bool ombud_bt_parse_hhmm(const char *s, uint16_t *minutes)
{
    if (!s || strlen(s) != 5 || s[2] != ':')
        return false;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return false;
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && m != 0))
        return false;
    *minutes = (uint16_t)(h * 60 + m);
    return true;
}

bool ombud_bt_parse_date(const char *s, int64_t *day)
{
    char buf[32];
    int64_t t;
    if (!s || strlen(s) != 10)
        return false;
    snprintf(buf, sizeof buf, "%sT00:00:00Z", s);
    if (!ombud_time_parse(buf, &t))
        return false;
    *day = floor_div(t / 1000000, DAY);
    return true;
}

enum ombud_rc ombud_bt_calendar_init(struct ombud_bt_calendar *cal, const char *timezone,
                                     const int *weekday, const struct ombud_bt_interval *hours,
                                     size_t nhours, const int64_t *holidays, size_t nholidays,
                                     struct ombud_err *err)
{
    memset(cal, 0, sizeof *cal);
    cal->tz = ombud_tz_get(timezone);
    if (!cal->tz)
        ombud_err_field(err, "timezone", "is not an IANA time zone this system knows");
    for (size_t i = 0; i < nhours; i++) {
        char field[48];
        snprintf(field, sizeof field, "hours[%zu]", i);
        if (weekday[i] < 1 || weekday[i] > 7) {
            ombud_err_field(err, field, "weekday must be 1 (Monday) to 7 (Sunday)");
            continue;
        }
        if (hours[i].open >= hours[i].close || hours[i].close > 1440) {
            ombud_err_field(err, field, "open must be before close");
            continue;
        }
        int d = weekday[i] - 1;
        if (cal->nhours[d] >= OMBUD_BT_MAX_INTERVALS) {
            ombud_err_field(err, field, "at most %d intervals per weekday", OMBUD_BT_MAX_INTERVALS);
            continue;
        }
        cal->hours[d][cal->nhours[d]++] = hours[i];
    }
    for (int d = 0; d < 7; d++) {
        qsort(cal->hours[d], cal->nhours[d], sizeof cal->hours[d][0], cmp_interval);
        for (size_t k = 1; k < cal->nhours[d]; k++)
            if (cal->hours[d][k].open < cal->hours[d][k - 1].close) {
                char field[48];
                snprintf(field, sizeof field, "hours");
                ombud_err_field(err, field, "intervals on weekday %d overlap", d + 1);
                break;
            }
    }
    if (nhours == 0) /* no hours: open around the clock */
        for (int d = 0; d < 7; d++) {
            cal->hours[d][0] = (struct ombud_bt_interval){0, 1440};
            cal->nhours[d] = 1;
        }
    if (err->nfields)
        return ombud_err_finish_validation(err);
    if (nholidays) {
        cal->holidays = malloc(nholidays * sizeof *cal->holidays);
        if (!cal->holidays)
            return ombud_err_internal(err, "out of memory");
        memcpy(cal->holidays, holidays, nholidays * sizeof *holidays);
        qsort(cal->holidays, nholidays, sizeof *cal->holidays, cmp_i64);
        size_t k = 0;
        for (size_t i = 0; i < nholidays; i++)
            if (k == 0 || cal->holidays[k - 1] != cal->holidays[i])
                cal->holidays[k++] = cal->holidays[i];
        cal->nholidays = k;
    }
    for (int d = 0; d < 7; d++)
        for (size_t k = 0; k < cal->nhours[d]; k++)
            cal->week_seconds += (int64_t)(cal->hours[d][k].close - cal->hours[d][k].open) * 60;
    return OMBUD_OK;
}

void ombud_bt_calendar_clear(struct ombud_bt_calendar *cal)
{
    free(cal->holidays);
    memset(cal, 0, sizeof *cal);
}

/* Index of the first holiday >= day. */
static size_t holiday_at_or_after(const struct ombud_bt_calendar *cal, int64_t day)
{
    size_t lo = 0, hi = cal->nholidays;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cal->holidays[mid] < day)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool is_holiday(const struct ombud_bt_calendar *cal, int64_t day)
{
    size_t i = holiday_at_or_after(cal, day);
    return i < cal->nholidays && cal->holidays[i] == day;
}

/*
 * The walk shared by add and between. Counts open seconds from *t up to
 * `stop`; if `want` > 0, stops as soon as `want` seconds are reached and
 * sets *t to that instant (returns true). Otherwise returns false with
 * *counted holding the total and *t == stop.
 */
static bool walk(const struct ombud_bt_calendar *cal, int64_t *t_io, int64_t stop, int64_t want,
                 int64_t *counted)
{
    int64_t t = *t_io, sum = 0;

    while (t < stop) {
        int32_t off = ombud_tz_offset(cal->tz, t);
        int64_t pend = ombud_tz_next_change(cal->tz, t, stop);
        while (t < pend) {
            int64_t day = floor_div(t + off, DAY);
            int64_t day_start = day * DAY - off; /* UTC instant of local midnight */

            /* Whole holiday-free weeks inside the piece, from local midnight. */
            if (t == day_start && cal->week_seconds > 0) {
                int64_t weeks = (pend - t) / WEEK;
                size_t h = holiday_at_or_after(cal, day);
                if (h < cal->nholidays) {
                    int64_t free_weeks = (cal->holidays[h] - day) / 7;
                    if (free_weeks < weeks)
                        weeks = free_weeks;
                }
                if (want > 0) {
                    /* Leave the week in which the target falls to the day walk. */
                    int64_t max_weeks = (want - sum - 1) / cal->week_seconds;
                    if (max_weeks < weeks)
                        weeks = max_weeks;
                }
                if (weeks > 0) {
                    t += weeks * WEEK;
                    sum += weeks * cal->week_seconds;
                    continue;
                }
            }

            if (!is_holiday(cal, day)) {
                int wd = weekday_of(day);
                for (size_t k = 0; k < cal->nhours[wd]; k++) {
                    int64_t s = day_start + (int64_t)cal->hours[wd][k].open * 60;
                    int64_t e = day_start + (int64_t)cal->hours[wd][k].close * 60;
                    if (s < t)
                        s = t;
                    if (e > pend)
                        e = pend;
                    if (s >= e)
                        continue;
                    if (want > 0 && sum + (e - s) >= want) {
                        *t_io = s + (want - sum);
                        *counted = want;
                        return true;
                    }
                    sum += e - s;
                }
            }
            t = day_start + DAY < pend ? day_start + DAY : pend;
        }
    }
    *t_io = t;
    *counted = sum;
    return false;
}

bool ombud_bt_add(const struct ombud_bt_calendar *cal, int64_t from, int64_t seconds, int64_t *due)
{
    int64_t t = from, counted;
    if (seconds <= 0) {
        *due = from;
        return true;
    }
    if (cal->week_seconds <= 0 || from > OMBUD_BT_LAST)
        return false;
    if (!walk(cal, &t, OMBUD_BT_LAST + 1, seconds, &counted) || t > OMBUD_BT_LAST)
        return false;
    *due = t;
    return true;
}

int64_t ombud_bt_between(const struct ombud_bt_calendar *cal, int64_t from, int64_t to)
{
    int64_t t = from, counted = 0;
    if (to <= from)
        return 0;
    walk(cal, &t, to, 0, &counted);
    return counted;
}
