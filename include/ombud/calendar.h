/* A calendar as stored (API.md "SLA": calendars). Pure C. */
#ifndef OMBUD_CALENDAR_H
#define OMBUD_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

#include "ombud/business_time.h"

#define OMBUD_CAL_MAX_HOURS 56
#define OMBUD_CAL_MAX_HOLIDAYS 1000

struct ombud_calendar {
    int64_t id;
    char name[404];
    char timezone[64];
    size_t nhours;
    int weekday[OMBUD_CAL_MAX_HOURS];
    struct ombud_bt_interval hours[OMBUD_CAL_MAX_HOURS];
    size_t nholidays;
    int64_t *holidays; /* day numbers, sorted; owned */
    int64_t created_at, updated_at;
};

void ombud_calendar_clear(struct ombud_calendar *c);
/* Compiles c for arithmetic; field errors in err. */
OMBUD_MUSTCHECK enum ombud_rc ombud_calendar_compile(const struct ombud_calendar *c,
                                                     struct ombud_bt_calendar *out,
                                                     struct ombud_err *err);

#endif
