/*
 * Three server processes on one database raise every SLA alert exactly
 * once. A policy with a 1-minute first response, a 2-minute resolution
 * and warnings at 10/30/60 % applies to everything; 300 complaints are
 * created over 20 s through the three servers in turn, so the alert
 * moments are staggered. Once the last resolution breach is due (plus a
 * margin), every complaint must have warnings 1, 2, 3 and one breach for
 * each target, each at its moment and within 2 s of it (the servers'
 * shared test clock skips the stretches with no moment in them; every
 * moment itself comes in real time), each with exactly
 * one timeline event; the work must have been shared (at least two
 * processes raised alerts) and the processes' counters must add up.
 */
#include "harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NSERVERS 3
#define NCOMPLAINTS 300
#define SPREAD_MS 20000
#define NCLIENTS 6
#define ALERTS_PER_COMPLAINT 8 /* 2 targets x (3 warnings + 1 breach) */
#define MAX_LAG_MS 2000
#define MARGIN_MS 3000 /* after the last breach is due */
#define GRACE_MS 12000 /* further wait for missing alerts before failing */

static struct h_server srv[NSERVERS];
static const char *const srv_name[NSERVERS] = {"A", "B", "C"};

static int64_t ids[NCOMPLAINTS];
static long create_status[NCOMPLAINTS];

static int setup(void **state)
{
    (void)state;
    h_server_start(&srv[0], NULL);
    for (int i = 1; i < NSERVERS; i++)
        h_server_spawn_beside(&srv[i], &srv[0], srv_name[i]);
    return 0;
}

/* Stops whatever is still running (all are signalled first, so a failed
 * stop cannot leave the others behind), then drops the database. */
static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < NSERVERS; i++)
        if (srv[i].pid > 0)
            kill(srv[i].pid, SIGTERM);
    for (int i = NSERVERS - 1; i >= 1; i--)
        if (srv[i].pid > 0)
            h_server_stop(&srv[i], false);
    h_server_stop(&srv[0], true);
    return 0;
}

/* ---- helpers ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- creating the complaints ---- */

struct client {
    int index;
    int64_t t0;
};

/* Client k creates complaints k, k + NCLIENTS, ... each at its moment,
 * through server (complaint index mod NSERVERS). No cmocka asserts in
 * threads: results are checked after the join. */
static void *client_run(void *arg)
{
    const struct client *c = arg;
    for (int i = c->index; i < NCOMPLAINTS; i += NCLIENTS) {
        int64_t at = c->t0 + (int64_t)i * SPREAD_MS / NCOMPLAINTS;
        int64_t wait = at - now_ms();
        if (wait > 0)
            h_sleep_ms((long)wait);
        char body[256];
        snprintf(body, sizeof body,
                 "{\"title\":\"multiprocess %d\",\"description\":\"staggered SLA deadlines\","
                 "\"customer\":{\"name\":\"Customer %d\"}}",
                 i, i);
        struct h_resp *r = h_admin(&srv[i % NSERVERS], "POST", "/v1/complaints", body);
        create_status[i] = r->status;
        ids[i] = r->status == 201 ? h_jint(r->json, "id") : 0;
        if (r->status != 201)
            fprintf(stderr, "create %d via %s: %ld %s\n", i, srv_name[i % NSERVERS], r->status,
                    r->body);
        h_resp_free(r);
    }
    return NULL;
}

static void create_complaints(void)
{
    pthread_t th[NCLIENTS];
    struct client cl[NCLIENTS];
    int64_t t0 = now_ms();
    for (int k = 0; k < NCLIENTS; k++) {
        cl[k] = (struct client){k, t0};
        assert_int_equal(pthread_create(&th[k], NULL, client_run, &cl[k]), 0);
    }
    for (int k = 0; k < NCLIENTS; k++)
        assert_int_equal(pthread_join(th[k], NULL), 0);
    for (int i = 0; i < NCOMPLAINTS; i++)
        assert_int_equal(create_status[i], 201);
    print_message("created %d complaints through %d servers in %.1f s\n", NCOMPLAINTS, NSERVERS,
                  (double)(now_ms() - t0) / 1000.0);
}

/* ---- checks through the API ---- */

/* Index of a complaint id in ids[], or -1. */
static int complaint_index(int64_t id)
{
    for (int i = 0; i < NCOMPLAINTS; i++)
        if (ids[i] == id)
            return i;
    return -1;
}

/* Bit of an alert in a complaint's set: target (0 first response, 1
 * resolution) x {breach, level 1, 2, 3}. */
static int alert_bit(const char *target, const char *kind, int64_t level)
{
    int t, k;
    if (strcmp(target, "first_response") == 0)
        t = 0;
    else if (strcmp(target, "resolution") == 0)
        t = 1;
    else
        return -1;
    if (strcmp(kind, "sla_breach") == 0 && level == 0)
        k = 0;
    else if (strcmp(kind, "sla_warning") == 0 && level >= 1 && level <= 3)
        k = (int)level;
    else
        return -1;
    return t * 4 + k;
}

/* GET /v1/alerts?state=all, every page: each complaint has each of its
 * eight alerts once. */
static void check_alerts_api(void)
{
    static unsigned seen[NCOMPLAINTS];
    char path[256], cursor[200] = "";
    size_t total = 0, pages = 0;
    int bad = 0;

    memset(seen, 0, sizeof seen);
    for (;;) {
        snprintf(path, sizeof path, "/v1/alerts?state=all&limit=200%s%s",
                 cursor[0] ? "&cursor=" : "", cursor);
        struct h_resp *r = h_admin(&srv[pages % NSERVERS], "GET", path, NULL);
        assert_int_equal(r->status, 200);
        size_t i;
        json_t *a;
        json_array_foreach (json_object_get(r->json, "items"), i, a) {
            int ci = complaint_index(h_jint(a, "complaint_id"));
            int bit =
                alert_bit(h_jstr_must(a, "target"), h_jstr_must(a, "kind"), h_jint(a, "level"));
            if (ci < 0 || bit < 0 || h_jint(a, "cycle") != 1 || (seen[ci] & (1u << bit))) {
                char *d = json_dumps(a, JSON_COMPACT);
                fprintf(stderr, "unexpected or repeated alert: %s\n", d ? d : "?");
                free(d);
                bad++;
                continue;
            }
            seen[ci] |= 1u << bit;
            total++;
        }
        const char *next = json_string_value(json_object_get(r->json, "next_cursor"));
        snprintf(cursor, sizeof cursor, "%s", next ? next : "");
        h_resp_free(r);
        pages++;
        if (!cursor[0])
            break;
        assert_true(pages < 100);
    }
    int incomplete = 0;
    for (int i = 0; i < NCOMPLAINTS; i++)
        if (seen[i] != 0xffu) {
            if (incomplete++ < 10)
                fprintf(stderr, "complaint %lld: alerts seen by the API 0x%02x, want 0xff\n",
                        (long long)ids[i], seen[i]);
        }
    print_message("API /v1/alerts: %zu alerts in %zu pages, %d unexpected/repeated, %d complaints"
                  " incomplete\n",
                  total, pages, bad, incomplete);
    assert_int_equal(bad, 0);
    assert_int_equal(incomplete, 0);
    assert_int_equal(total, NCOMPLAINTS * ALERTS_PER_COMPLAINT);
}

/* GET /v1/complaints/{id}/events for every complaint (through the three
 * servers in turn): exactly one timeline event per alert. */
static void check_timelines_api(void)
{
    int bad = 0;
    for (int i = 0; i < NCOMPLAINTS; i++) {
        char path[96];
        unsigned seen = 0;
        int dup = 0, other = 0;
        snprintf(path, sizeof path, "/v1/complaints/%lld/events?limit=200", (long long)ids[i]);
        struct h_resp *r = h_admin(&srv[i % NSERVERS], "GET", path, NULL);
        assert_int_equal(r->status, 200);
        size_t k;
        json_t *ev;
        json_array_foreach (json_object_get(r->json, "items"), k, ev) {
            const char *kind = h_jstr_must(ev, "kind");
            const json_t *d = json_object_get(ev, "data");
            int bit;
            if (strcmp(kind, "sla_warning") == 0)
                bit = alert_bit(h_jstr_must(d, "target"), "sla_warning", h_jint(d, "level"));
            else if (strcmp(kind, "sla_breached") == 0)
                bit = alert_bit(h_jstr_must(d, "target"), "sla_breach", 0);
            else
                continue;
            if (bit < 0 || !json_is_integer(json_object_get(d, "alert_id")))
                other++;
            else if (seen & (1u << bit))
                dup++;
            else
                seen |= 1u << bit;
        }
        if (seen != 0xffu || dup || other) {
            if (bad < 10)
                fprintf(stderr,
                        "complaint %lld timeline: alert events 0x%02x, %d repeated, %d"
                        " malformed\n",
                        (long long)ids[i], seen, dup, other);
            bad++;
        }
        h_resp_free(r);
    }
    print_message("API timelines: %d of %d complaints without exactly one event per alert\n", bad,
                  NCOMPLAINTS);
    assert_int_equal(bad, 0);
}

/* Each process's own count (GET /health/ready, sla_worker.alerts_raised). */
static void check_processes(long long raised)
{
    long long sum = 0;
    int active = 0;
    for (int i = 0; i < NSERVERS; i++) {
        struct h_resp *r = h_req(&srv[i], "GET", "/health/ready", NULL);
        assert_int_equal(r->status, 200);
        const json_t *w = json_object_get(r->json, "sla_worker");
        long long n = (long long)h_jint(w, "alerts_raised");
        print_message("server %s (pid %d): alerts_raised %lld, lag_max_ms %lld, status %s\n",
                      srv_name[i], (int)srv[i].pid, n, (long long)h_jint(w, "lag_max_ms"),
                      h_jstr_must(w, "status"));
        assert_string_equal(h_jstr_must(w, "status"), "running");
        sum += n;
        active += n > 0;
        h_resp_free(r);
    }
    print_message("processes that raised alerts: %d of %d; sum of their counts %lld (raised in"
                  " the table %lld)\n",
                  active, NSERVERS, sum, raised);
    assert_int_equal(sum, raised);
    assert_true(active >= 2);
}

/* ---- the test ---- */

static void three_processes_raise_each_alert_once(void **state)
{
    (void)state;
    const long long expected = (long long)NCOMPLAINTS * ALERTS_PER_COMPLAINT;

    /* A catch-all policy ahead of the default one, on the 24x7 calendar. */
    struct h_resp *r = h_admin(&srv[0], "POST", "/v1/sla-policies",
                               "{\"name\":\"Multiprocess\",\"position\":0,\"match\":{},"
                               "\"first_response_minutes\":1,\"resolution_minutes\":2,"
                               "\"warnings\":[{\"percent\":10},{\"percent\":30},{\"percent\":60}],"
                               "\"calendar_id\":1}");
    if (r->status != 201)
        fprintf(stderr, "policy: %ld %s\n", r->status, r->body);
    assert_int_equal(r->status, 201);
    int64_t policy = h_jint(r->json, "id");
    h_resp_free(r);

    create_complaints();
    int64_t created_at = now_ms();

    char sql[1024];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM complaints WHERE sla_policy_id = %lld",
             (long long)policy);
    assert_int_equal(h_sql_int(&srv[0], "%s", sql), NCOMPLAINTS);
    assert_int_equal(h_sql_int(&srv[0], "%s",
                               "SELECT count(*) FROM sla_clocks WHERE cycle = 1 AND"
                               " target_seconds = CASE target WHEN 'first_response' THEN 60"
                               " ELSE 120 END AND next_alert_at IS NOT NULL"),
                     2 * NCOMPLAINTS);

    /* Wait until every moment has come, plus a margin: in real time
     * while moments are near, but with the servers' clock moved over any
     * stretch with none (moments are at most MAX_LAG_MS late, so a jump
     * to 1 s before the next one skips no alert). Each jump's offset is
     * kept: alerts are stamped by PostgreSQL's wall clock. */
    long long left = h_sql_int(&srv[0], "%s",
                               "SELECT ceil(extract(epoch FROM max(due_at) - clock_timestamp())"
                               " * 1000)::bigint FROM sla_clocks WHERE target = 'resolution'");
    print_message("last resolution breach due in %.1f s; waiting\n", (double)left / 1000.0);
    int64_t jump_at[16], jump_off[16]; /* from this moment (s) on, this offset (ms) */
    int njumps = 0;
    for (;;) {
        long long next = h_sql_int(&srv[0], "%s",
                                   "SELECT coalesce(floor(extract(epoch FROM min(next_alert_at))"
                                   " * 1000)::bigint, 0) FROM sla_clocks");
        if (!next)
            break; /* nothing left to raise */
        if (next - h_now_ms() > 3000 && njumps < 16) {
            h_clock_advance_to(&srv[0], next / 1000, 1000);
            for (int i = 1; i < NSERVERS; i++)
                h_clock_wait_pass(&srv[i]);
            jump_at[njumps] = next / 1000;
            jump_off[njumps++] = h_clock_offset_ms();
            continue;
        }
        h_sleep_ms(200);
        if (now_ms() - created_at > left + GRACE_MS)
            break;
    }
    h_sleep_ms(MARGIN_MS);
    long long raised = h_sql_int(&srv[0], "%s", "SELECT count(*) FROM alerts");
    for (int64_t give_up = now_ms() + GRACE_MS; raised < expected && now_ms() < give_up;) {
        h_sleep_ms(500);
        raised = h_sql_int(&srv[0], "%s", "SELECT count(*) FROM alerts");
    }
    print_message("waited %.1f s after the last create; the clock moved %.1f s in %d jumps\n",
                  (double)(now_ms() - created_at) / 1000.0, (double)h_clock_offset_ms() / 1000.0,
                  njumps);
    /* created_at on the servers' clock: the wall clock plus the offset
     * of the last jump before the alert's moment. */
    char created[1024];
    int len = snprintf(created, sizeof created, "(created_at + interval '1 ms' * CASE");
    for (int j = njumps - 1; j >= 0; j--)
        len += snprintf(created + len, sizeof created - (size_t)len,
                        " WHEN scheduled_at >= to_timestamp(%lld) THEN %lld", (long long)jump_at[j],
                        (long long)jump_off[j]);
    snprintf(created + len, sizeof created - (size_t)len, " ELSE 0 END)");

    /* Counts: expected = raised, and no two alerts for one key. */
    long long distinct = h_sql_int(&srv[0], "%s",
                                   "SELECT count(*) FROM (SELECT DISTINCT complaint_id, target,"
                                   " cycle, kind, level FROM alerts) d");
    print_message("alerts: expected %lld, raised %lld, duplicates %lld\n", expected, raised,
                  raised - distinct);
    if (raised != expected) {
        json_t *rows = h_sql(&srv[0], "SELECT target, kind, level, count(*) FROM alerts"
                                      " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3");
        size_t i;
        json_t *row;
        json_array_foreach (rows, i, row) {
            fprintf(stderr, "  %s %s level %s: %s\n", json_string_value(json_array_get(row, 0)),
                    json_string_value(json_array_get(row, 1)),
                    json_string_value(json_array_get(row, 2)),
                    json_string_value(json_array_get(row, 3)));
        }
        json_decref(rows);
    }
    assert_int_equal(raised - distinct, 0);
    assert_int_equal(raised, expected);

    /* Each complaint and target: warnings 1, 2, 3 and one breach, cycle 1. */
    assert_int_equal(
        h_sql_int(&srv[0], "%s",
                  "SELECT count(*) FROM complaints c"
                  " CROSS JOIN (VALUES ('first_response'), ('resolution')) t (target)"
                  " WHERE (SELECT array_agg(a.level ORDER BY a.level) FROM alerts a"
                  "        WHERE a.complaint_id = c.id AND a.target = t.target AND a.cycle = 1"
                  "          AND a.kind = 'sla_warning') IS DISTINCT FROM '{1,2,3}'::int[]"
                  "    OR (SELECT array_agg(a.level) FROM alerts a"
                  "        WHERE a.complaint_id = c.id AND a.target = t.target AND a.cycle = 1"
                  "          AND a.kind = 'sla_breach') IS DISTINCT FROM '{0}'::int[]"),
        0);
    assert_int_equal(h_sql_int(&srv[0], "%s",
                               "SELECT count(*) FROM alerts WHERE cycle <> 1 OR kind NOT IN"
                               " ('sla_warning', 'sla_breach')"),
                     0);

    /* Each at its moment: the breach at due_at = start + target, warning n
     * at start + (10, 30, 60 %) of the target. */
    assert_int_equal(
        h_sql_int(&srv[0], "%s",
                  "SELECT count(*) FROM alerts a JOIN sla_clocks k USING (complaint_id, target,"
                  " cycle) WHERE k.due_at IS DISTINCT FROM k.running_since"
                  "     + make_interval(secs => k.target_seconds)"
                  "  OR a.scheduled_at IS DISTINCT FROM CASE a.kind WHEN 'sla_breach' THEN k.due_at"
                  "     ELSE k.running_since + make_interval(secs => k.target_seconds"
                  "          * (ARRAY[10, 30, 60])[a.level] / 100) END"),
        0);
    /* Every clock has fired everything and has nothing left to plan. */
    assert_int_equal(
        h_sql_int(&srv[0], "%s",
                  "SELECT count(*) FROM sla_clocks WHERE next_alert_at IS NOT NULL"
                  " OR NOT breached OR breach_raised_at IS NULL OR met_at IS NOT NULL"),
        0);

    /* The timeline: exactly one event per alert, naming it, and no others. */
    long long events = h_sql_int(&srv[0], "%s",
                                 "SELECT count(*) FROM complaint_events"
                                 " WHERE kind IN ('sla_warning', 'sla_breached')");
    long long unmatched = h_sql_int(
        &srv[0], "%s",
        "SELECT count(*) FROM alerts a WHERE (SELECT count(*) FROM complaint_events e"
        " WHERE e.complaint_id = a.complaint_id AND e.actor_role = 'system'"
        "   AND e.kind = CASE a.kind WHEN 'sla_breach' THEN 'sla_breached' ELSE 'sla_warning' END"
        "   AND (e.data->>'alert_id')::bigint = a.id AND e.data->>'target' = a.target"
        "   AND coalesce((e.data->>'level')::int, 0) = a.level) <> 1");
    print_message("timeline: %lld alert events for %lld alerts, %lld alerts without exactly one"
                  " event\n",
                  events, raised, unmatched);
    assert_int_equal(unmatched, 0);
    assert_int_equal(events, raised);

    /* Lag from the moment to the insert. */
    char lag_sql[2048];
    snprintf(lag_sql, sizeof lag_sql,
             "SELECT concat_ws(' ', round(percentile_cont(0.5) WITHIN GROUP (ORDER BY l)::numeric,"
             " 1), round(percentile_cont(0.99) WITHIN GROUP (ORDER BY l)::numeric, 1),"
             " round(max(l)::numeric, 1), round(min(l)::numeric, 1))"
             " FROM (SELECT extract(epoch FROM %s - scheduled_at) * 1000 AS l FROM alerts) x",
             created);
    char *lag = h_sql_value(&srv[0], "%s", lag_sql);
    double p50 = 0, p99 = 0, max = 0, min = 0;
    assert_int_equal(sscanf(lag, "%lf %lf %lf %lf", &p50, &p99, &max, &min), 4);
    free(lag);
    print_message("lag (created_at - scheduled_at) over %lld alerts: p50 %.1f ms, p99 %.1f ms,"
                  " max %.1f ms, min %.1f ms\n",
                  raised, p50, p99, max, min);
    assert_true(min >= 0);          /* never before its moment */
    assert_true(max <= MAX_LAG_MS); /* and within 2 s of it */

    /* The same through the API. */
    check_alerts_api();
    check_timelines_api();

    /* The work was shared, and the processes' own counts add up. */
    check_processes(raised);

    /* Each process exits cleanly (0; under ASan also leak-free). */
    for (int i = NSERVERS - 1; i >= 0; i--) {
        h_server_stop(&srv[i], false);
        if (i > 0)
            unlink(srv[i].log_path); /* A's goes with the database in the teardown */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(three_processes_raise_each_alert_once),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
