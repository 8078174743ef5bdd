/*
 * Business time (API.md "What a business minute is"): a real second
 * counts when the calendar's local wall clock reads an open time on a
 * non-holiday local date. Instants are seconds since the epoch (UTC).
 * Pure computation over a compiled calendar; cost grows with the number
 * of time zone changes and holidays crossed, not with the span (zones
 * change offset at most some 2,000 times, up to the year 2999; a span
 * from year 1 to 9999 takes well under a millisecond).
 */
#ifndef OMBUD_BUSINESS_TIME_H
#define OMBUD_BUSINESS_TIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/err.h"
#include "ombud/tz.h"

#define OMBUD_BT_MAX_INTERVALS 8 /* per weekday */
/* 9999-12-31T23:59:59Z: the last instant RFC 3339 can write; no due time
 * falls after it. */
#define OMBUD_BT_LAST INT64_C(253402300799)

struct ombud_bt_interval {
    uint16_t open, close; /* minutes after local midnight, open < close <= 1440 */
};

struct ombud_bt_calendar {
    const struct ombud_tz *tz;
    /* weekday 0 = Monday … 6 = Sunday, intervals sorted, not overlapping */
    struct ombud_bt_interval hours[7][OMBUD_BT_MAX_INTERVALS];
    size_t nhours[7];
    int64_t *holidays; /* sorted local dates as days since 1970-01-01; owned */
    size_t nholidays;
    int64_t week_seconds; /* open seconds in a week without holidays */
};

/* Compiles a calendar. hours: n entries of {weekday 1..7, open, close};
 * none means 24x7. holidays: local dates as day numbers (any order,
 * duplicates allowed). Validation errors are field errors in err
 * ("hours[2].close"); returns OMBUD_ERROR then. Free with _clear. */
OMBUD_MUSTCHECK enum ombud_rc ombud_bt_calendar_init(struct ombud_bt_calendar *cal,
                                                     const char *timezone, const int *weekday,
                                                     const struct ombud_bt_interval *hours,
                                                     size_t nhours, const int64_t *holidays,
                                                     size_t nholidays, struct ombud_err *err);
void ombud_bt_calendar_clear(struct ombud_bt_calendar *cal);

/* The earliest instant at which `seconds` business seconds have elapsed
 * since `from` (counting starts at the next opening when from is closed).
 * False when that instant would fall after OMBUD_BT_LAST, or the calendar
 * never opens (week_seconds 0). */
bool ombud_bt_add(const struct ombud_bt_calendar *cal, int64_t from, int64_t seconds, int64_t *due);

/* Business seconds in [from, to) (0 when to <= from). */
int64_t ombud_bt_between(const struct ombud_bt_calendar *cal, int64_t from, int64_t to);

/* Parses "HH:MM" (00:00..24:00) into minutes; false when malformed. */
bool ombud_bt_parse_hhmm(const char *s, uint16_t *minutes);
/* Parses "YYYY-MM-DD" into a day number; false when not a real date. */
bool ombud_bt_parse_date(const char *s, int64_t *day);

#endif
