/*
 * The change log's records (API.md "Outbound"): every timeline event and
 * every alert is also a change, with an id readers resume after. Read
 * by db/changes.c, rendered by repr/change.c. Pure C.
 */
#ifndef OMBUD_CHANGE_H
#define OMBUD_CHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/alert.h"
#include "ombud/complaint.h"

/* Every change type, NULL-terminated ("complaint.created", ...). */
extern const char *const ombud_change_types[];

/* A filter of types (API: types=a,b,complaint.*): exact names and
 * prefixes ("complaint." for complaint.*). */
#define OMBUD_CHANGE_FILTER_MAX 32
struct ombud_change_filter {
    size_t nexact, nprefix;
    const char *exact[OMBUD_CHANGE_FILTER_MAX];  /* borrowed from ombud_change_types */
    const char *prefix[OMBUD_CHANGE_FILTER_MAX]; /* "complaint.", "alert." */
};

/* Parses a comma list of types into f; false (bad set to the first
 * unknown element, up to len bytes) when one is neither a known type nor
 * a known family with ".*". An empty list filters nothing. */
bool ombud_change_filter_parse(const char *list, struct ombud_change_filter *f, char *bad,
                               size_t len);
/* Whether type passes f (an empty filter passes everything). */
bool ombud_change_filter_admits(const struct ombud_change_filter *f, const char *type);

struct ombud_change {
    int64_t id;
    char type[40];
    int64_t at; /* usec */
    int64_t complaint_id;
    /* the complaint at that change */
    char status[24], priority[16];
    int64_t team_id, assignee_id;
    int version;
    /* what it records: a timeline event or an alert */
    bool has_event, has_alert;
    struct ombud_event event;
    struct ombud_alert alert;
};

void ombud_changes_free(struct ombud_change *list, size_t n);

#endif
