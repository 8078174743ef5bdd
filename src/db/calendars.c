/*
 * Calendars: the only SQL touching calendars. Hours are stored as jsonb
 * [[weekday, open minute, close minute], ...] and holidays as date[];
 * they cross into C as JSON text and day-number lists.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/internal.h"
#include "ombud/db/calendars.h"

/* Every alias is the name cal_cols looks for. */
#define CAL_COLS                                                                                   \
    "id, name, timezone, hours::text AS hours_json,"                                               \
    " (SELECT coalesce(string_agg((d - date '1970-01-01')::text, ',' ORDER BY d), '')"             \
    "    FROM unnest(holidays) d) AS holiday_days,"                                                \
    " ombud_usec(created_at) AS created_at_us, ombud_usec(updated_at) AS updated_at_us"

/* hours_json: [[weekday, open minute, close minute], ...]. */
static void read_hours(const char *v, void *rec)
{
    struct ombud_calendar *c = rec;
    json_t *hours = v ? json_loads(v, 0, NULL) : NULL;
    size_t i;
    json_t *h;
    c->nhours = 0;
    json_array_foreach (hours, i, h) {
        if (c->nhours >= OMBUD_CAL_MAX_HOURS)
            break;
        c->weekday[c->nhours] = (int)json_integer_value(json_array_get(h, 0));
        c->hours[c->nhours].open = (uint16_t)json_integer_value(json_array_get(h, 1));
        c->hours[c->nhours].close = (uint16_t)json_integer_value(json_array_get(h, 2));
        c->nhours++;
    }
    json_decref(hours);
}

/* holiday_days: day numbers, comma-separated, sorted. */
static void read_holidays(const char *v, void *rec)
{
    struct ombud_calendar *c = rec;
    const char *hol = v ? v : "";
    size_t n = *hol ? 1 : 0;
    for (const char *p = hol; *p; p++)
        n += *p == ',';
    c->holidays = NULL;
    c->nholidays = 0;
    if (!n)
        return;
    c->holidays = calloc(n, sizeof *c->holidays);
    if (!c->holidays)
        return; /* out of memory: no holidays rather than a crash */
    const char *p = hol;
    while (*p && c->nholidays < n) {
        char *end;
        c->holidays[c->nholidays++] = strtoll(p, &end, 10);
        p = *end == ',' ? end + 1 : end;
    }
}

static const struct ombud_db_col cal_cols[] = {
    OMBUD_COL_I64(struct ombud_calendar, id, "id"),
    OMBUD_COL_TEXT(struct ombud_calendar, name, "name"),
    OMBUD_COL_TEXT(struct ombud_calendar, timezone, "timezone"),
    OMBUD_COL_FN("hours_json", read_hours),
    OMBUD_COL_FN("holiday_days", read_holidays),
    OMBUD_COL_USEC(struct ombud_calendar, created_at, "created_at_us"),
    OMBUD_COL_USEC(struct ombud_calendar, updated_at, "updated_at_us"),
    OMBUD_COL_END};

/* Parameters: hours as jsonb text, holidays as a JSON array of day numbers. */
static char *hours_json(const struct ombud_calendar *c)
{
    json_t *a = json_array();
    for (size_t i = 0; i < c->nhours; i++)
        json_array_append_new(a, json_pack("[i, i, i]", c->weekday[i], (int)c->hours[i].open,
                                           (int)c->hours[i].close));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

static char *holidays_json(const struct ombud_calendar *c)
{
    json_t *a = json_array();
    for (size_t i = 0; i < c->nholidays; i++)
        json_array_append_new(a, json_integer(c->holidays[i]));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

#define HOLIDAYS_FROM(n)                                                                           \
    "ARRAY(SELECT DISTINCT date '1970-01-01' + d::int FROM json_array_elements_text($" #n          \
    "::json) d ORDER BY 1)"

/* clang-format off */
static struct ombud_db_stmt q_insert = OMBUD_STMT(
    "INSERT INTO calendars (name, timezone, hours, holidays)"
    " VALUES ($1::text, $2::text, $3::jsonb, " HOLIDAYS_FROM(4) ") RETURNING " CAL_COLS);
/* clang-format on */
/* clang-format off */
static struct ombud_db_stmt q_update = OMBUD_STMT(
    "UPDATE calendars SET name = $2::text, timezone = $3::text, hours = $4::jsonb,"
    " holidays = " HOLIDAYS_FROM(5) ", updated_at = now() WHERE id = $1::bigint"
    " RETURNING " CAL_COLS);
/* clang-format on */

enum ombud_rc ombud_db_calendar_save(struct ombud_db_conn *c, struct ombud_calendar *cal,
                                     bool *found, struct ombud_err *err)
{
    char id[OMBUD_DB_I64_BUFLEN];
    char *hours = hours_json(cal), *hol = holidays_json(cal);
    PGresult *r = NULL;
    enum ombud_rc rc;

    if (!hours || !hol) {
        rc = ombud_err_internal(err, "out of memory");
        goto out;
    }
    ombud_db_param_i64(id, sizeof id, cal->id);
    if (cal->id) {
        const char *p[] = {id, cal->name, cal->timezone, hours, hol};
        rc = ombud_db_exec(c, &q_update, 5, p, &r, err);
    } else {
        const char *p[] = {cal->name, cal->timezone, hours, hol};
        rc = ombud_db_exec(c, &q_insert, 4, p, &r, err);
    }
    if (rc != OMBUD_OK)
        goto out;
    if (PQntuples(r) == 1)
        ombud_calendar_clear(cal); /* the row replaces it, holidays included */
    rc = ombud_db_read_one(r, cal_cols, cal, found, err);
    r = NULL;
out:
    PQclear(r);
    free(hours);
    free(hol);
    return rc;
}

static struct ombud_db_stmt q_get =
    OMBUD_STMT("SELECT " CAL_COLS " FROM calendars WHERE id = $1::bigint");

enum ombud_rc ombud_db_calendar_get(struct ombud_db_conn *c, int64_t id, struct ombud_calendar *out,
                                    bool *found, struct ombud_err *err)
{
    return ombud_db_get_by_id(c, &q_get, id, cal_cols, out, found, err);
}

static struct ombud_db_stmt q_list = OMBUD_STMT(
    "SELECT " CAL_COLS " FROM calendars WHERE id > $1::bigint ORDER BY id LIMIT $2::int");

void ombud_calendars_free(struct ombud_calendar *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        ombud_calendar_clear(&list[i]);
    free(list);
}

enum ombud_rc ombud_db_calendar_list(struct ombud_db_conn *c, int64_t after_id, int limit,
                                     struct ombud_calendar **out, size_t *n, struct ombud_err *err)
{
    return ombud_db_list_page(c, &q_list, after_id, limit, 0, NULL, cal_cols, sizeof **out,
                              (void **)out, n, err);
}

/* clang-format off */
static struct ombud_db_stmt q_in_use = OMBUD_STMT(
    "SELECT EXISTS (SELECT 1 FROM sla_policies WHERE calendar_id = $1::bigint)"
    " OR EXISTS (SELECT 1 FROM sla_clocks WHERE calendar_id = $1::bigint)"
    " FROM calendars WHERE id = $1::bigint FOR UPDATE");
/* clang-format on */
static struct ombud_db_stmt q_delete = OMBUD_STMT("DELETE FROM calendars WHERE id = $1::bigint");

enum ombud_rc ombud_db_calendar_delete(struct ombud_db_conn *c, int64_t id, bool *found,
                                       bool *in_use, struct ombud_err *err)
{
    return ombud_db_delete_unused(c, &q_in_use, &q_delete, id, found, in_use, err);
}
