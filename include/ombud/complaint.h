/*
 * The complaint record as C sees it, shared by db (fills it), repr
 * (renders it) and http (validates changes to it). Text fields are heap
 * strings (NULL when absent); ombud_complaint_clear frees them.
 */
#ifndef OMBUD_COMPLAINT_H
#define OMBUD_COMPLAINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/lifecycle.h"
#include "ombud/sla.h"

struct ombud_complaint {
    int64_t id;
    char *title, *description;
    char *customer_name, *customer_external_id, *customer_email, *customer_phone;
    char customer_tier[16];
    char channel[16];
    char category[48];
    char grade[16];
    char priority[16];
    char demand[16]; /* "" when none */
    char *demand_detail;
    char *tags_json;              /* JSON array text, e.g. ["a","b"] */
    int64_t team_id, assignee_id; /* 0: none */
    char *external_ref;
    enum ombud_status status;
    int escalation_level, reopen_count;
    char *resolution_summary;
    char *compensation_amount; /* numeric as text, or NULL */
    char compensation_currency[4];
    int customer_agreed;    /* -1 unknown, 0 no, 1 yes */
    int satisfaction_score; /* 0: none */
    char *satisfaction_comment;
    int64_t satisfaction_at;
    int64_t created_by_key_id;
    int64_t created_at, updated_at, first_response_at, resolved_at, closed_at;
    int version;
    int64_t sla_policy_id; /* 0: none */
    int resolution_cycle;
    /* current clocks: [0] first response, [1] resolution (filled by loads that ask) */
    struct ombud_sla_clock sla[2];
    bool sla_have[2];
    int64_t sla_due; /* lists: earliest unmet due (seconds), INT64_MAX when none */
};

/* Frees the heap strings and zeroes the record. */
void ombud_complaint_clear(struct ombud_complaint *c);

/* The closed vocabularies of API.md, each NULL-terminated; validation,
 * list filters and SLA policy match lists all use these. */
extern const char *const ombud_channel_names[];
extern const char *const ombud_grade_names[];
extern const char *const ombud_priority_names[];
extern const char *const ombud_demand_names[];
extern const char *const ombud_tier_names[];

/* Limits on a complaint's tags. */
#define OMBUD_COMPLAINT_MAX_TAGS 20
#define OMBUD_COMPLAINT_MAX_TAG_CHARS 50

/* Limits on a complaint's texts, in characters (code points); each is at
 * least one character long. */
#define OMBUD_COMPLAINT_MAX_TITLE_CHARS 200
#define OMBUD_COMPLAINT_MAX_DESCRIPTION_CHARS 20000
#define OMBUD_COMPLAINT_MAX_DEMAND_DETAIL_CHARS 5000
#define OMBUD_COMPLAINT_MAX_EXTERNAL_REF_CHARS 200
#define OMBUD_CUSTOMER_MAX_NAME_CHARS 200
#define OMBUD_CUSTOMER_MAX_EXTERNAL_ID_CHARS 200
#define OMBUD_CUSTOMER_MIN_EMAIL_CHARS 3
#define OMBUD_CUSTOMER_MAX_EMAIL_CHARS 320
#define OMBUD_CUSTOMER_MAX_PHONE_CHARS 50
/* A category's key: what a complaint names and POST /v1/categories adds. */
#define OMBUD_CATEGORY_MAX_KEY_CHARS 40

/* Default priority for a grade: potential->low, explicit->normal, high_risk->urgent. */
const char *ombud_complaint_default_priority(const char *grade);

/* Who did something: recorded on events and notes. */
struct ombud_actor {
    int64_t key_id;
    const char *role; /* service|agent|supervisor|admin|system|rule */
    int64_t agent_id; /* 0: none */
    int64_t rule_id;  /* role "rule": the escalation rule that acts; else 0 */
};

struct ombud_note {
    int64_t id, complaint_id;
    char *body;
    char visibility[16];
    int64_t author_key_id;
    char author_role[16];
    int64_t author_agent_id;
    int64_t created_at;
};

struct ombud_event {
    int64_t id, complaint_id;
    char kind[32];
    int64_t actor_key_id;
    char actor_role[16];
    int64_t actor_agent_id;
    int64_t actor_rule_id;
    char *data_json;
    int64_t created_at;
};

struct ombud_category {
    char key[48];
    char name[404];
    int64_t created_at;
};

/* A complaint to create, as validated input: borrowed strings (NULL when
 * absent), the caller keeps ownership. */
struct ombud_complaint_new {
    const char *title, *description;
    const char *customer_name, *customer_external_id, *customer_email, *customer_phone;
    const char *customer_tier, *channel, *category, *grade, *priority, *demand, *demand_detail;
    const char *tags_json; /* JSON array text */
    const char *external_ref;
    int64_t team_id, assignee_id, created_by_key_id; /* 0: none */
};

/* Which complaints a list shows and in what order (GET /v1/complaints). */
struct ombud_complaint_filter {
    const char *status, *priority, *grade, *category, *channel; /* comma-separated lists */
    const char *customer_external_id, *q;
    int64_t team_id, assignee_id; /* 0: any */
    bool has_created_after, has_created_before;
    int64_t created_after, created_before; /* usec */
    int64_t creator_key_id;                /* service keys see only their own; 0: all */
    bool ascending;
    bool by_due;           /* sort=due_at: earliest unmet due first, none last */
    const char *sla_state; /* comma-separated: on_track, at_risk, breached, met, paused, none */
    int64_t now;           /* seconds, for sla_state and due order */
    bool has_cursor;
    int64_t cursor_ts, cursor_id; /* created_at usec, or due epoch seconds when by_due */
    int limit;                    /* rows wanted; one more is read to tell whether more follow */
};

void ombud_notes_free(struct ombud_note *n, size_t count);
void ombud_events_free(struct ombud_event *e, size_t count);
void ombud_complaints_free(struct ombud_complaint *c, size_t count);

#endif
