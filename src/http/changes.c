/*
 * GET /v1/changes: the change log for polling clients and exports
 * (agent). `after` is a change id (digits), or `now` for the current end;
 * none reads from the oldest. `types` filters (a comma list, `complaint.*`
 * and `alert.*` allowed). The answer is {items, next_after}: the id to
 * send as `after` next, on an empty page the position just asked for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/handlers.h"
#include "ombud/db/changes.h"
#include "ombud/repr.h"

struct changes_q {
    int64_t after;
    bool now;
    int limit;
    struct ombud_change_filter filter;
    struct ombud_change *items;
    size_t n;
};

static enum ombud_rc changes_q(struct ombud_db_conn *c, void *arg, struct ombud_err *err)
{
    struct changes_q *x = arg;
    ombud_changes_free(x->items, x->n);
    x->items = NULL;
    x->n = 0;
    if (x->now)
        return ombud_db_changes_end(c, &x->after, err);
    return ombud_db_changes_read(c, x->after, x->limit, &x->filter, &x->items, &x->n, err);
}

/* after, limit and types from the query into x; field errors into err. */
void ombud_changes_query(struct ombud_req *req, int64_t *after, bool *now, int *limit,
                         struct ombud_change_filter *f, struct ombud_err *err)
{
    int64_t lim = 50;
    const char *a = ombud_req_query(req, "after"), *types = ombud_req_query(req, "types");
    char bad[64];
    *after = 0;
    *now = a && strcmp(a, "now") == 0;
    if (a && !*now)
        (void)ombud_query_int(req, "after", 0, INT64_MAX, 0, after, err);
    if (limit) {
        (void)ombud_query_int(req, "limit", 1, 200, 50, &lim, err);
        *limit = (int)lim;
    }
    if (!ombud_change_filter_parse(types, f, bad, sizeof bad))
        ombud_err_field(err, "types", "%s is not a change type (nor complaint.* or alert.*)", bad);
}

void ombud_h_changes_list(struct ombud_req *req)
{
    struct changes_q x = {0};
    struct ombud_err err;
    ombud_err_clear(&err);
    ombud_changes_query(req, &x.after, &x.now, &x.limit, &x.filter, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_db_run(req->pool, changes_q, &x, &err) != OMBUD_OK) {
        ombud_reply_problem(req, &err);
        ombud_changes_free(x.items, x.n);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < x.n; i++)
        json_array_append_new(items, ombud_repr_change(&x.items[i]));
    int64_t next = x.n ? x.items[x.n - 1].id : x.after;
    ombud_reply_json_steal(req, 200,
                           json_pack("{s:o, s:I}", "items", items, "next_after", (json_int_t)next));
    ombud_changes_free(x.items, x.n);
}
