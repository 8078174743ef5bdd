/*
 * The complaint create and PATCH bodies, through exactly the server's
 * checks: the JSON text is parsed as ombud_body_finish parses it (not an
 * object: the server's 400, nothing more to check), then validated as a
 * create and as a patch. A body the validators accept must hold what the
 * database and the service rely on: required fields given, every string
 * valid UTF-8 within its length, ids positive, tags a JSON array. The
 * canonical text an Idempotency-Key hashes must stand for the same body.
 * A text refused for a number out of range (the server's 422) has that
 * number found and named when it is an object.
 */
#include <jansson.h>
#include <string.h>

#include "fuzz.h"
#include "http/body.h"
#include "http/complaint_common.h"
#include "ombud/json_spec.h"
#include "ombud/text.h"

/* s is NULL, or valid UTF-8 of min..max characters. */
static void check_text(const char *s, size_t min, size_t max)
{
    if (!s)
        return;
    CHECK(ombud_utf8_valid(s));
    size_t n = ombud_utf8_len(s);
    CHECK(n >= min && n <= max);
}

static void check_names(const char *s, const char *const *names)
{
    for (size_t i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return;
    CHECK(!"a value outside its enum was accepted");
}

static void check_tags(const char *tj)
{
    if (!tj)
        return;
    json_t *t = json_loads(tj, 0, NULL);
    CHECK(json_is_array(t));
    CHECK(json_array_size(t) <= OMBUD_COMPLAINT_MAX_TAGS);
    size_t i;
    json_t *v;
    json_array_foreach (t, i, v) {
        CHECK(json_is_string(v));
        check_text(json_string_value(v), 1, OMBUD_COMPLAINT_MAX_TAG_CHARS);
    }
    json_decref(t);
}

static void create(const json_t *body)
{
    struct ombud_complaint_new in = {0};
    struct ombud_err err;
    ombud_err_clear(&err);
    char *tj = ombud_complaint_create_parse(body, &in, &err);
    CHECK(err.nfields <= OMBUD_ERR_MAX_FIELDS);
    if (ombud_err_finish_validation(&err) == OMBUD_OK) {
        CHECK(in.title && in.description && in.customer_name);
        check_text(in.title, 1, OMBUD_COMPLAINT_MAX_TITLE_CHARS);
        check_text(in.description, 1, OMBUD_COMPLAINT_MAX_DESCRIPTION_CHARS);
        check_text(in.customer_name, 1, OMBUD_CUSTOMER_MAX_NAME_CHARS);
        check_text(in.customer_external_id, 1, OMBUD_CUSTOMER_MAX_EXTERNAL_ID_CHARS);
        check_text(in.customer_email, OMBUD_CUSTOMER_MIN_EMAIL_CHARS,
                   OMBUD_CUSTOMER_MAX_EMAIL_CHARS);
        CHECK(!in.customer_email || ombud_email_valid(in.customer_email));
        check_text(in.customer_phone, 1, OMBUD_CUSTOMER_MAX_PHONE_CHARS);
        check_text(in.category, 1, OMBUD_CATEGORY_MAX_KEY_CHARS);
        check_text(in.demand_detail, 1, OMBUD_COMPLAINT_MAX_DEMAND_DETAIL_CHARS);
        check_text(in.external_ref, 1, OMBUD_COMPLAINT_MAX_EXTERNAL_REF_CHARS);
        CHECK(in.channel && in.grade && in.priority && in.customer_tier);
        check_names(in.channel, ombud_channel_names);
        check_names(in.grade, ombud_grade_names);
        check_names(in.priority, ombud_priority_names);
        check_names(in.customer_tier, ombud_tier_names);
        if (in.demand)
            check_names(in.demand, ombud_demand_names);
        CHECK(in.team_id >= 0 && in.assignee_id >= 0);
        CHECK(in.tags_json == tj);
        check_tags(tj);
    } else {
        CHECK(err.kind != OMBUD_E_NONE);
    }
    free(tj);
}

static void patch(const json_t *body)
{
    struct ombud_edit e = {0};
    struct ombud_err err;
    ombud_err_clear(&err);
    char *tj = ombud_complaint_patch_parse(body, &e, &err);
    CHECK(err.nfields <= OMBUD_ERR_MAX_FIELDS);
    if (ombud_err_finish_validation(&err) == OMBUD_OK) {
        CHECK(!e.has_title || e.title);
        CHECK(!e.has_description || e.description);
        CHECK(!e.has_category || e.category);
        CHECK(!e.has_grade || e.grade);
        CHECK(!e.has_priority || e.priority);
        check_text(e.title, 1, OMBUD_COMPLAINT_MAX_TITLE_CHARS);
        check_text(e.description, 1, OMBUD_COMPLAINT_MAX_DESCRIPTION_CHARS);
        check_text(e.category, 1, OMBUD_CATEGORY_MAX_KEY_CHARS);
        check_text(e.demand_detail, 1, OMBUD_COMPLAINT_MAX_DEMAND_DETAIL_CHARS);
        if (e.grade)
            check_names(e.grade, ombud_grade_names);
        if (e.priority)
            check_names(e.priority, ombud_priority_names);
        if (e.demand)
            check_names(e.demand, ombud_demand_names);
        CHECK(e.team_id >= 0 && e.assignee_id >= 0);
        CHECK(!e.has_team || e.team_id == 0 || e.team_id >= 1);
        CHECK(e.tags_json == tj);
        check_tags(tj);
    }
    free(tj);
}

/* An Idempotency-Key's body hash is taken over this text: it must exist
 * for every body the server parses (else a 500), and mean the same
 * value, so that the same body always hashes the same. */
static void check_canonical(const json_t *body)
{
    char *canon = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK(canon);
    json_error_t jerr;
    json_t *back = ombud_body_parse(canon, strlen(canon), &jerr);
    CHECK(back && json_equal(back, (json_t *)body));
    char *again = json_dumps(back, JSON_COMPACT | JSON_SORT_KEYS);
    CHECK(again && strcmp(again, canon) == 0);
    free(again);
    json_decref(back);
    free(canon);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *body = ombud_body_parse((const char *)data, size, &jerr);
    if (!body) {
        size_t i = 0;
        while (i < size &&
               (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
            i++;
        char field[128];
        if (json_error_code(&jerr) == json_error_numeric_overflow && i < size && data[i] == '{')
            CHECK(ombud_body_number_out_of_range((const char *)data, size, field, sizeof field));
        return 0;
    }
    if (json_is_object(body)) {
        create(body);
        patch(body);
        check_canonical(body);
    }
    json_decref(body);
    return 0;
}
