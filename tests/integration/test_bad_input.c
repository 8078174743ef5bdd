/*
 * The bad-input matrix (issue "Hardening", item 2): each row is a request
 * and the status and problem type it must get, through the real server.
 * Bodies: truncated and malformed JSON, deep nesting, huge and non-finite
 * numbers, wrong types, invalid UTF-8, NUL bytes, long strings, unknown
 * fields; compensation amounts beyond what a number or the money rules
 * allow. Queries: negative and enormous limits, forged and truncated
 * cursors, overflowing ids. Paths: traversal, double slashes. Headers:
 * CR/LF in X-Request-Id. Text with SQL metacharacters is stored verbatim.
 * Raw HTTP: HTTP/1.0, HTTP/1.1 without Host, pipelined requests,
 * oversize headers. Numbers out of range, in bodies and in query
 * parameters, are a 422 naming the field. After every row the server
 * still answers.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct h_server srv;
static char agent_key[96];
static int64_t complaint;

static int setup(void **state)
{
    h_server_start(&srv, NULL);
    h_make_key(&srv, "agent", agent_key, sizeof agent_key);
    complaint = h_make_complaint(&srv, agent_key, NULL);
    return 0;
}

static int teardown(void **state)
{
    h_server_stop(&srv, true);
    return 0;
}

static void still_alive(void)
{
    struct h_resp *r = h_req(&srv, "GET", "/health/live", NULL);
    assert_int_equal(r->status, 200);
    h_resp_free(r);
}

/* A problem+json answer of status whose type ends with type (NULL: any). */
static void expect(struct h_resp *r, long status, const char *type, const char *what)
{
    if (r->status != status) {
        fprintf(stderr, "%s: got %ld, want %ld: %.300s\n", what, r->status, status,
                r->body ? r->body : "");
        fail();
    }
    h_expect_problem(r, status);
    if (type) {
        const char *t = h_jstr(r->json, "type");
        if (!t || strlen(t) < strlen(type) || strcmp(t + strlen(t) - strlen(type), type) != 0) {
            fprintf(stderr, "%s: type %s, want ...%s\n", what, t ? t : "(none)", type);
            fail();
        }
    }
}

static void post_body(const char *what, const char *body, size_t len, long status, const char *type,
                      const char *field)
{
    struct h_resp *r = h_req(&srv, "POST", "/v1/complaints",
                             &(struct h_opts){.key = agent_key, .body = body, .body_len = len});
    expect(r, status, type, what);
    if (field && !h_problem_has_field(r, field)) {
        fprintf(stderr, "%s: %s not named: %.300s\n", what, field, r->body ? r->body : "");
        fail();
    }
    h_resp_free(r);
    still_alive();
}

static void bodies(void **state)
{
    static const struct {
        const char *what, *body;
        long status;
        const char *type, *field;
    } rows[] = {
        {"truncated JSON", "{\"title\":\"a\",\"descr", 400, NULL, NULL},
        {"not JSON", "title=a", 400, NULL, NULL},
        {"an array", "[1,2]", 400, NULL, NULL},
        {"a string", "\"x\"", 400, NULL, NULL},
        {"trailing garbage", "{\"title\":\"a\"} x", 400, NULL, NULL},
        {"duplicate key", "{\"title\":\"a\",\"title\":\"b\"}", 400, NULL, NULL},
        {"huge number",
         "{\"title\":\"t\",\"description\":\"d\",\"customer\":{\"name\":\"c\"},"
         "\"team_id\":1e400}",
         422, "validation-failed", "team_id"},
        {"1e999",
         "{\"title\":\"t\",\"description\":\"d\",\"customer\":{\"name\":\"c\"},"
         "\"team_id\":1e999}",
         422, "validation-failed", "team_id"},
        {"-1e999 nested",
         "{\"title\":\"t\",\"description\":\"d\",\"customer\":{\"name\":\"c\","
         "\"tier\":-1e999}}",
         422, "validation-failed", "customer.tier"},
        {"NaN",
         "{\"title\":\"t\",\"description\":\"d\",\"customer\":{\"name\":\"c\"},"
         "\"team_id\":NaN}",
         400, NULL, NULL},
        {"id past int64",
         "{\"title\":\"t\",\"description\":\"d\",\"customer\":{\"name\":\"c\"},"
         "\"team_id\":99999999999999999999}",
         422, "validation-failed", "team_id"},
        {"2^64",
         "{\"title\":\"t\",\"description\":\"d\",\"customer\":{\"name\":\"c\"},"
         "\"assignee_id\":18446744073709551616}",
         422, "validation-failed", "assignee_id"},
        {"2^63 in an array",
         "{\"title\":\"t\",\"description\":\"d\",\"customer\":{\"name\":\"c\"},"
         "\"tags\":[\"a\",9223372036854775808]}",
         422, "validation-failed", "tags[1]"},
        {"-2^63-1",
         "{\"title\":\"t\",\"description\":\"d\",\"customer\":{\"name\":\"c\"},"
         "\"team_id\":-9223372036854775809}",
         422, "validation-failed", "team_id"},
        {"int64 max: in range, then validated",
         "{\"title\":\"t\",\"description\":\"d\",\"customer\":{\"name\":\"c\"},"
         "\"priority\":9223372036854775807}",
         422, "validation-failed", "priority"},
        {"a tiny number is no overflow",
         "{\"title\":\"t\",\"description\":\"d\",\"customer\":{\"name\":\"c\"},"
         "\"priority\":1e-999}",
         422, "validation-failed", "priority"},
        /* A field name cut to fit stays valid UTF-8 (the reply is JSON). */
        {"under a long Cyrillic key",
         "{\"ключключключключключключключключключключключключключключключключключключключключключкл"
         "ючключключключключключключключключключключключключключключключключключключ\":1e999}",
         422, "validation-failed", NULL},
        {"out of range after a syntax error", "{\"title\":\"t\" \"team_id\":1e999}", 400, NULL,
         NULL},
        {"negative id",
         "{\"title\":\"t\",\"description\":\"d\",\"customer\":{\"name\":\"c\"},"
         "\"team_id\":-1}",
         422, "validation-failed", NULL},
        {"wrong types", "{\"title\":5,\"description\":[],\"customer\":\"c\",\"tags\":\"x\"}", 422,
         "validation-failed", NULL},
        {"unknown field",
         "{\"title\":\"t\",\"description\":\"d\",\"customer\":{\"name\":\"c\"},"
         "\"colour\":\"red\"}",
         422, "validation-failed", NULL},
        {"null required", "{\"title\":null,\"description\":\"d\",\"customer\":{\"name\":\"c\"}}",
         422, "validation-failed", NULL},
        {"invalid UTF-8",
         "{\"title\":\"\xff\xfe\",\"description\":\"d\","
         "\"customer\":{\"name\":\"c\"}}",
         400, NULL, NULL},
        {"escaped NUL",
         "{\"title\":\"a\\u0000b\",\"description\":\"d\","
         "\"customer\":{\"name\":\"c\"}}",
         400, "bad-request", NULL},
        {"lone surrogate",
         "{\"title\":\"\\ud800\",\"description\":\"d\","
         "\"customer\":{\"name\":\"c\"}}",
         400, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        post_body(rows[i].what, rows[i].body, 0, rows[i].status, rows[i].type, rows[i].field);

    /* A raw NUL byte inside the body. */
    static const char nul[] =
        "{\"title\":\"a\0b\",\"description\":\"d\",\"customer\":{\"name\":\"c\"}}";
    post_body("raw NUL", nul, sizeof nul - 1, 400, NULL, NULL);

    /* 10,000-deep nesting. */
    size_t depth = 10000, n = 0;
    char *deep = malloc(2 * depth + 64);
    assert_non_null(deep);
    n += (size_t)sprintf(deep, "{\"title\":");
    for (size_t i = 0; i < depth; i++)
        deep[n++] = '[';
    for (size_t i = 0; i < depth; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    post_body("10,000-deep nesting", deep, n, 400, NULL, NULL);
    free(deep);

    /* A string longer than the field allows (under the body limit). */
    size_t len = 300000;
    char *big = malloc(len + 128);
    assert_non_null(big);
    n = (size_t)sprintf(big, "{\"title\":\"t\",\"customer\":{\"name\":\"c\"},\"description\":\"");
    memset(big + n, 'x', len);
    n += len;
    n += (size_t)sprintf(big + n, "\"}");
    post_body("a 300 KB description", big, n, 422, "validation-failed", "description");
    free(big);
}

/* SQL metacharacters in every text field and filter: stored and found verbatim. */
/* Money in a resolve: what is not JSON (NaN, Infinity) is the body's
 * fault (400); numbers out of any range are a 422 naming the field, as
 * are numbers and strings that fail as money. The complaint is new, so a body that passed would be
 * a 409: each row is decided by its body alone. */
static void money(void **state)
{
    (void)state;
    static const struct {
        const char *what, *amount;
        long status;
        const char *type;
    } rows[] = {
        {"amount 1e400", "1e400", 422, "validation-failed"},
        {"amount NaN", "NaN", 400, NULL},
        {"amount Infinity", "Infinity", 400, NULL},
        {"amount past int64", "99999999999999999999", 422, "validation-failed"},
        {"amount -1e400", "-1e400", 422, "validation-failed"},
        {"amount 1e-400 (rounds to 0 or fails)", "1e-400", 0, NULL},
        {"amount string 1e400", "\"1e400\"", 422, "validation-failed"},
        {"amount string NaN", "\"NaN\"", 422, "validation-failed"},
        {"amount string of 300 digits", NULL, 422, "validation-failed"},
        {"amount with NUL", "\"1\\u00002\"", 400, "bad-request"},
        {"amount SQL", "\"1; DROP TABLE complaints\"", 422, "validation-failed"},
        {"amount 5e-324", "5e-324", 422, "validation-failed"},
        {"amount 1.7976931348623157e308", "1.7976931348623157e308", 422, "validation-failed"},
        {"amount -0.0", "-0.0", 422, "validation-failed"},
    };
    char path[96], body[1024];
    snprintf(path, sizeof path, "/v1/complaints/%lld/transitions", (long long)complaint);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char digits[320];
        const char *amount = rows[i].amount;
        if (!amount) {
            digits[0] = '"';
            memset(digits + 1, '9', 300);
            digits[301] = '"';
            digits[302] = '\0';
            amount = digits;
        }
        snprintf(body, sizeof body,
                 "{\"action\":\"resolve\",\"resolution\":{\"summary\":\"s\","
                 "\"compensation\":{\"amount\":%s,\"currency\":\"EUR\"}}}",
                 amount);
        struct h_resp *r =
            h_req(&srv, "POST", path, &(struct h_opts){.key = agent_key, .body = body});
        if (rows[i].status == 0) {
            /* Underflow: jansson refuses it (400) or reads zero (then the
             * complaint's state decides: 409). Never accepted or a 500. */
            if (r->status != 400 && r->status != 409)
                fprintf(stderr, "%s: got %ld\n", rows[i].what, r->status);
            assert_true(r->status == 400 || r->status == 409);
        } else {
            expect(r, rows[i].status, rows[i].type, rows[i].what);
            if (rows[i].status == 422)
                assert_true(h_problem_has_field(r, "resolution.compensation.amount"));
        }
        h_resp_free(r);
        still_alive();
    }
}

static void sql_metacharacters_are_text(void **state)
{
    const char *evil = "'; DROP TABLE complaints; -- \\\" %_ $1 ::text";
    json_t *b = json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:[s]}", "title", evil, "description",
                          evil, "customer", "name", evil, "external_id", evil, "demand_detail",
                          evil, "tags", evil);
    json_t *c = h_post_complaint(&srv, agent_key, b);
    int64_t id = h_jint(c, "id");
    assert_string_equal(h_jstr(c, "title"), evil);
    assert_string_equal(h_jstr(json_object_get(c, "customer"), "external_id"), evil);
    json_decref(c);
    c = h_get_complaint(&srv, agent_key, id);
    assert_string_equal(h_jstr(c, "description"), evil);
    assert_string_equal(json_string_value(json_array_get(json_object_get(c, "tags"), 0)), evil);
    json_decref(c);
    char *q = curl_easy_escape(NULL, evil, 0);
    char path[512];
    snprintf(path, sizeof path, "/v1/complaints?customer_external_id=%s&q=%s", q, q);
    struct h_resp *r = h_req(&srv, "GET", path, &(struct h_opts){.key = agent_key});
    h_expect_status(r, 200);
    json_t *items = json_object_get(r->json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(h_jint(json_array_get(items, 0), "id"), id);
    h_resp_free(r);
    curl_free(q);
    assert_int_equal(h_sql_int(&srv, "SELECT count(*) FROM complaints"), 2);
}

static void queries_and_paths(void **state)
{
    static const struct {
        const char *path;
        long status;
        const char *field; /* the parameter the problem names (NULL: not checked) */
    } rows[] = {
        {"/v1/complaints?limit=-1", 422, NULL},
        {"/v1/complaints?limit=0", 422, NULL},
        {"/v1/complaints?limit=201", 422, NULL},
        {"/v1/complaints?limit=99999999999999999999999", 422, NULL},
        {"/v1/complaints?cursor=%%%", 422, NULL},
        {"/v1/complaints?cursor=AAAA", 422, NULL},
        {"/v1/complaints?cursor=eyJ4IjoxfQ", 422, NULL},
        {"/v1/complaints?team_id=99999999999999999999", 422, NULL},
        {"/v1/complaints?team_id=18446744073709551616", 422, "team_id"},
        {"/v1/complaints?assignee_id=9223372036854775808", 422, "assignee_id"},
        {"/v1/complaints?team_id=1e999", 422, "team_id"},
        {"/v1/alerts?complaint_id=18446744073709551616", 422, "complaint_id"},
        {"/v1/agents?team_id=18446744073709551616", 422, "team_id"},
        {"/v1/changes?after=18446744073709551616", 422, "after"},
        {"/v1/changes?after=9223372036854775808", 422, "after"},
        {"/v1/sla/at-risk?within_minutes=18446744073709551616", 422, "within_minutes"},
        {"/v1/sla/at-risk?team_id=18446744073709551616", 422, "team_id"},
        {"/v1/sla/at-risk?assignee_id=1e999", 422, "assignee_id"},
        {"/v1/sla/at-risk?cursor=MQ", 422, "cursor"},
        {"/v1/complaints?created_after=10000-01-01T00:00:00Z", 422, "created_after"},
        {"/v1/calendars/1/due?from=9999-12-31T23:59:00Z&minutes=5256000", 422, "minutes"},
        {"/v1/complaints?created_after=yesterday", 422, NULL},
        {"/v1/complaints?sort=;DROP", 422, NULL},
        {"/v1/complaints/99999999999999999999", 404, NULL},
        {"/v1/complaints/-1", 404, NULL},
        {"/v1/complaints/0", 404, NULL},
        {"/v1//complaints", 404, NULL},
        {"/v1/complaints/%2e%2e/api-keys", 404, NULL},
        {"/v1/changes?after=1e3", 422, NULL},
        {"/v1/alerts?complaint_id=abc", 422, NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct h_resp *r = h_req(&srv, "GET", rows[i].path, &(struct h_opts){.key = agent_key});
        expect(r, rows[i].status, NULL, rows[i].path);
        if (rows[i].field && !h_problem_has_field(r, rows[i].field)) {
            fprintf(stderr, "%s: %s not named: %.300s\n", rows[i].path, rows[i].field,
                    r->body ? r->body : "");
            fail();
        }
        h_resp_free(r);
    }
    /* A cursor from another list is refused, not misread. */
    struct h_resp *r =
        h_req(&srv, "GET", "/v1/complaints?limit=1", &(struct h_opts){.key = agent_key});
    h_expect_status(r, 200);
    const char *cur = h_jstr(r->json, "next_cursor");
    char path[256];
    snprintf(path, sizeof path, "/v1/alerts?cursor=%s", cur ? cur : "x");
    h_resp_free(r);
    r = h_req(&srv, "GET", path, &(struct h_opts){.key = agent_key});
    expect(r, 422, NULL, "a complaints cursor on alerts");
    h_resp_free(r);
    still_alive();
}

/* Raw HTTP on a socket: what was answered (up to len bytes). */
static void raw(const char *request, size_t len, char *out, size_t outlen)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    for (size_t sent = 0; sent < len;) {
        ssize_t w = send(fd, request + sent, len - sent, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        sent += (size_t)w;
    }
    shutdown(fd, SHUT_WR);
    size_t got = 0;
    for (ssize_t r; got + 1 < outlen && (r = recv(fd, out + got, outlen - 1 - got, 0)) > 0;)
        got += (size_t)r;
    out[got] = '\0';
    close(fd);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void raw_http(void **state)
{
    static char out[65536];
    /* HTTP/1.0 is answered. */
    const char *h10 = "GET /health/live HTTP/1.0\r\n\r\n";
    raw(h10, strlen(h10), out, sizeof out);
    assert_non_null(strstr(out, " 200 "));

    /* HTTP/1.1 without Host: a 400 problem (RFC 9112 3.2). */
    const char *nohost = "GET /health/live HTTP/1.1\r\nConnection: close\r\n\r\n";
    raw(nohost, strlen(nohost), out, sizeof out);
    assert_non_null(strstr(out, "HTTP/1.1 400 "));
    assert_non_null(strstr(out, "application/problem+json"));
    assert_non_null(strstr(out, "Host"));
    const char *nohost_post = "POST /v1/complaints HTTP/1.1\r\nContent-Type: application/json\r\n"
                              "Content-Length: 2\r\nConnection: close\r\n\r\n{}";
    raw(nohost_post, strlen(nohost_post), out, sizeof out);
    assert_non_null(strstr(out, "HTTP/1.1 400 "));

    /* Pipelined requests: both answered, in order. */
    const char *two = "GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    raw(two, strlen(two), out, sizeof out);
    assert_int_equal(count(out, "HTTP/1.1 "), 2);
    assert_true(strstr(out, " 200 ") < strstr(out, " 404 "));

    /* CR/LF smuggled into X-Request-Id (folded header) is not echoed raw. */
    const char *crlf = "GET /health/live HTTP/1.1\r\nHost: x\r\n"
                       "X-Request-Id: abc\r\n Set-Cookie: evil=1\r\nConnection: close\r\n\r\n";
    raw(crlf, strlen(crlf), out, sizeof out);
    assert_null(strstr(out, "\r\nSet-Cookie"));

    /* An oversize header block: refused, not served. */
    size_t hlen = 200000;
    char *big = malloc(hlen + 128);
    assert_non_null(big);
    size_t n = (size_t)sprintf(big, "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(big + n, 'a', hlen);
    n += hlen;
    n += (size_t)sprintf(big + n, "\r\nConnection: close\r\n\r\n");
    raw(big, n, out, sizeof out);
    free(big);
    assert_null(strstr(out, " 200 "));
    assert_true(out[0] == '\0' || strstr(out, " 431 ") || strstr(out, " 413 ") ||
                strstr(out, " 400 "));

    /* Path traversal, sent as is (a client library would squash it). */
    const char *dots = "GET /v1/complaints/1/../../api-keys HTTP/1.1\r\nHost: x\r\n"
                       "Connection: close\r\n\r\n";
    raw(dots, strlen(dots), out, sizeof out);
    assert_non_null(strstr(out, " 404 "));

    /* Garbage instead of a request line. */
    const char *junk = "\x01\x02\x03 nonsense\r\n\r\n";
    raw(junk, strlen(junk), out, sizeof out);
    assert_null(strstr(out, " 200 "));
    still_alive();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bodies),
        cmocka_unit_test(money),
        cmocka_unit_test(sql_metacharacters_are_text),
        cmocka_unit_test(queries_and_paths),
        cmocka_unit_test(raw_http),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    return rc | h_exit_status();
}
