/*
 * Three server processes on one database fire every escalation rule
 * exactly once per complaint (API.md "Escalation and assignment"). A
 * catch-all policy gives a 2-minute first response warned at half; three
 * rules watch every complaint:
 *   B  created, 1 minute later: priority high        (due at +60 s)
 *   C  first-response warning, 1 minute later:
 *      priority urgent, notify                         (due at +120 s)
 *   A  first-response breach, at once: up a level,
 *      notify                                          (due at +120 s)
 * Each is a pending run that the workers of the three processes claim
 * FOR UPDATE SKIP LOCKED, one transaction each; C and A are scheduled by
 * whichever process raised the SLA alert. 300 complaints are created over
 * 8 s through the three servers in turn, so the moments are staggered.
 *
 * Once every run is done, each (rule, complaint) must have exactly one
 * run, fired, at its due moment; exactly one timeline event by the rule
 * (`updated` for B and C, `escalated` for A) and, for A and C, exactly one
 * `escalation` alert; nothing skipped; every complaint urgent at level 1.
 * The same is read back through the API of the three servers. Which
 * process fired a run is not recorded anywhere; what can be shown is that
 * the SLA alerts triggering C and A were raised (and their runs
 * scheduled) by at least two processes, from their own counts.
 *
 * The lag of each run, from its due_at (the servers' clock) to its
 * done_at (PostgreSQL's now() in the transaction that fired it, the wall
 * clock), is printed as p50 / p99 / max and must be at most 2 s. The
 * servers' clock skips the stretches with no moment in them (every
 * moment itself comes in real time), so each done_at is moved onto the
 * servers' clock by the offset in force at that wall-clock instant: each
 * jump's offset counts from the wall-clock time just before it was made.
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
#define SPREAD_MS 8000
#define NCLIENTS 6
#define NRULES 3
#define MAX_LAG_MS 2000
#define GRACE_MS 10000 /* after the last moment, further wait before failing */
#define MAX_JUMPS 8

static struct h_server srv[NSERVERS];
static const char *const srv_name[NSERVERS] = {"A", "B", "C"};

static int64_t ids[NCOMPLAINTS];
static long create_status[NCOMPLAINTS];

/* The rules, in position order, and what each writes. */
static struct rule {
    const char *label;
    int64_t id;
    const char *event; /* its timeline event's kind */
    bool notify;
} rules[NRULES] = {
    {"B created+1min priority high", 0, "updated", false},
    {"C warning+1min priority urgent, notify", 0, "updated", true},
    {"A breach raise_level, notify", 0, "escalated", true},
};
enum { RULE_B, RULE_C, RULE_A };

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

static int64_t make_rule(json_t *body)
{
    struct h_resp *r =
        h_call_json(&srv[0], "POST", "/v1/escalation-rules", srv[0].admin_key, body, NULL);
    h_expect_status(r, 201);
    int64_t id = h_jint(r->json, "id");
    h_resp_free(r);
    return id;
}

/* Index of a rule id in rules[], or -1. */
static int rule_index(int64_t id)
{
    for (int k = 0; k < NRULES; k++)
        if (rules[k].id == id)
            return k;
    return -1;
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
                 "{\"title\":\"rules multiprocess %d\",\"description\":\"staggered rule moments\","
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

/* ---- waiting, with the servers' clock skipping the empty stretches ---- */

static int64_t jump_wall_ms[MAX_JUMPS], jump_off_ms[MAX_JUMPS];
static int njumps;

/* Waits until every run is done (3 per complaint, A's written at the
 * breach), in real time while moments are near, moving the servers'
 * clock to 1 s before the next moment (an SLA alert of first response or
 * a pending run) when it is more than 3 s away. Nothing is due within 3 s
 * of a jump, so no run is fired around one. */
static long long wait_for_runs(void)
{
    const long long expected = (long long)NRULES * NCOMPLAINTS;
    int64_t last_moment =
        h_sql_int(&srv[0], "%s",
                  "SELECT floor(extract(epoch FROM max(due_at)) * 1000)::bigint FROM sla_clocks"
                  " WHERE target = 'first_response'");
    int64_t started = now_ms();
    long long done = 0;
    for (;;) {
        done = h_sql_int(&srv[0], "%s",
                         "SELECT count(*) FROM escalation_rule_runs WHERE state <> 'pending'");
        if (done >= expected || h_now_ms() > last_moment + GRACE_MS)
            break;
        long long next = h_sql_int(
            &srv[0], "%s",
            "SELECT coalesce(floor(extract(epoch FROM min(m)) * 1000)::bigint, 0) FROM"
            " (SELECT next_alert_at AS m FROM sla_clocks WHERE target = 'first_response'"
            "  UNION ALL SELECT due_at FROM escalation_rule_runs WHERE state = 'pending') x");
        if (next && next - h_now_ms() > 3000 && njumps < MAX_JUMPS) {
            jump_wall_ms[njumps] = h_real_ms();
            h_clock_advance_to(&srv[0], next / 1000, 1000);
            for (int i = 1; i < NSERVERS; i++)
                h_clock_wait_pass(&srv[i]);
            jump_off_ms[njumps++] = h_clock_offset_ms();
            continue;
        }
        h_sleep_ms(100);
    }
    print_message("waited %.1f s after the last create; the clock moved %.1f s in %d jumps; runs"
                  " done %lld of %lld\n",
                  (double)(now_ms() - started) / 1000.0, (double)h_clock_offset_ms() / 1000.0,
                  njumps, done, expected);
    return done;
}

/* SQL: the wall-clock timestamp column col on the servers' clock. */
static void on_servers_clock(const char *col, char *out, size_t len)
{
    int n = snprintf(out, len, "(%s + interval '1 ms' * CASE", col);
    for (int j = njumps - 1; j >= 0; j--)
        n += snprintf(out + n, len - (size_t)n, " WHEN %s >= to_timestamp(%lld / 1000.0) THEN %lld",
                      col, (long long)jump_wall_ms[j], (long long)jump_off_ms[j]);
    snprintf(out + n, len - (size_t)n, " ELSE 0 END)");
}

/* ---- checks in the tables ---- */

static void check_runs(void)
{
    const long long n = NCOMPLAINTS;
    long long runs = h_sql_int(&srv[0], "%s", "SELECT count(*) FROM escalation_rule_runs");
    long long fired =
        h_sql_int(&srv[0], "%s", "SELECT count(*) FROM escalation_rule_runs WHERE state = 'fired'");
    if (fired != runs || runs != NRULES * n) {
        json_t *rows = h_sql(&srv[0], "SELECT rule_id, state, coalesce(reason, ''), count(*)"
                                      " FROM escalation_rule_runs GROUP BY 1, 2, 3 ORDER BY 1, 2");
        size_t i;
        json_t *row;
        json_array_foreach (rows, i, row)
            fprintf(stderr, "  rule %s %s %s: %s\n", json_string_value(json_array_get(row, 0)),
                    json_string_value(json_array_get(row, 1)),
                    json_string_value(json_array_get(row, 2)),
                    json_string_value(json_array_get(row, 3)));
        json_decref(rows);
    }
    print_message("runs: %lld for %d rules x %lld complaints, %lld fired\n", runs, NRULES, n,
                  fired);
    assert_int_equal(runs, NRULES * n);
    assert_int_equal(fired, NRULES * n);

    /* Exactly one fired run per (rule, complaint), in cycle 1. */
    for (int k = 0; k < NRULES; k++)
        assert_int_equal(h_sql_int(&srv[0],
                                   "SELECT count(*) FROM complaints c WHERE (SELECT count(*)"
                                   " FROM escalation_rule_runs r WHERE r.rule_id = %lld"
                                   " AND r.complaint_id = c.id AND r.cycle = 1"
                                   " AND r.state = 'fired') <> 1",
                                   (long long)rules[k].id),
                         0);

    /* Each due at its moment: B a minute after the create, C a minute
     * after the first-response warning, A at the breach. */
    assert_int_equal(h_sql_int(&srv[0],
                               "SELECT count(*) FROM escalation_rule_runs r"
                               " JOIN complaints c ON c.id = r.complaint_id"
                               " WHERE r.rule_id = %lld AND (r.target <> 'any'"
                               " OR r.due_at <> r.triggered_at + interval '1 minute'"
                               " OR r.triggered_at NOT BETWEEN c.created_at - interval '1 s'"
                               "    AND c.created_at + interval '1 s')",
                               (long long)rules[RULE_B].id),
                     0);
    assert_int_equal(h_sql_int(&srv[0],
                               "SELECT count(*) FROM escalation_rule_runs r"
                               " JOIN sla_clocks k ON k.complaint_id = r.complaint_id"
                               "  AND k.target = 'first_response' AND k.cycle = 1"
                               " WHERE r.rule_id = %lld AND (r.target <> 'first_response'"
                               " OR r.triggered_at <> k.running_since + interval '60 s'"
                               " OR r.due_at <> r.triggered_at + interval '1 minute')",
                               (long long)rules[RULE_C].id),
                     0);
    assert_int_equal(h_sql_int(&srv[0],
                               "SELECT count(*) FROM escalation_rule_runs r"
                               " JOIN sla_clocks k ON k.complaint_id = r.complaint_id"
                               "  AND k.target = 'first_response' AND k.cycle = 1"
                               " WHERE r.rule_id = %lld AND (r.target <> 'first_response'"
                               " OR k.due_at <> k.running_since + interval '120 s'"
                               " OR r.triggered_at <> k.due_at OR r.due_at <> k.due_at)",
                               (long long)rules[RULE_A].id),
                     0);
}

static void check_events_and_alerts(void)
{
    const long long n = NCOMPLAINTS;

    /* The timeline: one event per (rule, complaint), of its kind, and no
     * other event by a rule (no rule_skipped). */
    long long by_rules = h_sql_int(&srv[0], "%s",
                                   "SELECT count(*) FROM complaint_events WHERE actor_role = 'rule'"
                                   " OR actor_rule_id IS NOT NULL");
    long long skipped = h_sql_int(
        &srv[0], "%s", "SELECT count(*) FROM complaint_events WHERE kind = 'rule_skipped'");
    long long off = 0;
    for (int k = 0; k < NRULES; k++)
        off += h_sql_int(&srv[0],
                         "SELECT count(*) FROM complaints c WHERE (SELECT count(*)"
                         " FROM complaint_events e WHERE e.complaint_id = c.id"
                         " AND e.actor_role = 'rule' AND e.actor_rule_id = %lld"
                         " AND e.kind = '%s') <> 1",
                         (long long)rules[k].id, rules[k].event);
    print_message("timeline: %lld events by rules (want %lld), %lld (rule, complaint) pairs"
                  " without exactly one, %lld rule_skipped\n",
                  by_rules, NRULES * n, off, skipped);
    assert_int_equal(off, 0);
    assert_int_equal(skipped, 0);
    assert_int_equal(by_rules, NRULES * n);
    /* What each did: normal -> high, high -> urgent, level 0 -> 1. */
    assert_int_equal(
        h_sql_int(&srv[0],
                  "SELECT count(*) FROM complaint_events WHERE actor_rule_id = %lld"
                  " AND data->'changes'->'priority' = '{\"from\":\"normal\",\"to\":\"high\"}'",
                  (long long)rules[RULE_B].id),
        n);
    assert_int_equal(
        h_sql_int(&srv[0],
                  "SELECT count(*) FROM complaint_events WHERE actor_rule_id = %lld"
                  " AND data->'changes'->'priority' = '{\"from\":\"high\",\"to\":\"urgent\"}'",
                  (long long)rules[RULE_C].id),
        n);
    assert_int_equal(h_sql_int(&srv[0],
                               "SELECT count(*) FROM complaint_events WHERE actor_rule_id = %lld"
                               " AND (data->>'from_level')::int = 0"
                               " AND (data->>'to_level')::int = 1",
                               (long long)rules[RULE_A].id),
                     n);

    /* Escalation alerts: one per notify rule and complaint, at the run's
     * moment; none for B. */
    long long esc =
        h_sql_int(&srv[0], "%s", "SELECT count(*) FROM alerts WHERE kind = 'escalation'");
    long long esc_off = 0;
    for (int k = 0; k < NRULES; k++)
        esc_off +=
            h_sql_int(&srv[0],
                      "SELECT count(*) FROM complaints c WHERE (SELECT count(*) FROM alerts a"
                      " JOIN escalation_rule_runs r ON r.rule_id = a.rule_id"
                      "  AND r.complaint_id = a.complaint_id AND r.cycle = a.cycle"
                      " WHERE a.kind = 'escalation' AND a.complaint_id = c.id"
                      " AND a.rule_id = %lld AND a.cycle = 1"
                      " AND a.target = 'first_response'"
                      " AND a.scheduled_at = r.due_at) <> %d",
                      (long long)rules[k].id, rules[k].notify ? 1 : 0);
    print_message("escalation alerts: %lld (want %lld), %lld (rule, complaint) pairs without"
                  " exactly their one\n",
                  esc, 2 * n, esc_off);
    assert_int_equal(esc_off, 0);
    assert_int_equal(esc, 2 * n);

    /* The SLA alerts that triggered C and A: a warning and a breach of
     * first response each, once. */
    assert_int_equal(h_sql_int(&srv[0], "%s",
                               "SELECT count(*) FROM complaints c WHERE (SELECT count(*)"
                               " FROM alerts a WHERE a.complaint_id = c.id AND a.cycle = 1"
                               " AND a.target = 'first_response' AND a.kind = 'sla_warning'"
                               " AND a.level = 1) <> 1 OR (SELECT count(*) FROM alerts a"
                               " WHERE a.complaint_id = c.id AND a.cycle = 1"
                               " AND a.target = 'first_response' AND a.kind = 'sla_breach') <> 1"),
                     0);

    /* Every complaint ends urgent, one level up, nothing pending. */
    assert_int_equal(h_sql_int(&srv[0], "%s",
                               "SELECT count(*) FROM complaints WHERE priority = 'urgent'"
                               " AND escalation_level = 1"),
                     n);
}

/* Lag from due_at to done_at, both on the servers' clock, over the fired
 * runs (all of them, and per rule). */
static void check_lag(void)
{
    char done[1024], sql[2048];
    on_servers_clock("done_at", done, sizeof done);
    const char *stats = "count(*), round(percentile_cont(0.5) WITHIN GROUP (ORDER BY l)::numeric,"
                        " 1), round(percentile_cont(0.99) WITHIN GROUP (ORDER BY l)::numeric, 1),"
                        " round(max(l)::numeric, 1), round(min(l)::numeric, 1)";
    const char *from = "FROM (SELECT rule_id, extract(epoch FROM %s - due_at) * 1000 AS l"
                       " FROM escalation_rule_runs WHERE state = 'fired') x";
    char from_sql[1536];
    snprintf(from_sql, sizeof from_sql, from, done);

    snprintf(sql, sizeof sql, "SELECT rule_id, %s %s GROUP BY rule_id ORDER BY rule_id", stats,
             from_sql);
    json_t *rows = h_sql(&srv[0], sql);
    size_t i;
    json_t *row;
    json_array_foreach (rows, i, row) {
        int k = rule_index(strtoll(json_string_value(json_array_get(row, 0)), NULL, 10));
        print_message(
            "  lag of rule %s over %s runs: p50 %s ms, p99 %s ms, max %s ms, min %s"
            " ms\n",
            k >= 0 ? rules[k].label : "?", json_string_value(json_array_get(row, 1)),
            json_string_value(json_array_get(row, 2)), json_string_value(json_array_get(row, 3)),
            json_string_value(json_array_get(row, 4)), json_string_value(json_array_get(row, 5)));
    }
    json_decref(rows);

    snprintf(sql, sizeof sql, "SELECT concat_ws(' ', %s) %s", stats, from_sql);
    char *v = h_sql_value(&srv[0], "%s", sql);
    long long count = 0;
    double p50 = 0, p99 = 0, max = 0, min = 0;
    assert_int_equal(sscanf(v, "%lld %lf %lf %lf %lf", &count, &p50, &p99, &max, &min), 5);
    free(v);
    fprintf(stderr,
            "escalation rule lag (due_at -> fired, %d processes, %lld runs over %d complaints):"
            " p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
            NSERVERS, count, NCOMPLAINTS, p50, p99, max);
    assert_int_equal(count, (long long)NRULES * NCOMPLAINTS);
    assert_true(min >= 0);          /* never before its moment */
    assert_true(max <= MAX_LAG_MS); /* and within 2 s of it */
}

/* ---- checks through the API ---- */

/* For every complaint, through the three servers in turn: its timeline
 * has one event by each rule, of the rule's kind; its alerts one
 * escalation alert per notify rule; its rules all fired. */
static void check_api(void)
{
    int bad = 0;
    for (int i = 0; i < NCOMPLAINTS; i++) {
        struct h_server *s = &srv[i % NSERVERS];
        int events[NRULES] = {0}, alerts[NRULES] = {0}, other = 0;
        bool fired[NRULES] = {false};

        json_t *evs = h_events(s, ids[i]);
        size_t k;
        json_t *ev;
        json_array_foreach (evs, k, ev) {
            const json_t *actor = json_object_get(ev, "actor");
            if (strcmp(h_jstr_must(actor, "type"), "rule") != 0)
                continue;
            int r = rule_index(h_jint(actor, "rule_id"));
            if (r < 0 || strcmp(h_jstr_must(ev, "kind"), rules[r].event) != 0)
                other++;
            else
                events[r]++;
        }
        json_decref(evs);

        json_t *as = h_alerts(s, ids[i]);
        json_t *a;
        json_array_foreach (as, k, a) {
            if (strcmp(h_jstr_must(a, "kind"), "escalation") != 0)
                continue;
            int r = rule_index(h_jint(a, "rule_id"));
            if (r < 0)
                other++;
            else
                alerts[r]++;
        }
        json_decref(as);

        char path[96];
        snprintf(path, sizeof path, "/v1/complaints/%lld/rules", (long long)ids[i]);
        struct h_resp *resp = h_admin(s, "GET", path, NULL);
        h_expect_status(resp, 200);
        json_t *e;
        json_array_foreach (json_object_get(resp->json, "items"), k, e) {
            int r = rule_index(h_jint(e, "rule_id"));
            if (r >= 0 && strcmp(h_jstr_must(e, "state"), "fired") == 0 && !h_jnull(e, "fired_at"))
                fired[r] = true;
        }
        h_resp_free(resp);

        bool ok = other == 0;
        for (int r = 0; r < NRULES; r++)
            ok = ok && events[r] == 1 && alerts[r] == (rules[r].notify ? 1 : 0) && fired[r];
        if (!ok) {
            if (bad < 10)
                fprintf(stderr,
                        "complaint %lld via %s: events by rule B/C/A %d/%d/%d, escalation"
                        " alerts %d/%d/%d, fired %d/%d/%d, %d unexpected\n",
                        (long long)ids[i], srv_name[i % NSERVERS], events[0], events[1], events[2],
                        alerts[0], alerts[1], alerts[2], fired[0], fired[1], fired[2], other);
            bad++;
        }
    }
    print_message("API: %d of %d complaints without exactly one event and alert per rule\n", bad,
                  NCOMPLAINTS);
    assert_int_equal(bad, 0);
}

/* Each process's own count of SLA alerts (GET /health/ready): the ones
 * whose transaction also scheduled C's and A's runs. */
static void check_processes(void)
{
    long long sla =
        h_sql_int(&srv[0], "%s", "SELECT count(*) FROM alerts WHERE kind <> 'escalation'");
    long long sum = 0;
    int active = 0;
    for (int i = 0; i < NSERVERS; i++) {
        struct h_resp *r = h_req(&srv[i], "GET", "/health/ready", NULL);
        h_expect_status(r, 200);
        const json_t *w = json_object_get(r->json, "sla_worker");
        long long n = (long long)h_jint(w, "alerts_raised");
        print_message("server %s (pid %d): SLA alerts raised (and their rules scheduled) %lld\n",
                      srv_name[i], (int)srv[i].pid, n);
        assert_string_equal(h_jstr_must(w, "status"), "running");
        sum += n;
        active += n > 0;
        h_resp_free(r);
    }
    print_message("processes that raised SLA alerts: %d of %d; sum %lld (in the table %lld)\n",
                  active, NSERVERS, sum, sla);
    assert_int_equal(sla, 2 * NCOMPLAINTS);
    assert_int_equal(sum, sla);
    assert_true(active >= 2);
}

/* ---- the test ---- */

static void three_processes_fire_each_rule_once(void **state)
{
    (void)state;

    /* A catch-all policy ahead of the default one, on the 24x7 calendar:
     * first response in 2 minutes, warned at half; resolution far off. */
    h_make_policy(&srv[0], "Rules multiprocess", 0, json_object(), 2, 600, "[{\"percent\":50}]", 1);
    rules[RULE_B].id = make_rule(
        json_pack("{s:s, s:i, s:s, s:i, s:{s:s}}", "name", "Created + 1 min: high", "position", 10,
                  "trigger", "created", "delay_minutes", 1, "actions", "set_priority", "high"));
    rules[RULE_C].id = make_rule(
        json_pack("{s:s, s:i, s:s, s:s, s:i, s:{s:s, s:b}}", "name", "Warning + 1 min: urgent",
                  "position", 20, "trigger", "sla_warning", "target", "first_response",
                  "delay_minutes", 1, "actions", "set_priority", "urgent", "notify", 1));
    rules[RULE_A].id =
        make_rule(json_pack("{s:s, s:i, s:s, s:s, s:{s:b, s:b}}", "name", "Breach: up a level",
                            "position", 30, "trigger", "sla_breach", "target", "first_response",
                            "actions", "raise_level", 1, "notify", 1));

    create_complaints();
    assert_int_equal(h_sql_int(&srv[0], "%s",
                               "SELECT count(*) FROM escalation_rule_runs WHERE state = 'pending'"),
                     NCOMPLAINTS);

    long long done = wait_for_runs();
    check_runs();
    assert_int_equal(done, (long long)NRULES * NCOMPLAINTS);
    check_lag();
    check_events_and_alerts();
    check_api();
    check_processes();

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
        cmocka_unit_test(three_processes_fire_each_rule_once),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
