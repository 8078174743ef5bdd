/*
 * The life cycle: the transition table and what every change to a
 * complaint does (include/ombud/lifecycle.h).
 *
 * DESIGN. The table has one row per action: the states it is allowed
 * from (a bit set) and the state it leads to; everything else about the
 * life cycle asks it, so that rule lives in exactly one place. The
 * effects of a change are computed here and only here, from the stored
 * complaint and the change's input, as plain records: the service layer
 * carries them out against the database and repr/event.c writes the
 * events' JSON. Nothing here does I/O, so each (state, action) pair is
 * tested in tests/unit/test_lifecycle.c.
 *
 * Errors are set only through the refuse_* helpers below, one per
 * problem, so how an error is classified is decided in one place.
 */
#include "ombud/lifecycle.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ombud/complaint.h"

const char *const ombud_status_names[] = {
    "new", "acknowledged", "in_progress", "pending_customer", "resolved", "closed", NULL};
const char *const ombud_action_names[] = {"acknowledge", "start",  "pend",     "resume", "resolve",
                                          "close",       "reopen", "withdraw", NULL};

#define B(s) (1u << (s))
#define OPEN                                                                                       \
    (B(OMBUD_ST_NEW) | B(OMBUD_ST_ACKNOWLEDGED) | B(OMBUD_ST_IN_PROGRESS) |                        \
     B(OMBUD_ST_PENDING_CUSTOMER))

static const struct {
    unsigned from;
    enum ombud_status to;
} table[OMBUD_ACT_COUNT] = {
    [OMBUD_ACT_ACKNOWLEDGE] = {B(OMBUD_ST_NEW), OMBUD_ST_ACKNOWLEDGED},
    [OMBUD_ACT_START] = {B(OMBUD_ST_NEW) | B(OMBUD_ST_ACKNOWLEDGED), OMBUD_ST_IN_PROGRESS},
    [OMBUD_ACT_PEND] = {B(OMBUD_ST_ACKNOWLEDGED) | B(OMBUD_ST_IN_PROGRESS),
                        OMBUD_ST_PENDING_CUSTOMER},
    [OMBUD_ACT_RESUME] = {B(OMBUD_ST_PENDING_CUSTOMER), OMBUD_ST_IN_PROGRESS},
    [OMBUD_ACT_RESOLVE] = {B(OMBUD_ST_ACKNOWLEDGED) | B(OMBUD_ST_IN_PROGRESS) |
                               B(OMBUD_ST_PENDING_CUSTOMER),
                           OMBUD_ST_RESOLVED},
    [OMBUD_ACT_CLOSE] = {B(OMBUD_ST_RESOLVED), OMBUD_ST_CLOSED},
    [OMBUD_ACT_REOPEN] = {B(OMBUD_ST_RESOLVED) | B(OMBUD_ST_CLOSED), OMBUD_ST_IN_PROGRESS},
    [OMBUD_ACT_WITHDRAW] = {OPEN, OMBUD_ST_CLOSED},
};

const char *ombud_status_name(enum ombud_status s)
{
    return (unsigned)s < OMBUD_ST_COUNT ? ombud_status_names[s] : "unknown";
}

bool ombud_status_parse(const char *s, enum ombud_status *out)
{
    for (unsigned i = 0; s && i < OMBUD_ST_COUNT; i++)
        if (strcmp(s, ombud_status_names[i]) == 0) {
            *out = (enum ombud_status)i;
            return true;
        }
    return false;
}

const char *ombud_action_name(enum ombud_action a)
{
    return (unsigned)a < OMBUD_ACT_COUNT ? ombud_action_names[a] : "unknown";
}

bool ombud_action_parse(const char *s, enum ombud_action *out)
{
    for (unsigned i = 0; s && i < OMBUD_ACT_COUNT; i++)
        if (strcmp(s, ombud_action_names[i]) == 0) {
            *out = (enum ombud_action)i;
            return true;
        }
    return false;
}

bool ombud_lifecycle_next(enum ombud_status from, enum ombud_action action, enum ombud_status *to)
{
    if ((unsigned)from >= OMBUD_ST_COUNT || (unsigned)action >= OMBUD_ACT_COUNT)
        return false;
    if (!(table[action].from & B(from)))
        return false;
    *to = table[action].to;
    return true;
}

void ombud_lifecycle_allowed(enum ombud_status from, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (unsigned a = 0; a < OMBUD_ACT_COUNT; a++) {
        enum ombud_status to;
        if (!ombud_lifecycle_next(from, (enum ombud_action)a, &to))
            continue;
        int w = snprintf(out + used, len - used, "%s%s", used ? "," : "", ombud_action_names[a]);
        if (w < 0 || (size_t)w >= len - used)
            return;
        used += (size_t)w;
    }
}

bool ombud_status_is_open(enum ombud_status s)
{
    return (OPEN & B(s)) != 0;
}

bool ombud_action_meets_first_response(enum ombud_action a)
{
    return a == OMBUD_ACT_ACKNOWLEDGE || a == OMBUD_ACT_START || a == OMBUD_ACT_RESOLVE;
}

/* ---- changes and their effects ---- */

static const char *const field_names[OMBUD_FIELD_COUNT] = {
    [OMBUD_FIELD_TITLE] = "title",
    [OMBUD_FIELD_DESCRIPTION] = "description",
    [OMBUD_FIELD_CATEGORY] = "category",
    [OMBUD_FIELD_GRADE] = "grade",
    [OMBUD_FIELD_PRIORITY] = "priority",
    [OMBUD_FIELD_DEMAND] = "demand",
    [OMBUD_FIELD_DEMAND_DETAIL] = "demand_detail",
    [OMBUD_FIELD_TAGS] = "tags",
    [OMBUD_FIELD_TEAM_ID] = "team_id",
    [OMBUD_FIELD_ASSIGNEE_ID] = "assignee_id",
    [OMBUD_FIELD_RESOLUTION_SUMMARY] = "resolution_summary",
    [OMBUD_FIELD_COMPENSATION_AMOUNT] = "compensation_amount",
    [OMBUD_FIELD_COMPENSATION_CURRENCY] = "compensation_currency",
    [OMBUD_FIELD_CUSTOMER_AGREED] = "customer_agreed",
    [OMBUD_FIELD_REOPEN_COUNT] = "reopen_count",
    [OMBUD_FIELD_ESCALATION_LEVEL] = "escalation_level",
    [OMBUD_FIELD_SATISFACTION_SCORE] = "satisfaction_score",
    [OMBUD_FIELD_SATISFACTION_COMMENT] = "satisfaction_comment",
};

static const char *const event_names[OMBUD_EV_COUNT] = {
    [OMBUD_EV_CREATED] = "created",
    [OMBUD_EV_ASSIGNED] = "assigned",
    [OMBUD_EV_UPDATED] = "updated",
    [OMBUD_EV_NOTE_ADDED] = "note_added",
    [OMBUD_EV_STATUS_CHANGED] = "status_changed",
    [OMBUD_EV_SLA_PAUSED] = "sla_paused",
    [OMBUD_EV_SLA_RESUMED] = "sla_resumed",
    [OMBUD_EV_ESCALATED] = "escalated",
    [OMBUD_EV_SATISFACTION_RECORDED] = "satisfaction_recorded",
};

/* The clocks follow the life cycle. */
static const enum ombud_sla_op action_sla_ops[OMBUD_ACT_COUNT] = {
    [OMBUD_ACT_ACKNOWLEDGE] = OMBUD_SLA_OP_MEET_FR, [OMBUD_ACT_START] = OMBUD_SLA_OP_MEET_FR,
    [OMBUD_ACT_PEND] = OMBUD_SLA_OP_PAUSE,          [OMBUD_ACT_RESUME] = OMBUD_SLA_OP_RESUME,
    [OMBUD_ACT_RESOLVE] = OMBUD_SLA_OP_MEET_RES,    [OMBUD_ACT_CLOSE] = OMBUD_SLA_OP_STOP,
    [OMBUD_ACT_REOPEN] = OMBUD_SLA_OP_REOPEN,       [OMBUD_ACT_WITHDRAW] = OMBUD_SLA_OP_STOP,
};

const char *ombud_field_name(enum ombud_field f)
{
    return (unsigned)f < OMBUD_FIELD_COUNT ? field_names[f] : "unknown";
}

const char *ombud_event_kind_name(enum ombud_event_kind k)
{
    return (unsigned)k < OMBUD_EV_COUNT ? event_names[k] : "unknown";
}

/* ---- refusals: one helper per problem ---- */

static enum ombud_rc refuse_action(struct ombud_err *err, enum ombud_action a,
                                   enum ombud_status from)
{
    ombud_err_set(err, OMBUD_E_CONFLICT, "transition-not-allowed",
                  "%s is not allowed while the complaint is %s", ombud_action_name(a),
                  ombud_status_name(from));
    ombud_lifecycle_allowed(from, err->allowed, sizeof err->allowed);
    return OMBUD_ERROR;
}

/* A value the change cannot take in this state: invalid, on one field. */
static enum ombud_rc refuse_field(struct ombud_err *err, const char *field, const char *message)
{
    ombud_err_field(err, field, "%s", message);
    ombud_err_finish_validation(err);
    return OMBUD_ERROR;
}

static enum ombud_rc refuse_not_open(struct ombud_err *err, enum ombud_status s)
{
    return ombud_err_set(err, OMBUD_E_CONFLICT, "not-open",
                         "only open complaints are escalated; this one is %s",
                         ombud_status_name(s));
}

static enum ombud_rc refuse_at_top(struct ombud_err *err, int64_t team_id)
{
    if (!team_id)
        return ombud_err_set(err, OMBUD_E_CONFLICT, "escalation-at-top",
                             "the complaint has no team, so no escalation team; name a team_id");
    return ombud_err_set(err, OMBUD_E_CONFLICT, "escalation-at-top",
                         "team %lld is the top of its escalation chain (it has no "
                         "escalation_team_id); name a team_id",
                         (long long)team_id);
}

static enum ombud_rc refuse_not_resolved(struct ombud_err *err, enum ombud_status s)
{
    return ombud_err_set(
        err, OMBUD_E_CONFLICT, "not-resolved",
        "satisfaction is recorded once the complaint is resolved or closed; it is %s",
        ombud_status_name(s));
}

static enum ombud_rc refuse_already_recorded(struct ombud_err *err)
{
    return ombud_err_set(err, OMBUD_E_CONFLICT, "already-recorded",
                         "satisfaction was already recorded for this complaint");
}

static enum ombud_rc refuse_unknown_change(struct ombud_err *err)
{
    return ombud_err_internal(err, "unknown kind of change");
}

/* ---- building effects ---- */

static struct ombud_event_rec *add_event(struct ombud_effects *e, enum ombud_event_kind kind)
{
    /* The largest change (an action with a note) writes three events. */
    struct ombud_event_rec *ev = &e->events[e->nevents++];
    ev->kind = kind;
    return ev;
}

static void add_change(struct ombud_event_rec *ev, enum ombud_field f, struct ombud_value from,
                       struct ombud_value to)
{
    ev->changes[ev->nchanges++] = (struct ombud_field_change){f, from, to};
}

static void assign(struct ombud_effects *e, enum ombud_field f, struct ombud_value from,
                   struct ombud_value to)
{
    e->assign[e->nassign++] = (struct ombud_field_change){f, from, to};
}

static struct ombud_value text(const char *s)
{
    return (struct ombud_value){.s = s};
}

/* Fixed-size text fields hold "" for none, which events report as null. */
static struct ombud_value fixed(const char *s)
{
    return (struct ombud_value){.s = s && s[0] ? s : NULL};
}

static struct ombud_value num(int64_t n)
{
    return (struct ombud_value){.n = n};
}

static bool same_text(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

void ombud_lifecycle_check_input(const struct ombud_transition *t, struct ombud_err *err)
{
    const struct ombud_resolution_in *r = &t->resolution;
    enum ombud_action a = t->action;
    if (t->kind != OMBUD_CHANGE_ACTION)
        return;
    if (a == OMBUD_ACT_RESOLVE && !r->has_summary)
        ombud_err_field(err, "resolution.summary", "is required to resolve");
    if (a == OMBUD_ACT_WITHDRAW && !t->note)
        ombud_err_field(err, "note", "is required to withdraw (say why)");
    if (r->given && a != OMBUD_ACT_RESOLVE && a != OMBUD_ACT_CLOSE)
        ombud_err_field(err, "resolution", "is only taken by resolve and close");
    if (r->given && a == OMBUD_ACT_CLOSE && (r->has_summary || r->amount))
        ombud_err_field(err, "resolution", "close takes only customer_agreed");
    if (t->force && a != OMBUD_ACT_CLOSE)
        ombud_err_field(err, "force", "is only taken by close");
}

static enum ombud_rc apply_action(const struct ombud_complaint *cp,
                                  const struct ombud_transition *t, struct ombud_effects *out,
                                  struct ombud_err *err)
{
    const struct ombud_resolution_in *r = &t->resolution;
    enum ombud_action a = t->action;
    enum ombud_status from = cp->status, to;

    if (!ombud_lifecycle_next(from, a, &to))
        return refuse_action(err, a, from);
    bool agreed = r->has_agreed ? r->agreed : cp->customer_agreed == 1;
    if (a == OMBUD_ACT_CLOSE && !t->force && !agreed)
        return refuse_field(err, "resolution.customer_agreed",
                            "must be true to close (a supervisor may send force: true)");
    out->save = true;
    out->to = to;
    if (ombud_action_meets_first_response(a) && cp->first_response_at == 0)
        out->stamps_set |= OMBUD_STAMP_FIRST_RESPONSE;
    switch (a) {
    case OMBUD_ACT_RESOLVE:
        out->stamps_set |= OMBUD_STAMP_RESOLVED;
        assign(out, OMBUD_FIELD_RESOLUTION_SUMMARY, text(cp->resolution_summary), text(r->summary));
        assign(out, OMBUD_FIELD_COMPENSATION_AMOUNT, text(cp->compensation_amount),
               text(r->amount));
        assign(out, OMBUD_FIELD_COMPENSATION_CURRENCY, fixed(cp->compensation_currency),
               fixed(r->amount ? r->currency : NULL));
        assign(out, OMBUD_FIELD_CUSTOMER_AGREED, num(cp->customer_agreed),
               num(r->has_agreed ? r->agreed : -1));
        break;
    case OMBUD_ACT_CLOSE:
        out->stamps_set |= OMBUD_STAMP_CLOSED;
        if (r->has_agreed)
            assign(out, OMBUD_FIELD_CUSTOMER_AGREED, num(cp->customer_agreed), num(r->agreed));
        break;
    case OMBUD_ACT_WITHDRAW:
        out->stamps_set |= OMBUD_STAMP_CLOSED;
        break;
    case OMBUD_ACT_REOPEN:
        /* A new resolution cycle: the old one stays in the timeline. */
        out->stamps_cleared |= OMBUD_STAMP_RESOLVED | OMBUD_STAMP_CLOSED;
        assign(out, OMBUD_FIELD_REOPEN_COUNT, num(cp->reopen_count), num(cp->reopen_count + 1));
        assign(out, OMBUD_FIELD_CUSTOMER_AGREED, num(cp->customer_agreed), num(-1));
        break;
    default:
        break;
    }
    out->sla = true;
    out->sla_op = action_sla_ops[a];
    if (t->note) {
        /* A note sent along with an action is for the team, not the customer. */
        out->note = t->note;
        out->note_visibility = "internal";
        struct ombud_event_rec *ev = add_event(out, OMBUD_EV_NOTE_ADDED);
        ev->about_note = true;
        ev->visibility = out->note_visibility;
    }
    if (a == OMBUD_ACT_PEND || a == OMBUD_ACT_RESUME)
        add_event(out, a == OMBUD_ACT_PEND ? OMBUD_EV_SLA_PAUSED : OMBUD_EV_SLA_RESUMED)->to = to;
    struct ombud_event_rec *ev = add_event(out, OMBUD_EV_STATUS_CHANGED);
    ev->action = a;
    ev->from = from;
    ev->to = to;
    ev->about_note = t->note != NULL;
    ev->forced = t->force;
    if (a == OMBUD_ACT_REOPEN)
        ev->reopen_count = cp->reopen_count + 1;
    if (a == OMBUD_ACT_RESOLVE)
        ev->resolution_summary = r->summary;
    return OMBUD_OK;
}

static void apply_note(const struct ombud_complaint *cp, const struct ombud_transition *t,
                       struct ombud_effects *out)
{
    bool public = t->visibility && strcmp(t->visibility, "public") == 0;
    out->note = t->note;
    out->note_visibility = t->visibility;
    struct ombud_event_rec *ev = add_event(out, OMBUD_EV_NOTE_ADDED);
    ev->about_note = true;
    ev->visibility = t->visibility;
    /* The team answering the customer in public is a first response; a
     * service key relaying the customer's words is not. */
    if (public && t->role >= OMBUD_ROLE_AGENT && cp->first_response_at == 0) {
        out->save = true;
        out->stamps_set |= OMBUD_STAMP_FIRST_RESPONSE;
        out->sla = true;
        out->sla_op = OMBUD_SLA_OP_MEET_FR;
    }
}

/* Up one level, to the requested team or else along the escalation chain;
 * at the top of a chain (or without a team) there is nowhere to go, but
 * an escalation rule's still raises the level (the team stays). */
static enum ombud_rc apply_escalate(const struct ombud_complaint *cp,
                                    const struct ombud_transition *t, struct ombud_effects *out,
                                    struct ombud_err *err)
{
    int64_t to_team = cp->team_id;
    if (!ombud_status_is_open(cp->status))
        return refuse_not_open(err, cp->status);
    if (t->team_id) {
        if (!t->team_known)
            return refuse_field(err, "team_id", "names no team");
        to_team = t->team_id;
    } else if (cp->team_id && t->escalation_team_id) {
        to_team = t->escalation_team_id;
    } else if (!t->by_rule) {
        return refuse_at_top(err, cp->team_id);
    } /* an escalation rule at the top: the level rises, the team stays */
    out->save = true;
    assign(out, OMBUD_FIELD_ESCALATION_LEVEL, num(cp->escalation_level),
           num(cp->escalation_level + 1));
    struct ombud_event_rec *ev = add_event(out, OMBUD_EV_ESCALATED);
    ev->reason = t->reason;
    ev->from_level = cp->escalation_level;
    ev->to_level = cp->escalation_level + 1;
    if (to_team != cp->team_id) {
        assign(out, OMBUD_FIELD_TEAM_ID, num(cp->team_id), num(to_team));
        add_change(ev, OMBUD_FIELD_TEAM_ID, num(cp->team_id), num(to_team));
    }
    return OMBUD_OK;
}

static enum ombud_rc apply_satisfaction(const struct ombud_complaint *cp,
                                        const struct ombud_transition *t, struct ombud_effects *out,
                                        struct ombud_err *err)
{
    if (cp->status != OMBUD_ST_RESOLVED && cp->status != OMBUD_ST_CLOSED)
        return refuse_not_resolved(err, cp->status);
    if (cp->satisfaction_score)
        return refuse_already_recorded(err);
    out->save = true;
    out->stamps_set |= OMBUD_STAMP_SATISFACTION;
    assign(out, OMBUD_FIELD_SATISFACTION_SCORE, num(cp->satisfaction_score), num(t->score));
    assign(out, OMBUD_FIELD_SATISFACTION_COMMENT, text(cp->satisfaction_comment), text(t->comment));
    add_event(out, OMBUD_EV_SATISFACTION_RECORDED)->score = t->score;
    return OMBUD_OK;
}

/* Records f's change in ev and assigns it, when the value differs. */
static void edit_text(struct ombud_effects *out, struct ombud_event_rec *ev, enum ombud_field f,
                      struct ombud_value from, struct ombud_value to)
{
    if (same_text(from.s, to.s))
        return;
    add_change(ev, f, from, to);
    assign(out, f, from, to);
}

static void edit_id(struct ombud_effects *out, struct ombud_event_rec *ev, enum ombud_field f,
                    int64_t from, int64_t to)
{
    if (from == to)
        return;
    add_change(ev, f, num(from), num(to));
    assign(out, f, num(from), num(to));
}

/* Only what differs is written: an edit that changes nothing makes no
 * new version and no event. */
static void apply_edit(const struct ombud_complaint *cp, const struct ombud_edit *e,
                       struct ombud_effects *out)
{
    struct ombud_event_rec updated = {.kind = OMBUD_EV_UPDATED};
    struct ombud_event_rec assigned = {.kind = OMBUD_EV_ASSIGNED};

    if (e->has_title)
        edit_text(out, &updated, OMBUD_FIELD_TITLE, text(cp->title), text(e->title));
    if (e->has_description)
        edit_text(out, &updated, OMBUD_FIELD_DESCRIPTION, text(cp->description),
                  text(e->description));
    if (e->has_category)
        edit_text(out, &updated, OMBUD_FIELD_CATEGORY, fixed(cp->category), fixed(e->category));
    if (e->has_grade)
        edit_text(out, &updated, OMBUD_FIELD_GRADE, fixed(cp->grade), fixed(e->grade));
    if (e->has_priority)
        edit_text(out, &updated, OMBUD_FIELD_PRIORITY, fixed(cp->priority), fixed(e->priority));
    if (e->has_demand)
        edit_text(out, &updated, OMBUD_FIELD_DEMAND, fixed(cp->demand), fixed(e->demand));
    if (e->has_demand_detail)
        edit_text(out, &updated, OMBUD_FIELD_DEMAND_DETAIL, text(cp->demand_detail),
                  text(e->demand_detail));
    /* Both sides are compact JSON as jansson writes it (the service
     * re-serialises the stored text), so equal text is an equal list. */
    if (e->has_tags)
        edit_text(out, &updated, OMBUD_FIELD_TAGS, text(cp->tags_json ? cp->tags_json : "[]"),
                  text(e->tags_json ? e->tags_json : "[]"));
    if (e->has_team)
        edit_id(out, &assigned, OMBUD_FIELD_TEAM_ID, cp->team_id, e->team_id);
    if (e->has_assignee)
        edit_id(out, &assigned, OMBUD_FIELD_ASSIGNEE_ID, cp->assignee_id, e->assignee_id);
    if (!updated.nchanges && !assigned.nchanges)
        return;
    out->save = true;
    for (size_t i = 0; i < updated.nchanges; i++) {
        enum ombud_field f = updated.changes[i].field;
        /* The policy may change: elapsed business time is kept. */
        if (f == OMBUD_FIELD_PRIORITY || f == OMBUD_FIELD_GRADE || f == OMBUD_FIELD_CATEGORY) {
            out->sla = true;
            out->sla_op = OMBUD_SLA_OP_RESELECT;
        }
    }
    if (updated.nchanges)
        out->events[out->nevents++] = updated;
    if (assigned.nchanges)
        out->events[out->nevents++] = assigned;
}

enum ombud_rc ombud_lifecycle_apply(const struct ombud_complaint *cp,
                                    const struct ombud_transition *t, struct ombud_effects *out,
                                    struct ombud_err *err)
{
    memset(out, 0, sizeof *out);
    out->to = cp->status;
    switch (t->kind) {
    case OMBUD_CHANGE_ACTION:
        return apply_action(cp, t, out, err);
    case OMBUD_CHANGE_NOTE:
        apply_note(cp, t, out);
        return OMBUD_OK;
    case OMBUD_CHANGE_ESCALATE:
        return apply_escalate(cp, t, out, err);
    case OMBUD_CHANGE_SATISFACTION:
        return apply_satisfaction(cp, t, out, err);
    case OMBUD_CHANGE_EDIT:
        apply_edit(cp, &t->edit, out);
        return OMBUD_OK;
    }
    return refuse_unknown_change(err);
}

void ombud_lifecycle_created(const struct ombud_complaint *cp, struct ombud_effects *out)
{
    memset(out, 0, sizeof *out);
    out->to = cp->status;
    out->sla = true;
    out->sla_op = OMBUD_SLA_OP_START;
    struct ombud_event_rec *ev = add_event(out, OMBUD_EV_CREATED);
    ev->complaint_id = cp->id;
    ev->channel = cp->channel;
    ev->category = cp->category;
    ev->grade = cp->grade;
    ev->priority = cp->priority;
    if (cp->assignee_id || cp->team_id) {
        /* Both fields, so the timeline says who was given it from the start. */
        ev = add_event(out, OMBUD_EV_ASSIGNED);
        add_change(ev, OMBUD_FIELD_TEAM_ID, num(0), num(cp->team_id));
        add_change(ev, OMBUD_FIELD_ASSIGNEE_ID, num(0), num(cp->assignee_id));
    }
}

bool ombud_lifecycle_intake_routes(int64_t team_id, int64_t assignee_id)
{
    return team_id && !assignee_id;
}

/* The assignment of f in e, or NULL. */
static const struct ombud_field_change *assigned(const struct ombud_effects *e, enum ombud_field f)
{
    for (size_t i = 0; i < e->nassign; i++)
        if (e->assign[i].field == f)
            return &e->assign[i];
    return NULL;
}

bool ombud_lifecycle_handover(const struct ombud_transition *t, const struct ombud_effects *e,
                              int64_t *team_id)
{
    const struct ombud_field_change *team = assigned(e, OMBUD_FIELD_TEAM_ID);
    if (!team || !team->to.n)
        return false;
    if (t->kind == OMBUD_CHANGE_EDIT && t->edit.has_assignee)
        return false;
    *team_id = team->to.n;
    return true;
}

void ombud_effects_reassign(const struct ombud_complaint *cp, struct ombud_effects *e,
                            int64_t assignee_id)
{
    struct ombud_event_rec *ev = NULL;
    assert(!assigned(e, OMBUD_FIELD_ASSIGNEE_ID));
    if (assignee_id == cp->assignee_id)
        return;
    assign(e, OMBUD_FIELD_ASSIGNEE_ID, num(cp->assignee_id), num(assignee_id));
    e->save = true;
    for (size_t i = 0; i < e->nevents && !ev; i++)
        for (size_t j = 0; j < e->events[i].nchanges; j++)
            if (e->events[i].changes[j].field == OMBUD_FIELD_TEAM_ID) {
                ev = &e->events[i];
                break;
            }
    /* A handover moves the team, so some event reports it already. */
    if (!ev) {
        if (e->nevents == OMBUD_EFFECTS_MAX_EVENTS)
            return;
        ev = add_event(e, OMBUD_EV_ASSIGNED);
    }
    add_change(ev, OMBUD_FIELD_ASSIGNEE_ID, num(cp->assignee_id), num(assignee_id));
}

int64_t ombud_effects_new_assignee(const struct ombud_effects *e)
{
    const struct ombud_field_change *a = assigned(e, OMBUD_FIELD_ASSIGNEE_ID);
    return a ? a->to.n : 0;
}

void ombud_effects_note_stored(struct ombud_effects *e, int64_t note_id)
{
    for (size_t i = 0; i < e->nevents; i++)
        if (e->events[i].about_note)
            e->events[i].note_id = note_id;
}

/* Replaces *dst with a copy of s (NULL clears); false when out of memory. */
static bool set_text(char **dst, const char *s)
{
    char *copy = s ? strdup(s) : NULL;
    if (s && !copy)
        return false;
    free(*dst);
    *dst = copy;
    return true;
}

static void set_fixed(char *dst, size_t len, const char *s)
{
    snprintf(dst, len, "%s", s ? s : "");
}

static void set_stamps(struct ombud_complaint *cp, unsigned which, int64_t v)
{
    if (which & OMBUD_STAMP_FIRST_RESPONSE)
        cp->first_response_at = v;
    if (which & OMBUD_STAMP_RESOLVED)
        cp->resolved_at = v;
    if (which & OMBUD_STAMP_CLOSED)
        cp->closed_at = v;
    if (which & OMBUD_STAMP_SATISFACTION)
        cp->satisfaction_at = v;
}

bool ombud_lifecycle_commit(struct ombud_complaint *cp, const struct ombud_effects *e, int64_t now)
{
    bool ok = true;
    cp->status = e->to;
    set_stamps(cp, e->stamps_cleared, 0);
    set_stamps(cp, e->stamps_set, now);
    for (size_t i = 0; i < e->nassign; i++) {
        const struct ombud_value *v = &e->assign[i].to;
        switch (e->assign[i].field) {
        case OMBUD_FIELD_TITLE:
            ok = ok && set_text(&cp->title, v->s);
            break;
        case OMBUD_FIELD_DESCRIPTION:
            ok = ok && set_text(&cp->description, v->s);
            break;
        case OMBUD_FIELD_CATEGORY:
            set_fixed(cp->category, sizeof cp->category, v->s);
            break;
        case OMBUD_FIELD_GRADE:
            set_fixed(cp->grade, sizeof cp->grade, v->s);
            break;
        case OMBUD_FIELD_PRIORITY:
            set_fixed(cp->priority, sizeof cp->priority, v->s);
            break;
        case OMBUD_FIELD_DEMAND:
            set_fixed(cp->demand, sizeof cp->demand, v->s);
            break;
        case OMBUD_FIELD_DEMAND_DETAIL:
            ok = ok && set_text(&cp->demand_detail, v->s);
            break;
        case OMBUD_FIELD_TAGS:
            ok = ok && set_text(&cp->tags_json, v->s);
            break;
        case OMBUD_FIELD_TEAM_ID:
            cp->team_id = v->n;
            break;
        case OMBUD_FIELD_ASSIGNEE_ID:
            cp->assignee_id = v->n;
            break;
        case OMBUD_FIELD_RESOLUTION_SUMMARY:
            ok = ok && set_text(&cp->resolution_summary, v->s);
            break;
        case OMBUD_FIELD_COMPENSATION_AMOUNT:
            ok = ok && set_text(&cp->compensation_amount, v->s);
            break;
        case OMBUD_FIELD_COMPENSATION_CURRENCY:
            set_fixed(cp->compensation_currency, sizeof cp->compensation_currency, v->s);
            break;
        case OMBUD_FIELD_CUSTOMER_AGREED:
            cp->customer_agreed = (int)v->n;
            break;
        case OMBUD_FIELD_REOPEN_COUNT:
            cp->reopen_count = (int)v->n;
            break;
        case OMBUD_FIELD_ESCALATION_LEVEL:
            cp->escalation_level = (int)v->n;
            break;
        case OMBUD_FIELD_SATISFACTION_SCORE:
            cp->satisfaction_score = (int)v->n;
            break;
        case OMBUD_FIELD_SATISFACTION_COMMENT:
            ok = ok && set_text(&cp->satisfaction_comment, v->s);
            break;
        case OMBUD_FIELD_COUNT:
            break;
        }
    }
    return ok;
}
