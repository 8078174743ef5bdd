/*
 * /v1/api-keys (admin): create (the secret is returned this once and only
 * its hash is stored), list without secrets, get, revoke.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ombud/db/api_keys.h"
#include "ombud/db/complaints.h"
#include "http/handlers.h"
#include "ombud/json_spec.h"
#include "ombud/keys.h"
#include "ombud/repr.h"
#include "ombud/service/api_keys.h"

struct create_ctx {
    const char *name, *role;
    int64_t agent_id;
    char hash[OMBUD_HASH_BUFLEN];
    struct ombud_api_key out;
};

static enum ombud_rc create_tx(struct ombud_db_conn *c, void *ctx, struct ombud_err *err)
{
    struct create_ctx *x = ctx;
    enum ombud_rc rc;
    bool cat_ok, team_ok, agent_ok = true;
    if (x->agent_id && (rc = ombud_db_refs_check(c, NULL, 0, x->agent_id, &cat_ok, &team_ok,
                                                 &agent_ok, err)) != OMBUD_OK)
        return rc;
    if (!agent_ok) {
        ombud_err_field(err, "agent_id", "names no agent");
        return ombud_err_finish_validation(err);
    }
    return ombud_db_api_key_insert(c, x->name, x->role, x->agent_id, x->hash, &x->out, err);
}

void ombud_h_api_keys_create(struct ombud_req *req)
{
    struct create_ctx x = {0};
    struct ombud_err err;
    char key[OMBUD_KEY_BUFLEN];
    const struct ombud_spec spec[] = {
        {.name = "name",
         .type = OMBUD_SPEC_STRING,
         .required = true,
         .min = 1,
         .max = 100,
         .s = &x.name},
        {.name = "role",
         .type = OMBUD_SPEC_ENUM,
         .required = true,
         .values = ombud_key_role_names,
         .s = &x.role},
        {.name = "agent_id",
         .type = OMBUD_SPEC_INT,
         .nullable = true,
         .min = 1,
         .max = INT64_MAX,
         .i = &x.agent_id},
    };

    ombud_err_clear(&err);
    ombud_spec_parse(req->json, spec, sizeof spec / sizeof spec[0], NULL, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_key_generate(key, &err) != OMBUD_OK ||
        ombud_key_hash(key, strlen(key), x.hash) != OMBUD_OK ||
        ombud_tx_run(req->pool, create_tx, &x, &err) != OMBUD_OK) {
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_saved_steal(req, true, ombud_repr_api_key_created(&x.out, key), "/v1/api-keys",
                            x.out.id);
}

struct list_ctx {
    int64_t before;
    int limit;
    struct ombud_api_key *keys;
    size_t n;
};

static enum ombud_rc list_q(struct ombud_db_conn *c, void *ctx, struct ombud_err *err)
{
    struct list_ctx *x = ctx;
    free(x->keys); /* a retried run's */
    x->keys = NULL;
    return ombud_db_api_key_list(c, x->before, x->limit, &x->keys, &x->n, err);
}

static json_t *render_key(const void *row)
{
    return ombud_repr_api_key(row);
}

void ombud_h_api_keys_list(struct ombud_req *req)
{
    struct list_ctx x = {0};
    struct ombud_err err;

    ombud_err_clear(&err);
    ombud_query_id_page(req, &x.limit, &x.before, &err);
    if (ombud_err_finish_validation(&err) != OMBUD_OK ||
        ombud_db_run(req->pool, list_q, &x, &err) != OMBUD_OK) {
        free(x.keys);
        ombud_reply_problem(req, &err);
        return;
    }
    ombud_reply_list(req, x.keys, x.n, sizeof *x.keys, offsetof(struct ombud_api_key, id), x.limit,
                     render_key);
    free(x.keys);
}

struct key_get {
    int64_t id;
    struct ombud_api_key key;
};

static enum ombud_rc get_q(struct ombud_db_conn *c, void *ctx, struct ombud_err *err)
{
    struct key_get *get = ctx;
    bool found;
    enum ombud_rc rc = ombud_db_api_key_get(c, get->id, &get->key, &found, err);
    if (rc != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "API key");
}

void ombud_h_api_keys_get(struct ombud_req *req)
{
    struct key_get get = {.id = ombud_req_path_id(req, 0)};
    struct ombud_err err;

    ombud_err_clear(&err);
    if (ombud_db_run(req->pool, get_q, &get, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_json_steal(req, 200, ombud_repr_api_key(&get.key));
}

struct key_revoke {
    int64_t id;
};

static enum ombud_rc revoke_tx(struct ombud_db_conn *c, void *ctx, struct ombud_err *err)
{
    struct key_revoke *revoke = ctx;
    bool found;
    enum ombud_rc rc = ombud_svc_key_revoke(c, revoke->id, &found, err);
    if (rc != OMBUD_OK)
        return rc;
    return found ? OMBUD_OK : ombud_err_not_found(err, "API key");
}

void ombud_h_api_keys_delete(struct ombud_req *req)
{
    struct key_revoke revoke = {.id = ombud_req_path_id(req, 0)};
    struct ombud_err err;

    ombud_err_clear(&err);
    if (ombud_tx_run(req->pool, revoke_tx, &revoke, &err) != OMBUD_OK)
        ombud_reply_problem(req, &err);
    else
        ombud_reply_empty(req, 204);
}
