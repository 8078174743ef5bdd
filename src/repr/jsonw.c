/*
 * A JSON text writer for the hot representations (a complaint, a page of
 * them, the access-log line). DESIGN: jansson builds a tree of small
 * heap objects and then walks it to text; for a page of twenty
 * complaints that was most of the server's own CPU per request. The
 * writer appends straight to one growing buffer instead, starting in
 * the caller's (stack) buffer so a short text allocates nothing.
 *
 * The text is what json_dumps(JSON_COMPACT) writes for the same values,
 * byte for byte: keys in the order written, strings escaped as jansson
 * escapes them (", \, the named control escapes, other control
 * characters as \u00XX in upper-case hex, with ascii also every
 * non-ASCII character as \uXXXX, astral ones as surrogate pairs), reals
 * as jansson's "%.*g" with ".0" added and the exponent's plus sign and
 * leading zeros dropped. Text that is not UTF-8 fails the whole writer,
 * as jansson refuses such a string; the caller then has no text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ombud/repr.h"
#include "ombud/timefmt.h"

static const char hexdig[] = "0123456789ABCDEF";

void ombud_jw_init(struct ombud_jw *w, char *buf, size_t cap, bool ascii)
{
    w->p = buf;
    w->len = 0;
    w->cap = cap;
    w->stack = buf;
    w->failed = false;
    w->comma = false;
    w->ascii = ascii;
    w->day = INT64_MIN;
}

void ombud_jw_free(struct ombud_jw *w)
{
    if (w->p != w->stack)
        free(w->p);
    w->p = w->stack;
    w->len = 0;
}

/* Room for n more bytes (and a NUL), or the writer fails. */
static bool reserve(struct ombud_jw *w, size_t n)
{
    if (w->failed)
        return false;
    if (w->len + n + 1 <= w->cap)
        return true;
    size_t cap = w->cap ? w->cap : 256;
    while (cap < w->len + n + 1)
        cap *= 2;
    char *p;
    if (w->p == w->stack) {
        p = malloc(cap);
        if (p && w->len)
            memcpy(p, w->p, w->len);
    } else {
        p = realloc(w->p, cap);
    }
    if (!p) {
        w->failed = true;
        return false;
    }
    w->p = p;
    w->cap = cap;
    return true;
}

void ombud_jw_reserve(struct ombud_jw *w, size_t n)
{
    (void)reserve(w, n);
}

void ombud_jw_raw(struct ombud_jw *w, const char *s, size_t n)
{
    if (!reserve(w, n))
        return;
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

static void sep(struct ombud_jw *w)
{
    if (w->comma)
        ombud_jw_raw(w, ",", 1);
    w->comma = true;
}

char *ombud_jw_text(struct ombud_jw *w, size_t *len)
{
    if (!reserve(w, 0)) {
        ombud_jw_free(w);
        return NULL;
    }
    w->p[w->len] = '\0';
    if (len)
        *len = w->len;
    return w->p;
}

char *ombud_jw_steal(struct ombud_jw *w, size_t *len)
{
    if (!ombud_jw_text(w, len))
        return NULL;
    char *p = w->p;
    if (p == w->stack) {
        p = malloc(w->len + 1);
        if (!p) {
            w->failed = true;
            return NULL;
        }
        memcpy(p, w->stack, w->len + 1);
    }
    w->p = w->stack; /* the caller owns the heap buffer now */
    w->len = 0;
    return p;
}

void ombud_jw_begin(struct ombud_jw *w, char open)
{
    sep(w);
    ombud_jw_raw(w, &open, 1);
    w->comma = false;
}

void ombud_jw_end(struct ombud_jw *w, char close)
{
    ombud_jw_raw(w, &close, 1);
    w->comma = true;
}

/* The code point of the UTF-8 sequence at s (n bytes), or -1 where
 * jansson would reject it (bad continuation, overlong, surrogate, beyond
 * U+10FFFF). */
static long utf8_at(const unsigned char *s, size_t *n)
{
    unsigned c = s[0];
    long cp;
    size_t len;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return -1;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *n = len;
    return cp;
}

static void u_escape(struct ombud_jw *w, unsigned v)
{
    char e[6] = {'\\',          'u', hexdig[v >> 12 & 15], hexdig[v >> 8 & 15], hexdig[v >> 4 & 15],
                 hexdig[v & 15]};
    ombud_jw_raw(w, e, sizeof e);
}

static void string_body(struct ombud_jw *w, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    ombud_jw_raw(w, "\"", 1);
    for (;;) {
        /* The run of bytes that need no escape goes in one copy: ASCII
         * but for " \ and control characters and, unless ascii, whole
         * UTF-8 sequences (checked as they are passed). */
        size_t run = 0;
        for (;;) {
            unsigned char c = s[run];
            if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
                run++;
                continue;
            }
            size_t n;
            if (c >= 0x80 && !w->ascii && utf8_at(s + run, &n) >= 0) {
                run += n;
                continue;
            }
            break;
        }
        if (run)
            ombud_jw_raw(w, (const char *)s, run);
        s += run;
        if (*s == '\0')
            break;
        if (*s >= 0x80) {
            size_t n;
            long cp = utf8_at(s, &n);
            if (cp < 0) {
                w->failed = true;
                return;
            }
            if (cp < 0x10000) {
                u_escape(w, (unsigned)cp);
            } else {
                cp -= 0x10000;
                u_escape(w, 0xD800 | (unsigned)(cp >> 10));
                u_escape(w, 0xDC00 | (unsigned)(cp & 0x3FF));
            }
            s += n;
            continue;
        }
        switch (*s) {
        case '"':
            ombud_jw_raw(w, "\\\"", 2);
            break;
        case '\\':
            ombud_jw_raw(w, "\\\\", 2);
            break;
        case '\b':
            ombud_jw_raw(w, "\\b", 2);
            break;
        case '\f':
            ombud_jw_raw(w, "\\f", 2);
            break;
        case '\n':
            ombud_jw_raw(w, "\\n", 2);
            break;
        case '\r':
            ombud_jw_raw(w, "\\r", 2);
            break;
        case '\t':
            ombud_jw_raw(w, "\\t", 2);
            break;
        default:
            u_escape(w, *s);
            break;
        }
        s++;
    }
    ombud_jw_raw(w, "\"", 1);
}

void ombud_jw_key(struct ombud_jw *w, const char *key)
{
    /* Keys are our own names, plain ASCII: nothing to escape. */
    size_t n = strlen(key);
    if (!reserve(w, n + 4))
        return;
    char *p = w->p + w->len;
    if (w->comma)
        *p++ = ',';
    *p++ = '"';
    memcpy(p, key, n);
    p += n;
    *p++ = '"';
    *p++ = ':';
    w->len = (size_t)(p - w->p);
    w->comma = false;
}

void ombud_jw_str(struct ombud_jw *w, const char *s)
{
    if (!s) {
        ombud_jw_null(w);
        return;
    }
    sep(w);
    string_body(w, s);
}

void ombud_jw_null(struct ombud_jw *w)
{
    sep(w);
    ombud_jw_raw(w, "null", 4);
}

void ombud_jw_bool(struct ombud_jw *w, bool v)
{
    sep(w);
    ombud_jw_raw(w, v ? "true" : "false", v ? 4 : 5);
}

void ombud_jw_int(struct ombud_jw *w, int64_t v)
{
    char buf[24], *e = buf + sizeof buf, *p = e;
    /* Unsigned arithmetic: the magnitude of INT64_MIN fits. */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    sep(w);
    ombud_jw_raw(w, p, (size_t)(e - p));
}

void ombud_jw_real(struct ombud_jw *w, double v, int precision)
{
    char buf[64];
    int n = snprintf(buf, sizeof buf - 3, "%.*g", precision ? precision : 17, v);
    if (n < 0 || (size_t)n >= sizeof buf - 3) {
        w->failed = true;
        return;
    }
    size_t len = (size_t)n;
    if (!strchr(buf, '.') && !strchr(buf, 'e')) {
        memcpy(buf + len, ".0", 3);
        len += 2;
    }
    char *start = strchr(buf, 'e');
    if (start) { /* "1e+06" -> "1e6", "1e-06" -> "1e-6", as jansson */
        start++;
        char *end = start + 1;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, len - (size_t)(end - buf) + 1);
            len -= (size_t)(end - start);
        }
    }
    sep(w);
    ombud_jw_raw(w, buf, len);
}

void ombud_jw_ms(struct ombud_jw *w, int64_t usec)
{
    /* Under a second, usec / 1000 has at most six significant digits, so
     * "%.6g" prints it exactly, trailing zeros dropped: written here
     * without printf. */
    if (usec < 0 || usec >= 1000000) {
        ombud_jw_real(w, (double)usec / 1000.0, 6);
        return;
    }
    char buf[16], *p = buf;
    unsigned ms = (unsigned)(usec / 1000), frac = (unsigned)(usec % 1000);
    if (ms >= 100)
        *p++ = (char)('0' + ms / 100);
    if (ms >= 10)
        *p++ = (char)('0' + ms / 10 % 10);
    *p++ = (char)('0' + ms % 10);
    *p++ = '.';
    if (frac == 0) {
        *p++ = '0'; /* jansson's ".0" on a whole number */
    } else {
        char d[3] = {(char)('0' + frac / 100), (char)('0' + frac / 10 % 10),
                     (char)('0' + frac % 10)};
        int n = 3;
        while (d[n - 1] == '0')
            n--;
        memcpy(p, d, (size_t)n);
        p += n;
    }
    sep(w);
    ombud_jw_raw(w, buf, (size_t)(p - buf));
}

static char *two(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

void ombud_jw_time(struct ombud_jw *w, int64_t usec)
{
    char buf[OMBUD_TIME_BUFLEN];
    if (usec == 0) {
        ombud_jw_null(w);
        return;
    }
    int64_t secs = usec >= 0 ? usec / 1000000 : -((-usec + 999999) / 1000000);
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    if (days != w->day) {
        ombud_civil_from_days(days, &w->day_y, &w->day_m, &w->day_d);
        w->day = days;
    }
    int64_t y = w->day_y;
    unsigned m = w->day_m, d = w->day_d;
    if (y < 0 || y > 9999) { /* out of the four-digit form: the formatter knows */
        ombud_time_format(usec, buf);
        ombud_jw_str(w, buf);
        return;
    }
    unsigned rem = (unsigned)(secs - days * 86400);
    char *p = buf;
    p = two(p, (unsigned)(y / 100));
    p = two(p, (unsigned)(y % 100));
    *p++ = '-';
    p = two(p, m);
    *p++ = '-';
    p = two(p, d);
    *p++ = 'T';
    p = two(p, rem / 3600);
    *p++ = ':';
    p = two(p, rem / 60 % 60);
    *p++ = ':';
    p = two(p, rem % 60);
    *p++ = 'Z';
    sep(w);
    ombud_jw_raw(w, "\"", 1);
    ombud_jw_raw(w, buf, (size_t)(p - buf));
    ombud_jw_raw(w, "\"", 1);
}
