/*
 * What a 201 acknowledged survives kill -9 (issue "Hardening", item 5):
 * 16 clients create complaints, each with its own Idempotency-Key, until
 * the server is killed with SIGKILL mid-load. A new process on the same
 * database then finds every complaint answered 201, each whole (its SLA
 * clocks, its created event and change), and replaying every request
 * that was sent, answered or not, with its key creates nothing twice: an
 * answered one comes back as the same complaint, replayed.
 */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define CLIENTS 16
#define PER_CLIENT 400

static struct h_server srv, after;
static char svc_key[96];
static atomic_bool stop_load;

struct sent {
    char key[48];
    int64_t id; /* answered 201 with this id; 0: no answer */
};

struct client {
    int n;
    struct sent sent[PER_CLIENT];
};

static struct client clients[CLIENTS];

static int setup(void **state)
{
    h_server_start(&srv, NULL);
    h_make_key(&srv, "service", svc_key, sizeof svc_key);
    return 0;
}

static int teardown(void **state)
{
    h_server_stop(&after, true);
    return 0;
}

static const char *body(char *buf, size_t len, int c, int i)
{
    snprintf(buf, len,
             "{\"title\":\"Killed %d/%d\",\"description\":\"Load.\",\"customer\":{\"name\":\"K\"}}",
             c, i);
    return buf;
}

static struct h_resp *create(struct h_server *s, int c, int i, const char *key)
{
    char b[160], hdr[96];
    snprintf(hdr, sizeof hdr, "Idempotency-Key: %s", key);
    return h_req(
        s, "POST", "/v1/complaints",
        &(struct h_opts){.key = svc_key, .body = body(b, sizeof b, c, i), .headers = {hdr}});
}

static void *load(void *arg)
{
    struct client *cl = arg;
    int c = (int)(cl - clients);
    for (int i = 0; i < PER_CLIENT && !atomic_load(&stop_load); i++) {
        struct sent *s = &cl->sent[cl->n++];
        snprintf(s->key, sizeof s->key, "kill9-%d-%d", c, i);
        struct h_resp *r = create(&srv, c, i, s->key);
        if (r->status == 201)
            s->id = json_integer_value(json_object_get(r->json, "id"));
        h_resp_free(r);
    }
    return NULL;
}

static void acknowledged_creates_survive_kill_9(void **state)
{
    pthread_t th[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, load, &clients[i]), 0);
    h_sleep_ms(1500);
    kill(srv.pid, SIGKILL);
    int st;
    waitpid(srv.pid, &st, 0);
    srv.pid = 0;
    atomic_store(&stop_load, true);
    for (int i = 0; i < CLIENTS; i++)
        pthread_join(th[i], NULL);

    size_t sent = 0, answered = 0;
    for (int c = 0; c < CLIENTS; c++)
        for (int i = 0; i < clients[c].n; i++) {
            sent++;
            answered += clients[c].sent[i].id != 0;
        }
    fprintf(stderr, "kill -9 under load: %zu creates sent, %zu answered 201\n", sent, answered);
    assert_true(answered > 0);

    /* A new process on the same database. */
    h_server_spawn_beside(&after, &srv, "after");
    /* At least every answered one committed (some unanswered may have too). */
    assert_true(h_sql_int(&after, "SELECT count(*) FROM complaints") >= (long long)answered);
    /* Every complaint is whole: its two clocks, its created event and change,
     * its idempotency record. */
    assert_int_equal(h_half_written_complaints(&after), 0);
    long long before_replay = h_sql_int(&after, "SELECT count(*) FROM complaints");

    /* Every answered id is there; every request replayed creates nothing new. */
    size_t replayed = 0, created_now = 0;
    for (int c = 0; c < CLIENTS; c++)
        for (int i = 0; i < clients[c].n; i++) {
            struct sent *s = &clients[c].sent[i];
            if (s->id)
                assert_int_equal(h_sql_int(&after,
                                           "SELECT count(*) FROM complaints WHERE id = %lld",
                                           (long long)s->id),
                                 1);
            struct h_resp *r = create(&after, c, i, s->key);
            char buf[16];
            bool was_replayed = h_header(r, "Idempotent-Replayed", buf, sizeof buf) != NULL;
            assert_true(r->status == 201);
            if (s->id) {
                assert_true(was_replayed);
                assert_int_equal(h_jint(r->json, "id"), s->id);
            }
            replayed += was_replayed;
            created_now += !was_replayed;
            h_resp_free(r);
        }
    /* The unanswered ones that had committed replay too; the rest are new now. */
    assert_int_equal(h_sql_int(&after, "SELECT count(*) FROM complaints"),
                     before_replay + (long long)created_now);
    assert_int_equal(h_sql_int(&after, "SELECT count(*) FROM complaints"), (long long)sent);
    fprintf(stderr, "after restart: %lld complaints had committed, %zu replays, %zu created now\n",
            before_replay, replayed, created_now);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(acknowledged_creates_survive_kill_9),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    return rc | h_exit_status();
}
