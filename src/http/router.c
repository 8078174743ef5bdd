/*
 * Route matching over the static table in routes.c. A linear scan: the
 * table has tens of entries and each comparison stops at the first
 * differing segment, which costs less than building and probing a trie.
 * No MHD here, so the router is unit-tested on its own.
 */
#include "ombud/router.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned bit;
} methods[] = {{"GET", OMBUD_GET},
               {"POST", OMBUD_POST},
               {"PUT", OMBUD_PUT},
               {"PATCH", OMBUD_PATCH},
               {"DELETE", OMBUD_DELETE}};

unsigned ombud_router_method(const char *method)
{
    if (method && strcmp(method, "HEAD") == 0)
        return OMBUD_GET;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (method && strcmp(method, methods[i].name) == 0)
            return methods[i].bit;
    return 0;
}

void ombud_router_allow_string(unsigned mask, char *out, size_t outlen)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        if (!(mask & methods[i].bit))
            continue;
        int w = snprintf(out + len, outlen - len, "%s%s", len ? ", " : "", methods[i].name);
        if (w < 0 || (size_t)w >= outlen - len)
            return;
        len += (size_t)w;
        if (methods[i].bit == OMBUD_GET) {
            w = snprintf(out + len, outlen - len, ", HEAD");
            if (w < 0 || (size_t)w >= outlen - len)
                return;
            len += (size_t)w;
        }
    }
}

bool ombud_router_parse_id(const char *s, size_t len, int64_t *out)
{
    int64_t v = 0;
    if (len == 0 || len > 19 || s[0] == '0')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (v > (INT64_MAX - (s[i] - '0')) / 10)
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Matches path against pattern; fills ids/keys of m. */
static bool match_one(const char *pattern, const char *path, struct ombud_route_match *m)
{
    const char *p = pattern, *u = path;

    m->nids = m->nkeys = 0;
    while (*p && *u) {
        if (*p != '/' || *u != '/')
            return false;
        p++;
        u++;
        const char *pend = strchr(p, '/'), *uend = strchr(u, '/');
        size_t plen = pend ? (size_t)(pend - p) : strlen(p);
        size_t ulen = uend ? (size_t)(uend - u) : strlen(u);
        if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
            if (plen == 4 && memcmp(p, "{id}", 4) == 0) {
                if (m->nids >= OMBUD_ROUTE_MAX_PARAMS ||
                    !ombud_router_parse_id(u, ulen, &m->ids[m->nids]))
                    return false;
                m->nids++;
            } else {
                if (ulen == 0 || ulen >= sizeof m->keys[0] || m->nkeys >= OMBUD_ROUTE_MAX_PARAMS)
                    return false;
                memcpy(m->keys[m->nkeys], u, ulen);
                m->keys[m->nkeys][ulen] = '\0';
                m->nkeys++;
            }
        } else if (plen != ulen || memcmp(p, u, plen) != 0) {
            return false;
        }
        p += plen;
        u += ulen;
    }
    return *p == '\0' && *u == '\0';
}

int ombud_router_match(const struct ombud_route *table, size_t n, const char *method,
                       const char *path, struct ombud_route_match *m, unsigned *allow_mask)
{
    unsigned want = ombud_router_method(method);
    struct ombud_route_match tmp;

    *allow_mask = 0;
    for (size_t i = 0; i < n; i++) {
        if (!match_one(table[i].pattern, path, &tmp))
            continue;
        if (table[i].method == want) {
            *m = tmp;
            m->route = &table[i];
            return 200;
        }
        *allow_mask |= table[i].method;
    }
    return *allow_mask ? 405 : 404;
}
