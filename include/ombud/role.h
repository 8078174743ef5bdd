/* Roles of API keys, each including the one before. Pure C. */
#ifndef OMBUD_ROLE_H
#define OMBUD_ROLE_H

#include <stdbool.h>

enum ombud_role {
    OMBUD_ROLE_NONE = 0, /* unauthenticated route */
    OMBUD_ROLE_SERVICE = 1,
    OMBUD_ROLE_AGENT = 2,
    OMBUD_ROLE_SUPERVISOR = 3,
    OMBUD_ROLE_ADMIN = 4,
};

/* NULL-terminated name lists: every key role, and the roles an agent may hold. */
extern const char *const ombud_key_role_names[];
extern const char *const ombud_agent_role_names[];

const char *ombud_role_name(enum ombud_role r);
/* Parses "service|agent|supervisor|admin"; false otherwise. */
bool ombud_role_parse(const char *s, enum ombud_role *out);

#endif
