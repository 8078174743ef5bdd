/* Role names; see include/ombud/role.h. */
#include "ombud/role.h"

#include <string.h>

static const char *const names[] = {"none", "service", "agent", "supervisor", "admin"};

const char *const ombud_key_role_names[] = {"service", "agent", "supervisor", "admin", NULL};
const char *const ombud_agent_role_names[] = {"agent", "supervisor", "admin", NULL};

const char *ombud_role_name(enum ombud_role r)
{
    if ((unsigned)r >= sizeof names / sizeof names[0])
        return "none";
    return names[r];
}

bool ombud_role_parse(const char *s, enum ombud_role *out)
{
    for (unsigned i = OMBUD_ROLE_SERVICE; i <= OMBUD_ROLE_ADMIN; i++) {
        if (s && strcmp(s, names[i]) == 0) {
            *out = (enum ombud_role)i;
            return true;
        }
    }
    return false;
}
