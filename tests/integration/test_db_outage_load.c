/*
 * PostgreSQL stopped under a create load and started again (issue
 * "Hardening", item 5): 16 clients create complaints, each request with
 * its own Idempotency-Key, while the database is stopped and started
 * again, without restarting Ombud. Meanwhile every answer is a 201 or a
 * 503 problem (with Retry-After), no complaint is half-written, every
 * 201 is in the database, and replaying every request with its key
 * creates nothing twice. The outage warning is rate-limited (one line a
 * second, counting those left out), and Ombud recovers by itself: once
 * the database is back the load succeeds again within the reconnect
 * backoff, and after a restart that Ombud did not see (every pooled
 * connection stale) the very first request succeeds.
 * Stops the shared test cluster, so ctest runs it alone (RUN_SERIAL).
 */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENTS 16
#define MAX_PER_CLIENT 4000
#define OUTAGE_MS 2000
#define BACKOFF_MAX_MS 2000 /* src/db/pool.c */

static struct h_server srv;
static char svc_key[96];
static atomic_bool stop_load;
/* Counted by the clients, per phase: 0 before the outage, 1 during, 2 after. */
static atomic_int phase;
static atomic_long n_201[3], n_503[3];
static atomic_long bad_503; /* a 503 that is not a problem with Retry-After */

struct sent {
    char key[48];
    long status;
    int64_t id; /* answered 201 with this id; 0: not */
};

struct client {
    int n;
    struct sent sent[MAX_PER_CLIENT];
};

static struct client clients[CLIENTS];

static const char *pg_script(void)
{
    const char *s = getenv("OMBUD_TEST_PG_SCRIPT");
    if (!s || !*s)
        fail_msg("OMBUD_TEST_PG_SCRIPT is not set: run the tests with ./scripts/test");
    return s;
}

static int setup(void **state)
{
    static const char *const env[] = {"OMBUD_DB_TIMEOUT_MS=1000", NULL};
    h_server_start(&srv, env);
    h_make_key(&srv, "service", svc_key, sizeof svc_key);
    return 0;
}

static int teardown(void **state)
{
    h_sh("\"%s\" start >/dev/null 2>&1", pg_script());
    h_server_stop(&srv, true);
    return 0;
}

static struct h_resp *create(int c, int i, const char *key)
{
    char b[160], hdr[96];
    snprintf(b, sizeof b,
             "{\"title\":\"Outage %d/%d\",\"description\":\"Load.\",\"customer\":{\"name\":\"O\"}}",
             c, i);
    snprintf(hdr, sizeof hdr, "Idempotency-Key: %s", key);
    return h_req(&srv, "POST", "/v1/complaints",
                 &(struct h_opts){.key = svc_key, .body = b, .headers = {hdr}});
}

/* Sends one create as client c and records it; returns its status. */
static long send_one(struct client *cl)
{
    int c = (int)(cl - clients);
    int i = cl->n;
    struct sent *s = &cl->sent[cl->n++];
    snprintf(s->key, sizeof s->key, "outage-%d-%d", c, i);
    int ph = atomic_load(&phase); /* when it was sent */
    struct h_resp *r = create(c, i, s->key);
    s->status = r->status;
    if (r->status == 201) {
        s->id = json_integer_value(json_object_get(r->json, "id"));
        atomic_fetch_add(&n_201[ph], 1);
    } else if (r->status == 503) {
        char ra[16];
        const char *type = r->json ? h_jstr(r->json, "type") : NULL;
        if (!type || h_jint(r->json, "status") != 503 || !h_header(r, "Retry-After", ra, sizeof ra))
            atomic_fetch_add(&bad_503, 1);
        atomic_fetch_add(&n_503[ph], 1);
    }
    long st = r->status;
    h_resp_free(r);
    return st;
}

static void *load(void *arg)
{
    struct client *cl = arg;
    while (cl->n < MAX_PER_CLIENT && !atomic_load(&stop_load))
        if (send_one(cl) == 503)
            h_sleep_ms(20); /* a client that does not hammer a refusal */
    return NULL;
}

static void run_load(long ms)
{
    pthread_t th[CLIENTS];
    atomic_store(&stop_load, false);
    for (int i = 0; i < CLIENTS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, load, &clients[i]), 0);
    h_sleep_ms(ms);
    atomic_store(&stop_load, true);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(th[i], NULL);
}

/* The outage warning's lines in the server log, and the occurrences
 * they stand for (each line plus those it says it left out). */
static void count_warnings(long *lines, long *occurrences)
{
    FILE *f = fopen(srv.log_path, "r");
    char line[2048];
    *lines = *occurrences = 0;
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        if (!strstr(line, "\"db_unavailable\""))
            continue;
        const char *more = strstr(line, " more since the last line");
        const char *open = more ? more : line;
        while (open > line && open[-1] >= '0' && open[-1] <= '9')
            open--;
        (*lines)++;
        *occurrences += 1 + (more ? strtol(open, NULL, 10) : 0);
    }
    fclose(f);
}

static void outage_under_load(void **state)
{
    /* Before: every pooled connection in use at least once. */
    run_load(500);
    assert_true(atomic_load(&n_201[0]) > 0);
    assert_int_equal(atomic_load(&n_503[0]), 0);

    /* During: the load goes on while the database is stopped. */
    pthread_t th[CLIENTS];
    atomic_store(&stop_load, false);
    for (int i = 0; i < CLIENTS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, load, &clients[i]), 0);
    h_sleep_ms(200);
    atomic_store(&phase, 1);
    int64_t down_at = h_real_ms();
    assert_int_equal(h_sh("\"%s\" stop >/dev/null", pg_script()), 0);
    h_sleep_ms(OUTAGE_MS / 2);
    /* Not ready while the database is away; alive all the same. */
    struct h_resp *r = h_req(&srv, "GET", "/health/ready", NULL);
    h_expect_problem(r, 503);
    assert_string_equal(h_jstr(r->json, "database"), "down");
    h_resp_free(r);
    r = h_req(&srv, "GET", "/health/live", NULL);
    h_expect_status(r, 200);
    h_resp_free(r);
    h_sleep_ms(OUTAGE_MS / 2);
    assert_int_equal(h_sh("\"%s\" start >/dev/null", pg_script()), 0);
    int64_t up_at = h_real_ms();
    /* After: the same load, the same process, until the creates succeed
     * again; then every answer is a 201. */
    int64_t first_201_ms = -1;
    long seen = atomic_load(&n_201[1]);
    while (h_real_ms() - up_at < 4 * BACKOFF_MAX_MS) {
        if (atomic_load(&n_201[1]) > seen) {
            first_201_ms = h_real_ms() - up_at;
            break;
        }
        h_sleep_ms(5);
    }
    h_sleep_ms(100); /* what was sent before it may still be refused */
    atomic_store(&phase, 2);
    h_sleep_ms(1000);
    atomic_store(&stop_load, true);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(th[i], NULL);
    int64_t outage_s = (h_real_ms() - down_at + 999) / 1000;

    size_t sent = 0, answered = 0, other = 0;
    for (int c = 0; c < CLIENTS; c++)
        for (int i = 0; i < clients[c].n; i++) {
            sent++;
            answered += clients[c].sent[i].id != 0;
            other += clients[c].sent[i].status != 201 && clients[c].sent[i].status != 503;
        }
    long lines, occurrences;
    count_warnings(&lines, &occurrences);
    fprintf(stderr,
            "outage under load: %zu creates sent, %zu answered 201 (%ld before, %ld during,"
            " %ld after), %ld answered 503 (%ld before, %ld during, %ld after), %zu other;"
            " creates succeeded again %lld ms after the database was back\n",
            sent, answered, atomic_load(&n_201[0]), atomic_load(&n_201[1]), atomic_load(&n_201[2]),
            atomic_load(&n_503[0]) + n_503[1] + n_503[2], atomic_load(&n_503[0]),
            atomic_load(&n_503[1]), atomic_load(&n_503[2]), other, (long long)first_201_ms);
    fprintf(stderr,
            "outage warning: %ld log lines for %ld occurrences over about %lld s (at most one a"
            " second)\n",
            lines, occurrences, (long long)outage_s);
    assert_int_equal(other, 0);
    assert_int_equal(atomic_load(&bad_503), 0);
    assert_true(atomic_load(&n_503[1]) > 0);
    /* Recovered without a restart, within the backoff, and for good. */
    assert_true(first_201_ms >= 0);
    assert_true(first_201_ms <= 2 * BACKOFF_MAX_MS);
    assert_true(atomic_load(&n_201[2]) > 0);
    assert_int_equal(atomic_load(&n_503[2]), 0);
    /* Rate-limited: one line a second at most (and the first at once). */
    assert_true(lines >= 1);
    assert_true(lines <= outage_s + 1);
    assert_true(occurrences >= lines);
    r = h_req(&srv, "GET", "/health/ready", NULL);
    h_expect_status(r, 200);
    h_resp_free(r);

    /* Every complaint is whole: its two clocks, its created event and
     * change, its idempotency record. */
    assert_int_equal(h_half_written_complaints(&srv), 0);
    long long before_replay = h_sql_int(&srv, "SELECT count(*) FROM complaints");
    assert_true(before_replay >= (long long)answered);

    /* Every 201 is there; replaying every request creates nothing twice. */
    size_t replayed = 0, created_now = 0;
    for (int c = 0; c < CLIENTS; c++)
        for (int i = 0; i < clients[c].n; i++) {
            struct sent *s = &clients[c].sent[i];
            if (s->id)
                assert_int_equal(h_sql_int(&srv, "SELECT count(*) FROM complaints WHERE id = %lld",
                                           (long long)s->id),
                                 1);
            struct h_resp *rr = create(c, i, s->key);
            char buf[16];
            bool was_replayed = h_header(rr, "Idempotent-Replayed", buf, sizeof buf) != NULL;
            h_expect_status(rr, 201);
            if (s->id) {
                assert_true(was_replayed);
                assert_int_equal(h_jint(rr->json, "id"), s->id);
            }
            replayed += was_replayed;
            created_now += !was_replayed;
            h_resp_free(rr);
        }
    long long total = h_sql_int(&srv, "SELECT count(*) FROM complaints");
    assert_int_equal(total, before_replay + (long long)created_now);
    assert_int_equal(total, (long long)sent);
    fprintf(stderr,
            "after the outage: %lld complaints found (%zu answered 201), %zu replays, %zu created"
            " now, %lld duplicates\n",
            before_replay, answered, replayed, created_now, total - (long long)sent);
}

/* PostgreSQL restarts while Ombud is idle: every pooled connection is
 * stale, and Ombud has not tried to connect meanwhile, so no backoff
 * holds it back. The first request, and every one of a burst from 16
 * clients after it, succeeds. */
static void first_request_after_a_restart(void **state)
{
    memset(clients, 0, sizeof clients);
    for (int i = 0; i < 3; i++)
        atomic_store(&n_201[i], 0), atomic_store(&n_503[i], 0);
    atomic_store(&phase, 0);
    run_load(300); /* every pooled connection made */
    assert_int_equal(atomic_load(&n_503[0]), 0);

    assert_int_equal(
        h_sh("\"%s\" stop >/dev/null && \"%s\" start >/dev/null", pg_script(), pg_script()), 0);
    atomic_store(&phase, 1);
    long first = send_one(&clients[0]);
    if (first != 201) {
        h_sh("grep -v '\"request\"' %s | tail -20 >&2", srv.log_path);
        h_sh("grep '\"request\"' %s | tail -3 >&2", srv.log_path);
    }
    assert_int_equal(first, 201);
    run_load(300);
    fprintf(stderr,
            "restart unseen by Ombud: first request 201, then %ld answered 201 and %ld 503\n",
            atomic_load(&n_201[1]) - 1, atomic_load(&n_503[1]));
    assert_int_equal(atomic_load(&n_503[1]), 0);
    struct h_resp *r = h_req(&srv, "GET", "/health/ready", NULL);
    h_expect_status(r, 200);
    h_resp_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(outage_under_load),
        cmocka_unit_test(first_request_after_a_restart),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
