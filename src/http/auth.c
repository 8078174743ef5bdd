/*
 * API-key authentication and role checks. DESIGN: a key is sent as
 * Authorization: Bearer <key>; only its hash is stored, so the lookup
 * hashes the presented key and looks up the unrevoked key with that hash
 * in one short query, before any body is read. The key's role must reach
 * the route's min_role (routes.c); roles are ordered, so that is one
 * comparison. Keys are never logged.
 */
#include "http/auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/query.h"
#include "http/reply.h"
#include "ombud/db/api_keys.h"
#include "ombud/keys.h"

struct auth_ctx {
    char hash[OMBUD_HASH_BUFLEN];
    struct ombud_api_key key;
    bool found;
};

static enum ombud_rc auth_lookup(struct ombud_db_conn *c, void *ctx, struct ombud_err *err)
{
    struct auth_ctx *a = ctx;
    return ombud_db_api_key_authenticate(c, a->hash, &a->key, &a->found, err);
}

void ombud_auth_check(struct ombud_req *req)
{
    const char *h = ombud_req_header(req, "Authorization");
    struct auth_ctx a;
    struct ombud_err err;

    if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
        ombud_reply_error(req, OMBUD_E_UNAUTHORIZED,
                          "send an API key as Authorization: Bearer <key>");
        return;
    }
    h += 7;
    while (*h == ' ')
        h++;
    size_t len = strlen(h);
    if (len == 0 || len > 255 || ombud_key_hash(h, len, a.hash) != OMBUD_OK) {
        ombud_reply_error(req, OMBUD_E_UNAUTHORIZED, "unknown API key");
        return;
    }
    a.found = false;
    if (ombud_db_run(req->pool, auth_lookup, &a, &err) != OMBUD_OK) {
        ombud_reply_problem(req, &err);
        return;
    }
    if (!a.found) {
        ombud_reply_error(req, OMBUD_E_UNAUTHORIZED, "unknown or revoked API key");
        return;
    }
    req->who.key_id = a.key.id;
    req->who.agent_id = a.key.agent_id;
    if (!ombud_role_parse(a.key.role, &req->who.role))
        req->who.role = OMBUD_ROLE_NONE;
    if (req->who.role < req->match.route->min_role) {
        char detail[128];
        snprintf(detail, sizeof detail, "this needs the %s role; the key has %s",
                 ombud_role_name(req->match.route->min_role), ombud_role_name(req->who.role));
        ombud_reply_error(req, OMBUD_E_FORBIDDEN, detail);
    }
}
