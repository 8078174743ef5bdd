/* Escalation rules: triggers, conditions, actions; see include/ombud/rule.h. */
#include "ombud/rule.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ombud_rule_trigger_names[] = {"created", "reopened", "sla_warning", "sla_breach",
                                                NULL};
const char *const ombud_rule_target_names[] = {"first_response", "resolution", "any", NULL};
const char *const ombud_rule_list_names[OMBUD_RULE_NAME_LISTS] = {
    "priorities", "grades", "categories", "channels", "customer_tiers"};

/* The complaint field each name list tests, for the reasons. */
static const char *const list_fields[OMBUD_RULE_NAME_LISTS] = {"priority", "grade", "category",
                                                               "channel", "customer tier"};

const char *ombud_rule_trigger_name(enum ombud_rule_trigger t)
{
    return (unsigned)t < OMBUD_TRIG_COUNT ? ombud_rule_trigger_names[t] : "unknown";
}

bool ombud_rule_trigger_parse(const char *s, enum ombud_rule_trigger *out)
{
    for (int i = 0; s && i < OMBUD_TRIG_COUNT; i++)
        if (strcmp(s, ombud_rule_trigger_names[i]) == 0) {
            *out = (enum ombud_rule_trigger)i;
            return true;
        }
    return false;
}

const char *ombud_rule_target_name(enum ombud_rule_target t)
{
    return (unsigned)t < OMBUD_RTARGET_COUNT ? ombud_rule_target_names[t] : "unknown";
}

bool ombud_rule_target_parse(const char *s, enum ombud_rule_target *out)
{
    for (int i = 0; s && i < OMBUD_RTARGET_COUNT; i++)
        if (strcmp(s, ombud_rule_target_names[i]) == 0) {
            *out = (enum ombud_rule_target)i;
            return true;
        }
    return false;
}

void ombud_rule_clear(struct ombud_rule *r)
{
    for (int i = 0; i < OMBUD_RULE_NAME_LISTS; i++)
        free(r->cond_json[i]);
    memset(r, 0, sizeof *r);
    r->min_level = r->max_level = -1;
}

void ombud_rules_free(struct ombud_rule *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++)
        ombud_rule_clear(&list[i]);
    free(list);
}

bool ombud_rule_copy(struct ombud_rule *dst, const struct ombud_rule *src)
{
    *dst = *src;
    for (int i = 0; i < OMBUD_RULE_NAME_LISTS; i++)
        dst->cond_json[i] = NULL;
    for (int i = 0; i < OMBUD_RULE_NAME_LISTS; i++)
        if (src->cond_json[i] && !(dst->cond_json[i] = strdup(src->cond_json[i]))) {
            ombud_rule_clear(dst);
            return false;
        }
    return true;
}

/* Names are enum values and category keys ([a-z0-9_]), so a quoted
 * occurrence is an element. */
bool ombud_name_list_admits(const char *list, const char *value)
{
    if (!list || strcmp(list, "[]") == 0)
        return true;
    if (!value)
        return false;
    size_t len = strlen(value);
    for (const char *p = strchr(list, '"'); p; p = strchr(p + 1, '"'))
        if (strncmp(p + 1, value, len) == 0 && p[1 + len] == '"')
            return true;
    return false;
}

bool ombud_rule_watches(const struct ombud_rule *r, enum ombud_rule_trigger trigger,
                        enum ombud_sla_target target)
{
    if (r->trigger != trigger)
        return false;
    if (trigger != OMBUD_TRIG_SLA_WARNING && trigger != OMBUD_TRIG_SLA_BREACH)
        return true;
    return r->target == OMBUD_RTARGET_ANY || (int)r->target == (int)target;
}

/* The list's names as "a, b, c" (the JSON text without brackets and quotes). */
static void list_words(const char *list, char *out, size_t len)
{
    size_t o = 0;
    for (const char *p = list; *p && o + 1 < len; p++) {
        if (*p == '[' || *p == ']' || *p == '"')
            continue;
        out[o++] = *p;
        if (*p == ',' && o + 1 < len)
            out[o++] = ' ';
    }
    out[o] = '\0';
}

bool ombud_rule_holds(const struct ombud_rule *r, const struct ombud_complaint *cp, char *why,
                      size_t len)
{
    const char *values[OMBUD_RULE_NAME_LISTS] = {cp->priority, cp->grade, cp->category, cp->channel,
                                                 cp->customer_tier};
    char words[256];
    for (int i = 0; i < OMBUD_RULE_NAME_LISTS; i++)
        if (!ombud_name_list_admits(r->cond_json[i], values[i])) {
            if (why) {
                list_words(r->cond_json[i], words, sizeof words);
                snprintf(why, len, "%s is %s, not one of %s", list_fields[i], values[i], words);
            }
            return false;
        }
    if (r->nteams) {
        bool in = false;
        for (size_t i = 0; i < r->nteams; i++)
            in |= r->team_ids[i] == cp->team_id;
        if (!in) {
            if (why) {
                if (cp->team_id)
                    snprintf(why, len, "team is %lld, not one of the rule's teams",
                             (long long)cp->team_id);
                else
                    snprintf(why, len, "the complaint has no team");
            }
            return false;
        }
    }
    if (r->min_level >= 0 && cp->escalation_level < r->min_level) {
        if (why)
            snprintf(why, len, "escalation level is %d, below %d", cp->escalation_level,
                     r->min_level);
        return false;
    }
    if (r->max_level >= 0 && cp->escalation_level > r->max_level) {
        if (why)
            snprintf(why, len, "escalation level is %d, above %d", cp->escalation_level,
                     r->max_level);
        return false;
    }
    return true;
}

void ombud_rule_changes(const struct ombud_rule *r, struct ombud_transition *escalate,
                        bool *has_escalate, struct ombud_transition *edit, bool *has_edit)
{
    memset(escalate, 0, sizeof *escalate);
    memset(edit, 0, sizeof *edit);
    *has_escalate = r->raise_level;
    if (r->raise_level) {
        escalate->kind = OMBUD_CHANGE_ESCALATE;
        escalate->role = OMBUD_ROLE_NONE;
        escalate->reason = r->name;
        escalate->team_id = r->set_team_id; /* 0: along the chain */
        escalate->by_rule = true;
    }
    edit->kind = OMBUD_CHANGE_EDIT;
    edit->role = OMBUD_ROLE_NONE;
    if (r->set_priority[0]) {
        edit->edit.has_priority = true;
        edit->edit.priority = r->set_priority;
    }
    if (r->set_team_id && !r->raise_level) {
        edit->edit.has_team = true;
        edit->edit.team_id = r->set_team_id;
    }
    if (r->set_assignee_id) {
        edit->edit.has_assignee = true;
        edit->edit.assignee_id = r->set_assignee_id;
    }
    *has_edit = edit->edit.has_priority || edit->edit.has_team || edit->edit.has_assignee;
}
