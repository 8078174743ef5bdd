/* Calendar records; see include/ombud/calendar.h. */
#include "ombud/calendar.h"

#include <stdlib.h>
#include <string.h>

void ombud_calendar_clear(struct ombud_calendar *c)
{
    free(c->holidays);
    memset(c, 0, sizeof *c);
}

enum ombud_rc ombud_calendar_compile(const struct ombud_calendar *c, struct ombud_bt_calendar *out,
                                     struct ombud_err *err)
{
    return ombud_bt_calendar_init(out, c->timezone, c->weekday, c->hours, c->nhours, c->holidays,
                                  c->nholidays, err);
}
