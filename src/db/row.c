/*
 * Reading rows by column name (see the column tables in db/internal.h).
 * DESIGN: a table is bound to a result once, PQfnumber per column, and
 * rows are then read by index; the kinds cover the fields our records
 * have, and OMBUD_DB_COL_FN takes the rest (enums, JSON, tri-state).
 */
#include <stdlib.h>
#include <string.h>

#include "db/internal.h"
#include "ombud/log.h"

enum ombud_rc ombud_db_colmap_bind(struct ombud_db_colmap *map, const PGresult *res,
                                   const struct ombud_db_col *cols, struct ombud_err *err)
{
    map->res = res;
    map->cols = cols;
    for (size_t i = 0; cols[i].name; i++) {
        if (i == OMBUD_DB_MAX_COLS)
            return ombud_err_internal(err, "column table longer than OMBUD_DB_MAX_COLS");
        map->index[i] = PQfnumber(res, cols[i].name);
        if (map->index[i] < 0) { /* the SQL and its column table disagree */
            ombud_log(OMBUD_LOG_ERROR, "db_error", "result has no column %s", cols[i].name);
            return ombud_err_internal(err, "database error");
        }
    }
    return OMBUD_OK;
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
            *(int64_t *)field = v ? strtoll(v, NULL, 10) : 0;
            break;
        case OMBUD_DB_COL_INT:
            *(int *)field = v ? (int)strtol(v, NULL, 10) : 0;
            break;
        case OMBUD_DB_COL_BOOL:
            *(bool *)field = v && v[0] == 't';
            break;
        case OMBUD_DB_COL_TEXT:
            snprintf(field, col->size, "%s", v ? v : "");
            break;
        case OMBUD_DB_COL_STR:
            *(char **)field = v ? strdup(v) : NULL;
            break;
        case OMBUD_DB_COL_FN:
            col->fn(v, out);
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
