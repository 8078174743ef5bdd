/* Integration harness; see harness.h. */
#include "harness.h"

#include "ombud/cursor.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef OMBUD_BINARY
#error "OMBUD_BINARY must name the ombud binary under test"
#endif

static const char *admin_url(void)
{
    const char *u = getenv("OMBUD_TEST_DATABASE_URL");
    if (!u || !*u) {
        fprintf(stderr, "OMBUD_TEST_DATABASE_URL is not set: run the tests with ./scripts/test\n");
        exit(1);
    }
    return u;
}

const char *h_binary(void)
{
    return OMBUD_BINARY;
}

void h_exec_binary(const char *const *args)
{
    static char words[4096];
    const char *argv[80];
    size_t n = 0;
    /* OMBUD_TEST_WRAPPER: a command (words split at spaces) to run the
     * binary under, such as valgrind (scripts/valgrind). */
    const char *wrapper = getenv("OMBUD_TEST_WRAPPER");
    if (wrapper && *wrapper) {
        char *save = NULL;
        snprintf(words, sizeof words, "%s", wrapper);
        for (char *w = strtok_r(words, " ", &save); w && n < 60; w = strtok_r(NULL, " ", &save))
            argv[n++] = w;
        argv[n++] = OMBUD_BINARY;
    } else {
        argv[n++] = "ombud";
    }
    for (size_t i = 0; args && args[i] && n < 78; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    if (wrapper && *wrapper)
        execvp(argv[0], (char *const *)argv);
    else
        execv(OMBUD_BINARY, (char *const *)argv);
    _exit(127);
}

int h_time_factor(void)
{
    const char *f = getenv("OMBUD_TEST_TIME_FACTOR");
    int n = f ? atoi(f) : 1;
    return n >= 1 && n <= 1000 ? n : 1;
}

void h_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int h_sh(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Ports for the servers tests start: below the kernel's ephemeral range
 * (32768 and up), where an outgoing connection could take the port between
 * our check and the server's bind. Each process starts at its own offset
 * and walks on, so test programs running side by side rarely meet. */
#define H_PORT_FIRST 30500
#define H_PORT_COUNT 2200

int h_free_port(void)
{
    static int next = -1;
    if (next < 0)
        next = (int)(getpid() * 37 % H_PORT_COUNT);
    for (int tries = 0; tries < H_PORT_COUNT; tries++) {
        int port = H_PORT_FIRST + next;
        next = (next + 1) % H_PORT_COUNT;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_true(fd >= 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons((uint16_t)port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int ok = bind(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (ok)
            return port;
    }
    fail_msg("no free port from %d to %d", H_PORT_FIRST, H_PORT_FIRST + H_PORT_COUNT - 1);
    return -1;
}

static void admin_exec(const char *sql)
{
    PGconn *pg = PQconnectdb(admin_url());
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "cannot reach the test cluster: %s", PQerrorMessage(pg));
        PQfinish(pg);
        fail();
    }
    PGresult *r = PQexec(pg, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(pg));
    assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
    PQclear(r);
    PQfinish(pg);
}

/* The database URL with its last path segment replaced by dbname. */
static void db_url_for(const char *dbname, char *out, size_t len)
{
    const char *u = admin_url();
    const char *q = strchr(u, '?');
    size_t end = q ? (size_t)(q - u) : strlen(u);
    size_t slash = end;
    while (slash > 0 && u[slash - 1] != '/')
        slash--;
    snprintf(out, len, "%.*s%s%s", (int)slash, u, dbname, q ? q : "");
}

/* ---- the test clock: one file per test program, shared by its servers ---- */

static char clock_path[64];
static int64_t *clock_offset_us; /* the file, mapped */

static void clock_remove(void)
{
    unlink(clock_path);
}

/* Creates and maps the clock file (offset 0) on first use. */
static void clock_init(void)
{
    if (clock_offset_us)
        return;
    snprintf(clock_path, sizeof clock_path, "/tmp/ombud_clock_%d", (int)getpid());
    int fd = open(clock_path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, sizeof *clock_offset_us), 0);
    void *p = mmap(NULL, sizeof *clock_offset_us, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    assert_true(p != MAP_FAILED);
    clock_offset_us = p;
    atexit(clock_remove);
}

static pid_t run_binary(struct h_server *s, const char *cmd, const char *const *extra_env,
                        bool wait_exit, int *exit_code)
{
    clock_init();
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char listen[64], url[600], key[96];
        int fd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        snprintf(listen, sizeof listen, "127.0.0.1:%d", s->port);
        snprintf(url, sizeof url, "%s", s->db_url);
        snprintf(key, sizeof key, "%s", s->admin_key);
        setenv("OMBUD_LISTEN", listen, 1);
        setenv("OMBUD_DATABASE_URL", url, 1);
        setenv("OMBUD_ADMIN_KEY", key, 1);
        if (!getenv("OMBUD_THREADS"))
            setenv("OMBUD_THREADS", "4", 1);
        /* Tests drive load from one address: no rate or per-address limit
         * unless a test about them asks (extra_env comes after). */
        if (!getenv("OMBUD_RATE_LIMIT"))
            setenv("OMBUD_RATE_LIMIT", "0", 1);
        if (!getenv("OMBUD_CONN_PER_IP"))
            setenv("OMBUD_CONN_PER_IP", "0", 1);
        setenv("OMBUD_LOG_LEVEL", "debug", 1);
        setenv("OMBUD_TEST_CLOCK_FILE", clock_path, 1);
        for (size_t i = 0; extra_env && extra_env[i]; i++)
            putenv((char *)extra_env[i]);
        h_exec_binary((const char *const[]){cmd, NULL});
    }
    if (wait_exit) {
        int st = 0;
        waitpid(pid, &st, 0);
        *exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    return pid;
}

void h_server_dump_log(const struct h_server *s)
{
    char line[4096];
    FILE *f = fopen(s->log_path, "r");
    if (!f)
        return;
    fprintf(stderr, "---- server log %s ----\n", s->log_path);
    while (fgets(line, sizeof line, f))
        fputs(line, stderr);
    fclose(f);
}

void h_server_spawn(struct h_server *s, const char *const *extra_env)
{
    s->port = h_free_port();
    snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", s->port);
    s->pid = run_binary(s, "serve", extra_env, false, NULL);
    for (int i = 0; i < 300 * h_time_factor(); i++) {
        struct h_resp *r = h_req(s, "GET", "/health/live", NULL);
        long st = r->status;
        h_resp_free(r);
        if (st == 200)
            return;
        int wst;
        if (waitpid(s->pid, &wst, WNOHANG) == s->pid) {
            h_server_dump_log(s);
            fail_msg("server exited during start");
        }
        h_sleep_ms(50);
    }
    h_server_dump_log(s);
    fail_msg("server did not come up");
}

void h_server_spawn_beside(struct h_server *s, const struct h_server *first, const char *name)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dbname, sizeof s->dbname, "%s", first->dbname);
    snprintf(s->db_url, sizeof s->db_url, "%s", first->db_url);
    snprintf(s->admin_key, sizeof s->admin_key, "%s", first->admin_key);
    snprintf(s->log_path, sizeof s->log_path, "/tmp/%s-%s.log", first->dbname, name);
    unlink(s->log_path);
    h_server_spawn(s, NULL);
}

void h_server_start(struct h_server *s, const char *const *extra_env)
{
    static int counter;
    char sql[256];
    int code = -1;

    memset(s, 0, sizeof s[0]);
    snprintf(s->dbname, sizeof s->dbname, "ombud_t_%d_%d", (int)getpid(), ++counter);
    snprintf(s->log_path, sizeof s->log_path, "/tmp/%s.log", s->dbname);
    unlink(s->log_path);
    snprintf(s->admin_key, sizeof s->admin_key, "test-admin-%d-%d-secret", (int)getpid(), counter);
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", s->dbname);
    admin_exec(sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", s->dbname);
    admin_exec(sql);
    db_url_for(s->dbname, s->db_url, sizeof s->db_url);
    run_binary(s, "migrate", NULL, true, &code);
    if (code != 0)
        h_server_dump_log(s);
    assert_int_equal(code, 0);
    h_server_spawn(s, extra_env);
}

static int stop_failures;

int h_exit_status(void)
{
    return stop_failures ? 1 : 0;
}

/* Complaints whose copies of their current clocks (fr_clock, rs_clock,
 * migration 0018) differ from sla_clocks, the record: every write of a
 * clock must write the copy in the same statement. Checked on every
 * test database before it is dropped, so each test's writes are. */
static void expect_clock_copies(const struct h_server *s)
{
    PGconn *pg = PQconnectdb(s->db_url);
    if (PQstatus(pg) != CONNECTION_OK) {
        PQfinish(pg);
        return; /* the test dropped or never made its database */
    }
    PGresult *r = PQexec(
        pg, "SELECT id, resolution_cycle, t, copy, rec FROM (SELECT c.id, c.resolution_cycle,"
            " x.t, x.copy, x.rec FROM complaints c, LATERAL (VALUES"
            " ('fr', c.fr_clock, (SELECT ombud_clock_text(k) FROM sla_clocks k"
            "  WHERE k.complaint_id = c.id AND k.target = 'first_response' AND k.cycle = 1)),"
            " ('rs', c.rs_clock, (SELECT ombud_clock_text(k) FROM sla_clocks k"
            "  WHERE k.complaint_id = c.id AND k.target = 'resolution'"
            "  AND k.cycle = c.resolution_cycle))) AS x(t, copy, rec)) d"
            " WHERE NOT ombud_clock_text_same(copy, rec) ORDER BY id, t");
    int bad = 0;
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        bad = PQntuples(r);
        for (int i = 0; i < bad && i < 5; i++)
            fprintf(stderr, "complaint %s (cycle %s), %s: copy\n  %s\nbut the clock is\n  %s\n",
                    PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
                    PQgetisnull(r, i, 3) ? "(none)" : PQgetvalue(r, i, 3),
                    PQgetisnull(r, i, 4) ? "(none)" : PQgetvalue(r, i, 4));
    } else if (!strstr(PQerrorMessage(pg), "does not exist")) {
        fprintf(stderr, "clock copies: %s", PQerrorMessage(pg));
        bad = 1;
    }
    PQclear(r);
    PQfinish(pg);
    if (bad)
        fail_msg("%d clock copies differ from their clocks", bad);
}

void h_server_stop(struct h_server *s, bool drop)
{
    int st = 0;
    bool clean = true;
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, &st, 0);
        s->pid = 0;
        clean = WIFEXITED(st) && WEXITSTATUS(st) == 0;
        if (!clean) {
            h_server_dump_log(s);
            stop_failures++;
        }
    }
    if (drop && clean)
        expect_clock_copies(s);
    if (drop) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", s->dbname);
        admin_exec(sql);
        if (clean)
            unlink(s->log_path);
    }
    if (!clean)
        fail_msg("server did not exit cleanly (status %d); its log is above", st);
}

/* ---- HTTP ---- */

struct buf {
    char *p;
    size_t len;
};

static size_t on_data(char *ptr, size_t size, size_t n, void *ud)
{
    struct buf *b = ud;
    size_t add = size * n;
    char *np = realloc(b->p, b->len + add + 1);
    if (!np)
        return 0;
    b->p = np;
    memcpy(b->p + b->len, ptr, add);
    b->len += add;
    b->p[b->len] = '\0';
    return add;
}

struct upload {
    const char *data;
    size_t len, off;
};

static size_t on_read(char *ptr, size_t size, size_t n, void *ud)
{
    struct upload *u = ud;
    size_t room = size * n, left = u->len - u->off;
    size_t take = left < room ? left : room;
    if (take > 65536)
        take = 65536;
    memcpy(ptr, u->data + u->off, take);
    u->off += take;
    return take;
}

struct h_resp *h_req(struct h_server *s, const char *method, const char *path,
                     const struct h_opts *o)
{
    static const struct h_opts none;
    struct h_resp *r = calloc(1, sizeof *r);
    struct buf body = {0}, head = {0};
    struct curl_slist *hl = NULL;
    struct upload up = {0};
    char url[8192], line[512];
    CURL *c = curl_easy_init();

    assert_non_null(r);
    assert_non_null(c);
    if (!o)
        o = &none;
    snprintf(url, sizeof url, "%s%s", s->base, path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &head);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L * h_time_factor());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    hl = curl_slist_append(hl, "Expect:");
    if (o->key) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", o->key);
        hl = curl_slist_append(hl, line);
    }
    if (o->body) {
        const char *ct = o->content_type ? o->content_type : "application/json";
        if (*ct) {
            snprintf(line, sizeof line, "Content-Type: %s", ct);
            hl = curl_slist_append(hl, line);
        } else {
            hl = curl_slist_append(hl, "Content-Type:");
        }
        up.data = o->body;
        up.len = o->body_len ? o->body_len : strlen(o->body);
        if (o->chunked) {
            curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(c, CURLOPT_READDATA, &up);
            hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        } else {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, up.data);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)up.len);
        }
    }
    for (size_t i = 0; i < sizeof o->headers / sizeof o->headers[0] && o->headers[i]; i++)
        hl = curl_slist_append(hl, o->headers[i]);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    else
        r->status = 0; /* connection failed */
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    r->body = body.p ? body.p : strdup("");
    r->len = body.len;
    r->headers = head.p ? head.p : strdup("");
    if (r->len)
        r->json = json_loadb(r->body, r->len, 0, NULL);
    return r;
}

struct h_resp *h_admin(struct h_server *s, const char *method, const char *path, const char *body)
{
    struct h_opts o = {.key = s->admin_key, .body = body};
    return h_req(s, method, path, &o);
}

const char *h_header(const struct h_resp *r, const char *name, char *buf, size_t len)
{
    size_t nlen = strlen(name);
    const char *p = r->headers;
    const char *found = NULL;
    /* The last header block wins (after 100 Continue or redirects). */
    while (p && *p) {
        const char *eol = strstr(p, "\r\n");
        size_t llen = eol ? (size_t)(eol - p) : strlen(p);
        if (llen > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (*v == ' ')
                v++;
            snprintf(buf, len, "%.*s", (int)(llen - (size_t)(v - p)), v);
            found = buf;
        }
        if (!eol)
            break;
        p = eol + 2;
    }
    return found;
}

void h_resp_free(struct h_resp *r)
{
    if (!r)
        return;
    json_decref(r->json);
    free(r->body);
    free(r->headers);
    free(r);
}

void h_expect_problem(const struct h_resp *r, long status)
{
    char ct[128];
    if (r->status != status)
        fprintf(stderr, "expected %ld, got %ld: %s\n", status, r->status, r->body);
    assert_int_equal(r->status, status);
    assert_non_null(h_header(r, "Content-Type", ct, sizeof ct));
    assert_string_equal(ct, "application/problem+json");
    assert_non_null(r->json);
    assert_int_equal(json_integer_value(json_object_get(r->json, "status")), status);
    assert_true(json_is_string(json_object_get(r->json, "type")));
    assert_true(json_is_string(json_object_get(r->json, "title")));
    assert_true(json_is_string(json_object_get(r->json, "detail")));
}

bool h_problem_has_field(const struct h_resp *r, const char *field)
{
    json_t *errs = json_object_get(r->json, "errors");
    size_t i;
    json_t *e;
    json_array_foreach (errs, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "field")), field) == 0)
            return true;
    }
    return false;
}

json_t *h_sql(const struct h_server *s, const char *sql)
{
    PGconn *pg = PQconnectdb(s->db_url);
    assert_int_equal(PQstatus(pg), CONNECTION_OK);
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
        fprintf(stderr, "%s: %s", sql, PQerrorMessage(pg));
    assert_true(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK);
    json_t *rows = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        json_t *row = json_array();
        for (int j = 0; j < PQnfields(r); j++)
            json_array_append_new(row, PQgetisnull(r, i, j) ? json_null()
                                                            : json_string(PQgetvalue(r, i, j)));
        json_array_append_new(rows, row);
    }
    PQclear(r);
    PQfinish(pg);
    return rows;
}

void h_make_key(struct h_server *s, const char *role, char *out, size_t len)
{
    char body[128];
    snprintf(body, sizeof body, "{\"name\":\"%s key\",\"role\":\"%s\"}", role, role);
    struct h_resp *r = h_admin(s, "POST", "/v1/api-keys", body);
    assert_int_equal(r->status, 201);
    snprintf(out, len, "%s", json_string_value(json_object_get(r->json, "key")));
    h_resp_free(r);
}

/* ---- the test library ---- */

struct h_resp *h_call_json(struct h_server *s, const char *method, const char *path,
                           const char *key, json_t *body, const char *header)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    assert_true(body == NULL || text != NULL);
    struct h_opts o = {.key = key, .body = text, .headers = {header}};
    struct h_resp *r = h_req(s, method, path, &o);
    free(text);
    return r;
}

void h_expect_status(const struct h_resp *r, long status)
{
    if (r->status != status)
        fprintf(stderr, "expected %ld, got %ld: %s\n", status, r->status, r->body);
    assert_int_equal(r->status, status);
}

void h_expect_invalid(const struct h_resp *r, const char *field)
{
    h_expect_problem(r, 422);
    if (!h_problem_has_field(r, field))
        fail_msg("422 does not name %s: %s", field, r->body);
}

void h_expect_fields(const struct h_resp *r, const char *const *fields)
{
    size_t n = 0, i;
    json_t *e;
    h_expect_problem(r, 422);
    for (; fields[n]; n++)
        if (!h_problem_has_field(r, fields[n]))
            fail_msg("422 does not name %s: %s", fields[n], r->body);
    json_array_foreach (json_object_get(r->json, "errors"), i, e) {
        const char *f = json_string_value(json_object_get(e, "field"));
        bool expected = false;
        assert_non_null(f);
        assert_true(json_is_string(json_object_get(e, "message")));
        for (size_t k = 0; k < n && !expected; k++)
            expected = strcmp(fields[k], f) == 0;
        if (!expected)
            fail_msg("unexpected field %s in %s", f, r->body);
    }
    json_t *errs = json_object_get(r->json, "errors");
    if (json_array_size(errs) != n)
        fail_msg("expected %zu errors, got %zu: %s", n, json_array_size(errs), r->body);
}

int64_t h_jint(const json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer", name);
    return (int64_t)json_integer_value(v);
}

const char *h_jstr(const json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

const char *h_jstr_must(const json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_string(v))
        fail_msg("%s is not a string", name);
    return json_string_value(v);
}

bool h_jnull(const json_t *o, const char *name)
{
    return json_is_null(json_object_get(o, name));
}

void h_dump(const char *what, const json_t *j)
{
    char *text = json_dumps(j, JSON_INDENT(1));
    fprintf(stderr, "%s: %s\n", what, text ? text : "?");
    free(text);
}

int64_t h_make_team(struct h_server *s, const char *name)
{
    char loc[64], want[64];
    struct h_resp *r =
        h_call_json(s, "POST", "/v1/teams", s->admin_key,
                    json_pack("{s:s, s:s}", "name", name, "assignment", "manual"), NULL);
    h_expect_status(r, 201);
    int64_t id = h_jint(r->json, "id");
    snprintf(want, sizeof want, "/v1/teams/%lld", (long long)id);
    assert_string_equal(h_header(r, "Location", loc, sizeof loc), want);
    assert_string_equal(h_jstr_must(r->json, "name"), name);
    h_resp_free(r);
    return id;
}

int64_t h_make_agent(struct h_server *s, const char *name, const char *role, int64_t team)
{
    json_t *b = json_pack("{s:s, s:s}", "name", name, "role", role);
    if (team) {
        json_object_set_new(b, "team_id", json_integer(team));
        json_object_set_new(b, "active", json_true());
    }
    struct h_resp *r = h_call_json(s, "POST", "/v1/agents", s->admin_key, b, NULL);
    h_expect_status(r, 201);
    int64_t id = h_jint(r->json, "id");
    if (team)
        assert_int_equal(h_jint(r->json, "team_id"), team);
    h_resp_free(r);
    return id;
}

json_t *h_post_complaint(struct h_server *s, const char *key, json_t *body)
{
    if (!body)
        body = json_pack("{s:s, s:s, s:{s:s}}", "title", "Late parcel", "description",
                         "The parcel was promised for Monday.", "customer", "name", "Grace Hopper");
    struct h_resp *r = h_call_json(s, "POST", "/v1/complaints", key, body, NULL);
    h_expect_status(r, 201);
    json_t *out = json_incref(r->json);
    h_resp_free(r);
    return out;
}

int64_t h_make_complaint(struct h_server *s, const char *key, json_t *body)
{
    json_t *c = h_post_complaint(s, key, body);
    int64_t id = h_jint(c, "id");
    json_decref(c);
    return id;
}

static char *sql_value_v(const struct h_server *s, const char *fmt, va_list ap)
{
    /* Sized to fit: a fixed buffer would cut long queries short silently. */
    va_list again;
    va_copy(again, ap);
    int len = vsnprintf(NULL, 0, fmt, again);
    va_end(again);
    assert_true(len >= 0);
    char *sql = malloc((size_t)len + 1);
    assert_non_null(sql);
    vsnprintf(sql, (size_t)len + 1, fmt, ap);
    json_t *rows = h_sql(s, sql);
    free(sql);
    assert_int_equal(json_array_size(rows), 1);
    const char *v = json_string_value(json_array_get(json_array_get(rows, 0), 0));
    char *out = v ? strdup(v) : NULL;
    json_decref(rows);
    assert_true(!v || out);
    return out;
}

char *h_sql_value(const struct h_server *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = sql_value_v(s, fmt, ap);
    va_end(ap);
    return out;
}

long long h_sql_int(const struct h_server *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *v = sql_value_v(s, fmt, ap);
    va_end(ap);
    assert_non_null(v);
    long long n = strtoll(v, NULL, 10);
    free(v);
    return n;
}

long long h_half_written_complaints(const struct h_server *s)
{
    return h_sql_int(s, "SELECT count(*) FROM complaints c WHERE"
                        " (SELECT count(*) FROM sla_clocks k WHERE k.complaint_id = c.id) <> 2"
                        " OR NOT EXISTS (SELECT 1 FROM complaint_events e"
                        " WHERE e.complaint_id = c.id AND e.kind = 'created')"
                        " OR NOT EXISTS (SELECT 1 FROM changes ch"
                        " WHERE ch.complaint_id = c.id AND ch.type = 'complaint.created')"
                        " OR NOT EXISTS (SELECT 1 FROM idempotency_keys k"
                        " WHERE k.complaint_id = c.id)");
}

void h_b64url(const char *plain, char *out)
{
    ombud_cursor_b64url(plain, strlen(plain), out);
}

/* ---- SLA: policies, clocks, alerts and timelines ---- */

void h_make_category(struct h_server *s, const char *key)
{
    struct h_resp *r = h_call_json(s, "POST", "/v1/categories", s->admin_key,
                                   json_pack("{s:s, s:s}", "key", key, "name", key), NULL);
    h_expect_status(r, 201);
    h_resp_free(r);
}

int64_t h_make_policy(struct h_server *s, const char *name, int position, json_t *match,
                      int fr_minutes, int res_minutes, const char *warnings, int64_t calendar)
{
    json_t *b = json_pack("{s:s, s:i, s:i, s:i}", "name", name, "position", position,
                          "first_response_minutes", fr_minutes, "resolution_minutes", res_minutes);
    if (match)
        json_object_set_new(b, "match", match);
    if (warnings) {
        json_t *w = json_loads(warnings, JSON_DECODE_ANY, NULL);
        assert_non_null(w);
        json_object_set_new(b, "warnings", w);
    }
    if (calendar)
        json_object_set_new(b, "calendar_id", json_integer(calendar));
    struct h_resp *r = h_call_json(s, "POST", "/v1/sla-policies", s->admin_key, b, NULL);
    h_expect_status(r, 201);
    int64_t id = h_jint(r->json, "id");
    h_resp_free(r);
    return id;
}

json_t *h_get_complaint(struct h_server *s, const char *key, int64_t id)
{
    char path[64];
    snprintf(path, sizeof path, "/v1/complaints/%lld", (long long)id);
    struct h_resp *r = h_call_json(s, "GET", path, key, NULL, NULL);
    h_expect_status(r, 200);
    json_t *c = json_incref(r->json);
    h_resp_free(r);
    return c;
}

json_t *h_transition(struct h_server *s, const char *key, int64_t id, const char *action)
{
    char path[96];
    json_t *b = json_pack("{s:s}", "action", action);
    if (strcmp(action, "resolve") == 0)
        json_object_set_new(b, "resolution", json_pack("{s:s}", "summary", "Sent a new one."));
    snprintf(path, sizeof path, "/v1/complaints/%lld/transitions", (long long)id);
    struct h_resp *r = h_call_json(s, "POST", path, key, b, NULL);
    h_expect_status(r, 200);
    json_t *c = json_incref(r->json);
    h_resp_free(r);
    return c;
}

json_t *h_sla_clock(const json_t *complaint, const char *target)
{
    json_t *k = json_object_get(json_object_get(complaint, "sla"), target);
    if (!json_is_object(k))
        fail_msg("no %s clock", target);
    return k;
}

json_t *h_sla_warning(const json_t *clock, int level)
{
    size_t i;
    json_t *w;
    json_array_foreach (json_object_get(clock, "warnings"), i, w) {
        if (h_jint(w, "level") == level)
            return w;
    }
    fail_msg("no warning level %d", level);
    return NULL;
}

json_t *h_alerts(struct h_server *s, int64_t id)
{
    char path[128];
    snprintf(path, sizeof path, "/v1/alerts?state=all&limit=200&complaint_id=%lld", (long long)id);
    struct h_resp *r = h_call_json(s, "GET", path, s->admin_key, NULL, NULL);
    h_expect_status(r, 200);
    assert_true(json_is_null(json_object_get(r->json, "next_cursor")));
    json_t *items = json_object_get(r->json, "items"); /* newest first */
    json_t *out = json_array();
    for (size_t i = json_array_size(items); i > 0; i--)
        json_array_append(out, json_array_get(items, i - 1));
    h_resp_free(r);
    return out;
}

json_t *h_wait_alerts(struct h_server *s, int64_t id, size_t n, int64_t ms)
{
    int64_t end = h_real_ms() + ms * h_time_factor();
    for (;;) {
        json_t *a = h_alerts(s, id);
        if (json_array_size(a) >= n || h_real_ms() > end)
            return a;
        json_decref(a);
        h_sleep_ms(100);
    }
}

size_t h_count_alerts(const json_t *alerts, const char *kind, const char *target, int cycle,
                      int level, json_t **found)
{
    size_t i, n = 0;
    json_t *a;
    json_array_foreach (alerts, i, a) {
        if (strcmp(h_jstr_must(a, "kind"), kind) == 0 &&
            strcmp(h_jstr_must(a, "target"), target) == 0 && h_jint(a, "cycle") == cycle &&
            (level < 0 || h_jint(a, "level") == level)) {
            if (found && !n)
                *found = a;
            n++;
        }
    }
    return n;
}

json_t *h_the_alert(const json_t *alerts, const char *kind, const char *target, int cycle,
                    int level)
{
    json_t *a = NULL;
    size_t n = h_count_alerts(alerts, kind, target, cycle, level, &a);
    if (n != 1) {
        h_dump("alerts", alerts);
        fail_msg("%zu alerts %s %s cycle %d level %d, want 1", n, kind, target, cycle, level);
    }
    return a;
}

void h_expect_on_time(const struct h_server *s, const json_t *a, int64_t moment)
{
    int64_t offset_ms = h_clock_offset_ms();
    assert_int_equal(h_jtime(a, "scheduled_at"), moment);
    /* The offset is whole seconds (h_clock_advance), so the sum is exact. */
    h_expect_between(h_jtime(a, "created_at") + offset_ms / 1000 - moment, 0, 2,
                     "alert raised after its moment");
    char *v = h_sql_value(s,
                          "SELECT extract(epoch FROM created_at - scheduled_at)::text"
                          " FROM alerts WHERE id = %lld",
                          (long long)h_jint(a, "id"));
    assert_non_null(v);
    double lag = strtod(v, NULL) + (double)offset_ms / 1000.0;
    free(v);
    if (lag < 0 || lag > 2.0)
        fail_msg("alert %lld raised %.3f s after its moment", (long long)h_jint(a, "id"), lag);
    assert_true(h_jnull(a, "acknowledged_at"));
    assert_true(h_jnull(a, "acknowledged_by"));
}

json_t *h_events(struct h_server *s, int64_t id)
{
    char path[96];
    snprintf(path, sizeof path, "/v1/complaints/%lld/events?limit=200", (long long)id);
    struct h_resp *r = h_call_json(s, "GET", path, s->admin_key, NULL, NULL);
    h_expect_status(r, 200);
    assert_true(json_is_null(json_object_get(r->json, "next_cursor")));
    json_t *items = json_incref(json_object_get(r->json, "items"));
    h_resp_free(r);
    return items;
}

size_t h_count_events(const json_t *evs, const char *kind)
{
    size_t i, n = 0;
    json_t *ev;
    json_array_foreach (evs, i, ev)
        n += strcmp(h_jstr_must(ev, "kind"), kind) == 0;
    return n;
}

void h_expect_alert_event(const json_t *evs, const json_t *alert)
{
    size_t i, n = 0;
    json_t *ev;
    bool breach = strcmp(h_jstr_must(alert, "kind"), "sla_breach") == 0;
    json_array_foreach (evs, i, ev) {
        json_t *d = json_object_get(ev, "data");
        if (!json_is_integer(json_object_get(d, "alert_id")) ||
            h_jint(d, "alert_id") != h_jint(alert, "id"))
            continue;
        n++;
        assert_string_equal(h_jstr(ev, "kind"), breach ? "sla_breached" : "sla_warning");
        json_t *actor = json_object_get(ev, "actor");
        assert_string_equal(h_jstr(actor, "type"), "system");
        assert_null(json_object_get(actor, "key_id"));
        assert_string_equal(h_jstr(d, "target"), h_jstr(alert, "target"));
        assert_int_equal(h_jint(d, "cycle"), h_jint(alert, "cycle"));
        assert_string_equal(h_jstr(d, "scheduled_at"), h_jstr(alert, "scheduled_at"));
        if (breach)
            assert_null(json_object_get(d, "level"));
        else
            assert_int_equal(h_jint(d, "level"), h_jint(alert, "level"));
        /* Both stamped by PostgreSQL, in one transaction. */
        h_expect_between(h_jtime(ev, "created_at") - h_jtime(alert, "created_at"), -1, 1,
                         "event written with its alert");
    }
    if (n != 1) {
        h_dump("timeline", evs);
        fail_msg("%zu timeline events for alert %lld, want 1", n, (long long)h_jint(alert, "id"));
    }
}

/* ---- time ---- */

int64_t h_epoch(const char *s)
{
    struct tm tm = {0};
    if (!s)
        fail_msg("time is missing");
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6 ||
        strlen(s) != 20)
        fail_msg("not an RFC 3339 UTC time: %s", s);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

int64_t h_jtime(const json_t *o, const char *name)
{
    return h_epoch(h_jstr(o, name));
}

void h_expect_between(int64_t v, int64_t lo, int64_t hi, const char *what)
{
    if (v < lo || v > hi)
        fail_msg("%s: %lld is not within [%lld, %lld]", what, (long long)v, (long long)lo,
                 (long long)hi);
}

int64_t h_real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t h_clock_offset_ms(void)
{
    return clock_offset_us ? __atomic_load_n(clock_offset_us, __ATOMIC_ACQUIRE) / 1000 : 0;
}

int64_t h_now_ms(void)
{
    return h_real_ms() + h_clock_offset_ms();
}

void h_sleep_until_ms(int64_t at_ms)
{
    int64_t left = at_ms - h_now_ms();
    if (left > 0)
        h_sleep_ms((long)left);
}

void h_clock_wait_pass(struct h_server *s)
{
    /* A pass stamped in this second of the servers' clock or later; the
     * NOTIFY makes the worker run one at once rather than at its next moment. */
    int64_t want = h_now_ms() / 1000;
    json_decref(h_sql(s, "NOTIFY ombud_sla"));
    for (int i = 0; i < 200 * h_time_factor(); i++) {
        struct h_resp *r = h_req(s, "GET", "/health/ready", NULL);
        const char *at = h_jstr(json_object_get(r->json, "sla_worker"), "last_pass_at");
        bool done = at && h_epoch(at) >= want;
        h_resp_free(r);
        if (done)
            return;
        h_sleep_ms(25);
    }
    fail_msg("the SLA worker of %s made no pass after the clock moved", s->base);
}

void h_clock_shift(int64_t seconds)
{
    clock_init();
    assert_true(seconds >= 0);
    __atomic_add_fetch(clock_offset_us, seconds * 1000000, __ATOMIC_ACQ_REL);
}

void h_clock_advance(struct h_server *s, int64_t seconds)
{
    h_clock_shift(seconds);
    h_clock_wait_pass(s);
}

void h_clock_advance_to(struct h_server *s, int64_t at_s, int64_t lead_ms)
{
    int64_t ahead_ms = at_s * 1000 - lead_ms - h_now_ms();
    if (ahead_ms >= 1000)
        h_clock_advance(s, ahead_ms / 1000);
}

PGresult *h_pg_ok(PGconn *pg, const char *sql)
{
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(pg));
    return r;
}

long long h_metric(struct h_server *s, const char *name)
{
    char key[160];
    struct h_resp *r = h_req(s, "GET", "/metrics", NULL);
    h_expect_status(r, 200);
    snprintf(key, sizeof key, "\n%s ", name);
    const char *at = strstr(r->body, key);
    if (!at)
        fail_msg("no %s in /metrics", name);
    long long v = strtoll(at + strlen(key), NULL, 10);
    h_resp_free(r);
    return v;
}
