/*
 * Unit tests for src/http/json_spec.c: declarative checks of JSON request
 * bodies (required, unknown, types, lengths in code points, enums, ranges,
 * nullability, nested prefixes, NUL bytes) and ombud_utf8_len.
 * Every jansson reference taken here is released.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ombud/json_spec.h"

static const char *const status_values[] = {"open", "in_progress", "closed", NULL};

/* Outputs of the standard spec below. */
struct out {
    bool name_p, age_p, active_p, status_p, meta_p, tags_p, note_p;
    const char *name, *status, *note;
    int64_t age;
    bool active;
    json_t *meta, *tags;
};

enum { F_NAME, F_AGE, F_ACTIVE, F_STATUS, F_META, F_TAGS, F_NOTE, F_COUNT };

static void make_spec(struct ombud_spec spec[F_COUNT], struct out *o)
{
    memset(o, 0, sizeof *o);
    o->age = -777;
    spec[F_NAME] = (struct ombud_spec){.name = "name",
                                       .type = OMBUD_SPEC_STRING,
                                       .required = true,
                                       .min = 1,
                                       .max = 10,
                                       .present = &o->name_p,
                                       .s = &o->name};
    spec[F_AGE] = (struct ombud_spec){.name = "age",
                                      .type = OMBUD_SPEC_INT,
                                      .min = 0,
                                      .max = 150,
                                      .present = &o->age_p,
                                      .i = &o->age};
    spec[F_ACTIVE] = (struct ombud_spec){
        .name = "active", .type = OMBUD_SPEC_BOOL, .present = &o->active_p, .b = &o->active};
    spec[F_STATUS] = (struct ombud_spec){.name = "status",
                                         .type = OMBUD_SPEC_ENUM,
                                         .values = status_values,
                                         .present = &o->status_p,
                                         .s = &o->status};
    spec[F_META] = (struct ombud_spec){
        .name = "meta", .type = OMBUD_SPEC_OBJECT, .present = &o->meta_p, .j = &o->meta};
    spec[F_TAGS] = (struct ombud_spec){
        .name = "tags", .type = OMBUD_SPEC_ARRAY, .present = &o->tags_p, .j = &o->tags};
    spec[F_NOTE] = (struct ombud_spec){.name = "note",
                                       .type = OMBUD_SPEC_STRING,
                                       .nullable = true,
                                       .min = 0,
                                       .max = 0,
                                       .present = &o->note_p,
                                       .s = &o->note};
}

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    if (!j)
        print_error("bad test JSON %s: %s\n", text, jerr.text);
    assert_non_null(j);
    return j;
}

/* Runs the standard spec over text; returns the parsed object (caller
 * decrefs) with err filled. */
static json_t *run(const char *text, struct out *o, struct ombud_err *err)
{
    struct ombud_spec spec[F_COUNT];
    json_t *j = parse(text);
    make_spec(spec, o);
    ombud_err_clear(err);
    ombud_spec_parse(j, spec, F_COUNT, NULL, err);
    return j;
}

static int find_field(const struct ombud_err *err, const char *field)
{
    for (size_t i = 0; i < err->nfields; i++)
        if (strcmp(err->fields[i].field, field) == 0)
            return (int)i;
    return -1;
}

/* Asserts err holds exactly one error, on field, with message. */
static void expect_one(const struct ombud_err *err, const char *field, const char *message)
{
    if (err->nfields != 1) {
        for (size_t i = 0; i < err->nfields; i++)
            print_error("  %s: %s\n", err->fields[i].field, err->fields[i].message);
    }
    assert_int_equal(err->nfields, 1);
    assert_string_equal(err->fields[0].field, field);
    if (message)
        assert_string_equal(err->fields[0].message, message);
    assert_int_equal(err->kind, OMBUD_E_NONE);
}

/* Checks the standard spec over text gives one error on field. */
static void expect_error(const char *text, const char *field, const char *message)
{
    struct out o;
    struct ombud_err err;
    json_t *j = run(text, &o, &err);
    expect_one(&err, field, message);
    json_decref(j);
}

/* Checks the standard spec accepts text. */
static void expect_ok(const char *text)
{
    struct out o;
    struct ombud_err err;
    json_t *j = run(text, &o, &err);
    if (err.nfields)
        print_error("%s: %s %s\n", text, err.fields[0].field, err.fields[0].message);
    assert_int_equal(err.nfields, 0);
    json_decref(j);
}

/* ---- ombud_utf8_len ---- */

static void test_utf8_len(void **state)
{
    (void)state;
    assert_int_equal(ombud_utf8_len(""), 0);
    assert_int_equal(ombud_utf8_len("a"), 1);
    assert_int_equal(ombud_utf8_len("hello"), 5);
    assert_int_equal(ombud_utf8_len("\xc3\xa9"), 1);                 /* é */
    assert_int_equal(ombud_utf8_len("caf\xc3\xa9"), 4);              /* café */
    assert_int_equal(ombud_utf8_len("\xe6\x97\xa5\xe6\x9c\xac"), 2); /* 日本 */
    assert_int_equal(ombud_utf8_len("\xf0\x9f\x98\x80"), 1);         /* U+1F600 */
    assert_int_equal(ombud_utf8_len("a\xf0\x9f\x98\x80"
                                    "b\xe2\x82\xac"),
                     4);
    /* e + COMBINING ACUTE ACCENT: two code points. */
    assert_int_equal(ombud_utf8_len("e\xcc\x81"), 2);
    /* U+10FFFF, the last code point. */
    assert_int_equal(ombud_utf8_len("\xf4\x8f\xbf\xbf"), 1);
}

/* ---- all good ---- */

static void test_all_valid(void **state)
{
    struct out o;
    struct ombud_err err;
    (void)state;
    json_t *j = run("{\"name\":\"Ann\",\"age\":42,\"active\":true,\"status\":\"open\","
                    "\"meta\":{\"k\":1},\"tags\":[1,2],\"note\":\"hi\"}",
                    &o, &err);
    assert_int_equal(err.nfields, 0);
    assert_int_equal(err.kind, OMBUD_E_NONE);
    assert_true(o.name_p && o.age_p && o.active_p && o.status_p && o.meta_p && o.tags_p &&
                o.note_p);
    assert_string_equal(o.name, "Ann");
    assert_int_equal(o.age, 42);
    assert_true(o.active);
    assert_string_equal(o.status, "open");
    assert_string_equal(o.note, "hi");
    /* Values are borrowed from the object. */
    assert_ptr_equal(o.name, json_string_value(json_object_get(j, "name")));
    assert_ptr_equal(o.meta, json_object_get(j, "meta"));
    assert_ptr_equal(o.tags, json_object_get(j, "tags"));
    assert_int_equal(json_array_size(o.tags), 2);
    json_decref(j);
}

static void test_optional_absent(void **state)
{
    struct out o;
    struct ombud_err err;
    (void)state;
    json_t *j = run("{\"name\":\"x\"}", &o, &err);
    assert_int_equal(err.nfields, 0);
    assert_true(o.name_p);
    assert_false(o.age_p);
    assert_false(o.active_p);
    assert_false(o.status_p);
    assert_false(o.meta_p);
    assert_false(o.tags_p);
    assert_false(o.note_p);
    assert_int_equal(o.age, -777); /* untouched */
    assert_null(o.meta);
    json_decref(j);
}

static void test_present_reset(void **state)
{
    struct out o;
    struct ombud_spec spec[F_COUNT];
    struct ombud_err err;
    (void)state;
    json_t *j = parse("{\"name\":\"x\"}");
    make_spec(spec, &o);
    o.age_p = o.note_p = o.active_p = true; /* stale from an earlier use */
    ombud_err_clear(&err);
    ombud_spec_parse(j, spec, F_COUNT, "", &err);
    assert_int_equal(err.nfields, 0);
    assert_false(o.age_p);
    assert_false(o.note_p);
    assert_false(o.active_p);
    json_decref(j);
}

static void test_null_output_pointers(void **state)
{
    const struct ombud_spec spec[] = {
        {.name = "s", .type = OMBUD_SPEC_STRING, .required = true, .max = 5},
        {.name = "i", .type = OMBUD_SPEC_INT, .min = 0, .max = 9},
        {.name = "b", .type = OMBUD_SPEC_BOOL},
        {.name = "e", .type = OMBUD_SPEC_ENUM, .values = status_values},
        {.name = "o", .type = OMBUD_SPEC_OBJECT},
        {.name = "a", .type = OMBUD_SPEC_ARRAY},
    };
    struct ombud_err err;
    (void)state;
    json_t *j = parse("{\"s\":\"x\",\"i\":1,\"b\":false,\"e\":\"closed\",\"o\":{},\"a\":[]}");
    ombud_err_clear(&err);
    ombud_spec_parse(j, spec, sizeof spec / sizeof spec[0], NULL, &err);
    assert_int_equal(err.nfields, 0);
    json_decref(j);
}

/* ANY takes every value, null included, for the caller to judge
 * (a money amount: string or number); it is still required when
 * required, and the object's other keys are still checked. */
static void test_any(void **state)
{
    (void)state;
    static const char *const bodies[] = {"{\"v\":\"1.50\"}", "{\"v\":1.5}", "{\"v\":2}",
                                         "{\"v\":null}",     "{\"v\":[1]}", "{\"v\":{}}"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        json_t *v = NULL;
        bool present = false;
        const struct ombud_spec spec[] = {
            {.name = "v", .type = OMBUD_SPEC_ANY, .required = true, .j = &v, .present = &present},
        };
        struct ombud_err err;
        json_t *j = parse(bodies[i]);
        ombud_err_clear(&err);
        ombud_spec_parse(j, spec, 1, NULL, &err);
        assert_int_equal(err.nfields, 0);
        assert_true(present);
        assert_ptr_equal(v, json_object_get(j, "v"));
        json_decref(j);
    }
    json_t *v = NULL;
    const struct ombud_spec spec[] = {
        {.name = "v", .type = OMBUD_SPEC_ANY, .required = true, .j = &v},
    };
    struct ombud_err err;
    json_t *j = parse("{\"w\":1}");
    ombud_err_clear(&err);
    ombud_spec_parse(j, spec, 1, "p.", &err);
    assert_int_equal(err.nfields, 2);
    assert_string_equal(err.fields[find_field(&err, "p.v")].message, "is required");
    assert_string_equal(err.fields[find_field(&err, "p.w")].message, "is not a known field");
    assert_null(v);
    json_decref(j);
}

/* ---- required / unknown ---- */

static void test_required_missing(void **state)
{
    (void)state;
    expect_error("{}", "name", "is required");
    expect_error("{\"age\":3}", "name", "is required");
    /* Keys are case-sensitive: "Name" is unknown and "name" still missing. */
    struct out o;
    struct ombud_err err;
    json_t *j = run("{\"Name\":\"x\"}", &o, &err);
    assert_int_equal(err.nfields, 2);
    assert_string_equal(err.fields[find_field(&err, "name")].message, "is required");
    assert_string_equal(err.fields[find_field(&err, "Name")].message, "is not a known field");
    json_decref(j);
}

static void test_required_missing_reports_each(void **state)
{
    const struct ombud_spec spec[] = {
        {.name = "a", .type = OMBUD_SPEC_STRING, .required = true},
        {.name = "b", .type = OMBUD_SPEC_INT, .required = true, .min = 0, .max = 1},
        {.name = "c", .type = OMBUD_SPEC_BOOL, .required = true},
    };
    struct ombud_err err;
    (void)state;
    json_t *j = json_object();
    ombud_err_clear(&err);
    ombud_spec_parse(j, spec, 3, NULL, &err);
    assert_int_equal(err.nfields, 3);
    assert_string_equal(err.fields[0].field, "a");
    assert_string_equal(err.fields[1].field, "b");
    assert_string_equal(err.fields[2].field, "c");
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(err.fields[i].message, "is required");
    assert_int_equal(err.kind, OMBUD_E_NONE);
    json_decref(j);
}

static void test_unknown_fields_listed(void **state)
{
    struct out o;
    struct ombud_err err;
    (void)state;
    json_t *j = run("{\"name\":\"x\",\"nmae\":\"y\",\"extra\":1,\"AGE\":2}", &o, &err);
    assert_int_equal(err.nfields, 3);
    assert_true(find_field(&err, "nmae") >= 0);
    assert_true(find_field(&err, "extra") >= 0);
    assert_true(find_field(&err, "AGE") >= 0);
    for (size_t i = 0; i < err.nfields; i++)
        assert_string_equal(err.fields[i].message, "is not a known field");
    /* The known field is still read. */
    assert_true(o.name_p);
    json_decref(j);
}

static void test_unknown_even_when_null(void **state)
{
    (void)state;
    expect_error("{\"name\":\"x\",\"bogus\":null}", "bogus", "is not a known field");
    expect_error("{\"name\":\"x\",\"\":1}", "", "is not a known field");
}

static void test_empty_spec_rejects_every_field(void **state)
{
    struct ombud_err err;
    (void)state;
    json_t *j = parse("{\"a\":1,\"b\":2}");
    ombud_err_clear(&err);
    ombud_spec_parse(j, NULL, 0, NULL, &err);
    assert_int_equal(err.nfields, 2);
    json_decref(j);

    j = json_object();
    ombud_err_clear(&err);
    ombud_spec_parse(j, NULL, 0, NULL, &err);
    assert_int_equal(err.nfields, 0);
    json_decref(j);
}

/* ---- types ---- */

static void test_wrong_types(void **state)
{
    (void)state;
    expect_error("{\"name\":5}", "name", "must be a string");
    expect_error("{\"name\":true}", "name", "must be a string");
    expect_error("{\"name\":[\"x\"]}", "name", "must be a string");
    expect_error("{\"name\":{}}", "name", "must be a string");
    expect_error("{\"name\":\"x\",\"age\":\"5\"}", "age", "must be an integer");
    expect_error("{\"name\":\"x\",\"age\":5.0}", "age", "must be an integer");
    expect_error("{\"name\":\"x\",\"age\":5.5}", "age", "must be an integer");
    expect_error("{\"name\":\"x\",\"age\":true}", "age", "must be an integer");
    expect_error("{\"name\":\"x\",\"active\":1}", "active", "must be a boolean");
    expect_error("{\"name\":\"x\",\"active\":\"true\"}", "active", "must be a boolean");
    expect_error("{\"name\":\"x\",\"status\":1}", "status", "must be a string");
    expect_error("{\"name\":\"x\",\"meta\":[]}", "meta", "must be an object");
    expect_error("{\"name\":\"x\",\"meta\":\"{}\"}", "meta", "must be an object");
    expect_error("{\"name\":\"x\",\"tags\":{}}", "tags", "must be an array");
    expect_error("{\"name\":\"x\",\"tags\":\"a,b\"}", "tags", "must be an array");
}

static void test_null_when_not_nullable(void **state)
{
    (void)state;
    expect_error("{\"name\":null}", "name", "must be a string");
    expect_error("{\"name\":\"x\",\"age\":null}", "age", "must be an integer");
    expect_error("{\"name\":\"x\",\"active\":null}", "active", "must be a boolean");
    expect_error("{\"name\":\"x\",\"meta\":null}", "meta", "must be an object");
}

static void test_many_errors_at_once(void **state)
{
    struct out o;
    struct ombud_err err;
    (void)state;
    json_t *j =
        run("{\"age\":-1,\"active\":\"no\",\"status\":\"nope\",\"tags\":1,\"zzz\":0}", &o, &err);
    assert_int_equal(err.nfields, 6);
    assert_true(find_field(&err, "name") >= 0);
    assert_true(find_field(&err, "age") >= 0);
    assert_true(find_field(&err, "active") >= 0);
    assert_true(find_field(&err, "status") >= 0);
    assert_true(find_field(&err, "tags") >= 0);
    assert_true(find_field(&err, "zzz") >= 0);
    assert_false(o.age_p || o.active_p || o.status_p || o.tags_p);
    assert_int_equal(err.kind, OMBUD_E_NONE);
    json_decref(j);
}

/* ---- string length ---- */

static void test_string_length_code_points(void **state)
{
    const struct ombud_spec spec_base = {
        .name = "s", .type = OMBUD_SPEC_STRING, .min = 2, .max = 3};
    static const struct {
        const char *value; /* UTF-8 */
        bool ok;
    } cases[] = {
        {"a", false},
        {"ab", true},
        {"abc", true},
        {"abcd", false},
        {"\xc3\xa9", false},                            /* é: 1 */
        {"\xc3\xa9\xc3\xa9", true},                     /* éé: 2, 4 bytes */
        {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", true}, /* 日本語: 3, 9 bytes */
        {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"
         "x",
         false},                                                    /* 4 */
        {"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80", true}, /* 3 emoji, 12 bytes */
        {"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80", false},
        {"\xf0\x9f\x98\x80", false}, /* 1 emoji: too short */
        {"e\xcc\x81", true},         /* e + combining: 2 */
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ombud_spec spec = spec_base;
        const char *got = NULL;
        struct ombud_err err;
        spec.s = &got;
        json_t *j = json_object();
        assert_int_equal(json_object_set_new(j, "s", json_string(cases[i].value)), 0);
        ombud_err_clear(&err);
        ombud_spec_parse(j, &spec, 1, NULL, &err);
        if ((err.nfields == 0) != cases[i].ok)
            print_error("case %zu: %zu errors\n", i, err.nfields);
        if (cases[i].ok) {
            assert_int_equal(err.nfields, 0);
            assert_string_equal(got, cases[i].value);
        } else {
            expect_one(&err, "s", "must be 2 to 3 characters long");
            assert_null(got);
        }
        json_decref(j);
    }
}

static void test_string_empty_and_max_zero(void **state)
{
    (void)state;
    /* name: min 1 */
    expect_error("{\"name\":\"\"}", "name", "must be 1 to 10 characters long");
    expect_ok("{\"name\":\"0123456789\"}");
    expect_error("{\"name\":\"0123456789a\"}", "name", "must be 1 to 10 characters long");
    /* note: max 0 means no upper bound, min 0 accepts "" */
    expect_ok("{\"name\":\"x\",\"note\":\"\"}");
    char big[20100];
    int n = snprintf(big, sizeof big, "{\"name\":\"x\",\"note\":\"");
    memset(big + n, 'z', 20000);
    strcpy(big + n + 20000, "\"}");
    expect_ok(big);
}

static void test_string_escapes_counted_decoded(void **state)
{
    (void)state;
    /* \u00e9 is one character however it is spelled on the wire. */
    expect_ok(
        "{\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}");
    /* A surrogate pair is one character. */
    expect_ok("{\"name\":\"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00"
              "\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\"}");
    expect_error("{\"name\":\"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00"
                 "\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00"
                 "\\ud83d\\ude00\\ud83d\\ude00\"}",
                 "name", NULL);
}

/* ---- embedded NUL ---- */

static void test_embedded_nul_rejected(void **state)
{
    struct out o;
    struct ombud_spec spec[F_COUNT];
    struct ombud_err err;
    (void)state;
    json_t *j = json_object();
    json_object_set_new(j, "name", json_stringn("a\0b", 3));
    make_spec(spec, &o);
    ombud_err_clear(&err);
    ombud_spec_parse(j, spec, F_COUNT, NULL, &err);
    expect_one(&err, "name", "must not contain NUL characters");
    assert_false(o.name_p);
    assert_null(o.name);
    json_decref(j);

    /* "open\0x" must not pass as the enum value "open". */
    j = json_object();
    json_object_set_new(j, "name", json_string("ok"));
    json_object_set_new(j, "status", json_stringn("open\0x", 6));
    make_spec(spec, &o);
    ombud_err_clear(&err);
    ombud_spec_parse(j, spec, F_COUNT, NULL, &err);
    expect_one(&err, "status", "must not contain NUL characters");
    assert_false(o.status_p);
    json_decref(j);

    /* A lone NUL, and a trailing one. */
    static const struct {
        const char *s;
        size_t len;
    } nuls[] = {{"\0", 1}, {"ab\0", 3}, {"\0ab", 3}};
    for (size_t i = 0; i < sizeof nuls / sizeof nuls[0]; i++) {
        j = json_object();
        json_object_set_new(j, "name", json_stringn(nuls[i].s, nuls[i].len));
        make_spec(spec, &o);
        ombud_err_clear(&err);
        ombud_spec_parse(j, spec, F_COUNT, NULL, &err);
        expect_one(&err, "name", "must not contain NUL characters");
        json_decref(j);
    }
}

static void test_embedded_nul_from_wire(void **state)
{
    struct ombud_err err;
    struct out o;
    struct ombud_spec spec[F_COUNT];
    json_error_t jerr;
    (void)state;
    /* Parsed as the HTTP layer does (no JSON_ALLOW_NUL), \u0000 never
     * reaches the spec ... */
    const char *body = "{\"name\":\"a\\u0000b\"}";
    assert_null(json_loadb(body, strlen(body), JSON_REJECT_DUPLICATES, &jerr));
    /* ... and should a parser let it through, the spec still rejects it. */
    json_t *j = json_loads(body, JSON_ALLOW_NUL, &jerr);
    assert_non_null(j);
    make_spec(spec, &o);
    ombud_err_clear(&err);
    ombud_spec_parse(j, spec, F_COUNT, NULL, &err);
    expect_one(&err, "name", "must not contain NUL characters");
    json_decref(j);
}

/* ---- enums ---- */

static void test_enum_values(void **state)
{
    struct out o;
    struct ombud_err err;
    (void)state;
    for (size_t i = 0; status_values[i]; i++) {
        char text[128];
        snprintf(text, sizeof text, "{\"name\":\"x\",\"status\":\"%s\"}", status_values[i]);
        json_t *j = run(text, &o, &err);
        assert_int_equal(err.nfields, 0);
        assert_true(o.status_p);
        assert_string_equal(o.status, status_values[i]);
        json_decref(j);
    }
    static const char *const bad[] = {"Open", "OPEN",        "",         "open ", " open", "opened",
                                      "ope",  "in-progress", "closed\\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "{\"name\":\"x\",\"status\":\"%s\"}", bad[i]);
        json_t *j = run(text, &o, &err);
        expect_one(&err, "status", "must be one of: open, in_progress, closed");
        assert_false(o.status_p);
        assert_null(o.status);
        json_decref(j);
    }
}

static void test_enum_long_list_message_truncated_safely(void **state)
{
    static const char *values[60];
    static char storage[59][16];
    struct ombud_err err;
    (void)state;
    for (size_t i = 0; i < 59; i++) {
        snprintf(storage[i], sizeof storage[i], "value_%02zu_long", i);
        values[i] = storage[i];
    }
    values[59] = NULL;
    const struct ombud_spec spec = {.name = "e", .type = OMBUD_SPEC_ENUM, .values = values};
    json_t *j = parse("{\"e\":\"nope\"}");
    ombud_err_clear(&err);
    ombud_spec_parse(j, &spec, 1, NULL, &err);
    assert_int_equal(err.nfields, 1);
    assert_int_equal(strncmp(err.fields[0].message, "must be one of: value_00_long", 29), 0);
    assert_true(strlen(err.fields[0].message) < sizeof err.fields[0].message);
    json_decref(j);

    j = parse("{\"e\":\"value_58_long\"}");
    ombud_err_clear(&err);
    ombud_spec_parse(j, &spec, 1, NULL, &err);
    assert_int_equal(err.nfields, 0);
    json_decref(j);
}

/* ---- integers ---- */

static void test_int_range(void **state)
{
    struct out o;
    struct ombud_err err;
    json_t *j;
    (void)state;
    j = run("{\"name\":\"x\",\"age\":0}", &o, &err);
    assert_int_equal(err.nfields, 0);
    assert_true(o.age_p);
    assert_int_equal(o.age, 0);
    json_decref(j);
    j = run("{\"name\":\"x\",\"age\":150}", &o, &err);
    assert_int_equal(err.nfields, 0);
    assert_int_equal(o.age, 150);
    json_decref(j);
    expect_error("{\"name\":\"x\",\"age\":-1}", "age", "must be from 0 to 150");
    expect_error("{\"name\":\"x\",\"age\":151}", "age", "must be from 0 to 150");
    expect_error("{\"name\":\"x\",\"age\":9223372036854775807}", "age", "must be from 0 to 150");
    expect_error("{\"name\":\"x\",\"age\":-9223372036854775808}", "age", "must be from 0 to 150");
    j = run("{\"name\":\"x\",\"age\":151}", &o, &err);
    assert_false(o.age_p);
    assert_int_equal(o.age, -777);
    json_decref(j);
}

static void test_int_extremes(void **state)
{
    int64_t v = 0;
    bool p = false;
    const struct ombud_spec spec = {.name = "n",
                                    .type = OMBUD_SPEC_INT,
                                    .min = INT64_MIN,
                                    .max = INT64_MAX,
                                    .present = &p,
                                    .i = &v};
    struct ombud_err err;
    (void)state;
    json_t *j = parse("{\"n\":9223372036854775807}");
    ombud_err_clear(&err);
    ombud_spec_parse(j, &spec, 1, NULL, &err);
    assert_int_equal(err.nfields, 0);
    assert_true(p);
    assert_int_equal(v, INT64_MAX);
    json_decref(j);

    j = parse("{\"n\":-9223372036854775808}");
    ombud_err_clear(&err);
    ombud_spec_parse(j, &spec, 1, NULL, &err);
    assert_int_equal(err.nfields, 0);
    assert_int_equal(v, INT64_MIN);
    json_decref(j);

    /* Exponent and fraction notation are reals, not integers. */
    j = parse("{\"n\":1e3}");
    ombud_err_clear(&err);
    ombud_spec_parse(j, &spec, 1, NULL, &err);
    expect_one(&err, "n", "must be an integer");
    json_decref(j);
}

/* ---- numbers ---- */

static void test_number(void **state)
{
    double d = -1;
    bool p = false;
    const struct ombud_spec spec = {
        .name = "x", .type = OMBUD_SPEC_NUMBER, .min = 0, .max = 100, .present = &p, .d = &d};
    static const struct {
        const char *json;
        bool ok;
        double want;
    } cases[] = {
        {"{\"x\":0}", true, 0},       {"{\"x\":100}", true, 100},   {"{\"x\":42}", true, 42},
        {"{\"x\":99.5}", true, 99.5}, {"{\"x\":0.0}", true, 0},     {"{\"x\":1e2}", true, 100},
        {"{\"x\":-0.0}", true, 0},    {"{\"x\":-0.001}", false, 0}, {"{\"x\":100.001}", false, 0},
        {"{\"x\":-1}", false, 0},     {"{\"x\":101}", false, 0},    {"{\"x\":1e300}", false, 0},
        {"{\"x\":-1e300}", false, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ombud_err err;
        json_t *j = parse(cases[i].json);
        d = -1;
        ombud_err_clear(&err);
        ombud_spec_parse(j, &spec, 1, NULL, &err);
        if (cases[i].ok) {
            if (err.nfields)
                print_error("%s: %s\n", cases[i].json, err.fields[0].message);
            assert_int_equal(err.nfields, 0);
            assert_true(p);
            assert_true(d == cases[i].want);
        } else {
            expect_one(&err, "x", "must be from 0 to 100");
            assert_false(p);
            assert_true(d == -1);
        }
        json_decref(j);
    }
}

static void test_number_wrong_types(void **state)
{
    const struct ombud_spec spec = {.name = "x", .type = OMBUD_SPEC_NUMBER, .min = 0, .max = 100};
    static const char *const bad[] = {"{\"x\":\"5\"}", "{\"x\":true}", "{\"x\":null}",
                                      "{\"x\":[5]}", "{\"x\":{}}"};
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ombud_err err;
        json_t *j = parse(bad[i]);
        ombud_err_clear(&err);
        ombud_spec_parse(j, &spec, 1, NULL, &err);
        expect_one(&err, "x", "must be a number");
        json_decref(j);
    }
}

/* ---- nullable ---- */

static void test_nullable(void **state)
{
    struct out o;
    struct ombud_err err;
    (void)state;
    json_t *j = run("{\"name\":\"x\",\"note\":null}", &o, &err);
    assert_int_equal(err.nfields, 0);
    assert_true(o.note_p); /* given (as null) ... */
    assert_null(o.note);   /* ... with nothing stored */
    json_decref(j);
    /* Absent is different from null: present stays false. */
    j = run("{\"name\":\"x\"}", &o, &err);
    assert_int_equal(err.nfields, 0);
    assert_false(o.note_p);
    json_decref(j);
    /* A nullable field of the wrong type says null would do. */
    expect_error("{\"name\":\"x\",\"note\":5}", "note", "must be a string or null");
}

static void test_nullable_leaves_outputs_untouched(void **state)
{
    bool p = false, b = true;
    const char *s = "before";
    int64_t i = 77;
    double d = 1.5;
    json_t *marker = json_object();
    json_t *o = marker;
    const struct ombud_spec spec[] = {
        {.name = "s", .type = OMBUD_SPEC_STRING, .nullable = true, .present = &p, .s = &s},
        {.name = "i", .type = OMBUD_SPEC_INT, .nullable = true, .min = 0, .max = 9, .i = &i},
        {.name = "d", .type = OMBUD_SPEC_NUMBER, .nullable = true, .min = 0, .max = 9, .d = &d},
        {.name = "b", .type = OMBUD_SPEC_BOOL, .nullable = true, .b = &b},
        {.name = "o", .type = OMBUD_SPEC_OBJECT, .nullable = true, .j = &o},
    };
    struct ombud_err err;
    (void)state;
    json_t *j = parse("{\"s\":null,\"i\":null,\"d\":null,\"b\":null,\"o\":null}");
    ombud_err_clear(&err);
    ombud_spec_parse(j, spec, sizeof spec / sizeof spec[0], NULL, &err);
    assert_int_equal(err.nfields, 0);
    assert_true(p);
    assert_string_equal(s, "before");
    assert_int_equal(i, 77);
    assert_true(d == 1.5);
    assert_true(b);
    assert_ptr_equal(o, marker);
    json_decref(j);
    json_decref(marker);
}

static void test_nullable_required(void **state)
{
    bool p = true;
    const char *s = NULL;
    const struct ombud_spec spec = {.name = "r",
                                    .type = OMBUD_SPEC_STRING,
                                    .required = true,
                                    .nullable = true,
                                    .present = &p,
                                    .s = &s};
    struct ombud_err err;
    (void)state;
    json_t *j = parse("{\"r\":null}");
    ombud_err_clear(&err);
    ombud_spec_parse(j, &spec, 1, NULL, &err);
    expect_one(&err, "r", "is required");
    assert_false(p);
    json_decref(j);

    j = parse("{\"r\":\"v\"}");
    ombud_err_clear(&err);
    ombud_spec_parse(j, &spec, 1, NULL, &err);
    assert_int_equal(err.nfields, 0);
    assert_true(p);
    assert_string_equal(s, "v");
    json_decref(j);
}

static void test_nullable_other_types(void **state)
{
    const struct ombud_spec spec[] = {
        {.name = "i", .type = OMBUD_SPEC_INT, .nullable = true, .min = 0, .max = 5},
        {.name = "b", .type = OMBUD_SPEC_BOOL, .nullable = true},
        {.name = "o", .type = OMBUD_SPEC_OBJECT, .nullable = true},
        {.name = "a", .type = OMBUD_SPEC_ARRAY, .nullable = true},
        {.name = "e", .type = OMBUD_SPEC_ENUM, .nullable = true, .values = status_values},
        {.name = "n", .type = OMBUD_SPEC_NUMBER, .nullable = true, .min = 0, .max = 5},
    };
    const size_t n = sizeof spec / sizeof spec[0];
    struct ombud_err err;
    (void)state;
    json_t *j = parse("{\"i\":null,\"b\":null,\"o\":null,\"a\":null,\"e\":null,\"n\":null}");
    ombud_err_clear(&err);
    ombud_spec_parse(j, spec, n, NULL, &err);
    assert_int_equal(err.nfields, 0);
    json_decref(j);

    j = parse("{\"i\":\"1\",\"b\":0,\"o\":[],\"a\":{},\"e\":false,\"n\":\"1\"}");
    ombud_err_clear(&err);
    ombud_spec_parse(j, spec, n, NULL, &err);
    assert_int_equal(err.nfields, n);
    assert_string_equal(err.fields[0].message, "must be an integer or null");
    assert_string_equal(err.fields[1].message, "must be a boolean or null");
    assert_string_equal(err.fields[2].message, "must be an object or null");
    assert_string_equal(err.fields[3].message, "must be an array or null");
    assert_string_equal(err.fields[4].message, "must be a string or null");
    assert_string_equal(err.fields[5].message, "must be a number or null");
    json_decref(j);
}

/* ---- nested prefix ---- */

static void test_nested_prefix(void **state)
{
    const char *cname = NULL;
    const struct ombud_spec inner[] = {
        {.name = "name",
         .type = OMBUD_SPEC_STRING,
         .required = true,
         .min = 1,
         .max = 5,
         .s = &cname},
        {.name = "email", .type = OMBUD_SPEC_STRING, .required = true, .min = 3, .max = 254},
    };
    json_t *customer = NULL;
    const struct ombud_spec outer[] = {
        {.name = "customer", .type = OMBUD_SPEC_OBJECT, .required = true, .j = &customer},
    };
    struct ombud_err err;
    (void)state;
    json_t *j = parse("{\"customer\":{\"name\":\"toolongname\",\"zzz\":1}}");
    ombud_err_clear(&err);
    ombud_spec_parse(j, outer, 1, NULL, &err);
    assert_int_equal(err.nfields, 0);
    assert_non_null(customer);
    ombud_spec_parse(customer, inner, 2, "customer.", &err);
    assert_int_equal(err.nfields, 3);
    assert_true(find_field(&err, "customer.name") >= 0);
    assert_true(find_field(&err, "customer.email") >= 0);
    assert_true(find_field(&err, "customer.zzz") >= 0);
    assert_string_equal(err.fields[find_field(&err, "customer.name")].message,
                        "must be 1 to 5 characters long");
    assert_string_equal(err.fields[find_field(&err, "customer.email")].message, "is required");
    assert_string_equal(err.fields[find_field(&err, "customer.zzz")].message,
                        "is not a known field");
    json_decref(j);

    /* Deeper nesting composes the prefix. */
    j = parse("{\"name\":\"Bo\",\"email\":7}");
    ombud_err_clear(&err);
    ombud_spec_parse(j, inner, 2, "order.customer.", &err);
    expect_one(&err, "order.customer.email", "must be a string");
    assert_string_equal(cname, "Bo");
    json_decref(j);
}

static void test_long_field_names_truncated_safely(void **state)
{
    char key[400];
    struct ombud_err err;
    (void)state;
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    json_t *j = json_object();
    json_object_set_new(j, key, json_integer(1));
    ombud_err_clear(&err);
    ombud_spec_parse(j, NULL, 0, "a.very.long.prefix.", &err);
    assert_int_equal(err.nfields, 1);
    assert_int_equal(strncmp(err.fields[0].field, "a.very.long.prefix.kkk", 22), 0);
    assert_true(strlen(err.fields[0].field) < sizeof err.fields[0].field);
    json_decref(j);
}

static void test_error_cap(void **state)
{
    struct ombud_err err;
    (void)state;
    json_t *j = json_object();
    for (int i = 0; i < 50; i++) {
        char key[16];
        snprintf(key, sizeof key, "u%d", i);
        json_object_set_new(j, key, json_true());
    }
    ombud_err_clear(&err);
    ombud_spec_parse(j, NULL, 0, NULL, &err);
    assert_int_equal(err.nfields, OMBUD_ERR_MAX_FIELDS);
    json_decref(j);
}

static void test_appends_to_existing_errors(void **state)
{
    struct out o;
    struct ombud_spec spec[F_COUNT];
    struct ombud_err err;
    (void)state;
    json_t *j = parse("{}");
    make_spec(spec, &o);
    ombud_err_clear(&err);
    ombud_err_field(&err, "earlier", "kept");
    ombud_spec_parse(j, spec, F_COUNT, NULL, &err);
    assert_int_equal(err.nfields, 2);
    assert_string_equal(err.fields[0].field, "earlier");
    assert_string_equal(err.fields[1].field, "name");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_len),
        cmocka_unit_test(test_all_valid),
        cmocka_unit_test(test_optional_absent),
        cmocka_unit_test(test_present_reset),
        cmocka_unit_test(test_null_output_pointers),
        cmocka_unit_test(test_any),
        cmocka_unit_test(test_required_missing),
        cmocka_unit_test(test_required_missing_reports_each),
        cmocka_unit_test(test_unknown_fields_listed),
        cmocka_unit_test(test_unknown_even_when_null),
        cmocka_unit_test(test_empty_spec_rejects_every_field),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_null_when_not_nullable),
        cmocka_unit_test(test_many_errors_at_once),
        cmocka_unit_test(test_string_length_code_points),
        cmocka_unit_test(test_string_empty_and_max_zero),
        cmocka_unit_test(test_string_escapes_counted_decoded),
        cmocka_unit_test(test_embedded_nul_rejected),
        cmocka_unit_test(test_embedded_nul_from_wire),
        cmocka_unit_test(test_enum_values),
        cmocka_unit_test(test_enum_long_list_message_truncated_safely),
        cmocka_unit_test(test_int_range),
        cmocka_unit_test(test_int_extremes),
        cmocka_unit_test(test_number),
        cmocka_unit_test(test_number_wrong_types),
        cmocka_unit_test(test_nullable),
        cmocka_unit_test(test_nullable_leaves_outputs_untouched),
        cmocka_unit_test(test_nullable_required),
        cmocka_unit_test(test_nullable_other_types),
        cmocka_unit_test(test_nested_prefix),
        cmocka_unit_test(test_long_field_names_truncated_safely),
        cmocka_unit_test(test_error_cap),
        cmocka_unit_test(test_appends_to_existing_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
