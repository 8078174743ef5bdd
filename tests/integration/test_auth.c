/*
 * API keys and roles through the real server: 401 for missing, malformed,
 * unknown and revoked keys (always with WWW-Authenticate: Bearer); the
 * OMBUD_ADMIN_KEY bootstrap across restarts, including one that was
 * revoked meanwhile; creation (the secret shown once, stored only as its
 * SHA-256), validation naming every bad field, the role ladder and 403 on
 * the admin-only routes, revocation taking effect on the very next
 * request, keyset pagination (stable under inserts and revocations between
 * pages), and concurrent creation.
 */
#include "harness.h"

#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server srv;

static int setup(void **state)
{
    (void)state;
    h_server_start(&srv, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_server_stop(&srv, true);
    return 0;
}

/* ---- helpers ---- */

static struct h_resp *req_as(const char *key, const char *method, const char *path,
                             const char *body)
{
    struct h_opts o = {.key = key, .body = body};
    return h_req(&srv, method, path, &o);
}

static bool matches(const char *re, const char *s)
{
    regex_t rx;
    assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
    bool ok = s && regexec(&rx, s, 0, NULL, 0) == 0;
    regfree(&rx);
    return ok;
}

static bool is_time(const json_t *v)
{
    return json_is_string(v) &&
           matches("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$",
                   json_string_value(v));
}

/* The single value of a one-row, one-column query (NULL for SQL NULL); free it. */
/* Creates a key through the API; returns its id and its secret in secret. */
static json_int_t create_key(const char *name, const char *role, char *secret, size_t len)
{
    char body[256];
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"role\":\"%s\"}", name, role);
    struct h_resp *r = h_admin(&srv, "POST", "/v1/api-keys", body);
    if (r->status != 201)
        fprintf(stderr, "create key: %ld %s\n", r->status, r->body);
    assert_int_equal(r->status, 201);
    json_int_t id = json_integer_value(json_object_get(r->json, "id"));
    assert_true(id > 0);
    if (secret)
        snprintf(secret, len, "%s", json_string_value(json_object_get(r->json, "key")));
    h_resp_free(r);
    return id;
}

static void expect_401(const struct h_resp *r)
{
    char buf[128];
    h_expect_problem(r, 401);
    assert_non_null(h_header(r, "WWW-Authenticate", buf, sizeof buf));
    assert_string_equal(buf, "Bearer");
}

/* A 422 whose errors[] names exactly the fields given (NULL-terminated). */
static void post_expect_fields(const char *body, const char *const *fields)
{
    struct h_resp *r = h_admin(&srv, "POST", "/v1/api-keys", body);
    h_expect_fields(r, fields);
    h_resp_free(r);
}

/* base64url without padding, as the server's cursors are written. */
/* The secret and its hash appear nowhere in a response meant to hide them. */
static void expect_no_secret(const struct h_resp *r, const char *secret, const char *hash)
{
    assert_null(strstr(r->body, secret));
    assert_null(strstr(r->body, hash));
    assert_null(strstr(r->body, "\"key\""));
    assert_null(strstr(r->body, "hash"));
}

/* ids of non-revoked keys, newest first, as the database has them. */
static json_t *db_ids(const char *extra_where)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT id FROM api_keys WHERE revoked_at IS NULL %s ORDER BY id DESC",
             extra_where ? extra_where : "");
    json_t *rows = h_sql(&srv, sql);
    json_t *ids = json_array();
    size_t i;
    json_t *row;
    json_array_foreach (rows, i, row)
        json_array_append_new(ids, json_integer(atoll(json_string_value(json_array_get(row, 0)))));
    json_decref(rows);
    return ids;
}

/* Fetches one page; appends its ids to out; returns next_cursor (copied) or NULL. */
static char *fetch_page(int limit, const char *cursor, json_t *out, size_t *page_len)
{
    char path[256];
    if (cursor)
        snprintf(path, sizeof path, "/v1/api-keys?limit=%d&cursor=%s", limit, cursor);
    else
        snprintf(path, sizeof path, "/v1/api-keys?limit=%d", limit);
    struct h_resp *r = h_admin(&srv, "GET", path, NULL);
    assert_int_equal(r->status, 200);
    json_t *items = json_object_get(r->json, "items");
    json_t *next = json_object_get(r->json, "next_cursor");
    assert_true(json_is_array(items));
    assert_non_null(next); /* present, string or null */
    assert_true(json_is_null(next) || json_is_string(next));
    assert_true(json_array_size(items) <= (size_t)limit);
    size_t i;
    json_t *it;
    json_array_foreach (items, i, it) {
        assert_null(json_object_get(it, "key"));
        json_array_append(out, json_object_get(it, "id"));
    }
    *page_len = json_array_size(items);
    char *nc = json_is_string(next) ? strdup(json_string_value(next)) : NULL;
    h_resp_free(r);
    return nc;
}

/* Walks every page; returns all ids in order. */
static json_t *walk_all(int limit)
{
    json_t *ids = json_array();
    char *cur = NULL;
    int pages = 0;
    do {
        size_t n;
        char *next = fetch_page(limit, cur, ids, &n);
        free(cur);
        cur = next;
        if (cur && n != (size_t)limit) {
            char *d = json_dumps(ids, JSON_COMPACT);
            fprintf(stderr, "short page before the end: %zu items, so far %s\n", n, d);
            free(d);
        }
        if (cur)
            assert_int_equal(n, (size_t)limit); /* only the last page is short */
        assert_true(++pages < 1000);
    } while (cur);
    return ids;
}

static void expect_same_ids(const json_t *got, const json_t *want)
{
    if (!json_equal((json_t *)got, (json_t *)want)) {
        char *g = json_dumps(got, JSON_COMPACT), *w = json_dumps(want, JSON_COMPACT);
        fprintf(stderr, "ids differ:\n got  %s\n want %s\n", g, w);
        free(g);
        free(w);
        json_t *rows = h_sql(&srv, "SELECT id, name, role, revoked_at IS NOT NULL"
                                   " FROM api_keys ORDER BY id");
        char *dump = json_dumps(rows, JSON_COMPACT);
        fprintf(stderr, " keys %s\n", dump);
        free(dump);
        json_decref(rows);
        fail();
    }
}

/* ---- missing, malformed and unknown keys ---- */

static void no_key_is_401_with_challenge(void **state)
{
    (void)state;
    struct {
        const char *method, *path, *body;
    } routes[] = {
        {"GET", "/v1/api-keys", NULL},
        {"POST", "/v1/api-keys", "{\"name\":\"x\",\"role\":\"admin\"}"},
        {"GET", "/v1/api-keys/1", NULL},
        {"GET", "/v1/api-keys/999999", NULL},
        {"DELETE", "/v1/api-keys/1", NULL},
        {"GET", "/v1/categories", NULL},
        {"GET", "/v1/complaints", NULL},
    };
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        struct h_resp *r = req_as(NULL, routes[i].method, routes[i].path, routes[i].body);
        expect_401(r);
        h_resp_free(r);
    }
    /* Nothing was created by the unauthenticated POST. */
    assert_int_equal(h_sql_int(&srv, "SELECT count(*) FROM api_keys WHERE name = 'x'"), 0);
}

static void malformed_authorization_is_401(void **state)
{
    (void)state;
    char long_key[400], basic[128], raw_key[128], token[128];
    memcpy(long_key, "Authorization: Bearer ", 22);
    memset(long_key + 22, 'a', 300);
    long_key[322] = '\0';
    snprintf(basic, sizeof basic, "Authorization: Basic %s", srv.admin_key);
    snprintf(raw_key, sizeof raw_key, "Authorization: %s", srv.admin_key);
    snprintf(token, sizeof token, "Authorization: Token %s", srv.admin_key);
    const char *headers[] = {
        basic,
        "Authorization: Basic YWRtaW46YWRtaW4=",
        "Authorization: Bearer",
        "Authorization: Bearer ",
        "Authorization: Bearer      ",
        "Authorization;", /* present and empty */
        raw_key,
        token,
        long_key,
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        struct h_resp *r =
            h_req(&srv, "GET", "/v1/api-keys", &(struct h_opts){.headers = {headers[i]}});
        if (r->status != 401)
            fprintf(stderr, "header %.60s\n", headers[i]);
        expect_401(r);
        h_resp_free(r);
    }

    /* The scheme name is case-insensitive (RFC 9110): the admin key still works. */
    char lower[128];
    snprintf(lower, sizeof lower, "Authorization: bearer %s", srv.admin_key);
    struct h_resp *r = h_req(&srv, "GET", "/v1/api-keys", &(struct h_opts){.headers = {lower}});
    assert_int_equal(r->status, 200);
    h_resp_free(r);
}

static void unknown_key_is_401(void **state)
{
    (void)state;
    char almost[96];
    snprintf(almost, sizeof almost, "%sx", srv.admin_key);
    const char *keys[] = {"omb_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "nope", almost,
                          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        struct h_resp *r = req_as(keys[i], "GET", "/v1/api-keys", NULL);
        expect_401(r);
        h_resp_free(r);
    }
    /* The hash of the admin key is not a key either (only secrets authenticate). */
    char *hash = h_sql_value(&srv, "%s", "SELECT key_hash FROM api_keys ORDER BY id LIMIT 1");
    assert_non_null(hash);
    struct h_resp *r = req_as(hash, "GET", "/v1/api-keys", NULL);
    expect_401(r);
    h_resp_free(r);
    free(hash);
}

/* ---- the bootstrap admin key ---- */

static void bootstrap_admin_key_survives_restarts(void **state)
{
    (void)state;
    char sql[512], agent_key[96];
    snprintf(sql, sizeof sql,
             "SELECT id FROM api_keys WHERE key_hash = encode(sha256('%s'::bytea), 'hex')",
             srv.admin_key);

    struct h_resp *r = h_admin(&srv, "GET", "/v1/api-keys", NULL);
    assert_int_equal(r->status, 200);
    h_resp_free(r);
    char *boot_id = h_sql_value(&srv, "%s", sql);
    assert_non_null(boot_id);
    json_int_t agent_id = create_key("survives restarts", "agent", agent_key, sizeof agent_key);

    /* Restart with the same key: still one row, still valid, other keys too. */
    h_server_stop(&srv, false);
    h_server_spawn(&srv, NULL);
    r = h_admin(&srv, "GET", "/v1/api-keys", NULL);
    assert_int_equal(r->status, 200);
    h_resp_free(r);
    char *again = h_sql_value(&srv, "%s", sql);
    assert_string_equal(again, boot_id);
    free(again);
    assert_int_equal(h_sql_int(&srv,
                               "SELECT count(*) FROM api_keys WHERE key_hash = "
                               "encode(sha256('%s'::bytea), 'hex')",
                               srv.admin_key),
                     1);
    r = req_as(agent_key, "GET", "/v1/teams", NULL);
    assert_int_equal(r->status, 200);
    h_resp_free(r);

    /* The bootstrap key revokes itself: the next request with it is a 401. */
    char path[64];
    snprintf(path, sizeof path, "/v1/api-keys/%s", boot_id);
    r = h_admin(&srv, "DELETE", path, NULL);
    assert_int_equal(r->status, 204);
    h_resp_free(r);
    r = h_admin(&srv, "GET", "/v1/api-keys", NULL);
    expect_401(r);
    h_resp_free(r);

    /* The next start ensures it is valid again (the same row, admin again). */
    h_server_stop(&srv, false);
    h_server_spawn(&srv, NULL);
    r = h_admin(&srv, "GET", path, NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(json_string_value(json_object_get(r->json, "role")), "admin");
    assert_int_equal(json_integer_value(json_object_get(r->json, "id")), atoll(boot_id));
    h_resp_free(r);
    assert_int_equal(h_sql_int(&srv,
                               "SELECT count(*) FROM api_keys WHERE key_hash = "
                               "encode(sha256('%s'::bytea), 'hex') AND revoked_at IS NULL",
                               srv.admin_key),
                     1);
    /* Re-enabling the bootstrap key does not resurrect other revoked keys. */
    snprintf(path, sizeof path, "/v1/api-keys/%lld", (long long)agent_id);
    r = h_admin(&srv, "DELETE", path, NULL);
    assert_int_equal(r->status, 204);
    h_resp_free(r);
    h_server_stop(&srv, false);
    h_server_spawn(&srv, NULL);
    r = req_as(agent_key, "GET", "/v1/teams", NULL);
    expect_401(r);
    h_resp_free(r);
    r = h_admin(&srv, "GET", "/v1/api-keys", NULL);
    assert_int_equal(r->status, 200);
    h_resp_free(r);
    free(boot_id);
}

/* ---- creation ---- */

static void create_shows_the_secret_once(void **state)
{
    (void)state;
    char loc[128], want[64], sql[512];
    struct h_resp *r =
        h_admin(&srv, "POST", "/v1/api-keys", "{\"name\":\"Billing bridge\",\"role\":\"service\"}");
    assert_int_equal(r->status, 201);
    json_t *b = r->json;
    assert_true(json_is_object(b));
    json_int_t id = json_integer_value(json_object_get(b, "id"));
    assert_true(json_is_integer(json_object_get(b, "id")) && id > 0);
    snprintf(want, sizeof want, "/v1/api-keys/%lld", (long long)id);
    assert_string_equal(h_header(r, "Location", loc, sizeof loc), want);
    assert_string_equal(json_string_value(json_object_get(b, "name")), "Billing bridge");
    assert_string_equal(json_string_value(json_object_get(b, "role")), "service");
    assert_true(json_is_null(json_object_get(b, "agent_id")));
    assert_true(is_time(json_object_get(b, "created_at")));
    const char *key = json_string_value(json_object_get(b, "key"));
    assert_non_null(key);
    assert_true(matches("^omb_[A-Za-z0-9_-]{40,}$", key));
    /* Exactly these members: no hash, nothing else. */
    const char *members[] = {"id", "name", "role", "agent_id", "key", "created_at"};
    assert_int_equal(json_object_size(b), sizeof members / sizeof members[0]);
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        assert_non_null(json_object_get(b, members[i]));
    char secret[128];
    snprintf(secret, sizeof secret, "%s", key);
    h_resp_free(r);

    /* created_at is now (to a minute), as the database sees it. */
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM api_keys WHERE id = %lld"
             " AND created_at > now() - interval '1 minute' AND created_at <= now()",
             (long long)id);
    assert_int_equal(h_sql_int(&srv, "%s", sql), 1);

    /* The database holds the SHA-256 of the secret, never the secret. */
    snprintf(sql, sizeof sql, "SELECT key_hash FROM api_keys WHERE id = %lld", (long long)id);
    char *hash = h_sql_value(&srv, "%s", sql);
    assert_true(matches("^[0-9a-f]{64}$", hash));
    assert_int_equal(h_sql_int(&srv,
                               "SELECT count(*) FROM api_keys WHERE id = %lld"
                               " AND key_hash = encode(sha256('%s'::bytea), 'hex')",
                               (long long)id, secret),
                     1);
    assert_int_equal(
        h_sql_int(&srv, "SELECT count(*) FROM api_keys t WHERE strpos(t::text, '%s') > 0", secret),
        0);
    assert_int_equal(h_sql_int(&srv,
                               "SELECT count(*) FROM api_keys t WHERE strpos(t::text, '%s') > 0",
                               secret + 4),
                     0);

    /* Neither GET nor the list shows the secret or the hash. */
    r = h_admin(&srv, "GET", want, NULL);
    assert_int_equal(r->status, 200);
    expect_no_secret(r, secret, hash);
    assert_int_equal(json_integer_value(json_object_get(r->json, "id")), id);
    assert_string_equal(json_string_value(json_object_get(r->json, "name")), "Billing bridge");
    assert_string_equal(json_string_value(json_object_get(r->json, "role")), "service");
    assert_true(json_is_null(json_object_get(r->json, "agent_id")));
    assert_true(is_time(json_object_get(r->json, "created_at")));
    assert_true(json_is_null(json_object_get(r->json, "last_used_at")));
    h_resp_free(r);
    r = h_admin(&srv, "GET", "/v1/api-keys?limit=200", NULL);
    assert_int_equal(r->status, 200);
    expect_no_secret(r, secret, hash);
    h_resp_free(r);

    /* The key works at once, for its role only; its use is noted. */
    r = req_as(secret, "GET", "/v1/categories", NULL);
    assert_int_equal(r->status, 200);
    h_resp_free(r);
    r = req_as(secret, "GET", "/v1/teams", NULL);
    h_expect_problem(r, 403);
    h_resp_free(r);
    r = h_admin(&srv, "GET", want, NULL);
    assert_true(is_time(json_object_get(r->json, "last_used_at")));
    h_resp_free(r);

    /* The server's log never carries a secret. */
    h_sleep_ms(100);
    assert_int_equal(h_sh("grep -q -- '%s' '%s'", secret, srv.log_path), 1);
    assert_int_equal(h_sh("grep -q -- '%s' '%s'", srv.admin_key, srv.log_path), 1);
    free(hash);
}

static void every_created_key_is_distinct(void **state)
{
    (void)state;
    char a[96], b[96];
    json_int_t ia = create_key("twin", "agent", a, sizeof a);
    json_int_t ib = create_key("twin", "agent", b, sizeof b);
    assert_true(ia != ib);
    assert_string_not_equal(a, b);
    /* Each key is itself: revoking one leaves the other working. */
    char path[64];
    snprintf(path, sizeof path, "/v1/api-keys/%lld", (long long)ia);
    struct h_resp *r = h_admin(&srv, "DELETE", path, NULL);
    assert_int_equal(r->status, 204);
    h_resp_free(r);
    r = req_as(a, "GET", "/v1/teams", NULL);
    expect_401(r);
    h_resp_free(r);
    r = req_as(b, "GET", "/v1/teams", NULL);
    assert_int_equal(r->status, 200);
    h_resp_free(r);
}

static void create_with_agent_id(void **state)
{
    (void)state;
    char body[160], path[64], secret[96];
    struct h_resp *r = h_admin(&srv, "POST", "/v1/agents", "{\"name\":\"Ann Agent\"}");
    assert_int_equal(r->status, 201);
    json_int_t agent = json_integer_value(json_object_get(r->json, "id"));
    h_resp_free(r);

    snprintf(body, sizeof body, "{\"name\":\"Ann's desk\",\"role\":\"agent\",\"agent_id\":%lld}",
             (long long)agent);
    r = h_admin(&srv, "POST", "/v1/api-keys", body);
    assert_int_equal(r->status, 201);
    assert_true(json_is_integer(json_object_get(r->json, "agent_id")));
    assert_int_equal(json_integer_value(json_object_get(r->json, "agent_id")), agent);
    json_int_t id = json_integer_value(json_object_get(r->json, "id"));
    snprintf(secret, sizeof secret, "%s", json_string_value(json_object_get(r->json, "key")));
    h_resp_free(r);

    snprintf(path, sizeof path, "/v1/api-keys/%lld", (long long)id);
    r = h_admin(&srv, "GET", path, NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_integer_value(json_object_get(r->json, "agent_id")), agent);
    h_resp_free(r);
    r = req_as(secret, "GET", "/v1/teams", NULL);
    assert_int_equal(r->status, 200);
    h_resp_free(r);

    /* Explicit null is no agent. */
    r = h_admin(&srv, "POST", "/v1/api-keys",
                "{\"name\":\"no agent\",\"role\":\"agent\",\"agent_id\":null}");
    assert_int_equal(r->status, 201);
    assert_true(json_is_null(json_object_get(r->json, "agent_id")));
    h_resp_free(r);

    /* An id that names no agent is a validation error on agent_id. */
    post_expect_fields("{\"name\":\"ghost\",\"role\":\"agent\",\"agent_id\":999999}",
                       (const char *const[]){"agent_id", NULL});
}

/* ---- validation ---- */

static void validation_names_every_bad_field(void **state)
{
    (void)state;
    long long before = h_sql_int(&srv, "SELECT count(*) FROM api_keys");

    post_expect_fields("{}", (const char *const[]){"name", "role", NULL});
    post_expect_fields("{\"name\":\"\",\"role\":\"root\"}",
                       (const char *const[]){"name", "role", NULL});
    post_expect_fields("{\"name\":null,\"role\":null}",
                       (const char *const[]){"name", "role", NULL});
    post_expect_fields("{\"name\":42,\"role\":[\"admin\"]}",
                       (const char *const[]){"name", "role", NULL});
    post_expect_fields("{\"name\":\"x\",\"role\":\"Admin\"}", (const char *const[]){"role", NULL});
    post_expect_fields("{\"name\":\"x\",\"role\":\"\"}", (const char *const[]){"role", NULL});

    /* 101 characters is one too many. */
    char body[1024];
    char name[512];
    memset(name, 'n', 101);
    name[101] = '\0';
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"role\":\"agent\"}", name);
    post_expect_fields(body, (const char *const[]){"name", NULL});

    /* agent_id: not 0, not negative, not a string, not a fraction. */
    const char *bad_agent[] = {"0", "-1", "\"7\"", "1.5", "true", "{}", "1e3"};
    for (size_t i = 0; i < sizeof bad_agent / sizeof bad_agent[0]; i++) {
        snprintf(body, sizeof body, "{\"name\":\"x\",\"role\":\"agent\",\"agent_id\":%s}",
                 bad_agent[i]);
        post_expect_fields(body, (const char *const[]){"agent_id", NULL});
    }

    /* Unknown fields are named, including the secret a client might try to choose. */
    post_expect_fields("{\"name\":\"x\",\"role\":\"agent\",\"scope\":\"all\"}",
                       (const char *const[]){"scope", NULL});
    post_expect_fields("{\"name\":\"x\",\"role\":\"agent\",\"key\":\"omb_chosen\"}",
                       (const char *const[]){"key", NULL});

    /* Everything wrong at once: every field named in one reply. */
    post_expect_fields("{\"name\":\"\",\"role\":\"root\",\"agent_id\":-1,\"extra\":1}",
                       (const char *const[]){"name", "role", "agent_id", "extra", NULL});

    /* Nothing was stored by any of them. */
    assert_int_equal(h_sql_int(&srv, "SELECT count(*) FROM api_keys"), before);
}

/* 100 characters of glyph (UTF-8) are accepted and kept whole; 101 are not. */
static void name_of_100_characters(const char *glyph)
{
    char name[512] = "", body[700], path[64], secret[96];
    for (int i = 0; i < 100; i++)
        strcat(name, glyph);
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"role\":\"service\"}", name);
    struct h_resp *r = h_admin(&srv, "POST", "/v1/api-keys", body);
    assert_int_equal(r->status, 201);
    if (!r->json)
        fprintf(stderr, "201 without a JSON body: [%s]\n", r->body);
    assert_non_null(r->json);
    assert_string_equal(json_string_value(json_object_get(r->json, "name")), name);
    json_int_t id = json_integer_value(json_object_get(r->json, "id"));
    snprintf(secret, sizeof secret, "%s", json_string_value(json_object_get(r->json, "key")));
    assert_true(strncmp(secret, "omb_", 4) == 0);
    h_resp_free(r);

    snprintf(path, sizeof path, "/v1/api-keys/%lld", (long long)id);
    r = h_admin(&srv, "GET", path, NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(r->json);
    assert_string_equal(json_string_value(json_object_get(r->json, "name")), name);
    h_resp_free(r);

    /* Listed, whole. */
    r = h_admin(&srv, "GET", "/v1/api-keys?limit=1", NULL);
    assert_int_equal(r->status, 200);
    json_t *item = json_array_get(json_object_get(r->json, "items"), 0);
    assert_int_equal(json_integer_value(json_object_get(item, "id")), id);
    assert_string_equal(json_string_value(json_object_get(item, "name")), name);
    h_resp_free(r);

    /* Stored whole. */
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT char_length(name) FROM api_keys WHERE id = %lld",
             (long long)id);
    assert_int_equal(h_sql_int(&srv, "%s", sql), 100);

    strcat(name, glyph);
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"role\":\"service\"}", name);
    post_expect_fields(body, (const char *const[]){"name", NULL});
}

static void name_of_100_cjk_characters(void **state)
{
    (void)state;
    name_of_100_characters("\xe4\xb8\xad"); /* U+4E2D: 3 bytes each, 300 in all */
}

static void name_of_100_astral_characters(void **state)
{
    (void)state;
    name_of_100_characters("\xf0\x9f\x98\x80"); /* U+1F600: 4 bytes each, 400 in all */
}

/* Long names are test data for the two tests above only: whatever they
 * left behind is revoked so that the list tests see ordinary keys. */
static int revoke_long_names(void **state)
{
    (void)state;
    json_decref(h_sql(&srv, "UPDATE api_keys SET revoked_at = now()"
                            " WHERE octet_length(name) > 200 AND revoked_at IS NULL"));
    return 0;
}

static void name_edge_cases(void **state)
{
    (void)state;
    /* A single character given as an escape. */
    struct h_resp *r =
        h_admin(&srv, "POST", "/v1/api-keys", "{\"name\":\"\\u00e9\",\"role\":\"service\"}");
    assert_int_equal(r->status, 201);
    assert_string_equal(json_string_value(json_object_get(r->json, "name")), "\xc3\xa9");
    h_resp_free(r);
    /* 100 ASCII characters are fine. */
    char name[128], body[256];
    memset(name, 'a', 100);
    name[100] = '\0';
    snprintf(body, sizeof body, "{\"name\":\"%s\",\"role\":\"service\"}", name);
    r = h_admin(&srv, "POST", "/v1/api-keys", body);
    assert_int_equal(r->status, 201);
    assert_string_equal(json_string_value(json_object_get(r->json, "name")), name);
    h_resp_free(r);
}

/* "\u0000" is well-formed JSON, but Ombud refuses NUL in text at the
 * parser, for every field at once, with 400: no handler ever sees a
 * string that C would silently cut short. */
static void name_with_nul_is_400(void **state)
{
    (void)state;
    struct h_resp *r =
        h_admin(&srv, "POST", "/v1/api-keys", "{\"name\":\"a\\u0000b\",\"role\":\"service\"}");
    h_expect_problem(r, 400);
    h_resp_free(r);
    r = h_admin(&srv, "GET", "/v1/api-keys?limit=200", NULL);
    assert_int_equal(r->status, 200);
    assert_null(strstr(r->body, "a\\u0000b"));
    h_resp_free(r);
}

/* ---- roles ---- */

static void roles_ladder(void **state)
{
    (void)state;
    const char *roles[] = {"service", "agent", "supervisor", "admin"};
    char keys[4][96];
    for (int i = 0; i < 4; i++)
        h_make_key(&srv, roles[i], keys[i], sizeof keys[i]);
    /* Each route with the least role that may use it (index into roles). */
    struct {
        const char *method, *path;
        int min_role;
        long ok_status;
    } routes[] = {
        {"GET", "/v1/categories", 0, 200}, {"GET", "/v1/teams", 1, 200},
        {"GET", "/v1/alerts", 1, 200},     {"POST", "/v1/alerts/999999/ack", 2, 404},
        {"GET", "/v1/api-keys", 3, 200},   {"GET", "/v1/api-keys/999999", 3, 404},
    };
    for (size_t k = 0; k < sizeof routes / sizeof routes[0]; k++) {
        for (int i = 0; i < 4; i++) {
            struct h_resp *r = req_as(keys[i], routes[k].method, routes[k].path, NULL);
            if (i < routes[k].min_role) {
                h_expect_problem(r, 403);
            } else {
                if (r->status != routes[k].ok_status)
                    fprintf(stderr, "%s %s as %s: %ld %s\n", routes[k].method, routes[k].path,
                            roles[i], r->status, r->body);
                assert_int_equal(r->status, routes[k].ok_status);
            }
            h_resp_free(r);
        }
    }
}

static void only_admin_manages_keys(void **state)
{
    (void)state;
    const char *roles[] = {"service", "agent", "supervisor"};
    char target_secret[96], path[64];
    json_int_t target = create_key("target", "agent", target_secret, sizeof target_secret);
    snprintf(path, sizeof path, "/v1/api-keys/%lld", (long long)target);
    long long before = h_sql_int(&srv, "SELECT count(*) FROM api_keys");

    for (int i = 0; i < 3; i++) {
        char key[96];
        h_make_key(&srv, roles[i], key, sizeof key);
        before++;
        struct {
            const char *method, *path, *body;
        } routes[] = {
            {"POST", "/v1/api-keys", "{\"name\":\"escalate me\",\"role\":\"admin\"}"},
            {"POST", "/v1/api-keys", "{\"bad\":true}"}, /* role is checked before the body */
            {"GET", "/v1/api-keys", NULL},
            {"GET", "/v1/api-keys?limit=1", NULL},
            {"GET", path, NULL},
            {"DELETE", path, NULL},
            {"GET", "/v1/api-keys/999999", NULL},
            {"DELETE", "/v1/api-keys/999999", NULL},
        };
        for (size_t k = 0; k < sizeof routes / sizeof routes[0]; k++) {
            struct h_resp *r = req_as(key, routes[k].method, routes[k].path, routes[k].body);
            if (r->status != 403)
                fprintf(stderr, "%s %s as %s\n", routes[k].method, routes[k].path, roles[i]);
            h_expect_problem(r, 403);
            char buf[64];
            assert_null(h_header(r, "WWW-Authenticate", buf, sizeof buf));
            assert_null(strstr(r->body, target_secret));
            h_resp_free(r);
        }
    }
    /* None of it had an effect: nothing created, the target not revoked. */
    assert_int_equal(h_sql_int(&srv, "SELECT count(*) FROM api_keys"), before);
    struct h_resp *r = req_as(target_secret, "GET", "/v1/teams", NULL);
    assert_int_equal(r->status, 200);
    h_resp_free(r);

    /* An admin key made through the API gets through all of them. */
    char admin[96], body[128];
    h_make_key(&srv, "admin", admin, sizeof admin);
    r = req_as(admin, "GET", "/v1/api-keys", NULL);
    assert_int_equal(r->status, 200);
    h_resp_free(r);
    r = req_as(admin, "GET", path, NULL);
    assert_int_equal(r->status, 200);
    h_resp_free(r);
    snprintf(body, sizeof body, "{\"name\":\"made by a made admin\",\"role\":\"supervisor\"}");
    r = req_as(admin, "POST", "/v1/api-keys", body);
    assert_int_equal(r->status, 201);
    h_resp_free(r);
    r = req_as(admin, "DELETE", path, NULL);
    assert_int_equal(r->status, 204);
    h_resp_free(r);
}

/* ---- revocation ---- */

static void revoke_takes_effect_at_once(void **state)
{
    (void)state;
    char secret[96], path[64];
    json_int_t id = create_key("to revoke", "supervisor", secret, sizeof secret);
    snprintf(path, sizeof path, "/v1/api-keys/%lld", (long long)id);

    struct h_resp *r = req_as(secret, "GET", "/v1/teams", NULL);
    assert_int_equal(r->status, 200);
    h_resp_free(r);

    r = h_admin(&srv, "DELETE", path, NULL);
    assert_int_equal(r->status, 204);
    assert_int_equal(r->len, 0);
    h_resp_free(r);

    /* The very next request with it is a 401. */
    r = req_as(secret, "GET", "/v1/teams", NULL);
    expect_401(r);
    h_resp_free(r);
    r = req_as(secret, "GET", "/v1/categories", NULL);
    expect_401(r);
    h_resp_free(r);

    /* Gone from the API: DELETE again and GET are 404; not listed. */
    r = h_admin(&srv, "DELETE", path, NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);
    r = h_admin(&srv, "GET", path, NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);
    r = h_admin(&srv, "GET", "/v1/api-keys?limit=200", NULL);
    assert_int_equal(r->status, 200);
    size_t i;
    json_t *it;
    json_array_foreach (json_object_get(r->json, "items"), i, it)
        assert_true(json_integer_value(json_object_get(it, "id")) != id);
    h_resp_free(r);

    /* The row stays (revoked, for the record), still without the secret. */
    assert_int_equal(h_sql_int(&srv,
                               "SELECT count(*) FROM api_keys WHERE id = %lld"
                               " AND revoked_at IS NOT NULL",
                               (long long)id),
                     1);

    r = h_admin(&srv, "DELETE", "/v1/api-keys/999999", NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);
    r = h_admin(&srv, "GET", "/v1/api-keys/999999", NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);
}

static void admin_key_revoking_itself(void **state)
{
    (void)state;
    char admin[96], path[64];
    json_int_t id = create_key("short-lived admin", "admin", admin, sizeof admin);
    snprintf(path, sizeof path, "/v1/api-keys/%lld", (long long)id);
    struct h_resp *r = req_as(admin, "DELETE", path, NULL);
    assert_int_equal(r->status, 204);
    h_resp_free(r);
    r = req_as(admin, "GET", "/v1/api-keys", NULL);
    expect_401(r);
    h_resp_free(r);
    r = req_as(admin, "DELETE", path, NULL);
    expect_401(r);
    h_resp_free(r);
}

/* ---- listing ---- */

static void list_pages_newest_first(void **state)
{
    (void)state;
    json_int_t mine[5];
    for (int i = 0; i < 5; i++) {
        char name[32];
        snprintf(name, sizeof name, "page %d", i);
        mine[i] = create_key(name, "service", NULL, 0);
    }
    json_t *want = db_ids(NULL);
    json_t *got = walk_all(2);
    expect_same_ids(got, want);

    /* Strictly decreasing (so no duplicates), mine among them newest first. */
    for (size_t i = 1; i < json_array_size(got); i++)
        assert_true(json_integer_value(json_array_get(got, i - 1)) >
                    json_integer_value(json_array_get(got, i)));
    for (int i = 0; i < 5; i++)
        assert_int_equal(json_integer_value(json_array_get(got, (size_t)i)), mine[4 - i]);

    /* A page that ends exactly at the last item says so (next_cursor null). */
    size_t total = json_array_size(want), n;
    json_t *one = json_array();
    char *cur = fetch_page((int)total, NULL, one, &n);
    assert_int_equal(n, total);
    assert_null(cur);
    json_decref(one);
    one = json_array();
    cur = fetch_page((int)total - 1, NULL, one, &n);
    assert_non_null(cur);
    char *end = fetch_page((int)total - 1, cur, one, &n);
    assert_int_equal(n, 1);
    assert_null(end);
    free(cur);
    expect_same_ids(one, want);
    json_decref(one);

    /* Each item has the documented members and no secret. */
    struct h_resp *r = h_admin(&srv, "GET", "/v1/api-keys?limit=1", NULL);
    assert_int_equal(r->status, 200);
    json_t *item = json_array_get(json_object_get(r->json, "items"), 0);
    assert_int_equal(json_integer_value(json_object_get(item, "id")), mine[4]);
    assert_string_equal(json_string_value(json_object_get(item, "name")), "page 4");
    assert_string_equal(json_string_value(json_object_get(item, "role")), "service");
    assert_true(json_is_null(json_object_get(item, "agent_id")));
    assert_true(is_time(json_object_get(item, "created_at")));
    assert_null(json_object_get(item, "key"));
    assert_null(json_object_get(item, "key_hash"));
    h_resp_free(r);

    /* The default page is 50, and everything fits in one page of 200. */
    r = h_admin(&srv, "GET", "/v1/api-keys", NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), total < 50 ? total : 50);
    h_resp_free(r);
    r = h_admin(&srv, "GET", "/v1/api-keys?limit=200", NULL);
    assert_int_equal(r->status, 200);
    assert_true(json_is_null(json_object_get(r->json, "next_cursor")));
    h_resp_free(r);

    json_decref(want);
    json_decref(got);
}

static void list_bad_parameters_are_422(void **state)
{
    (void)state;
    const char *limits[] = {"0", "201", "abc", "-1", "", "1.5", "2x", "99999999999999999999"};
    char path[256];
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        snprintf(path, sizeof path, "/v1/api-keys?limit=%s", limits[i]);
        struct h_resp *r = h_admin(&srv, "GET", path, NULL);
        if (r->status != 422)
            fprintf(stderr, "limit=%s\n", limits[i]);
        h_expect_fields(r, (const char *const[]){"limit", NULL});
        h_resp_free(r);
    }

    /* Cursors: not base64url, empty, another list's shape, forged values. */
    char two[64], zero[16], neg[16], padded[16], text[16];
    h_b64url("5.7", two); /* a two-value cursor, as complaint lists use */
    h_b64url("0", zero);  /* before id 0 */
    h_b64url("-3", neg);
    h_b64url("007", padded); /* not canonical */
    h_b64url("abc", text);
    const char *cursors[] = {"!!!", "", two, zero, neg, padded, text, "A", "%00"};
    for (size_t i = 0; i < sizeof cursors / sizeof cursors[0]; i++) {
        snprintf(path, sizeof path, "/v1/api-keys?cursor=%s", cursors[i]);
        struct h_resp *r = h_admin(&srv, "GET", path, NULL);
        if (r->status != 422)
            fprintf(stderr, "cursor=%s\n", cursors[i]);
        h_expect_fields(r, (const char *const[]){"cursor", NULL});
        h_resp_free(r);
    }

    /* Both at once. */
    struct h_resp *r = h_admin(&srv, "GET", "/v1/api-keys?limit=0&cursor=!!!", NULL);
    h_expect_fields(r, (const char *const[]){"limit", "cursor", NULL});
    h_resp_free(r);

    /* The edges are fine. */
    r = h_admin(&srv, "GET", "/v1/api-keys?limit=1", NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 1);
    h_resp_free(r);
    r = h_admin(&srv, "GET", "/v1/api-keys?limit=200", NULL);
    assert_int_equal(r->status, 200);
    h_resp_free(r);
}

/* Integer and id query parameters are decimal digits only on every route:
 * no sign or space, no leading zero on an id, and an id beyond int64 is
 * refused rather than clamped. */
static void query_numbers_are_digits_only(void **state)
{
    (void)state;
    static const struct {
        const char *path, *field;
    } cases[] = {
        {"/v1/api-keys?limit=%2B5", "limit"},
        {"/v1/api-keys?limit=%205", "limit"},
        {"/v1/agents?team_id=99999999999999999999", "team_id"},
        {"/v1/agents?team_id=9223372036854775808", "team_id"},
        {"/v1/agents?team_id=07", "team_id"},
        {"/v1/alerts?complaint_id=%2B1", "complaint_id"},
        {"/v1/complaints?assignee_id=1%20", "assignee_id"},
        {"/v1/sla/at-risk?within_minutes=%2B5", "within_minutes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct h_resp *r = h_admin(&srv, "GET", cases[i].path, NULL);
        if (r->status != 422)
            fprintf(stderr, "%s\n", cases[i].path);
        h_expect_fields(r, (const char *const[]){cases[i].field, NULL});
        h_resp_free(r);
    }
    struct h_resp *r = h_admin(&srv, "GET", "/v1/agents?team_id=9223372036854775807", NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 0);
    h_resp_free(r);
}

static void list_is_stable_under_changes(void **state)
{
    (void)state;
    for (int i = 0; i < 5; i++) {
        char name[32];
        snprintf(name, sizeof name, "keyset %d", i);
        create_key(name, "agent", NULL, 0);
    }
    json_t *got = json_array();
    size_t n;
    char *cur = fetch_page(2, NULL, got, &n);
    assert_int_equal(n, 2);
    assert_non_null(cur);

    /* What the rest of the walk must return: everything older than page 1. */
    char where[64];
    json_int_t last = json_integer_value(json_array_get(got, 1));
    snprintf(where, sizeof where, "AND id < %lld", (long long)last);
    json_t *rest_want = db_ids(where);
    assert_true(json_array_size(rest_want) >= 3);

    /* Between page fetches: new keys arrive, and the key the cursor points at is revoked. */
    json_int_t newer[3];
    for (int i = 0; i < 3; i++)
        newer[i] = create_key("arrived mid-walk", "agent", NULL, 0);
    char path[64];
    snprintf(path, sizeof path, "/v1/api-keys/%lld", (long long)last);
    struct h_resp *r = h_admin(&srv, "DELETE", path, NULL);
    assert_int_equal(r->status, 204);
    h_resp_free(r);

    json_t *rest = json_array();
    int pages = 0;
    while (cur) {
        char *next = fetch_page(2, cur, rest, &n);
        free(cur);
        cur = next;
        assert_true(++pages < 1000);
    }
    expect_same_ids(rest, rest_want);
    for (int i = 0; i < 3; i++) {
        size_t k;
        json_t *v;
        json_array_foreach (rest, k, v)
            assert_true(json_integer_value(v) != newer[i]);
    }
    json_decref(got);
    json_decref(rest);
    json_decref(rest_want);
}

/* ---- concurrency ---- */

#define NTHREADS 8
#define PER_THREAD 10

struct creator {
    int t;
    pthread_barrier_t *start;
    long status[PER_THREAD];
    json_int_t id[PER_THREAD];
    char key[PER_THREAD][96];
};

static void *create_many(void *arg)
{
    struct creator *c = arg;
    pthread_barrier_wait(c->start);
    for (int i = 0; i < PER_THREAD; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"name\":\"conc %d-%d\",\"role\":\"service\"}", c->t, i);
        struct h_opts o = {.key = srv.admin_key, .body = body};
        struct h_resp *r = h_req(&srv, "POST", "/v1/api-keys", &o);
        c->status[i] = r->status;
        c->id[i] = json_integer_value(json_object_get(r->json, "id"));
        const char *k = json_string_value(json_object_get(r->json, "key"));
        snprintf(c->key[i], sizeof c->key[i], "%s", k ? k : "");
        h_resp_free(r);
    }
    return NULL;
}

static int cmp_id(const void *a, const void *b)
{
    json_int_t x = *(const json_int_t *)a, y = *(const json_int_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void concurrent_creation(void **state)
{
    (void)state;
    static struct creator cr[NTHREADS];
    pthread_t th[NTHREADS];
    pthread_barrier_t start;
    json_int_t ids[NTHREADS * PER_THREAD];
    static char keys[NTHREADS * PER_THREAD][96];

    assert_int_equal(pthread_barrier_init(&start, NULL, NTHREADS), 0);
    for (int t = 0; t < NTHREADS; t++) {
        memset(&cr[t], 0, sizeof cr[t]);
        cr[t].t = t;
        cr[t].start = &start;
        assert_int_equal(pthread_create(&th[t], NULL, create_many, &cr[t]), 0);
    }
    for (int t = 0; t < NTHREADS; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);
    pthread_barrier_destroy(&start);

    size_t n = 0;
    for (int t = 0; t < NTHREADS; t++) {
        for (int i = 0; i < PER_THREAD; i++, n++) {
            if (cr[t].status[i] != 201)
                fprintf(stderr, "thread %d request %d: %ld\n", t, i, cr[t].status[i]);
            assert_int_equal(cr[t].status[i], 201);
            ids[n] = cr[t].id[i];
            memcpy(keys[n], cr[t].key[i], sizeof keys[n]);
            assert_true(ids[n] > 0);
            assert_true(strncmp(keys[n], "omb_", 4) == 0);
        }
    }
    qsort(ids, n, sizeof ids[0], cmp_id);
    qsort(keys, n, sizeof keys[0], cmp_str);
    for (size_t i = 1; i < n; i++) {
        assert_true(ids[i] != ids[i - 1]);
        assert_string_not_equal(keys[i], keys[i - 1]);
    }
    assert_int_equal(h_sql_int(&srv, "SELECT count(*) FROM api_keys WHERE name LIKE 'conc %%'"),
                     NTHREADS * PER_THREAD);
    assert_int_equal(h_sql_int(&srv, "SELECT count(DISTINCT key_hash) FROM api_keys"
                                     " WHERE name LIKE 'conc %%'"),
                     NTHREADS * PER_THREAD);
    /* Every one of them works. */
    for (size_t i = 0; i < n; i++) {
        struct h_resp *r = req_as(keys[i], "GET", "/v1/categories", NULL);
        assert_int_equal(r->status, 200);
        h_resp_free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_key_is_401_with_challenge),
        cmocka_unit_test(malformed_authorization_is_401),
        cmocka_unit_test(unknown_key_is_401),
        cmocka_unit_test(bootstrap_admin_key_survives_restarts),
        cmocka_unit_test(create_shows_the_secret_once),
        cmocka_unit_test(every_created_key_is_distinct),
        cmocka_unit_test(create_with_agent_id),
        cmocka_unit_test(validation_names_every_bad_field),
        cmocka_unit_test_teardown(name_of_100_cjk_characters, revoke_long_names),
        cmocka_unit_test_teardown(name_of_100_astral_characters, revoke_long_names),
        cmocka_unit_test(name_edge_cases),
        cmocka_unit_test(name_with_nul_is_400),
        cmocka_unit_test(roles_ladder),
        cmocka_unit_test(only_admin_manages_keys),
        cmocka_unit_test(revoke_takes_effect_at_once),
        cmocka_unit_test(admin_key_revoking_itself),
        cmocka_unit_test(list_pages_newest_first),
        cmocka_unit_test(list_bad_parameters_are_422),
        cmocka_unit_test(query_numbers_are_digits_only),
        cmocka_unit_test(list_is_stable_under_changes),
        cmocka_unit_test(concurrent_creation),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
