/*
 * ombud: serve (default), migrate, version, --help.
 *
 * Start-up order matters: configuration is read and frozen, the jansson
 * hash seed is set, and SIGINT/SIGTERM are blocked before any thread
 * exists, so every MHD thread inherits the mask and only the main thread
 * (in sigwait) sees them. SIGPIPE is ignored: a client that hangs up must
 * not kill the process.
 */
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "ombud/config.h"
#include "ombud/service/api_keys.h"
#include "ombud/db/pool.h"
#include "ombud/http.h"
#include "ombud/keys.h"
#include "ombud/log.h"
#include "ombud/migrate.h"
#include "ombud/outbound.h"
#include "ombud/sla_worker.h"

static const char *env_get(void *ctx, const char *name)
{
    return getenv(name);
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: ombud [serve|migrate|version|--help]\n\n"
               "  serve     serve the HTTP API (default); refuses a schema that is behind\n"
               "  migrate   apply pending database migrations, then exit\n"
               "  version   print the version\n\n"
               "Exit status: 0 stopped by SIGTERM or SIGINT; 1 could not start; 2 usage;\n"
               "3 could not listen on OMBUD_LISTEN (the address is taken).\n\n"
               "Environment:\n");
    for (size_t i = 0; i < ombud_config_nvars; i++)
        fprintf(f, "  %-28s %s%s%s%s\n", ombud_config_vars[i].name, ombud_config_vars[i].help,
                ombud_config_vars[i].def && ombud_config_vars[i].def[0] ? " (default: " : "",
                ombud_config_vars[i].def && ombud_config_vars[i].def[0] ? ombud_config_vars[i].def
                                                                        : "",
                ombud_config_vars[i].def && ombud_config_vars[i].def[0] ? ")" : "");
}

static int fail(const char *event, const struct ombud_err *err)
{
    ombud_log(OMBUD_LOG_ERROR, event, "%s", err->detail);
    for (size_t i = 0; i < err->nfields; i++)
        ombud_log(OMBUD_LOG_ERROR, event, "%s %s", err->fields[i].field, err->fields[i].message);
    return 1;
}

/* Waits (bounded) for the database at start: in a fresh deployment the
 * database may come up a little after the service. */
static enum ombud_rc wait_for_schema(int *version, struct ombud_err *err)
{
    for (int attempt = 0; attempt < 30; attempt++) {
        ombud_err_clear(err);
        if (ombud_migrate_current(ombud_cf.database_url, version, err) == OMBUD_OK)
            return OMBUD_OK;
        if (err->kind != OMBUD_E_UNAVAILABLE)
            return OMBUD_ERROR;
        if (attempt == 0)
            ombud_log(OMBUD_LOG_WARN, "db_wait", "waiting for the database: %s", err->detail);
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
    }
    return OMBUD_ERROR;
}

static enum ombud_rc ensure_admin_tx(struct ombud_db_conn *c, void *ctx, struct ombud_err *err)
{
    return ombud_svc_key_ensure_admin(c, ctx, err);
}

static int serve(void)
{
    struct ombud_err err;
    int version = 0;
    sigset_t set;
    int sig = 0;

    if (wait_for_schema(&version, &err) != OMBUD_OK)
        return fail("start_failed", &err);
    if (version < ombud_migrate_latest()) {
        ombud_log(OMBUD_LOG_ERROR, "schema_behind",
                  "database schema is at version %d, this binary needs %d: run `ombud migrate`",
                  version, ombud_migrate_latest());
        return 1;
    }

    /* Every open stream is a socket: take all the descriptors allowed. */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
        nofile.rlim_cur = nofile.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &nofile);
    }

    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct ombud_db_pool *pool =
        ombud_db_pool_new(ombud_cf.database_url, ombud_cf.db_pool, ombud_cf.db_timeout_ms,
                          ombud_cf.statement_timeout_ms);
    if (!pool) {
        ombud_err_internal(&err, "out of memory");
        return fail("start_failed", &err);
    }
    if (ombud_cf.admin_key[0]) {
        char hash[OMBUD_HASH_BUFLEN];
        if (ombud_key_hash(ombud_cf.admin_key, strlen(ombud_cf.admin_key), hash) != OMBUD_OK ||
            ombud_tx_run(pool, ensure_admin_tx, hash, &err) != OMBUD_OK) {
            ombud_db_pool_free(pool);
            return fail("admin_key_failed", &err);
        }
    }
    if (ombud_sla_worker_start(ombud_cf.database_url, &err) != OMBUD_OK) {
        ombud_db_pool_free(pool);
        return fail("start_failed", &err);
    }
    if (ombud_webhook_sender_start(ombud_cf.database_url, &err) != OMBUD_OK) {
        ombud_sla_worker_stop();
        ombud_db_pool_free(pool);
        return fail("start_failed", &err);
    }
    struct MHD_Daemon *d = ombud_http_start(pool, &err);
    if (!d) {
        ombud_webhook_sender_stop();
        ombud_sla_worker_stop();
        ombud_db_pool_free(pool);
        /* Its own status, so that a launcher may try another port. */
        int rc = fail("start_failed", &err);
        return strcmp(err.type, "listen-failed") == 0 ? 3 : rc;
    }
    ombud_log(OMBUD_LOG_INFO, "started", "ombud %s, %u threads, pool %u, schema %d", OMBUD_VERSION,
              ombud_cf.threads, ombud_cf.db_pool, version);
    sigwait(&set, &sig);
    ombud_log(OMBUD_LOG_INFO, "stopping", "signal %d: draining", sig);
    ombud_http_stop(d, ombud_cf.drain_seconds);
    ombud_webhook_sender_stop();
    ombud_sla_worker_stop();
    ombud_db_pool_free(pool);
    ombud_log(OMBUD_LOG_INFO, "stopped", "%s", "drained");
    return 0;
}

int main(int argc, char **argv)
{
    struct ombud_err err;
    const char *cmd = argc > 1 ? argv[1] : "serve";

    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("ombud %s\n", OMBUD_VERSION);
        return 0;
    }
    if (argc > 2 || (strcmp(cmd, "serve") != 0 && strcmp(cmd, "migrate") != 0)) {
        usage(stderr);
        return 2;
    }
    if (ombud_config_load(&ombud_cf, env_get, NULL, &err) != OMBUD_OK)
        return fail("bad_config", &err);
    ombud_log_set_level(ombud_cf.log_level);
    json_object_seed(0);

    if (strcmp(cmd, "migrate") == 0) {
        ombud_err_clear(&err);
        if (ombud_migrate_run(ombud_cf.database_url, &err) != OMBUD_OK)
            return fail("migrate_failed", &err);
        return 0;
    }
    return serve();
}
