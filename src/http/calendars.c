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
#include "ombud/db/calendars.h"
#include "http/bodies.h"
#include "http/handlers.h"
#include "ombud/json_spec.h"
#include "ombud/repr.h"
#include "ombud/service/sla_config.h"
#include "ombud/timefmt.h"

/* What the table's constraints mean to a client (migrations/0004). */
static const struct ombud_constraint_msg calendar_constraints[] = {
    {"calendars_name_key", "name", "a calendar with this name exists"},
    {NULL, NULL, NULL},
};

/* POST and PATCH: the fields given (b), and the calendar as saved (out). */
struct calendar_save {
    int64_t id; /* 0: create */
    struct ombud_calendar_body b;
    struct ombud_calendar out;
};

/* Parses hours and holidays from the body into in; field errors. */
static void parse_body(const json_t *hours, const json_t *holidays, struct ombud_calendar *in,
                       struct ombud_err *err)
{
    size_t i;
    json_t *h;
    if (hours) {
        if (json_array_size(hours) > OMBUD_CAL_MAX_HOURS)
            ombud_err_field(err, "hours", "must have at most %d intervals", OMBUD_CAL_MAX_HOURS);
        json_array_foreach (hours, i, h) {
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
                {.name = "weekday",
                 .type = OMBUD_SPEC_INT,
                 .required = true,
                 .min = 1,
                 .max = 7,
                 .i = &wd},
                {.name = "open",
                 .type = OMBUD_SPEC_STRING,
                 .required = true,
                 .min = 5,
                 .max = 5,
                 .s = &open},
                {.name = "close",
                 .type = OMBUD_SPEC_STRING,
                 .required = true,
                 .min = 5,
                 .max = 5,
                 .s = &close},
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
            if (err->nfields == before && in->nhours < OMBUD_CAL_MAX_HOURS) {
                in->weekday[in->nhours] = (int)wd;
                in->hours[in->nhours].open = o;
                in->hours[in->nhours].close = c;
                in->nhours++;
            }
        }
    }
    if (holidays) {
        size_t n = json_array_size(holidays);
        if (n > OMBUD_CAL_MAX_HOLIDAYS) {
            ombud_err_field(err, "holidays", "must have at most %d dates", OMBUD_CAL_MAX_HOLIDAYS);
            return;
        }
        in->holidays = calloc(n ? n : 1, sizeof *in->holidays);
        if (!in->holidays)
            return;
        json_array_foreach (holidays, i, h) {
            char field[32];
            int64_t day;
            snprintf(field, sizeof field, "holidays[%zu]", i);
            if (!json_is_string(h) || !ombud_bt_parse_date(json_string_value(h), &day))
                ombud_err_field(err, field, "must be a date YYYY-MM-DD");
            else
                in->holidays[in->nholidays++] = day;
        }
    }
}

bool ombud_calendar_body_apply(const struct ombud_calendar_body *b, struct ombud_calendar *out)
{
    const struct ombud_calendar *in = &b->in;

    if (b->has_name)
        snprintf(out->name, sizeof out->name, "%s", in->name);
    if (b->has_tz)
        snprintf(out->timezone, sizeof out->timezone, "%s", in->timezone);
    if (b->has_hours) {
        out->nhours = in->nhours;
        memcpy(out->weekday, in->weekday, sizeof in->weekday);
        memcpy(out->hours, in->hours, sizeof in->hours);
    }
    if (b->has_holidays) {
        free(out->holidays);
        out->holidays = NULL;
        out->nholidays = 0;
        if (in->nholidays) {
            out->holidays = malloc(in->nholidays * sizeof *in->holidays);
            if (!out->holidays)
                return false;
            memcpy(out->holidays, in->holidays, in->nholidays * sizeof *in->holidays);
            out->nholidays = in->nholidays;
        }
    }
    return true;
}

static enum ombud_rc save_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct calendar_save *save = arg;
    struct ombud_calendar *out = &save->out;
    enum ombud_rc rc;
    struct ombud_bt_calendar bt;
    bool found = true;

    ombud_calendar_clear(out);
    if (save->id && (rc = ombud_db_calendar_get(c, save->id, out, &found, err)) != OMBUD_OK)
        return rc;
    if (!found)
        return ombud_err_not_found(err, "calendar");
    if (!ombud_calendar_body_apply(&save->b, out))
        return ombud_err_internal(err, "out of memory");
    /* The arithmetic module is the judge of a valid calendar. */
    if ((rc = ombud_calendar_compile(out, &bt, err)) != OMBUD_OK)
        return rc;
    ombud_bt_calendar_clear(&bt);
    if ((rc = ombud_db_calendar_save(c, out, &found, err)) != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "calendar");
}

void ombud_calendar_body_parse(const json_t *body, bool create, struct ombud_calendar_body *b,
                               struct ombud_err *err)
{
    const char *name = NULL, *tz = NULL;
    json_t *hours = NULL, *holidays = NULL;
    const struct ombud_spec spec[] = {
        {.name = "name",
         .type = OMBUD_SPEC_STRING,
         .required = create,
         .min = 1,
         .max = 100,
         .s = &name,
         .present = &b->has_name},
        {.name = "timezone",
         .type = OMBUD_SPEC_STRING,
         .required = create,
         .min = 1,
         .max = 63,
         .s = &tz,
         .present = &b->has_tz},
        {.name = "hours", .type = OMBUD_SPEC_ARRAY, .j = &hours, .present = &b->has_hours},
        {.name = "holidays", .type = OMBUD_SPEC_ARRAY, .j = &holidays, .present = &b->has_holidays},
    };
    ombud_spec_parse(body, spec, sizeof spec / sizeof spec[0], NULL, err);
    if (name)
        snprintf(b->in.name, sizeof b->in.name, "%s", name);
    if (tz) {
        snprintf(b->in.timezone, sizeof b->in.timezone, "%s", tz);
        if (!ombud_tz_known(tz))
            ombud_err_field(err, "timezone", "is not an IANA time zone this system knows");
    }
    parse_body(hours, holidays, &b->in, err);
}

static void write_calendar(struct ombud_req *req, int64_t id)
{
    struct calendar_save save = {.id = id};
    struct ombud_err err;

    ombud_err_clear(&err);
    ombud_calendar_body_parse(req->json, id == 0, &save.b, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_svc_sla_config_change(req->pool, save_tx, &save, &err) != OMBUD_OK) {
        ombud_problem_explain(&err, calendar_constraints, NULL);
        ombud_reply_problem(req, &err);
    } else {
        ombud_reply_saved_steal(req, id == 0, ombud_repr_calendar(&save.out), "/v1/calendars",
                                save.out.id);
    }
    ombud_calendar_clear(&save.b.in);
    ombud_calendar_clear(&save.out);
}

void ombud_h_calendars_create(struct ombud_req *req)
{
    write_calendar(req, 0);
}

void ombud_h_calendars_patch(struct ombud_req *req)
{
    write_calendar(req, ombud_req_path_id(req, 0));
}

struct calendar_get {
    int64_t id;
    struct ombud_calendar calendar;
};

static enum ombud_rc get_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct calendar_get *get = arg;
    enum ombud_rc rc;
    bool found;
    ombud_calendar_clear(&get->calendar);
    if ((rc = ombud_db_calendar_get(c, get->id, &get->calendar, &found, err)) != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "calendar");
}

void ombud_h_calendars_get(struct ombud_req *req)
{
    struct calendar_get get = {.id = ombud_req_path_id(req, 0)};
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_db_run(req->pool, get_q, &get, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_json_steal(req, 200, ombud_repr_calendar(&get.calendar));
    ombud_calendar_clear(&get.calendar);
}

struct calendar_page {
    int64_t after;
    int limit;
    struct ombud_calendar *calendars;
    size_t n;
};

static enum ombud_rc list_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct calendar_page *page = arg;
    ombud_calendars_free(page->calendars, page->n);
    page->calendars = NULL;
    page->n = 0;
    return ombud_db_calendar_list(c, page->after, page->limit, &page->calendars, &page->n, err);
}

static json_t *render_calendar(const void *row)
{
    return ombud_repr_calendar(row);
}

void ombud_h_calendars_list(struct ombud_req *req)
{
    struct calendar_page page = {0};
    struct ombud_err err;

    ombud_err_clear(&err);
    ombud_query_id_page(req, &page.limit, &page.after, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_db_run(req->pool, list_q, &page, &err) != OMBUD_OK) {
        ombud_calendars_free(page.calendars, page.n);
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_list(req, page.calendars, page.n, sizeof *page.calendars,
                     offsetof(struct ombud_calendar, id), page.limit, render_calendar);
    ombud_calendars_free(page.calendars, page.n);
}

struct calendar_delete {
    int64_t id;
    bool found, in_use;
};

static enum ombud_rc delete_tx(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct calendar_delete *del = arg;
    enum ombud_rc rc = ombud_db_calendar_delete(c, del->id, &del->found, &del->in_use, err);
    if (rc != OMBUD_OK)
        return rc;
    if (!del->found)
        return ombud_err_not_found(err, "calendar");
    if (del->in_use)
        return ombud_err_set(err, OMBUD_E_CONFLICT, "calendar-in-use",
                             "an SLA policy or clock uses this calendar");
    return OMBUD_OK;
}

void ombud_h_calendars_delete(struct ombud_req *req)
{
    struct calendar_delete del = {.id = ombud_req_path_id(req, 0)};
    struct ombud_err err;
    ombud_err_clear(&err);
    if (ombud_svc_sla_config_change(req->pool, delete_tx, &del, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_empty(req, 204);
}

/* ---- calculator ---- */

/* The longest span business-minutes counts: a century, so that counting
 * back from the furthest due time on an office calendar (5,256,000
 * minutes, some 40 years) is possible, and no span costs much (the cost
 * grows with the offset changes and holidays crossed, not the span). */
#define MAX_SPAN_DAYS INT64_C(36525)

/* A required RFC 3339 query time in whole seconds, fractions dropped. */
static bool time_param(struct ombud_req *req, const char *name, int64_t *sec, struct ombud_err *err)
{
    int64_t us;
    if (!ombud_query_time(req, name, true, &us, err))
        return false;
    *sec = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
    return true;
}

static void calculate(struct ombud_req *req, bool due)
{
    struct calendar_get get = {.id = ombud_req_path_id(req, 0)};
    struct ombud_err err;
    struct ombud_bt_calendar bt;
    int64_t from = 0, to = 0, minutes = 0;

    ombud_err_clear(&err);
    bool from_ok = time_param(req, "from", &from, &err);
    if (due) {
        ombud_query_int(req, "minutes", 1, OMBUD_SLA_MAX_MINUTES, OMBUD_QUERY_REQUIRED, &minutes,
                        &err);
    } else if (time_param(req, "to", &to, &err) && from_ok) {
        if (to < from)
            ombud_err_field(&err, "to", "must not be before from");
        else if (to - from > MAX_SPAN_DAYS * 86400)
            ombud_err_field(&err, "to", "must be at most %d days (100 years) after from",
                            (int)MAX_SPAN_DAYS);
    }
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_db_run(req->pool, get_q, &get, &err) != OMBUD_OK ||
        ombud_calendar_compile(&get.calendar, &bt, &err) != OMBUD_OK) {
        ombud_calendar_clear(&get.calendar);
        ombud_reply_problem(req, &err);
        return;
    }
    if (due) {
        int64_t at;
        if (bt.week_seconds <= 0) {
            ombud_err_set(&err, OMBUD_E_INVALID, "calendar-never-open",
                          "the calendar has no open time to count");
            ombud_reply_problem(req, &err);
        } else if (!ombud_bt_add(&bt, from, minutes * 60, &at)) {
            ombud_err_field(&err, "minutes", "the due time would fall after 9999-12-31T23:59:59Z");
            (void)ombud_err_finish_validation(&err);
            ombud_reply_problem(req, &err);
        } else {
            ombud_reply_json_steal(req, 200, ombud_repr_calendar_due(get.id, from, minutes, at));
        }
    } else {
        int64_t secs = ombud_bt_between(&bt, from, to);
        ombud_reply_json_steal(req, 200, ombud_repr_calendar_minutes(get.id, from, to, secs / 60));
    }
    ombud_bt_calendar_clear(&bt);
    ombud_calendar_clear(&get.calendar);
}

void ombud_h_calendars_due(struct ombud_req *req)
{
    calculate(req, true);
}

void ombud_h_calendars_minutes(struct ombud_req *req)
{
    calculate(req, false);
}
