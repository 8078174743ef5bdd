/*
 * Unit tests for src/domain/cursor.c: encode/decode round trips and the
 * strict rejection of anything that is not a cursor of the expected shape.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ombud/cursor.h"

/* Reference base64url (no padding) of len bytes, to forge payloads. */
static void b64url(const char *plain, size_t len, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned x = (unsigned)(unsigned char)plain[i] << 16;
        if (i + 1 < len)
            x |= (unsigned)(unsigned char)plain[i + 1] << 8;
        if (i + 2 < len)
            x |= (unsigned char)plain[i + 2];
        out[o++] = a[(x >> 18) & 63];
        out[o++] = a[(x >> 12) & 63];
        if (i + 1 < len)
            out[o++] = a[(x >> 6) & 63];
        if (i + 2 < len)
            out[o++] = a[x & 63];
    }
    out[o] = '\0';
}

static bool decode_plain(const char *plain, int64_t *v, size_t n)
{
    char text[512];
    b64url(plain, strlen(plain), text);
    return ombud_cursor_decode(text, v, n);
}

static void round_trip(const int64_t *in, size_t n)
{
    char text[OMBUD_CURSOR_BUFLEN + 8];
    int64_t out[OMBUD_CURSOR_MAX + 1];

    memset(text, 'X', sizeof text);
    ombud_cursor_encode(in, n, text);
    assert_true(strlen(text) > 0);
    assert_true(strlen(text) < OMBUD_CURSOR_BUFLEN);
    for (const char *p = text; *p; p++)
        assert_non_null(
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", *p));
    /* Agrees with a reference encoding of the decimal text. */
    char plain[128], ref[256];
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(plain + len, sizeof plain - len, "%s%lld", i ? "." : "",
                                (long long)in[i]);
    b64url(plain, len, ref);
    assert_string_equal(text, ref);

    for (size_t i = 0; i <= OMBUD_CURSOR_MAX; i++)
        out[i] = INT64_C(0x5A5A5A5A5A5A5A5A);
    assert_true(ombud_cursor_decode(text, out, n));
    for (size_t i = 0; i < n; i++)
        assert_int_equal(out[i], in[i]);
    /* Nothing written past the n values. */
    assert_int_equal(out[n], INT64_C(0x5A5A5A5A5A5A5A5A));

    /* The same text is not a cursor of any other arity. */
    for (size_t m = 1; m <= OMBUD_CURSOR_MAX; m++)
        if (m != n)
            assert_false(ombud_cursor_decode(text, out, m));
}

/* ---- round trips ---- */

static void test_known_encodings(void **state)
{
    char text[OMBUD_CURSOR_BUFLEN];
    (void)state;
    ombud_cursor_encode((const int64_t[]){1}, 1, text);
    assert_string_equal(text, "MQ");
    ombud_cursor_encode((const int64_t[]){12}, 1, text);
    assert_string_equal(text, "MTI");
    ombud_cursor_encode((const int64_t[]){123}, 1, text);
    assert_string_equal(text, "MTIz");
    ombud_cursor_encode((const int64_t[]){1, 2}, 2, text);
    assert_string_equal(text, "MS4y");
}

static void test_round_trip_one(void **state)
{
    static const int64_t vals[] = {0,
                                   1,
                                   -1,
                                   7,
                                   10,
                                   999,
                                   -1000,
                                   INT64_C(1795334400000000),
                                   INT64_MAX,
                                   INT64_MIN,
                                   INT64_MAX - 1,
                                   INT64_MIN + 1};
    (void)state;
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
        round_trip(&vals[i], 1);
}

static void test_round_trip_two(void **state)
{
    (void)state;
    round_trip((const int64_t[]){INT64_C(1795334400123456), 42}, 2);
    round_trip((const int64_t[]){-5, 0}, 2);
    round_trip((const int64_t[]){0, 0}, 2);
}

static void test_round_trip_three(void **state)
{
    (void)state;
    round_trip((const int64_t[]){-5, 0, 7}, 3);
    round_trip((const int64_t[]){INT64_MAX, -1, INT64_MIN}, 3);
}

static void test_round_trip_four_extremes(void **state)
{
    (void)state;
    /* The longest possible payload: four 20-character values. */
    round_trip((const int64_t[]){INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN}, 4);
    round_trip((const int64_t[]){INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX}, 4);
    round_trip((const int64_t[]){INT64_MIN, INT64_MAX, -1, 1}, 4);
    round_trip((const int64_t[]){1, 2, 3, 4}, 4);
}

static void test_round_trip_sweep(void **state)
{
    (void)state;
    /* Payload lengths of every residue mod 3 (padding cases). */
    int64_t v = 1;
    for (int i = 0;; i++) {
        round_trip(&v, 1);
        int64_t neg = -v;
        round_trip(&neg, 1);
        int64_t pair[2] = {v, -v + 3};
        round_trip(pair, 2);
        int64_t nines = v - 1 > 0 ? v - 1 : 9;
        round_trip(&nines, 1);
        if (i == 18) /* 10^18 is the largest power of ten in int64 */
            break;
        v *= 10;
    }
}

static void test_encode_clamps_count(void **state)
{
    const int64_t in[6] = {1, 2, 3, 4, 5, 6};
    char text[OMBUD_CURSOR_BUFLEN + 8];
    int64_t out[OMBUD_CURSOR_MAX];
    (void)state;
    memset(text, 'X', sizeof text);
    ombud_cursor_encode(in, 6, text);
    assert_true(strlen(text) < OMBUD_CURSOR_BUFLEN);
    assert_true(ombud_cursor_decode(text, out, 4));
    assert_int_equal(out[3], 4);
}

/* ---- decode rejects ---- */

static void test_decode_empty_and_null(void **state)
{
    int64_t v[OMBUD_CURSOR_MAX];
    (void)state;
    assert_false(ombud_cursor_decode(NULL, v, 1));
    assert_false(ombud_cursor_decode("", v, 1));
    assert_false(ombud_cursor_decode("", v, 2));
}

static void test_decode_bad_count(void **state)
{
    int64_t v[OMBUD_CURSOR_MAX + 2];
    (void)state;
    assert_false(ombud_cursor_decode("MQ", v, 0));
    assert_false(ombud_cursor_decode("MQ", v, OMBUD_CURSOR_MAX + 1));
    assert_false(ombud_cursor_decode("MQ", v, SIZE_MAX));
    /* "1.2" is two values, not one or three. */
    assert_false(ombud_cursor_decode("MS4y", v, 1));
    assert_false(ombud_cursor_decode("MS4y", v, 3));
    assert_true(ombud_cursor_decode("MS4y", v, 2));
}

static void test_decode_bad_chars(void **state)
{
    static const char *const bad[] = {
        "MQ==", "MQ=", "M=Q",        "M+Q",      "MQ/",  "M Q",  " MQ",    "MQ ",
        "MQ\n", "M.Q", "MQ\xc3\xa9", "\xff\xfe", "MT!z", "MTI%", "MTIz\t",
    };
    int64_t v[OMBUD_CURSOR_MAX];
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (ombud_cursor_decode(bad[i], v, 1))
            print_error("accepted \"%s\"\n", bad[i]);
        assert_false(ombud_cursor_decode(bad[i], v, 1));
    }
}

static void test_decode_impossible_length(void **state)
{
    int64_t v[OMBUD_CURSOR_MAX];
    (void)state;
    /* A single leftover base64 char carries no whole byte. */
    assert_false(ombud_cursor_decode("M", v, 1));
    assert_false(ombud_cursor_decode("MTIzN", v, 1));
}

static void test_decode_non_numeric_payloads(void **state)
{
    static const struct {
        const char *plain;
        size_t n;
    } bad[] = {
        {"abc", 1},     {"-", 1},    {"+1", 1},     {" 1", 1},    {"1 ", 1},  {"1x", 1},
        {"0x10", 1},    {"1e3", 1},  {"1.5", 1},    {".", 1},     {"1.", 2},  {".1", 2},
        {"1..2", 2},    {"1.2x", 2}, {"1.2.", 2},   {"1,2", 2},   {"1.-", 2}, {"1. 2", 2},
        {"--1", 1},     {"-+1", 1},  {"1.2.3.", 3}, {"\t1", 1},   {"\n", 1},  {"1.2.3.4.5", 4},
        {"a.b.c.d", 4}, {"NaN", 1},  {"inf", 1},    {"1.2.3", 2}, {"1.2", 3}, {"", 1},
    };
    int64_t v[OMBUD_CURSOR_MAX];
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (decode_plain(bad[i].plain, v, bad[i].n))
            print_error("accepted payload \"%s\" as %zu value(s)\n", bad[i].plain, bad[i].n);
        assert_false(decode_plain(bad[i].plain, v, bad[i].n));
    }
}

static void test_decode_out_of_range(void **state)
{
    int64_t v[OMBUD_CURSOR_MAX];
    (void)state;
    assert_true(decode_plain("9223372036854775807", v, 1));
    assert_int_equal(v[0], INT64_MAX);
    assert_true(decode_plain("-9223372036854775808", v, 1));
    assert_int_equal(v[0], INT64_MIN);
    assert_false(decode_plain("9223372036854775808", v, 1));
    assert_false(decode_plain("-9223372036854775809", v, 1));
    assert_false(decode_plain("99999999999999999999", v, 1));
    assert_false(decode_plain("1.99999999999999999999", v, 2));
}

static void test_decode_trailing_garbage(void **state)
{
    char text[OMBUD_CURSOR_BUFLEN + 16];
    int64_t v[OMBUD_CURSOR_MAX];
    (void)state;
    /* Valid cursor text followed by more base64 characters. */
    ombud_cursor_encode((const int64_t[]){5, 6}, 2, text);
    strcat(text, "QUFB"); /* "AAA" appended to the payload */
    assert_false(ombud_cursor_decode(text, v, 2));
    assert_false(decode_plain("5.6 ", v, 2));
    assert_false(decode_plain("5.6.", v, 2));
    assert_false(decode_plain("7abc", v, 1));
}

static void test_decode_overlong(void **state)
{
    char text[1024];
    int64_t v[OMBUD_CURSOR_MAX];
    (void)state;
    /* Longer than any real cursor: rejected on length alone. */
    memset(text, 'M', 200);
    text[200] = '\0';
    assert_false(ombud_cursor_decode(text, v, 1));
    memset(text, 'A', 1000);
    text[1000] = '\0';
    assert_false(ombud_cursor_decode(text, v, 4));

    /* 300 digits: rejected, never parsed into a truncated value. */
    char plain[400];
    memset(plain, '1', 300);
    plain[300] = '\0';
    assert_false(decode_plain(plain, v, 1));
}

static void test_decode_accepts_longest_real_cursor(void **state)
{
    const int64_t in[4] = {INT64_MIN, INT64_MIN, INT64_MIN, INT64_MIN};
    char text[OMBUD_CURSOR_BUFLEN];
    int64_t out[4];
    (void)state;
    ombud_cursor_encode(in, 4, text);
    assert_int_equal(strlen(text), 111); /* 83 payload bytes */
    assert_true(ombud_cursor_decode(text, out, 4));
    assert_memory_equal(in, out, sizeof in);
}

/* Only the canonical text of the values decodes: no hidden bytes after a
 * NUL, no leading zeros, no "-0", no stray bits in the last character. */
static void test_decode_only_canonical(void **state)
{
    (void)state;
    static const char *const bad[] = {"MQB4", "MQA", "MR", "MDA3", "LTA"};
    int64_t v[1];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(ombud_cursor_decode(bad[i], v, 1));
    assert_true(ombud_cursor_decode("MQ", v, 1));
    assert_int_equal(v[0], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_encodings),
        cmocka_unit_test(test_round_trip_one),
        cmocka_unit_test(test_round_trip_two),
        cmocka_unit_test(test_round_trip_three),
        cmocka_unit_test(test_round_trip_four_extremes),
        cmocka_unit_test(test_round_trip_sweep),
        cmocka_unit_test(test_encode_clamps_count),
        cmocka_unit_test(test_decode_empty_and_null),
        cmocka_unit_test(test_decode_bad_count),
        cmocka_unit_test(test_decode_bad_chars),
        cmocka_unit_test(test_decode_impossible_length),
        cmocka_unit_test(test_decode_non_numeric_payloads),
        cmocka_unit_test(test_decode_out_of_range),
        cmocka_unit_test(test_decode_trailing_garbage),
        cmocka_unit_test(test_decode_overlong),
        cmocka_unit_test(test_decode_accepts_longest_real_cursor),
        cmocka_unit_test(test_decode_only_canonical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
