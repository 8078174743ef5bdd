/*
 * API key secrets. 32 bytes from OpenSSL's CSPRNG give 256 bits, so a
 * plain (unsalted) SHA-256 is enough to store them: nothing to guess.
 */
#include "ombud/keys.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

enum ombud_rc ombud_key_generate(char *out, struct ombud_err *err)
{
    unsigned char raw[33]; /* 32 used; one spare so the loop reads whole triples */
    size_t o = 0;

    memset(raw, 0, sizeof raw);
    if (RAND_bytes(raw, 32) != 1)
        return ombud_err_internal(err, "random number generator failed");
    memcpy(out, "omb_", 4);
    o = 4;
    for (size_t i = 0; i < 32; i += 3) {
        unsigned x =
            (unsigned)raw[i] << 16 | (unsigned)raw[i + 1] << 8 | (i + 2 < 32 ? raw[i + 2] : 0);
        out[o++] = b64url[(x >> 18) & 63];
        out[o++] = b64url[(x >> 12) & 63];
        out[o++] = b64url[(x >> 6) & 63];
        if (i + 2 < 32)
            out[o++] = b64url[x & 63];
    }
    out[o] = '\0';
    return OMBUD_OK;
}

enum ombud_rc ombud_key_hash(const char *key, size_t len, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (EVP_Digest(key, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
        return OMBUD_ERROR;
    for (unsigned i = 0; i < mdlen; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return OMBUD_OK;
}

void ombud_random_hex(char *out, size_t nbytes)
{
    unsigned char raw[64];
    if (nbytes > sizeof raw)
        nbytes = sizeof raw;
    if (RAND_bytes(raw, (int)nbytes) != 1)
        memset(raw, 0, nbytes);
    for (size_t i = 0; i < nbytes; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    out[2 * nbytes] = '\0';
}
