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
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ombud/db/pool.h"

#define OMBUD_DB_MAX_STMTS 512

struct ombud_db_stmt {
    const char *sql;
    atomic_int id; /* 0 until first use; then 1..OMBUD_DB_MAX_STMTS */
};

/* clang-format off */
#define OMBUD_STMT(text) {.sql = (text), .id = 0}
/* clang-format on */

/* Statements assembled at run time (ombud_db_exec_cached) that a
 * connection keeps prepared: at most this many, least recently used
 * replaced. */
#define OMBUD_DB_SQLCACHE_SIZE 32

struct ombud_db_sqlcache_entry {
    uint64_t hash; /* of sql */
    char *sql;     /* NULL: free slot */
    uint64_t used; /* tick of the last use */
    unsigned name; /* prepared as "r<name>" */
};

#define OMBUD_DB_MAX_HOOKS 8

struct ombud_db_conn {
    PGconn *pg;
    bool prepared[OMBUD_DB_MAX_STMTS + 1];
    bool broken; /* connection lost: drop it on release */
    struct ombud_db_sqlcache_entry sqlcache[OMBUD_DB_SQLCACHE_SIZE];
    uint64_t sqlcache_tick;
    unsigned sqlcache_names; /* names handed out on this connection */
    /* What the running transaction asked to run once it has committed
     * (ombud_db_after_commit); emptied when an attempt begins. */
    struct ombud_db_hook {
        ombud_db_commit_fn fn;
        int64_t arg;
    } hooks[OMBUD_DB_MAX_HOOKS];
    size_t nhooks;
    /* Round trips saved with libpq's pipeline mode (see ombud_db_exec_last):
     * the transaction runner's BEGIN waits to travel with the first
     * statement, and the last statement may carry the COMMIT. */
    bool begin_pending; /* BEGIN not sent yet: goes with the next statement */
    bool in_tx;         /* the runner opened a transaction on this checkout */
    bool committed;     /* ombud_db_exec_last sent the COMMIT */
    /* Whether a statement failing on a lost connection may run again on a
     * fresh one (see tx.c): only when nothing of the work can have been
     * applied. */
    bool work_sent;       /* a statement other than PREPARE went out on this checkout */
    bool first_trip_dead; /* the connection was found dead before any work went out,
                           * or on the trip carrying BEGIN without COMMIT */
};

/* Request deadlines (deadline.c; ombud_db_set_deadline): the calling
 * thread's deadline (monotonic µs, 0: none); a 503 in err once it has
 * passed (checked before each statement); and the connection a
 * deadline's watchdog may cancel, set at checkout and cleared first
 * thing at release. */
int64_t ombud_db_deadline(void);
int64_t ombud_db_mono_us(void);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_deadline_check(struct ombud_err *err);
void ombud_db_deadline_watch(struct ombud_db_conn *c);
void ombud_db_deadline_unwatch(struct ombud_db_conn *c);

/* Runs a prepared statement with text parameters (NULL entries are SQL
 * NULL). On OMBUD_OK *out holds the result (the caller PQclear()s it).
 * Otherwise *out is NULL, err says what went wrong (see ombud_db_fail),
 * and the code is OMBUD_RETRY for a serialization failure or deadlock:
 * callers return that code unchanged so ombud_tx_run can run again. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_exec(struct ombud_db_conn *c, struct ombud_db_stmt *s,
                                            int nparams, const char *const *params, PGresult **out,
                                            struct ombud_err *err);

/* Like ombud_db_exec for the last statement of a unit of work: it goes
 * in one round trip (libpq pipeline mode) with what is still pending (the
 * runner's BEGIN) and, inside ombud_tx_run, with the COMMIT. Outside a
 * transaction s is one implicit transaction of its own. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_exec_last(struct ombud_db_conn *c, struct ombud_db_stmt *s,
                                                 int nparams, const char *const *params,
                                                 PGresult **out, struct ombud_err *err);

/* Sends what is pending (BEGIN) and, when commit,
 * the COMMIT, in one round trip; for the runners. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_flush(struct ombud_db_conn *c, bool commit,
                                             struct ombud_err *err);

/* Runs SQL assembled at run time from fixed fragments (never from user
 * text, which goes only into params), unprepared. Same contract. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_exec_sql(struct ombud_db_conn *c, const char *sql,
                                                int nparams, const char *const *params,
                                                PGresult **out, struct ombud_err *err);

/* Like ombud_db_exec_sql, but the statement stays prepared on the
 * connection, keyed by its text (bounded, least recently used replaced,
 * forgotten on reconnect): for SQL assembled from fixed fragments in a
 * few shapes (the complaint list), which would otherwise be parsed and
 * planned on every request. PostgreSQL's plan cache then decides between
 * custom and generic plans as for any prepared statement. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_exec_cached(struct ombud_db_conn *c, const char *sql,
                                                   int nparams, const char *const *params,
                                                   PGresult **out, struct ombud_err *err);

/* Room for any int64_t in decimal, sign and NUL included. */
#define OMBUD_DB_I64_BUFLEN 24

/* Formats v as the decimal text of a statement parameter (all parameters
 * travel as text, cast in the SQL) into buf of len bytes. */
static inline void ombud_db_param_i64(char *buf, size_t len, int64_t v)
{
    snprintf(buf, len, "%lld", (long long)v);
}

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

/* Single values by position, for statements yielding a few scalars
 * rather than a record (flags, a count, a new id); records are read by
 * name below. Copy out before PQclear. */
int64_t ombud_db_int(const PGresult *r, int row, int col); /* 0 for NULL */
bool ombud_db_bool(const PGresult *r, int row, int col);
void ombud_db_text(const PGresult *r, int row, int col, char *out, size_t len);

/* ---- reading rows by column name (src/db/row.c) ----
 *
 * A record's columns are declared once, as a table of {SQL name, kind,
 * place in the record}, and every statement that yields such a record
 * names its columns with those aliases; the reader finds them with
 * PQfnumber once per result, so reordering or adding columns in the SQL
 * cannot shift a value into the wrong field:
 *
 *   static const struct ombud_db_col alert_cols[] = {
 *       OMBUD_COL_I64(struct ombud_alert, id, "id"),
 *       OMBUD_COL_TEXT(struct ombud_alert, kind, "kind"),
 *       OMBUD_COL_USEC(struct ombud_alert, created_at, "created_at_us"), OMBUD_COL_END};
 *
 * Aliases of converted timestamps carry their unit (created_at_us,
 * due_at_s) rather than the column's own name: ORDER BY resolves a bare
 * name to an output column first, and an alias shadowing the real column
 * would sort by the expression instead of using the column's index.
 * The macros check the field's C type at compile time (_Generic). */

enum ombud_db_col_kind {
    OMBUD_DB_COL_I64,  /* int64_t; 0 for NULL */
    OMBUD_DB_COL_INT,  /* int; 0 for NULL */
    OMBUD_DB_COL_BOOL, /* bool; false for NULL */
    OMBUD_DB_COL_TEXT, /* char[size], truncated; "" for NULL */
    OMBUD_DB_COL_STR,  /* char *, a new heap copy; NULL for NULL */
    OMBUD_DB_COL_FN,   /* fn(value or NULL, record): anything else */
    OMBUD_DB_COL_TSTZ, /* int64_t microseconds since the epoch from a timestamptz; 0 for NULL */
};

struct ombud_db_col {
    const char *name; /* the column's name in the result; NULL ends a table */
    enum ombud_db_col_kind kind;
    size_t offset, size;
    void (*fn)(const char *value, void *rec);
};

/* Initializers and _Generic selections: kept as written. */
/* clang-format off */
#define OMBUD_COL_TYPED_(type, field, name, kind, ctype)                                           \
    {(name), (kind), _Generic(((type *)0)->field, ctype: offsetof(type, field)),                   \
     sizeof(((type *)0)->field), NULL}
#define OMBUD_COL_I64(type, field, name)                                                           \
    OMBUD_COL_TYPED_(type, field, name, OMBUD_DB_COL_I64, int64_t)
#define OMBUD_COL_INT(type, field, name) OMBUD_COL_TYPED_(type, field, name, OMBUD_DB_COL_INT, int)
#define OMBUD_COL_BOOL(type, field, name)                                                          \
    OMBUD_COL_TYPED_(type, field, name, OMBUD_DB_COL_BOOL, bool)
/* Instants: the SQL converts (ombud_usec(x) AS x_us, extract(epoch FROM x)::bigint AS x_s); the
 * macro names the unit the field holds. */
#define OMBUD_COL_USEC(type, field, name) OMBUD_COL_I64(type, field, name)
/* A timestamptz column as PostgreSQL writes it (the pool's sessions run
 * with DateStyle ISO and TimeZone UTC), read into microseconds: cheaper
 * for the server than converting in SQL, where extract() is numeric. */
#define OMBUD_COL_TSTZ(type, field, name)                                                          \
    OMBUD_COL_TYPED_(type, field, name, OMBUD_DB_COL_TSTZ, int64_t)
#define OMBUD_COL_EPOCH(type, field, name) OMBUD_COL_I64(type, field, name)
/* A char array: a char * field selects (void *)0, which no size_t takes. */
#define OMBUD_COL_TEXT(type, field, name)                                                          \
    {(name), OMBUD_DB_COL_TEXT,                                                                    \
     _Generic(&((type *)0)->field, char **: (void *)0, default: offsetof(type, field)),           \
     sizeof(((type *)0)->field), NULL}
/* A heap string (char *). */
#define OMBUD_COL_STR(type, field, name)                                                           \
    {(name), OMBUD_DB_COL_STR, _Generic(&((type *)0)->field, char **: offsetof(type, field)),      \
     sizeof(char *), NULL}
#define OMBUD_COL_FN(name, fn) {(name), OMBUD_DB_COL_FN, 0, 0, (fn)}
#define OMBUD_COL_END {NULL, OMBUD_DB_COL_I64, 0, 0, NULL}
/* clang-format on */

/* PostgreSQL's ISO text of a timestamptz ("2026-12-01 09:30:00.25+00",
 * any offset, years of four or more digits) as microseconds since the
 * epoch; false for anything else ("infinity", BC dates). */
bool ombud_db_tstz_usec(const char *v, int64_t *out);

#define OMBUD_DB_MAX_COLS 48

/* A column table bound to one result: where each of its columns is. */
struct ombud_db_colmap {
    const PGresult *res;
    const struct ombud_db_col *cols;
    int index[OMBUD_DB_MAX_COLS];
};

/* Finds every column of cols in res by name. A column missing from the
 * result is a bug in our SQL: an internal error naming it. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_colmap_bind(struct ombud_db_colmap *map, const PGresult *res,
                                                   const struct ombud_db_col *cols,
                                                   struct ombud_err *err);
/* The same for columns named prefix + name (two records of one kind in
 * one row, e.g. a complaint's clocks as fr_… and rs_…). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_colmap_bind_prefix(struct ombud_db_colmap *map,
                                                          const PGresult *res,
                                                          const struct ombud_db_col *cols,
                                                          const char *prefix,
                                                          struct ombud_err *err);
/* Reads row into the record out (fields not in the table are untouched;
 * STR fields receive heap copies the record's owner frees). */
void ombud_db_read_row(const struct ombud_db_colmap *map, int row, void *out);
/* Reads every row of res (then cleared) into a new zeroed array of
 * elem-sized records; the caller frees *out (and the records' strings). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_read_rows(PGresult *res, const struct ombud_db_col *cols,
                                                 size_t elem, void **out, size_t *n,
                                                 struct ombud_err *err);

/* ---- the shared get, list and delete paths (src/db/row.c) ----
 *
 * Every resource reads one record by id, lists a page of records keyed
 * by id and deletes an unused record the same way; only the statement
 * and the column table differ. Absence is *found = false, never an
 * error (see ombud/db/pool.h). */

/* Reads the row of res (then cleared), if it has one, into out: *found
 * false when it has none (out untouched). For statements yielding at
 * most one record (by key, RETURNING). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_read_one(PGresult *res, const struct ombud_db_col *cols,
                                                void *out, bool *found, struct ombud_err *err);

/* Runs s, whose only parameter is the record's id ($1::bigint), and
 * reads the record into out as ombud_db_read_one does. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_get_by_id(struct ombud_db_conn *c, struct ombud_db_stmt *s,
                                                 int64_t id, const struct ombud_db_col *cols,
                                                 void *out, bool *found, struct ombud_err *err);

/* Runs s for one page of a list keyed by id: $1 is cursor_id (the last id
 * seen, compared with > or < by s itself; 0 from the start), $2 is
 * limit + 1 (the extra row tells the caller whether more follow), $3…
 * are the nextra parameters in extra. *out is set to a new zeroed array
 * of elem-sized records read by cols (the caller frees it, and what its
 * records own); what *out held before is not freed. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_list_page(struct ombud_db_conn *c, struct ombud_db_stmt *s,
                                                 int64_t cursor_id, int limit, int nextra,
                                                 const char *const *extra,
                                                 const struct ombud_db_col *cols, size_t elem,
                                                 void **out, size_t *n, struct ombud_err *err);

/* Deletes record id unless something refers to it. in_use takes the id
 * as $1::bigint and yields one boolean row for an existing record (lock
 * it FOR UPDATE), none for an unknown one; del takes the id as $1. *found
 * false when unknown, *used when referred to; nothing deleted then. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_delete_unused(struct ombud_db_conn *c,
                                                     struct ombud_db_stmt *in_use,
                                                     struct ombud_db_stmt *del, int64_t id,
                                                     bool *found, bool *used,
                                                     struct ombud_err *err);

/* The columns of a timeline event (db/complaints.c) and of an alert
 * (db/alerts.c), for statements that read them beside other records
 * (db/changes.c, with a prefix). */
extern const struct ombud_db_col ombud_db_event_cols[];
extern const struct ombud_db_col ombud_db_alert_cols[];

/* Opens a connection with Ombud's session settings. NULL when it fails.
 * _as names it app_name (application_name) instead of "ombud". */
PGconn *ombud_db_connect(const char *url, unsigned statement_timeout_ms, char *errbuf,
                         size_t errlen);
PGconn *ombud_db_connect_as(const char *url, unsigned statement_timeout_ms, const char *app_name,
                            char *errbuf, size_t errlen);

#endif
