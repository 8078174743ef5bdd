/* Alerts and the SLA views: the only SQL reading alerts and summing clocks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/internal.h"
#include "ombud/db/alerts.h"

#define ALERT_COLS                                                                                 \
    "a.id, a.kind, a.level, a.complaint_id, a.target, a.cycle,"                                    \
    " ombud_usec(a.scheduled_at) AS scheduled_at_us, ombud_usec(a.created_at) AS created_at_us,"   \
    " ombud_usec(a.acknowledged_at) AS acknowledged_at_us, a.acknowledged_by"

static const struct ombud_db_col alert_cols[] = {
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
    OMBUD_COL_END};

/* Reads the single row of r (cleared) into out. */
static enum ombud_rc read_alert(PGresult *r, struct ombud_alert *out, struct ombud_err *err)
{
    struct ombud_db_colmap map;
    enum ombud_rc rc = ombud_db_colmap_bind(&map, r, alert_cols, err);
    if (rc == OMBUD_OK)
        ombud_db_read_row(&map, 0, out);
    PQclear(r);
    return rc;
}

static struct ombud_db_stmt q_list = OMBUD_STMT(
    "SELECT " ALERT_COLS " FROM alerts a WHERE ($1::bigint = 0 OR a.id < $1::bigint)"
    " AND ($2::int = 2 OR ($2::int = 0) = (a.acknowledged_at IS NULL))"
    " AND ($3::text IS NULL OR a.kind = $3::text)"
    " AND ($4::bigint = 0 OR a.complaint_id = $4::bigint)"
    " AND ($5::bigint = 0 OR EXISTS (SELECT 1 FROM complaints c WHERE c.id = a.complaint_id"
    "      AND c.created_by_key_id = $5::bigint))"
    " ORDER BY a.id DESC LIMIT $6::int");

enum ombud_rc ombud_db_alert_list(struct ombud_db_conn *c, const struct ombud_alert_filter *f,
                                  struct ombud_alert **out, size_t *n, struct ombud_err *err)
{
    char before[24], state[8], cid[24], key[24], lim[16];
    i64s(before, sizeof before, f->before_id);
    snprintf(state, sizeof state, "%d", f->state);
    i64s(cid, sizeof cid, f->complaint_id);
    i64s(key, sizeof key, f->creator_key_id);
    snprintf(lim, sizeof lim, "%d", f->limit + 1);
    const char *p[] = {before, state, f->kind, cid, key, lim};
    PGresult *r;
    enum ombud_rc qrc = ombud_db_exec(c, &q_list, 6, p, &r, err);
    if (qrc != OMBUD_OK)
        return qrc;
    free(*out);
    *out = NULL;
    return ombud_db_read_rows(r, alert_cols, sizeof(struct ombud_alert), (void **)out, n, err);
}

static struct ombud_db_stmt q_get_lock =
    OMBUD_STMT("SELECT " ALERT_COLS " FROM alerts a WHERE a.id = $1::bigint FOR UPDATE");
static struct ombud_db_stmt q_ack = OMBUD_STMT(
    "UPDATE alerts a SET acknowledged_at = clock_timestamp(), acknowledged_by = $2::bigint"
    " WHERE a.id = $1::bigint RETURNING " ALERT_COLS);

enum ombud_rc ombud_db_alert_ack(struct ombud_db_conn *c, int64_t id, int64_t key_id,
                                 struct ombud_alert *out, bool *found, bool *already,
                                 struct ombud_err *err)
{
    char ids[24], key[24];
    i64s(ids, sizeof ids, id);
    i64s(key, sizeof key, key_id);
    const char *p[] = {ids, key};
    PGresult *r;
    enum ombud_rc qrc = ombud_db_exec(c, &q_get_lock, 1, p, &r, err);
    if (qrc != OMBUD_OK)
        return qrc;
    *found = PQntuples(r) == 1;
    *already = false;
    if (!*found) {
        PQclear(r);
        return OMBUD_OK;
    }
    if (read_alert(r, out, err) != OMBUD_OK)
        return OMBUD_ERROR;
    if (out->acknowledged_at) {
        *already = true;
        return OMBUD_OK;
    }
    qrc = ombud_db_exec(c, &q_ack, 2, p, &r, err);
    if (qrc != OMBUD_OK)
        return qrc;
    return read_alert(r, out, err);
}

/* The earliest unmet due time over a complaint's current clocks. */
static struct ombud_db_stmt q_at_risk = OMBUD_STMT(
    "SELECT k.complaint_id, extract(epoch FROM min(k.due_at))::bigint AS due"
    " FROM sla_clocks k JOIN complaints c ON c.id = k.complaint_id"
    " WHERE k.due_at IS NOT NULL AND k.met_at IS NULL AND k.running_since IS NOT NULL"
    " AND c.status NOT IN ('resolved', 'closed')"
    " AND (k.target = 'first_response' OR k.cycle = c.resolution_cycle)"
    " AND k.due_at <= to_timestamp($1::bigint)"
    " AND ($3::bigint = 0 OR c.created_by_key_id = $3::bigint)"
    " GROUP BY k.complaint_id ORDER BY due, k.complaint_id LIMIT $2::int");

enum ombud_rc ombud_db_sla_at_risk(struct ombud_db_conn *c, int64_t until, int limit,
                                   int64_t creator_key_id, int64_t **ids, int64_t **due,
                                   size_t *n, struct ombud_err *err)
{
    char u[24], lim[16], key[24];
    i64s(u, sizeof u, until);
    snprintf(lim, sizeof lim, "%d", limit);
    i64s(key, sizeof key, creator_key_id);
    const char *p[] = {u, lim, key};
    PGresult *r;
    enum ombud_rc qrc = ombud_db_exec(c, &q_at_risk, 3, p, &r, err);
    if (qrc != OMBUD_OK)
        return qrc;
    size_t rows = (size_t)PQntuples(r);
    *ids = calloc(rows ? rows : 1, sizeof **ids);
    *due = calloc(rows ? rows : 1, sizeof **due);
    if (!*ids || !*due) {
        PQclear(r);
        return ombud_err_internal(err, "out of memory");
    }
    for (size_t i = 0; i < rows; i++) {
        (*ids)[i] = ombud_db_int(r, (int)i, 0);
        (*due)[i] = ombud_db_int(r, (int)i, 1);
    }
    PQclear(r);
    *n = rows;
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
    "  (SELECT count(*) FROM open_state WHERE s = 2),"
    "  (SELECT count(*) FROM open_state WHERE s = 3),"
    "  (SELECT count(*) FROM open_state WHERE s = 4),"
    "  (SELECT count(*) FROM open_state WHERE s = 1),"
    "  (SELECT count(*) FROM open_state WHERE s = 0),"
    "  count(*) FILTER (WHERE target = 'first_response'),"
    "  count(*) FILTER (WHERE target = 'first_response' AND met_at IS NOT NULL AND NOT breached),"
    "  count(*) FILTER (WHERE target = 'resolution'),"
    "  count(*) FILTER (WHERE target = 'resolution' AND met_at IS NOT NULL AND NOT breached)"
    " FROM sla_clocks"
    " WHERE coalesce(met_at, due_at) >= to_timestamp($1::bigint) - interval '30 days'"
    "   AND (met_at IS NOT NULL OR due_at <= to_timestamp($1::bigint))");

enum ombud_rc ombud_db_sla_summary(struct ombud_db_conn *c, int64_t now,
                                   struct ombud_sla_summary *out, struct ombud_err *err)
{
    char n[24];
    i64s(n, sizeof n, now);
    const char *p[] = {n};
    PGresult *r;
    enum ombud_rc qrc = ombud_db_exec(c, &q_summary, 1, p, &r, err);
    if (qrc != OMBUD_OK)
        return qrc;
    for (int i = 0; i < 5; i++)
        out->by_state[i] = ombud_db_int(r, 0, i);
    out->fr_total = ombud_db_int(r, 0, 5);
    out->fr_met_in_time = ombud_db_int(r, 0, 6);
    out->res_total = ombud_db_int(r, 0, 7);
    out->res_met_in_time = ombud_db_int(r, 0, 8);
    PQclear(r);
    return OMBUD_OK;
}
