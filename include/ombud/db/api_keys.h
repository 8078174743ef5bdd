/* API keys (src/db/api_keys.c). Secrets never reach the database, only
 * their hashes (ombud/keys.h). Records in ombud/api_key.h. */
#ifndef OMBUD_DB_API_KEYS_H
#define OMBUD_DB_API_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/api_key.h"
#include "ombud/db/pool.h"
#include "ombud/err.h"

/* Inserts a key (hash of the secret) and fills out. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_api_key_insert(struct ombud_db_conn *c, const char *name,
                                                      const char *role, int64_t agent_id,
                                                      const char *hash, struct ombud_api_key *out,
                                                      struct ombud_err *err);
/* Ensures hash names an active admin key (bootstrap). */
OMBUD_MUSTCHECK enum ombud_rc
ombud_db_api_key_ensure_admin(struct ombud_db_conn *c, const char *hash, struct ombud_err *err);
/* Finds the active key with this hash into out and notes its use; *found
 * false if none. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_api_key_authenticate(struct ombud_db_conn *c,
                                                            const char *hash,
                                                            struct ombud_api_key *out, bool *found,
                                                            struct ombud_err *err);
/* Notes a use of key id, at most once a minute (as authenticate does). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_api_key_touch(struct ombud_db_conn *c, int64_t id,
                                                     struct ombud_err *err);
/* Reads active key id into out; *found false when unknown or revoked. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_api_key_get(struct ombud_db_conn *c, int64_t id,
                                                   struct ombud_api_key *out, bool *found,
                                                   struct ombud_err *err);
/* Active keys with id < before_id (0: from the newest), newest first, at
 * most limit + 1 (the extra one tells whether more follow). *out is a new
 * array; the caller frees it. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_api_key_list(struct ombud_db_conn *c, int64_t before_id,
                                                    int limit, struct ombud_api_key **out,
                                                    size_t *n, struct ombud_err *err);
/* Revokes an active key; *found false when unknown or already revoked. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_api_key_revoke(struct ombud_db_conn *c, int64_t id,
                                                      bool *found, struct ombud_err *err);

#endif
