/*
 * Query strings and cursors: the input is a query string, split into
 * arguments as a server does (conn_values.c), then read by src/http's
 * typed getters (query.c) under the names the list handlers use, after
 * the UTF-8 check the daemon makes first. Each getter's answer is
 * checked: a value it accepts has the promised shape and range, a value
 * it refuses is named in a field error. Cursors: what a getter decodes
 * encodes back to the same values, and every encoded tuple decodes.
 */
#include <string.h>

#include "conn_values.h"
#include "fuzz.h"
#include "http/query.h"
#include "ombud/complaint.h"
#include "ombud/lifecycle.h"
#include "ombud/cursor.h"
#include "ombud/json_spec.h"
#include "ombud/router.h"
#include "ombud/text.h"
#include "ombud/timefmt.h"

/* A field error names field (or the list is full). */
static bool named(const struct ombud_err *err, const char *field)
{
    if (err->nfields == OMBUD_ERR_MAX_FIELDS)
        return true;
    for (size_t i = 0; i < err->nfields; i++)
        if (strcmp(err->fields[i].field, field) == 0)
            return true;
    return false;
}

static bool has_value(struct ombud_req *req, const char *name)
{
    return ombud_req_query(req, name) != NULL;
}

static void check_cursor_roundtrip(const int64_t *v, size_t n)
{
    char text[OMBUD_CURSOR_BUFLEN];
    int64_t back[OMBUD_CURSOR_MAX];
    ombud_cursor_encode(v, n, text);
    CHECK(strlen(text) < OMBUD_CURSOR_BUFLEN);
    CHECK(ombud_cursor_decode(text, back, n));
    CHECK(memcmp(back, v, n * sizeof *v) == 0);
    /* a cursor of n values is not one of another count */
    for (size_t m = 1; m <= OMBUD_CURSOR_MAX; m++)
        if (m != n)
            CHECK(!ombud_cursor_decode(text, back, m));
}

static void getters(struct ombud_req *req)
{
    struct ombud_err err;
    static const char *const sorts[] = {"created_at", "-created_at", "due_at", NULL};
    int64_t n, cur[OMBUD_CURSOR_MAX];
    int limit, e;
    bool set;

    ombud_err_clear(&err);
    if (ombud_query_check_utf8(req, &err) != OMBUD_OK) {
        CHECK(err.kind == OMBUD_E_BAD_REQUEST && err.nfields == 1);
        return;
    }

    const char *status = ombud_query_enum_list(req, "status", ombud_status_names, &err);
    CHECK(status || !has_value(req, "status") || named(&err, "status"));
    if (status) {
        /* every entry is a status */
        char copy[512];
        if (strlen(status) < sizeof copy) {
            strcpy(copy, status);
            char *save = NULL;
            size_t entries = 0;
            for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                bool known = false;
                for (size_t i = 0; ombud_status_names[i]; i++)
                    known = known || strcmp(t, ombud_status_names[i]) == 0;
                CHECK(known);
                entries++;
            }
            CHECK(entries > 0 && status[0] != ',' && status[strlen(status) - 1] != ',' &&
                  !strstr(status, ",,"));
        }
    }
    const char *category = ombud_query_enum_list(req, "category", NULL, &err);
    CHECK(category || !has_value(req, "category") || named(&err, "category"));

    if (ombud_query_id(req, "team_id", &n, &err)) {
        const char *v = ombud_req_query(req, "team_id");
        int64_t again;
        CHECK(n > 0 && ombud_router_parse_id(v, strlen(v), &again) && again == n);
    } else {
        CHECK(n == 0 && (!has_value(req, "team_id") || named(&err, "team_id")));
    }

    if (ombud_query_int(req, "minutes", 0, 525600, 60, &n, &err)) {
        CHECK(n >= 0 && n <= 525600);
        CHECK(strspn(ombud_req_query(req, "minutes"), "0123456789") ==
              strlen(ombud_req_query(req, "minutes")));
    } else {
        CHECK(n == 60 && (!has_value(req, "minutes") || named(&err, "minutes")));
    }

    int64_t usec;
    if (ombud_query_time(req, "created_after", false, &usec, &err)) {
        char text[OMBUD_TIME_BUFLEN];
        int64_t again;
        ombud_time_format(usec, text);
        CHECK(ombud_time_parse(text, &again));
        int64_t sec = usec / 1000000 - (usec % 1000000 < 0);
        CHECK(again == sec * 1000000);
    } else {
        CHECK(!has_value(req, "created_after") || named(&err, "created_after"));
    }

    const char *q = ombud_query_text(req, "q", 1, 200, &err);
    if (q)
        CHECK(ombud_utf8_len(q) >= 1 && ombud_utf8_len(q) <= 200 &&
              strspn(q, " \t\r\n") < strlen(q));
    else
        CHECK(!has_value(req, "q") || named(&err, "q"));

    if (ombud_query_enum(req, "sort", sorts, 1, &e, &err))
        CHECK(strcmp(sorts[e], ombud_req_query(req, "sort")) == 0);
    else
        CHECK(e == 1 && (!has_value(req, "sort") || named(&err, "sort")));

    /* keyset paging with two values (complaints) and by id */
    cur[0] = cur[1] = INT64_C(-4242);
    ombud_query_page(req, &limit, cur, 2, &set, &err);
    CHECK(limit >= 1 && limit <= 200);
    if (set)
        check_cursor_roundtrip(cur, 2);
    else /* a refused cursor writes nothing */
        CHECK(cur[0] == INT64_C(-4242) && cur[1] == INT64_C(-4242) &&
              (!has_value(req, "cursor") || named(&err, "cursor")));
    int64_t after;
    ombud_query_id_page(req, &limit, &after, &err);
    CHECK(limit >= 1 && limit <= 200);
    /* a refused cursor may leave any value: the field error stops the request */
    if (has_value(req, "cursor") && after < 1)
        CHECK(named(&err, "cursor"));

    /* the cursor as any count of values */
    const char *c = ombud_req_query(req, "cursor");
    for (size_t k = 1; c && k <= OMBUD_CURSOR_MAX; k++)
        if (ombud_cursor_decode(c, cur, k))
            check_cursor_roundtrip(cur, k);

    CHECK(err.nfields <= OMBUD_ERR_MAX_FIELDS);
    if (err.nfields)
        CHECK(ombud_err_finish_validation(&err) != OMBUD_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ombud_req req = {.conn = (struct MHD_Connection *)&req};
    char *qs = malloc(size + 1);
    memcpy(qs, data, size);
    qs[size] = '\0';

    conn_values_clear();
    conn_values_parse_query(qs);
    getters(&req);

    /* Tuples from the input's bytes always survive the round trip. */
    if (size >= sizeof(int64_t)) {
        int64_t v[OMBUD_CURSOR_MAX] = {0};
        size_t k = size / sizeof(int64_t);
        if (k > OMBUD_CURSOR_MAX)
            k = OMBUD_CURSOR_MAX;
        memcpy(v, data, k * sizeof(int64_t));
        check_cursor_roundtrip(v, k);
    }
    free(qs);
    return 0;
}
