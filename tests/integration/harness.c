/* Integration harness; see harness.h. */
#include "harness.h"

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

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
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

static pid_t run_binary(struct h_server *s, const char *cmd, const char *const *extra_env,
                        bool wait_exit, int *exit_code)
{
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
        setenv("OMBUD_LOG_LEVEL", "debug", 1);
        for (size_t i = 0; extra_env && extra_env[i]; i++)
            putenv((char *)extra_env[i]);
        execl(OMBUD_BINARY, "ombud", cmd, (char *)NULL);
        _exit(127);
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
    s->port = free_port();
    snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", s->port);
    s->pid = run_binary(s, "serve", extra_env, false, NULL);
    for (int i = 0; i < 300; i++) {
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
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
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
    json_array_foreach(errs, i, e) {
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
