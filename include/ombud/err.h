/*
 * Errors: every fallible function returns enum ombud_rc and fills one
 * struct ombud_err saying what went wrong (its kind), not how a protocol
 * reports it: only src/http maps a kind to an HTTP status and title
 * (http/problem.c). Validation appends one entry per bad field so a
 * client learns about all of them in one answer. Pure C, no I/O.
 *
 * Whether to run a transaction again is told by the return code alone
 * (OMBUD_RETRY), never by the error's contents, so a caller that explains
 * an error differently cannot turn a retryable failure into a final one.
 */
#ifndef OMBUD_ERR_H
#define OMBUD_ERR_H

#include <stddef.h>

#define OMBUD_MUSTCHECK __attribute__((warn_unused_result))
#define OMBUD_PRINTF(a, b) __attribute__((format(printf, a, b)))

enum ombud_rc {
    OMBUD_OK = 0,
    OMBUD_ERROR = -1, /* details in struct ombud_err */
    OMBUD_RETRY = -2, /* serialization failure or deadlock: run the transaction again */
};

/* What went wrong. Each kind has a default problem type slug (below) and
 * one HTTP status in http/problem.c. */
enum ombud_err_kind {
    OMBUD_E_NONE = 0,           /* no error set */
    OMBUD_E_INVALID,            /* input breaks a rule: field errors, check violations */
    OMBUD_E_BAD_REQUEST,        /* the request itself is malformed (not JSON, bad UTF-8) */
    OMBUD_E_UNAUTHORIZED,       /* no or unknown credentials */
    OMBUD_E_FORBIDDEN,          /* known caller, not allowed to do this */
    OMBUD_E_NOT_FOUND,          /* no such resource */
    OMBUD_E_METHOD_NOT_ALLOWED, /* the resource exists, the method does not apply */
    OMBUD_E_DUPLICATE,          /* unique violation: constraint names it */
    OMBUD_E_CONFLICT,           /* the resource's state forbids this now */
    OMBUD_E_STALE,              /* the caller's version (If-Match) is not the current one */
    OMBUD_E_TOO_LARGE,          /* the request body is over the limit */
    OMBUD_E_UNSUPPORTED_MEDIA,  /* the request body is not in a type we read */
    OMBUD_E_RATE_LIMITED,       /* the caller's key is over its request rate */
    OMBUD_E_UNAVAILABLE,        /* a dependency (the database) is down or saturated */
    OMBUD_E_INTERNAL,           /* our bug or resource exhaustion */
    OMBUD_E_CONFIG,             /* start-up: configuration or environment unusable */
    OMBUD_E_KIND_COUNT
};

#define OMBUD_ERR_MAX_FIELDS 32

struct ombud_field_error {
    char field[64];
    char message[160];
};

struct ombud_err {
    enum ombud_err_kind kind; /* OMBUD_E_NONE while no error is set */
    char type[48];            /* slug for this occurrence, e.g. "transition-not-allowed" */
    char constraint[64];      /* OMBUD_E_DUPLICATE/INVALID from the database: its name */
    char detail[512];         /* this occurrence */
    size_t nfields;
    struct ombud_field_error fields[OMBUD_ERR_MAX_FIELDS];
    char allowed[256]; /* conflicts: the actions allowed now, comma-separated */
};

/* Resets err to "no error". */
void ombud_err_clear(struct ombud_err *err);

/* Sets the kind and slug (NULL: the kind's default, see
 * ombud_err_default_type) and formats detail; clears constraint. Keeps
 * collected field errors. Returns OMBUD_ERROR so a caller can write
 * `return ombud_err_set(...)`. */
enum ombud_rc ombud_err_set(struct ombud_err *err, enum ombud_err_kind kind, const char *type,
                            const char *fmt, ...) OMBUD_PRINTF(4, 5);

/* Records the violated constraint's name (database errors). */
void ombud_err_constraint(struct ombud_err *err, const char *name);

/* The slug a kind reports when none is given ("not-found", "conflict"). */
const char *ombud_err_default_type(enum ombud_err_kind kind);

/* Appends a field error (silently dropped past OMBUD_ERR_MAX_FIELDS). */
void ombud_err_field(struct ombud_err *err, const char *field, const char *fmt, ...)
    OMBUD_PRINTF(3, 4);

/* Turns collected field errors into an OMBUD_E_INVALID error. Returns
 * OMBUD_OK when no field error was collected. */
enum ombud_rc ombud_err_finish_validation(struct ombud_err *err);

/* Standard errors. */
enum ombud_rc ombud_err_internal(struct ombud_err *err, const char *detail);
enum ombud_rc ombud_err_unavailable(struct ombud_err *err, const char *detail);
enum ombud_rc ombud_err_not_found(struct ombud_err *err, const char *what);

#endif
