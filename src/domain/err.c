/* Error accumulation; see include/ombud/err.h. */
#include "ombud/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void copy(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

void ombud_err_clear(struct ombud_err *err)
{
    err->status = 0;
    err->type[0] = err->title[0] = err->detail[0] = err->allowed[0] = '\0';
    err->nfields = 0;
}

enum ombud_rc ombud_err_set(struct ombud_err *err, int status, const char *type, const char *title,
                            const char *fmt, ...)
{
    va_list ap;

    err->status = status;
    copy(err->type, sizeof err->type, type);
    copy(err->title, sizeof err->title, title);
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
    return OMBUD_ERROR;
}

void ombud_err_field(struct ombud_err *err, const char *field, const char *fmt, ...)
{
    struct ombud_field_error *f;
    va_list ap;

    if (err->nfields >= OMBUD_ERR_MAX_FIELDS)
        return;
    f = &err->fields[err->nfields++];
    copy(f->field, sizeof f->field, field);
    va_start(ap, fmt);
    vsnprintf(f->message, sizeof f->message, fmt, ap);
    va_end(ap);
}

enum ombud_rc ombud_err_finish_validation(struct ombud_err *err)
{
    if (err->nfields == 0)
        return OMBUD_OK;
    return ombud_err_set(err, 422, "validation-failed", "Validation failed",
                         "%zu field%s failed validation", err->nfields,
                         err->nfields == 1 ? "" : "s");
}

enum ombud_rc ombud_err_internal(struct ombud_err *err, const char *detail)
{
    return ombud_err_set(err, 500, "internal", "Internal server error", "%s", detail);
}

enum ombud_rc ombud_err_unavailable(struct ombud_err *err, const char *detail)
{
    return ombud_err_set(err, 503, "unavailable", "Service unavailable", "%s", detail);
}

enum ombud_rc ombud_err_not_found(struct ombud_err *err, const char *what)
{
    return ombud_err_set(err, 404, "not-found", "Not found", "%s not found", what);
}
