/*
 * The complaint life cycle as one transition table (API.md "Life cycle").
 * Pure C: which action is allowed in which state, and where it leads.
 * Preconditions that depend on the request (a resolution summary, the
 * customer's agreement, a note) are checked by the handler.
 */
#ifndef OMBUD_LIFECYCLE_H
#define OMBUD_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>

enum ombud_status {
    OMBUD_ST_NEW,
    OMBUD_ST_ACKNOWLEDGED,
    OMBUD_ST_IN_PROGRESS,
    OMBUD_ST_PENDING_CUSTOMER,
    OMBUD_ST_RESOLVED,
    OMBUD_ST_CLOSED,
    OMBUD_ST_COUNT,
};

enum ombud_action {
    OMBUD_ACT_ACKNOWLEDGE,
    OMBUD_ACT_START,
    OMBUD_ACT_PEND,
    OMBUD_ACT_RESUME,
    OMBUD_ACT_RESOLVE,
    OMBUD_ACT_CLOSE,
    OMBUD_ACT_REOPEN,
    OMBUD_ACT_WITHDRAW,
    OMBUD_ACT_COUNT,
};

const char *ombud_status_name(enum ombud_status s);
bool ombud_status_parse(const char *s, enum ombud_status *out);
const char *ombud_action_name(enum ombud_action a);
bool ombud_action_parse(const char *s, enum ombud_action *out);
/* NULL-terminated name lists, for validation messages and enum specs. */
extern const char *const ombud_status_names[];
extern const char *const ombud_action_names[];

/* Whether action is allowed from state; *to receives the new state. */
bool ombud_lifecycle_next(enum ombud_status from, enum ombud_action action,
                          enum ombud_status *to);
/* Writes the actions allowed from state, comma-separated, into out. */
void ombud_lifecycle_allowed(enum ombud_status from, char *out, size_t len);
/* Open: not resolved and not closed (SLA clocks may run). */
bool ombud_status_is_open(enum ombud_status s);
/* Whether the action meets the first-response target. */
bool ombud_action_meets_first_response(enum ombud_action a);

#endif
