/* The change log (src/db/changes.c): reading it in order. Changes are
 * written by the statements that write events and alerts (see
 * migrations/0015_changes.sql for the order). */
#ifndef OMBUD_DB_CHANGES_H
#define OMBUD_DB_CHANGES_H

#include <stddef.h>
#include <stdint.h>

#include "ombud/change.h"
#include "ombud/db/pool.h"
#include "ombud/err.h"

/* Up to limit settled changes with id > after that pass f, in id order.
 * *out is a new array (ombud_changes_free). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_changes_read(struct ombud_db_conn *c, int64_t after,
                                                    int limit, const struct ombud_change_filter *f,
                                                    struct ombud_change **out, size_t *n,
                                                    struct ombud_err *err);
/* The current end of the log: the position after which the next settled
 * change will come (for "after=now"). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_changes_end(struct ombud_db_conn *c, int64_t *end,
                                                   struct ombud_err *err);

/* The id of the newest settled change (0: none yet), one index probe:
 * what a reader waiting for new changes polls, reading them only when it
 * moved. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_changes_settled_end(struct ombud_db_conn *c, int64_t *end,
                                                           struct ombud_err *err);

#endif
