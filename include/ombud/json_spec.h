/*
 * Declarative JSON body checks (after GNU Taler's GNUNET_JSON_spec):
 * a handler lists the fields it takes; one call checks the whole object,
 * reporting every missing, unknown, mistyped or out-of-range field as a
 * field error. Values are borrowed from the json object.
 */
#ifndef OMBUD_JSON_SPEC_H
#define OMBUD_JSON_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "ombud/err.h"

enum ombud_spec_type {
    OMBUD_SPEC_STRING, /* min/max in characters (code points) */
    OMBUD_SPEC_INT,    /* min/max inclusive */
    OMBUD_SPEC_NUMBER, /* integer or real, min/max inclusive */
    OMBUD_SPEC_BOOL,
    OMBUD_SPEC_ENUM,   /* string from a NULL-terminated list */
    OMBUD_SPEC_OBJECT, /* any object; checked by the caller */
    OMBUD_SPEC_ARRAY,  /* any array; checked by the caller */
    OMBUD_SPEC_ANY,    /* any value, null included; checked by the caller */
};

struct ombud_spec {
    const char *name;
    enum ombud_spec_type type;
    bool required;
    bool nullable; /* JSON null accepted: present set, outputs left untouched */
    int64_t min, max;
    const char *const *values; /* ENUM */
    /* outputs; present is set when the field was given (null included, if nullable) */
    bool *present;
    const char **s; /* STRING, ENUM */
    int64_t *i;     /* INT */
    double *d;      /* NUMBER */
    bool *b;        /* BOOL */
    json_t **j;     /* OBJECT, ARRAY, ANY (borrowed) */
};

/* Checks obj against spec[0..n); prefix names nested fields ("customer.").
 * Appends field errors to err; never sets err->kind. */
void ombud_spec_parse(const json_t *obj, const struct ombud_spec *spec, size_t n,
                      const char *prefix, struct ombud_err *err);

/* v, the value of field: an array of at most 50 names (1 to 40
 * characters), each one of known (NULL: any such name; the caller checks
 * them, e.g. category keys against the table). On success *out is the
 * list as compact JSON array text (the caller frees it); otherwise a
 * field error names the field or each bad element ("field[2]"), and
 * *out is NULL. */
void ombud_spec_name_list(const json_t *v, const char *field, const char *const *known, char **out,
                          struct ombud_err *err);

/* Number of Unicode code points in a valid UTF-8 string. */
size_t ombud_utf8_len(const char *s);

#endif
