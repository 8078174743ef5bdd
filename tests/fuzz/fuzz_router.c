/*
 * The router on the real route table (src/http/routes.c) and on a small
 * table with {key} segments, with method and path from the input (first
 * byte: the method; the rest: the path, up to a NUL as MHD gives it).
 * Checked, not only run: a 200 names a route of that method whose
 * pattern, with the ids and keys the match returned written back in,
 * is the path; a 405's Allow methods each match; a 404 matches for no
 * method. ombud_router_parse_id is compared with a reference parse.
 */
#include <string.h>

#include "fuzz.h"
#include "ombud/http.h"
#include "ombud/router.h"

static const struct ombud_route key_routes[] = {
    {OMBUD_GET, "/t/{key}", "t_get", OMBUD_ROLE_NONE, 0, NULL},
    {OMBUD_PUT, "/t/{key}/x/{id}", "t_put", OMBUD_ROLE_NONE, 0, NULL},
    {OMBUD_DELETE, "/t/{key}/{key}/{id}/{id}", "t_delete", OMBUD_ROLE_NONE, 0, NULL},
};

static const char *const methods[] = {"GET",    "HEAD",    "POST", "PUT", "PATCH",
                                      "DELETE", "OPTIONS", "get",  ""};
static const char *const method_bits[] = {"GET", "POST", "PUT", "PATCH", "DELETE"};

/* The pattern with the match's ids and keys written in. */
static void rebuild(const char *pattern, const struct ombud_route_match *m, char *out, size_t cap)
{
    size_t len = 0, id = 0, key = 0;
    const char *p = pattern;
    out[0] = '\0';
    while (*p) {
        int w;
        if (strncmp(p, "{id}", 4) == 0) {
            CHECK(id < m->nids);
            w = snprintf(out + len, cap - len, "%lld", (long long)m->ids[id++]);
            p += 4;
        } else if (strncmp(p, "{key}", 5) == 0) {
            CHECK(key < m->nkeys);
            w = snprintf(out + len, cap - len, "%s", m->keys[key++]);
            p += 5;
        } else {
            w = snprintf(out + len, cap - len, "%c", *p++);
        }
        CHECK(w >= 0 && (size_t)w < cap - len);
        len += (size_t)w;
    }
    CHECK(id == m->nids && key == m->nkeys);
}

static void check_table(const struct ombud_route *table, size_t n, const char *method,
                        const char *path)
{
    struct ombud_route_match m;
    unsigned allow = 0, want = ombud_router_method(method);
    static char rebuilt[1 << 16];

    memset(&m, 0, sizeof m);
    int status = ombud_router_match(table, n, method, path, &m, &allow);
    if (status == 200) {
        CHECK(m.route >= table && m.route < table + n);
        CHECK(want && m.route->method == want);
        for (size_t i = 0; i < m.nids; i++)
            CHECK(m.ids[i] > 0);
        for (size_t i = 0; i < m.nkeys; i++)
            CHECK(m.keys[i][0] && !strchr(m.keys[i], '/'));
        rebuild(m.route->pattern, &m, rebuilt, sizeof rebuilt);
        CHECK(strcmp(rebuilt, path) == 0);
        return;
    }
    if (status == 405) {
        CHECK(allow && !(allow & want));
        for (size_t i = 0; i < sizeof method_bits / sizeof method_bits[0]; i++) {
            unsigned a2, bit = ombud_router_method(method_bits[i]);
            struct ombud_route_match m2;
            int s2 = ombud_router_match(table, n, method_bits[i], path, &m2, &a2);
            CHECK((s2 == 200) == !!(allow & bit));
        }
        char allow_text[64];
        ombud_router_allow_string(allow, allow_text, sizeof allow_text);
        CHECK(allow_text[0]);
        return;
    }
    CHECK(status == 404);
    CHECK(allow == 0);
    for (size_t i = 0; i < sizeof method_bits / sizeof method_bits[0]; i++) {
        unsigned a2;
        struct ombud_route_match m2;
        CHECK(ombud_router_match(table, n, method_bits[i], path, &m2, &a2) == 404);
    }
}

/* ombud_router_parse_id's rule, written another way. */
static bool ref_id(const char *s, size_t len, int64_t *out)
{
    char buf[32];
    if (len == 0 || len > 19 || s[0] < '1' || s[0] > '9')
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (len == 19 && strcmp(buf, "9223372036854775807") > 0)
        return false;
    *out = strtoll(buf, NULL, 10);
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *method = methods[data[0] % (sizeof methods / sizeof methods[0])];
    char *path = malloc(size);
    memcpy(path, data + 1, size - 1);
    path[size - 1] = '\0';

    check_table(ombud_routes, ombud_nroutes, method, path);
    check_table(key_routes, sizeof key_routes / sizeof key_routes[0], method, path);

    int64_t a = 0, b = 0;
    size_t len = strlen(path);
    bool ok = ombud_router_parse_id(path, len, &a);
    CHECK(ok == ref_id(path, len, &b));
    CHECK(!ok || a == b);
    free(path);
    return 0;
}
