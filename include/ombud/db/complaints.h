/*
 * Complaints and what hangs off them (src/db/complaints.c): the
 * complaints, their timeline events and notes, the category list and the
 * idempotency records of complaint creation. Statements only: what a
 * change means is domain/lifecycle.c and service/complaint.c.
 */
#ifndef OMBUD_DB_COMPLAINTS_H
#define OMBUD_DB_COMPLAINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/complaint.h"
#include "ombud/db/pool.h"
#include "ombud/err.h"
#include "ombud/keys.h"

/* Whether referenced rows exist (category NULL / ids 0 are not checked). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_refs_check(struct ombud_db_conn *c, const char *category,
                                                  int64_t team_id, int64_t agent_id,
                                                  bool *category_ok, bool *team_ok, bool *agent_ok,
                                                  struct ombud_err *err);
/* Writes the search grams of a complaint's searchable text (its title,
 * description and customer name, borrowed): at create, and whenever an
 * edit changes any of them; nothing else writes complaint_search, so
 * other updates of a complaint touch no GIN index. One statement, an
 * upsert. To fold it into a larger statement instead, take the grams as
 * one text parameter from ombud_search_doc_grams (ombud/search.h) and
 * write `INSERT INTO complaint_search (complaint_id, grams) VALUES (<id>,
 * $n::text[])`, in a data-modifying CTE if need be. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_complaint_search_put(struct ombud_db_conn *c,
                                                            int64_t complaint_id, const char *title,
                                                            const char *description,
                                                            const char *customer_name,
                                                            struct ombud_err *err);
/* What a change does to the complaint's clocks and SLA columns, worked
 * out beforehand (service/sla.c). */
struct ombud_change_sla {
    struct ombud_sla_clock k[2]; /* the clocks after the change */
    bool changed[2];             /* which of k to store */
    int64_t policy_id;           /* new sla_policy_id; 0 keeps it */
    int cycle;                   /* new resolution_cycle; 0 keeps it */
};

/* Inserts a complaint governed by policy_id (0: none) with its clocks
 * k[i] where have[i] and e's timeline events (texts[i]: event i's data,
 * JSON object text; the created event gets the complaint's reference)
 * as actor, in one statement (ombud_db_exec_last: the last of its unit
 * of work), and reads the new row with its clocks into out, which the
 * caller clears. An unknown category, team or agent fails with
 * OMBUD_E_INVALID naming the foreign key (complaints_category_fkey,
 * complaints_team_id_fkey, complaints_assignee_id_fkey). */
OMBUD_MUSTCHECK enum ombud_rc
ombud_db_complaint_create(struct ombud_db_conn *c, const struct ombud_complaint_new *in,
                          int64_t policy_id, const struct ombud_sla_clock k[2], const bool have[2],
                          const struct ombud_effects *e, char *const *texts,
                          const struct ombud_actor *a, struct ombud_complaint *out,
                          struct ombud_err *err);

/* Reads one complaint with its current clocks into out; *found false when
 * absent. lock: the complaint FOR NO KEY UPDATE and its clocks FOR
 * UPDATE, for a change in the caller's transaction. The caller frees
 * out's strings with ombud_complaint_clear. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_complaint_get(struct ombud_db_conn *c, int64_t id, bool lock,
                                                     struct ombud_complaint *out, bool *found,
                                                     struct ombud_err *err);

/* Room for a row version of ombud_db_complaint_get_row. */
#define OMBUD_DB_ROW_BUFLEN 24

/* Reads one complaint with its current clocks into out, unlocked, and in
 * row the version of its row: ombud_db_complaint_change given it writes
 * only if no one has written the complaint (or its clocks) since. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_complaint_get_row(struct ombud_db_conn *c, int64_t id,
                                                         struct ombud_complaint *out, bool *found,
                                                         char row[OMBUD_DB_ROW_BUFLEN],
                                                         struct ombud_err *err);

/* Timestamps in ombud_db_complaint_change: this value means "now()". */
#define OMBUD_DB_NOW INT64_MIN

/* Stores a change of the complaint cp in one statement, the last of the
 * transaction (ombud_db_exec_last: it carries the COMMIT), or one of its
 * own outside one: e's note (when e->note), the row (when write; every
 * mutable field of cp, and a new version when new_version; cp->version is
 * the version read), sla's policy, cycle and changed clocks, and e's
 * events (texts[i] for event i; the note's id goes into the events about
 * it). cp becomes the row as stored, with its clocks; note (when not NULL
 * and e has one) receives the stored note, whose body the caller frees.
 * row: NULL when the caller holds the complaint's lock; else the row
 * version cp was read at (ombud_db_complaint_get_row, with write), and
 * when the row is no longer that version nothing is written: OMBUD_E_CONFLICT
 * with *lost (when lost is not NULL) set. */
OMBUD_MUSTCHECK enum ombud_rc
ombud_db_complaint_change(struct ombud_db_conn *c, struct ombud_complaint *cp, bool write,
                          bool new_version, const struct ombud_change_sla *sla,
                          const struct ombud_effects *e, char *const *texts,
                          const struct ombud_actor *a, const char *row, bool *lost,
                          struct ombud_note *note, struct ombud_err *err);

/* The complaints with the n ids, in the order of ids (an id with no
 * complaint is left out; *n_out says how many were read), each with its
 * current clocks, in one statement. *out is a new array; the caller frees
 * it with ombud_complaints_free(*out, *n_out). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_complaints_by_id(struct ombud_db_conn *c, const int64_t *ids,
                                                        size_t n, struct ombud_complaint **out,
                                                        size_t *n_out, struct ombud_err *err);

/* The complaints f selects, in its order, at most f->limit + 1 (the extra
 * one tells whether more follow). *out is a new array; the caller frees
 * it with ombud_complaints_free(*out, *n). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_complaint_list(struct ombud_db_conn *c,
                                                      const struct ombud_complaint_filter *f,
                                                      struct ombud_complaint **out, size_t *n,
                                                      struct ombud_err *err);

/* Appends a timeline event (data: JSON object text, borrowed). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_event_add(struct ombud_db_conn *c, int64_t complaint_id,
                                                 const char *kind, const struct ombud_actor *a,
                                                 const char *data_json, struct ombud_err *err);
/* Events in id order after after_id, at most limit + 1. *out is a new
 * array; the caller frees it with ombud_events_free(*out, *n). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_event_list(struct ombud_db_conn *c, int64_t complaint_id,
                                                  int64_t after_id, int limit,
                                                  struct ombud_event **out, size_t *n,
                                                  struct ombud_err *err);

/* Notes in id order after after_id, at most limit + 1; public_only for
 * service keys. *out is a new array; the caller frees it with
 * ombud_notes_free(*out, *n). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_note_list(struct ombud_db_conn *c, int64_t complaint_id,
                                                 bool public_only, int64_t after_id, int limit,
                                                 struct ombud_note **out, size_t *n,
                                                 struct ombud_err *err);

/* Every category. *out is a new array; the caller frees it (free). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_category_list(struct ombud_db_conn *c,
                                                     struct ombud_category **out, size_t *n,
                                                     struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_category_insert(struct ombud_db_conn *c, const char *key,
                                                       const char *name, struct ombud_category *out,
                                                       struct ombud_err *err);

/* Idempotency: takes the key's transaction lock (*busy when another
 * transaction holds it), then reads a stored response younger than 24 h
 * (*found): its request hash into hash_out, its status, its body as a new
 * string in *body_out (the caller frees it) and its complaint's id. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_idem_begin(struct ombud_db_conn *c, int64_t key_id,
                                                  const char *key, bool *busy, bool *found,
                                                  char hash_out[OMBUD_HASH_BUFLEN], int *status_out,
                                                  char **body_out, int64_t *complaint_id,
                                                  struct ombud_err *err);
OMBUD_MUSTCHECK enum ombud_rc ombud_db_idem_store(struct ombud_db_conn *c, int64_t key_id,
                                                  const char *key, const char *hash, int status,
                                                  const char *body, int64_t complaint_id,
                                                  struct ombud_err *err);

#endif
