/*
 * Representations: each resource's JSON is built in one place
 * (src/repr/<resource>.c). Every function returns a new reference.
 */
#ifndef OMBUD_REPR_H
#define OMBUD_REPR_H

#include <jansson.h>
#include <stdint.h>

#include "ombud/db.h"
#include "ombud/err.h"

/* RFC 9457 problem details for err (instance and request_id optional). */
json_t *ombud_repr_problem(const struct ombud_err *err, const char *instance,
                           const char *request_id);
/* RFC 3339 string, or JSON null for 0. */
json_t *ombud_repr_time(int64_t usec);
json_t *ombud_repr_api_key(const struct ombud_api_key *k);
/* {items: [...], next_cursor} steals items. */
json_t *ombud_repr_page(json_t *items, const char *next_cursor);

#endif
