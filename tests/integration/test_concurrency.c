/*
 * Races through the real server: many clients released at once by a
 * barrier. Idempotent intake (one complaint per key, whatever the
 * interleaving; the rest are replays or 409 while the first is in
 * flight), optimistic locking with If-Match (one winner, the rest 412),
 * the same transition sent many times (one winner, the rest 409, never a
 * 500), and concurrent first responses. Each race ends with the database
 * and the timeline checked for exactly one effect.
 */
#include "harness.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct h_server srv;
static char svc_key[96], svc2_key[96], agent_key[96];

#define MAX_THREADS 32

struct job {
    pthread_barrier_t *start;
    const char *method;
    char path[128];
    const char *key;
    char *body;
    char header[300];
    struct h_resp *resp;
};

static void *run_job(void *arg)
{
    struct job *j = arg;
    struct h_opts o = {
        .key = j->key, .body = j->body, .headers = {j->header[0] ? j->header : NULL}};
    pthread_barrier_wait(j->start);
    j->resp = h_req(&srv, j->method, j->path, &o);
    return NULL;
}

/* Runs n jobs at once; their responses are left in jobs[i].resp. */
static void race(struct job *jobs, int n)
{
    pthread_t th[MAX_THREADS];
    pthread_barrier_t start;
    assert_true(n <= MAX_THREADS);
    assert_int_equal(pthread_barrier_init(&start, NULL, (unsigned)n), 0);
    for (int i = 0; i < n; i++) {
        jobs[i].start = &start;
        jobs[i].resp = NULL;
        assert_int_equal(pthread_create(&th[i], NULL, run_job, &jobs[i]), 0);
    }
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < n; i++)
        assert_non_null(jobs[i].resp);
}

static void free_jobs(struct job *jobs, int n)
{
    for (int i = 0; i < n; i++) {
        h_resp_free(jobs[i].resp);
        jobs[i].resp = NULL;
        free(jobs[i].body);
        jobs[i].body = NULL;
    }
}

/* The single value of a one-row, one-column query, as an integer. */
static int64_t create(const char *title)
{
    json_t *b = json_pack("{s:s, s:s, s:{s:s}}", "title", title, "description", "Race subject.",
                          "customer", "name", "Racer");
    char *text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    struct h_resp *r =
        h_req(&srv, "POST", "/v1/complaints", &(struct h_opts){.key = svc_key, .body = text});
    free(text);
    h_expect_status(r, 201);
    int64_t id = h_jint(r->json, "id");
    h_resp_free(r);
    return id;
}

static void transition(int64_t id, const char *body, const char *want_status)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/complaints/%lld/transitions", (long long)id);
    struct h_resp *r = h_req(&srv, "POST", path, &(struct h_opts){.key = agent_key, .body = body});
    h_expect_status(r, 200);
    assert_string_equal(h_jstr(r->json, "status"), want_status);
    h_resp_free(r);
}

static int setup(void **state)
{
    /* Enough HTTP threads (and connections) for requests to really overlap. */
    static const char *const env[] = {"OMBUD_THREADS=8", "OMBUD_DB_POOL=12", NULL};
    json_object_seed(0);
    h_server_start(&srv, env);
    h_make_key(&srv, "service", svc_key, sizeof svc_key);
    h_make_key(&srv, "service", svc2_key, sizeof svc2_key);
    h_make_key(&srv, "agent", agent_key, sizeof agent_key);
    return 0;
}

static int teardown(void **state)
{
    h_server_stop(&srv, true);
    return 0;
}

/* ---- idempotent intake ---- */

static void idempotency_race(void **state)
{
    enum { N = 16, ROUNDS = 5 };
    static struct job jobs[N];
    char title[64], idem[128], hdr[160], buf[256], loc[128];

    for (int round = 0; round < ROUNDS; round++) {
        snprintf(title, sizeof title, "Idempotent race %d", round);
        snprintf(idem, sizeof idem, "race-%d-%d", (int)getpid(), round);
        snprintf(hdr, sizeof hdr, "Idempotency-Key: %s", idem);
        for (int i = 0; i < N; i++) {
            json_t *b = json_pack("{s:s, s:s, s:{s:s, s:s}, s:[s, s]}", "title", title,
                                  "description", "Sixteen clients, one complaint.", "customer",
                                  "name", "Dup Licate", "external_id", "C-77", "tags", "a", "b");
            /* Key order and spacing differ between clients: still the same body. */
            jobs[i].body = json_dumps(b, i % 2 ? JSON_COMPACT : JSON_INDENT(2) | JSON_SORT_KEYS);
            json_decref(b);
            jobs[i].method = "POST";
            snprintf(jobs[i].path, sizeof jobs[i].path, "/v1/complaints");
            jobs[i].key = svc_key;
            snprintf(jobs[i].header, sizeof jobs[i].header, "%s", hdr);
        }
        race(jobs, N);

        int created = 0, replayed = 0, busy = 0;
        int64_t id = 0;
        const char *first_body = NULL;
        for (int i = 0; i < N; i++) {
            struct h_resp *r = jobs[i].resp;
            if (r->status == 409) {
                h_expect_problem(r, 409);
                assert_string_equal(h_jstr(r->json, "type"), "/problems/idempotency-in-flight");
                busy++;
                continue;
            }
            if (r->status != 201)
                fprintf(stderr, "round %d: %ld %s\n", round, r->status, r->body);
            assert_int_equal(r->status, 201);
            if (h_header(r, "Idempotent-Replayed", buf, sizeof buf)) {
                assert_string_equal(buf, "true");
                replayed++;
            } else {
                created++;
            }
            if (!id) {
                id = h_jint(r->json, "id");
                first_body = r->body;
            }
            assert_int_equal(h_jint(r->json, "id"), id);
            /* The replay is the very same response. */
            assert_string_equal(r->body, first_body);
            snprintf(loc, sizeof loc, "/v1/complaints/%lld", (long long)id);
            assert_string_equal(h_header(r, "Location", buf, sizeof buf), loc);
            assert_string_equal(h_header(r, "ETag", buf, sizeof buf), "\"v1\"");
        }
        assert_int_equal(created + replayed + busy, N);
        assert_int_equal(created, 1);
        assert_true(id > 0);

        /* Exactly one complaint, one created event, one stored response. */
        assert_int_equal(
            h_sql_int(&srv, "SELECT count(*) FROM complaints WHERE title = '%s'", title), 1);
        assert_int_equal(h_sql_int(&srv,
                                   "SELECT count(*) FROM complaint_events WHERE complaint_id = %lld"
                                   " AND kind = 'created'",
                                   (long long)id),
                         1);
        assert_int_equal(h_sql_int(&srv,
                                   "SELECT count(*) FROM idempotency_keys WHERE key = '%s'"
                                   " AND complaint_id = %lld AND response_status = 201"
                                   " AND response_body <> '' AND request_hash ~ '^[0-9a-f]{64}$'",
                                   idem, (long long)id),
                         1);

        /* A later repeat replays. */
        struct h_resp *r =
            h_req(&srv, "POST", "/v1/complaints",
                  &(struct h_opts){.key = svc_key, .body = jobs[1].body, .headers = {hdr}});
        h_expect_status(r, 201);
        assert_string_equal(h_header(r, "Idempotent-Replayed", buf, sizeof buf), "true");
        assert_int_equal(h_jint(r->json, "id"), id);
        assert_string_equal(r->body, first_body);
        h_resp_free(r);
        free_jobs(jobs, N);
        assert_int_equal(
            h_sql_int(&srv, "SELECT count(*) FROM complaints WHERE title = '%s'", title), 1);
    }
}

static void idempotency_race_different_bodies(void **state)
{
    /* The same key with different bodies at once: one complaint; the
     * others are told the key is busy or was used with another body. */
    enum { N = 8 };
    static struct job jobs[N];
    char hdr[160];
    snprintf(hdr, sizeof hdr, "Idempotency-Key: mixed-%d", (int)getpid());
    for (int i = 0; i < N; i++) {
        char title[64];
        snprintf(title, sizeof title, "Mixed body %d", i);
        json_t *b = json_pack("{s:s, s:s, s:{s:s}}", "title", title, "description", "d", "customer",
                              "name", "n");
        jobs[i].body = json_dumps(b, JSON_COMPACT);
        json_decref(b);
        jobs[i].method = "POST";
        snprintf(jobs[i].path, sizeof jobs[i].path, "/v1/complaints");
        jobs[i].key = svc_key;
        snprintf(jobs[i].header, sizeof jobs[i].header, "%s", hdr);
    }
    race(jobs, N);
    int created = 0;
    int winner = -1;
    char buf[64];
    for (int i = 0; i < N; i++) {
        struct h_resp *r = jobs[i].resp;
        if (r->status == 201) {
            /* Only the request whose body matches may see a 201. */
            assert_null(h_header(r, "Idempotent-Replayed", buf, sizeof buf));
            created++;
            winner = i;
        } else if (r->status == 422) {
            h_expect_problem(r, 422);
            assert_string_equal(h_jstr(r->json, "type"), "/problems/idempotency-key-reused");
        } else {
            h_expect_problem(r, 409);
        }
    }
    assert_int_equal(created, 1);
    assert_int_equal(
        h_sql_int(&srv, "SELECT count(*) FROM complaints WHERE title LIKE 'Mixed body %%'"), 1);
    char title[64];
    snprintf(title, sizeof title, "Mixed body %d", winner);
    assert_int_equal(h_sql_int(&srv, "SELECT count(*) FROM complaints WHERE title = '%s'", title),
                     1);
    free_jobs(jobs, N);
}

static void idempotency_keys_are_per_api_key(void **state)
{
    /* Two API keys racing with the same Idempotency-Key: one complaint each. */
    enum { N = 16 };
    static struct job jobs[N];
    char hdr[160], buf[64];
    snprintf(hdr, sizeof hdr, "Idempotency-Key: shared-%d", (int)getpid());
    for (int i = 0; i < N; i++) {
        jobs[i].body = strdup("{\"title\":\"Per key\",\"description\":\"d\","
                              "\"customer\":{\"name\":\"n\"}}");
        jobs[i].method = "POST";
        snprintf(jobs[i].path, sizeof jobs[i].path, "/v1/complaints");
        jobs[i].key = i % 2 ? svc_key : svc2_key;
        snprintf(jobs[i].header, sizeof jobs[i].header, "%s", hdr);
    }
    race(jobs, N);
    int64_t id_of[2] = {0, 0};
    int created[2] = {0, 0};
    for (int i = 0; i < N; i++) {
        struct h_resp *r = jobs[i].resp;
        int k = i % 2;
        if (r->status == 409) {
            h_expect_problem(r, 409);
            continue;
        }
        h_expect_status(r, 201);
        if (!h_header(r, "Idempotent-Replayed", buf, sizeof buf))
            created[k]++;
        if (!id_of[k])
            id_of[k] = h_jint(r->json, "id");
        assert_int_equal(h_jint(r->json, "id"), id_of[k]);
    }
    assert_int_equal(created[0], 1);
    assert_int_equal(created[1], 1);
    assert_true(id_of[0] != id_of[1]);
    assert_int_equal(h_sql_int(&srv, "SELECT count(*) FROM complaints WHERE title = 'Per key'"), 2);
    assert_int_equal(h_sql_int(&srv,
                               "SELECT count(DISTINCT api_key_id) FROM idempotency_keys"
                               " WHERE key = 'shared-%d'",
                               (int)getpid()),
                     2);
    free_jobs(jobs, N);
}

static struct h_resp *post_idem(const char *key, const char *body, const char *idem)
{
    char hdr[400];
    snprintf(hdr, sizeof hdr, "Idempotency-Key: %s", idem);
    return h_req(&srv, "POST", "/v1/complaints",
                 &(struct h_opts){.key = key, .body = body, .headers = {hdr}});
}

static void idempotency_rules(void **state)
{
    const char *body = "{\"title\":\"Rules\",\"description\":\"d\",\"customer\":{\"name\":\"n\"}}";
    const char *same = "{ \"customer\" : { \"name\" : \"n\" },\n \"description\" : \"d\","
                       " \"title\" : \"Rules\" }";
    const char *other = "{\"title\":\"Rules\",\"description\":\"e\",\"customer\":{\"name\":\"n\"}}";
    char key[300], buf[64];

    /* At most 255 characters. */
    memset(key, 'k', 256);
    key[256] = '\0';
    struct h_resp *r = post_idem(svc_key, body, key);
    h_expect_problem(r, 422);
    assert_true(h_problem_has_field(r, "Idempotency-Key"));
    h_resp_free(r);
    key[255] = '\0';
    r = post_idem(svc_key, body, key);
    h_expect_status(r, 201);
    h_resp_free(r);
    assert_int_equal(h_sql_int(&srv, "SELECT count(*) FROM complaints WHERE title = 'Rules'"), 1);

    /* Another body under a used key is a 422 and creates nothing. */
    r = post_idem(svc_key, other, key);
    h_expect_problem(r, 422);
    assert_string_equal(h_jstr(r->json, "type"), "/problems/idempotency-key-reused");
    h_resp_free(r);
    /* The same JSON value written differently is the same body. */
    r = post_idem(svc_key, same, key);
    h_expect_status(r, 201);
    assert_string_equal(h_header(r, "Idempotent-Replayed", buf, sizeof buf), "true");
    int64_t first = h_jint(r->json, "id");
    h_resp_free(r);
    assert_int_equal(h_sql_int(&srv, "SELECT count(*) FROM complaints WHERE title = 'Rules'"), 1);

    /* A body that fails validation stores nothing under the key. */
    r = post_idem(svc_key, "{\"title\":\"\"}", "invalid-first");
    h_expect_problem(r, 422);
    h_resp_free(r);
    assert_int_equal(
        h_sql_int(&srv, "SELECT count(*) FROM idempotency_keys WHERE key = 'invalid-first'"), 0);
    r = post_idem(svc_key, body, "invalid-first");
    h_expect_status(r, 201);
    assert_null(h_header(r, "Idempotent-Replayed", buf, sizeof buf));
    h_resp_free(r);

    /* Kept 24 hours: a day-old record no longer replays. */
    json_t *rows =
        h_sql(&srv, "UPDATE idempotency_keys SET created_at = now() - interval '23 hours'"
                    " WHERE char_length(key) = 255");
    json_decref(rows);
    r = post_idem(svc_key, body, key);
    h_expect_status(r, 201);
    assert_string_equal(h_header(r, "Idempotent-Replayed", buf, sizeof buf), "true");
    assert_int_equal(h_jint(r->json, "id"), first);
    h_resp_free(r);
    rows = h_sql(&srv, "UPDATE idempotency_keys SET created_at = now() - interval '25 hours'"
                       " WHERE char_length(key) = 255");
    json_decref(rows);
    r = post_idem(svc_key, other, key);
    h_expect_status(r, 201);
    assert_null(h_header(r, "Idempotent-Replayed", buf, sizeof buf));
    int64_t second = h_jint(r->json, "id");
    assert_true(second != first);
    h_resp_free(r);
    r = post_idem(svc_key, other, key);
    h_expect_status(r, 201);
    assert_string_equal(h_header(r, "Idempotent-Replayed", buf, sizeof buf), "true");
    assert_int_equal(h_jint(r->json, "id"), second);
    h_resp_free(r);
    assert_int_equal(h_sql_int(&srv,
                               "SELECT count(*) FROM idempotency_keys WHERE char_length(key) = 255"
                               " AND complaint_id = %lld",
                               (long long)second),
                     1);
}

/* ---- If-Match ---- */

static void if_match_race(void **state)
{
    enum { N = 8, ROUNDS = 3 };
    static struct job jobs[N];
    for (int round = 0; round < ROUNDS; round++) {
        int64_t id = create("If-Match race");
        json_t *evs0 = h_events(&srv, id);
        size_t updated0 = h_count_events(evs0, "updated");
        json_decref(evs0);
        for (int i = 0; i < N; i++) {
            char b[96];
            snprintf(b, sizeof b, "{\"title\":\"Title from writer %d\"}", i);
            jobs[i].body = strdup(b);
            jobs[i].method = "PATCH";
            snprintf(jobs[i].path, sizeof jobs[i].path, "/v1/complaints/%lld", (long long)id);
            jobs[i].key = agent_key;
            snprintf(jobs[i].header, sizeof jobs[i].header, "If-Match: \"v1\"");
        }
        race(jobs, N);
        int ok = 0, winner = -1;
        char buf[64];
        for (int i = 0; i < N; i++) {
            struct h_resp *r = jobs[i].resp;
            if (r->status == 200) {
                ok++;
                winner = i;
                assert_int_equal(h_jint(r->json, "version"), 2);
                assert_string_equal(h_header(r, "ETag", buf, sizeof buf), "\"v2\"");
            } else {
                h_expect_problem(r, 412);
            }
        }
        assert_int_equal(ok, 1);
        char want[64];
        snprintf(want, sizeof want, "Title from writer %d", winner);
        char path[64];
        snprintf(path, sizeof path, "/v1/complaints/%lld", (long long)id);
        struct h_resp *r = h_req(&srv, "GET", path, &(struct h_opts){.key = agent_key});
        h_expect_status(r, 200);
        assert_int_equal(h_jint(r->json, "version"), 2);
        assert_string_equal(h_jstr(r->json, "title"), want);
        h_resp_free(r);

        json_t *evs = h_events(&srv, id);
        assert_int_equal(h_count_events(evs, "updated") - updated0, 1);
        json_t *last = json_array_get(evs, json_array_size(evs) - 1);
        assert_string_equal(h_jstr(last, "kind"), "updated");
        json_t *change =
            json_object_get(json_object_get(json_object_get(last, "data"), "changes"), "title");
        assert_string_equal(h_jstr(change, "from"), "If-Match race");
        assert_string_equal(h_jstr(change, "to"), want);
        json_decref(evs);
        free_jobs(jobs, N);
    }
}

/* ---- the same transition at once ---- */

static void transition_race(void **state)
{
    enum { N = 8, ROUNDS = 3 };
    static struct job jobs[N];
    for (int round = 0; round < ROUNDS; round++) {
        int64_t id = create("Transition race");
        transition(id, "{\"action\":\"start\"}", "in_progress");
        for (int i = 0; i < N; i++) {
            char b[160];
            snprintf(b, sizeof b,
                     "{\"action\":\"resolve\",\"resolution\":{\"summary\":\"Resolver %d\"}}", i);
            jobs[i].body = strdup(b);
            jobs[i].method = "POST";
            snprintf(jobs[i].path, sizeof jobs[i].path, "/v1/complaints/%lld/transitions",
                     (long long)id);
            jobs[i].key = agent_key;
            jobs[i].header[0] = '\0';
        }
        race(jobs, N);
        int ok = 0, winner = -1;
        for (int i = 0; i < N; i++) {
            struct h_resp *r = jobs[i].resp;
            if (r->status == 200) {
                ok++;
                winner = i;
                assert_string_equal(h_jstr(r->json, "status"), "resolved");
                assert_int_equal(h_jint(r->json, "version"), 3);
                continue;
            }
            if (r->status != 409)
                fprintf(stderr, "round %d: %ld %s\n", round, r->status, r->body);
            h_expect_problem(r, 409);
            assert_string_equal(h_jstr(r->json, "type"), "/problems/transition-not-allowed");
            json_t *allowed = json_object_get(r->json, "allowed_actions");
            assert_int_equal(json_array_size(allowed), 2);
            assert_string_equal(json_string_value(json_array_get(allowed, 0)), "close");
            assert_string_equal(json_string_value(json_array_get(allowed, 1)), "reopen");
        }
        assert_int_equal(ok, 1);

        char want[64];
        snprintf(want, sizeof want, "Resolver %d", winner);
        char path[64];
        snprintf(path, sizeof path, "/v1/complaints/%lld", (long long)id);
        struct h_resp *r = h_req(&srv, "GET", path, &(struct h_opts){.key = agent_key});
        h_expect_status(r, 200);
        assert_string_equal(h_jstr(r->json, "status"), "resolved");
        assert_int_equal(h_jint(r->json, "version"), 3);
        assert_string_equal(h_jstr(json_object_get(r->json, "resolution"), "summary"), want);
        h_resp_free(r);

        /* The timeline: created, start, one resolve. */
        json_t *evs = h_events(&srv, id);
        assert_int_equal(json_array_size(evs), 3);
        assert_string_equal(h_jstr(json_array_get(evs, 0), "kind"), "created");
        json_t *d = json_object_get(json_array_get(evs, 1), "data");
        assert_string_equal(h_jstr(d, "action"), "start");
        d = json_object_get(json_array_get(evs, 2), "data");
        assert_string_equal(h_jstr(json_array_get(evs, 2), "kind"), "status_changed");
        assert_string_equal(h_jstr(d, "action"), "resolve");
        assert_string_equal(h_jstr(d, "from"), "in_progress");
        assert_string_equal(h_jstr(d, "to"), "resolved");
        assert_string_equal(h_jstr(json_object_get(d, "resolution"), "summary"), want);
        json_decref(evs);
        assert_int_equal(h_sql_int(&srv,
                                   "SELECT count(*) FROM complaint_events WHERE complaint_id = %lld"
                                   " AND kind = 'status_changed' AND data->>'to' = 'resolved'",
                                   (long long)id),
                         1);
        free_jobs(jobs, N);
    }
}

static void withdraw_and_resolve_race(void **state)
{
    /* Different actions that each close the way for the others: one wins. */
    enum { N = 8 };
    static struct job jobs[N];
    int64_t id = create("Withdraw or resolve");
    transition(id, "{\"action\":\"acknowledge\"}", "acknowledged");
    for (int i = 0; i < N; i++) {
        jobs[i].body =
            strdup(i % 2 ? "{\"action\":\"withdraw\",\"note\":\"Changed my mind.\"}"
                         : "{\"action\":\"resolve\",\"resolution\":{\"summary\":\"s\"}}");
        jobs[i].method = "POST";
        snprintf(jobs[i].path, sizeof jobs[i].path, "/v1/complaints/%lld/transitions",
                 (long long)id);
        jobs[i].key = agent_key;
        jobs[i].header[0] = '\0';
    }
    race(jobs, N);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        if (jobs[i].resp->status == 200)
            ok++;
        else
            h_expect_problem(jobs[i].resp, 409);
    }
    assert_int_equal(ok, 1);
    json_t *evs = h_events(&srv, id);
    assert_int_equal(h_count_events(evs, "status_changed"), 2);
    /* A losing withdraw leaves no note behind. */
    long long notes = h_sql_int(
        &srv, "SELECT count(*) FROM complaint_notes WHERE complaint_id = %lld", (long long)id);
    assert_int_equal(h_count_events(evs, "note_added"), notes);
    assert_true(notes <= 1);
    json_decref(evs);
    free_jobs(jobs, N);
}

/* ---- concurrent first responses ---- */

static void concurrent_public_notes(void **state)
{
    enum { N = 8 };
    static struct job jobs[N];
    int64_t id = create("Many first responses");
    for (int i = 0; i < N; i++) {
        char b[96];
        snprintf(b, sizeof b, "{\"body\":\"Answer %d\",\"visibility\":\"public\"}", i);
        jobs[i].body = strdup(b);
        jobs[i].method = "POST";
        snprintf(jobs[i].path, sizeof jobs[i].path, "/v1/complaints/%lld/notes", (long long)id);
        jobs[i].key = agent_key;
        jobs[i].header[0] = '\0';
    }
    race(jobs, N);
    int64_t ids[N];
    for (int i = 0; i < N; i++) {
        h_expect_status(jobs[i].resp, 201);
        ids[i] = h_jint(jobs[i].resp->json, "id");
        for (int k = 0; k < i; k++)
            assert_true(ids[k] != ids[i]);
    }
    /* The first response was recorded once: one save, one version. */
    char path[64];
    snprintf(path, sizeof path, "/v1/complaints/%lld", (long long)id);
    struct h_resp *r = h_req(&srv, "GET", path, &(struct h_opts){.key = agent_key});
    h_expect_status(r, 200);
    assert_true(json_is_string(json_object_get(r->json, "first_response_at")));
    assert_int_equal(h_jint(r->json, "version"), 2);
    h_resp_free(r);
    assert_int_equal(h_sql_int(&srv,
                               "SELECT count(*) FROM complaint_notes WHERE complaint_id = %lld",
                               (long long)id),
                     N);
    json_t *evs = h_events(&srv, id);
    assert_int_equal(h_count_events(evs, "note_added"), N);
    /* Timeline order is note id order. */
    size_t i;
    json_t *ev;
    int64_t last = 0;
    json_array_foreach (evs, i, ev) {
        if (strcmp(h_jstr(ev, "kind"), "note_added") != 0)
            continue;
        int64_t nid = h_jint(json_object_get(ev, "data"), "note_id");
        assert_true(nid > last);
        last = nid;
    }
    json_decref(evs);
    free_jobs(jobs, N);
}

/* Last: SIGTERM must give exit 0, which under ASan also means nothing
 * leaked. Done as a test, not only in the group teardown, so that a
 * failure here fails the run. */
static void server_stops_cleanly(void **state)
{
    h_server_stop(&srv, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(idempotency_race),
        cmocka_unit_test(idempotency_race_different_bodies),
        cmocka_unit_test(idempotency_keys_are_per_api_key),
        cmocka_unit_test(idempotency_rules),
        cmocka_unit_test(if_match_race),
        cmocka_unit_test(transition_race),
        cmocka_unit_test(withdraw_and_resolve_race),
        cmocka_unit_test(concurrent_public_notes),
        cmocka_unit_test(server_stops_cleanly),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
