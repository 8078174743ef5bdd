/*
 * API keys as requests see them: authentication through a per-process
 * cache, and the writes that change what a key may do (revocation),
 * which invalidate that cache in every process (ombud/service/inval.h,
 * topic OMBUD_INVAL_KEYS).
 *
 * It lives in the service layer because it needs both the database
 * (filling, noting use) and the invalidation rule (service); the HTTP
 * layer only asks who a key is, and the domain stays pure.
 */
#ifndef OMBUD_SERVICE_API_KEYS_H
#define OMBUD_SERVICE_API_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "ombud/db/pool.h"
#include "ombud/err.h"
#include "ombud/role.h"

/* Who a key is, as far as authorization goes. */
struct ombud_svc_key {
    int64_t id;
    int64_t agent_id; /* 0: none */
    enum ombud_role role;
};

/* The active key whose secret hashes to hash (ombud/keys.h, hex), into
 * out; *found false when unknown or revoked. Answered from the cache
 * when it may be (no statement at all, but a once-a-minute note of the
 * key's use), else by one statement on pool, whose answer is cached. */
OMBUD_MUSTCHECK enum ombud_rc ombud_svc_key_authenticate(struct ombud_db_pool *pool,
                                                         const char *hash,
                                                         struct ombud_svc_key *out, bool *found,
                                                         struct ombud_err *err);

/* The key whose secret hashes to hash, from the cache alone, when that
 * answer needs no statement at all (found, live, its use noted lately):
 * true with out filled. False means "ask ombud_svc_key_authenticate",
 * which may block on the database; nothing is claimed or changed here. */
bool ombud_svc_key_peek(const char *hash, struct ombud_svc_key *out);

/* Revokes active key id inside the caller's transaction on c and
 * publishes the change: every process stops accepting the key once the
 * transaction commits. *found false when unknown or already revoked. */
OMBUD_MUSTCHECK enum ombud_rc ombud_svc_key_revoke(struct ombud_db_conn *c, int64_t id, bool *found,
                                                   struct ombud_err *err);

/* Ensures hash names an active admin key (the bootstrap key; it may have
 * been revoked or demoted) and publishes that as revoke does. */
OMBUD_MUSTCHECK enum ombud_rc ombud_svc_key_ensure_admin(struct ombud_db_conn *c, const char *hash,
                                                         struct ombud_err *err);

#endif
