/* Teams and agents as stored: who complaints are assigned and escalated
 * to. Read by db/teams.c, rendered by repr/team.c. Pure C. */
#ifndef OMBUD_TEAM_H
#define OMBUD_TEAM_H

#include <stdbool.h>
#include <stdint.h>

struct ombud_team {
    int64_t id;
    char name[404];
    int64_t escalation_team_id; /* 0: none */
    char assignment[16];
    int64_t created_at, updated_at;
};

struct ombud_agent {
    int64_t id;
    char name[804];
    char email[1284]; /* up to 320 characters of UTF-8; "" when none */
    int64_t team_id;  /* 0: none */
    char role[16];
    bool active;
    int64_t created_at, updated_at;
};

#endif
