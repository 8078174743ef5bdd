/*
 * Configuration: environment variables only, read once at start and frozen
 * before any thread starts. The table of variables is the single source for
 * parsing, defaults and `ombud --help`.
 */
#ifndef OMBUD_CONFIG_H
#define OMBUD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/err.h"
#include "ombud/log.h"

struct ombud_config {
    char database_url[1024];
    char listen_host[256];
    uint16_t listen_port;
    unsigned threads;
    unsigned db_pool;
    char admin_key[256]; /* empty: none */
    size_t max_body_bytes;
    enum ombud_log_level log_level;
    char cors_origins[2048];       /* comma-separated; "*" for any; empty: CORS off */
    unsigned conn_timeout;         /* seconds idle before MHD closes a connection */
    unsigned conn_limit;           /* past it, a new connection is answered 503 */
    unsigned conn_per_ip;          /* most connections from one address; 0: any */
    unsigned header_timeout_ms;    /* a request head must be whole by then */
    unsigned body_timeout_ms;      /* a body must be whole this long after its head */
    unsigned rate_limit;           /* requests a second per API key; 0: off */
    unsigned rate_burst;           /* the bucket's size */
    unsigned db_timeout_ms;        /* pool checkout wait before 503 */
    unsigned statement_timeout_ms; /* PostgreSQL statement_timeout */
    unsigned request_timeout_ms;   /* a request's deadline for the database (503 beyond) */
    unsigned drain_seconds;        /* SIGTERM: how long in-flight requests may finish */
    unsigned stream_keepalive_ms;  /* /v1/stream: a comment after this long without an event */
    size_t stream_buffer_bytes;    /* /v1/stream: most bytes waiting for one slow client */
    bool webhook_allow_http;       /* webhook URLs may be http:// */
    bool webhook_allow_private;    /* webhooks may reach private addresses */
    unsigned webhook_retry_scale;  /* retry delays and window divided by this */
};

struct ombud_config_var {
    const char *name;
    const char *def; /* shown in --help; NULL when computed */
    const char *help;
};

extern const struct ombud_config_var ombud_config_vars[];
extern const size_t ombud_config_nvars;

/* Reads every variable through get(ctx, name) (NULL: unset) into cfg.
 * Collects every bad variable into err as field errors. */
OMBUD_MUSTCHECK enum ombud_rc ombud_config_load(struct ombud_config *cfg,
                                                const char *(*get)(void *ctx, const char *name),
                                                void *ctx, struct ombud_err *err);

/* Whether a browser Origin is allowed by cors_origins. */
bool ombud_config_cors_allows(const struct ombud_config *cfg, const char *origin);

/* The frozen process configuration (set once by main). */
extern struct ombud_config ombud_cf;

#endif
