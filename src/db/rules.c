/*
 * Escalation rules and their runs: the only SQL touching
 * escalation_rules and escalation_rule_runs, and the rules' alerts.
 * Condition lists are text[] / bigint[] columns that cross into C as
 * JSON array text; instants of runs cross as epoch seconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/changes.h"
#include "db/internal.h"
#include "ombud/db/rules.h"

/* Every alias is the name rule_cols looks for. */
#define RULE_COLS                                                                                  \
    "id, name, position, active, trigger, target, delay_minutes,"                                  \
    " to_json(cond_priorities)::text AS cond_priorities_json,"                                     \
    " to_json(cond_grades)::text AS cond_grades_json,"                                             \
    " to_json(cond_categories)::text AS cond_categories_json,"                                     \
    " to_json(cond_channels)::text AS cond_channels_json,"                                         \
    " to_json(cond_customer_tiers)::text AS cond_customer_tiers_json,"                             \
    " to_json(cond_team_ids)::text AS cond_team_ids_json,"                                         \
    " coalesce(cond_min_level, -1) AS min_level, coalesce(cond_max_level, -1) AS max_level,"       \
    " set_priority, set_team_id, set_assignee_id, raise_level, notify,"                            \
    " ombud_usec(created_at) AS created_at_us, ombud_usec(updated_at) AS updated_at_us"

static void read_trigger(const char *v, void *rec)
{
    struct ombud_rule *r = rec;
    if (!v || !ombud_rule_trigger_parse(v, &r->trigger))
        r->trigger = OMBUD_TRIG_CREATED;
}

static void read_target(const char *v, void *rec)
{
    struct ombud_rule *r = rec;
    if (!v || !ombud_rule_target_parse(v, &r->target))
        r->target = OMBUD_RTARGET_ANY;
}

/* "[1,2,3]" as to_json prints bigint[]. */
static void read_team_ids(const char *v, void *rec)
{
    struct ombud_rule *r = rec;
    r->nteams = 0;
    for (const char *p = v ? strchr(v, '[') : NULL; p && *p && r->nteams < OMBUD_RULE_MAX_TEAMS;) {
        char *end;
        long long id = strtoll(p + 1, &end, 10);
        if (end == p + 1)
            break;
        r->team_ids[r->nteams++] = id;
        p = end;
    }
}

#define R(kind, field, name) OMBUD_COL_##kind(struct ombud_rule, field, name)
static const struct ombud_db_col rule_cols[] = {R(I64, id, "id"),
                                                R(TEXT, name, "name"),
                                                R(INT, position, "position"),
                                                R(BOOL, active, "active"),
                                                OMBUD_COL_FN("trigger", read_trigger),
                                                OMBUD_COL_FN("target", read_target),
                                                R(INT, delay_minutes, "delay_minutes"),
                                                R(STR, cond_json[0], "cond_priorities_json"),
                                                R(STR, cond_json[1], "cond_grades_json"),
                                                R(STR, cond_json[2], "cond_categories_json"),
                                                R(STR, cond_json[3], "cond_channels_json"),
                                                R(STR, cond_json[4], "cond_customer_tiers_json"),
                                                OMBUD_COL_FN("cond_team_ids_json", read_team_ids),
                                                R(INT, min_level, "min_level"),
                                                R(INT, max_level, "max_level"),
                                                R(TEXT, set_priority, "set_priority"),
                                                R(I64, set_team_id, "set_team_id"),
                                                R(I64, set_assignee_id, "set_assignee_id"),
                                                R(BOOL, raise_level, "raise_level"),
                                                R(BOOL, notify, "notify"),
                                                R(USEC, created_at, "created_at_us"),
                                                R(USEC, updated_at, "updated_at_us"),
                                                OMBUD_COL_END};
#undef R

#define ARR(n) "ARRAY(SELECT json_array_elements_text($" #n "::json))"
#define IDS(n) "ARRAY(SELECT json_array_elements_text($" #n "::json)::bigint)"

/* $1 name … $19 notify in the order of the columns; $20 the id (update). */
/* clang-format off */
static struct ombud_db_stmt q_insert = OMBUD_STMT(
    "INSERT INTO escalation_rules (name, position, active, trigger, target, delay_minutes,"
    " cond_priorities, cond_grades, cond_categories, cond_channels, cond_customer_tiers,"
    " cond_team_ids, cond_min_level, cond_max_level, set_priority, set_team_id, set_assignee_id,"
    " raise_level, notify) VALUES ($1::text, $2::int, $3::boolean, $4::text, $5::text, $6::int, "
    ARR(7) ", " ARR(8) ", " ARR(9) ", " ARR(10) ", " ARR(11) ", " IDS(12) ", $13::int, $14::int,"
    " $15::text, $16::bigint, $17::bigint, $18::boolean, $19::boolean) RETURNING " RULE_COLS);
static struct ombud_db_stmt q_update = OMBUD_STMT(
    "UPDATE escalation_rules SET name = $1::text, position = $2::int, active = $3::boolean,"
    " trigger = $4::text, target = $5::text, delay_minutes = $6::int,"
    " cond_priorities = " ARR(7) ", cond_grades = " ARR(8) ", cond_categories = " ARR(9) ","
    " cond_channels = " ARR(10) ", cond_customer_tiers = " ARR(11) ", cond_team_ids = " IDS(12) ","
    " cond_min_level = $13::int, cond_max_level = $14::int, set_priority = $15::text,"
    " set_team_id = $16::bigint, set_assignee_id = $17::bigint, raise_level = $18::boolean,"
    " notify = $19::boolean, updated_at = now() WHERE id = $20::bigint RETURNING " RULE_COLS);
/* clang-format on */

/* The team ids as a JSON array text into buf. */
static void team_ids_json(const struct ombud_rule *r, char *buf, size_t len)
{
    size_t o = (size_t)snprintf(buf, len, "[");
    for (size_t i = 0; i < r->nteams && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%lld", i ? "," : "", (long long)r->team_ids[i]);
    if (o < len)
        snprintf(buf + o, len - o, "]");
}

enum ombud_rc ombud_db_rule_save(struct ombud_db_conn *c, struct ombud_rule *r, bool *found,
                                 struct ombud_err *err)
{
    char pos[16], delay[16], minl[16], maxl[16], team[OMBUD_DB_I64_BUFLEN],
        agent[OMBUD_DB_I64_BUFLEN], id[OMBUD_DB_I64_BUFLEN];
    char teams[OMBUD_RULE_MAX_TEAMS * 21 + 4];
    snprintf(pos, sizeof pos, "%d", r->position);
    snprintf(delay, sizeof delay, "%d", r->delay_minutes);
    snprintf(minl, sizeof minl, "%d", r->min_level);
    snprintf(maxl, sizeof maxl, "%d", r->max_level);
    ombud_db_param_i64(team, sizeof team, r->set_team_id);
    ombud_db_param_i64(agent, sizeof agent, r->set_assignee_id);
    ombud_db_param_i64(id, sizeof id, r->id);
    team_ids_json(r, teams, sizeof teams);
    const char *p[] = {r->name,
                       pos,
                       r->active ? "true" : "false",
                       ombud_rule_trigger_name(r->trigger),
                       ombud_rule_target_name(r->target),
                       delay,
                       r->cond_json[0] ? r->cond_json[0] : "[]",
                       r->cond_json[1] ? r->cond_json[1] : "[]",
                       r->cond_json[2] ? r->cond_json[2] : "[]",
                       r->cond_json[3] ? r->cond_json[3] : "[]",
                       r->cond_json[4] ? r->cond_json[4] : "[]",
                       teams,
                       r->min_level >= 0 ? minl : NULL,
                       r->max_level >= 0 ? maxl : NULL,
                       r->set_priority[0] ? r->set_priority : NULL,
                       r->set_team_id ? team : NULL,
                       r->set_assignee_id ? agent : NULL,
                       r->raise_level ? "true" : "false",
                       r->notify ? "true" : "false",
                       id};
    PGresult *res;
    enum ombud_rc rc =
        ombud_db_exec(c, r->id ? &q_update : &q_insert, r->id ? 20 : 19, p, &res, err);
    if (rc != OMBUD_OK)
        return rc;
    if (PQntuples(res) == 1)
        ombud_rule_clear(r); /* the row replaces it, lists included */
    return ombud_db_read_one(res, rule_cols, r, found, err);
}

static struct ombud_db_stmt q_get =
    OMBUD_STMT("SELECT " RULE_COLS " FROM escalation_rules WHERE id = $1::bigint");

enum ombud_rc ombud_db_rule_get(struct ombud_db_conn *c, int64_t id, struct ombud_rule *out,
                                bool *found, struct ombud_err *err)
{
    return ombud_db_get_by_id(c, &q_get, id, rule_cols, out, found, err);
}

static struct ombud_db_stmt q_list = OMBUD_STMT("SELECT " RULE_COLS " FROM escalation_rules"
                                                " WHERE id > $1::bigint ORDER BY id LIMIT $2::int");

enum ombud_rc ombud_db_rule_list(struct ombud_db_conn *c, int64_t after_id, int limit,
                                 struct ombud_rule **out, size_t *n, struct ombud_err *err)
{
    return ombud_db_list_page(c, &q_list, after_id, limit, 0, NULL, rule_cols, sizeof **out,
                              (void **)out, n, err);
}

static struct ombud_db_stmt q_delete =
    OMBUD_STMT("DELETE FROM escalation_rules WHERE id = $1::bigint RETURNING id");

enum ombud_rc ombud_db_rule_delete(struct ombud_db_conn *c, int64_t id, bool *found,
                                   struct ombud_err *err)
{
    char ids[OMBUD_DB_I64_BUFLEN];
    ombud_db_param_i64(ids, sizeof ids, id);
    const char *p[] = {ids};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_delete, 1, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *found = PQntuples(r) == 1;
    PQclear(r);
    return OMBUD_OK;
}

/* clang-format off */
static struct ombud_db_stmt q_refs = OMBUD_STMT(
    "SELECT (SELECT count(*) FROM unnest(" IDS(1) ") t"
    " WHERE NOT EXISTS (SELECT 1 FROM teams WHERE id = t)),"
    " EXISTS (SELECT 1 FROM json_array_elements_text($2::json) k"
    " WHERE NOT EXISTS (SELECT 1 FROM categories WHERE key = k))");
/* clang-format on */

enum ombud_rc ombud_db_rule_refs(struct ombud_db_conn *c, const int64_t *team_ids, size_t n,
                                 const char *categories_json, size_t *unknown_teams,
                                 bool *unknown_category, struct ombud_err *err)
{
    struct ombud_rule tmp = {.nteams = n > OMBUD_RULE_MAX_TEAMS ? OMBUD_RULE_MAX_TEAMS : n};
    char teams[OMBUD_RULE_MAX_TEAMS * 21 + 4];
    memcpy(tmp.team_ids, team_ids, tmp.nteams * sizeof *team_ids);
    team_ids_json(&tmp, teams, sizeof teams);
    const char *p[] = {teams, categories_json ? categories_json : "[]"};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_refs, 2, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *unknown_teams = (size_t)ombud_db_int(r, 0, 0);
    *unknown_category = ombud_db_bool(r, 0, 1);
    PQclear(r);
    return OMBUD_OK;
}

/* ---- runs ---- */

#define RUN_COLS                                                                                   \
    "rule_id, complaint_id, cycle, target,"                                                        \
    " extract(epoch FROM triggered_at)::bigint AS triggered_at_s,"                                 \
    " extract(epoch FROM due_at)::bigint AS due_at_s,"                                             \
    " coalesce(extract(epoch FROM done_at)::bigint, 0) AS done_at_s, state, reason"

#define RUN(kind, field, name) OMBUD_COL_##kind(struct ombud_rule_run, field, name)
static const struct ombud_db_col run_cols[] = {RUN(I64, rule_id, "rule_id"),
                                               RUN(I64, complaint_id, "complaint_id"),
                                               RUN(INT, cycle, "cycle"),
                                               RUN(TEXT, target, "target"),
                                               RUN(EPOCH, triggered_at, "triggered_at_s"),
                                               RUN(EPOCH, due_at, "due_at_s"),
                                               RUN(EPOCH, done_at, "done_at_s"),
                                               RUN(TEXT, state, "state"),
                                               RUN(TEXT, reason, "reason"),
                                               OMBUD_COL_END};
#undef RUN

/* clang-format off */
static struct ombud_db_stmt q_run_insert = OMBUD_STMT(
    "INSERT INTO escalation_rule_runs (rule_id, complaint_id, cycle, target, triggered_at, due_at,"
    " state, done_at) VALUES ($1::bigint, $2::bigint, $3::int, $4::text, to_timestamp($5::bigint),"
    " to_timestamp($6::bigint), $7::text, CASE WHEN $7::text = 'pending' THEN NULL ELSE now() END)"
    " ON CONFLICT (rule_id, complaint_id, cycle) DO NOTHING RETURNING 1");
/* clang-format on */

enum ombud_rc ombud_db_rule_run_insert(struct ombud_db_conn *c, int64_t rule_id,
                                       int64_t complaint_id, int cycle, const char *target,
                                       int64_t triggered_at, int64_t due_at, const char *state,
                                       bool *inserted, struct ombud_err *err)
{
    char rid[OMBUD_DB_I64_BUFLEN], cid[OMBUD_DB_I64_BUFLEN], cyc[16], trig[OMBUD_DB_I64_BUFLEN],
        due[OMBUD_DB_I64_BUFLEN];
    ombud_db_param_i64(rid, sizeof rid, rule_id);
    ombud_db_param_i64(cid, sizeof cid, complaint_id);
    snprintf(cyc, sizeof cyc, "%d", cycle);
    ombud_db_param_i64(trig, sizeof trig, triggered_at);
    ombud_db_param_i64(due, sizeof due, due_at);
    const char *p[] = {rid, cid, cyc, target, trig, due, state};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_run_insert, 7, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *inserted = PQntuples(r) == 1;
    PQclear(r);
    return OMBUD_OK;
}

/* clang-format off */
static struct ombud_db_stmt q_run_claim = OMBUD_STMT(
    "SELECT " RUN_COLS " FROM escalation_rule_runs WHERE state = 'pending'"
    " AND due_at <= to_timestamp($1::bigint) ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED");
/* clang-format on */

enum ombud_rc ombud_db_rule_run_claim(struct ombud_db_conn *c, int64_t now,
                                      struct ombud_rule_run *out, bool *found,
                                      struct ombud_err *err)
{
    char n[OMBUD_DB_I64_BUFLEN];
    ombud_db_param_i64(n, sizeof n, now);
    const char *p[] = {n};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_run_claim, 1, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    memset(out, 0, sizeof *out);
    return ombud_db_read_one(r, run_cols, out, found, err);
}

static struct ombud_db_stmt q_run_finish =
    OMBUD_STMT("UPDATE escalation_rule_runs SET state = $4::text, reason = $5::text,"
               " done_at = now() WHERE rule_id = $1::bigint AND complaint_id = $2::bigint"
               " AND cycle = $3::int AND state = 'pending'");

enum ombud_rc ombud_db_rule_run_finish(struct ombud_db_conn *c, const struct ombud_rule_run *run,
                                       const char *state, const char *reason, struct ombud_err *err)
{
    char rid[OMBUD_DB_I64_BUFLEN], cid[OMBUD_DB_I64_BUFLEN], cyc[16];
    ombud_db_param_i64(rid, sizeof rid, run->rule_id);
    ombud_db_param_i64(cid, sizeof cid, run->complaint_id);
    snprintf(cyc, sizeof cyc, "%d", run->cycle);
    const char *p[] = {rid, cid, cyc, state, reason};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_run_finish, 5, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    PQclear(r);
    return OMBUD_OK;
}

static struct ombud_db_stmt q_runs_of =
    OMBUD_STMT("SELECT " RUN_COLS " FROM escalation_rule_runs WHERE complaint_id = $1::bigint"
               " AND cycle = $2::int ORDER BY rule_id");

enum ombud_rc ombud_db_rule_runs_of(struct ombud_db_conn *c, int64_t complaint_id, int cycle,
                                    struct ombud_rule_run **out, size_t *n, struct ombud_err *err)
{
    char cid[OMBUD_DB_I64_BUFLEN], cyc[16];
    ombud_db_param_i64(cid, sizeof cid, complaint_id);
    snprintf(cyc, sizeof cyc, "%d", cycle);
    const char *p[] = {cid, cyc};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_runs_of, 2, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_db_read_rows(r, run_cols, sizeof **out, (void **)out, n, err);
}

/* clang-format off */
static struct ombud_db_stmt q_alert = OMBUD_STMT(
    "WITH a AS (INSERT INTO alerts (kind, level, complaint_id, target, cycle, scheduled_at,"
    " rule_id) VALUES ('escalation', $1::int, $2::bigint, $3::text, $4::int,"
    " to_timestamp($5::bigint), $6::bigint) ON CONFLICT (rule_id, complaint_id, cycle)"
    " WHERE kind = 'escalation' DO NOTHING RETURNING id),"
    " ch AS (INSERT INTO " OMBUD_CHG_COLS " SELECT b.base + 1, 'alert.raised', c.id, NULL, a.id,"
    " c.status, c.priority, c.team_id, c.assignee_id, c.version FROM a, complaints c,"
    " (SELECT " OMBUD_CHG_BASE " AS base) b WHERE c.id = $2::bigint)"
    " SELECT id FROM a");
/* clang-format on */

enum ombud_rc ombud_db_rule_alert_insert(struct ombud_db_conn *c, int64_t rule_id,
                                         int64_t complaint_id, const char *target, int cycle,
                                         int level, int64_t scheduled_at, int64_t *alert_id,
                                         struct ombud_err *err)
{
    char lvl[16], cid[OMBUD_DB_I64_BUFLEN], cyc[16], at[OMBUD_DB_I64_BUFLEN],
        rid[OMBUD_DB_I64_BUFLEN];
    snprintf(lvl, sizeof lvl, "%d", level);
    ombud_db_param_i64(cid, sizeof cid, complaint_id);
    snprintf(cyc, sizeof cyc, "%d", cycle);
    ombud_db_param_i64(at, sizeof at, scheduled_at);
    ombud_db_param_i64(rid, sizeof rid, rule_id);
    const char *p[] = {lvl, cid, target, cyc, at, rid};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_alert, 6, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *alert_id = PQntuples(r) == 1 ? ombud_db_int(r, 0, 0) : 0;
    PQclear(r);
    return OMBUD_OK;
}
