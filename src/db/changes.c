/*
 * Reading the change log: settled changes only (below the horizon, see
 * db/changes.h and migrations/0015_changes.sql), each with the event or
 * alert it records joined by primary key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/changes.h"
#include "db/internal.h"
#include "ombud/db/changes.h"

#define CH(kind, field, name) OMBUD_COL_##kind(struct ombud_change, field, name)
static const struct ombud_db_col change_cols[] = {CH(I64, id, "id"),
                                                  CH(TEXT, type, "type"),
                                                  CH(USEC, at, "at_us"),
                                                  CH(I64, complaint_id, "complaint_id"),
                                                  CH(TEXT, status, "status"),
                                                  CH(TEXT, priority, "priority"),
                                                  CH(I64, team_id, "team_id"),
                                                  CH(I64, assignee_id, "assignee_id"),
                                                  CH(INT, version, "version"),
                                                  CH(BOOL, has_event, "has_event"),
                                                  CH(BOOL, has_alert, "has_alert"),
                                                  OMBUD_COL_END};
#undef CH

/* $1 after, $2 limit, $3 exact types (text[], NULL: no filter), $4 type
 * prefixes (text[]). */
/* clang-format off */
static struct ombud_db_stmt q_read = OMBUD_STMT(
    "SELECT ch.id, ch.type, ombud_usec(ch.at) AS at_us, ch.complaint_id, ch.status, ch.priority,"
    " ch.team_id, ch.assignee_id, ch.version, e.id IS NOT NULL AS has_event,"
    " a.id IS NOT NULL AS has_alert,"
    " e.id AS ev_id, e.complaint_id AS ev_complaint_id, e.kind AS ev_kind,"
    " e.actor_key_id AS ev_actor_key_id, e.actor_role AS ev_actor_role,"
    " e.actor_agent_id AS ev_actor_agent_id, e.actor_rule_id AS ev_actor_rule_id,"
    " e.data::text AS ev_data_json, ombud_usec(e.created_at) AS ev_created_at_us,"
    " a.id AS al_id, a.kind AS al_kind, a.level AS al_level, a.complaint_id AS al_complaint_id,"
    " a.target AS al_target, a.cycle AS al_cycle, ombud_usec(a.scheduled_at) AS al_scheduled_at_us,"
    " ombud_usec(a.created_at) AS al_created_at_us,"
    " ombud_usec(a.acknowledged_at) AS al_acknowledged_at_us,"
    " a.acknowledged_by AS al_acknowledged_by, a.rule_id AS al_rule_id"
    " FROM changes ch LEFT JOIN complaint_events e ON e.id = ch.event_id"
    " LEFT JOIN alerts a ON a.id = ch.alert_id"
    " WHERE ch.id > $1::bigint AND ch.id < " OMBUD_CHG_HORIZON
    " AND ($3::text[] IS NULL OR ch.type = ANY ($3::text[])"
    " OR EXISTS (SELECT 1 FROM unnest($4::text[]) p WHERE starts_with(ch.type, p)))"
    " ORDER BY ch.id LIMIT $2::int");
/* clang-format on */

/* names as a text[] literal; every name is one of ours ([a-z_.]). */
static void names_literal(const char *const *names, size_t n, char *out, size_t len)
{
    size_t o = (size_t)snprintf(out, len, "{");
    for (size_t i = 0; i < n && o < len; i++)
        o += (size_t)snprintf(out + o, len - o, "%s\"%s\"", i ? "," : "", names[i]);
    if (o < len)
        snprintf(out + o, len - o, "}");
}

enum ombud_rc ombud_db_changes_read(struct ombud_db_conn *c, int64_t after, int limit,
                                    const struct ombud_change_filter *f, struct ombud_change **out,
                                    size_t *n, struct ombud_err *err)
{
    char a[OMBUD_DB_I64_BUFLEN], l[16], exact[OMBUD_CHANGE_FILTER_MAX * 48 + 4],
        prefix[OMBUD_CHANGE_FILTER_MAX * 24 + 4];
    bool filtered = f && (f->nexact || f->nprefix);
    ombud_db_param_i64(a, sizeof a, after);
    snprintf(l, sizeof l, "%d", limit);
    names_literal(filtered ? f->exact : NULL, filtered ? f->nexact : 0, exact, sizeof exact);
    names_literal(filtered ? f->prefix : NULL, filtered ? f->nprefix : 0, prefix, sizeof prefix);
    const char *p[] = {a, l, filtered ? exact : NULL, prefix};
    PGresult *r;
    *out = NULL;
    *n = 0;
    enum ombud_rc rc = ombud_db_exec(c, &q_read, 4, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    struct ombud_db_colmap cm, em, am;
    size_t rows = (size_t)PQntuples(r);
    if ((rc = ombud_db_colmap_bind(&cm, r, change_cols, err)) != OMBUD_OK ||
        (rc = ombud_db_colmap_bind_prefix(&em, r, ombud_db_event_cols, "ev_", err)) != OMBUD_OK ||
        (rc = ombud_db_colmap_bind_prefix(&am, r, ombud_db_alert_cols, "al_", err)) != OMBUD_OK)
        goto out;
    if (rows && !(*out = calloc(rows, sizeof **out))) {
        rc = ombud_err_internal(err, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < rows; i++) {
        struct ombud_change *ch = &(*out)[i];
        ombud_db_read_row(&cm, (int)i, ch);
        if (ch->has_event)
            ombud_db_read_row(&em, (int)i, &ch->event);
        if (ch->has_alert)
            ombud_db_read_row(&am, (int)i, &ch->alert);
    }
    *n = rows;
out:
    PQclear(r);
    return rc;
}

static struct ombud_db_stmt q_end = OMBUD_STMT("SELECT " OMBUD_CHG_HORIZON " - 1");

enum ombud_rc ombud_db_changes_end(struct ombud_db_conn *c, int64_t *end, struct ombud_err *err)
{
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_end, 0, NULL, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *end = ombud_db_int(r, 0, 0);
    PQclear(r);
    return OMBUD_OK;
}

/* The newest settled change: a backward walk of the primary key from
 * the horizon, one index probe however long the log. */
static struct ombud_db_stmt q_settled_end =
    OMBUD_STMT("SELECT coalesce(max(id), 0) FROM changes WHERE id < " OMBUD_CHG_HORIZON);

enum ombud_rc ombud_db_changes_settled_end(struct ombud_db_conn *c, int64_t *end,
                                           struct ombud_err *err)
{
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_settled_end, 0, NULL, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *end = ombud_db_int(r, 0, 0);
    PQclear(r);
    return OMBUD_OK;
}
