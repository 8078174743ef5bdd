/*
 * The webhook sender's pure rules: the retry schedule and the address
 * classes a webhook may not reach (so that a URL cannot make the server
 * call into its own network: loopback, private, link-local, unique-local,
 * and cloud metadata endpoints above all).
 */
#include "ombud/webhook.h"

#include <stdlib.h>
#include <string.h>

void ombud_webhook_deliveries_free(struct ombud_webhook_delivery *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        free(list[i].attempts);
    free(list);
}

int64_t ombud_webhook_retry_delay_ms(int attempts, uint32_t rnd)
{
    static const int64_t base_s[] = {30, 120, 600, 1800, 3600};
    if (attempts <= 1)
        return 3000 + (int64_t)(rnd % 7001); /* 3-10 s */
    int64_t s =
        attempts - 2 < (int)(sizeof base_s / sizeof base_s[0]) ? base_s[attempts - 2] : 3 * 3600;
    /* +-20% */
    int64_t ms = s * 1000, span = ms * 2 / 5;
    return ms - span / 2 + (int64_t)(rnd % (uint32_t)(span + 1));
}

static enum ombud_addr_class class4(const unsigned char *a)
{
    if (a[0] == 169 && a[1] == 254 && a[2] == 169 && a[3] == 254)
        return OMBUD_ADDR_METADATA;
    if (a[0] == 127)
        return OMBUD_ADDR_LOOPBACK;
    if (a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
        (a[0] == 100 && (a[1] & 0xc0) == 64))
        return OMBUD_ADDR_PRIVATE;
    if (a[0] == 169 && a[1] == 254)
        return OMBUD_ADDR_LINK_LOCAL;
    if (a[0] == 0 || a[0] >= 224 || (a[0] == 192 && a[1] == 0 && a[2] == 0))
        return OMBUD_ADDR_UNSPECIFIED; /* this network, multicast, reserved, IETF protocol */
    return OMBUD_ADDR_PUBLIC;
}

enum ombud_addr_class ombud_webhook_addr_class(const unsigned char *a, size_t len)
{
    static const unsigned char zero[16],
        metadata6[16] = {0xfd, 0x00, 0x0e, 0xc2, [15] = 0x54, [14] = 0x02};
    if (len == 4)
        return class4(a);
    if (len != 16)
        return OMBUD_ADDR_UNSPECIFIED;
    if (memcmp(a, metadata6, 16) == 0)
        return OMBUD_ADDR_METADATA;
    if (memcmp(a, zero, 15) == 0)
        return a[15] == 1 ? OMBUD_ADDR_LOOPBACK : OMBUD_ADDR_UNSPECIFIED;
    /* ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible): the IPv4 address */
    if (memcmp(a, zero, 10) == 0 && ((a[10] == 0xff && a[11] == 0xff) || (a[10] | a[11]) == 0))
        return class4(a + 12);
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
        return OMBUD_ADDR_LINK_LOCAL;
    if ((a[0] & 0xfe) == 0xfc)
        return OMBUD_ADDR_UNIQUE_LOCAL;
    if (a[0] == 0xff)
        return OMBUD_ADDR_UNSPECIFIED; /* multicast */
    return OMBUD_ADDR_PUBLIC;
}

const char *ombud_addr_class_name(enum ombud_addr_class c)
{
    switch (c) {
    case OMBUD_ADDR_PUBLIC:
        return "public";
    case OMBUD_ADDR_METADATA:
        return "a cloud metadata address";
    case OMBUD_ADDR_LOOPBACK:
        return "a loopback address";
    case OMBUD_ADDR_PRIVATE:
        return "a private address";
    case OMBUD_ADDR_LINK_LOCAL:
        return "a link-local address";
    case OMBUD_ADDR_UNIQUE_LOCAL:
        return "a unique-local address";
    case OMBUD_ADDR_UNSPECIFIED:
        break;
    }
    return "an unspecified, multicast or reserved address";
}

bool ombud_webhook_addr_allowed(enum ombud_addr_class c, bool allow_private)
{
    if (c == OMBUD_ADDR_PUBLIC)
        return true;
    if (c == OMBUD_ADDR_METADATA)
        return false;
    return allow_private;
}
