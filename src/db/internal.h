/*
 * Private to src/db: the connection struct and the prepared-statement
 * helper. A statement is declared once, beside the code that binds it:
 *
 *   static struct ombud_db_stmt q_get = OMBUD_STMT("SELECT … WHERE id = $1::bigint");
 *
 * and prepared lazily on each connection the first time it is used there.
 */
#ifndef OMBUD_DB_INTERNAL_H
#define OMBUD_DB_INTERNAL_H

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include "ombud/db.h"

#define OMBUD_DB_MAX_STMTS 512

struct ombud_db_stmt {
    const char *sql;
    atomic_int id; /* 0 until first use; then 1..OMBUD_DB_MAX_STMTS */
};

#define OMBUD_STMT(text) {.sql = (text), .id = 0}

struct ombud_db_conn {
    PGconn *pg;
    bool prepared[OMBUD_DB_MAX_STMTS + 1];
    bool broken; /* connection lost: drop it on release */
};

/* Runs a prepared statement with text parameters (NULL entries are SQL
 * NULL). On OMBUD_OK *out holds the result (the caller PQclear()s it).
 * Otherwise *out is NULL, err says what went wrong (see ombud_db_fail),
 * and the code is OMBUD_RETRY for a serialization failure or deadlock:
 * callers return that code unchanged so ombud_tx_run can run again. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_exec(struct ombud_db_conn *c, struct ombud_db_stmt *s,
                                            int nparams, const char *const *params,
                                            PGresult **out, struct ombud_err *err);

/* Runs SQL assembled at run time from fixed fragments (never from user
 * text, which goes only into params), unprepared. Same contract. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_exec_sql(struct ombud_db_conn *c, const char *sql,
                                                int nparams, const char *const *params,
                                                PGresult **out, struct ombud_err *err);

/* Reads every row of r (then cleared) into a new array of elem-sized
 * records with read(r, row, record); the caller frees *out. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_rows(PGresult *r, size_t elem,
                                            void (*read)(const PGresult *, int, void *),
                                            void **out, size_t *n, struct ombud_err *err);

/* Writes v as a decimal text parameter into buf (>= 24 bytes). */
static inline void i64s(char *buf, size_t len, int64_t v)
{
    snprintf(buf, len, "%lld", (long long)v);
}

/* Copies a text column to a new heap string; NULL for SQL NULL. */
char *ombud_db_strdup(const PGresult *r, int row, int col);

/* Runs a one-off statement without parameters (BEGIN, COMMIT) and
 * discards its result. Same codes as ombud_db_exec. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_simple(struct ombud_db_conn *c, const char *sql,
                                              struct ombud_err *err);

/* Ends a failed transaction. A failure here changes nothing for the
 * caller, whose err keeps the first failure; a connection left inside a
 * transaction is rolled back again or dropped at release. */
void ombud_db_rollback(struct ombud_db_conn *c);

/* Maps a failed result (cleared here) to err by SQLSTATE: lost
 * connection, timeout or overload -> OMBUD_E_UNAVAILABLE; 23505 ->
 * OMBUD_E_DUPLICATE and other 23xxx -> OMBUD_E_INVALID, both naming the
 * constraint; 40001/40P01 -> OMBUD_E_CONFLICT "concurrent-update" (what a
 * client sees once retries run out) and OMBUD_RETRY; anything else ->
 * OMBUD_E_INTERNAL. Returns OMBUD_RETRY or OMBUD_ERROR. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_fail(struct ombud_db_conn *c, PGresult *res,
                                            struct ombud_err *err);

/* Column helpers: copy out before PQclear. */
int64_t ombud_db_int(const PGresult *r, int row, int col);  /* 0 for NULL */
bool ombud_db_bool(const PGresult *r, int row, int col);
void ombud_db_text(const PGresult *r, int row, int col, char *out, size_t len);

/* Opens a connection with Ombud's session settings. NULL when it fails. */
PGconn *ombud_db_connect(const char *url, unsigned statement_timeout_ms, char *errbuf,
                         size_t errlen);

#endif
