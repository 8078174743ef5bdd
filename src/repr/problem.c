/*
 * RFC 9457 problem details, built from struct ombud_err. Status and title
 * come from the caller (src/http/problem.c maps error kinds to them): the
 * body is a representation, how HTTP classifies an error is not.
 */
#include <stdio.h>
#include <string.h>

#include "ombud/repr.h"
#include "ombud/timefmt.h"

json_t *ombud_repr_problem(const struct ombud_err *err, int status, const char *title,
                           const char *instance, const char *request_id)
{
    char type[96];
    snprintf(type, sizeof type, "/problems/%s", err->type[0] ? err->type : "error");
    json_t *o = json_pack("{s:s, s:s, s:i}", "type", type, "title",
                          title && title[0] ? title : "Error", "status", status);
    if (!o)
        return NULL;
    if (err->detail[0])
        json_object_set_new(o, "detail", json_string(err->detail));
    if (instance)
        json_object_set_new(o, "instance", json_string(instance));
    if (request_id && request_id[0])
        json_object_set_new(o, "request_id", json_string(request_id));
    if (err->nfields) {
        json_t *arr = json_array();
        for (size_t i = 0; i < err->nfields; i++)
            json_array_append_new(arr, json_pack("{s:s, s:s}", "field", err->fields[i].field,
                                                 "message", err->fields[i].message));
        json_object_set_new(o, "errors", arr);
    }
    if (err->allowed[0]) {
        json_t *arr = json_array();
        const char *p = err->allowed;
        while (*p) {
            size_t len = strcspn(p, ",");
            json_array_append_new(arr, json_stringn(p, len));
            p += len;
            if (*p == ',')
                p++;
        }
        json_object_set_new(o, "allowed_actions", arr);
    }
    return o;
}

json_t *ombud_repr_time(int64_t usec)
{
    char buf[OMBUD_TIME_BUFLEN];
    if (usec == 0)
        return json_null();
    ombud_time_format(usec, buf);
    return json_string(buf);
}

json_t *ombud_repr_page_steal(json_t *items, const char *next_cursor)
{
    return json_pack("{s:o, s:s?}", "items", items, "next_cursor", next_cursor);
}
