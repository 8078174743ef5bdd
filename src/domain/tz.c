/*
 * Zones. DESIGN: names are checked against /usr/share/zoneinfo/tzdata.zi
 * (its "Z name" and "L target name" lines), read once. Opened zones are
 * kept in a small mutex-guarded list: there are few distinct zones in a
 * deployment and they are looked up once per calendar use, so a list
 * beats a hash table here. GTimeZone is immutable and thread-safe.
 *
 * GLib finds the interval of an instant by a linear scan over every
 * transition it knows (tzdata's, and its rule for later years expanded up
 * to 2999: some 2,000 for a European zone), which made a long business-
 * time span cost a fifth of a second. So each zone's intervals are read
 * out of GLib once, when the zone is first opened (gallop to each
 * boundary, bisect to the second), into a sorted table that every lookup
 * bisects.
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
    /* Interval i (0..n) begins at start[i] (start[0] unused: the dawn of
     * time) and has UTC offset off[i]; the last one never ends. */
    int64_t *start;
    int32_t *off;
    size_t n;
    struct ombud_tz *next;
};

/* Far enough past year 9999 that business time counted from there never
 * reaches it (GLib's own rules end in 2999). */
#define TABLE_END (INT64_C(1) << 45)
#define TABLE_BEGIN (-(INT64_C(1) << 45))

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

static int glib_interval(GTimeZone *g, int64_t t)
{
    return g_time_zone_find_interval(g, G_TIME_TYPE_UNIVERSAL, t);
}

/* Reads every interval boundary of g before TABLE_END into z. GLib's
 * interval index grows with time, so each boundary is found by galloping
 * from the previous one until the index changes, then bisecting. */
static bool build_table(struct ombud_tz *z, GTimeZone *g)
{
    int last = glib_interval(g, TABLE_END), idx = glib_interval(g, TABLE_BEGIN);
    size_t n = last > idx ? (size_t)(last - idx) : 0;

    z->start = calloc(n + 1, sizeof *z->start);
    z->off = calloc(n + 1, sizeof *z->off);
    if (!z->start || !z->off)
        return false;
    z->start[0] = INT64_MIN;
    z->off[0] = g_time_zone_get_offset(g, idx);
    int64_t lo = TABLE_BEGIN;
    for (size_t i = 1; i <= n; i++) {
        int64_t hi, step = 86400;
        for (;;) {
            hi = lo + step < TABLE_END ? lo + step : TABLE_END;
            if (glib_interval(g, hi) != idx)
                break;
            lo = hi;
            if (step < (INT64_C(1) << 40))
                step *= 2;
        }
        while (hi - lo > 1) {
            int64_t mid = lo + (hi - lo) / 2;
            if (glib_interval(g, mid) == idx)
                lo = mid;
            else
                hi = mid;
        }
        idx = glib_interval(g, hi);
        z->start[i] = hi;
        z->off[i] = g_time_zone_get_offset(g, idx);
        lo = hi;
        if (idx >= last) {
            n = i;
            break;
        }
    }
    z->n = n;
    return true;
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
            if (z && build_table(z, g)) {
                snprintf(z->name, sizeof z->name, "%s", name);
                z->gtz = g;
                z->next = zones;
                zones = z;
            } else {
                if (z) {
                    free(z->start);
                    free(z->off);
                }
                free(z);
                z = NULL;
                g_time_zone_unref(g);
            }
        }
    }
    pthread_mutex_unlock(&mu);
    return z;
}

/* The interval at t: the last i with start[i] <= t. */
static size_t find(const struct ombud_tz *tz, int64_t t)
{
    size_t lo = 0, hi = tz->n; /* start[lo] <= t always (start[0] is the minimum) */
    while (lo < hi) {
        size_t mid = hi - (hi - lo) / 2;
        if (tz->start[mid] <= t)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

int ombud_tz_interval(const struct ombud_tz *tz, int64_t t)
{
    return (int)find(tz, t);
}

int32_t ombud_tz_offset(const struct ombud_tz *tz, int64_t t)
{
    return tz->off[find(tz, t)];
}

int64_t ombud_tz_next_change(const struct ombud_tz *tz, int64_t t, int64_t limit)
{
    size_t i = find(tz, t);
    if (i == tz->n || tz->start[i + 1] >= limit)
        return limit;
    return tz->start[i + 1];
}
