/*
 * Escalation-rule bodies (POST and PATCH /v1/escalation-rules) through
 * the server's checks: parsed as ombud_body_finish parses a body, then
 * ombud_rule_body_parse as a create and as a patch. A body they accept
 * is applied to a new rule (and, as a patch, to that rule again), the
 * whole rule checked as the handler checks it, and written as the
 * server writes it. Accepted values must hold what the database relies
 * on: ranges, names from their lists, team ids positive and counted.
 */
#include <jansson.h>
#include <string.h>

#include "fuzz.h"
#include "http/bodies.h"
#include "http/body.h"
#include "ombud/json_spec.h"
#include "ombud/repr.h"
#include "ombud/text.h"

static void check_accepted(const struct ombud_rule_body *b)
{
    const struct ombud_rule *in = &b->in;
    if (b->has_name) {
        CHECK(ombud_utf8_valid(in->name));
        CHECK(ombud_utf8_len(in->name) >= 1 && ombud_utf8_len(in->name) <= 100);
    }
    CHECK(in->position >= 0 && in->position <= 1000000);
    CHECK(in->delay_minutes >= 0 && in->delay_minutes <= OMBUD_RULE_MAX_DELAY);
    CHECK(in->nteams <= OMBUD_RULE_MAX_TEAMS);
    for (size_t i = 0; i < in->nteams; i++)
        CHECK(in->team_ids[i] > 0);
    CHECK(in->min_level >= -1 && in->min_level <= 1000000);
    CHECK(in->max_level >= -1 && in->max_level <= 1000000);
    for (int i = 0; i < OMBUD_RULE_NAME_LISTS; i++) {
        if (!in->cond_json[i])
            continue;
        json_t *list = json_loads(in->cond_json[i], 0, NULL);
        CHECK(json_is_array(list));
        size_t k;
        json_t *v;
        json_array_foreach (list, k, v)
            CHECK(json_is_string(v) && json_string_length(v) >= 1);
        json_decref(list);
    }
    if (in->set_priority[0]) {
        bool known = false;
        for (size_t i = 0; ombud_priority_names[i]; i++)
            known = known || strcmp(in->set_priority, ombud_priority_names[i]) == 0;
        CHECK(known);
    }
    CHECK(in->set_team_id >= 0 && in->set_assignee_id >= 0);
}

static void one(const json_t *body, bool create)
{
    struct ombud_rule_body b = {0};
    struct ombud_rule out = {0};
    struct ombud_err err;

    ombud_err_clear(&err);
    ombud_rule_clear(&b.in);
    ombud_rule_body_parse(body, create, &b, &err);
    CHECK(err.nfields <= OMBUD_ERR_MAX_FIELDS);
    if (err.nfields == 0) {
        check_accepted(&b);
        if (create)
            CHECK(b.has_name && b.has_position && b.has_trigger && b.has_actions);
        ombud_rule_clear(&out);
        ombud_rule_defaults(&out);
        CHECK(ombud_rule_body_apply(&b, &out));
        if (!create) /* a patch on a rule that has its fields already */
            CHECK(ombud_rule_body_apply(&b, &out));
        ombud_rule_check(&out, &err);
        if (ombud_err_finish_validation(&err) == OMBUD_OK) {
            json_t *j = ombud_repr_rule(&out);
            CHECK(json_is_object(j));
            char *text = json_dumps(j, JSON_COMPACT);
            CHECK(text);
            free(text);
            json_decref(j);
        }
        ombud_rule_clear(&out);
    }
    ombud_rule_clear(&b.in);
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
