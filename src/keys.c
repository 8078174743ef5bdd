/*
 * API key secrets. 32 bytes from OpenSSL's CSPRNG give 256 bits, so a
 * plain (unsalted) SHA-256 is enough to store them: nothing to guess.
 *
 * Every request hashes its key and draws a request id, so both stay off
 * the allocator and out of printf: the digest runs in a context kept per
 * thread (EVP_Digest allocates and frees one per call, and in OpenSSL 3
 * looks the algorithm up each time), over an algorithm fetched once; hex
 * is written from a table.
 */
#include "ombud/keys.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
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

/* Writes n bytes as 2n lowercase hex chars + NUL. */
static void hex(char *out, const unsigned char *b, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static pthread_once_t sha_once = PTHREAD_ONCE_INIT;
static const EVP_MD *sha256;  /* NULL: digest with a context per call */
static pthread_key_t ctx_key; /* this thread's EVP_MD_CTX, freed at its exit */
static bool ctx_key_ok;

static void ctx_free(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

static void sha_init(void)
{
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    /* Fetched once and never freed: it lives as long as the process. */
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
#else
    sha256 = EVP_sha256();
#endif
    ctx_key_ok = sha256 && pthread_key_create(&ctx_key, ctx_free) == 0;
}

/* This thread's digest context, made on its first use; NULL when none. */
static EVP_MD_CTX *thread_ctx(void)
{
    pthread_once(&sha_once, sha_init);
    if (!ctx_key_ok)
        return NULL;
    EVP_MD_CTX *ctx = pthread_getspecific(ctx_key);
    if (!ctx && (ctx = EVP_MD_CTX_new()) && pthread_setspecific(ctx_key, ctx) != 0) {
        EVP_MD_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

enum ombud_rc ombud_key_hash(const char *key, size_t len, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = thread_ctx();
    int ok = ctx ? EVP_DigestInit_ex(ctx, sha256, NULL) == 1 &&
                       EVP_DigestUpdate(ctx, key, len) == 1 &&
                       EVP_DigestFinal_ex(ctx, md, &mdlen) == 1
                 : EVP_Digest(key, len, md, &mdlen, EVP_sha256(), NULL) == 1;
    if (!ok || mdlen != 32)
        return OMBUD_ERROR;
    hex(out, md, mdlen);
    return OMBUD_OK;
}

void ombud_random_hex(char *out, size_t nbytes)
{
    unsigned char raw[64];
    if (nbytes > sizeof raw)
        nbytes = sizeof raw;
    if (RAND_bytes(raw, (int)nbytes) != 1)
        memset(raw, 0, nbytes);
    hex(out, raw, nbytes);
}
