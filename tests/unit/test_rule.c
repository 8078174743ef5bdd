/* Escalation rules in the domain (src/domain/rule.c): which triggers
 * concern a rule, whether its conditions hold (and the reason when not),
 * and its actions as complaint changes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ombud/rule.h"

static struct ombud_complaint complaint(void)
{
    struct ombud_complaint cp = {.team_id = 7, .escalation_level = 1, .resolution_cycle = 1};
    snprintf(cp.priority, sizeof cp.priority, "normal");
    snprintf(cp.grade, sizeof cp.grade, "explicit");
    snprintf(cp.category, sizeof cp.category, "after_sales");
    snprintf(cp.channel, sizeof cp.channel, "phone");
    snprintf(cp.customer_tier, sizeof cp.customer_tier, "vip");
    return cp;
}

static struct ombud_rule rule(void)
{
    struct ombud_rule r;
    memset(&r, 0, sizeof r);
    ombud_rule_clear(&r);
    snprintf(r.name, sizeof r.name, "Breach: manager");
    return r;
}

static void names_round_trip(void **state)
{
    (void)state;
    for (int t = 0; t < OMBUD_TRIG_COUNT; t++) {
        enum ombud_rule_trigger got;
        assert_true(ombud_rule_trigger_parse(ombud_rule_trigger_name(t), &got));
        assert_int_equal(got, t);
    }
    enum ombud_rule_target tg;
    assert_true(ombud_rule_target_parse("resolution", &tg));
    assert_int_equal(tg, OMBUD_RTARGET_RESOLUTION);
    assert_false(ombud_rule_target_parse("Resolution", &tg));
    assert_false(ombud_rule_trigger_parse(NULL, &(enum ombud_rule_trigger){0}));
}

static void name_lists(void **state)
{
    (void)state;
    assert_true(ombud_name_list_admits(NULL, "x"));
    assert_true(ombud_name_list_admits("[]", NULL));
    assert_true(ombud_name_list_admits("[\"high\",\"urgent\"]", "urgent"));
    /* Whole elements only: a prefix or a suffix is not one. */
    assert_false(ombud_name_list_admits("[\"high_risk\"]", "high"));
    assert_false(ombud_name_list_admits("[\"high_risk\"]", "risk"));
    assert_false(ombud_name_list_admits("[\"urgent\"]", NULL));
}

static void watches_its_trigger_and_target(void **state)
{
    (void)state;
    struct ombud_rule r = rule();
    r.trigger = OMBUD_TRIG_SLA_BREACH;
    r.target = OMBUD_RTARGET_RESOLUTION;
    assert_true(ombud_rule_watches(&r, OMBUD_TRIG_SLA_BREACH, OMBUD_SLA_RESOLUTION));
    assert_false(ombud_rule_watches(&r, OMBUD_TRIG_SLA_BREACH, OMBUD_SLA_FIRST_RESPONSE));
    assert_false(ombud_rule_watches(&r, OMBUD_TRIG_SLA_WARNING, OMBUD_SLA_RESOLUTION));
    r.target = OMBUD_RTARGET_ANY;
    assert_true(ombud_rule_watches(&r, OMBUD_TRIG_SLA_BREACH, OMBUD_SLA_FIRST_RESPONSE));
    r.trigger = OMBUD_TRIG_CREATED;
    assert_true(ombud_rule_watches(&r, OMBUD_TRIG_CREATED, OMBUD_SLA_RESOLUTION));
    assert_false(ombud_rule_watches(&r, OMBUD_TRIG_REOPENED, OMBUD_SLA_RESOLUTION));
}

static void conditions_and_their_reasons(void **state)
{
    (void)state;
    struct ombud_complaint cp = complaint();
    struct ombud_rule r = rule();
    char why[256] = "";
    assert_true(ombud_rule_holds(&r, &cp, why, sizeof why)); /* no conditions */

    r.cond_json[0] = strdup("[\"high\",\"urgent\"]");
    assert_false(ombud_rule_holds(&r, &cp, why, sizeof why));
    assert_string_equal(why, "priority is normal, not one of high, urgent");
    snprintf(cp.priority, sizeof cp.priority, "urgent");
    assert_true(ombud_rule_holds(&r, &cp, NULL, 0));

    r.cond_json[4] = strdup("[\"standard\"]");
    assert_false(ombud_rule_holds(&r, &cp, why, sizeof why));
    assert_string_equal(why, "customer tier is vip, not one of standard");
    free(r.cond_json[4]);
    r.cond_json[4] = NULL;

    r.nteams = 2;
    r.team_ids[0] = 3;
    r.team_ids[1] = 4;
    assert_false(ombud_rule_holds(&r, &cp, why, sizeof why));
    assert_string_equal(why, "team is 7, not one of the rule's teams");
    cp.team_id = 0;
    assert_false(ombud_rule_holds(&r, &cp, why, sizeof why));
    assert_string_equal(why, "the complaint has no team");
    cp.team_id = 4;
    assert_true(ombud_rule_holds(&r, &cp, NULL, 0));

    r.min_level = 2;
    assert_false(ombud_rule_holds(&r, &cp, why, sizeof why));
    assert_string_equal(why, "escalation level is 1, below 2");
    cp.escalation_level = 3;
    r.max_level = 2;
    assert_false(ombud_rule_holds(&r, &cp, why, sizeof why));
    assert_string_equal(why, "escalation level is 3, above 2");
    cp.escalation_level = 2;
    assert_true(ombud_rule_holds(&r, &cp, NULL, 0));
    ombud_rule_clear(&r);
}

static void actions_as_changes(void **state)
{
    (void)state;
    struct ombud_rule r = rule();
    struct ombud_transition esc, edit;
    bool has_esc, has_edit;

    /* notify alone changes nothing. */
    r.notify = true;
    ombud_rule_changes(&r, &esc, &has_esc, &edit, &has_edit);
    assert_false(has_esc);
    assert_false(has_edit);

    /* raise_level with a team: one escalation to that team, by a rule. */
    r.raise_level = true;
    r.set_team_id = 9;
    r.set_assignee_id = 12;
    snprintf(r.set_priority, sizeof r.set_priority, "high");
    ombud_rule_changes(&r, &esc, &has_esc, &edit, &has_edit);
    assert_true(has_esc);
    assert_int_equal(esc.kind, OMBUD_CHANGE_ESCALATE);
    assert_int_equal(esc.team_id, 9);
    assert_true(esc.by_rule);
    assert_string_equal(esc.reason, "Breach: manager");
    /* ...then an edit of priority and assignee, the team left to the escalation. */
    assert_true(has_edit);
    assert_int_equal(edit.kind, OMBUD_CHANGE_EDIT);
    assert_true(edit.edit.has_priority);
    assert_string_equal(edit.edit.priority, "high");
    assert_false(edit.edit.has_team);
    assert_true(edit.edit.has_assignee);
    assert_int_equal(edit.edit.assignee_id, 12);

    /* Without raise_level the team is an edit. */
    r.raise_level = false;
    ombud_rule_changes(&r, &esc, &has_esc, &edit, &has_edit);
    assert_false(has_esc);
    assert_true(edit.edit.has_team);
    assert_int_equal(edit.edit.team_id, 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_round_trip),
        cmocka_unit_test(name_lists),
        cmocka_unit_test(watches_its_trigger_and_target),
        cmocka_unit_test(conditions_and_their_reasons),
        cmocka_unit_test(actions_as_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
