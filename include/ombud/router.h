/*
 * Router: one static table of {method, pattern}; a pattern is a path with
 * `{id}` segments (positive 63-bit integers) and `{key}` segments (any
 * non-empty text). Matching gives the route, 404, or 405 with the methods
 * the path does allow (for the Allow header). Pure C, no I/O.
 */
#ifndef OMBUD_ROUTER_H
#define OMBUD_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/role.h"

enum ombud_method {
    OMBUD_GET = 1 << 0,
    OMBUD_POST = 1 << 1,
    OMBUD_PUT = 1 << 2,
    OMBUD_PATCH = 1 << 3,
    OMBUD_DELETE = 1 << 4,
};

#define OMBUD_ROUTE_BODY 1u /* the route takes a JSON object body */
#define OMBUD_ROUTE_NODB                                                                           \
    2u /* the handler never waits on the database: answered at once,                               \
         outside the admission gate (src/http/gate.c) */

#define OMBUD_ROUTE_MAX_PARAMS 4

struct ombud_route {
    unsigned method;     /* one enum ombud_method */
    const char *pattern; /* "/v1/complaints/{id}/notes" */
    const char *name;    /* stable label for logs and metrics */
    enum ombud_role min_role;
    unsigned flags;
    void *handler; /* opaque to the router */
};

struct ombud_route_match {
    const struct ombud_route *route;
    size_t nids;
    int64_t ids[OMBUD_ROUTE_MAX_PARAMS];
    size_t nkeys;
    char keys[OMBUD_ROUTE_MAX_PARAMS][128];
};

/* An {id}: the len bytes at s are a positive integer without sign or
 * leading zeros that fits in int64. Query ids use the same rule. */
bool ombud_router_parse_id(const char *s, size_t len, int64_t *out);

/* "GET" -> OMBUD_GET (HEAD is treated as GET); 0 when unknown. */
unsigned ombud_router_method(const char *method);

/* Writes "GET, POST" for a method mask. */
void ombud_router_allow_string(unsigned mask, char *out, size_t outlen);

/* Matches method+path (no query string) against table. Returns 200 with m
 * filled, 404, or 405 with *allow_mask set to the methods the path takes. */
int ombud_router_match(const struct ombud_route *table, size_t n, const char *method,
                       const char *path, struct ombud_route_match *m, unsigned *allow_mask);

#endif
