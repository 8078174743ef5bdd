/*
 * Money through HTTP (API.md "Money is never a binary float"): the
 * resolve transition's compensation as a string and as a JSON number in
 * currencies of 0, 2, 3 and 4 minor digits, stored exactly and read back
 * by GET as the canonical string; every refusal a 422 naming the field,
 * with the complaint left as it was; and migration 0017 giving existing
 * rows their currency's scale without changing any amount.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ombud/migrate.h"

static struct h_server srv;
static char agent_key[96];

static int setup(void **state)
{
    (void)state;
    h_server_start(&srv, NULL);
    h_make_key(&srv, "agent", agent_key, sizeof agent_key);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_server_stop(&srv, true);
    return 0;
}

/* A complaint that may be resolved now. */
static int64_t acknowledged(void)
{
    int64_t id = h_make_complaint(&srv, agent_key, NULL);
    json_decref(h_transition(&srv, agent_key, id, "acknowledge"));
    return id;
}

/* POST .../transitions resolve with compensation (raw JSON text, so a
 * number reaches the server exactly as written). */
static struct h_resp *resolve(int64_t id, const char *compensation)
{
    char path[96], body[512];
    snprintf(path, sizeof path, "/v1/complaints/%lld/transitions", (long long)id);
    snprintf(body, sizeof body,
             "{\"action\":\"resolve\",\"resolution\":{\"summary\":\"Refunded.\","
             "\"compensation\":%s}}",
             compensation);
    return h_req(&srv, "POST", path, &(struct h_opts){.key = agent_key, .body = body});
}

static void expect_compensation(const json_t *complaint, const char *amount, const char *currency)
{
    json_t *comp = json_object_get(json_object_get(complaint, "resolution"), "compensation");
    json_t *a = json_object_get(comp, "amount");
    if (!json_is_string(a) || strcmp(json_string_value(a), amount) != 0)
        h_dump("compensation", comp);
    assert_true(json_is_string(a));
    assert_string_equal(json_string_value(a), amount);
    assert_string_equal(h_jstr(comp, "currency"), currency);
}

static void stored_exactly(void **state)
{
    (void)state;
    static const struct {
        const char *compensation, *amount, *currency;
    } rows[] = {
        {"{\"amount\":500,\"currency\":\"JPY\"}", "500", "JPY"},
        {"{\"amount\":\"500\",\"currency\":\"JPY\"}", "500", "JPY"},
        {"{\"amount\":5e2,\"currency\":\"JPY\"}", "500", "JPY"},
        {"{\"amount\":999999999999999999,\"currency\":\"JPY\"}", "999999999999999999", "JPY"},
        {"{\"amount\":1.25,\"currency\":\"KWD\"}", "1.250", "KWD"},
        {"{\"amount\":\"1.25\",\"currency\":\"KWD\"}", "1.250", "KWD"},
        {"{\"amount\":\"0.005\",\"currency\":\"BHD\"}", "0.005", "BHD"},
        {"{\"amount\":50.5,\"currency\":\"CNY\"}", "50.50", "CNY"},
        {"{\"amount\":\"50.5\",\"currency\":\"CNY\"}", "50.50", "CNY"},
        {"{\"amount\":129.50,\"currency\":\"CNY\"}", "129.50", "CNY"},
        {"{\"amount\":0.1,\"currency\":\"USD\"}", "0.10", "USD"},
        {"{\"amount\":0,\"currency\":\"GBP\"}", "0.00", "GBP"},
        /* the parser reads the integer -0 as 0, sign and all (-0.0 is refused) */
        {"{\"amount\":-0,\"currency\":\"GBP\"}", "0.00", "GBP"},
        {"{\"amount\":\"3.5\",\"currency\":\"CLF\"}", "3.5000", "CLF"},
        {"{\"amount\":\"9999999999999999.99\",\"currency\":\"EUR\"}", "9999999999999999.99", "EUR"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int64_t id = acknowledged();
        struct h_resp *r = resolve(id, rows[i].compensation);
        h_expect_status(r, 200);
        expect_compensation(r->json, rows[i].amount, rows[i].currency);
        h_resp_free(r);

        json_t *c = h_get_complaint(&srv, agent_key, id);
        expect_compensation(c, rows[i].amount, rows[i].currency);
        json_decref(c);

        char *stored =
            h_sql_value(&srv, "SELECT compensation_amount::text FROM complaints WHERE id = %lld",
                        (long long)id);
        assert_string_equal(stored, rows[i].amount);
        free(stored);
    }
}

/* A new resolve replaces the amount; the list shows the same string. */
static void resolved_again_and_listed(void **state)
{
    (void)state;
    int64_t id = acknowledged();
    struct h_resp *r = resolve(id, "{\"amount\":1.25,\"currency\":\"KWD\"}");
    h_expect_status(r, 200);
    h_resp_free(r);
    json_decref(h_transition(&srv, agent_key, id, "reopen"));
    r = resolve(id, "{\"amount\":\"2\",\"currency\":\"JPY\"}");
    h_expect_status(r, 200);
    expect_compensation(r->json, "2", "JPY");
    h_resp_free(r);

    r = h_call_json(&srv, "GET", "/v1/complaints?limit=200", agent_key, NULL, NULL);
    h_expect_status(r, 200);
    size_t i, seen = 0;
    json_t *c;
    json_array_foreach (json_object_get(r->json, "items"), i, c) {
        if (h_jint(c, "id") == id) {
            expect_compensation(c, "2", "JPY");
            seen++;
        }
    }
    assert_int_equal(seen, 1);
    h_resp_free(r);
}

static void refused(void **state)
{
    (void)state;
    static const char A[] = "resolution.compensation.amount";
    static const char C[] = "resolution.compensation.currency";
    static const struct {
        const char *compensation;
        const char *fields[3];
    } rows[] = {
        /* more digits than the currency has */
        {"{\"amount\":\"500.00\",\"currency\":\"JPY\"}", {A}},
        {"{\"amount\":500.5,\"currency\":\"JPY\"}", {A}},
        {"{\"amount\":\"1.2345\",\"currency\":\"KWD\"}", {A}},
        {"{\"amount\":1.2345,\"currency\":\"KWD\"}", {A}},
        {"{\"amount\":25.555,\"currency\":\"EUR\"}", {A}},
        {"{\"amount\":\"50.505\",\"currency\":\"CNY\"}", {A}},
        /* negative, also zero */
        {"{\"amount\":-1,\"currency\":\"EUR\"}", {A}},
        {"{\"amount\":-0.5,\"currency\":\"EUR\"}", {A}},
        {"{\"amount\":-0.0,\"currency\":\"EUR\"}", {A}},
        {"{\"amount\":\"-0\",\"currency\":\"EUR\"}", {A}},
        {"{\"amount\":\"-1.00\",\"currency\":\"EUR\"}", {A}},
        /* not a plain decimal string */
        {"{\"amount\":\"1e3\",\"currency\":\"EUR\"}", {A}},
        {"{\"amount\":\"+1\",\"currency\":\"EUR\"}", {A}},
        {"{\"amount\":\" 1\",\"currency\":\"EUR\"}", {A}},
        {"{\"amount\":\"1 \",\"currency\":\"EUR\"}", {A}},
        {"{\"amount\":\"\",\"currency\":\"EUR\"}", {A}},
        {"{\"amount\":\"12a\",\"currency\":\"EUR\"}", {A}},
        {"{\"amount\":\"1,50\",\"currency\":\"EUR\"}", {A}},
        {"{\"amount\":\".5\",\"currency\":\"EUR\"}", {A}},
        {"{\"amount\":\"007\",\"currency\":\"EUR\"}", {A}},
        {"{\"amount\":\"NaN\",\"currency\":\"EUR\"}", {A}},
        /* absurdly large */
        {"{\"amount\":\"10000000000000000\",\"currency\":\"EUR\"}", {A}},
        {"{\"amount\":10000000000000000,\"currency\":\"EUR\"}", {A}},
        {"{\"amount\":1000000000000000000,\"currency\":\"JPY\"}", {A}},
        {"{\"amount\":1e300,\"currency\":\"EUR\"}", {A}},
        /* a number past what a double carries exactly */
        {"{\"amount\":12345678901234.56,\"currency\":\"USD\"}", {A}},
        {"{\"amount\":12345678901234567.0,\"currency\":\"JPY\"}", {A}},
        /* neither a string nor a number */
        {"{\"amount\":true,\"currency\":\"EUR\"}", {A}},
        {"{\"amount\":null,\"currency\":\"EUR\"}", {A}},
        {"{\"amount\":[\"1\"],\"currency\":\"EUR\"}", {A}},
        {"{\"amount\":{},\"currency\":\"EUR\"}", {A}},
        {"{\"currency\":\"EUR\"}", {A}},
        /* the currency */
        {"{\"amount\":\"10\",\"currency\":\"eur\"}", {C}},
        {"{\"amount\":\"10\",\"currency\":\"EURO\"}", {C}},
        {"{\"amount\":\"10\",\"currency\":\"ABC\"}", {C}},
        {"{\"amount\":\"10\",\"currency\":\"XAU\"}", {C}},
        {"{\"amount\":\"10\",\"currency\":\"\"}", {C}},
        {"{\"amount\":\"10\",\"currency\":978}", {C}},
        {"{\"amount\":\"10\",\"currency\":null}", {C}},
        {"{\"amount\":\"10\"}", {C}},
        /* both; a bad currency does not also blame the amount's decimals */
        {"{\"amount\":\"-1\",\"currency\":\"eur\"}", {A, C}},
        {"{\"amount\":\"1.2345\",\"currency\":\"XAU\"}", {C}},
        {"{}", {A, C}},
        {"{\"amount\":\"10\",\"currency\":\"EUR\",\"rate\":1}", {"resolution.compensation.rate"}},
    };
    int64_t id = acknowledged();
    json_t *before = h_get_complaint(&srv, agent_key, id);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct h_resp *r = resolve(id, rows[i].compensation);
        if (r->status != 422)
            fprintf(stderr, "%s: %ld %s\n", rows[i].compensation, r->status, r->body);
        h_expect_fields(r, rows[i].fields);
        h_resp_free(r);
    }
    json_t *after = h_get_complaint(&srv, agent_key, id);
    assert_true(json_equal(before, after));
    json_decref(before);
    json_decref(after);
}

/* ---- migration 0017 on rows written before it ---- */

static void db_url_beside(const char *dbname, char *out, size_t len)
{
    const char *u = srv.db_url, *q = strchr(u, '?');
    size_t end = q ? (size_t)(q - u) : strlen(u), slash = end;
    while (slash > 0 && u[slash - 1] != '/')
        slash--;
    snprintf(out, len, "%.*s%s%s", (int)slash, u, dbname, q ? q : "");
}

static void migration_keeps_amounts(void **state)
{
    (void)state;
    struct h_server old;
    memset(&old, 0, sizeof old);
    snprintf(old.dbname, sizeof old.dbname, "%.40s_m16", srv.dbname);
    db_url_beside(old.dbname, old.db_url, sizeof old.db_url);
    char sql[256];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", old.dbname);
    json_decref(h_sql(&srv, sql));

    /* The schema as it was before 0017, with compensations of then. */
    const struct ombud_migration *m17 = NULL;
    for (size_t i = 0; i < ombud_migrations_count; i++) {
        if (ombud_migrations[i].version < 17)
            json_decref(h_sql(&old, ombud_migrations[i].sql));
        else if (ombud_migrations[i].version == 17)
            m17 = &ombud_migrations[i];
    }
    assert_non_null(m17);
    static const struct {
        const char *amount, *currency, *want;
    } rows[] = {
        {"500.00", "JPY", "500"},  /* takes the currency's scale */
        {"1.25", "KWD", "1.250"},  /* gains the digit it could not hold */
        {"3.50", "CLF", "3.5000"}, /* four digits */
        {"25.50", "EUR", "25.50"}, /* two digits, as before */
        {"12.50", "JPY", "12.50"}, /* not whole yen: kept as it is */
        {"10.00", "XAU", "10.00"}, /* not payable now: kept */
        {"7.00", "ZZZ", "7.00"},   /* no currency known: kept */
        {"999999999999.99", "USD", "999999999999.99"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char ins[512];
        snprintf(ins, sizeof ins,
                 "INSERT INTO complaints (title, description, customer_name, priority,"
                 " external_ref, compensation_amount, compensation_currency)"
                 " VALUES ('t', 'd', 'c', 'normal', 'row%zu', %s, '%s')",
                 i, rows[i].amount, rows[i].currency);
        json_decref(h_sql(&old, ins));
    }
    json_decref(h_sql(&old, "INSERT INTO complaints (title, description, customer_name,"
                            " priority, external_ref) VALUES ('t', 'd', 'c', 'normal', 'none')"));

    json_decref(h_sql(&old, m17->sql));

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char q[256];
        snprintf(q, sizeof q,
                 "SELECT compensation_amount::text FROM complaints WHERE external_ref = 'row%zu'",
                 i);
        json_t *got = h_sql(&old, q);
        const char *v = json_string_value(json_array_get(json_array_get(got, 0), 0));
        if (!v || strcmp(v, rows[i].want) != 0)
            fprintf(stderr, "%s %s: got %s\n", rows[i].amount, rows[i].currency, v);
        assert_non_null(v);
        assert_string_equal(v, rows[i].want);
        json_decref(got);
    }
    json_t *none = h_sql(&old, "SELECT compensation_amount FROM complaints"
                               " WHERE external_ref = 'none'");
    assert_true(json_is_null(json_array_get(json_array_get(none, 0), 0)));
    json_decref(none);

    snprintf(sql, sizeof sql, "DROP DATABASE %s", old.dbname);
    json_decref(h_sql(&srv, sql));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stored_exactly),
        cmocka_unit_test(resolved_again_and_listed),
        cmocka_unit_test(refused),
        cmocka_unit_test(migration_keeps_amounts),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
