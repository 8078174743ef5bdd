/* Complaint record helpers; see include/ombud/complaint.h. */
#include "ombud/complaint.h"

#include <stdlib.h>
#include <string.h>

const char *const ombud_channel_names[] = {"phone",  "chat",      "email", "web",
                                           "social", "in_person", "api",   NULL};
const char *const ombud_grade_names[] = {"potential", "explicit", "high_risk", NULL};
const char *const ombud_priority_names[] = {"low", "normal", "high", "urgent", NULL};
const char *const ombud_demand_names[] = {"explanation",  "repair",  "replacement", "refund",
                                          "compensation", "apology", "other",       NULL};
const char *const ombud_tier_names[] = {"standard", "vip", NULL};

void ombud_complaint_clear(struct ombud_complaint *c)
{
    free(c->title);
    free(c->description);
    free(c->customer_name);
    free(c->customer_external_id);
    free(c->customer_email);
    free(c->customer_phone);
    free(c->demand_detail);
    free(c->tags_json);
    free(c->external_ref);
    free(c->resolution_summary);
    free(c->compensation_amount);
    free(c->satisfaction_comment);
    memset(c, 0, sizeof *c);
}

const char *ombud_complaint_default_priority(const char *grade)
{
    if (grade && strcmp(grade, "potential") == 0)
        return "low";
    if (grade && strcmp(grade, "high_risk") == 0)
        return "urgent";
    return "normal";
}

void ombud_notes_free(struct ombud_note *n, size_t count)
{
    for (size_t i = 0; n && i < count; i++)
        free(n[i].body);
    free(n);
}

void ombud_events_free(struct ombud_event *e, size_t count)
{
    for (size_t i = 0; e && i < count; i++)
        free(e[i].data_json);
    free(e);
}

void ombud_complaints_free(struct ombud_complaint *c, size_t count)
{
    for (size_t i = 0; c && i < count; i++)
        ombud_complaint_clear(&c[i]);
    free(c);
}
