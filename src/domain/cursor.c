/*
 * Cursors: the values as decimal text joined by '.', then base64url
 * without padding. Opaque to clients, trivially checked here.
 */
#include "ombud/cursor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void ombud_cursor_b64url(const char *plain, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned x = (unsigned char)plain[i] << 16;
        if (i + 1 < len)
            x |= (unsigned char)plain[i + 1] << 8;
        if (i + 2 < len)
            x |= (unsigned char)plain[i + 2];
        out[o++] = b64[(x >> 18) & 63];
        out[o++] = b64[(x >> 12) & 63];
        if (i + 1 < len)
            out[o++] = b64[(x >> 6) & 63];
        if (i + 2 < len)
            out[o++] = b64[x & 63];
    }
    out[o] = '\0';
}

void ombud_cursor_encode(const int64_t *v, size_t n, char *out)
{
    char plain[OMBUD_CURSOR_MAX * 22];
    size_t len = 0;

    if (n > OMBUD_CURSOR_MAX)
        n = OMBUD_CURSOR_MAX;
    plain[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(plain + len, sizeof plain - len, "%s%lld", i ? "." : "",
                                (long long)v[i]);
    ombud_cursor_b64url(plain, len, out);
}

static int val(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

bool ombud_cursor_decode(const char *text, int64_t *v, size_t n)
{
    char plain[OMBUD_CURSOR_MAX * 22 + 4];
    int64_t got[OMBUD_CURSOR_MAX]; /* v is written only on success */
    size_t len = text ? strlen(text) : 0, o = 0;

    if (len == 0 || len % 4 == 1 || len > (sizeof plain - 4) / 3 * 4 || n == 0 ||
        n > OMBUD_CURSOR_MAX)
        return false;
    for (size_t i = 0; i < len; i += 4) {
        unsigned x = 0;
        size_t k;
        for (k = 0; k < 4 && i + k < len; k++) {
            int c = val(text[i + k]);
            if (c < 0)
                return false;
            x |= (unsigned)c << (18 - 6 * k);
        }
        plain[o++] = (char)(x >> 16);
        if (k > 2)
            plain[o++] = (char)(x >> 8);
        if (k > 3)
            plain[o++] = (char)x;
    }
    plain[o] = '\0';
    const char *p = plain;
    for (size_t i = 0; i < n; i++) {
        char *end;
        if (!(*p == '-' || (*p >= '0' && *p <= '9')))
            return false;
        errno = 0;
        long long x = strtoll(p, &end, 10);
        if (errno || end == p)
            return false;
        got[i] = x;
        if (i + 1 < n) {
            if (*end != '.')
                return false;
            p = end + 1;
        } else if (end != plain + o) {
            return false;
        }
    }
    /* Only the canonical text of these values is a cursor ("007", "-0",
     * or bits left over in the last character are not). */
    char again[OMBUD_CURSOR_BUFLEN];
    ombud_cursor_encode(got, n, again);
    if (strcmp(again, text) != 0)
        return false;
    memcpy(v, got, n * sizeof *v);
    return true;
}
