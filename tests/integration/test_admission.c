/*
 * Connection admission through the real server (API.md, Operations):
 * slow clients cannot hold connections, one address cannot take them
 * all, and a full server answers rather than leaves a client waiting.
 *
 *  - slowloris: dozens of sockets sending a request head a byte at a
 *    time, a keep-alive connection trickling its second request and one
 *    trickling a body; a normal client is served meanwhile, and each
 *    slow one is closed once its deadline (1 s here) has passed.
 *  - per address: with OMBUD_CONN_PER_IP=4 a fifth connection from
 *    127.0.0.1 is closed at once while 127.0.0.2 is still served.
 *  - the cap: with OMBUD_CONN_LIMIT=4 held by four clients, a fifth is
 *    answered 503 (Retry-After, Connection: close) within a second, a
 *    liveness probe is still answered 200, a silent one is closed within
 *    about a second, and once a slot frees a newcomer is served.
 */
#define _GNU_SOURCE /* strcasestr */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct h_server slow, per_ip, capped;

static int setup(void **state)
{
    (void)state;
    const char *slow_env[] = {"OMBUD_HEADER_TIMEOUT_MS=1000", "OMBUD_BODY_TIMEOUT_MS=1000",
                              "OMBUD_CONN_TIMEOUT=1", "OMBUD_THREADS=2", NULL};
    h_server_start(&slow, slow_env);
    const char *per_ip_env[] = {"OMBUD_CONN_PER_IP=4", NULL};
    h_server_start(&per_ip, per_ip_env);
    const char *capped_env[] = {"OMBUD_CONN_LIMIT=4", "OMBUD_THREADS=2",
                                "OMBUD_HEADER_TIMEOUT_MS=30000", NULL};
    h_server_start(&capped, capped_env);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_server_stop(&slow, true);
    h_server_stop(&per_ip, true);
    h_server_stop(&capped, true);
    return 0;
}

/* ---- raw sockets ---- */

/* A TCP connection to s from source address src (NULL: any). */
static int dial(const struct h_server *s, const char *src)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    if (src) {
        struct sockaddr_in b = {.sin_family = AF_INET};
        assert_int_equal(inet_pton(AF_INET, src, &b.sin_addr), 1);
        assert_int_equal(bind(fd, (struct sockaddr *)&b, sizeof b), 0);
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void send_all(int fd, const char *data)
{
    size_t len = strlen(data);
    for (size_t sent = 0; sent < len;) {
        ssize_t w = send(fd, data + sent, len - sent, MSG_NOSIGNAL);
        assert_true(w > 0);
        sent += (size_t)w;
    }
}

/* Whether the server has closed fd (end of stream or reset), reading and
 * dropping whatever it sent; waits up to ms for it. */
static bool closed_by_server(int fd, int ms)
{
    char buf[4096];
    int64_t end = h_real_ms() + ms;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int64_t left = end - h_real_ms();
        int n = poll(&p, 1, left > 0 ? (int)left : 0);
        if (n <= 0)
            return false;
        ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return true;
    }
}

/* Reads one response (headers, and the body by Content-Length) into out,
 * waiting up to ms; its length, 0 if none came whole. */
static size_t read_response(int fd, char *out, size_t outlen, int ms)
{
    size_t got = 0;
    int64_t end = h_real_ms() + ms;
    out[0] = '\0';
    while (got + 1 < outlen) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int64_t left = end - h_real_ms();
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return 0;
        ssize_t r = recv(fd, out + got, outlen - 1 - got, MSG_DONTWAIT);
        if (r <= 0)
            return 0;
        got += (size_t)r;
        out[got] = '\0';
        const char *eoh = strstr(out, "\r\n\r\n");
        const char *cl = strcasestr(out, "\r\nContent-Length:");
        if (eoh && cl && cl < eoh && got >= (size_t)(eoh + 4 - out) + strtoul(cl + 17, NULL, 10))
            return got;
    }
    return 0;
}

/* A normal client (libcurl, a fresh connection) is answered 200 within ms. */
static void served_within(struct h_server *s, int64_t ms)
{
    int64_t t0 = h_real_ms();
    struct h_resp *r = h_req(s, "GET", "/health/live", NULL);
    int64_t took = h_real_ms() - t0;
    if (r->status != 200 || took > ms)
        fail_msg("a normal client got %ld after %lld ms (bound %lld ms)", r->status,
                 (long long)took, (long long)ms);
    h_resp_free(r);
}

/* ---- slowloris ---- */

#define NSLOW 40
#define TICK_MS 50

static void slow_clients_are_closed(void **state)
{
    static const char head[] = "GET /health/live HTTP/1.1\r\nHost: ombud\r\nX-Pad: aaaaaaaaaa"
                               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    char body_head[512], resp[4096];
    int fds[NSLOW + 2];
    int64_t opened[NSLOW + 2], closed_at[NSLOW + 2];
    size_t pos[NSLOW + 2] = {0};
    (void)state;

    /* Heads a byte at a time. */
    for (int i = 0; i < NSLOW; i++) {
        fds[i] = dial(&slow, NULL);
        opened[i] = h_real_ms();
        closed_at[i] = 0;
    }
    /* A keep-alive connection: one whole request, then the next one
     * trickled (its idle deadline is OMBUD_CONN_TIMEOUT, 1 s here). */
    int ka = NSLOW;
    fds[ka] = dial(&slow, NULL);
    send_all(fds[ka], "GET /health/live HTTP/1.1\r\nHost: ombud\r\n\r\n");
    assert_true(read_response(fds[ka], resp, sizeof resp, 2000) > 0);
    assert_non_null(strstr(resp, " 200 "));
    opened[ka] = h_real_ms();
    closed_at[ka] = 0;
    /* A whole head with a key, then its body a byte at a time. */
    int bd = NSLOW + 1;
    fds[bd] = dial(&slow, NULL);
    snprintf(body_head, sizeof body_head,
             "POST /v1/categories HTTP/1.1\r\nHost: ombud\r\nAuthorization: Bearer %s\r\n"
             "Content-Type: application/json\r\nContent-Length: 200\r\n\r\n",
             slow.admin_key);
    send_all(fds[bd], body_head);
    opened[bd] = h_real_ms();
    closed_at[bd] = 0;

    bool normal_checked = false;
    int open_left = NSLOW + 2;
    for (int64_t t0 = h_real_ms(); open_left > 0 && h_real_ms() - t0 < 5000;) {
        for (int i = 0; i < NSLOW + 2; i++) {
            if (closed_at[i])
                continue;
            const char *src = i == bd ? "{\"key\":\"" : head;
            char c = src[pos[i] % strlen(src)];
            if (send(fds[i], &c, 1, MSG_NOSIGNAL) != 1 || closed_by_server(fds[i], 0)) {
                closed_at[i] = h_real_ms();
                open_left--;
                continue;
            }
            pos[i]++;
        }
        if (!normal_checked && h_real_ms() - t0 > 300) {
            /* With every slow connection open, others are still served. */
            served_within(&slow, 1000);
            normal_checked = true;
        }
        h_sleep_ms(TICK_MS);
    }
    assert_true(normal_checked);
    for (int i = 0; i < NSLOW + 2; i++) {
        int64_t lived = closed_at[i] ? closed_at[i] - opened[i] : -1;
        const char *what = i == ka ? "keep-alive" : i == bd ? "body" : "head";
        if (lived < 0)
            fail_msg("a slow %s connection (%d) was never closed", what, i);
        /* The deadline is 1 s; the reaper and this loop each add a tick,
         * and a loaded machine more. */
        if (lived < 900 || lived > 3000)
            fail_msg("a slow %s connection (%d) was closed after %lld ms, not about 1000", what, i,
                     (long long)lived);
        close(fds[i]);
    }
    /* Nothing the slow body was sending got in. */
    assert_int_equal(h_sql_int(&slow, "SELECT count(*) FROM categories WHERE key = 'x'"), 0);
    served_within(&slow, 1000);
    assert_true(h_metric(&slow, "ombud_http_connections_slow_closed_total") >= NSLOW + 2);
    assert_true(h_metric(&slow, "ombud_http_connections_over_cap_total") == 0);
}

/* ---- per address ---- */

static void one_address_cannot_take_all(void **state)
{
    char resp[4096];
    int fds[4];
    (void)state;
    for (int i = 0; i < 4; i++) {
        fds[i] = dial(&per_ip, NULL);
        send_all(fds[i], "GET /health/live HTTP/1.1\r\nHost: ombud\r\n\r\n");
        assert_true(read_response(fds[i], resp, sizeof resp, 2000) > 0);
    }
    /* The fifth from 127.0.0.1 is closed at once. */
    int64_t t0 = h_real_ms();
    int extra = dial(&per_ip, "127.0.0.1");
    assert_true(closed_by_server(extra, 1000));
    assert_true(h_real_ms() - t0 < 1000);
    close(extra);
    /* Another address is served. */
    int other = dial(&per_ip, "127.0.0.2");
    send_all(other, "GET /health/live HTTP/1.1\r\nHost: ombud\r\n\r\n");
    assert_true(read_response(other, resp, sizeof resp, 2000) > 0);
    assert_non_null(strstr(resp, "HTTP/1.1 200 "));
    close(other);
    /* A freed slot is the address's again. */
    close(fds[0]);
    int64_t end = h_real_ms() + 2000;
    bool served = false;
    while (!served && h_real_ms() < end) {
        int again = dial(&per_ip, "127.0.0.1");
        send_all(again, "GET /health/live HTTP/1.1\r\nHost: ombud\r\n\r\n");
        served = read_response(again, resp, sizeof resp, 500) > 0 && strstr(resp, " 200 ");
        close(again);
        if (!served)
            h_sleep_ms(50);
    }
    assert_true(served);
    for (int i = 1; i < 4; i++)
        close(fds[i]);
}

/* ---- the cap ---- */

static void full_server_answers(void **state)
{
    char resp[4096];
    int fds[4];
    (void)state;
    h_sleep_ms(200); /* the start-up probes' connections are gone */
    for (int i = 0; i < 4; i++) {
        fds[i] = dial(&capped, NULL);
        send_all(fds[i], "GET /health/live HTTP/1.1\r\nHost: ombud\r\n\r\n");
        assert_true(read_response(fds[i], resp, sizeof resp, 2000) > 0);
        assert_non_null(strstr(resp, "HTTP/1.1 200 "));
    }
    /* The fifth is answered at once, and told to come back. */
    int64_t t0 = h_real_ms();
    int extra = dial(&capped, NULL);
    send_all(extra, "GET /v1/categories HTTP/1.1\r\nHost: ombud\r\n\r\n");
    size_t n = read_response(extra, resp, sizeof resp, 1000);
    int64_t took = h_real_ms() - t0;
    if (n == 0 || took > 1000)
        fail_msg("over the cap: %zu bytes after %lld ms: %s", n, (long long)took, resp);
    assert_non_null(strstr(resp, "HTTP/1.1 503 "));
    assert_non_null(strcasestr(resp, "\r\nRetry-After: 1\r\n"));
    assert_non_null(strcasestr(resp, "\r\nConnection: close\r\n"));
    assert_non_null(strcasestr(resp, "\r\nContent-Type: application/problem+json\r\n"));
    assert_non_null(strstr(resp, "\"type\":\"/problems/connection-limit\""));
    assert_true(closed_by_server(extra, 1000));
    close(extra);
    /* A liveness probe is still answered 200 over the cap. */
    extra = dial(&capped, NULL);
    send_all(extra, "GET /health/live HTTP/1.1\r\nHost: ombud\r\n\r\n");
    assert_true(read_response(extra, resp, sizeof resp, 1000) > 0);
    assert_non_null(strstr(resp, "HTTP/1.1 200 "));
    close(extra);
    /* One that says nothing is closed soon too. */
    t0 = h_real_ms();
    int silent = dial(&capped, NULL);
    assert_true(closed_by_server(silent, 2500));
    took = h_real_ms() - t0;
    if (took > 2000)
        fail_msg("a silent connection over the cap lived %lld ms", (long long)took);
    close(silent);
    /* A slot freed is a newcomer's. */
    close(fds[0]);
    int64_t end = h_real_ms() + 2000;
    bool served = false;
    while (!served && h_real_ms() < end) {
        int again = dial(&capped, NULL);
        send_all(again, "GET /health/live HTTP/1.1\r\nHost: ombud\r\n\r\n");
        served = read_response(again, resp, sizeof resp, 1000) > 0 && strstr(resp, " 200 ");
        close(again);
        if (!served)
            h_sleep_ms(50);
    }
    assert_true(served);
    /* The 503, the probe, the silent one, and perhaps a newcomer or two
     * that came before the freed slot was seen. */
    assert_true(h_metric(&capped, "ombud_http_connections_over_cap_total") >= 3);
    for (int i = 1; i < 4; i++)
        close(fds[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slow_clients_are_closed),
        cmocka_unit_test(one_address_cannot_take_all),
        cmocka_unit_test(full_server_answers),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
