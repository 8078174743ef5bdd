/* Error accumulation; see include/ombud/err.h. */
#include "ombud/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Drops a multi-byte UTF-8 character that truncation cut in two, so a
 * truncated text stays valid UTF-8 (jansson refuses anything else). */
static void utf8_trim(char *s)
{
    size_t len = strlen(s), i = len, need;
    if (len == 0)
        return;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (len - (i - 1) < need)
        s[i - 1] = '\0';
}

static void copy(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
    utf8_trim(dst);
}

/* Default slugs: the problem types clients already know (API.md). Two
 * kinds share "conflict" on purpose; the kind still tells them apart. */
static const char *const default_types[OMBUD_E_KIND_COUNT] = {
    [OMBUD_E_NONE] = "",
    [OMBUD_E_INVALID] = "validation-failed",
    [OMBUD_E_BAD_REQUEST] = "bad-request",
    [OMBUD_E_UNAUTHORIZED] = "unauthorized",
    [OMBUD_E_FORBIDDEN] = "forbidden",
    [OMBUD_E_NOT_FOUND] = "not-found",
    [OMBUD_E_METHOD_NOT_ALLOWED] = "method-not-allowed",
    [OMBUD_E_DUPLICATE] = "conflict",
    [OMBUD_E_CONFLICT] = "conflict",
    [OMBUD_E_STALE] = "precondition-failed",
    [OMBUD_E_TOO_LARGE] = "payload-too-large",
    [OMBUD_E_UNSUPPORTED_MEDIA] = "unsupported-media-type",
    [OMBUD_E_RATE_LIMITED] = "rate-limited",
    [OMBUD_E_UNAVAILABLE] = "unavailable",
    [OMBUD_E_INTERNAL] = "internal",
    [OMBUD_E_CONFIG] = "bad-config",
};

const char *ombud_err_default_type(enum ombud_err_kind kind)
{
    return (unsigned)kind < OMBUD_E_KIND_COUNT ? default_types[kind] : "";
}

void ombud_err_clear(struct ombud_err *err)
{
    err->kind = OMBUD_E_NONE;
    err->type[0] = err->constraint[0] = err->detail[0] = err->allowed[0] = '\0';
    err->nfields = 0;
}

enum ombud_rc ombud_err_set(struct ombud_err *err, enum ombud_err_kind kind, const char *type,
                            const char *fmt, ...)
{
    va_list ap;

    err->kind = kind;
    copy(err->type, sizeof err->type, type ? type : ombud_err_default_type(kind));
    err->constraint[0] = '\0';
    va_start(ap, fmt);
    vsnprintf(err->detail, sizeof err->detail, fmt, ap);
    va_end(ap);
    utf8_trim(err->detail);
    return OMBUD_ERROR;
}

void ombud_err_constraint(struct ombud_err *err, const char *name)
{
    copy(err->constraint, sizeof err->constraint, name);
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
    utf8_trim(f->message);
}

enum ombud_rc ombud_err_finish_validation(struct ombud_err *err)
{
    if (err->nfields == 0)
        return OMBUD_OK;
    return ombud_err_set(err, OMBUD_E_INVALID, NULL, "%zu field%s failed validation", err->nfields,
                         err->nfields == 1 ? "" : "s");
}

enum ombud_rc ombud_err_internal(struct ombud_err *err, const char *detail)
{
    return ombud_err_set(err, OMBUD_E_INTERNAL, NULL, "%s", detail);
}

enum ombud_rc ombud_err_unavailable(struct ombud_err *err, const char *detail)
{
    return ombud_err_set(err, OMBUD_E_UNAVAILABLE, NULL, "%s", detail);
}

enum ombud_rc ombud_err_not_found(struct ombud_err *err, const char *what)
{
    return ombud_err_set(err, OMBUD_E_NOT_FOUND, NULL, "%s not found", what);
}
