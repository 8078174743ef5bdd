/*
 * Zones. DESIGN: names are checked against /usr/share/zoneinfo/tzdata.zi
 * (its "Z name" and "L target name" lines), read once. Opened zones are
 * kept in a small mutex-guarded list: there are few distinct zones in a
 * deployment and they are looked up once per calendar use, so a list
 * beats a hash table here. GTimeZone is immutable and thread-safe.
 */
#include "ombud/tz.h"

#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef OMBUD_TZDATA_ZI
#define OMBUD_TZDATA_ZI "/usr/share/zoneinfo/tzdata.zi"
#endif

struct ombud_tz {
    char name[64];
    GTimeZone *gtz;
    struct ombud_tz *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t names_once = PTHREAD_ONCE_INIT;
static GHashTable *names; /* set of known zone and link names */
static struct ombud_tz *zones;

static void load_names(void)
{
    FILE *f = fopen(OMBUD_TZDATA_ZI, "r");
    char line[512];

    names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_add(names, g_strdup("UTC"));
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        char *save = NULL, *kind = strtok_r(line, " \t\n", &save);
        if (!kind)
            continue;
        if (strcmp(kind, "Z") == 0) {
            char *name = strtok_r(NULL, " \t\n", &save);
            if (name)
                g_hash_table_add(names, g_strdup(name));
        } else if (strcmp(kind, "L") == 0) {
            (void)strtok_r(NULL, " \t\n", &save); /* target */
            char *name = strtok_r(NULL, " \t\n", &save);
            if (name)
                g_hash_table_add(names, g_strdup(name));
        }
    }
    fclose(f);
}

bool ombud_tz_known(const char *name)
{
    if (!name || !*name || strlen(name) >= sizeof(((struct ombud_tz *)0)->name))
        return false;
    pthread_once(&names_once, load_names);
    return g_hash_table_contains(names, name);
}

const struct ombud_tz *ombud_tz_get(const char *name)
{
    struct ombud_tz *z;

    if (!ombud_tz_known(name))
        return NULL;
    pthread_mutex_lock(&mu);
    for (z = zones; z; z = z->next)
        if (strcmp(z->name, name) == 0)
            break;
    if (!z) {
        GTimeZone *g = g_time_zone_new_identifier(name);
        if (g) {
            z = calloc(1, sizeof *z);
            if (z) {
                snprintf(z->name, sizeof z->name, "%s", name);
                z->gtz = g;
                z->next = zones;
                zones = z;
            } else {
                g_time_zone_unref(g);
            }
        }
    }
    pthread_mutex_unlock(&mu);
    return z;
}

int ombud_tz_interval(const struct ombud_tz *tz, int64_t t)
{
    return g_time_zone_find_interval(tz->gtz, G_TIME_TYPE_UNIVERSAL, t);
}

int32_t ombud_tz_offset(const struct ombud_tz *tz, int64_t t)
{
    return g_time_zone_get_offset(tz->gtz, ombud_tz_interval(tz, t));
}

int64_t ombud_tz_next_change(const struct ombud_tz *tz, int64_t t, int64_t limit)
{
    int idx = ombud_tz_interval(tz, t);
    int64_t lo = t, hi, step = 86400;

    /* Gallop forward to bracket the change, then bisect to the second. */
    for (;;) {
        hi = lo + step > limit ? limit : lo + step;
        if (ombud_tz_interval(tz, hi) != idx)
            break;
        if (hi >= limit)
            return limit;
        lo = hi;
        if (step < 64 * 86400)
            step *= 2;
    }
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (ombud_tz_interval(tz, mid) == idx)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}
