/*
 * Migrations. DESIGN: one dedicated connection (not the pool) takes a
 * session advisory lock, so replicas started together queue up here and
 * each later one finds the work done. Each file runs in its own
 * transaction together with its schema_migrations row: a failing file
 * leaves the schema at the previous version. Migration files are trusted
 * text embedded at build time, so they run through the simple query
 * protocol (several statements per file); the version row is bound.
 */
#include <stdio.h>
#include <string.h>

#include "db/internal.h"
#include "ombud/log.h"
#include "ombud/migrate.h"

/* pg_advisory_lock key: "ombudmig" */
#define MIGRATE_LOCK_KEY "7885080436216596839"

int ombud_migrate_latest(void)
{
    int v = 0;
    for (size_t i = 0; i < ombud_migrations_count; i++)
        if (ombud_migrations[i].version > v)
            v = ombud_migrations[i].version;
    return v;
}

static bool exec_ok(PGconn *pg, const char *sql, struct ombud_err *err, const char *what)
{
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        PQclear(r);
        return true;
    }
    const char *m = PQresultErrorMessage(r);
    ombud_err_set(err, OMBUD_E_INTERNAL, NULL, "%s: %.*s", what, (int)strcspn(m, "\n"), m);
    PQclear(r);
    return false;
}

static int applied_version(PGconn *pg, bool *ok)
{
    PGresult *r = PQexec(pg, "SELECT coalesce(max(version), 0) FROM schema_migrations");
    int v = 0;
    *ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    if (*ok)
        v = (int)ombud_db_int(r, 0, 0);
    PQclear(r);
    return v;
}

static bool is_applied(PGconn *pg, int version, struct ombud_err *err, bool *applied)
{
    char v[16];
    snprintf(v, sizeof v, "%d", version);
    const char *params[] = {v};
    PGresult *r = PQexecParams(pg, "SELECT 1 FROM schema_migrations WHERE version = $1::int", 1,
                               NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        ombud_err_internal(err, "cannot read schema_migrations");
        return false;
    }
    *applied = PQntuples(r) > 0;
    PQclear(r);
    return true;
}

static bool apply(PGconn *pg, const struct ombud_migration *m, struct ombud_err *err)
{
    char v[16];
    snprintf(v, sizeof v, "%d", m->version);
    const char *params[] = {v, m->name};

    if (!exec_ok(pg, "BEGIN", err, "begin"))
        return false;
    if (!exec_ok(pg, m->sql, err, m->name)) {
        PQclear(PQexec(pg, "ROLLBACK"));
        return false;
    }
    PGresult *r =
        PQexecParams(pg, "INSERT INTO schema_migrations (version, name) VALUES ($1::int, $2::text)",
                     2, NULL, params, NULL, NULL, 0);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        PQclear(PQexec(pg, "ROLLBACK"));
        ombud_err_internal(err, "cannot record migration");
        return false;
    }
    if (!exec_ok(pg, "COMMIT", err, "commit"))
        return false;
    ombud_log(OMBUD_LOG_INFO, "migration_applied", "%s", m->name);
    return true;
}

enum ombud_rc ombud_migrate_run(const char *url, struct ombud_err *err)
{
    char msg[256];
    PGconn *pg = ombud_db_connect(url, 0, msg, sizeof msg);
    bool ok = false;

    if (!pg)
        return ombud_err_unavailable(err, msg);
    if (!exec_ok(pg, "SET client_min_messages = warning", err, "settings") ||
        !exec_ok(pg, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", err, "advisory lock"))
        goto out;
    if (!exec_ok(pg,
                 "CREATE TABLE IF NOT EXISTS schema_migrations ("
                 " version int PRIMARY KEY, name text NOT NULL,"
                 " applied_at timestamptz NOT NULL DEFAULT now())",
                 err, "schema_migrations"))
        goto unlock;
    ok = true;
    for (size_t i = 0; ok && i < ombud_migrations_count; i++) {
        bool applied = false;
        ok = is_applied(pg, ombud_migrations[i].version, err, &applied);
        if (ok && !applied)
            ok = apply(pg, &ombud_migrations[i], err);
    }
    if (ok) {
        bool rok;
        ombud_log(OMBUD_LOG_INFO, "migrate_done", "schema at version %d",
                  applied_version(pg, &rok));
    }
unlock:
    PQclear(PQexec(pg, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")"));
out:
    PQfinish(pg);
    return ok ? OMBUD_OK : OMBUD_ERROR;
}

enum ombud_rc ombud_migrate_current(const char *url, int *version, struct ombud_err *err)
{
    char msg[256];
    PGconn *pg = ombud_db_connect(url, 0, msg, sizeof msg);
    bool ok;

    if (!pg)
        return ombud_err_unavailable(err, msg);
    PGresult *r = PQexec(pg, "SELECT to_regclass('schema_migrations') IS NOT NULL");
    bool exists = PQresultStatus(r) == PGRES_TUPLES_OK && ombud_db_bool(r, 0, 0);
    ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    *version = 0;
    if (ok && exists)
        *version = applied_version(pg, &ok);
    PQfinish(pg);
    if (!ok)
        return ombud_err_internal(err, "cannot read schema version");
    return OMBUD_OK;
}
