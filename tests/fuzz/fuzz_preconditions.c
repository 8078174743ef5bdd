/*
 * The If-Match and Idempotency-Key headers. The input is a header's
 * text (up to a NUL, as a server gives it): parsed as If-Match, through
 * the request's header look-up (conn_values.c) and directly, and
 * compared with a reference parse; checked as an Idempotency-Key against
 * the rule written out (1 to 255 visible ASCII characters).
 *
 * If-Match, as src/http/complaints.c reads it: a comma-separated list;
 * each element, after leading spaces and one "W/", up to trailing
 * spaces, is "*" (any version) or exactly the tag ombud_repr_etag writes
 * for a version ("\"v7\""); anything else names no version. At most
 * OMBUD_EXPECT_MAX versions are kept, in order.
 */
#include <limits.h>
#include <string.h>

#include "conn_values.h"
#include "fuzz.h"
#include "http/complaint_common.h"
#include "http/query.h"

/* The version a list element names, if any: "\"v" + the canonical
 * decimal text of an int + "\"". */
static bool ref_tag(const char *p, size_t len, int *version)
{
    if (len < 4 || p[0] != '"' || p[1] != 'v' || p[len - 1] != '"')
        return false;
    const char *d = p + 2;
    size_t n = len - 3;
    bool neg = d[0] == '-';
    if (neg) {
        d++;
        n--;
    }
    if (n == 0 || n > 10 || (d[0] == '0' && (n > 1 || neg)))
        return false;
    long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (d[i] < '0' || d[i] > '9')
            return false;
        v = v * 10 + (d[i] - '0');
    }
    v = neg ? -v : v;
    if (v < INT_MIN || v > INT_MAX)
        return false;
    *version = (int)v;
    return true;
}

static void ref_if_match(const char *h, struct ombud_expect *e)
{
    memset(e, 0, sizeof *e);
    size_t total = strlen(h), start = 0;
    while (start <= total) {
        size_t end = start;
        while (end < total && h[end] != ',')
            end++;
        const char *p = h + start;
        size_t len = end - start;
        while (len && *p == ' ') {
            p++;
            len--;
        }
        if (len >= 2 && p[0] == 'W' && p[1] == '/') {
            p += 2;
            len -= 2;
        }
        while (len && p[len - 1] == ' ')
            len--;
        int v;
        if (len == 1 && *p == '*')
            e->any = true;
        else if (ref_tag(p, len, &v) && e->n < OMBUD_EXPECT_MAX)
            e->versions[e->n++] = v;
        start = end + 1;
    }
}

static bool same(const struct ombud_expect *a, const struct ombud_expect *b)
{
    return a->any == b->any && a->n == b->n &&
           memcmp(a->versions, b->versions, a->n * sizeof a->versions[0]) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *h = malloc(size + 1);
    memcpy(h, data, size);
    h[size] = '\0';

    struct ombud_expect got, via_req, want;
    ombud_if_match_parse(h, &got);
    ref_if_match(h, &want);
    CHECK(same(&got, &want));
    for (size_t i = 0; i < got.n; i++)
        CHECK(ombud_svc_expect_holds(&got, got.versions[i]));

    struct ombud_req req = {.conn = (struct MHD_Connection *)&req};
    conn_values_clear();
    CHECK(ombud_req_if_match(&req, &via_req) == NULL); /* no header: no precondition */
    conn_values_add(true, "if-match", h);
    CHECK(ombud_req_if_match(&req, &via_req) == &via_req && same(&via_req, &got));

    struct ombud_err err;
    ombud_err_clear(&err);
    ombud_idem_key_check(h, &err);
    size_t len = strlen(h);
    bool ok = len >= 1 && len <= 255;
    for (size_t i = 0; i < len; i++)
        ok = ok && (unsigned char)h[i] >= 0x20 && (unsigned char)h[i] <= 0x7e;
    CHECK(ok == (err.nfields == 0));
    if (!ok)
        CHECK(strcmp(err.fields[0].field, "Idempotency-Key") == 0);
    free(h);
    return 0;
}
