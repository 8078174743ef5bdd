/*
 * Unit tests for src/domain/lifecycle.c: the whole 6 x 8 transition table
 * against an expectation written out independently here (API.md "Life
 * cycle"), the allowed-action lists, name parsing both ways, which states
 * are open and which actions are a first response.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ombud/lifecycle.h"

#define NONE (-1)

/* expected[state][action]: the state the action leads to, or NONE. */
static const int expected[OMBUD_ST_COUNT][OMBUD_ACT_COUNT] = {
    [OMBUD_ST_NEW] =
        {
            [OMBUD_ACT_ACKNOWLEDGE] = OMBUD_ST_ACKNOWLEDGED,
            [OMBUD_ACT_START] = OMBUD_ST_IN_PROGRESS,
            [OMBUD_ACT_PEND] = NONE,
            [OMBUD_ACT_RESUME] = NONE,
            [OMBUD_ACT_RESOLVE] = NONE,
            [OMBUD_ACT_CLOSE] = NONE,
            [OMBUD_ACT_REOPEN] = NONE,
            [OMBUD_ACT_WITHDRAW] = OMBUD_ST_CLOSED,
        },
    [OMBUD_ST_ACKNOWLEDGED] =
        {
            [OMBUD_ACT_ACKNOWLEDGE] = NONE,
            [OMBUD_ACT_START] = OMBUD_ST_IN_PROGRESS,
            [OMBUD_ACT_PEND] = OMBUD_ST_PENDING_CUSTOMER,
            [OMBUD_ACT_RESUME] = NONE,
            [OMBUD_ACT_RESOLVE] = OMBUD_ST_RESOLVED,
            [OMBUD_ACT_CLOSE] = NONE,
            [OMBUD_ACT_REOPEN] = NONE,
            [OMBUD_ACT_WITHDRAW] = OMBUD_ST_CLOSED,
        },
    [OMBUD_ST_IN_PROGRESS] =
        {
            [OMBUD_ACT_ACKNOWLEDGE] = NONE,
            [OMBUD_ACT_START] = NONE,
            [OMBUD_ACT_PEND] = OMBUD_ST_PENDING_CUSTOMER,
            [OMBUD_ACT_RESUME] = NONE,
            [OMBUD_ACT_RESOLVE] = OMBUD_ST_RESOLVED,
            [OMBUD_ACT_CLOSE] = NONE,
            [OMBUD_ACT_REOPEN] = NONE,
            [OMBUD_ACT_WITHDRAW] = OMBUD_ST_CLOSED,
        },
    [OMBUD_ST_PENDING_CUSTOMER] =
        {
            [OMBUD_ACT_ACKNOWLEDGE] = NONE,
            [OMBUD_ACT_START] = NONE,
            [OMBUD_ACT_PEND] = NONE,
            [OMBUD_ACT_RESUME] = OMBUD_ST_IN_PROGRESS,
            [OMBUD_ACT_RESOLVE] = OMBUD_ST_RESOLVED,
            [OMBUD_ACT_CLOSE] = NONE,
            [OMBUD_ACT_REOPEN] = NONE,
            [OMBUD_ACT_WITHDRAW] = OMBUD_ST_CLOSED,
        },
    [OMBUD_ST_RESOLVED] =
        {
            [OMBUD_ACT_ACKNOWLEDGE] = NONE,
            [OMBUD_ACT_START] = NONE,
            [OMBUD_ACT_PEND] = NONE,
            [OMBUD_ACT_RESUME] = NONE,
            [OMBUD_ACT_RESOLVE] = NONE,
            [OMBUD_ACT_CLOSE] = OMBUD_ST_CLOSED,
            [OMBUD_ACT_REOPEN] = OMBUD_ST_IN_PROGRESS,
            [OMBUD_ACT_WITHDRAW] = NONE,
        },
    [OMBUD_ST_CLOSED] =
        {
            [OMBUD_ACT_ACKNOWLEDGE] = NONE,
            [OMBUD_ACT_START] = NONE,
            [OMBUD_ACT_PEND] = NONE,
            [OMBUD_ACT_RESUME] = NONE,
            [OMBUD_ACT_RESOLVE] = NONE,
            [OMBUD_ACT_CLOSE] = NONE,
            [OMBUD_ACT_REOPEN] = OMBUD_ST_IN_PROGRESS,
            [OMBUD_ACT_WITHDRAW] = NONE,
        },
};

static const char *const status_names[OMBUD_ST_COUNT] = {
    "new", "acknowledged", "in_progress", "pending_customer", "resolved", "closed",
};

static const char *const action_names[OMBUD_ACT_COUNT] = {
    "acknowledge", "start", "pend", "resume", "resolve", "close", "reopen", "withdraw",
};

static void every_pair_of_the_table(void **state)
{
    int allowed = 0;
    for (int s = 0; s < OMBUD_ST_COUNT; s++) {
        for (int a = 0; a < OMBUD_ACT_COUNT; a++) {
            enum ombud_status to = (enum ombud_status)99;
            bool ok = ombud_lifecycle_next((enum ombud_status)s, (enum ombud_action)a, &to);
            if (ok != (expected[s][a] != NONE))
                fail_msg("%s from %s: expected %s", action_names[a], status_names[s],
                         expected[s][a] != NONE ? "allowed" : "refused");
            if (ok) {
                allowed++;
                if ((int)to != expected[s][a])
                    fail_msg("%s from %s leads to %s, expected %s", action_names[a],
                             status_names[s], status_names[to], status_names[expected[s][a]]);
            } else {
                /* A refusal leaves the output alone. */
                assert_int_equal(to, 99);
            }
        }
    }
    /* 1 + 2 + 2 + 1 + 3 + 1 + 2 + 4 */
    assert_int_equal(allowed, 16);
}

static void out_of_range_is_refused(void **state)
{
    enum ombud_status to = OMBUD_ST_NEW;
    assert_false(ombud_lifecycle_next(OMBUD_ST_COUNT, OMBUD_ACT_ACKNOWLEDGE, &to));
    assert_false(ombud_lifecycle_next(OMBUD_ST_NEW, OMBUD_ACT_COUNT, &to));
    assert_false(ombud_lifecycle_next((enum ombud_status) - 1, OMBUD_ACT_START, &to));
    assert_false(ombud_lifecycle_next(OMBUD_ST_NEW, (enum ombud_action) - 1, &to));
    assert_int_equal(to, OMBUD_ST_NEW);
}

static void allowed_lists(void **state)
{
    static const char *const want[OMBUD_ST_COUNT] = {
        [OMBUD_ST_NEW] = "acknowledge,start,withdraw",
        [OMBUD_ST_ACKNOWLEDGED] = "start,pend,resolve,withdraw",
        [OMBUD_ST_IN_PROGRESS] = "pend,resolve,withdraw",
        [OMBUD_ST_PENDING_CUSTOMER] = "resume,resolve,withdraw",
        [OMBUD_ST_RESOLVED] = "close,reopen",
        [OMBUD_ST_CLOSED] = "reopen",
    };
    char out[256];
    for (int s = 0; s < OMBUD_ST_COUNT; s++) {
        memset(out, 'x', sizeof out);
        ombud_lifecycle_allowed((enum ombud_status)s, out, sizeof out);
        assert_string_equal(out, want[s]);
    }
}

static void allowed_list_is_derived_from_the_table(void **state)
{
    /* The list names exactly the actions next() allows, in action order. */
    for (int s = 0; s < OMBUD_ST_COUNT; s++) {
        char out[256], built[256] = "";
        ombud_lifecycle_allowed((enum ombud_status)s, out, sizeof out);
        for (int a = 0; a < OMBUD_ACT_COUNT; a++) {
            enum ombud_status to;
            if (!ombud_lifecycle_next((enum ombud_status)s, (enum ombud_action)a, &to))
                continue;
            if (built[0])
                strcat(built, ",");
            strcat(built, action_names[a]);
        }
        assert_string_equal(out, built);
    }
}

static void allowed_list_truncates_safely(void **state)
{
    char out[8];
    memset(out, 'x', sizeof out);
    /* "start,pend,resolve,withdraw" does not fit: the result stays a
     * terminated string within the buffer. */
    ombud_lifecycle_allowed(OMBUD_ST_ACKNOWLEDGED, out, sizeof out);
    assert_true(memchr(out, '\0', sizeof out) != NULL);
    assert_true(strlen(out) < sizeof out);
    assert_int_equal(strncmp(out, "start,pend,resolve", strlen(out)), 0);

    char one[1] = {'x'};
    ombud_lifecycle_allowed(OMBUD_ST_CLOSED, one, sizeof one);
    assert_int_equal(one[0], '\0');
}

static void status_names_round_trip(void **state)
{
    for (int s = 0; s < OMBUD_ST_COUNT; s++) {
        enum ombud_status got = (enum ombud_status)99;
        assert_string_equal(ombud_status_name((enum ombud_status)s), status_names[s]);
        assert_string_equal(ombud_status_names[s], status_names[s]);
        assert_true(ombud_status_parse(status_names[s], &got));
        assert_int_equal(got, s);
    }
    assert_null(ombud_status_names[OMBUD_ST_COUNT]);
    assert_string_equal(ombud_status_name(OMBUD_ST_COUNT), "unknown");
    assert_string_equal(ombud_status_name((enum ombud_status) - 1), "unknown");
}

static void action_names_round_trip(void **state)
{
    for (int a = 0; a < OMBUD_ACT_COUNT; a++) {
        enum ombud_action got = (enum ombud_action)99;
        assert_string_equal(ombud_action_name((enum ombud_action)a), action_names[a]);
        assert_string_equal(ombud_action_names[a], action_names[a]);
        assert_true(ombud_action_parse(action_names[a], &got));
        assert_int_equal(got, a);
    }
    assert_null(ombud_action_names[OMBUD_ACT_COUNT]);
    assert_string_equal(ombud_action_name(OMBUD_ACT_COUNT), "unknown");
    assert_string_equal(ombud_action_name((enum ombud_action) - 1), "unknown");
}

static void unknown_names_are_refused(void **state)
{
    static const char *const bad[] = {
        "",           "New",     "NEW",   " new", "new ",      "in-progress", "inprogress",
        "pending",    "resolve", "close", "open", "withdrawn", "Acknowledge", "ack",
        "resolved\n", "closed\t"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum ombud_status st = (enum ombud_status)42;
        assert_false(ombud_status_parse(bad[i], &st));
        assert_int_equal(st, 42);
    }
    static const char *const bad_actions[] = {
        "",        "Acknowledge", "ACK",      "acknowledged", "started", "resolved", "closed",
        "re-open", "cancel",      "escalate", "withdraw ",    "pend\n",  "new",      "in_progress"};
    for (size_t i = 0; i < sizeof bad_actions / sizeof bad_actions[0]; i++) {
        enum ombud_action act = (enum ombud_action)42;
        assert_false(ombud_action_parse(bad_actions[i], &act));
        assert_int_equal(act, 42);
    }
    /* NULL is refused, not dereferenced. */
    enum ombud_status st = OMBUD_ST_NEW;
    enum ombud_action act = OMBUD_ACT_START;
    assert_false(ombud_status_parse(NULL, &st));
    assert_false(ombud_action_parse(NULL, &act));
}

static void open_states(void **state)
{
    assert_true(ombud_status_is_open(OMBUD_ST_NEW));
    assert_true(ombud_status_is_open(OMBUD_ST_ACKNOWLEDGED));
    assert_true(ombud_status_is_open(OMBUD_ST_IN_PROGRESS));
    assert_true(ombud_status_is_open(OMBUD_ST_PENDING_CUSTOMER));
    assert_false(ombud_status_is_open(OMBUD_ST_RESOLVED));
    assert_false(ombud_status_is_open(OMBUD_ST_CLOSED));
    /* Withdraw is allowed exactly from the open states. */
    for (int s = 0; s < OMBUD_ST_COUNT; s++) {
        enum ombud_status to;
        assert_int_equal(ombud_status_is_open((enum ombud_status)s),
                         ombud_lifecycle_next((enum ombud_status)s, OMBUD_ACT_WITHDRAW, &to));
    }
}

static void first_response_actions(void **state)
{
    static const bool want[OMBUD_ACT_COUNT] = {
        [OMBUD_ACT_ACKNOWLEDGE] = true, [OMBUD_ACT_START] = true,     [OMBUD_ACT_PEND] = false,
        [OMBUD_ACT_RESUME] = false,     [OMBUD_ACT_RESOLVE] = true,   [OMBUD_ACT_CLOSE] = false,
        [OMBUD_ACT_REOPEN] = false,     [OMBUD_ACT_WITHDRAW] = false,
    };
    for (int a = 0; a < OMBUD_ACT_COUNT; a++) {
        if (ombud_action_meets_first_response((enum ombud_action)a) != want[a])
            fail_msg("%s: first response expected %s", action_names[a], want[a] ? "true" : "false");
    }
}

static void every_state_reachable_from_new(void **state)
{
    /* Walk the table from new: every state can be reached, and from
     * every state a closed complaint can be reached. */
    bool seen[OMBUD_ST_COUNT] = {[OMBUD_ST_NEW] = true};
    bool grew = true;
    while (grew) {
        grew = false;
        for (int s = 0; s < OMBUD_ST_COUNT; s++) {
            if (!seen[s])
                continue;
            for (int a = 0; a < OMBUD_ACT_COUNT; a++) {
                enum ombud_status to;
                if (ombud_lifecycle_next((enum ombud_status)s, (enum ombud_action)a, &to) &&
                    !seen[to]) {
                    seen[to] = true;
                    grew = true;
                }
            }
        }
    }
    for (int s = 0; s < OMBUD_ST_COUNT; s++)
        assert_true(seen[s]);
    /* No action leads to new. */
    for (int s = 0; s < OMBUD_ST_COUNT; s++)
        for (int a = 0; a < OMBUD_ACT_COUNT; a++) {
            enum ombud_status to;
            if (ombud_lifecycle_next((enum ombud_status)s, (enum ombud_action)a, &to))
                assert_int_not_equal(to, OMBUD_ST_NEW);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_pair_of_the_table),
        cmocka_unit_test(out_of_range_is_refused),
        cmocka_unit_test(allowed_lists),
        cmocka_unit_test(allowed_list_is_derived_from_the_table),
        cmocka_unit_test(allowed_list_truncates_safely),
        cmocka_unit_test(status_names_round_trip),
        cmocka_unit_test(action_names_round_trip),
        cmocka_unit_test(unknown_names_are_refused),
        cmocka_unit_test(open_states),
        cmocka_unit_test(first_response_actions),
        cmocka_unit_test(every_state_reachable_from_new),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
