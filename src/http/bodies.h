/*
 * Request-body checks of the resources whose handlers also read the
 * database, as functions of the parsed body alone, private to src/http:
 * the handlers call them first, and tests/fuzz runs bodies through
 * exactly these checks.
 */
#ifndef OMBUD_HTTP_BODIES_H
#define OMBUD_HTTP_BODIES_H

#include <jansson.h>
#include <stdbool.h>

#include "ombud/calendar.h"
#include "ombud/err.h"
#include "ombud/rule.h"
#include "ombud/sla.h"

/* An escalation-rule body: the fields it gave, and their values in in. */
struct ombud_rule_body {
    struct ombud_rule in; /* cond_json owned: ombud_rule_clear */
    bool has_name, has_position, has_active, has_trigger, has_target, has_delay, has_conditions,
        has_actions;
};

/* Checks an escalation-rule body (a JSON object; with create, the
 * required fields must be given) into b, whose in the caller has reset
 * with ombud_rule_clear and frees with it. Field errors join err. */
void ombud_rule_body_parse(const json_t *body, bool create, struct ombud_rule_body *b,
                           struct ombud_err *err);
/* A new rule's values before a create's fields apply. */
void ombud_rule_defaults(struct ombud_rule *r);
/* Applies the fields b gave to out (PATCH replaces conditions and actions
 * whole); false when out of memory. */
bool ombud_rule_body_apply(const struct ombud_rule_body *b, struct ombud_rule *out);
/* The rule as a whole, after the given fields are applied to it: field
 * errors join err. */
void ombud_rule_check(const struct ombud_rule *r, struct ombud_err *err);

/* An SLA-policy body: the fields it gave, and their values in in. */
struct ombud_policy_body {
    struct ombud_sla_policy in; /* match_json owned: ombud_sla_policy_clear */
    bool has_name, has_position, has_active, has_match, has_first_response, has_resolution,
        has_warnings, has_calendar;
};

/* Checks an SLA-policy body (with create, the required fields must be
 * given) into b, zeroed by the caller, who frees b->in with
 * ombud_sla_policy_clear. Field errors join err. */
void ombud_policy_body_parse(const json_t *body, bool create, struct ombud_policy_body *b,
                             struct ombud_err *err);
/* A new policy's values before a create's fields apply. */
void ombud_policy_defaults(struct ombud_sla_policy *p);
/* Applies the fields b gave to out; false when out of memory. */
bool ombud_policy_body_apply(const struct ombud_policy_body *b, struct ombud_sla_policy *out);

/* A calendar body: the fields it gave, and their values in in. */
struct ombud_calendar_body {
    struct ombud_calendar in; /* holidays owned: ombud_calendar_clear */
    bool has_name, has_tz, has_hours, has_holidays;
};

/* Checks a calendar body (with create, name and timezone must be given)
 * into b, zeroed by the caller, who frees b->in with
 * ombud_calendar_clear. Field errors join err. Whether the hours make a
 * calendar (overlaps) is ombud_calendar_compile's to judge, after
 * ombud_calendar_body_apply. */
void ombud_calendar_body_parse(const json_t *body, bool create, struct ombud_calendar_body *b,
                               struct ombud_err *err);
/* Applies the fields b gave to out; false when out of memory. */
bool ombud_calendar_body_apply(const struct ombud_calendar_body *b, struct ombud_calendar *out);

#endif
