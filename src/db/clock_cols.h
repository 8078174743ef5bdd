/*
 * Private to src/db: a clock's columns for statements that read clocks
 * beside other rows (a complaint with its two current clocks, in one
 * statement). Each clock's columns carry a prefix (fr_, rs_) so both fit
 * in one result row; the reader is db/sla_clocks.c's.
 */
#ifndef OMBUD_DB_CLOCK_COLS_H
#define OMBUD_DB_CLOCK_COLS_H

#include <stdbool.h>

#include "db/internal.h"
#include "ombud/sla.h"

/* The columns of the clock under table alias t ("k." or ""), each named
 * with prefix p ("fr_" or ""); t and p are string literals. Converted
 * instants carry their unit so ORDER BY next_alert_at still means the
 * indexed column. */
/* clang-format off */
#define OMBUD_DB_CLOCK_COLS(t, p)                                                                  \
    t "target AS " p "target, " t "cycle AS " p "cycle, " t "policy_id AS " p "policy_id, "       \
    t "calendar_id AS " p "calendar_id, " t "target_seconds AS " p "target_seconds, "             \
    t "elapsed_seconds AS " p "elapsed_seconds, "                                                  \
    "extract(epoch FROM " t "running_since)::bigint AS " p "running_since_s, "                     \
    "extract(epoch FROM " t "due_at)::bigint AS " p "due_at_s, "                                   \
    "extract(epoch FROM " t "met_at)::bigint AS " p "met_at_s, " t "breached AS " p "breached, "   \
    "extract(epoch FROM " t "breach_raised_at)::bigint AS " p "breach_raised_at_s, "               \
    t "warnings::text AS " p "warnings_json, "                                                     \
    "extract(epoch FROM " t "next_alert_at)::bigint AS " p "next_alert_at_s"
/* clang-format on */

/* Binds the clock columns named with prefix in res. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_clock_bind(struct ombud_db_colmap *map, const PGresult *res,
                                                  const char *prefix, struct ombud_err *err);
/* Reads the clock of row into out; *have false (out zeroed) when the row
 * holds none (an outer join found no clock). */
void ombud_db_clock_read(const struct ombud_db_colmap *map, int row, struct ombud_sla_clock *out,
                         bool *have);

/* Room for any ladder's text (OMBUD_SLA_MAX_WARNINGS warnings). */
#define OMBUD_DB_WARNINGS_BUFLEN 1024

/* The warning ladder as the warnings column stores it (JSON array text)
 * into buf; false when buf is too small. */
bool ombud_db_clock_warnings_text(const struct ombud_sla_clock *k, char *buf, size_t len);

/* A complaint's copy of a current clock (complaints.fr_clock and
 * rs_clock, migration 0018): one line of text, the fields in
 * OMBUD_DB_CLOCK_COLS's order, instants in epoch seconds (0: none),
 * breached 1 or 0, then the warnings JSON. Written by each statement that
 * writes the clock, read with the complaint instead of joining
 * sla_clocks. */
#define OMBUD_DB_CLOCK_COPY_BUFLEN (OMBUD_DB_WARNINGS_BUFLEN + 256)

/* k's line into buf; false when buf is too small. */
bool ombud_db_clock_copy_text(const struct ombud_sla_clock *k, char *buf, size_t len);
/* Reads a line (NULL: no clock) into k; *have false when there is none
 * or the line is not one (logged). */
void ombud_db_clock_copy_read(const char *v, struct ombud_sla_clock *k, bool *have);

#endif
