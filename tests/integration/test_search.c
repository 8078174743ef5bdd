/*
 * Complaint search (GET /v1/complaints?q=) through the real server:
 * substrings of title, description and customer name in Chinese and
 * English alike (two-character words, single characters, matches spanning
 * two words, case-insensitive Latin, literal % and _), validation of q,
 * q with the other filters and with pagination; and proof that the gram
 * index serves it, with the planner choosing the index by itself on a
 * table of a few thousand complaints.
 */
#include "harness.h"

#include "ombud/search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server srv;
static char svc_key[96], agent_key[96];

/* The seeded complaints, in creation order. */
enum {
    S_REFUND_ZH,
    S_SERVICE_ZH,
    S_RETURN_ZH,
    S_REFUND_EN,
    S_NOT_RECEIVED,
    S_LATE,
    S_MIXED,
    S_PERCENT,
    NSEED
};

static const struct seed {
    const char *title, *description, *customer, *channel, *category;
} seeds[NSEED] = {
    [S_REFUND_ZH] = {"我要退款，商品有质量问题", "申请退款商家一直不回复。", "王芳", "phone",
                     "quality"},
    [S_SERVICE_ZH] = {"客服态度很差", "电话里被挂断了两次。", "李娜", "phone", "service"},
    [S_RETURN_ZH] = {"退货流程太慢", "寄回商品一周了还没有处理。", "张伟", "web", "after_sales"},
    [S_REFUND_EN] = {"I want a refund", "The blender broke after two days.", "Alice Smith", "email",
                     "quality"},
    [S_NOT_RECEIVED] = {"Refund not received", "Still waiting for my REFUND since March.",
                        "Bob Jones", "web", "billing"},
    [S_LATE] = {"Delivery was late", "Parcel arrived a week late.", "Carol White", "chat",
                "delivery"},
    [S_MIXED] = {"退款 refund", "Mixed language complaint.", "Dana 陈", "web", "billing"},
    [S_PERCENT] = {"Charged 100% extra", "The invoice doubled over the agreed_price.", "Eve O'Neil",
                   "email", "billing"},
};
static int64_t ids[NSEED];

/* ---- helpers ---- */

static struct h_resp *call(const char *method, const char *path, const char *key, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    struct h_opts o = {.key = key, .body = text};
    struct h_resp *r = h_req(&srv, method, path, &o);
    free(text);
    return r;
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

static int64_t create(const char *title, const char *description, const char *customer,
                      const char *channel, const char *category, const char *external_id)
{
    json_t *b = json_pack("{s:s, s:s, s:{s:s}}", "title", title, "description", description,
                          "customer", "name", customer);
    if (channel)
        json_object_set_new(b, "channel", json_string(channel));
    if (category)
        json_object_set_new(b, "category", json_string(category));
    if (external_id)
        json_object_set_new(json_object_get(b, "customer"), "external_id",
                            json_string(external_id));
    struct h_resp *r = call("POST", "/v1/complaints", svc_key, b);
    h_expect_status(r, 201);
    int64_t id = h_jint(r->json, "id");
    h_resp_free(r);
    return id;
}

/* GET /v1/complaints?q=<q encoded>&<extra> as the agent: the page. */
static json_t *search(const char *q, const char *extra)
{
    char enc[1024], path[1100];
    urlenc(q, enc, sizeof enc);
    snprintf(path, sizeof path, "/v1/complaints?q=%s%s%s", enc, extra ? "&" : "",
             extra ? extra : "");
    struct h_resp *r = call("GET", path, agent_key, NULL);
    h_expect_status(r, 200);
    json_t *page = json_incref(r->json);
    h_resp_free(r);
    assert_true(json_is_array(json_object_get(page, "items")));
    return page;
}

/* Asserts that q (with extra filters) finds exactly the seeds listed
 * (by index, -1 terminated), newest first, on one page. */
static void expect_found(const char *q, const char *extra, const int *want)
{
    json_t *page = search(q, extra);
    json_t *items = json_object_get(page, "items");
    size_t n = 0;
    while (want[n] >= 0)
        n++;
    bool ok = json_array_size(items) == n;
    /* Newest first: the seeds were created in index order. */
    for (size_t i = 0; ok && i < n; i++)
        ok = h_jint(json_array_get(items, i), "id") == ids[want[n - 1 - i]];
    if (!ok) {
        fprintf(stderr, "q=%s %s: expected", q, extra ? extra : "");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, " %lld", (long long)ids[want[n - 1 - i]]);
        fprintf(stderr, ", got");
        size_t i;
        json_t *it;
        json_array_foreach (items, i, it) {
            fprintf(stderr, " %lld", (long long)h_jint(it, "id"));
        }
        fprintf(stderr, "\n");
    }
    assert_true(ok);
    assert_true(json_is_null(json_object_get(page, "next_cursor")));
    json_decref(page);
}

#define FOUND(q, extra, ...) expect_found(q, extra, (const int[]){__VA_ARGS__, -1})
#define NONE(q, extra) expect_found(q, extra, (const int[]){-1})

static void expect_bad_q(const char *raw_query)
{
    char path[1100];
    snprintf(path, sizeof path, "/v1/complaints?%s", raw_query);
    struct h_resp *r = call("GET", path, agent_key, NULL);
    h_expect_problem(r, 422);
    if (!h_problem_has_field(r, "q"))
        fail_msg("422 does not name q: %s", r->body);
    assert_int_equal(json_array_size(json_object_get(r->json, "errors")), 1);
    h_resp_free(r);
}

/* EXPLAIN output of sql as one string; caller frees. */
static char *plan_of(const char *sql)
{
    json_t *rows = h_sql(&srv, sql);
    size_t len = 1, i;
    json_t *row;
    json_array_foreach (rows, i, row) {
        len += strlen(json_string_value(json_array_get(row, 0))) + 1;
    }
    char *out = calloc(1, len);
    assert_non_null(out);
    json_array_foreach (rows, i, row) {
        strcat(out, json_string_value(json_array_get(row, 0)));
        strcat(out, "\n");
    }
    json_decref(rows);
    return out;
}

static int setup(void **state)
{
    h_server_start(&srv, NULL);
    h_make_key(&srv, "service", svc_key, sizeof svc_key);
    h_make_key(&srv, "agent", agent_key, sizeof agent_key);
    for (int i = 0; i < NSEED; i++)
        ids[i] = create(seeds[i].title, seeds[i].description, seeds[i].customer, seeds[i].channel,
                        seeds[i].category, "seed");
    return 0;
}

static int teardown(void **state)
{
    h_server_stop(&srv, true);
    return 0;
}

/* ---- tests ---- */

static void chinese_words(void **state)
{
    /* 退款 (refund) but not 退货 (return). */
    FOUND("退款", NULL, S_REFUND_ZH, S_MIXED);
    FOUND("退货", NULL, S_RETURN_ZH);
    FOUND("态度", NULL, S_SERVICE_ZH);
    FOUND("质量问题", NULL, S_REFUND_ZH);
    FOUND("商品", NULL, S_REFUND_ZH, S_RETURN_ZH);
    /* The description counts as much as the title. */
    FOUND("挂断", NULL, S_SERVICE_ZH);
    FOUND("还没有处理", NULL, S_RETURN_ZH);
    /* Full-width punctuation is text like any other. */
    FOUND("款，商", NULL, S_REFUND_ZH);
    FOUND("。", NULL, S_REFUND_ZH, S_SERVICE_ZH, S_RETURN_ZH);
}

static void chinese_single_character(void **state)
{
    FOUND("退", NULL, S_REFUND_ZH, S_RETURN_ZH, S_MIXED);
    FOUND("款", NULL, S_REFUND_ZH, S_MIXED);
    FOUND("货", NULL, S_RETURN_ZH);
    FOUND("差", NULL, S_SERVICE_ZH);
}

static void chinese_across_word_boundaries(void **state)
{
    /* 款商 spans 退款 and 商家 in "申请退款商家一直不回复". */
    FOUND("款商", NULL, S_REFUND_ZH);
    FOUND("款商家一直", NULL, S_REFUND_ZH);
    /* Every character present, but not in this order: no match. */
    NONE("商款", NULL);
    NONE("款退", NULL);
    NONE("退款商品", NULL);
}

static void english_is_case_insensitive(void **state)
{
    const char *forms[] = {"refund", "REFUND", "Refund", "rEfUnD"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        FOUND(forms[i], NULL, S_REFUND_EN, S_NOT_RECEIVED, S_MIXED);
    FOUND("delivery", NULL, S_LATE);
    FOUND("LATE", NULL, S_LATE);
    /* Substrings, also within words and across spaces. */
    FOUND("fund", NULL, S_REFUND_EN, S_NOT_RECEIVED, S_MIXED);
    FOUND("a refund", NULL, S_REFUND_EN);
    FOUND("ot rec", NULL, S_NOT_RECEIVED);
    FOUND("blender broke", NULL, S_REFUND_EN);
    /* A longer word does not match its prefix. */
    NONE("refunds", NULL);
    NONE("refund received", NULL);
}

static void mixed_languages(void **state)
{
    FOUND("退款 refund", NULL, S_MIXED);
    FOUND("退款 REFUND", NULL, S_MIXED);
    FOUND("款 ref", NULL, S_MIXED);
    NONE("refund 退款", NULL);
}

static void customer_name(void **state)
{
    FOUND("Alice", NULL, S_REFUND_EN);
    FOUND("smith", NULL, S_REFUND_EN);
    FOUND("alice smith", NULL, S_REFUND_EN);
    FOUND("Jones", NULL, S_NOT_RECEIVED);
    FOUND("张伟", NULL, S_RETURN_ZH);
    FOUND("王芳", NULL, S_REFUND_ZH);
    FOUND("陈", NULL, S_MIXED);
    FOUND("o'neil", NULL, S_PERCENT);
}

static void literal_special_characters(void **state)
{
    /* % and _ are not wildcards. */
    FOUND("%", NULL, S_PERCENT);
    FOUND("100%", NULL, S_PERCENT);
    FOUND("_", NULL, S_PERCENT);
    FOUND("agreed_price", NULL, S_PERCENT);
    NONE("agreed%price", NULL);
    NONE("100_", NULL);
    FOUND("'", NULL, S_PERCENT);
    NONE("\\", NULL);
    NONE("\"", NULL);
}

static void no_match_is_an_empty_list(void **state)
{
    NONE("保险理赔", NULL);
    NONE("nothing like this", NULL);
    NONE("\xf0\x9f\x98\x80", NULL);
    NONE("z", NULL);
}

static void q_validation(void **state)
{
    expect_bad_q("q=");
    expect_bad_q("q=%20");
    expect_bad_q("q=%20%20%20");
    expect_bad_q("q=+++"); /* '+' is a space in a query string */
    expect_bad_q("q=%09%0A%0D%20");

    /* 200 characters is the limit: counted in characters, not bytes. The
     * UTF-8 goes into the URL as it is (percent-encoded it would not fit
     * the harness's URL buffer). */
    char q[1024];
    char *p = q;
    p += sprintf(p, "q=");
    for (int i = 0; i < 200; i++)
        p += sprintf(p, "退"); /* three bytes each */
    json_t *page;
    char path[1100];
    snprintf(path, sizeof path, "/v1/complaints?%s", q);
    assert_true(strlen(path) < 1000);
    struct h_resp *r = call("GET", path, agent_key, NULL);
    h_expect_status(r, 200);
    page = json_incref(r->json);
    h_resp_free(r);
    assert_int_equal(json_array_size(json_object_get(page, "items")), 0);
    json_decref(page);
    strcat(q, "退");
    expect_bad_q(q);

    p = q;
    p += sprintf(p, "q=");
    memset(p, 'a', 200);
    p[200] = '\0';
    snprintf(path, sizeof path, "/v1/complaints?%s", q);
    r = call("GET", path, agent_key, NULL);
    h_expect_status(r, 200);
    h_resp_free(r);
    strcat(q, "a");
    expect_bad_q(q);

    /* Other bad parameters are named next to q, not instead of it. */
    r = call("GET", "/v1/complaints?q=&limit=0&status=open", agent_key, NULL);
    h_expect_problem(r, 422);
    assert_true(h_problem_has_field(r, "q"));
    assert_true(h_problem_has_field(r, "limit"));
    assert_true(h_problem_has_field(r, "status"));
    h_resp_free(r);
}

/* A q that is not UTF-8 is the client's mistake, not a server error. */
static void q_invalid_utf8(void **state)
{
    const char *bad[] = {"q=%FF", "q=%E9%80", "q=abc%C3%28"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "/v1/complaints?%s", bad[i]);
        struct h_resp *r = call("GET", path, agent_key, NULL);
        if (r->status != 400 && r->status != 422)
            fprintf(stderr, "GET %s: %ld %s\n", path, r->status, r->body);
        assert_true(r->status == 400 || r->status == 422);
        h_expect_problem(r, r->status);
        h_resp_free(r);
    }
}

static void q_with_other_filters(void **state)
{
    FOUND("退款", "channel=phone", S_REFUND_ZH);
    FOUND("退款", "channel=web", S_MIXED);
    NONE("退款", "channel=email,chat");
    FOUND("refund", "category=billing", S_NOT_RECEIVED, S_MIXED);
    FOUND("refund", "category=quality", S_REFUND_EN);
    FOUND("refund", "category=quality,billing&channel=web", S_NOT_RECEIVED, S_MIXED);
    FOUND("退", "customer_external_id=seed", S_REFUND_ZH, S_RETURN_ZH, S_MIXED);
    NONE("退", "customer_external_id=other");

    /* Status: acknowledge the 退货 complaint. */
    char path[96];
    snprintf(path, sizeof path, "/v1/complaints/%lld/transitions", (long long)ids[S_RETURN_ZH]);
    struct h_resp *r = call("POST", path, agent_key, json_pack("{s:s}", "action", "acknowledge"));
    h_expect_status(r, 200);
    h_resp_free(r);
    FOUND("退", "status=acknowledged", S_RETURN_ZH);
    FOUND("退", "status=new", S_REFUND_ZH, S_MIXED);
    FOUND("商品", "status=new,acknowledged&category=after_sales", S_RETURN_ZH);

    /* Oldest first works with q too. */
    json_t *page = search("refund", "sort=created_at");
    json_t *items = json_object_get(page, "items");
    assert_int_equal(json_array_size(items), 3);
    assert_int_equal(h_jint(json_array_get(items, 0), "id"), ids[S_REFUND_EN]);
    assert_int_equal(h_jint(json_array_get(items, 1), "id"), ids[S_NOT_RECEIVED]);
    assert_int_equal(h_jint(json_array_get(items, 2), "id"), ids[S_MIXED]);
    json_decref(page);

    /* A service key searches only what it created. */
    char other[96];
    h_make_key(&srv, "service", other, sizeof other);
    r = call("GET", "/v1/complaints?q=refund", other, NULL);
    h_expect_status(r, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 0);
    h_resp_free(r);
    r = call("GET", "/v1/complaints?q=refund", svc_key, NULL);
    h_expect_status(r, 200);
    assert_int_equal(json_array_size(json_object_get(r->json, "items")), 3);
    h_resp_free(r);
}

/* Walks q's results in pages of limit; returns the ids in order. */
static size_t walk(const char *q, const char *sort, int limit, int64_t *seen, size_t cap)
{
    char enc[256], cursor[256] = "", path[800];
    size_t n = 0;
    urlenc(q, enc, sizeof enc);
    for (int pages = 0;; pages++) {
        assert_true(pages < 50);
        snprintf(path, sizeof path, "/v1/complaints?q=%s&limit=%d%s%s%s%s", enc, limit,
                 sort ? "&sort=" : "", sort ? sort : "", cursor[0] ? "&cursor=" : "", cursor);
        struct h_resp *r = call("GET", path, agent_key, NULL);
        h_expect_status(r, 200);
        json_t *items = json_object_get(r->json, "items");
        json_t *next = json_object_get(r->json, "next_cursor");
        size_t i;
        json_t *it;
        json_array_foreach (items, i, it) {
            assert_true(n < cap);
            seen[n++] = h_jint(it, "id");
        }
        bool more = json_is_string(next);
        if (more) {
            assert_int_equal(json_array_size(items), limit);
            snprintf(cursor, sizeof cursor, "%s", json_string_value(next));
        }
        h_resp_free(r);
        if (!more)
            return n;
    }
}

static void q_with_pagination(void **state)
{
    int64_t warranty[12], seen[64];
    /* Twelve about 保修 (warranty), mixed with near misses that share 保 or 修. */
    for (int i = 0; i < 12; i++) {
        char title[64];
        snprintf(title, sizeof title, "保修期内第%d次维修", i + 1);
        warranty[i] = create(title, "Still broken.", "Pager", NULL, NULL, "pages");
        if (i % 3 == 0)
            create("保险理赔太慢", "Insurance claim.", "Pager", NULL, NULL, "pages");
        if (i % 4 == 0)
            create("维修师傅迟到", "修 but not the word.", "Pager", NULL, NULL, "pages");
    }
    size_t n = walk("保修", NULL, 5, seen, 64);
    assert_int_equal(n, 12);
    for (size_t i = 0; i < 12; i++)
        assert_int_equal(seen[i], warranty[11 - i]);
    n = walk("保修", "created_at", 5, seen, 64);
    assert_int_equal(n, 12);
    for (size_t i = 0; i < 12; i++)
        assert_int_equal(seen[i], warranty[i]);
    /* Pages of one, and a page size that divides the total. */
    n = walk("保修", NULL, 1, seen, 64);
    assert_int_equal(n, 12);
    n = walk("保修", NULL, 4, seen, 64);
    assert_int_equal(n, 12);
    for (size_t i = 0; i < 12; i++)
        assert_int_equal(seen[i], warranty[11 - i]);
    /* 保 alone: the warranty ones and the insurance ones. */
    n = walk("保", NULL, 5, seen, 64);
    assert_int_equal(n, 16);

    /* New matches arriving mid-walk do not disturb it. */
    char enc[64], path[512];
    urlenc("保修", enc, sizeof enc);
    snprintf(path, sizeof path, "/v1/complaints?q=%s&limit=5", enc);
    struct h_resp *r = call("GET", path, agent_key, NULL);
    h_expect_status(r, 200);
    char cursor[256];
    snprintf(cursor, sizeof cursor, "%s",
             json_string_value(json_object_get(r->json, "next_cursor")));
    h_resp_free(r);
    create("保修又来了", "Another one.", "Pager", NULL, NULL, "pages");
    snprintf(path, sizeof path, "/v1/complaints?q=%s&limit=5&cursor=%s", enc, cursor);
    r = call("GET", path, agent_key, NULL);
    h_expect_status(r, 200);
    json_t *items = json_object_get(r->json, "items");
    assert_int_equal(json_array_size(items), 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(h_jint(json_array_get(items, i), "id"), warranty[6 - i]);
    h_resp_free(r);
}

static void search_text_after_patch(void **state)
{
    int64_t id = create("Noisy fridge", "Hums all night.", "Fay", NULL, NULL, NULL);
    char path[64];
    snprintf(path, sizeof path, "/v1/complaints/%lld", (long long)id);
    struct h_resp *r =
        call("PATCH", path, agent_key,
             json_pack("{s:s, s:s}", "title", "冰箱噪音大", "description", "整夜嗡嗡响。"));
    h_expect_status(r, 200);
    h_resp_free(r);
    json_t *page = search("噪音", NULL);
    assert_int_equal(json_array_size(json_object_get(page, "items")), 1);
    assert_int_equal(h_jint(json_array_get(json_object_get(page, "items"), 0), "id"), id);
    json_decref(page);
    page = search("fridge", NULL);
    assert_int_equal(json_array_size(json_object_get(page, "items")), 0);
    json_decref(page);
}

/* The grams the server writes are the SQL function's for the same text,
 * beyond ASCII too (lowercase letters of other scripts, whitespace that
 * is not a space, and characters that look like it but are not), and a
 * search in one case finds text in the other. */
static void grams_match_the_sql_function(void **state)
{
    int64_t id = create("ÄÖÜ ΣΟΦΊΑ Дом İ Ǆ ẞ Ω",
                        "tab\there nbsp\u00a0here fig\u2007space ideo\u3000space"
                        " line\u2028sep em\u2003space \"q\" back\\slash {a,b}",
                        "Ünal Çelik", NULL, NULL, NULL);
    char *edited = h_sql_value(&srv, "SELECT count(*) FROM complaint_search s JOIN complaints c"
                                     " ON c.id = s.complaint_id, LATERAL (SELECT ombud_grams("
                                     "ombud_complaint_search_text(c.title, c.description,"
                                     " c.customer_name)) AS g) x"
                                     " WHERE NOT (s.grams @> x.g AND s.grams <@ x.g)");
    assert_string_equal(edited, "0");
    free(edited);
    char *missing = h_sql_value(&srv, "%s",
                                "SELECT count(*) FROM complaints c WHERE NOT EXISTS"
                                " (SELECT 1 FROM complaint_search s WHERE s.complaint_id = c.id)");
    assert_string_equal(missing, "0");
    free(missing);

    const char *finds[] = {"äöü",   "σοφία",       "ДОМ",  "ünal", "ÇELIK", "nbsp\u00a0here",
                           "\"q\"", "back\\slash", "{a,b}"};
    for (size_t i = 0; i < sizeof finds / sizeof finds[0]; i++) {
        json_t *page = search(finds[i], NULL);
        json_t *items = json_object_get(page, "items");
        if (json_array_size(items) != 1)
            fprintf(stderr, "q=%s: %zu found\n", finds[i], json_array_size(items));
        assert_int_equal(json_array_size(items), 1);
        assert_int_equal(h_jint(json_array_get(items, 0), "id"), id);
        json_decref(page);
    }
}

/* Runs last: it adds thousands of rows. */
static void gram_index_serves_the_search(void **state)
{
    /* The query grams: bigrams, or the one character of a one-character q. */
    json_t *rows = h_sql(&srv, "SELECT ombud_query_grams('退款')::text,"
                               " ombud_query_grams('退')::text, ombud_query_grams(' 退 ')::text,"
                               " ombud_query_grams('ReFund')::text");
    json_t *row = json_array_get(rows, 0);
    assert_string_equal(json_string_value(json_array_get(row, 0)), "{退款}");
    assert_string_equal(json_string_value(json_array_get(row, 1)), "{退}");
    assert_string_equal(json_string_value(json_array_get(row, 2)), "{退}");
    assert_string_equal(json_string_value(json_array_get(row, 3)), "{ef,fu,nd,re,un}");
    json_decref(rows);

    /* The server computes the query's grams as the SQL function does. */
    const char *same[][2] = {{"退款", "{\"退款\"}"},
                             {"退", "{\"退\"}"},
                             {" 退 ", "{\"退\"}"},
                             {"ReFund", "{\"ef\",\"fu\",\"nd\",\"re\",\"un\"}"}};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        char *g = ombud_search_query_grams(same[i][0]);
        assert_non_null(g);
        assert_string_equal(g, same[i][1]);
        free(g);
    }

    /* A few thousand complaints of varied Latin and CJK text, none with
     * 退款, written straight into the tables with their grams, as
     * migration 0008 fills complaint_search for existing complaints. */
    json_decref(h_sql(&srv,
                      "WITH c AS (INSERT INTO complaints (title, description, customer_name,"
                      " customer_external_id, priority)"
                      " SELECT 'Order ' || g || ' ' || left(md5(g::text), 12),"
                      "  'Customer reports ' || md5((g * 7)::text) || ' 商品'"
                      "   || chr(19968 + (g * 7919) % 16000) || chr(19968 + (g * 104729) % 16000)"
                      "   || ' 编号 ' || g,"
                      "  'Customer ' || chr(19968 + (g * 31) % 16000) || g, 'bulk', 'normal'"
                      " FROM generate_series(1, 4000) g"
                      " RETURNING id, title, description, customer_name)"
                      " INSERT INTO complaint_search (complaint_id, grams) SELECT id,"
                      " ombud_grams(ombud_complaint_search_text(title, description, customer_name))"
                      " FROM c"));
    /* VACUUM as well as ANALYZE: it moves the rows just added out of the
     * GIN pending list, which the planner otherwise charges in full. */
    json_decref(h_sql(&srv, "VACUUM (ANALYZE) complaints, complaint_search"));

    char sql[1024];

    /* The index can serve the search at all. */
    snprintf(sql, sizeof sql, "%s",
             "SET enable_seqscan = off; EXPLAIN SELECT complaint_id FROM complaint_search"
             " WHERE grams @> '{退款}'");
    char *plan = plan_of(sql);
    if (!strstr(plan, "complaint_search_grams"))
        fprintf(stderr, "%s", plan);
    assert_non_null(strstr(plan, "complaint_search_grams"));
    free(plan);

    /* And the planner picks it by itself. */
    snprintf(sql, sizeof sql, "%s",
             "EXPLAIN SELECT complaint_id FROM complaint_search WHERE grams @> '{退款}'");
    plan = plan_of(sql);
    if (!strstr(plan, "complaint_search_grams") || strstr(plan, "Seq Scan"))
        fprintf(stderr, "%s", plan);
    assert_non_null(strstr(plan, "complaint_search_grams"));
    assert_null(strstr(plan, "Seq Scan"));
    free(plan);

    /* Also for the query the list runs (planned with its grams): the
     * grams, the exact test, newest first, a page. */
    const char *qs[] = {"退款", "退", "refund"};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        char *g = ombud_search_query_grams(qs[i]);
        assert_non_null(g);
        snprintf(sql, sizeof sql,
                 "EXPLAIN SELECT id FROM complaints WHERE id IN (SELECT complaint_id"
                 " FROM complaint_search WHERE grams @> '%s') AND strpos(lower(title || E'\\n'"
                 " || description || E'\\n' || customer_name), lower('%s')) > 0"
                 " ORDER BY created_at DESC, id DESC LIMIT 51",
                 g, qs[i]);
        free(g);
        plan = plan_of(sql);
        if (!strstr(plan, "complaint_search_grams"))
            fprintf(stderr, "q=%s:\n%s", qs[i], plan);
        assert_non_null(strstr(plan, "complaint_search_grams"));
        free(plan);
    }

    /* The answers over HTTP are still exact among thousands of rows. */
    FOUND("退款", NULL, S_REFUND_ZH, S_MIXED);
    FOUND("refund", NULL, S_REFUND_EN, S_NOT_RECEIVED, S_MIXED);
    FOUND("款商", NULL, S_REFUND_ZH);
    json_t *page = search("Order 1234 ", NULL);
    assert_int_equal(json_array_size(json_object_get(page, "items")), 1);
    json_decref(page);
    page = search("商品", "customer_external_id=bulk&limit=200");
    assert_int_equal(json_array_size(json_object_get(page, "items")), 200);
    assert_true(json_is_string(json_object_get(page, "next_cursor")));
    json_decref(page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chinese_words),
        cmocka_unit_test(chinese_single_character),
        cmocka_unit_test(chinese_across_word_boundaries),
        cmocka_unit_test(english_is_case_insensitive),
        cmocka_unit_test(mixed_languages),
        cmocka_unit_test(customer_name),
        cmocka_unit_test(literal_special_characters),
        cmocka_unit_test(no_match_is_an_empty_list),
        cmocka_unit_test(q_validation),
        cmocka_unit_test(q_invalid_utf8),
        cmocka_unit_test(q_with_other_filters),
        cmocka_unit_test(q_with_pagination),
        cmocka_unit_test(search_text_after_patch),
        cmocka_unit_test(grams_match_the_sql_function),
        cmocka_unit_test(gram_index_serves_the_search),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
