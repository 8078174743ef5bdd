/*
 * Money: the ISO 4217 table and exact amounts; see include/ombud/money.h.
 *
 * DESIGN: an amount is checked as text, one grammar for every form a
 * client may send it in. A string is that text; an integer is printed
 * ("%lld"); a double is first turned into the shortest decimal that
 * strtod reads back as the same double ("%.*e" with 1 to 17 significant
 * digits, the first that round-trips), written out without an exponent.
 * The checks and the canonical form are then the same for all three.
 *
 * The table is ISO 4217 List One (active codes) as amended up to 2026:
 * ANG gave way to XCG (2025), ZWL to ZWG (2024), BGN to EUR (2026), HRK
 * to EUR (2023), SLL to SLE. A code ISO lists with minor unit "N.A."
 * (precious metals, bond-market units, XDR, XSU, XUA, XTS, XXX) has -1:
 * it is known, so the refusal can say why, but no amount is payable in
 * it. When ISO amends the list, this table is the one place to change.
 */
#include "ombud/money.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct currency {
    char code[4];
    signed char digits; /* minor-unit digits; -1: none (not payable) */
};

/* Sorted by code (bsearch). */
static const struct currency currencies[] = {
    {"AED", 2},  {"AFN", 2},  {"ALL", 2},  {"AMD", 2},  {"AOA", 2},  {"ARS", 2},  {"AUD", 2},
    {"AWG", 2},  {"AZN", 2},  {"BAM", 2},  {"BBD", 2},  {"BDT", 2},  {"BHD", 3},  {"BIF", 0},
    {"BMD", 2},  {"BND", 2},  {"BOB", 2},  {"BOV", 2},  {"BRL", 2},  {"BSD", 2},  {"BTN", 2},
    {"BWP", 2},  {"BYN", 2},  {"BZD", 2},  {"CAD", 2},  {"CDF", 2},  {"CHE", 2},  {"CHF", 2},
    {"CHW", 2},  {"CLF", 4},  {"CLP", 0},  {"CNY", 2},  {"COP", 2},  {"COU", 2},  {"CRC", 2},
    {"CUC", 2},  {"CUP", 2},  {"CVE", 2},  {"CZK", 2},  {"DJF", 0},  {"DKK", 2},  {"DOP", 2},
    {"DZD", 2},  {"EGP", 2},  {"ERN", 2},  {"ETB", 2},  {"EUR", 2},  {"FJD", 2},  {"FKP", 2},
    {"GBP", 2},  {"GEL", 2},  {"GHS", 2},  {"GIP", 2},  {"GMD", 2},  {"GNF", 0},  {"GTQ", 2},
    {"GYD", 2},  {"HKD", 2},  {"HNL", 2},  {"HTG", 2},  {"HUF", 2},  {"IDR", 2},  {"ILS", 2},
    {"INR", 2},  {"IQD", 3},  {"IRR", 2},  {"ISK", 0},  {"JMD", 2},  {"JOD", 3},  {"JPY", 0},
    {"KES", 2},  {"KGS", 2},  {"KHR", 2},  {"KMF", 0},  {"KPW", 2},  {"KRW", 0},  {"KWD", 3},
    {"KYD", 2},  {"KZT", 2},  {"LAK", 2},  {"LBP", 2},  {"LKR", 2},  {"LRD", 2},  {"LSL", 2},
    {"LYD", 3},  {"MAD", 2},  {"MDL", 2},  {"MGA", 2},  {"MKD", 2},  {"MMK", 2},  {"MNT", 2},
    {"MOP", 2},  {"MRU", 2},  {"MUR", 2},  {"MVR", 2},  {"MWK", 2},  {"MXN", 2},  {"MXV", 2},
    {"MYR", 2},  {"MZN", 2},  {"NAD", 2},  {"NGN", 2},  {"NIO", 2},  {"NOK", 2},  {"NPR", 2},
    {"NZD", 2},  {"OMR", 3},  {"PAB", 2},  {"PEN", 2},  {"PGK", 2},  {"PHP", 2},  {"PKR", 2},
    {"PLN", 2},  {"PYG", 0},  {"QAR", 2},  {"RON", 2},  {"RSD", 2},  {"RUB", 2},  {"RWF", 0},
    {"SAR", 2},  {"SBD", 2},  {"SCR", 2},  {"SDG", 2},  {"SEK", 2},  {"SGD", 2},  {"SHP", 2},
    {"SLE", 2},  {"SOS", 2},  {"SRD", 2},  {"SSP", 2},  {"STN", 2},  {"SVC", 2},  {"SYP", 2},
    {"SZL", 2},  {"THB", 2},  {"TJS", 2},  {"TMT", 2},  {"TND", 3},  {"TOP", 2},  {"TRY", 2},
    {"TTD", 2},  {"TWD", 2},  {"TZS", 2},  {"UAH", 2},  {"UGX", 0},  {"USD", 2},  {"USN", 2},
    {"UYI", 0},  {"UYU", 2},  {"UYW", 4},  {"UZS", 2},  {"VED", 2},  {"VES", 2},  {"VND", 0},
    {"VUV", 0},  {"WST", 2},  {"XAF", 0},  {"XAG", -1}, {"XAU", -1}, {"XBA", -1}, {"XBB", -1},
    {"XBC", -1}, {"XBD", -1}, {"XCD", 2},  {"XCG", 2},  {"XDR", -1}, {"XOF", 0},  {"XPD", -1},
    {"XPF", 0},  {"XPT", -1}, {"XSU", -1}, {"XTS", -1}, {"XUA", -1}, {"XXX", -1}, {"YER", 2},
    {"ZAR", 2},  {"ZMW", 2},  {"ZWG", 2},
};

static int by_code(const void *key, const void *elem)
{
    return strcmp(key, ((const struct currency *)elem)->code);
}

int ombud_currency_digits(const char *code)
{
    if (!code)
        return -2;
    for (int i = 0; i < 3; i++)
        if (code[i] < 'A' || code[i] > 'Z')
            return -2;
    if (code[3] != '\0')
        return -2;
    const struct currency *c = bsearch(code, currencies, sizeof currencies / sizeof currencies[0],
                                       sizeof currencies[0], by_code);
    return c ? c->digits : -2;
}

enum ombud_rc ombud_money_currency(const char *currency, const char *field, struct ombud_err *err)
{
    if (!currency)
        return OMBUD_OK;
    int d = ombud_currency_digits(currency);
    if (d == -1) {
        ombud_err_field(err, field, "%s has no minor unit in ISO 4217: no amount can be paid in it",
                        currency);
        return OMBUD_ERROR;
    }
    if (d < 0) {
        ombud_err_field(err, field,
                        "must be an active ISO 4217 currency code in capitals, such as EUR");
        return OMBUD_ERROR;
    }
    return OMBUD_OK;
}

static enum ombud_rc refuse(struct ombud_err *err, const char *field, const char *message,
                            char *out)
{
    ombud_err_field(err, field, "%s", message);
    out[0] = '\0';
    return OMBUD_ERROR;
}

/* The checks shared by every form: s[0..len) is the amount as text
 * (for a number, its plain decimal form, well-formed by construction).
 * On success out is the canonical text. */
static enum ombud_rc check_text(const char *s, size_t len, const char *currency, const char *field,
                                char *out, struct ombud_err *err)
{
    size_t i = 0;
    bool negative = false;
    out[0] = '\0';
    if (i < len && s[i] == '-') {
        negative = true;
        i++;
    }
    /* 0 | [1-9][0-9]*, then optionally '.' and one or more digits. */
    size_t int_start = i;
    if (i < len && s[i] == '0')
        i++;
    else
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    size_t int_digits = i - int_start;
    size_t frac_start = i, frac_digits = 0;
    bool form = int_digits > 0;
    if (form && i < len && s[i] == '.') {
        frac_start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        frac_digits = i - frac_start;
        form = frac_digits > 0;
    }
    if (!form || i != len)
        return refuse(err, field,
                      "must be a decimal amount such as \"12.50\": digits with an optional "
                      "'.', no sign, exponent, spaces or leading zeros",
                      out);
    if (negative)
        return refuse(err, field, "must not be negative", out);

    int digits = ombud_currency_digits(currency);
    if (digits < 0)
        return OMBUD_ERROR; /* the currency's own error says why */
    if (frac_digits > (size_t)digits) {
        char m[160];
        if (digits == 0)
            snprintf(m, sizeof m, "must be a whole number in %s, which has no minor unit",
                     currency);
        else
            snprintf(m, sizeof m, "may have at most %d decimals in %s", digits, currency);
        return refuse(err, field, m, out);
    }
    size_t max_int = (size_t)(OMBUD_MONEY_MAX_DIGITS - digits);
    if (int_digits > max_int) {
        char m[160];
        snprintf(m, sizeof m,
                 "may have at most %zu digits before the decimal point in %s (%d digits in all)",
                 max_int, currency, OMBUD_MONEY_MAX_DIGITS);
        return refuse(err, field, m, out);
    }
    /* Canonical: the integer part as written, exactly `digits` decimals. */
    size_t n = 0;
    memcpy(out, s + int_start, int_digits);
    n += int_digits;
    if (digits > 0) {
        out[n++] = '.';
        memcpy(out + n, s + frac_start, frac_digits);
        n += frac_digits;
        for (size_t k = frac_digits; k < (size_t)digits; k++)
            out[n++] = '0';
    }
    out[n] = '\0';
    return OMBUD_OK;
}

enum ombud_rc ombud_money_parse_text(const char *text, size_t len, const char *currency,
                                     const char *field, char *out, struct ombud_err *err)
{
    return check_text(text, len, currency, field, out, err);
}

enum ombud_rc ombud_money_parse_integer(int64_t v, const char *currency, const char *field,
                                        char *out, struct ombud_err *err)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
    return check_text(buf, (size_t)n, currency, field, out, err);
}

/* The shortest decimal strtod reads back as d (finite, >= 0): its
 * significant digits (no trailing zeros; "0" for zero) and the power of
 * ten of the first one (d = 0.D1D2... * 10^(exp10 + 1)). */
static void shortest(double d, char sig[20], int *exp10)
{
    char buf[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    /* buf is D[.DDD]e[+-]XX (any decimal-point character: skip non-digits). */
    size_t n = 0;
    const char *p = buf;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && n < 19)
            sig[n++] = *p;
    while (n > 1 && sig[n - 1] == '0')
        n--;
    sig[n] = '\0';
    *exp10 = *p == 'e' ? atoi(p + 1) : 0;
}

enum ombud_rc ombud_money_parse_real(double d, const char *currency, const char *field, char *out,
                                     struct ombud_err *err)
{
    out[0] = '\0';
    if (!isfinite(d)) /* JSON has no such numbers; a caller's bug */
        return refuse(err, field, "must be a finite number", out);
    if (signbit(d))
        return refuse(err, field, "must not be negative", out);

    char sig[20];
    int e;
    shortest(d, sig, &e);
    int nsig = (int)strlen(sig);
    int digits = ombud_currency_digits(currency);
    int room = digits < 0 ? 4 : digits;

    /* Write it without exponent, unless that alone shows it too large or
     * too fine: a plain form longer than any allowed amount. */
    char plain[64];
    size_t n = 0;
    if (sig[0] == '0') {
        plain[n++] = '0';
    } else if (e >= OMBUD_MONEY_MAX_DIGITS) {
        if (digits < 0)
            return OMBUD_ERROR;
        char m[160];
        snprintf(m, sizeof m,
                 "may have at most %d digits before the decimal point in %s (%d digits in all)",
                 OMBUD_MONEY_MAX_DIGITS - digits, currency, OMBUD_MONEY_MAX_DIGITS);
        return refuse(err, field, m, out);
    } else if (nsig - 1 - e > room + OMBUD_MONEY_MAX_DIGITS) {
        if (digits < 0)
            return OMBUD_ERROR;
        char m[160];
        if (digits == 0)
            snprintf(m, sizeof m, "must be a whole number in %s, which has no minor unit",
                     currency);
        else
            snprintf(m, sizeof m, "may have at most %d decimals in %s", digits, currency);
        return refuse(err, field, m, out);
    } else if (e >= 0) {
        for (int k = 0; k <= e; k++)
            plain[n++] = k < nsig ? sig[k] : '0';
        if (nsig > e + 1) {
            plain[n++] = '.';
            for (int k = e + 1; k < nsig; k++)
                plain[n++] = sig[k];
        }
    } else {
        plain[n++] = '0';
        plain[n++] = '.';
        for (int k = 0; k < -e - 1; k++)
            plain[n++] = '0';
        for (int k = 0; k < nsig; k++)
            plain[n++] = sig[k];
    }
    if (check_text(plain, n, currency, field, out, err) != OMBUD_OK)
        return OMBUD_ERROR;
    if (nsig > OMBUD_MONEY_NUMBER_DIGITS) {
        char m[160];
        snprintf(m, sizeof m,
                 "has more significant digits than a JSON number carries exactly (%d): "
                 "send the amount as a string",
                 OMBUD_MONEY_NUMBER_DIGITS);
        return refuse(err, field, m, out);
    }
    return OMBUD_OK;
}
