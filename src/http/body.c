/*
 * The request body. DESIGN: a body is refused as early as the headers
 * allow (415 by Content-Type; 413 by Content-Length when the client waits
 * for 100 Continue or announces more than it is worth reading), because
 * an early reply makes MHD skip the body and close the connection; an
 * oversized body a client sends anyway is read and dropped, so that it
 * gets to read the 413. Chunks are
 * copied as they arrive (MHD's upload_data lives for one call only), with
 * the limit enforced while appending, since a chunked body announces no
 * length. MHD 0.9.75 cannot queue a reply while a body is still arriving,
 * so an oversized body is read and dropped and the 413 sent at its end;
 * a client that keeps streaming far past the limit is cut off instead.
 * Only routes flagged OMBUD_ROUTE_BODY parse the body, into a JSON object
 * the request owns until completion.
 */
#include "http/body.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/query.h"
#include "http/reply.h"
#include "ombud/config.h"

/* Beyond this many times the limit (and at least DISCARD_MIN bytes), an
 * oversized body is not worth reading to its end. */
#define DISCARD_FACTOR 16
#define DISCARD_MIN (4ull << 20)

static unsigned long long discard_bound(void)
{
    unsigned long long b = DISCARD_FACTOR * (unsigned long long)ombud_cf.max_body_bytes;
    return b > DISCARD_MIN ? b : DISCARD_MIN;
}

static void too_large(struct ombud_req *req)
{
    char detail[128];
    snprintf(detail, sizeof detail, "the body may be at most %zu bytes", ombud_cf.max_body_bytes);
    ombud_reply_error(req, OMBUD_E_TOO_LARGE, detail);
}

static bool is_json_type(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = strlen("application/json");
    if (strncasecmp(ct, "application/json", n) != 0)
        return false;
    ct += n;
    while (*ct == ' ')
        ct++;
    return *ct == '\0' || *ct == ';';
}

void ombud_body_check_headers(struct ombud_req *req)
{
    const char *cl = ombud_req_header(req, "Content-Length");
    const char *te = ombud_req_header(req, "Transfer-Encoding");
    const char *ct = ombud_req_header(req, "Content-Type");
    bool has_body = (cl && strcmp(cl, "0") != 0) || te;

    if (cl) {
        char *end;
        unsigned long long n = strtoull(cl, &end, 10);
        if (*end == '\0' && n > ombud_cf.max_body_bytes) {
            /* Answered now, the connection closes under a client still
             * sending, which then sees a broken pipe instead of the 413.
             * A client that waits for 100 Continue sends nothing: answer
             * it now. Any other is read to the end (dropped, up to a
             * bound) and answered then, as nginx's lingering close does. */
            const char *expect = ombud_req_header(req, "Expect");
            if ((expect && strcasecmp(expect, "100-continue") == 0) || n > discard_bound()) {
                too_large(req);
                return;
            }
            req->body_too_large = true;
            return;
        }
    }
    if ((has_body || (req->match.route->flags & OMBUD_ROUTE_BODY)) && !is_json_type(ct)) {
        ombud_reply_error(req, OMBUD_E_UNSUPPORTED_MEDIA,
                          "send the body as Content-Type: application/json");
        return;
    }
}

static bool append(struct ombud_req *req, const char *data, size_t len)
{
    if (req->body_len + len > ombud_cf.max_body_bytes)
        return false;
    if (req->body_len + len + 1 > req->body_cap) {
        size_t cap = req->body_cap ? req->body_cap : 4096;
        while (cap < req->body_len + len + 1)
            cap *= 2;
        char *nb = realloc(req->body, cap);
        if (!nb)
            return false;
        req->body = nb;
        req->body_cap = cap;
    }
    memcpy(req->body + req->body_len, data, len);
    req->body_len += len;
    req->body[req->body_len] = '\0';
    return true;
}

bool ombud_body_chunk(struct ombud_req *req, const char *data, size_t len)
{
    if (req->handled)
        return true;
    if (req->body_too_large || !append(req, data, len)) {
        req->body_too_large = true;
        req->discarded += len;
        if (req->discarded > discard_bound())
            return false;
    }
    return true;
}

json_t *ombud_body_parse(const char *text, size_t len, json_error_t *jerr)
{
    return json_loadb(text, len, JSON_REJECT_DUPLICATES, jerr);
}

/* Containers named in a field path; deeper ones are left out. */
#define PATH_DEPTH 16

struct path_frame {
    bool object, want_key;
    size_t index;    /* arrays: the element's index */
    const char *key; /* objects: the current key, as in the text */
    size_t keylen;
};

/* Whether the number token s[0..n) is out of the range jansson parses:
 * an integer past long long, or a real past a double. */
static bool number_overflows(const char *s, size_t n)
{
    char small[64], *buf = n < sizeof small ? small : malloc(n + 1);
    bool real = false, over;
    if (!buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '.' || buf[i] == 'e' || buf[i] == 'E')
            real = true;
    errno = 0;
    if (real) {
        double d = strtod(buf, NULL);
        over = errno == ERANGE && isinf(d);
    } else {
        (void)strtoll(buf, NULL, 10);
        over = errno == ERANGE;
    }
    if (buf != small)
        free(buf);
    return over;
}

/* Cuts a character that truncation left incomplete off the end of s. */
static void trim_partial_utf8(char *s)
{
    size_t n = strlen(s), lead = n;
    while (lead > 0 && ((unsigned char)s[lead - 1] & 0xC0) == 0x80)
        lead--;
    if (lead == 0)
        return;
    unsigned char c = (unsigned char)s[lead - 1];
    size_t want = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    if (n - (lead - 1) < want)
        s[lead - 1] = '\0';
}

static void path_text(const struct path_frame *f, size_t depth, char *out, size_t outlen)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < depth && i < PATH_DEPTH && o < outlen; i++) {
        int w;
        if (f[i].object)
            w = snprintf(out + o, outlen - o, "%s%.*s", o ? "." : "", (int)f[i].keylen, f[i].key);
        else
            w = snprintf(out + o, outlen - o, "[%zu]", f[i].index);
        if (w < 0)
            break;
        o += (size_t)w;
    }
    trim_partial_utf8(out);
}

bool ombud_body_number_out_of_range(const char *text, size_t len, char *field, size_t fieldlen)
{
    struct path_frame f[PATH_DEPTH];
    size_t depth = 0, i = 0;

    while (i < len && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
        i++;
    if (i >= len || text[i] != '{' || fieldlen == 0)
        return false;
    while (i < len) {
        char c = text[i];
        struct path_frame *top = depth && depth <= PATH_DEPTH ? &f[depth - 1] : NULL;
        if (c == '{' || c == '[') {
            if (depth < PATH_DEPTH)
                f[depth] = (struct path_frame){.object = c == '{', .want_key = c == '{'};
            depth++;
            i++;
        } else if (c == '}' || c == ']') {
            if (depth == 0)
                return false;
            depth--;
            i++;
        } else if (c == ',') {
            if (top && top->object)
                top->want_key = true;
            else if (top)
                top->index++;
            i++;
        } else if (c == '"') {
            size_t start = ++i;
            while (i < len && text[i] != '"')
                i += text[i] == '\\' ? 2 : 1;
            if (top && top->object && top->want_key) {
                top->key = text + start;
                top->keylen = (i < len ? i : len) - start;
                top->want_key = false;
            }
            i++;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            /* -? digits (. digits)? ([eE] [+-]? digits)?, as jansson reads it */
            size_t start = i;
            i += c == '-';
            while (i < len && text[i] >= '0' && text[i] <= '9')
                i++;
            if (i < len && text[i] == '.')
                for (i++; i < len && text[i] >= '0' && text[i] <= '9';)
                    i++;
            if (i < len && (text[i] == 'e' || text[i] == 'E')) {
                i++;
                if (i < len && (text[i] == '+' || text[i] == '-'))
                    i++;
                while (i < len && text[i] >= '0' && text[i] <= '9')
                    i++;
            }
            if (number_overflows(text + start, i - start)) {
                path_text(f, depth, field, fieldlen);
                return true;
            }
        } else {
            i++; /* white space, ':', true, false, null */
        }
    }
    return false;
}

bool ombud_body_finish(struct ombud_req *req)
{
    if (req->body_too_large) {
        too_large(req);
        return false;
    }
    if (!(req->match.route->flags & OMBUD_ROUTE_BODY))
        return true;

    json_error_t jerr;
    if (req->body_len == 0) {
        ombud_reply_error(req, OMBUD_E_BAD_REQUEST, "a JSON object body is required");
        return false;
    }
    req->json = ombud_body_parse(req->body, req->body_len, &jerr);
    char field[128];
    if (!req->json && json_error_code(&jerr) == json_error_numeric_overflow &&
        ombud_body_number_out_of_range(req->body, req->body_len, field, sizeof field)) {
        /* Well-formed JSON whose value is out of range: a 422 (API.md). */
        struct ombud_err err;
        ombud_err_clear(&err);
        ombud_err_field(&err, field, "is a number out of range");
        (void)ombud_err_finish_validation(&err);
        ombud_reply_problem(req, &err);
        return false;
    }
    if (!req->json) {
        char detail[256];
        snprintf(detail, sizeof detail, "body is not valid JSON: %s (at byte %d)", jerr.text,
                 jerr.position);
        ombud_reply_error(req, OMBUD_E_BAD_REQUEST, detail);
        return false;
    }
    if (!json_is_object(req->json)) {
        ombud_reply_error(req, OMBUD_E_BAD_REQUEST, "the body must be a JSON object");
        return false;
    }
    return true;
}

void ombud_body_free(struct ombud_req *req)
{
    json_decref(req->json);
    free(req->body);
    req->json = NULL;
    req->body = NULL;
}
