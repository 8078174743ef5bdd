/*
 * RFC 3339 in and out without the C library's time zone machinery: the
 * civil-date conversions are Howard Hinnant's days_from_civil algorithms,
 * exact for the proleptic Gregorian calendar, so no TZ and no locale.
 */
#include "ombud/timefmt.h"
#include "ombud/test_clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t ombud_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void ombud_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

void ombud_time_format(int64_t usec, char *out)
{
    int64_t secs = floor_div(usec, 1000000);
    int64_t days = floor_div(secs, 86400);
    int64_t rem = secs - days * 86400;
    int64_t y;
    unsigned m, d;

    ombud_civil_from_days(days, &y, &m, &d);
    snprintf(out, OMBUD_TIME_BUFLEN, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d,
             (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in seconds. */
#define MIN_SECS (-INT64_C(62135596800))
#define MAX_SECS INT64_C(253402300799)

bool ombud_time_parse(const char *s, int64_t *usec)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, se, frac = 0, fracdigits = 0, off = 0;
    const char *p;

    if (!s || strlen(s) < 20)
        return false;
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
        return false;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59)
        return false;
    if (d > mdays[mo - 1] + (mo == 2 && leap(y)))
        return false;
    p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9') {
            if (fracdigits < 6) {
                frac = frac * 10 + (*p - '0');
                fracdigits++;
            }
            p++;
        }
        while (fracdigits < 6) {
            frac *= 10;
            fracdigits++;
        }
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om) || oh > 23 || om > 59)
            return false;
        off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return false;
    }
    if (*p != '\0')
        return false;
    int64_t secs =
        ombud_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se - off;
    /* Only instants that ombud_time_format writes as this parser reads
     * them (years 0001 to 9999 in UTC): an offset must not carry the
     * instant past either end ("0001-01-01T00:00:00+01:00"). */
    if (secs < MIN_SECS || secs > MAX_SECS)
        return false;
    *usec = secs * 1000000 + frac;
    return true;
}

int64_t ombud_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* 0 except in test builds, where a test may move the clock forward. */
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + ombud_test_clock_offset_us();
}

int64_t ombud_time_now_s(void)
{
    return ombud_time_now() / 1000000;
}
