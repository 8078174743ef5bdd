/*
 * Unit tests for src/domain/err.c (error accumulation) and
 * src/repr/problem.c (RFC 9457 problem details built from it).
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

/* ---- err.c ---- */

static void test_clear(void **state)
{
    struct ombud_err err;
    (void)state;
    memset(&err, 0x41, sizeof err);
    ombud_err_clear(&err);
    assert_int_equal(err.status, 0);
    assert_string_equal(err.type, "");
    assert_string_equal(err.title, "");
    assert_string_equal(err.detail, "");
    assert_string_equal(err.allowed, "");
    assert_int_equal(err.nfields, 0);
}

static void test_set(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    assert_int_equal(ombud_err_set(&err, 409, "conflict", "Conflict", "complaint %d is %s", 7,
                                   "closed"),
                     OMBUD_ERROR);
    assert_int_equal(err.status, 409);
    assert_string_equal(err.type, "conflict");
    assert_string_equal(err.title, "Conflict");
    assert_string_equal(err.detail, "complaint 7 is closed");
    assert_int_equal(err.nfields, 0);
}

static void test_set_null_strings(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    assert_int_equal(ombud_err_set(&err, 500, NULL, NULL, "%s", ""), OMBUD_ERROR);
    assert_int_equal(err.status, 500);
    assert_string_equal(err.type, "");
    assert_string_equal(err.title, "");
    assert_string_equal(err.detail, "");
}

static void test_set_truncates(void **state)
{
    struct ombud_err err;
    char big[2000];
    (void)state;
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    fresh(&err);
    ombud_err_set(&err, 400, big, big, "%s", big);
    assert_int_equal(strlen(err.type), sizeof err.type - 1);
    assert_int_equal(strlen(err.title), sizeof err.title - 1);
    assert_int_equal(strlen(err.detail), sizeof err.detail - 1);
    assert_int_equal(err.nfields, 0);
}

static void test_set_keeps_fields(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    ombud_err_field(&err, "a", "bad");
    ombud_err_set(&err, 400, "bad-request", "Bad request", "x");
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
    /* Collecting fields sets no status. */
    assert_int_equal(err.status, 0);
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
    assert_int_equal(err.status, 0);
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
    assert_int_equal(err.status, 422);
    assert_string_equal(err.type, "validation-failed");
    assert_string_equal(err.title, "Validation failed");
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
    assert_int_equal(err.status, 422);
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
    assert_int_equal(err.status, 500);
    assert_string_equal(err.type, "internal");
    assert_string_equal(err.detail, "boom 100%");

    fresh(&err);
    assert_int_equal(ombud_err_unavailable(&err, "database down"), OMBUD_ERROR);
    assert_int_equal(err.status, 503);
    assert_string_equal(err.type, "unavailable");
    assert_string_equal(err.detail, "database down");

    fresh(&err);
    assert_int_equal(ombud_err_not_found(&err, "complaint 9"), OMBUD_ERROR);
    assert_int_equal(err.status, 404);
    assert_string_equal(err.type, "not-found");
    assert_string_equal(err.title, "Not found");
    assert_string_equal(err.detail, "complaint 9 not found");
}

/* ---- problem.c ---- */

static void test_problem_basic(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    ombud_err_not_found(&err, "complaint 9");
    json_t *p = ombud_repr_problem(&err, NULL, NULL);
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
    json_t *p = ombud_repr_problem(&err, "/v1/complaints/9", "req-123");
    assert_non_null(p);
    assert_string_equal(str_at(p, "instance"), "/v1/complaints/9");
    assert_string_equal(str_at(p, "request_id"), "req-123");
    assert_int_equal(json_object_size(p), 6);
    json_decref(p);

    /* An empty request id is left out. */
    p = ombud_repr_problem(&err, "/x", "");
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
    json_t *p = ombud_repr_problem(&err, NULL, NULL);
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
    json_t *p = ombud_repr_problem(&err, "/v1/complaints", "r1");
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
    json_t *p = ombud_repr_problem(&err, NULL, NULL);
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
    ombud_err_set(&err, 409, "invalid-transition", "Invalid transition",
                  "cannot resolve a closed complaint");
    strcpy(err.allowed, "reopen,comment,archive");
    json_t *p = ombud_repr_problem(&err, NULL, NULL);
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
    ombud_err_set(&err, 409, "conflict", "Conflict", "x");
    strcpy(err.allowed, "close");
    json_t *p = ombud_repr_problem(&err, NULL, NULL);
    json_t *arr = json_object_get(p, "allowed_actions");
    assert_int_equal(json_array_size(arr), 1);
    assert_string_equal(json_string_value(json_array_get(arr, 0)), "close");
    json_decref(p);

    strcpy(err.allowed, "a,b,");
    p = ombud_repr_problem(&err, NULL, NULL);
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
    ombud_err_set(&err, 409, "conflict", "Conflict", "x");
    /* err.allowed empty: no allowed_actions member at all. */
    json_t *p = ombud_repr_problem(&err, NULL, NULL);
    assert_null(json_object_get(p, "allowed_actions"));
    json_decref(p);
}

static void test_problem_errors_and_allowed_together(void **state)
{
    struct ombud_err err;
    (void)state;
    fresh(&err);
    ombud_err_field(&err, "state", "cannot move to closed");
    ombud_err_set(&err, 409, "conflict", "Conflict", "x");
    strcpy(err.allowed, "assign");
    json_t *p = ombud_repr_problem(&err, "/i", "rid");
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
    ombud_err_set(&err, 400, "bad-request", "Bad request", "quote \" backslash \\ caf\xc3\xa9 \n");
    ombud_err_field(&err, "na\"me", "<b>&</b>");
    json_t *p = ombud_repr_problem(&err, "/a?b=\"c\"", NULL);
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
    ombud_err_set(&err, 400, big, "T", "d");
    json_t *p = ombud_repr_problem(&err, NULL, NULL);
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
    json_t *pg = ombud_repr_page(items, "MQ");
    assert_non_null(pg);
    assert_ptr_equal(json_object_get(pg, "items"), items);
    assert_string_equal(str_at(pg, "next_cursor"), "MQ");
    json_decref(pg);

    pg = ombud_repr_page(json_array(), NULL);
    assert_non_null(pg);
    assert_int_equal(json_array_size(json_object_get(pg, "items")), 0);
    /* No further page: next_cursor is present and null. */
    assert_non_null(json_object_get(pg, "next_cursor"));
    assert_true(json_is_null(json_object_get(pg, "next_cursor")));
    json_decref(pg);
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
    json_t *p = ombud_repr_problem(&err, NULL, NULL);
    assert_non_null(p);
    assert_int_equal(json_array_size(json_object_get(p, "errors")), 1);
    json_decref(p);

    char detail[1200] = "";
    for (int i = 0; i < 300; i++)
        strcat(detail, "\xc3\xa9");
    ombud_err_set(&err, 400, "bad-request", "Bad request", "%s", detail);
    p = ombud_repr_problem(&err, NULL, NULL);
    assert_true(json_is_string(json_object_get(p, "detail")));
    json_decref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clear),
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
