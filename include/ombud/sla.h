/*
 * SLA policies and clocks (API.md "SLA"). Pure C over the business-time
 * module: a clock keeps the business seconds elapsed up to running_since
 * (0 while paused); its due time and warning moments follow from that
 * and the calendar, so pausing, resuming and re-selecting a policy only
 * change those two numbers and the target.
 */
#ifndef OMBUD_SLA_H
#define OMBUD_SLA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ombud/business_time.h"

#define OMBUD_SLA_MAX_WARNINGS 5
/* Longest target or span in minutes anywhere in the API: ten years. */
#define OMBUD_SLA_MAX_MINUTES 5256000

struct ombud_sla_warning_rule {
    bool percent; /* true: value is a percent 1..99; false: minutes before due */
    int64_t value;
};

struct ombud_sla_policy {
    int64_t id;
    char name[404];
    int position;
    bool active;
    char *match_json[5]; /* JSON arrays: priorities, grades, categories, channels, tiers */
    int64_t first_response_minutes, resolution_minutes;
    size_t nwarnings;
    struct ombud_sla_warning_rule warnings[OMBUD_SLA_MAX_WARNINGS];
    int64_t calendar_id;
    int64_t created_at, updated_at;
};

extern const char *const ombud_sla_match_names[5]; /* "priorities", … */

void ombud_sla_policy_clear(struct ombud_sla_policy *p);

enum ombud_sla_target { OMBUD_SLA_FIRST_RESPONSE = 0, OMBUD_SLA_RESOLUTION = 1 };
const char *ombud_sla_target_name(enum ombud_sla_target t);

struct ombud_sla_warning {
    int level;
    int64_t threshold; /* business seconds from the cycle's start */
    int64_t at;        /* instant (seconds); 0 unknown (paused) */
    int64_t raised_at; /* 0 not yet; -1 skipped (its breach was known first) */
};

struct ombud_sla_clock {
    enum ombud_sla_target target;
    int cycle;
    int64_t policy_id, calendar_id;
    int64_t target_seconds;
    int64_t elapsed_seconds; /* business seconds up to running_since */
    int64_t running_since;   /* 0 while paused or stopped */
    int64_t due_at;          /* 0 while paused */
    int64_t met_at;          /* 0 until met */
    bool breached;
    int64_t breach_raised_at;
    size_t nwarnings;
    struct ombud_sla_warning warnings[OMBUD_SLA_MAX_WARNINGS];
    /* when each level was raised in this cycle, across policy changes
     * (index level - 1; 0 never): a level raised once stays raised */
    int64_t raised_history[OMBUD_SLA_MAX_WARNINGS];
    int64_t next_alert_at; /* 0: nothing to raise */
};

/* Starts a clock at now with the policy's target and ladder. */
void ombud_sla_clock_start(struct ombud_sla_clock *c, const struct ombud_bt_calendar *cal,
                           const struct ombud_sla_policy *p, enum ombud_sla_target target,
                           int cycle, int64_t now);
/* Pauses (business time so far is kept) / resumes from now. */
void ombud_sla_clock_pause(struct ombud_sla_clock *c, const struct ombud_bt_calendar *cal,
                           int64_t now);
void ombud_sla_clock_resume(struct ombud_sla_clock *c, const struct ombud_bt_calendar *cal,
                            int64_t now);
/* Met at now: late counts as breached; nothing more to raise. */
void ombud_sla_clock_meet(struct ombud_sla_clock *c, const struct ombud_bt_calendar *cal,
                          int64_t now);
/* A new policy applies: elapsed business time is kept and measured
 * against the new target (cal: the new policy's calendar). Raised
 * warnings stay raised; moments already past are due at once, and only
 * the breach when it is past too. */
void ombud_sla_clock_reselect(struct ombud_sla_clock *c, const struct ombud_bt_calendar *old_cal,
                              const struct ombud_bt_calendar *cal, const struct ombud_sla_policy *p,
                              int64_t now);
/* Recomputes due_at, warning moments and next_alert_at. */
void ombud_sla_clock_plan(struct ombud_sla_clock *c, const struct ombud_bt_calendar *cal,
                          int64_t now);

/* What is due at now: warnings to raise (levels into out, count
 * returned) and whether the breach is. Marks them raised at now. */
size_t ombud_sla_clock_fire(struct ombud_sla_clock *c, int64_t now, int *levels, bool *breach);

/* ---- a complaint's two clocks under one operation ---- */

/* What a complaint change does to its clocks (run inside its transaction). */
enum ombud_sla_op {
    OMBUD_SLA_OP_START,    /* new complaint: select the policy, start both clocks */
    OMBUD_SLA_OP_PAUSE,    /* pending_customer */
    OMBUD_SLA_OP_RESUME,   /* back from pending_customer */
    OMBUD_SLA_OP_MEET_FR,  /* first response given */
    OMBUD_SLA_OP_MEET_RES, /* resolved (also meets first response) */
    OMBUD_SLA_OP_STOP,     /* closed without resolution (withdrawn) */
    OMBUD_SLA_OP_REOPEN,   /* a new resolution cycle with the full target */
    OMBUD_SLA_OP_RESELECT, /* priority/grade/category/channel changed */
};

/* What an operation needs from storage, and when it has nothing to do. */
struct ombud_sla_op_needs {
    bool policy;         /* the policy matching the complaint now */
    bool clocks;         /* the current clocks (locked) */
    bool new_cycle;      /* a new resolution cycle number, taken before applying */
    bool skip_no_policy; /* no policy matches: nothing happens */
    bool skip_no_clocks; /* the complaint has no clocks: nothing happens */
};
const struct ombud_sla_op_needs *ombud_sla_op_needs(enum ombud_sla_op op);

/* What an operation is applied with. */
struct ombud_sla_basis {
    const struct ombud_sla_policy *policy;      /* matching policy; NULL when none */
    const struct ombud_bt_calendar *policy_cal; /* its calendar (with policy) */
    const struct ombud_bt_calendar *clock_cal;  /* the current clocks' calendar */
    int cycle; /* START: the complaint's resolution cycle (0 means 1); REOPEN: the new one */
};

/* Applies op at now to a complaint's clocks: k[0] first response, k[1]
 * resolution, have[i] whether k[i] exists. Sets changed[i] for each clock
 * to store (and have[i] for a clock it starts). Pure: the caller loads
 * and saves (service/sla.c). */
void ombud_sla_apply_op(struct ombud_sla_clock k[2], bool have[2], enum ombud_sla_op op,
                        const struct ombud_sla_basis *b, int64_t now, bool changed[2]);

/* An alert a clock owes: the breach (level 0) or a warning level. */
struct ombud_sla_due_alert {
    bool breach;
    int level;
    int64_t scheduled; /* the moment it fell due */
};

/* Fires what is due at now (ombud_sla_clock_fire): the breach first, then
 * the warnings in level order, each with its moment. out holds at least
 * OMBUD_SLA_MAX_WARNINGS + 1; returns the count. */
size_t ombud_sla_clock_take_due(struct ombud_sla_clock *c, int64_t now,
                                struct ombud_sla_due_alert *out);

/* "on_track", "at_risk", "breached", "met", "paused". */
const char *ombud_sla_clock_state(const struct ombud_sla_clock *c, int64_t now);

/* The operators' overview (GET /v1/sla/summary): open complaints by the
 * state of their most urgent current clock, and compliance over the
 * clocks met or due in the last 30 days. */
enum ombud_sla_summary_state {
    OMBUD_SUMMARY_ON_TRACK,
    OMBUD_SUMMARY_AT_RISK,
    OMBUD_SUMMARY_BREACHED,
    OMBUD_SUMMARY_PAUSED,
    OMBUD_SUMMARY_MET,
    OMBUD_SUMMARY_STATES
};

struct ombud_sla_summary {
    int64_t by_state[OMBUD_SUMMARY_STATES]; /* indexed by enum ombud_sla_summary_state */
    int64_t fr_total, fr_met_in_time, res_total, res_met_in_time;
};

/* How a process's SLA worker is doing, as the readiness probe reports it
 * (filled by the worker, rendered by repr). */
struct ombud_sla_worker_status {
    bool running;          /* thread alive */
    bool connected;        /* has its database connection */
    int64_t last_tick_us;  /* wall clock of the last completed pass; 0 none */
    int64_t alerts_raised; /* by this process */
    int64_t lag_last_ms;   /* raise time minus due moment of the last alert */
    int64_t lag_max_ms;
};

#endif
