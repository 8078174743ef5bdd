/* Alerts and the SLA views: the only SQL reading alerts and summing clocks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/changes.h"
#include "db/internal.h"
#include "ombud/complaint.h"
#include "ombud/db/alerts.h"

#define ALERT_COLS                                                                                 \
    "a.id, a.kind, a.level, a.complaint_id, a.target, a.cycle,"                                    \
    " ombud_usec(a.scheduled_at) AS scheduled_at_us, ombud_usec(a.created_at) AS created_at_us,"   \
    " ombud_usec(a.acknowledged_at) AS acknowledged_at_us, a.acknowledged_by, a.rule_id"

const struct ombud_db_col ombud_db_alert_cols[] = {
    OMBUD_COL_I64(struct ombud_alert, id, "id"),
    OMBUD_COL_TEXT(struct ombud_alert, kind, "kind"),
    OMBUD_COL_INT(struct ombud_alert, level, "level"),
    OMBUD_COL_I64(struct ombud_alert, complaint_id, "complaint_id"),
    OMBUD_COL_TEXT(struct ombud_alert, target, "target"),
    OMBUD_COL_INT(struct ombud_alert, cycle, "cycle"),
    OMBUD_COL_USEC(struct ombud_alert, scheduled_at, "scheduled_at_us"),
    OMBUD_COL_USEC(struct ombud_alert, created_at, "created_at_us"),
    OMBUD_COL_USEC(struct ombud_alert, acknowledged_at, "acknowledged_at_us"),
    OMBUD_COL_I64(struct ombud_alert, acknowledged_by, "acknowledged_by"),
    OMBUD_COL_I64(struct ombud_alert, rule_id, "rule_id"),
    OMBUD_COL_END};

/* $1 and $2 are the page (ombud_db_list_page); $3 is enum ombud_alert_state_filter. */
static struct ombud_db_stmt q_list = OMBUD_STMT(
    "SELECT " ALERT_COLS " FROM alerts a WHERE ($1::bigint = 0 OR a.id < $1::bigint)"
    " AND ($3::int = 2 OR ($3::int = 0) = (a.acknowledged_at IS NULL))"
    " AND ($4::text IS NULL OR a.kind = $4::text)"
    " AND ($5::bigint = 0 OR a.complaint_id = $5::bigint)"
    " AND ($6::bigint = 0 OR EXISTS (SELECT 1 FROM complaints c WHERE c.id = a.complaint_id"
    "      AND c.created_by_key_id = $6::bigint))"
    " ORDER BY a.id DESC LIMIT $2::int");

enum ombud_rc ombud_db_alert_list(struct ombud_db_conn *c, const struct ombud_alert_filter *f,
                                  struct ombud_alert **out, size_t *n, struct ombud_err *err)
{
    char state[8], cid[OMBUD_DB_I64_BUFLEN], key[OMBUD_DB_I64_BUFLEN];
    snprintf(state, sizeof state, "%d", (int)f->state);
    ombud_db_param_i64(cid, sizeof cid, f->complaint_id);
    ombud_db_param_i64(key, sizeof key, f->creator_key_id);
    const char *extra[] = {state, f->kind, cid, key};
    return ombud_db_list_page(c, &q_list, f->before_id, f->limit, 4, extra, ombud_db_alert_cols,
                              sizeof **out, (void **)out, n, err);
}

static struct ombud_db_stmt q_get_lock =
    OMBUD_STMT("SELECT " ALERT_COLS " FROM alerts a WHERE a.id = $1::bigint FOR UPDATE");
/* The acknowledgement and its change (alert.acknowledged). */
/* clang-format off */
static struct ombud_db_stmt q_ack = OMBUD_STMT(
    "WITH a AS (UPDATE alerts a SET acknowledged_at = clock_timestamp(),"
    " acknowledged_by = $2::bigint WHERE a.id = $1::bigint RETURNING " ALERT_COLS "),"
    " ch AS (INSERT INTO " OMBUD_CHG_COLS " SELECT b.base + 1, 'alert.acknowledged', c.id, NULL,"
    " a.id, c.status, c.priority, c.team_id, c.assignee_id, c.version FROM a, complaints c,"
    " (SELECT " OMBUD_CHG_BASE " AS base) b WHERE c.id = a.complaint_id)"
    " SELECT * FROM a");
/* clang-format on */

enum ombud_rc ombud_db_alert_ack(struct ombud_db_conn *c, int64_t id, int64_t ack_key_id,
                                 struct ombud_alert *out, bool *found, bool *already,
                                 struct ombud_err *err)
{
    char ids[OMBUD_DB_I64_BUFLEN], key[OMBUD_DB_I64_BUFLEN];
    ombud_db_param_i64(ids, sizeof ids, id);
    ombud_db_param_i64(key, sizeof key, ack_key_id);
    const char *p[] = {ids, key};
    PGresult *r;
    *already = false;
    enum ombud_rc qrc = ombud_db_exec(c, &q_get_lock, 1, p, &r, err);
    if (qrc != OMBUD_OK ||
        (qrc = ombud_db_read_one(r, ombud_db_alert_cols, out, found, err)) != OMBUD_OK || !*found)
        return qrc;
    if (out->acknowledged_at) {
        *already = true;
        return OMBUD_OK;
    }
    qrc = ombud_db_exec(c, &q_ack, 2, p, &r, err);
    if (qrc != OMBUD_OK)
        return qrc;
    return ombud_db_read_one(r, ombud_db_alert_cols, out, found, err);
}

/* The earliest unmet due time over a complaint's current clocks, with
 * the complaint list's filters (0 or NULL: any), after the page position
 * ($10, $11) = (due_s, complaint_id) when $12 is true. */
/* clang-format off */
static struct ombud_db_stmt q_at_risk = OMBUD_STMT(
    "SELECT k.complaint_id, extract(epoch FROM min(k.due_at))::bigint AS due_s"
    " FROM sla_clocks k JOIN complaints c ON c.id = k.complaint_id"
    " WHERE k.due_at IS NOT NULL AND k.met_at IS NULL AND k.running_since IS NOT NULL"
    " AND c.status NOT IN ('resolved', 'closed')"
    " AND (k.target = 'first_response' OR k.cycle = c.resolution_cycle)"
    " AND k.due_at <= to_timestamp($1::bigint)"
    " AND ($3::bigint = 0 OR c.created_by_key_id = $3::bigint)"
    " AND ($4::bigint = 0 OR c.team_id = $4::bigint)"
    " AND ($5::bigint = 0 OR c.assignee_id = $5::bigint)"
    " AND ($6::text IS NULL OR c.priority = ANY (string_to_array($6::text, ',')))"
    " AND ($7::text IS NULL OR c.grade = ANY (string_to_array($7::text, ',')))"
    " AND ($8::text IS NULL OR c.category = ANY (string_to_array($8::text, ',')))"
    " AND ($9::text IS NULL OR c.channel = ANY (string_to_array($9::text, ',')))"
    " GROUP BY k.complaint_id"
    " HAVING NOT $12::bool"
    " OR (extract(epoch FROM min(k.due_at))::bigint, k.complaint_id) > ($10::bigint, $11::bigint)"
    " ORDER BY due_s, k.complaint_id LIMIT $2::int");
/* clang-format on */

struct due_row {
    int64_t complaint_id, due;
};

static const struct ombud_db_col due_cols[] = {
    OMBUD_COL_I64(struct due_row, complaint_id, "complaint_id"),
    OMBUD_COL_EPOCH(struct due_row, due, "due_s"), OMBUD_COL_END};

enum ombud_rc ombud_db_sla_at_risk(struct ombud_db_conn *c, int64_t until, int limit,
                                   const struct ombud_complaint_filter *f, const int64_t *after,
                                   int64_t **ids, int64_t **due, size_t *n, struct ombud_err *err)
{
    char u[24], lim[16], key[24], team[24], assignee[24], adue[24], aid[24];
    ombud_db_param_i64(u, sizeof u, until);
    snprintf(lim, sizeof lim, "%d", limit);
    ombud_db_param_i64(key, sizeof key, f->creator_key_id);
    ombud_db_param_i64(team, sizeof team, f->team_id);
    ombud_db_param_i64(assignee, sizeof assignee, f->assignee_id);
    ombud_db_param_i64(adue, sizeof adue, after ? after[0] : 0);
    ombud_db_param_i64(aid, sizeof aid, after ? after[1] : 0);
    const char *p[] = {u,        lim,         key,        team, assignee, f->priority,
                       f->grade, f->category, f->channel, adue, aid,      after ? "true" : "false"};
    PGresult *r;
    struct due_row *rows = NULL;
    size_t count = 0;
    enum ombud_rc qrc = ombud_db_exec(c, &q_at_risk, 12, p, &r, err);
    if (qrc != OMBUD_OK || (qrc = ombud_db_read_rows(r, due_cols, sizeof *rows, (void **)&rows,
                                                     &count, err)) != OMBUD_OK)
        return qrc;
    *ids = calloc(count ? count : 1, sizeof **ids);
    *due = calloc(count ? count : 1, sizeof **due);
    if (!*ids || !*due) {
        free(rows);
        return ombud_err_internal(err, "out of memory");
    }
    for (size_t i = 0; i < count; i++) {
        (*ids)[i] = rows[i].complaint_id;
        (*due)[i] = rows[i].due;
    }
    free(rows);
    *n = count;
    return OMBUD_OK;
}

/* States of open complaints, judged by their most urgent current clock,
 * and compliance over clocks met (or due) in the last 30 days. */
static struct ombud_db_stmt q_summary = OMBUD_STMT(
    "WITH cur AS ("
    "  SELECT k.*, c.status FROM sla_clocks k JOIN complaints c ON c.id = k.complaint_id"
    "  WHERE k.target = 'first_response' OR k.cycle = c.resolution_cycle),"
    " open_state AS ("
    "  SELECT complaint_id, max(CASE"
    "    WHEN met_at IS NOT NULL THEN 0"
    "    WHEN running_since IS NULL THEN 1"
    "    WHEN breached OR due_at <= to_timestamp($1::bigint) THEN 4"
    "    WHEN (warnings->0->>'at')::bigint > 0"
    "         AND (warnings->0->>'at')::bigint <= $1::bigint THEN 3"
    "    ELSE 2 END) AS s"
    "  FROM cur WHERE status NOT IN ('resolved', 'closed') GROUP BY complaint_id)"
    " SELECT"
    "  (SELECT count(*) FROM open_state WHERE s = 2) AS on_track,"
    "  (SELECT count(*) FROM open_state WHERE s = 3) AS at_risk,"
    "  (SELECT count(*) FROM open_state WHERE s = 4) AS breached,"
    "  (SELECT count(*) FROM open_state WHERE s = 1) AS paused,"
    "  (SELECT count(*) FROM open_state WHERE s = 0) AS met,"
    "  count(*) FILTER (WHERE target = 'first_response') AS fr_total,"
    "  count(*) FILTER (WHERE target = 'first_response' AND met_at IS NOT NULL AND NOT breached)"
    "   AS fr_met_in_time,"
    "  count(*) FILTER (WHERE target = 'resolution') AS res_total,"
    "  count(*) FILTER (WHERE target = 'resolution' AND met_at IS NOT NULL AND NOT breached)"
    "   AS res_met_in_time"
    " FROM sla_clocks"
    " WHERE coalesce(met_at, due_at) >= to_timestamp($1::bigint) - interval '30 days'"
    "   AND (met_at IS NOT NULL OR due_at <= to_timestamp($1::bigint))");

#define S(field, name) OMBUD_COL_I64(struct ombud_sla_summary, field, name)
static const struct ombud_db_col summary_cols[] = {S(by_state[OMBUD_SUMMARY_ON_TRACK], "on_track"),
                                                   S(by_state[OMBUD_SUMMARY_AT_RISK], "at_risk"),
                                                   S(by_state[OMBUD_SUMMARY_BREACHED], "breached"),
                                                   S(by_state[OMBUD_SUMMARY_PAUSED], "paused"),
                                                   S(by_state[OMBUD_SUMMARY_MET], "met"),
                                                   S(fr_total, "fr_total"),
                                                   S(fr_met_in_time, "fr_met_in_time"),
                                                   S(res_total, "res_total"),
                                                   S(res_met_in_time, "res_met_in_time"),
                                                   OMBUD_COL_END};
#undef S

enum ombud_rc ombud_db_sla_summary(struct ombud_db_conn *c, int64_t now,
                                   struct ombud_sla_summary *out, struct ombud_err *err)
{
    char n[24];
    ombud_db_param_i64(n, sizeof n, now);
    const char *p[] = {n};
    PGresult *r;
    bool one; /* an aggregate: always one row */
    enum ombud_rc qrc = ombud_db_exec(c, &q_summary, 1, p, &r, err);
    if (qrc != OMBUD_OK)
        return qrc;
    return ombud_db_read_one(r, summary_cols, out, &one, err);
}
