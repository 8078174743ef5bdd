/*
 * Database layer: a fixed pool of libpq connections shared by all MHD
 * threads. A caller checks one out (bounded wait, then 503), uses it from
 * one thread only, and returns it. Connections are made lazily and made
 * again after PostgreSQL went away, so the service recovers by itself.
 * Statements are prepared lazily per connection (prepared statements
 * belong to one server connection) and again after a reconnect.
 *
 * libpq types never leave src/db: callers see struct ombud_db_conn only.
 */
#ifndef OMBUD_DB_H
#define OMBUD_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/calendar.h"
#include "ombud/complaint.h"
#include "ombud/err.h"
#include "ombud/sla.h"

struct ombud_db_conn;
struct ombud_db_pool;

struct ombud_db_pool_stats {
    size_t size;
    size_t in_use;
    size_t connected;
    uint64_t checkouts;
    uint64_t timeouts;
};

/* Creates a pool of size connections (none opened yet). NULL on ENOMEM.
 * The caller owns the pool and frees it with ombud_db_pool_free. */
struct ombud_db_pool *ombud_db_pool_new(const char *url, size_t size, unsigned checkout_timeout_ms,
                                        unsigned statement_timeout_ms);
void ombud_db_pool_free(struct ombud_db_pool *pool);
void ombud_db_pool_get_stats(struct ombud_db_pool *pool, struct ombud_db_pool_stats *out);

/* Checks out a connected connection: 503 in err when none is free within
 * the timeout or PostgreSQL cannot be reached. Return it with release. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_checkout(struct ombud_db_pool *pool,
                                                struct ombud_db_conn **out, struct ombud_err *err);
void ombud_db_release(struct ombud_db_pool *pool, struct ombud_db_conn *conn);

typedef enum ombud_rc (*ombud_tx_fn)(struct ombud_db_conn *conn, void *ctx, struct ombud_err *err);

/* Runs fn inside BEGIN … COMMIT on a pooled connection, retrying on
 * serialization failure and deadlock (fn may run more than once, so it
 * must only fill ctx from the database), and once on a connection that
 * died while idle in the pool. */
OMBUD_MUSTCHECK enum ombud_rc ombud_tx_run(struct ombud_db_pool *pool, ombud_tx_fn fn, void *ctx,
                                           struct ombud_err *err);

/* Like ombud_tx_run without a transaction: for single read statements. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_run(struct ombud_db_pool *pool, ombud_tx_fn fn, void *ctx,
                                           struct ombud_err *err);

/* SELECT 1 on a pooled connection: the readiness probe. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_ping(struct ombud_db_pool *pool, struct ombud_err *err);

/* ---- resources ---- */

struct ombud_api_key {
    int64_t id;
    char name[404]; /* up to 100 characters of UTF-8 */
    char role[16];
    int64_t agent_id; /* 0: none */
    int64_t created_at;
    int64_t last_used_at; /* 0: never */
};

/* Inserts a key (hash of the secret) and fills out. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_api_key_insert(struct ombud_db_conn *c, const char *name,
                                                      const char *role, int64_t agent_id,
                                                      const char *hash, struct ombud_api_key *out,
                                                      struct ombud_err *err);
/* Ensures hash names an active admin key (bootstrap). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_api_key_ensure_admin(struct ombud_db_conn *c,
                                                            const char *hash,
                                                            struct ombud_err *err);
/* Finds the active key with this hash and notes its use; *found false if none. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_api_key_authenticate(struct ombud_db_conn *c,
                                                            const char *hash,
                                                            struct ombud_api_key *out, bool *found,
                                                            struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_api_key_get(struct ombud_db_conn *c, int64_t id,
                                                   struct ombud_api_key *out, bool *found,
                                                   struct ombud_err *err);
/* Active keys with id < before_id (0: from the newest), newest first, at
 * most limit (+1 to tell whether more follow). Caller frees *out. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_api_key_list(struct ombud_db_conn *c, int64_t before_id,
                                                    int limit, struct ombud_api_key **out,
                                                    size_t *n, struct ombud_err *err);
/* Revokes an active key; *found false when unknown or already revoked. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_api_key_revoke(struct ombud_db_conn *c, int64_t id,
                                                      bool *found, struct ombud_err *err);


/* ---- complaints (src/db/complaints.c) ---- */

struct ombud_complaint_new {
    const char *title, *description;
    const char *customer_name, *customer_external_id, *customer_email, *customer_phone;
    const char *customer_tier, *channel, *category, *grade, *priority, *demand, *demand_detail;
    const char *tags_json; /* JSON array text */
    const char *external_ref;
    int64_t team_id, assignee_id, created_by_key_id; /* 0: none */
};

/* Whether referenced rows exist (category NULL / ids 0 are not checked). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_refs_check(struct ombud_db_conn *c, const char *category,
                                                  int64_t team_id, int64_t agent_id,
                                                  bool *category_ok, bool *team_ok,
                                                  bool *agent_ok, struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_complaint_insert(struct ombud_db_conn *c,
                                                        const struct ombud_complaint_new *in,
                                                        int64_t *id, struct ombud_err *err);
/* Reads one complaint (FOR UPDATE when lock); *found false when absent. The
 * caller clears out with ombud_complaint_clear. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_complaint_get(struct ombud_db_conn *c, int64_t id,
                                                     bool lock, struct ombud_complaint *out,
                                                     bool *found, struct ombud_err *err);

/* Timestamps in ombud_db_complaint_save: this value means "now()". */
#define OMBUD_DB_NOW INT64_MIN

/* Writes every mutable field of c back and bumps version (c->version is
 * the version read; the row must still have it). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_complaint_save(struct ombud_db_conn *c,
                                                      const struct ombud_complaint *cp,
                                                      struct ombud_err *err);

struct ombud_complaint_filter {
    const char *status, *priority, *grade, *category, *channel; /* comma-separated lists */
    const char *customer_external_id, *q;
    int64_t team_id, assignee_id;         /* 0: any */
    bool has_created_after, has_created_before;
    int64_t created_after, created_before; /* usec */
    int64_t creator_key_id;               /* service keys see only their own; 0: all */
    bool ascending;
    bool by_due;           /* sort=due_at: earliest unmet due first, none last */
    const char *sla_state; /* comma-separated: on_track, at_risk, breached, met, paused, none */
    int64_t now;           /* seconds, for sla_state and due order */
    bool has_cursor;
    int64_t cursor_ts, cursor_id; /* created_at usec, or due epoch seconds when by_due */
    int limit; /* rows wanted; one more is read to tell whether more follow */
};
OMBUD_MUSTCHECK enum ombud_rc ombud_db_complaint_list(struct ombud_db_conn *c,
                                                      const struct ombud_complaint_filter *f,
                                                      struct ombud_complaint **out, size_t *n,
                                                      struct ombud_err *err);

/* Appends a timeline event (data: JSON object text). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_event_add(struct ombud_db_conn *c, int64_t complaint_id,
                                                 const char *kind, const struct ombud_actor *a,
                                                 const char *data_json, struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_event_list(struct ombud_db_conn *c, int64_t complaint_id,
                                                  int64_t after_id, int limit,
                                                  struct ombud_event **out, size_t *n,
                                                  struct ombud_err *err);

OMBUD_MUSTCHECK enum ombud_rc ombud_db_note_add(struct ombud_db_conn *c, int64_t complaint_id,
                                                const char *body, const char *visibility,
                                                const struct ombud_actor *a,
                                                struct ombud_note *out, struct ombud_err *err);
/* Notes in id order after after_id; public_only for service keys. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_note_list(struct ombud_db_conn *c, int64_t complaint_id,
                                                 bool public_only, int64_t after_id, int limit,
                                                 struct ombud_note **out, size_t *n,
                                                 struct ombud_err *err);

OMBUD_MUSTCHECK enum ombud_rc ombud_db_category_list(struct ombud_db_conn *c,
                                                     struct ombud_category **out, size_t *n,
                                                     struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_category_insert(struct ombud_db_conn *c, const char *key,
                                                       const char *name,
                                                       struct ombud_category *out,
                                                       struct ombud_err *err);

/* Idempotency: takes the key's transaction lock (*busy when another
 * transaction holds it), then reads a stored response younger than 24 h. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_idem_begin(struct ombud_db_conn *c, int64_t key_id,
                                                  const char *key, bool *busy, bool *found,
                                                  char *hash_out, int *status_out,
                                                  char **body_out, int64_t *complaint_id,
                                                  struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_idem_store(struct ombud_db_conn *c, int64_t key_id,
                                                  const char *key, const char *hash, int status,
                                                  const char *body, int64_t complaint_id,
                                                  struct ombud_err *err);


/* ---- teams and agents (src/db/teams.c) ---- */

struct ombud_team {
    int64_t id;
    char name[404];
    int64_t escalation_team_id; /* 0: none */
    char assignment[16];
    int64_t created_at, updated_at;
};

struct ombud_agent {
    int64_t id;
    char name[804];
    char email[1284]; /* up to 320 characters of UTF-8; "" when none */
    int64_t team_id; /* 0: none */
    char role[16];
    bool active;
    int64_t created_at, updated_at;
};

/* Insert (id 0) or update (id set) a team; *found false when id is unknown. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_team_save(struct ombud_db_conn *c, struct ombud_team *t,
                                                 bool *found, struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_team_get(struct ombud_db_conn *c, int64_t id,
                                                struct ombud_team *out, bool *found,
                                                struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_team_list(struct ombud_db_conn *c, int64_t after_id,
                                                 int limit, struct ombud_team **out, size_t *n,
                                                 struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_agent_save(struct ombud_db_conn *c, struct ombud_agent *a,
                                                  bool *found, struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_agent_get(struct ombud_db_conn *c, int64_t id,
                                                 struct ombud_agent *out, bool *found,
                                                 struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_agent_list(struct ombud_db_conn *c, int64_t after_id,
                                                  int limit, int64_t team_id,
                                                  struct ombud_agent **out, size_t *n,
                                                  struct ombud_err *err);


/* ---- calendars (src/db/calendars.c) ---- */

/* Insert (c->id 0) or update; *found false when the id is unknown. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_calendar_save(struct ombud_db_conn *c,
                                                     struct ombud_calendar *cal, bool *found,
                                                     struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_calendar_get(struct ombud_db_conn *c, int64_t id,
                                                    struct ombud_calendar *out, bool *found,
                                                    struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_calendar_list(struct ombud_db_conn *c, int64_t after_id,
                                                     int limit, struct ombud_calendar **out,
                                                     size_t *n, struct ombud_err *err);
/* Deletes an unused calendar: *found false when unknown, *in_use when a
 * policy or clock refers to it (then nothing is deleted). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_calendar_delete(struct ombud_db_conn *c, int64_t id,
                                                       bool *found, bool *in_use,
                                                       struct ombud_err *err);
void ombud_calendars_free(struct ombud_calendar *list, size_t n);


/* ---- SLA policies (src/db/sla_policies.c) ---- */

OMBUD_MUSTCHECK enum ombud_rc ombud_db_policy_save(struct ombud_db_conn *c,
                                                   struct ombud_sla_policy *p, bool *found,
                                                   struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_policy_get(struct ombud_db_conn *c, int64_t id,
                                                  struct ombud_sla_policy *out, bool *found,
                                                  struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_policy_list(struct ombud_db_conn *c, int64_t after_id,
                                                   int limit, struct ombud_sla_policy **out,
                                                   size_t *n, struct ombud_err *err);
/* *found false when unknown; *in_use when a clock refers to it. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_policy_delete(struct ombud_db_conn *c, int64_t id,
                                                     bool *found, bool *in_use,
                                                     struct ombud_err *err);
/* The active policy with the lowest position whose every non-empty match
 * list contains the complaint's value; *found false when none does. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_policy_select(struct ombud_db_conn *c,
                                                     const char *priority, const char *grade,
                                                     const char *category, const char *channel,
                                                     const char *tier,
                                                     struct ombud_sla_policy *out, bool *found,
                                                     struct ombud_err *err);
void ombud_policies_free(struct ombud_sla_policy *list, size_t n);


/* ---- SLA clocks and alerts (src/db/sla_clocks.c) ----
 * Statements only: the clock arithmetic is domain/sla.c, an operation's
 * glue service/sla.c, the worker's pass worker/sla_pass.c. */

/* The current clocks of n complaints in one query (lists). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_sla_load_many(struct ombud_db_conn *c,
                                                     struct ombud_complaint *list, size_t n,
                                                     struct ombud_err *err);

/* The complaint's current clocks: out[0] first response (cycle 1),
 * out[1] resolution (current cycle); have[i] false when absent. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_sla_load(struct ombud_db_conn *c, int64_t complaint_id,
                                                struct ombud_sla_clock out[2], bool have[2],
                                                struct ombud_err *err);
/* The same, FOR UPDATE: write paths lock the clocks, so a worker holding
 * one is waited for. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_sla_load_locked(struct ombud_db_conn *c,
                                                       int64_t complaint_id,
                                                       struct ombud_sla_clock out[2],
                                                       bool have[2], struct ombud_err *err);
/* Inserts or updates one clock (its warnings stored as JSON). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_sla_save_clock(struct ombud_db_conn *c,
                                                      int64_t complaint_id,
                                                      const struct ombud_sla_clock *k,
                                                      struct ombud_err *err);
/* Loads calendar id and compiles it into out (the caller clears it with
 * ombud_bt_calendar_clear); a missing calendar is an internal error. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_sla_calendar(struct ombud_db_conn *c, int64_t id,
                                                    struct ombud_bt_calendar *out,
                                                    struct ombud_err *err);
/* Starts the complaint's next resolution cycle; *cycle is its number. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_sla_new_cycle(struct ombud_db_conn *c,
                                                     int64_t complaint_id, int *cycle,
                                                     struct ombud_err *err);
/* Records the policy now governing the complaint's clocks. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_sla_set_policy(struct ombud_db_conn *c,
                                                      int64_t complaint_id, int64_t policy_id,
                                                      struct ombud_err *err);
/* pg_notify('ombud_sla'): wakes every SLA worker when the transaction commits. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_sla_notify(struct ombud_db_conn *c, struct ombud_err *err);


/* ---- the SLA worker's side (src/db/sla_clocks.c, src/db/pool.c, src/db/tx.c) ---- */

/* A connection of its own, outside the pool (the worker's, for LISTEN). */
struct ombud_db_conn *ombud_db_conn_open(const char *url, struct ombud_err *err);
void ombud_db_conn_close(struct ombud_db_conn *c);
bool ombud_db_conn_ok(const struct ombud_db_conn *c);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_listen(struct ombud_db_conn *c, struct ombud_err *err);
/* Waits up to timeout_ms for a notification or for wake_fd to become
 * readable: 1 notified/woken, 0 timed out, -1 connection lost. */
int ombud_db_wait(struct ombud_db_conn *c, int timeout_ms, int wake_fd);

/* Like ombud_tx_run on a connection of one's own (the worker's): fn runs
 * inside BEGIN … COMMIT, again on serialization failure or deadlock (so
 * it must only fill ctx from the database). A lost connection is an
 * error; reconnecting is the owner's business. */
OMBUD_MUSTCHECK enum ombud_rc ombud_tx_run_on(struct ombud_db_conn *c, ombud_tx_fn fn, void *ctx,
                                              struct ombud_err *err);

/* A clock whose next_alert_at has come, claimed for this transaction. */
struct ombud_sla_claim {
    int64_t complaint_id;
    int64_t changed_at; /* usec: the clock's last change, when its moments became known */
    struct ombud_sla_clock clock;
};

/* Claims up to limit clocks due at now (seconds), soonest first, FOR
 * UPDATE SKIP LOCKED: clocks another transaction holds are left to it.
 * The caller frees *out. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_sla_claim_due(struct ombud_db_conn *c, int64_t now,
                                                     int limit, struct ombud_sla_claim **out,
                                                     size_t *n, struct ombud_err *err);
/* Inserts the alert a owed by clock k unless it exists (the alerts'
 * unique key makes each alert once across processes). *alert_id is its
 * id when this call raised it, 0 when it was raised before; *lag_ms how
 * long after its moment (or, if later, changed_at) it was raised. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_sla_alert_insert(struct ombud_db_conn *c,
                                                        int64_t complaint_id,
                                                        const struct ombud_sla_clock *k,
                                                        const struct ombud_sla_due_alert *a,
                                                        int64_t changed_at, int64_t *alert_id,
                                                        int64_t *lag_ms, struct ombud_err *err);
/* The earliest next_alert_at (epoch seconds), 0 when none. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_sla_next(struct ombud_db_conn *c, int64_t *next,
                                                struct ombud_err *err);


/* ---- alerts and SLA views (src/db/alerts.c) ---- */

struct ombud_alert {
    int64_t id;
    char kind[16];
    int level;
    int64_t complaint_id;
    char target[16];
    int cycle;
    int64_t scheduled_at, created_at, acknowledged_at; /* usec; 0 none */
    int64_t acknowledged_by;
};

struct ombud_alert_filter {
    int state; /* 0 open, 1 acknowledged, 2 all */
    const char *kind;
    int64_t complaint_id;
    int64_t creator_key_id; /* service keys: only alerts of their complaints */
    int64_t before_id;      /* cursor: newest first */
    int limit;
};

OMBUD_MUSTCHECK enum ombud_rc ombud_db_alert_list(struct ombud_db_conn *c,
                                                  const struct ombud_alert_filter *f,
                                                  struct ombud_alert **out, size_t *n,
                                                  struct ombud_err *err);
/* Acknowledges an alert (once); *found false when unknown, *already when
 * it was acknowledged before (out holds it either way). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_alert_ack(struct ombud_db_conn *c, int64_t id,
                                                 int64_t key_id, struct ombud_alert *out,
                                                 bool *found, bool *already,
                                                 struct ombud_err *err);

/* Open complaints whose next due time (either target) is before until
 * (epoch seconds), soonest first: ids and due times. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_sla_at_risk(struct ombud_db_conn *c, int64_t until,
                                                   int limit, int64_t creator_key_id,
                                                   int64_t **ids, int64_t **due, size_t *n,
                                                   struct ombud_err *err);

struct ombud_sla_summary {
    int64_t by_state[5]; /* on_track, at_risk, breached, paused, met (open complaints) */
    int64_t fr_total, fr_met_in_time, res_total, res_met_in_time; /* last 30 days */
};
OMBUD_MUSTCHECK enum ombud_rc ombud_db_sla_summary(struct ombud_db_conn *c, int64_t now,
                                                   struct ombud_sla_summary *out,
                                                   struct ombud_err *err);

#endif
