/*
 * Time zone rules from the system's tzdata through GLib's GTimeZone
 * (never setenv("TZ"), never ICU: Debian 12's ICU carries 2022 rules).
 * Each zone is opened once and cached for the life of the process.
 */
#ifndef OMBUD_TZ_H
#define OMBUD_TZ_H

#include <stdbool.h>
#include <stdint.h>

struct ombud_tz;

/* Whether name is an IANA zone or link the system knows (checked against
 * tzdata.zi, because GLib would open any file by that name). */
bool ombud_tz_known(const char *name);
/* The cached zone for a known name; NULL when unknown. Never freed. The
 * first call for a zone reads its transitions into a table (a few tens of
 * milliseconds for a zone with daylight saving); lookups then bisect it. */
const struct ombud_tz *ombud_tz_get(const char *name);
/* UTC offset in seconds east at instant t (seconds since the epoch). */
int32_t ombud_tz_offset(const struct ombud_tz *tz, int64_t t);
/* Interval index at t: grows with time; equal at both ends of a span
 * means no offset change inside it. */
int ombud_tz_interval(const struct ombud_tz *tz, int64_t t);
/* The first instant after t at which the offset may change, or limit
 * when there is none before it. */
int64_t ombud_tz_next_change(const struct ombud_tz *tz, int64_t t, int64_t limit);

#endif
