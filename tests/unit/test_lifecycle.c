/*
 * Unit tests for src/domain/lifecycle.c: the whole 6 x 8 transition table
 * against an expectation written out independently here (API.md "Life
 * cycle"), the allowed-action lists, name parsing both ways, which states
 * are open and which actions are a first response; then what every
 * change does (ombud_lifecycle_apply) for every (state, action) pair:
 * state, timestamps, SLA operation and events, and the JSON the events
 * are stored as (repr/event.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "ombud/complaint.h"
#include "ombud/lifecycle.h"
#include "ombud/repr.h"

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

/* ---- ombud_lifecycle_apply: what each change does ---- */

/* Per action, written out from API.md: timestamps set (a first response
 * only while none was given), cleared, and the SLA operation. */
static const struct {
    unsigned set, cleared;
    enum ombud_sla_op op;
} action_effects[OMBUD_ACT_COUNT] = {
    [OMBUD_ACT_ACKNOWLEDGE] = {OMBUD_STAMP_FIRST_RESPONSE, 0, OMBUD_SLA_OP_MEET_FR},
    [OMBUD_ACT_START] = {OMBUD_STAMP_FIRST_RESPONSE, 0, OMBUD_SLA_OP_MEET_FR},
    [OMBUD_ACT_PEND] = {0, 0, OMBUD_SLA_OP_PAUSE},
    [OMBUD_ACT_RESUME] = {0, 0, OMBUD_SLA_OP_RESUME},
    [OMBUD_ACT_RESOLVE] = {OMBUD_STAMP_FIRST_RESPONSE | OMBUD_STAMP_RESOLVED, 0,
                           OMBUD_SLA_OP_MEET_RES},
    [OMBUD_ACT_CLOSE] = {OMBUD_STAMP_CLOSED, 0, OMBUD_SLA_OP_STOP},
    [OMBUD_ACT_REOPEN] = {0, OMBUD_STAMP_RESOLVED | OMBUD_STAMP_CLOSED, OMBUD_SLA_OP_REOPEN},
    [OMBUD_ACT_WITHDRAW] = {OMBUD_STAMP_CLOSED, 0, OMBUD_SLA_OP_STOP},
};

/* A stored complaint in state s. */
static void complaint_in(struct ombud_complaint *cp, enum ombud_status s, int64_t first_response)
{
    memset(cp, 0, sizeof *cp);
    cp->id = 42;
    cp->status = s;
    cp->first_response_at = first_response;
    cp->customer_agreed = -1;
    cp->reopen_count = 2;
    cp->version = 7;
    snprintf(cp->category, sizeof cp->category, "billing");
    snprintf(cp->grade, sizeof cp->grade, "explicit");
    snprintf(cp->priority, sizeof cp->priority, "normal");
    snprintf(cp->channel, sizeof cp->channel, "api");
}

/* The input each action needs to be accepted when allowed. */
static struct ombud_transition action_input(enum ombud_action a, const char *note)
{
    struct ombud_transition t = {
        .kind = OMBUD_CHANGE_ACTION, .action = a, .note = note, .role = OMBUD_ROLE_AGENT};
    if (a == OMBUD_ACT_RESOLVE) {
        t.resolution.given = t.resolution.has_summary = true;
        t.resolution.summary = "Refunded";
    }
    if (a == OMBUD_ACT_CLOSE) {
        t.resolution.given = t.resolution.has_agreed = true;
        t.resolution.agreed = true;
    }
    return t;
}

static void check_action(enum ombud_status s, enum ombud_action a, int64_t fr, const char *note)
{
    struct ombud_complaint cp;
    struct ombud_effects eff;
    struct ombud_err err;
    struct ombud_transition t = action_input(a, note);
    char want_allowed[256];

    complaint_in(&cp, s, fr);
    ombud_err_clear(&err);
    enum ombud_rc rc = ombud_lifecycle_apply(&cp, &t, &eff, &err);
    if (expected[s][a] == NONE) {
        if (rc == OMBUD_OK)
            fail_msg("%s from %s: applied, expected a refusal", action_names[a], status_names[s]);
        assert_int_equal(err.kind, OMBUD_E_CONFLICT);
        assert_string_equal(err.type, "transition-not-allowed");
        ombud_lifecycle_allowed(s, want_allowed, sizeof want_allowed);
        assert_string_equal(err.allowed, want_allowed);
        return;
    }
    if (rc != OMBUD_OK)
        fail_msg("%s from %s: refused (%s)", action_names[a], status_names[s], err.detail);
    assert_true(eff.save);
    assert_int_equal(eff.to, expected[s][a]);
    unsigned set = action_effects[a].set;
    if (fr)
        set &= ~(unsigned)OMBUD_STAMP_FIRST_RESPONSE;
    if (eff.stamps_set != set || eff.stamps_cleared != action_effects[a].cleared)
        fail_msg("%s from %s (first response %s): stamps set %#x cleared %#x", action_names[a],
                 status_names[s], fr ? "given" : "due", eff.stamps_set, eff.stamps_cleared);
    assert_true(eff.sla);
    assert_int_equal(eff.sla_op, action_effects[a].op);

    /* Events: the note first, then the clock pause/resume, then the status change. */
    size_t i = 0;
    if (note) {
        assert_string_equal(eff.note, note);
        assert_string_equal(eff.note_visibility, "internal");
        assert_int_equal(eff.events[i].kind, OMBUD_EV_NOTE_ADDED);
        assert_true(eff.events[i].about_note);
        i++;
    } else {
        assert_null(eff.note);
    }
    if (a == OMBUD_ACT_PEND || a == OMBUD_ACT_RESUME) {
        assert_int_equal(eff.events[i].kind,
                         a == OMBUD_ACT_PEND ? OMBUD_EV_SLA_PAUSED : OMBUD_EV_SLA_RESUMED);
        assert_int_equal(eff.events[i].to, expected[s][a]);
        i++;
    }
    const struct ombud_event_rec *ev = &eff.events[i++];
    assert_int_equal(eff.nevents, i);
    assert_int_equal(ev->kind, OMBUD_EV_STATUS_CHANGED);
    assert_int_equal(ev->action, a);
    assert_int_equal(ev->from, s);
    assert_int_equal(ev->to, expected[s][a]);
    assert_int_equal(ev->about_note, note != NULL);
    assert_false(ev->forced);
    if (a == OMBUD_ACT_REOPEN)
        assert_int_equal(ev->reopen_count, 3);
    if (a == OMBUD_ACT_RESOLVE)
        assert_string_equal(ev->resolution_summary, "Refunded");
    else
        assert_null(ev->resolution_summary);

    /* Committed, the record shows it. */
    cp.resolved_at = cp.closed_at = 5;
    assert_true(ombud_lifecycle_commit(&cp, &eff, 1000));
    assert_int_equal(cp.status, expected[s][a]);
    assert_int_equal(cp.first_response_at, fr ? fr : (set & OMBUD_STAMP_FIRST_RESPONSE) ? 1000 : 0);
    assert_int_equal(cp.reopen_count, a == OMBUD_ACT_REOPEN ? 3 : 2);
    if (a == OMBUD_ACT_REOPEN) {
        assert_int_equal(cp.resolved_at, 0);
        assert_int_equal(cp.closed_at, 0);
        assert_int_equal(cp.customer_agreed, -1);
    }
    if (a == OMBUD_ACT_RESOLVE) {
        assert_int_equal(cp.resolved_at, 1000);
        assert_string_equal(cp.resolution_summary, "Refunded");
    }
    if (a == OMBUD_ACT_CLOSE || a == OMBUD_ACT_WITHDRAW)
        assert_int_equal(cp.closed_at, 1000);
    if (a == OMBUD_ACT_CLOSE)
        assert_int_equal(cp.customer_agreed, 1);
    ombud_complaint_clear(&cp);
}

static void apply_every_pair(void **state)
{
    for (int s = 0; s < OMBUD_ST_COUNT; s++)
        for (int a = 0; a < OMBUD_ACT_COUNT; a++) {
            check_action((enum ombud_status)s, (enum ombud_action)a, 0, NULL);
            check_action((enum ombud_status)s, (enum ombud_action)a, 1234, NULL);
            check_action((enum ombud_status)s, (enum ombud_action)a, 0, "Called the customer");
        }
}

static void close_needs_agreement_or_force(void **state)
{
    struct ombud_complaint cp;
    struct ombud_effects eff;
    struct ombud_err err;
    struct ombud_transition t = {.kind = OMBUD_CHANGE_ACTION, .action = OMBUD_ACT_CLOSE};

    complaint_in(&cp, OMBUD_ST_RESOLVED, 1);
    ombud_err_clear(&err);
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_ERROR);
    assert_int_equal(err.kind, OMBUD_E_INVALID);
    assert_int_equal(err.nfields, 1);
    assert_string_equal(err.fields[0].field, "resolution.customer_agreed");

    /* Agreement recorded at resolve counts; an explicit false does not. */
    cp.customer_agreed = 1;
    ombud_err_clear(&err);
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    assert_int_equal(eff.nassign, 0);
    t.resolution.has_agreed = true;
    t.resolution.agreed = false;
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_ERROR);

    /* Forced: closed anyway, the agreement sent is recorded, the event says so. */
    t.force = true;
    ombud_err_clear(&err);
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    assert_int_equal(eff.to, OMBUD_ST_CLOSED);
    assert_int_equal(eff.nassign, 1);
    assert_int_equal(eff.assign[0].field, OMBUD_FIELD_CUSTOMER_AGREED);
    assert_int_equal(eff.assign[0].to.n, 0);
    assert_true(eff.events[eff.nevents - 1].forced);
}

static void resolve_records_the_resolution(void **state)
{
    struct ombud_complaint cp;
    struct ombud_effects eff;
    struct ombud_err err;
    struct ombud_transition t = action_input(OMBUD_ACT_RESOLVE, NULL);

    complaint_in(&cp, OMBUD_ST_IN_PROGRESS, 1);
    cp.compensation_amount = strdup("1.00");
    snprintf(cp.compensation_currency, sizeof cp.compensation_currency, "USD");
    cp.customer_agreed = 1;
    t.resolution.amount = "25.50";
    t.resolution.currency = "EUR";
    ombud_err_clear(&err);
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    assert_true(ombud_lifecycle_commit(&cp, &eff, 9));
    assert_string_equal(cp.resolution_summary, "Refunded");
    assert_string_equal(cp.compensation_amount, "25.50");
    assert_string_equal(cp.compensation_currency, "EUR");
    /* Agreement not sent: unknown again. */
    assert_int_equal(cp.customer_agreed, -1);

    /* Without compensation the old one is cleared. */
    t = action_input(OMBUD_ACT_RESOLVE, NULL);
    t.resolution.has_agreed = t.resolution.agreed = true;
    cp.status = OMBUD_ST_IN_PROGRESS;
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    assert_true(ombud_lifecycle_commit(&cp, &eff, 9));
    assert_null(cp.compensation_amount);
    assert_string_equal(cp.compensation_currency, "");
    assert_int_equal(cp.customer_agreed, 1);
    ombud_complaint_clear(&cp);
}

static void input_checks(void **state)
{
    struct ombud_err err;
    struct ombud_transition t = {.kind = OMBUD_CHANGE_ACTION, .action = OMBUD_ACT_RESOLVE};

    ombud_err_clear(&err);
    ombud_lifecycle_check_input(&t, &err);
    assert_int_equal(err.nfields, 1);
    assert_string_equal(err.fields[0].field, "resolution.summary");

    t = (struct ombud_transition){.kind = OMBUD_CHANGE_ACTION, .action = OMBUD_ACT_WITHDRAW};
    ombud_err_clear(&err);
    ombud_lifecycle_check_input(&t, &err);
    assert_int_equal(err.nfields, 1);
    assert_string_equal(err.fields[0].field, "note");

    t = (struct ombud_transition){.kind = OMBUD_CHANGE_ACTION,
                                  .action = OMBUD_ACT_PEND,
                                  .force = true,
                                  .resolution.given = true};
    ombud_err_clear(&err);
    ombud_lifecycle_check_input(&t, &err);
    assert_int_equal(err.nfields, 2);
    assert_string_equal(err.fields[0].field, "resolution");
    assert_string_equal(err.fields[1].field, "force");

    t = action_input(OMBUD_ACT_CLOSE, NULL);
    t.force = true;
    ombud_err_clear(&err);
    ombud_lifecycle_check_input(&t, &err);
    assert_int_equal(err.nfields, 0);
    t.resolution.has_summary = true;
    ombud_lifecycle_check_input(&t, &err);
    assert_int_equal(err.nfields, 1);
    assert_string_equal(err.fields[0].message, "close takes only customer_agreed");
    /* Only actions are checked here. */
    t = (struct ombud_transition){.kind = OMBUD_CHANGE_NOTE};
    ombud_err_clear(&err);
    ombud_lifecycle_check_input(&t, &err);
    assert_int_equal(err.nfields, 0);
}

static void public_note_by_the_team_is_a_first_response(void **state)
{
    static const struct {
        const char *visibility;
        enum ombud_role role;
        int64_t fr;
        bool first_response;
    } cases[] = {
        {"public", OMBUD_ROLE_AGENT, 0, true},   {"public", OMBUD_ROLE_SUPERVISOR, 0, true},
        {"public", OMBUD_ROLE_ADMIN, 0, true},   {"public", OMBUD_ROLE_SERVICE, 0, false},
        {"public", OMBUD_ROLE_NONE, 0, false},   {"internal", OMBUD_ROLE_AGENT, 0, false},
        {"public", OMBUD_ROLE_AGENT, 99, false},
    };
    for (int s = 0; s < OMBUD_ST_COUNT; s++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            struct ombud_complaint cp;
            struct ombud_effects eff;
            struct ombud_err err;
            struct ombud_transition t = {.kind = OMBUD_CHANGE_NOTE,
                                         .note = "Hello",
                                         .visibility = cases[i].visibility,
                                         .role = cases[i].role};
            complaint_in(&cp, (enum ombud_status)s, cases[i].fr);
            ombud_err_clear(&err);
            /* A note is taken in every state. */
            assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
            assert_int_equal(eff.to, s);
            assert_string_equal(eff.note, "Hello");
            assert_string_equal(eff.note_visibility, cases[i].visibility);
            assert_int_equal(eff.nevents, 1);
            assert_int_equal(eff.events[0].kind, OMBUD_EV_NOTE_ADDED);
            assert_int_equal(eff.save, cases[i].first_response);
            assert_int_equal(eff.sla, cases[i].first_response);
            if (cases[i].first_response) {
                assert_int_equal(eff.sla_op, OMBUD_SLA_OP_MEET_FR);
                assert_int_equal(eff.stamps_set, OMBUD_STAMP_FIRST_RESPONSE);
            } else {
                assert_int_equal(eff.stamps_set, 0);
            }
            assert_int_equal(eff.nassign, 0);
        }
}

static void escalation(void **state)
{
    struct ombud_complaint cp;
    struct ombud_effects eff;
    struct ombud_err err;
    struct ombud_transition t = {
        .kind = OMBUD_CHANGE_ESCALATE, .reason = "regulator", .escalation_team_id = 6};

    for (int s = 0; s < OMBUD_ST_COUNT; s++) {
        complaint_in(&cp, (enum ombud_status)s, 0);
        cp.team_id = 5;
        ombud_err_clear(&err);
        enum ombud_rc rc = ombud_lifecycle_apply(&cp, &t, &eff, &err);
        if (ombud_status_is_open((enum ombud_status)s)) {
            assert_int_equal(rc, OMBUD_OK);
            assert_int_equal(eff.to, s);
        } else {
            assert_int_equal(rc, OMBUD_ERROR);
            assert_int_equal(err.kind, OMBUD_E_CONFLICT);
            assert_string_equal(err.type, "not-open");
        }
    }

    /* Along the chain: the team's escalation team. */
    complaint_in(&cp, OMBUD_ST_IN_PROGRESS, 0);
    cp.team_id = 5;
    cp.escalation_level = 1;
    t.escalation_team_id = 6;
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    assert_true(eff.save);
    assert_false(eff.sla);
    assert_int_equal(eff.stamps_set | eff.stamps_cleared, 0);
    assert_int_equal(eff.nevents, 1);
    assert_int_equal(eff.events[0].kind, OMBUD_EV_ESCALATED);
    assert_string_equal(eff.events[0].reason, "regulator");
    assert_int_equal(eff.events[0].from_level, 1);
    assert_int_equal(eff.events[0].to_level, 2);
    assert_int_equal(eff.events[0].nchanges, 1);
    assert_int_equal(eff.events[0].changes[0].from.n, 5);
    assert_int_equal(eff.events[0].changes[0].to.n, 6);
    char *data = ombud_repr_event_data(&eff.events[0]);
    assert_string_equal(data, "{\"reason\":\"regulator\",\"from_level\":1,\"to_level\":2,"
                              "\"team_id\":{\"from\":5,\"to\":6}}");
    free(data);
    assert_true(ombud_lifecycle_commit(&cp, &eff, 1));
    assert_int_equal(cp.escalation_level, 2);
    assert_int_equal(cp.team_id, 6);

    /* The top of the chain: nowhere to go, a conflict naming team_id. */
    t.escalation_team_id = 0;
    ombud_err_clear(&err);
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_ERROR);
    assert_int_equal(err.kind, OMBUD_E_CONFLICT);
    assert_string_equal(err.type, "escalation-at-top");
    assert_non_null(strstr(err.detail, "team 6 "));
    assert_non_null(strstr(err.detail, "team_id"));

    /* An explicit team wins, if it exists. */
    t.team_id = 9;
    t.escalation_team_id = 7;
    ombud_err_clear(&err);
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_ERROR);
    assert_int_equal(err.kind, OMBUD_E_INVALID);
    assert_string_equal(err.fields[0].field, "team_id");
    t.team_known = true;
    ombud_err_clear(&err);
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    assert_int_equal(eff.events[0].changes[0].to.n, 9);

    /* No team: none to escalate to, and none named. */
    cp.team_id = 0;
    t.team_id = 0;
    t.escalation_team_id = 0;
    ombud_err_clear(&err);
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_ERROR);
    assert_int_equal(err.kind, OMBUD_E_CONFLICT);
    assert_string_equal(err.type, "escalation-at-top");
    /* Not even an escalation team of a team it does not have. */
    t.escalation_team_id = 7;
    ombud_err_clear(&err);
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_ERROR);
    assert_string_equal(err.type, "escalation-at-top");
    /* An escalation rule at the top: the level rises, the team stays. */
    cp.team_id = 6;
    t.escalation_team_id = 0;
    t.by_rule = true;
    ombud_err_clear(&err);
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    assert_int_equal(eff.events[0].kind, OMBUD_EV_ESCALATED);
    assert_int_equal(eff.events[0].to_level, cp.escalation_level + 1);
    assert_int_equal(eff.events[0].nchanges, 0);
    ombud_complaint_clear(&cp);
}

/* Routing: which changes hand a complaint over, and how the assignee
 * routing settles on is recorded and reported. */
static void handover(void **state)
{
    struct ombud_complaint cp;
    struct ombud_effects eff;
    struct ombud_err err;
    struct ombud_transition t = {.kind = OMBUD_CHANGE_EDIT};
    int64_t team = -1;

    assert_true(ombud_lifecycle_intake_routes(3, 0));
    assert_false(ombud_lifecycle_intake_routes(3, 8));
    assert_false(ombud_lifecycle_intake_routes(0, 0));
    assert_false(ombud_lifecycle_intake_routes(0, 8));

    complaint_in(&cp, OMBUD_ST_IN_PROGRESS, 0);
    cp.team_id = 3;
    cp.assignee_id = 8;
    ombud_err_clear(&err);

    /* An edit that leaves the team: no handover; a named assignee is new. */
    t.edit.has_title = true;
    t.edit.title = "New";
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    assert_false(ombud_lifecycle_handover(&t, &eff, &team));
    assert_int_equal(ombud_effects_new_assignee(&eff), 0);
    t.edit.has_assignee = true;
    t.edit.assignee_id = 9;
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    assert_false(ombud_lifecycle_handover(&t, &eff, &team));
    assert_int_equal(ombud_effects_new_assignee(&eff), 9);
    /* Naming the assignee it has already assigns no one. */
    t.edit.assignee_id = 8;
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    assert_int_equal(ombud_effects_new_assignee(&eff), 0);

    /* Another team with the assignee named (even as none): no handover. */
    t = (struct ombud_transition){.kind = OMBUD_CHANGE_EDIT};
    t.edit.has_team = t.edit.has_assignee = true;
    t.edit.team_id = 4;
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    assert_false(ombud_lifecycle_handover(&t, &eff, &team));
    /* The same team, or none: no handover. */
    t.edit.has_assignee = false;
    t.edit.team_id = 3;
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    assert_false(ombud_lifecycle_handover(&t, &eff, &team));
    t.edit.team_id = 0;
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    assert_false(ombud_lifecycle_handover(&t, &eff, &team));
    assert_int_equal(team, -1);

    /* Another team, assignee unsaid: a handover, reported in assigned. */
    t.edit.team_id = 4;
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    assert_true(ombud_lifecycle_handover(&t, &eff, &team));
    assert_int_equal(team, 4);
    ombud_effects_reassign(&cp, &eff, 8); /* a member of team 4: kept */
    assert_int_equal(eff.nassign, 1);
    assert_int_equal(eff.events[0].nchanges, 1);
    ombud_effects_reassign(&cp, &eff, 12); /* routed */
    assert_int_equal(ombud_effects_new_assignee(&eff), 12);
    assert_int_equal(eff.nevents, 1);
    char *data = ombud_repr_event_data(&eff.events[0]);
    assert_string_equal(data, "{\"team_id\":{\"from\":3,\"to\":4},"
                              "\"assignee_id\":{\"from\":8,\"to\":12}}");
    free(data);
    assert_true(ombud_lifecycle_commit(&cp, &eff, 1));
    assert_int_equal(cp.team_id, 4);
    assert_int_equal(cp.assignee_id, 12);

    /* An escalation moves the team: a handover, reported in escalated;
     * no one to route to clears the assignee. */
    t = (struct ombud_transition){
        .kind = OMBUD_CHANGE_ESCALATE, .reason = "up", .escalation_team_id = 5};
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    assert_true(ombud_lifecycle_handover(&t, &eff, &team));
    assert_int_equal(team, 5);
    ombud_effects_reassign(&cp, &eff, 0);
    data = ombud_repr_event_data(&eff.events[0]);
    assert_string_equal(data, "{\"reason\":\"up\",\"from_level\":0,\"to_level\":1,"
                              "\"team_id\":{\"from\":4,\"to\":5},"
                              "\"assignee_id\":{\"from\":12,\"to\":null}}");
    free(data);
    assert_true(ombud_lifecycle_commit(&cp, &eff, 1));
    assert_int_equal(cp.assignee_id, 0);
    ombud_complaint_clear(&cp);
}

static void satisfaction(void **state)
{
    struct ombud_complaint cp;
    struct ombud_effects eff;
    struct ombud_err err;
    struct ombud_transition t = {.kind = OMBUD_CHANGE_SATISFACTION, .score = 4, .comment = "Quick"};

    for (int s = 0; s < OMBUD_ST_COUNT; s++) {
        complaint_in(&cp, (enum ombud_status)s, 0);
        ombud_err_clear(&err);
        enum ombud_rc rc = ombud_lifecycle_apply(&cp, &t, &eff, &err);
        if (s == OMBUD_ST_RESOLVED || s == OMBUD_ST_CLOSED) {
            assert_int_equal(rc, OMBUD_OK);
            assert_int_equal(eff.to, s);
            assert_int_equal(eff.stamps_set, OMBUD_STAMP_SATISFACTION);
            assert_false(eff.sla);
            assert_int_equal(eff.nevents, 1);
            assert_int_equal(eff.events[0].kind, OMBUD_EV_SATISFACTION_RECORDED);
            char *data = ombud_repr_event_data(&eff.events[0]);
            assert_string_equal(data, "{\"score\":4}");
            free(data);
            assert_true(ombud_lifecycle_commit(&cp, &eff, 77));
            assert_int_equal(cp.satisfaction_score, 4);
            assert_string_equal(cp.satisfaction_comment, "Quick");
            assert_int_equal(cp.satisfaction_at, 77);
            /* Once only. */
            ombud_err_clear(&err);
            assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_ERROR);
            assert_int_equal(err.kind, OMBUD_E_CONFLICT);
            assert_string_equal(err.type, "already-recorded");
        } else {
            assert_int_equal(rc, OMBUD_ERROR);
            assert_int_equal(err.kind, OMBUD_E_CONFLICT);
            assert_string_equal(err.type, "not-resolved");
        }
        ombud_complaint_clear(&cp);
    }
}

static void edits(void **state)
{
    struct ombud_complaint cp;
    struct ombud_effects eff;
    struct ombud_err err;
    struct ombud_transition t = {.kind = OMBUD_CHANGE_EDIT};

    complaint_in(&cp, OMBUD_ST_NEW, 0);
    cp.title = strdup("Old");
    cp.tags_json = strdup("[\"a\"]");
    cp.team_id = 3;
    ombud_err_clear(&err);

    /* Nothing differs: no new version, no clocks, no events. */
    t.edit.has_title = t.edit.has_category = t.edit.has_demand = t.edit.has_tags = true;
    t.edit.title = "Old";
    t.edit.category = "billing";
    t.edit.tags_json = "[\"a\"]";
    t.edit.has_team = true;
    t.edit.team_id = 3;
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    assert_false(eff.save);
    assert_false(eff.sla);
    assert_int_equal(eff.nevents, 0);
    assert_int_equal(eff.nassign, 0);

    /* Text without policy fields: updated, no reselection. */
    t.edit.title = "New";
    t.edit.demand = "refund";
    t.edit.tags_json = NULL; /* [] */
    t.edit.team_id = 0;      /* cleared */
    t.edit.has_assignee = true;
    t.edit.assignee_id = 8;
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    assert_true(eff.save);
    assert_false(eff.sla);
    assert_int_equal(eff.to, OMBUD_ST_NEW);
    assert_int_equal(eff.nevents, 2);
    assert_int_equal(eff.events[0].kind, OMBUD_EV_UPDATED);
    assert_int_equal(eff.events[1].kind, OMBUD_EV_ASSIGNED);
    char *data = ombud_repr_event_data(&eff.events[0]);
    assert_string_equal(data, "{\"changes\":{\"title\":{\"from\":\"Old\",\"to\":\"New\"},"
                              "\"demand\":{\"from\":null,\"to\":\"refund\"},"
                              "\"tags\":{\"from\":[\"a\"],\"to\":[]}}}");
    free(data);
    data = ombud_repr_event_data(&eff.events[1]);
    assert_string_equal(data, "{\"team_id\":{\"from\":3,\"to\":null},"
                              "\"assignee_id\":{\"from\":null,\"to\":8}}");
    free(data);
    assert_true(ombud_lifecycle_commit(&cp, &eff, 1));
    assert_string_equal(cp.title, "New");
    assert_string_equal(cp.demand, "refund");
    assert_string_equal(cp.tags_json, "[]");
    assert_int_equal(cp.team_id, 0);
    assert_int_equal(cp.assignee_id, 8);

    /* Priority, grade or category: the policy is chosen again. */
    const char **values[] = {&t.edit.priority, &t.edit.grade, &t.edit.category};
    bool *has[] = {&t.edit.has_priority, &t.edit.has_grade, &t.edit.has_category};
    for (int i = 0; i < 3; i++) {
        t = (struct ombud_transition){.kind = OMBUD_CHANGE_EDIT};
        *has[i] = true;
        *values[i] = "urgent";
        assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
        assert_true(eff.sla);
        assert_int_equal(eff.sla_op, OMBUD_SLA_OP_RESELECT);
        assert_int_equal(eff.nevents, 1);
    }
    /* Clearing a fixed field reports null. */
    t = (struct ombud_transition){.kind = OMBUD_CHANGE_EDIT};
    t.edit.has_demand = true;
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    data = ombud_repr_event_data(&eff.events[0]);
    assert_string_equal(data, "{\"changes\":{\"demand\":{\"from\":\"refund\",\"to\":null}}}");
    free(data);
    assert_true(ombud_lifecycle_commit(&cp, &eff, 1));
    assert_string_equal(cp.demand, "");
    ombud_complaint_clear(&cp);
}

static void created(void **state)
{
    struct ombud_complaint cp;
    struct ombud_effects eff;

    complaint_in(&cp, OMBUD_ST_NEW, 0);
    ombud_lifecycle_created(&cp, &eff);
    assert_true(eff.sla);
    assert_int_equal(eff.sla_op, OMBUD_SLA_OP_START);
    assert_int_equal(eff.nevents, 1);
    char *data = ombud_repr_event_data(&eff.events[0]);
    assert_string_equal(data, "{\"reference\":\"CMP-000042\",\"channel\":\"api\","
                              "\"category\":\"billing\",\"grade\":\"explicit\","
                              "\"priority\":\"normal\"}");
    free(data);

    cp.assignee_id = 4;
    ombud_lifecycle_created(&cp, &eff);
    assert_int_equal(eff.nevents, 2);
    assert_int_equal(eff.events[1].kind, OMBUD_EV_ASSIGNED);
    data = ombud_repr_event_data(&eff.events[1]);
    assert_string_equal(data, "{\"team_id\":{\"from\":null,\"to\":null},"
                              "\"assignee_id\":{\"from\":null,\"to\":4}}");
    free(data);
}

static void status_event_json(void **state)
{
    struct ombud_complaint cp;
    struct ombud_effects eff;
    struct ombud_err err;
    struct ombud_transition t = action_input(OMBUD_ACT_PEND, "Waiting for photos");
    char *data;

    complaint_in(&cp, OMBUD_ST_IN_PROGRESS, 1);
    ombud_err_clear(&err);
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    ombud_effects_note_stored(&eff, 31);
    const char *want[] = {
        "{\"note_id\":31,\"visibility\":\"internal\"}",
        "{\"status\":\"pending_customer\"}",
        "{\"action\":\"pend\",\"from\":\"in_progress\",\"to\":\"pending_customer\","
        "\"note_id\":31}",
    };
    assert_int_equal(eff.nevents, 3);
    for (size_t i = 0; i < 3; i++) {
        data = ombud_repr_event_data(&eff.events[i]);
        assert_string_equal(data, want[i]);
        free(data);
    }
    assert_string_equal(ombud_event_kind_name(eff.events[1].kind), "sla_paused");

    cp.status = OMBUD_ST_CLOSED;
    t = action_input(OMBUD_ACT_REOPEN, NULL);
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    data = ombud_repr_event_data(&eff.events[0]);
    assert_string_equal(data, "{\"action\":\"reopen\",\"from\":\"closed\",\"to\":\"in_progress\","
                              "\"reopen_count\":3}");
    free(data);

    cp.status = OMBUD_ST_RESOLVED;
    t = action_input(OMBUD_ACT_CLOSE, NULL);
    t.force = true;
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    data = ombud_repr_event_data(&eff.events[0]);
    assert_string_equal(data, "{\"action\":\"close\",\"from\":\"resolved\",\"to\":\"closed\","
                              "\"forced\":true}");
    free(data);

    cp.status = OMBUD_ST_ACKNOWLEDGED;
    t = action_input(OMBUD_ACT_RESOLVE, NULL);
    assert_int_equal(ombud_lifecycle_apply(&cp, &t, &eff, &err), OMBUD_OK);
    data = ombud_repr_event_data(&eff.events[0]);
    assert_string_equal(data, "{\"action\":\"resolve\",\"from\":\"acknowledged\","
                              "\"to\":\"resolved\",\"resolution\":{\"summary\":\"Refunded\"}}");
    free(data);
}

static void names_of_fields_and_events(void **state)
{
    static const char *const kinds[OMBUD_EV_COUNT] = {
        "created",    "assigned",    "updated",   "note_added",           "status_changed",
        "sla_paused", "sla_resumed", "escalated", "satisfaction_recorded"};
    for (int k = 0; k < OMBUD_EV_COUNT; k++)
        assert_string_equal(ombud_event_kind_name((enum ombud_event_kind)k), kinds[k]);
    assert_string_equal(ombud_event_kind_name(OMBUD_EV_COUNT), "unknown");
    for (int f = 0; f < OMBUD_FIELD_COUNT; f++)
        assert_non_null(ombud_field_name((enum ombud_field)f));
    assert_string_equal(ombud_field_name(OMBUD_FIELD_TEAM_ID), "team_id");
    assert_string_equal(ombud_field_name(OMBUD_FIELD_COUNT), "unknown");
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
        cmocka_unit_test(apply_every_pair),
        cmocka_unit_test(close_needs_agreement_or_force),
        cmocka_unit_test(resolve_records_the_resolution),
        cmocka_unit_test(input_checks),
        cmocka_unit_test(public_note_by_the_team_is_a_first_response),
        cmocka_unit_test(escalation),
        cmocka_unit_test(handover),
        cmocka_unit_test(satisfaction),
        cmocka_unit_test(edits),
        cmocka_unit_test(created),
        cmocka_unit_test(status_event_json),
        cmocka_unit_test(names_of_fields_and_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
