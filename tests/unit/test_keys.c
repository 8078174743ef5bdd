/*
 * Unit tests for src/keys.c: SHA-256 hashing of key secrets against the
 * FIPS 180-2 vectors, the shape of generated keys, and random hex.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ombud/keys.h"

static bool is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static bool is_b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

static int b64url_value(char c)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const char *p = strchr(alphabet, c);
    return c && p ? (int)(p - alphabet) : -1;
}

/* Hashes len bytes of key and checks the result against want. */
static void expect_hash(const char *key, size_t len, const char *want)
{
    char out[OMBUD_HASH_BUFLEN + 8];
    memset(out, 'X', sizeof out);
    assert_int_equal(ombud_key_hash(key, len, out), OMBUD_OK);
    assert_string_equal(out, want);
    assert_int_equal(out[OMBUD_HASH_BUFLEN], 'X'); /* nothing past the NUL */
}

/* ---- ombud_key_hash ---- */

static void test_hash_empty(void **state)
{
    (void)state;
    expect_hash("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_hash_abc(void **state)
{
    (void)state;
    expect_hash("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_hash_two_block_vector(void **state)
{
    const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    (void)state;
    expect_hash(msg, strlen(msg),
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_hash_quick_brown_fox(void **state)
{
    const char *msg = "The quick brown fox jumps over the lazy dog";
    (void)state;
    expect_hash(msg, strlen(msg),
                "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592");
}

static void test_hash_million_a(void **state)
{
    const size_t n = 1000000;
    char *msg = malloc(n);
    (void)state;
    assert_non_null(msg);
    memset(msg, 'a', n);
    expect_hash(msg, n, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(msg);
}

static void test_hash_uses_len_not_nul(void **state)
{
    char a[OMBUD_HASH_BUFLEN], b[OMBUD_HASH_BUFLEN];
    (void)state;
    /* Only len bytes count. */
    expect_hash("abcdef", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* Embedded NUL bytes are hashed, not a terminator. */
    assert_int_equal(ombud_key_hash("a\0b", 3, a), OMBUD_OK);
    assert_int_equal(ombud_key_hash("a", 1, b), OMBUD_OK);
    assert_string_not_equal(a, b);
    /* NULL with zero length is the empty message. */
    expect_hash(NULL, 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_hash_format(void **state)
{
    char out[OMBUD_HASH_BUFLEN];
    static const char *const inputs[] = {"", "a", "omb_x", "\xff\xfe", "0123456789"};
    (void)state;
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        assert_int_equal(ombud_key_hash(inputs[i], strlen(inputs[i]), out), OMBUD_OK);
        assert_int_equal(strlen(out), 64);
        assert_true(is_lower_hex(out, 64));
    }
}

static void test_hash_deterministic_and_distinct(void **state)
{
    char a[OMBUD_HASH_BUFLEN], b[OMBUD_HASH_BUFLEN], c[OMBUD_HASH_BUFLEN];
    (void)state;
    assert_int_equal(ombud_key_hash("omb_secret", 10, a), OMBUD_OK);
    assert_int_equal(ombud_key_hash("omb_secret", 10, b), OMBUD_OK);
    assert_int_equal(ombud_key_hash("omb_secreT", 10, c), OMBUD_OK);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
}

/* ---- ombud_key_generate ---- */

static void check_key_shape(const char *k)
{
    assert_int_equal(strlen(k), 4 + 43);
    assert_true(strlen(k) < OMBUD_KEY_BUFLEN);
    assert_int_equal(strncmp(k, "omb_", 4), 0);
    for (size_t i = 4; i < 47; i++) {
        if (!is_b64url(k[i]))
            print_error("bad char 0x%02x at %zu in %s\n", (unsigned char)k[i], i, k);
        assert_true(is_b64url(k[i]));
    }
    /* 32 bytes = 256 bits in 43 chars (258 bits): the last char carries
     * 4 data bits and 2 zero bits, so its value is a multiple of 4. */
    int last = b64url_value(k[46]);
    assert_true(last >= 0);
    assert_int_equal(last % 4, 0);
}

static void test_generate_format(void **state)
{
    char out[OMBUD_KEY_BUFLEN];
    struct ombud_err err;
    (void)state;
    ombud_err_clear(&err);
    memset(out, 'X', sizeof out);
    assert_int_equal(ombud_key_generate(out, &err), OMBUD_OK);
    assert_int_equal(err.kind, OMBUD_E_NONE);
    check_key_shape(out);
    assert_int_equal(out[47], '\0');
    assert_int_equal(out[48], 'X'); /* nothing written past the NUL */
}

static void test_generate_differs(void **state)
{
    char a[OMBUD_KEY_BUFLEN], b[OMBUD_KEY_BUFLEN];
    struct ombud_err err;
    (void)state;
    ombud_err_clear(&err);
    assert_int_equal(ombud_key_generate(a, &err), OMBUD_OK);
    assert_int_equal(ombud_key_generate(b, &err), OMBUD_OK);
    assert_string_not_equal(a, b);
}

static void test_generate_many_unique_and_well_formed(void **state)
{
    enum { N = 200 };
    static char keys[N][OMBUD_KEY_BUFLEN];
    struct ombud_err err;
    bool seen[64] = {false};
    size_t distinct_chars = 0;
    (void)state;
    ombud_err_clear(&err);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(ombud_key_generate(keys[i], &err), OMBUD_OK);
        check_key_shape(keys[i]);
        for (size_t j = 4; j < 46; j++) {
            int v = b64url_value(keys[i][j]);
            if (!seen[v]) {
                seen[v] = true;
                distinct_chars++;
            }
        }
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(keys[i], keys[j]);
    }
    /* 200 x 42 random chars use the whole alphabet, '-' and '_' included. */
    assert_int_equal(distinct_chars, 64);
}

static void test_generated_key_hashes(void **state)
{
    char key[OMBUD_KEY_BUFLEN], h1[OMBUD_HASH_BUFLEN], h2[OMBUD_HASH_BUFLEN];
    struct ombud_err err;
    (void)state;
    ombud_err_clear(&err);
    assert_int_equal(ombud_key_generate(key, &err), OMBUD_OK);
    assert_int_equal(ombud_key_hash(key, strlen(key), h1), OMBUD_OK);
    assert_int_equal(ombud_key_hash(key, strlen(key), h2), OMBUD_OK);
    assert_string_equal(h1, h2);
    assert_true(is_lower_hex(h1, 64));
}

/* ---- ombud_random_hex ---- */

static void test_random_hex_lengths(void **state)
{
    static const size_t sizes[] = {1, 2, 8, 16, 32, 63, 64};
    char out[2 * 64 + 1 + 8];
    (void)state;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i];
        memset(out, 'X', sizeof out);
        ombud_random_hex(out, n);
        assert_int_equal(strlen(out), 2 * n);
        assert_true(is_lower_hex(out, 2 * n));
        assert_int_equal(out[2 * n + 1], 'X');
    }
}

static void test_random_hex_zero(void **state)
{
    char out[4] = "XXX";
    (void)state;
    ombud_random_hex(out, 0);
    assert_string_equal(out, "");
    assert_int_equal(out[1], 'X');
}

static void test_random_hex_capped_at_64_bytes(void **state)
{
    char out[2 * 100 + 1];
    (void)state;
    memset(out, 'X', sizeof out);
    ombud_random_hex(out, 100);
    assert_int_equal(strlen(out), 128);
    assert_true(is_lower_hex(out, 128));
    assert_int_equal(out[129], 'X');
}

static void test_random_hex_differs(void **state)
{
    char a[33], b[33];
    (void)state;
    ombud_random_hex(a, 16);
    ombud_random_hex(b, 16);
    assert_string_not_equal(a, b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_empty),
        cmocka_unit_test(test_hash_abc),
        cmocka_unit_test(test_hash_two_block_vector),
        cmocka_unit_test(test_hash_quick_brown_fox),
        cmocka_unit_test(test_hash_million_a),
        cmocka_unit_test(test_hash_uses_len_not_nul),
        cmocka_unit_test(test_hash_format),
        cmocka_unit_test(test_hash_deterministic_and_distinct),
        cmocka_unit_test(test_generate_format),
        cmocka_unit_test(test_generate_differs),
        cmocka_unit_test(test_generate_many_unique_and_well_formed),
        cmocka_unit_test(test_generated_key_hashes),
        cmocka_unit_test(test_random_hex_lengths),
        cmocka_unit_test(test_random_hex_zero),
        cmocka_unit_test(test_random_hex_capped_at_64_bytes),
        cmocka_unit_test(test_random_hex_differs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
