/*
 * A request's query arguments and headers without a server: the targets
 * define libmicrohttpd's two look-up functions (MHD_lookup_connection_value,
 * MHD_get_connection_values) over the table here, and the executable's
 * definitions take precedence over the shared library's, so src/http's
 * getters (query.c) read exactly what a target set. A target sets the
 * values, then calls the getters with any non-NULL connection pointer.
 */
#ifndef OMBUD_FUZZ_CONN_VALUES_H
#define OMBUD_FUZZ_CONN_VALUES_H

#include <stdbool.h>
#include <stddef.h>

#define CONN_VALUES_MAX 32

/* Forgets every value (the strings are the caller's). */
void conn_values_clear(void);
/* Adds a header (header true) or a query argument; value may be NULL
 * (an argument without '='). Beyond CONN_VALUES_MAX, dropped. */
void conn_values_add(bool header, const char *key, const char *value);
/* Splits a query string ("a=1&b=%32") into arguments the way a server
 * does: '&' between arguments, the first '=' before the value, %XX
 * decoded (a decoded NUL ends the text). Modifies and borrows qs. */
void conn_values_parse_query(char *qs);

#endif
