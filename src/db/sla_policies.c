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

#define POLICY_COLS                                                                                \
    "id, name, position, active, to_json(match_priorities)::text,"                                 \
    " to_json(match_grades)::text, to_json(match_categories)::text,"                               \
    " to_json(match_channels)::text, to_json(match_customer_tiers)::text,"                         \
    " first_response_minutes, resolution_minutes, warnings::text, calendar_id,"                    \
    " ombud_usec(created_at), ombud_usec(updated_at)"

static void read_policy(const PGresult *r, int row, void *rec)
{
    struct ombud_sla_policy *p = rec;
    memset(p, 0, sizeof *p);
    p->id = ombud_db_int(r, row, 0);
    ombud_db_text(r, row, 1, p->name, sizeof p->name);
    p->position = (int)ombud_db_int(r, row, 2);
    p->active = ombud_db_bool(r, row, 3);
    for (int i = 0; i < 5; i++)
        p->match_json[i] = ombud_db_strdup(r, row, 4 + i);
    p->first_response_minutes = ombud_db_int(r, row, 9);
    p->resolution_minutes = ombud_db_int(r, row, 10);
    json_t *w = json_loads(PQgetvalue(r, row, 11), 0, NULL);
    size_t i;
    json_t *e;
    json_array_foreach(w, i, e) {
        if (p->nwarnings >= OMBUD_SLA_MAX_WARNINGS)
            break;
        json_t *pc = json_object_get(e, "percent");
        struct ombud_sla_warning_rule *rule = &p->warnings[p->nwarnings++];
        rule->percent = pc != NULL;
        rule->value = json_integer_value(pc ? pc : json_object_get(e, "minutes_before"));
    }
    json_decref(w);
    p->calendar_id = ombud_db_int(r, row, 12);
    p->created_at = ombud_db_int(r, row, 13);
    p->updated_at = ombud_db_int(r, row, 14);
}

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

static struct ombud_db_stmt q_insert = OMBUD_STMT(
    "INSERT INTO sla_policies (name, position, active, match_priorities, match_grades,"
    " match_categories, match_channels, match_customer_tiers, first_response_minutes,"
    " resolution_minutes, warnings, calendar_id) VALUES ($1::text, $2::int, $3::boolean, " ARR(4)
    ", " ARR(5) ", " ARR(6) ", " ARR(7) ", " ARR(8) ", $9::int, $10::int, $11::jsonb,"
    " $12::bigint) RETURNING " POLICY_COLS);
static struct ombud_db_stmt q_update = OMBUD_STMT(
    "UPDATE sla_policies SET name = $1::text, position = $2::int, active = $3::boolean,"
    " match_priorities = " ARR(4) ", match_grades = " ARR(5) ", match_categories = " ARR(6)
    ", match_channels = " ARR(7) ", match_customer_tiers = " ARR(8)
    ", first_response_minutes = $9::int, resolution_minutes = $10::int, warnings = $11::jsonb,"
    " calendar_id = $12::bigint, updated_at = now() WHERE id = $13::bigint"
    " RETURNING " POLICY_COLS);

enum ombud_rc ombud_db_policy_save(struct ombud_db_conn *c, struct ombud_sla_policy *p,
                                   bool *found, struct ombud_err *err)
{
    char pos[16], fr[24], res[24], cal[24], id[24];
    char *w = warnings_json(p);
    if (!w)
        return ombud_err_internal(err, "out of memory");
    snprintf(pos, sizeof pos, "%d", p->position);
    i64s(fr, sizeof fr, p->first_response_minutes);
    i64s(res, sizeof res, p->resolution_minutes);
    i64s(cal, sizeof cal, p->calendar_id);
    i64s(id, sizeof id, p->id);
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
    *found = PQntuples(r) == 1;
    if (*found) {
        ombud_sla_policy_clear(p);
        read_policy(r, 0, p);
    }
    PQclear(r);
    return OMBUD_OK;
}

static struct ombud_db_stmt q_get =
    OMBUD_STMT("SELECT " POLICY_COLS " FROM sla_policies WHERE id = $1::bigint");

enum ombud_rc ombud_db_policy_get(struct ombud_db_conn *c, int64_t id,
                                  struct ombud_sla_policy *out, bool *found,
                                  struct ombud_err *err)
{
    char ids[24];
    i64s(ids, sizeof ids, id);
    const char *p[] = {ids};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_get, 1, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *found = PQntuples(r) == 1;
    if (*found)
        read_policy(r, 0, out);
    PQclear(r);
    return OMBUD_OK;
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
                                   struct ombud_sla_policy **out, size_t *n,
                                   struct ombud_err *err)
{
    char after[24], lim[16];
    i64s(after, sizeof after, after_id);
    snprintf(lim, sizeof lim, "%d", limit + 1);
    const char *p[] = {after, lim};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_list, 2, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_db_rows(r, sizeof(struct ombud_sla_policy), read_policy, (void **)out, n, err);
}

static struct ombud_db_stmt q_in_use = OMBUD_STMT(
    "SELECT EXISTS (SELECT 1 FROM complaints WHERE sla_policy_id = $1::bigint)"
    " OR EXISTS (SELECT 1 FROM sla_clocks WHERE policy_id = $1::bigint)"
    " FROM sla_policies WHERE id = $1::bigint FOR UPDATE");
static struct ombud_db_stmt q_delete =
    OMBUD_STMT("DELETE FROM sla_policies WHERE id = $1::bigint");

enum ombud_rc ombud_db_policy_delete(struct ombud_db_conn *c, int64_t id, bool *found,
                                     bool *in_use, struct ombud_err *err)
{
    char ids[24];
    i64s(ids, sizeof ids, id);
    const char *p[] = {ids};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_in_use, 1, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *found = PQntuples(r) == 1;
    *in_use = *found && ombud_db_bool(r, 0, 0);
    PQclear(r);
    if (!*found || *in_use)
        return OMBUD_OK;
    rc = ombud_db_exec(c, &q_delete, 1, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    PQclear(r);
    return OMBUD_OK;
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
                                     const char *grade, const char *category,
                                     const char *channel, const char *tier,
                                     struct ombud_sla_policy *out, bool *found,
                                     struct ombud_err *err)
{
    const char *p[] = {priority, grade, category, channel, tier};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_select, 5, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *found = PQntuples(r) == 1;
    if (*found)
        read_policy(r, 0, out);
    PQclear(r);
    return OMBUD_OK;
}
