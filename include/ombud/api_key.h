/* An API key as stored, without its secret (only a hash of that is kept).
 * Read by db/api_keys.c, rendered by repr/api_key.c. Pure C. */
#ifndef OMBUD_API_KEY_H
#define OMBUD_API_KEY_H

#include <stdint.h>

struct ombud_api_key {
    int64_t id;
    char name[404]; /* up to 100 characters of UTF-8 */
    char role[16];
    int64_t agent_id; /* 0: none */
    int64_t created_at;
    int64_t last_used_at; /* 0: never */
};

#endif
