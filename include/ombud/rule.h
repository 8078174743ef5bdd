/*
 * Escalation rules (API.md "Escalation and assignment"). Pure C, no I/O.
 *
 * A rule is a trigger (created, reopened, an SLA warning or breach of a
 * target), a delay in business minutes, conditions on the complaint and
 * actions. This module says whether a trigger concerns a rule, whether
 * its conditions hold for a complaint (and if not, why, in words for
 * the timeline), and what its actions are as complaint changes (struct
 * ombud_transition), which the service layer carries out through the
 * one change path with the rule as actor. db/rules.c stores rules and
 * their runs; service/rules.c fires them; repr/rule.c renders them.
 */
#ifndef OMBUD_RULE_H
#define OMBUD_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/complaint.h"
#include "ombud/lifecycle.h"

enum ombud_rule_trigger {
    OMBUD_TRIG_CREATED,
    OMBUD_TRIG_REOPENED,
    OMBUD_TRIG_SLA_WARNING,
    OMBUD_TRIG_SLA_BREACH,
    OMBUD_TRIG_COUNT,
};

/* The SLA target a rule watches; ANY for created and reopened. */
enum ombud_rule_target {
    OMBUD_RTARGET_FIRST_RESPONSE,
    OMBUD_RTARGET_RESOLUTION,
    OMBUD_RTARGET_ANY,
    OMBUD_RTARGET_COUNT,
};

/* NULL-terminated name lists, for validation and enum specs. */
extern const char *const ombud_rule_trigger_names[];
extern const char *const ombud_rule_target_names[];
const char *ombud_rule_trigger_name(enum ombud_rule_trigger t);
bool ombud_rule_trigger_parse(const char *s, enum ombud_rule_trigger *out);
const char *ombud_rule_target_name(enum ombud_rule_target t);
bool ombud_rule_target_parse(const char *s, enum ombud_rule_target *out);

/* Condition lists in this order, as the API names them under
 * "conditions" (the team ids are apart: numbers). */
enum { OMBUD_RULE_NAME_LISTS = 5 };
extern const char *const ombud_rule_list_names[OMBUD_RULE_NAME_LISTS]; /* "priorities", … */

#define OMBUD_RULE_MAX_TEAMS 50
#define OMBUD_RULE_MAX_DELAY 5256000 /* minutes: ten years */

struct ombud_rule {
    int64_t id;
    char name[404];
    int position;
    bool active;
    enum ombud_rule_trigger trigger;
    enum ombud_rule_target target;
    int delay_minutes;
    /* Conditions: JSON arrays of names (priorities, grades, categories,
     * channels, customer tiers), NULL or "[]" for any; team ids; levels
     * (-1: no bound). */
    char *cond_json[OMBUD_RULE_NAME_LISTS];
    size_t nteams;
    int64_t team_ids[OMBUD_RULE_MAX_TEAMS];
    int min_level, max_level;
    /* Actions */
    char set_priority[16];                /* "" none */
    int64_t set_team_id, set_assignee_id; /* 0 none */
    bool raise_level, notify;
    int64_t created_at, updated_at; /* usec */
};

void ombud_rule_clear(struct ombud_rule *r);
void ombud_rules_free(struct ombud_rule *list, size_t n);
/* A deep copy of src into dst; false when out of memory (dst is then clear). */
bool ombud_rule_copy(struct ombud_rule *dst, const struct ombud_rule *src);

/* Whether a JSON array text of plain names (as to_json prints text[]) is
 * empty (or NULL) or holds value. */
bool ombud_name_list_admits(const char *list, const char *value);

/* Whether an occurrence of trigger on target concerns r (its trigger,
 * and for SLA triggers its target or any). Active or not: callers pick. */
bool ombud_rule_watches(const struct ombud_rule *r, enum ombud_rule_trigger trigger,
                        enum ombud_sla_target target);

/* Whether r's conditions hold for cp. When not, why (when not NULL)
 * receives the first that fails, in words ("priority is normal, not one
 * of urgent"). */
bool ombud_rule_holds(const struct ombud_rule *r, const struct ombud_complaint *cp, char *why,
                      size_t len);

/* r's actions on cp as complaint changes, in the order they are carried
 * out: an escalation (raise_level: one level up, to set_team_id or along
 * the team's chain), then an edit (priority, and team when not escalated,
 * assignee). Each is written only when its flag comes back true; strings
 * are borrowed from r. notify is the caller's (an alert, not a change). */
void ombud_rule_changes(const struct ombud_rule *r, struct ombud_transition *escalate,
                        bool *has_escalate, struct ombud_transition *edit, bool *has_edit);

/* A rule's state for one complaint's current cycle (GET
 * /v1/complaints/{id}/rules). */
struct ombud_rule_status {
    int64_t rule_id;
    char name[404];
    enum ombud_rule_trigger trigger;
    enum ombud_rule_target target;
    char state[16];   /* pending, fired, skipped */
    int64_t due_at;   /* epoch seconds; 0 unknown (the clock is paused) */
    int64_t fired_at; /* epoch seconds; 0 not fired */
    char reason[512]; /* skipped: why */
};

#endif
