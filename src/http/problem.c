/*
 * How HTTP says what went wrong. DESIGN: the rest of Ombud reports an
 * error as a kind (include/ombud/err.h); this table alone turns a kind
 * into a status code and a problem title, so src/db, src/domain and the
 * worker never hold an HTTP status. The problem body itself is a
 * representation (src/repr/problem.c) and receives status and title from
 * here.
 *
 * A handler that knows what a database constraint means for its resource
 * says so with a {constraint, field, message} table applied by
 * ombud_problem_explain. The match is on the constraint's name, never on
 * the status: a deadlock or any other conflict can not be mistaken for
 * "a team with this name exists".
 */
#include <stdio.h>
#include <string.h>

#include "http/problem.h"

static const struct {
    int status;
    const char *title;
} kinds[OMBUD_E_KIND_COUNT] = {
    /* A reply for an error nobody set is our bug: a 500 that says no more. */
    [OMBUD_E_NONE] = {500, NULL},
    [OMBUD_E_INVALID] = {422, "Validation failed"},
    [OMBUD_E_BAD_REQUEST] = {400, "Bad request"},
    [OMBUD_E_UNAUTHORIZED] = {401, "Unauthorized"},
    [OMBUD_E_FORBIDDEN] = {403, "Forbidden"},
    [OMBUD_E_NOT_FOUND] = {404, "Not found"},
    [OMBUD_E_METHOD_NOT_ALLOWED] = {405, "Method not allowed"},
    [OMBUD_E_DUPLICATE] = {409, "Conflict"},
    [OMBUD_E_CONFLICT] = {409, "Conflict"},
    [OMBUD_E_STALE] = {412, "Precondition failed"},
    [OMBUD_E_TOO_LARGE] = {413, "Payload too large"},
    [OMBUD_E_UNSUPPORTED_MEDIA] = {415, "Unsupported media type"},
    [OMBUD_E_RATE_LIMITED] = {429, "Too many requests"},
    [OMBUD_E_UNAVAILABLE] = {503, "Service unavailable"},
    [OMBUD_E_INTERNAL] = {500, "Internal server error"},
    /* Start-up errors never reach a client; should one, it is ours. */
    [OMBUD_E_CONFIG] = {500, "Internal server error"},
};

int ombud_problem_status(enum ombud_err_kind kind)
{
    return (unsigned)kind < OMBUD_E_KIND_COUNT ? kinds[kind].status : 500;
}

const char *ombud_problem_title(enum ombud_err_kind kind)
{
    return (unsigned)kind < OMBUD_E_KIND_COUNT ? kinds[kind].title : NULL;
}

const struct ombud_constraint_msg *ombud_problem_explain(struct ombud_err *err,
                                                         const struct ombud_constraint_msg *msgs,
                                                         const char *value)
{
    if ((err->kind != OMBUD_E_DUPLICATE && err->kind != OMBUD_E_INVALID) || !err->constraint[0])
        return NULL;
    for (const struct ombud_constraint_msg *m = msgs; m->constraint; m++) {
        if (strcmp(m->constraint, err->constraint) != 0)
            continue;
        /* The message may name the offending value once, as "%s". */
        char text[sizeof err->detail];
        const char *at = value ? strstr(m->message, "%s") : NULL;
        if (at)
            snprintf(text, sizeof text, "%.*s%s%s", (int)(at - m->message), m->message, value,
                     at + 2);
        else
            snprintf(text, sizeof text, "%s", m->message);
        char type[sizeof err->type], name[sizeof err->constraint];
        snprintf(type, sizeof type, "%s", err->type);
        snprintf(name, sizeof name, "%s", err->constraint);
        if (err->kind == OMBUD_E_DUPLICATE) {
            /* A 409 body carries no field list: the message is the detail. */
            (void)ombud_err_set(err, OMBUD_E_DUPLICATE, type, "%s", text);
        } else {
            ombud_err_field(err, m->field, "%s", text);
            (void)ombud_err_finish_validation(err);
        }
        ombud_err_constraint(err, name);
        return m;
    }
    return NULL;
}
