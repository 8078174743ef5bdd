/*
 * HTTP core through the real server: routing (404, 405 + Allow), body
 * limits (413 by Content-Length, read by a client that sends the whole
 * body or waits for 100 Continue, and while a chunked body streams), 415,
 * 400 for bad JSON, problem+json shape, X-Request-Id, CORS and preflight,
 * the unauthenticated operations endpoints.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct h_server srv;

static int setup(void **state)
{
    static const char *const env[] = {"OMBUD_MAX_BODY_BYTES=4096",
                                      "OMBUD_CORS_ORIGINS=https://app.example, https://b.example",
                                      NULL};
    h_server_start(&srv, env);
    return 0;
}

static int teardown(void **state)
{
    h_server_stop(&srv, true);
    return 0;
}

static void health_live_and_ready(void **state)
{
    char buf[128];
    struct h_resp *r = h_req(&srv, "GET", "/health/live", NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(json_string_value(json_object_get(r->json, "status")), "ok");
    assert_non_null(h_header(r, "X-Request-Id", buf, sizeof buf));
    assert_int_equal(strlen(buf), 32);
    h_resp_free(r);

    r = h_req(&srv, "GET", "/health/ready", NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(json_string_value(json_object_get(r->json, "database")), "up");
    h_resp_free(r);
}

static void openapi_is_served(void **state)
{
    char ct[64];
    struct h_resp *r = h_req(&srv, "GET", "/openapi.yaml", NULL);
    assert_int_equal(r->status, 200);
    assert_string_equal(h_header(r, "Content-Type", ct, sizeof ct), "application/yaml");
    assert_non_null(strstr(r->body, "openapi: 3.1"));
    assert_non_null(strstr(r->body, "/v1/api-keys"));
    h_resp_free(r);
}

static void metrics_text(void **state)
{
    char ct[128];
    struct h_resp *r = h_req(&srv, "GET", "/health/live", NULL);
    h_resp_free(r);
    r = h_req(&srv, "GET", "/metrics", NULL);
    assert_int_equal(r->status, 200);
    assert_non_null(h_header(r, "Content-Type", ct, sizeof ct));
    assert_non_null(strstr(ct, "text/plain"));
    assert_non_null(
        strstr(r->body, "ombud_http_requests_total{route=\"health_live\",status=\"200\"}"));
    assert_non_null(strstr(r->body, "ombud_http_request_duration_seconds_bucket{le=\"+Inf\"}"));
    assert_non_null(strstr(r->body, "ombud_db_pool_size"));
    h_resp_free(r);
}

static void unknown_route_is_404(void **state)
{
    const char *paths[] = {"/",
                           "/nope",
                           "/v1",
                           "/v1/api-keys/",
                           "/v1/api-keys/0",
                           "/v1/api-keys/abc",
                           "/v1/api-keys/1/x",
                           "/health/live/"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct h_resp *r = h_req(&srv, "GET", paths[i], &(struct h_opts){.key = srv.admin_key});
        h_expect_problem(r, 404);
        h_resp_free(r);
    }
}

static void wrong_method_is_405_with_allow(void **state)
{
    char allow[128];
    struct h_resp *r = h_req(&srv, "PUT", "/v1/api-keys", &(struct h_opts){.key = srv.admin_key});
    h_expect_problem(r, 405);
    assert_non_null(h_header(r, "Allow", allow, sizeof allow));
    assert_string_equal(allow, "GET, HEAD, POST");
    h_resp_free(r);

    r = h_req(&srv, "POST", "/health/live", NULL);
    h_expect_problem(r, 405);
    assert_string_equal(h_header(r, "Allow", allow, sizeof allow), "GET, HEAD");
    h_resp_free(r);

    r = h_req(&srv, "PATCH", "/v1/api-keys/5", NULL);
    h_expect_problem(r, 405);
    assert_string_equal(h_header(r, "Allow", allow, sizeof allow), "GET, HEAD, DELETE");
    h_resp_free(r);
}

static void head_is_get_without_body(void **state)
{
    struct h_resp *r = h_req(&srv, "HEAD", "/health/live", NULL);
    assert_int_equal(r->status, 200);
    assert_int_equal(r->len, 0);
    h_resp_free(r);
}

static void request_id_echoed_or_generated(void **state)
{
    char buf[256];
    struct h_resp *r =
        h_req(&srv, "GET", "/health/live", &(struct h_opts){.headers = {"X-Request-Id: abc-123"}});
    assert_string_equal(h_header(r, "X-Request-Id", buf, sizeof buf), "abc-123");
    h_resp_free(r);

    /* Also on errors, and in the problem body. */
    r = h_req(&srv, "GET", "/nope", &(struct h_opts){.headers = {"X-Request-Id: trace-9"}});
    assert_string_equal(h_header(r, "X-Request-Id", buf, sizeof buf), "trace-9");
    assert_string_equal(json_string_value(json_object_get(r->json, "request_id")), "trace-9");
    h_resp_free(r);

    /* Too long: replaced by a generated id. */
    char hdr[200];
    memset(hdr, 0, sizeof hdr);
    strcpy(hdr, "X-Request-Id: ");
    memset(hdr + strlen(hdr), 'x', 150);
    r = h_req(&srv, "GET", "/health/live", &(struct h_opts){.headers = {hdr}});
    assert_int_equal(strlen(h_header(r, "X-Request-Id", buf, sizeof buf)), 32);
    h_resp_free(r);
}

static void body_limit_by_length_is_413(void **state)
{
    char *big = malloc(4097 + 1);
    memset(big, ' ', 4097);
    big[0] = '{';
    big[4096] = '}';
    big[4097] = '\0';
    struct h_resp *r =
        h_req(&srv, "POST", "/v1/api-keys", &(struct h_opts){.key = srv.admin_key, .body = big});
    h_expect_problem(r, 413);
    h_resp_free(r);

    /* Exactly at the limit is fine (and then fails validation, not size). */
    big[4095] = '}';
    big[4096] = '\0';
    r = h_req(&srv, "POST", "/v1/api-keys", &(struct h_opts){.key = srv.admin_key, .body = big});
    h_expect_problem(r, 422);
    h_resp_free(r);
    free(big);
}

/* Sends a POST of body_len bytes announced by Content-Length on a raw
 * socket, the body (unless expect_continue) right after the headers
 * without waiting for anything, as a simple client does; returns what
 * the server answered (up to len bytes; "" when a send failed, the
 * broken pipe such a client reports instead of the answer). */
static void raw_post(size_t body_len, bool expect_continue, char *out, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)srv.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char head[512];
    int n = snprintf(head, sizeof head,
                     "POST /v1/api-keys HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n%s\r\n",
                     srv.admin_key, body_len, expect_continue ? "Expect: 100-continue\r\n" : "");
    /* A small send buffer keeps the client sending while the server
     * answers, as with any body larger than the socket buffers. */
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    bool broke = send(fd, head, (size_t)n, MSG_NOSIGNAL) != n;
    if (!expect_continue) {
        char *body = malloc(body_len);
        assert_non_null(body);
        memset(body, ' ', body_len);
        for (size_t sent = 0; !broke && sent < body_len;) {
            ssize_t w = send(fd, body + sent, body_len - sent, MSG_NOSIGNAL);
            if (w <= 0)
                broke = true;
            else
                sent += (size_t)w;
        }
        free(body);
    }
    size_t got = 0;
    if (broke) { /* as a client that stops at a failed send */
        out[0] = '\0';
        close(fd);
        return;
    }
    while (got + 1 < len) {
        ssize_t r = recv(fd, out + got, len - 1 - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
        if (strstr(out, "\r\n\r\n"))
            break;
    }
    out[got] = '\0';
    close(fd);
}

/* A client that sends the whole oversized body before reading must still
 * read the 413, every time; one that waits for 100 Continue gets it
 * without sending the body. */
static void a_client_sending_the_whole_body_reads_the_413(void **state)
{
    char resp[2048];
    for (int i = 0; i < 20; i++) {
        raw_post(1 << 20, false, resp, sizeof resp);
        if (strncmp(resp, "HTTP/1.1 413", 12) != 0)
            fail_msg("attempt %d: %.200s", i, resp);
    }
    raw_post(1 << 20, true, resp, sizeof resp);
    assert_int_equal(strncmp(resp, "HTTP/1.1 413", 12), 0);
    assert_null(strstr(resp, "100 Continue"));
}

static void body_limit_while_streaming_is_413(void **state)
{
    size_t n = 4097;
    char *big = malloc(n);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    struct h_resp *r =
        h_req(&srv, "POST", "/v1/api-keys",
              &(struct h_opts){.key = srv.admin_key, .body = big, .body_len = n, .chunked = true});
    h_expect_problem(r, 413);
    h_resp_free(r);

    /* A body far beyond the limit: the server hangs up rather than read it all. */
    n = 4096 * 64;
    big = realloc(big, n);
    memset(big, ' ', n);
    r = h_req(&srv, "POST", "/v1/api-keys",
              &(struct h_opts){.key = srv.admin_key, .body = big, .body_len = n, .chunked = true});
    assert_true(r->status == 0 || r->status == 413);
    h_resp_free(r);
    free(big);

    /* The server is still fine. */
    r = h_req(&srv, "GET", "/health/live", NULL);
    assert_int_equal(r->status, 200);
    h_resp_free(r);
}

static void content_type_is_checked(void **state)
{
    const char *bad[] = {"text/plain", "application/jsonx", "",
                         "application/x-www-form-urlencoded"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct h_resp *r = h_req(&srv, "POST", "/v1/api-keys",
                                 &(struct h_opts){.key = srv.admin_key,
                                                  .body = "{\"name\":\"x\",\"role\":\"agent\"}",
                                                  .content_type = bad[i]});
        h_expect_problem(r, 415);
        h_resp_free(r);
    }
    struct h_resp *r = h_req(&srv, "POST", "/v1/api-keys",
                             &(struct h_opts){.key = srv.admin_key,
                                              .body = "{\"name\":\"x\",\"role\":\"agent\"}",
                                              .content_type = "Application/JSON; charset=utf-8"});
    assert_int_equal(r->status, 201);
    h_resp_free(r);
}

static void malformed_json_is_400(void **state)
{
    const char *bad[] = {
        "{",     "[1,2]",   "\"str\"", "nul", "{\"a\":1,\"a\":2}", "{\"a\":\"\\ud800\"}",
        "{} {}", "\xff\xfe"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct h_resp *r = h_req(&srv, "POST", "/v1/api-keys",
                                 &(struct h_opts){.key = srv.admin_key, .body = bad[i]});
        h_expect_problem(r, 400);
        h_resp_free(r);
    }
    /* Invalid UTF-8 inside a string. */
    struct h_resp *r =
        h_req(&srv, "POST", "/v1/api-keys",
              &(struct h_opts){.key = srv.admin_key,
                               .body = "{\"name\":\"\xc3\x28\",\"role\":\"agent\"}"});
    h_expect_problem(r, 400);
    h_resp_free(r);
    /* No body at all on a route that needs one. */
    r = h_req(&srv, "POST", "/v1/api-keys",
              &(struct h_opts){.key = srv.admin_key, .body = "", .body_len = 0});
    h_expect_problem(r, 400);
    h_resp_free(r);
}

static void cors_allowed_origin(void **state)
{
    char buf[256];
    struct h_resp *r = h_req(&srv, "GET", "/health/live",
                             &(struct h_opts){.headers = {"Origin: https://b.example"}});
    assert_string_equal(h_header(r, "Access-Control-Allow-Origin", buf, sizeof buf),
                        "https://b.example");
    assert_string_equal(h_header(r, "Vary", buf, sizeof buf), "Origin");
    assert_non_null(h_header(r, "Access-Control-Expose-Headers", buf, sizeof buf));
    assert_non_null(strstr(buf, "X-Request-Id"));
    h_resp_free(r);

    r = h_req(&srv, "GET", "/health/live",
              &(struct h_opts){.headers = {"Origin: https://evil.example"}});
    assert_null(h_header(r, "Access-Control-Allow-Origin", buf, sizeof buf));
    h_resp_free(r);
}

static void cors_preflight(void **state)
{
    char buf[256];
    struct h_resp *r =
        h_req(&srv, "OPTIONS", "/v1/api-keys",
              &(struct h_opts){
                  .headers = {"Origin: https://app.example", "Access-Control-Request-Method: POST",
                              "Access-Control-Request-Headers: authorization, content-type"}});
    assert_int_equal(r->status, 204);
    assert_string_equal(h_header(r, "Access-Control-Allow-Origin", buf, sizeof buf),
                        "https://app.example");
    assert_non_null(strstr(h_header(r, "Access-Control-Allow-Methods", buf, sizeof buf), "POST"));
    assert_non_null(
        strstr(h_header(r, "Access-Control-Allow-Headers", buf, sizeof buf), "Authorization"));
    assert_string_equal(h_header(r, "Allow", buf, sizeof buf), "GET, HEAD, POST");
    h_resp_free(r);

    /* Preflight needs no key; unknown paths are still 404. */
    r = h_req(&srv, "OPTIONS", "/nope",
              &(struct h_opts){.headers = {"Origin: https://app.example"}});
    h_expect_problem(r, 404);
    h_resp_free(r);

    /* Disallowed origin: no CORS grant. */
    r = h_req(&srv, "OPTIONS", "/v1/api-keys",
              &(struct h_opts){.headers = {"Origin: https://evil.example",
                                           "Access-Control-Request-Method: POST"}});
    assert_int_equal(r->status, 204);
    assert_null(h_header(r, "Access-Control-Allow-Origin", buf, sizeof buf));
    h_resp_free(r);
}

static void access_log_lines(void **state)
{
    struct h_resp *r = h_req(&srv, "GET", "/health/live",
                             &(struct h_opts){.headers = {"X-Request-Id: log-probe-77"}});
    h_resp_free(r);
    h_sleep_ms(100);
    FILE *f = fopen(srv.log_path, "r");
    char line[4096];
    bool seen = false;
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        if (!strstr(line, "log-probe-77"))
            continue;
        json_t *o = json_loads(line, 0, NULL);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "event")), "request");
        assert_int_equal(json_integer_value(json_object_get(o, "status")), 200);
        assert_string_equal(json_string_value(json_object_get(o, "path")), "/health/live");
        assert_true(json_is_number(json_object_get(o, "duration_ms")));
        json_decref(o);
        seen = true;
    }
    fclose(f);
    assert_true(seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(health_live_and_ready),
        cmocka_unit_test(openapi_is_served),
        cmocka_unit_test(metrics_text),
        cmocka_unit_test(unknown_route_is_404),
        cmocka_unit_test(wrong_method_is_405_with_allow),
        cmocka_unit_test(head_is_get_without_body),
        cmocka_unit_test(request_id_echoed_or_generated),
        cmocka_unit_test(body_limit_by_length_is_413),
        cmocka_unit_test(body_limit_while_streaming_is_413),
        cmocka_unit_test(a_client_sending_the_whole_body_reads_the_413),
        cmocka_unit_test(content_type_is_checked),
        cmocka_unit_test(malformed_json_is_400),
        cmocka_unit_test(cors_allowed_origin),
        cmocka_unit_test(cors_preflight),
        cmocka_unit_test(access_log_lines),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
