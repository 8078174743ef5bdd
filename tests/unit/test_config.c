/*
 * Unit tests for src/config.c: ombud_config_load through a getter over a
 * small in-memory table (the process environment is never touched) and
 * ombud_config_cors_allows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ombud/config.h"

#define MAX_VARS 32
#define MAX_SEEN 64

struct fake_env {
    const char *names[MAX_VARS];
    const char *values[MAX_VARS];
    size_t n;
    /* every name the loader asked for, in order */
    const char *seen[MAX_SEEN];
    size_t nseen;
};

static void env_set(struct fake_env *e, const char *name, const char *val)
{
    for (size_t i = 0; i < e->n; i++) {
        if (strcmp(e->names[i], name) == 0) {
            e->values[i] = val;
            return;
        }
    }
    assert_true(e->n < MAX_VARS);
    e->names[e->n] = name;
    e->values[e->n] = val;
    e->n++;
}

static const char *env_get(void *ctx, const char *name)
{
    struct fake_env *e = ctx;
    if (e->nseen < MAX_SEEN)
        e->seen[e->nseen++] = name;
    for (size_t i = 0; i < e->n; i++)
        if (strcmp(e->names[i], name) == 0)
            return e->values[i];
    return NULL;
}

static enum ombud_rc load(struct fake_env *e, struct ombud_config *cfg, struct ombud_err *err)
{
    return ombud_config_load(cfg, env_get, e, err);
}

/* Loads with a single variable set. */
static enum ombud_rc load1(const char *name, const char *val, struct ombud_config *cfg,
                           struct ombud_err *err)
{
    struct fake_env e;
    memset(&e, 0, sizeof e);
    env_set(&e, name, val);
    return load(&e, cfg, err);
}

/* Index of the field error for name, or -1. */
static int field_index(const struct ombud_err *err, const char *name)
{
    for (size_t i = 0; i < err->nfields; i++)
        if (strcmp(err->fields[i].field, name) == 0)
            return (int)i;
    return -1;
}

/* Asserts that name=val is rejected with exactly one field error on name. */
static void expect_bad(const char *name, const char *val)
{
    struct ombud_config cfg;
    struct ombud_err err;
    enum ombud_rc rc = load1(name, val, &cfg, &err);
    if (rc != OMBUD_ERROR || err.nfields != 1)
        print_error("%s=\"%s\": rc %d, %zu field errors\n", name, val, (int)rc, err.nfields);
    assert_int_equal(rc, OMBUD_ERROR);
    assert_int_equal(err.kind, OMBUD_E_CONFIG);
    assert_string_equal(err.type, "bad-config");
    assert_int_equal(err.nfields, 1);
    assert_string_equal(err.fields[0].field, name);
    assert_true(strlen(err.fields[0].message) > 0);
}

/* Asserts that name=val loads without error. */
static void expect_good(const char *name, const char *val, struct ombud_config *cfg)
{
    struct ombud_err err;
    enum ombud_rc rc = load1(name, val, cfg, &err);
    if (rc != OMBUD_OK)
        print_error("%s=\"%s\" rejected: %s\n", name, val,
                    err.nfields ? err.fields[0].message : err.detail);
    assert_int_equal(rc, OMBUD_OK);
    assert_int_equal(err.kind, OMBUD_E_NONE);
    assert_int_equal(err.nfields, 0);
}

static unsigned cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : (unsigned)n;
}

/* ---- defaults ---- */

static void test_defaults(void **state)
{
    struct fake_env e;
    struct ombud_config cfg;
    struct ombud_err err;
    (void)state;
    memset(&e, 0, sizeof e);
    memset(&cfg, 0x5A, sizeof cfg);
    assert_int_equal(load(&e, &cfg, &err), OMBUD_OK);
    assert_int_equal(err.kind, OMBUD_E_NONE);
    assert_int_equal(err.nfields, 0);
    assert_string_equal(cfg.database_url, "postgresql:///ombud");
    assert_string_equal(cfg.listen_host, "127.0.0.1");
    assert_int_equal(cfg.listen_port, 8080);
    assert_int_equal(cfg.threads, cores());
    assert_int_equal(cfg.db_pool, cores() + 2);
    assert_string_equal(cfg.admin_key, "");
    assert_int_equal(cfg.max_body_bytes, 1048576);
    assert_int_equal(cfg.log_level, OMBUD_LOG_INFO);
    assert_string_equal(cfg.cors_origins, "");
    assert_int_equal(cfg.conn_timeout, 30);
    assert_int_equal(cfg.conn_limit, 1024);
    assert_int_equal(cfg.db_timeout_ms, 2000);
    assert_int_equal(cfg.statement_timeout_ms, 5000);
    assert_int_equal(cfg.request_timeout_ms, 5000);
    assert_int_equal(cfg.drain_seconds, 10);
    assert_int_equal(cfg.conn_per_ip, 64);
    assert_int_equal(cfg.header_timeout_ms, 10000);
    assert_int_equal(cfg.body_timeout_ms, 60000);
    assert_int_equal(cfg.rate_limit, 1000);
    assert_int_equal(cfg.rate_burst, 2000);
}

/* The burst defaults to twice the rate, within the largest burst; with
 * the limit off it is moot but still a valid number. */
static void test_rate_burst_default_follows_rate(void **state)
{
    struct ombud_config cfg;
    (void)state;
    expect_good("OMBUD_RATE_LIMIT", "7", &cfg);
    assert_int_equal(cfg.rate_limit, 7);
    assert_int_equal(cfg.rate_burst, 14);
    expect_good("OMBUD_RATE_LIMIT", "1000000", &cfg);
    assert_int_equal(cfg.rate_burst, 1000000);
    expect_good("OMBUD_RATE_LIMIT", "0", &cfg);
    assert_int_equal(cfg.rate_limit, 0);
    assert_int_equal(cfg.rate_burst, 1);
    expect_good("OMBUD_RATE_BURST", "3", &cfg);
    assert_int_equal(cfg.rate_limit, 1000);
    assert_int_equal(cfg.rate_burst, 3);
}

static void test_empty_values_mean_default(void **state)
{
    struct fake_env e;
    struct ombud_config cfg;
    struct ombud_err err;
    (void)state;
    memset(&e, 0, sizeof e);
    for (size_t i = 0; i < ombud_config_nvars; i++)
        env_set(&e, ombud_config_vars[i].name, "");
    assert_int_equal(load(&e, &cfg, &err), OMBUD_OK);
    assert_string_equal(cfg.database_url, "postgresql:///ombud");
    assert_string_equal(cfg.listen_host, "127.0.0.1");
    assert_int_equal(cfg.listen_port, 8080);
    assert_int_equal(cfg.threads, cores());
    assert_int_equal(cfg.log_level, OMBUD_LOG_INFO);
    assert_int_equal(cfg.max_body_bytes, 1048576);
}

static void test_all_set(void **state)
{
    struct fake_env e;
    struct ombud_config cfg;
    struct ombud_err err;
    (void)state;
    memset(&e, 0, sizeof e);
    env_set(&e, "OMBUD_DATABASE_URL", "postgresql://u@db:5432/x?sslmode=require");
    env_set(&e, "OMBUD_LISTEN", "0.0.0.0:9000");
    env_set(&e, "OMBUD_THREADS", "3");
    env_set(&e, "OMBUD_DB_POOL", "7");
    env_set(&e, "OMBUD_ADMIN_KEY", "0123456789abcdef");
    env_set(&e, "OMBUD_MAX_BODY_BYTES", "4096");
    env_set(&e, "OMBUD_LOG_LEVEL", "debug");
    env_set(&e, "OMBUD_CORS_ORIGINS", "https://a.example");
    env_set(&e, "OMBUD_CONN_TIMEOUT", "5");
    env_set(&e, "OMBUD_CONN_LIMIT", "100");
    env_set(&e, "OMBUD_DB_TIMEOUT_MS", "250");
    env_set(&e, "OMBUD_STATEMENT_TIMEOUT_MS", "1500");
    env_set(&e, "OMBUD_REQUEST_TIMEOUT_MS", "750");
    env_set(&e, "OMBUD_DRAIN_SECONDS", "0");
    env_set(&e, "OMBUD_CONN_PER_IP", "0");
    env_set(&e, "OMBUD_HEADER_TIMEOUT_MS", "500");
    env_set(&e, "OMBUD_BODY_TIMEOUT_MS", "700");
    env_set(&e, "OMBUD_RATE_LIMIT", "50");
    env_set(&e, "OMBUD_RATE_BURST", "60");
    assert_int_equal(load(&e, &cfg, &err), OMBUD_OK);
    assert_string_equal(cfg.database_url, "postgresql://u@db:5432/x?sslmode=require");
    assert_string_equal(cfg.listen_host, "0.0.0.0");
    assert_int_equal(cfg.listen_port, 9000);
    assert_int_equal(cfg.threads, 3);
    assert_int_equal(cfg.db_pool, 7);
    assert_string_equal(cfg.admin_key, "0123456789abcdef");
    assert_int_equal(cfg.max_body_bytes, 4096);
    assert_int_equal(cfg.log_level, OMBUD_LOG_DEBUG);
    assert_string_equal(cfg.cors_origins, "https://a.example");
    assert_int_equal(cfg.conn_timeout, 5);
    assert_int_equal(cfg.conn_limit, 100);
    assert_int_equal(cfg.db_timeout_ms, 250);
    assert_int_equal(cfg.statement_timeout_ms, 1500);
    assert_int_equal(cfg.request_timeout_ms, 750);
    assert_int_equal(cfg.drain_seconds, 0);
    assert_int_equal(cfg.conn_per_ip, 0);
    assert_int_equal(cfg.header_timeout_ms, 500);
    assert_int_equal(cfg.body_timeout_ms, 700);
    assert_int_equal(cfg.rate_limit, 50);
    assert_int_equal(cfg.rate_burst, 60);
}

static void test_db_pool_default_follows_threads(void **state)
{
    struct ombud_config cfg;
    (void)state;
    expect_good("OMBUD_THREADS", "5", &cfg);
    assert_int_equal(cfg.threads, 5);
    assert_int_equal(cfg.db_pool, 7);
    expect_good("OMBUD_THREADS", "1", &cfg);
    assert_int_equal(cfg.db_pool, 3);
}

static void test_getter_asked_only_for_table_names(void **state)
{
    struct fake_env e;
    struct ombud_config cfg;
    struct ombud_err err;
    (void)state;
    memset(&e, 0, sizeof e);
    assert_int_equal(load(&e, &cfg, &err), OMBUD_OK);
    assert_true(e.nseen >= ombud_config_nvars);
    /* Every table variable is read ... */
    for (size_t i = 0; i < ombud_config_nvars; i++) {
        bool found = false;
        for (size_t j = 0; j < e.nseen && !found; j++)
            found = strcmp(e.seen[j], ombud_config_vars[i].name) == 0;
        if (!found)
            print_error("%s never read\n", ombud_config_vars[i].name);
        assert_true(found);
    }
    /* ... and nothing outside the table (which --help prints). */
    for (size_t j = 0; j < e.nseen; j++) {
        bool found = false;
        for (size_t i = 0; i < ombud_config_nvars && !found; i++)
            found = strcmp(e.seen[j], ombud_config_vars[i].name) == 0;
        if (!found)
            print_error("%s read but not in ombud_config_vars\n", e.seen[j]);
        assert_true(found);
    }
}

static void test_var_table_well_formed(void **state)
{
    (void)state;
    assert_true(ombud_config_nvars > 0);
    for (size_t i = 0; i < ombud_config_nvars; i++) {
        assert_non_null(ombud_config_vars[i].name);
        assert_non_null(ombud_config_vars[i].help);
        assert_int_equal(strncmp(ombud_config_vars[i].name, "OMBUD_", 6), 0);
        assert_true(strlen(ombud_config_vars[i].help) > 0);
        for (size_t j = i + 1; j < ombud_config_nvars; j++)
            assert_string_not_equal(ombud_config_vars[i].name, ombud_config_vars[j].name);
    }
}

/* ---- OMBUD_LISTEN ---- */

static void test_listen_host_port(void **state)
{
    struct ombud_config cfg;
    (void)state;
    expect_good("OMBUD_LISTEN", "localhost:80", &cfg);
    assert_string_equal(cfg.listen_host, "localhost");
    assert_int_equal(cfg.listen_port, 80);
    expect_good("OMBUD_LISTEN", "10.1.2.3:65535", &cfg);
    assert_string_equal(cfg.listen_host, "10.1.2.3");
    assert_int_equal(cfg.listen_port, 65535);
    expect_good("OMBUD_LISTEN", "0.0.0.0:0", &cfg);
    assert_string_equal(cfg.listen_host, "0.0.0.0");
    assert_int_equal(cfg.listen_port, 0);
}

static void test_listen_ipv6(void **state)
{
    struct ombud_config cfg;
    (void)state;
    expect_good("OMBUD_LISTEN", "[::1]:8080", &cfg);
    assert_string_equal(cfg.listen_host, "::1");
    assert_int_equal(cfg.listen_port, 8080);
    expect_good("OMBUD_LISTEN", "[::]:443", &cfg);
    assert_string_equal(cfg.listen_host, "::");
    assert_int_equal(cfg.listen_port, 443);
    expect_good("OMBUD_LISTEN", "[fe80::1%eth0]:1", &cfg);
    assert_string_equal(cfg.listen_host, "fe80::1%eth0");
    assert_int_equal(cfg.listen_port, 1);
}

static void test_listen_bad(void **state)
{
    static const char *const bad[] = {
        "localhost",                      /* missing colon */
        "8080",                           /* missing colon */
        "localhost:",                     /* empty port */
        ":8080",                          /* empty host */
        "[]:8080",                        /* empty bracketed host */
        "localhost:65536",                /* port out of range */
        "localhost:99999",                /* port out of range */
        "localhost:-1",                   /* negative port */
        "localhost:+80",                  /* sign */
        "localhost: 80",                  /* space */
        "localhost:80 ",                  /* trailing space */
        "localhost:80a",                  /* junk */
        "localhost:0x50",                 /* hex */
        "localhost:http",                 /* service name */
        "localhost:18446744073709551616", /* overflows unsigned long long */
        "[::1]8080",                      /* no colon after the bracket */
        "[::1]:",                         /* empty port */
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_bad("OMBUD_LISTEN", bad[i]);
}

static void test_listen_host_too_long(void **state)
{
    struct ombud_config cfg;
    char val[300];
    (void)state;
    /* 255 bytes of host fit listen_host[256]. */
    memset(val, 'h', 255);
    strcpy(val + 255, ":80");
    expect_good("OMBUD_LISTEN", val, &cfg);
    assert_int_equal(strlen(cfg.listen_host), 255);
    /* 256 do not. */
    memset(val, 'h', 256);
    strcpy(val + 256, ":80");
    expect_bad("OMBUD_LISTEN", val);
}

/* ---- numbers ---- */

static void test_numbers_in_range(void **state)
{
    struct ombud_config cfg;
    (void)state;
    expect_good("OMBUD_THREADS", "1", &cfg);
    assert_int_equal(cfg.threads, 1);
    expect_good("OMBUD_THREADS", "1024", &cfg);
    assert_int_equal(cfg.threads, 1024);
    expect_good("OMBUD_THREADS", "0008", &cfg);
    assert_int_equal(cfg.threads, 8);
    expect_good("OMBUD_DB_POOL", "1", &cfg);
    assert_int_equal(cfg.db_pool, 1);
    expect_good("OMBUD_MAX_BODY_BYTES", "1024", &cfg);
    assert_int_equal(cfg.max_body_bytes, 1024);
    expect_good("OMBUD_MAX_BODY_BYTES", "1073741824", &cfg);
    assert_int_equal(cfg.max_body_bytes, (size_t)1 << 30);
    expect_good("OMBUD_CONN_TIMEOUT", "86400", &cfg);
    assert_int_equal(cfg.conn_timeout, 86400);
    expect_good("OMBUD_CONN_LIMIT", "1000000", &cfg);
    assert_int_equal(cfg.conn_limit, 1000000);
    expect_good("OMBUD_DB_TIMEOUT_MS", "600000", &cfg);
    assert_int_equal(cfg.db_timeout_ms, 600000);
    expect_good("OMBUD_STATEMENT_TIMEOUT_MS", "3600000", &cfg);
    assert_int_equal(cfg.statement_timeout_ms, 3600000);
    expect_good("OMBUD_REQUEST_TIMEOUT_MS", "10", &cfg);
    assert_int_equal(cfg.request_timeout_ms, 10);
    expect_good("OMBUD_REQUEST_TIMEOUT_MS", "3600000", &cfg);
    assert_int_equal(cfg.request_timeout_ms, 3600000);
    expect_good("OMBUD_DRAIN_SECONDS", "0", &cfg);
    assert_int_equal(cfg.drain_seconds, 0);
    expect_good("OMBUD_DRAIN_SECONDS", "3600", &cfg);
    assert_int_equal(cfg.drain_seconds, 3600);
}

static void test_numbers_out_of_range(void **state)
{
    (void)state;
    expect_bad("OMBUD_THREADS", "0");
    expect_bad("OMBUD_THREADS", "1025");
    expect_bad("OMBUD_DB_POOL", "0");
    expect_bad("OMBUD_DB_POOL", "1025");
    expect_bad("OMBUD_MAX_BODY_BYTES", "1023");
    expect_bad("OMBUD_MAX_BODY_BYTES", "1073741825");
    expect_bad("OMBUD_MAX_BODY_BYTES", "4294967296");
    expect_bad("OMBUD_CONN_TIMEOUT", "0");
    expect_bad("OMBUD_CONN_TIMEOUT", "86401");
    expect_bad("OMBUD_CONN_LIMIT", "0");
    expect_bad("OMBUD_CONN_LIMIT", "1000001");
    expect_bad("OMBUD_DB_TIMEOUT_MS", "0");
    expect_bad("OMBUD_DB_TIMEOUT_MS", "600001");
    expect_bad("OMBUD_STATEMENT_TIMEOUT_MS", "0");
    expect_bad("OMBUD_STATEMENT_TIMEOUT_MS", "3600001");
    expect_bad("OMBUD_REQUEST_TIMEOUT_MS", "9");
    expect_bad("OMBUD_REQUEST_TIMEOUT_MS", "3600001");
    expect_bad("OMBUD_DRAIN_SECONDS", "3601");
    expect_bad("OMBUD_CONN_PER_IP", "1000001");
    expect_bad("OMBUD_HEADER_TIMEOUT_MS", "99");
    expect_bad("OMBUD_HEADER_TIMEOUT_MS", "3600001");
    expect_bad("OMBUD_BODY_TIMEOUT_MS", "99");
    expect_bad("OMBUD_BODY_TIMEOUT_MS", "3600001");
    expect_bad("OMBUD_RATE_LIMIT", "1000001");
    expect_bad("OMBUD_RATE_BURST", "0");
    expect_bad("OMBUD_RATE_BURST", "1000001");
    /* Larger than unsigned long long: ERANGE, not a wrapped value. */
    expect_bad("OMBUD_THREADS", "18446744073709551617");
    expect_bad("OMBUD_THREADS", "99999999999999999999999999");
    /* Would wrap to a small value if truncated to 32 bits. */
    expect_bad("OMBUD_THREADS", "4294967300");
}

static void test_numbers_non_numeric_and_negative(void **state)
{
    static const char *const bad[] = {"abc",  "-1",  "-0",  "+4",  " 4",  "4 ",  "4x",
                                      "0x10", "1e3", "4.0", "4,0", "\t4", "four"};
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        expect_bad("OMBUD_THREADS", bad[i]);
        expect_bad("OMBUD_DRAIN_SECONDS", bad[i]);
    }
}

static void test_number_message_and_fallback(void **state)
{
    struct ombud_config cfg;
    struct ombud_err err;
    (void)state;
    assert_int_equal(load1("OMBUD_CONN_LIMIT", "lots", &cfg, &err), OMBUD_ERROR);
    assert_int_equal(err.nfields, 1);
    assert_string_equal(err.fields[0].field, "OMBUD_CONN_LIMIT");
    assert_string_equal(err.fields[0].message, "must be an integer from 1 to 1000000");
    /* The rest of the configuration is still filled in. */
    assert_int_equal(cfg.conn_limit, 1024);
    assert_int_equal(cfg.listen_port, 8080);
}

/* ---- several errors together ---- */

static void test_several_errors_reported_together(void **state)
{
    struct fake_env e;
    struct ombud_config cfg;
    struct ombud_err err;
    (void)state;
    memset(&e, 0, sizeof e);
    env_set(&e, "OMBUD_LISTEN", "nocolon");
    env_set(&e, "OMBUD_THREADS", "many");
    env_set(&e, "OMBUD_ADMIN_KEY", "short");
    env_set(&e, "OMBUD_LOG_LEVEL", "verbose");
    env_set(&e, "OMBUD_DRAIN_SECONDS", "-5");
    assert_int_equal(load(&e, &cfg, &err), OMBUD_ERROR);
    assert_int_equal(err.kind, OMBUD_E_CONFIG);
    assert_string_equal(err.type, "bad-config");
    assert_int_equal(err.nfields, 5);
    assert_string_equal(err.detail, "5 variables are invalid");
    assert_true(field_index(&err, "OMBUD_LISTEN") >= 0);
    assert_true(field_index(&err, "OMBUD_THREADS") >= 0);
    assert_true(field_index(&err, "OMBUD_ADMIN_KEY") >= 0);
    assert_true(field_index(&err, "OMBUD_LOG_LEVEL") >= 0);
    assert_true(field_index(&err, "OMBUD_DRAIN_SECONDS") >= 0);
    /* Reported in table order. */
    assert_true(field_index(&err, "OMBUD_LISTEN") < field_index(&err, "OMBUD_THREADS"));
    assert_true(field_index(&err, "OMBUD_THREADS") < field_index(&err, "OMBUD_ADMIN_KEY"));
    assert_true(field_index(&err, "OMBUD_ADMIN_KEY") < field_index(&err, "OMBUD_LOG_LEVEL"));
    assert_true(field_index(&err, "OMBUD_LOG_LEVEL") < field_index(&err, "OMBUD_DRAIN_SECONDS"));
}

static void test_every_numeric_var_bad_at_once(void **state)
{
    static const char *const nums[] = {
        "OMBUD_THREADS",
        "OMBUD_DB_POOL",
        "OMBUD_MAX_BODY_BYTES",
        "OMBUD_CONN_TIMEOUT",
        "OMBUD_CONN_LIMIT",
        "OMBUD_DB_TIMEOUT_MS",
        "OMBUD_STATEMENT_TIMEOUT_MS",
        "OMBUD_DRAIN_SECONDS",
        "OMBUD_CONN_PER_IP",
        "OMBUD_HEADER_TIMEOUT_MS",
        "OMBUD_BODY_TIMEOUT_MS",
        "OMBUD_RATE_LIMIT",
        "OMBUD_RATE_BURST",
    };
    struct fake_env e;
    struct ombud_config cfg;
    struct ombud_err err;
    (void)state;
    memset(&e, 0, sizeof e);
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        env_set(&e, nums[i], "x");
    assert_int_equal(load(&e, &cfg, &err), OMBUD_ERROR);
    assert_int_equal(err.nfields, sizeof nums / sizeof nums[0]);
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        assert_true(field_index(&err, nums[i]) >= 0);
}

static void test_single_error_detail(void **state)
{
    struct ombud_config cfg;
    struct ombud_err err;
    (void)state;
    assert_int_equal(load1("OMBUD_LOG_LEVEL", "loud", &cfg, &err), OMBUD_ERROR);
    assert_int_equal(err.nfields, 1);
    assert_string_equal(err.detail, "1 variable is invalid");
}

static void test_load_clears_previous_error(void **state)
{
    struct fake_env e;
    struct ombud_config cfg;
    struct ombud_err err;
    (void)state;
    memset(&e, 0, sizeof e);
    ombud_err_clear(&err);
    ombud_err_field(&err, "stale", "old");
    ombud_err_set(&err, OMBUD_E_INTERNAL, "old-type", "old");
    strcpy(err.allowed, "stale");
    assert_int_equal(load(&e, &cfg, &err), OMBUD_OK);
    assert_int_equal(err.kind, OMBUD_E_NONE);
    assert_int_equal(err.nfields, 0);
    assert_string_equal(err.allowed, "");
}

/* ---- admin key ---- */

static void test_admin_key_length(void **state)
{
    struct ombud_config cfg;
    struct ombud_err err;
    char key[300];
    (void)state;
    expect_bad("OMBUD_ADMIN_KEY", "x");
    expect_bad("OMBUD_ADMIN_KEY", "0123456789abcde"); /* 15 */
    assert_int_equal(load1("OMBUD_ADMIN_KEY", "0123456789abcde", &cfg, &err), OMBUD_ERROR);
    assert_string_equal(err.fields[0].message, "must be at least 16 characters");

    expect_good("OMBUD_ADMIN_KEY", "0123456789abcdef", &cfg); /* 16 */
    assert_string_equal(cfg.admin_key, "0123456789abcdef");

    memset(key, 'k', 255);
    key[255] = '\0';
    expect_good("OMBUD_ADMIN_KEY", key, &cfg);
    assert_int_equal(strlen(cfg.admin_key), 255);

    memset(key, 'k', 256);
    key[256] = '\0';
    expect_bad("OMBUD_ADMIN_KEY", key); /* one error: too long, not also too short */
    assert_int_equal(load1("OMBUD_ADMIN_KEY", key, &cfg, &err), OMBUD_ERROR);
    assert_string_equal(cfg.admin_key, "");
}

static void test_string_vars_too_long(void **state)
{
    struct ombud_config cfg;
    char *big = malloc(4096);
    (void)state;
    assert_non_null(big);
    memset(big, 'u', 1023);
    big[1023] = '\0';
    expect_good("OMBUD_DATABASE_URL", big, &cfg);
    assert_int_equal(strlen(cfg.database_url), 1023);
    big[1023] = 'u';
    big[1024] = '\0';
    expect_bad("OMBUD_DATABASE_URL", big);

    memset(big, 'o', 2047);
    big[2047] = '\0';
    expect_good("OMBUD_CORS_ORIGINS", big, &cfg);
    big[2047] = 'o';
    big[2048] = '\0';
    expect_bad("OMBUD_CORS_ORIGINS", big);
    free(big);
}

/* ---- log level ---- */

static void test_log_levels(void **state)
{
    static const struct {
        const char *s;
        enum ombud_log_level l;
    } good[] = {{"debug", OMBUD_LOG_DEBUG},
                {"info", OMBUD_LOG_INFO},
                {"warn", OMBUD_LOG_WARN},
                {"error", OMBUD_LOG_ERROR}};
    struct ombud_config cfg;
    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        expect_good("OMBUD_LOG_LEVEL", good[i].s, &cfg);
        assert_int_equal(cfg.log_level, good[i].l);
    }
}

static void test_log_level_bad(void **state)
{
    static const char *const bad[] = {"DEBUG", "Info",  "warning", "err", "trace",
                                      "fatal", "info ", " info",   "1",   "debugx"};
    struct ombud_config cfg;
    struct ombud_err err;
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_bad("OMBUD_LOG_LEVEL", bad[i]);
    assert_int_equal(load1("OMBUD_LOG_LEVEL", "trace", &cfg, &err), OMBUD_ERROR);
    assert_int_equal(cfg.log_level, OMBUD_LOG_INFO);
}

/* ---- ombud_config_cors_allows ---- */

static void cors(struct ombud_config *cfg, const char *origins)
{
    memset(cfg, 0, sizeof *cfg);
    assert_true(strlen(origins) < sizeof cfg->cors_origins);
    strcpy(cfg->cors_origins, origins);
}

static void test_cors_empty_list(void **state)
{
    struct ombud_config cfg;
    (void)state;
    cors(&cfg, "");
    assert_false(ombud_config_cors_allows(&cfg, "https://a.example"));
    assert_false(ombud_config_cors_allows(&cfg, ""));
    assert_false(ombud_config_cors_allows(&cfg, NULL));
    cors(&cfg, " , ,");
    assert_false(ombud_config_cors_allows(&cfg, "https://a.example"));
    assert_false(ombud_config_cors_allows(&cfg, " "));
}

static void test_cors_exact(void **state)
{
    struct ombud_config cfg;
    (void)state;
    cors(&cfg, "https://a.example");
    assert_true(ombud_config_cors_allows(&cfg, "https://a.example"));
    assert_false(ombud_config_cors_allows(&cfg, "http://a.example"));
    assert_false(ombud_config_cors_allows(&cfg, "https://A.example"));
    assert_false(ombud_config_cors_allows(&cfg, "https://a.example/"));
    assert_false(ombud_config_cors_allows(&cfg, "https://a.example:443"));
    assert_false(ombud_config_cors_allows(&cfg, "https://b.example"));
    assert_false(ombud_config_cors_allows(&cfg, " https://a.example"));
    assert_false(ombud_config_cors_allows(&cfg, "null"));
}

static void test_cors_prefix_does_not_match(void **state)
{
    struct ombud_config cfg;
    (void)state;
    cors(&cfg, "https://a.example");
    /* The configured origin is a prefix of the request's origin. */
    assert_false(ombud_config_cors_allows(&cfg, "https://a.example.evil"));
    assert_false(ombud_config_cors_allows(&cfg, "https://a.examplex"));
    /* The request's origin is a prefix of the configured one. */
    assert_false(ombud_config_cors_allows(&cfg, "https://a.exampl"));
    assert_false(ombud_config_cors_allows(&cfg, "https://"));
    assert_false(ombud_config_cors_allows(&cfg, "h"));
    /* Nor a suffix. */
    assert_false(ombud_config_cors_allows(&cfg, "example"));
}

static void test_cors_list_with_spaces(void **state)
{
    struct ombud_config cfg;
    (void)state;
    cors(&cfg, "https://a.example, https://b.example ,  http://c.example:8080  ");
    assert_true(ombud_config_cors_allows(&cfg, "https://a.example"));
    assert_true(ombud_config_cors_allows(&cfg, "https://b.example"));
    assert_true(ombud_config_cors_allows(&cfg, "http://c.example:8080"));
    assert_false(ombud_config_cors_allows(&cfg, "https://b.example "));
    assert_false(ombud_config_cors_allows(&cfg, "https://c.example"));
    assert_false(ombud_config_cors_allows(&cfg, "https://a.example, https://b.example"));

    cors(&cfg, ",,https://d.example,,");
    assert_true(ombud_config_cors_allows(&cfg, "https://d.example"));
    assert_false(ombud_config_cors_allows(&cfg, "https://d.example,"));
}

static void test_cors_star(void **state)
{
    struct ombud_config cfg;
    (void)state;
    cors(&cfg, "*");
    assert_true(ombud_config_cors_allows(&cfg, "https://anything.example"));
    assert_true(ombud_config_cors_allows(&cfg, "http://localhost:3000"));
    assert_false(ombud_config_cors_allows(&cfg, NULL));
    assert_false(ombud_config_cors_allows(&cfg, ""));

    cors(&cfg, "https://a.example, *");
    assert_true(ombud_config_cors_allows(&cfg, "https://z.example"));
    cors(&cfg, " * ");
    assert_true(ombud_config_cors_allows(&cfg, "https://z.example"));

    /* '*' only counts on its own, not as a glob inside an entry. */
    cors(&cfg, "https://*.example");
    assert_false(ombud_config_cors_allows(&cfg, "https://a.example"));
    assert_true(ombud_config_cors_allows(&cfg, "https://*.example"));
    cors(&cfg, "**");
    assert_false(ombud_config_cors_allows(&cfg, "https://a.example"));
}

static void test_cors_null_origin(void **state)
{
    struct ombud_config cfg;
    (void)state;
    cors(&cfg, "https://a.example");
    assert_false(ombud_config_cors_allows(&cfg, NULL));
    assert_false(ombud_config_cors_allows(&cfg, ""));
}

static void test_cors_from_load(void **state)
{
    struct ombud_config cfg;
    (void)state;
    expect_good("OMBUD_CORS_ORIGINS", "https://x.example, https://y.example", &cfg);
    assert_true(ombud_config_cors_allows(&cfg, "https://y.example"));
    assert_false(ombud_config_cors_allows(&cfg, "https://z.example"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_empty_values_mean_default),
        cmocka_unit_test(test_all_set),
        cmocka_unit_test(test_db_pool_default_follows_threads),
        cmocka_unit_test(test_rate_burst_default_follows_rate),
        cmocka_unit_test(test_getter_asked_only_for_table_names),
        cmocka_unit_test(test_var_table_well_formed),
        cmocka_unit_test(test_listen_host_port),
        cmocka_unit_test(test_listen_ipv6),
        cmocka_unit_test(test_listen_bad),
        cmocka_unit_test(test_listen_host_too_long),
        cmocka_unit_test(test_numbers_in_range),
        cmocka_unit_test(test_numbers_out_of_range),
        cmocka_unit_test(test_numbers_non_numeric_and_negative),
        cmocka_unit_test(test_number_message_and_fallback),
        cmocka_unit_test(test_several_errors_reported_together),
        cmocka_unit_test(test_every_numeric_var_bad_at_once),
        cmocka_unit_test(test_single_error_detail),
        cmocka_unit_test(test_load_clears_previous_error),
        cmocka_unit_test(test_admin_key_length),
        cmocka_unit_test(test_string_vars_too_long),
        cmocka_unit_test(test_log_levels),
        cmocka_unit_test(test_log_level_bad),
        cmocka_unit_test(test_cors_empty_list),
        cmocka_unit_test(test_cors_exact),
        cmocka_unit_test(test_cors_prefix_does_not_match),
        cmocka_unit_test(test_cors_list_with_spaces),
        cmocka_unit_test(test_cors_star),
        cmocka_unit_test(test_cors_null_origin),
        cmocka_unit_test(test_cors_from_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
