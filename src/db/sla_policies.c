/*
 * SLA policies: the only SQL touching sla_policies. Match lists are
 * text[] columns (selection happens in SQL, by position); they cross
 * into C as JSON array text. The warning ladder is jsonb.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/internal.h"
#include "ombud/db/policies.h"

/* Every alias is the name policy_cols looks for; the match lists' carry
 * _json so none shadows its column. */
#define POLICY_COLS                                                                                \
    "id, name, position, active, to_json(match_priorities)::text AS match_priorities_json,"        \
    " to_json(match_grades)::text AS match_grades_json,"                                           \
    " to_json(match_categories)::text AS match_categories_json,"                                   \
    " to_json(match_channels)::text AS match_channels_json,"                                       \
    " to_json(match_customer_tiers)::text AS match_customer_tiers_json,"                           \
    " first_response_minutes, resolution_minutes, warnings::text AS warnings_json, calendar_id,"   \
    " ombud_usec(created_at) AS created_at_us, ombud_usec(updated_at) AS updated_at_us"

/* warnings_json: [{"percent": n} or {"minutes_before": n}, ...]. */
static void read_warnings(const char *v, void *rec)
{
    struct ombud_sla_policy *p = rec;
    json_t *w = v ? json_loads(v, 0, NULL) : NULL;
    size_t i;
    json_t *e;
    p->nwarnings = 0;
    json_array_foreach (w, i, e) {
        if (p->nwarnings >= OMBUD_SLA_MAX_WARNINGS)
            break;
        json_t *pc = json_object_get(e, "percent");
        struct ombud_sla_warning_rule *rule = &p->warnings[p->nwarnings++];
        rule->percent = pc != NULL;
        rule->value = json_integer_value(pc ? pc : json_object_get(e, "minutes_before"));
    }
    json_decref(w);
}

/* match_json[] is in the order of ombud_sla_match_names. */
static const struct ombud_db_col policy_cols[] = {
    OMBUD_COL_I64(struct ombud_sla_policy, id, "id"),
    OMBUD_COL_TEXT(struct ombud_sla_policy, name, "name"),
    OMBUD_COL_INT(struct ombud_sla_policy, position, "position"),
    OMBUD_COL_BOOL(struct ombud_sla_policy, active, "active"),
    OMBUD_COL_STR(struct ombud_sla_policy, match_json[0], "match_priorities_json"),
    OMBUD_COL_STR(struct ombud_sla_policy, match_json[1], "match_grades_json"),
    OMBUD_COL_STR(struct ombud_sla_policy, match_json[2], "match_categories_json"),
    OMBUD_COL_STR(struct ombud_sla_policy, match_json[3], "match_channels_json"),
    OMBUD_COL_STR(struct ombud_sla_policy, match_json[4], "match_customer_tiers_json"),
    OMBUD_COL_I64(struct ombud_sla_policy, first_response_minutes, "first_response_minutes"),
    OMBUD_COL_I64(struct ombud_sla_policy, resolution_minutes, "resolution_minutes"),
    OMBUD_COL_FN("warnings_json", read_warnings),
    OMBUD_COL_I64(struct ombud_sla_policy, calendar_id, "calendar_id"),
    OMBUD_COL_USEC(struct ombud_sla_policy, created_at, "created_at_us"),
    OMBUD_COL_USEC(struct ombud_sla_policy, updated_at, "updated_at_us"),
    OMBUD_COL_END};

static char *warnings_json(const struct ombud_sla_policy *p)
{
    json_t *a = json_array();
    for (size_t i = 0; i < p->nwarnings; i++)
        json_array_append_new(a, json_pack("{s:I}",
                                           p->warnings[i].percent ? "percent" : "minutes_before",
                                           (json_int_t)p->warnings[i].value));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

#define ARR(n) "ARRAY(SELECT json_array_elements_text($" #n "::json))"

/* clang-format off */
static struct ombud_db_stmt q_insert = OMBUD_STMT(
    "INSERT INTO sla_policies (name, position, active, match_priorities, match_grades,"
    " match_categories, match_channels, match_customer_tiers, first_response_minutes,"
    " resolution_minutes, warnings, calendar_id) VALUES ($1::text, $2::int, $3::boolean, " ARR(4)
    ", " ARR(5) ", " ARR(6) ", " ARR(7) ", " ARR(8) ", $9::int, $10::int, $11::jsonb,"
    " $12::bigint) RETURNING " POLICY_COLS);
/* clang-format on */
/* clang-format off */
static struct ombud_db_stmt q_update = OMBUD_STMT(
    "UPDATE sla_policies SET name = $1::text, position = $2::int, active = $3::boolean,"
    " match_priorities = " ARR(4) ", match_grades = " ARR(5) ", match_categories = " ARR(6)
    ", match_channels = " ARR(7) ", match_customer_tiers = " ARR(8)
    ", first_response_minutes = $9::int, resolution_minutes = $10::int, warnings = $11::jsonb,"
    " calendar_id = $12::bigint, updated_at = now() WHERE id = $13::bigint"
    " RETURNING " POLICY_COLS);
/* clang-format on */

enum ombud_rc ombud_db_policy_save(struct ombud_db_conn *c, struct ombud_sla_policy *p, bool *found,
                                   struct ombud_err *err)
{
    char pos[16], fr[OMBUD_DB_I64_BUFLEN], res[OMBUD_DB_I64_BUFLEN], cal[OMBUD_DB_I64_BUFLEN],
        id[OMBUD_DB_I64_BUFLEN];
    char *w = warnings_json(p);
    if (!w)
        return ombud_err_internal(err, "out of memory");
    snprintf(pos, sizeof pos, "%d", p->position);
    ombud_db_param_i64(fr, sizeof fr, p->first_response_minutes);
    ombud_db_param_i64(res, sizeof res, p->resolution_minutes);
    ombud_db_param_i64(cal, sizeof cal, p->calendar_id);
    ombud_db_param_i64(id, sizeof id, p->id);
    const char *params[] = {p->name,
                            pos,
                            p->active ? "true" : "false",
                            p->match_json[0] ? p->match_json[0] : "[]",
                            p->match_json[1] ? p->match_json[1] : "[]",
                            p->match_json[2] ? p->match_json[2] : "[]",
                            p->match_json[3] ? p->match_json[3] : "[]",
                            p->match_json[4] ? p->match_json[4] : "[]",
                            fr,
                            res,
                            w,
                            cal,
                            id};
    PGresult *r;
    enum ombud_rc rc =
        ombud_db_exec(c, p->id ? &q_update : &q_insert, p->id ? 13 : 12, params, &r, err);
    free(w);
    if (rc != OMBUD_OK)
        return rc;
    if (PQntuples(r) == 1)
        ombud_sla_policy_clear(p); /* the row replaces it, match lists included */
    return ombud_db_read_one(r, policy_cols, p, found, err);
}

static struct ombud_db_stmt q_get =
    OMBUD_STMT("SELECT " POLICY_COLS " FROM sla_policies WHERE id = $1::bigint");

enum ombud_rc ombud_db_policy_get(struct ombud_db_conn *c, int64_t id, struct ombud_sla_policy *out,
                                  bool *found, struct ombud_err *err)
{
    return ombud_db_get_by_id(c, &q_get, id, policy_cols, out, found, err);
}

static struct ombud_db_stmt q_list = OMBUD_STMT(
    "SELECT " POLICY_COLS " FROM sla_policies WHERE id > $1::bigint ORDER BY id LIMIT $2::int");

void ombud_policies_free(struct ombud_sla_policy *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        ombud_sla_policy_clear(&list[i]);
    free(list);
}

enum ombud_rc ombud_db_policy_list(struct ombud_db_conn *c, int64_t after_id, int limit,
                                   struct ombud_sla_policy **out, size_t *n, struct ombud_err *err)
{
    return ombud_db_list_page(c, &q_list, after_id, limit, 0, NULL, policy_cols, sizeof **out,
                              (void **)out, n, err);
}

/* clang-format off */
static struct ombud_db_stmt q_in_use = OMBUD_STMT(
    "SELECT EXISTS (SELECT 1 FROM complaints WHERE sla_policy_id = $1::bigint)"
    " OR EXISTS (SELECT 1 FROM sla_clocks WHERE policy_id = $1::bigint)"
    " FROM sla_policies WHERE id = $1::bigint FOR UPDATE");
/* clang-format on */
static struct ombud_db_stmt q_delete = OMBUD_STMT("DELETE FROM sla_policies WHERE id = $1::bigint");

enum ombud_rc ombud_db_policy_delete(struct ombud_db_conn *c, int64_t id, bool *found, bool *in_use,
                                     struct ombud_err *err)
{
    return ombud_db_delete_unused(c, &q_in_use, &q_delete, id, found, in_use, err);
}

static struct ombud_db_stmt q_select = OMBUD_STMT(
    "SELECT " POLICY_COLS " FROM sla_policies WHERE active"
    " AND (cardinality(match_priorities) = 0 OR $1::text = ANY (match_priorities))"
    " AND (cardinality(match_grades) = 0 OR $2::text = ANY (match_grades))"
    " AND (cardinality(match_categories) = 0 OR $3::text = ANY (match_categories))"
    " AND (cardinality(match_channels) = 0 OR $4::text = ANY (match_channels))"
    " AND (cardinality(match_customer_tiers) = 0 OR $5::text = ANY (match_customer_tiers))"
    " ORDER BY position, id LIMIT 1");

enum ombud_rc ombud_db_policy_select(struct ombud_db_conn *c, const char *priority,
                                     const char *grade, const char *category, const char *channel,
                                     const char *tier, struct ombud_sla_policy *out, bool *found,
                                     struct ombud_err *err)
{
    const char *p[] = {priority, grade, category, channel, tier};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_select, 5, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_db_read_one(r, policy_cols, out, found, err);
}
