/*
 * The transition table. One row per action: the states it is allowed
 * from (a bit set) and the state it leads to. Everything else about the
 * life cycle asks this table, so the rules live in exactly one place.
 */
#include "ombud/lifecycle.h"

#include <stdio.h>
#include <string.h>

const char *const ombud_status_names[] = {"new",      "acknowledged", "in_progress",
                                          "pending_customer", "resolved", "closed", NULL};
const char *const ombud_action_names[] = {"acknowledge", "start", "pend",    "resume",
                                          "resolve",     "close", "reopen", "withdraw", NULL};

#define B(s) (1u << (s))
#define OPEN (B(OMBUD_ST_NEW) | B(OMBUD_ST_ACKNOWLEDGED) | B(OMBUD_ST_IN_PROGRESS) | \
              B(OMBUD_ST_PENDING_CUSTOMER))

static const struct {
    unsigned from;
    enum ombud_status to;
} table[OMBUD_ACT_COUNT] = {
    [OMBUD_ACT_ACKNOWLEDGE] = {B(OMBUD_ST_NEW), OMBUD_ST_ACKNOWLEDGED},
    [OMBUD_ACT_START] = {B(OMBUD_ST_NEW) | B(OMBUD_ST_ACKNOWLEDGED), OMBUD_ST_IN_PROGRESS},
    [OMBUD_ACT_PEND] = {B(OMBUD_ST_ACKNOWLEDGED) | B(OMBUD_ST_IN_PROGRESS),
                        OMBUD_ST_PENDING_CUSTOMER},
    [OMBUD_ACT_RESUME] = {B(OMBUD_ST_PENDING_CUSTOMER), OMBUD_ST_IN_PROGRESS},
    [OMBUD_ACT_RESOLVE] = {B(OMBUD_ST_ACKNOWLEDGED) | B(OMBUD_ST_IN_PROGRESS) |
                               B(OMBUD_ST_PENDING_CUSTOMER),
                           OMBUD_ST_RESOLVED},
    [OMBUD_ACT_CLOSE] = {B(OMBUD_ST_RESOLVED), OMBUD_ST_CLOSED},
    [OMBUD_ACT_REOPEN] = {B(OMBUD_ST_RESOLVED) | B(OMBUD_ST_CLOSED), OMBUD_ST_IN_PROGRESS},
    [OMBUD_ACT_WITHDRAW] = {OPEN, OMBUD_ST_CLOSED},
};

const char *ombud_status_name(enum ombud_status s)
{
    return (unsigned)s < OMBUD_ST_COUNT ? ombud_status_names[s] : "unknown";
}

bool ombud_status_parse(const char *s, enum ombud_status *out)
{
    for (unsigned i = 0; s && i < OMBUD_ST_COUNT; i++)
        if (strcmp(s, ombud_status_names[i]) == 0) {
            *out = (enum ombud_status)i;
            return true;
        }
    return false;
}

const char *ombud_action_name(enum ombud_action a)
{
    return (unsigned)a < OMBUD_ACT_COUNT ? ombud_action_names[a] : "unknown";
}

bool ombud_action_parse(const char *s, enum ombud_action *out)
{
    for (unsigned i = 0; s && i < OMBUD_ACT_COUNT; i++)
        if (strcmp(s, ombud_action_names[i]) == 0) {
            *out = (enum ombud_action)i;
            return true;
        }
    return false;
}

bool ombud_lifecycle_next(enum ombud_status from, enum ombud_action action,
                          enum ombud_status *to)
{
    if ((unsigned)from >= OMBUD_ST_COUNT || (unsigned)action >= OMBUD_ACT_COUNT)
        return false;
    if (!(table[action].from & B(from)))
        return false;
    *to = table[action].to;
    return true;
}

void ombud_lifecycle_allowed(enum ombud_status from, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (unsigned a = 0; a < OMBUD_ACT_COUNT; a++) {
        enum ombud_status to;
        if (!ombud_lifecycle_next(from, (enum ombud_action)a, &to))
            continue;
        int w = snprintf(out + used, len - used, "%s%s", used ? "," : "", ombud_action_names[a]);
        if (w < 0 || (size_t)w >= len - used)
            return;
        used += (size_t)w;
    }
}

bool ombud_status_is_open(enum ombud_status s)
{
    return (OPEN & B(s)) != 0;
}

bool ombud_action_meets_first_response(enum ombud_action a)
{
    return a == OMBUD_ACT_ACKNOWLEDGE || a == OMBUD_ACT_START || a == OMBUD_ACT_RESOLVE;
}
