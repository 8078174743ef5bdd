/*
 * See conn_values.h. Header names match case-insensitively and argument
 * names exactly, and a look-up finds the first of several, as in
 * libmicrohttpd.
 */
#include "conn_values.h"

#include <microhttpd.h>
#include <string.h>
#include <strings.h>

static struct {
    bool header;
    const char *key, *value;
} values[CONN_VALUES_MAX];
static size_t nvalues;

void conn_values_clear(void)
{
    nvalues = 0;
}

void conn_values_add(bool header, const char *key, const char *value)
{
    if (nvalues == CONN_VALUES_MAX)
        return;
    values[nvalues].header = header;
    values[nvalues].key = key;
    values[nvalues].value = value;
    nvalues++;
}

static int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes %XX in place (up to a decoded NUL, where the text ends). */
static void unescape(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (*s == '%' && hex(s[1]) >= 0 && hex(s[2]) >= 0) {
            *o++ = (char)(hex(s[1]) * 16 + hex(s[2]));
            s += 2;
        } else {
            *o++ = *s == '+' ? ' ' : *s;
        }
    }
    *o = '\0';
}

void conn_values_parse_query(char *qs)
{
    char *save = NULL;
    for (char *arg = strtok_r(qs, "&", &save); arg; arg = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(arg, '=');
        if (eq)
            *eq++ = '\0';
        unescape(arg);
        if (eq)
            unescape(eq);
        conn_values_add(false, arg, eq);
    }
}

static bool wanted(size_t i, enum MHD_ValueKind kind)
{
    return (kind & MHD_HEADER_KIND && values[i].header) ||
           (kind & MHD_GET_ARGUMENT_KIND && !values[i].header);
}

const char *MHD_lookup_connection_value(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                                        const char *key)
{
    for (size_t i = 0; i < nvalues; i++) {
        if (!wanted(i, kind) || !key)
            continue;
        if (values[i].header ? strcasecmp(values[i].key, key) == 0
                             : strcmp(values[i].key, key) == 0)
            return values[i].value;
    }
    return NULL;
}

int MHD_get_connection_values(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                              MHD_KeyValueIterator iterator, void *iterator_cls)
{
    int n = 0;
    for (size_t i = 0; i < nvalues; i++) {
        if (!wanted(i, kind))
            continue;
        n++;
        if (iterator &&
            iterator(iterator_cls, values[i].header ? MHD_HEADER_KIND : MHD_GET_ARGUMENT_KIND,
                     values[i].key, values[i].value) != MHD_YES)
            break;
    }
    return n;
}
