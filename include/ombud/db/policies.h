/* SLA policies (src/db/sla_policies.c). Records in ombud/sla.h; a policy
 * owns its match lists, so every record read here is released with
 * ombud_sla_policy_clear. */
#ifndef OMBUD_DB_POLICIES_H
#define OMBUD_DB_POLICIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/db/pool.h"
#include "ombud/err.h"
#include "ombud/sla.h"

/* Inserts (p->id 0) or updates a policy and reads it back into p (whose
 * old match lists are freed first); *found false when the id is unknown. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_policy_save(struct ombud_db_conn *c,
                                                   struct ombud_sla_policy *p, bool *found,
                                                   struct ombud_err *err);
/* Reads policy id into out, which must own nothing (cleared or new);
 * *found false when absent. The caller clears out. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_policy_get(struct ombud_db_conn *c, int64_t id,
                                                  struct ombud_sla_policy *out, bool *found,
                                                  struct ombud_err *err);
/* Policies with id > after_id in id order, at most limit + 1. *out is a
 * new array; the caller frees it with ombud_policies_free(*out, *n). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_policy_list(struct ombud_db_conn *c, int64_t after_id,
                                                   int limit, struct ombud_sla_policy **out,
                                                   size_t *n, struct ombud_err *err);
/* *found false when unknown; *in_use when a complaint or clock refers to
 * it (then nothing is deleted). */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_policy_delete(struct ombud_db_conn *c, int64_t id,
                                                     bool *found, bool *in_use,
                                                     struct ombud_err *err);
/* The active policy with the lowest position whose every non-empty match
 * list contains the complaint's value, read into out (as policy_get);
 * *found false when none does. */
OMBUD_MUSTCHECK enum ombud_rc ombud_db_policy_select(struct ombud_db_conn *c, const char *priority,
                                                     const char *grade, const char *category,
                                                     const char *channel, const char *tier,
                                                     struct ombud_sla_policy *out, bool *found,
                                                     struct ombud_err *err);
/* Clears each of list's n policies and frees list (NULL is fine). */
void ombud_policies_free(struct ombud_sla_policy *list, size_t n);

#endif
