/*
 * Private to src/db: a page of complaints read together with their
 * current SLA clocks in the page's own statement (src/db/sla_clocks.c),
 * so a list is one statement rather than the page and then its clocks.
 *
 * The page is a subquery aliased p with columns id and resolution_cycle:
 *
 *   SELECT p.* <OMBUD_DB_SLA_PAGE_COLS> FROM (<the page>) p
 *   <OMBUD_DB_SLA_PAGE_JOIN> ORDER BY ...
 *
 * Each clock is a LATERAL subquery with LIMIT 1 (a primary-key lookup;
 * the LIMIT keeps PostgreSQL from flattening it into a join), so it runs
 * once per row of the page whatever the page's estimated size: a generic
 * plan cannot turn it into a hash join over every clock.
 */
#ifndef OMBUD_DB_SLA_PAGE_H
#define OMBUD_DB_SLA_PAGE_H

#include <stddef.h>

#include "db/internal.h"
#include "ombud/complaint.h"

/* The clocks' columns, each prefixed fr_ (first response) or rc_
 * (resolution, current cycle); starts with a comma. */
extern const char ombud_db_sla_page_cols[];
/* The two LATERAL joins that yield them. */
extern const char ombud_db_sla_page_join[];

/* Reads row i's clocks of res into list[i].sla and sla_have, for i < n
 * (a missing clock is sla_have false). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_sla_page_read(const PGresult *res,
                                                     struct ombud_complaint *list, size_t n,
                                                     struct ombud_err *err);

#endif
