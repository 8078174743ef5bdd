/*
 * Unit tests for src/domain/err.c (error accumulation), src/http/problem.c
 * (error kind -> HTTP status and title; constraint explanations) and
 * src/repr/problem.c (RFC 9457 problem details built from them).
 * Every jansson reference taken here is released: the suite runs under
 * the leak checker.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ombud/err.h"
#include "http/problem.h"
#include "ombud/repr.h"

static void fresh(struct ombud_err *err)
{
    memset(err, 0x7E, sizeof *err);
    ombud_err_clear(err);
}

/* The string member key of o (asserting it is a string). */
static const char *str_at(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        print_error("missing key \"%s\"\n", key);
    assert_non_null(v);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

/* The problem body the HTTP layer sends for err. */
static json_t *problem_of(const struct ombud_err *err, const char *instance, const char *request_id)
{
    return ombud_repr_problem(err, ombud_problem_status(err->kind), ombud_problem_title(err->kind),
                              instance, request_id);
}

/* ---- err.c ---- */

static void test_clear(void **state)
{
    struct ombud_err err;
    (void)state;
    memset(&err, 0x41, sizeof err);
    ombud_err_clear(&err);
    assert_int_equal(err.kind, OMBUD_E_NONE);
    assert_string_equal(err.type, "");
    assert_string_equal(err.constraint, "");
    assert_string_equal(err.detail, "");
    assert_string_equal(err.allowed, "");
    assert_int_equal(err.nfields, 0);
}

static void test_set(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    assert_int_equal(ombud_err_set(&err, OMBUD_E_CONFLICT, "transition-not-allowed",
                                   "complaint %d is %s", 7, "closed"),
                     OMBUD_ERROR);
    assert_int_equal(err.kind, OMBUD_E_CONFLICT);
    assert_string_equal(err.type, "transition-not-allowed");
    assert_string_equal(err.detail, "complaint 7 is closed");
    assert_int_equal(err.nfields, 0);
    assert_int_equal(ombud_problem_status(err.kind), 409);
    assert_string_equal(ombud_problem_title(err.kind), "Conflict");

    /* A new error forgets the constraint of the last one. */
    ombud_err_constraint(&err, "teams_name_key");
    ombud_err_set(&err, OMBUD_E_CONFLICT, NULL, "x");
    assert_string_equal(err.constraint, "");
    assert_string_equal(err.type, "conflict");
}

static void test_set_null_strings(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    /* No slug: the kind's default. */
    assert_int_equal(ombud_err_set(&err, OMBUD_E_INTERNAL, NULL, "%s", ""), OMBUD_ERROR);
    assert_int_equal(err.kind, OMBUD_E_INTERNAL);
    assert_string_equal(err.type, "internal");
    assert_string_equal(err.detail, "");
    ombud_err_constraint(&err, NULL);
    assert_string_equal(err.constraint, "");
}

static void test_set_truncates(void **state)
{
    struct ombud_err err;
    char big[2000];
    (void)state;
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    fresh(&err);
    ombud_err_set(&err, OMBUD_E_BAD_REQUEST, big, "%s", big);
    ombud_err_constraint(&err, big);
    assert_int_equal(strlen(err.type), sizeof err.type - 1);
    assert_int_equal(strlen(err.constraint), sizeof err.constraint - 1);
    assert_int_equal(strlen(err.detail), sizeof err.detail - 1);
    assert_int_equal(err.nfields, 0);
}

static void test_set_keeps_fields(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    ombud_err_field(&err, "a", "bad");
    ombud_err_set(&err, OMBUD_E_BAD_REQUEST, NULL, "x");
    assert_int_equal(err.nfields, 1);
    assert_string_equal(err.fields[0].field, "a");
}

static void test_field_append(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    ombud_err_field(&err, "name", "is required");
    ombud_err_field(&err, "age", "must be from %d to %d", 0, 150);
    assert_int_equal(err.nfields, 2);
    assert_string_equal(err.fields[0].field, "name");
    assert_string_equal(err.fields[0].message, "is required");
    assert_string_equal(err.fields[1].field, "age");
    assert_string_equal(err.fields[1].message, "must be from 0 to 150");
    /* Collecting fields sets no error kind. */
    assert_int_equal(err.kind, OMBUD_E_NONE);
}

static void test_field_null_name(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    ombud_err_field(&err, NULL, "m");
    assert_int_equal(err.nfields, 1);
    assert_string_equal(err.fields[0].field, "");
    assert_string_equal(err.fields[0].message, "m");
}

static void test_field_truncates(void **state)
{
    struct ombud_err err;
    char big[500];
    (void)state;
    memset(big, 'f', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    fresh(&err);
    ombud_err_field(&err, big, "%s", big);
    assert_int_equal(err.nfields, 1);
    assert_int_equal(strlen(err.fields[0].field), sizeof err.fields[0].field - 1);
    assert_int_equal(strlen(err.fields[0].message), sizeof err.fields[0].message - 1);
}

static void test_field_cap(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    for (int i = 0; i < OMBUD_ERR_MAX_FIELDS + 10; i++)
        ombud_err_field(&err, "f", "n%d", i);
    assert_int_equal(err.nfields, OMBUD_ERR_MAX_FIELDS);
    assert_string_equal(err.fields[0].message, "n0");
    char want[16];
    snprintf(want, sizeof want, "n%d", OMBUD_ERR_MAX_FIELDS - 1);
    assert_string_equal(err.fields[OMBUD_ERR_MAX_FIELDS - 1].message, want);
}

static void test_finish_validation_none(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    assert_int_equal(ombud_err_finish_validation(&err), OMBUD_OK);
    assert_int_equal(err.kind, OMBUD_E_NONE);
    assert_string_equal(err.type, "");
    assert_string_equal(err.detail, "");
}

static void test_finish_validation_one(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    ombud_err_field(&err, "name", "is required");
    assert_int_equal(ombud_err_finish_validation(&err), OMBUD_ERROR);
    assert_int_equal(err.kind, OMBUD_E_INVALID);
    assert_int_equal(ombud_problem_status(err.kind), 422);
    assert_string_equal(err.type, "validation-failed");
    assert_string_equal(ombud_problem_title(err.kind), "Validation failed");
    assert_string_equal(err.detail, "1 field failed validation");
    assert_int_equal(err.nfields, 1);
}

static void test_finish_validation_many(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    ombud_err_field(&err, "a", "x");
    ombud_err_field(&err, "b", "y");
    ombud_err_field(&err, "c", "z");
    assert_int_equal(ombud_err_finish_validation(&err), OMBUD_ERROR);
    assert_int_equal(err.kind, OMBUD_E_INVALID);
    assert_string_equal(err.detail, "3 fields failed validation");

    fresh(&err);
    for (int i = 0; i < 100; i++)
        ombud_err_field(&err, "f", "x");
    assert_int_equal(ombud_err_finish_validation(&err), OMBUD_ERROR);
    assert_string_equal(err.detail, "32 fields failed validation");
}

static void test_standard_problems(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    assert_int_equal(ombud_err_internal(&err, "boom 100%"), OMBUD_ERROR);
    assert_int_equal(err.kind, OMBUD_E_INTERNAL);
    assert_int_equal(ombud_problem_status(err.kind), 500);
    assert_string_equal(err.type, "internal");
    assert_string_equal(err.detail, "boom 100%");

    fresh(&err);
    assert_int_equal(ombud_err_unavailable(&err, "database down"), OMBUD_ERROR);
    assert_int_equal(err.kind, OMBUD_E_UNAVAILABLE);
    assert_int_equal(ombud_problem_status(err.kind), 503);
    assert_string_equal(err.type, "unavailable");
    assert_string_equal(err.detail, "database down");

    fresh(&err);
    assert_int_equal(ombud_err_not_found(&err, "complaint 9"), OMBUD_ERROR);
    assert_int_equal(err.kind, OMBUD_E_NOT_FOUND);
    assert_int_equal(ombud_problem_status(err.kind), 404);
    assert_string_equal(err.type, "not-found");
    assert_string_equal(ombud_problem_title(err.kind), "Not found");
    assert_string_equal(err.detail, "complaint 9 not found");
}

/* ---- problem.c ---- */

static void test_problem_basic(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    ombud_err_not_found(&err, "complaint 9");
    json_t *p = problem_of(&err, NULL, NULL);
    assert_non_null(p);
    assert_true(json_is_object(p));
    assert_string_equal(str_at(p, "type"), "/problems/not-found");
    assert_string_equal(str_at(p, "title"), "Not found");
    assert_true(json_is_integer(json_object_get(p, "status")));
    assert_int_equal(json_integer_value(json_object_get(p, "status")), 404);
    assert_string_equal(str_at(p, "detail"), "complaint 9 not found");
    assert_null(json_object_get(p, "instance"));
    assert_null(json_object_get(p, "request_id"));
    assert_null(json_object_get(p, "errors"));
    assert_null(json_object_get(p, "allowed_actions"));
    assert_int_equal(json_object_size(p), 4);
    json_decref(p);
}

static void test_problem_instance_and_request_id(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    ombud_err_internal(&err, "oops");
    json_t *p = problem_of(&err, "/v1/complaints/9", "req-123");
    assert_non_null(p);
    assert_string_equal(str_at(p, "instance"), "/v1/complaints/9");
    assert_string_equal(str_at(p, "request_id"), "req-123");
    assert_int_equal(json_object_size(p), 6);
    json_decref(p);

    /* An empty request id is left out. */
    p = problem_of(&err, "/x", "");
    assert_non_null(p);
    assert_null(json_object_get(p, "request_id"));
    assert_string_equal(str_at(p, "instance"), "/x");
    json_decref(p);
}

static void test_problem_defaults_for_cleared_err(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    json_t *p = ombud_repr_problem(&err, 0, NULL, NULL, NULL);
    assert_non_null(p);
    assert_string_equal(str_at(p, "type"), "/problems/error");
    assert_string_equal(str_at(p, "title"), "Error");
    assert_int_equal(json_integer_value(json_object_get(p, "status")), 0);
    assert_null(json_object_get(p, "detail"));
    assert_int_equal(json_object_size(p), 3);
    json_decref(p);
}

static void test_problem_errors_array(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    ombud_err_field(&err, "name", "is required");
    ombud_err_field(&err, "customer.email", "must be 3 to 254 characters long");
    assert_int_equal(ombud_err_finish_validation(&err), OMBUD_ERROR);
    json_t *p = problem_of(&err, "/v1/complaints", "r1");
    assert_non_null(p);
    assert_string_equal(str_at(p, "type"), "/problems/validation-failed");
    assert_string_equal(str_at(p, "title"), "Validation failed");
    assert_int_equal(json_integer_value(json_object_get(p, "status")), 422);
    assert_string_equal(str_at(p, "detail"), "2 fields failed validation");

    json_t *arr = json_object_get(p, "errors");
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), 2);
    json_t *e0 = json_array_get(arr, 0), *e1 = json_array_get(arr, 1);
    assert_true(json_is_object(e0));
    assert_int_equal(json_object_size(e0), 2);
    assert_string_equal(str_at(e0, "field"), "name");
    assert_string_equal(str_at(e0, "message"), "is required");
    assert_string_equal(str_at(e1, "field"), "customer.email");
    assert_string_equal(str_at(e1, "message"), "must be 3 to 254 characters long");
    json_decref(p);
}

static void test_problem_errors_at_cap(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    for (int i = 0; i < OMBUD_ERR_MAX_FIELDS + 5; i++)
        ombud_err_field(&err, "f", "message %d", i);
    (void)ombud_err_finish_validation(&err);
    json_t *p = problem_of(&err, NULL, NULL);
    assert_non_null(p);
    json_t *arr = json_object_get(p, "errors");
    assert_int_equal(json_array_size(arr), OMBUD_ERR_MAX_FIELDS);
    for (size_t i = 0; i < json_array_size(arr); i++) {
        char want[32];
        snprintf(want, sizeof want, "message %zu", i);
        assert_string_equal(str_at(json_array_get(arr, i), "message"), want);
    }
    json_decref(p);
}

static void test_problem_allowed_actions(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    ombud_err_set(&err, OMBUD_E_CONFLICT, "invalid-transition",
                  "cannot resolve a closed complaint");
    strcpy(err.allowed, "reopen,comment,archive");
    json_t *p = problem_of(&err, NULL, NULL);
    assert_non_null(p);
    assert_string_equal(str_at(p, "type"), "/problems/invalid-transition");
    json_t *arr = json_object_get(p, "allowed_actions");
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), 3);
    assert_string_equal(json_string_value(json_array_get(arr, 0)), "reopen");
    assert_string_equal(json_string_value(json_array_get(arr, 1)), "comment");
    assert_string_equal(json_string_value(json_array_get(arr, 2)), "archive");
    assert_null(json_object_get(p, "errors"));
    json_decref(p);
}

static void test_problem_allowed_single_and_trailing_comma(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    ombud_err_set(&err, OMBUD_E_CONFLICT, NULL, "x");
    strcpy(err.allowed, "close");
    json_t *p = problem_of(&err, NULL, NULL);
    json_t *arr = json_object_get(p, "allowed_actions");
    assert_int_equal(json_array_size(arr), 1);
    assert_string_equal(json_string_value(json_array_get(arr, 0)), "close");
    json_decref(p);

    strcpy(err.allowed, "a,b,");
    p = problem_of(&err, NULL, NULL);
    arr = json_object_get(p, "allowed_actions");
    assert_int_equal(json_array_size(arr), 2);
    assert_string_equal(json_string_value(json_array_get(arr, 0)), "a");
    assert_string_equal(json_string_value(json_array_get(arr, 1)), "b");
    json_decref(p);
}

static void test_problem_no_allowed_member(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    ombud_err_set(&err, OMBUD_E_CONFLICT, NULL, "x");
    /* err.allowed empty: no allowed_actions member at all. */
    json_t *p = problem_of(&err, NULL, NULL);
    assert_null(json_object_get(p, "allowed_actions"));
    json_decref(p);
}

static void test_problem_errors_and_allowed_together(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    ombud_err_field(&err, "state", "cannot move to closed");
    ombud_err_set(&err, OMBUD_E_CONFLICT, NULL, "x");
    strcpy(err.allowed, "assign");
    json_t *p = problem_of(&err, "/i", "rid");
    assert_non_null(p);
    assert_int_equal(json_array_size(json_object_get(p, "errors")), 1);
    assert_int_equal(json_array_size(json_object_get(p, "allowed_actions")), 1);
    assert_int_equal(json_object_size(p), 8);
    json_decref(p);
}

static void test_problem_escapes_text(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    ombud_err_set(&err, OMBUD_E_BAD_REQUEST, NULL, "quote \" backslash \\ caf\xc3\xa9 \n");
    ombud_err_field(&err, "na\"me", "<b>&</b>");
    json_t *p = problem_of(&err, "/a?b=\"c\"", NULL);
    assert_non_null(p);
    char *text = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(text);
    json_error_t jerr;
    json_t *back = json_loads(text, 0, &jerr);
    assert_non_null(back);
    assert_true(json_equal(back, p));
    assert_string_equal(str_at(back, "detail"), "quote \" backslash \\ caf\xc3\xa9 \n");
    assert_string_equal(str_at(json_array_get(json_object_get(back, "errors"), 0), "field"),
                        "na\"me");
    free(text);
    json_decref(back);
    json_decref(p);
}

static void test_problem_long_type_fits(void **state)
{
    struct ombud_err err;
    char big[200];
    (void)state;
    memset(big, 't', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    fresh(&err);
    ombud_err_set(&err, OMBUD_E_BAD_REQUEST, big, "d");
    json_t *p = problem_of(&err, NULL, NULL);
    assert_non_null(p);
    const char *type = str_at(p, "type");
    assert_int_equal(strncmp(type, "/problems/", 10), 0);
    assert_int_equal(strlen(type), 10 + sizeof err.type - 1);
    json_decref(p);
}

static void test_repr_time(void **state)
{
    (void)state;
    json_t *t = ombud_repr_time(0);
    assert_true(json_is_null(t));
    json_decref(t);
    t = ombud_repr_time(INT64_C(1795334400) * 1000000);
    assert_true(json_is_string(t));
    assert_string_equal(json_string_value(t), "2026-11-22T08:00:00Z");
    json_decref(t);
}

static void test_repr_page(void **state)
{
    (void)state;
    json_t *items = json_pack("[i, i]", 1, 2);
    json_t *pg = ombud_repr_page_steal(items, "MQ");
    assert_non_null(pg);
    assert_ptr_equal(json_object_get(pg, "items"), items);
    assert_string_equal(str_at(pg, "next_cursor"), "MQ");
    json_decref(pg);

    pg = ombud_repr_page_steal(json_array(), NULL);
    assert_non_null(pg);
    assert_int_equal(json_array_size(json_object_get(pg, "items")), 0);
    /* No further page: next_cursor is present and null. */
    assert_non_null(json_object_get(pg, "next_cursor"));
    assert_true(json_is_null(json_object_get(pg, "next_cursor")));
    json_decref(pg);
}

/* ---- http/problem.c ---- */

/* Every kind keeps the status, title and default slug clients saw when
 * errors carried HTTP statuses (API.md, openapi.yaml). */
static void test_kind_mapping(void **state)
{
    static const struct {
        enum ombud_err_kind kind;
        int status;
        const char *title, *type;
    } want[] = {
        {OMBUD_E_INVALID, 422, "Validation failed", "validation-failed"},
        {OMBUD_E_BAD_REQUEST, 400, "Bad request", "bad-request"},
        {OMBUD_E_UNAUTHORIZED, 401, "Unauthorized", "unauthorized"},
        {OMBUD_E_FORBIDDEN, 403, "Forbidden", "forbidden"},
        {OMBUD_E_NOT_FOUND, 404, "Not found", "not-found"},
        {OMBUD_E_METHOD_NOT_ALLOWED, 405, "Method not allowed", "method-not-allowed"},
        {OMBUD_E_DUPLICATE, 409, "Conflict", "conflict"},
        {OMBUD_E_CONFLICT, 409, "Conflict", "conflict"},
        {OMBUD_E_STALE, 412, "Precondition failed", "precondition-failed"},
        {OMBUD_E_TOO_LARGE, 413, "Payload too large", "payload-too-large"},
        {OMBUD_E_UNSUPPORTED_MEDIA, 415, "Unsupported media type", "unsupported-media-type"},
        {OMBUD_E_RATE_LIMITED, 429, "Too many requests", "rate-limited"},
        {OMBUD_E_UNAVAILABLE, 503, "Service unavailable", "unavailable"},
        {OMBUD_E_INTERNAL, 500, "Internal server error", "internal"},
        {OMBUD_E_CONFIG, 500, "Internal server error", "bad-config"},
    };
    (void)state;
    assert_int_equal(sizeof want / sizeof want[0], OMBUD_E_KIND_COUNT - 1);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(ombud_problem_status(want[i].kind), want[i].status);
        assert_string_equal(ombud_problem_title(want[i].kind), want[i].title);
        assert_string_equal(ombud_err_default_type(want[i].kind), want[i].type);
    }
    /* A reply for an error nobody set, or a kind out of range, is a 500. */
    assert_int_equal(ombud_problem_status(OMBUD_E_NONE), 500);
    assert_null(ombud_problem_title(OMBUD_E_NONE));
    assert_int_equal(ombud_problem_status(OMBUD_E_KIND_COUNT), 500);
    assert_string_equal(ombud_err_default_type(OMBUD_E_KIND_COUNT), "");

    struct ombud_err err;
    fresh(&err);
    json_t *p = problem_of(&err, NULL, NULL);
    assert_int_equal(json_integer_value(json_object_get(p, "status")), 500);
    assert_string_equal(str_at(p, "title"), "Error");
    json_decref(p);
}

static const struct ombud_constraint_msg msgs[] = {
    {"teams_name_key", "name", "a team with this name exists"},
    {"categories_pkey", "key", "category %s already exists"},
    {"teams_check", "escalation_team_id", "must name another team"},
    {NULL, NULL, NULL},
};

/* As src/db/pool.c reports a constraint violation. */
static void violation(struct ombud_err *err, enum ombud_err_kind kind, const char *name)
{
    fresh(err);
    ombud_err_set(err, kind, NULL, "already exists (%s)", name);
    ombud_err_constraint(err, name);
}

static void test_explain_duplicate(void **state)
{
    struct ombud_err err;
    (void)state;
    violation(&err, OMBUD_E_DUPLICATE, "teams_name_key");
    assert_ptr_equal(ombud_problem_explain(&err, msgs, NULL), &msgs[0]);
    assert_int_equal(err.kind, OMBUD_E_DUPLICATE);
    assert_string_equal(err.type, "conflict");
    assert_string_equal(err.detail, "a team with this name exists");
    assert_string_equal(err.constraint, "teams_name_key");
    assert_int_equal(err.nfields, 0);
    json_t *p = problem_of(&err, NULL, NULL);
    assert_int_equal(json_integer_value(json_object_get(p, "status")), 409);
    assert_string_equal(str_at(p, "title"), "Conflict");
    assert_string_equal(str_at(p, "type"), "/problems/conflict");
    assert_int_equal(json_object_size(p), 4);
    json_decref(p);

    /* The message may name the value. */
    violation(&err, OMBUD_E_DUPLICATE, "categories_pkey");
    assert_non_null(ombud_problem_explain(&err, msgs, "billing"));
    assert_string_equal(err.detail, "category billing already exists");
    violation(&err, OMBUD_E_DUPLICATE, "categories_pkey");
    assert_non_null(ombud_problem_explain(&err, msgs, NULL));
    assert_string_equal(err.detail, "category %s already exists");
}

static void test_explain_invalid(void **state)
{
    struct ombud_err err;
    (void)state;
    violation(&err, OMBUD_E_INVALID, "teams_check");
    assert_ptr_equal(ombud_problem_explain(&err, msgs, NULL), &msgs[2]);
    assert_int_equal(err.kind, OMBUD_E_INVALID);
    assert_string_equal(err.type, "validation-failed");
    assert_int_equal(err.nfields, 1);
    assert_string_equal(err.fields[0].field, "escalation_team_id");
    assert_string_equal(err.fields[0].message, "must name another team");
    assert_string_equal(err.detail, "1 field failed validation");
    assert_string_equal(err.constraint, "teams_check");
}

/* Only the named constraint is explained: a deadlock, a lost version
 * race or another constraint keeps what it said. */
static void test_explain_leaves_others(void **state)
{
    struct ombud_err err;
    (void)state;
    violation(&err, OMBUD_E_DUPLICATE, "agents_email_key");
    assert_null(ombud_problem_explain(&err, msgs, NULL));
    assert_string_equal(err.detail, "already exists (agents_email_key)");

    fresh(&err);
    ombud_err_set(&err, OMBUD_E_CONFLICT, "concurrent-update", "concurrent update; try again");
    assert_null(ombud_problem_explain(&err, msgs, NULL));
    assert_string_equal(err.type, "concurrent-update");
    assert_string_equal(err.detail, "concurrent update; try again");

    /* A conflict of state never matches, even if a name was left behind. */
    violation(&err, OMBUD_E_CONFLICT, "teams_name_key");
    assert_null(ombud_problem_explain(&err, msgs, NULL));

    violation(&err, OMBUD_E_DUPLICATE, "");
    assert_null(ombud_problem_explain(&err, msgs, NULL));
}

/* Truncation never splits a UTF-8 character, so nothing is lost in JSON. */
static void test_truncation_keeps_utf8(void **state)
{
    (void)state;
    struct ombud_err err;
    char name[200] = "";
    for (int i = 0; i < 40; i++)
        strcat(name, "\xc3\xa9"); /* é */
    ombud_err_clear(&err);
    ombud_err_field(&err, name, "is not a known field");
    ombud_err_finish_validation(&err);
    json_t *p = problem_of(&err, NULL, NULL);
    assert_non_null(p);
    assert_int_equal(json_array_size(json_object_get(p, "errors")), 1);
    json_decref(p);

    char detail[1200] = "";
    for (int i = 0; i < 300; i++)
        strcat(detail, "\xc3\xa9");
    ombud_err_set(&err, OMBUD_E_BAD_REQUEST, NULL, "%s", detail);
    p = problem_of(&err, NULL, NULL);
    assert_true(json_is_string(json_object_get(p, "detail")));
    json_decref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clear),
        cmocka_unit_test(test_kind_mapping),
        cmocka_unit_test(test_explain_duplicate),
        cmocka_unit_test(test_explain_invalid),
        cmocka_unit_test(test_explain_leaves_others),
        cmocka_unit_test(test_truncation_keeps_utf8),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_set_null_strings),
        cmocka_unit_test(test_set_truncates),
        cmocka_unit_test(test_set_keeps_fields),
        cmocka_unit_test(test_field_append),
        cmocka_unit_test(test_field_null_name),
        cmocka_unit_test(test_field_truncates),
        cmocka_unit_test(test_field_cap),
        cmocka_unit_test(test_finish_validation_none),
        cmocka_unit_test(test_finish_validation_one),
        cmocka_unit_test(test_finish_validation_many),
        cmocka_unit_test(test_standard_problems),
        cmocka_unit_test(test_problem_basic),
        cmocka_unit_test(test_problem_instance_and_request_id),
        cmocka_unit_test(test_problem_defaults_for_cleared_err),
        cmocka_unit_test(test_problem_errors_array),
        cmocka_unit_test(test_problem_errors_at_cap),
        cmocka_unit_test(test_problem_allowed_actions),
        cmocka_unit_test(test_problem_allowed_single_and_trailing_comma),
        cmocka_unit_test(test_problem_no_allowed_member),
        cmocka_unit_test(test_problem_errors_and_allowed_together),
        cmocka_unit_test(test_problem_escapes_text),
        cmocka_unit_test(test_problem_long_type_fits),
        cmocka_unit_test(test_repr_time),
        cmocka_unit_test(test_repr_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
