/*
 * API-key authentication and role checks. DESIGN: a key is sent as
 * Authorization: Bearer <key>; only its hash is stored, so the lookup
 * hashes the presented key and asks the service for the unrevoked key
 * with that hash (a per-process cache, else one short query;
 * service/api_keys.c), before any body is read. The key's role must reach
 * the route's min_role (routes.c); roles are ordered, so that is one
 * comparison. Keys are never logged. A known key then takes a token from
 * its rate-limit bucket (ratelimit.c) before anything else is decided, so
 * a key over its rate gets 429 whatever it asked for.
 */
#include "http/auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/query.h"
#include "http/ratelimit.h"
#include "http/reply.h"
#include "ombud/keys.h"
#include "ombud/service/api_keys.h"

/* The hash of the presented key into hash; false when req has been
 * answered 401 (no, malformed or overlong key). */
static bool presented_hash(struct ombud_req *req, char hash[OMBUD_HASH_BUFLEN])
{
    const char *h = ombud_req_header(req, "Authorization");

    if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
        ombud_reply_error(req, OMBUD_E_UNAUTHORIZED,
                          "send an API key as Authorization: Bearer <key>");
        return false;
    }
    h += 7;
    while (*h == ' ')
        h++;
    size_t len = strlen(h);
    if (len == 0 || len > 255 || ombud_key_hash(h, len, hash) != OMBUD_OK) {
        ombud_reply_error(req, OMBUD_E_UNAUTHORIZED, "unknown API key");
        return false;
    }
    return true;
}

/* The key is known: who it is, a token from its bucket (429 when there
 * is none), and 403 when its role is too low. */
static void grant(struct ombud_req *req, const struct ombud_svc_key *key)
{
    req->who.key_id = key->id;
    req->who.agent_id = key->agent_id;
    req->who.role = key->role;
    if (ombud_ratelimit_enabled()) {
        /* Every request a key makes costs a token, refused ones (403)
         * included, and every reply to it says what is left. */
        req->rate = ombud_ratelimit_take(key->id);
        req->rate_taken = true;
        if (!req->rate.allowed) {
            char retry[16];
            struct ombud_err err;
            snprintf(retry, sizeof retry, "%u", req->rate.retry_after);
            ombud_err_clear(&err);
            ombud_err_set(&err, OMBUD_E_RATE_LIMITED, NULL,
                          "this API key is over its rate limit; retry in %u s",
                          req->rate.retry_after);
            ombud_reply_problem_h(req, &err, "Retry-After", retry);
            return;
        }
    }
    if (req->who.role < req->match.route->min_role) {
        char detail[128];
        snprintf(detail, sizeof detail, "this needs the %s role; the key has %s",
                 ombud_role_name(req->match.route->min_role), ombud_role_name(req->who.role));
        ombud_reply_error(req, OMBUD_E_FORBIDDEN, detail);
    }
}

bool ombud_auth_check_cached(struct ombud_req *req)
{
    char hash[OMBUD_HASH_BUFLEN];
    struct ombud_svc_key key;

    if (!presented_hash(req, hash))
        return true;
    if (!ombud_svc_key_peek(hash, &key))
        return false;
    grant(req, &key);
    return true;
}

void ombud_auth_check(struct ombud_req *req)
{
    char hash[OMBUD_HASH_BUFLEN];
    struct ombud_svc_key key;
    bool found = false;
    struct ombud_err err;

    if (!presented_hash(req, hash))
        return;
    ombud_err_clear(&err);
    if (ombud_svc_key_authenticate(req->pool, hash, &key, &found, &err) != OMBUD_OK) {
        ombud_reply_problem(req, &err);
        return;
    }
    if (!found) {
        ombud_reply_error(req, OMBUD_E_UNAUTHORIZED, "unknown or revoked API key");
        return;
    }
    grant(req, &key);
}
