/* UTF-8 validation and sanitizing (src/domain/text.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>

#include "ombud/text.h"

static void test_valid(void **state)
{
    (void)state;
    assert_true(ombud_utf8_valid(""));
    assert_true(ombud_utf8_valid("plain ascii"));
    assert_true(ombud_utf8_valid("\xe9\x80\x80\xe6\xac\xbe")); /* 退款 */
    assert_true(ombud_utf8_valid("\xf0\x9f\x98\x80"));         /* emoji */
    assert_true(ombud_utf8_valid("\xf4\x8f\xbf\xbf"));         /* U+10FFFF */
}

static void test_invalid(void **state)
{
    (void)state;
    assert_false(ombud_utf8_valid("\xff"));
    assert_false(ombud_utf8_valid("\xc3"));             /* cut short */
    assert_false(ombud_utf8_valid("\xc0\xaf"));         /* overlong '/' */
    assert_false(ombud_utf8_valid("\xe0\x80\xaf"));     /* overlong */
    assert_false(ombud_utf8_valid("\xed\xa0\x80"));     /* surrogate */
    assert_false(ombud_utf8_valid("\xf4\x90\x80\x80")); /* > U+10FFFF */
    assert_false(ombud_utf8_valid("ab\x80"));           /* stray continuation */
}

static void test_sanitize(void **state)
{
    (void)state;
    char *s = ombud_utf8_sanitize_dup("/x\xffy/\xe9\x80\x80\xc3");
    assert_string_equal(s, "/x?y/\xe9\x80\x80?");
    assert_true(ombud_utf8_valid(s));
    free(s);
    s = ombud_utf8_sanitize_dup("fine");
    assert_string_equal(s, "fine");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_sanitize),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
