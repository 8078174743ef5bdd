/*
 * Round-robin routing (API.md "Escalation and assignment"): a complaint
 * that lands in a round_robin team without an assignee (at intake, by
 * PATCH, by escalation) goes to the active member with the fewest open
 * complaints, ties to the one assigned least recently, then the lowest
 * id; fair under parallel intake too. Manual teams do not route; a
 * handover clears an assignee who is not a member of the new team.
 * Escalation chains may not form a cycle, even from two changes at once.
 */
#include "harness.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct h_server srv;
static char sup_key[96];

static int setup(void **state)
{
    /* Enough HTTP threads (and connections) for intakes to really overlap. */
    static const char *const env[] = {"OMBUD_THREADS=8", "OMBUD_DB_POOL=12", NULL};
    json_object_seed(0);
    h_server_start(&srv, env);
    h_make_key(&srv, "supervisor", sup_key, sizeof sup_key);
    return 0;
}

static int teardown(void **state)
{
    h_server_stop(&srv, true);
    return 0;
}

/* ---- helpers ---- */

static int64_t make_team(const char *name, const char *assignment, int64_t escalates_to)
{
    json_t *b = json_pack("{s:s, s:s}", "name", name, "assignment", assignment);
    if (escalates_to)
        json_object_set_new(b, "escalation_team_id", json_integer(escalates_to));
    struct h_resp *r = h_call_json(&srv, "POST", "/v1/teams", srv.admin_key, b, NULL);
    h_expect_status(r, 201);
    assert_string_equal(h_jstr_must(r->json, "assignment"), assignment);
    int64_t id = h_jint(r->json, "id");
    h_resp_free(r);
    return id;
}

static int64_t make_agent(const char *name, int64_t team, bool active)
{
    json_t *b = json_pack("{s:s, s:b}", "name", name, "active", active);
    if (team)
        json_object_set_new(b, "team_id", json_integer(team));
    struct h_resp *r = h_call_json(&srv, "POST", "/v1/agents", srv.admin_key, b, NULL);
    h_expect_status(r, 201);
    int64_t id = h_jint(r->json, "id");
    h_resp_free(r);
    return id;
}

/* A complaint's body, with team and assignee when not 0. */
static json_t *body_for(int64_t team, int64_t assignee)
{
    json_t *b = json_pack("{s:s, s:s, s:{s:s}}", "title", "Routed", "description",
                          "Who takes this one?", "customer", "name", "Ada");
    if (team)
        json_object_set_new(b, "team_id", json_integer(team));
    if (assignee)
        json_object_set_new(b, "assignee_id", json_integer(assignee));
    return b;
}

static int64_t assignee_of(const json_t *c)
{
    return h_jnull(c, "assignee_id") ? 0 : h_jint(c, "assignee_id");
}

/* Creates a complaint; its assignee (0: none), *id its id when not NULL. */
static int64_t create(int64_t team, int64_t assignee, int64_t *id)
{
    json_t *c = h_post_complaint(&srv, srv.admin_key, body_for(team, assignee));
    int64_t who = assignee_of(c);
    if (team)
        assert_int_equal(h_jint(c, "team_id"), team);
    if (id)
        *id = h_jint(c, "id");
    json_decref(c);
    return who;
}

static json_t *patch(int64_t id, json_t *body)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/complaints/%lld", (long long)id);
    struct h_resp *r = h_call_json(&srv, "PATCH", path, srv.admin_key, body, NULL);
    h_expect_status(r, 200);
    json_t *out = json_incref(r->json);
    h_resp_free(r);
    return out;
}

static long long open_count(int64_t agent)
{
    return h_sql_int(&srv,
                     "SELECT count(*) FROM complaints WHERE assignee_id = %lld"
                     " AND status NOT IN ('resolved', 'closed')",
                     (long long)agent);
}

/* The last event of kind in a complaint's timeline (caller decrefs). */
static json_t *last_event(int64_t id, const char *kind)
{
    json_t *evs = h_events(&srv, id), *ev, *found = NULL;
    size_t i;
    json_array_foreach (evs, i, ev)
        if (strcmp(h_jstr_must(ev, "kind"), kind) == 0)
            found = ev;
    assert_non_null(found);
    json_incref(found);
    json_decref(evs);
    return found;
}

/* Asserts that data reports field going from `from` to `to` (0: null). */
static void expect_change(const json_t *data, const char *field, int64_t from, int64_t to)
{
    json_t *ch = json_object_get(data, field);
    if (!ch)
        h_dump("event data", data);
    assert_non_null(ch);
    if (from)
        assert_int_equal(h_jint(ch, "from"), from);
    else
        assert_true(h_jnull(ch, "from"));
    if (to)
        assert_int_equal(h_jint(ch, "to"), to);
    else
        assert_true(h_jnull(ch, "to"));
}

/* ---- fairness ---- */

enum { N_AGENTS = 4, N_COMPLAINTS = 100, N_THREADS = 16 };

/* Every complaint in team went to one of agents, 25 each, and in id order
 * (the order routing saw them: ids are drawn under the team's lock) they
 * went round the members one after the other, fresh members by id. */
static void expect_fair(int64_t team, const int64_t agents[N_AGENTS], const char *what)
{
    fprintf(stderr, "%s:", what);
    for (int a = 0; a < N_AGENTS; a++) {
        long long n = open_count(agents[a]);
        fprintf(stderr, " agent %lld: %lld", (long long)agents[a], n);
        assert_int_equal(n, N_COMPLAINTS / N_AGENTS);
    }
    fprintf(stderr, "\n");
    char *seq = h_sql_value(&srv,
                            "SELECT string_agg(coalesce(assignee_id, 0)::text, ',' ORDER BY id)"
                            " FROM complaints WHERE team_id = %lld",
                            (long long)team);
    char want[N_COMPLAINTS * 24] = "";
    size_t used = 0;
    for (int i = 0; i < N_COMPLAINTS; i++)
        used += (size_t)snprintf(want + used, sizeof want - used, "%s%lld", i ? "," : "",
                                 (long long)agents[i % N_AGENTS]);
    assert_non_null(seq);
    assert_string_equal(seq, want);
    free(seq);
}

static void fair_one_at_a_time(void **state)
{
    int64_t team = make_team("Fair sequential", "round_robin", 0), agents[N_AGENTS];
    char name[32];
    for (int a = 0; a < N_AGENTS; a++) {
        snprintf(name, sizeof name, "Seq %d", a);
        agents[a] = make_agent(name, team, true);
    }
    for (int i = 0; i < N_COMPLAINTS; i++)
        assert_int_equal(create(team, 0, NULL), agents[i % N_AGENTS]);
    expect_fair(team, agents, "100 intakes one at a time");
}

struct intake {
    pthread_barrier_t *start;
    char *body;
    int n;       /* complaints this client sends */
    int created; /* answered 201 with an assignee */
};

static void *intake_run(void *arg)
{
    struct intake *in = arg;
    pthread_barrier_wait(in->start);
    for (int i = 0; i < in->n; i++) {
        struct h_resp *r = h_req(&srv, "POST", "/v1/complaints",
                                 &(struct h_opts){.key = srv.admin_key, .body = in->body});
        if (r->status == 201 && r->json && json_is_integer(json_object_get(r->json, "assignee_id")))
            in->created++;
        else
            fprintf(stderr, "intake: %ld %s\n", r->status, r->body);
        h_resp_free(r);
    }
    return NULL;
}

static void fair_under_parallel_intake(void **state)
{
    int64_t team = make_team("Fair parallel", "round_robin", 0), agents[N_AGENTS];
    struct intake in[N_THREADS];
    pthread_t th[N_THREADS];
    pthread_barrier_t start;
    char name[32];

    for (int a = 0; a < N_AGENTS; a++) {
        snprintf(name, sizeof name, "Par %d", a);
        agents[a] = make_agent(name, team, true);
    }
    json_t *b = body_for(team, 0);
    char *text = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    assert_int_equal(pthread_barrier_init(&start, NULL, N_THREADS), 0);
    for (int t = 0; t < N_THREADS; t++) {
        /* 100 over 16 clients: 4 send 7, 12 send 6. */
        in[t] =
            (struct intake){.start = &start,
                            .body = text,
                            .n = N_COMPLAINTS / N_THREADS + (t < N_COMPLAINTS % N_THREADS ? 1 : 0)};
        assert_int_equal(pthread_create(&th[t], NULL, intake_run, &in[t]), 0);
    }
    int created = 0;
    for (int t = 0; t < N_THREADS; t++) {
        assert_int_equal(pthread_join(th[t], NULL), 0);
        created += in[t].created;
    }
    pthread_barrier_destroy(&start);
    free(text);
    assert_int_equal(created, N_COMPLAINTS);
    expect_fair(team, agents, "100 intakes from 16 clients at once");
}

/* ---- who gets it ---- */

/* Equal counts: the member assigned least recently, whether by routing
 * or by name (at intake or by PATCH), not the lowest id. */
static void ties_go_to_the_least_recently_assigned(void **state)
{
    int64_t team = make_team("Ties", "round_robin", 0);
    int64_t a = make_agent("Tie A", team, true), b = make_agent("Tie B", team, true),
            c = make_agent("Tie C", team, true);
    int64_t pa, pb;

    /* One open complaint each, given by name: a, b, c in that order. */
    assert_int_equal(create(0, a, &pa), a);
    assert_int_equal(create(0, b, &pb), b);
    assert_int_equal(create(0, c, NULL), c);
    /* Swapped by PATCH: counts stay equal; b, then a, were assigned last. */
    json_decref(patch(pa, json_pack("{s:I}", "assignee_id", (json_int_t)b)));
    json_decref(patch(pb, json_pack("{s:I}", "assignee_id", (json_int_t)a)));
    assert_int_equal(open_count(a), 1);
    assert_int_equal(open_count(b), 1);
    assert_int_equal(open_count(c), 1);
    /* c (at intake) before b before a (by PATCH). */
    assert_int_equal(create(team, 0, NULL), c);
    assert_int_equal(create(team, 0, NULL), b);
    assert_int_equal(create(team, 0, NULL), a);
    /* And round again, in the order routing gave them out. */
    assert_int_equal(create(team, 0, NULL), c);
}

static void only_active_members_get_complaints(void **state)
{
    int64_t team = make_team("Members", "round_robin", 0),
            other = make_team("Elsewhere", "round_robin", 0);
    int64_t member = make_agent("Member", team, true), away = make_agent("On leave", team, false),
            outsider = make_agent("Outsider", other, true), loose = make_agent("No team", 0, true);
    for (int i = 0; i < 5; i++)
        assert_int_equal(create(team, 0, NULL), member);
    assert_int_equal(open_count(member), 5);
    assert_int_equal(open_count(away), 0);
    assert_int_equal(open_count(outsider), 0);
    assert_int_equal(open_count(loose), 0);

    /* The member leaves: no active member, no assignee; the assigned
     * event still reports the team. */
    char path[64];
    snprintf(path, sizeof path, "/v1/agents/%lld", (long long)member);
    struct h_resp *r =
        h_call_json(&srv, "PATCH", path, srv.admin_key, json_pack("{s:b}", "active", 0), NULL);
    h_expect_status(r, 200);
    h_resp_free(r);
    int64_t id;
    assert_int_equal(create(team, 0, &id), 0);
    json_t *ev = last_event(id, "assigned");
    json_t *data = json_object_get(ev, "data");
    expect_change(data, "team_id", 0, team);
    expect_change(data, "assignee_id", 0, 0);
    json_decref(ev);
}

/* The routed assignee is in the created complaint and its assigned event. */
static void intake_reports_the_routed_assignee(void **state)
{
    int64_t team = make_team("Reported", "round_robin", 0), a = make_agent("Rep", team, true);
    int64_t id;
    assert_int_equal(create(team, 0, &id), a);
    json_t *ev = last_event(id, "assigned");
    json_t *data = json_object_get(ev, "data");
    expect_change(data, "team_id", 0, team);
    expect_change(data, "assignee_id", 0, a);
    json_decref(ev);
    /* A named assignee is kept, member or not. */
    int64_t outsider = make_agent("Named outsider", 0, true);
    assert_int_equal(create(team, outsider, NULL), outsider);
}

static void withdraw(int64_t id)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/complaints/%lld/transitions", (long long)id);
    struct h_resp *r =
        h_call_json(&srv, "POST", path, srv.admin_key,
                    json_pack("{s:s, s:s}", "action", "withdraw", "note", "Sorted out"), NULL);
    h_expect_status(r, 200);
    assert_string_equal(h_jstr_must(r->json, "status"), "closed");
    h_resp_free(r);
}

static void resolved_complaints_no_longer_count(void **state)
{
    int64_t team = make_team("Resolvers", "round_robin", 0);
    int64_t a = make_agent("Res A", team, true), b = make_agent("Res B", team, true);
    int64_t ib, ib2;
    assert_int_equal(create(team, 0, NULL), a);
    assert_int_equal(create(team, 0, &ib), b);
    /* Counting b's complaint, the tie would send the next to a (assigned
     * less recently); resolved, b has none open and takes it. */
    json_decref(h_transition(&srv, srv.admin_key, ib, "acknowledge"));
    json_decref(h_transition(&srv, srv.admin_key, ib, "resolve"));
    assert_int_equal(open_count(b), 0);
    assert_int_equal(create(team, 0, &ib2), b);
    /* Closed ones neither: counting them, b would have 2 to a's 1. */
    withdraw(ib2);
    assert_int_equal(open_count(a), 1);
    assert_int_equal(open_count(b), 0);
    assert_int_equal(create(team, 0, NULL), b);
}

static void manual_teams_do_not_route(void **state)
{
    int64_t team = make_team("By hand", "manual", 0);
    make_agent("Hand A", team, true);
    int64_t id;
    assert_int_equal(create(team, 0, &id), 0);
    json_t *c = patch(id, json_pack("{s:s}", "title", "Still nobody's"));
    assert_int_equal(assignee_of(c), 0);
    json_decref(c);
}

/* PATCH: a move without an assignee routes (clearing one who is not a
 * member), an active member is kept, a named assignee wins, and a move
 * to a manual team clears a non-member. */
static void routing_by_patch(void **state)
{
    int64_t team = make_team("Patched into", "round_robin", 0),
            manual = make_team("Patched manual", "manual", 0);
    int64_t m1 = make_agent("Patch M1", team, true), m2 = make_agent("Patch M2", team, true);
    int64_t outsider = make_agent("Patch outsider", 0, true);
    int64_t id;

    /* No team, no assignee -> routed to m1 (fresh, lowest id). */
    create(0, 0, &id);
    json_t *c = patch(id, json_pack("{s:I}", "team_id", (json_int_t)team));
    assert_int_equal(h_jint(c, "team_id"), team);
    assert_int_equal(assignee_of(c), m1);
    json_decref(c);
    json_t *ev = last_event(id, "assigned");
    expect_change(json_object_get(ev, "data"), "team_id", 0, team);
    expect_change(json_object_get(ev, "data"), "assignee_id", 0, m1);
    json_decref(ev);

    /* An assignee outside the team is cleared and the team routes: m2. */
    create(0, outsider, &id);
    c = patch(id, json_pack("{s:I}", "team_id", (json_int_t)team));
    assert_int_equal(assignee_of(c), m2);
    json_decref(c);
    ev = last_event(id, "assigned");
    expect_change(json_object_get(ev, "data"), "assignee_id", outsider, m2);
    json_decref(ev);

    /* An active member of the new team keeps it. */
    create(manual, m2, &id);
    c = patch(id, json_pack("{s:I}", "team_id", (json_int_t)team));
    assert_int_equal(assignee_of(c), m2);
    json_decref(c);
    ev = last_event(id, "assigned");
    assert_null(json_object_get(json_object_get(ev, "data"), "assignee_id"));
    json_decref(ev);

    /* A PATCH that names the assignee keeps it, even none. */
    create(0, 0, &id);
    c = patch(id, json_pack("{s:I, s:I}", "team_id", (json_int_t)team, "assignee_id",
                            (json_int_t)outsider));
    assert_int_equal(assignee_of(c), outsider);
    json_decref(c);
    create(0, 0, &id);
    c = patch(id, json_pack("{s:I, s:n}", "team_id", (json_int_t)team, "assignee_id"));
    assert_int_equal(assignee_of(c), 0);
    json_decref(c);

    /* Into a manual team: a non-member is cleared, nobody is routed. */
    create(team, 0, &id);
    c = patch(id, json_pack("{s:I}", "team_id", (json_int_t)manual));
    assert_int_equal(h_jint(c, "team_id"), manual);
    assert_int_equal(assignee_of(c), 0);
    json_decref(c);
}

/* Escalation along the chain into a round_robin team routes there, and
 * the escalated event reports the new assignee. */
static void routing_by_escalation(void **state)
{
    int64_t leads = make_team("Esc leads", "round_robin", 0);
    int64_t front = make_team("Esc front", "manual", leads);
    int64_t clerk = make_agent("Esc clerk", front, true),
            lead = make_agent("Esc lead", leads, true);
    int64_t id;
    assert_int_equal(create(front, clerk, &id), clerk);

    char path[64];
    snprintf(path, sizeof path, "/v1/complaints/%lld/escalate", (long long)id);
    struct h_resp *r = h_call_json(&srv, "POST", path, sup_key,
                                   json_pack("{s:s}", "reason", "needs a lead"), NULL);
    h_expect_status(r, 200);
    assert_int_equal(h_jint(r->json, "team_id"), leads);
    assert_int_equal(h_jint(r->json, "assignee_id"), lead);
    h_resp_free(r);
    json_t *ev = last_event(id, "escalated");
    json_t *data = json_object_get(ev, "data");
    expect_change(data, "team_id", front, leads);
    expect_change(data, "assignee_id", clerk, lead);
    json_decref(ev);
}

/* ---- escalation chains ---- */

static struct h_resp *set_escalation(int64_t team, int64_t to)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/teams/%lld", (long long)team);
    return h_call_json(
        &srv, "PATCH", path, srv.admin_key,
        json_pack("{s:o}", "escalation_team_id", to ? json_integer(to) : json_null()), NULL);
}

static int64_t escalation_of(int64_t team)
{
    char *v =
        h_sql_value(&srv, "SELECT escalation_team_id FROM teams WHERE id = %lld", (long long)team);
    int64_t id = v ? strtoll(v, NULL, 10) : 0;
    free(v);
    return id;
}

static void chain_cycles_are_refused(void **state)
{
    int64_t a = make_team("Chain A", "manual", 0), b = make_team("Chain B", "manual", 0),
            c = make_team("Chain C", "manual", 0);
    struct h_resp *r = set_escalation(a, b);
    h_expect_status(r, 200);
    h_resp_free(r);
    /* B -> A closes A -> B -> A. */
    r = set_escalation(b, a);
    h_expect_invalid(r, "escalation_team_id");
    h_resp_free(r);
    /* A team escalating to itself. */
    r = set_escalation(c, c);
    h_expect_invalid(r, "escalation_team_id");
    h_resp_free(r);
    /* Longer: C -> A -> B, then B -> C closes B -> C -> A -> B. */
    r = set_escalation(c, a);
    h_expect_status(r, 200);
    h_resp_free(r);
    r = set_escalation(b, c);
    h_expect_invalid(r, "escalation_team_id");
    h_resp_free(r);
    assert_int_equal(escalation_of(b), 0);
    /* Once C no longer escalates, B -> C closes nothing. */
    r = set_escalation(c, 0);
    h_expect_status(r, 200);
    h_resp_free(r);
    r = set_escalation(b, c);
    h_expect_status(r, 200);
    h_resp_free(r);
    assert_int_equal(escalation_of(a), b);
    assert_int_equal(escalation_of(b), c);
    assert_int_equal(escalation_of(c), 0);
}

struct chain_job {
    pthread_barrier_t *start;
    int64_t team, to;
    long status;
};

static void *chain_run(void *arg)
{
    struct chain_job *j = arg;
    char path[64], body[64];
    snprintf(path, sizeof path, "/v1/teams/%lld", (long long)j->team);
    snprintf(body, sizeof body, "{\"escalation_team_id\":%lld}", (long long)j->to);
    pthread_barrier_wait(j->start);
    struct h_resp *r =
        h_req(&srv, "PATCH", path, &(struct h_opts){.key = srv.admin_key, .body = body});
    j->status = r->status;
    h_resp_free(r);
    return NULL;
}

/* X -> Y and Y -> X at once: one of them wins, the other is a 422. */
static void concurrent_changes_cannot_close_a_cycle(void **state)
{
    enum { ROUNDS = 10 };
    char name[32];
    for (int round = 0; round < ROUNDS; round++) {
        snprintf(name, sizeof name, "Race X %d", round);
        int64_t x = make_team(name, "manual", 0);
        snprintf(name, sizeof name, "Race Y %d", round);
        int64_t y = make_team(name, "manual", 0);
        pthread_barrier_t start;
        pthread_t th[2];
        struct chain_job jobs[2] = {{&start, x, y, 0}, {&start, y, x, 0}};
        assert_int_equal(pthread_barrier_init(&start, NULL, 2), 0);
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_create(&th[i], NULL, chain_run, &jobs[i]), 0);
        for (int i = 0; i < 2; i++)
            assert_int_equal(pthread_join(th[i], NULL), 0);
        pthread_barrier_destroy(&start);
        assert_true((jobs[0].status == 200 && jobs[1].status == 422) ||
                    (jobs[0].status == 422 && jobs[1].status == 200));
        assert_true((escalation_of(x) == y) != (escalation_of(y) == x));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fair_one_at_a_time),
        cmocka_unit_test(fair_under_parallel_intake),
        cmocka_unit_test(ties_go_to_the_least_recently_assigned),
        cmocka_unit_test(only_active_members_get_complaints),
        cmocka_unit_test(intake_reports_the_routed_assignee),
        cmocka_unit_test(resolved_complaints_no_longer_count),
        cmocka_unit_test(manual_teams_do_not_route),
        cmocka_unit_test(routing_by_patch),
        cmocka_unit_test(routing_by_escalation),
        cmocka_unit_test(chain_cycles_are_refused),
        cmocka_unit_test(concurrent_changes_cannot_close_a_cycle),
    };
    return H_RUN_GROUP(tests, setup, teardown);
}
