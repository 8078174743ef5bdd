/*
 * Configuration from the environment. The table below is the one list of
 * variables: it drives parsing, defaults and `ombud --help`. Parsing takes
 * a getter so unit tests need not touch the process environment.
 */
#include "ombud/config.h"
#include "ombud/rate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ombud_config ombud_cf;

const struct ombud_config_var ombud_config_vars[] = {
    {"OMBUD_DATABASE_URL", "postgresql:///ombud", "PostgreSQL connection URI (libpq syntax)"},
    {"OMBUD_LISTEN", "127.0.0.1:8080", "address and port to serve HTTP on (host:port)"},
    {"OMBUD_THREADS", NULL,
     "HTTP threads that may wait on the database; one more runs, and while the database "
     "stalls one is kept out of it (default: number of cores)"},
    {"OMBUD_DB_POOL", NULL, "database connections per process (default: threads + 2)"},
    {"OMBUD_ADMIN_KEY", "", "when set, ensured at start to be a valid admin API key"},
    {"OMBUD_MAX_BODY_BYTES", "1048576", "largest request body accepted (413 beyond)"},
    {"OMBUD_LOG_LEVEL", "info", "debug, info, warn or error"},
    {"OMBUD_CORS_ORIGINS", "", "comma-separated browser origins allowed by CORS, or *"},
    {"OMBUD_CONN_TIMEOUT", "30", "seconds an idle HTTP connection is kept open"},
    {"OMBUD_CONN_LIMIT", "1024",
     "most concurrent HTTP connections; past it a new client is answered 503 and closed"},
    {"OMBUD_CONN_PER_IP", "64",
     "most concurrent HTTP connections from one client address (0: no limit; behind a proxy "
     "raise it or use 0)"},
    {"OMBUD_HEADER_TIMEOUT_MS", "10000",
     "milliseconds a connection has to send a whole request head (from its start, or from the "
     "request line on a kept-alive one) before it is closed"},
    {"OMBUD_BODY_TIMEOUT_MS", "60000",
     "milliseconds after its head by which a request body must be whole, else the connection "
     "is closed"},
    {"OMBUD_RATE_LIMIT", "1000", "requests a second per API key, per process (0: no limit)"},
    {"OMBUD_RATE_BURST", NULL,
     "requests an API key may make at once before the rate applies (default: twice the rate)"},
    {"OMBUD_DB_TIMEOUT_MS", "2000", "wait for a free database connection before 503"},
    {"OMBUD_STATEMENT_TIMEOUT_MS", "5000", "PostgreSQL statement_timeout per statement"},
    {"OMBUD_REQUEST_TIMEOUT_MS", "5000",
     "longest a request waits for a database slot, a connection and its statements before 503"},
    {"OMBUD_DRAIN_SECONDS", "10", "on SIGTERM, how long in-flight requests may finish"},
    {"OMBUD_STREAM_KEEPALIVE_MS", "15000", "/v1/stream: keep-alive comment after this long idle"},
    {"OMBUD_STREAM_BUFFER_BYTES", "262144",
     "/v1/stream: bytes a slow client may fall behind before it is closed"},
    {"OMBUD_WEBHOOK_ALLOW_HTTP", "0", "1: webhook URLs may use plain http (else https only)"},
    {"OMBUD_WEBHOOK_ALLOW_PRIVATE", "0",
     "1: webhooks may reach loopback, private, link-local and unique-local addresses"},
    {"OMBUD_WEBHOOK_RETRY_SCALE", "1",
     "divides webhook retry delays and the 24 h retry window (tests: 1000)"},
};
const size_t ombud_config_nvars = sizeof ombud_config_vars / sizeof ombud_config_vars[0];

static const char *value(const char *(*get)(void *, const char *), void *ctx, const char *name)
{
    const char *v = get(ctx, name);
    if (v && *v)
        return v;
    for (size_t i = 0; i < ombud_config_nvars; i++)
        if (strcmp(ombud_config_vars[i].name, name) == 0)
            return ombud_config_vars[i].def;
    return NULL;
}

static bool parse_uint(const char *s, unsigned long long lo, unsigned long long hi,
                       unsigned long long *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static unsigned uint_var(const char *(*get)(void *, const char *), void *ctx, const char *name,
                         unsigned long long lo, unsigned long long hi, unsigned long long dflt,
                         struct ombud_err *err)
{
    const char *s = value(get, ctx, name);
    unsigned long long v;
    if (!s)
        return (unsigned)dflt;
    if (!parse_uint(s, lo, hi, &v)) {
        ombud_err_field(err, name, "must be an integer from %llu to %llu", lo, hi);
        return (unsigned)dflt;
    }
    return (unsigned)v;
}

static void copy_var(char *dst, size_t len, const char *src, const char *name,
                     struct ombud_err *err)
{
    if (!src)
        src = "";
    if (strlen(src) >= len) {
        ombud_err_field(err, name, "is longer than %zu bytes", len - 1);
        dst[0] = '\0';
        return;
    }
    memcpy(dst, src, strlen(src) + 1);
}

static void parse_listen(const char *s, struct ombud_config *cfg, struct ombud_err *err)
{
    const char *colon = strrchr(s, ':');
    unsigned long long port;
    size_t hostlen;

    if (!colon || !parse_uint(colon + 1, 0, 65535, &port)) {
        ombud_err_field(err, "OMBUD_LISTEN", "must be host:port with a port from 0 to 65535");
        return;
    }
    hostlen = (size_t)(colon - s);
    bool open_br = hostlen >= 1 && s[0] == '[';
    bool close_br = hostlen >= 1 && s[hostlen - 1] == ']';
    if (open_br != close_br || (open_br && hostlen < 3)) {
        ombud_err_field(err, "OMBUD_LISTEN", "has unbalanced brackets around the host");
        return;
    }
    if (open_br) {
        s++;
        hostlen -= 2;
    }
    if (hostlen == 0 || hostlen >= sizeof cfg->listen_host) {
        ombud_err_field(err, "OMBUD_LISTEN", "host must be 1 to %zu bytes",
                        sizeof cfg->listen_host - 1);
        return;
    }
    memcpy(cfg->listen_host, s, hostlen);
    cfg->listen_host[hostlen] = '\0';
    cfg->listen_port = (uint16_t)port;
}

enum ombud_rc ombud_config_load(struct ombud_config *cfg,
                                const char *(*get)(void *ctx, const char *name), void *ctx,
                                struct ombud_err *err)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    const char *s;

    memset(cfg, 0, sizeof *cfg);
    ombud_err_clear(err);
    if (cores < 1)
        cores = 1;

    copy_var(cfg->database_url, sizeof cfg->database_url, value(get, ctx, "OMBUD_DATABASE_URL"),
             "OMBUD_DATABASE_URL", err);
    parse_listen(value(get, ctx, "OMBUD_LISTEN"), cfg, err);
    cfg->threads = uint_var(get, ctx, "OMBUD_THREADS", 1, 1024, (unsigned long long)cores, err);
    cfg->db_pool = uint_var(get, ctx, "OMBUD_DB_POOL", 1, 1024, cfg->threads + 2ull, err);
    s = value(get, ctx, "OMBUD_ADMIN_KEY");
    copy_var(cfg->admin_key, sizeof cfg->admin_key, s, "OMBUD_ADMIN_KEY", err);
    if (cfg->admin_key[0] && strlen(cfg->admin_key) < 16)
        ombud_err_field(err, "OMBUD_ADMIN_KEY", "must be at least 16 characters");
    cfg->max_body_bytes =
        uint_var(get, ctx, "OMBUD_MAX_BODY_BYTES", 1024, 1024ull * 1024 * 1024, 1048576, err);
    s = value(get, ctx, "OMBUD_LOG_LEVEL");
    if (!ombud_log_parse_level(s, &cfg->log_level)) {
        ombud_err_field(err, "OMBUD_LOG_LEVEL", "must be debug, info, warn or error");
        cfg->log_level = OMBUD_LOG_INFO;
    }
    copy_var(cfg->cors_origins, sizeof cfg->cors_origins, value(get, ctx, "OMBUD_CORS_ORIGINS"),
             "OMBUD_CORS_ORIGINS", err);
    cfg->conn_timeout = uint_var(get, ctx, "OMBUD_CONN_TIMEOUT", 1, 86400, 30, err);
    cfg->conn_limit = uint_var(get, ctx, "OMBUD_CONN_LIMIT", 1, 1000000, 1024, err);
    cfg->conn_per_ip = uint_var(get, ctx, "OMBUD_CONN_PER_IP", 0, 1000000, 64, err);
    cfg->header_timeout_ms =
        uint_var(get, ctx, "OMBUD_HEADER_TIMEOUT_MS", 100, 3600000, 10000, err);
    cfg->body_timeout_ms = uint_var(get, ctx, "OMBUD_BODY_TIMEOUT_MS", 100, 3600000, 60000, err);
    cfg->rate_limit = uint_var(get, ctx, "OMBUD_RATE_LIMIT", 0, OMBUD_RATE_MAX, 1000, err);
    {
        unsigned long long dflt = cfg->rate_limit ? 2ull * cfg->rate_limit : 1;
        if (dflt > OMBUD_RATE_MAX)
            dflt = OMBUD_RATE_MAX;
        cfg->rate_burst = uint_var(get, ctx, "OMBUD_RATE_BURST", 1, OMBUD_RATE_MAX, dflt, err);
    }
    cfg->db_timeout_ms = uint_var(get, ctx, "OMBUD_DB_TIMEOUT_MS", 1, 600000, 2000, err);
    cfg->statement_timeout_ms =
        uint_var(get, ctx, "OMBUD_STATEMENT_TIMEOUT_MS", 1, 3600000, 5000, err);
    cfg->request_timeout_ms =
        uint_var(get, ctx, "OMBUD_REQUEST_TIMEOUT_MS", 10, 3600000, 5000, err);
    cfg->drain_seconds = uint_var(get, ctx, "OMBUD_DRAIN_SECONDS", 0, 3600, 10, err);
    cfg->stream_keepalive_ms =
        uint_var(get, ctx, "OMBUD_STREAM_KEEPALIVE_MS", 100, 3600000, 15000, err);
    cfg->stream_buffer_bytes =
        uint_var(get, ctx, "OMBUD_STREAM_BUFFER_BYTES", 4096, 1024ull * 1024 * 1024, 262144, err);
    cfg->webhook_allow_http = uint_var(get, ctx, "OMBUD_WEBHOOK_ALLOW_HTTP", 0, 1, 0, err) == 1;
    cfg->webhook_allow_private =
        uint_var(get, ctx, "OMBUD_WEBHOOK_ALLOW_PRIVATE", 0, 1, 0, err) == 1;
    cfg->webhook_retry_scale = uint_var(get, ctx, "OMBUD_WEBHOOK_RETRY_SCALE", 1, 100000, 1, err);
    if (err->nfields) {
        ombud_err_set(err, OMBUD_E_CONFIG, NULL, "%zu variable%s invalid", err->nfields,
                      err->nfields == 1 ? " is" : "s are");
        return OMBUD_ERROR;
    }
    return OMBUD_OK;
}

bool ombud_config_cors_allows(const struct ombud_config *cfg, const char *origin)
{
    const char *p = cfg->cors_origins;
    size_t olen;

    if (!origin || !*origin || !*p)
        return false;
    olen = strlen(origin);
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        const char *end = p;
        while (end > start && end[-1] == ' ')
            end--;
        size_t len = (size_t)(end - start);
        if ((len == 1 && *start == '*') || (len == olen && memcmp(start, origin, len) == 0))
            return true;
    }
    return false;
}
