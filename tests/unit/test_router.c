/*
 * Unit tests for src/http/router.c: method names, Allow strings and path
 * matching against a small table of our own (handlers stay NULL).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "ombud/router.h"

enum {
    R_ROOT,
    R_HEALTH,
    R_LIST,
    R_CREATE,
    R_GET,
    R_PATCH,
    R_DELETE,
    R_NOTE_GET,
    R_NOTES_POST,
    R_SETTING_GET,
    R_SETTING_PUT,
    R_MIXED,
    R_FOUR_IDS,
    R_FIVE_IDS,
    R_COUNT
};

static const struct ombud_route table[R_COUNT] = {
    [R_ROOT] = {OMBUD_GET, "/", "root", OMBUD_ROLE_NONE, 0, NULL},
    [R_HEALTH] = {OMBUD_GET, "/v1/health", "health", OMBUD_ROLE_NONE, 0, NULL},
    [R_LIST] = {OMBUD_GET, "/v1/complaints", "complaints.list", OMBUD_ROLE_AGENT, 0, NULL},
    [R_CREATE] = {OMBUD_POST, "/v1/complaints", "complaints.create", OMBUD_ROLE_SERVICE,
                  OMBUD_ROUTE_BODY, NULL},
    [R_GET] = {OMBUD_GET, "/v1/complaints/{id}", "complaints.get", OMBUD_ROLE_AGENT, 0, NULL},
    [R_PATCH] = {OMBUD_PATCH, "/v1/complaints/{id}", "complaints.patch", OMBUD_ROLE_AGENT,
                 OMBUD_ROUTE_BODY, NULL},
    [R_DELETE] = {OMBUD_DELETE, "/v1/complaints/{id}", "complaints.delete", OMBUD_ROLE_ADMIN, 0,
                  NULL},
    [R_NOTE_GET] = {OMBUD_GET, "/v1/complaints/{id}/notes/{id}", "notes.get", OMBUD_ROLE_AGENT, 0,
                    NULL},
    [R_NOTES_POST] = {OMBUD_POST, "/v1/complaints/{id}/notes", "notes.create", OMBUD_ROLE_AGENT,
                      OMBUD_ROUTE_BODY, NULL},
    [R_SETTING_GET] = {OMBUD_GET, "/v1/settings/{key}", "settings.get", OMBUD_ROLE_ADMIN, 0, NULL},
    [R_SETTING_PUT] = {OMBUD_PUT, "/v1/settings/{key}", "settings.put", OMBUD_ROLE_ADMIN,
                       OMBUD_ROUTE_BODY, NULL},
    [R_MIXED] = {OMBUD_GET, "/v1/mixed/{id}/{key}/{id}/{name}", "mixed", OMBUD_ROLE_NONE, 0, NULL},
    [R_FOUR_IDS] = {OMBUD_GET, "/v1/four/{id}/{id}/{id}/{id}", "four", OMBUD_ROLE_NONE, 0, NULL},
    [R_FIVE_IDS] = {OMBUD_GET, "/v1/five/{id}/{id}/{id}/{id}/{id}", "five", OMBUD_ROLE_NONE, 0,
                    NULL},
};

#define NROUTES (sizeof table / sizeof table[0])

static int match(const char *method, const char *path, struct ombud_route_match *m, unsigned *allow)
{
    memset(m, 0xA5, sizeof *m);
    *allow = 0xDEADu;
    return ombud_router_match(table, NROUTES, method, path, m, allow);
}

/* Asserts a 404 for method+path. */
static void expect_404(const char *method, const char *path)
{
    struct ombud_route_match m;
    unsigned allow;
    int rc = match(method, path, &m, &allow);
    if (rc != 404)
        print_error("path \"%s\" gave %d, expected 404\n", path, rc);
    assert_int_equal(rc, 404);
    assert_int_equal(allow, 0);
}

/* Matches a GET on a {id} route and returns the captured id, or -1 on 404. */
static int64_t get_id(const char *path)
{
    struct ombud_route_match m;
    unsigned allow;
    int rc = match("GET", path, &m, &allow);
    if (rc == 404)
        return -1;
    assert_int_equal(rc, 200);
    assert_ptr_equal(m.route, &table[R_GET]);
    assert_int_equal(m.nids, 1);
    assert_int_equal(m.nkeys, 0);
    return m.ids[0];
}

/* ---- ombud_router_method ---- */

static void test_method_known(void **state)
{
    (void)state;
    assert_int_equal(ombud_router_method("GET"), OMBUD_GET);
    assert_int_equal(ombud_router_method("POST"), OMBUD_POST);
    assert_int_equal(ombud_router_method("PUT"), OMBUD_PUT);
    assert_int_equal(ombud_router_method("PATCH"), OMBUD_PATCH);
    assert_int_equal(ombud_router_method("DELETE"), OMBUD_DELETE);
}

static void test_method_head_is_get(void **state)
{
    (void)state;
    assert_int_equal(ombud_router_method("HEAD"), OMBUD_GET);
}

static void test_method_unknown(void **state)
{
    (void)state;
    assert_int_equal(ombud_router_method(NULL), 0);
    assert_int_equal(ombud_router_method(""), 0);
    assert_int_equal(ombud_router_method("get"), 0);
    assert_int_equal(ombud_router_method("Get"), 0);
    assert_int_equal(ombud_router_method("head"), 0);
    assert_int_equal(ombud_router_method("GE"), 0);
    assert_int_equal(ombud_router_method("GETX"), 0);
    assert_int_equal(ombud_router_method("GET "), 0);
    assert_int_equal(ombud_router_method(" GET"), 0);
    assert_int_equal(ombud_router_method("OPTIONS"), 0);
    assert_int_equal(ombud_router_method("TRACE"), 0);
    assert_int_equal(ombud_router_method("CONNECT"), 0);
}

/* ---- ombud_router_allow_string ---- */

static void test_allow_get_post(void **state)
{
    char buf[128];
    (void)state;
    ombud_router_allow_string(OMBUD_GET | OMBUD_POST, buf, sizeof buf);
    assert_string_equal(buf, "GET, HEAD, POST");
}

static void test_allow_single_and_empty(void **state)
{
    char buf[128];
    (void)state;
    ombud_router_allow_string(OMBUD_GET, buf, sizeof buf);
    assert_string_equal(buf, "GET, HEAD");
    ombud_router_allow_string(OMBUD_POST, buf, sizeof buf);
    assert_string_equal(buf, "POST");
    ombud_router_allow_string(OMBUD_DELETE, buf, sizeof buf);
    assert_string_equal(buf, "DELETE");
    strcpy(buf, "junk");
    ombud_router_allow_string(0, buf, sizeof buf);
    assert_string_equal(buf, "");
}

static void test_allow_all_in_table_order(void **state)
{
    char buf[128];
    (void)state;
    ombud_router_allow_string(OMBUD_DELETE | OMBUD_PATCH | OMBUD_PUT | OMBUD_POST | OMBUD_GET, buf,
                              sizeof buf);
    assert_string_equal(buf, "GET, HEAD, POST, PUT, PATCH, DELETE");
    ombud_router_allow_string(OMBUD_DELETE | OMBUD_PUT, buf, sizeof buf);
    assert_string_equal(buf, "PUT, DELETE");
    ombud_router_allow_string(OMBUD_PATCH | OMBUD_GET | OMBUD_DELETE, buf, sizeof buf);
    assert_string_equal(buf, "GET, HEAD, PATCH, DELETE");
}

static void test_allow_ignores_unknown_bits(void **state)
{
    char buf[128];
    (void)state;
    ombud_router_allow_string(OMBUD_POST | (1u << 10) | (1u << 31), buf, sizeof buf);
    assert_string_equal(buf, "POST");
}

static void test_allow_small_buffer_truncates_safely(void **state)
{
    const unsigned all = OMBUD_GET | OMBUD_POST | OMBUD_PUT | OMBUD_PATCH | OMBUD_DELETE;
    const char *full = "GET, HEAD, POST, PUT, PATCH, DELETE";
    (void)state;
    for (size_t len = 1; len <= strlen(full) + 1; len++) {
        char buf[64];
        memset(buf, 'X', sizeof buf);
        ombud_router_allow_string(all, buf, len);
        /* NUL-terminated inside the buffer, nothing written past it, and
         * what was written is a prefix of the full string. */
        assert_non_null(memchr(buf, '\0', len));
        assert_true(strlen(buf) < len);
        assert_int_equal(buf[len], 'X');
        assert_memory_equal(buf, full, strlen(buf));
    }
    char exact[64];
    ombud_router_allow_string(all, exact, strlen(full) + 1);
    assert_string_equal(exact, full);
}

/* ---- ombud_router_match: hits ---- */

static void test_match_exact(void **state)
{
    struct ombud_route_match m;
    unsigned allow;
    (void)state;
    assert_int_equal(match("GET", "/v1/health", &m, &allow), 200);
    assert_ptr_equal(m.route, &table[R_HEALTH]);
    assert_string_equal(m.route->name, "health");
    assert_int_equal(m.nids, 0);
    assert_int_equal(m.nkeys, 0);

    assert_int_equal(match("GET", "/v1/complaints", &m, &allow), 200);
    assert_ptr_equal(m.route, &table[R_LIST]);
    assert_int_equal(match("POST", "/v1/complaints", &m, &allow), 200);
    assert_ptr_equal(m.route, &table[R_CREATE]);
    assert_int_equal(m.route->flags, OMBUD_ROUTE_BODY);
    assert_int_equal(m.route->min_role, OMBUD_ROLE_SERVICE);
}

static void test_match_root(void **state)
{
    struct ombud_route_match m;
    unsigned allow;
    (void)state;
    assert_int_equal(match("GET", "/", &m, &allow), 200);
    assert_ptr_equal(m.route, &table[R_ROOT]);
    expect_404("GET", "");
    expect_404("GET", "//");
}

static void test_match_head_as_get(void **state)
{
    struct ombud_route_match m;
    unsigned allow;
    (void)state;
    assert_int_equal(match("HEAD", "/v1/health", &m, &allow), 200);
    assert_ptr_equal(m.route, &table[R_HEALTH]);
    assert_int_equal(match("HEAD", "/v1/complaints/42", &m, &allow), 200);
    assert_ptr_equal(m.route, &table[R_GET]);
    assert_int_equal(m.ids[0], 42);
    /* HEAD on a path without GET is a 405 listing the other methods. */
    assert_int_equal(match("HEAD", "/v1/complaints/42/notes", &m, &allow), 405);
    assert_int_equal(allow, OMBUD_POST);
}

static void test_match_id_capture(void **state)
{
    (void)state;
    assert_int_equal(get_id("/v1/complaints/1"), 1);
    assert_int_equal(get_id("/v1/complaints/7"), 7);
    assert_int_equal(get_id("/v1/complaints/10"), 10);
    assert_int_equal(get_id("/v1/complaints/1234567890"), 1234567890);
    /* Every positive int64 is an id, up to INT64_MAX (19 digits). */
    assert_int_equal(get_id("/v1/complaints/999999999999999999"), INT64_C(999999999999999999));
    assert_int_equal(get_id("/v1/complaints/1000000000000000000"), INT64_C(1000000000000000000));
    assert_int_equal(get_id("/v1/complaints/9223372036854775807"), INT64_MAX);
    assert_int_equal(get_id("/v1/complaints/100000000000000000"), INT64_C(100000000000000000));
}

static void test_match_id_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "/v1/complaints/0",
        "/v1/complaints/00",
        "/v1/complaints/01",
        "/v1/complaints/007",
        "/v1/complaints/-1",
        "/v1/complaints/+1",
        "/v1/complaints/1e3",
        "/v1/complaints/1.0",
        "/v1/complaints/0x10",
        "/v1/complaints/12a",
        "/v1/complaints/a12",
        "/v1/complaints/ 1",
        "/v1/complaints/1 ",
        "/v1/complaints/%31",
        "/v1/complaints/9223372036854775808",  /* INT64_MAX + 1 */
        "/v1/complaints/9999999999999999999",  /* 19 digits, past INT64_MAX */
        "/v1/complaints/99999999999999999999", /* 20 digits */
        "/v1/complaints/123456789012345678901234567890",
        "/v1/complaints/\xd9\xa1", /* ARABIC-INDIC DIGIT ONE */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (get_id(bad[i]) != -1)
            print_error("accepted %s\n", bad[i]);
        assert_int_equal(get_id(bad[i]), -1);
    }
}

/* The {id} rule on its own, as query ids (src/http/query.c) use it: the
 * length bounds the text, so "7x" read as one byte is 7. */
static void test_parse_id(void **state)
{
    (void)state;
    int64_t v = -1;
    assert_true(ombud_router_parse_id("7", 1, &v));
    assert_int_equal(v, 7);
    assert_true(ombud_router_parse_id("7x", 1, &v));
    assert_int_equal(v, 7);
    assert_true(ombud_router_parse_id("9223372036854775807", 19, &v));
    assert_true(v == INT64_MAX);
    v = 42;
    static const char *const bad[] = {"",
                                      "0",
                                      "07",
                                      "-1",
                                      "+1",
                                      " 1",
                                      "1 ",
                                      "1.5",
                                      "abc",
                                      "9223372036854775808",
                                      "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(ombud_router_parse_id(bad[i], strlen(bad[i]), &v));
    assert_int_equal(v, 42); /* untouched on failure */
}

static void test_match_id_empty_segment(void **state)
{
    (void)state;
    /* "/v1/complaints/" has an empty {id}: not the list, not the item. */
    expect_404("GET", "/v1/complaints/");
    expect_404("PATCH", "/v1/complaints/");
    expect_404("GET", "/v1/complaints//notes");
    expect_404("POST", "/v1/complaints//notes");
}

static void test_match_key_capture(void **state)
{
    struct ombud_route_match m;
    unsigned allow;
    (void)state;
    assert_int_equal(match("GET", "/v1/settings/retention", &m, &allow), 200);
    assert_ptr_equal(m.route, &table[R_SETTING_GET]);
    assert_int_equal(m.nids, 0);
    assert_int_equal(m.nkeys, 1);
    assert_string_equal(m.keys[0], "retention");

    assert_int_equal(match("PUT", "/v1/settings/a.b-c_d~e%20f", &m, &allow), 200);
    assert_ptr_equal(m.route, &table[R_SETTING_PUT]);
    assert_string_equal(m.keys[0], "a.b-c_d~e%20f");

    /* Digits are just text in a {key} segment. */
    assert_int_equal(match("GET", "/v1/settings/0", &m, &allow), 200);
    assert_string_equal(m.keys[0], "0");

    /* UTF-8 is kept byte for byte. */
    assert_int_equal(match("GET", "/v1/settings/\xc3\xa9t\xc3\xa9", &m, &allow), 200);
    assert_string_equal(m.keys[0], "\xc3\xa9t\xc3\xa9");
}

static void test_match_key_length_limits(void **state)
{
    struct ombud_route_match m;
    unsigned allow;
    char path[512];
    const char *prefix = "/v1/settings/";
    (void)state;

    /* 127 bytes fit keys[i][128] with the NUL. */
    strcpy(path, prefix);
    memset(path + strlen(prefix), 'k', 127);
    path[strlen(prefix) + 127] = '\0';
    assert_int_equal(match("GET", path, &m, &allow), 200);
    assert_int_equal(strlen(m.keys[0]), 127);

    /* 128 bytes do not. */
    memset(path + strlen(prefix), 'k', 128);
    path[strlen(prefix) + 128] = '\0';
    expect_404("GET", path);

    memset(path + strlen(prefix), 'k', 300);
    path[strlen(prefix) + 300] = '\0';
    expect_404("GET", path);

    expect_404("GET", "/v1/settings/");
    expect_404("GET", "/v1/settings");
}

static void test_match_multiple_params(void **state)
{
    struct ombud_route_match m;
    unsigned allow;
    (void)state;
    assert_int_equal(match("GET", "/v1/complaints/12/notes/34", &m, &allow), 200);
    assert_ptr_equal(m.route, &table[R_NOTE_GET]);
    assert_int_equal(m.nids, 2);
    assert_int_equal(m.ids[0], 12);
    assert_int_equal(m.ids[1], 34);
    assert_int_equal(m.nkeys, 0);

    assert_int_equal(match("GET", "/v1/mixed/5/alpha/6/beta", &m, &allow), 200);
    assert_ptr_equal(m.route, &table[R_MIXED]);
    assert_int_equal(m.nids, 2);
    assert_int_equal(m.ids[0], 5);
    assert_int_equal(m.ids[1], 6);
    assert_int_equal(m.nkeys, 2);
    assert_string_equal(m.keys[0], "alpha");
    assert_string_equal(m.keys[1], "beta");

    expect_404("GET", "/v1/mixed/5/alpha/x/beta");
    expect_404("GET", "/v1/mixed/5//6/beta");
    expect_404("GET", "/v1/mixed/5/alpha/6");
    expect_404("GET", "/v1/mixed/5/alpha/6/beta/");
    expect_404("GET", "/v1/complaints/12/notes/0");
    expect_404("GET", "/v1/complaints/0/notes/12");
}

static void test_match_param_count_limit(void **state)
{
    struct ombud_route_match m;
    unsigned allow;
    (void)state;
    assert_int_equal(match("GET", "/v1/four/1/2/3/4", &m, &allow), 200);
    assert_ptr_equal(m.route, &table[R_FOUR_IDS]);
    assert_int_equal(m.nids, OMBUD_ROUTE_MAX_PARAMS);
    for (size_t i = 0; i < OMBUD_ROUTE_MAX_PARAMS; i++)
        assert_int_equal(m.ids[i], (int64_t)i + 1);
    /* A pattern with more {id}s than the match can hold never matches. */
    expect_404("GET", "/v1/five/1/2/3/4/5");
}

static void test_match_counts_reset_between_candidates(void **state)
{
    struct ombud_route_match m;
    unsigned allow;
    (void)state;
    /* Earlier candidates capture an id before failing; the result must
     * only hold the captures of the route that matched. */
    assert_int_equal(match("POST", "/v1/complaints/9/notes", &m, &allow), 200);
    assert_ptr_equal(m.route, &table[R_NOTES_POST]);
    assert_int_equal(m.nids, 1);
    assert_int_equal(m.ids[0], 9);
    assert_int_equal(m.nkeys, 0);
}

/* ---- ombud_router_match: misses ---- */

static void test_match_404_unknown_paths(void **state)
{
    (void)state;
    expect_404("GET", "/nope");
    expect_404("GET", "/v2/health");
    expect_404("GET", "/V1/health");
    expect_404("GET", "/v1/Health");
    expect_404("GET", "/v1/healthz");
    expect_404("GET", "/v1/healt");
    expect_404("GET", "v1/health");
    expect_404("GET", "/v1/complaints/5/unknown");
    expect_404("GET", "/v1/complaints/5/notes/6/7");
    expect_404("POST", "/v1/nothing");
    expect_404("FOO", "/v1/nothing");
    expect_404(NULL, "/v1/nothing");
}

static void test_match_404_trailing_slash(void **state)
{
    (void)state;
    expect_404("GET", "/v1/health/");
    expect_404("GET", "/v1/complaints/5/");
    expect_404("POST", "/v1/complaints/5/notes/");
    expect_404("GET", "/v1/settings/x/");
}

static void test_match_404_double_slash(void **state)
{
    (void)state;
    expect_404("GET", "//v1/health");
    expect_404("GET", "/v1//health");
    expect_404("GET", "/v1/health//");
    expect_404("GET", "/v1/complaints//5");
    expect_404("GET", "/v1/complaints/5//notes/6");
}

static void test_match_404_prefix_only(void **state)
{
    (void)state;
    expect_404("GET", "/v1");
    expect_404("GET", "/v1/");
    expect_404("POST", "/v1/complaints/5/notes/6/x");
    expect_404("GET", "/v1/four/1/2/3");
    /* A path that extends a pattern is not that pattern. */
    expect_404("GET", "/v1/health/x");
    expect_404("GET", "/v1/complaintsx");
}

static void test_match_405_allow_mask(void **state)
{
    struct ombud_route_match m;
    unsigned allow;
    char buf[128];
    (void)state;

    assert_int_equal(match("DELETE", "/v1/complaints", &m, &allow), 405);
    assert_int_equal(allow, OMBUD_GET | OMBUD_POST);
    ombud_router_allow_string(allow, buf, sizeof buf);
    assert_string_equal(buf, "GET, HEAD, POST");

    assert_int_equal(match("POST", "/v1/complaints/3", &m, &allow), 405);
    assert_int_equal(allow, OMBUD_GET | OMBUD_PATCH | OMBUD_DELETE);
    ombud_router_allow_string(allow, buf, sizeof buf);
    assert_string_equal(buf, "GET, HEAD, PATCH, DELETE");

    assert_int_equal(match("PUT", "/v1/health", &m, &allow), 405);
    assert_int_equal(allow, OMBUD_GET);

    assert_int_equal(match("GET", "/v1/complaints/3/notes", &m, &allow), 405);
    assert_int_equal(allow, OMBUD_POST);

    assert_int_equal(match("DELETE", "/v1/settings/k", &m, &allow), 405);
    assert_int_equal(allow, OMBUD_GET | OMBUD_PUT);
}

static void test_match_405_unknown_method(void **state)
{
    struct ombud_route_match m;
    unsigned allow;
    (void)state;
    assert_int_equal(match("OPTIONS", "/v1/complaints", &m, &allow), 405);
    assert_int_equal(allow, OMBUD_GET | OMBUD_POST);
    assert_int_equal(match("get", "/v1/health", &m, &allow), 405);
    assert_int_equal(allow, OMBUD_GET);
    assert_int_equal(match(NULL, "/v1/complaints/1", &m, &allow), 405);
    assert_int_equal(allow, OMBUD_GET | OMBUD_PATCH | OMBUD_DELETE);
    assert_int_equal(match("", "/v1/health", &m, &allow), 405);
}

static void test_match_405_needs_a_valid_id(void **state)
{
    (void)state;
    /* The path must match some pattern for a 405: a bad id is a 404. */
    expect_404("POST", "/v1/complaints/0");
    expect_404("PUT", "/v1/complaints/abc");
}

static void test_match_empty_table(void **state)
{
    struct ombud_route_match m;
    unsigned allow = 99;
    (void)state;
    assert_int_equal(ombud_router_match(table, 0, "GET", "/v1/health", &m, &allow), 404);
    assert_int_equal(allow, 0);
}

static void test_match_first_entry_wins(void **state)
{
    static const struct ombud_route dup[] = {
        {OMBUD_GET, "/x/{key}", "first", OMBUD_ROLE_NONE, 0, NULL},
        {OMBUD_GET, "/x/{id}", "second", OMBUD_ROLE_NONE, 0, NULL},
    };
    struct ombud_route_match m;
    unsigned allow;
    (void)state;
    assert_int_equal(ombud_router_match(dup, 2, "GET", "/x/5", &m, &allow), 200);
    assert_string_equal(m.route->name, "first");
    assert_int_equal(m.nkeys, 1);
    assert_string_equal(m.keys[0], "5");
    assert_int_equal(m.nids, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_method_known),
        cmocka_unit_test(test_method_head_is_get),
        cmocka_unit_test(test_method_unknown),
        cmocka_unit_test(test_allow_get_post),
        cmocka_unit_test(test_allow_single_and_empty),
        cmocka_unit_test(test_allow_all_in_table_order),
        cmocka_unit_test(test_allow_ignores_unknown_bits),
        cmocka_unit_test(test_allow_small_buffer_truncates_safely),
        cmocka_unit_test(test_match_exact),
        cmocka_unit_test(test_match_root),
        cmocka_unit_test(test_match_head_as_get),
        cmocka_unit_test(test_match_id_capture),
        cmocka_unit_test(test_match_id_rejects),
        cmocka_unit_test(test_parse_id),
        cmocka_unit_test(test_match_id_empty_segment),
        cmocka_unit_test(test_match_key_capture),
        cmocka_unit_test(test_match_key_length_limits),
        cmocka_unit_test(test_match_multiple_params),
        cmocka_unit_test(test_match_param_count_limit),
        cmocka_unit_test(test_match_counts_reset_between_candidates),
        cmocka_unit_test(test_match_404_unknown_paths),
        cmocka_unit_test(test_match_404_trailing_slash),
        cmocka_unit_test(test_match_404_double_slash),
        cmocka_unit_test(test_match_404_prefix_only),
        cmocka_unit_test(test_match_405_allow_mask),
        cmocka_unit_test(test_match_405_unknown_method),
        cmocka_unit_test(test_match_405_needs_a_valid_id),
        cmocka_unit_test(test_match_empty_table),
        cmocka_unit_test(test_match_first_entry_wins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
