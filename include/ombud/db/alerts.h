/* Alerts and the operators' SLA views (src/db/alerts.c): listing and
 * acknowledging alerts, complaints at risk, the summary. Records in
 * ombud/alert.h and ombud/sla.h. */
#ifndef OMBUD_DB_ALERTS_H
#define OMBUD_DB_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/alert.h"
#include "ombud/db/pool.h"
#include "ombud/err.h"
#include "ombud/sla.h"

struct ombud_complaint_filter; /* ombud/complaint.h */

/* Which alerts a list shows by acknowledgement (the values are the SQL's
 * and the order of the API's state names). */
enum ombud_alert_state_filter {
    OMBUD_ALERTS_OPEN = 0,
    OMBUD_ALERTS_ACKNOWLEDGED = 1,
    OMBUD_ALERTS_ALL = 2,
};

struct ombud_alert_filter {
    enum ombud_alert_state_filter state;
    const char *kind;       /* NULL: any */
    int64_t complaint_id;   /* 0: any */
    int64_t creator_key_id; /* service keys: only alerts of their complaints; 0: all */
    int64_t before_id;      /* cursor: newest first; 0: from the newest */
    int limit;
};

/* The alerts f selects, newest first, at most f->limit + 1 (the extra one
 * tells whether more follow). *out is a new array; the caller frees it. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_alert_list(struct ombud_db_conn *c,
                                                  const struct ombud_alert_filter *f,
                                                  struct ombud_alert **out, size_t *n,
                                                  struct ombud_err *err);
/* Acknowledges alert id (once) for API key ack_key_id; *found false when
 * unknown, *already when it was acknowledged before (out holds it either
 * way). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_alert_ack(struct ombud_db_conn *c, int64_t id,
                                                 int64_t ack_key_id, struct ombud_alert *out,
                                                 bool *found, bool *already, struct ombud_err *err);

/* Open complaints whose next due time (either target) is before until
 * (epoch seconds), soonest first (ties by id), at most limit: their ids
 * and due times in two new arrays of *n entries; the caller frees both.
 * after, when not NULL, is the page position {due time, complaint id}:
 * only complaints strictly beyond it. Of f only creator_key_id, team_id,
 * assignee_id, priority, grade, category and channel apply. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_sla_at_risk(struct ombud_db_conn *c, int64_t until,
                                                   int limit,
                                                   const struct ombud_complaint_filter *f,
                                                   const int64_t *after, int64_t **ids,
                                                   int64_t **due, size_t *n, struct ombud_err *err);
/* The summary at now (epoch seconds) into out. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_sla_summary(struct ombud_db_conn *c, int64_t now,
                                                   struct ombud_sla_summary *out,
                                                   struct ombud_err *err);

#endif
