/* Change types and filters; see include/ombud/change.h. */
#include "ombud/change.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ombud_change_types[] = {
    "complaint.created",    "complaint.updated",     "complaint.status_changed",
    "complaint.assigned",   "complaint.escalated",   "complaint.note_added",
    "complaint.sla_paused", "complaint.sla_resumed", "complaint.satisfaction_recorded",
    "complaint.graded",     "complaint.linked",      "complaint.rule_skipped",
    "alert.raised",         "alert.acknowledged",    NULL};

static const char *const families[] = {"complaint.", "alert.", NULL};

bool ombud_change_filter_parse(const char *list, struct ombud_change_filter *f, char *bad,
                               size_t len)
{
    memset(f, 0, sizeof *f);
    for (const char *p = list ? list : ""; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        bool ok = false;
        for (size_t i = 0; !ok && ombud_change_types[i]; i++)
            if (strlen(ombud_change_types[i]) == n && strncmp(p, ombud_change_types[i], n) == 0 &&
                f->nexact < OMBUD_CHANGE_FILTER_MAX) {
                f->exact[f->nexact++] = ombud_change_types[i];
                ok = true;
            }
        for (size_t i = 0; !ok && families[i]; i++) {
            size_t fl = strlen(families[i]);
            if (n == fl + 1 && strncmp(p, families[i], fl) == 0 && p[fl] == '*' &&
                f->nprefix < OMBUD_CHANGE_FILTER_MAX) {
                f->prefix[f->nprefix++] = families[i];
                ok = true;
            }
        }
        if (!ok) {
            snprintf(bad, len, "%.*s", (int)(n > 60 ? 60 : n), p);
            return false;
        }
        p += n;
        if (*p == ',' && !*++p) { /* a trailing comma: an empty entry */
            snprintf(bad, len, "%s", "(an empty entry)");
            return false;
        }
    }
    return true;
}

bool ombud_change_filter_admits(const struct ombud_change_filter *f, const char *type)
{
    if (!f->nexact && !f->nprefix)
        return true;
    for (size_t i = 0; i < f->nexact; i++)
        if (strcmp(f->exact[i], type) == 0)
            return true;
    for (size_t i = 0; i < f->nprefix; i++)
        if (strncmp(f->prefix[i], type, strlen(f->prefix[i])) == 0)
            return true;
    return false;
}

void ombud_changes_free(struct ombud_change *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        free(list[i].event.data_json);
    free(list);
}
