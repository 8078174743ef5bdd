/*
 * How HTTP reports an error kind (problem.c), private to src/http: the
 * status and title of each kind, and the tables through which a resource
 * explains which of its constraints a request broke.
 */
#ifndef OMBUD_HTTP_PROBLEM_H
#define OMBUD_HTTP_PROBLEM_H

#include "ombud/err.h"

/* The status code and problem title of a kind (title NULL for none). */
int ombud_problem_status(enum ombud_err_kind kind);
const char *ombud_problem_title(enum ombud_err_kind kind);

/* What a database constraint means for one resource. */
struct ombud_constraint_msg {
    const char *constraint; /* e.g. "teams_name_key" */
    const char *field;      /* the request field it judges */
    const char *message;    /* for the client; may name the value once as "%s" */
};

/* When err is a duplicate or invalid value caught by a constraint listed
 * in msgs (ended by a {NULL} entry), explains it: a duplicate's detail
 * becomes the message; an invalid value gets a field error. value fills
 * the message's "%s" (may be NULL). Other errors are left alone. Returns
 * the entry used, or NULL. */
const struct ombud_constraint_msg *ombud_problem_explain(struct ombud_err *err,
                                                         const struct ombud_constraint_msg *msgs,
                                                         const char *value);

#endif
