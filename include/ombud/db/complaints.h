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
/* Inserts a complaint; *id is its new id. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_complaint_insert(struct ombud_db_conn *c,
                                                        const struct ombud_complaint_new *in,
                                                        int64_t *id, struct ombud_err *err);
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
/* Reads one complaint (FOR UPDATE when lock) into out; *found false when
 * absent. The caller frees out's strings with ombud_complaint_clear. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_complaint_get(struct ombud_db_conn *c, int64_t id, bool lock,
                                                     struct ombud_complaint *out, bool *found,
                                                     struct ombud_err *err);

/* Timestamps in ombud_db_complaint_save: this value means "now()". */
#define OMBUD_DB_NOW INT64_MIN

/* Writes every mutable field of c back and bumps version (c->version is
 * the version read; the row must still have it). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_complaint_save(struct ombud_db_conn *c,
                                                      const struct ombud_complaint *cp,
                                                      struct ombud_err *err);

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

/* Adds a note and fills out; the caller frees out->body. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_note_add(struct ombud_db_conn *c, int64_t complaint_id,
                                                const char *body, const char *visibility,
                                                const struct ombud_actor *a, struct ombud_note *out,
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
