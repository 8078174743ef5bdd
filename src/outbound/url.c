/*
 * What a webhook URL may be, checked at create and change: an absolute
 * https URL (http when OMBUD_WEBHOOK_ALLOW_HTTP=1) whose host is not an
 * address literal of a kind a webhook may not reach. A host name is not
 * resolved here (its addresses may change): the sender checks the address
 * it actually connects to on every attempt (sender.c). Also the secrets
 * and signatures of Standard Webhooks 1.0.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ombud/outbound.h"

void ombud_outbound_url_check(const char *url, const char *field, bool allow_http,
                              bool allow_private, struct ombud_err *err)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    if (!u) {
        ombud_err_field(err, field, "cannot be checked now");
        return;
    }
    if (strlen(url) > OMBUD_WEBHOOK_URL_MAX) {
        ombud_err_field(err, field, "must be at most %d bytes", OMBUD_WEBHOOK_URL_MAX);
        goto out;
    }
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host[0]) {
        ombud_err_field(err, field, "must be an absolute URL with a host");
        goto out;
    }
    if (strcasecmp(scheme, "https") != 0 && !(allow_http && strcasecmp(scheme, "http") == 0)) {
        ombud_err_field(err, field, "must use https%s", allow_http ? " or http" : "");
        goto out;
    }
    unsigned char a[16];
    size_t alen = 0;
    size_t hl = strlen(host);
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, a) == 1)
            alen = 16;
    } else if (inet_pton(AF_INET, host, a) == 1) {
        alen = 4;
    }
    if (alen) {
        enum ombud_addr_class c = ombud_webhook_addr_class(a, alen);
        if (!ombud_webhook_addr_allowed(c, allow_private))
            ombud_err_field(err, field, "may not point at %s%s", ombud_addr_class_name(c),
                            c == OMBUD_ADDR_METADATA ? ""
                                                     : " (unless OMBUD_WEBHOOK_ALLOW_PRIVATE=1)");
    }
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
}

enum ombud_rc ombud_outbound_secret_new(char out[OMBUD_WEBHOOK_SECRET_BUFLEN],
                                        struct ombud_err *err)
{
    unsigned char raw[OMBUD_WEBHOOK_SECRET_BYTES];
    if (RAND_bytes(raw, sizeof raw) != 1)
        return ombud_err_internal(err, "no random bytes for a webhook secret");
    memcpy(out, "whsec_", 6);
    EVP_EncodeBlock((unsigned char *)out + 6, raw, sizeof raw); /* 32 characters and a NUL */
    return OMBUD_OK;
}

bool ombud_outbound_sign(const char *secret, const char *msg_id, int64_t timestamp,
                         const char *body, char *out, size_t len)
{
    unsigned char key[64], mac[EVP_MAX_MD_SIZE];
    char sig[128];
    size_t sl;
    if (strncmp(secret, "whsec_", 6) != 0 || (sl = strlen(secret + 6)) % 4 != 0 || sl == 0 ||
        sl / 4 * 3 > sizeof key)
        return false;
    int klen = EVP_DecodeBlock(key, (const unsigned char *)secret + 6, (int)sl);
    if (klen < 0)
        return false;
    klen -= (secret[6 + sl - 1] == '=') + (secret[6 + sl - 2] == '='); /* padding */
    char head[128];
    int hlen = snprintf(head, sizeof head, "%s.%lld.", msg_id, (long long)timestamp);
    if (hlen < 0 || (size_t)hlen >= sizeof head)
        return false;
    /* HMAC-SHA256 through OpenSSL 3's EVP_MAC (HMAC_CTX is deprecated there). */
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", "SHA256", 0),
                           OSSL_PARAM_construct_end()};
    size_t outl = 0;
    bool ok = ctx && EVP_MAC_init(ctx, key, (size_t)klen, params) == 1 &&
              EVP_MAC_update(ctx, (const unsigned char *)head, (size_t)hlen) == 1 &&
              EVP_MAC_update(ctx, (const unsigned char *)body, strlen(body)) == 1 &&
              EVP_MAC_final(ctx, mac, &outl, sizeof mac) == 1;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(m);
    if (!ok)
        return false;
    EVP_EncodeBlock((unsigned char *)sig, mac, (int)outl);
    return snprintf(out, len, "v1,%s", sig) < (int)len;
}
