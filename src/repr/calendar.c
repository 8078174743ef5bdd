/* Calendars as JSON: hours as {weekday, open "HH:MM", close "HH:MM"}, holidays as dates;
 * and the business-time calculator's answers. */
#include <stdio.h>

#include "ombud/calendar.h"
#include "ombud/repr.h"
#include "ombud/timefmt.h"

static json_t *hhmm(unsigned minutes)
{
    char buf[8];
    snprintf(buf, sizeof buf, "%02u:%02u", (minutes / 60) % 100, minutes % 60);
    return json_string(buf);
}

json_t *ombud_repr_calendar(const struct ombud_calendar *c)
{
    json_t *hours = json_array(), *hol = json_array();
    for (size_t i = 0; i < c->nhours; i++)
        json_array_append_new(hours,
                              json_pack("{s:i, s:o, s:o}", "weekday", c->weekday[i], "open",
                                        hhmm(c->hours[i].open), "close", hhmm(c->hours[i].close)));
    for (size_t i = 0; i < c->nholidays; i++) {
        int64_t y;
        unsigned m, d;
        char buf[16];
        ombud_civil_from_days(c->holidays[i], &y, &m, &d);
        snprintf(buf, sizeof buf, "%04d-%02u-%02u", (int)(y % 10000), m % 100, d % 100);
        json_array_append_new(hol, json_string(buf));
    }
    return json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:o}", "id", (json_int_t)c->id, "name",
                     c->name, "timezone", c->timezone, "hours", hours, "holidays", hol,
                     "created_at", ombud_repr_time(c->created_at), "updated_at",
                     ombud_repr_time(c->updated_at));
}

/* Instants of the calculator are whole seconds, shown as RFC 3339. */
static json_t *instant(int64_t sec)
{
    char buf[OMBUD_TIME_BUFLEN];
    ombud_time_format(sec * 1000000, buf);
    return json_string(buf);
}

json_t *ombud_repr_calendar_due(int64_t calendar_id, int64_t from, int64_t minutes, int64_t due_at)
{
    return json_pack("{s:I, s:o, s:I, s:o}", "calendar_id", (json_int_t)calendar_id, "from",
                     instant(from), "minutes", (json_int_t)minutes, "due_at", instant(due_at));
}

json_t *ombud_repr_calendar_minutes(int64_t calendar_id, int64_t from, int64_t to, int64_t minutes)
{
    return json_pack("{s:I, s:o, s:o, s:I}", "calendar_id", (json_int_t)calendar_id, "from",
                     instant(from), "to", instant(to), "minutes", (json_int_t)minutes);
}
