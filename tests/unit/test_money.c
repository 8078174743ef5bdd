/* ISO 4217 currencies and exact amounts (src/domain/money.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ombud/money.h"

#define FIELD "resolution.compensation.amount"

static void test_currency_digits(void **state)
{
    (void)state;
    static const struct {
        const char *code;
        int digits;
    } rows[] = {
        {"JPY", 0},
        {"KRW", 0},
        {"CLP", 0},
        {"ISK", 0},
        {"VND", 0},
        {"XOF", 0},
        {"UYI", 0},
        {"KWD", 3},
        {"BHD", 3},
        {"OMR", 3},
        {"JOD", 3},
        {"IQD", 3},
        {"LYD", 3},
        {"TND", 3},
        {"CLF", 4},
        {"UYW", 4},
        {"EUR", 2},
        {"CNY", 2},
        {"USD", 2},
        {"GBP", 2},
        {"AED", 2},
        {"ZWG", 2},
        {"XCG", 2},
        {"ZMW", 2},
        {"XAU", -1},
        {"XAG", -1},
        {"XDR", -1},
        {"XXX", -1},
        {"XTS", -1},
        {"XSU", -1},
        {"XUA", -1},
        /* withdrawn, unknown, malformed */
        {"ANG", -2},
        {"BGN", -2},
        {"ZWL", -2},
        {"HRK", -2},
        {"SLL", -2},
        {"DEM", -2},
        {"ABC", -2},
        {"eur", -2},
        {"Eur", -2},
        {"EU", -2},
        {"EURO", -2},
        {"", -2},
        {"E1R", -2},
        {"EUR ", -2},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (ombud_currency_digits(rows[i].code) != rows[i].digits)
            fprintf(stderr, "%s: got %d, want %d\n", rows[i].code,
                    ombud_currency_digits(rows[i].code), rows[i].digits);
        assert_int_equal(ombud_currency_digits(rows[i].code), rows[i].digits);
    }
    assert_int_equal(ombud_currency_digits(NULL), -2);
}

/* Every three-letter code: the table is found whole (sorted for its
 * binary search), 165 payable codes and 13 without a minor unit. */
static void test_currency_table_whole(void **state)
{
    (void)state;
    int payable = 0, none = 0;
    char code[4] = {0};
    for (char a = 'A'; a <= 'Z'; a++)
        for (char b = 'A'; b <= 'Z'; b++)
            for (char c = 'A'; c <= 'Z'; c++) {
                code[0] = a, code[1] = b, code[2] = c;
                int d = ombud_currency_digits(code);
                assert_true(d >= -2 && d <= 4);
                payable += d >= 0;
                none += d == -1;
            }
    assert_int_equal(payable, 165);
    assert_int_equal(none, 13);
}

static void test_currency_check(void **state)
{
    (void)state;
    struct ombud_err err;
    const char *field = "resolution.compensation.currency";
    ombud_err_clear(&err);
    assert_int_equal(ombud_money_currency("KWD", field, &err), OMBUD_OK);
    assert_int_equal(ombud_money_currency(NULL, field, &err), OMBUD_OK);
    assert_int_equal(err.nfields, 0);
    assert_int_equal(ombud_money_currency("eur", field, &err), OMBUD_ERROR);
    assert_int_equal(err.nfields, 1);
    assert_string_equal(err.fields[0].field, field);
    assert_non_null(strstr(err.fields[0].message, "ISO 4217"));
    assert_int_equal(ombud_money_currency("XAU", field, &err), OMBUD_ERROR);
    assert_int_equal(err.nfields, 2);
    assert_string_equal(err.fields[1].field, field);
    assert_non_null(strstr(err.fields[1].message, "no minor unit"));
}

static void test_text_accepted(void **state)
{
    (void)state;
    static const struct {
        const char *currency, *in, *want;
    } rows[] = {
        {"CNY", "50.5", "50.50"},
        {"CNY", "50.50", "50.50"},
        {"CNY", "50", "50.00"},
        {"JPY", "500", "500"},
        {"JPY", "0", "0"},
        {"KWD", "1.25", "1.250"},
        {"KWD", "1.250", "1.250"},
        {"BHD", "0.001", "0.001"},
        {"CLF", "3.5", "3.5000"},
        {"CLF", "0.0001", "0.0001"},
        {"EUR", "0", "0.00"},
        {"EUR", "0.00", "0.00"},
        {"EUR", "0.5", "0.50"},
        {"EUR", "25.50", "25.50"},
        {"USD", "1234567890123456.78", "1234567890123456.78"},
        {"USD", "9999999999999999.99", "9999999999999999.99"},
        {"JPY", "999999999999999999", "999999999999999999"},
        {"KWD", "999999999999999.999", "999999999999999.999"},
        {"CLF", "99999999999999.9999", "99999999999999.9999"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct ombud_err err;
        char out[OMBUD_MONEY_TEXT_MAX];
        ombud_err_clear(&err);
        enum ombud_rc rc = ombud_money_parse_text(rows[i].in, strlen(rows[i].in), rows[i].currency,
                                                  FIELD, out, &err);
        if (rc != OMBUD_OK || strcmp(out, rows[i].want) != 0)
            fprintf(stderr, "%s %s: got %s (%s)\n", rows[i].in, rows[i].currency, out,
                    err.nfields ? err.fields[0].message : "");
        assert_int_equal(rc, OMBUD_OK);
        assert_int_equal(err.nfields, 0);
        assert_string_equal(out, rows[i].want);
    }
}

/* One refusal: a field error on FIELD whose message has want. */
static void expect_refused(enum ombud_rc rc, const struct ombud_err *err, const char *out,
                           const char *what, const char *want)
{
    if (rc != OMBUD_ERROR || err->nfields != 1 || !strstr(err->fields[0].message, want))
        fprintf(stderr, "%s: rc %d, %zu errors, \"%s\", want \"%s\"\n", what, rc, err->nfields,
                err->nfields ? err->fields[0].message : "", want);
    assert_int_equal(rc, OMBUD_ERROR);
    assert_int_equal(err->nfields, 1);
    assert_string_equal(err->fields[0].field, FIELD);
    assert_non_null(strstr(err->fields[0].message, want));
    assert_string_equal(out, "");
}

static void test_text_refused(void **state)
{
    (void)state;
    static const char form[] = "must be a decimal amount";
    static const struct {
        const char *currency, *in, *want;
    } rows[] = {
        /* more digits than the currency has, zeros too */
        {"JPY", "500.00", "whole number in JPY"},
        {"JPY", "0.5", "whole number in JPY"},
        {"EUR", "1.234", "at most 2 decimals in EUR"},
        {"EUR", "1.230", "at most 2 decimals in EUR"},
        {"KWD", "1.2345", "at most 3 decimals in KWD"},
        {"CLF", "1.00001", "at most 4 decimals in CLF"},
        /* negative, also zero */
        {"EUR", "-1", "negative"},
        {"EUR", "-0", "negative"},
        {"EUR", "-0.00", "negative"},
        {"JPY", "-500", "negative"},
        /* not a plain decimal */
        {"EUR", "", form},
        {"EUR", "1e3", form},
        {"EUR", "1E3", form},
        {"EUR", "+1", form},
        {"EUR", " 1", form},
        {"EUR", "1 ", form},
        {"EUR", "1 000", form},
        {"EUR", "abc", form},
        {"EUR", "1.", form},
        {"EUR", ".5", form},
        {"EUR", "01", form},
        {"EUR", "00", form},
        {"EUR", "00.5", form},
        {"EUR", "1,5", form},
        {"EUR", "1.2.3", form},
        {"EUR", "0x10", form},
        {"EUR", "NaN", form},
        {"EUR", "Infinity", form},
        {"EUR", "\xef\xbc\x91", form}, /* a full-width digit one */
        {"EUR", "--1", form},
        {"EUR", "-", form},
        {"EUR", ".", form},
        /* beyond 18 digits in all */
        {"EUR", "12345678901234567", "at most 16 digits before the decimal point in EUR"},
        {"EUR", "10000000000000000.00", "at most 16 digits"},
        {"JPY", "1000000000000000000", "at most 18 digits"},
        {"KWD", "1000000000000000", "at most 15 digits"},
        {"CLF", "100000000000000", "at most 14 digits"},
        {"EUR", "99999999999999999999999999999999999999999", "at most 16 digits"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct ombud_err err;
        char out[OMBUD_MONEY_TEXT_MAX];
        char what[96];
        snprintf(what, sizeof what, "\"%s\" %s", rows[i].in, rows[i].currency);
        ombud_err_clear(&err);
        enum ombud_rc rc = ombud_money_parse_text(rows[i].in, strlen(rows[i].in), rows[i].currency,
                                                  FIELD, out, &err);
        expect_refused(rc, &err, out, what, rows[i].want);
    }

    /* A NUL inside the string. */
    struct ombud_err err;
    char out[OMBUD_MONEY_TEXT_MAX];
    ombud_err_clear(&err);
    expect_refused(ombud_money_parse_text("1\0", 2, "EUR", FIELD, out, &err), &err, out, "NUL",
                   form);
}

/* Without a payable currency only the form and the sign are checked;
 * the rest would only repeat the currency's error. */
static void test_text_without_currency(void **state)
{
    (void)state;
    const char *bad[] = {NULL, "XAU", "eur"};
    for (size_t i = 0; i < 3; i++) {
        struct ombud_err err;
        char out[OMBUD_MONEY_TEXT_MAX];
        ombud_err_clear(&err);
        assert_int_equal(ombud_money_parse_text("12.345", 6, bad[i], FIELD, out, &err),
                         OMBUD_ERROR);
        assert_int_equal(err.nfields, 0);
        assert_string_equal(out, "");
        assert_int_equal(ombud_money_parse_text("-1", 2, bad[i], FIELD, out, &err), OMBUD_ERROR);
        assert_int_equal(err.nfields, 1);
        assert_int_equal(ombud_money_parse_text("1e3", 3, bad[i], FIELD, out, &err), OMBUD_ERROR);
        assert_int_equal(err.nfields, 2);
        assert_int_equal(ombud_money_parse_real(-2.5, bad[i], FIELD, out, &err), OMBUD_ERROR);
        assert_int_equal(err.nfields, 3);
        assert_int_equal(ombud_money_parse_real(1e300, bad[i], FIELD, out, &err), OMBUD_ERROR);
        assert_int_equal(ombud_money_parse_real(1e-300, bad[i], FIELD, out, &err), OMBUD_ERROR);
        assert_int_equal(ombud_money_parse_integer(5, bad[i], FIELD, out, &err), OMBUD_ERROR);
        assert_int_equal(err.nfields, 3);
    }
}

static void test_integer(void **state)
{
    (void)state;
    static const struct {
        const char *currency;
        int64_t in;
        const char *want; /* NULL: refused with refusal */
        const char *refusal;
    } rows[] = {
        {"JPY", 500, "500", NULL},
        {"CNY", 50, "50.00", NULL},
        {"KWD", 1, "1.000", NULL},
        {"EUR", 0, "0.00", NULL},
        {"JPY", 100000000000000000, "100000000000000000", NULL},
        {"JPY", 999999999999999999, "999999999999999999", NULL},
        {"USD", 9999999999999999, "9999999999999999.00", NULL},
        {"EUR", -1, NULL, "negative"},
        {"JPY", INT64_MIN, NULL, "negative"},
        {"JPY", INT64_MAX, NULL, "at most 18 digits"},
        {"USD", 10000000000000000, NULL, "at most 16 digits"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct ombud_err err;
        char out[OMBUD_MONEY_TEXT_MAX];
        char what[96];
        snprintf(what, sizeof what, "%lld %s", (long long)rows[i].in, rows[i].currency);
        ombud_err_clear(&err);
        enum ombud_rc rc =
            ombud_money_parse_integer(rows[i].in, rows[i].currency, FIELD, out, &err);
        if (rows[i].want) {
            assert_int_equal(rc, OMBUD_OK);
            assert_string_equal(out, rows[i].want);
        } else {
            expect_refused(rc, &err, out, what, rows[i].refusal);
        }
    }
}

static void test_real(void **state)
{
    (void)state;
    volatile double tenth = 0.1, fifth = 0.2; /* 0.30000000000000004, computed at run time */
    static const char string_please[] = "send the amount as a string";
    const struct {
        const char *currency;
        double in;
        const char *want; /* NULL: refused with refusal */
        const char *refusal;
    } rows[] = {
        {"CNY", 50.5, "50.50", NULL},
        {"CNY", 129.5, "129.50", NULL},
        {"EUR", 25.5, "25.50", NULL},
        {"USD", 0.1, "0.10", NULL},
        {"USD", 0.01, "0.01", NULL},
        {"USD", 19.99, "19.99", NULL},
        {"KWD", 1.25, "1.250", NULL},
        {"KWD", 0.005, "0.005", NULL},
        {"CLF", 0.0001, "0.0001", NULL},
        {"JPY", 500.0, "500", NULL},
        {"JPY", 5e2, "500", NULL},
        {"EUR", 0.0, "0.00", NULL},
        {"JPY", 1e17, "100000000000000000", NULL},
        {"JPY", 123456789012345.0, "123456789012345", NULL},
        {"USD", 1234567890123.45, "1234567890123.45", NULL},
        {"USD", 9999999999999.99, "9999999999999.99", NULL},
        {"EUR", -0.0, NULL, "negative"},
        {"EUR", -1.5, NULL, "negative"},
        {"EUR", -DBL_MAX, NULL, "negative"},
        {"EUR", 25.555, NULL, "at most 2 decimals in EUR"},
        {"USD", tenth + fifth, NULL, "at most 2 decimals in USD"},
        {"KWD", 1.2345, NULL, "at most 3 decimals in KWD"},
        {"JPY", 0.5, NULL, "whole number in JPY"},
        {"EUR", 1e-7, NULL, "at most 2 decimals"},
        {"EUR", DBL_MIN, NULL, "at most 2 decimals"},
        {"EUR", 4.9e-324, NULL, "at most 2 decimals"},
        {"EUR", 1e300, NULL, "at most 16 digits"},
        {"EUR", DBL_MAX, NULL, "at most 16 digits"},
        {"JPY", 1e18, NULL, "at most 18 digits"},
        {"USD", 1e16, NULL, "at most 16 digits"},
        /* 16 and 17 significant digits: not what the client wrote for sure */
        {"JPY", 1234567890123456.0, NULL, string_please},
        {"JPY", 9007199254740993.0, NULL, string_please},
        {"USD", 12345678901234.56, NULL, string_please},
        {"JPY", 12345678901234567.0, NULL, string_please},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct ombud_err err;
        char out[OMBUD_MONEY_TEXT_MAX];
        char what[96];
        snprintf(what, sizeof what, "%.17g %s", rows[i].in, rows[i].currency);
        ombud_err_clear(&err);
        enum ombud_rc rc = ombud_money_parse_real(rows[i].in, rows[i].currency, FIELD, out, &err);
        if (rows[i].want) {
            if (rc != OMBUD_OK || strcmp(out, rows[i].want) != 0)
                fprintf(stderr, "%s: got \"%s\" (%s)\n", what, out,
                        err.nfields ? err.fields[0].message : "");
            assert_int_equal(rc, OMBUD_OK);
            assert_string_equal(out, rows[i].want);
        } else {
            expect_refused(rc, &err, out, what, rows[i].refusal);
        }
    }
}

/* A decimal of at most 15 significant digits reads the same as a string
 * and as the JSON number a client writes for it, in every scale. */
static void test_real_agrees_with_text(void **state)
{
    (void)state;
    const char *currencies[] = {"JPY", "EUR", "KWD", "CLF"};
    unsigned seed = 42;
    for (int n = 0; n < 20000; n++) {
        const char *cur = currencies[n % 4];
        int digits = ombud_currency_digits(cur);
        seed = seed * 1103515245u + 12345u;
        int sig = 1 + (int)(seed >> 16) % 15;
        seed = seed * 1103515245u + 12345u;
        int decimals = (int)(seed >> 16) % (digits + 1);
        if (decimals > sig)
            decimals = sig;
        if (sig - decimals > OMBUD_MONEY_MAX_DIGITS - digits)
            sig = OMBUD_MONEY_MAX_DIGITS - digits + decimals;
        char text[40];
        size_t len = 0;
        for (int k = 0; k < sig; k++) {
            if (k == sig - decimals) {
                if (k == 0)
                    text[len++] = '0';
                text[len++] = '.';
            }
            seed = seed * 1103515245u + 12345u;
            int d = (int)(seed >> 16) % 10;
            if (k == 0 && d == 0 && sig - decimals > 0)
                d = 1 + n % 9; /* no leading zero */
            text[len++] = (char)('0' + d);
        }
        text[len] = '\0';
        struct ombud_err err;
        char a[OMBUD_MONEY_TEXT_MAX], b[OMBUD_MONEY_TEXT_MAX];
        ombud_err_clear(&err);
        assert_int_equal(ombud_money_parse_text(text, len, cur, FIELD, a, &err), OMBUD_OK);
        enum ombud_rc rc = ombud_money_parse_real(strtod(text, NULL), cur, FIELD, b, &err);
        if (rc != OMBUD_OK || strcmp(a, b) != 0)
            fprintf(stderr, "%s %s: text %s, number %s\n", text, cur, a, b);
        assert_int_equal(rc, OMBUD_OK);
        assert_string_equal(a, b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_currency_digits),
        cmocka_unit_test(test_currency_table_whole),
        cmocka_unit_test(test_currency_check),
        cmocka_unit_test(test_text_accepted),
        cmocka_unit_test(test_text_refused),
        cmocka_unit_test(test_text_without_currency),
        cmocka_unit_test(test_integer),
        cmocka_unit_test(test_real),
        cmocka_unit_test(test_real_agrees_with_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
