/*
 * Reading a request's path ids, query parameters and headers, private to
 * src/http. Handlers use the typed getters below rather than parse text
 * themselves, so each kind of parameter is checked one way everywhere.
 *
 * Query getters share one contract: an absent parameter leaves the
 * default in *out and is no error (unless the getter says it is
 * required); a malformed one adds a field error named after the
 * parameter to err, to be reported with every other bad field by
 * ombud_err_finish_validation. They return true when the parameter was
 * given and is valid.
 */
#ifndef OMBUD_HTTP_QUERY_H
#define OMBUD_HTTP_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/request.h"
#include "ombud/err.h"

/* As a default for ombud_query_int: the parameter must be given. */
#define OMBUD_QUERY_REQUIRED INT64_MIN

/* Query string value as sent (percent-decoded, valid UTF-8), or NULL. */
const char *ombud_req_query(struct ombud_req *req, const char *name);
/* Request header value, or NULL. */
const char *ombud_req_header(struct ombud_req *req, const char *name);

/* The i-th {id} of the matched route pattern. Cannot fail: the router
 * matches an {id} segment only when it is a positive int64 (router.h). */
int64_t ombud_req_path_id(const struct ombud_req *req, size_t i);

/* Every query name and value must be UTF-8, since they reach SQL and JSON
 * as text: a 400 naming the first one that is not. */
OMBUD_MUSTCHECK enum ombud_rc ombud_query_check_utf8(struct ombud_req *req, struct ombud_err *err);

/* A decimal integer (digits only) from min to max (min >= 0); def when
 * absent, or OMBUD_QUERY_REQUIRED. */
bool ombud_query_int(struct ombud_req *req, const char *name, int64_t min, int64_t max, int64_t def,
                     int64_t *out, struct ombud_err *err);
/* A positive id written as in a path (no sign, no leading zero); 0 when
 * absent or malformed. */
bool ombud_query_id(struct ombud_req *req, const char *name, int64_t *out, struct ombud_err *err);
/* An RFC 3339 date-time, in microseconds since the epoch. */
bool ombud_query_time(struct ombud_req *req, const char *name, bool required, int64_t *usec,
                      struct ombud_err *err);
/* One of names (NULL-terminated); *out is its index, def when absent. */
bool ombud_query_enum(struct ombud_req *req, const char *name, const char *const *names, int def,
                      int *out, struct ombud_err *err);
/* A comma-separated list whose every entry is one of names, or with names
 * NULL any key of 1 to 40 bytes. Returns the value as sent (borrowed from
 * the request) when given and valid, else NULL. */
const char *ombud_query_enum_list(struct ombud_req *req, const char *name, const char *const *names,
                                  struct ombud_err *err);
/* Text of min to max characters, not only white space. Returns the value
 * (borrowed from the request) when given and valid, else NULL. */
const char *ombud_query_text(struct ombud_req *req, const char *name, size_t min, size_t max,
                             struct ombud_err *err);

/* Keyset paging: `limit` (1..200, default 50) into *limit and `cursor`,
 * decoding ncur int64 values into cursor (*cursor_set false when absent). */
void ombud_query_page(struct ombud_req *req, int *limit, int64_t *cursor, size_t ncur,
                      bool *cursor_set, struct ombud_err *err);
/* Lists ordered by id: `limit` and an id `cursor` (*after 0 when absent). */
void ombud_query_id_page(struct ombud_req *req, int *limit, int64_t *after, struct ombud_err *err);

#endif
