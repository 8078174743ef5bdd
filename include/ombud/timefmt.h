/*
 * Instants: microseconds since the Unix epoch (int64, UTC). RFC 3339
 * output is to the second in UTC ("2026-11-22T08:00:00Z"); input accepts
 * any RFC 3339 offset and fractions. Pure C, no locale, no TZ variable.
 */
#ifndef OMBUD_TIMEFMT_H
#define OMBUD_TIMEFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OMBUD_TIME_BUFLEN 64

/* Formats usec as RFC 3339 UTC seconds into out (>= OMBUD_TIME_BUFLEN). */
void ombud_time_format(int64_t usec, char *out);
/* Parses RFC 3339; false on anything malformed or out of range. */
bool ombud_time_parse(const char *s, int64_t *usec);
/* Wall-clock now in microseconds. */
int64_t ombud_time_now(void);
/* The same now in whole seconds: the unit of the SLA clocks. */
int64_t ombud_time_now_s(void);
/* Days since 1970-01-01 for a proleptic Gregorian date, and back. */
int64_t ombud_days_from_civil(int64_t y, unsigned m, unsigned d);
void ombud_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
