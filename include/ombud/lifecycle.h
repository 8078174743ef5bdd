/*
 * The complaint life cycle (API.md "Life cycle"). Pure C, no I/O.
 *
 * One transition table says which action is allowed in which state and
 * where it leads. ombud_lifecycle_apply says what any change to a
 * complaint does: a life-cycle action, a note, an escalation, the
 * customer's satisfaction or an edit. It takes the complaint as stored
 * and the change with its input, and returns the effects: the new
 * state, the timestamps to set or clear, the other fields to assign,
 * the SLA operation and the timeline events as plain records. The
 * service layer (src/service/complaint.c) carries them out in one
 * transaction and repr/event.c turns the event records into JSON, so
 * every rule here is testable without a database.
 */
#ifndef OMBUD_LIFECYCLE_H
#define OMBUD_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/err.h"
#include "ombud/role.h"
#include "ombud/sla.h"

struct ombud_complaint;

enum ombud_status {
    OMBUD_ST_NEW,
    OMBUD_ST_ACKNOWLEDGED,
    OMBUD_ST_IN_PROGRESS,
    OMBUD_ST_PENDING_CUSTOMER,
    OMBUD_ST_RESOLVED,
    OMBUD_ST_CLOSED,
    OMBUD_ST_COUNT,
};

enum ombud_action {
    OMBUD_ACT_ACKNOWLEDGE,
    OMBUD_ACT_START,
    OMBUD_ACT_PEND,
    OMBUD_ACT_RESUME,
    OMBUD_ACT_RESOLVE,
    OMBUD_ACT_CLOSE,
    OMBUD_ACT_REOPEN,
    OMBUD_ACT_WITHDRAW,
    OMBUD_ACT_COUNT,
};

const char *ombud_status_name(enum ombud_status s);
bool ombud_status_parse(const char *s, enum ombud_status *out);
const char *ombud_action_name(enum ombud_action a);
bool ombud_action_parse(const char *s, enum ombud_action *out);
/* NULL-terminated name lists, for validation messages and enum specs. */
extern const char *const ombud_status_names[];
extern const char *const ombud_action_names[];

/* Whether action is allowed from state; *to receives the new state. */
bool ombud_lifecycle_next(enum ombud_status from, enum ombud_action action, enum ombud_status *to);
/* Writes the actions allowed from state, comma-separated, into out. */
void ombud_lifecycle_allowed(enum ombud_status from, char *out, size_t len);
/* Open: not resolved and not closed (SLA clocks may run). */
bool ombud_status_is_open(enum ombud_status s);
/* Whether the action meets the first-response target. */
bool ombud_action_meets_first_response(enum ombud_action a);

/* ---- changes and their effects ---- */

/* What kind of change a struct ombud_transition describes. */
enum ombud_change_kind {
    OMBUD_CHANGE_ACTION,       /* a life-cycle action (POST .../transitions) */
    OMBUD_CHANGE_NOTE,         /* a note (POST .../notes) */
    OMBUD_CHANGE_ESCALATE,     /* one level up (POST .../escalate) */
    OMBUD_CHANGE_SATISFACTION, /* the customer's score (POST .../satisfaction) */
    OMBUD_CHANGE_EDIT,         /* field edits (PATCH) */
};

/* The resolution sent with resolve (all of it) or close (customer_agreed). */
struct ombud_resolution_in {
    bool given;       /* a resolution object was sent */
    bool has_summary; /* summary was sent (summary may still be invalid) */
    const char *summary;
    bool has_agreed, agreed;
    const char *amount, *currency; /* compensation, both or neither; NULL: none */
};

/* An edit: each field only when its has_ flag is set; NULL / 0 clears. */
struct ombud_edit {
    bool has_title, has_description, has_category, has_grade, has_priority, has_demand,
        has_demand_detail, has_tags, has_team, has_assignee;
    const char *title, *description, *category, *grade, *priority, *demand, *demand_detail;
    const char *tags_json; /* compact JSON array text as jansson writes it; NULL: [] */
    int64_t team_id, assignee_id;
};

/* One change and its input. Strings are borrowed from the caller. */
struct ombud_transition {
    enum ombud_change_kind kind;
    enum ombud_role role; /* who asks; OMBUD_ROLE_NONE for the system */
    /* ACTION */
    enum ombud_action action;
    bool force; /* close without the customer's agreement */
    struct ombud_resolution_in resolution;
    /* ACTION: an internal note sent along (NULL: none); NOTE: its body */
    const char *note;
    const char *visibility; /* NOTE: "internal" or "public" */
    /* ESCALATE. Whether a team exists is a fact of the database, so the
     * caller looks both up and passes them in. */
    const char *reason;
    int64_t team_id;            /* requested team; 0: follow the escalation chain */
    bool team_known;            /* team_id names a team */
    int64_t escalation_team_id; /* the complaint's team's escalation team; 0: none */
    bool by_rule; /* an escalation rule's: at the top of the chain the level still rises */
    /* SATISFACTION */
    int score; /* 1..5 */
    const char *comment;
    /* EDIT */
    struct ombud_edit edit;
};

/* Timestamps an effect sets to the transaction's now, or clears. */
enum ombud_stamp {
    OMBUD_STAMP_FIRST_RESPONSE = 1u << 0,
    OMBUD_STAMP_RESOLVED = 1u << 1,
    OMBUD_STAMP_CLOSED = 1u << 2,
    OMBUD_STAMP_SATISFACTION = 1u << 3,
};

/* Complaint fields an effect assigns (and events report as changed). */
enum ombud_field {
    OMBUD_FIELD_TITLE,
    OMBUD_FIELD_DESCRIPTION,
    OMBUD_FIELD_CATEGORY,
    OMBUD_FIELD_GRADE,
    OMBUD_FIELD_PRIORITY,
    OMBUD_FIELD_DEMAND,
    OMBUD_FIELD_DEMAND_DETAIL,
    OMBUD_FIELD_TAGS,    /* JSON array text */
    OMBUD_FIELD_TEAM_ID, /* id, 0: none */
    OMBUD_FIELD_ASSIGNEE_ID,
    OMBUD_FIELD_RESOLUTION_SUMMARY,
    OMBUD_FIELD_COMPENSATION_AMOUNT,
    OMBUD_FIELD_COMPENSATION_CURRENCY,
    OMBUD_FIELD_CUSTOMER_AGREED, /* number: -1 unknown, 0 no, 1 yes */
    OMBUD_FIELD_REOPEN_COUNT,
    OMBUD_FIELD_ESCALATION_LEVEL,
    OMBUD_FIELD_SATISFACTION_SCORE,
    OMBUD_FIELD_SATISFACTION_COMMENT,
    OMBUD_FIELD_COUNT,
};

/* The field's name in the API ("team_id", ...). */
const char *ombud_field_name(enum ombud_field f);

/* A field's old and new value. Text: s (NULL: null); ids and numbers: n
 * (an id of 0 is null); tags: s is JSON array text. */
struct ombud_value {
    const char *s;
    int64_t n;
};

struct ombud_field_change {
    enum ombud_field field;
    struct ombud_value from, to;
};

enum ombud_event_kind {
    OMBUD_EV_CREATED,
    OMBUD_EV_ASSIGNED,
    OMBUD_EV_UPDATED,
    OMBUD_EV_NOTE_ADDED,
    OMBUD_EV_STATUS_CHANGED,
    OMBUD_EV_SLA_PAUSED,
    OMBUD_EV_SLA_RESUMED,
    OMBUD_EV_ESCALATED,
    OMBUD_EV_SATISFACTION_RECORDED,
    OMBUD_EV_COUNT,
};

/* The kind as stored ("status_changed", ...). */
const char *ombud_event_kind_name(enum ombud_event_kind k);

#define OMBUD_EV_MAX_CHANGES 10

/* A timeline event as a plain record: its kind and the values it
 * reports. Each kind reads only its own fields (see repr/event.c). */
struct ombud_event_rec {
    enum ombud_event_kind kind;
    /* CREATED: the new complaint */
    int64_t complaint_id;
    const char *channel, *category, *grade, *priority;
    /* STATUS_CHANGED (all), SLA_PAUSED / SLA_RESUMED (to) */
    enum ombud_action action;
    enum ombud_status from, to;
    bool forced;
    int reopen_count;               /* reopen */
    const char *resolution_summary; /* resolve */
    /* NOTE_ADDED, and STATUS_CHANGED with a note: the note this change
     * adds (about_note); note_id is filled in once the note is stored */
    bool about_note;
    int64_t note_id;
    const char *visibility;
    /* ESCALATED */
    const char *reason;
    int from_level, to_level;
    /* SATISFACTION_RECORDED */
    int score;
    /* ASSIGNED, UPDATED, ESCALATED (team_id): the fields that changed */
    size_t nchanges;
    struct ombud_field_change changes[OMBUD_EV_MAX_CHANGES];
};

#define OMBUD_EFFECTS_MAX_ASSIGN 12
#define OMBUD_EFFECTS_MAX_EVENTS 3

/* What a change does. Strings are borrowed from the complaint and the
 * transition given to ombud_lifecycle_apply: valid while both are. */
struct ombud_effects {
    bool save;               /* the row changes (a new version) */
    enum ombud_status to;    /* the state afterwards */
    unsigned stamps_set;     /* OMBUD_STAMP_*: set to now */
    unsigned stamps_cleared; /* OMBUD_STAMP_*: cleared */
    size_t nassign;          /* other fields assigned (their .to values) */
    struct ombud_field_change assign[OMBUD_EFFECTS_MAX_ASSIGN];
    bool sla; /* the clocks change: by sla_op */
    enum ombud_sla_op sla_op;
    const char *note; /* a note to store first (NULL: none) */
    const char *note_visibility;
    size_t nevents; /* timeline events, in order */
    struct ombud_event_rec events[OMBUD_EFFECTS_MAX_EVENTS];
};

/* Appends field errors for input the change never accepts, whatever the
 * complaint's state (resolve without a summary, withdraw without a note,
 * a resolution or force where the action takes none), to err; the
 * caller collects them with its other field errors. */
void ombud_lifecycle_check_input(const struct ombud_transition *t, struct ombud_err *err);

/* What t does to cp (as stored, locked). Fills out and returns OMBUD_OK,
 * or fills err when the change is refused in cp's state: an action not
 * allowed now (with the allowed ones), a close without agreement, an
 * escalation of a closed complaint or to an unknown team, satisfaction
 * before resolution or twice. Pure: cp is not changed. */
OMBUD_MUSTCHECK enum ombud_rc ombud_lifecycle_apply(const struct ombud_complaint *cp,
                                                    const struct ombud_transition *t,
                                                    struct ombud_effects *out,
                                                    struct ombud_err *err);

/* The effects of creating cp (already stored with its clocks): the
 * created event and, when it has a team or assignee, an assigned event. */
void ombud_lifecycle_created(const struct ombud_complaint *cp, struct ombud_effects *out);

/* ---- routing (API.md "Escalation and assignment") ----
 *
 * A complaint that lands in a team without an assignee is routed: in a
 * round_robin team to the active member with the fewest open complaints
 * (ties: the one assigned least recently). Who that is, is a fact of the
 * database: the service asks it (ombud/db/teams.h) and records the
 * answer with ombud_effects_reassign. */

/* Whether a complaint created with this team and assignee (0: none) is
 * routed: a team and no assignee. */
bool ombud_lifecycle_intake_routes(int64_t team_id, int64_t assignee_id);

/* Whether e (the effects of t) hands the complaint over: moves it to
 * another team (not to none) while t does not name the assignee (a
 * PATCH that names one, even as null, keeps what it names). *team_id
 * receives the new team. Who has the complaint then: its assignee when
 * an active member of the new team; else the one routing picks when the
 * team is round_robin; else no one. */
bool ombud_lifecycle_handover(const struct ombud_transition *t, const struct ombud_effects *e,
                              int64_t *team_id);

/* Records in e, whose assignee a handover left unsaid, that cp's
 * assignee becomes assignee_id (0: none): assigned, and reported in the
 * event that reports the team's change (assigned or escalated; a new
 * assigned event when none does). Nothing when it is cp's assignee
 * already. */
void ombud_effects_reassign(const struct ombud_complaint *cp, struct ombud_effects *e,
                            int64_t assignee_id);

/* The agent e gives cp to, by name (0: none, or no change): to be marked
 * assigned now, the tie-break of routing. */
int64_t ombud_effects_new_assignee(const struct ombud_effects *e);

/* Records that the note e->note was stored as note_id. */
void ombud_effects_note_stored(struct ombud_effects *e, int64_t note_id);

/* Writes e into cp: state, stamps (set to now, which may be a sentinel
 * such as the database's "now()"), assigned fields. Text is copied; false
 * when out of memory (cp is then partly written and only fit to clear). */
OMBUD_MUSTCHECK bool ombud_lifecycle_commit(struct ombud_complaint *cp,
                                            const struct ombud_effects *e, int64_t now);

#endif
