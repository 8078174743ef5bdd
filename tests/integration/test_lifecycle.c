/*
 * The process life cycle of the real binary: `ombud version`, `--help`
 * (every OMBUD_* variable of the contract), unknown subcommands (exit 2);
 * `ombud migrate` is idempotent and safe when replicas start together on
 * an empty database; `ombud serve` refuses a schema that is behind and a
 * bad configuration (naming every bad variable); SIGTERM drains an
 * in-flight request to completion, takes no new connections meanwhile,
 * does not wait for idle keep-alive connections, gives up after
 * OMBUD_DRAIN_SECONDS, and exits 0.
 *
 * The binary under test is the one the harness starts (h_exec_binary,
 * under OMBUD_TEST_WRAPPER when that is set).
 */
#include "harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct h_server srv;
static int scratch_counter;

/* Every variable the contract (API.md, Operations) names. */
static const char *const contract_vars[] = {
    "OMBUD_DATABASE_URL", "OMBUD_LISTEN",         "OMBUD_THREADS",   "OMBUD_DB_POOL",
    "OMBUD_ADMIN_KEY",    "OMBUD_MAX_BODY_BYTES", "OMBUD_LOG_LEVEL", "OMBUD_CORS_ORIGINS",
};

/* Cleared in every child so that nothing leaks in from the caller's environment. */
static const char *const all_vars[] = {
    "OMBUD_DATABASE_URL",    "OMBUD_LISTEN",        "OMBUD_THREADS",
    "OMBUD_DB_POOL",         "OMBUD_ADMIN_KEY",     "OMBUD_MAX_BODY_BYTES",
    "OMBUD_LOG_LEVEL",       "OMBUD_CORS_ORIGINS",  "OMBUD_CONN_TIMEOUT",
    "OMBUD_CONN_LIMIT",      "OMBUD_DB_TIMEOUT_MS", "OMBUD_STATEMENT_TIMEOUT_MS",
    "OMBUD_DRAIN_SECONDS",   "OMBUD_CONN_PER_IP",   "OMBUD_HEADER_TIMEOUT_MS",
    "OMBUD_BODY_TIMEOUT_MS", "OMBUD_RATE_LIMIT",    "OMBUD_RATE_BURST",
};

static int setup(void **state)
{
    (void)state;
    h_server_start(&srv, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    h_server_stop(&srv, true);
    return 0;
}

/* ---- helpers ---- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 0 when something accepts a TCP connection on the port, else the errno. */
static int try_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_true(fd >= 0);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : errno;
    close(fd);
    return rc;
}

static void log_path(char *out, size_t len)
{
    snprintf(out, len, "/tmp/ombud_lc_%d_%d.log", (int)getpid(), ++scratch_counter);
    unlink(out);
}

/* Starts the binary with argv (after argv[0]) and env ("NAME=value", NULL-terminated). */
static pid_t spawn(const char *const *args, const char *const *env, const char *log)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const char *argv[8];
        size_t n = 0;
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        for (size_t i = 0; i < sizeof all_vars / sizeof all_vars[0]; i++)
            unsetenv(all_vars[i]);
        for (size_t i = 0; env && env[i]; i++)
            putenv((char *)env[i]);
        for (size_t i = 0; args && args[i] && n < 7; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        h_exec_binary(argv);
    }
    return pid;
}

/* Waits up to timeout_ms: the exit code (128 + signal when killed), or -1
 * when the process was still running (it is then killed). */
static int wait_exit(pid_t pid, long timeout_ms)
{
    int64_t end = now_ms() + timeout_ms * h_time_factor();
    int st;
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        assert_true(w == 0);
        if (now_ms() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        h_sleep_ms(20);
    }
}

static int run(const char *const *args, const char *const *env, const char *log, long timeout_ms)
{
    return wait_exit(spawn(args, env, log), timeout_ms);
}

/* The whole file as a string (empty when missing); free it. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (f) {
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
            if (len + n + 1 > cap) {
                cap = (len + n + 1) * 2;
                buf = realloc(buf, cap);
                assert_non_null(buf);
            }
            memcpy(buf + len, chunk, n);
            len += n;
        }
        fclose(f);
    }
    if (!buf)
        buf = calloc(1, 1);
    assert_non_null(buf);
    buf[len] = '\0';
    return buf;
}

static void dump(const char *what, const char *text)
{
    fprintf(stderr, "---- %s ----\n%s\n----\n", what, text);
}

static void dump_file(const char *path)
{
    char *text = slurp(path);
    dump(path, text);
    free(text);
}

/* Asserts that the log at path contains needle (prints it when not). */
static void log_has(const char *path, const char *needle)
{
    char *text = slurp(path);
    if (!strstr(text, needle)) {
        fprintf(stderr, "\"%s\" is not in the output:\n", needle);
        dump(path, text);
    }
    assert_non_null(strstr(text, needle));
    free(text);
}

static bool matches(const char *re, const char *s)
{
    regex_t rx;
    assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
    bool ok = regexec(&rx, s, 0, NULL, 0) == 0;
    regfree(&rx);
    return ok;
}

/* A URL for dbname on the test cluster (srv's URL with the database swapped). */
static void url_for(const char *dbname, char *out, size_t len)
{
    const char *at = strstr(srv.db_url, srv.dbname);
    assert_non_null(at);
    snprintf(out, len, "%.*s%s%s", (int)(at - srv.db_url), srv.db_url, dbname,
             at + strlen(srv.dbname));
}

/* Creates an empty database; its name goes to out. */
static void create_db(char *out, size_t len)
{
    char sql[160];
    snprintf(out, len, "%.40s_lc%d", srv.dbname, ++scratch_counter);
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", out);
    json_decref(h_sql(&srv, sql));
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", out);
    json_decref(h_sql(&srv, sql));
}

static void drop_db(const char *name)
{
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    json_decref(h_sql(&srv, sql));
}

/* Runs one query on another database of the cluster; rows as in h_sql. */
static json_t *sql_on(const char *dbname, const char *sql)
{
    struct h_server other;
    memset(&other, 0, sizeof other);
    url_for(dbname, other.db_url, sizeof other.db_url);
    return h_sql(&other, sql);
}

static const char *const migrations_sql =
    "SELECT version, name FROM schema_migrations ORDER BY version";
static const char *const tables_sql =
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
    " ORDER BY table_name";

/* ---- subcommands ---- */

static void version_prints_semver(void **state)
{
    (void)state;
    const char *variants[] = {"version", "--version"};
    for (size_t i = 0; i < 2; i++) {
        char log[128];
        log_path(log, sizeof log);
        /* A broken environment does not matter to version. */
        const char *env[] = {"OMBUD_THREADS=0", "OMBUD_LISTEN=nope", NULL};
        assert_int_equal(run((const char *const[]){variants[i], NULL}, env, log, 10000), 0);
        char *out = slurp(log);
        if (!matches("^ombud [0-9]+\\.[0-9]+\\.[0-9]+\n$", out))
            dump(variants[i], out);
        assert_true(matches("^ombud [0-9]+\\.[0-9]+\\.[0-9]+\n$", out));
        free(out);
        unlink(log);
    }
}

static void help_lists_every_variable(void **state)
{
    (void)state;
    const char *variants[] = {"--help", "-h", "help"};
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        char log[128];
        log_path(log, sizeof log);
        const char *env[] = {"OMBUD_THREADS=0", NULL};
        assert_int_equal(run((const char *const[]){variants[v], NULL}, env, log, 10000), 0);
        char *out = slurp(log);
        for (size_t i = 0; i < sizeof contract_vars / sizeof contract_vars[0]; i++) {
            if (!strstr(out, contract_vars[i]))
                dump(contract_vars[i], out);
            assert_non_null(strstr(out, contract_vars[i]));
        }
        const char *commands[] = {"serve", "migrate", "version"};
        for (size_t i = 0; i < 3; i++)
            assert_non_null(strstr(out, commands[i]));
        /* The default listen address is documented. */
        assert_non_null(strstr(out, "127.0.0.1:8080"));
        free(out);
        unlink(log);
    }
}

static void unknown_subcommand_exits_2(void **state)
{
    (void)state;
    const char *const cases[][3] = {
        {"frobnicate", NULL, NULL}, {"Serve", NULL, NULL},    {"--bogus", NULL, NULL},
        {"", NULL, NULL},           {"serve", "extra", NULL}, {"migrate", "now", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char log[128];
        log_path(log, sizeof log);
        int code = run(cases[i], NULL, log, 10000);
        if (code != 2)
            fprintf(stderr, "ombud %s %s: exit %d\n", cases[i][0], cases[i][1] ? cases[i][1] : "",
                    code);
        assert_int_equal(code, 2);
        log_has(log, "Usage");
        unlink(log);
    }
}

/* ---- migrate ---- */

static void migrate_is_idempotent(void **state)
{
    (void)state;
    json_t *before = h_sql(&srv, "SELECT version, name, applied_at FROM schema_migrations"
                                 " ORDER BY version");
    json_t *tables_before = h_sql(&srv, tables_sql);
    size_t n = json_array_size(before);
    assert_true(n >= 1);
    /* Versions 1..n, each once. */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(atoi(json_string_value(json_array_get(json_array_get(before, i), 0))),
                         (int)i + 1);

    char url[600], env_url[640];
    snprintf(url, sizeof url, "%s", srv.db_url);
    snprintf(env_url, sizeof env_url, "OMBUD_DATABASE_URL=%s", url);
    for (int round = 0; round < 2; round++) {
        char log[128];
        log_path(log, sizeof log);
        int code = run((const char *const[]){"migrate", NULL}, (const char *const[]){env_url, NULL},
                       log, 60000);
        if (code != 0)
            h_server_dump_log(&srv);
        assert_int_equal(code, 0);
        /* Nothing was applied again. */
        char *out = slurp(log);
        assert_null(strstr(out, "migration_applied"));
        free(out);
        unlink(log);
    }
    json_t *after = h_sql(&srv, "SELECT version, name, applied_at FROM schema_migrations"
                                " ORDER BY version");
    json_t *tables_after = h_sql(&srv, tables_sql);
    assert_true(json_equal(before, after));
    assert_true(json_equal(tables_before, tables_after));

    /* The running server did not notice. */
    struct h_resp *r = h_req(&srv, "GET", "/health/ready", NULL);
    assert_int_equal(r->status, 200);
    h_resp_free(r);

    json_decref(before);
    json_decref(after);
    json_decref(tables_before);
    json_decref(tables_after);
}

#define NMIGRATORS 4

static void concurrent_migrate_on_fresh_db(void **state)
{
    (void)state;
    json_t *want_rows = h_sql(&srv, migrations_sql);
    json_t *want_tables = h_sql(&srv, tables_sql);

    for (int round = 0; round < 2; round++) {
        char db[64], url[600], env_url[640], logs[NMIGRATORS][128];
        pid_t pids[NMIGRATORS];
        create_db(db, sizeof db);
        url_for(db, url, sizeof url);
        snprintf(env_url, sizeof env_url, "OMBUD_DATABASE_URL=%s", url);
        const char *env[] = {env_url, NULL};

        for (int i = 0; i < NMIGRATORS; i++) {
            log_path(logs[i], sizeof logs[i]);
            pids[i] = spawn((const char *const[]){"migrate", NULL}, env, logs[i]);
        }
        int applied_by = 0;
        for (int i = 0; i < NMIGRATORS; i++) {
            int code = wait_exit(pids[i], 120000);
            char *out = slurp(logs[i]);
            if (code != 0)
                dump(logs[i], out);
            assert_int_equal(code, 0);
            applied_by += strstr(out, "migration_applied") != NULL;
            free(out);
            unlink(logs[i]);
        }

        /* Each migration once, the same schema as a database migrated alone. */
        json_t *rows = sql_on(db, migrations_sql);
        json_t *tables = sql_on(db, tables_sql);
        json_t *dups = sql_on(db, "SELECT version FROM schema_migrations GROUP BY version"
                                  " HAVING count(*) > 1");
        assert_int_equal(json_array_size(dups), 0);
        assert_true(json_equal(rows, want_rows));
        assert_true(json_equal(tables, want_tables));
        /* One process did the work; the others found it done. */
        assert_int_equal(applied_by, 1);
        json_decref(rows);
        json_decref(tables);
        json_decref(dups);
        drop_db(db);
    }
    json_decref(want_rows);
    json_decref(want_tables);
}

/* ---- serve refuses to start ---- */

static void serve_refuses_empty_schema(void **state)
{
    (void)state;
    char db[64], url[600], env_url[640], env_listen[64], log[128];
    int port = h_free_port();
    create_db(db, sizeof db);
    url_for(db, url, sizeof url);
    snprintf(env_url, sizeof env_url, "OMBUD_DATABASE_URL=%s", url);
    snprintf(env_listen, sizeof env_listen, "OMBUD_LISTEN=127.0.0.1:%d", port);
    log_path(log, sizeof log);

    int64_t t0 = now_ms();
    int code = run((const char *const[]){"serve", NULL},
                   (const char *const[]){env_url, env_listen, NULL}, log, 20000);
    int64_t took = now_ms() - t0;
    if (code <= 0)
        dump_file(log);
    assert_true(code > 0 && code < 128);
    assert_true(took < 10000);
    log_has(log, "ombud migrate");
    assert_true(try_connect(port) != 0);
    /* It left the database as it was: still empty. */
    json_t *t = sql_on(db, tables_sql);
    assert_int_equal(json_array_size(t), 0);
    json_decref(t);
    unlink(log);
    drop_db(db);
}

/* A listen address taken by someone else: exit status 3 (a launcher such
 * as scripts/run then tries another port), the reason logged. */
static void serve_on_a_taken_address_exits_3(void **state)
{
    (void)state;
    char db[64], url[600], env_url[640], env_listen[64], log[128];
    int port = h_free_port();
    int holder = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(holder >= 0);
    assert_int_equal(bind(holder, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(holder, 1), 0);
    create_db(db, sizeof db);
    url_for(db, url, sizeof url);
    snprintf(env_url, sizeof env_url, "OMBUD_DATABASE_URL=%s", url);
    snprintf(env_listen, sizeof env_listen, "OMBUD_LISTEN=127.0.0.1:%d", port);
    log_path(log, sizeof log);
    assert_int_equal(run((const char *const[]){"migrate", NULL},
                         (const char *const[]){env_url, NULL}, log, 60000),
                     0);
    int code = run((const char *const[]){"serve", NULL},
                   (const char *const[]){env_url, env_listen, NULL}, log, 20000);
    if (code != 3)
        dump_file(log);
    assert_int_equal(code, 3);
    log_has(log, "cannot serve on 127.0.0.1");
    close(holder);
    unlink(log);
    drop_db(db);
}

static void serve_refuses_schema_one_behind(void **state)
{
    (void)state;
    char db[64], url[600], env_url[640], env_listen[64], log[128];
    int port = h_free_port();
    create_db(db, sizeof db);
    url_for(db, url, sizeof url);
    snprintf(env_url, sizeof env_url, "OMBUD_DATABASE_URL=%s", url);
    snprintf(env_listen, sizeof env_listen, "OMBUD_LISTEN=127.0.0.1:%d", port);
    const char *env[] = {env_url, env_listen, NULL};

    log_path(log, sizeof log);
    assert_int_equal(run((const char *const[]){"migrate", NULL}, env, log, 60000), 0);
    unlink(log);
    json_decref(sql_on(db, "DELETE FROM schema_migrations"
                           " WHERE version = (SELECT max(version) FROM schema_migrations)"));

    log_path(log, sizeof log);
    int code = run((const char *const[]){"serve", NULL}, env, log, 20000);
    if (code <= 0)
        dump_file(log);
    assert_true(code > 0 && code < 128);
    log_has(log, "ombud migrate");
    char *out = slurp(log);
    assert_null(strstr(out, "\"listening\""));
    free(out);
    unlink(log);
    drop_db(db);
}

static void bad_configuration_names_each_variable(void **state)
{
    (void)state;
    char env_url[640], env_listen[64];
    snprintf(env_url, sizeof env_url, "OMBUD_DATABASE_URL=%s", srv.db_url);
    snprintf(env_listen, sizeof env_listen, "OMBUD_LISTEN=127.0.0.1:%d", h_free_port());
    struct {
        const char *setting, *name;
    } cases[] = {
        {"OMBUD_LISTEN=nope", "OMBUD_LISTEN"},
        {"OMBUD_LISTEN=127.0.0.1:70000", "OMBUD_LISTEN"},
        {"OMBUD_LISTEN=127.0.0.1:", "OMBUD_LISTEN"},
        {"OMBUD_THREADS=0", "OMBUD_THREADS"},
        {"OMBUD_THREADS=-4", "OMBUD_THREADS"},
        {"OMBUD_THREADS=four", "OMBUD_THREADS"},
        {"OMBUD_DB_POOL=0", "OMBUD_DB_POOL"},
        {"OMBUD_MAX_BODY_BYTES=abc", "OMBUD_MAX_BODY_BYTES"},
        {"OMBUD_MAX_BODY_BYTES=12abc", "OMBUD_MAX_BODY_BYTES"},
        {"OMBUD_LOG_LEVEL=loud", "OMBUD_LOG_LEVEL"},
        {"OMBUD_ADMIN_KEY=short", "OMBUD_ADMIN_KEY"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char log[128];
        log_path(log, sizeof log);
        const char *env[] = {env_url, env_listen, cases[i].setting, NULL};
        int code = run((const char *const[]){"serve", NULL}, env, log, 20000);
        if (!(code > 0 && code < 128)) {
            fprintf(stderr, "%s: exit %d\n", cases[i].setting, code);
            dump_file(log);
        }
        assert_true(code > 0 && code < 128);
        log_has(log, cases[i].name);
        char *out = slurp(log);
        assert_null(strstr(out, "\"listening\""));
        free(out);
        unlink(log);
    }

    /* Several at once: all named in one go. */
    char log[128];
    log_path(log, sizeof log);
    const char *env[] = {env_url, "OMBUD_LISTEN=nope", "OMBUD_THREADS=0",
                         "OMBUD_MAX_BODY_BYTES=abc", NULL};
    int code = run((const char *const[]){"serve", NULL}, env, log, 20000);
    assert_true(code > 0 && code < 128);
    log_has(log, "OMBUD_LISTEN");
    log_has(log, "OMBUD_THREADS");
    log_has(log, "OMBUD_MAX_BODY_BYTES");
    unlink(log);
}

/* ---- SIGTERM ---- */

struct slow_upload {
    const char *base, *key;
    const char *pieces[16];
    long delay_ms;
    atomic_int started;
    long status;
    char body[1024];
    size_t body_len;
    size_t next;
};

static size_t slow_read(char *ptr, size_t size, size_t n, void *ud)
{
    struct slow_upload *u = ud;
    const char *p = u->pieces[u->next];
    if (!p)
        return 0;
    if (u->next > 0)
        h_sleep_ms(u->delay_ms);
    size_t len = strlen(p);
    if (len > size * n)
        return CURL_READFUNC_ABORT; /* (no cmocka asserts off the main thread) */
    memcpy(ptr, p, len);
    u->next++;
    atomic_store(&u->started, 1);
    return len;
}

static size_t slow_write(char *ptr, size_t size, size_t n, void *ud)
{
    struct slow_upload *u = ud;
    size_t len = size * n;
    size_t room = sizeof u->body - 1 - u->body_len;
    size_t take = len < room ? len : room;
    memcpy(u->body + u->body_len, ptr, take);
    u->body_len += take;
    u->body[u->body_len] = '\0';
    return len;
}

/* POST /v1/api-keys with a chunked body sent piece by piece, delay_ms apart. */
static void *slow_post(void *arg)
{
    struct slow_upload *u = arg;
    char url[256], auth[256];
    struct curl_slist *hl = NULL;
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    snprintf(url, sizeof url, "%s/v1/api-keys", u->base);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", u->key);
    hl = curl_slist_append(hl, auth);
    hl = curl_slist_append(hl, "Content-Type: application/json");
    hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "POST");
    curl_easy_setopt(c, CURLOPT_READFUNCTION, slow_read);
    curl_easy_setopt(c, CURLOPT_READDATA, u);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, slow_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, u);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    u->status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &u->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    atomic_store(&u->started, 1); /* also when it failed before sending anything */
    return NULL;
}

static void wait_started(struct slow_upload *u)
{
    for (int i = 0; i < 1000 && !atomic_load(&u->started); i++)
        h_sleep_ms(5);
    assert_true(atomic_load(&u->started));
}

/* Index of the first log line containing all of a, b (or -1). */
static long log_line_index(const char *path, const char *a, const char *b)
{
    FILE *f = fopen(path, "r");
    char line[8192];
    long i = 0, found = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, a) && (!b || strstr(line, b))) {
            found = i;
            break;
        }
        i++;
    }
    fclose(f);
    return found;
}

static void sigterm_drains_inflight_request(void **state)
{
    (void)state;
    struct h_server d;
    pthread_t th;
    static struct slow_upload u;
    h_server_start(&d, NULL);

    memset(&u, 0, sizeof u);
    u.base = d.base;
    u.key = d.admin_key;
    u.delay_ms = 120;
    const char *pieces[] = {"{",        "\"name\"", ":",         "\"slow", " upload\"", ",",
                            "\"role\"", ":",        "\"agent\"", "}",      NULL};
    memcpy(u.pieces, pieces, sizeof pieces);
    assert_int_equal(pthread_create(&th, NULL, slow_post, &u), 0);
    wait_started(&u);
    h_sleep_ms(300); /* headers and the first pieces are in */

    int64_t t0 = now_ms();
    assert_int_equal(kill(d.pid, SIGTERM), 0);
    h_sleep_ms(200);

    /* Draining: no new connections are taken. */
    int conn = try_connect(d.port);
    if (conn != ECONNREFUSED)
        fprintf(stderr, "connect during drain: %s\n", conn ? strerror(conn) : "accepted");
    bool refused = conn == ECONNREFUSED;

    assert_int_equal(pthread_join(th, NULL), 0);
    if (u.status != 201)
        fprintf(stderr, "slow upload: %ld %s\n", u.status, u.body);
    assert_int_equal(u.status, 201);
    json_t *b = json_loads(u.body, 0, NULL);
    assert_non_null(b);
    assert_string_equal(json_string_value(json_object_get(b, "name")), "slow upload");
    assert_true(strncmp(json_string_value(json_object_get(b, "key")), "omb_", 4) == 0);
    json_decref(b);

    /* The server then exits 0 by itself, well within the drain limit. */
    int code = wait_exit(d.pid, 15000);
    int64_t took = now_ms() - t0;
    d.pid = 0;
    if (code != 0)
        h_server_dump_log(&d);
    assert_int_equal(code, 0);
    assert_true(took < 8000);
    assert_true(try_connect(d.port) != 0);

    /* The request was finished after the signal, and its key was stored. */
    long stopping = log_line_index(d.log_path, "\"stopping\"", NULL);
    long served = log_line_index(d.log_path, "\"api_keys_create\"", "\"status\":201");
    assert_true(stopping >= 0 && served > stopping);
    json_t *rows = h_sql(&d, "SELECT count(*) FROM api_keys WHERE name = 'slow upload'");
    assert_string_equal(json_string_value(json_array_get(json_array_get(rows, 0), 0)), "1");
    json_decref(rows);
    h_server_stop(&d, true);

    /* Last, so that the rest of the checks still ran. */
    assert_true(refused);
}

static void sigterm_does_not_wait_for_idle_connections(void **state)
{
    (void)state;
    const int sigs[] = {SIGTERM, SIGINT};
    for (size_t s = 0; s < 2; s++) {
        struct h_server d;
        char url[128];
        h_server_start(&d, NULL);

        /* A keep-alive connection left open and idle. */
        CURL *c = curl_easy_init();
        assert_non_null(c);
        snprintf(url, sizeof url, "%s/health/live", d.base);
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        long st = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
        assert_int_equal(st, 200);

        int64_t t0 = now_ms();
        assert_int_equal(kill(d.pid, sigs[s]), 0);
        int code = wait_exit(d.pid, 15000);
        int64_t took = now_ms() - t0;
        d.pid = 0;
        curl_easy_cleanup(c);
        if (code != 0)
            h_server_dump_log(&d);
        assert_int_equal(code, 0);
        /* Not the 10 s drain limit: nothing was in flight. */
        if (took >= 5000)
            fprintf(stderr, "signal %d: exit took %lld ms\n", sigs[s], (long long)took);
        assert_true(took < 5000);
        h_server_stop(&d, true);
    }
}

static void drain_gives_up_after_its_limit(void **state)
{
    (void)state;
    static const char *const env[] = {"OMBUD_DRAIN_SECONDS=1", NULL};
    struct h_server d;
    pthread_t th;
    static struct slow_upload u;
    h_server_start(&d, env);

    /* A body that takes about 9 s to arrive. */
    memset(&u, 0, sizeof u);
    u.base = d.base;
    u.key = d.admin_key;
    u.delay_ms = 1000;
    const char *pieces[] = {"{",        "\"name\"", ":",         "\"never", " finished\"", ",",
                            "\"role\"", ":",        "\"agent\"", "}",       NULL};
    memcpy(u.pieces, pieces, sizeof pieces);
    assert_int_equal(pthread_create(&th, NULL, slow_post, &u), 0);
    wait_started(&u);
    h_sleep_ms(300);

    int64_t t0 = now_ms();
    assert_int_equal(kill(d.pid, SIGTERM), 0);
    int code = wait_exit(d.pid, 15000);
    int64_t took = now_ms() - t0;
    d.pid = 0;
    if (code != 0)
        h_server_dump_log(&d);
    assert_int_equal(code, 0);
    if (took < 900 || took > 6000)
        fprintf(stderr, "exit took %lld ms\n", (long long)took);
    assert_true(took >= 900 && took <= 6000);
    log_has(d.log_path, "drain_timeout");

    /* The client was cut off, and nothing was created. */
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(u.status, 0);
    json_t *rows = h_sql(&d, "SELECT count(*) FROM api_keys WHERE name = 'never finished'");
    assert_string_equal(json_string_value(json_array_get(json_array_get(rows, 0), 0)), "0");
    json_decref(rows);
    h_server_stop(&d, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_prints_semver),
        cmocka_unit_test(help_lists_every_variable),
        cmocka_unit_test(unknown_subcommand_exits_2),
        cmocka_unit_test(migrate_is_idempotent),
        cmocka_unit_test(concurrent_migrate_on_fresh_db),
        cmocka_unit_test(serve_refuses_empty_schema),
        cmocka_unit_test(serve_refuses_schema_one_behind),
        cmocka_unit_test(serve_on_a_taken_address_exits_3),
        cmocka_unit_test(bad_configuration_names_each_variable),
        cmocka_unit_test(sigterm_drains_inflight_request),
        cmocka_unit_test(sigterm_does_not_wait_for_idle_connections),
        cmocka_unit_test(drain_gives_up_after_its_limit),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = H_RUN_GROUP(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
