/*
 * Money: ISO 4217 currencies and exact decimal amounts. Pure C, no I/O.
 *
 * An amount is never a binary float. What a client sends (a decimal
 * string, or a JSON number that jansson has already read into an
 * int64 or a double) becomes one canonical text: the decimal digits with
 * exactly the currency's minor-unit digits ("50.5" CNY -> "50.50", "500"
 * JPY -> "500", "1.25" KWD -> "1.250"). That text is what the database
 * stores (numeric without a fixed scale keeps it as written) and what
 * every response sends.
 *
 * Refused, each as a field error on the caller's field name: an amount
 * that is not a plain decimal (sign, exponent, spaces, leading zeros,
 * empty), a negative one (a minus sign is refused also on zero), more
 * decimals than the currency has (also zeros: "500.00" JPY), and more
 * than OMBUD_MONEY_MAX_DIGITS digits in all counting the currency's
 * minor digits, so the amount in minor units always fits a signed 64-bit
 * integer. A currency must be an active ISO 4217 code in capitals with a
 * minor unit: codes ISO lists without one (XAU, XDR, XXX) are not money
 * a complaint can be settled in.
 *
 * A double carries the decimal its client wrote only up to
 * OMBUD_MONEY_NUMBER_DIGITS significant digits (DBL_DIG: every decimal
 * of 15 significant digits reads back from its double unchanged, and no
 * two of them share a double). So a JSON number stands for the shortest
 * decimal that reads back as the same double, and one whose shortest
 * form needs more significant digits is refused: the client is told to
 * send a string.
 */
#ifndef OMBUD_MONEY_H
#define OMBUD_MONEY_H

#include <stddef.h>
#include <stdint.h>

#include "ombud/err.h"

/* Digits of an amount in all, integer part plus the currency's minor digits. */
#define OMBUD_MONEY_MAX_DIGITS 18
/* Significant digits a JSON number (a double) may have. */
#define OMBUD_MONEY_NUMBER_DIGITS 15
/* Room for a canonical amount: 18 digits, the point and the NUL. */
#define OMBUD_MONEY_TEXT_MAX 24

/* Minor-unit digits of an active ISO 4217 currency code (0 to 4), -1 for
 * a code ISO 4217 lists without a minor unit (XAU), -2 for anything else
 * (unknown, withdrawn, lower case, not three letters). code may be NULL. */
int ombud_currency_digits(const char *code);

/* Checks currency (NULL: not given, nothing added); adds a field error
 * naming field unless it is an active ISO 4217 code with a minor unit. */
OMBUD_MUSTCHECK enum ombud_rc ombud_money_currency(const char *currency, const char *field,
                                                   struct ombud_err *err);

/* The amount a client sent, as a string (text), a JSON integer (v) or a
 * JSON real (d), in currency: on success out (OMBUD_MONEY_TEXT_MAX
 * bytes) holds the canonical text. Otherwise a field error naming field
 * is added, and out is "". currency NULL or not payable (the caller has
 * reported it): only what does not depend on the currency is checked
 * (form, sign), and the result is OMBUD_ERROR without an error of its
 * own. text need not be NUL-terminated: len bytes are read. */
OMBUD_MUSTCHECK enum ombud_rc ombud_money_parse_text(const char *text, size_t len,
                                                     const char *currency, const char *field,
                                                     char *out, struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_money_parse_integer(int64_t v, const char *currency,
                                                        const char *field, char *out,
                                                        struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_money_parse_real(double d, const char *currency,
                                                     const char *field, char *out,
                                                     struct ombud_err *err);

#endif
