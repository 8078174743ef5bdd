/* Webhooks' pure rules (src/domain/webhook.c: address classes, retry
 * schedule) and the Standard Webhooks signature (src/outbound/url.c)
 * against the specification's published example. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "ombud/err.h"
#include "ombud/outbound.h"
#include "ombud/webhook.h"

static enum ombud_addr_class cls(const char *text)
{
    unsigned char a[16];
    if (inet_pton(AF_INET, text, a) == 1)
        return ombud_webhook_addr_class(a, 4);
    assert_int_equal(inet_pton(AF_INET6, text, a), 1);
    return ombud_webhook_addr_class(a, 16);
}

static void test_address_classes(void **state)
{
    (void)state;
    assert_int_equal(cls("169.254.169.254"), OMBUD_ADDR_METADATA);
    assert_int_equal(cls("fd00:ec2::254"), OMBUD_ADDR_METADATA);
    assert_int_equal(cls("::ffff:169.254.169.254"), OMBUD_ADDR_METADATA);
    assert_int_equal(cls("127.0.0.1"), OMBUD_ADDR_LOOPBACK);
    assert_int_equal(cls("127.255.0.9"), OMBUD_ADDR_LOOPBACK);
    assert_int_equal(cls("::1"), OMBUD_ADDR_LOOPBACK);
    assert_int_equal(cls("::ffff:127.0.0.1"), OMBUD_ADDR_LOOPBACK);
    assert_int_equal(cls("10.0.0.1"), OMBUD_ADDR_PRIVATE);
    assert_int_equal(cls("172.16.0.1"), OMBUD_ADDR_PRIVATE);
    assert_int_equal(cls("172.31.255.255"), OMBUD_ADDR_PRIVATE);
    assert_int_equal(cls("172.32.0.1"), OMBUD_ADDR_PUBLIC);
    assert_int_equal(cls("192.168.1.1"), OMBUD_ADDR_PRIVATE);
    assert_int_equal(cls("100.64.0.1"), OMBUD_ADDR_PRIVATE);
    assert_int_equal(cls("169.254.1.1"), OMBUD_ADDR_LINK_LOCAL);
    assert_int_equal(cls("fe80::1"), OMBUD_ADDR_LINK_LOCAL);
    assert_int_equal(cls("fc00::1"), OMBUD_ADDR_UNIQUE_LOCAL);
    assert_int_equal(cls("fd12:3456::1"), OMBUD_ADDR_UNIQUE_LOCAL);
    assert_int_equal(cls("0.0.0.0"), OMBUD_ADDR_UNSPECIFIED);
    assert_int_equal(cls("::"), OMBUD_ADDR_UNSPECIFIED);
    assert_int_equal(cls("224.0.0.1"), OMBUD_ADDR_UNSPECIFIED);
    assert_int_equal(cls("93.184.216.34"), OMBUD_ADDR_PUBLIC);
    assert_int_equal(cls("2606:2800:220:1::1"), OMBUD_ADDR_PUBLIC);

    assert_true(ombud_webhook_addr_allowed(OMBUD_ADDR_PUBLIC, false));
    assert_false(ombud_webhook_addr_allowed(OMBUD_ADDR_LOOPBACK, false));
    assert_true(ombud_webhook_addr_allowed(OMBUD_ADDR_LOOPBACK, true));
    assert_false(ombud_webhook_addr_allowed(OMBUD_ADDR_METADATA, true));
}

static void test_retry_schedule(void **state)
{
    (void)state;
    static const int64_t about_s[] = {30, 120, 600, 1800, 3600, 3 * 3600, 3 * 3600};
    for (uint32_t r = 0; r < 100000; r += 997) {
        int64_t first = ombud_webhook_retry_delay_ms(1, r);
        assert_true(first >= 3000 && first <= 10000);
        for (int k = 0; k < 7; k++) {
            int64_t d = ombud_webhook_retry_delay_ms(k + 2, r * 7919u);
            assert_true(d >= about_s[k] * 800 && d <= about_s[k] * 1200);
        }
    }
    /* Jitter: not all the same. */
    assert_true(ombud_webhook_retry_delay_ms(1, 1) != ombud_webhook_retry_delay_ms(1, 5000));
}

static void test_signature(void **state)
{
    (void)state;
    char sig[128];
    /* The example of the Standard Webhooks specification and libraries. */
    assert_true(ombud_outbound_sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                    "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330,
                                    "{\"test\": 2432232314}", sig, sizeof sig));
    assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    assert_false(
        ombud_outbound_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "m", 1, "{}", sig, sizeof sig));
    assert_false(ombud_outbound_sign("whsec_abc", "m", 1, "{}", sig, sizeof sig));

    char secret[OMBUD_WEBHOOK_SECRET_BUFLEN], other[OMBUD_WEBHOOK_SECRET_BUFLEN];
    struct ombud_err err;
    ombud_err_clear(&err);
    assert_int_equal(ombud_outbound_secret_new(secret, &err), OMBUD_OK);
    assert_int_equal(ombud_outbound_secret_new(other, &err), OMBUD_OK);
    assert_int_equal(strlen(secret), 6 + 32);
    assert_int_equal(strncmp(secret, "whsec_", 6), 0);
    assert_string_not_equal(secret, other);
    assert_true(ombud_outbound_sign(secret, "1", 2, "{}", sig, sizeof sig));
}

static void test_url_rules(void **state)
{
    (void)state;
    struct {
        const char *url;
        bool http, priv, ok;
    } cases[] = {
        {"https://example.com/hook", false, false, true},
        {"http://example.com/hook", false, false, false},
        {"http://example.com/hook", true, false, true},
        {"ftp://example.com/", true, true, false},
        {"example.com/hook", true, true, false},
        {"https://127.0.0.1/", false, false, false},
        {"https://127.0.0.1/", false, true, true},
        {"https://[::1]:8443/", false, false, false},
        {"https://[::ffff:10.0.0.1]/", false, false, false},
        {"https://169.254.169.254/", false, true, false},
        {"https://[fd00:ec2::254]/", false, true, false},
        {"https://localhost/", false, false, true}, /* a name: checked on connection */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ombud_err err;
        ombud_err_clear(&err);
        ombud_outbound_url_check(cases[i].url, "url", cases[i].http, cases[i].priv, &err);
        if ((err.nfields == 0) != cases[i].ok)
            fail_msg("%s: expected %s", cases[i].url, cases[i].ok ? "ok" : "refused");
        if (!cases[i].ok)
            assert_string_equal(err.fields[0].field, "url");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_address_classes),
        cmocka_unit_test(test_retry_schedule),
        cmocka_unit_test(test_signature),
        cmocka_unit_test(test_url_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
