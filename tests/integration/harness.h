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
    json_t *json; /* parsed body when it is JSON, else NULL */
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
/* Sleeps ms milliseconds. */
void h_sleep_ms(long ms);

#endif
