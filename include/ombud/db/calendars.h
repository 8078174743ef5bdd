/* Business-hours calendars (src/db/calendars.c). Records in
 * ombud/calendar.h; a calendar owns its holiday list, so every record
 * read here is released with ombud_calendar_clear. */
#ifndef OMBUD_DB_CALENDARS_H
#define OMBUD_DB_CALENDARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/calendar.h"
#include "ombud/db/pool.h"
#include "ombud/err.h"

/* Inserts (cal->id 0) or updates a calendar and reads it back into cal
 * (whose old holidays are freed first); *found false when the id is
 * unknown. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_calendar_save(struct ombud_db_conn *c,
                                                     struct ombud_calendar *cal, bool *found,
                                                     struct ombud_err *err);
/* Reads calendar id into out, which must hold no holidays (cleared or
 * new); *found false when absent. The caller clears out. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_calendar_get(struct ombud_db_conn *c, int64_t id,
                                                    struct ombud_calendar *out, bool *found,
                                                    struct ombud_err *err);
/* Calendars with id > after_id in id order, at most limit + 1. *out is a
 * new array; the caller frees it with ombud_calendars_free(*out, *n). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_calendar_list(struct ombud_db_conn *c, int64_t after_id,
                                                     int limit, struct ombud_calendar **out,
                                                     size_t *n, struct ombud_err *err);
/* Deletes an unused calendar: *found false when unknown, *in_use when a
 * policy or clock refers to it (then nothing is deleted). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_calendar_delete(struct ombud_db_conn *c, int64_t id,
                                                       bool *found, bool *in_use,
                                                       struct ombud_err *err);
/* Clears each of list's n calendars and frees list (NULL is fine). */
void ombud_calendars_free(struct ombud_calendar *list, size_t n);

#endif
