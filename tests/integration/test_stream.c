/*
 * GET /v1/stream (API.md "Outbound"): the change log as Server-Sent
 * Events, read here over plain sockets with HTTP/1.0 (so the body comes
 * unchunked and every byte the server sends is seen as sent):
 *  - bad input: types, after, Last-Event-ID (422, the field named), no
 *    key (401), a service key (403);
 *  - a stream starts at the current end: a change made before it opened
 *    is not sent, one made after is, within 1 s of the write's answer;
 *  - the types filter; resuming after ?after= and after Last-Event-ID
 *    (the header wins), in the order /v1/changes gives, nothing repeated;
 *  - keep-alive comments (OMBUD_STREAM_KEEPALIVE_MS shortened);
 *  - /metrics counts open streams, and forgets closed ones;
 *  - two processes on one database: a change made through either reaches
 *    the streams of both within 1 s (p50/p99 printed);
 *  - a client that reads nothing while thousands of changes come is
 *    closed once it is OMBUD_STREAM_BUFFER_BYTES behind, and others go on;
 *  - SIGTERM with streams open: they end, the server exits 0;
 *  - the `eventsource` npm package (the WHATWG client) reads, loses its
 *    connection and resumes with Last-Event-ID (eventsource.sh).
 */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KEEPALIVE_MS 300
#define BUFFER_BYTES 65536

static struct h_server srv, beside;
static char agent_key[128], service_key[128];

static int setup(void **state)
{
    (void)state;
    static const char *const env[] = {"OMBUD_STREAM_KEEPALIVE_MS=300",
                                      "OMBUD_STREAM_BUFFER_BYTES=65536", "OMBUD_CONN_TIMEOUT=5",
                                      NULL};
    h_server_start(&srv, env);
    h_make_key(&srv, "agent", agent_key, sizeof agent_key);
    h_make_key(&srv, "service", service_key, sizeof service_key);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (beside.pid > 0)
        h_server_stop(&beside, false);
    h_server_stop(&srv, true);
    return 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- a stream read over a socket ---- */

struct sse {
    int fd;
    char *buf; /* everything received, NUL-terminated */
    size_t len, cap;
    bool eof;
};

static void sse_open(struct sse *e, const struct h_server *s, const char *key, const char *path,
                     const char *last_id, int rcvbuf)
{
    memset(e, 0, sizeof *e);
    e->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(e->fd >= 0);
    if (rcvbuf)
        assert_int_equal(setsockopt(e->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf), 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)s->port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(connect(e->fd, (struct sockaddr *)&a, sizeof a), 0);
    char req[1024], lid[128] = "", auth[256] = "";
    if (last_id)
        snprintf(lid, sizeof lid, "Last-Event-ID: %s\r\n", last_id);
    if (key)
        snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", key);
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n%s%s\r\n", path, auth,
                     lid);
    assert_int_equal(send(e->fd, req, (size_t)n, 0), n);
    e->cap = 4096;
    e->buf = calloc(1, e->cap);
    assert_non_null(e->buf);
}

/* Reads what arrives within ms (or until EOF). */
static void sse_pump(struct sse *e, int ms)
{
    int64_t until = mono_ms() + ms;
    while (!e->eof) {
        int left = (int)(until - mono_ms());
        if (left < 0)
            left = 0;
        struct pollfd p = {.fd = e->fd, .events = POLLIN};
        if (poll(&p, 1, left) <= 0)
            return;
        if (e->cap - e->len < 2048) {
            e->cap *= 2;
            e->buf = realloc(e->buf, e->cap);
            assert_non_null(e->buf);
        }
        ssize_t n = recv(e->fd, e->buf + e->len, e->cap - e->len - 1, 0);
        if (n <= 0) {
            e->eof = true;
            break;
        }
        e->len += (size_t)n;
        e->buf[e->len] = '\0';
        if (left == 0)
            break;
    }
}

/* Waits up to ms for needle to appear; whether it did. */
static bool sse_wait(struct sse *e, const char *needle, int ms)
{
    int64_t until = mono_ms() + (int64_t)ms * h_time_factor();
    while (!strstr(e->buf, needle)) {
        int left = (int)(until - mono_ms());
        if (left <= 0 || e->eof)
            return false;
        sse_pump(e, left < 20 ? left : 20);
    }
    return true;
}

static void sse_close(struct sse *e)
{
    if (e->fd >= 0)
        close(e->fd);
    e->fd = -1;
    free(e->buf);
    e->buf = NULL;
}

/* The body's events in order: ids and types (up to max). */
static size_t sse_events(const struct sse *e, long long *ids, char (*types)[40], size_t max)
{
    const char *p = strstr(e->buf, "\r\n\r\n");
    size_t n = 0;
    for (p = p ? p + 4 : e->buf; (p = strstr(p, "id: ")) && n < max;) {
        /* an event's lines: id, event, data (the id line starts a line) */
        if (p != e->buf && p[-1] != '\n') {
            p += 4;
            continue;
        }
        ids[n] = strtoll(p + 4, NULL, 10);
        const char *t = strstr(p, "\nevent: ");
        assert_non_null(t);
        size_t tl = strcspn(t + 8, "\n");
        assert_true(tl < 40);
        memcpy(types[n], t + 8, tl);
        types[n][tl] = '\0';
        n++;
        p = t;
    }
    return n;
}

/* Waits up to ms until the stream holds at least n events; whether it did. */
static bool sse_wait_events(struct sse *e, size_t n, int ms)
{
    long long ids[64];
    char types[64][40];
    int64_t until = mono_ms() + (int64_t)ms * h_time_factor();
    while (sse_events(e, ids, types, 64) < n) {
        if (mono_ms() >= until || e->eof)
            return false;
        sse_pump(e, 20);
    }
    return true;
}

static void note(struct h_server *s, int64_t id, const char *text)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/complaints/%lld/notes", (long long)id);
    struct h_resp *r =
        h_call_json(s, "POST", path, agent_key, json_pack("{s:s}", "body", text), NULL);
    h_expect_status(r, 201);
    h_resp_free(r);
}

/* Waits up to ms for the server to count n open streams (a closed one is
 * noticed at its next keep-alive); fails otherwise. */
static void expect_open_streams(struct h_server *s, long long n, int ms)
{
    int64_t until = mono_ms() + (int64_t)ms * h_time_factor();
    long long v;
    while ((v = h_metric(s, "ombud_streams_open")) != n && mono_ms() < until)
        h_sleep_ms(50);
    if (v != n)
        fail_msg("%lld streams open, expected %lld", v, n);
}

/* The newest change id, as /v1/changes reads it. */
static long long last_change(struct h_server *s)
{
    long long last = 0;
    for (;;) {
        char path[96];
        snprintf(path, sizeof path, "/v1/changes?after=%lld&limit=200", last);
        struct h_resp *r = h_call_json(s, "GET", path, agent_key, NULL, NULL);
        h_expect_status(r, 200);
        long long next = h_jint(r->json, "next_after");
        size_t n = json_array_size(json_object_get(r->json, "items"));
        h_resp_free(r);
        if (!n)
            return last;
        last = next;
    }
}

/* ---- tests ---- */

static void bad_input(void **state)
{
    (void)state;
    struct h_resp *r = h_call_json(&srv, "GET", "/v1/stream?types=bogus", agent_key, NULL, NULL);
    h_expect_invalid(r, "types");
    h_resp_free(r);
    r = h_call_json(&srv, "GET", "/v1/stream?after=abc", agent_key, NULL, NULL);
    h_expect_invalid(r, "after");
    h_resp_free(r);
    r = h_call_json(&srv, "GET", "/v1/stream", agent_key, NULL, "Last-Event-ID: 12x");
    h_expect_invalid(r, "Last-Event-ID");
    h_resp_free(r);
    r = h_call_json(&srv, "GET", "/v1/stream", agent_key, NULL,
                    "Last-Event-ID: 99999999999999999999");
    h_expect_invalid(r, "Last-Event-ID");
    h_resp_free(r);
    r = h_call_json(&srv, "GET", "/v1/stream", NULL, NULL, NULL);
    h_expect_problem(r, 401);
    h_resp_free(r);
    r = h_call_json(&srv, "GET", "/v1/stream", service_key, NULL, NULL);
    h_expect_problem(r, 403);
    h_resp_free(r);
}

static void starts_at_the_end_and_delivers_within_a_second(void **state)
{
    (void)state;
    int64_t before = h_make_complaint(&srv, agent_key, NULL);
    struct sse e;
    sse_open(&e, &srv, agent_key, "/v1/stream", NULL, 0);
    assert_true(sse_wait(&e, ": stream open", 2000));
    assert_non_null(strstr(e.buf, "HTTP/1.1 200"));
    assert_non_null(strstr(e.buf, "Content-Type: text/event-stream"));
    int64_t id = h_make_complaint(&srv, agent_key, NULL);
    int64_t t0 = mono_ms();
    char want[64];
    snprintf(want, sizeof want, "\"complaint_id\":%lld,", (long long)id);
    assert_true(sse_wait(&e, want, 1000));
    fprintf(stderr, "stream: change received %lld ms after the write's answer\n",
            (long long)(mono_ms() - t0));
    snprintf(want, sizeof want, "\"complaint_id\":%lld,", (long long)before);
    assert_null(strstr(e.buf, want));

    /* The event is the change as /v1/changes renders it. */
    long long ids[8];
    char types[8][40];
    assert_int_equal(sse_events(&e, ids, types, 8), 1);
    assert_string_equal(types[0], "complaint.created");
    char path[96];
    snprintf(path, sizeof path, "/v1/changes?after=%lld&limit=1", ids[0] - 1);
    struct h_resp *r = h_call_json(&srv, "GET", path, agent_key, NULL, NULL);
    h_expect_status(r, 200);
    char *one = json_dumps(json_array_get(json_object_get(r->json, "items"), 0), JSON_COMPACT);
    h_resp_free(r);
    char *line = strstr(e.buf, "\ndata: ");
    assert_non_null(line);
    assert_memory_equal(line + 7, one, strlen(one));
    assert_true(line[7 + strlen(one)] == '\n');
    free(one);
    sse_close(&e);
}

static void filters_and_resumes(void **state)
{
    (void)state;
    long long start = last_change(&srv);
    char after[64];
    snprintf(after, sizeof after, "/v1/stream?after=%lld", start);
    struct sse all, notes;
    sse_open(&all, &srv, agent_key, after, NULL, 0);
    snprintf(after, sizeof after, "/v1/stream?types=complaint.note_added&after=%lld", start);
    sse_open(&notes, &srv, agent_key, after, NULL, 0);
    int64_t id = h_make_complaint(&srv, agent_key, NULL);
    note(&srv, id, "first");
    note(&srv, id, "second");
    note(&srv, id, "third");
    assert_true(sse_wait_events(&all, 4, 2000));
    assert_true(sse_wait_events(&notes, 3, 2000));
    sse_pump(&all, 300);
    sse_pump(&notes, 300);

    long long ids[16], nids[16];
    char types[16][40], ntypes[16][40];
    size_t n = sse_events(&all, ids, types, 16), nn = sse_events(&notes, nids, ntypes, 16);
    assert_int_equal(n, 4);
    assert_string_equal(types[0], "complaint.created");
    assert_int_equal(nn, 3);
    for (size_t i = 0; i < nn; i++) {
        assert_string_equal(ntypes[i], "complaint.note_added");
        assert_int_equal(nids[i], ids[i + 1]);
    }
    for (size_t i = 1; i < n; i++)
        assert_true(ids[i] > ids[i - 1]);
    /* The same changes /v1/changes lists after the same position. */
    char path[96];
    snprintf(path, sizeof path, "/v1/changes?after=%lld", start);
    struct h_resp *r = h_call_json(&srv, "GET", path, agent_key, NULL, NULL);
    h_expect_status(r, 200);
    json_t *items = json_object_get(r->json, "items");
    assert_int_equal(json_array_size(items), n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(h_jint(json_array_get(items, i), "id"), ids[i]);
    h_resp_free(r);
    sse_close(&notes);
    sse_close(&all);

    /* Resume after the first: the other three, once each. Last-Event-ID
     * wins over ?after= (a reconnecting client sends both). */
    char lid[32];
    snprintf(lid, sizeof lid, "%lld", ids[0]);
    snprintf(after, sizeof after, "/v1/stream?after=%lld", start);
    struct sse again;
    sse_open(&again, &srv, agent_key, after, lid, 0);
    assert_true(sse_wait_events(&again, 3, 2000));
    sse_pump(&again, 400);
    long long rids[16];
    char rtypes[16][40];
    assert_int_equal(sse_events(&again, rids, rtypes, 16), 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(rids[i], ids[i + 1]);
    sse_close(&again);

    /* after=now: the current end, like no position. */
    struct sse now;
    sse_open(&now, &srv, agent_key, "/v1/stream?after=now", NULL, 0);
    assert_true(sse_wait(&now, ": stream open", 2000));
    sse_pump(&now, 500);
    assert_null(strstr(now.buf, "\nid: "));
    sse_close(&now);
}

static void keep_alive_and_metrics(void **state)
{
    (void)state;
    expect_open_streams(&srv, 0, 3000);
    struct sse e[3];
    int64_t t0 = mono_ms();
    for (int i = 0; i < 3; i++)
        sse_open(&e[i], &srv, agent_key, "/v1/stream", NULL, 0);
    for (int i = 0; i < 3; i++)
        assert_true(sse_wait(&e[i], ": stream open", 2000));
    assert_int_equal(h_metric(&srv, "ombud_streams_open"), 3);
    /* Nothing happens: a comment every KEEPALIVE_MS, not sooner. */
    assert_null(strstr(e[0].buf, ": keep-alive"));
    assert_true(sse_wait(&e[0], ": keep-alive\n\n", KEEPALIVE_MS + 1000));
    assert_true(mono_ms() - t0 >= KEEPALIVE_MS);
    assert_true(sse_wait(&e[0], ": keep-alive\n\n: keep-alive\n\n", KEEPALIVE_MS + 1000));
    for (int i = 0; i < 3; i++)
        sse_close(&e[i]);
    /* A client gone while its stream was suspended is noticed at the next
     * keep-alive at the latest. */
    expect_open_streams(&srv, 0, 3000);
}

static void two_processes_within_a_second(void **state)
{
    (void)state;
    expect_open_streams(&srv, 0, 3000);
    h_server_spawn_beside(&beside, &srv, "B");
    struct h_server *both[2] = {&srv, &beside};
    struct sse e[2];
    for (int k = 0; k < 2; k++) {
        sse_open(&e[k], both[k], agent_key, "/v1/stream?types=complaint.created", NULL, 0);
        assert_true(sse_wait(&e[k], ": stream open", 3000));
    }
    enum { N = 20 };
    int64_t lat[2][N]; /* [0]: the writing process's stream, [1]: the other's */
    size_t nlat[2] = {0, 0};
    for (int i = 0; i < N; i++) {
        int w = i % 2; /* the process written through */
        int64_t id = h_make_complaint(both[w], agent_key, NULL);
        int64_t t0 = mono_ms();
        char want[64];
        snprintf(want, sizeof want, "\"complaint_id\":%lld,", (long long)id);
        bool got[2] = {false, false};
        while (!(got[0] && got[1]) && mono_ms() - t0 < 2000) {
            for (int k = 0; k < 2; k++)
                if (!got[k] && strstr(e[k].buf, want)) {
                    got[k] = true;
                    lat[k != w][nlat[k != w]++] = mono_ms() - t0;
                }
            sse_pump(&e[0], 2);
            sse_pump(&e[1], 2);
        }
        if (!got[0] || !got[1])
            fail_msg("complaint %lld made through %s: stream of A %s, of B %s", (long long)id,
                     w ? "B" : "A", got[0] ? "got it" : "did not", got[1] ? "got it" : "did not");
    }
    /* Latency from the write's answer to receipt. */
    for (int k = 0; k < 2; k++) {
        int64_t *l = lat[k];
        for (size_t i = 1; i < nlat[k]; i++)
            for (size_t j = i; j > 0 && l[j] < l[j - 1]; j--) {
                int64_t t = l[j];
                l[j] = l[j - 1];
                l[j - 1] = t;
            }
        fprintf(stderr, "stream latency, %s process, %zu changes: p50 %lld ms, p99 %lld ms\n",
                k ? "the other" : "the writing", nlat[k], (long long)l[nlat[k] / 2],
                (long long)l[(nlat[k] * 99) / 100]);
        assert_true(l[nlat[k] - 1] <= 1000);
    }
    /* Both saw the same changes, in the same order. */
    long long ids[2][N + 1];
    char types[N + 1][40];
    assert_int_equal(sse_events(&e[0], ids[0], types, N + 1), N);
    assert_int_equal(sse_events(&e[1], ids[1], types, N + 1), N);
    assert_memory_equal(ids[0], ids[1], sizeof ids[0][0] * N);
    for (int k = 0; k < 2; k++)
        sse_close(&e[k]);
    h_server_stop(&beside, false);
}

static void a_client_too_far_behind_is_closed(void **state)
{
    (void)state;
    /* This one reads nothing, through a small receive window. */
    struct sse slow, fine;
    expect_open_streams(&srv, 0, 3000);
    sse_open(&slow, &srv, agent_key, "/v1/stream", NULL, 4096);
    sse_open(&fine, &srv, agent_key, "/v1/stream?types=complaint.created", NULL, 0);
    assert_true(sse_wait(&fine, ": stream open", 2000));
    expect_open_streams(&srv, 2, 2000);
    /* Far more than socket buffers and BUFFER_BYTES hold: 4,000 changes
     * of 4 KiB, written as the server writes them (this transaction's id
     * << 20 plus n). */
    json_decref(h_sql(&srv, "WITH ev AS (INSERT INTO complaint_events (complaint_id, kind,"
                            " actor_role, data) VALUES (1, 'updated', 'system',"
                            " jsonb_build_object('pad', repeat('x', 4000))) RETURNING id)"
                            " INSERT INTO changes (id, type, complaint_id, event_id, status)"
                            " SELECT (pg_current_xact_id()::text::bigint << 20) + g,"
                            " 'complaint.updated', 1, (SELECT id FROM ev), 'new'"
                            " FROM generate_series(1, 4000) g"));
    expect_open_streams(&srv, 1, 10000);
    /* The other stream goes on (past the burst its filter passes over). */
    int64_t id = h_make_complaint(&srv, agent_key, NULL);
    char want[64];
    snprintf(want, sizeof want, "\"complaint_id\":%lld,", (long long)id);
    assert_true(sse_wait(&fine, want, 5000));
    sse_close(&slow);
    sse_close(&fine);
}

static void sigterm_ends_open_streams(void **state)
{
    (void)state;
    struct sse e[4];
    for (int i = 0; i < 4; i++) {
        sse_open(&e[i], &srv, agent_key, "/v1/stream", NULL, 0);
        assert_true(sse_wait(&e[i], ": stream open", 2000));
    }
    /* The npm client first (it needs the server up), then the stop. */
    const char *src = getenv("OMBUD_SOURCE_DIR");
    assert_non_null(src);
    int rc = h_sh("bash %s/tests/integration/eventsource.sh %s %s >&2", src, srv.base, agent_key);
    assert_int_equal(rc, 0);

    int64_t t0 = mono_ms();
    kill(srv.pid, SIGTERM);
    for (int i = 0; i < 4; i++) {
        sse_pump(&e[i], 5000);
        assert_true(e[i].eof);
    }
    int st = 0;
    assert_int_equal(waitpid(srv.pid, &st, 0), srv.pid);
    srv.pid = 0;
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_true(mono_ms() - t0 < 5000);
    for (int i = 0; i < 4; i++)
        sse_close(&e[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_input),
        cmocka_unit_test(starts_at_the_end_and_delivers_within_a_second),
        cmocka_unit_test(filters_and_resumes),
        cmocka_unit_test(keep_alive_and_metrics),
        cmocka_unit_test(two_processes_within_a_second),
        cmocka_unit_test(a_client_too_far_behind_is_closed),
        cmocka_unit_test(sigterm_ends_open_streams),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
