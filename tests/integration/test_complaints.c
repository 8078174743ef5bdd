/*
 * Complaints through the real server: intake with its defaults and every
 * validation rule (all bad fields named at once), text stored byte for
 * byte, reading with ETag, who sees what (service keys see only their
 * own), the list with every filter, sort and keyset pagination that stays
 * stable while complaints keep arriving, PATCH with If-Match and its
 * timeline entries, categories, and the role limits on all of it.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server srv;

static char svc_key[96], svc2_key[96], agent_key[96], sup_key[96];
static int64_t team_a, team_b, agent_a, agent_b;

/* ---- helpers ---- */

/* Sends body (stolen; NULL for none) with key and one optional extra header. */
static struct h_resp *call(const char *method, const char *path, const char *key, json_t *body,
                           const char *header)
{
    return h_call_json(&srv, method, path, key, body, header);
}

/* Sends a literal body text. */
static struct h_resp *call_raw(const char *method, const char *path, const char *key,
                               const char *body)
{
    struct h_opts o = {.key = key, .body = body};
    return h_req(&srv, method, path, &o);
}

/* A 422 problem naming exactly the NULL-terminated fields (and no others). */
/* {title, description, customer: {name}}: the least a complaint needs. */
static json_t *minimal(const char *title)
{
    return json_pack("{s:s, s:s, s:{s:s}}", "title", title, "description",
                     "The parcel arrived damaged.", "customer", "name", "Grace Hopper");
}

/* Creates body (stolen) with key; asserts 201 and returns the complaint. */
static json_t *create_as(const char *key, json_t *body)
{
    struct h_resp *r = call("POST", "/v1/complaints", key, body, NULL);
    h_expect_status(r, 201);
    json_t *c = json_incref(r->json);
    h_resp_free(r);
    return c;
}

static int64_t create_id(const char *key, json_t *body)
{
    json_t *c = create_as(key, body);
    int64_t id = h_jint(c, "id");
    json_decref(c);
    return id;
}

static struct h_resp *get_as(const char *key, int64_t id)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/complaints/%lld", (long long)id);
    return call("GET", path, key, NULL, NULL);
}

static json_t *get_ok(int64_t id)
{
    struct h_resp *r = get_as(agent_key, id);
    h_expect_status(r, 200);
    json_t *c = json_incref(r->json);
    h_resp_free(r);
    return c;
}

static struct h_resp *patch_as(const char *key, int64_t id, json_t *body, const char *header)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/complaints/%lld", (long long)id);
    return call("PATCH", path, key, body, header);
}

/* Percent-encodes everything but the unreserved characters. */
static void urlenc(const char *in, char *out, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < len; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~') {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
}

/* GET path with key; asserts a 200 page {items, next_cursor} and returns it. */
static json_t *list_as(const char *key, const char *path)
{
    struct h_resp *r = call("GET", path, key, NULL, NULL);
    h_expect_status(r, 200);
    assert_true(json_is_array(json_object_get(r->json, "items")));
    json_t *next = json_object_get(r->json, "next_cursor");
    assert_true(json_is_null(next) || (json_is_string(next) && json_string_length(next) > 0));
    assert_int_equal(json_object_size(r->json), 2);
    json_t *page = json_incref(r->json);
    h_resp_free(r);
    return page;
}

/* Asserts that the page's items are exactly ids, in that order. */
static void expect_ids(const json_t *page, const int64_t *ids, size_t n)
{
    json_t *items = json_object_get(page, "items");
    if (json_array_size(items) != n) {
        char *dump = json_dumps(items, JSON_COMPACT);
        fprintf(stderr, "expected %zu items, got %zu: %.2000s\n", n, json_array_size(items), dump);
        free(dump);
    }
    assert_int_equal(json_array_size(items), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(h_jint(json_array_get(items, i), "id"), ids[i]);
}

/* Lists path as the agent and expects exactly ids (newest first). */
static void expect_list(const char *path, const int64_t *ids, size_t n)
{
    json_t *page = list_as(agent_key, path);
    expect_ids(page, ids, n);
    assert_true(h_jnull(page, "next_cursor"));
    json_decref(page);
}

/* The timeline of id as the agent. */
static json_t *events_of(int64_t id)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/complaints/%lld/events?limit=200", (long long)id);
    json_t *page = list_as(agent_key, path);
    json_t *items = json_incref(json_object_get(page, "items"));
    json_decref(page);
    return items;
}

/* The last event of kind, borrowed from events. */
static json_t *last_kind(const json_t *events, const char *kind)
{
    json_t *found = NULL;
    size_t i;
    json_t *e;
    json_array_foreach (events, i, e) {
        if (strcmp(h_jstr_must(e, "kind"), kind) == 0)
            found = e;
    }
    if (!found)
        fail_msg("no %s event", kind);
    return found;
}

/* One-cell SQL result as text (NULL for SQL NULL); caller frees. */
static char *repeat(const char *unit, size_t n)
{
    size_t ul = strlen(unit);
    char *s = malloc(ul * n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * ul, unit, ul);
    s[ul * n] = '\0';
    return s;
}

static int setup(void **state)
{
    h_server_start(&srv, NULL);
    h_make_key(&srv, "service", svc_key, sizeof svc_key);
    h_make_key(&srv, "service", svc2_key, sizeof svc2_key);
    h_make_key(&srv, "agent", agent_key, sizeof agent_key);
    h_make_key(&srv, "supervisor", sup_key, sizeof sup_key);
    team_a = h_make_team(&srv, "Front line");
    team_b = h_make_team(&srv, "Specialists");
    agent_a = h_make_agent(&srv, "Ann Agent", "agent", team_a);
    agent_b = h_make_agent(&srv, "Bo Agent", "agent", team_b);
    return 0;
}

static int teardown(void **state)
{
    h_server_stop(&srv, true);
    return 0;
}

/* ---- create ---- */

static void create_minimal_gets_defaults(void **state)
{
    char loc[64], etag[32], want[64];
    struct h_resp *r = call("POST", "/v1/complaints", svc_key, minimal("Broken kettle"), NULL);
    h_expect_status(r, 201);
    const json_t *c = r->json;
    int64_t id = h_jint(c, "id");
    assert_true(id > 0);
    snprintf(want, sizeof want, "/v1/complaints/%lld", (long long)id);
    assert_string_equal(h_header(r, "Location", loc, sizeof loc), want);
    assert_string_equal(h_header(r, "ETag", etag, sizeof etag), "\"v1\"");

    /* CMP- and at least six digits, the id zero-padded. */
    char ref[32];
    snprintf(ref, sizeof ref, "%s", h_jstr_must(c, "reference"));
    assert_int_equal(strncmp(ref, "CMP-", 4), 0);
    assert_true(strlen(ref) >= 10);
    assert_int_equal(strspn(ref + 4, "0123456789"), strlen(ref + 4));
    assert_int_equal(strtoll(ref + 4, NULL, 10), id);

    assert_string_equal(h_jstr_must(c, "title"), "Broken kettle");
    assert_string_equal(h_jstr_must(c, "description"), "The parcel arrived damaged.");
    assert_string_equal(h_jstr_must(c, "status"), "new");
    assert_int_equal(h_jint(c, "version"), 1);
    assert_string_equal(h_jstr_must(c, "channel"), "api");
    assert_string_equal(h_jstr_must(c, "category"), "other");
    assert_string_equal(h_jstr_must(c, "grade"), "explicit");
    assert_string_equal(h_jstr_must(c, "priority"), "normal");
    assert_true(h_jnull(c, "demand"));
    assert_true(h_jnull(c, "demand_detail"));
    assert_true(json_is_array(json_object_get(c, "tags")));
    assert_int_equal(json_array_size(json_object_get(c, "tags")), 0);
    assert_true(h_jnull(c, "team_id"));
    assert_true(h_jnull(c, "assignee_id"));
    assert_true(h_jnull(c, "external_ref"));
    assert_int_equal(h_jint(c, "escalation_level"), 0);
    assert_int_equal(h_jint(c, "reopen_count"), 0);
    assert_true(h_jnull(c, "resolution"));
    assert_true(h_jnull(c, "satisfaction"));
    assert_true(h_jnull(c, "first_response_at"));
    assert_true(h_jnull(c, "resolved_at"));
    assert_true(h_jnull(c, "closed_at"));
    const char *created = h_jstr_must(c, "created_at");
    assert_int_equal(strlen(created), 20);
    assert_int_equal(created[10], 'T');
    assert_int_equal(created[19], 'Z');
    assert_string_equal(h_jstr_must(c, "updated_at"), created);

    json_t *cust = json_object_get(c, "customer");
    assert_string_equal(h_jstr_must(cust, "name"), "Grace Hopper");
    assert_string_equal(h_jstr_must(cust, "tier"), "standard");
    assert_true(h_jnull(cust, "external_id"));
    assert_true(h_jnull(cust, "email"));
    assert_true(h_jnull(cust, "phone"));

    /* The seeded catch-all SLA policy applies from the start. */
    json_t *sla = json_object_get(c, "sla");
    assert_true(json_is_object(sla));
    assert_true(json_is_integer(json_object_get(sla, "policy_id")));
    assert_true(json_is_string(json_object_get(json_object_get(sla, "first_response"), "due_at")));
    assert_true(json_is_string(json_object_get(json_object_get(sla, "resolution"), "due_at")));

    /* GET at Location: the same complaint and ETag (the SLA countdown moves on). */
    struct h_resp *g = call("GET", want, svc_key, NULL, NULL);
    h_expect_status(g, 200);
    assert_string_equal(h_header(g, "ETag", etag, sizeof etag), "\"v1\"");
    json_t *a = json_deep_copy(r->json), *b = json_deep_copy(g->json);
    json_object_del(a, "sla");
    json_object_del(b, "sla");
    assert_true(json_equal(a, b));
    json_decref(a);
    json_decref(b);
    h_resp_free(g);
    h_resp_free(r);

    /* Timeline: created, by the service key. */
    json_t *ev = events_of(id);
    assert_int_equal(json_array_size(ev), 1);
    json_t *e = json_array_get(ev, 0);
    assert_string_equal(h_jstr_must(e, "kind"), "created");
    assert_string_equal(h_jstr_must(json_object_get(e, "actor"), "role"), "service");
    assert_string_equal(h_jstr_must(json_object_get(e, "data"), "reference"), ref);
    json_decref(ev);
}

static void create_priority_defaults_from_grade(void **state)
{
    static const char *const cases[][3] = {
        /* grade, priority sent (NULL: none), priority expected */
        {"potential", NULL, "low"},        {"explicit", NULL, "normal"},
        {"high_risk", NULL, "urgent"},     {"high_risk", "low", "low"},
        {"potential", "urgent", "urgent"}, {"explicit", "high", "high"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *b = minimal("Grade check");
        json_object_set_new(b, "grade", json_string(cases[i][0]));
        if (cases[i][1])
            json_object_set_new(b, "priority", json_string(cases[i][1]));
        json_t *c = create_as(svc_key, b);
        assert_string_equal(h_jstr_must(c, "grade"), cases[i][0]);
        assert_string_equal(h_jstr_must(c, "priority"), cases[i][2]);
        json_decref(c);
    }
    /* priority null means the default too. */
    json_t *b = minimal("Null priority");
    json_object_set_new(b, "grade", json_string("high_risk"));
    json_object_set_new(b, "priority", json_null());
    json_t *c = create_as(svc_key, b);
    assert_string_equal(h_jstr_must(c, "priority"), "urgent");
    json_decref(c);
}

static void create_with_every_field(void **state)
{
    json_t *b = json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s}, s:s, s:s, s:s, s:s, s:s, s:s, s:[s,s,s],"
        " s:I, s:I, s:s}",
        "title", "Refund refused", "description", "Shop refuses the refund for a broken TV.",
        "customer", "name", "Lin Mei", "external_id", "crm-4711", "email", "lin@example.com",
        "phone", "+86 10 5555 0100", "tier", "vip", "channel", "phone", "category", "billing",
        "grade", "high_risk", "priority", "high", "demand", "refund", "demand_detail",
        "Full refund of 3999 CNY", "tags", "vip", "media", "退款", "team_id", (json_int_t)team_a,
        "assignee_id", (json_int_t)agent_a, "external_ref", "ERP-2026-001");
    json_t *sent = json_deep_copy(b);
    json_t *c = create_as(agent_key, b);
    const char *keys[] = {"title",    "description", "channel",       "category",    "grade",
                          "priority", "demand",      "demand_detail", "external_ref"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_string_equal(h_jstr_must(c, keys[i]), h_jstr_must(sent, keys[i]));
    assert_true(json_equal(json_object_get(c, "customer"), json_object_get(sent, "customer")));
    assert_true(json_equal(json_object_get(c, "tags"), json_object_get(sent, "tags")));
    assert_int_equal(h_jint(c, "team_id"), team_a);
    assert_int_equal(h_jint(c, "assignee_id"), agent_a);
    assert_string_equal(h_jstr_must(c, "status"), "new");

    /* The timeline records the assignment along with the creation. */
    json_t *ev = events_of(h_jint(c, "id"));
    assert_int_equal(json_array_size(ev), 2);
    assert_string_equal(h_jstr_must(json_array_get(ev, 0), "kind"), "created");
    json_t *as = json_object_get(last_kind(ev, "assigned"), "data");
    assert_true(h_jnull(json_object_get(as, "team_id"), "from"));
    assert_int_equal(h_jint(json_object_get(as, "team_id"), "to"), team_a);
    assert_int_equal(h_jint(json_object_get(as, "assignee_id"), "to"), agent_a);
    json_decref(ev);
    json_decref(sent);
    json_decref(c);
}

static void create_unknown_fields_are_named(void **state)
{
    json_t *b = minimal("Unknown fields");
    json_object_set_new(b, "foo", json_integer(1));
    json_object_set_new(b, "status", json_string("closed"));
    json_object_set_new(json_object_get(b, "customer"), "foo", json_string("x"));
    json_object_set_new(json_object_get(b, "customer"), "address", json_object());
    struct h_resp *r = call("POST", "/v1/complaints", svc_key, b, NULL);
    h_expect_fields(
        r, (const char *const[]){"foo", "status", "customer.foo", "customer.address", NULL});
    h_resp_free(r);

    /* Server-assigned fields are not accepted either. */
    b = minimal("Server fields");
    json_object_set_new(b, "id", json_integer(5));
    json_object_set_new(b, "reference", json_string("CMP-000005"));
    json_object_set_new(b, "version", json_integer(3));
    r = call("POST", "/v1/complaints", svc_key, b, NULL);
    h_expect_fields(r, (const char *const[]){"id", "reference", "version", NULL});
    h_resp_free(r);
}

static void create_missing_and_wrong_types(void **state)
{
    struct h_resp *r = call_raw("POST", "/v1/complaints", svc_key, "{}");
    h_expect_fields(r, (const char *const[]){"title", "description", "customer", NULL});
    h_resp_free(r);

    r = call_raw("POST", "/v1/complaints", svc_key,
                 "{\"title\":\"t\",\"description\":\"d\",\"customer\":{}}");
    h_expect_fields(r, (const char *const[]){"customer.name", NULL});
    h_resp_free(r);

    r = call_raw("POST", "/v1/complaints", svc_key,
                 "{\"title\":null,\"description\":null,\"customer\":null}");
    h_expect_fields(r, (const char *const[]){"title", "description", "customer", NULL});
    h_resp_free(r);

    r = call_raw("POST", "/v1/complaints", svc_key,
                 "{\"title\":1,\"description\":[],\"customer\":\"Bob\",\"channel\":5,"
                 "\"category\":true,\"grade\":{},\"priority\":1,\"demand\":[],"
                 "\"demand_detail\":2,\"tags\":\"a\",\"team_id\":\"1\",\"assignee_id\":1.5,"
                 "\"external_ref\":7}");
    h_expect_fields(r,
                    (const char *const[]){"title", "description", "customer", "channel", "category",
                                          "grade", "priority", "demand", "demand_detail", "tags",
                                          "team_id", "assignee_id", "external_ref", NULL});
    h_resp_free(r);

    r = call_raw("POST", "/v1/complaints", svc_key,
                 "{\"title\":\"t\",\"description\":\"d\",\"customer\":{\"name\":7,"
                 "\"external_id\":1,\"email\":false,\"phone\":[],\"tier\":2}}");
    h_expect_fields(r,
                    (const char *const[]){"customer.name", "customer.external_id", "customer.email",
                                          "customer.phone", "customer.tier", NULL});
    h_resp_free(r);

    /* Not an object at all: 400. */
    const char *bad[] = {"[]", "\"complaint\"", "null", "{\"title\":"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = call_raw("POST", "/v1/complaints", svc_key, bad[i]);
        h_expect_problem(r, 400);
        h_resp_free(r);
    }
}

static void create_length_limits(void **state)
{
    /* Lengths count characters, not bytes: 200 four-byte emoji are fine. */
    char *t200 = repeat("\xf0\x9f\x98\x80", 200);
    json_t *b = minimal(t200);
    json_t *c = create_as(svc_key, b);
    assert_string_equal(h_jstr_must(c, "title"), t200);
    char sql[160];
    snprintf(
        sql, sizeof sql,
        "SELECT char_length(title) || '/' || octet_length(title) FROM complaints WHERE id = %lld",
        (long long)h_jint(c, "id"));
    char *lens = h_sql_value(&srv, "%s", sql);
    assert_string_equal(lens, "200/800");
    free(lens);
    json_decref(c);
    free(t200);

    char *t201 = repeat("\xc3\xa9", 201);
    struct h_resp *r = call("POST", "/v1/complaints", svc_key, minimal(t201), NULL);
    h_expect_fields(r, (const char *const[]){"title", NULL});
    h_resp_free(r);
    free(t201);

    r = call("POST", "/v1/complaints", svc_key, minimal(""), NULL);
    h_expect_fields(r, (const char *const[]){"title", NULL});
    h_resp_free(r);

    /* Description: 20001 characters are too many (20000: see below). */
    char *d = repeat("x", 20001);
    b = minimal("Too long description");
    json_object_set_new(b, "description", json_string(d));
    r = call("POST", "/v1/complaints", svc_key, b, NULL);
    h_expect_fields(r, (const char *const[]){"description", NULL});
    h_resp_free(r);
    free(d);
    b = minimal("Empty description");
    json_object_set_new(b, "description", json_string(""));
    r = call("POST", "/v1/complaints", svc_key, b, NULL);
    h_expect_fields(r, (const char *const[]){"description", NULL});
    h_resp_free(r);

    /* Everything too long at once, each named. */
    char *s201 = repeat("n", 201), *s51 = repeat("p", 51), *s5001 = repeat("w", 5001);
    b = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:s, s:s}", "title", "Many long", "description",
                  "d", "customer", "name", s201, "external_id", s201, "phone", s51, "demand_detail",
                  s5001, "external_ref", s201);
    r = call("POST", "/v1/complaints", svc_key, b, NULL);
    h_expect_fields(r,
                    (const char *const[]){"customer.name", "customer.external_id", "customer.phone",
                                          "demand_detail", "external_ref", NULL});
    h_resp_free(r);
    free(s201);
    free(s51);
    free(s5001);
}

/* The longest description the contract allows is stored, and the
 * complaint stays writable. */
static void create_longest_description(void **state)
{
    char *d = repeat("\xe9\x80\x80", 20000);
    json_t *b = minimal("Longest description");
    json_object_set_new(b, "description", json_string(d));
    struct h_resp *r = call("POST", "/v1/complaints", svc_key, b, NULL);
    h_expect_status(r, 201);
    int64_t id = h_jint(r->json, "id");
    assert_string_equal(h_jstr_must(r->json, "description"), d);
    h_resp_free(r);
    r = patch_as(agent_key, id, json_pack("{s:s}", "title", "Longest description, edited"), NULL);
    h_expect_status(r, 200);
    h_resp_free(r);
    free(d);
}

static void create_bad_enums_and_email(void **state)
{
    json_t *b = json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:s, s:s, s:s, s:s}", "title", "Enums",
                          "description", "d", "customer", "name", "Kim", "tier", "gold", "email",
                          "not-an-address", "channel", "fax", "grade", "furious", "priority",
                          "asap", "demand", "revenge");
    struct h_resp *r = call("POST", "/v1/complaints", svc_key, b, NULL);
    h_expect_fields(r, (const char *const[]){"customer.tier", "customer.email", "channel", "grade",
                                             "priority", "demand", NULL});
    h_resp_free(r);

    /* Enums are exact: no case folding, no padding. */
    const char *chans[] = {"Phone", "phone ", "", "in-person"};
    for (size_t i = 0; i < sizeof chans / sizeof chans[0]; i++) {
        b = minimal("Channel");
        json_object_set_new(b, "channel", json_string(chans[i]));
        r = call("POST", "/v1/complaints", svc_key, b, NULL);
        h_expect_fields(r, (const char *const[]){"channel", NULL});
        h_resp_free(r);
    }

    const char *bad_mail[] = {"a@b@c", "@example.com", "user@", "us er@example.com", "plain"};
    for (size_t i = 0; i < sizeof bad_mail / sizeof bad_mail[0]; i++) {
        b = minimal("Mail");
        json_object_set_new(json_object_get(b, "customer"), "email", json_string(bad_mail[i]));
        r = call("POST", "/v1/complaints", svc_key, b, NULL);
        h_expect_fields(r, (const char *const[]){"customer.email", NULL});
        h_resp_free(r);
    }

    /* Every valid value of every enum is accepted. */
    const char *ok_chans[] = {"phone", "chat", "email", "web", "social", "in_person", "api"};
    for (size_t i = 0; i < sizeof ok_chans / sizeof ok_chans[0]; i++) {
        b = minimal("Channel ok");
        json_object_set_new(b, "channel", json_string(ok_chans[i]));
        json_t *c = create_as(svc_key, b);
        assert_string_equal(h_jstr_must(c, "channel"), ok_chans[i]);
        json_decref(c);
    }
    const char *demands[] = {"explanation",  "repair",  "replacement", "refund",
                             "compensation", "apology", "other"};
    for (size_t i = 0; i < sizeof demands / sizeof demands[0]; i++) {
        b = minimal("Demand ok");
        json_object_set_new(b, "demand", json_string(demands[i]));
        json_t *c = create_as(svc_key, b);
        assert_string_equal(h_jstr_must(c, "demand"), demands[i]);
        json_decref(c);
    }
}

static void create_tag_rules(void **state)
{
    json_t *tags = json_array();
    for (int i = 0; i < 21; i++)
        json_array_append_new(tags, json_sprintf("tag%d", i));
    json_t *b = minimal("Too many tags");
    json_object_set(b, "tags", tags);
    struct h_resp *r = call("POST", "/v1/complaints", svc_key, b, NULL);
    h_expect_fields(r, (const char *const[]){"tags", NULL});
    h_resp_free(r);

    /* Twenty is the limit, and fine. */
    json_array_remove(tags, 20);
    b = minimal("Twenty tags");
    json_object_set(b, "tags", tags);
    json_t *c = create_as(svc_key, b);
    assert_true(json_equal(json_object_get(c, "tags"), tags));
    json_decref(c);
    json_decref(tags);

    /* The bad tag at index 3 is named by its index. */
    char *t50 = repeat("\xe6\xac\xbe", 50), *t51 = repeat("a", 51);
    json_t *bad3[] = {json_string("a"), json_string(""), json_string(t51), json_integer(3),
                      json_null()};
    for (size_t i = 0; i < sizeof bad3 / sizeof bad3[0]; i++) {
        b = minimal("Bad tag");
        json_object_set_new(b, "tags", json_pack("[s, s, s, o]", "a", "b", "c", bad3[i]));
        r = call("POST", "/v1/complaints", svc_key, b, NULL);
        h_expect_fields(r, (const char *const[]){"tags[3]", NULL});
        h_resp_free(r);
    }
    /* 50 characters (of any script) is the longest tag; order is kept. */
    b = minimal("Long tag");
    json_object_set_new(b, "tags", json_pack("[s, s, s]", "zeta", t50, "alpha"));
    c = create_as(svc_key, b);
    json_t *want = json_pack("[s, s, s]", "zeta", t50, "alpha");
    assert_true(json_equal(json_object_get(c, "tags"), want));
    json_decref(want);
    json_decref(c);
    free(t50);
    free(t51);

    /* tags: null is no tags. */
    b = minimal("Null tags");
    json_object_set_new(b, "tags", json_null());
    c = create_as(svc_key, b);
    assert_int_equal(json_array_size(json_object_get(c, "tags")), 0);
    json_decref(c);
}

static void create_unknown_references(void **state)
{
    json_t *b = minimal("Unknown refs");
    json_object_set_new(b, "team_id", json_integer(987654));
    json_object_set_new(b, "assignee_id", json_integer(987654));
    json_object_set_new(b, "category", json_string("no_such_category"));
    struct h_resp *r = call("POST", "/v1/complaints", svc_key, b, NULL);
    h_expect_fields(r, (const char *const[]){"team_id", "assignee_id", "category", NULL});
    h_resp_free(r);

    /* Out of range ids are named without a look-up. */
    b = minimal("Zero refs");
    json_object_set_new(b, "team_id", json_integer(0));
    json_object_set_new(b, "assignee_id", json_integer(-4));
    r = call("POST", "/v1/complaints", svc_key, b, NULL);
    h_expect_fields(r, (const char *const[]){"team_id", "assignee_id", NULL});
    h_resp_free(r);

    /* Nothing was stored by any of the refused requests. */
    char *n = h_sql_value(
        &srv, "%s", "SELECT count(*) FROM complaints WHERE title IN ('Unknown refs', 'Zero refs')");
    assert_string_equal(n, "0");
    free(n);
}

/* "errors naming every bad field": a request with a bad title and an
 * unknown team must name both, not the title now and the team on retry. */
static void create_names_unknown_references_with_other_errors(void **state)
{
    json_t *b = minimal("");
    json_object_set_new(b, "team_id", json_integer(987654));
    json_object_set_new(b, "category", json_string("no_such_category"));
    struct h_resp *r = call("POST", "/v1/complaints", svc_key, b, NULL);
    h_expect_fields(r, (const char *const[]){"title", "team_id", "category", NULL});
    h_resp_free(r);
}

static void create_text_is_stored_exactly(void **state)
{
    const char *title =
        "\xf0\x9f\x98\x80\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd \xe6\x88\x91\xe8\xa6\x81"
        "\xe9\x80\x80\xe6\xac\xbe \"quoted\" 'single' \\back\\slash\\ \xf0\xa0\x80\x80";
    const char *desc =
        "line one\nline two\r\nline three\ttabbed\n"
        "\xe4\xb8\xad\xe6\x96\x87\xef\xbc\x9a\xe6\x88\x91\xe8\xa6\x81\xe9\x80\x80\xe6\xac\xbe\xef"
        "\xbc"
        "\x8c\xe5\x95\x86\xe5\x93\x81\xe6\x9c\x89\xe8\xb4\xa8\xe9\x87\x8f\xe9\x97\xae\xe9\xa2\x98"
        "\xe3"
        "\x80\x82\n"
        "family \xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7 "
        "zero\xe2\x80"
        "\x8bwidth e\xcc\x81 vs \xc3\xa9\n"
        "rtl \xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7 \xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d\n"
        "sql '; DROP TABLE complaints; -- $1 $$ E'\\x00' %s %n %%\n"
        "json {\"a\": [1, \"\\u0041\"]} </script><b>&amp;</b>\n"
        "escape \x1b[31mred\x1b[0m \x7f end  ";
    const char *name = "\xe5\xbc\xa0\xe4\xbc\x9f \"Zh\xc4\x81ng\" O'Brien\\";
    const char *detail = "\xe9\x80\x80\xe6\xac\xbe 100% \xe2\x82\xac\n\\n";
    json_t *b = json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:[s, s], s:s}", "title", title,
                          "description", desc, "customer", "name", name, "phone",
                          "+49 (0)30 \xe2\x80\x93 12", "demand_detail", detail, "tags",
                          "\xe9\x80\x80\xe6\xac\xbe", "a\"b\\c", "external_ref", "ref\t1");
    json_t *c = create_as(svc_key, b);
    int64_t id = h_jint(c, "id");
    assert_string_equal(h_jstr_must(c, "title"), title);
    assert_string_equal(h_jstr_must(c, "description"), desc);
    assert_string_equal(h_jstr_must(json_object_get(c, "customer"), "name"), name);
    assert_string_equal(h_jstr_must(c, "demand_detail"), detail);
    json_decref(c);

    c = get_ok(id);
    assert_string_equal(h_jstr_must(c, "title"), title);
    assert_string_equal(h_jstr_must(c, "description"), desc);
    assert_string_equal(h_jstr_must(json_object_get(c, "customer"), "name"), name);
    assert_string_equal(h_jstr_must(json_object_get(c, "customer"), "phone"),
                        "+49 (0)30 \xe2\x80\x93 12");
    assert_string_equal(h_jstr_must(c, "external_ref"), "ref\t1");
    json_t *tags = json_pack("[s, s]", "\xe9\x80\x80\xe6\xac\xbe", "a\"b\\c");
    assert_true(json_equal(json_object_get(c, "tags"), tags));
    json_decref(c);

    /* The database holds exactly these bytes. */
    char sql[300];
    snprintf(sql, sizeof sql,
             "SELECT title, description, customer_name, demand_detail, customer_phone,"
             " external_ref, tags[1], tags[2], cardinality(tags),"
             " octet_length(title), octet_length(description) FROM complaints WHERE id = %lld",
             (long long)id);
    json_t *rows = h_sql(&srv, sql);
    json_t *row = json_array_get(rows, 0);
    assert_string_equal(json_string_value(json_array_get(row, 0)), title);
    assert_string_equal(json_string_value(json_array_get(row, 1)), desc);
    assert_string_equal(json_string_value(json_array_get(row, 2)), name);
    assert_string_equal(json_string_value(json_array_get(row, 3)), detail);
    assert_string_equal(json_string_value(json_array_get(row, 4)), "+49 (0)30 \xe2\x80\x93 12");
    assert_string_equal(json_string_value(json_array_get(row, 5)), "ref\t1");
    assert_string_equal(json_string_value(json_array_get(row, 6)), "\xe9\x80\x80\xe6\xac\xbe");
    assert_string_equal(json_string_value(json_array_get(row, 7)), "a\"b\\c");
    assert_string_equal(json_string_value(json_array_get(row, 8)), "2");
    assert_int_equal(strtol(json_string_value(json_array_get(row, 9)), NULL, 10), strlen(title));
    assert_int_equal(strtol(json_string_value(json_array_get(row, 10)), NULL, 10), strlen(desc));
    json_decref(rows);
    json_decref(tags);

    /* JSON escapes in the request become the characters they stand for. */
    struct h_resp *r =
        call_raw("POST", "/v1/complaints", svc_key,
                 "{\"title\":\"\\ud83d\\ude00 \\u9000\\u6b3e \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t\","
                 "\"description\":\"\\u00e9\\u0301\",\"customer\":{\"name\":\"\\u5f20\\u4f1f\"}}");
    h_expect_status(r, 201);
    const char *want_title = "\xf0\x9f\x98\x80 \xe9\x80\x80\xe6\xac\xbe \"q\" \\ / \b\f\n\r\t";
    assert_string_equal(h_jstr_must(r->json, "title"), want_title);
    snprintf(sql, sizeof sql,
             "SELECT title, description, customer_name FROM complaints WHERE id = %lld",
             (long long)h_jint(r->json, "id"));
    h_resp_free(r);
    rows = h_sql(&srv, sql);
    row = json_array_get(rows, 0);
    assert_string_equal(json_string_value(json_array_get(row, 0)), want_title);
    assert_string_equal(json_string_value(json_array_get(row, 1)), "\xc3\xa9\xcc\x81");
    assert_string_equal(json_string_value(json_array_get(row, 2)), "\xe5\xbc\xa0\xe4\xbc\x9f");
    json_decref(rows);

    /* NUL cannot be stored: the JSON parser refuses it wherever it appears. */
    const char *nul[] = {
        "{\"title\":\"a\\u0000b\",\"description\":\"d\",\"customer\":{\"name\":\"n\"}}",
        "{\"title\":\"t\",\"description\":\"\\u0000\",\"customer\":{\"name\":\"n\"}}",
        "{\"title\":\"t\",\"description\":\"d\",\"customer\":{\"name\":\"n\\u0000\"}}",
        "{\"title\":\"t\",\"description\":\"d\",\"customer\":{\"name\":\"n\"},"
        "\"tags\":[\"x\\u0000\"]}",
    };
    for (size_t i = 0; i < sizeof nul / sizeof nul[0]; i++) {
        r = call_raw("POST", "/v1/complaints", svc_key, nul[i]);
        h_expect_problem(r, 400);
        h_resp_free(r);
    }
    /* Invalid UTF-8 inside a field: 400 too. */
    r = call_raw("POST", "/v1/complaints", svc_key,
                 "{\"title\":\"\xe9\x80\",\"description\":\"d\",\"customer\":{\"name\":\"n\"}}");
    h_expect_problem(r, 400);
    h_resp_free(r);
}

static void create_roles(void **state)
{
    struct h_resp *r = call("POST", "/v1/complaints", NULL, minimal("No key"), NULL);
    h_expect_problem(r, 401);
    h_resp_free(r);
    r = call("POST", "/v1/complaints", "not-a-real-key", minimal("Bad key"), NULL);
    h_expect_problem(r, 401);
    h_resp_free(r);
    const char *keys[] = {svc_key, agent_key, sup_key, srv.admin_key};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *c = create_as(keys[i], minimal("Any key creates"));
        assert_string_equal(h_jstr_must(c, "status"), "new");
        json_decref(c);
    }
    /* Reading needs a key too. */
    r = call("GET", "/v1/complaints", NULL, NULL, NULL);
    h_expect_problem(r, 401);
    h_resp_free(r);
    r = call("GET", "/v1/complaints/1", NULL, NULL, NULL);
    h_expect_problem(r, 401);
    h_resp_free(r);
}

/* ---- read ---- */

static void get_unknown_is_404(void **state)
{
    const char *paths[] = {"/v1/complaints/987654",
                           "/v1/complaints/0",
                           "/v1/complaints/abc",
                           "/v1/complaints/-1",
                           "/v1/complaints/99999999999999999999",
                           "/v1/complaints/1.5"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct h_resp *r = call("GET", paths[i], agent_key, NULL, NULL);
        h_expect_problem(r, 404);
        h_resp_free(r);
    }
}

static void service_keys_see_only_their_own(void **state)
{
    int64_t a1 = create_id(svc_key, minimal("Mine one"));
    int64_t a2 = create_id(svc_key, minimal("Mine two"));
    int64_t b1 = create_id(svc2_key, minimal("Theirs"));

    struct h_resp *r = get_as(svc_key, b1);
    h_expect_problem(r, 404);
    h_resp_free(r);
    r = get_as(svc2_key, a1);
    h_expect_problem(r, 404);
    h_resp_free(r);
    r = get_as(svc_key, a2);
    h_expect_status(r, 200);
    h_resp_free(r);
    /* Agents and above see every complaint. */
    const char *keys[] = {agent_key, sup_key, srv.admin_key};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        r = get_as(keys[i], b1);
        h_expect_status(r, 200);
        h_resp_free(r);
        r = get_as(keys[i], a1);
        h_expect_status(r, 200);
        h_resp_free(r);
    }
    /* Nor may a service key read another's timeline or notes. */
    char path[96];
    snprintf(path, sizeof path, "/v1/complaints/%lld/notes", (long long)a1);
    r = call("GET", path, svc2_key, NULL, NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);

    /* Lists: svc2 sees exactly its one complaint. */
    json_t *page = list_as(svc2_key, "/v1/complaints");
    expect_ids(page, (int64_t[]){b1}, 1);
    json_decref(page);
    /* svc sees only its own, all of them, even when filtering. */
    page = list_as(svc_key, "/v1/complaints?limit=200");
    json_t *items = json_object_get(page, "items");
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT created_by_key_id FROM complaints WHERE id = %lld",
             (long long)a1);
    char *svc_id = h_sql_value(&srv, "%s", sql);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM complaints WHERE created_by_key_id = %s",
             svc_id);
    char *own = h_sql_value(&srv, "%s", sql);
    assert_int_equal(json_array_size(items), strtol(own, NULL, 10));
    size_t i;
    json_t *it;
    bool saw_a1 = false, saw_a2 = false;
    json_array_foreach (items, i, it) {
        assert_int_not_equal(h_jint(it, "id"), b1);
        saw_a1 |= h_jint(it, "id") == a1;
        saw_a2 |= h_jint(it, "id") == a2;
    }
    assert_true(saw_a1 && saw_a2);
    json_decref(page);
    free(own);
    free(svc_id);
    page = list_as(svc_key, "/v1/complaints?q=Theirs");
    expect_ids(page, NULL, 0);
    json_decref(page);
    page = list_as(agent_key, "/v1/complaints?q=Theirs");
    expect_ids(page, (int64_t[]){b1}, 1);
    json_decref(page);
}

/* ---- list ---- */

static void list_sort_orders(void **state)
{
    int64_t ids[3];
    for (int i = 0; i < 3; i++) {
        json_t *b = minimal("Sorted");
        json_object_set_new(json_object_get(b, "customer"), "external_id", json_string("sort-run"));
        ids[i] = create_id(svc_key, b);
    }
    expect_list("/v1/complaints?customer_external_id=sort-run", (int64_t[]){ids[2], ids[1], ids[0]},
                3);
    expect_list("/v1/complaints?customer_external_id=sort-run&sort=-created_at",
                (int64_t[]){ids[2], ids[1], ids[0]}, 3);
    expect_list("/v1/complaints?customer_external_id=sort-run&sort=created_at",
                (int64_t[]){ids[0], ids[1], ids[2]}, 3);
    /* due_at is a sort too (soonest first); all three share one policy. */
    expect_list("/v1/complaints?customer_external_id=sort-run&sort=due_at",
                (int64_t[]){ids[0], ids[1], ids[2]}, 3);

    const char *bad[] = {"title", "created", "+created_at", "CREATED_AT", "", "-due_at", "id"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[96];
        snprintf(path, sizeof path, "/v1/complaints?sort=%s", bad[i]);
        struct h_resp *r = call("GET", path, agent_key, NULL, NULL);
        h_expect_fields(r, (const char *const[]){"sort", NULL});
        h_resp_free(r);
    }
}

/* Creates one complaint for the filter tests. */
static int64_t filter_case(const char *channel, const char *category, const char *grade,
                           const char *priority, int64_t team, int64_t assignee)
{
    json_t *b = minimal("Filtered");
    json_object_set_new(json_object_get(b, "customer"), "external_id", json_string("filters"));
    if (channel)
        json_object_set_new(b, "channel", json_string(channel));
    if (category)
        json_object_set_new(b, "category", json_string(category));
    if (grade)
        json_object_set_new(b, "grade", json_string(grade));
    if (priority)
        json_object_set_new(b, "priority", json_string(priority));
    if (team)
        json_object_set_new(b, "team_id", json_integer(team));
    if (assignee)
        json_object_set_new(b, "assignee_id", json_integer(assignee));
    return create_id(svc_key, b);
}

static void list_filters(void **state)
{
    int64_t f1 = filter_case("phone", "billing", "potential", NULL, team_a, agent_a);
    int64_t f2 = filter_case("email", "delivery", "high_risk", NULL, team_b, 0);
    int64_t f3 = filter_case("web", "billing", "explicit", "high", team_a, agent_b);
    int64_t f4 = filter_case(NULL, NULL, NULL, NULL, 0, 0);
    char path[256];
    snprintf(path, sizeof path, "/v1/complaints/%lld/transitions", (long long)f3);
    struct h_resp *r =
        call("POST", path, agent_key, json_pack("{s:s}", "action", "acknowledge"), NULL);
    h_expect_status(r, 200);
    h_resp_free(r);

#define F "/v1/complaints?customer_external_id=filters"
    expect_list(F, (int64_t[]){f4, f3, f2, f1}, 4);
    expect_list(F "&status=new", (int64_t[]){f4, f2, f1}, 3);
    expect_list(F "&status=acknowledged", (int64_t[]){f3}, 1);
    expect_list(F "&status=new,acknowledged", (int64_t[]){f4, f3, f2, f1}, 4);
    expect_list(F "&status=closed,resolved", NULL, 0);
    expect_list(F "&priority=low,urgent", (int64_t[]){f2, f1}, 2);
    expect_list(F "&priority=high", (int64_t[]){f3}, 1);
    expect_list(F "&priority=normal", (int64_t[]){f4}, 1);
    expect_list(F "&grade=high_risk", (int64_t[]){f2}, 1);
    expect_list(F "&grade=potential,explicit", (int64_t[]){f4, f3, f1}, 3);
    expect_list(F "&category=billing", (int64_t[]){f3, f1}, 2);
    expect_list(F "&category=billing,delivery", (int64_t[]){f3, f2, f1}, 3);
    expect_list(F "&category=other", (int64_t[]){f4}, 1);
    expect_list(F "&channel=phone,email", (int64_t[]){f2, f1}, 2);
    expect_list(F "&channel=api", (int64_t[]){f4}, 1);
    snprintf(path, sizeof path, F "&team_id=%lld", (long long)team_a);
    expect_list(path, (int64_t[]){f3, f1}, 2);
    snprintf(path, sizeof path, F "&assignee_id=%lld", (long long)agent_b);
    expect_list(path, (int64_t[]){f3}, 1);
    snprintf(path, sizeof path, F "&team_id=%lld&assignee_id=%lld", (long long)team_a,
             (long long)agent_a);
    expect_list(path, (int64_t[]){f1}, 1);
    snprintf(path, sizeof path, F "&team_id=%lld&assignee_id=%lld", (long long)team_b,
             (long long)agent_a);
    expect_list(path, NULL, 0);
    expect_list(F "&category=billing&channel=web&status=acknowledged", (int64_t[]){f3}, 1);
    expect_list(F "&category=billing&channel=email", NULL, 0);
    expect_list("/v1/complaints?customer_external_id=nobody-has-this", NULL, 0);
    /* A well-formed key that names no category simply matches nothing. */
    expect_list(F "&category=no_such_category", NULL, 0);
    /* sla_state: all four run on the default policy's fresh clocks. */
    expect_list(F "&sla_state=on_track", (int64_t[]){f4, f3, f2, f1}, 4);
    expect_list(F "&sla_state=breached,paused", NULL, 0);

    /* Time filters: created_after is inclusive, created_before exclusive. */
    char sql[300];
    snprintf(sql, sizeof sql,
             "UPDATE complaints SET created_at = CASE id WHEN %lld THEN '2022-01-01T00:00:00Z'"
             " WHEN %lld THEN '2021-01-01T00:00:00Z' ELSE '2020-01-01T00:00:00Z' END::timestamptz"
             " WHERE id IN (%lld, %lld, %lld)",
             (long long)f1, (long long)f2, (long long)f1, (long long)f2, (long long)f3);
    json_decref(h_sql(&srv, sql));
    /* f1: 2022, f2: 2021, f3: 2020, f4: now. */
    expect_list(F "&created_after=2021-01-01T00:00:00Z", (int64_t[]){f4, f1, f2}, 3);
    expect_list(F "&created_before=2021-01-01T00:00:00Z", (int64_t[]){f3}, 1);
    expect_list(F "&created_after=2020-06-01T00:00:00Z&created_before=2022-01-01T00:00:00Z",
                (int64_t[]){f2}, 1);
    expect_list(F "&created_after=2020-12-31T23:59:59.999999Z", (int64_t[]){f4, f1, f2}, 3);
    /* Offsets count: 08:00+08:00 is midnight UTC ('+' must be encoded). */
    expect_list(F "&created_before=2021-01-01T08:00:00%2B08:00", (int64_t[]){f3}, 1);
    expect_list(F "&created_after=2020-12-31T19:00:00-05:00", (int64_t[]){f4, f1, f2}, 3);
    expect_list(F "&created_before=2019-01-01T00:00:00Z", NULL, 0);
    /* The order follows created_at, not the id. */
    expect_list(F, (int64_t[]){f4, f1, f2, f3}, 4);
    expect_list(F "&sort=created_at", (int64_t[]){f3, f2, f1, f4}, 4);
#undef F
}

/* The earliest instant RFC 3339 can write in UTC is still a valid filter. */
/* Each shape of the list stays prepared on its connection, at most 32
 * of them, the least recently used replaced: more shapes than that (44),
 * in turn and again, answer the same each time (the rows of
 * list_filters). */
static void list_shapes_stay_prepared(void **state)
{
    static const char *const shapes[] = {"",
                                         "&status=new",
                                         "&status=acknowledged",
                                         "&status=new,acknowledged",
                                         "&status=closed,resolved",
                                         "&priority=low,urgent",
                                         "&priority=high",
                                         "&grade=high_risk",
                                         "&grade=potential,explicit",
                                         "&category=billing",
                                         "&category=billing,delivery",
                                         "&channel=phone,email",
                                         "&channel=api",
                                         "&sort=created_at",
                                         "&sort=due_at",
                                         "&sla_state=on_track",
                                         "&sla_state=on_track,none",
                                         "&status=new&sort=created_at",
                                         "&status=new,acknowledged&sort=due_at",
                                         "&category=billing&channel=web&status=acknowledged",
                                         "&limit=1",
                                         "&status=new&limit=2"};
    enum { NS = sizeof shapes / sizeof shapes[0], N = 2 * NS };
    char *first[N] = {NULL};
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < N; i++) {
            char path[256];
            snprintf(path, sizeof path, "/v1/complaints?customer_external_id=filters%s%s",
                     shapes[i % NS], i < NS ? "" : "&limit=3");
            json_t *page = list_as(agent_key, path);
            json_t *ids = json_array();
            size_t k;
            json_t *it;
            json_array_foreach (json_object_get(page, "items"), k, it) {
                json_array_append_new(ids, json_integer(h_jint(it, "id")));
            }
            char *text = json_dumps(ids, JSON_COMPACT);
            json_decref(ids);
            json_decref(page);
            if (round == 0) {
                first[i] = text;
                continue;
            }
            if (strcmp(first[i], text) != 0)
                fprintf(stderr, "%s: %s, then %s\n", path, first[i], text);
            assert_string_equal(first[i], text);
            free(text);
        }
    }
    assert_string_not_equal(first[0], "[]");
    for (size_t i = 0; i < N; i++)
        free(first[i]);
}

static void list_created_after_the_epoch(void **state)
{
    int64_t id = create_id(svc_key, minimal("After the epoch"));
    char q[64], path[160];
    urlenc("After the epoch", q, sizeof q);
    snprintf(path, sizeof path, "/v1/complaints?created_after=1970-01-01T00:00:00Z&q=%s", q);
    json_t *page = list_as(agent_key, path);
    expect_ids(page, (int64_t[]){id}, 1);
    json_decref(page);
}

static void list_bad_parameters(void **state)
{
    static const char *const cases[][2] = {
        {"status=bogus", "status"},
        {"status=new,bogus", "status"},
        {"status=new,", "status"},
        {"status=,new", "status"},
        {"status=", "status"},
        {"status=NEW", "status"},
        {"priority=asap", "priority"},
        {"grade=angry", "grade"},
        {"channel=fax", "channel"},
        {"channel=phone,,email", "channel"},
        {"sla_state=late", "sla_state"},
        {"team_id=0", "team_id"},
        {"team_id=-3", "team_id"},
        {"team_id=abc", "team_id"},
        {"team_id=1.5", "team_id"},
        {"team_id=", "team_id"},
        {"assignee_id=x", "assignee_id"},
        {"created_after=yesterday", "created_after"},
        {"created_after=2026-01-01", "created_after"},
        {"created_after=2026-13-01T00:00:00Z", "created_after"},
        {"created_after=2026-02-30T00:00:00Z", "created_after"},
        {"created_before=2026-01-01T00:00:00", "created_before"},
        {"created_before=2026-01-01%2000:00:00Z", "created_before"},
        {"limit=0", "limit"},
        {"limit=201", "limit"},
        {"limit=-1", "limit"},
        {"limit=abc", "limit"},
        {"limit=10x", "limit"},
        {"limit=", "limit"},
        {"cursor=garbage!", "cursor"},
        {"cursor=", "cursor"},
        {"cursor=YWJj", "cursor"}, /* base64url of "abc" */
        {"cursor=MTIz", "cursor"}, /* "123": one value where two are needed */
        {"q=", "q"},
        {"sort=newest", "sort"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[200];
        snprintf(path, sizeof path, "/v1/complaints?%s", cases[i][0]);
        struct h_resp *r = call("GET", path, agent_key, NULL, NULL);
        if (r->status != 422)
            fprintf(stderr, "GET %s\n", path);
        h_expect_fields(r, (const char *const[]){cases[i][1], NULL});
        h_resp_free(r);
    }
    /* Several at once: every one named. */
    struct h_resp *r = call("GET",
                            "/v1/complaints?status=x&priority=y&grade=z&channel=w&team_id=0"
                            "&assignee_id=a&created_after=b&created_before=c&limit=0&cursor=%21"
                            "&sort=s&sla_state=v&q=%20",
                            agent_key, NULL, NULL);
    h_expect_fields(r, (const char *const[]){"status", "priority", "grade", "channel", "team_id",
                                             "assignee_id", "created_after", "created_before",
                                             "limit", "cursor", "sort", "sla_state", "q", NULL});
    h_resp_free(r);

    /* Limits at the edges are fine. */
    json_t *page = list_as(agent_key, "/v1/complaints?limit=1");
    assert_int_equal(json_array_size(json_object_get(page, "items")), 1);
    assert_true(json_is_string(json_object_get(page, "next_cursor")));
    json_decref(page);
    page = list_as(agent_key, "/v1/complaints?limit=200");
    assert_true(json_array_size(json_object_get(page, "items")) <= 200);
    json_decref(page);
}

/* Query values that are not UTF-8 are the client's mistake, not a 500. */
static void list_rejects_invalid_utf8_parameters(void **state)
{
    const char *params[] = {"customer_external_id", "category"};
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "/v1/complaints?%s=%%FF%%FE", params[i]);
        struct h_resp *r = call("GET", path, agent_key, NULL, NULL);
        if (r->status != 400 && r->status != 422)
            fprintf(stderr, "GET %s: %ld %s\n", path, r->status, r->body);
        assert_true(r->status == 400 || r->status == 422);
        h_expect_problem(r, r->status);
        h_resp_free(r);
    }
}

/* created_at in microseconds of every complaint with external id ext: a
 * JSON object id -> usec. */
static json_t *created_usec(const char *ext)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT id, ombud_usec(created_at) FROM complaints WHERE customer_external_id = '%s'",
             ext);
    json_t *rows = h_sql(&srv, sql), *map = json_object();
    size_t i;
    json_t *row;
    json_array_foreach (rows, i, row) {
        json_object_set_new(
            map, json_string_value(json_array_get(row, 0)),
            json_integer(strtoll(json_string_value(json_array_get(row, 1)), NULL, 10)));
    }
    json_decref(rows);
    return map;
}

static int64_t usec_of(const json_t *map, int64_t id)
{
    char k[24];
    snprintf(k, sizeof k, "%lld", (long long)id);
    json_t *v = json_object_get(map, k);
    assert_non_null(v);
    return (int64_t)json_integer_value(v);
}

static int64_t create_with_ext(const char *ext, const char *title)
{
    json_t *b = minimal(title);
    json_object_set_new(json_object_get(b, "customer"), "external_id", json_string(ext));
    return create_id(svc_key, b);
}

/* Walks ext's complaints in pages of limit; calls insert between pages
 * (while inserting is true). Returns the ids seen, in order. */
static size_t walk(const char *ext, const char *sort, int limit, bool inserting, int64_t *seen,
                   size_t cap, int *inserted)
{
    char cursor[256] = "", path[512];
    size_t n = 0;
    int pages = 0;
    for (;;) {
        snprintf(path, sizeof path, "/v1/complaints?customer_external_id=%s&limit=%d%s%s%s%s", ext,
                 limit, sort ? "&sort=" : "", sort ? sort : "", cursor[0] ? "&cursor=" : "",
                 cursor);
        json_t *page = list_as(agent_key, path);
        json_t *items = json_object_get(page, "items"),
               *next = json_object_get(page, "next_cursor");
        size_t i;
        json_t *it;
        json_array_foreach (items, i, it) {
            assert_true(n < cap);
            seen[n++] = h_jint(it, "id");
        }
        /* Every page but the last is full. */
        if (json_is_string(next))
            assert_int_equal(json_array_size(items), limit);
        else
            assert_true(json_array_size(items) <= (size_t)limit);
        bool more = json_is_string(next);
        if (more)
            snprintf(cursor, sizeof cursor, "%s", json_string_value(next));
        json_decref(page);
        if (!more)
            break;
        assert_true(++pages < 40);
        if (inserting && *inserted < 20) {
            for (int k = 0; k < 5; k++)
                create_with_ext(ext, "Arrived during the walk");
            *inserted += 5;
        }
    }
    return n;
}

static void check_walk(const char *ext, const int64_t *orig, size_t norig, const int64_t *seen,
                       size_t n, bool ascending)
{
    json_t *usec = created_usec(ext);
    for (size_t i = 0; i < norig; i++) {
        size_t times = 0;
        for (size_t j = 0; j < n; j++)
            times += seen[j] == orig[i];
        if (times != 1)
            fail_msg("complaint %lld seen %zu times", (long long)orig[i], times);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            assert_int_not_equal(seen[i], seen[j]);
    /* Strictly ordered by (created_at, id). */
    for (size_t i = 1; i < n; i++) {
        int64_t ta = usec_of(usec, seen[i - 1]), tb = usec_of(usec, seen[i]);
        bool ordered = ascending ? (ta < tb || (ta == tb && seen[i - 1] < seen[i]))
                                 : (ta > tb || (ta == tb && seen[i - 1] > seen[i]));
        if (!ordered)
            fail_msg("out of order at %zu: %lld (%lld) then %lld (%lld)", i, (long long)seen[i - 1],
                     (long long)ta, (long long)seen[i], (long long)tb);
    }
    json_decref(usec);
}

static void pagination_newest_first_while_inserting(void **state)
{
    int64_t orig[25], seen[100];
    int inserted = 0;
    for (int i = 0; i < 25; i++)
        orig[i] = create_with_ext("page-desc", "Paged");
    size_t n = walk("page-desc", NULL, 7, true, seen, 100, &inserted);
    assert_true(inserted >= 5);
    /* The newcomers are newer than the first page: the walk saw only the 25. */
    assert_int_equal(n, 25);
    check_walk("page-desc", orig, 25, seen, n, false);
    for (size_t i = 0; i < 25; i++)
        assert_int_equal(seen[i], orig[24 - i]);

    /* A fresh walk sees everything, newcomers first. */
    n = walk("page-desc", "-created_at", 7, false, seen, 100, &inserted);
    assert_int_equal(n, 25 + (size_t)inserted);
    check_walk("page-desc", orig, 25, seen, n, false);
}

static void pagination_oldest_first_while_inserting(void **state)
{
    int64_t orig[25], seen[100];
    int inserted = 0;
    for (int i = 0; i < 25; i++)
        orig[i] = create_with_ext("page-asc", "Paged");
    size_t n = walk("page-asc", "created_at", 7, true, seen, 100, &inserted);
    assert_true(inserted >= 5);
    /* The originals come first, in order; the newcomers follow, each once. */
    for (size_t i = 0; i < 25; i++)
        assert_int_equal(seen[i], orig[i]);
    assert_int_equal(n, 25 + (size_t)inserted);
    check_walk("page-asc", orig, 25, seen, n, true);
}

/* Rows with the very same created_at are told apart by id. */
static void pagination_breaks_ties_by_id(void **state)
{
    json_decref(h_sql(&srv, "INSERT INTO complaints (title, description, customer_name,"
                            " customer_external_id, priority)"
                            " SELECT 'Same instant ' || g, 'd', 'Bulk', 'same-instant', 'normal'"
                            " FROM generate_series(1, 10) g"));
    char *distinct = h_sql_value(&srv, "%s",
                                 "SELECT count(DISTINCT created_at) FROM complaints"
                                 " WHERE customer_external_id = 'same-instant'");
    assert_string_equal(distinct, "1");
    free(distinct);
    int64_t seen[20];
    int none = 0;
    size_t n = walk("same-instant", NULL, 3, false, seen, 20, &none);
    assert_int_equal(n, 10);
    check_walk("same-instant", seen, n, seen, n, false);
    n = walk("same-instant", "created_at", 3, false, seen, 20, &none);
    assert_int_equal(n, 10);
    check_walk("same-instant", seen, n, seen, n, true);
}

/* ---- patch ---- */

static void patch_changes_every_field(void **state)
{
    char etag[32];
    int64_t id = create_id(svc_key, minimal("Before"));
    json_t *before = get_ok(id);
    json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[s, s], s:I, s:I}", "title",
                          "After", "description", "Now with details.", "category", "billing",
                          "grade", "high_risk", "priority", "high", "demand", "refund",
                          "demand_detail", "Money back", "tags", "vip", "\xe9\x80\x80\xe6\xac\xbe",
                          "team_id", (json_int_t)team_a, "assignee_id", (json_int_t)agent_a);
    json_t *sent = json_deep_copy(b);
    struct h_resp *r = patch_as(agent_key, id, b, NULL);
    h_expect_status(r, 200);
    assert_string_equal(h_header(r, "ETag", etag, sizeof etag), "\"v2\"");
    assert_int_equal(h_jint(r->json, "version"), 2);
    const char *keys[] = {"title",    "description", "category",     "grade",
                          "priority", "demand",      "demand_detail"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        assert_string_equal(h_jstr_must(r->json, keys[i]), h_jstr_must(sent, keys[i]));
    assert_true(json_equal(json_object_get(r->json, "tags"), json_object_get(sent, "tags")));
    assert_int_equal(h_jint(r->json, "team_id"), team_a);
    assert_int_equal(h_jint(r->json, "assignee_id"), agent_a);
    /* What PATCH does not name stays as it was. */
    assert_string_equal(h_jstr_must(r->json, "reference"), h_jstr_must(before, "reference"));
    assert_string_equal(h_jstr_must(r->json, "created_at"), h_jstr_must(before, "created_at"));
    assert_string_equal(h_jstr_must(r->json, "channel"), "api");
    assert_string_equal(h_jstr_must(r->json, "status"), "new");
    assert_true(
        json_equal(json_object_get(r->json, "customer"), json_object_get(before, "customer")));
    assert_true(strcmp(h_jstr_must(r->json, "updated_at"), h_jstr_must(before, "updated_at")) >= 0);
    h_resp_free(r);

    /* GET agrees, with the new ETag. */
    r = get_as(agent_key, id);
    h_expect_status(r, 200);
    assert_string_equal(h_header(r, "ETag", etag, sizeof etag), "\"v2\"");
    assert_string_equal(h_jstr_must(r->json, "title"), "After");
    h_resp_free(r);

    /* Timeline: one "updated" with every changed field, one "assigned". */
    json_t *ev = events_of(id);
    assert_int_equal(json_array_size(ev), 3);
    json_t *ch = json_object_get(json_object_get(last_kind(ev, "updated"), "data"), "changes");
    assert_int_equal(json_object_size(ch), 8);
    assert_string_equal(h_jstr_must(json_object_get(ch, "title"), "from"), "Before");
    assert_string_equal(h_jstr_must(json_object_get(ch, "title"), "to"), "After");
    assert_string_equal(h_jstr_must(json_object_get(ch, "category"), "from"), "other");
    assert_string_equal(h_jstr_must(json_object_get(ch, "category"), "to"), "billing");
    assert_string_equal(h_jstr_must(json_object_get(ch, "grade"), "to"), "high_risk");
    assert_string_equal(h_jstr_must(json_object_get(ch, "priority"), "from"), "normal");
    assert_string_equal(h_jstr_must(json_object_get(ch, "priority"), "to"), "high");
    assert_true(h_jnull(json_object_get(ch, "demand"), "from"));
    assert_string_equal(h_jstr_must(json_object_get(ch, "demand"), "to"), "refund");
    assert_true(h_jnull(json_object_get(ch, "demand_detail"), "from"));
    assert_int_equal(json_array_size(json_object_get(json_object_get(ch, "tags"), "from")), 0);
    assert_true(json_equal(json_object_get(json_object_get(ch, "tags"), "to"),
                           json_object_get(sent, "tags")));
    assert_non_null(json_object_get(ch, "description"));
    json_t *as = json_object_get(last_kind(ev, "assigned"), "data");
    assert_true(h_jnull(json_object_get(as, "team_id"), "from"));
    assert_int_equal(h_jint(json_object_get(as, "team_id"), "to"), team_a);
    assert_true(h_jnull(json_object_get(as, "assignee_id"), "from"));
    assert_int_equal(h_jint(json_object_get(as, "assignee_id"), "to"), agent_a);
    assert_string_equal(h_jstr_must(json_object_get(last_kind(ev, "updated"), "actor"), "role"),
                        "agent");
    json_decref(ev);

    /* Reassignment alone: an "assigned" event, no "updated". */
    r = patch_as(
        agent_key, id,
        json_pack("{s:I, s:I}", "team_id", (json_int_t)team_b, "assignee_id", (json_int_t)agent_b),
        NULL);
    h_expect_status(r, 200);
    assert_int_equal(h_jint(r->json, "version"), 3);
    h_resp_free(r);
    ev = events_of(id);
    assert_int_equal(h_count_events(ev, "updated"), 1);
    assert_int_equal(h_count_events(ev, "assigned"), 2);
    as = json_object_get(last_kind(ev, "assigned"), "data");
    assert_int_equal(h_jint(json_object_get(as, "team_id"), "from"), team_a);
    assert_int_equal(h_jint(json_object_get(as, "team_id"), "to"), team_b);
    assert_int_equal(h_jint(json_object_get(as, "assignee_id"), "from"), agent_a);
    assert_int_equal(h_jint(json_object_get(as, "assignee_id"), "to"), agent_b);
    json_decref(ev);

    /* The stored row matches. */
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT title || '|' || category || '|' || priority || '|' || team_id || '|' ||"
             " assignee_id || '|' || version || '|' || array_to_string(tags, ',')"
             " FROM complaints WHERE id = %lld",
             (long long)id);
    char *row = h_sql_value(&srv, "%s", sql);
    char want[200];
    snprintf(want, sizeof want, "After|billing|high|%lld|%lld|3|vip,\xe9\x80\x80\xe6\xac\xbe",
             (long long)team_b, (long long)agent_b);
    assert_string_equal(row, want);
    free(row);
    json_decref(sent);
    json_decref(before);
}

static void patch_clears_nullable_fields(void **state)
{
    json_t *b = minimal("To be cleared");
    json_object_set_new(b, "demand", json_string("repair"));
    json_object_set_new(b, "demand_detail", json_string("Fix it"));
    json_object_set_new(b, "tags", json_pack("[s]", "x"));
    json_object_set_new(b, "team_id", json_integer(team_a));
    json_object_set_new(b, "assignee_id", json_integer(agent_a));
    int64_t id = create_id(svc_key, b);

    struct h_resp *r = patch_as(agent_key, id,
                                json_pack("{s:n, s:n, s:n, s:n, s:n}", "demand", "demand_detail",
                                          "tags", "team_id", "assignee_id"),
                                NULL);
    h_expect_status(r, 200);
    assert_int_equal(h_jint(r->json, "version"), 2);
    assert_true(h_jnull(r->json, "demand"));
    assert_true(h_jnull(r->json, "demand_detail"));
    assert_int_equal(json_array_size(json_object_get(r->json, "tags")), 0);
    assert_true(h_jnull(r->json, "team_id"));
    assert_true(h_jnull(r->json, "assignee_id"));
    h_resp_free(r);

    json_t *ev = events_of(id);
    json_t *ch = json_object_get(json_object_get(last_kind(ev, "updated"), "data"), "changes");
    assert_int_equal(json_object_size(ch), 3);
    assert_string_equal(h_jstr_must(json_object_get(ch, "demand"), "from"), "repair");
    assert_true(h_jnull(json_object_get(ch, "demand"), "to"));
    assert_true(h_jnull(json_object_get(ch, "demand_detail"), "to"));
    assert_int_equal(json_array_size(json_object_get(json_object_get(ch, "tags"), "to")), 0);
    json_t *as = json_object_get(last_kind(ev, "assigned"), "data");
    assert_int_equal(h_jint(json_object_get(as, "team_id"), "from"), team_a);
    assert_true(h_jnull(json_object_get(as, "team_id"), "to"));
    assert_true(h_jnull(json_object_get(as, "assignee_id"), "to"));
    json_decref(ev);

    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT (demand IS NULL AND demand_detail IS NULL AND team_id IS NULL AND"
             " assignee_id IS NULL AND tags = '{}')::text FROM complaints WHERE id = %lld",
             (long long)id);
    char *ok = h_sql_value(&srv, "%s", sql);
    assert_string_equal(ok, "true");
    free(ok);

    /* Clearing what is already clear changes nothing. */
    r = patch_as(agent_key, id, json_pack("{s:n, s:[]}", "team_id", "tags"), NULL);
    h_expect_status(r, 200);
    assert_int_equal(h_jint(r->json, "version"), 2);
    h_resp_free(r);
}

static void patch_without_change_keeps_version(void **state)
{
    char etag[32];
    json_t *b = minimal("Unchanged");
    json_object_set_new(b, "tags", json_pack("[s, s]", "\xe9\x80\x80\xe6\xac\xbe", "a\"b\\c"));
    json_object_set_new(b, "demand", json_string("apology"));
    int64_t id = create_id(svc_key, b);
    json_t *before = get_ok(id);
    json_t *ev0 = events_of(id);

    json_t *same[] = {
        json_object(),
        json_pack("{s:s}", "title", "Unchanged"),
        json_pack("{s:s, s:s, s:s, s:s}", "category", "other", "grade", "explicit", "priority",
                  "normal", "demand", "apology"),
        json_pack("{s:[s, s]}", "tags", "\xe9\x80\x80\xe6\xac\xbe", "a\"b\\c"),
        json_pack("{s:n, s:n, s:n}", "team_id", "assignee_id", "demand_detail"),
        json_pack("{s:s}", "description", "The parcel arrived damaged."),
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        struct h_resp *r = patch_as(agent_key, id, same[i], NULL);
        h_expect_status(r, 200);
        assert_int_equal(h_jint(r->json, "version"), 1);
        assert_string_equal(h_header(r, "ETag", etag, sizeof etag), "\"v1\"");
        assert_string_equal(h_jstr_must(r->json, "updated_at"), h_jstr_must(before, "updated_at"));
        h_resp_free(r);
    }
    json_t *ev1 = events_of(id);
    assert_int_equal(json_array_size(ev1), json_array_size(ev0));
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT version FROM complaints WHERE id = %lld", (long long)id);
    char *v = h_sql_value(&srv, "%s", sql);
    assert_string_equal(v, "1");
    free(v);
    json_decref(ev0);
    json_decref(ev1);
    json_decref(before);

    /* Tag order is part of the value: reordering is a change. */
    struct h_resp *r =
        patch_as(agent_key, id,
                 json_pack("{s:[s, s]}", "tags", "a\"b\\c", "\xe9\x80\x80\xe6\xac\xbe"), NULL);
    h_expect_status(r, 200);
    assert_int_equal(h_jint(r->json, "version"), 2);
    h_resp_free(r);
}

/* Tags that JSON writes with \u escapes (control characters) are the same
 * value when sent again: no new version, no timeline entry. */
static void patch_same_tags_with_control_characters_keeps_version(void **state)
{
    json_t *b = minimal("Escaped tags");
    json_object_set_new(b, "tags", json_pack("[s, s]", "esc\x1b", "unit\x1f"));
    int64_t id = create_id(svc_key, b);
    for (int i = 0; i < 2; i++) {
        struct h_resp *r =
            patch_as(agent_key, id, json_pack("{s:[s, s]}", "tags", "esc\x1b", "unit\x1f"), NULL);
        h_expect_status(r, 200);
        if (h_jint(r->json, "version") != 1)
            fprintf(stderr, "same-value tags PATCH moved the version to %lld\n",
                    (long long)h_jint(r->json, "version"));
        assert_int_equal(h_jint(r->json, "version"), 1);
        h_resp_free(r);
    }
}

static void patch_if_match(void **state)
{
    char etag[32];
    int64_t id = create_id(svc_key, minimal("Concurrent edits"));
    struct h_resp *r =
        patch_as(agent_key, id, json_pack("{s:s}", "title", "Edit one"), "If-Match: \"v1\"");
    h_expect_status(r, 200);
    assert_string_equal(h_header(r, "ETag", etag, sizeof etag), "\"v2\"");
    h_resp_free(r);

    /* Stale: 412, nothing changes, even for a patch that would change nothing. */
    r = patch_as(agent_key, id, json_pack("{s:s}", "title", "Lost update"), "If-Match: \"v1\"");
    h_expect_problem(r, 412);
    h_resp_free(r);
    r = patch_as(agent_key, id, json_object(), "If-Match: \"v1\"");
    h_expect_problem(r, 412);
    h_resp_free(r);
    r = patch_as(agent_key, id, json_pack("{s:s}", "title", "Lost update"), "If-Match: \"v3\"");
    h_expect_problem(r, 412);
    h_resp_free(r);
    json_t *c = get_ok(id);
    assert_string_equal(h_jstr_must(c, "title"), "Edit one");
    assert_int_equal(h_jint(c, "version"), 2);
    json_decref(c);

    /* Current, weak current, one of a list, or *: applied. */
    const char *ok[] = {"If-Match: \"v2\"", "If-Match: W/\"v3\"", "If-Match: \"v1\", \"v4\"",
                        "If-Match: *"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char title[32];
        snprintf(title, sizeof title, "Edit %zu", i + 2);
        r = patch_as(agent_key, id, json_pack("{s:s}", "title", title), ok[i]);
        h_expect_status(r, 200);
        assert_int_equal(h_jint(r->json, "version"), (json_int_t)(i + 3));
        h_resp_free(r);
    }
    /* The ETag from GET is what If-Match takes. */
    r = get_as(agent_key, id);
    char hdr[64];
    snprintf(hdr, sizeof hdr, "If-Match: %s", h_header(r, "ETag", etag, sizeof etag));
    h_resp_free(r);
    r = patch_as(agent_key, id, json_pack("{s:s}", "priority", "urgent"), hdr);
    h_expect_status(r, 200);
    assert_int_equal(h_jint(r->json, "version"), 7);
    h_resp_free(r);
    r = patch_as(agent_key, id, json_pack("{s:s}", "priority", "low"), hdr);
    h_expect_problem(r, 412);
    h_resp_free(r);
}

static void patch_validation(void **state)
{
    int64_t id = create_id(svc_key, minimal("Validate patch"));

    struct h_resp *r =
        patch_as(agent_key, id,
                 json_pack("{s:s, s:{s:s}, s:i, s:s, s:i, s:s, s:s}", "status", "closed",
                           "customer", "name", "Eve", "id", 9, "reference", "CMP-9", "version", 4,
                           "channel", "web", "external_ref", "x"),
                 NULL);
    h_expect_fields(r, (const char *const[]){"status", "customer", "id", "reference", "version",
                                             "channel", "external_ref", NULL});
    h_resp_free(r);

    char *t201 = repeat("t", 201), *d20001 = repeat("d", 20001);
    r = patch_as(agent_key, id,
                 json_pack("{s:s, s:s, s:s, s:n, s:[s, s], s:i, s:s, s:s}", "title", t201,
                           "description", d20001, "priority", "asap", "grade", "tags", "a", "a",
                           "team_id", 0, "demand", "money", "category", ""),
                 NULL);
    h_expect_fields(r, (const char *const[]){"title", "description", "priority", "grade", "tags[1]",
                                             "team_id", "demand", "category", NULL});
    h_resp_free(r);
    free(t201);
    free(d20001);

    /* Fields that may not be cleared. */
    r = patch_as(agent_key, id,
                 json_pack("{s:n, s:n, s:n, s:n}", "title", "description", "category", "priority"),
                 NULL);
    h_expect_fields(r, (const char *const[]){"title", "description", "category", "priority", NULL});
    h_resp_free(r);

    /* References that name nothing. */
    r = patch_as(agent_key, id,
                 json_pack("{s:s, s:i, s:i}", "category", "no_such_category", "team_id", 987654,
                           "assignee_id", 987654),
                 NULL);
    h_expect_fields(r, (const char *const[]){"category", "team_id", "assignee_id", NULL});
    h_resp_free(r);

    /* Bodies that are not objects; NUL. */
    const char *bad[] = {"[]", "\"x\"", "{\"title\":\"a\\u0000\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[64];
        snprintf(path, sizeof path, "/v1/complaints/%lld", (long long)id);
        r = call_raw("PATCH", path, agent_key, bad[i]);
        h_expect_problem(r, 400);
        h_resp_free(r);
    }

    json_t *c = get_ok(id);
    assert_int_equal(h_jint(c, "version"), 1);
    assert_string_equal(h_jstr_must(c, "title"), "Validate patch");
    json_decref(c);

    r = patch_as(agent_key, 987654, json_pack("{s:s}", "title", "Nobody"), NULL);
    h_expect_problem(r, 404);
    h_resp_free(r);
}

static void patch_roles(void **state)
{
    int64_t id = create_id(svc_key, minimal("Role limits"));
    /* The service key that created it still may not change it. */
    struct h_resp *r = patch_as(svc_key, id, json_pack("{s:s}", "title", "By service"), NULL);
    h_expect_problem(r, 403);
    h_resp_free(r);
    r = patch_as(NULL, id, json_pack("{s:s}", "title", "Anonymous"), NULL);
    h_expect_problem(r, 401);
    h_resp_free(r);
    /* Nor read the timeline (agent and above). */
    char path[96];
    snprintf(path, sizeof path, "/v1/complaints/%lld/events", (long long)id);
    r = call("GET", path, svc_key, NULL, NULL);
    h_expect_problem(r, 403);
    h_resp_free(r);

    const char *keys[] = {agent_key, sup_key, srv.admin_key};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char title[32];
        snprintf(title, sizeof title, "Edited %zu", i);
        r = patch_as(keys[i], id, json_pack("{s:s}", "title", title), NULL);
        h_expect_status(r, 200);
        assert_string_equal(h_jstr_must(r->json, "title"), title);
        h_resp_free(r);
    }
    json_t *c = get_ok(id);
    assert_int_equal(h_jint(c, "version"), 4);
    json_decref(c);
    json_t *ev = events_of(id);
    assert_int_equal(h_count_events(ev, "updated"), 3);
    assert_string_equal(h_jstr_must(json_object_get(last_kind(ev, "updated"), "actor"), "role"),
                        "admin");
    json_decref(ev);
}

/* ---- categories, teams, agents ---- */

static void categories_list_and_create(void **state)
{
    static const char *const seeded[] = {"after_sales", "contract", "quality", "service",
                                         "billing",     "delivery", "other"};
    json_t *page = list_as(svc_key, "/v1/categories");
    json_t *items = json_object_get(page, "items");
    assert_int_equal(json_array_size(items), 7);
    for (size_t k = 0; k < 7; k++) {
        bool found = false;
        size_t i;
        json_t *it;
        json_array_foreach (items, i, it) {
            if (strcmp(h_jstr_must(it, "key"), seeded[k]) == 0) {
                found = true;
                assert_true(json_string_length(json_object_get(it, "name")) > 0);
            }
        }
        if (!found)
            fail_msg("seeded category %s missing", seeded[k]);
    }
    json_decref(page);
    struct h_resp *r = call("GET", "/v1/categories", NULL, NULL, NULL);
    h_expect_problem(r, 401);
    h_resp_free(r);

    /* Only admins add categories. */
    const char *not_admin[] = {svc_key, agent_key, sup_key};
    for (size_t i = 0; i < sizeof not_admin / sizeof not_admin[0]; i++) {
        r = call("POST", "/v1/categories", not_admin[i],
                 json_pack("{s:s, s:s}", "key", "warranty", "name", "Warranty"), NULL);
        h_expect_problem(r, 403);
        h_resp_free(r);
    }
    /* Not yet usable. */
    json_t *b = minimal("Warranty claim");
    json_object_set_new(b, "category", json_string("warranty"));
    r = call("POST", "/v1/complaints", svc_key, b, NULL);
    h_expect_fields(r, (const char *const[]){"category", NULL});
    h_resp_free(r);

    r = call(
        "POST", "/v1/categories", srv.admin_key,
        json_pack("{s:s, s:s}", "key", "warranty", "name", "Warranty \xe4\xbf\x9d\xe4\xbf\xae"),
        NULL);
    h_expect_status(r, 201);
    assert_string_equal(h_jstr_must(r->json, "key"), "warranty");
    assert_string_equal(h_jstr_must(r->json, "name"), "Warranty \xe4\xbf\x9d\xe4\xbf\xae");
    assert_true(json_is_string(json_object_get(r->json, "created_at")));
    h_resp_free(r);

    r = call("POST", "/v1/categories", srv.admin_key,
             json_pack("{s:s, s:s}", "key", "warranty", "name", "Again"), NULL);
    h_expect_problem(r, 409);
    h_resp_free(r);
    r = call("POST", "/v1/categories", srv.admin_key,
             json_pack("{s:s, s:s}", "key", "billing", "name", "Seeded"), NULL);
    h_expect_problem(r, 409);
    h_resp_free(r);

    char *k41 = repeat("k", 41);
    const char *bad_keys[] = {"Bad Key", "1x", "", "a-b", "_x", "Warranty", "\xe4\xbf\x9d", k41};
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
        r = call("POST", "/v1/categories", srv.admin_key,
                 json_pack("{s:s, s:s}", "key", bad_keys[i], "name", "Bad"), NULL);
        h_expect_fields(r, (const char *const[]){"key", NULL});
        h_resp_free(r);
    }
    free(k41);
    r = call_raw("POST", "/v1/categories", srv.admin_key, "{\"colour\":\"red\"}");
    h_expect_fields(r, (const char *const[]){"key", "name", "colour", NULL});
    h_resp_free(r);
    r = call("POST", "/v1/categories", srv.admin_key,
             json_pack("{s:s, s:s}", "key", "x_1", "name", ""), NULL);
    h_expect_fields(r, (const char *const[]){"name", NULL});
    h_resp_free(r);

    /* Now listed, and usable on create, patch and in filters. */
    page = list_as(agent_key, "/v1/categories");
    assert_int_equal(json_array_size(json_object_get(page, "items")), 8);
    json_decref(page);
    b = minimal("Warranty claim");
    json_object_set_new(b, "category", json_string("warranty"));
    json_object_set_new(json_object_get(b, "customer"), "external_id", json_string("warranty-run"));
    json_t *c = create_as(svc_key, b);
    int64_t w1 = h_jint(c, "id");
    assert_string_equal(h_jstr_must(c, "category"), "warranty");
    json_decref(c);
    int64_t w2 = create_with_ext("warranty-run", "Patched into warranty");
    r = patch_as(agent_key, w2, json_pack("{s:s}", "category", "warranty"), NULL);
    h_expect_status(r, 200);
    assert_string_equal(h_jstr_must(r->json, "category"), "warranty");
    h_resp_free(r);
    expect_list("/v1/complaints?customer_external_id=warranty-run&category=warranty",
                (int64_t[]){w2, w1}, 2);
}

static void teams_and_agents_roles_and_validation(void **state)
{
    struct h_resp *r =
        call("POST", "/v1/teams", agent_key, json_pack("{s:s}", "name", "Rogue team"), NULL);
    h_expect_problem(r, 403);
    h_resp_free(r);
    r = call("POST", "/v1/agents", sup_key,
             json_pack("{s:s, s:s}", "name", "Rogue agent", "role", "agent"), NULL);
    h_expect_problem(r, 403);
    h_resp_free(r);
    r = call("POST", "/v1/teams", srv.admin_key,
             json_pack("{s:s, s:s, s:i}", "name", "Odd team", "assignment", "random",
                       "escalation_team_id", 987654),
             NULL);
    h_expect_problem(r, 422);
    assert_true(h_problem_has_field(r, "assignment"));
    h_resp_free(r);
    r = call("POST", "/v1/agents", srv.admin_key,
             json_pack("{s:s, s:s, s:s}", "name", "Odd agent", "role", "boss", "email", "x"), NULL);
    h_expect_problem(r, 422);
    assert_true(h_problem_has_field(r, "role"));
    h_resp_free(r);

    /* An escalation chain and a round-robin team. */
    r = call("POST", "/v1/teams", srv.admin_key,
             json_pack("{s:s, s:I, s:s}", "name", "Managers", "escalation_team_id",
                       (json_int_t)team_b, "assignment", "round_robin"),
             NULL);
    h_expect_status(r, 201);
    assert_int_equal(h_jint(r->json, "escalation_team_id"), team_b);
    assert_string_equal(h_jstr_must(r->json, "assignment"), "round_robin");
    h_resp_free(r);
    r = call("POST", "/v1/agents", srv.admin_key,
             json_pack("{s:s, s:s, s:s, s:b}", "name", "Sam Supervisor", "email", "sam@example.com",
                       "role", "supervisor", "active", 0),
             NULL);
    h_expect_status(r, 201);
    assert_string_equal(h_jstr_must(r->json, "role"), "supervisor");
    assert_true(json_is_false(json_object_get(r->json, "active")));
    assert_true(h_jnull(r->json, "team_id"));
    h_resp_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_minimal_gets_defaults),
        cmocka_unit_test(create_priority_defaults_from_grade),
        cmocka_unit_test(create_with_every_field),
        cmocka_unit_test(create_unknown_fields_are_named),
        cmocka_unit_test(create_missing_and_wrong_types),
        cmocka_unit_test(create_length_limits),
        cmocka_unit_test(create_longest_description),
        cmocka_unit_test(create_bad_enums_and_email),
        cmocka_unit_test(create_tag_rules),
        cmocka_unit_test(create_unknown_references),
        cmocka_unit_test(create_names_unknown_references_with_other_errors),
        cmocka_unit_test(create_text_is_stored_exactly),
        cmocka_unit_test(create_roles),
        cmocka_unit_test(get_unknown_is_404),
        cmocka_unit_test(service_keys_see_only_their_own),
        cmocka_unit_test(list_sort_orders),
        cmocka_unit_test(list_filters),
        cmocka_unit_test(list_shapes_stay_prepared),
        cmocka_unit_test(list_created_after_the_epoch),
        cmocka_unit_test(list_bad_parameters),
        cmocka_unit_test(list_rejects_invalid_utf8_parameters),
        cmocka_unit_test(pagination_newest_first_while_inserting),
        cmocka_unit_test(pagination_oldest_first_while_inserting),
        cmocka_unit_test(pagination_breaks_ties_by_id),
        cmocka_unit_test(patch_changes_every_field),
        cmocka_unit_test(patch_clears_nullable_fields),
        cmocka_unit_test(patch_without_change_keeps_version),
        cmocka_unit_test(patch_same_tags_with_control_characters_keeps_version),
        cmocka_unit_test(patch_if_match),
        cmocka_unit_test(patch_validation),
        cmocka_unit_test(patch_roles),
        cmocka_unit_test(categories_list_and_create),
        cmocka_unit_test(teams_and_agents_roles_and_validation),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
