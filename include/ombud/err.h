/*
 * Errors: every fallible function returns enum ombud_rc and fills one
 * struct ombud_err, which the HTTP layer turns into an RFC 9457 problem.
 * Validation appends one entry per bad field so a client learns about all
 * of them in one answer. Pure C, no I/O.
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

#define OMBUD_ERR_MAX_FIELDS 32

struct ombud_field_error {
    char field[64];
    char message[160];
};

struct ombud_err {
    int status;       /* HTTP status; 0 while no error is set */
    char type[48];    /* short slug, e.g. "validation-failed" */
    char title[96];   /* short, stable summary for the status */
    char detail[512]; /* this occurrence */
    size_t nfields;
    struct ombud_field_error fields[OMBUD_ERR_MAX_FIELDS];
    char allowed[256]; /* 409: the actions allowed now, comma-separated */
};

/* Resets err to "no error". */
void ombud_err_clear(struct ombud_err *err);

/* Sets status, slug and title, and formats detail. Returns OMBUD_ERROR so a
 * caller can write `return ombud_err_set(...)`. */
enum ombud_rc ombud_err_set(struct ombud_err *err, int status, const char *type, const char *title,
                            const char *fmt, ...) OMBUD_PRINTF(5, 6);

/* Appends a field error (silently dropped past OMBUD_ERR_MAX_FIELDS). */
void ombud_err_field(struct ombud_err *err, const char *field, const char *fmt, ...)
    OMBUD_PRINTF(3, 4);

/* Turns collected field errors into a 422 validation problem. Returns
 * OMBUD_OK when no field error was collected. */
enum ombud_rc ombud_err_finish_validation(struct ombud_err *err);

/* Standard problems. */
enum ombud_rc ombud_err_internal(struct ombud_err *err, const char *detail);
enum ombud_rc ombud_err_unavailable(struct ombud_err *err, const char *detail);
enum ombud_rc ombud_err_not_found(struct ombud_err *err, const char *what);

#endif
