/*
 * Money (domain/money.c) through exactly the server's checks: the input
 * is read as a JSON body, as ombud_body_finish reads it, and an object is
 * checked as resolution.compensation {amount, currency}; the raw bytes
 * are also checked as an amount string in currencies of 0, 2, 3 and 4
 * minor digits. An accepted amount must be canonical (exactly the
 * currency's minor digits, at most 18 digits, the same when read again)
 * and stand for the value sent: the same decimal for a string, the same
 * integer, or a decimal that reads back as the same double.
 */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "http/body.h"
#include "http/complaint_common.h"
#include "ombud/money.h"

/* out is canonical in currency: [0-9]+ without leading zeros, then a
 * point and exactly the currency's digits when it has any. */
static void check_canonical(const char *out, const char *currency)
{
    int digits = ombud_currency_digits(currency);
    CHECK(digits >= 0);
    size_t n = strlen(out), i = 0, total = 0;
    CHECK(n > 0 && n < OMBUD_MONEY_TEXT_MAX);
    while (i < n && out[i] >= '0' && out[i] <= '9')
        i++, total++;
    CHECK(i > 0 && (i == 1 || out[0] != '0'));
    if (digits == 0) {
        CHECK(i == n);
    } else {
        CHECK(out[i] == '.');
        CHECK(n - i - 1 == (size_t)digits);
        for (i++; i < n; i++, total++)
            CHECK(out[i] >= '0' && out[i] <= '9');
    }
    CHECK(total <= OMBUD_MONEY_MAX_DIGITS);

    /* Read again, it is itself. */
    struct ombud_err err;
    char again[OMBUD_MONEY_TEXT_MAX];
    ombud_err_clear(&err);
    CHECK(ombud_money_parse_text(out, n, currency, "f", again, &err) == OMBUD_OK);
    CHECK(strcmp(again, out) == 0);
}

/* out is the decimal text s[0..len) with zeros added after it only. */
static void check_same_decimal(const char *out, const char *s, size_t len)
{
    CHECK(strncmp(out, s, len) == 0);
    const char *rest = out + len;
    bool point = memchr(s, '.', len) != NULL;
    if (!point && *rest == '.') {
        point = true;
        rest++;
    }
    for (; *rest; rest++)
        CHECK(*rest == '0');
}

static void compensation(const json_t *comp)
{
    struct ombud_err err;
    char amount[OMBUD_MONEY_TEXT_MAX], currency[4];
    ombud_err_clear(&err);
    enum ombud_rc rc = ombud_compensation_parse(comp, amount, currency, &err);
    CHECK(err.nfields <= OMBUD_ERR_MAX_FIELDS);
    if (rc != OMBUD_OK) {
        CHECK(err.nfields > 0);
        CHECK(amount[0] == '\0');
        return;
    }
    CHECK(err.nfields == 0);
    check_canonical(amount, currency);
    const json_t *a = json_object_get(comp, "amount");
    if (json_is_string(a))
        check_same_decimal(amount, json_string_value(a), json_string_length(a));
    else if (json_is_integer(a))
        CHECK(strtoll(amount, NULL, 10) == json_integer_value(a));
    else
        CHECK(json_is_real(a) && strtod(amount, NULL) == json_real_value(a));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *body = ombud_body_parse((const char *)data, size, &jerr);
    if (body && json_is_object(body))
        compensation(body);
    json_decref(body);

    static const char *const currencies[] = {"JPY", "EUR", "KWD", "CLF", "XAU", "eur"};
    for (size_t i = 0; i < sizeof currencies / sizeof currencies[0]; i++) {
        struct ombud_err err;
        char out[OMBUD_MONEY_TEXT_MAX];
        ombud_err_clear(&err);
        enum ombud_rc rc =
            ombud_money_parse_text((const char *)data, size, currencies[i], "f", out, &err);
        if (rc == OMBUD_OK) {
            CHECK(err.nfields == 0);
            check_canonical(out, currencies[i]);
            check_same_decimal(out, (const char *)data, size);
        } else {
            CHECK(out[0] == '\0' && err.nfields <= 1);
            /* A payable currency always says why. */
            CHECK(ombud_currency_digits(currencies[i]) < 0 || err.nfields == 1);
        }
    }
    return 0;
}
