/*
 * Complaints, their notes, timeline events, categories and idempotency
 * records, and the complaints' search grams: the only SQL touching those
 * tables. Values travel as text parameters with casts in the SQL; tags
 * travel as JSON array text. Search grams and lists of filter values
 * travel as text[] literals with every element double-quoted (inside
 * quotes only " and \ are special, and they are escaped), which the
 * planner reads as one constant array.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/changes.h"
#include "db/clock_cols.h"
#include "db/internal.h"
#include "ombud/db/complaints.h"
#include "ombud/search.h"

/* Microseconds since the epoch of a timestamptz, written out rather than
 * through ombud_usec(), a SQL function the planner does not inline. */
#define USEC(x) "(extract(epoch FROM " x ") * 1000000)::bigint"

/* Every alias is the name complaint_cols looks for; instants come as
 * timestamptz text (OMBUD_COL_TSTZ), their conversion left to the server. */
#define COMPLAINT_COLS                                                                             \
    "id, title, description, customer_name, customer_external_id, customer_email,"                 \
    " customer_phone, customer_tier, channel, category, grade, priority, demand, demand_detail,"   \
    " to_json(tags)::text AS tags_json, team_id, assignee_id, external_ref, status,"               \
    " escalation_level, reopen_count, resolution_summary,"                                         \
    " compensation_amount::text AS compensation_amount, compensation_currency, customer_agreed,"   \
    " satisfaction_score, satisfaction_comment, satisfaction_at, created_by_key_id, created_at,"   \
    " updated_at, first_response_at, resolved_at, closed_at, version, sla_policy_id,"              \
    " resolution_cycle, fr_clock, rs_clock"

/* The same for the statements of one complaint, under table alias t
 * ("c."): every alias is a name complaint_cols looks for. */
/* clang-format off */
#define COMPLAINT_COLS_OF(t)                                                                       \
    t "id AS id, " t "title AS title, " t "description AS description, "                          \
    t "customer_name AS customer_name, " t "customer_external_id AS customer_external_id, "       \
    t "customer_email AS customer_email, " t "customer_phone AS customer_phone, "                 \
    t "customer_tier AS customer_tier, " t "channel AS channel, " t "category AS category, "       \
    t "grade AS grade, " t "priority AS priority, " t "demand AS demand, "                        \
    t "demand_detail AS demand_detail, to_json(" t "tags)::text AS tags_json, "                   \
    t "team_id AS team_id, " t "assignee_id AS assignee_id, " t "external_ref AS external_ref, "  \
    t "status AS status, " t "escalation_level AS escalation_level, "                             \
    t "reopen_count AS reopen_count, " t "resolution_summary AS resolution_summary, "             \
    t "compensation_amount::text AS compensation_amount, "                                        \
    t "compensation_currency AS compensation_currency, " t "customer_agreed AS customer_agreed, " \
    t "satisfaction_score AS satisfaction_score, "                                                \
    t "satisfaction_comment AS satisfaction_comment, "                                            \
    t "satisfaction_at AS satisfaction_at, "                                                      \
    t "created_by_key_id AS created_by_key_id, " t "created_at AS created_at, "                   \
    t "updated_at AS updated_at, " t "first_response_at AS first_response_at, "                   \
    t "resolved_at AS resolved_at, " t "closed_at AS closed_at, "                                 \
    t "version AS version, " t "sla_policy_id AS sla_policy_id, "                                 \
    t "resolution_cycle AS resolution_cycle, " t "fr_clock AS fr_clock, "                          \
    t "rs_clock AS rs_clock"
/* clang-format on */

static void read_status(const char *v, void *rec)
{
    struct ombud_complaint *c = rec;
    if (!v || !ombud_status_parse(v, &c->status))
        c->status = OMBUD_ST_NEW;
}

static void read_agreed(const char *v, void *rec)
{
    struct ombud_complaint *c = rec;
    c->customer_agreed = v ? v[0] == 't' : -1;
}

/* The complaint's copies of its current clocks (migration 0018). */
static void read_fr_clock(const char *v, void *rec)
{
    struct ombud_complaint *c = rec;
    ombud_db_clock_copy_read(v, &c->sla[OMBUD_SLA_FIRST_RESPONSE],
                             &c->sla_have[OMBUD_SLA_FIRST_RESPONSE]);
}

static void read_rs_clock(const char *v, void *rec)
{
    struct ombud_complaint *c = rec;
    ombud_db_clock_copy_read(v, &c->sla[OMBUD_SLA_RESOLUTION], &c->sla_have[OMBUD_SLA_RESOLUTION]);
}

#define C(kind, field, name) OMBUD_COL_##kind(struct ombud_complaint, field, name)
static const struct ombud_db_col complaint_cols[] = {
    C(I64, id, "id"),
    C(STR, title, "title"),
    C(STR, description, "description"),
    C(STR, customer_name, "customer_name"),
    C(STR, customer_external_id, "customer_external_id"),
    C(STR, customer_email, "customer_email"),
    C(STR, customer_phone, "customer_phone"),
    C(TEXT, customer_tier, "customer_tier"),
    C(TEXT, channel, "channel"),
    C(TEXT, category, "category"),
    C(TEXT, grade, "grade"),
    C(TEXT, priority, "priority"),
    C(TEXT, demand, "demand"),
    C(STR, demand_detail, "demand_detail"),
    C(STR, tags_json, "tags_json"),
    C(I64, team_id, "team_id"),
    C(I64, assignee_id, "assignee_id"),
    C(STR, external_ref, "external_ref"),
    OMBUD_COL_FN("status", read_status),
    C(INT, escalation_level, "escalation_level"),
    C(INT, reopen_count, "reopen_count"),
    C(STR, resolution_summary, "resolution_summary"),
    C(STR, compensation_amount, "compensation_amount"),
    C(TEXT, compensation_currency, "compensation_currency"),
    OMBUD_COL_FN("customer_agreed", read_agreed),
    C(INT, satisfaction_score, "satisfaction_score"),
    C(STR, satisfaction_comment, "satisfaction_comment"),
    C(TSTZ, satisfaction_at, "satisfaction_at"),
    C(I64, created_by_key_id, "created_by_key_id"),
    C(TSTZ, created_at, "created_at"),
    C(TSTZ, updated_at, "updated_at"),
    C(TSTZ, first_response_at, "first_response_at"),
    C(TSTZ, resolved_at, "resolved_at"),
    C(TSTZ, closed_at, "closed_at"),
    C(INT, version, "version"),
    C(I64, sla_policy_id, "sla_policy_id"),
    C(INT, resolution_cycle, "resolution_cycle"),
    OMBUD_COL_FN("fr_clock", read_fr_clock),
    OMBUD_COL_FN("rs_clock", read_rs_clock),
    OMBUD_COL_END};
#undef C

static struct ombud_db_stmt q_refs =
    OMBUD_STMT("SELECT $1::text IS NULL OR EXISTS (SELECT 1 FROM categories WHERE key = $1::text),"
               " $2::bigint IS NULL OR EXISTS (SELECT 1 FROM teams WHERE id = $2::bigint),"
               " $3::bigint IS NULL OR EXISTS (SELECT 1 FROM agents WHERE id = $3::bigint)");

enum ombud_rc ombud_db_refs_check(struct ombud_db_conn *c, const char *category, int64_t team_id,
                                  int64_t agent_id, bool *category_ok, bool *team_ok,
                                  bool *agent_ok, struct ombud_err *err)
{
    char t[24], a[24];
    ombud_db_param_i64(t, sizeof t, team_id);
    ombud_db_param_i64(a, sizeof a, agent_id);
    const char *p[] = {category, team_id ? t : NULL, agent_id ? a : NULL};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_refs, 3, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *category_ok = ombud_db_bool(r, 0, 0);
    *team_ok = ombud_db_bool(r, 0, 1);
    *agent_ok = ombud_db_bool(r, 0, 2);
    PQclear(r);
    return OMBUD_OK;
}

/* Every alias is the name note_cols looks for. */
#define NOTE_COLS                                                                                  \
    "id, complaint_id, body, visibility, author_key_id, author_role, author_agent_id,"             \
    " ombud_usec(created_at) AS created_at_us"

static const struct ombud_db_col note_cols[] = {
    OMBUD_COL_I64(struct ombud_note, id, "id"),
    OMBUD_COL_I64(struct ombud_note, complaint_id, "complaint_id"),
    OMBUD_COL_STR(struct ombud_note, body, "body"),
    OMBUD_COL_TEXT(struct ombud_note, visibility, "visibility"),
    OMBUD_COL_I64(struct ombud_note, author_key_id, "author_key_id"),
    OMBUD_COL_TEXT(struct ombud_note, author_role, "author_role"),
    OMBUD_COL_I64(struct ombud_note, author_agent_id, "author_agent_id"),
    OMBUD_COL_USEC(struct ombud_note, created_at, "created_at_us"),
    OMBUD_COL_END};

/* ---- one complaint with its current clocks ----
 *
 * A complaint is always read with its two current clocks (first response,
 * cycle 1; resolution, the complaint's resolution_cycle). A read takes
 * them from the complaint's own copies (fr_clock, rs_clock: one table, one
 * index scan); a read for a change takes and locks them in sla_clocks,
 * their columns coming as fr_… and rs_… beside the complaint's, read over
 * the copies. */

#define CLOCKS_OF(f, r) OMBUD_DB_CLOCK_COLS(f ".", "fr_") ", " OMBUD_DB_CLOCK_COLS(r ".", "rs_")

/* clang-format off */
static struct ombud_db_stmt q_get = OMBUD_STMT(
    "SELECT " COMPLAINT_COLS_OF("c.") " FROM complaints c WHERE c.id = $1::bigint");

/* The same with the row version's transaction (xmin), for a change that
 * writes only if the row is still that version (ombud_db_complaint_change
 * with a guard): every writer of a complaint or of its clocks writes the
 * complaint's row (the clocks' copies), so a new xmin means a write. */
static struct ombud_db_stmt q_get_row = OMBUD_STMT(
    "SELECT " COMPLAINT_COLS_OF("c.") ", c.xmin::text AS row_xmin FROM complaints c"
    " WHERE c.id = $1::bigint");

/*
 * The same, locked for a change. The complaint is locked FOR NO KEY
 * UPDATE (a change never alters its key, and inserts of events or alerts
 * that refer to it take KEY SHARE, which this lets through), first, in
 * its own CTE; its current clocks FOR UPDATE after it, so the SLA worker
 * (which claims a clock and its complaint together, both SKIP LOCKED, and
 * then writes only rows it holds or rows referring to the complaint)
 * never waits for us while holding a clock.
 *
 * When the lock had to wait for another change, the complaint's row is
 * that change's (READ COMMITTED re-reads a locked row), but the clocks
 * are read with the statement's snapshot, from before that change: a
 * clock it inserted (a reopened cycle) would be missing. "fresh" says
 * whether the locked row is the one the snapshot sees; when it is not,
 * the caller reads again, holding the lock now, with a new snapshot.
 */
static struct ombud_db_stmt q_get_lock = OMBUD_STMT(
    "WITH c AS MATERIALIZED (SELECT *, xmin::text AS row_xmin FROM complaints"
    " WHERE id = $1::bigint FOR NO KEY UPDATE),"
    " k AS MATERIALIZED (SELECT k.* FROM sla_clocks k JOIN c ON k.complaint_id = c.id"
    " AND (k.target = 'first_response' AND k.cycle = 1"
    " OR k.target = 'resolution' AND k.cycle = c.resolution_cycle) FOR UPDATE OF k)"
    " SELECT " COMPLAINT_COLS_OF("c.") ", " CLOCKS_OF("f", "r") ","
    " c.row_xmin = (SELECT xmin::text FROM complaints WHERE id = $1::bigint) AS fresh"
    " FROM c LEFT JOIN k f ON f.target = 'first_response'"
    " LEFT JOIN k r ON r.target = 'resolution'");
/* clang-format on */

/* Reads the complaint of r's first row and, when it has them, its clocks
 * (fr_…, rs_…) into out. */
static enum ombud_rc read_complaint(const PGresult *r, struct ombud_complaint *out,
                                    struct ombud_err *err)
{
    struct ombud_db_colmap map, fr, rs;
    enum ombud_rc rc = ombud_db_colmap_bind(&map, r, complaint_cols, err);
    if (rc != OMBUD_OK)
        return rc;
    memset(out, 0, sizeof *out);
    ombud_db_read_row(&map, 0, out);
    if (PQfnumber(r, "fr_target") < 0)
        return OMBUD_OK;
    if ((rc = ombud_db_clock_bind(&fr, r, "fr_", err)) != OMBUD_OK ||
        (rc = ombud_db_clock_bind(&rs, r, "rs_", err)) != OMBUD_OK)
        return rc;
    ombud_db_clock_read(&fr, 0, &out->sla[0], &out->sla_have[0]);
    ombud_db_clock_read(&rs, 0, &out->sla[1], &out->sla_have[1]);
    return OMBUD_OK;
}

enum ombud_rc ombud_db_complaint_get(struct ombud_db_conn *c, int64_t id, bool lock,
                                     struct ombud_complaint *out, bool *found,
                                     struct ombud_err *err)
{
    char ids[OMBUD_DB_I64_BUFLEN];
    ombud_db_param_i64(ids, sizeof ids, id);
    const char *p[] = {ids};
    /* Locked: read again (lock held, new snapshot) until the row is fresh;
     * the second read never waits, so two reads are the most. */
    for (int attempt = 0;; attempt++) {
        PGresult *r;
        enum ombud_rc rc = ombud_db_exec(c, lock ? &q_get_lock : &q_get, 1, p, &r, err);
        if (rc != OMBUD_OK)
            return rc;
        *found = PQntuples(r) == 1;
        bool fresh = !lock || !*found || attempt > 2 || ombud_db_bool(r, 0, PQfnumber(r, "fresh"));
        if (*found && fresh)
            rc = read_complaint(r, out, err);
        PQclear(r);
        if (rc != OMBUD_OK || fresh)
            return rc;
    }
}

enum ombud_rc ombud_db_complaint_get_row(struct ombud_db_conn *c, int64_t id,
                                         struct ombud_complaint *out, bool *found,
                                         char row[OMBUD_DB_ROW_BUFLEN], struct ombud_err *err)
{
    char ids[OMBUD_DB_I64_BUFLEN];
    ombud_db_param_i64(ids, sizeof ids, id);
    const char *p[] = {ids};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_get_row, 1, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *found = PQntuples(r) == 1;
    row[0] = '\0';
    if (*found) {
        rc = read_complaint(r, out, err);
        snprintf(row, OMBUD_DB_ROW_BUFLEN, "%s", PQgetvalue(r, 0, PQfnumber(r, "row_xmin")));
    }
    PQclear(r);
    return rc;
}

#define TS_PARAM(n)                                                                                \
    "CASE WHEN $" #n "::bigint = 0 THEN NULL WHEN $" #n "::bigint = "                              \
    "-9223372036854775808 THEN now() ELSE 'epoch'::timestamptz + $" #n                             \
    "::bigint * interval '1 microsecond' END"

/* Clocks to store, from $n: a JSON array of clock records (clocks_json);
 * instants are epoch seconds, 0 for none. from: what the records join in
 * FROM ("" or "c, " when id is a column of CTE c). */
/* clang-format off */
#define CLOCKS_INSERT(id, from, n)                                                                 \
    "INSERT INTO sla_clocks (complaint_id, target, cycle, policy_id, calendar_id, target_seconds," \
    " elapsed_seconds, running_since, due_at, met_at, breached, breach_raised_at, warnings,"       \
    " next_alert_at) SELECT " id ", k.target, k.cycle, k.policy_id, k.calendar_id,"               \
    " k.target_seconds, k.elapsed_seconds, to_timestamp(nullif(k.running_since, 0)),"             \
    " to_timestamp(nullif(k.due_at, 0)), to_timestamp(nullif(k.met_at, 0)), k.breached,"          \
    " to_timestamp(nullif(k.breach_raised_at, 0)), k.warnings,"                                   \
    " to_timestamp(nullif(k.next_alert_at, 0))"                                                    \
    " FROM " from "json_to_recordset($" #n "::json) AS k(target text, cycle int,"                 \
    " policy_id bigint, calendar_id bigint, target_seconds bigint, elapsed_seconds bigint,"       \
    " running_since bigint, due_at bigint, met_at bigint, breached boolean,"                      \
    " breach_raised_at bigint, warnings jsonb, next_alert_at bigint)"

/* The same for a complaint that may have them: they are replaced. */
#define CLOCKS_UPSERT(id, from, n)                                                                 \
    CLOCKS_INSERT(id, from, n)                                                                     \
    " ON CONFLICT (complaint_id, target, cycle) DO UPDATE SET policy_id = EXCLUDED.policy_id,"     \
    " calendar_id = EXCLUDED.calendar_id, target_seconds = EXCLUDED.target_seconds,"              \
    " elapsed_seconds = EXCLUDED.elapsed_seconds, running_since = EXCLUDED.running_since,"        \
    " due_at = EXCLUDED.due_at, met_at = EXCLUDED.met_at, breached = EXCLUDED.breached,"          \
    " breach_raised_at = EXCLUDED.breach_raised_at, warnings = EXCLUDED.warnings,"                \
    " next_alert_at = EXCLUDED.next_alert_at, updated_at = now()"

/* Timeline events from $n: a JSON array of {kind, data, ref, note}
 * (events_json), in order; from as in CLOCKS_INSERT. ref: the data gets
 * the complaint's reference (known once the row is inserted); note: the
 * id of the note stored by the same statement. */
#define EVENTS_INSERT(id, from, n, key, role, agent, rule_col, rule, note_id)                      \
    "INSERT INTO complaint_events (complaint_id, kind, actor_key_id, actor_role, actor_agent_id,"  \
    rule_col " data) SELECT " id ", e.v->>'kind', " key ", " role ", " agent ", " rule             \
    "(e.v->'data')::jsonb"                                                                         \
    " || CASE WHEN (e.v->>'ref')::boolean THEN jsonb_build_object('reference', 'CMP-' ||"         \
    " CASE WHEN " id " < 1000000 THEN lpad((" id ")::text, 6, '0') ELSE (" id ")::text END)"      \
    " ELSE '{}' END"                                                                               \
    " || CASE WHEN (e.v->>'note')::boolean THEN jsonb_build_object('note_id', " note_id ")"       \
    " ELSE '{}' END"                                                                               \
    " FROM " from "json_array_elements($" #n "::json) WITH ORDINALITY AS e(v, i)"

/* The changes of the events a CTE e (EVENTS_INSERT ... RETURNING id,
 * kind) wrote, in their order, with the complaint's state after them;
 * from: e, or e with what the state is read from. */
#define EVENTS_CHANGES(from, id, status, priority, team, assignee, version)                        \
    "INSERT INTO " OMBUD_CHG_COLS " SELECT b.base + row_number() OVER (ORDER BY e.id),"            \
    " 'complaint.' || e.kind, " id ", e.id, NULL, " status ", " priority ", " team ", " assignee    \
    ", " version " FROM " from ", (SELECT " OMBUD_CHG_BASE " AS base) b"
/* clang-format on */

/* A growing string for the JSON parameters. */
struct jbuf {
    char *s;
    size_t len, cap;
    bool failed;
};

static void jput(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void jput(struct jbuf *b, const char *fmt, ...)
{
    va_list ap;
    for (int round = 0; round < 2 && !b->failed; round++) {
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
        char *grown = realloc(b->s, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->s = grown;
        b->cap = cap;
    }
}

/* The clocks marked in changed as a JSON array of clock records. */
static bool clocks_json(struct jbuf *b, const struct ombud_sla_clock k[2], const bool changed[2])
{
    char w[OMBUD_DB_WARNINGS_BUFLEN];
    jput(b, "[");
    for (int i = 0, n = 0; i < 2; i++) {
        if (!changed[i])
            continue;
        if (!ombud_db_clock_warnings_text(&k[i], w, sizeof w))
            return false;
        jput(b,
             "%s{\"target\":\"%s\",\"cycle\":%d,\"policy_id\":%lld,\"calendar_id\":%lld,"
             "\"target_seconds\":%lld,\"elapsed_seconds\":%lld,\"running_since\":%lld,"
             "\"due_at\":%lld,\"met_at\":%lld,\"breached\":%s,\"breach_raised_at\":%lld,"
             "\"warnings\":%s,\"next_alert_at\":%lld}",
             n++ ? "," : "", ombud_sla_target_name(k[i].target), k[i].cycle,
             (long long)k[i].policy_id, (long long)k[i].calendar_id, (long long)k[i].target_seconds,
             (long long)k[i].elapsed_seconds, (long long)k[i].running_since, (long long)k[i].due_at,
             (long long)k[i].met_at, k[i].breached ? "true" : "false",
             (long long)k[i].breach_raised_at, w, (long long)k[i].next_alert_at);
    }
    jput(b, "]");
    return !b->failed;
}

/* e's events with their data texts (JSON object text each). */
static bool events_json(struct jbuf *b, const struct ombud_effects *e, char *const *texts)
{
    jput(b, "[");
    for (size_t i = 0; i < e->nevents; i++)
        jput(b, "%s{\"kind\":\"%s\",\"data\":%s,\"ref\":%s,\"note\":%s}", i ? "," : "",
             ombud_event_kind_name(e->events[i].kind), texts[i],
             e->events[i].kind == OMBUD_EV_CREATED ? "true" : "false",
             e->events[i].about_note ? "true" : "false");
    jput(b, "]");
    return !b->failed;
}

/* ---- create: one statement ---- */

/* clang-format off */
static struct ombud_db_stmt q_create = OMBUD_STMT(
    "WITH c AS (INSERT INTO complaints (title, description, customer_name, customer_external_id,"
    " customer_email, customer_phone, customer_tier, channel, category, grade, priority, demand,"
    " demand_detail, tags, team_id, assignee_id, external_ref, created_by_key_id, sla_policy_id,"
    " fr_clock, rs_clock)"
    " VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text,"
    " $9::text, $10::text, $11::text, $12::text, $13::text,"
    " ARRAY(SELECT json_array_elements_text($14::json)), $15::bigint, $16::bigint, $17::text,"
    " $18::bigint, $19::bigint, $25::text, $26::text) RETURNING *),"
    /* The new row joined once in each (not a subquery per value); a new
     * complaint has no clocks to replace. */
    " k AS (" CLOCKS_INSERT("c.id", "c, ", 20) "),"
    " e AS (" EVENTS_INSERT("c.id", "c, ", 21, "$18::bigint", "$22::text", "$23::bigint", "", "",
                            "NULL::bigint") " ORDER BY e.i RETURNING id, kind),"
    " ch AS (" EVENTS_CHANGES("e, c", "c.id", "c.status", "c.priority", "c.team_id",
                              "c.assignee_id", "1") ")"
    /* The search grams, computed in C (domain/search.c). */
    ", s AS (INSERT INTO complaint_search (complaint_id, grams) SELECT id, $24::text[] FROM c)"
    " SELECT " COMPLAINT_COLS_OF("c.") " FROM c");
/* clang-format on */

enum ombud_rc ombud_db_complaint_create(struct ombud_db_conn *c,
                                        const struct ombud_complaint_new *in, int64_t policy_id,
                                        const struct ombud_sla_clock k[2], const bool have[2],
                                        const struct ombud_effects *e, char *const *texts,
                                        const struct ombud_actor *a, struct ombud_complaint *out,
                                        struct ombud_err *err)
{
    char team[24], agent[24], key[24], pol[24], actor_agent[24];
    char copy[2][OMBUD_DB_CLOCK_COPY_BUFLEN];
    struct jbuf clocks = {0}, events = {0};
    char *grams = NULL;
    enum ombud_rc rc;
    for (int i = 0; i < 2; i++)
        if (have[i] && !ombud_db_clock_copy_text(&k[i], copy[i], sizeof copy[i]))
            return ombud_err_internal(err, "warning ladder too long");
    ombud_db_param_i64(team, sizeof team, in->team_id);
    ombud_db_param_i64(agent, sizeof agent, in->assignee_id);
    ombud_db_param_i64(key, sizeof key, in->created_by_key_id);
    ombud_db_param_i64(pol, sizeof pol, policy_id);
    ombud_db_param_i64(actor_agent, sizeof actor_agent, a->agent_id);
    grams = ombud_search_doc_grams(in->title, in->description, in->customer_name);
    if (!grams || !clocks_json(&clocks, k, have) || !events_json(&events, e, texts)) {
        rc = ombud_err_internal(err, "out of memory");
        goto out;
    }
    const char *p[] = {in->title,
                       in->description,
                       in->customer_name,
                       in->customer_external_id,
                       in->customer_email,
                       in->customer_phone,
                       in->customer_tier,
                       in->channel,
                       in->category,
                       in->grade,
                       in->priority,
                       in->demand,
                       in->demand_detail,
                       in->tags_json ? in->tags_json : "[]",
                       in->team_id ? team : NULL,
                       in->assignee_id ? agent : NULL,
                       in->external_ref,
                       in->created_by_key_id ? key : NULL,
                       policy_id ? pol : NULL,
                       clocks.s,
                       events.s,
                       a->role,
                       a->agent_id ? actor_agent : NULL,
                       grams,
                       have[0] ? copy[0] : NULL,
                       have[1] ? copy[1] : NULL};
    PGresult *r;
    /* On its own it is its own transaction; inside one (Idempotency-Key)
     * more follows before the COMMIT. */
    rc = c->in_tx ? ombud_db_exec(c, &q_create, 26, p, &r, err)
                  : ombud_db_exec_last(c, &q_create, 26, p, &r, err);
    if (rc != OMBUD_OK)
        goto out;
    if (PQntuples(r) != 1)
        rc = ombud_err_internal(err, "insert returned no row");
    else
        rc = read_complaint(r, out, err);
    PQclear(r);
    if (rc == OMBUD_OK)
        for (int i = 0; i < 2; i++)
            if ((out->sla_have[i] = have[i]))
                out->sla[i] = k[i];
out:
    free(grams);
    free(clocks.s);
    free(events.s);
    return rc;
}

/* ---- a change: one statement ---- */

/* Every alias is the name note_cols looks for (after the note_ prefix). */
#define NOTE_COLS_OF(t, p)                                                                         \
    t "id AS " p "id, " t "complaint_id AS " p "complaint_id, " t "body AS " p "body, " t          \
      "visibility AS " p "visibility, " t "author_key_id AS " p "author_key_id, " t                \
      "author_role AS " p "author_role, " t "author_agent_id AS " p                                \
      "author_agent_id, " USEC(t "created_at") " AS " p "created_at_us"

/* $1 id, $2…$24 the fields as in the full save, $25 the version read,
 * $26 whether the row is written, $27 whether that is a new version,
 * $28 sla_policy_id (NULL: kept), $29 resolution_cycle (NULL: kept),
 * $30 the clocks, $31 the events, $32…$34 the actor, $35 the note's
 * body (NULL: no note), $36 its visibility, $37 the acting rule (NULL: none),
 * $38 and $39 the complaint's copies of the clocks it stores (NULL: that
 * clock is not stored; a new resolution cycle without a clock has none).
 * The copies go with the row when it is written (u), and on their own
 * otherwise (cc). $40: the row version the change was computed from
 * (ombud_db_complaint_get_row), or NULL when the caller holds the row's
 * lock: with one, the row is written only if it is still that version,
 * and when it is not (lost) nothing is (w gates the note, the clocks and
 * the events on u). */
#define CLOCK_COPIES                                                                               \
    "fr_clock = coalesce($38::text, fr_clock), rs_clock = CASE WHEN $39::text IS NOT NULL"         \
    " THEN $39::text WHEN $29::int IS NOT NULL THEN NULL ELSE rs_clock END"
/* clang-format off */
static struct ombud_db_stmt q_change = OMBUD_STMT(
    "WITH u AS (UPDATE complaints SET title = $2::text, description = $3::text, category = $4::text,"
    " grade = $5::text, priority = $6::text, demand = $7::text, demand_detail = $8::text,"
    " tags = ARRAY(SELECT json_array_elements_text($9::json)), team_id = $10::bigint,"
    " assignee_id = $11::bigint, status = $12::text, escalation_level = $13::int,"
    " reopen_count = $14::int, resolution_summary = $15::text,"
    " compensation_amount = $16::numeric, compensation_currency = $17::text,"
    " customer_agreed = $18::boolean, satisfaction_score = $19::smallint,"
    " satisfaction_comment = $20::text, satisfaction_at = " TS_PARAM(21) ","
    " first_response_at = " TS_PARAM(22) ", resolved_at = " TS_PARAM(23) ","
    " closed_at = " TS_PARAM(24) ","
    " sla_policy_id = coalesce($28::bigint, sla_policy_id),"
    " resolution_cycle = coalesce($29::int, resolution_cycle),"
    " " CLOCK_COPIES ","
    " updated_at = CASE WHEN $27::boolean THEN now() ELSE updated_at END,"
    " version = version + $27::boolean::int"
    " WHERE id = $1::bigint AND version = $25::int AND $26::boolean"
    " AND ($40::text IS NULL OR xmin::text = $40::text) RETURNING *),"
    " cc AS (UPDATE complaints SET " CLOCK_COPIES " WHERE id = $1::bigint"
    " AND ($38::text IS NOT NULL OR $39::text IS NOT NULL) AND NOT $26::boolean),"
    " w AS (SELECT 1 AS go WHERE NOT $26::boolean OR EXISTS (SELECT 1 FROM u)),"
    " n AS (INSERT INTO complaint_notes (complaint_id, body, visibility, author_key_id,"
    " author_role, author_agent_id) SELECT $1::bigint, $35::text, $36::text, $32::bigint,"
    " $33::text, $34::bigint FROM w WHERE $35::text IS NOT NULL RETURNING *),"
    " k AS (" CLOCKS_UPSERT("$1::bigint", "w, ", 30) "),"
    " e AS (" EVENTS_INSERT("$1::bigint", "w, ", 31, "$32::bigint", "$33::text", "$34::bigint",
                            " actor_rule_id,", "$37::bigint, ",
                            "(SELECT id FROM n)") " ORDER BY e.i RETURNING id, kind),"
    " ch AS (" EVENTS_CHANGES("e", "$1::bigint", "$12::text", "$6::text", "$10::bigint", "$11::bigint",
                              "$25::int + $27::boolean::int") ")"
    " SELECT $26::boolean AND u.id IS NULL AS lost, " COMPLAINT_COLS_OF("u.") ", "
    NOTE_COLS_OF("n.", "note_")
    " FROM (SELECT 1) one LEFT JOIN u ON true LEFT JOIN n ON true");
/* clang-format on */

/* The change of an action that moves the status and its timestamps and
 * nothing else (no other field, no note, no new policy or cycle): the
 * same writes as q_change with such parameters, without the SET of every
 * other column, the note and the copies-only update, which every
 * acknowledge paid to start up (executor start-up was a fifth of
 * PostgreSQL's time in a transition; mean execution 180-206 us against
 * 219-291 for q_change). $1 id, $2 status,
 * $3...$6 first_response_at, resolved_at, closed_at, satisfaction_at,
 * $7 the version read, $8 and $9 the clock copies ($38, $39 of q_change),
 * $10 the row version (q_change's $40), $11 the clocks, $12 the events,
 * $13...$16 the actor and rule, $17...$19 priority, team and assignee
 * for the log. */
/* clang-format off */
static struct ombud_db_stmt q_action = OMBUD_STMT(
    "WITH u AS (UPDATE complaints SET status = $2::text, first_response_at = " TS_PARAM(3) ","
    " resolved_at = " TS_PARAM(4) ", closed_at = " TS_PARAM(5) ","
    " satisfaction_at = " TS_PARAM(6) ", fr_clock = coalesce($8::text, fr_clock),"
    " rs_clock = coalesce($9::text, rs_clock), updated_at = now(), version = version + 1"
    " WHERE id = $1::bigint AND version = $7::int"
    " AND ($10::text IS NULL OR xmin::text = $10::text) RETURNING *),"
    " k AS (" CLOCKS_UPSERT("$1::bigint", "u, ", 11) "),"
    " e AS (" EVENTS_INSERT("$1::bigint", "u, ", 12, "$13::bigint", "$14::text", "$15::bigint",
                            " actor_rule_id,", "$16::bigint, ", "NULL::bigint")
    " ORDER BY e.i RETURNING id, kind),"
    " ch AS (" EVENTS_CHANGES("e", "$1::bigint", "$2::text", "$17::text", "$18::bigint",
                              "$19::bigint", "$7::int + 1") ")"
    " SELECT u.id IS NULL AS lost, " COMPLAINT_COLS_OF("u.")
    " FROM (SELECT 1) one LEFT JOIN u ON true");
/* clang-format on */

/* Whether a change is an action's move of status and timestamps only. */
static bool action_only(bool write, bool new_version, const struct ombud_change_sla *sla,
                        const struct ombud_effects *e)
{
    return write && new_version && e->nassign == 0 && !e->note && !sla->policy_id && !sla->cycle;
}

enum ombud_rc ombud_db_complaint_change(struct ombud_db_conn *c, struct ombud_complaint *cp,
                                        bool write, bool new_version,
                                        const struct ombud_change_sla *sla,
                                        const struct ombud_effects *e, char *const *texts,
                                        const struct ombud_actor *a, const char *row_version,
                                        bool *lost, struct ombud_note *note, struct ombud_err *err)
{
    char id[24], team[24], agent[24], lvl[16], reopen[16], score[16], sat[24], fr[24], res[24],
        closed[24], ver[16], pol[24], cyc[16], key[24], actor_agent[24], actor_rule[24];
    struct jbuf clocks = {0}, events = {0};
    enum ombud_rc rc;
    char copy[2][OMBUD_DB_CLOCK_COPY_BUFLEN];
    for (int i = 0; i < 2; i++)
        if (sla->changed[i] && !ombud_db_clock_copy_text(&sla->k[i], copy[i], sizeof copy[i]))
            return ombud_err_internal(err, "warning ladder too long");
    ombud_db_param_i64(id, sizeof id, cp->id);
    ombud_db_param_i64(team, sizeof team, cp->team_id);
    ombud_db_param_i64(agent, sizeof agent, cp->assignee_id);
    snprintf(lvl, sizeof lvl, "%d", cp->escalation_level);
    snprintf(reopen, sizeof reopen, "%d", cp->reopen_count);
    snprintf(score, sizeof score, "%d", cp->satisfaction_score);
    ombud_db_param_i64(sat, sizeof sat, cp->satisfaction_at);
    ombud_db_param_i64(fr, sizeof fr, cp->first_response_at);
    ombud_db_param_i64(res, sizeof res, cp->resolved_at);
    ombud_db_param_i64(closed, sizeof closed, cp->closed_at);
    snprintf(ver, sizeof ver, "%d", cp->version);
    ombud_db_param_i64(pol, sizeof pol, sla->policy_id);
    snprintf(cyc, sizeof cyc, "%d", sla->cycle);
    ombud_db_param_i64(key, sizeof key, a->key_id);
    ombud_db_param_i64(actor_agent, sizeof actor_agent, a->agent_id);
    ombud_db_param_i64(actor_rule, sizeof actor_rule, a->rule_id);
    if (!clocks_json(&clocks, sla->k, sla->changed) || !events_json(&events, e, texts)) {
        rc = ombud_err_internal(err, "out of memory");
        goto out;
    }
    bool row = write || sla->policy_id || sla->cycle;
    const char *p[] = {id,
                       cp->title,
                       cp->description,
                       cp->category,
                       cp->grade,
                       cp->priority,
                       cp->demand[0] ? cp->demand : NULL,
                       cp->demand_detail,
                       cp->tags_json ? cp->tags_json : "[]",
                       cp->team_id ? team : NULL,
                       cp->assignee_id ? agent : NULL,
                       ombud_status_name(cp->status),
                       lvl,
                       reopen,
                       cp->resolution_summary,
                       cp->compensation_amount,
                       cp->compensation_currency[0] ? cp->compensation_currency : NULL,
                       cp->customer_agreed < 0 ? NULL
                       : cp->customer_agreed   ? "true"
                                               : "false",
                       cp->satisfaction_score ? score : NULL,
                       cp->satisfaction_comment,
                       sat,
                       fr,
                       res,
                       closed,
                       ver,
                       row ? "true" : "false",
                       new_version ? "true" : "false",
                       sla->policy_id ? pol : NULL,
                       sla->cycle ? cyc : NULL,
                       clocks.s,
                       events.s,
                       a->key_id ? key : NULL,
                       a->role,
                       a->agent_id ? actor_agent : NULL,
                       e->note,
                       e->note_visibility,
                       a->rule_id ? actor_rule : NULL,
                       sla->changed[0] ? copy[0] : NULL,
                       sla->changed[1] ? copy[1] : NULL,
                       row_version};
    const char *pa[] = {id,
                        ombud_status_name(cp->status),
                        fr,
                        res,
                        closed,
                        sat,
                        ver,
                        sla->changed[0] ? copy[0] : NULL,
                        sla->changed[1] ? copy[1] : NULL,
                        row_version,
                        clocks.s,
                        events.s,
                        a->key_id ? key : NULL,
                        a->role,
                        a->agent_id ? actor_agent : NULL,
                        a->rule_id ? actor_rule : NULL,
                        cp->priority,
                        cp->team_id ? team : NULL,
                        cp->assignee_id ? agent : NULL};
    PGresult *r;
    if (lost)
        *lost = false;
    rc = action_only(write, new_version, sla, e)
             ? ombud_db_exec_last(c, &q_action, (int)(sizeof pa / sizeof pa[0]), pa, &r, err)
             : ombud_db_exec_last(c, &q_change, 40, p, &r, err);
    if (rc != OMBUD_OK)
        goto out;
    if (ombud_db_bool(r, 0, PQfnumber(r, "lost"))) {
        PQclear(r);
        if (lost)
            *lost = true;
        rc = ombud_err_set(err, OMBUD_E_CONFLICT, NULL,
                           "the complaint changed meanwhile; read it again");
        goto out;
    }
    struct ombud_db_colmap map;
    if (row) {
        struct ombud_complaint fresh;
        rc = read_complaint(r, &fresh, err);
        if (rc == OMBUD_OK) {
            memcpy(fresh.sla, cp->sla, sizeof fresh.sla);
            memcpy(fresh.sla_have, cp->sla_have, sizeof fresh.sla_have);
            ombud_complaint_clear(cp);
            *cp = fresh;
        }
    }
    if (rc == OMBUD_OK && note && e->note &&
        (rc = ombud_db_colmap_bind_prefix(&map, r, note_cols, "note_", err)) == OMBUD_OK)
        ombud_db_read_row(&map, 0, note);
    PQclear(r);
    for (int i = 0; rc == OMBUD_OK && i < 2; i++)
        if (sla->changed[i]) {
            cp->sla[i] = sla->k[i];
            cp->sla_have[i] = true;
        }
out:
    free(clocks.s);
    free(events.s);
    return rc;
}

/* ---- search ---- */

/* clang-format off */
static struct ombud_db_stmt q_search_put = OMBUD_STMT(
    "INSERT INTO complaint_search (complaint_id, grams) VALUES ($1::bigint, $2::text[])"
    " ON CONFLICT (complaint_id) DO UPDATE SET grams = EXCLUDED.grams");
/* clang-format on */

enum ombud_rc ombud_db_complaint_search_put(struct ombud_db_conn *c, int64_t complaint_id,
                                            const char *title, const char *description,
                                            const char *customer_name, struct ombud_err *err)
{
    char id[OMBUD_DB_I64_BUFLEN];
    char *grams = ombud_search_doc_grams(title, description, customer_name);
    if (!grams)
        return ombud_err_internal(err, "cannot index the complaint's text");
    ombud_db_param_i64(id, sizeof id, complaint_id);
    const char *p[] = {id, grams};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_search_put, 2, p, &r, err);
    free(grams);
    if (rc == OMBUD_OK)
        PQclear(r);
    return rc;
}

/* ---- several by id ---- */

/* clang-format off */
static struct ombud_db_stmt q_by_id = OMBUD_STMT(
    "SELECT " COMPLAINT_COLS_OF("c.") " FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, i)"
    " JOIN complaints c ON c.id = u.id ORDER BY u.i");
/* clang-format on */

enum ombud_rc ombud_db_complaints_by_id(struct ombud_db_conn *c, const int64_t *ids, size_t n,
                                        struct ombud_complaint **out, size_t *n_out,
                                        struct ombud_err *err)
{
    *out = NULL;
    *n_out = 0;
    /* "{id,id,...}": at most 20 characters an id */
    char *arr = malloc(n * 21 + 3);
    if (!arr)
        return ombud_err_internal(err, "out of memory");
    size_t len = 0;
    arr[len++] = '{';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(arr + len, 22, "%s%lld", i ? "," : "", (long long)ids[i]);
    arr[len++] = '}';
    arr[len] = '\0';
    const char *p[] = {arr};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_by_id, 1, p, &r, err);
    free(arr);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_db_read_rows(r, complaint_cols, sizeof **out, (void **)out, n_out, err);
}

/* ---- list ----
 *
 * DESIGN. The statement is assembled from fixed fragments by the filter's
 * shape (which filters are present, one value or several, the order, a
 * cursor), never from its values, which are all parameters; each shape
 * stays prepared on the connection (ombud_db_exec_cached), so a list is
 * parsed and planned once per shape and connection, not per request.
 *
 * One statement per page: the page is a subquery p (filter, order, limit
 * + 1) of complaints, each with the copies of its current clocks
 * (fr_clock, rs_clock); sla_clocks is read only to filter or sort by the
 * SLA state.
 *
 * The page size is written into the statement (see build_list), so a
 * shape's generic plan is costed for the page it returns and PostgreSQL
 * adopts it after five executions: no planning per request.
 *
 * The statuses are written into the statement too (see add_status), so
 * the plan fits the status: a common one walks created_at, a rare one
 * (status, created_at, id). Other filters of one value are an equality,
 * of several a text[] parameter.
 *
 * A search (q) is the exception: sent unprepared, so every request is
 * planned with its grams in view (a rare Chinese word: through the GIN
 * index; a common letter: walking created_at and testing each row),
 * which a generic plan cannot tell apart. */

struct sqlbuf {
    char sql[6144];
    size_t len;
    const char *params[24];
    char store[24][32];
    int n;
    char *owned[8]; /* heap parameters, freed by sqlbuf_free */
    int nowned;
};

static void add(struct sqlbuf *b, const char *frag)
{
    size_t l = strlen(frag);
    if (b->len + l < sizeof b->sql) {
        memcpy(b->sql + b->len, frag, l + 1);
        b->len += l;
    }
}

/* Adds a parameter and returns its $number. */
static int param(struct sqlbuf *b, const char *value)
{
    b->params[b->n] = value;
    return ++b->n;
}

static int param_i64(struct sqlbuf *b, int64_t v)
{
    ombud_db_param_i64(b->store[b->n], sizeof b->store[0], v);
    return param(b, b->store[b->n]);
}

/* A parameter the buffer owns (NULL: out of memory, which is the
 * caller's to report; the parameter is then SQL NULL). */
static int param_owned(struct sqlbuf *b, char *value)
{
    if (value && b->nowned < (int)(sizeof b->owned / sizeof b->owned[0]))
        b->owned[b->nowned++] = value;
    return param(b, value);
}

static void sqlbuf_free(struct sqlbuf *b)
{
    for (int i = 0; i < b->nowned; i++)
        free(b->owned[i]);
}

static void addf(struct sqlbuf *b, const char *fmt, int n)
{
    char frag[256];
    snprintf(frag, sizeof frag, fmt, n, n);
    add(b, frag);
}

/* A comma-separated list as a text[] literal, each element quoted (only
 * " and \ are escaped inside quotes): the elements string_to_array(list,
 * ',') gives. A new string; NULL on ENOMEM. */
static char *text_array(const char *list)
{
    size_t len = strlen(list);
    char *out = malloc(len * 2 + 4);
    size_t o = 0;
    if (!out)
        return NULL;
    out[o++] = '{';
    out[o++] = '"';
    for (const char *p = list; *p; p++) {
        if (*p == ',') {
            memcpy(out + o, "\",\"", 3);
            o += 3;
            continue;
        }
        if (*p == '"' || *p == '\\')
            out[o++] = '\\';
        out[o++] = *p;
    }
    out[o++] = '"';
    out[o++] = '}';
    out[o] = '\0';
    return out;
}

/* col = the one value, or col = ANY of several. */
static bool add_in(struct sqlbuf *b, const char *col, const char *list)
{
    char frag[128];
    if (!strchr(list, ',')) {
        snprintf(frag, sizeof frag, " AND %s = $%d::text", col, param(b, list));
    } else {
        char *arr = text_array(list);
        snprintf(frag, sizeof frag, " AND %s = ANY ($%d::text[])", col, param_owned(b, arr));
        if (!arr)
            return false;
    }
    add(b, frag);
    return true;
}

/* The status filter, with the statuses written into the statement:
 * status = 'new', status IN ('new', 'acknowledged'). The names written
 * are ours (ombud_status_name), never the caller's text, and part of the
 * shape like the page size: with the value in view even the generic plan
 * knows 'new' is half the table (walk created_at, stop after a page) and
 * 'pending_customer' rare (walk (status, created_at, id) instead), where
 * `status = $1` gets one plan for both, a whole-table walk for the rare
 * one. False for an unknown name (the caller validated them: never). */
static bool add_status(struct sqlbuf *b, const char *list)
{
    char frag[256] = " AND status IN (";
    size_t len = strlen(frag);
    for (const char *p = list; *p;) {
        char one[32];
        size_t n = strcspn(p, ",");
        enum ombud_status st;
        if (n >= sizeof one)
            return false;
        memcpy(one, p, n);
        one[n] = '\0';
        if (!ombud_status_parse(one, &st))
            return false;
        len += (size_t)snprintf(frag + len, sizeof frag - len, "%s'%s'", p == list ? "" : ", ",
                                ombud_status_name(st));
        if (len >= sizeof frag - 2)
            return false;
        p += n;
        if (*p == ',')
            p++;
    }
    memcpy(frag + len, ")", 2);
    add(b, frag);
    return true;
}

/* The page's order, by the subquery's columns (inner) or p's (outer). */
static void add_order(struct sqlbuf *b, const struct ombud_complaint_filter *f, bool outer)
{
    if (f->by_due)
        add(b, outer ? " ORDER BY coalesce(p.sla_due, 9223372036854775807), p.id"
                     : " ORDER BY coalesce(s.sla_due, 9223372036854775807), id");
    else if (outer)
        add(b, f->ascending ? " ORDER BY p.created_at, p.id"
                            : " ORDER BY p.created_at DESC, p.id DESC");
    else
        add(b, f->ascending ? " ORDER BY created_at, id" : " ORDER BY created_at DESC, id DESC");
}

/* Builds the statement for f into b; false on ENOMEM. */
static bool build_list(struct sqlbuf *b, const struct ombud_complaint_filter *f)
{
    static const struct {
        size_t off;
        const char *col;
    } lists[] = {
        {offsetof(struct ombud_complaint_filter, priority), "priority"},
        {offsetof(struct ombud_complaint_filter, grade), "grade"},
        {offsetof(struct ombud_complaint_filter, category), "category"},
        {offsetof(struct ombud_complaint_filter, channel), "channel"},
    };
    bool ok = true;

    add(b, "SELECT p.*");
    if (f->by_due || f->sla_state) {
        /* The SLA view of each complaint from its current clocks: the
         * earliest unmet due, and the state of its most urgent clock (in
         * the order the sla object uses). */
        int now = param_i64(b, f->now);
        char frag[2048];
        snprintf(frag, sizeof frag,
                 " FROM (SELECT " COMPLAINT_COLS ", s.sla_due FROM complaints LEFT JOIN LATERAL ("
                 " SELECT min(extract(epoch FROM k.due_at)::bigint) FILTER (WHERE k.met_at IS NULL"
                 "   AND k.running_since IS NOT NULL) AS sla_due,"
                 " (ARRAY['met', 'paused', 'on_track', 'at_risk', 'breached'])[1 + max(CASE"
                 "   WHEN k.met_at IS NOT NULL THEN 0 WHEN k.running_since IS NULL THEN 1"
                 "   WHEN k.breached OR k.due_at <= to_timestamp($%d::bigint) THEN 4"
                 "   WHEN (k.warnings->0->>'at')::bigint BETWEEN 1 AND $%d::bigint THEN 3"
                 "   ELSE 2 END)] AS sla_state"
                 " FROM sla_clocks k WHERE k.complaint_id = complaints.id"
                 "   AND (k.target = 'first_response' OR k.cycle = complaints.resolution_cycle)) s"
                 " ON true WHERE true",
                 now, now);
        add(b, frag);
    } else {
        add(b, " FROM (SELECT " COMPLAINT_COLS ", NULL::bigint AS sla_due FROM complaints"
               " WHERE true");
    }
    if (f->sla_state) {
        char *arr = text_array(f->sla_state);
        addf(b, " AND coalesce(s.sla_state, 'none') = ANY ($%d::text[])", param_owned(b, arr));
        ok = ok && arr;
    }
    if (f->status)
        ok = add_status(b, f->status) && ok;
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        const char *v = *(const char *const *)((const char *)f + lists[i].off);
        if (v)
            ok = add_in(b, lists[i].col, v) && ok;
    }
    if (f->team_id)
        addf(b, " AND team_id = $%d::bigint", param_i64(b, f->team_id));
    if (f->assignee_id)
        addf(b, " AND assignee_id = $%d::bigint", param_i64(b, f->assignee_id));
    if (f->customer_external_id)
        addf(b, " AND customer_external_id = $%d::text", param(b, f->customer_external_id));
    if (f->has_created_after)
        addf(b, " AND created_at >= ombud_ts($%d::bigint)", param_i64(b, f->created_after));
    if (f->has_created_before)
        addf(b, " AND created_at < ombud_ts($%d::bigint)", param_i64(b, f->created_before));
    if (f->creator_key_id)
        addf(b, " AND created_by_key_id = $%d::bigint", param_i64(b, f->creator_key_id));
    if (f->q) {
        /* The grams narrow the rows down (complaint_search_grams); the
         * exact substring test on the lowercased text decides. */
        char *grams = ombud_search_query_grams(f->q);
        addf(b, " AND id IN (SELECT complaint_id FROM complaint_search WHERE grams @> $%d::text[])",
             param_owned(b, grams));
        addf(b,
             " AND strpos(lower(title || E'\\n' || description || E'\\n' || customer_name),"
             " lower($%d::text)) > 0",
             param(b, f->q));
        ok = ok && grams;
    }
    if (f->has_cursor && f->by_due) {
        int due = param_i64(b, f->cursor_ts);
        int id = param_i64(b, f->cursor_id);
        char frag[200];
        snprintf(frag, sizeof frag,
                 " AND (coalesce(s.sla_due, 9223372036854775807), id) > ($%d::bigint, $%d::bigint)",
                 due, id);
        add(b, frag);
    } else if (f->has_cursor) {
        int ts = param_i64(b, f->cursor_ts);
        int id = param_i64(b, f->cursor_id);
        char frag[160];
        snprintf(frag, sizeof frag, " AND (created_at, id) %s (ombud_ts($%d::bigint), $%d::bigint)",
                 f->ascending ? ">" : "<", ts, id);
        add(b, frag);
    }
    add_order(b, f, false);
    /* The page size is part of the shape, written as a number (the one
     * value not passed as a parameter: an int the caller bounded, 1 to
     * 200, formatted here). A LIMIT parameter would leave the generic
     * plan guessing a tenth of the matching rows, cost it far above the
     * custom plans, and keep PostgreSQL planning every request; worse,
     * that guess prefers walking created_at with a filter, which reads
     * the whole table for a rare status. */
    char lim[48];
    snprintf(lim, sizeof lim, " LIMIT %d) p", f->limit + 1);
    add(b, lim);
    add_order(b, f, true);
    return ok;
}

enum ombud_rc ombud_db_complaint_list(struct ombud_db_conn *c,
                                      const struct ombud_complaint_filter *f,
                                      struct ombud_complaint **out, size_t *n,
                                      struct ombud_err *err)
{
    struct sqlbuf b = {.len = 0, .n = 0, .nowned = 0};
    PGresult *r;
    enum ombud_rc rc;

    b.sql[0] = '\0';
    if (!build_list(&b, f)) {
        sqlbuf_free(&b);
        return ombud_err_internal(err, "out of memory");
    }
    if (f->q)
        rc = ombud_db_exec_sql(c, b.sql, b.n, b.params, &r, err);
    else
        rc = ombud_db_exec_cached(c, b.sql, b.n, b.params, &r, err);
    sqlbuf_free(&b);
    if (rc != OMBUD_OK)
        return rc;
    size_t rows = (size_t)PQntuples(r);
    struct ombud_db_colmap map;
    if (ombud_db_colmap_bind(&map, r, complaint_cols, err) != OMBUD_OK) {
        PQclear(r);
        return OMBUD_ERROR;
    }
    struct ombud_complaint *list = calloc(rows ? rows : 1, sizeof *list);
    if (!list) {
        PQclear(r);
        return ombud_err_internal(err, "out of memory");
    }
    int due_col = PQfnumber(r, "sla_due");
    for (size_t i = 0; i < rows; i++) {
        ombud_db_read_row(&map, (int)i, &list[i]);
        list[i].sla_due =
            PQgetisnull(r, (int)i, due_col) ? INT64_MAX : ombud_db_int(r, (int)i, due_col);
    }
    PQclear(r);
    *out = list;
    *n = rows;
    return OMBUD_OK;
}

/* ---- events ---- */

/* The SLA worker's events are changes as their alerts (alert.raised). */
/* clang-format off */
static struct ombud_db_stmt q_event_add = OMBUD_STMT(
    "WITH e AS (INSERT INTO complaint_events (complaint_id, kind, actor_key_id, actor_role,"
    " actor_agent_id, actor_rule_id, data) VALUES ($1::bigint, $2::text, $3::bigint, $4::text,"
    " $5::bigint, $7::bigint, $6::jsonb) RETURNING id, kind)"
    " INSERT INTO " OMBUD_CHG_COLS " SELECT b.base + 1, 'complaint.' || e.kind, c.id, e.id, NULL,"
    " c.status, c.priority, c.team_id, c.assignee_id, c.version"
    " FROM e, complaints c, (SELECT " OMBUD_CHG_BASE " AS base) b"
    " WHERE c.id = $1::bigint AND e.kind NOT IN ('sla_warning', 'sla_breached')");
/* clang-format on */

enum ombud_rc ombud_db_event_add(struct ombud_db_conn *c, int64_t complaint_id, const char *kind,
                                 const struct ombud_actor *a, const char *data_json,
                                 struct ombud_err *err)
{
    char cid[24], key[24], agent[24], rule[24];
    ombud_db_param_i64(cid, sizeof cid, complaint_id);
    ombud_db_param_i64(key, sizeof key, a->key_id);
    ombud_db_param_i64(agent, sizeof agent, a->agent_id);
    ombud_db_param_i64(rule, sizeof rule, a->rule_id);
    const char *p[] = {cid,
                       kind,
                       a->key_id ? key : NULL,
                       a->role,
                       a->agent_id ? agent : NULL,
                       data_json ? data_json : "{}",
                       a->rule_id ? rule : NULL};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_event_add, 7, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    PQclear(r);
    return OMBUD_OK;
}

const struct ombud_db_col ombud_db_event_cols[] = {
    OMBUD_COL_I64(struct ombud_event, id, "id"),
    OMBUD_COL_I64(struct ombud_event, complaint_id, "complaint_id"),
    OMBUD_COL_TEXT(struct ombud_event, kind, "kind"),
    OMBUD_COL_I64(struct ombud_event, actor_key_id, "actor_key_id"),
    OMBUD_COL_TEXT(struct ombud_event, actor_role, "actor_role"),
    OMBUD_COL_I64(struct ombud_event, actor_agent_id, "actor_agent_id"),
    OMBUD_COL_I64(struct ombud_event, actor_rule_id, "actor_rule_id"),
    OMBUD_COL_STR(struct ombud_event, data_json, "data_json"),
    OMBUD_COL_USEC(struct ombud_event, created_at, "created_at_us"),
    OMBUD_COL_END};

/* $1 and $2 are the page (ombud_db_list_page). */
static struct ombud_db_stmt q_event_list = OMBUD_STMT(
    "SELECT id, complaint_id, kind, actor_key_id, actor_role, actor_agent_id, actor_rule_id,"
    " data::text AS data_json, ombud_usec(created_at) AS created_at_us FROM complaint_events"
    " WHERE complaint_id = $3::bigint AND id > $1::bigint ORDER BY id LIMIT $2::int");

enum ombud_rc ombud_db_event_list(struct ombud_db_conn *c, int64_t complaint_id, int64_t after_id,
                                  int limit, struct ombud_event **out, size_t *n,
                                  struct ombud_err *err)
{
    char cid[OMBUD_DB_I64_BUFLEN];
    ombud_db_param_i64(cid, sizeof cid, complaint_id);
    const char *extra[] = {cid};
    return ombud_db_list_page(c, &q_event_list, after_id, limit, 1, extra, ombud_db_event_cols,
                              sizeof **out, (void **)out, n, err);
}

/* ---- notes ---- */

/* $1 and $2 are the page (ombud_db_list_page). */
/* clang-format off */
static struct ombud_db_stmt q_note_list = OMBUD_STMT(
    "SELECT " NOTE_COLS " FROM complaint_notes WHERE complaint_id = $3::bigint"
    " AND id > $1::bigint AND (NOT $4::boolean OR visibility = 'public') ORDER BY id"
    " LIMIT $2::int");
/* clang-format on */

enum ombud_rc ombud_db_note_list(struct ombud_db_conn *c, int64_t complaint_id, bool public_only,
                                 int64_t after_id, int limit, struct ombud_note **out, size_t *n,
                                 struct ombud_err *err)
{
    char cid[OMBUD_DB_I64_BUFLEN];
    ombud_db_param_i64(cid, sizeof cid, complaint_id);
    const char *extra[] = {cid, public_only ? "true" : "false"};
    return ombud_db_list_page(c, &q_note_list, after_id, limit, 2, extra, note_cols, sizeof **out,
                              (void **)out, n, err);
}

/* ---- categories ---- */

static struct ombud_db_stmt q_cat_list = OMBUD_STMT(
    "SELECT key, name, ombud_usec(created_at) AS created_at_us FROM categories ORDER BY key");
/* clang-format off */
static struct ombud_db_stmt q_cat_insert = OMBUD_STMT(
    "INSERT INTO categories (key, name) VALUES ($1::text, $2::text)"
    " RETURNING key, name, ombud_usec(created_at) AS created_at_us");
/* clang-format on */

static const struct ombud_db_col category_cols[] = {
    OMBUD_COL_TEXT(struct ombud_category, key, "key"),
    OMBUD_COL_TEXT(struct ombud_category, name, "name"),
    OMBUD_COL_USEC(struct ombud_category, created_at, "created_at_us"), OMBUD_COL_END};

enum ombud_rc ombud_db_category_list(struct ombud_db_conn *c, struct ombud_category **out,
                                     size_t *n, struct ombud_err *err)
{
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_cat_list, 0, NULL, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_db_read_rows(r, category_cols, sizeof **out, (void **)out, n, err);
}

enum ombud_rc ombud_db_category_insert(struct ombud_db_conn *c, const char *key, const char *name,
                                       struct ombud_category *out, struct ombud_err *err)
{
    const char *p[] = {key, name};
    PGresult *r;
    bool inserted;
    enum ombud_rc rc = ombud_db_exec(c, &q_cat_insert, 2, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    return ombud_db_read_one(r, category_cols, out, &inserted, err);
}

/* ---- idempotency ---- */

static struct ombud_db_stmt q_idem_lock = OMBUD_STMT(
    "SELECT pg_try_advisory_xact_lock(hashtextextended($1::bigint::text || ':' || $2::text, 0))");
/* clang-format off */
static struct ombud_db_stmt q_idem_get = OMBUD_STMT(
    "SELECT request_hash, response_status, response_body, complaint_id,"
    " created_at < now() - interval '24 hours' AS expired FROM idempotency_keys"
    " WHERE api_key_id = $1::bigint AND key = $2::text");
/* clang-format on */

/* A stored response as read; body is a heap copy. */
struct idem_row {
    char hash[OMBUD_HASH_BUFLEN];
    int status;
    char *body;
    int64_t complaint_id;
    bool expired;
};

static const struct ombud_db_col idem_cols[] = {
    OMBUD_COL_TEXT(struct idem_row, hash, "request_hash"),
    OMBUD_COL_INT(struct idem_row, status, "response_status"),
    OMBUD_COL_STR(struct idem_row, body, "response_body"),
    OMBUD_COL_I64(struct idem_row, complaint_id, "complaint_id"),
    OMBUD_COL_BOOL(struct idem_row, expired, "expired"),
    OMBUD_COL_END};
static struct ombud_db_stmt q_idem_store = OMBUD_STMT(
    "INSERT INTO idempotency_keys (api_key_id, key, request_hash, response_status,"
    " response_body, complaint_id) VALUES ($1::bigint, $2::text, $3::text, $4::int, $5::text,"
    " $6::bigint) ON CONFLICT (api_key_id, key) DO UPDATE SET request_hash = EXCLUDED.request_hash,"
    " response_status = EXCLUDED.response_status, response_body = EXCLUDED.response_body,"
    " complaint_id = EXCLUDED.complaint_id, created_at = now()"
    " WHERE idempotency_keys.created_at < now() - interval '24 hours'");

enum ombud_rc ombud_db_idem_begin(struct ombud_db_conn *c, int64_t key_id, const char *key,
                                  bool *busy, bool *found, char hash_out[OMBUD_HASH_BUFLEN],
                                  int *status_out, char **body_out, int64_t *complaint_id,
                                  struct ombud_err *err)
{
    char kid[24];
    ombud_db_param_i64(kid, sizeof kid, key_id);
    const char *p[] = {kid, key};
    PGresult *r;
    enum ombud_rc rc = ombud_db_exec(c, &q_idem_lock, 2, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    *busy = !ombud_db_bool(r, 0, 0);
    PQclear(r);
    *found = false;
    if (*busy)
        return OMBUD_OK;
    struct idem_row row = {.body = NULL};
    bool stored;
    rc = ombud_db_exec(c, &q_idem_get, 2, p, &r, err);
    if (rc != OMBUD_OK || (rc = ombud_db_read_one(r, idem_cols, &row, &stored, err)) != OMBUD_OK)
        return rc;
    if (stored && !row.expired) {
        *found = true;
        memcpy(hash_out, row.hash, sizeof row.hash);
        *status_out = row.status;
        *body_out = row.body;
        *complaint_id = row.complaint_id;
    } else {
        free(row.body);
    }
    return OMBUD_OK;
}

enum ombud_rc ombud_db_idem_store(struct ombud_db_conn *c, int64_t key_id, const char *key,
                                  const char *hash, int status, const char *body,
                                  int64_t complaint_id, struct ombud_err *err)
{
    char kid[24], st[16], cid[24];
    ombud_db_param_i64(kid, sizeof kid, key_id);
    snprintf(st, sizeof st, "%d", status);
    ombud_db_param_i64(cid, sizeof cid, complaint_id);
    const char *p[] = {kid, key, hash, st, body, cid};
    PGresult *r;
    /* The last statement of an idempotent create: it carries the COMMIT. */
    enum ombud_rc rc = ombud_db_exec_last(c, &q_idem_store, 6, p, &r, err);
    if (rc != OMBUD_OK)
        return rc;
    PQclear(r);
    return OMBUD_OK;
}
