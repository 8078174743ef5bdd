/* Search grams (src/domain/search.c): the same grams as the SQL
 * ombud_grams/ombud_query_grams for the same text, as text[] literals.
 * tests/integration/test_search.c checks them against the SQL itself. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ombud/search.h"

static void doc_is(const char *title, const char *description, const char *customer,
                   const char *want)
{
    char *got = ombud_search_doc_grams(title, description, customer);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void query_is(const char *q, const char *want)
{
    char *got = ombud_search_query_grams(q);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void chinese(void **state)
{
    (void)state;
    /* 款 U+6B3E sorts before 退 U+9000: code point order. */
    doc_is("退款", NULL, NULL, "{\"款\",\"退\",\"退款\"}");
    doc_is("退款", "退款", "退款", "{\"款\",\"退\",\"退款\"}");
    /* Full-width punctuation is text like any other. */
    doc_is("款，商", NULL, NULL, "{\"商\",\"款\",\"款，\",\"，\",\"，商\"}");
    query_is("退款", "{\"退款\"}");
    query_is("退", "{\"退\"}");
    query_is(" 退 ", "{\"退\"}");
    query_is("还没有处理", "{\"处理\",\"有处\",\"没有\",\"还没\"}");
}

static void latin_lowercase(void **state)
{
    (void)state;
    doc_is("ReFund", "", "",
           "{\"d\",\"e\",\"ef\",\"f\",\"fu\",\"n\",\"nd\",\"r\",\"re\",\"u\",\"un\"}");
    query_is("ReFund", "{\"ef\",\"fu\",\"nd\",\"re\",\"un\"}");
    query_is("REFUND", "{\"ef\",\"fu\",\"nd\",\"re\",\"un\"}");
    /* Beyond ASCII too, as lower() in a C.UTF-8 database. */
    query_is("ÄÖ", "{\"äö\"}");
    query_is("ΣΑ", "{\"σα\"}");
    query_is("ДА", "{\"да\"}");
}

static void whitespace(void **state)
{
    (void)state;
    /* No gram holds whitespace; fields never pair across their boundary. */
    doc_is("a b", "c", "d", "{\"a\",\"b\",\"c\",\"d\"}");
    doc_is("a\tb\nc\r\n", " ", "", "{\"a\",\"b\",\"c\"}");
    doc_is("", "", "", "{}");
    doc_is(NULL, NULL, NULL, "{}");
    /* U+3000 ideographic space is whitespace. */
    doc_is("退\xe3\x80\x80款", NULL, NULL, "{\"款\",\"退\"}");
    /* Characters between spaces are looked up alone. */
    query_is("a b", "{\"a\",\"b\"}");
    query_is("退款 refund", "{\"ef\",\"fu\",\"nd\",\"re\",\"un\",\"退款\"}");
    query_is("款 ref", "{\"ef\",\"re\",\"款\"}");
    query_is("   ", "{}");
    query_is("\t\n", "{}");
}

static void mixed_scripts(void **state)
{
    (void)state;
    doc_is("Dana 陈", NULL, NULL, "{\"a\",\"an\",\"d\",\"da\",\"n\",\"na\",\"陈\"}");
    doc_is("a退", NULL, NULL, "{\"a\",\"a退\",\"退\"}");
    /* Astral code points (four UTF-8 bytes) round-trip. */
    doc_is("\xf0\x9f\x98\x80x", NULL, NULL, "{\"x\",\"\xf0\x9f\x98\x80\",\"\xf0\x9f\x98\x80x\"}");
}

static void quoting(void **state)
{
    (void)state;
    /* Only " and \ are escaped inside a quoted element. */
    doc_is("\"\\", NULL, NULL, "{\"\\\"\",\"\\\"\\\\\",\"\\\\\"}");
    doc_is("{,}", NULL, NULL, "{\",\",\",}\",\"{\",\"{,\",\"}\"}");
    query_is("100%", "{\"0%\",\"00\",\"10\"}");
    query_is("'", "{\"'\"}");
}

static void not_utf8(void **state)
{
    (void)state;
    assert_null(ombud_search_doc_grams("ok", "\xff", NULL));
    assert_null(ombud_search_doc_grams("\xe9\x80", NULL, NULL));
    assert_null(ombud_search_query_grams("abc\xc3\x28"));
    assert_null(ombud_search_query_grams("\xed\xa0\x80"));
}

static void long_text(void **state)
{
    (void)state;
    /* 20000 characters of one letter: two grams. */
    size_t n = 20000;
    char *t = malloc(n * 3 + 1);
    assert_non_null(t);
    for (size_t i = 0; i < n; i++)
        memcpy(t + 3 * i, "退", 3);
    t[n * 3] = '\0';
    doc_is("", t, "", "{\"退\",\"退退\"}");
    /* 20000 distinct characters: each alone and each with its successor. */
    size_t o = 0;
    for (uint32_t c = 0x4E00; c < 0x4E00 + n; c++) {
        t[o++] = (char)(0xE0 | c >> 12);
        t[o++] = (char)(0x80 | (c >> 6 & 0x3F));
        t[o++] = (char)(0x80 | (c & 0x3F));
    }
    t[o] = '\0';
    char *g = ombud_search_doc_grams(t, NULL, NULL);
    assert_non_null(g);
    size_t elems = 0;
    for (const char *p = g; *p; p++)
        elems += *p == '"';
    assert_int_equal(elems / 2, 2 * n - 1);
    free(g);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chinese),    cmocka_unit_test(latin_lowercase),
        cmocka_unit_test(whitespace), cmocka_unit_test(mixed_scripts),
        cmocka_unit_test(quoting),    cmocka_unit_test(not_utf8),
        cmocka_unit_test(long_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
