/*
 * /v1/calendars: business hours in a time zone (admin writes, any key
 * reads), and the calculator over the very module the SLA clocks use:
 * …/due?from=&minutes= and …/business-minutes?from=&to=.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ombud/calendar.h"
#include "ombud/db.h"
#include "http/handlers.h"
#include "ombud/json_spec.h"
#include "ombud/repr.h"
#include "ombud/timefmt.h"


/* What the table's constraints mean to a client (migrations/0004). */
static const struct ombud_constraint_msg calendar_constraints[] = {
    {"calendars_name_key", "name", "a calendar with this name exists"},
    {NULL, NULL, NULL},
};

struct cal_ctx {
    int64_t id; /* 0: create */
    struct ombud_calendar in;
    bool has_name, has_tz, has_hours, has_holidays;
    struct ombud_calendar out;
    struct ombud_calendar *list;
    size_t n;
    int64_t after;
    int limit;
    bool found, in_use;
};

/* Parses hours and holidays from the body into x->in; field errors. */
static void parse_body(const json_t *hours, const json_t *holidays, struct cal_ctx *x,
                       struct ombud_err *err)
{
    size_t i;
    json_t *h;
    if (hours) {
        if (json_array_size(hours) > OMBUD_CAL_MAX_HOURS)
            ombud_err_field(err, "hours", "must have at most %d intervals", OMBUD_CAL_MAX_HOURS);
        json_array_foreach(hours, i, h) {
            char prefix[40];
            const char *open = NULL, *close = NULL;
            int64_t wd = 0;
            snprintf(prefix, sizeof prefix, "hours[%zu].", i);
            if (!json_is_object(h)) {
                snprintf(prefix, sizeof prefix, "hours[%zu]", i);
                ombud_err_field(err, prefix, "must be an object {weekday, open, close}");
                continue;
            }
            const struct ombud_spec spec[] = {
                {.name = "weekday", .type = OMBUD_SPEC_INT, .required = true, .min = 1, .max = 7,
                 .i = &wd},
                {.name = "open", .type = OMBUD_SPEC_STRING, .required = true, .min = 5, .max = 5,
                 .s = &open},
                {.name = "close", .type = OMBUD_SPEC_STRING, .required = true, .min = 5,
                 .max = 5, .s = &close},
            };
            size_t before = err->nfields;
            ombud_spec_parse(h, spec, 3, prefix, err);
            uint16_t o = 0, c = 0;
            char field[48];
            if (open && !ombud_bt_parse_hhmm(open, &o)) {
                snprintf(field, sizeof field, "%sopen", prefix);
                ombud_err_field(err, field, "must be HH:MM from 00:00 to 24:00");
            }
            if (close && !ombud_bt_parse_hhmm(close, &c)) {
                snprintf(field, sizeof field, "%sclose", prefix);
                ombud_err_field(err, field, "must be HH:MM from 00:00 to 24:00");
            }
            if (err->nfields == before && o >= c) {
                snprintf(field, sizeof field, "%sclose", prefix);
                ombud_err_field(err, field, "must be after open");
            }
            if (err->nfields == before && x->in.nhours < OMBUD_CAL_MAX_HOURS) {
                x->in.weekday[x->in.nhours] = (int)wd;
                x->in.hours[x->in.nhours].open = o;
                x->in.hours[x->in.nhours].close = c;
                x->in.nhours++;
            }
        }
    }
    if (holidays) {
        size_t n = json_array_size(holidays);
        if (n > OMBUD_CAL_MAX_HOLIDAYS) {
            ombud_err_field(err, "holidays", "must have at most %d dates",
                            OMBUD_CAL_MAX_HOLIDAYS);
            return;
        }
        x->in.holidays = calloc(n ? n : 1, sizeof *x->in.holidays);
        if (!x->in.holidays)
            return;
        json_array_foreach(holidays, i, h) {
            char field[32];
            int64_t day;
            snprintf(field, sizeof field, "holidays[%zu]", i);
            if (!json_is_string(h) || !ombud_bt_parse_date(json_string_value(h), &day))
                ombud_err_field(err, field, "must be a date YYYY-MM-DD");
            else
                x->in.holidays[x->in.nholidays++] = day;
        }
    }
}

static enum ombud_rc save_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct cal_ctx *x = arg;
    enum ombud_rc rc;
    struct ombud_bt_calendar bt;
    bool found = true;

    ombud_calendar_clear(&x->out);
    if (x->id && (rc = ombud_db_calendar_get(c, x->id, &x->out, &found, err)) != OMBUD_OK)
        return rc;
    if (!found)
        return ombud_err_not_found(err, "calendar");
    if (x->has_name)
        snprintf(x->out.name, sizeof x->out.name, "%s", x->in.name);
    if (x->has_tz)
        snprintf(x->out.timezone, sizeof x->out.timezone, "%s", x->in.timezone);
    if (x->has_hours) {
        x->out.nhours = x->in.nhours;
        memcpy(x->out.weekday, x->in.weekday, sizeof x->in.weekday);
        memcpy(x->out.hours, x->in.hours, sizeof x->in.hours);
    }
    if (x->has_holidays) {
        free(x->out.holidays);
        x->out.holidays = NULL;
        x->out.nholidays = 0;
        if (x->in.nholidays) {
            x->out.holidays = malloc(x->in.nholidays * sizeof *x->in.holidays);
            if (!x->out.holidays)
                return ombud_err_internal(err, "out of memory");
            memcpy(x->out.holidays, x->in.holidays, x->in.nholidays * sizeof *x->in.holidays);
            x->out.nholidays = x->in.nholidays;
        }
    }
    /* The arithmetic module is the judge of a valid calendar. */
    if ((rc = ombud_calendar_compile(&x->out, &bt, err)) != OMBUD_OK)
        return rc;
    ombud_bt_calendar_clear(&bt);
    if ((rc = ombud_db_calendar_save(c, &x->out, &found, err)) != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "calendar");
}

static void write_calendar(struct ombud_req *req, int64_t id)
{
    struct cal_ctx x = {.id = id};
    struct ombud_err err;
    const char *name = NULL, *tz = NULL;
    json_t *hours = NULL, *holidays = NULL;
    const struct ombud_spec spec[] = {
        {.name = "name", .type = OMBUD_SPEC_STRING, .required = id == 0, .min = 1, .max = 100,
         .s = &name, .present = &x.has_name},
        {.name = "timezone", .type = OMBUD_SPEC_STRING, .required = id == 0, .min = 1,
         .max = 63, .s = &tz, .present = &x.has_tz},
        {.name = "hours", .type = OMBUD_SPEC_ARRAY, .j = &hours, .present = &x.has_hours},
        {.name = "holidays", .type = OMBUD_SPEC_ARRAY, .j = &holidays,
         .present = &x.has_holidays},
    };
    ombud_err_clear(&err);
    ombud_spec_parse(req->json, spec, sizeof spec / sizeof spec[0], NULL, &err);
    if (name)
        snprintf(x.in.name, sizeof x.in.name, "%s", name);
    if (tz) {
        snprintf(x.in.timezone, sizeof x.in.timezone, "%s", tz);
        if (!ombud_tz_known(tz))
            ombud_err_field(&err, "timezone", "is not an IANA time zone this system knows");
    }
    parse_body(hours, holidays, &x, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_tx_run(req->pool, save_tx, &x, &err) != OMBUD_OK) {
        ombud_problem_explain(&err, calendar_constraints, NULL);
        ombud_reply_problem(req, &err);
    } else {
        ombud_reply_saved_steal(req, id == 0, ombud_repr_calendar(&x.out), "/v1/calendars", x.out.id);
    }
    ombud_calendar_clear(&x.in);
    ombud_calendar_clear(&x.out);
}

void ombud_h_calendars_create(struct ombud_req *req)
{
    write_calendar(req, 0);
}

void ombud_h_calendars_patch(struct ombud_req *req)
{
    write_calendar(req, ombud_req_path_id(req, 0));
}

static enum ombud_rc get_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct cal_ctx *x = arg;
    enum ombud_rc rc;
    bool found;
    ombud_calendar_clear(&x->out);
    if ((rc = ombud_db_calendar_get(c, x->id, &x->out, &found, err)) != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "calendar");
}

void ombud_h_calendars_get(struct ombud_req *req)
{
    struct cal_ctx x = {.id = ombud_req_path_id(req, 0)};
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_db_run(req->pool, get_q, &x, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_json_steal(req, 200, ombud_repr_calendar(&x.out));
    ombud_calendar_clear(&x.out);
}

static enum ombud_rc list_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct cal_ctx *x = arg;
    ombud_calendars_free(x->list, x->n);
    x->list = NULL;
    x->n = 0;
    return ombud_db_calendar_list(c, x->after, x->limit, &x->list, &x->n, err);
}

static json_t *render_calendar(const void *row)
{
    return ombud_repr_calendar(row);
}

void ombud_h_calendars_list(struct ombud_req *req)
{
    struct cal_ctx x = {0};
    struct ombud_err err;

    ombud_err_clear(&err);
    ombud_query_id_page(req, &x.limit, &x.after, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_db_run(req->pool, list_q, &x, &err) != OMBUD_OK) {
        ombud_calendars_free(x.list, x.n);
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_list(req, x.list, x.n, sizeof *x.list, offsetof(struct ombud_calendar, id), x.limit,
                     render_calendar);
    ombud_calendars_free(x.list, x.n);
}

static enum ombud_rc delete_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct cal_ctx *x = arg;
    return ombud_db_calendar_delete(c, x->id, &x->found, &x->in_use, err);
}

void ombud_h_calendars_delete(struct ombud_req *req)
{
    struct cal_ctx x = {.id = ombud_req_path_id(req, 0)};
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_tx_run(req->pool, delete_tx, &x, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else if (!x.found)
        ombud_reply_problem(req, (ombud_err_not_found(&err, "calendar"), &err));
    else if (x.in_use)
        ombud_reply_problem(req, (ombud_err_set(&err, OMBUD_E_CONFLICT, "calendar-in-use",
                                                "an SLA policy or clock uses this calendar"),
                                  &err));
    else
        ombud_reply_empty(req, 204);
}

/* ---- calculator ---- */

/* A required RFC 3339 query time in whole seconds, fractions dropped. */
static bool time_param(struct ombud_req *req, const char *name, int64_t *sec,
                       struct ombud_err *err)
{
    int64_t us;
    if (!ombud_query_time(req, name, true, &us, err))
        return false;
    *sec = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    return true;
}

static void calculate(struct ombud_req *req, bool due)
{
    struct cal_ctx x = {.id = ombud_req_path_id(req, 0)};
    struct ombud_err err;
    struct ombud_bt_calendar bt;
    int64_t from = 0, to = 0, minutes = 0;

    ombud_err_clear(&err);
    bool from_ok = time_param(req, "from", &from, &err);
    if (due) {
        ombud_query_int(req, "minutes", 1, OMBUD_SLA_MAX_MINUTES, OMBUD_QUERY_REQUIRED, &minutes, &err);
    } else if (time_param(req, "to", &to, &err) && from_ok && to < from) {
        ombud_err_field(&err, "to", "must not be before from");
    }
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_db_run(req->pool, get_q, &x, &err) != OMBUD_OK ||
        ombud_calendar_compile(&x.out, &bt, &err) != OMBUD_OK) {
        ombud_calendar_clear(&x.out);
        ombud_reply_problem(req, &err);
        return;
    }
    if (due) {
        int64_t at;
        if (!ombud_bt_add(&bt, from, minutes * 60, &at)) {
            ombud_err_set(&err, OMBUD_E_INVALID, "calendar-never-open",
                          "the calendar has no open time to count");
            ombud_reply_problem(req, &err);
        } else {
            ombud_reply_json_steal(req, 200, ombud_repr_calendar_due(x.id, from, minutes, at));
        }
    } else {
        int64_t secs = ombud_bt_between(&bt, from, to);
        ombud_reply_json_steal(req, 200, ombud_repr_calendar_minutes(x.id, from, to, secs / 60));
    }
    ombud_bt_calendar_clear(&bt);
    ombud_calendar_clear(&x.out);
}

void ombud_h_calendars_due(struct ombud_req *req)
{
    calculate(req, true);
}

void ombud_h_calendars_minutes(struct ombud_req *req)
{
    calculate(req, false);
}
