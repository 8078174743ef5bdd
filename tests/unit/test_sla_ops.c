/*
 * SLA operations on a complaint's two clocks (domain/sla.c), without a
 * database: each operation of ombud_sla_apply_op, what it needs loaded,
 * and what a worker pass takes as due. Calendars are 24x7 UTC so that
 * business seconds are real seconds and every expectation is plain
 * arithmetic; business hours themselves are test_business_time's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "ombud/sla.h"

#define T0 1790000000 /* some instant in 2026 */
#define MIN 60

struct fixture {
    struct ombud_bt_calendar cal;
    struct ombud_sla_policy pol, other;
    struct ombud_sla_clock k[2];
    bool have[2], changed[2];
};

static int setup(void **state)
{
    static struct fixture f;
    struct ombud_err err;
    memset(&f, 0, sizeof f);
    ombud_err_clear(&err);
    if (ombud_bt_calendar_init(&f.cal, "UTC", NULL, NULL, 0, NULL, 0, &err) != OMBUD_OK)
        return -1;
    /* first response 60 min, resolution 240 min; warnings at 50 % and 10 min before */
    f.pol = (struct ombud_sla_policy){.id = 7,
                                      .first_response_minutes = 60,
                                      .resolution_minutes = 240,
                                      .nwarnings = 2,
                                      .calendar_id = 3};
    f.pol.warnings[0] = (struct ombud_sla_warning_rule){true, 50};
    f.pol.warnings[1] = (struct ombud_sla_warning_rule){false, 10};
    f.other = (struct ombud_sla_policy){.id = 8,
                                        .first_response_minutes = 30,
                                        .resolution_minutes = 120,
                                        .nwarnings = 0,
                                        .calendar_id = 3};
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ombud_bt_calendar_clear(&f->cal);
    return 0;
}

static struct ombud_sla_basis basis(struct fixture *f, const struct ombud_sla_policy *p, int cycle)
{
    return (struct ombud_sla_basis){p, &f->cal, &f->cal, cycle};
}

static void apply(struct fixture *f, enum ombud_sla_op op, const struct ombud_sla_policy *p,
                  int cycle, int64_t now)
{
    struct ombud_sla_basis b = basis(f, p, cycle);
    ombud_sla_apply_op(f->k, f->have, op, &b, now, f->changed);
}

/* Both clocks started at T0 under pol. */
static void started(struct fixture *f)
{
    memset(f->k, 0, sizeof f->k);
    f->have[0] = f->have[1] = false;
    apply(f, OMBUD_SLA_OP_START, &f->pol, 1, T0);
}

static void test_needs(void **state)
{
    const struct ombud_sla_op_needs *n = ombud_sla_op_needs(OMBUD_SLA_OP_START);
    assert_true(n->policy && n->skip_no_policy);
    assert_false(n->clocks || n->new_cycle || n->skip_no_clocks);
    enum ombud_sla_op clock_ops[] = {OMBUD_SLA_OP_PAUSE, OMBUD_SLA_OP_RESUME, OMBUD_SLA_OP_MEET_FR,
                                     OMBUD_SLA_OP_MEET_RES, OMBUD_SLA_OP_STOP};
    for (size_t i = 0; i < sizeof clock_ops / sizeof clock_ops[0]; i++) {
        n = ombud_sla_op_needs(clock_ops[i]);
        assert_true(n->clocks && n->skip_no_clocks);
        assert_false(n->policy || n->new_cycle || n->skip_no_policy);
    }
    n = ombud_sla_op_needs(OMBUD_SLA_OP_REOPEN);
    assert_true(n->policy && n->clocks && n->new_cycle);
    assert_false(n->skip_no_policy || n->skip_no_clocks);
    n = ombud_sla_op_needs(OMBUD_SLA_OP_RESELECT);
    assert_true(n->policy && n->clocks && n->skip_no_policy && n->skip_no_clocks);
    assert_false(n->new_cycle);
}

static void test_start(void **state)
{
    struct fixture *f = *state;
    started(f);
    assert_true(f->have[0] && f->have[1] && f->changed[0] && f->changed[1]);
    struct ombud_sla_clock *fr = &f->k[0], *res = &f->k[1];
    assert_int_equal(fr->target, OMBUD_SLA_FIRST_RESPONSE);
    assert_int_equal(fr->cycle, 1);
    assert_int_equal(fr->policy_id, 7);
    assert_int_equal(fr->calendar_id, 3);
    assert_int_equal(fr->target_seconds, 60 * MIN);
    assert_int_equal(fr->running_since, T0);
    assert_int_equal(fr->due_at, T0 + 60 * MIN);
    /* ladder sorted by threshold: 30 min (50 %), 50 min (10 min before) */
    assert_int_equal(fr->nwarnings, 2);
    assert_int_equal(fr->warnings[0].level, 1);
    assert_int_equal(fr->warnings[0].at, T0 + 30 * MIN);
    assert_int_equal(fr->warnings[1].level, 2);
    assert_int_equal(fr->warnings[1].at, T0 + 50 * MIN);
    assert_int_equal(fr->next_alert_at, T0 + 30 * MIN);
    assert_int_equal(res->target, OMBUD_SLA_RESOLUTION);
    assert_int_equal(res->due_at, T0 + 240 * MIN);
    assert_int_equal(res->warnings[0].at, T0 + 120 * MIN);
    assert_int_equal(res->warnings[1].at, T0 + 230 * MIN);
}

static void test_start_cycle(void **state)
{
    struct fixture *f = *state;
    memset(f->k, 0, sizeof f->k);
    apply(f, OMBUD_SLA_OP_START, &f->pol, 3, T0);
    assert_int_equal(f->k[0].cycle, 1); /* first response has one cycle only */
    assert_int_equal(f->k[1].cycle, 3);
    apply(f, OMBUD_SLA_OP_START, &f->pol, 0, T0);
    assert_int_equal(f->k[1].cycle, 1);
}

static void test_start_without_policy(void **state)
{
    struct fixture *f = *state;
    memset(f->k, 0, sizeof f->k);
    f->have[0] = f->have[1] = false;
    apply(f, OMBUD_SLA_OP_START, NULL, 1, T0);
    assert_false(f->changed[0] || f->changed[1] || f->have[0] || f->have[1]);
}

static void test_pause_resume(void **state)
{
    struct fixture *f = *state;
    started(f);
    apply(f, OMBUD_SLA_OP_PAUSE, NULL, 0, T0 + 10 * MIN);
    assert_true(f->changed[0] && f->changed[1]);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(f->k[i].elapsed_seconds, 10 * MIN);
        assert_int_equal(f->k[i].running_since, 0);
        assert_int_equal(f->k[i].due_at, 0);
        assert_int_equal(f->k[i].next_alert_at, 0);
    }
    /* an hour paused does not count */
    apply(f, OMBUD_SLA_OP_RESUME, NULL, 0, T0 + 70 * MIN);
    assert_true(f->changed[0] && f->changed[1]);
    assert_int_equal(f->k[0].running_since, T0 + 70 * MIN);
    assert_int_equal(f->k[0].due_at, T0 + 120 * MIN);
    assert_int_equal(f->k[0].next_alert_at, T0 + 90 * MIN);
    assert_int_equal(f->k[1].due_at, T0 + 300 * MIN);
}

static void test_pause_one_clock(void **state)
{
    struct fixture *f = *state;
    started(f);
    f->have[0] = false; /* only the resolution clock exists */
    apply(f, OMBUD_SLA_OP_PAUSE, NULL, 0, T0 + MIN);
    assert_false(f->changed[0]);
    assert_true(f->changed[1]);
    assert_int_equal(f->k[0].running_since, T0); /* untouched */
}

static void test_meet_first_response(void **state)
{
    struct fixture *f = *state;
    started(f);
    apply(f, OMBUD_SLA_OP_MEET_FR, NULL, 0, T0 + 20 * MIN);
    assert_true(f->changed[0]);
    assert_false(f->changed[1]);
    assert_int_equal(f->k[0].met_at, T0 + 20 * MIN);
    assert_false(f->k[0].breached);
    assert_int_equal(f->k[0].next_alert_at, 0);
    assert_int_equal(f->k[1].met_at, 0);
    /* a second first response changes nothing */
    apply(f, OMBUD_SLA_OP_MEET_FR, NULL, 0, T0 + 30 * MIN);
    assert_false(f->changed[0] || f->changed[1]);
    assert_int_equal(f->k[0].met_at, T0 + 20 * MIN);
}

static void test_meet_resolution(void **state)
{
    struct fixture *f = *state;
    started(f);
    /* late for first response, on time for resolution: resolving meets both */
    apply(f, OMBUD_SLA_OP_MEET_RES, NULL, 0, T0 + 90 * MIN);
    assert_true(f->changed[0] && f->changed[1]);
    assert_int_equal(f->k[0].met_at, T0 + 90 * MIN);
    assert_true(f->k[0].breached);
    assert_int_equal(f->k[1].met_at, T0 + 90 * MIN);
    assert_false(f->k[1].breached);
}

static void test_meet_resolution_after_first_response(void **state)
{
    struct fixture *f = *state;
    started(f);
    apply(f, OMBUD_SLA_OP_MEET_FR, NULL, 0, T0 + 5 * MIN);
    apply(f, OMBUD_SLA_OP_MEET_RES, NULL, 0, T0 + 250 * MIN);
    assert_false(f->changed[0]);
    assert_true(f->changed[1]);
    assert_int_equal(f->k[0].met_at, T0 + 5 * MIN);
    assert_true(f->k[1].breached);
}

static void test_stop(void **state)
{
    struct fixture *f = *state;
    started(f);
    apply(f, OMBUD_SLA_OP_MEET_FR, NULL, 0, T0 + 5 * MIN);
    apply(f, OMBUD_SLA_OP_STOP, NULL, 0, T0 + 15 * MIN);
    assert_false(f->changed[0]); /* met: stays met */
    assert_true(f->changed[1]);
    assert_int_equal(f->k[1].running_since, 0);
    assert_int_equal(f->k[1].elapsed_seconds, 15 * MIN);
    assert_int_equal(f->k[1].next_alert_at, 0);
    /* stopped already (not running): nothing to store */
    apply(f, OMBUD_SLA_OP_STOP, NULL, 0, T0 + 20 * MIN);
    assert_false(f->changed[0] || f->changed[1]);
}

static void test_reopen(void **state)
{
    struct fixture *f = *state;
    started(f);
    apply(f, OMBUD_SLA_OP_MEET_RES, NULL, 0, T0 + 30 * MIN);
    struct ombud_sla_clock fr = f->k[0];
    apply(f, OMBUD_SLA_OP_REOPEN, &f->pol, 2, T0 + 100 * MIN);
    assert_false(f->changed[0]);
    assert_true(f->changed[1] && f->have[1]);
    assert_memory_equal(&f->k[0], &fr, sizeof fr);
    assert_int_equal(f->k[1].cycle, 2);
    assert_int_equal(f->k[1].met_at, 0);
    assert_int_equal(f->k[1].elapsed_seconds, 0);
    assert_int_equal(f->k[1].running_since, T0 + 100 * MIN);
    assert_int_equal(f->k[1].due_at, T0 + 340 * MIN); /* the full target again */
}

static void test_reopen_without_policy(void **state)
{
    struct fixture *f = *state;
    started(f);
    apply(f, OMBUD_SLA_OP_MEET_RES, NULL, 0, T0 + 30 * MIN);
    apply(f, OMBUD_SLA_OP_REOPEN, NULL, 2, T0 + 100 * MIN);
    assert_false(f->changed[0] || f->changed[1]);
    assert_int_equal(f->k[1].cycle, 1);
}

static void test_reselect(void **state)
{
    struct fixture *f = *state;
    started(f);
    apply(f, OMBUD_SLA_OP_MEET_FR, NULL, 0, T0 + 5 * MIN);
    /* the same policy: nothing changes */
    apply(f, OMBUD_SLA_OP_RESELECT, &f->pol, 0, T0 + 20 * MIN);
    assert_false(f->changed[0] || f->changed[1]);
    /* another: elapsed time is kept and measured against the new target */
    apply(f, OMBUD_SLA_OP_RESELECT, &f->other, 0, T0 + 20 * MIN);
    assert_true(f->changed[0] && f->changed[1]);
    assert_int_equal(f->k[0].policy_id, 7); /* met stays met, under its policy */
    assert_int_equal(f->k[0].met_at, T0 + 5 * MIN);
    assert_int_equal(f->k[1].policy_id, 8);
    assert_int_equal(f->k[1].target_seconds, 120 * MIN);
    assert_int_equal(f->k[1].elapsed_seconds, 20 * MIN);
    assert_int_equal(f->k[1].due_at, T0 + 120 * MIN);
    assert_int_equal(f->k[1].nwarnings, 0);
}

static void test_reselect_without_policy(void **state)
{
    struct fixture *f = *state;
    started(f);
    apply(f, OMBUD_SLA_OP_RESELECT, NULL, 0, T0 + 20 * MIN);
    assert_false(f->changed[0] || f->changed[1]);
    assert_int_equal(f->k[1].policy_id, 7);
}

static void test_take_due(void **state)
{
    struct fixture *f = *state;
    struct ombud_sla_due_alert a[OMBUD_SLA_MAX_WARNINGS + 1];
    started(f);
    struct ombud_sla_clock *fr = &f->k[0];
    assert_int_equal(ombud_sla_clock_take_due(fr, T0 + 29 * MIN, a), 0);
    /* the first warning, dated when it fell due, not when the pass ran */
    assert_int_equal(ombud_sla_clock_take_due(fr, T0 + 31 * MIN, a), 1);
    assert_false(a[0].breach);
    assert_int_equal(a[0].level, 1);
    assert_int_equal(a[0].scheduled, T0 + 30 * MIN);
    ombud_sla_clock_plan(fr, &f->cal, T0 + 31 * MIN);
    assert_int_equal(fr->next_alert_at, T0 + 50 * MIN);
    assert_int_equal(ombud_sla_clock_take_due(fr, T0 + 31 * MIN, a), 0); /* once only */
    /* a late pass: the breach first, then the warning it overtook */
    assert_int_equal(ombud_sla_clock_take_due(fr, T0 + 61 * MIN, a), 2);
    assert_true(a[0].breach);
    assert_int_equal(a[0].level, 0);
    assert_int_equal(a[0].scheduled, T0 + 60 * MIN);
    assert_false(a[1].breach);
    assert_int_equal(a[1].level, 2);
    assert_int_equal(a[1].scheduled, T0 + 50 * MIN);
    assert_true(fr->breached);
    ombud_sla_clock_plan(fr, &f->cal, T0 + 61 * MIN);
    assert_int_equal(fr->next_alert_at, 0);
    assert_int_equal(ombud_sla_clock_take_due(fr, T0 + 500 * MIN, a), 0);
}

static void test_take_due_paused(void **state)
{
    struct fixture *f = *state;
    struct ombud_sla_due_alert a[OMBUD_SLA_MAX_WARNINGS + 1];
    started(f);
    apply(f, OMBUD_SLA_OP_PAUSE, NULL, 0, T0 + 10 * MIN);
    assert_int_equal(ombud_sla_clock_take_due(&f->k[1], T0 + 1000 * MIN, a), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_needs),
        cmocka_unit_test(test_start),
        cmocka_unit_test(test_start_cycle),
        cmocka_unit_test(test_start_without_policy),
        cmocka_unit_test(test_pause_resume),
        cmocka_unit_test(test_pause_one_clock),
        cmocka_unit_test(test_meet_first_response),
        cmocka_unit_test(test_meet_resolution),
        cmocka_unit_test(test_meet_resolution_after_first_response),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_reopen),
        cmocka_unit_test(test_reopen_without_policy),
        cmocka_unit_test(test_reselect),
        cmocka_unit_test(test_reselect_without_policy),
        cmocka_unit_test(test_take_due),
        cmocka_unit_test(test_take_due_paused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
