/*
 * Schema migrations: migrations/NNNN_name.sql, embedded in the binary at
 * build time, applied in order, each in its own transaction, recorded in
 * schema_migrations, under a session advisory lock so replicas starting
 * together apply each one once.
 */
#ifndef OMBUD_MIGRATE_H
#define OMBUD_MIGRATE_H

#include <stddef.h>

#include "ombud/err.h"

struct ombud_migration {
    int version;
    const char *name;
    const char *sql;
};

extern const struct ombud_migration ombud_migrations[];
extern const size_t ombud_migrations_count;

/* The highest version this binary knows. */
int ombud_migrate_latest(void);

/* Applies every pending migration to the database at url. */
OMBUD_MUSTCHECK enum ombud_rc ombud_migrate_run(const char *url, struct ombud_err *err);

/* Reads the applied version; 503-type error if unreachable. */
OMBUD_MUSTCHECK enum ombud_rc ombud_migrate_current(const char *url, int *version,
                                                    struct ombud_err *err);

#endif
