/*
 * Path ids, query parameters and headers. DESIGN: as in Kore's typed
 * argument getters, each kind of parameter is read and checked by one
 * function here, so a parameter means the same thing on every route and
 * a handler states what it takes rather than how to parse it. Getters
 * never reply: a malformed parameter becomes a field error in the
 * caller's struct ombud_err, so one 422 lists every bad parameter (and
 * bad body field) at once.
 *
 * Integers are decimal digits only (no sign, space or exponent) and an
 * id follows the router's {id} rule, so "?team_id=7" and "/teams/7"
 * accept the same text. Values borrowed from MHD live until the request
 * completes.
 */
#include "http/query.h"

#include <assert.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>

#include "ombud/cursor.h"
#include "ombud/json_spec.h"
#include "ombud/text.h"
#include "ombud/timefmt.h"

const char *ombud_req_query(struct ombud_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *ombud_req_header(struct ombud_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

int64_t ombud_req_path_id(const struct ombud_req *req, size_t i)
{
    /* A handler asking for an id its pattern lacks is our bug. */
    assert(i < req->match.nids);
    return i < req->match.nids ? req->match.ids[i] : 0;
}

static enum MHD_Result check_arg_utf8(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    const char **bad = cls;
    if (!ombud_utf8_valid(key)) {
        *bad = "(name)";
        return MHD_NO;
    }
    if (value && !ombud_utf8_valid(value)) {
        *bad = key;
        return MHD_NO;
    }
    return MHD_YES;
}

enum ombud_rc ombud_query_check_utf8(struct ombud_req *req, struct ombud_err *err)
{
    const char *bad_arg = NULL;
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, check_arg_utf8, &bad_arg);
    if (!bad_arg)
        return OMBUD_OK;
    ombud_err_field(err, bad_arg, "is not valid UTF-8");
    return ombud_err_set(err, OMBUD_E_BAD_REQUEST, NULL, "query parameter %s is not valid UTF-8",
                         bad_arg);
}

/* Decimal digits only, at most max (which is >= 0); false on overflow. */
static bool parse_digits(const char *s, int64_t max, int64_t *out)
{
    int64_t v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        if (v > (max - (*s - '0')) / 10)
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return true;
}

bool ombud_query_int(struct ombud_req *req, const char *name, int64_t min, int64_t max, int64_t def,
                     int64_t *out, struct ombud_err *err)
{
    const char *v = ombud_req_query(req, name);
    int64_t n;

    assert(min >= 0 && min <= max);
    if (!v && def != OMBUD_QUERY_REQUIRED) {
        *out = def;
        return false;
    }
    if (!v || !parse_digits(v, max, &n) || n < min) {
        ombud_err_field(err, name, "must be an integer from %lld to %lld", (long long)min,
                        (long long)max);
        *out = def == OMBUD_QUERY_REQUIRED ? 0 : def;
        return false;
    }
    *out = n;
    return true;
}

bool ombud_query_id(struct ombud_req *req, const char *name, int64_t *out, struct ombud_err *err)
{
    const char *v = ombud_req_query(req, name);
    *out = 0;
    if (!v)
        return false;
    if (!ombud_router_parse_id(v, strlen(v), out)) {
        ombud_err_field(err, name, "must be a positive integer");
        *out = 0;
        return false;
    }
    return true;
}

bool ombud_query_time(struct ombud_req *req, const char *name, bool required, int64_t *usec,
                      struct ombud_err *err)
{
    const char *v = ombud_req_query(req, name);
    if (!v) {
        if (required)
            ombud_err_field(err, name, "is required (RFC 3339, e.g. 2026-11-22T08:00:00Z)");
        return false;
    }
    if (!ombud_time_parse(v, usec)) {
        ombud_err_field(err, name, "must be an RFC 3339 date-time, e.g. 2026-11-22T08:00:00Z");
        return false;
    }
    return true;
}

/* "a, b or c": the names as a message lists them. */
static void name_list(const char *const *names, const char *last_sep, char *out, size_t outlen)
{
    size_t used = 0, n = 0;
    while (names[n])
        n++;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *sep = i == 0 ? "" : i == n - 1 ? last_sep : ", ";
        int w = snprintf(out + used, outlen - used, "%s%s", sep, names[i]);
        if (w < 0 || (size_t)w >= outlen - used)
            break;
        used += (size_t)w;
    }
}

bool ombud_query_enum(struct ombud_req *req, const char *name, const char *const *names, int def,
                      int *out, struct ombud_err *err)
{
    const char *v = ombud_req_query(req, name);
    *out = def;
    if (!v)
        return false;
    for (int i = 0; names[i]; i++) {
        if (strcmp(names[i], v) == 0) {
            *out = i;
            return true;
        }
    }
    char list[200];
    name_list(names, " or ", list, sizeof list);
    ombud_err_field(err, name, "must be %s", list);
    return false;
}

const char *ombud_query_enum_list(struct ombud_req *req, const char *name, const char *const *names,
                                  struct ombud_err *err)
{
    const char *v = ombud_req_query(req, name);
    if (!v)
        return NULL;
    const char *p = v;
    bool ok = *p != '\0';
    while (ok && *p) {
        size_t len = strcspn(p, ",");
        if (len == 0 || (p[len] == ',' && p[len + 1] == '\0')) { /* empty entry */
            ok = false;
            break;
        }
        bool known = false;
        for (size_t i = 0; names && names[i] && !known; i++)
            known = strlen(names[i]) == len && strncmp(names[i], p, len) == 0;
        if (!names) /* free-form keys: check the shape only */
            known = len >= 1 && len <= 40;
        ok = known;
        p += len;
        if (*p == ',')
            p++;
    }
    if (!ok) {
        if (names) {
            char list[200];
            name_list(names, ", ", list, sizeof list);
            ombud_err_field(err, name, "must be a comma-separated list of: %s", list);
        } else {
            ombud_err_field(err, name, "must be a comma-separated list of keys");
        }
        return NULL;
    }
    return v;
}

const char *ombud_query_text(struct ombud_req *req, const char *name, size_t min, size_t max,
                             struct ombud_err *err)
{
    const char *v = ombud_req_query(req, name);
    if (!v)
        return NULL;
    size_t len = ombud_utf8_len(v);
    bool blank = strspn(v, " \t\r\n") == strlen(v);
    if (len < min || len > max || blank) {
        ombud_err_field(err, name, "must be %zu to %zu characters, not only spaces", min, max);
        return NULL;
    }
    return v;
}

void ombud_query_page(struct ombud_req *req, int *limit, int64_t *cursor, size_t ncur,
                      bool *cursor_set, struct ombud_err *err)
{
    const char *c = ombud_req_query(req, "cursor");
    int64_t l;

    ombud_query_int(req, "limit", 1, 200, 50, &l, err);
    *limit = (int)l;
    *cursor_set = false;
    if (c) {
        if (!ombud_cursor_decode(c, cursor, ncur))
            ombud_err_field(err, "cursor", "is not a cursor this list returned");
        else
            *cursor_set = true;
    }
}

void ombud_query_id_page(struct ombud_req *req, int *limit, int64_t *after, struct ombud_err *err)
{
    bool has_cursor;
    *after = 0;
    ombud_query_page(req, limit, after, 1, &has_cursor, err);
    if (has_cursor && *after < 1)
        ombud_err_field(err, "cursor", "is not a cursor this list returned");
}
