/*
 * Integration harness: each test program starts the real `ombud` binary
 * on a free port against its own freshly created and migrated database
 * on the test cluster (OMBUD_TEST_DATABASE_URL), and speaks HTTP to it
 * with libcurl. Stopping the server sends SIGTERM and checks that it
 * exits 0, which under ASan also means it leaked nothing.
 */
#ifndef OMBUD_TEST_HARNESS_H
#define OMBUD_TEST_HARNESS_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <sys/types.h>
#include <cmocka.h>

struct h_server {
    pid_t pid;
    int port;
    char dbname[64];
    char db_url[512];
    char base[64];      /* http://127.0.0.1:PORT */
    char admin_key[64]; /* OMBUD_ADMIN_KEY given to the server */
    char log_path[256];
};

struct h_resp {
    long status;
    char *body;
    size_t len;
    json_t *json;  /* parsed body when it is JSON, else NULL */
    char *headers; /* raw response header block */
};

struct h_opts {
    const char *key;          /* Bearer key; NULL: no Authorization */
    const char *body;         /* NULL: no body */
    size_t body_len;          /* 0: strlen(body) */
    const char *content_type; /* NULL with a body: application/json; "" for none */
    const char *headers[8];   /* extra "Name: value" lines */
    bool chunked;             /* send the body with Transfer-Encoding: chunked */
};

/* Creates a fresh database, migrates it and starts a server. extra_env:
 * NULL-terminated "NAME=value" strings added to the server environment. */
void h_server_start(struct h_server *s, const char *const *extra_env);
/* Starts a server on an existing database (no create/migrate). */
void h_server_spawn(struct h_server *s, const char *const *extra_env);
/* Starts s as one more process on first's database (same admin key),
 * logging to /tmp/<db>-<name>.log: several processes sharing one
 * database, as a deployment scales out. */
void h_server_spawn_beside(struct h_server *s, const struct h_server *first, const char *name);
/* SIGTERM; asserts a clean exit 0. drop: also drop the database. */
void h_server_stop(struct h_server *s, bool drop);
/* Nonzero when a server stop failed (unclean exit, e.g. a leak found by
 * ASan): cmocka ignores failures in group teardowns, so mains end with
 * H_RUN_GROUP, which adds this to the exit status. */
int h_exit_status(void);
#define H_RUN_GROUP(tests, setup, teardown)                                                        \
    (cmocka_run_group_tests(tests, setup, teardown) | h_exit_status())

/* Prints the server's log (on failure). */
void h_server_dump_log(const struct h_server *s);

struct h_resp *h_req(struct h_server *s, const char *method, const char *path,
                     const struct h_opts *o);
/* Shorthand: JSON request with the admin key. */
struct h_resp *h_admin(struct h_server *s, const char *method, const char *path, const char *body);
const char *h_header(const struct h_resp *r, const char *name, char *buf, size_t len);
void h_resp_free(struct h_resp *r);

/* Asserts status and (for >= 400) a problem+json body with that status. */
void h_expect_problem(const struct h_resp *r, long status);
/* Whether errors[] of a problem names field. */
bool h_problem_has_field(const struct h_resp *r, const char *field);

/* Runs a command through the shell; returns its exit status. */
int h_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Runs SQL on the server's database as the test superuser (for setup and checks). */
json_t *h_sql(const struct h_server *s, const char *sql);
/* Creates an API key with role through the API; returns the secret in out. */
void h_make_key(struct h_server *s, const char *role, char *out, size_t len);
/* Runs sql on pg (a side session of a test's own); fails the test unless
 * it succeeds. The caller PQclear()s the result. */
PGresult *h_pg_ok(PGconn *pg, const char *sql);
/* The value of the unlabelled metric name in s's GET /metrics. */
long long h_metric(struct h_server *s, const char *name);
/* Sleeps ms milliseconds. */
void h_sleep_ms(long ms);
/* OMBUD_TEST_TIME_FACTOR (default 1): how many times longer the harness
 * waits for the server (starting, answering, raising alerts), for a
 * server run under a slow wrapper such as valgrind (OMBUD_TEST_WRAPPER). */
int h_time_factor(void);
/* The ombud binary under test. */
const char *h_binary(void);
/* In a child process: execs the binary with args (after argv[0], NULL-
 * terminated), under OMBUD_TEST_WRAPPER when set; never returns. */
_Noreturn void h_exec_binary(const char *const *args);
/* A free TCP port on the loopback interface (bound, read, released). */
int h_free_port(void);

/* ---- the test library: what every test file needs ---- */

/* Sends body (stolen; NULL for none) as compact JSON to s with key (NULL:
 * no Authorization) and one extra "Name: value" header (NULL: none). */
struct h_resp *h_call_json(struct h_server *s, const char *method, const char *path,
                           const char *key, json_t *body, const char *header);
/* Asserts the status, printing the body when it differs. */
void h_expect_status(const struct h_resp *r, long status);
/* Asserts a problem+json 422 whose errors[] name field. */
void h_expect_invalid(const struct h_resp *r, const char *field);
/* Asserts a problem+json 422 whose errors[] name exactly fields (NULL-
 * terminated), each with a message. */
void h_expect_fields(const struct h_resp *r, const char *const *fields);
/* Members of o: h_jint fails unless an integer; h_jstr is NULL unless a
 * string; h_jstr_must fails unless a string; h_jnull: present and null. */
int64_t h_jint(const json_t *o, const char *name);
const char *h_jstr(const json_t *o, const char *name);
const char *h_jstr_must(const json_t *o, const char *name);
bool h_jnull(const json_t *o, const char *name);
/* Prints j, indented, to stderr (on failure). */
void h_dump(const char *what, const json_t *j);

/* Creates a team (manual assignment); asserts 201, Location and name. */
int64_t h_make_team(struct h_server *s, const char *name);
/* Creates an active agent with role, in team unless 0 (then checks team_id). */
int64_t h_make_agent(struct h_server *s, const char *name, const char *role, int64_t team);
/* Creates a complaint from body (stolen; NULL: a minimal one) with key;
 * asserts 201. h_post_complaint returns the complaint (caller decrefs). */
json_t *h_post_complaint(struct h_server *s, const char *key, json_t *body);
int64_t h_make_complaint(struct h_server *s, const char *key, json_t *body);

/* The single value of a one-row, one-column query, strdup'd (NULL for
 * SQL NULL; caller frees), and the same read as an integer (not NULL). */
char *h_sql_value(const struct h_server *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
long long h_sql_int(const struct h_server *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Complaints in s's database not written whole: without their two SLA
 * clocks, their created event and its change, or their idempotency
 * record (every create in the fault tests sends an Idempotency-Key). */
long long h_half_written_complaints(const struct h_server *s);

/* base64url text of plain, as cursors are written (out: >= 4 * len / 3 + 4). */
void h_b64url(const char *plain, char *out);

/* ---- SLA: policies, clocks, alerts and timelines ---- */

/* Creates a category (key, named after it) as admin; asserts 201. */
void h_make_category(struct h_server *s, const char *key);
/* Creates an active policy as admin: position, targets in minutes, match
 * (stolen; NULL: matches everything), warnings as JSON text (NULL: the
 * default ladder) and calendar (0: the default). Asserts 201; its id. */
int64_t h_make_policy(struct h_server *s, const char *name, int position, json_t *match,
                      int fr_minutes, int res_minutes, const char *warnings, int64_t calendar);
/* GET of a complaint with key; asserts 200; the complaint (caller decrefs). */
json_t *h_get_complaint(struct h_server *s, const char *key, int64_t id);
/* A transition with key (resolve with a resolution summary); asserts 200;
 * the complaint (caller decrefs). */
json_t *h_transition(struct h_server *s, const char *key, int64_t id, const char *action);
/* sla.<target> of a complaint, and the entry of a warning level in such
 * a clock (both borrowed; fail when absent). */
json_t *h_sla_clock(const json_t *complaint, const char *target);
json_t *h_sla_warning(const json_t *clock, int level);

/* Every alert of a complaint (state=all, one page), oldest first (caller
 * decrefs); h_wait_alerts polls until there are at least n, for at most
 * ms of real time, and returns what there is then. */
json_t *h_alerts(struct h_server *s, int64_t id);
json_t *h_wait_alerts(struct h_server *s, int64_t id, size_t n, int64_t ms);
/* How many alerts have this kind, target, cycle and level (level < 0:
 * any); *found (if not NULL) gets the first. h_the_alert fails unless
 * there is exactly one, and returns it (borrowed). */
size_t h_count_alerts(const json_t *alerts, const char *kind, const char *target, int cycle,
                      int level, json_t **found);
json_t *h_the_alert(const json_t *alerts, const char *kind, const char *target, int cycle,
                    int level);
/* The alert is scheduled for moment (epoch s, the servers' clock), was
 * raised within 2 s after it (to the second in the API, to the
 * microsecond in the table) and is not acknowledged. Its created_at is
 * PostgreSQL's wall clock, so the test clock's current offset is added:
 * check an alert before the clock moves on. */
void h_expect_on_time(const struct h_server *s, const json_t *a, int64_t moment);

/* A complaint's timeline (one page), oldest first (caller decrefs). */
json_t *h_events(struct h_server *s, int64_t id);
size_t h_count_events(const json_t *evs, const char *kind);
/* The timeline holds exactly one event for the alert, by the system,
 * with its target, cycle, level and moment, written with it. */
void h_expect_alert_event(const json_t *evs, const json_t *alert);

/* ---- time ---- */

/* RFC 3339 UTC to the second, as the server writes it, to epoch seconds
 * (fails on anything else); h_jtime reads member name of o. */
int64_t h_epoch(const char *s);
int64_t h_jtime(const json_t *o, const char *name);
/* Fails unless lo <= v <= hi. */
void h_expect_between(int64_t v, int64_t lo, int64_t hi, const char *what);
/* Milliseconds since the epoch: the wall clock, and the servers' clock
 * (the wall clock plus the test clock's offset). Timestamps PostgreSQL
 * writes (created_at of complaints, events, alerts; acknowledged_at)
 * follow the wall clock; the business moments (due_at, warnings,
 * scheduled_at, met_at) follow the servers' clock. */
int64_t h_real_ms(void);
int64_t h_now_ms(void);
/* Sleeps until the servers' clock reads at_ms. */
void h_sleep_until_ms(int64_t at_ms);

/*
 * The test clock: every server a test program starts shares one offset
 * (see src/test_clock.c), so that a test can move the business clock
 * forward instead of waiting for a moment in real time. h_clock_advance
 * adds whole seconds, wakes the SLA workers on s's database and waits
 * until s's worker has made a pass at the new time; h_clock_advance_to
 * moves the clock to about lead_ms before at_s (if that is ahead), so
 * that the moment itself still comes in real time, to be checked for
 * being on time. h_clock_wait_pass waits for one more pass of s's worker.
 */
int64_t h_clock_offset_ms(void);
void h_clock_advance(struct h_server *s, int64_t seconds);
/* Moves the clock forward without waking or waiting for any worker: for
 * a test that holds the workers up itself. */
void h_clock_shift(int64_t seconds);
void h_clock_advance_to(struct h_server *s, int64_t at_s, int64_t lead_ms);
void h_clock_wait_pass(struct h_server *s);

#endif
