/*
 * Calendar bodies (POST and PATCH /v1/calendars) through the server's
 * checks: parsed as ombud_body_finish parses a body, then
 * ombud_calendar_body_parse as a create and as a patch (of a 24x7 UTC
 * calendar), applied, and compiled as the handler compiles it. The
 * compile must accept exactly the hours that do not overlap (at most
 * OMBUD_BT_MAX_INTERVALS a weekday); a compiled calendar answers the
 * calculator over a week without fault and is written as the server
 * writes it.
 */
#include <jansson.h>
#include <string.h>

#include "fuzz.h"
#include "http/bodies.h"
#include "http/body.h"
#include "ombud/business_time.h"
#include "ombud/json_spec.h"
#include "ombud/repr.h"
#include "ombud/text.h"

static bool hours_fit(const struct ombud_calendar *c)
{
    size_t per_day[8] = {0};
    for (size_t i = 0; i < c->nhours; i++) {
        if (++per_day[c->weekday[i]] > OMBUD_BT_MAX_INTERVALS)
            return false;
        for (size_t j = 0; j < i; j++)
            if (c->weekday[j] == c->weekday[i] && c->hours[j].open < c->hours[i].close &&
                c->hours[i].open < c->hours[j].close)
                return false;
    }
    return true;
}

static void one(const json_t *body, bool create)
{
    struct ombud_calendar_body b = {0};
    struct ombud_calendar out = {0};
    struct ombud_err err;

    ombud_err_clear(&err);
    ombud_calendar_body_parse(body, create, &b, &err);
    CHECK(err.nfields <= OMBUD_ERR_MAX_FIELDS);
    if (ombud_err_finish_validation(&err) != OMBUD_OK)
        goto out;
    if (create)
        CHECK(b.has_name && b.has_tz);
    else
        strcpy(out.timezone, "UTC");
    CHECK(b.in.nhours <= OMBUD_CAL_MAX_HOURS && b.in.nholidays <= OMBUD_CAL_MAX_HOLIDAYS);
    for (size_t i = 0; i < b.in.nhours; i++)
        CHECK(b.in.weekday[i] >= 1 && b.in.weekday[i] <= 7 &&
              b.in.hours[i].open < b.in.hours[i].close && b.in.hours[i].close <= 1440);
    if (b.has_name)
        CHECK(ombud_utf8_valid(b.in.name) && ombud_utf8_len(b.in.name) >= 1 &&
              ombud_utf8_len(b.in.name) <= 100);
    CHECK(ombud_calendar_body_apply(&b, &out));
    if (!create)
        CHECK(ombud_calendar_body_apply(&b, &out));

    struct ombud_bt_calendar bt;
    enum ombud_rc rc = ombud_calendar_compile(&out, &bt, &err);
    CHECK((rc == OMBUD_OK) == hours_fit(&out));
    if (rc == OMBUD_OK) {
        const int64_t from = 1795334400; /* 2026-11-22T08:00:00Z */
        int64_t due, week = ombud_bt_between(&bt, from, from + 7 * 86400);
        CHECK(week >= 0 && week <= 7 * 86400);
        if (week > 0) {
            CHECK(ombud_bt_add(&bt, from, week, &due));
            CHECK(due > from && due <= from + 7 * 86400);
        }
        json_t *j = ombud_repr_calendar(&out);
        CHECK(json_is_object(j));
        json_decref(j);
    } else {
        CHECK(err.nfields > 0);
    }
    ombud_bt_calendar_clear(&bt);
out:
    ombud_calendar_clear(&out);
    ombud_calendar_clear(&b.in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *body = ombud_body_parse((const char *)data, size, &jerr);
    if (!body)
        return 0;
    if (json_is_object(body)) {
        one(body, true);
        one(body, false);
    }
    json_decref(body);
    return 0;
}
