/*
 * SLA-policy bodies (POST and PATCH /v1/sla-policies) through the
 * server's checks: parsed as ombud_body_finish parses a body, then
 * ombud_policy_body_parse as a create and as a patch. A body they accept
 * is applied to a new policy (as a patch, twice) and written as the
 * server writes it; its values must be in the ranges the SLA clocks
 * rely on.
 */
#include <jansson.h>
#include <string.h>

#include "fuzz.h"
#include "http/bodies.h"
#include "http/body.h"
#include "ombud/json_spec.h"
#include "ombud/repr.h"
#include "ombud/text.h"

static void check_accepted(const struct ombud_policy_body *b, bool create)
{
    const struct ombud_sla_policy *in = &b->in;
    if (create)
        CHECK(b->has_name && b->has_position && b->has_first_response && b->has_resolution);
    if (b->has_name)
        CHECK(ombud_utf8_valid(in->name) && ombud_utf8_len(in->name) >= 1 &&
              ombud_utf8_len(in->name) <= 100);
    CHECK(in->position >= 0 && in->position <= 1000000);
    if (b->has_first_response)
        CHECK(in->first_response_minutes >= 1 &&
              in->first_response_minutes <= OMBUD_SLA_MAX_MINUTES);
    if (b->has_resolution)
        CHECK(in->resolution_minutes >= 1 && in->resolution_minutes <= OMBUD_SLA_MAX_MINUTES);
    if (b->has_warnings)
        CHECK(in->nwarnings >= 1 && in->nwarnings <= OMBUD_SLA_MAX_WARNINGS);
    for (size_t i = 0; i < in->nwarnings; i++)
        CHECK(in->warnings[i].percent
                  ? in->warnings[i].value >= 1 && in->warnings[i].value <= 99
                  : in->warnings[i].value >= 1 && in->warnings[i].value <= OMBUD_SLA_MAX_MINUTES);
    if (b->has_calendar)
        CHECK(in->calendar_id >= 1);
    for (int i = 0; i < 5; i++) {
        if (!in->match_json[i])
            continue;
        json_t *list = json_loads(in->match_json[i], 0, NULL);
        CHECK(json_is_array(list));
        json_decref(list);
    }
}

static void one(const json_t *body, bool create)
{
    struct ombud_policy_body b = {0};
    struct ombud_sla_policy out = {0};
    struct ombud_err err;

    ombud_err_clear(&err);
    ombud_policy_body_parse(body, create, &b, &err);
    CHECK(err.nfields <= OMBUD_ERR_MAX_FIELDS);
    if (ombud_err_finish_validation(&err) == OMBUD_OK) {
        check_accepted(&b, create);
        ombud_policy_defaults(&out);
        CHECK(ombud_policy_body_apply(&b, &out));
        if (!create)
            CHECK(ombud_policy_body_apply(&b, &out));
        CHECK(out.nwarnings >= 1 && out.nwarnings <= OMBUD_SLA_MAX_WARNINGS);
        json_t *j = ombud_repr_policy(&out);
        CHECK(json_is_object(j));
        char *text = json_dumps(j, JSON_COMPACT);
        CHECK(text);
        free(text);
        json_decref(j);
    }
    ombud_sla_policy_clear(&out);
    ombud_sla_policy_clear(&b.in);
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
