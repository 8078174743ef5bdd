/*
 * The change log (API.md "Outbound"), through HTTP against PostgreSQL:
 * every event and alert is a change, in order, with the complaint's state
 * at that change; GET /v1/changes pages, filters and starts from now; bad
 * input is named. And the order's promise: while 16 connections write,
 * and while a transaction that took its id early commits late, a reader
 * resuming after the last id it saw gets every change exactly once.
 */
#include "harness.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server srv;
static char agent_key[96], sup_key[96], svc_key[96];

static int setup(void **state)
{
    h_server_start(&srv, NULL);
    h_make_key(&srv, "agent", agent_key, sizeof agent_key);
    h_make_key(&srv, "supervisor", sup_key, sizeof sup_key);
    h_make_key(&srv, "service", svc_key, sizeof svc_key);
    return 0;
}

static int teardown(void **state)
{
    h_server_stop(&srv, true);
    return 0;
}

/* GET /v1/changes?<query> as the agent; asserts 200; the body (decref). */
static json_t *changes(const char *query)
{
    char path[512];
    snprintf(path, sizeof path, "/v1/changes%s%s", *query ? "?" : "", query);
    struct h_resp *r = h_req(&srv, "GET", path, &(struct h_opts){.key = agent_key});
    h_expect_status(r, 200);
    json_t *j = json_incref(r->json);
    h_resp_free(r);
    return j;
}

/* The same once it holds at least n items: a change is readable when
 * every transaction that took an id before it has ended, and other test
 * programs share the cluster (bounded: 10 s). */
static json_t *changes_at_least(const char *query, size_t n)
{
    int64_t until = h_real_ms() + 10000;
    for (;;) {
        json_t *j = changes(query);
        if (json_array_size(json_object_get(j, "items")) >= n || h_real_ms() > until)
            return j;
        json_decref(j);
        h_sleep_ms(20);
    }
}

static int64_t end_now(void)
{
    json_t *j = changes("after=now");
    assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
    int64_t end = h_jint(j, "next_after");
    json_decref(j);
    return end;
}

static void every_change_in_order_with_the_complaint_state(void **state)
{
    int64_t start = end_now();
    json_t *c = h_post_complaint(&srv, agent_key, NULL);
    int64_t id = h_jint(c, "id");
    char ref[32];
    snprintf(ref, sizeof ref, "%s", h_jstr(c, "reference"));
    json_decref(c);
    json_decref(h_transition(&srv, agent_key, id, "start"));
    char path[96];
    snprintf(path, sizeof path, "/v1/complaints/%lld/notes", (long long)id);
    struct h_resp *r = h_req(&srv, "POST", path,
                             &(struct h_opts){.key = agent_key,
                                              .body = "{\"body\":\"Called back\","
                                                      "\"visibility\":\"internal\"}"});
    h_expect_status(r, 201);
    h_resp_free(r);

    char q[64];
    snprintf(q, sizeof q, "after=%lld", (long long)start);
    json_t *j = changes_at_least(q, 3);
    json_t *items = json_object_get(j, "items");
    assert_int_equal(json_array_size(items), 3);
    const char *types[] = {"complaint.created", "complaint.status_changed", "complaint.note_added"};
    const char *status[] = {"new", "in_progress", "in_progress"};
    const int version[] = {1, 2, 2};
    int64_t prev = start;
    for (size_t i = 0; i < 3; i++) {
        json_t *ch = json_array_get(items, i);
        assert_true(h_jint(ch, "id") > prev);
        prev = h_jint(ch, "id");
        assert_string_equal(h_jstr(ch, "type"), types[i]);
        assert_int_equal(h_jint(ch, "complaint_id"), id);
        json_t *d = json_object_get(ch, "data");
        assert_string_equal(h_jstr(d, "reference"), ref);
        assert_string_equal(h_jstr(d, "status"), status[i]);
        assert_int_equal(h_jint(d, "version"), version[i]);
        json_t *ev = json_object_get(d, "event");
        assert_string_equal(h_jstr(ev, "kind"), types[i] + strlen("complaint."));
        assert_string_equal(h_jstr(json_object_get(ev, "actor"), "type"), "key");
    }
    assert_int_equal(h_jint(j, "next_after"), prev);
    json_decref(j);

    /* Nothing more after the last one; the same page again from the start. */
    snprintf(q, sizeof q, "after=%lld", (long long)prev);
    j = changes(q);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
    assert_int_equal(h_jint(j, "next_after"), prev);
    json_decref(j);
}

static void alerts_are_changes_too(void **state)
{
    h_make_category(&srv, "loud");
    struct h_resp *r = h_call_json(
        &srv, "POST", "/v1/escalation-rules", srv.admin_key,
        json_pack("{s:s, s:i, s:s, s:{s:[s]}, s:{s:b}}", "name", "Loud ones", "position", 1,
                  "trigger", "created", "conditions", "categories", "loud", "actions", "notify", 1),
        NULL);
    h_expect_status(r, 201);
    h_resp_free(r);
    int64_t start = end_now();
    json_t *c =
        h_post_complaint(&srv, agent_key,
                         json_pack("{s:s, s:s, s:{s:s}, s:s}", "title", "Loud", "description",
                                   "Very loud.", "customer", "name", "Bo", "category", "loud"));
    int64_t id = h_jint(c, "id");
    json_decref(c);
    json_t *alerts = h_alerts(&srv, id);
    int64_t alert = h_jint(json_array_get(alerts, 0), "id");
    json_decref(alerts);
    char path[64];
    snprintf(path, sizeof path, "/v1/alerts/%lld/ack", (long long)alert);
    r = h_req(&srv, "POST", path, &(struct h_opts){.key = sup_key, .body = "{}"});
    h_expect_status(r, 200);
    h_resp_free(r);

    char q[96];
    snprintf(q, sizeof q, "after=%lld&types=alert.*", (long long)start);
    json_t *j = changes_at_least(q, 2);
    json_t *items = json_object_get(j, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(h_jstr(json_array_get(items, 0), "type"), "alert.raised");
    assert_string_equal(h_jstr(json_array_get(items, 1), "type"), "alert.acknowledged");
    json_t *a = json_object_get(json_object_get(json_array_get(items, 1), "data"), "alert");
    assert_int_equal(h_jint(a, "id"), alert);
    assert_string_equal(h_jstr(a, "kind"), "escalation");
    assert_false(h_jnull(a, "acknowledged_at"));
    json_decref(j);

    /* An exact type, and two: the created one only, then both kinds. */
    snprintf(q, sizeof q, "after=%lld&types=complaint.created", (long long)start);
    j = changes_at_least(q, 1);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
    json_decref(j);
    snprintf(q, sizeof q, "after=%lld&types=complaint.created,alert.raised", (long long)start);
    j = changes_at_least(q, 2);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
    json_decref(j);
}

static void pages_follow_next_after(void **state)
{
    int64_t start = end_now();
    for (int i = 0; i < 5; i++)
        json_decref(h_post_complaint(&srv, agent_key, NULL));
    char q[96];
    int64_t after = start;
    size_t seen = 0;
    for (int page = 0; page < 10 && seen < 5; page++) {
        snprintf(q, sizeof q, "after=%lld&limit=2&types=complaint.created", (long long)after);
        json_t *j = changes_at_least(q, 1);
        size_t n = json_array_size(json_object_get(j, "items"));
        assert_true(n <= 2);
        seen += n;
        after = h_jint(j, "next_after");
        json_decref(j);
    }
    assert_int_equal(seen, 5);
}

static void bad_input_is_named(void **state)
{
    const char *bad[][2] = {{"after=abc", "after"},  {"after=-1", "after"},
                            {"after=%2B5", "after"}, {"limit=0", "limit"},
                            {"limit=201", "limit"},  {"types=complaint.nope", "types"},
                            {"types=*", "types"},    {"types=complaint.created,", "types"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "/v1/changes?%s", bad[i][0]);
        struct h_resp *r = h_req(&srv, "GET", path, &(struct h_opts){.key = agent_key});
        h_expect_invalid(r, bad[i][1]);
        h_resp_free(r);
    }
    struct h_resp *r = h_req(&srv, "GET", "/v1/changes", &(struct h_opts){.key = svc_key});
    h_expect_problem(r, 403);
    h_resp_free(r);
    r = h_req(&srv, "GET", "/v1/changes", &(struct h_opts){.key = NULL});
    h_expect_problem(r, 401);
    h_resp_free(r);
}

/* ---- the order's promise under concurrent writers ---- */

#define WRITERS 16
#define PER_WRITER 12

static atomic_int write_failures, writers_done;

static void *writer(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_WRITER; i++) {
        char body[160];
        snprintf(body, sizeof body,
                 "{\"title\":\"Order %d\",\"description\":\"Concurrent.\","
                 "\"customer\":{\"name\":\"W\"}}",
                 i);
        struct h_resp *r =
            h_req(&srv, "POST", "/v1/complaints", &(struct h_opts){.key = agent_key, .body = body});
        if (r->status != 201) {
            atomic_fetch_add(&write_failures, 1);
            h_resp_free(r);
            continue;
        }
        int64_t id = json_integer_value(json_object_get(r->json, "id"));
        h_resp_free(r);
        char path[96];
        snprintf(path, sizeof path, "/v1/complaints/%lld/transitions", (long long)id);
        r = h_req(&srv, "POST", path,
                  &(struct h_opts){.key = agent_key, .body = "{\"action\":\"acknowledge\"}"});
        if (r->status != 200)
            atomic_fetch_add(&write_failures, 1);
        h_resp_free(r);
    }
    atomic_fetch_add(&writers_done, 1);
    return NULL;
}

/* A transaction that takes its change id first and commits last: its
 * change must still reach a reader that has read past later ones. */
struct late {
    const char *url;
    int64_t complaint;
    _Atomic int64_t change_id;
    atomic_int ok;
};

static void *late_writer(void *arg)
{
    struct late *l = arg;
    PGconn *pg = PQconnectdb(l->url);
    if (PQstatus(pg) != CONNECTION_OK)
        goto out;
    char sql[768];
    snprintf(sql, sizeof sql,
             "BEGIN; WITH e AS (INSERT INTO complaint_events (complaint_id, kind, actor_role, data)"
             " VALUES (%lld, 'note_added', 'system', '{}') RETURNING id, kind)"
             " INSERT INTO changes (id, type, complaint_id, event_id)"
             " SELECT (pg_current_xact_id()::text::bigint << 20) + 1, 'complaint.' || kind, %lld,"
             " id FROM e",
             (long long)l->complaint, (long long)l->complaint);
    PGresult *r = PQexec(pg, sql);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok)
        goto out;
    r = PQexec(pg, "SELECT (pg_current_xact_id()::text::bigint << 20) + 1");
    atomic_store(&l->change_id,
                 PQresultStatus(r) == PGRES_TUPLES_OK ? atoll(PQgetvalue(r, 0, 0)) : 0);
    PQclear(r);
    /* Hold it open while the writers commit changes with larger ids. */
    while (atomic_load(&writers_done) < WRITERS / 2)
        h_sleep_ms(20);
    h_sleep_ms(300);
    r = PQexec(pg, "COMMIT");
    atomic_store(&l->ok, PQresultStatus(r) == PGRES_COMMAND_OK);
    PQclear(r);
out:
    PQfinish(pg);
    return NULL;
}

static void a_reader_resuming_after_its_last_id_misses_nothing(void **state)
{
    int64_t start = end_now();
    int64_t subject = h_make_complaint(&srv, agent_key, NULL);
    struct late late = {.url = srv.db_url, .complaint = subject, .change_id = 0, .ok = 0};
    pthread_t th[WRITERS], lt;
    atomic_store(&write_failures, 0);
    atomic_store(&writers_done, 0);
    assert_int_equal(pthread_create(&lt, NULL, late_writer, &late), 0);
    h_sleep_ms(100); /* it has its id before the writers start */
    for (int i = 0; i < WRITERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, writer, NULL), 0);

    /* Read as a client would, after the last id seen, while they write. */
    size_t cap = 4096, n = 0;
    int64_t *seen = calloc(cap, sizeof *seen), after = start;
    assert_non_null(seen);
    /* the subject's creation, each writer's creates and acknowledges, the late one */
    const size_t total = 1 + 2 * WRITERS * PER_WRITER + 1;
    int64_t deadline = h_real_ms() + 60000;
    bool late_seen_before_commit = false;
    /* Until the writers are done and every change has settled (a few
     * more empty reads then, for anything beyond what was written). */
    for (int quiet = 0; quiet < 3 && h_real_ms() < deadline;) {
        char q[64];
        snprintf(q, sizeof q, "after=%lld&limit=200", (long long)after);
        json_t *j = changes(q);
        size_t i;
        json_t *ch;
        json_array_foreach (json_object_get(j, "items"), i, ch) {
            assert_true(n < cap);
            seen[n++] = h_jint(ch, "id");
            if (h_jint(ch, "id") == atomic_load(&late.change_id) && !atomic_load(&late.ok))
                late_seen_before_commit = true;
        }
        after = h_jint(j, "next_after");
        bool empty = json_array_size(json_object_get(j, "items")) == 0;
        json_decref(j);
        bool all_done = atomic_load(&writers_done) == WRITERS && atomic_load(&late.ok);
        quiet = empty && all_done && n >= total ? quiet + 1 : 0;
        if (empty)
            h_sleep_ms(10);
    }
    for (int i = 0; i < WRITERS; i++)
        pthread_join(th[i], NULL);
    pthread_join(lt, NULL);
    assert_int_equal(atomic_load(&write_failures), 0);
    assert_true(atomic_load(&late.ok));
    assert_false(late_seen_before_commit);
    int64_t late_id = atomic_load(&late.change_id);

    /* Strictly increasing, and exactly the log as it stands. */
    for (size_t i = 1; i < n; i++)
        assert_true(seen[i] > seen[i - 1]);
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT id::text FROM changes WHERE id > %lld ORDER BY id",
             (long long)start);
    json_t *rows = h_sql(&srv, sql);
    size_t want = json_array_size(rows);
    assert_int_equal(want, total);
    assert_int_equal(n, want);
    bool late_found = false;
    for (size_t i = 0; i < want; i++) {
        int64_t id = atoll(json_string_value(json_array_get(json_array_get(rows, i), 0)));
        assert_int_equal(seen[i], id);
        late_found |= id == late_id;
    }
    assert_true(late_found);
    /* It was taken first and committed last, yet read in its place. */
    assert_true(late_id < seen[n - 1]);
    json_decref(rows);
    free(seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_change_in_order_with_the_complaint_state),
        cmocka_unit_test(alerts_are_changes_too),
        cmocka_unit_test(pages_follow_next_after),
        cmocka_unit_test(bad_input_is_named),
        cmocka_unit_test(a_reader_resuming_after_its_last_id_misses_nothing),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    return rc | h_exit_status();
}
