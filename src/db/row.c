/*
 * Reading rows by column name (see the column tables in db/internal.h).
 * DESIGN: a table is bound to a result once, PQfnumber per column, and
 * rows are then read by index; the kinds cover the fields our records
 * have, and OMBUD_DB_COL_FN takes the rest (enums, JSON, tri-state).
 * On top of the reader sit the get, list and delete paths every
 * resource shares, so a resource module holds only its SQL and tables.
 */
#include <stdlib.h>
#include <string.h>

#include "db/internal.h"
#include "ombud/log.h"

enum ombud_rc ombud_db_colmap_bind_prefix(struct ombud_db_colmap *map, const PGresult *res,
                                          const struct ombud_db_col *cols, const char *prefix,
                                          struct ombud_err *err)
{
    char name[64];
    size_t plen = strlen(prefix);
    int nf = PQnfields(res), next = 0;
    map->res = res;
    map->cols = cols;
    for (size_t i = 0; cols[i].name; i++) {
        if (i == OMBUD_DB_MAX_COLS)
            return ombud_err_internal(err, "column table longer than OMBUD_DB_MAX_COLS");
        /* The statements select a table's columns in the table's order,
         * so the column after the last one found is tried first: binding
         * is then linear, where PQfnumber alone (a scan from the first
         * column each time) was a few percent of a get's CPU. A result
         * names each column once, so the first match is the match. */
        const char *f = next < nf ? PQfname(res, next) : NULL;
        if (f && strncmp(f, prefix, plen) == 0 && strcmp(f + plen, cols[i].name) == 0) {
            map->index[i] = next++;
            continue;
        }
        snprintf(name, sizeof name, "%s%s", prefix, cols[i].name);
        map->index[i] = PQfnumber(res, name);
        next = map->index[i] + 1;
        if (map->index[i] < 0) { /* the SQL and its column table disagree */
            ombud_log(OMBUD_LOG_ERROR, "db_error", "result has no column %s", name);
            return ombud_err_internal(err, "database error");
        }
    }
    return OMBUD_OK;
}

enum ombud_rc ombud_db_colmap_bind(struct ombud_db_colmap *map, const PGresult *res,
                                   const struct ombud_db_col *cols, struct ombud_err *err)
{
    return ombud_db_colmap_bind_prefix(map, res, cols, "", err);
}

/* An integer column's text as strtoll reads it; PostgreSQL writes
 * integers as an optional '-' and decimal digits, so the common case
 * needs none of strtoll's locale and base handling (a few percent of a
 * list page's CPU). Anything else goes to strtoll. */
static int64_t int_text(const char *v)
{
    const char *p = v + (*v == '-');
    uint64_t u = 0;
    int n = 0;
    for (; p[n] >= '0' && p[n] <= '9'; n++)
        u = u * 10 + (uint64_t)(p[n] - '0');
    if (n == 0 || n > 18 || p[n] != '\0')
        return strtoll(v, NULL, 10);
    return *v == '-' ? -(int64_t)u : (int64_t)u;
}

static bool two_digits(const char **p, int *out)
{
    const char *q = *p;
    if (q[0] < '0' || q[0] > '9' || q[1] < '0' || q[1] > '9')
        return false;
    *out = (q[0] - '0') * 10 + (q[1] - '0');
    *p = q + 2;
    return true;
}

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool ombud_db_tstz_usec(const char *v, int64_t *out)
{
    const char *p = v;
    int64_t y = 0;
    int nd = 0, mo, d, h, mi, s, oh, om = 0, os = 0;
    for (; *p >= '0' && *p <= '9' && nd < 7; p++, nd++)
        y = y * 10 + (*p - '0');
    if (nd < 4 || *p++ != '-' || !two_digits(&p, &mo) || *p++ != '-' || !two_digits(&p, &d) ||
        *p++ != ' ' || !two_digits(&p, &h) || *p++ != ':' || !two_digits(&p, &mi) || *p++ != ':' ||
        !two_digits(&p, &s))
        return false;
    int64_t us = 0;
    if (*p == '.') {
        int n = 0;
        for (p++; *p >= '0' && *p <= '9' && n < 6; p++, n++)
            us = us * 10 + (*p - '0');
        if (n == 0 || (*p >= '0' && *p <= '9'))
            return false;
        for (; n < 6; n++)
            us *= 10;
    }
    if (*p != '+' && *p != '-')
        return false;
    int sign = *p++ == '-' ? -1 : 1;
    if (!two_digits(&p, &oh))
        return false;
    if (*p == ':' && (p++, !two_digits(&p, &om)))
        return false;
    if (*p == ':' && (p++, !two_digits(&p, &os)))
        return false;
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59)
        return false;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s -
                   sign * (oh * 3600 + om * 60 + os);
    *out = secs * 1000000 + us;
    return true;
}

void ombud_db_read_row(const struct ombud_db_colmap *map, int row, void *out)
{
    const PGresult *r = map->res;
    for (size_t i = 0; map->cols[i].name; i++) {
        const struct ombud_db_col *col = &map->cols[i];
        int k = map->index[i];
        void *field = (char *)out + col->offset;
        const char *v = PQgetisnull(r, row, k) ? NULL : PQgetvalue(r, row, k);
        switch (col->kind) {
        case OMBUD_DB_COL_I64:
            *(int64_t *)field = v ? int_text(v) : 0;
            break;
        case OMBUD_DB_COL_INT:
            *(int *)field = v ? (int)int_text(v) : 0;
            break;
        case OMBUD_DB_COL_BOOL:
            *(bool *)field = v && v[0] == 't';
            break;
        case OMBUD_DB_COL_TEXT: { /* as snprintf "%s" would, without its cost per field */
            size_t n = v ? strnlen(v, col->size - 1) : 0;
            memcpy(field, v ? v : "", n);
            ((char *)field)[n] = '\0';
            break;
        }
        case OMBUD_DB_COL_STR:
            *(char **)field = v ? strdup(v) : NULL;
            break;
        case OMBUD_DB_COL_FN:
            col->fn(v, out);
            break;
        case OMBUD_DB_COL_TSTZ:
            if (!v)
                *(int64_t *)field = 0;
            else if (!ombud_db_tstz_usec(v, (int64_t *)field)) {
                *(int64_t *)field = 0;
                ombud_log(OMBUD_LOG_ERROR, "db_error", "column %s: not a timestamp: %.40s",
                          col->name, v);
            }
            break;
        }
    }
}

enum ombud_rc ombud_db_read_rows(PGresult *res, const struct ombud_db_col *cols, size_t elem,
                                 void **out, size_t *n, struct ombud_err *err)
{
    struct ombud_db_colmap map;
    size_t rows = (size_t)PQntuples(res);
    char *list = NULL;

    if (ombud_db_colmap_bind(&map, res, cols, err) != OMBUD_OK)
        goto fail;
    list = calloc(rows ? rows : 1, elem);
    if (!list) {
        ombud_err_internal(err, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < rows; i++)
        ombud_db_read_row(&map, (int)i, list + i * elem);
    PQclear(res);
    *out = list;
    *n = rows;
    return OMBUD_OK;
fail:
    PQclear(res);
    return OMBUD_ERROR;
}

enum ombud_rc ombud_db_read_one(PGresult *res, const struct ombud_db_col *cols, void *out,
                                bool *found, struct ombud_err *err)
{
    struct ombud_db_colmap map;
    enum ombud_rc rc = OMBUD_OK;

    *found = PQntuples(res) > 0;
    if (*found && (rc = ombud_db_colmap_bind(&map, res, cols, err)) == OMBUD_OK)
        ombud_db_read_row(&map, 0, out);
    PQclear(res);
    return rc;
}

enum ombud_rc ombud_db_get_by_id(struct ombud_db_conn *c, struct ombud_db_stmt *s, int64_t id,
                                 const struct ombud_db_col *cols, void *out, bool *found,
                                 struct ombud_err *err)
{
    char ids[OMBUD_DB_I64_BUFLEN];
    ombud_db_param_i64(ids, sizeof ids, id);
    const char *p[] = {ids};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, s, 1, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_db_read_one(r, cols, out, found, err);
}

#define LIST_MAX_EXTRA 4

enum ombud_rc ombud_db_list_page(struct ombud_db_conn *c, struct ombud_db_stmt *s,
                                 int64_t cursor_id, int limit, int nextra, const char *const *extra,
                                 const struct ombud_db_col *cols, size_t elem, void **out,
                                 size_t *n, struct ombud_err *err)
{
    char cursor[OMBUD_DB_I64_BUFLEN], lim[16];
    const char *p[2 + LIST_MAX_EXTRA];

    if (nextra < 0 || nextra > LIST_MAX_EXTRA)
        return ombud_err_internal(err, "list with too many parameters");
    ombud_db_param_i64(cursor, sizeof cursor, cursor_id);
    snprintf(lim, sizeof lim, "%d", limit + 1);
    p[0] = cursor;
    p[1] = lim;
    for (int i = 0; i < nextra; i++)
        p[2 + i] = extra[i];
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, s, 2 + nextra, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_db_read_rows(r, cols, elem, out, n, err);
}

enum ombud_rc ombud_db_delete_unused(struct ombud_db_conn *c, struct ombud_db_stmt *in_use,
                                     struct ombud_db_stmt *del, int64_t id, bool *found, bool *used,
                                     struct ombud_err *err)
{
    char ids[OMBUD_DB_I64_BUFLEN];
    ombud_db_param_i64(ids, sizeof ids, id);
    const char *p[] = {ids};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, in_use, 1, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *found = PQntuples(r) == 1;
    *used = *found && ombud_db_bool(r, 0, 0);
    PQclear(r);
    if (!*found || *used)
        return OMBUD_OK;
    rc = ombud_db_exec(c, del, 1, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    PQclear(r);
    return OMBUD_OK;
}
