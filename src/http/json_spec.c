/* Declarative body checks; see include/ombud/json_spec.h. */
#include "ombud/json_spec.h"

#include <stdio.h>
#include <string.h>

size_t ombud_utf8_len(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static const char *type_name(enum ombud_spec_type t)
{
    switch (t) {
    case OMBUD_SPEC_STRING:
    case OMBUD_SPEC_ENUM:
        return "a string";
    case OMBUD_SPEC_INT:
        return "an integer";
    case OMBUD_SPEC_NUMBER:
        return "a number";
    case OMBUD_SPEC_BOOL:
        return "a boolean";
    case OMBUD_SPEC_OBJECT:
        return "an object";
    case OMBUD_SPEC_ARRAY:
        return "an array";
    case OMBUD_SPEC_ANY:
        break;
    }
    return "a value";
}

static void enum_list(const char *const *values, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; values[i]; i++) {
        int w = snprintf(out + used, len - used, "%s%s", i ? ", " : "", values[i]);
        if (w < 0 || (size_t)w >= len - used)
            return;
        used += (size_t)w;
    }
}

static void check_one(const json_t *v, const struct ombud_spec *s, const char *field,
                      struct ombud_err *err)
{
    switch (s->type) {
    case OMBUD_SPEC_STRING:
    case OMBUD_SPEC_ENUM: {
        if (!json_is_string(v))
            goto wrong_type;
        const char *str = json_string_value(v);
        if (strlen(str) != json_string_length(v)) {
            ombud_err_field(err, field, "must not contain NUL characters");
            return;
        }
        if (s->type == OMBUD_SPEC_ENUM) {
            for (size_t i = 0; s->values[i]; i++) {
                if (strcmp(str, s->values[i]) == 0) {
                    if (s->s)
                        *s->s = str;
                    goto present;
                }
            }
            char list[400];
            enum_list(s->values, list, sizeof list);
            ombud_err_field(err, field, "must be one of: %s", list);
            return;
        }
        size_t len = ombud_utf8_len(str);
        if ((int64_t)len < s->min || (s->max > 0 && (int64_t)len > s->max)) {
            if (s->max > 0)
                ombud_err_field(err, field, "must be %lld to %lld characters long",
                                (long long)s->min, (long long)s->max);
            else
                ombud_err_field(err, field, "must be at least %lld characters long",
                                (long long)s->min);
            return;
        }
        if (s->s)
            *s->s = str;
        goto present;
    }
    case OMBUD_SPEC_INT: {
        if (!json_is_integer(v))
            goto wrong_type;
        json_int_t i = json_integer_value(v);
        if (i < s->min || i > s->max) {
            ombud_err_field(err, field, "must be from %lld to %lld", (long long)s->min,
                            (long long)s->max);
            return;
        }
        if (s->i)
            *s->i = i;
        goto present;
    }
    case OMBUD_SPEC_NUMBER: {
        if (!json_is_number(v))
            goto wrong_type;
        double d = json_number_value(v);
        if (d < (double)s->min || d > (double)s->max) {
            ombud_err_field(err, field, "must be from %lld to %lld", (long long)s->min,
                            (long long)s->max);
            return;
        }
        if (s->d)
            *s->d = d;
        goto present;
    }
    case OMBUD_SPEC_BOOL:
        if (!json_is_boolean(v))
            goto wrong_type;
        if (s->b)
            *s->b = json_is_true(v);
        goto present;
    case OMBUD_SPEC_OBJECT:
        if (!json_is_object(v))
            goto wrong_type;
        if (s->j)
            *s->j = (json_t *)v;
        goto present;
    case OMBUD_SPEC_ARRAY:
        if (!json_is_array(v))
            goto wrong_type;
        if (s->j)
            *s->j = (json_t *)v;
        goto present;
    case OMBUD_SPEC_ANY:
        if (s->j)
            *s->j = (json_t *)v;
        goto present;
    }
    return;
present:
    if (s->present)
        *s->present = true;
    return;
wrong_type:
    ombud_err_field(err, field, "must be %s%s", type_name(s->type), s->nullable ? " or null" : "");
}

void ombud_spec_parse(const json_t *obj, const struct ombud_spec *spec, size_t n,
                      const char *prefix, struct ombud_err *err)
{
    const char *key;
    json_t *v;
    char field[160];

    if (!prefix)
        prefix = "";
    for (size_t i = 0; i < n; i++) {
        if (spec[i].present)
            *spec[i].present = false;
        snprintf(field, sizeof field, "%s%s", prefix, spec[i].name);
        v = json_object_get(obj, spec[i].name);
        if (!v) {
            if (spec[i].required)
                ombud_err_field(err, field, "is required");
            continue;
        }
        if (json_is_null(v) && spec[i].nullable) {
            /* Given as null: present, outputs untouched (the caller clears the field). */
            if (spec[i].required)
                ombud_err_field(err, field, "is required");
            else if (spec[i].present)
                *spec[i].present = true;
            continue;
        }
        check_one(v, &spec[i], field, err);
    }
    /* Unknown fields are an error: a typo must not be silently ignored. */
    json_object_foreach ((json_t *)obj, key, v) {
        bool known = false;
        for (size_t i = 0; i < n && !known; i++)
            known = strcmp(key, spec[i].name) == 0;
        if (!known) {
            snprintf(field, sizeof field, "%s%s", prefix, key);
            ombud_err_field(err, field, "is not a known field");
        }
    }
}

void ombud_spec_name_list(const json_t *v, const char *field, const char *const *known, char **out,
                          struct ombud_err *err)
{
    size_t i;
    json_t *e;
    bool ok = true;
    *out = NULL;
    if (!json_is_array(v) || json_array_size(v) > 50) {
        ombud_err_field(err, field, "must be an array of at most 50 values");
        return;
    }
    json_array_foreach (v, i, e) {
        const char *s = json_string_value(e);
        bool good = s && strlen(s) >= 1 && strlen(s) <= 40;
        if (good && known) {
            good = false;
            for (size_t j = 0; known[j]; j++)
                good |= strcmp(s, known[j]) == 0;
        }
        if (!good) {
            char f2[96];
            snprintf(f2, sizeof f2, "%s[%zu]", field, i);
            ombud_err_field(err, f2, "is not a known value");
            ok = false;
        }
    }
    if (ok && !(*out = json_dumps(v, JSON_COMPACT)))
        ombud_err_field(err, field, "could not be read");
}
